#!/usr/bin/python3
"""lt_webseed.py TORRENT DIR: python3-libtorrent downloads TORRENT into
DIR from its url-list web seeds alone (no tracker, DHT, LSD or peers) and
exits 0 once complete, 1 after TIMEOUT seconds (env LT_TIMEOUT, default
60). A cross-check that libtorrent maps the torrent's files to the same
URLs as btwebseed."""
import os
import sys
import time

import libtorrent as lt

torrent, path = sys.argv[1], sys.argv[2]
timeout = float(os.environ.get("LT_TIMEOUT", "60"))
ses = lt.session({
    "listen_interfaces": "127.0.0.1:0",
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False,
    "enable_natpmp": False, "alert_mask": 0,
})
params = lt.add_torrent_params()
params.ti = lt.torrent_info(torrent)
params.save_path = path
h = ses.add_torrent(params)
start = time.time()
while not h.status().is_seeding:
    if time.time() - start > timeout:
        st = h.status()
        print("timeout: %d of %d pieces, %s" % (
            st.num_pieces, params.ti.num_pieces(), st.errc.message()))
        sys.exit(1)
    time.sleep(0.1)
print("complete")
