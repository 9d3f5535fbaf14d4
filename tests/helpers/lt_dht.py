#!/usr/bin/python3
"""lt_dht.py [--ip IP] [--nodes N] [--contact IP:PORT]...
[--seed TORRENT DATADIR] [--get-peers HEX] [--seconds S]

A small private DHT of python3-libtorrent sessions on 127.0.0.1 (or
--ip, ::1 for IPv6), for tests: N sessions (default 3) on their own ports, each added to the
others with add_dht_node (nodes given as bootstrap routers never enter a
routing table), dht_restrict_routing_ips off so one IP may hold many
nodes, and no public router. --contact adds another node (ours) to every
session.

Prints "node PORT" for each session, then "ready" once every session has
a node in its table. With --seed, session 0 seeds TORRENT from DATADIR
and announces it (its listen port, the same as its DHT port) to the DHT
every second. (session.dht_announce cannot be called from Python 2.0.8:
its flags type is not exported.) Every announce a session receives
prints "stored HEX IP:PORT". With --get-peers, the last session
asks for HEX every second and prints "peer IP:PORT" for each new peer.
Exits after --seconds (default 120).
"""
import argparse
import binascii
import time

import libtorrent as lt

ap = argparse.ArgumentParser()
ap.add_argument("--ip", default="127.0.0.1")
ap.add_argument("--nodes", type=int, default=3)
ap.add_argument("--contact", action="append", default=[])
ap.add_argument("--seed", nargs=2, metavar=("TORRENT", "DATADIR"))
ap.add_argument("--get-peers")
ap.add_argument("--seconds", type=float, default=120)
a = ap.parse_args()


def say(*words):
    print(*words, flush=True)


def session():
    return lt.session({
        "listen_interfaces": ("[%s]:0" if ":" in a.ip else "%s:0") % a.ip,
        "enable_dht": True, "enable_lsd": False, "enable_upnp": False,
        "enable_natpmp": False, "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "dht_bootstrap_nodes": "",
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": lt.alert.category_t.all_categories,
    })


def sha1(hexstr):
    return lt.sha1_hash(binascii.unhexlify(hexstr))


deadline = time.time() + a.seconds
sessions = [session() for _ in range(a.nodes)]
ports = []
for s in sessions:
    while s.listen_port() == 0 and time.time() < deadline:
        time.sleep(0.05)
    ports.append(s.listen_port())
    say("node %d" % s.listen_port())
for i, s in enumerate(sessions):
    for j, p in enumerate(ports):
        if i != j:
            s.add_dht_node((a.ip, p))
    for c in a.contact:
        ip, port = c.rsplit(":", 1)
        s.add_dht_node((ip.strip("[]"), int(port)))

handle = None
if a.seed:
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(a.seed[0])
    params.save_path = a.seed[1]
    params.flags |= lt.torrent_flags.seed_mode
    params.flags &= ~lt.torrent_flags.auto_managed
    handle = sessions[0].add_torrent(params)
    handle.resume()

ready = False
stored = set()
peers = set()
last = 0.0
while time.time() < deadline:
    now = time.time()
    if now - last >= 1.0:
        last = now
        for s in sessions:
            s.post_dht_stats()
        if ready and handle is not None:
            handle.force_dht_announce()
        if ready and a.get_peers:
            sessions[-1].dht_get_peers(sha1(a.get_peers))
    counts = {}
    for i, s in enumerate(sessions):
        for al in s.pop_alerts():
            if isinstance(al, lt.dht_stats_alert):
                counts[i] = sum(b["num_nodes"] for b in al.routing_table)
            elif isinstance(al, lt.dht_announce_alert):
                key = (str(al.info_hash), al.ip, al.port)
                if key not in stored:
                    stored.add(key)
                    say("stored %s %s:%d" % key)
            elif isinstance(al, lt.dht_get_peers_reply_alert):
                for ip, port in al.peers():
                    if (ip, port) not in peers:
                        peers.add((ip, port))
                        say("peer %s:%d" % (ip, port))
    if not ready and len(counts) == len(sessions) and \
            all(c > 0 for c in counts.values()):
        ready = True
        say("ready")
    time.sleep(0.1)
