# shellcheck shell=bash
# shellcheck disable=SC2154 # the globals of bittorrent, which sources this
# bittorrent-magnet.bash: a magnet link becomes a .torrent (BEP 9)
# before the download, sourced by bittorrent.
#
# The peers come from the link's x.pe=, --peer, and the link's tr=
# trackers (btannounce takes magnet links), then, when none of those gave
# it, from a one-shot DHT lookup (`btdht peers`, not with --no-dht);
# each is asked in turn with
# `btpeer --metadata` until one gives the info dictionary whose SHA-1 is
# the link's info-hash. The .torrent is saved as DIR/INFOHASH.torrent
# (or --save-torrent FILE): a second run of the same command finds it
# and goes straight to the download, which resumes from what is on disk.

# Peers asked for the metadata before giving up: a tracker may name
# hundreds, and one honest peer is enough; the first few usually are.
MAGNET_MAX_PEERS=30
# Seconds one peer gets to hand over the metadata (it is small: libtorrent
# sends a few KiB at once on loopback).
MAGNET_PEER_TIMEOUT=15
# Seconds the DHT lookup for metadata peers may take: a lookup converges
# in a few seconds; one nobody answers ends sooner (btdht(1)).
MAGNET_DHT_TIMEOUT=30

# magnet_dht_peers INFOHASH: the peers a one-shot DHT lookup finds, one a
# line, from the --dht-node and --dht-state bittorrent was given.
magnet_dht_peers() {
	local a=(--timeout "$MAGNET_DHT_TIMEOUT") n
	for n in "${dhtnodes[@]}"; do a+=(-n "$n"); done
	[ -n "$dhtstate" ] && a+=(--state "$dhtstate")
	say "asking the DHT for peers of $1"
	btdht "${a[@]}" peers -- "$1" 2>"$tmp.dht" </dev/null
}

# magnet_ask PEER...: asks each for the metadata (at most
# MAGNET_MAX_PEERS in all, counted in n); 0 once one gave it ($torrent
# then names the saved file), else 1 with the last error in last.
magnet_ask() {
	local p
	for p; do
		[ "$n" -lt "$MAGNET_MAX_PEERS" ] || return 1
		n=$((n + 1))
		say "asking $p for the metadata"
		if btpeer "${vf[@]}" --timeout "$MAGNET_PEER_TIMEOUT" --metadata \
		    -- "$link" "$p" >"$tmp" 2>"$tmp.err"; then
			[ "$verbose" -eq 1 ] && cat -- "$tmp.err" >&2
			rm -f -- "$tmp.err"
			mv -f -- "$tmp" "$saved" || exit 1
			info "metadata from $p, saved as $saved"
			torrent=$saved
			return 0
		fi
		[ "$verbose" -eq 1 ] && cat -- "$tmp.err" >&2
		last=$(tail -n 1 -- "$tmp.err")
	done
	return 1
}

# magnet_resolve: $torrent, a magnet link, becomes the saved .torrent;
# the link's x.pe= peers join --peer for the download, its ws= web seeds
# the torrent's url-list (BEP 19: btwebseed takes the URL, the saved
# .torrent need not hold it).
magnet_resolve() {
	local link=$torrent out k v mhash='' ntr=0 saved tmp p n=0 last=''
	local mpeers=() cands=() vf=() src=trackers
	out=$(btinfo --lines -- "$link") || exit 2
	while IFS=$'\t' read -r k v; do
		case $k in
		info_hash) mhash=$v ;;
		tracker) ntr=$((ntr + 1)) ;;
		peer) mpeers+=("$v") ;;
		web_seed) webseeds+=("$v") ;;
		esac
	done <<<"$out"
	[ -n "$mhash" ] || bad "$link: a v2-only magnet link (btmh): not supported yet"
	peers+=("${mpeers[@]}")
	saved=${savetorrent:-$outdir/$mhash.torrent}
	if [ -f "$saved" ] && [ "$(btinfo --lines -- "$saved" 2>/dev/null |
	    awk -F'\t' '$1 == "info_hash" { print $2 }')" = "$mhash" ]; then
		say "metadata from $saved"
		torrent=$saved
		return 0
	fi
	[ "$ntr" -gt 0 ] || [ "${#peers[@]}" -gt 0 ] || [ "$dht" -eq 1 ] ||
	    bad "no source of peers: the magnet link names no tracker and no x.pe= peer, and the DHT is off; give one with --peer"
	mkdir -p -- "$outdir" || exit 1
	cands=("${peers[@]}")
	if [ "$ntr" -gt 0 ]; then
		while read -r p; do
			[ -n "$p" ] && cands+=("$p")
		done < <(btannounce --timeout 10 -- "$link" 2>/dev/null)
	fi
	[ "$verbose" -eq 1 ] && vf=(-v)
	tmp=$saved.part
	magnet_ask "${cands[@]}" && return 0
	if [ "$dht" -eq 1 ] && [ "$n" -lt "$MAGNET_MAX_PEERS" ]; then
		cands=()
		while read -r p; do
			[ -n "$p" ] && cands+=("$p")
		done < <(magnet_dht_peers "$mhash")
		src='trackers and the DHT'
		[ "${#cands[@]}" -gt 0 ] || last=$(tail -n 1 -- "$tmp.dht")
		rm -f -- "$tmp.dht"
		magnet_ask "${cands[@]}" && return 0
	fi
	[ "$n" -gt 0 ] || die "no peer to fetch the metadata from: the $src know none${last:+ (${last#btdht: })}"
	rm -f -- "$tmp" "$tmp.err"
	die "no peer gave the metadata (asked $n): ${last#btpeer: }"
}
