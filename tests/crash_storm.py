#!/usr/bin/python3
"""tests/crash_storm.py: the client side of tests/it_crash.sh (stdlib only).

    crash_storm.py storm  URL PID LOG SEED   a storm of reconfigures and
        removes from parallel clients; SIGKILLs flowmon (PID) at a random
        moment, keeps sending until the connection is refused, and appends
        every request and its outcome to LOG (JSON lines).
    crash_storm.py verify URL DATA LOG        checks flowmon (restarted on
        DATA) against LOG: every service is in a state some request could
        have left it in, and the files under DATA agree with that state.

Which states are allowed. A request X for a service is a candidate for the
service's current state unless an acknowledged request Y for it was sent
after X ended (Y was applied after X, so X's state is gone). X ends when
its 200 arrives, or, without an answer, when flowmon was killed: it may
have been applied or not, up to that moment. A refused connection never
reached flowmon. The last acknowledged request is always a candidate, as
is any request sent after it: exactly the rule "last acknowledged, or one
in flight when the kill came". Times are CLOCK_MONOTONIC, shared by every
process of the machine.
"""
import http.client
import json
import os
import random
import signal
import sys
import threading
import time
import urllib.parse

API = "/v1/docker-flow-monitor"
SERVICES = ["crash-web", "crash_api", "crash.db", "go-demo_main", "exporter",
            "cache-7", "queue", "auth_v2"]
CLIENTS = 6
# PromQL promtool accepts, raw and as @shortcuts.
EXPRS = [
    "up == 0",
    'sum by (instance) (rate(http_requests_total{code=~"5.."}[5m])) > 1',
    "vector(1) > 0",
    'absent(up{job="x"})',
    "@service_mem_limit:0.8",
    "@resp_time_above:0.1,5m,0.99",
    "@service_down",
    "@replicas_running",
    "@service_mem_limit:0.9_and_@service_down",
]
DURATIONS = ["30s", "1m", "5m", "1h30m"]


def now():
    return time.monotonic_ns()


def random_reconfigure(rng, name):
    """The parameters of a random valid reconfigure, canonical spelling."""
    p = {"serviceName": name}
    kind = rng.randrange(4)
    if kind == 0:
        p["scrapePort"] = str(rng.randrange(1024, 65536))
        p["targets"] = ",".join(sorted({"127.0.0.%d:%d" % (
            rng.randrange(1, 5), rng.randrange(9000, 9010))
            for _ in range(rng.randrange(1, 4))}))
    elif kind == 1:
        p["scrapePort"] = str(rng.randrange(1024, 65536))
        p["nodeInfo"] = json.dumps([["node-%d" % i, "10.0.0.%d" % i,
                                     "id%d" % i]
                                    for i in range(rng.randrange(0, 4))])
    elif kind == 2:
        p["scrapePort"] = str(rng.randrange(1024, 65536))
        p["scrapeType"] = "static_configs"
    if rng.random() < 0.3:
        p["scrapeInterval"] = rng.choice(["5s", "15s"])
    if rng.random() < 0.3:
        p["metricsPath"] = rng.choice(["/metrics", "/internal/metrics"])
    p["replicas"] = str(rng.randrange(1, 6))
    # 0..5 alerts: the unindexed one and/or indexed ones, with gaps.
    idxs = rng.sample([0, 1, 2, 3, 5, 9, 100], rng.randrange(0, 6))
    for i in idxs:
        sfx = "" if i == 0 else ".%d" % i
        p["alertName" + sfx] = rng.choice(["mem", "resp-time", "down",
                                           "a%d" % i, "err:rate"]) + str(i)
        p["alertIf" + sfx] = rng.choice(EXPRS)
        if rng.random() < 0.5:
            p["alertFor" + sfx] = rng.choice(DURATIONS)
        if rng.random() < 0.3:
            p["alertLabels" + sfx] = "severity=%s,team=t%d" % (
                rng.choice(["page", "warn"]), rng.randrange(3))
        if rng.random() < 0.2:
            p["alertAnnotations" + sfx] = "summary=it is: %d # down" % i
        if rng.random() < 0.25:
            p["alertPersistent" + sfx] = "true"
    return p


