#!/usr/bin/python3
"""fake_tracker.py http|https|udp MODE DIR [ADDR]: a misbehaving tracker for tests.

Binds ADDR (127.0.0.1 by default; ::1 for IPv6) on a free port, writes the
port to DIR/port once it listens, and appends one line per request to
DIR/log ("GET <path>" for HTTP; "connect", "announce", "scrape" for UDP).
Serves until killed. MODE picks the (mis)behaviour; see HTTP_MODES and
the UDP modes in udp_serve below. https needs DIR/cert.pem and DIR/key.pem.
Only loopback addresses are accepted.
"""
import gzip
import http.server
import os
import socket
import socketserver
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benc import enc  # noqa: E402

PROTO, MODE, DIR = sys.argv[1], sys.argv[2], sys.argv[3]
ADDR = sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1"
if ADDR not in ("127.0.0.1", "::1"):
    sys.exit("fake_tracker: loopback only")
FAMILY = socket.AF_INET6 if ":" in ADDR else socket.AF_INET


def log(line):
    with open(os.path.join(DIR, "log"), "a") as f:
        f.write(line + "\n")


def ready(port):
    tmp = os.path.join(DIR, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, os.path.join(DIR, "port"))


def compact4(ip, port):
    return socket.inet_aton(ip) + struct.pack(">H", port)


def compact6(ip, port):
    return socket.inet_pton(socket.AF_INET6, ip) + struct.pack(">H", port)


OK_REPLY = {
    b"interval": 1800, b"min interval": 900, b"complete": 1,
    b"incomplete": 2, b"tracker id": b"tid\x00\xff",
    b"peers": compact4("127.0.0.2", 6881) + compact4("127.0.0.3", 6882),
    b"peers6": compact6("::1", 6883),
}

# MODE -> (status, headers, body); callables get the handler.
HTTP_MODES = {
    "ok": lambda h: (200, {}, enc(OK_REPLY)),
    "empty-peers": lambda h: (200, {}, enc({b"interval": 1800,
                                            b"peers": b""})),
    "dict": lambda h: (200, {}, enc({b"interval": 1800, b"peers": [
        {b"ip": b"127.0.0.4", b"port": 7000, b"peer id": b"A" * 20},
        {b"ip": b"::1", b"port": 7001},
        {b"ip": b"peer.example", b"port": 7002},
        {b"ip": b"127.0.0.5"},
        b"not a dict",
    ]})),
    "failure": lambda h: (200, {}, enc({
        b"failure reason": b"go \x1b[31maway\x1b]0;pwned\x07 " + b"x" * 300})),
    "warning": lambda h: (200, {}, enc(dict(OK_REPLY, **{
        "warning message": b"beware\x1b[2J\x9b\xff"}))),
    "html": lambda h: (200, {"Content-Type": "text/html"},
                       b"<html><body>Tracker offline</body></html>\n"),
    "html404": lambda h: (404, {"Content-Type": "text/html"},
                          b"<html><body>Not Found</body></html>\n"),
    "notdict": lambda h: (200, {}, b"l4:spame"),
    "truncated": lambda h: (200, {}, enc({b"interval": 1800,
                                          b"peers": b"\x7f\x00\x00\x02\x1a"
                                          b"\xe1\x7f"})),
    "truncated6": lambda h: (200, {}, enc({b"interval": 1800,
                                           b"peers6": b"\x00" * 20})),
    "manypeers": lambda h: (200, {}, enc({b"interval": 1800, b"peers": b"".join(
        compact4("127.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255), 6881)
        for i in range(1, 20001))})),
    # The same on port 1, where nothing listens: dead peers, refused at once.
    "manydead": lambda h: (200, {}, enc({b"interval": 1800, b"peers": b"".join(
        compact4("127.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255), 1)
        for i in range(1, 20001))})),
    "huge": lambda h: (200, {}, b"d5:peers2097152:" + b"\x7f" * 2097152 + b"e"),
    "gzipbomb": lambda h: (200, {"Content-Encoding": "gzip"},
                           gzip.compress(b"d5:peers67108864:" +
                                         b"\x00" * (64 << 20) + b"e", 9)),
    "interval": lambda h: (200, {}, enc({b"interval": 999999999,
                                         b"min interval": -5,
                                         b"peers": b""})),
    "redirect": lambda h: ((302, {"Location": "/ok"}, b"")
                           if not h.path.startswith("/ok")
                           else (200, {}, enc(OK_REPLY))),
    "redirect-loop": lambda h: (302, {"Location": "/again" + h.path[:50]}, b""),
    "redirect-ftp": lambda h: (302, {"Location": "ftp://127.0.0.1/x"}, b""),
    "scrape": lambda h: (200, {}, enc({b"files": {
        bytes.fromhex(open(os.path.join(DIR, "infohash")).read().strip()):
        {b"complete": 5, b"incomplete": 7, b"downloaded": 11}}})),
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        log("GET " + self.path)
        if MODE == "slow":
            time.sleep(60)
            return
        status, headers, body = HTTP_MODES[MODE](self)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    address_family = FAMILY
    daemon_threads = True


def udp_peers(v6):
    if v6:
        return compact6("::1", 6881) + compact6("::2", 6882)
    return compact4("127.0.0.2", 6881) + compact4("127.0.0.3", 6882)


def udp_serve():
    s = socket.socket(FAMILY, socket.SOCK_DGRAM)
    s.bind((ADDR, 0))
    ready(s.getsockname()[1])
    cid = 0x1122334455667788
    while True:
        pkt, peer = s.recvfrom(65536)
        if len(pkt) < 16:
            continue
        action, tid = struct.unpack(">II", pkt[8:16])
        log(["connect", "announce", "scrape"][action]
            if action < 3 else "action %d" % action)
        if MODE == "silent":
            continue
        if MODE == "drop-first" and not os.path.exists(
                os.path.join(DIR, "dropped")):
            open(os.path.join(DIR, "dropped"), "w").close()
            continue
        if action == 0:
            if MODE == "wrongtid":
                tid ^= 1
            if MODE == "connect-error":
                s.sendto(struct.pack(">II", 3, tid) + b"banned\x1b[0m", peer)
                continue
            s.sendto(struct.pack(">IIQ", 0, tid, cid), peer)
            continue
        if struct.unpack(">Q", pkt[:8])[0] != cid:
            s.sendto(struct.pack(">II", 3, tid) + b"bad connection id", peer)
            continue
        head = struct.pack(">II", action, tid)
        if MODE == "error":
            out = struct.pack(">II", 3, tid) + b"go away\x1b[0m"
        elif action == 2:
            out = head + struct.pack(">III", 5, 11, 7)
        elif MODE == "truncated":
            out = head + struct.pack(">III", 1800, 0, 1) + b"\x7f" * 7
        elif MODE == "short":
            out = head + struct.pack(">I", 1800)
        elif MODE == "interval":
            out = head + struct.pack(">III", 0xffffffff, 0, 0)
        else:
            out = head + struct.pack(">III", 1800, 2, 1) + udp_peers(
                FAMILY == socket.AF_INET6)
        s.sendto(out, peer)


if PROTO == "udp":
    udp_serve()
else:
    srv = Server((ADDR, 0), Handler)
    if PROTO == "https":
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(DIR, "cert.pem"),
                            os.path.join(DIR, "key.pem"))
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    ready(srv.server_address[1])
    srv.serve_forever()
