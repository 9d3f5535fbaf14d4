# shellcheck shell=bash
# shellcheck disable=SC2154 # the globals of bittorrent, which sources this
# bittorrent-output.bash: what bittorrent prints, sourced by bittorrent.
#
# Sizes, times and percentages for people; the --json event stream; the
# status line (redrawn in place on a terminal); the progress and seeding
# status it shows. Functions return their text in REPLY (no subshell).

# fmt_bytes N: "512 B", "12.3 KiB", "4.5 MiB", "1.2 GiB" (binary units,
# as btinfo -s).
fmt_bytes() {
	local n=$1 u=B d=1
	if [ "$n" -ge $((1 << 30)) ]; then u=GiB d=$((1 << 30))
	elif [ "$n" -ge $((1 << 20)) ]; then u=MiB d=$((1 << 20))
	elif [ "$n" -ge 1024 ]; then u=KiB d=1024
	fi
	if [ "$d" -eq 1 ]; then
		REPLY="$n B"
	else
		REPLY="$((n / d)).$((n * 10 / d % 10)) $u"
	fi
}
# fmt_time SECS: "42s", "3:05", "1:02:03".
fmt_time() {
	local s=$1
	if [ "$s" -lt 60 ]; then REPLY="${s}s"
	elif [ "$s" -lt 3600 ]; then printf -v REPLY '%d:%02d' $((s / 60)) $((s % 60))
	else printf -v REPLY '%d:%02d:%02d' $((s / 3600)) $((s / 60 % 60)) $((s % 60))
	fi
}
# pct HAVE ALL: "43.2".
pct() {
	local m=$(( $1 * 1000 / $2 ))
	REPLY="$((m / 10)).$((m % 10))"
}

# jstr STRING: STRING as a JSON string (in REPLY).
jstr() {
	local s=$1 out='' c i
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	if [[ $s == *[[:cntrl:]]* ]]; then
		for ((i = 0; i < ${#s}; i++)); do
			c=${s:i:1}
			if [[ $c == [[:cntrl:]] ]]; then
				printf -v c '\\u%04x' "'$c"
			fi
			out+=$c
		done
		s=$out
	fi
	REPLY="\"$s\""
}
# jsonev EVENT KEY VALUE...: one line of the --json stream; values that
# are integers are written as numbers, others as strings.
jsonev() {
	[ "$json" -eq 1 ] || return 0
	local line="{\"event\": \"$1\""
	shift
	while [ $# -ge 2 ]; do
		if [[ $2 =~ ^-?(0|[1-9][0-9]{0,17})(\.[0-9]+)?$ ]]; then
			line+=", \"$1\": $2"
		else
			jstr "$2"
			line+=", \"$1\": $REPLY"
		fi
		shift 2
	done
	printf '%s}\n' "$line"
}

# The status line: on a terminal, redrawn in place (and with -v, a line
# every five seconds elsewhere); never with --quiet or --json.
tty=0
[ -t 2 ] && tty=1
drawn=0 vdrawn=-5
draw() {
	[ "$quiet" -eq 0 ] && [ "$json" -eq 0 ] || return 0
	if [ "$tty" -eq 1 ]; then
		printf '\r%s\033[K' "$1" >&2
		drawn=1
	elif [ "$verbose" -eq 1 ] && [ $((SECONDS - vdrawn)) -ge 5 ]; then
		printf '%s: %s\n' "$prog" "$1" >&2
		vdrawn=$SECONDS
	fi
}
# Ends the status line so the next message starts on a fresh line.
undraw() {
	[ "$drawn" -eq 1 ] && printf '\r\033[K' >&2
	drawn=0
}

# Rate of this run: bytes stored since a sample taken at least 5 s ago.
rate=0 rs_bytes=0 rs_t=$SECONDS
progress() {
	local now=$SECONDS have=$((have0 + done_pieces)) got eta='--' left
	[ "$have" -gt "$npieces" ] && have=$npieces
	got=$(( done_pieces * plen ))
	if [ $((now - rs_t)) -ge 5 ]; then
		rate=$(( (got - rs_bytes) / (now - rs_t) ))
		rs_bytes=$got rs_t=$now
	elif [ "$rate" -eq 0 ] && [ "$now" -gt "$started" ]; then
		rate=$(( got / (now - started) ))
	fi
	left=$(( (npieces - have) * plen ))
	local etas=-1
	[ "$rate" -gt 0 ] && { etas=$((left / rate)); fmt_time "$etas"; eta=$REPLY; }
	listener_peers
	local lp=$REPLY
	pct "$have" "$npieces"
	local p=$REPLY
	running_webseeds
	local nws=$REPLY
	jsonev progress percent "$p" pieces "$have" piece_count "$npieces" \
	    rate "$rate" eta_seconds "$etas" \
	    peers $(( ${#srcpid[@]} - nws )) incoming "$lp" queued "$qlen" uploaded "$up_bytes" \
	    webseeds "$nws" webseed_pieces "$ws_pieces" dht_peers "${found[dht]:-0}"
	fmt_bytes "$rate"
	local r=$REPLY
	fmt_bytes "$up_bytes"
	local up=$REPLY
	src_status
	# printf -v, not $(...): no fork a second.
	printf -v REPLY '%5s%%  %s/s  ETA %s  peers %d+%d%s  up %s' "$p" "$r" \
	    "$eta" $(( ${#srcpid[@]} - nws )) "$lp" "$REPLY" "$up"
	draw "$REPLY"
}

# The seeding status: uploaded, ratio, upload rate, peers, time left.
seed_up0=0 seed_t=$SECONDS seed_rate=0
seed_status() {
	local now=$SECONDS left='' ratio
	if [ $((now - seed_t)) -ge 5 ]; then
		seed_rate=$(( (up_bytes - seed_up0) / (now - seed_t) ))
		seed_up0=$up_bytes seed_t=$now
	fi
	ratio=$(( up_bytes * 100 / (size > 0 ? size : 1) ))
	printf -v ratio '%d.%02d' $((ratio / 100)) $((ratio % 100))
	[ -n "$seedtime" ] && { fmt_time $(( seedtime - (now - t_seed) )); left="  $REPLY left"; }
	listener_peers
	local lp=$REPLY
	jsonev seeding uploaded "$up_bytes" ratio "$ratio" rate "$seed_rate" peers "$lp"
	fmt_bytes "$seed_rate"
	local r=$REPLY
	fmt_bytes "$up_bytes"
	draw "seeding: up $REPLY  ratio $ratio  $r/s  peers $lp$left"
}
