#!/usr/bin/python3
"""bench_run.py TIMEOUT CMD...: run CMD in its own session and print
"wall_s cpu_s peak_rss_kib exit": wall time, user+system CPU of the whole
process tree (every descendant is reaped by its parent, so it is counted
in RUSAGE_CHILDREN), and the peak of the summed RSS of the session's
processes, sampled every 50 ms. Killed after TIMEOUT seconds (exit 124)."""
import os
import resource
import signal
import subprocess
import sys
import time


def session_rss(sid):
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[3]) != sid:	# field 6 (session), after the name
                continue
            with open("/proc/%s/statm" % pid) as f:
                total += int(f.read().split()[1]) * 4
        except (OSError, IndexError, ValueError):
            pass
    return total


timeout = float(sys.argv[1])
before = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.time()
p = subprocess.Popen(sys.argv[2:], start_new_session=True,
                     stdout=subprocess.DEVNULL)
peak = 0
while p.poll() is None:
    peak = max(peak, session_rss(p.pid))
    if time.time() - t0 > timeout:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        break
    time.sleep(0.05)
wall = time.time() - t0
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
code = 124 if wall > timeout else p.returncode
print("%.3f %.3f %d %d" % (wall, cpu, peak, code))
