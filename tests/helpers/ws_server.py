#!/usr/bin/python3
"""A misbehaving web seed for btwebseed's tests, on 127.0.0.1.

ws_server.py DIR MODE [ARG]: serves DIR over HTTP/1.1 (keep-alive) and
prints "listening PORT" once bound. MODE says how it misbehaves:

  good        honest Range support (206), for comparison
  norange     ignores Range: 200 and the whole file (mini_httpd's way)
  corrupt N   flips the byte at offset N (or N,M,...) of every file it sends
  drip        the first request gets one byte a second, the rest are good
  long        206 with 1000 bytes more than asked after the range
  loop        every request is redirected to itself
  ftp         every request is redirected to an ftp:// URL
  redirect U  every request is redirected to U + the path (once)
  busy N      the first N requests get 503 with Retry-After: 1
  slow        honest, but every answer waits 20 ms and its body comes
              at 1.6 MB/s (16 KiB every 10 ms)

Each request is logged on stderr as "METHOD PATH RANGE -> STATUS PORT",
PORT being the client's, so that connection reuse can be counted.
"""
import http.server
import os
import re
import sys
import threading
import time
import urllib.parse

MODE = sys.argv[2]
ROOT = sys.argv[1]
ARG = sys.argv[3] if len(sys.argv) > 3 else None
LOCK = threading.Lock()
COUNT = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def log(self, status):
        sys.stderr.write("%s %s %s -> %d %d\n" % (
            self.command, self.path, self.headers.get("Range"), status,
            self.client_address[1]))
        sys.stderr.flush()

    def simple(self, status, headers=()):
        self.log(status)
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        with LOCK:
            COUNT[0] += 1
            nth = COUNT[0]
        if MODE == "loop":
            return self.simple(302, [("Location", self.path)])
        if MODE == "ftp":
            return self.simple(302, [("Location", "ftp://127.0.0.1/x")])
        if MODE == "redirect":
            return self.simple(302, [("Location", ARG + self.path)])
        if MODE == "slow":
            time.sleep(0.02)
        if MODE == "busy" and nth <= int(ARG):
            return self.simple(503, [("Retry-After", "1")])
        rel = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        path = os.path.realpath(os.path.join(ROOT, rel.lstrip("/")))
        if not path.startswith(os.path.realpath(ROOT) + "/") or \
                not os.path.isfile(path):
            return self.simple(404)
        with open(path, "rb") as f:
            data = bytearray(f.read())
        if MODE == "corrupt":
            for off in map(int, ARG.split(",")):
                if off < len(data):
                    data[off] ^= 0xff
        m = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
        if MODE == "norange" or m is None:
            status, body, first, last = 200, bytes(data), None, None
        else:
            first, last = int(m.group(1)), min(int(m.group(2)),
                                               len(data) - 1)
            status, body = 206, bytes(data[first:last + 1])
        extra = b"x" * 1000 if MODE == "long" and status == 206 else b""
        self.log(status)
        self.send_response(status)
        if status == 206:
            self.send_header("Content-Range",
                             "bytes %d-%d/%d" % (first, last, len(data)))
        self.send_header("Content-Length", str(len(body) + len(extra)))
        self.end_headers()
        if MODE == "drip" and nth == 1:
            for i in range(len(body)):
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                time.sleep(1)
            return
        if MODE == "slow":
            for i in range(0, len(body), 16384):
                self.wfile.write(body[i:i + 16384])
                time.sleep(0.01)
            return
        self.wfile.write(body + extra)


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print("listening %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
