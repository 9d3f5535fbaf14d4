#!/usr/bin/python3
"""lt_swarm.py N TORRENT DIR HOST:PORT: N python3-libtorrent leechers on
127.0.0.1 in one process (a session each, data in DIR/<k>), each
connected to HOST:PORT. LT_DRATE caps each one's download rate
(bytes/s), so that a small payload lasts; LT_TIMEOUT (default 120 s)
ends the run. Prints "started N" once all are added; runs until killed
or every leecher is complete ("complete"), exit 0."""
import os
import sys
import time

import libtorrent as lt

n, torrent, base, peer = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
timeout = float(os.environ.get("LT_TIMEOUT", "120"))
drate = int(os.environ.get("LT_DRATE", "0"))
host, port = peer.rsplit(":", 1)
handles = []
sessions = []
for k in range(n):
    ses = lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False,
        "enable_natpmp": False, "enable_outgoing_utp": False,
        "enable_incoming_utp": False, "alert_mask": 0,
        "download_rate_limit": drate,
        "out_enc_policy": int(lt.enc_policy.disabled),
        "in_enc_policy": int(lt.enc_policy.disabled),
    })
    if drate:
        # Loopback peers are in the "local" class, exempt from the cap.
        pc = ses.get_peer_class(lt.session.local_peer_class_id)
        pc["download_limit"] = drate
        ses.set_peer_class(lt.session.local_peer_class_id, pc)
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(torrent)
    params.save_path = os.path.join(base, str(k))
    os.makedirs(params.save_path, exist_ok=True)
    h = ses.add_torrent(params)
    h.connect_peer((host, int(port)), 0)
    sessions.append(ses)
    handles.append(h)
print("started", n, flush=True)
start = time.time()
while time.time() - start < timeout:
    if all(h.status().is_seeding for h in handles):
        print("complete", flush=True)
        sys.exit(0)
    # A leecher that lost its connection (choked ones stay) dials again.
    for h in handles:
        if not h.status().is_seeding and h.status().num_peers == 0:
            h.connect_peer((host, int(port)), 0)
    time.sleep(0.5)
sys.exit(0)
