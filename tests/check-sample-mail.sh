#!/bin/sh
# Manifest test: smime-verify over every message of sample-mail/ must give exactly
# the results that sample-mail/MANIFEST lists, in order.  Time is fixed so the
# verdicts do not depend on the day the test runs.
set -u
BUILD=${1:?usage: check-sample-mail.sh BUILD_DIR}
VERIFY="$BUILD/smime-verify"
AT=2026-06-01
checked=0
bad=0
while read -r file expected; do
    case "$file" in ''|'#'*) continue ;; esac
    out=$("$VERIFY" --trust-anchors sample-mail/pki/trust-anchors.pem --authserv-id mx.test \
          --at "$AT" "sample-mail/$file" 2>&1)
    rc=$?
    got=$(printf '%s\n' "$out" | grep -o '; smime=[a-z]*' | sed 's/; smime=//' | tr '\n' ' ' | sed 's/ $//')
    want=$(printf '%s' "$expected" | tr -s ' \t' ' ')
    checked=$((checked + 1))
    if [ "$got" != "$want" ] || [ $rc -ge 2 ]; then
        bad=$((bad + 1))
        echo "MISMATCH $file: expected [$want] got [$got] (exit $rc)"
        echo "  $out"
    else
        echo "ok $file: $got"
    fi
done < sample-mail/MANIFEST
echo "sample-mail manifest: $checked messages, $bad mismatches"
[ "$checked" -gt 30 ] && [ "$bad" -eq 0 ]
