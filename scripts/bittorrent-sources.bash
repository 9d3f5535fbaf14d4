# shellcheck shell=bash
# shellcheck disable=SC2154 # the globals of bittorrent, which sources this
# bittorrent-sources.bash: sourced by bittorrent(1). Where peers and
# pieces come from: one bounded, de-duplicated queue of candidate sources,
# the piece sources that run from it, and the peer feeders that fill it.
#
# Everything the children say arrives as lines on one event bus (a FIFO
# read by the main loop, handle() in bittorrent). Two mechanisms feed
# the download, and both are meant to be extended by adding one small
# function:
#
#  - Peer feeders find candidate peers. A feeder is any command started
#    with start_feeder NAME CMD...: each line it prints reaches the bus as
#    "from NAME LINE", and its end as "from NAME exit STATUS". A line that
#    is an address (IP:PORT, [v6]:PORT, or "peer ADDR") becomes a
#    candidate in the one bounded, de-duplicated queue (add_candidate).
#    The trackers are a feeder (announce). So is the DHT, a btdht -f
#    that announces our port and prints peers as it finds them, though
#    started as our own child (start_dht) so that it dies with us:
#    dht_tick starts and reaps it, dht_exited says when to restart it.
#    PEX: a btpeer event line "peer ADDR" (see handle) is a candidate
#    from "pex".
#
#  - Piece sources fetch pieces into the spool. A source is a KIND and
#    an ARG ("peer 10.0.0.5:6881"); src_KIND ARG runs it (stdout: btpeer
#    event lines; stderr: its diagnostics, the last line of which is kept
#    as its last error). start_source, reap_sources and the backoff in
#    source_failed are the same for every kind: exit 0 done, 1 failed
#    (retried later with a growing delay, at most MAX_TRIES times), 2 bad
#    (never again); a final_KIND function may call a failure final
#    (final_webseed). Web seeds are such a kind: src_webseed runs
#    btwebseed, queue_webseeds queues one per url-list entry.

# --- state -------------------------------------------------------------------

declare -A srcpid=()	# pid -> "KIND ARG" of each running piece source
declare -A srcerr=()	# pid -> its stderr file
declare -A state=()	# "KIND ARG" -> queued | running | waiting | done | bad
declare -A tries=()	# "KIND ARG" -> failures so far
declare -A lasterr=()	# "KIND ARG" -> its last error, short
declare -A retry_at=()	# "KIND ARG" -> when a waiting source may run again
declare -A feedpid=()	# feeder name -> pid
queue=()		# "KIND ARG", oldest first from qhead to qtail; stale ones skipped
qhead=0 qtail=0 qlen=0 dropped=0 gaveup=0 nstarted=0 nsrc=0
last_done=0 ndone=0
next_announce=0 interval=1800 ann_fails=0 announce_ok=0 tracker_msg=''

# --- the candidate queue -----------------------------------------------------

# Whether ADDR is our own listener (trackers and PEX hand us back).
is_self() {
	[ -n "$lport" ] || return 1
	case $1 in
	127.*:"$lport"|0.0.0.0:"$lport"|"[::1]:$lport"|"[::]:$lport") return 0 ;;
	esac
	return 1
}

# queue_source KIND ARG: queues a piece source unless it is queued,
# running, given up or backing off. The queue holds MAX_QUEUE: the oldest
# waiting candidate makes room for the new one.
queue_source() {
	local key="$1 $2"
	case ${state[$key]:-} in
	queued|running|bad|done) return ;;
	waiting) [ "$SECONDS" -lt "${retry_at[$key]:-0}" ] && return ;;
	esac
	[ "${#state[@]}" -ge "$MAX_KNOWN" ] && forget
	if [ "$qlen" -ge "$MAX_QUEUE" ] && pop_queue; then
		unset "state[$REPLY]"
		dropped=$((dropped + 1))
	fi
	state[$key]=queued
	unset "retry_at[$key]"
	queue[qtail]=$key
	qtail=$((qtail + 1)) qlen=$((qlen + 1))
}

# add_candidate SOURCE ADDR: a peer from --peer, a tracker, PEX, a DHT.
# Lines from other programs are checked like the command line's.
add_candidate() {
	check_peer "$2" || { say "$1: not a peer address: $2"; return; }
	is_self "$2" && return
	found[$1]=$(( ${found[$1]:-0} + 1 ))
	utp_candidate "peer $2" "${3:-}"
	enc_candidate "peer $2" "${3:-}"
	queue_source peer "$2"
}

