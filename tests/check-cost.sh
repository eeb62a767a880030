#!/bin/sh
# The cost model (issue 14): small hostile messages must not buy CPU or memory out
# of proportion to their size.  Builds each amplification class with our own
# generator (tests/cost/make-costly.py, OpenSSL-signed) and checks, for each, the
# verdict and reason the caps document, and that smime-verify stays within a
# budget proportional to the message: CPU <= 1 s (+ 2 s under the sanitizers),
# peak RSS <= 3 x size + 64 MiB (the sanitizer build's shadow memory is not
# judged).  Bounds with wide margins, not benchmarks.  Then the same caps as
# configuration keys through the milter's -t.
# Usage: sh tests/check-cost.sh BUILD_DIR   (from the project root)
set -u
BUILD=${1:?usage: tests/check-cost.sh BUILD_DIR}
V=$BUILD/smime-verify
T=$(mktemp -d /tmp/smime-cost.XXXXXX)
trap 'rm -rf "$T"' EXIT
FAILED=0
fail() { echo "FAIL: $*"; FAILED=1; }
sanitized=0
nm "$V" 2>/dev/null | grep -q __asan_init && sanitized=1

python3 tests/cost/make-costly.py "$T" 1 > "$T/sizes" || { echo "FAIL: generator"; exit 1; }
ANCHORS=sample-mail/pki/trust-anchors.pem

# check CLASS "RESULT-AND-REASON" [extra smime-verify options]
check() {
    class=$1 want=$2; shift 2
    f="$T/$class.eml"
    size=$(wc -c < "$f")
    python3 tests/cost/measure.py "$V" --trust-anchors "$ANCHORS" --lint-mode off "$@" "$f" \
        > "$T/$class.out" 2> "$T/$class.cost"
    cpu=$(sed -n 's/.*cpu=\([0-9.]*\).*/\1/p' "$T/$class.cost")
    rss=$(sed -n 's/.*rss_kib=\([0-9]*\).*/\1/p' "$T/$class.cost")
    cpu_bound=1; [ "$sanitized" -eq 1 ] && cpu_bound=3
    rss_bound=$(( (3 * size + 64 * 1048576) / 1024 ))
    echo "$class: $size bytes, cpu ${cpu}s (bound ${cpu_bound}s), peak RSS ${rss} KiB (bound $rss_bound KiB)"
    if ! grep -qF -- "$want" "$T/$class.out"; then
        fail "$class: wanted '$want' in:"; sed 's/^/    /' "$T/$class.out" | cut -c1-600
    fi
    awk -v c="$cpu" -v b="$cpu_bound" 'BEGIN { exit !(c <= b) }' || fail "$class: CPU ${cpu}s over ${cpu_bound}s"
    [ "$sanitized" -eq 1 ] || [ "$rss" -le "$rss_bound" ] || fail "$class: RSS $rss KiB over $rss_bound KiB"
    head -c 8193 "$T/$class.out" | wc -c | awk '{ exit !($1 <= 8192 + 200) }' ||
        fail "$class: result header longer than its limit"
}

# 1. 32 signed parts x 32 SignerInfos by a key with a 1000-bit exponent: no
#    public-key operation with it, 32 signatures looked at, the rest counted.
check many-signatures 'smime=neutral reason="signer RSA public exponent (1000 bits) is outside SBR 6.1.6'
grep -qF '(and ' "$T/many-signatures.out" || fail "many-signatures: results not summed up in the header"
"$V" --trust-anchors "$ANCHORS" --lint-mode off --json "$T/many-signatures.eml" > "$T/many.json"
grep -qF 'more signatures than the limit for one message; 992 signatures not verified' \
    "$T/many.json" || fail "many-signatures: the 992 skipped signatures are not counted in the report"
# 2. 32 nested multipart/signed levels x 32 SignerInfos: the hash budget.
check nested-signed 'more signed content to hash than the limit for this message'"'"'s size'
# 3. 31 nested quoted-printable message/rfc822 levels: the decoding budget.
check nested-qp-rfc822 'smime=neutral reason="decoded content beyond the limit for this message; not checked"'
# 4. a million empty parts: counted before GMime builds them.
check million-parts 'smime=neutral reason="more MIME parts than the limit; the rest were not checked"'
# The caps are options: with room enough, the same messages are verified further.
check nested-signed 'signatures not verified' --max-signatures 4
grep -qF 'more signatures than the limit for one message; ' "$T/nested-signed.out" ||
    fail "--max-signatures 4 did not cap at 4"
# A CPU deadline of 1 ms is past before the first signature: the reason says why.
check nested-signed 'verification took too long' --verify-timeout 0.001

# The milter reads the same caps from its configuration (-t: what it would add).
M=$BUILD/smime-milter
if [ -x "$M" ]; then
    printf 'TrustAnchors %s/%s\nAuthservID mx.test\nSyslog no\nLintMode off\nMaximumSignaturesToVerify 2\nVerifyTimeout 2\n' \
        "$(pwd)" "$ANCHORS" > "$T/m.conf"
    "$M" -c "$T/m.conf" -t "$T/nested-signed.eml" > "$T/m.out" 2>&1 || true
    grep -qF 'more signatures than the limit for one message' "$T/m.out" ||
        { fail "milter -t with MaximumSignaturesToVerify 2:"; sed 's/^/    /' "$T/m.out" | cut -c1-300; }
    printf 'TrustAnchors /x.pem\nMaximumSignaturesToVerify many\n' > "$T/bad.conf"
    "$M" -c "$T/bad.conf" -n > "$T/bad.out" 2>&1 && fail "milter -n accepted MaximumSignaturesToVerify many"
    grep -q 'MaximumSignaturesToVerify.*expected a number 0..4096' "$T/bad.out" ||
        { fail "milter -n: no clear error for a bad MaximumSignaturesToVerify:"; cat "$T/bad.out"; }
fi
[ "$FAILED" -eq 0 ] && echo "cost model: every class within its bounds, with its documented verdict"
exit "$FAILED"
