#!/usr/bin/env python3
"""A minimal SMTP server that stores what it is given (standard library only), for
tests/check-sendmail.sh: the private Sendmail relays every message to it, so a
delivered message is a file the test can read.

  smtp-sink.py PORT DIR

Listens on 127.0.0.1:PORT; every message is written to DIR/LOCALPART.N.eml (one
file per recipient, N counting from 1; the file first goes to DIR/tmp and is then
renamed, so a file that exists is complete).  Answers 250 to everything it knows,
502 to the rest.  Runs until killed.  Caps: 1000-byte command lines, 20 MiB per
message, 100 recipients per message.
"""
import os
import re
import socketserver
import sys
import threading

LINE_MAX = 1000
MESSAGE_MAX = 20 << 20
RCPTS_MAX = 100

lock = threading.Lock()
counts = {}


def store(directory, rcpts, data):
    for rcpt in rcpts:
        local = re.sub(r"[^a-z0-9._-]", "_", rcpt.split("@")[0].lower()) or "_"
        with lock:
            counts[local] = counts.get(local, 0) + 1
            n = counts[local]
        tmp = os.path.join(directory, "tmp", "%s.%d.eml" % (local, n))
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(directory, "%s.%d.eml" % (local, n)))


class Session(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        self.reply("220 sink.test ESMTP smtp-sink")
        rcpts = []
        while True:
            line = self.rfile.readline(LINE_MAX + 2)
            if not line:
                return
            if len(line) > LINE_MAX:
                self.reply("500 line too long")
                return
            cmd = line.decode("latin-1").strip()
            verb = cmd[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink.test")
            elif verb == "MAIL":
                rcpts = []
                self.reply("250 ok")
            elif verb == "RCPT":
                m = re.search(r"<([^>]*)>", cmd)
                if not m or len(rcpts) >= RCPTS_MAX:
                    self.reply("452 too many recipients" if m else "501 no address")
                    continue
                rcpts.append(m.group(1))
                self.reply("250 ok")
            elif verb == "DATA":
                if not rcpts:
                    self.reply("503 no recipients")
                    continue
                self.reply("354 go ahead")
                chunks, size = [], 0
                while True:
                    l = self.rfile.readline(LINE_MAX + 2)
                    if not l:
                        return
                    if l in (b".\r\n", b".\n"):
                        break
                    if l.startswith(b"."):
                        l = l[1:]
                    size += len(l)
                    if size > MESSAGE_MAX:
                        self.reply("552 message too large")
                        return
                    chunks.append(l)
                store(self.server.directory, rcpts, b"".join(chunks))
                rcpts = []
                self.reply("250 stored")
            elif verb in ("RSET", "NOOP"):
                if verb == "RSET":
                    rcpts = []
                self.reply("250 ok")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(os.path.join(directory, "tmp"), exist_ok=True)
    server = Server(("127.0.0.1", port), Session)
    server.directory = directory
    server.serve_forever()


if __name__ == "__main__":
    main()