# pop_queue: the oldest queued source, in REPLY; 1 when none.
pop_queue() {
	local key
	while [ "$qhead" -lt "$qtail" ]; do
		key=${queue[qhead]}
		unset "queue[qhead]"
		qhead=$((qhead + 1))
		if [ "${state[$key]:-}" = queued ]; then
			qlen=$((qlen - 1))
			REPLY=$key
			return 0
		fi
	done
	# Empty: start the array afresh so its indices stay small.
	queue=() qhead=0 qtail=0 qlen=0
	return 1
}

# Too many peers remembered: forget the ones neither queued nor running.
forget() {
	local key
	for key in "${!state[@]}"; do
		case ${state[$key]} in
		queued|running) ;;
		*) unset "state[$key]" "tries[$key]" "lasterr[$key]" "retry_at[$key]" "via[$key]" "first[$key]" \
		       "encfirst[$key]" "rc4peer[${key#* }]" ;;
		esac
	done
}

# --- piece sources -----------------------------------------------------------

vflag=()
# src_peer ADDR: one btpeer fetching from ADDR into the spool (and
# serving it what we have). A new kind of source is one such function.
# shellcheck disable=SC2317 # called as "src_$kind"
src_peer() {
	local targs
	transport_args "peer $1"
	# PEX may have said it does not prefer encryption (bittorrent-pex.bash).
	exec btpeer "${vflag[@]}" "${targs[@]}" "${plogflag[@]}" "${pexflag[@]}" "${dhtflag[@]}" \
	    --encryption "${encfirst["peer $1"]:-$encryption}" \
	    --strategy "$strategy" --spool "$spool" \
	    "${selargs[@]}" "${slotargs[@]}" "${rateargs[@]}" -o "$outdir" \
	    -- "$torrent" "$1"
}

# src_seed ADDR: seeding, one btpeer --seed dialling a --peer we did not
# download from: it serves ADDR every piece as the connection's
# initiator (a peer that ignores addresses it is told of, as
# Transmission 3.00 does 127.x ones, takes those that connect to it).
# shellcheck disable=SC2317 # called as "src_$kind"
src_seed() {
	exec btpeer "${vflag[@]}" "${pexflag[@]}" --seed --encryption "$encryption" \
	    --spool "$spool" "${slotargs[@]}" "${rateargs[@]}" -o "$outdir" \
	    -- "$torrent" "$1"
}

# seed_tick: once a second while seeding. The DHT; the --peer peers not
# downloaded from are dialled (src_seed, ended by stop_children). A dial
# that fails (exit 1: refused, unreachable, the peer left early) is tried
# again after SEED_BACKOFF, then twice and four times as long: a leecher
# that starts after us is reached within 14 s; SEED_TRIES in all.
SEED_TRIES=4
SEED_BACKOFF=2
seed_dialled=0
seed_tick() {
	local p pid st key n
	dht_tick
	if [ "$seed_dialled" -eq 0 ]; then
		seed_dialled=1
		for p in "${peers[@]}"; do
			[ "${state[peer $p]:-}" = 'done' ] || start_source "seed $p"
		done
	fi
	for pid in "${!srcpid[@]}"; do
		key=${srcpid[$pid]}
		if [ "${key%% *}" != seed ] || kill -0 "$pid" 2>/dev/null; then
			continue
		fi
		reap_source "$pid"
		st=$?
		lasterr[$key]=$REPLY
		n=$(( ${tries[$key]:-0} + 1 ))
		tries[$key]=$n
		if [ "$st" -eq 0 ]; then
			state[$key]='done'
		elif [ "$st" -eq 1 ] && [ "$n" -lt "$SEED_TRIES" ]; then
			state[$key]=waiting
			retry_at[$key]=$(( SECONDS + (SEED_BACKOFF << (n - 1)) ))
		else
			give_up "$key"
		fi
	done
	for key in "${!retry_at[@]}"; do
		if [ "${key%% *}" = seed ] &&
		    [ "$SECONDS" -ge "${retry_at[$key]}" ]; then
			unset "retry_at[$key]"
			start_source "$key"
		fi
	done
}

