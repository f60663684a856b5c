#!/usr/bin/env python3
"""started.py: how long a flowmon takes until it is started as a user sees
it, printed as "pid wall_ms cpu_ms rss_anon_kB":

  started.py URL N LOG -- FLOWMON ARGS...
      starts FLOWMON ARGS (output appended to LOG; it keeps running after
      this script exits) and times it from just before the exec
  started.py URL N --after-kill VICTIM PID
      SIGKILLs VICTIM and times PID (a --standby) from the kill

  wall_ms   to the answer of /services that listed all N services on disk
            (or the /metrics answer that showed the first scan of
            targets/ and rules/ done, if that came later)
  cpu_ms    the process's user + system time by then (/proc/PID/stat):
            steadier than wall_ms on a busy machine
  rss_anon  RssAnon of /proc/PID/status (private memory) by then

It polls every 5 ms from this one process, which is started before the
clock starts, so neither its own start nor the wait costs the daemon
timed a core (a loop of curl processes would). Exits 1 if PID dies, or
after 900 s."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

url, want = sys.argv[1], int(sys.argv[2])
if sys.argv[3] == "--after-kill":
    victim, pid = int(sys.argv[4]), int(sys.argv[5])
    t0 = time.time_ns()
    os.kill(victim, signal.SIGKILL)
else:
    with open(sys.argv[3], "ab") as log:
        t0 = time.time_ns()
        pid = subprocess.Popen(sys.argv[5:], stdin=subprocess.DEVNULL,
                               stdout=log, stderr=log,
                               start_new_session=True).pid
deadline = time.time() + 900
tick = os.sysconf("SC_CLK_TCK")


def alive():
    try:
        # A child of ours that exited is a zombie until reaped.
        if sys.argv[3] != "--after-kill" and \
                os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
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
            print(pid)
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
print(pid, (max(t_listed, t_scanned) - t0) // 1000000, cpu_ms, rss)