def send(url, op, params, use_body):
    """One request. Returns (HTTP status or None, outcome, body)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    q = urllib.parse.urlencode(params)
    path = API + "/" + op
    try:
        if use_body:
            conn.request("POST", path, body=q, headers={
                "Content-Type": "application/x-www-form-urlencoded"})
        else:
            conn.request("GET", path + "?" + q)
        r = conn.getresponse()
        return r.status, "answered", r.read().decode("utf-8", "replace")
    except ConnectionRefusedError:
        return None, "refused", ""
    except (OSError, http.client.HTTPException) as e:
        # Reset, empty reply, broken pipe: it may have been applied.
        return None, "lost", repr(e)
    finally:
        conn.close()


def storm(url, pid, log, seed):
    rng = random.Random(seed)
    kill_after = rng.uniform(0.05, 1.5)
    records = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(k):
        crng = random.Random(seed * 100 + k)
        while not stop.is_set():
            name = crng.choice(SERVICES)
            if crng.random() < 0.2:
                op, params = "remove", {"serviceName": name}
            else:
                op, params = "reconfigure", random_reconfigure(crng, name)
            t0 = now()
            status, outcome, body = send(url, op, params,
                                         crng.random() < 0.3)
            t1 = now()
            with lock:
                records.append({"service": name, "op": op, "params": params,
                                "sent": t0, "done": t1, "status": status,
                                "outcome": outcome, "body": body[:300]})
            if outcome == "refused":
                return

    threads = [threading.Thread(target=client, args=(k,))
               for k in range(CLIENTS)]
    for t in threads:
        t.start()
    time.sleep(kill_after)
    os.kill(pid, signal.SIGKILL)
    killed = now()
    # Keep sending: every client must meet the refused connection, so no
    # request can still be on its way in when the next flowmon starts.
    for t in threads:
        t.join(60)
    stop.set()
    acked = sum(1 for r in records if r["status"] == 200)
    lost = sum(1 for r in records if r["outcome"] == "lost")
    bad = [r for r in records if r["outcome"] == "answered" and
           r["status"] != 200]
    with open(log, "a") as f:
        for r in records:
            r["killed"] = killed
            f.write(json.dumps(r) + "\n")
    print("storm: %d requests, %d acknowledged, %d lost in the kill, "
          "kill after %.2f s" % (len(records), acked, lost, kill_after))
    for r in bad[:5]:
        print("storm: %s %s answered %s: %s" % (r["op"], r["service"],
                                                r["status"], r["body"]))
    return 1 if bad else 0


def persistent(params):
    return any(k.startswith("alertPersistent") and v == "true"
               for k, v in params.items())


def norm_params(p):
    """Params compared as a dict, nodeInfo as a set of tasks."""
    q = dict(p)
    if "nodeInfo" in q:
        q["nodeInfo"] = sorted(tuple(t) for t in json.loads(q["nodeInfo"]))
    return q


def candidates(reqs):
    """The requests that may have left the service in its current state."""
    last_sent = max((r["sent"] for r in reqs if r["status"] == 200),
                    default=-1)
    out = []
    for x in reqs:
        if x["outcome"] == "refused":
            continue
        end = x["done"] if x["status"] == 200 else x["killed"]
        if last_sent > end:
            continue
        out.append(x)
    return out


def state_matches(x, reqs, got):
    """got (GET services/<name>: (status, JSON or None)) is what x leaves."""
    code, j = got
    if x["op"] == "reconfigure":
        return (code == 200 and j.get("status") == "active" and
                norm_params(j.get("params", {})) == norm_params(x["params"]))
    if code == 404:
        return True
    # A remove keeps a service with persistent alerts as "removed", with
    # the params of a reconfigure that came before it.
    return (code == 200 and j.get("status") == "removed" and
            any(z["op"] == "reconfigure" and persistent(z["params"]) and
                z["sent"] < (x["done"] if x["status"] == 200 else
                             x["killed"]) and
                norm_params(z["params"]) ==
                norm_params(j.get("params", {})) for z in reqs))


def get(url, path):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        return r.status, (json.loads(body) if r.status == 200 else None)
    finally:
        conn.close()


def check_files(data, name, code, j, problems):
    """The files of a service agree with its state."""
    tf = os.path.join(data, "targets", name + ".json")
    rf = os.path.join(data, "rules", name + ".yml")
    sf = os.path.join(data, "state", name + ".json")
    if code == 404:
        for f in (tf, rf, sf):
            if os.path.exists(f):
                problems.append("%s: unknown to flowmon but %s exists" %
                                (name, f))
        return
    if not os.path.exists(sf):
        problems.append("%s: known but no %s" % (name, sf))
    alerts = [a["alert"] for a in j.get("alerts", [])]
    if alerts and not os.path.exists(rf):
        problems.append("%s: %d alerts but no rule file" % (name,
                                                             len(alerts)))
    if not alerts and os.path.exists(rf):
        problems.append("%s: no alerts but a rule file" % name)
    if os.path.exists(rf):
        try:
            import yaml
        except ImportError:
            yaml = None
        if yaml is not None:
            with open(rf) as f:
                doc = yaml.safe_load(f)
            names = [r["alert"] for r in doc["groups"][0]["rules"]]
            if names != alerts or doc["groups"][0]["name"] != name:
                problems.append("%s: rule file has %s, flowmon says %s" %
                                (name, names, alerts))
    if j.get("status") == "removed" and os.path.exists(tf):
        problems.append("%s: removed but %s exists" % (name, tf))
    if os.path.exists(tf):
        with open(tf) as f:
            groups = json.load(f)
        if not groups or any(g["labels"].get("job") != name
                             for g in groups):
            problems.append("%s: target file does not match" % name)


def verify(url, data, log):
    with open(log) as f:
        recs = [json.loads(line) for line in f if line.strip()]
    problems = []
    n_acked = sum(1 for r in recs if r["status"] == 200)
    for name in SERVICES:
        reqs = sorted((r for r in recs if r["service"] == name),
                      key=lambda r: r["sent"])
        got = get(url, API + "/services/" + urllib.parse.quote(name))
        cands = candidates(reqs)
        # With nothing acknowledged yet, none of the requests in flight may
        # have been applied: the service may still be unknown.
        acked = any(r["status"] == 200 for r in reqs)
        if not cands:
            ok = got[0] == 404
        else:
            ok = (any(state_matches(x, reqs, got) for x in cands) or
                  (not acked and got[0] == 404))
        if not ok:
            last = [r for r in reqs if r["status"] == 200][-1:]
            problems.append(
                "%s: state %s %s matches none of %d candidate requests "
                "(last acknowledged: %s)" % (
                    name, got[0], json.dumps(got[1])[:400], len(cands),
                    json.dumps(last)[:600]))
        check_files(data, name, got[0], got[1] or {}, problems)
    # Every file under targets/ and rules/ (and flowmon's own records)
    # parses; no temp file is left.
    for sub in ("targets", "rules", "state", "nodes", "rejected"):
        d = os.path.join(data, sub)
        if not os.path.isdir(d):
            continue
        for fn in os.listdir(d):
            path = os.path.join(d, fn)
            if ".tmp." in fn:
                problems.append("temp file left after start: " + path)
                continue
            if fn.endswith(".json"):
                try:
                    with open(path) as f:
                        json.load(f)
                except ValueError as e:
                    problems.append("%s: not JSON: %s" % (path, e))
            elif fn.endswith(".yml"):
                try:
                    import yaml
                    with open(path) as f:
                        yaml.safe_load(f)
                except ImportError:
                    pass
                except Exception as e:
                    problems.append("%s: not YAML: %s" % (path, e))
    for p in problems:
        print("verify: " + p)
    print("verify: %d services, %d acknowledged requests so far, %s" % (
        len(SERVICES), n_acked, "ok" if not problems else
        "%d problems" % len(problems)))
    return 1 if problems else 0


def main(argv):
    if len(argv) == 6 and argv[1] == "storm":
        return storm(argv[2], int(argv[3]), argv[4], int(argv[5]))
    if len(argv) == 5 and argv[1] == "verify":
        return verify(argv[2], argv[3], argv[4])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
