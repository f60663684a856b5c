#!/usr/bin/python3
"""tests/fake_docker.py: a fake Docker Engine API on a unix socket, for the
tests of flowmon's Docker source (tests/it_docker.sh, tests/it_silence.sh;
stdlib only).

    fake_docker.py SOCKET CTL

Serves from JSON files in the directory CTL, which the test edits (replace
them whole, so no half file is ever read):

  GET /services        services.json, filtered by the "label" filter; each
                       service's ServiceStatus only with status=true, as
                       Docker gives it (Engine API 1.41)
  GET /services/<id>   one of them (by ID or name), never its ServiceStatus;
                       404 with Docker's JSON error when unknown
  GET /tasks           tasks.json, filtered by "service" and "desired-state"
  GET /nodes           nodes.json
  GET /events          a stream of the lines appended to events.jsonl after
                       the connection opened

Every request's path is appended to CTL/requests.log, every opened event
stream adds "connected" to CTL/streams.log. A file CTL/mode holding "error"
makes every answer but the stream a 500, "garbage" a 200 that is not JSON;
CTL/mode.services does the same for GET /services alone (the others
answer). A file CTL/services.raw is the body of GET /services as it is
(a hostile answer: a 10 MB junk list, say).
"""
import http.server
import json
import os
import socketserver
import sys
import time
import urllib.parse

SOCK, CTL = sys.argv[1], sys.argv[2]


def load(name):
    with open(os.path.join(CTL, name)) as f:
        return json.load(f)


def without_status(svc):
    return {k: v for k, v in svc.items() if k != "ServiceStatus"}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def address_string(self):
        return "unix"

    def log_message(self, *args):
        pass

    def reply(self, code, obj=None, raw=None):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        filters = json.loads(q["filters"][0]) if "filters" in q else {}
        with open(os.path.join(CTL, "requests.log"), "a") as f:
            f.write(self.path + "\n")
        if u.path == "/events":
            return self.events()
        mode = ""
        if os.path.exists(os.path.join(CTL, "mode")):
            mode = open(os.path.join(CTL, "mode")).read().strip()
        if u.path == "/services" and os.path.exists(
                os.path.join(CTL, "mode.services")):
            mode = open(os.path.join(CTL, "mode.services")).read().strip()
        if mode == "garbage":
            return self.reply(200, raw=b"<html>not json</html>")
        if mode == "error":
            return self.reply(500, {"message": "engine trouble"})
        if u.path == "/services" and os.path.exists(
                os.path.join(CTL, "services.raw")):
            with open(os.path.join(CTL, "services.raw"), "rb") as f:
                return self.reply(200, raw=f.read())
        if u.path == "/nodes":
            return self.reply(200, load("nodes.json"))
        if u.path == "/services":
            svcs = load("services.json")
            for lab in filters.get("label", []):
                k, eq, v = lab.partition("=")
                svcs = [s for s in svcs if k in s["Spec"].get("Labels", {})
                        and (not eq or s["Spec"]["Labels"][k] == v)]
            if q.get("status", [""])[0] != "true":
                svcs = [without_status(s) for s in svcs]
            return self.reply(200, svcs)
        if u.path.startswith("/services/"):
            sid = u.path[len("/services/"):]
            for s in load("services.json"):
                if s["ID"] == sid or s["Spec"]["Name"] == sid:
                    return self.reply(200, without_status(s))
            return self.reply(404, {"message": "service %s not found" % sid})
        if u.path == "/tasks":
            tasks = load("tasks.json")
            if "service" in filters:
                tasks = [t for t in tasks if t["ServiceID"] in filters["service"]]
            if "desired-state" in filters:
                tasks = [t for t in tasks
                         if t["DesiredState"] in filters["desired-state"]]
            return self.reply(200, tasks)
        self.reply(404, {"message": "page not found"})

    def events(self):
        path = os.path.join(CTL, "events.jsonl")
        pos = os.path.getsize(path) if os.path.exists(path) else 0
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        with open(os.path.join(CTL, "streams.log"), "a") as f:
            f.write("connected\n")
        try:
            while True:
                if os.path.exists(path) and os.path.getsize(path) > pos:
                    with open(path, "rb") as f:
                        f.seek(pos)
                        data = f.read()
                    end = data.rfind(b"\n") + 1
                    if end > 0:
                        chunk = data[:end]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()
                        pos += end
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            return


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


if os.path.exists(SOCK):
    os.unlink(SOCK)
Server(SOCK, Handler).serve_forever()
