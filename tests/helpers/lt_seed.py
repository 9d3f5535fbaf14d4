#!/usr/bin/python3
"""lt_seed.py TORRENT DATADIR [--listen IP:PORT] [--connect IP:PORT]...
[--seconds N] [--leech] [--wait-listen] [--plain-out]

A python3-libtorrent peer on loopback for tests and benchmarks: seeds
TORRENT from DATADIR (or, with --leech, downloads it into DATADIR and
exits when complete). Prints "listening PORT" once it listens, "done"
when a leech completes: at its torrent_finished alert (every piece
downloaded and checked), as it comes. DHT, LSD, UPnP, NAT-PMP, PEX and
uTP are off.
Exits after --seconds (default 600) whatever happens: every run is bounded.
"""
import argparse
import sys
import time

import libtorrent as lt

ap = argparse.ArgumentParser()
ap.add_argument("torrent")
ap.add_argument("datadir")
ap.add_argument("--listen", default="127.0.0.1:0")
ap.add_argument("--connect", action="append", default=[])
ap.add_argument("--seconds", type=float, default=600)
ap.add_argument("--leech", action="store_true")
ap.add_argument("--rate", type=int, default=0,
                help="upload limit in bytes/s, loopback included (0: none)")
ap.add_argument("--wait-listen", action="store_true",
                help="dial each --connect address once it listens")
ap.add_argument("--plain-out", action="store_true",
                help="dial plain BEP 3, not MSE first (a peer without MSE "
                "closes that handshake and libtorrent dials again 1 s later)")
a = ap.parse_args()


def listening(port):
    """Is a TCP socket of this host listening on port? (/proc/net/tcp*)"""
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    col = line.split()
                    if col[3] == "0A" and \
                            int(col[1].rsplit(":", 1)[1], 16) == port:
                        return True
        except (OSError, StopIteration, IndexError, ValueError):
            pass
    return False

ip, port = a.listen.rsplit(":", 1)
settings = {
    "listen_interfaces": "%s:%s" % (ip, port),
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False,
    "enable_natpmp": False, "enable_incoming_utp": False,
    "enable_outgoing_utp": False, "allow_multiple_connections_per_ip": True,
    "alert_mask": lt.alert.category_t.error_notification
    | lt.alert.category_t.status_notification,
    # Loopback: let one connection go as fast as the CPU allows.
    "send_buffer_watermark": 8 << 20, "send_buffer_low_watermark": 1 << 20,
    "max_queued_disk_bytes": 16 << 20, "unchoke_slots_limit": 100,
    "connections_limit": 200, "active_seeds": 100, "active_downloads": 100,
    "active_limit": 200,
    "upload_rate_limit": a.rate, "ignore_limits_on_local_network": False,
}
if a.plain_out:
    settings["out_enc_policy"] = int(lt.enc_policy.pe_disabled)
ses = lt.session(settings)
params = lt.add_torrent_params()
params.ti = lt.torrent_info(a.torrent)
params.save_path = a.datadir
if not a.leech:
    params.flags |= lt.torrent_flags.seed_mode
params.flags &= ~lt.torrent_flags.auto_managed
h = ses.add_torrent(params)
h.resume()

deadline = time.time() + a.seconds
while ses.listen_port() == 0 and time.time() < deadline:
    time.sleep(0.05)
print("listening %d" % ses.listen_port(), flush=True)
for c in a.connect:
    cip, cport = c.rsplit(":", 1)
    # A peer dialled before it listens is dialled again only after
    # libtorrent's reconnect delay (seconds): a benchmark waits instead,
    # looking every 5 ms.
    while a.wait_listen and not listening(int(cport)) and \
            time.time() < deadline:
        time.sleep(0.005)
    h.connect_peer((cip, int(cport)))

t0 = time.time()
while time.time() < deadline:
    ses.wait_for_alert(200)
    for al in ses.pop_alerts():
        if isinstance(al, lt.torrent_error_alert):
            print("error %s" % al.message(), file=sys.stderr, flush=True)
        if a.leech and isinstance(al, lt.torrent_finished_alert):
            print("done %.3f" % (time.time() - t0), flush=True)
            sys.exit(0)
    st = h.status()
    if a.leech and st.is_seeding:
        print("done %.3f" % (time.time() - t0), flush=True)
        sys.exit(0)
    # Keep reconnecting to leechers we were asked to reach.
    if a.connect and st.num_peers == 0 and not a.leech:
        for c in a.connect:
            cip, cport = c.rsplit(":", 1)
            h.connect_peer((cip, int(cport)))
sys.exit(1 if a.leech else 0)
