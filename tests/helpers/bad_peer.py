#!/usr/bin/python3
"""bad_peer.py MODE NPIECES [DATA PIECELEN]: a misbehaving BitTorrent
peer for btpeer's tests. Listens on 127.0.0.1, prints "listening PORT", serves one
connection, then exits. It answers the handshake with the info-hash it
was sent, announces every piece, unchokes on interest, then misbehaves:
  corrupt    answers every request with wrong bytes
  oversize   sends a message length prefix of 2^32-1
  sparebits  sends a bitfield with its spare bits set
  longbf     sends a bitfield one byte too long
  stall      unchokes and never answers a request
  unasked    sends a block of a piece nobody asked for
  badindex   sends a have for a piece past the end
  wronghash  answers the handshake with another info-hash
  choker     serves DATA correctly but chokes (and unchokes 0.2 s later)
             on every 7th request, dropping the requests it had
  hangup     serves DATA for 10 requests, then closes the connection
  silent     answers the handshake, then says nothing at all
  keepalive  answers the handshake, then sends only keepalives
  http       answers like a web server ("HTTP/1.1 400 Bad Request")
  mse        answers with 96 random bytes, as an MSE handshake starts"""
import os
import socket
import struct
import sys
import time

mode, npieces = sys.argv[1], int(sys.argv[2])
data = open(sys.argv[3], "rb").read() if len(sys.argv) > 3 else b""
plen = int(sys.argv[4]) if len(sys.argv) > 4 else 0
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(1)
ls.settimeout(30)
print("listening", ls.getsockname()[1], flush=True)
c, _ = ls.accept()
c.settimeout(30)


def recvn(n):
    b = b""
    while len(b) < n:
        try:
            d = c.recv(n - len(b))
        except socket.timeout:
            raise
        except OSError:
            sys.exit(0)
        if not d:
            sys.exit(0)
        b += d
    return b


hs = recvn(68)
ih = hs[28:48]
if mode in ("http", "mse"):
    c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
              if mode == "http" else os.urandom(96))
    c.settimeout(30)
    try:
        c.recv(1)
    except OSError:
        pass
    sys.exit(0)
if mode == "wronghash":
    ih = bytes(20)
c.sendall(hs[:20] + bytes(8) + ih + b"-XX0000-badpeer00000")
if mode in ("silent", "keepalive"):
    # Until btpeer hangs up (recv returns b"" or fails), at most 30 s.
    c.settimeout(1)
    end = time.time() + 30
    while time.time() < end:
        try:
            if not c.recv(65536):
                break
        except socket.timeout:
            if mode == "keepalive":
                c.sendall(bytes(4))
        except OSError:
            break
    sys.exit(0)
nb = (npieces + 7) // 8
bf = bytearray(b"\xff" * nb)
if npieces % 8:
    bf[-1] = (0xff << (8 - npieces % 8)) & 0xff
if mode == "sparebits":
    bf[-1] |= 1
if mode == "longbf":
    bf += b"\0"
c.sendall(struct.pack(">IB", 1 + len(bf), 5) + bf)
if mode == "oversize":
    c.sendall(b"\xff\xff\xff\xff\x07")
if mode == "badindex":
    c.sendall(struct.pack(">IBI", 5, 4, npieces))
if mode == "unasked":
    c.sendall(struct.pack(">IBII", 9 + 16384, 7, 0, 0) + bytes(16384))
nreq = 0
while True:
    n = struct.unpack(">I", recvn(4))[0]
    if n == 0:
        continue
    msg = recvn(n)
    if msg[0] == 2:
        c.sendall(struct.pack(">IB", 1, 1))
    elif msg[0] == 6 and mode == "corrupt":
        i, b, ln = struct.unpack(">III", msg[1:13])
        c.sendall(struct.pack(">IBII", 9 + ln, 7, i, b) + b"\x5a" * ln)
    elif msg[0] == 6 and mode in ("choker", "hangup"):
        nreq += 1
        if mode == "hangup" and nreq > 10:
            c.close()
            sys.exit(0)
        if mode == "choker" and nreq % 7 == 0:
            # BEP 3: a choke drops every pending request.
            c.sendall(struct.pack(">IB", 1, 0))
            time.sleep(0.2)
            c.settimeout(0.05)
            try:
                while True:
                    n = struct.unpack(">I", recvn(4))[0]
                    recvn(n)
            except socket.timeout:
                pass
            c.settimeout(30)
            c.sendall(struct.pack(">IB", 1, 1))
            continue
        i, b, ln = struct.unpack(">III", msg[1:13])
        off = i * plen + b
        c.sendall(struct.pack(">IBII", 9 + ln, 7, i, b) + data[off:off + ln])
