#!/usr/bin/python3
"""lt_hub.py TORRENT DIR [HOST:PORT ...]: a python3-libtorrent peer on
127.0.0.1 with almost nothing (its download capped at LT_RATE, 2 KB/s by
default), PEX on, connecting to the given peers. Prints "listening PORT"
once it takes connections, then "pex HOST:PORT" for each peer it
connected to that it learned by PEX and "peer HOST:PORT rc4|plain" for
each it is connected to, as encrypted; runs until killed (or LT_TIMEOUT
seconds, default 120). LT_ENC: its encryption policy both ways, disabled
(the default: plain only) or enabled (MSE or plain, as the peer does)."""
import os
import sys
import time

import libtorrent as lt

torrent, path = sys.argv[1], sys.argv[2]
peers = sys.argv[3:]
timeout = float(os.environ.get("LT_TIMEOUT", "120"))
# LT_RATE: its download cap in bytes/s (default 2000; 0: none). A capped
# libtorrent connects to no new peer while the cap is reached.
rate = int(os.environ.get("LT_RATE", "2000"))
enc = {"disabled": lt.enc_policy.disabled, "enabled": lt.enc_policy.enabled}[
    os.environ.get("LT_ENC", "disabled")]
ses = lt.session({
    "listen_interfaces": "127.0.0.1:0",
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False,
    "enable_natpmp": False, "enable_outgoing_utp": False,
    "enable_incoming_utp": False, "allow_multiple_connections_per_ip": True,
    "alert_mask": 0, "download_rate_limit": rate,
    "out_enc_policy": int(enc), "in_enc_policy": int(enc),
})
# Loopback peers are in the "local" class, exempt from the global cap.
pc = ses.get_peer_class(lt.session.local_peer_class_id)
pc["download_limit"] = rate
ses.set_peer_class(lt.session.local_peer_class_id, pc)
params = lt.add_torrent_params()
params.ti = lt.torrent_info(torrent)
params.save_path = path
h = ses.add_torrent(params)
start = time.time()
# Ready once its (empty) data is checked and the session's queue has
# started it (about 1 s): before that it drops peers.
while h.status().paused or h.status().state in (
        lt.torrent_status.checking_files,
        lt.torrent_status.checking_resume_data):
    if time.time() - start > timeout:
        sys.exit(1)
    time.sleep(0.05)
print("listening", ses.listen_port(), flush=True)
for p in peers:
    host, port = p.rsplit(":", 1)
    h.connect_peer((host, int(port)), 0)
said = set()
while time.time() - start < timeout:
    for pi in h.get_peer_info():
        a = "%s:%d" % pi.ip
        if pi.source & lt.peer_info.pex:
            if a not in said:
                said.add(a)
                print("pex", a, flush=True)
        if pi.flags & (lt.peer_info.connecting | lt.peer_info.handshake) \
                or ("peer " + a) in said:
            continue
        said.add("peer " + a)
        print("peer", a, "rc4" if pi.flags & lt.peer_info.rc4_encrypted
              else "plain", flush=True)
    time.sleep(0.1)
