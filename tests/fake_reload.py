#!/usr/bin/python3
"""tests/fake_reload.py: a stand-in for Prometheus's /-/reload that checks
credentials, for tests/it_secrets.sh (stdlib only).

    fake_reload.py PORT LOG EXPECT

Listens on 127.0.0.1:PORT. Every POST /-/reload is answered 200 when its
Authorization header is exactly EXPECT (e.g. "Basic dTpw" or "Bearer tok"),
401 otherwise; each request appends one line to LOG: "<status> <the
Authorization header, or -> ". Anything else is 404.
"""
import http.server
import sys

PORT = int(sys.argv[1])
LOG = sys.argv[2]
EXPECT = sys.argv[3]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        got = self.headers.get("Authorization", "-")
        if self.path != "/-/reload":
            status = 404
        elif got == EXPECT:
            status = 200
        else:
            status = 401
        with open(LOG, "a", encoding="utf-8") as f:
            f.write("%d %s\n" % (status, got))
        body = b"ok\n" if status == 200 else b"unauthorized\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
