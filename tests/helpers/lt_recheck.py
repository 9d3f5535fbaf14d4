#!/usr/bin/python3
"""lt_recheck.py TORRENT DATADIR [SECONDS]: python3-libtorrent's own check
of the data under DATADIR; prints its have-bitfield in hex (BEP 3 order:
high bit of byte 0 is piece 0), the form btverify --bitfield prints.
Read-only: files libtorrent would create are not (no download, no peers).
Exits 1 if the check does not finish within SECONDS (default 60)."""
import sys
import time

import libtorrent as lt

torrent, datadir = sys.argv[1], sys.argv[2]
limit = float(sys.argv[3]) if len(sys.argv) > 3 else 60
ses = lt.session({
    "listen_interfaces": "127.0.0.1:0", "enable_dht": False,
    "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
    "enable_incoming_utp": False, "enable_outgoing_utp": False,
    "alert_mask": lt.alert.category_t.status_notification,
})
p = lt.add_torrent_params()
p.ti = lt.torrent_info(torrent)
p.save_path = datadir
p.flags |= lt.torrent_flags.upload_mode
p.flags &= ~lt.torrent_flags.auto_managed
h = ses.add_torrent(p)
h.resume()
deadline = time.time() + limit
done = False
while not done and time.time() < deadline:
    ses.wait_for_alert(100)
    for al in ses.pop_alerts():
        if isinstance(al, lt.torrent_checked_alert):
            done = True
if not done:
    sys.exit(1)
bits = h.status(lt.status_flags_t.query_pieces).pieces
out = bytearray((len(bits) + 7) // 8)
for i, b in enumerate(bits):
    if b:
        out[i // 8] |= 0x80 >> (i % 8)
print(out.hex())