# start_source "KIND ARG": runs src_KIND ARG in the background, its event
# lines on the bus, its stderr in a file of its own (and, with -v, on ours).
start_source() {
	local key=$1 kind=${1%% *} arg=${1#* } err
	nsrc=$((nsrc + 1))
	err=$run/src.$nsrc.err
	if [ "$verbose" -eq 1 ]; then
		"src_$kind" "$arg" 3<&- >&4 4>&- \
		    2> >(tee "$err" | sed -u "s|^|[$arg] |" >&2) &
	else
		"src_$kind" "$arg" 3<&- >&4 4>&- 2>"$err" &
	fi
	srcpid[$!]=$key
	srcerr[$!]=$err
	state[$key]=running
	nstarted=$((nstarted + 1))
	kstarted[$kind]=$(( ${kstarted[$kind]:-0} + 1 ))
	say "$key: started (pid $!)"
}

# Starts queued sources while there are free slots.
fill_slots() {
	while [ "${#srcpid[@]}" -lt "$maxpeers" ] && [ "$complete" -eq 0 ] &&
	    pop_queue; do
		start_source "$REPLY"
	done
}

# lasterror KEY FILE: the last line of a source's stderr, short: no
# "btpeer: " and no "connect to ADDR: ", lower case.
lasterror() {
	local line='' l
	[ -f "$2" ] && while IFS= read -r l; do
		[ -n "$l" ] && line=$l
	done <"$2"
	line=${line#*: }
	line=${line#"connect to ${1#* }: "}
	line=${line#"${1#* }: "}
	REPLY=${line,}
}

# reap_source PID: collects a source that exited; returns its status,
# its last error (or "exited with N") in REPLY.
reap_source() {
	local pid=$1 key=${srcpid[$1]} st
	wait "$pid"
	st=$?
	lasterror "$key" "${srcerr[$pid]}"
	[ -n "$REPLY" ] || REPLY="exited with $st"
	rm -f -- "${srcerr[$pid]}"
	unset "srcpid[$pid]" "srcerr[$pid]"
	say "$key: exited with $st"
	return "$st"
}

# Collects the sources that exited: 0 done, 2 bad input (never again),
# else failed (source_failed).
reap_sources() {
	local pid st key
	for pid in "${!srcpid[@]}"; do
		kill -0 "$pid" 2>/dev/null && continue
		key=${srcpid[$pid]}
		reap_source "$pid"
		st=$?
		[ -n "${state[$key]:-}" ] || continue	# forgotten meanwhile
		case $st in
		0) state[$key]='done' ndone=$((ndone + 1)) last_done=$SECONDS ;;
		2) lasterr[$key]=$REPLY; give_up "$key" ;;
		*) lasterr[$key]=$REPLY; source_failed "$key"
		   utp_failed "$key" "$REPLY" ;;
		esac
	done
	for key in "${!retry_at[@]}"; do
		[ "$SECONDS" -ge "${retry_at[$key]}" ] && queue_source "${key%% *}" "${key#* }"
	done
	revive_done
}

# A failure: try again after RETRY_SECONDS times 1, 4, 9..., at most
# MAX_TRIES times.
source_failed() {
	local key=$1 n=$(( ${tries[$1]:-0} + 1 )) kind=${1%% *}
	tries[$key]=$n
	if [ "$n" -ge "$MAX_TRIES" ] || { declare -F "final_$kind" >/dev/null &&
	    "final_$kind" "${lasterr[$key]}"; }; then
		give_up "$key"
		return
	fi
	state[$key]=waiting
	retry_at[$key]=$(( SECONDS + RETRY_SECONDS * n * n ))
}

give_up() {
	local key=$1 n=${tries[$1]:-1}
	state[$key]=bad
	unset "retry_at[$key]"
	gaveup=$((gaveup + 1))
	jsonev peer peer "${key#* }" kind "${key%% *}" error "${lasterr[$key]}" \
	    tries "$n"
	if [ "$gaveup" -le "$MAX_GIVEUP_LINES" ] || [ "$verbose" -eq 1 ]; then
		undraw
		info "$key: given up after $n tr$([ "$n" -eq 1 ] && echo y || echo ies): ${lasterr[$key]}"
	elif [ "$gaveup" -eq $((MAX_GIVEUP_LINES + 1)) ]; then
		undraw
		info "more peers given up (-v shows each)"
	fi
}

# A btpeer exits 0 once the spool holds every piece. If the download is
# still not complete a while later, btassemble dropped a damaged piece:
# the sources that finished are needed again.
revive_done() {
	local key
	if [ "${#srcpid[@]}" -eq 0 ] && [ "$qlen" -eq 0 ] && [ "$ndone" -gt 0 ] &&
	    [ $((SECONDS - last_done)) -ge 5 ]; then
		for key in "${!state[@]}"; do
			if [ "${state[$key]}" = 'done' ]; then
				state[$key]=waiting
				queue_source "${key%% *}" "${key#* }"
			fi
		done
		ndone=0
	fi
}

# Why nothing is left, for the stall message: "3 peers: 127.0.0.1:1
# connection refused x4, ...", the first five.
stall_summary() {
	local key n=0 list=''
	for key in "${!lasterr[@]}"; do
		n=$((n + 1))
		[ "$n" -le 5 ] && list+="${list:+, }${key#* } ${lasterr[$key]} x${tries[$key]:-1}"
	done
	[ "$n" -gt 5 ] && list+=", and $((n - 5)) more"
	[ "$n" -gt 0 ] && REPLY="; $n peer$([ "$n" -eq 1 ] || echo s): $list" || REPLY=''
	[ -n "$dht_msg" ] && REPLY+="; dht: $dht_msg"
	return 0
}

# --- peer feeders ------------------------------------------------------------

# start_feeder NAME CMD...: runs CMD in the background; each line it
# prints arrives as "from NAME LINE", its end as "from NAME exit STATUS";
# its stderr goes to run/NAME.err.
start_feeder() {
	local name=$1
	shift
	( "$@" 2>"$run/$name.err" | sed -u "s/^/from $name /"
	  echo "from $name exit ${PIPESTATUS[0]}" ) 3<&- >&4 4>&- &
	feedpid[$name]=$!
}

# One line from a feeder.
handle_from() {
	local name=${1%% *} rest=${1#* }
	[ "$name" = webseed ] && { webseed_event "$rest"; return; }
	case $rest in
	"exit "*) feeder_exited "$name" "${rest#exit }" ;;
	"interval "*)
		# btannounce clamped it to a sane range already.
		[ "$name" = tracker ] && isnum "${rest#interval }" 1 &&
		    interval=${rest#interval }
		;;
	"peer "*) add_candidate "$name" "${rest#peer }" ;;
	*) add_candidate "$name" "$rest" ;;
	esac
}

