#!/usr/bin/env python3
"""multiport.py PORT...: one process serving GET /metrics on 127.0.0.1 at
every PORT given, so a test has many distinct scrape targets cheaply. Each
answer is a few series in the Prometheus text format, with the port in
one of them. Runs until killed (SIGTERM)."""
import http.server
import signal
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.split("?")[0] != "/metrics":
            self.send_error(404)
            return
        port = self.server.server_address[1]
        body = ("# TYPE multiport_up gauge\n"
                "multiport_up 1\n"
                "# TYPE multiport_port gauge\n"
                "multiport_port %d\n" % port).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", int(p)), Handler)
               for p in sys.argv[1:]]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    signal.pause()


if __name__ == "__main__":
    main()
