#!/usr/bin/python3
"""tests/http_faults.py: the misbehaving clients of tests/it_faults.sh, on
raw sockets (stdlib only), since curl refuses to send most of them.

    http_faults.py headers PORT BYTES     one request with BYTES of headers
    http_faults.py body PORT BYTES MODE   a reconfigure with a BYTES body;
        MODE length (Content-Length, whole body sent), expect (Content-Length
        and Expect: 100-continue: the body is sent only after a 100), or
        chunked (Transfer-Encoding: chunked, 64 KiB chunks)
    http_faults.py raw PORT HEX           HEX decoded, sent as it is
    http_faults.py slow PORT N SECONDS READY [STOP]
        N connections that each send one byte per second for SECONDS, or
        until the file STOP exists: half stall in the headers, half in a
        declared 1000-byte body. Touches READY once every connection has
        sent its first bytes. Prints how many kept sending to the end (the
        server let them be).

headers, body and raw print one line: "<status> <ms> <closed> <continued>
<body>", where status is the answer's status code (0: none, the connection
was closed first), ms the time from the first byte sent to the whole
answer, closed 1 if the server closed the connection within 1 s after
answering, continued 1 if a 100 Continue came first, and body the first 300
bytes of the answer's body. Exit status 0 unless the
connection could not be made or the server sent nothing within 10 s.
"""
import os
import socket
import sys
import time

HOST = "127.0.0.1"
ANSWERED = 0.0
CONTINUED = False  # a 100 Continue came before the answer
API = "/v1/docker-flow-monitor"


def connect(port):
    s = socket.create_connection((HOST, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def send_all(s, data):
    """Sends data; False if the server closed or reset the connection
    first (it may answer and close before a big request is all sent)."""
    try:
        s.sendall(data)
        return True
    except (BrokenPipeError, ConnectionResetError):
        return False


def read_answer(s, deadline=10.0):
    """Reads one answer: (status, body bytes, closed), and sets ANSWERED to
    the time it was complete. closed: the server closed the connection
    within 1 s after the answer was complete."""
    global ANSWERED
    buf = b""
    s.settimeout(deadline)
    status, body, want = 0, b"", None
    try:
        while True:
            if want is None and b"\r\n\r\n" in buf:
                head, rest = buf.split(b"\r\n\r\n", 1)
                line = head.split(b"\r\n", 1)[0].split()
                status = int(line[1]) if len(line) > 1 else 0
                if status == 100:  # an interim answer: drop it
                    buf = rest
                    status = 0
                    continue
                want = 0
                for h in head.split(b"\r\n")[1:]:
                    k, _, v = h.partition(b":")
                    if k.strip().lower() == b"content-length":
                        want = int(v.strip())
                body = rest
            if want is not None and len(body) >= want:
                break
            chunk = s.recv(65536)
            if not chunk:
                ANSWERED = time.monotonic()
                return status, body, True
            if want is None:
                buf += chunk
            else:
                body += chunk
    except (socket.timeout, ConnectionResetError):
        ANSWERED = time.monotonic()
        return status, body, False
    ANSWERED = time.monotonic()
    s.settimeout(1)
    try:
        closed = s.recv(1) == b""
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        closed = False
    return status, body, closed


def report(status, t0, closed, body):
    ms = (ANSWERED - t0) * 1000
    text = body[:300].decode("utf-8", "replace").replace("\n", " ")
    print(f"{status} {ms:.0f} {1 if closed else 0} {1 if CONTINUED else 0} "
          f"{text}")
    return 0 if status or closed else 1


def one(port, data, expect_continue=None):
    """Sends data (or, with expect_continue=(head, body), the head, waits
    for a 100 or an answer, then the body) and reports the answer."""
    s = connect(port)
    t0 = time.monotonic()
    if expect_continue is None:
        send_all(s, data)
    else:
        head, body = expect_continue
        send_all(s, head)
        s.settimeout(10)
        first = b""
        try:
            while b"\r\n\r\n" not in first:
                c = s.recv(4096)
                if not c:
                    break
                first += c
        except socket.timeout:
            pass
        if first.startswith(b"HTTP/1.1 100") or first.startswith(
                b"HTTP/1.0 100"):
            global CONTINUED
            CONTINUED = True
            send_all(s, body)
        else:
            # A final answer came instead of the 100: read it from here.
            status, rbody, closed = parse_buffered(s, first)
            return report(status, t0, closed, rbody)
    status, body, closed = read_answer(s)
    return report(status, t0, closed, body)


def parse_buffered(s, first):
    """The answer whose first bytes are already in first."""
    class Pre:
        def __init__(self, sock, pre):
            self.sock, self.pre = sock, pre

        def recv(self, n):
            if self.pre:
                p, self.pre = self.pre, b""
                return p
            return self.sock.recv(n)

        def settimeout(self, t):
            self.sock.settimeout(t)
    return read_answer(Pre(s, first))


def cmd_body(port, size, mode):
    path = API.encode() + b"/reconfigure"
    base = (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n")
    form = b"serviceName=big&targets=127.0.0.1:9100&pad="
    body = form + b"x" * (size - len(form))
    if mode == "length":
        return one(port, base + b"Content-Length: %d\r\n\r\n" % size + body)
    if mode == "expect":
        head = (base + b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n"
                % size)
        return one(port, None, (head, body))
    if mode == "chunked":
        out = [base + b"Transfer-Encoding: chunked\r\n\r\n"]
        for i in range(0, len(body), 65536):
            c = body[i:i + 65536]
            out.append(b"%x\r\n" % len(c) + c + b"\r\n")
        out.append(b"0\r\n\r\n")
        return one(port, b"".join(out))
    sys.exit(f"unknown body mode {mode}")


def cmd_slow(port, n, seconds, ready, stop=None):
    socks = []
    for i in range(n):
        s = connect(port)
        if i % 2 == 0:
            # Stalls in the headers, one byte of a header value a second.
            s.sendall(b"GET " + API.encode() + b"/services HTTP/1.1\r\n"
                      b"Host: x\r\nX-Slow: ")
        else:
            # Stalls in a declared body.
            s.sendall(b"POST " + API.encode() + b"/reconfigure HTTP/1.1\r\n"
                      b"Host: x\r\nContent-Type: "
                      b"application/x-www-form-urlencoded\r\n"
                      b"Content-Length: 1000\r\n\r\nserviceName=slow&")
        socks.append(s)
    open(ready, "w").close()
    alive = [True] * n
    start = time.monotonic()
    end = start + seconds
    while time.monotonic() < end and not (stop and os.path.exists(stop)):
        for i, s in enumerate(socks):
            if alive[i] and not send_all(s, b"a"):
                alive[i] = False
        time.sleep(1)
    print(f"{sum(alive)} of {n} slow connections kept open for "
          f"{time.monotonic() - start:.0f} s")
    for s in socks:
        s.close()
    return 0


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "headers":
        size = int(sys.argv[3])
        return one(port, b"GET " + API.encode() + b"/ping HTTP/1.1\r\n"
                   b"Host: x\r\nX-Padding: " + b"a" * size + b"\r\n\r\n")
    if cmd == "body":
        return cmd_body(port, int(sys.argv[3]), sys.argv[4])
    if cmd == "raw":
        return one(port, bytes.fromhex(sys.argv[3]))
    if cmd == "slow":
        return cmd_slow(port, int(sys.argv[3]), int(sys.argv[4]),
                        sys.argv[5], sys.argv[6] if len(sys.argv) > 6 else None)
    sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    sys.exit(main())