# What to do when a feeder ends: the tracker's is announced again after
# its interval, the DHT's restarted after a while (dht_exited).
feeder_exited() {
	local line=''
	unset "feedpid[$1]"
	case $1 in
	dht) dht_exited "$2" ;;
	tracker)
		if [ "$2" -eq 0 ]; then
			announce_ok=1 ann_fails=0
			next_announce=$(( SECONDS + interval ))
			say "tracker: next announce in ${interval}s"
		else
			# Again after 30 s, 60 s... up to the interval.
			ann_fails=$((ann_fails + 1))
			next_announce=$(( SECONDS + (30 << (ann_fails > 5 ? 5 : ann_fails - 1)) ))
			[ "$next_announce" -gt $((SECONDS + interval)) ] &&
			    next_announce=$((SECONDS + interval))
			IFS= read -r line <"$run/tracker.err"
			if [ "$line" != "$tracker_msg" ]; then
				undraw
				info "tracker: ${line:-btannounce exited with $2}"
				tracker_msg=$line
			fi
		fi
		;;
	esac
}

# Announces in the background (a feeder): "started" until a tracker
# has answered, then regular announces.
ann=()
announce() {
	[ -z "${feedpid[tracker]:-}" ] || return 0
	local ev=()
	[ "$announce_ok" -eq 0 ] && ev=(--event started)
	[ "$complete" -eq 1 ] && ev+=(--left 0)
	# A selection: only the wanted bytes are left to fetch.
	[ "$complete" -eq 0 ] && [ -n "$selbytes" ] && ev+=(--left "$selbytes")
	start_feeder tracker btannounce --lines "${ev[@]}" "${ann[@]}" \
	    --timeout 15 -- "$torrent"
}

# Whether a feeder is asking for peers now: a tracker announce. The DHT
# feeder runs all along, so it does not count.
finding_peers() {
	local name
	for name in "${!feedpid[@]}"; do
		[ "$name" = dht ] || return 0
	done
	return 1
}

