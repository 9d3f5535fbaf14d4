#!/usr/bin/python3
"""tree_stats.py TIMEOUT CMD...: run CMD in its own session; every 100 ms
sample its processes (the session's); at the end print one "key value"
line each:
  wall_s      wall time
  cpu_s       user+system CPU of the whole tree (every descendant is
              reaped by its parent, so counted in RUSAGE_CHILDREN)
  rss_kib     peak of the summed RSS of the session's processes
  pss_kib     the same in PSS (shared pages divided among their users)
  peer_rss_kib  peak RSS of one btpeer
  max_rss_kib peak RSS of one process, and max_rss_comm its name
  fds         peak of the summed open descriptors
  procs       peak number of processes
  exit        CMD's exit status (124: killed after TIMEOUT seconds)"""
import os
import resource
import signal
import subprocess
import sys
import time


def sample(sid):
    rss = fds = procs = top = pss = peer = 0
    comm = ""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                head, tail = f.read().rsplit(")", 1)
            if int(tail.split()[3]) != sid:
                continue
            with open("/proc/%s/statm" % pid) as f:
                r = int(f.read().split()[1]) * 4
            n = len(os.listdir("/proc/%s/fd" % pid))
            with open("/proc/%s/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                        break
        except (OSError, IndexError, ValueError):
            continue
        if head.endswith("(btpeer") and r > peer:
            peer = r
        rss += r
        fds += n
        procs += 1
        if r > top:
            top, comm = r, head.split("(", 1)[1]
    return rss, fds, procs, top, comm, pss, peer


timeout = float(sys.argv[1])
t0 = time.time()
p = subprocess.Popen(sys.argv[2:], start_new_session=True)
peak = [0, 0, 0, 0, "", 0, 0]
code = None
while code is None:
    s = sample(p.pid)
    for k in range(4):
        if s[k] > peak[k]:
            peak[k] = s[k]
            if k == 3:
                peak[4] = s[4]
    peak[5] = max(peak[5], s[5])
    peak[6] = max(peak[6], s[6])
    if time.time() - t0 > timeout:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        code = 124
        break
    time.sleep(0.1)
    code = p.poll()
wall = time.time() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print("wall_s %.2f" % wall)
print("cpu_s %.2f" % (ru.ru_utime + ru.ru_stime))
print("rss_kib %d" % peak[0])
print("pss_kib %d" % peak[5])
print("peer_rss_kib %d" % peak[6])
print("max_rss_kib %d" % peak[3])
print("max_rss_comm %s" % peak[4])
print("fds %d" % peak[1])
print("procs %d" % peak[2])
print("exit %d" % code)
