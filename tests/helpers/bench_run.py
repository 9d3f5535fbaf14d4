#!/usr/bin/python3
"""bench_run.py [--done-file PATH] [--done-line REGEX] [--at-done CMD]
[--grace S] TIMEOUT CMD...

Run CMD in its own session and print one line:

  wall_s cpu_s peak_rss_kib status exit_wall_s exit_cpu_s exit_status check
  peak_anon_kib peak_pss_kib

wall_s and cpu_s run to the DONE MARKER: the moment PATH appears (a
client's completion hook touches it; polled every 10 ms) or a line of
CMD's stdout matches REGEX (read as it comes). Without a marker they run to
CMD's exit. cpu_s is the user+system CPU of the whole process tree up to
that moment: every process of the session is stopped (SIGSTOP) at once,
then we add, for each, its own CPU and that of the children it has reaped
(/proc/PID/stat utime, stime, cutime, cstime), to the rusage of what we
reaped ourselves. We are the tree's child subreaper, so orphans come back
to us and nothing is lost; a stopped tree cannot reap, so nothing is
counted twice or missed between two reads. (This rather than killing the
tree at the marker, so that it can go on to its exit, timed too, as a
check of the marker.) Memory, each the peak of a sum over the session's
processes, sampled up to the marker and once more in the stopped tree at
the marker: peak_pss_kib, the honest figure, sums PSS
(/proc/PID/smaps_rollup: each page divided among the processes that map
it, so libcrypto or libc shared by five processes counts once in all,
not five times; page cache a client maps counts, as it is memory the
client holds); peak_rss_kib sums RSS (every shared page once per process
that maps it: an overstatement for a tree of small processes);
peak_anon_kib sums RSS without file-backed and shared pages (statm
resident - shared): no shared libraries, and no page cache that a client
maps (libtorrent 2 maps the files it writes, all in its RSS). RSS is
sampled every 50 ms; PSS as often but within PSS_SHARE of a core:
smaps_rollup walks the page tables (4-5 ms for a process mapping 1 GiB,
as libtorrent does), and a sampler that took a tenth of a core would slow
such a client more than another. With --at-done, CMD runs while
the tree is stopped (for instance `cmp payload out/payload`: is the data
in the files when the clock stops?) and check is its exit status ("-"
without it). A process that leaves the session (setsid) is not seen.

Then the tree is continued and runs to its own exit, at most --grace
seconds (default 60) more, then killed: exit_wall_s and exit_cpu_s are to
that exit (the time stopped is not counted), exit_status its status
(137 if killed). Processes of the session left after CMD exits are
killed and counted.

status: 0 when the marker was seen (or, without a marker, CMD's exit
status), 124 when TIMEOUT seconds passed first (all killed), 125 when CMD
exited without the marker."""
import ctypes
import os
import re
import select
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
TICK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
RSS_EVERY = 0.05	# s between RSS samples: cheap enough, fine enough
PSS_SHARE = 0.02	# of a core at most for PSS samples (see above)
POLL = 0.01		# s between looks at a done file: 0.1-0.2% of a 5 s run


def session_stats(sid, others=None):
    """{pid: stat fields after the command name} of the session's
    processes. others, a set, caches the pids seen outside the session so
    that most samples read only ours (a whole scan costs milliseconds on
    a busy machine); the caller empties it every second, as pids wrap."""
    procs = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or (others is not None and pid in others):
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 14 and int(fields[3]) == sid:  # field 6: session
            procs[int(pid)] = fields
        elif others is not None:
            others.add(pid)
    return procs


def session_pss(sid, others):
    """PSS of the session, KiB"""
    total = 0
    for pid in session_stats(sid, others):
        try:
            total += pss_kib(pid)
        except (OSError, IndexError, ValueError):
            pass
    return total


def pss_kib(pid):
    """Proportional set size of a process, KiB (0 if it is gone)"""
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def session_rss(sid, others):
    """(RSS, RSS less shared pages) of the session, KiB"""
    total = anon = 0
    for pid in session_stats(sid, others):
        try:
            with open("/proc/%d/statm" % pid) as f:
                col = f.read().split()
            total += int(col[1]) * PAGE_KIB
            anon += (int(col[1]) - int(col[2])) * PAGE_KIB
        except (OSError, IndexError, ValueError):
            pass
    return total, anon


def signal_session(sid, sig):
    for pid in session_stats(sid):
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def freeze(sid):
    """Stop every process of the session; a child forked meanwhile is
    caught by the next pass. A process in D (uninterruptible) state that
    was sent SIGSTOP counts as stopped: it uses no CPU and stops as it
    leaves that state, and a vfork parent stays in it until its (now
    stopped) child execs. Returns the stopped pids."""
    stopped = set()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        running = [p for p, f in session_stats(sid).items()
                   if f[0] not in "TtZX" and
                   not (f[0] == "D" and p in stopped)]
        if not running:
            break
        for p in running:
            try:
                os.kill(p, signal.SIGSTOP)
                stopped.add(p)
            except OSError:
                pass
        time.sleep(0.001)
    return stopped


def tree_cpu(sid):
    """CPU seconds of the (stopped) session's processes and their reaped
    children: fields 14-17 of /proc/PID/stat."""
    ticks = 0
    for f in session_stats(sid).values():
        ticks += sum(int(x) for x in f[11:15])
    return ticks / TICK