# --- the DHT: a btdht feeder -------------------------------------------------

# On by default for a torrent that is not private (BEP 27 keeps private
# ones off the DHT); --no-dht, --dht-node, --dht-port and --dht-state
# set these.
dht=1 private=0 dhtport='' dhtstate=''
dhtnodes=()
# dht_next: when the feeder (re)starts, -1 never; dht_ports: the UDP
# ports still to try, as start_listener tries TCP ones.
dht_next=0 dht_fails=0 dht_msg=''
dht_ports=()
# dhtflag: btpeer's --dht-port while the feeder runs on a known UDP port
# (BEP 5 port messages); dht_in: the fd of the feeder's stdin, where the
# nodes peers name in theirs go (btdht -n -), each once (dht_told).
dhtflag=() dht_in=''
declare -A dht_told=()
# Peers each feeder named (tracker, dht, pex): for the summaries.
declare -A found=()
# btdht takes up to 64 --dht-node; more is a mistake, not a need.
MAX_DHT_NODES=64
# A failing DHT is asked again after 30 s, 60 s... at most this often.
DHT_MAX_BACKOFF=300

# Whether this download may use the DHT.
dht_usable() {
	[ "$dht" -eq 1 ] && [ "$private" != 1 ]
}

check_dht_values() {
	local n
	[ "${#dhtnodes[@]}" -le "$MAX_DHT_NODES" ] ||
	    bad "--dht-node: at most $MAX_DHT_NODES of them"
	for n in "${dhtnodes[@]}"; do
		check_peer "$n" || bad "--dht-node '$n': want HOST:PORT, [IPv6]:PORT, port 1-65535"
	done
	[ -z "$dhtport" ] || isnum "$dhtport" 0 65535 ||
	    bad "--dht-port '$dhtport': want 0 to 65535"
}

# The UDP ports to try: --dht-port alone, else the number of our TCP
# port (peers' BEP 5 "port" messages then need no guess) unless btutp
# holds it (peers expect uTP there; the port message names the DHT's),
# then the default ones, then any.
dht_port_list() {
	local p
	if [ -n "$dhtport" ]; then
		dht_ports=("$dhtport")
		return
	fi
	dht_ports=()
	[ -n "$utp_pid" ] || dht_ports=("$lport")
	for ((p = DEFAULT_PORT; p < DEFAULT_PORT + PORT_TRIES; p++)); do
		[ "$p" = "$lport" ] || dht_ports+=("$p")
	done
	dht_ports+=(0)
}

# The feeder: a long-running node (-f) on UDP port $1 that announces our
# TCP port and prints the peers it finds, as "from dht ADDR" lines. The
# torrent is its target, so its "nodes" key is used too. With -v, its
# lookups are traced in run/dht.err. Unlike
# start_feeder's, it is our own child, not a subshell's: it gets SIGTERM
# when we die, even by SIGKILL (BT_PARENT_PID), and saves its state.
start_dht() {
	local a=(-f "${vflag[@]}" --port "$1" -n -) n
	for n in "${dhtnodes[@]}"; do a+=(-n "$n"); done
	[ -n "$dhtstate" ] && a+=(--state "$dhtstate")
	# Read and write: opening the FIFO never blocks, and a write never
	# fails for want of a reader.
	[ -p "$run/dht.in" ] || mkfifo "$run/dht.in"
	exec {dht_in}<>"$run/dht.in"
	btdht "${a[@]}" announce -- "$torrent" "$lport" <&"$dht_in" \
	    > >(exec sed -u 's/^/from dht /' >&4 4>&-) 3<&- 4>&- \
	    2>"$run/dht.err" &
	feedpid[dht]=$!
	dhtflag=()
	[ "$1" != 0 ] && dhtflag=(--dht-port "$1")
	return 0
}

# dht_node ADDR: a peer's DHT node (its BEP 5 port message), to the
# running feeder, once.
dht_node() {
	[ -n "$dht_in" ] && [ -n "${feedpid[dht]:-}" ] &&
	    [ -z "${dht_told[$1]:-}" ] || return 0
	dht_told[$1]=1
	printf '%s\n' "$1" >&"$dht_in"
}

