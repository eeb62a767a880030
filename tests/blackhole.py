#!/usr/bin/env python3
# tests/blackhole.py - a revocation responder that never answers (tests/check-faults.sh,
# tests/check-startup.sh, tests/check-sendmail.sh): prints its port first.
# accepts connections on 127.0.0.1 and never answers; logs one line per
# connection; exits by itself after argv[1] seconds (the test kills it sooner)
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(128)
s.settimeout(0.5)
print(s.getsockname()[1], flush=True)
held = []
end = time.time() + float(sys.argv[1])
while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    held.append(c)
    print("accepted", flush=True)