def main(argv):
    done_file = done_line = at_done = None
    grace = 60.0
    while argv and argv[0].startswith("--"):
        opt = argv.pop(0)
        if opt == "--":
            break
        if not argv:
            sys.exit("bench_run: %s needs a value" % opt)
        val = argv.pop(0)
        if opt == "--done-file":
            done_file = val
        elif opt == "--done-line":
            done_line = re.compile(val.encode())
        elif opt == "--at-done":
            at_done = val
        elif opt == "--grace":
            grace = float(val)
        else:
            sys.exit("bench_run: unknown option %s" % opt)
    if len(argv) < 2:
        sys.exit(__doc__)
    timeout = float(argv[0])
    cmd = argv[1:]
    marker = done_file is not None or done_line is not None
    if done_file is not None and os.path.lexists(done_file):
        os.unlink(done_file)

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    rfd, wfd = os.pipe()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            # Python ignores these; the command must not inherit that.
            for sig in (signal.SIGPIPE, signal.SIGXFSZ):
                signal.signal(sig, signal.SIG_DFL)
            os.dup2(wfd if done_line is not None else
                    os.open(os.devnull, os.O_WRONLY), 1)
            os.close(rfd)
            os.close(wfd)
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    os.close(wfd)
    os.set_blocking(rfd, False)

    reaped = 0.0	# CPU-s of the processes we reaped (and theirs)
    status = None	# CMD's exit status
    peak = peak_anon = peak_pss = 0
    others = set()	# pids outside the session, not to read again
    next_scan = t0	# when to forget them (pids are reused)
    next_rss = t0 + RSS_EVERY	# not the copy of us before exec
    next_pss = next_rss
    buf = b""
    t_done = None	# when the marker was seen
    done = None		# (wall, cpu, peak, check) at the marker
    stopped_for = 0.0	# seconds the tree was stopped
    t_thaw = None
    timed_out = killed = False

    def reap():
        nonlocal reaped, status
        while True:
            try:
                p, st, ru = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if p == 0:
                return
            reaped += ru.ru_utime + ru.ru_stime
            if p == pid:
                status = os.waitstatus_to_exitcode(st)
                if status < 0:
                    status = 128 - status

    while status is None:
        now = time.monotonic()
        if done is None and now >= next_rss:
            if now >= next_scan:
                others.clear()
                next_scan = now + 1
            rss, anon = session_rss(pid, others)
            peak = max(peak, rss)
            peak_anon = max(peak_anon, anon)
            next_rss = now + RSS_EVERY
            if now >= next_pss:
                peak_pss = max(peak_pss, session_pss(pid, others))
                cost = time.monotonic() - now
                next_pss = now + max(RSS_EVERY, cost / PSS_SHARE)
        if done is None and now - t0 > timeout:
            timed_out = True
            signal_session(pid, signal.SIGKILL)
        if done is not None and now - t_thaw > grace and not killed:
            killed = True
            signal_session(pid, signal.SIGKILL)
        if rfd is not None:
            r, _, _ = select.select([rfd], [], [], POLL)
            if r:
                chunk = os.read(rfd, 65536)
                if not chunk:
                    os.close(rfd)
                    rfd = None
                elif done_line is not None and done is None:
                    buf += chunk
                    lines = buf.split(b"\n")
                    buf = lines.pop()
                    if any(done_line.search(ln) for ln in lines):
                        t_done = time.monotonic()
        else:
            time.sleep(POLL)
        if done is None and done_file is not None and \
                os.path.lexists(done_file):
            t_done = time.monotonic()
        if done is None and t_done is not None:
            # The clock stops here: stop the tree, count, check, go on.
            stopped = freeze(pid)
            # The last sample, in the stopped tree: what it holds at the end.
            rss, anon = session_rss(pid, None)
            peak = max(peak, rss)
            peak_anon = max(peak_anon, anon)
            peak_pss = max(peak_pss, session_pss(pid, None))
            cpu = reaped + tree_cpu(pid)
            check = "-"
            if at_done is not None:
                check = str(subprocess.run(at_done, shell=True).returncode)
            t_thaw = time.monotonic()
            stopped_for = t_thaw - t_done
            for p in stopped:
                try:
                    os.kill(p, signal.SIGCONT)
                except OSError:
                    pass
            done = (t_done - t0, cpu, peak, check)
        reap()

    t_exit = time.monotonic()
    if done is None and not timed_out:
        # The marker may have come as CMD exited, between two looks: then
        # the exit is the best bound we have.
        if rfd is not None and done_line is not None:
            try:
                while True:
                    chunk = os.read(rfd, 65536)
                    if not chunk:
                        break
                    buf += chunk
            except BlockingIOError:
                pass
            if any(done_line.search(ln) for ln in buf.split(b"\n")):
                t_done = t_exit
        if done_file is not None and os.path.lexists(done_file):
            t_done = t_exit
        if t_done is not None:
            check = "-"
            if at_done is not None:
                check = str(subprocess.run(at_done, shell=True).returncode)
            done = (t_exit - t0, None, peak, check)
    # What is left of the session is ours to end (and count).
    deadline = t_exit + 10
    while time.monotonic() < deadline:
        signal_session(pid, signal.SIGKILL)
        reap()
        try:
            if os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG |
                         os.WNOWAIT) is None and not session_stats(pid):
                break
        except ChildProcessError:
            break
        time.sleep(0.01)
    exit_wall = t_exit - t0 - stopped_for
    if done is not None and done[1] is None:
        done = (done[0], reaped, done[2], done[3])
    if timed_out and done is None:
        code, done = 124, (exit_wall, reaped, peak, "-")
    elif done is None:
        code = 125 if marker else status
        done = (exit_wall, reaped, peak, "-")
    else:
        code = 0
    if killed:
        status = 137
    print("%.3f %.3f %d %d %.3f %.3f %d %s %d %d" % (
        done[0], done[1], done[2], code, exit_wall, reaped, status, done[3],
        peak_anon, peak_pss))


main(sys.argv[1:])
