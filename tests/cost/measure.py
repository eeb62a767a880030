#!/usr/bin/env python3
"""Runs a command and prints its CPU seconds (user + system) and peak RSS in KiB,
from the kernel's accounting of that one child (wait4): `measure.py CMD ARGS...`
prints "cpu=S rss_kib=K rc=N" on stderr; the command's output goes to stdout."""
import os
import sys

pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
rc = os.waitstatus_to_exitcode(status)
print("cpu=%.3f rss_kib=%d rc=%d" % (ru.ru_utime + ru.ru_stime, ru.ru_maxrss, rc), file=sys.stderr)
