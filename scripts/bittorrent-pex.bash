# shellcheck shell=bash
# shellcheck disable=SC2154 # the globals of bittorrent, which sources this
# bittorrent-pex.bash: peer exchange (BEP 11), sourced by bittorrent.
#
# Receiving needs nothing here: each btpeer prints "peer ADDR pex FLAGS"
# for a peer it learns by PEX, and handle() queues ADDR like any
# candidate (the queue is bounded). Sending: the peers this download
# runs a btpeer for are written to run/pex.peers, which every btpeer
# (given --pex) reads when its next ut_pex message is due, at most once
# a minute. Private torrents (BEP 27) neither send nor receive PEX:
# btpeer leaves ut_pex out for them, and the file is not written.
#
# Encryption (BEP 11's added.f bit 0x01, "prefers encryption"): under
# --encryption prefer, a peer PEX names with flags lacking enc is dialled
# plain first (btpeer --encryption tolerate: MSE only if the plain
# handshake is closed); one with enc, or unknown flags, MSE first as
# usual. require, off and tolerate are kept whatever the flags. Each
# dialling btpeer reports "encryption rc4 ADDR" once it speaks RC4 with
# ADDR; such peers are written with the flag enc in run/pex.peers.

pexflag=()
pexlist=''
declare -A encfirst=()	# "peer ADDR" -> tolerate: PEX says no enc
declare -A rc4peer=()	# ADDR -> 1: a btpeer of ours speaks RC4 with it

# pex_event LINE: "peer ADDR pex FLAGS" or "encryption rc4 ADDR".
pex_event() {
	case $1 in
	"peer "*) set -- "${1#peer }"; add_candidate pex "${1%% *}" "${1##* }" ;;
	*) check_peer "${1#encryption rc4 }" && rc4peer[${1#encryption rc4 }]=1 ;;
	esac
	return 0
}

# enc_candidate KEY FLAGS: what PEX says of KEY's encryption, for
# src_peer (see above). No flags ('') or unknown ones ('?') change
# nothing; the last that says enc or not wins.
enc_candidate() {
	[ "$encryption" = prefer ] || return 0
	# shellcheck disable=SC2034 # read by src_peer
	case ,$2, in
	,,|,\?,) ;;
	*,enc,*) unset "encfirst[$1]" ;;
	*) encfirst[$1]=tolerate ;;
	esac
	return 0
}

# pex_setup: after the torrent is read and run/ exists.
pex_setup() {
	btinfo --lines -- "$torrent" | grep -q $'^private\t1$' && return 0
	pexflag=(--pex "$run/pex.peers")
	: >"$run/pex.peers"
}

# pex_share: rewrites run/pex.peers when the running peers changed.
pex_share() {
	local key list=''
	[ "${#pexflag[@]}" -gt 0 ] || return 0
	for key in "${srcpid[@]}"; do
		case $key in
		"peer "*) list+="${key#peer }${rc4peer[${key#peer }]:+ enc}"$'\n' ;;
		esac
	done
	[ "$list" = "$pexlist" ] && return 0
	pexlist=$list
	printf '%s' "$list" >"$run/pex.peers.tmp" &&
	    mv -f -- "$run/pex.peers.tmp" "$run/pex.peers"
}
