#!/usr/bin/env python3
"""A loopback HTTP server for the revocation tests.

  GET  /NAME                 -> the file DIR/NAME (CRLs), 404 if absent
  GET  /static/NAME[/...]    -> DIR/static-NAME.der as an OCSP response (any
  POST /static/NAME             request: a canned, possibly broken, answer)

Every request is logged as "METHOD PATH" to --log, so the tests can count fetches.
With --slow-port it also accepts connections there and never answers (a responder
slower than any budget).  Binds 127.0.0.1 only.  Runs until killed.
"""
import argparse
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 16


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--slow-port", type=int)
    args = ap.parse_args()
    log = open(args.log, "a", buffering=1)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *a):
            pass

        def record(self):
            with lock:
                log.write("%s %s\n" % (self.command, self.path))

        def send_file(self, path, ctype):
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def route(self):
            self.record()
            parts = self.path.split("/")
            if len(parts) >= 3 and parts[1] == "static":
                name = os.path.basename(parts[2])
                self.send_file(os.path.join(args.dir, "static-%s.der" % name),
                               "application/ocsp-response")
            else:
                self.send_file(os.path.join(args.dir, os.path.basename(self.path)),
                               "application/pkix-crl")

        def do_GET(self):
            self.route()

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(min(n, MAX_BODY))
            self.route()

    if args.slow_port:
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        slow.bind(("127.0.0.1", args.slow_port))
        slow.listen(64)
        held = []

        def hold():
            while True:
                conn, _ = slow.accept()
                held.append(conn)        # never read, never answered

        threading.Thread(target=hold, daemon=True).start()

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
