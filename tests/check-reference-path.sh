#!/bin/sh
# The fast path against the reference path: smime-verify with and without
# --reference-path (GnuTLS verifies every signature, nothing parsed is reused)
# must print byte for byte the same report, header and JSON, for every sample
# message and every message of the Thunderbird corpus.  Each run verifies all
# files in one process, so the caches of the trust store are warm for most of
# them, as in the milter.
#
#   sh tests/check-reference-path.sh BUILD_DIR
set -u
BUILD=${1:?usage: check-reference-path.sh BUILD_DIR}
V="$BUILD/smime-verify"
[ -x "$V" ] || { echo "no $V" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
n=0

# same NAME ARGS...: both paths, in both output forms, compared
same() {
    name=$1
    shift
    for form in header json; do
        j=
        [ "$form" = json ] && j=--json
        "$V" $j "$@" >"$T/fast" 2>&1
        echo "exit $?" >>"$T/fast"
        "$V" $j --reference-path "$@" >"$T/ref" 2>&1
        echo "exit $?" >>"$T/ref"
        n=$((n + 1))
        if ! cmp -s "$T/fast" "$T/ref"; then
            fails=$((fails + 1))
            echo "DIFFERS: $name ($form)"
            diff -u "$T/ref" "$T/fast" | cut -c1-300 | head -30
        fi
    done
}

same sample-mail --trust-anchors sample-mail/pki/trust-anchors.pem --authserv-id mx.test \
    --at 2026-06-01 sample-mail/*.eml
# every message twice in one run: the second time the caches are warm for all
same sample-mail-twice --trust-anchors sample-mail/pki/trust-anchors.pem --at 2026-06-01 \
    sample-mail/*.eml sample-mail/*.eml
CORPUS=${THUNDERBIRD_CORPUS:-../shared/corpus/thunderbird-smime}
if [ -f "$CORPUS/expected.tsv" ]; then
    files=$(awk -F'\t' '$1 != "" && $1 !~ /^#/ { print $1 }' "$CORPUS/expected.tsv" |
            while read -r f; do printf '%s\n' "$CORPUS/$f"; done)
    # shellcheck disable=SC2086
    same thunderbird --trust-anchors "$CORPUS/mailnews/test/data/smime/TestCA.pem" \
        --at 2026-06-01T00:00:00Z $files $files
else
    echo "reference path: Thunderbird corpus not found at $CORPUS; only sample-mail/ compared"
fi
echo "reference path: $n comparisons, $fails differ"
[ "$fails" -eq 0 ]