# Starts the DHT feeder when it is due (once a second from the loops),
# after reaping the one that ended.
dht_tick() {
	local pid=${feedpid[dht]:-}
	if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid"
		feeder_exited dht "$?"
		dhtflag=()
		[ -n "$dht_in" ] && exec {dht_in}>&-
		dht_in='' dht_told=()
	fi
	[ "$complete" -eq 0 ] || [ "$seed" -eq 1 ] || return 0
	[ "$dht_next" -ge 0 ] && [ "$SECONDS" -ge "$dht_next" ] &&
	    [ -z "${feedpid[dht]:-}" ] || return 0
	if ! dht_usable; then
		dht_next=-1
		return 0
	fi
	[ "${#dht_ports[@]}" -gt 0 ] || dht_port_list
	start_dht "${dht_ports[0]}"
	say "dht: started on UDP port ${dht_ports[0]} (pid ${feedpid[dht]})"
}

# The DHT feeder ended: a busy UDP port means the next one at once; bad
# input, never again; else again after a growing pause.
dht_exited() {
	local line='' l
	while IFS= read -r l; do
		[ -n "$l" ] && line=$l
	done <"$run/dht.err"
	line=${line#btdht: }
	say "dht: exited with $1${line:+: $line}"
	if [[ $line == *"in use"* ]] && [ "${#dht_ports[@]}" -gt 1 ]; then
		dht_ports=("${dht_ports[@]:1}")
		return
	fi
	dht_msg=${line:-btdht exited with $1}
	if [ "$1" -eq 2 ]; then
		dht_next=-1
		return
	fi
	dht_fails=$((dht_fails + 1))
	dht_next=$(( SECONDS + (30 << (dht_fails > 4 ? 4 : dht_fails - 1)) ))
	[ "$dht_next" -gt $((SECONDS + DHT_MAX_BACKOFF)) ] &&
	    dht_next=$((SECONDS + DHT_MAX_BACKOFF))
	return 0
}

# --- web seeds: btwebseed piece sources --------------------------------------

nowebseed=0
declare -A kstarted=()	# kind -> sources of that kind started
ws_pieces=0		# pieces the web seeds stored

# One btwebseed per web seed (BEP 19), beside the btpeers; its event
# lines reach the bus as "from webseed LINE" (see webseed_event).
queue_webseeds() {
	local u
	[ "$nowebseed" -eq 0 ] && [ "$complete" -eq 0 ] || return 0
	for u in "${webseeds[@]}"; do
		queue_source webseed "$u"
	done
}

# shellcheck disable=SC2317 # called as "src_$kind"
src_webseed() {
	exec btwebseed "${vflag[@]}" "${plogflag[@]}" --strategy "$strategy" --spool "$spool" \
	    "${selargs[@]}" -- "$torrent" "$1" \
	    > >(exec sed -u 's/^/from webseed /')
}

# An event line of a web seed: counted, then handled as a btpeer's.
webseed_event() {
	case $1 in
	"piece "*" ok") ws_pieces=$((ws_pieces + 1)) ;;
	# --piece-log: the count of the lines that went to the log.
	"pieces "*) isnum "${1#pieces }" && ws_pieces=$((ws_pieces + ${1#pieces })) ;;
	"file "*" unavailable") say "web seed: $1" ;;
	esac
	handle "$1"
}

# final_KIND ERROR: whether a source of KIND that failed with ERROR is
# given up now rather than retried (see source_failed). A web seed that
# ignores Range, sent bad pieces, refused us, or fails TLS or redirects
# will do so again; a timeout or a 503 may pass.
# shellcheck disable=SC2317 # called as "final_$kind"
final_webseed() {
	case ${1,,} in
	*"ignores range"*|*"failed their hash"*|*ssl*|*certificate*|\
	*redirect*|*protocol*|"server answered"*|"http "[0-9][0-9][0-9]" for "*)
		return 0 ;;
	esac
	return 1
}

# --- what the sources did, for the status line and the summary ---------------

# The running sources by kind: REPLY is the number of web seeds.
running_webseeds() {
	local k n=0
	for k in "${srcpid[@]}"; do
		[ "${k%% *}" = webseed ] && n=$((n + 1))
	done
	REPLY=$n
}

# The status line's extra: "  web 1  dht 12" (web seeds running, peers
# the DHT named), each only when in use.
src_status() {
	local s=''
	running_webseeds
	[ "${#webseeds[@]}" -gt 0 ] && [ "$nowebseed" -eq 0 ] && s+="  web $REPLY"
	dht_usable && s+="  dht ${found[dht]:-0}"
	REPLY=$s
}

