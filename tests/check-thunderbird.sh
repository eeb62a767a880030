#!/bin/sh
# Conformance test over Thunderbird's own S/MIME test messages (NSS-made, most of
# them BER): smime-verify must give, for every message, the results that
# ../shared/corpus/thunderbird-smime/expected.tsv lists, in document order.
#
#   sh tests/check-thunderbird.sh BUILD_DIR
#
# The anchor and the validation time are the ones the corpus README names.  A
# disagreement fails the test unless tests/thunderbird-allow.tsv names the file,
# the verdict we give instead, and the argument from RFC 8551/8550/7281 for it
# (file<TAB>our results<TAB>argument).  Prints "thunderbird: N/M agree".
set -u
BUILD=${1:?usage: check-thunderbird.sh BUILD_DIR}
VERIFY="$BUILD/smime-verify"
CORPUS=${THUNDERBIRD_CORPUS:-../shared/corpus/thunderbird-smime}
ALLOW=tests/thunderbird-allow.tsv
TA="$CORPUS/mailnews/test/data/smime/TestCA.pem"
AT=2026-06-01T00:00:00Z

if [ ! -f "$CORPUS/expected.tsv" ]; then
    echo "thunderbird: corpus not found at $CORPUS; skipped"
    exit 0
fi
[ -x "$VERIFY" ] || { echo "no $VERIFY" >&2; exit 1; }

total=0
agree=0
bad=0
TAB=$(printf '\t')
while IFS="$TAB" read -r file expected _tb _note; do
    case "$file" in ''|'#'*) continue ;; esac
    total=$((total + 1))
    out=$("$VERIFY" --trust-anchors "$TA" --at "$AT" "$CORPUS/$file" 2>&1)
    rc=$?
    got=$(printf '%s\n' "$out" | grep -o '; smime=[a-z]*' | sed 's/; smime=//' | tr '\n' ',' | sed 's/,$//')
    if [ "$got" = "$expected" ] && [ $rc -lt 2 ]; then
        agree=$((agree + 1))
        continue
    fi
    allowed=""
    if [ -f "$ALLOW" ]; then
        allowed=$(awk -F "$TAB" -v f="$file" -v g="$got" \
            '$1 == f && $2 == g && length($3) > 0 { print "yes"; exit }' "$ALLOW")
    fi
    if [ "$allowed" = yes ]; then
        echo "allowed $file: expected [$expected] got [$got] (see $ALLOW)"
    else
        bad=$((bad + 1))
        echo "MISMATCH $file: expected [$expected] got [$got] (exit $rc)"
        printf '  %s\n' "$out" | head -5
    fi
done < "$CORPUS/expected.tsv"
echo "thunderbird: $agree/$total agree"
[ "$total" -gt 0 ] && [ "$bad" -eq 0 ]
