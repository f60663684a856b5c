#!/usr/bin/env python3
"""started.py URL PID T0_NS N: waits until the flowmon at URL (process PID,
exec'd at T0_NS, date +%s%N) is started as a user sees it, and prints
"wall_ms cpu_ms rss_anon_kB services" for that moment:

  wall_ms   from T0_NS to the answer of /services that listed all N
            services on disk (the /metrics answer that showed the first
            scan of targets/ and rules/ done, if that came later)
  cpu_ms    the process's user + system time by then (/proc/PID/stat):
            steadier than wall_ms on a busy machine
  rss_anon  RssAnon of /proc/PID/status (private memory) by then

It polls every 5 ms from this one process, so the wait itself costs the
machine little (a loop of curl processes would take a core from the
daemon being timed). Exits 1 if PID dies, or after 900 s."""
import json
import os
import sys
import time
import urllib.error
import urllib.request

url, pid, t0, want = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4])
deadline = time.time() + 900
tick = os.sysconf("SC_CLK_TCK")


def alive():
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def get(path):
    """The body of url+path, or None when flowmon does not answer 2xx."""
    try:
        with urllib.request.urlopen(url + path, timeout=60) as r:
            return r.read()
    except (urllib.error.URLError, ConnectionError, OSError):
        return None


def scanned(body):
    for line in body.decode().splitlines():
        if line.startswith("flowmon_files_scans_total "):
            return float(line.split()[1]) >= 1
    return False


def wait(path, ok):
    """Polls path until ok(body); the time its answer arrived (ns)."""
    while True:
        if not alive() or time.time() > deadline:
            sys.exit(1)
        body = get(path)
        t = time.time_ns()
        if body is not None and ok(body):
            return t
        time.sleep(0.005)


t_listed = wait("/v1/docker-flow-monitor/services",
                lambda b: len(json.loads(b)) >= want)
t_scanned = wait("/metrics", scanned)
with open("/proc/%d/stat" % pid) as f:
    # The fields after the command name, which may hold spaces.
    fields = f.read().rsplit(")", 1)[1].split()
cpu_ms = (int(fields[11]) + int(fields[12])) * 1000 // tick
rss = 0
with open("/proc/%d/status" % pid) as f:
    for line in f:
        if line.startswith("RssAnon:"):
            rss = int(line.split()[1])
print((max(t_listed, t_scanned) - t0) // 1000000, cpu_ms, rss, want)