# The summary's sources: "3 peers, 1 web seed (12 pieces), 5 peers from
# the DHT".
src_summary() {
	local w=${kstarted[webseed]:-0} p s
	p=$(( nstarted - w ))
	s="$p peer$([ "$p" -eq 1 ] || echo s)"
	[ "$w" -gt 0 ] &&
	    s+=", $w web seed$([ "$w" -eq 1 ] || echo s) ($ws_pieces piece$([ "$ws_pieces" -eq 1 ] || echo s))"
	dht_usable && s+=", ${found[dht]:-0} from the DHT"
	REPLY=$s
}

# --- uTP (BEP 29): the second transport --------------------------------------
#
# Incoming: btutp owns the UDP twin of our TCP port and hands each
# connection to a btpeer --serve. Outgoing: TCP first (a kernel socket
# costs less CPU than uTP's user-space congestion control), and a peer
# whose TCP attempt could not connect is tried over uTP next (a peer
# that a NAT lets through over UDP only, or that speaks uTP only); a
# PEX peer flagged utp, and every peer with --utp, is tried over uTP
# first. A transport that failed to connect makes the next try the other.

utp=1		# 0: --no-utp; 1: TCP first; 2: --utp, uTP first
utp_pid='' utp_fd=''
declare -A via=()	# "peer ADDR" -> utp | tcp, its next try's transport
declare -A first=()	# "peer ADDR" -> the transport that failed to connect first

# start_utp_listener ARG...: btutp --listen on UDP port $lport, each
# connection served by btpeer --serve ARG... (the TCP listener's
# arguments). A port it cannot bind is a warning: TCP still serves.
start_utp_listener() {
	local line=''
	[ "$utp" -ne 0 ] || return 0
	exec {utp_fd}< <(exec btutp --listen "$lport" btpeer --serve "$@" \
	    3<&- 4>&- 2>"$run/utp.err")
	utp_pid=$!
	if IFS= read -r -t 10 -u "$utp_fd" line && [ "$line" = "listening $lport" ]; then
		say "uTP: listening on UDP port $lport (pid $utp_pid)"
		return 0
	fi
	stop_utp_listener
	line=''
	[ -f "$run/utp.err" ] && IFS= read -r line <"$run/utp.err"
	say "uTP: not listening: ${line#btutp: }"
}

stop_utp_listener() {
	[ -n "$utp_pid" ] && kill "$utp_pid" 2>/dev/null && wait "$utp_pid" 2>/dev/null
	[ -n "$utp_fd" ] && exec {utp_fd}<&-
	utp_pid='' utp_fd=''
	return 0
}

# utp_candidate KEY FLAGS: a PEX peer that says it speaks uTP is tried
# over uTP first.
utp_candidate() {
	[ "$utp" -ne 0 ] && [ -z "${via[$1]:-}" ] || return 0
	case ,$2, in *,utp,*) via[$1]=utp ;; esac
	return 0
}

# transport_args KEY: btpeer's transport option for KEY's next try, in
# the array targs.
transport_args() {
	targs=()
	[ "$utp" -ne 0 ] || return 0
	case ${via[$1]:-} in
	utp) targs=(--utp) ;;
	'') [ "$utp" -eq 2 ] && targs=(--utp) ;;
	esac
	return 0
}

# utp_failed KEY ERROR: a peer that could not be reached over one
# transport (refused, reset, timed out, closed during the handshake as a
# uTP-only libtorrent does to TCP) is tried over the other next, at once.
# Once neither connected, it stays with its first choice.
utp_failed() {
	local key=$1 now=tcp
	[ "$utp" -ne 0 ] && [ "${key%% *}" = peer ] || return 0
	case $2 in
	*refused*|*reset*|*"timed out"*|*unreachable*|*"closed the connection during the"*) ;;
	*) return 0 ;;
	esac
	transport_args "$key"
	[ "${#targs[@]}" -gt 0 ] && now=utp
	if [ -n "${first[$key]:-}" ]; then
		via[$key]=${first[$key]}
		return 0
	fi
	first[$key]=$now
	if [ "$now" = utp ]; then via[$key]=tcp; else via[$key]=utp; fi
	say "$key: next try over ${via[$key]}"
	[ "${state[$key]:-}" = waiting ] && retry_at[$key]=$SECONDS
	return 0
}
