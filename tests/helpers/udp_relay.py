#!/usr/bin/python3
"""udp_relay.py HOST:PORT [--drop P] [--reorder P] [--dup P] [--seed N]:
a lossy UDP relay on 127.0.0.1 for uTP tests. Prints "relay PORT"; every
datagram that arrives there from a client is sent on to HOST:PORT from a
socket of its own for that client, and the answers go back. Each datagram,
either way, is dropped with probability --drop, held back 1-10 ms (so that
later ones overtake it) with probability --reorder, and sent twice with
probability --dup. Prints counts on SIGTERM or after --seconds (default
120)."""
import argparse
import heapq
import random
import select
import signal
import socket
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("target")
ap.add_argument("--drop", type=float, default=0.0)
ap.add_argument("--reorder", type=float, default=0.0)
ap.add_argument("--dup", type=float, default=0.0)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--seconds", type=float, default=120)
a = ap.parse_args()
host, port = a.target.rsplit(":", 1)
target = (host, int(port))
rng = random.Random(a.seed)
front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
front.bind(("127.0.0.1", 0))
print("relay", front.getsockname()[1], flush=True)
backs = {}        # client address -> socket toward the target
clients = {}      # socket fileno -> client address
held = []         # (time, n, socket, data, address)
count = {"fwd": 0, "drop": 0, "reorder": 0, "dup": 0}
n = 0


def report(*_):
    print(" ".join("%s %d" % kv for kv in count.items()), flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, report)


def send(sock, data, addr):
    global n
    if rng.random() < a.drop:
        count["drop"] += 1
        return
    copies = 2 if rng.random() < a.dup else 1
    count["dup"] += copies - 1
    for _ in range(copies):
        if rng.random() < a.reorder:
            count["reorder"] += 1
            n += 1
            heapq.heappush(held, (time.time() + rng.uniform(0.001, 0.01),
                                  n, sock, data, addr))
        else:
            count["fwd"] += 1
            sock.sendto(data, addr)


deadline = time.time() + a.seconds
while time.time() < deadline:
    wait = 0.5
    if held:
        wait = max(0.0, min(wait, held[0][0] - time.time()))
    socks = [front] + list(backs.values())
    r, _, _ = select.select(socks, [], [], wait)
    for s in r:
        try:
            data, addr = s.recvfrom(65536)
        except OSError:
            continue
        if s is front:
            if addr not in backs:
                b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                b.bind(("127.0.0.1", 0))
                backs[addr] = b
                clients[b.fileno()] = addr
            send(backs[addr], data, target)
        else:
            send(front, data, clients[s.fileno()])
    now = time.time()
    while held and held[0][0] <= now:
        _, _, s, data, addr = heapq.heappop(held)
        count["fwd"] += 1
        s.sendto(data, addr)
report()
