#!/usr/bin/env python3
"""SMTP load client and delivery checker for tests/check-load.sh and
tests/check-faults.sh (standard library only).

  smtp-load.py send PORT SESSIONS MESSAGES TAG FILE...
      SESSIONS threads, each one SMTP session to 127.0.0.1:PORT (reconnecting
      after an error), share MESSAGES messages; message i is FILE[i % len] with
      the header "X-Load-Id: TAG-i FILENAME" put on top (outside any signed
      content) and sent to TAG@example.test.  Prints "sent N refused R seconds S";
      exits 1 when any message was refused.

  smtp-load.py check MAILDIR TAG MESSAGES AUTHSERV [MANIFEST]
      Reads every delivered file in MAILDIR/new and MAILDIR/cur carrying a TAG
      X-Load-Id; counts the ids lost (0..MESSAGES-1 never delivered) and
      duplicated (delivered more than once), the copies without exactly one
      Authentication-Results header of AUTHSERV, and (with MANIFEST, sample-mail's
      list of expected results, its "#mta" lines first) the copies whose smime=
      results differ from it.
      Prints one "key value" per line; exits 1 unless all of them are zero.
"""
import os
import re
import smtplib
import sys
import threading
import time


def send(port, sessions, messages, tag, files):
    bodies = []
    for f in files:
        with open(f, "rb") as fh:
            data = re.sub(rb"\r?\n", b"\r\n", fh.read())
        bodies.append((os.path.basename(f), data))
    lock = threading.Lock()
    stats = {"sent": 0, "refused": 0}
    errors = []

    def worker(w):
        smtp = None
        for i in range(w, messages, sessions):
            name, data = bodies[i % len(bodies)]
            msg = b"X-Load-Id: %s-%d %s\r\n" % (tag.encode(), i, name.encode()) + data
            for attempt in range(2):  # a dropped session is reopened once
                try:
                    if smtp is None:
                        smtp = smtplib.SMTP("127.0.0.1", port, "client.test", timeout=60)
                    smtp.sendmail("sender@example.org", ["%s@example.test" % tag], msg)
                    with lock:
                        stats["sent"] += 1
                    break
                except smtplib.SMTPResponseException as e:
                    # refused by the server: the session stays usable
                    with lock:
                        errors.append("%s-%d: %d %s" % (tag, i, e.smtp_code, e.smtp_error))
                    try:
                        smtp.rset()
                    except Exception:
                        smtp = None
                    with lock:
                        stats["refused"] += 1
                    break
                except (OSError, smtplib.SMTPException) as e:
                    smtp = None
                    if attempt == 1:
                        with lock:
                            stats["refused"] += 1
                            errors.append("%s-%d: %s" % (tag, i, e))
        if smtp is not None:
            try:
                smtp.quit()
            except Exception:
                pass

    t0 = time.time()
    threads = [threading.Thread(target=worker, args=(w,)) for w in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("sent %d refused %d seconds %.1f" % (stats["sent"], stats["refused"], time.time() - t0))
    for e in errors[:10]:
        print("  refused:", e)
    return 0 if stats["refused"] == 0 else 1


def headers(path):
    """The header section, folded lines joined, as a list of strings."""
    out = []
    with open(path, "rb") as fh:
        for raw in fh:
            line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
            if line == "":
                break
            if line[:1] in (" ", "\t") and out:
                out[-1] += " " + line.strip()
            else:
                out.append(line)
    return out


def check(maildir, tag, messages, authserv, manifest):
    expected = {}
    if manifest:
        through_mta = {}
        with open(manifest) as fh:
            for line in fh:
                f = line.split()
                if f and f[0] == "#mta" and len(f) > 2:
                    # what the message gives once Postfix has queued it (a NUL in
                    # a header line cuts the line there)
                    through_mta[f[1]] = f[2:]
                elif f and not f[0].startswith("#"):
                    expected[f[0]] = f[1:]
        expected.update(through_mta)
    seen = {}
    untagged = wrong = 0
    idre = re.compile(r"^X-Load-Id: %s-(\d+) (\S+)$" % re.escape(tag), re.I)
    ours = "authentication-results: %s;" % authserv.lower()
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            h = headers(os.path.join(d, name))
            ids = [m for m in (idre.match(x) for x in h) if m]
            if not ids:
                continue
            n = int(ids[0].group(1))
            seen[n] = seen.get(n, 0) + 1
            ar = [x for x in h if x.lower().startswith(ours)]
            if len(ar) != 1:
                untagged += 1
                continue
            want = expected.get(ids[0].group(2))
            got = re.findall(r"; smime=([a-z]+)", ar[0])
            if want is not None and got != want:
                wrong += 1
                if wrong <= 5:
                    print("  %s-%d %s: smime=%s, expected %s" % (tag, n, ids[0].group(2), got, want))
    lost = sum(1 for i in range(messages) if i not in seen)
    dup = sum(1 for c in seen.values() if c > 1)
    stray = sum(1 for i in seen if i >= messages)
    print("delivered %d" % sum(seen.values()))
    print("lost %d" % lost)
    print("duplicated %d" % dup)
    print("stray %d" % stray)
    print("untagged %d" % untagged)
    print("wrong_result %d" % wrong)
    return 0 if lost == dup == stray == untagged == wrong == 0 else 1


def main(argv):
    if len(argv) >= 6 and argv[1] == "send":
        return send(int(argv[2]), int(argv[3]), int(argv[4]), argv[5], argv[6:])
    if len(argv) in (6, 7) and argv[1] == "check":
        return check(argv[2], argv[3], int(argv[4]), argv[5], argv[6] if len(argv) == 7 else None)
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
