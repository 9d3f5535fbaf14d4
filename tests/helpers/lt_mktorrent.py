#!/usr/bin/python3
"""lt_mktorrent.py PATH OUT [v1|hybrid|v2] [PIECE_LEN]: make a torrent with
python3-libtorrent and print its v1 and v2 info-hashes (hex, or "-")."""
import os
import sys

import libtorrent as lt

path, out = sys.argv[1], sys.argv[2]
kind = sys.argv[3] if len(sys.argv) > 3 else "hybrid"
plen = int(sys.argv[4]) if len(sys.argv) > 4 else 16384
flags = {"v1": lt.create_torrent.v1_only, "v2": lt.create_torrent.v2_only,
         "hybrid": 0}[kind]
fs = lt.file_storage()
lt.add_files(fs, path)
t = lt.create_torrent(fs, plen, flags=flags)
t.add_tracker("http://127.0.0.1:6969/announce")
lt.set_piece_hashes(t, os.path.dirname(os.path.abspath(path)))
data = lt.bencode(t.generate())
with open(out, "wb") as f:
    f.write(data)
ih = lt.torrent_info(out).info_hashes()
print(str(ih.v1) if ih.has_v1() else "-", str(ih.v2) if ih.has_v2() else "-")
