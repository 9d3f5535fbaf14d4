#!/usr/bin/python3
"""lt_mse.py ENC TORRENT DIR [HOST:PORT]: a python3-libtorrent seeder on
127.0.0.1 with an encryption policy, for the MSE tests. ENC is forced (MSE
with RC4 only, both ways: a plaintext handshake is closed unanswered),
enabled (MSE or plain, either method) or disabled (plain only). Prints
"listening PORT", then "seeding" once its data is checked; then connects
to HOST:PORT if given, and runs until killed."""
import sys
import time

import libtorrent as lt

enc, torrent, path = sys.argv[1], sys.argv[2], sys.argv[3]
policy = {"forced": lt.enc_policy.forced, "enabled": lt.enc_policy.enabled,
          "disabled": lt.enc_policy.disabled}[enc]
level = lt.enc_level.rc4 if enc == "forced" else lt.enc_level.both
ses = lt.session({
    "listen_interfaces": "127.0.0.1:0",
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False,
    "enable_natpmp": False, "enable_outgoing_utp": False,
    "enable_incoming_utp": False, "allow_multiple_connections_per_ip": True,
    "alert_mask": 0,
    "out_enc_policy": int(policy), "in_enc_policy": int(policy),
    "allowed_enc_level": int(level), "prefer_rc4": enc == "forced",
})
params = lt.add_torrent_params()
params.ti = lt.torrent_info(torrent)
params.save_path = path
h = ses.add_torrent(params)
print("listening", ses.listen_port(), flush=True)
start = time.time()
while not h.status().is_seeding:
    if time.time() - start > 60:
        print("error: data not complete in", path, flush=True)
        sys.exit(1)
    time.sleep(0.05)
print("seeding", flush=True)
for p in sys.argv[4:]:
    host, port = p.rsplit(":", 1)
    h.connect_peer((host, int(port)), 0)
while True:
    time.sleep(3600)
