#!/usr/bin/python3
"""lt_utp.py seed|leech TORRENT DIR [HOST:PORT ...]: a python3-libtorrent
peer on 127.0.0.1 that speaks uTP only (TCP off both ways: libtorrent still
binds its TCP port but resets every TCP connection), plaintext, no DHT, LSD,
UPnP, NAT-PMP. Prints "listening PORT" (TCP and UDP alike), a seeder then
"seeding" once its data is checked; every peer it sees is printed once as
"peer IP:PORT utp" or "peer IP:PORT tcp" (libtorrent's own peer flags, so a
test can check the transport). A leecher connects to the given peers and
prints "complete SECONDS" and exits 0 once it has everything. Exits 1 after
LT_TIMEOUT seconds (default 60) in any mode. LT_RATE caps the upload rate
(bytes/s)."""
import os
import sys
import time

import libtorrent as lt

# peer_info::utp_socket (libtorrent 2.0 peer_info.hpp: 17_bit); the Python
# binding does not export the constant.
UTP_SOCKET = 1 << 17

mode, torrent, path = sys.argv[1], sys.argv[2], sys.argv[3]
peers = sys.argv[4:]
timeout = float(os.environ.get("LT_TIMEOUT", "60"))
rate = int(os.environ.get("LT_RATE", "0"))
ses = lt.session({
    "listen_interfaces": "127.0.0.1:0",
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False,
    "enable_natpmp": False,
    "enable_outgoing_tcp": False, "enable_incoming_tcp": False,
    "enable_outgoing_utp": True, "enable_incoming_utp": True,
    "allow_multiple_connections_per_ip": True,
    "alert_mask": int(lt.alert.category_t.connect_notification),
    "upload_rate_limit": rate,
    "out_enc_policy": int(lt.enc_policy.disabled),
    "in_enc_policy": int(lt.enc_policy.disabled),
})
if rate:
    # Loopback peers are in the "local" class, exempt from the global cap.
    pc = ses.get_peer_class(lt.session.local_peer_class_id)
    pc["upload_limit"] = rate
    ses.set_peer_class(lt.session.local_peer_class_id, pc)
params = lt.add_torrent_params()
params.ti = lt.torrent_info(torrent)
params.save_path = path
h = ses.add_torrent(params)
print("listening", ses.listen_port(), flush=True)
start = time.time()
seen = set()


def saw(ip, port, utp):
    key = "%s:%d" % (ip, port)
    if key not in seen:
        seen.add(key)
        print("peer", key, "utp" if utp else "tcp", flush=True)


def report():
    """Print the peers connected now, then those that came and went since
    the last call: a peer that finishes between two polls is only in a
    peer_disconnected_alert (with a peer id once its handshake was done)."""
    for p in h.get_peer_info():
        saw(p.ip[0], p.ip[1], int(p.flags) & UTP_SOCKET)
    for a in ses.pop_alerts():
        if (isinstance(a, lt.peer_disconnected_alert)
                and not a.pid.is_all_zeros()):
            saw(a.ip[0], a.ip[1], a.socket_type in (
                lt.socket_type_t.utp, lt.socket_type_t.utp_ssl))


def expired():
    if time.time() - start > timeout:
        print("error: timeout after", timeout, "s", flush=True)
        sys.exit(1)


if mode == "seed":
    while not h.status().is_seeding:
        expired()
        time.sleep(0.05)
    print("seeding", flush=True)
    while True:
        report()
        expired()
        time.sleep(0.05)
for p in peers:
    host, port = p.rsplit(":", 1)
    h.connect_peer((host, int(port)), 0)
t0 = time.time()
while not h.status().is_seeding:
    report()
    expired()
    time.sleep(0.02)
report()
print("complete %.3f" % (time.time() - t0), flush=True)
