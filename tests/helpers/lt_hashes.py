#!/usr/bin/python3
"""lt_hashes.py TORRENT: load TORRENT with python3-libtorrent and print its
v1 and v2 info-hashes (hex, or "-" when it has none)."""
import sys

import libtorrent as lt

ih = lt.torrent_info(sys.argv[1]).info_hashes()
print(str(ih.v1) if ih.has_v1() else "-", str(ih.v2) if ih.has_v2() else "-")
