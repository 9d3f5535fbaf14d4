#!/usr/bin/python3
"""lt_mse.py seed|leech ENC TORRENT DIR [HOST:PORT ...]: a python3-libtorrent
peer on 127.0.0.1 with an encryption policy, for the MSE tests. ENC is
forced (MSE with RC4 only, both ways: a plaintext handshake is closed
unanswered), enabled (MSE or plain, either method) or disabled (plain
only). Prints "listening PORT"; a seeder prints "seeding" once its data is
checked, connects to the given peers and runs until killed; a leecher
prints "ready" once it takes connections, connects to them, prints
"complete" and exits 0 once it has everything, or exits 1 after
LT_TIMEOUT seconds (default 60). LT_RATE caps the upload rate
(bytes/s)."""
import os
import sys
import time

import libtorrent as lt

mode, enc, torrent, path = sys.argv[1:5]
peers = sys.argv[5:]
timeout = float(os.environ.get("LT_TIMEOUT", "60"))
rate = int(os.environ.get("LT_RATE", "0"))
policy = {"forced": lt.enc_policy.forced, "enabled": lt.enc_policy.enabled,
          "disabled": lt.enc_policy.disabled}[enc]
level = lt.enc_level.rc4 if enc == "forced" else lt.enc_level.both
ses = lt.session({
    "listen_interfaces": "127.0.0.1:0",
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False,
    "enable_natpmp": False, "enable_outgoing_utp": False,
    "enable_incoming_utp": False, "allow_multiple_connections_per_ip": True,
    "alert_mask": 0, "upload_rate_limit": rate,
    "out_enc_policy": int(policy), "in_enc_policy": int(policy),
    "allowed_enc_level": int(level), "prefer_rc4": enc == "forced",
})
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
else:
    # Takes connections once its (empty) data is checked and started.
    while h.status().paused or h.status().state in (
            lt.torrent_status.checking_files,
            lt.torrent_status.checking_resume_data):
        if time.time() - start > timeout:
            sys.exit(1)
        time.sleep(0.05)
    print("ready", flush=True)
for p in peers:
    host, port = p.rsplit(":", 1)
    h.connect_peer((host, int(port)), 0)
if mode == "seed":
    while True:
        time.sleep(3600)
while not h.status().is_seeding:
    if time.time() - start > timeout:
        print("error: incomplete after", timeout, "s", flush=True)
        sys.exit(1)
    time.sleep(0.05)
print("complete", flush=True)
