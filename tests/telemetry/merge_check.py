#!/usr/bin/env python3
"""Checks a merge of exports against an export of the combined data.

usage: merge_check.py MERGED.json COMBINED.json INPUT.json...

For every bucket: the merged counts are the sum of the inputs that show it (so a
bucket an input suppressed is never revealed, not even as a difference); where
every input shows it, they equal the combined data's counts; no merged bucket is
below K; a part an input hid stays hidden.  Prints what it checked; exit 1 on any
failure."""
import json, sys

def load(p):
    d = json.load(open(p))
    assert d["format"] == "smime-telemetry-export" and d["version"] == 1, p
    return d

def buckets(d):
    out = {}
    for s in d["sections"]:
        for r in s["rows"]:
            out[(s["name"], tuple(r["key"]))] = r
    return out

merged, combined = load(sys.argv[1]), load(sys.argv[2])
inputs = [load(p) for p in sys.argv[3:]]
M, C, I = buckets(merged), buckets(combined), [buckets(d) for d in inputs]
K = merged["provenance"]["min_count"]
fails = equal = partial = 0
for key, r in M.items():
    for f in ("signatures", "certificates"):
        if not isinstance(r[f], int):
            print("FAIL: %s %s is not a number" % (key, f)); fails += 1
    shown = [b[key] for b in I if key in b]
    if not shown:
        print("FAIL: merged bucket %s is in no input" % (key,)); fails += 1; continue
    for f in ("signatures", "certificates"):
        if r[f] != sum(x[f] for x in shown):
            print("FAIL: %s %s %d is not the inputs' sum" % (key, f, r[f])); fails += 1
    if r["signatures"] < K or 0 < r["certificates"] < K:
        print("FAIL: %s below K=%d" % (key, K)); fails += 1
    if "part_certificates" in r and any(x.get("part_certificates") is None for x in shown) \
            and r["part_certificates"] is not None:
        print("FAIL: %s reveals a part an input hid" % (key,)); fails += 1
    if len(shown) == len(I):
        c = C.get(key)
        if c is None:
            print("FAIL: %s shown by every input but not in the combined report" % (key,)); fails += 1
        elif (c["signatures"], c["certificates"]) != (r["signatures"], r["certificates"]):
            print("FAIL: %s merged %d/%d, combined %d/%d" % (key, r["signatures"], r["certificates"],
                                                             c["signatures"], c["certificates"])); fails += 1
        else:
            equal += 1
    else:
        partial += 1
        c = C.get(key)
        if c and r["signatures"] > c["signatures"]:
            print("FAIL: %s merged more than combined" % (key,)); fails += 1
missing = [k for k in C if k not in M and all(k in b for b in I)]
for k in missing:
    print("FAIL: %s in the combined report and every input, not merged" % (k,)); fails += 1
print("merge check: %d buckets equal to the combined data, %d partly suppressed in an input "
      "(merged = sum of the inputs that show them), %d only in the combined data, %d failures"
      % (equal, partial, len([k for k in C if k not in M]), fails))
sys.exit(1 if fails or equal < 20 else 0)
