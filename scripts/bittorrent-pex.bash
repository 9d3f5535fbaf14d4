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

pexflag=()
pexlist=''

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
		"peer "*) list+="${key#peer }"$'\n' ;;
		esac
	done
	[ "$list" = "$pexlist" ] && return 0
	pexlist=$list
	printf '%s' "$list" >"$run/pex.peers.tmp" &&
	    mv -f -- "$run/pex.peers.tmp" "$run/pex.peers"
}
