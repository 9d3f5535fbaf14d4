#!/usr/bin/python3
"""lt_magnet.py MAGNET DIR [HOST:PORT ...]: a python3-libtorrent leecher
of a magnet link on 127.0.0.1, connecting to the given peers. Prints
"listening PORT", "metadata INFOHASH" once the metadata is in, and
"complete" once it has everything, then exits 0 (1 after LT_TIMEOUT
seconds, default 60). With LT_PEX=1 it speaks ut_pex and prints "pex
HOST:PORT" for each peer it learned by PEX."""
import os
import sys
import time

import libtorrent as lt

link, path = sys.argv[1], sys.argv[2]
peers = sys.argv[3:]
timeout = float(os.environ.get("LT_TIMEOUT", "60"))
ses = lt.session({
    "listen_interfaces": "127.0.0.1:0",
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False,
    "enable_natpmp": False, "enable_outgoing_utp": False,
    "enable_incoming_utp": False, "allow_multiple_connections_per_ip": True,
    "alert_mask": 0,
    "out_enc_policy": int(lt.enc_policy.disabled),
    "in_enc_policy": int(lt.enc_policy.disabled),
})
params = lt.parse_magnet_uri(link)
params.save_path = path
h = ses.add_torrent(params)
print("listening", ses.listen_port(), flush=True)
for p in peers:
    host, port = p.rsplit(":", 1)
    h.connect_peer((host, int(port)), 0)
start = time.time()
said = False
while not h.status().is_seeding:
    if not said and h.status().has_metadata:
        print("metadata", str(h.info_hash()), flush=True)
        said = True
    if time.time() - start > timeout:
        print("error: incomplete after", timeout, "s", flush=True)
        sys.exit(1)
    time.sleep(0.05)
if not said:
    print("metadata", str(h.info_hash()), flush=True)
print("complete", flush=True)
