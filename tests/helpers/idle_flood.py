#!/usr/bin/python3
"""idle_flood.py HOST PORT N SECONDS: opens N TCP connections to
HOST:PORT from 127.0.0.2, .3, ... (100 a source address), sends
nothing, prints "open K" (how many the listener accepted: still open
after a moment), then holds them for SECONDS and exits."""
import socket
import sys
import time

host, port, n, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
socks = []
for k in range(n):
    s = socket.socket()
    s.bind(("127.0.0.%d" % (2 + k // 100), 0))
    s.setblocking(False)
    try:
        s.connect((host, port))
    except BlockingIOError:
        pass
    socks.append(s)
time.sleep(1)
alive = 0
for s in socks:
    try:
        if s.recv(1, socket.MSG_PEEK) == b"":
            continue    # closed by the listener
    except BlockingIOError:
        alive += 1      # open, nothing to read
    except OSError:
        continue
print("open", alive, flush=True)
time.sleep(secs)
