#!/usr/bin/python3
"""bad_leecher.py MODE TORRENT_INFOHASH_HEX HOST:PORT: a leecher that
tests how btpeer serves. It handshakes, reads the bitfield, says it is
interested, waits for unchoke, then:
  bigblock  requests a 32 KiB block: prints "closed" if dropped
  flood     sends 3000 requests at once: prints "blocks N" (N answered)
  cancel    sends 100 requests for piece 0..., cancels the 100th in the
            same write: prints "blocks N" and "cancelled-sent yes|no"
  absent    requests piece 0 that btpeer lacks: prints "blocks N"
Blocks are counted until the link is quiet for 3 seconds."""
import socket
import struct
import sys

mode, ih, addr = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3]
host, port = addr.rsplit(":", 1)
c = socket.create_connection((host, int(port)), timeout=10)
c.sendall(b"\x13BitTorrent protocol" + bytes(8) + ih + b"-XX0000-badleech0000")
buf = b""


def fill(n):
    global buf
    while len(buf) < n:
        d = c.recv(1 << 16)
        if not d:
            raise EOFError
        buf += d


def msg():
    global buf
    fill(4)
    n = struct.unpack(">I", buf[:4])[0]
    fill(4 + n)
    m, buf = buf[4:4 + n], buf[4 + n:]
    return m


fill(68)
buf = buf[68:]
c.sendall(struct.pack(">IB", 1, 2))
while True:
    m = msg()
    if m and m[0] == 1:
        break


def req(t, i, b, ln):
    return struct.pack(">IBIII", 13, t, i, b, ln)


if mode == "bigblock":
    c.sendall(req(6, 0, 0, 32768))
    try:
        while msg() is not None:
            pass
    except (EOFError, ConnectionResetError):
        print("closed")
    except socket.timeout:
        print("still open")
    sys.exit(0)
if mode == "flood":
    out = b"".join(req(6, k % 4, (k // 4) % 4 * 16384, 16384)
                   for k in range(3000))
elif mode == "cancel":
    out = b"".join(req(6, 0, 0, 16384) for k in range(99))
    out += req(6, 1, 16384, 16384) + req(8, 1, 16384, 16384)
else:
    out = req(6, 0, 0, 16384)
c.sendall(out)
c.settimeout(3)
n, got = 0, set()
try:
    while True:
        m = msg()
        if m and m[0] == 7:
            n += 1
            got.add(struct.unpack(">II", m[1:9]))
except (socket.timeout, EOFError):
    pass
print("blocks", n)
if mode == "cancel":
    print("cancelled-sent", "yes" if (1, 16384) in got else "no")
