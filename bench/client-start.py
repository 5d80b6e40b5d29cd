#!/usr/bin/env python3
import os, pty, sys, time, select, signal, subprocess
# Usage: bench/client-start.py PORT [RUNS]  (a server on 127.0.0.1:PORT started with --plaintext;
# JAVA_OPTS passes extra JVM flags through bin/parley). Runs bin/parley in a pseudo-terminal
# (80x24, TERM=xterm-256color, PARLEY_HOME in a temporary directory), times it to the first
# prompt ("Username: ") and reads the CPU it used by then, waits 3 s idle, then reads the resident
# set (VmRSS) and thread count from /proc. See docs/performance.md, "Terminal client start and idle".
import tempfile
parley = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bin", "parley")
home = tempfile.mkdtemp(prefix="parley-home-")
port = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
res = []
for r in range(runs):
    t0 = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["PARLEY_HOME"] = home; os.environ["TERM"] = "xterm-256color"
        os.execv(parley, ["parley", "127.0.0.1", port, "--plaintext"])
    import fcntl, termios, struct
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    buf = b""
    while b"Username: " not in buf:
        rl, _, _ = select.select([fd], [], [], 10)
        if not rl: break
        buf += os.read(fd, 4096)
    t = time.monotonic() - t0
    st = open(f"/proc/{pid}/stat").read().rsplit(")",1)[1].split()
    cpu = (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")
    time.sleep(3)
    status = open(f"/proc/{pid}/status").read()
    rss = [l for l in status.splitlines() if l.startswith("VmRSS")][0].split()[1]
    thr = [l for l in status.splitlines() if l.startswith("Threads")][0].split()[1]
    os.kill(pid, signal.SIGTERM); os.waitpid(pid, 0)
    res.append((t, int(rss)/1024, int(thr), cpu))
    print(f"run {r+1}: first prompt {t:.2f} s (CPU {cpu:.2f} s), idle RSS {int(rss)/1024:.0f} MB, threads {thr}")
import statistics
print("min prompt %.2f s; median CPU to prompt %.2f s" % (min(x[0] for x in res), statistics.median([x[3] for x in res])))
print("median: prompt %.2f s, RSS %.0f MB, threads %d" % (statistics.median([x[0] for x in res]), statistics.median([x[1] for x in res]), statistics.median([x[2] for x in res])))
