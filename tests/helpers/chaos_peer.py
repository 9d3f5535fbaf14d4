#!/usr/bin/python3
"""chaos_peer.py MODE DATA PIECELEN [OTHER]: a misbehaving seeder for the
chaos tests. Listens on 127.0.0.1, prints "listening PORT", serves every
connection (a thread each) until killed. It answers the handshake with
the info-hash it was sent, announces every piece, unchokes on interest,
then, for requests:
  other      answers pieces 0, 3, 6, ... with the bytes of OTHER (a file
             of another torrent, as long as DATA), the rest from DATA
  hangup     answers one block from DATA, then closes the connection
Logs "sent-other PIECE" / "hangup" lines on stdout."""
import socket
import struct
import sys
import threading

mode, data = sys.argv[1], open(sys.argv[2], "rb").read()
plen = int(sys.argv[3])
other = open(sys.argv[4], "rb").read() if len(sys.argv) > 4 else b""
npieces = (len(data) + plen - 1) // plen
lock = threading.Lock()


def say(line):
    with lock:
        print(line, flush=True)


def recvn(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            raise EOFError
        b += d
    return b


def serve(c):
    c.settimeout(60)
    hs = recvn(c, 68)
    # Plain BEP 3 only: anything else (an MSE handshake) is closed at
    # once, as real plain-only peers do, so the client retries in plain.
    if hs[:20] != b"\x13BitTorrent protocol":
        return
    c.sendall(hs[:20] + bytes(8) + hs[28:48] + b"-XX0000-chaospeer000")
    nb = (npieces + 7) // 8
    bf = bytearray(b"\xff" * nb)
    if npieces % 8:
        bf[-1] = (0xff << (8 - npieces % 8)) & 0xff
    c.sendall(struct.pack(">IB", 1 + len(bf), 5) + bf)
    told = set()
    while True:
        n = struct.unpack(">I", recvn(c, 4))[0]
        if n == 0:
            continue
        msg = recvn(c, n)
        if msg[0] == 2:
            c.sendall(struct.pack(">IB", 1, 1))
        elif msg[0] == 6:
            i, b, ln = struct.unpack(">III", msg[1:13])
            off = i * plen + b
            src = data
            if mode == "other" and i % 3 == 0:
                src = other
                if i not in told:
                    told.add(i)
                    say("sent-other %d" % i)
            c.sendall(struct.pack(">IBII", 9 + ln, 7, i, b) +
                      src[off:off + ln])
            if mode == "hangup":
                say("hangup")
                return


def run(c):
    try:
        serve(c)
    except (OSError, EOFError, struct.error):
        pass
    finally:
        c.close()


ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(16)
print("listening", ls.getsockname()[1], flush=True)
while True:
    c, _ = ls.accept()
    threading.Thread(target=run, args=(c,), daemon=True).start()
