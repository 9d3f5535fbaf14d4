#!/usr/bin/python3
"""lt_peer.py seed|leech TORRENT DIR [HOST:PORT ...]: a python3-libtorrent
peer on 127.0.0.1 for btpeer's tests. Prints "listening PORT" once it
listens; a seeder then prints "seeding" once its data is checked and runs
until killed; a leecher connects to the given peers and prints "complete"
and exits 0 once it has everything (exit 1 after TIMEOUT seconds, env
LT_TIMEOUT, default 60). LT_RATE caps the upload rate (bytes/s).
LT_NOPLUGINS=1 leaves out libtorrent's extensions (ut_pex, ut_metadata)."""
import os
import sys
import time

import libtorrent as lt

mode, torrent, path = sys.argv[1], sys.argv[2], sys.argv[3]
peers = sys.argv[4:]
timeout = float(os.environ.get("LT_TIMEOUT", "60"))
rate = int(os.environ.get("LT_RATE", "0"))
args = [0] if os.environ.get("LT_NOPLUGINS") == "1" else []
ses = lt.session({
    "listen_interfaces": "127.0.0.1:0",
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False,
    "enable_natpmp": False, "enable_outgoing_utp": False,
    "enable_incoming_utp": False, "allow_multiple_connections_per_ip": True,
    "alert_mask": 0, "upload_rate_limit": rate,
    # Plain BEP 3 only: btpeer (--encryption prefer by default) tries MSE,
    # is closed at once, and connects again in plain.
    "out_enc_policy": int(lt.enc_policy.disabled),
    "in_enc_policy": int(lt.enc_policy.disabled),
}, *args)
if rate:
    # Loopback peers are in the "local" class, exempt from the global cap.
    pc = ses.get_peer_class(lt.session.local_peer_class_id)
    pc["upload_limit"] = rate
    ses.set_peer_class(lt.session.local_peer_class_id, pc)
params = lt.add_torrent_params()
params.ti = lt.torrent_info(torrent)
params.save_path = path
h = ses.add_torrent(params)
print("listening", ses.listen_port(), flush=True)
start = time.time()
if mode == "seed":
    while not h.status().is_seeding:
        if time.time() - start > timeout:
            print("error: data not complete in", path, flush=True)
            sys.exit(1)
        time.sleep(0.05)
    print("seeding", flush=True)
    while True:
        time.sleep(3600)
for p in peers:
    host, port = p.rsplit(":", 1)
    h.connect_peer((host, int(port)), 0)
while not h.status().is_seeding:
    if time.time() - start > timeout:
        print("error: incomplete after", timeout, "s", flush=True)
        sys.exit(1)
    time.sleep(0.05)
print("complete", flush=True)
