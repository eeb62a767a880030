#!/bin/sh
# The demo mail of `make run` (tools/make-demo-mail.sh), made afresh into a
# temporary directory: every pass in its MANIFEST verifies with
# "SBR <its profile>: no errors", the tampered message fails, the unsigned one is
# none; smime-lint finds nothing in the leaves (each with its issuer) nor in the
# CAs; the leaves keep within the SBR limits on their own terms (validity at
# most 825 days, no reserved TLD such as .test in a mailbox, serials over 64
# bits), so a linter that missed them would not hide a regression; and a
# directory holding the demo root and the sample-mail/ test root (what `make
# run` trusts) verifies mail from both.
#
# usage: sh tests/check-demo.sh BUILD_DIR
# DEMO_GENERATOR (default tools/make-demo-mail.sh) names another generator, to
# see this test fail on a broken one.
set -u
BUILD=${1:?usage: check-demo.sh BUILD_DIR}
GEN=${DEMO_GENERATOR:-tools/make-demo-mail.sh}
V="$BUILD/smime-verify"
L="$BUILD/smime-lint"
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
ok() { echo "ok $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
check() { # NAME: runs the rest as a test; passes when it exits 0
    name=$1; shift
    if "$@" >/dev/null; then ok "$name"; else bad "$name"; fi
}

D=$T/demo
if ! sh "$GEN" "$D" >"$T/gen.log" 2>&1; then
    cat "$T/gen.log"
    echo "FAIL $GEN exits non-zero"
    exit 1
fi
ok "$GEN made $D"
P=$D/pki

# MANIFEST and the messages agree, and every kind the demo promises is there.
grep -v '^#' "$D/MANIFEST" | awk '{ print $1 }' | sort >"$T/listed"
(cd "$D" && ls -- *.eml) | sort >"$T/present"
check "MANIFEST lists exactly the messages" cmp -s "$T/listed" "$T/present"
for profile in mailbox-strict organization-strict individual-multipurpose sponsor-strict; do
    check "a pass for $profile" grep -q " pass $profile\$" "$D/MANIFEST"
done
check "a fail (tampered)" grep -q '^[^#].* fail$' "$D/MANIFEST"
check "a none (unsigned)" grep -q '^[^#].* none$' "$D/MANIFEST"

# Each message as smime-verify tags it.  (Diagnostics of a failing check go to
# standard error: check sends standard output away.)
header_has() { # FILE PATTERN: the header smime-verify writes for FILE matches PATTERN (grep -E)
    "$V" --trust-anchors "$P/trust-anchors.pem" "$1" >"$T/v.out" 2>"$T/v.err"
    grep -Eq -- "$2" "$T/v.out" || { cat "$T/v.out" "$T/v.err" >&2; return 1; }
}
grep -v '^#' "$D/MANIFEST" >"$T/manifest"
while read -r file result profile; do
    case $result in
    pass) check "$file: pass, SBR $profile: no errors" \
              header_has "$D/$file" "smime=pass reason=\"[^\"]*; SBR $profile: no errors\"" ;;
    fail) check "$file: fail" header_has "$D/$file" 'smime=fail ' ;;
    none) check "$file: none" header_has "$D/$file" 'smime=none ' ;;
    *)    bad "$file: unknown result $result in MANIFEST" ;;
    esac
done <"$T/manifest"

# smime-lint: no findings at all (no errors, and no warnings either: none is
# inherent to this set, so one that appears is a regression to look at).
no_findings() { # smime-lint ARGS...: exit 0 and an empty finding count
    "$L" --format json "$@" >"$T/l.json" 2>"$T/l.err"
    rc=$?
    [ "$rc" = 0 ] && jq -e '.totals? // empty | .with_errors == 0 and .by_id == {}' "$T/l.json" >/dev/null ||
        { { echo "  smime-lint exit $rc: $*"; jq -c '.findings? // empty | .[]' "$T/l.json"; cat "$T/l.err"; } >&2
          return 1; }
}
leaves=$(cd "$P" && ls -- *.pem | grep -v -e '^root-ca.pem$' -e '^smime-ca.pem$' -e '^trust-anchors.pem$')
check "four leaves" test "$(echo "$leaves" | wc -l)" = 4
for leaf in $leaves; do
    check "smime-lint $leaf (issuer smime-ca): no findings" no_findings --issuer "$P/smime-ca.pem" "$P/$leaf"
done
check "smime-lint smime-ca.pem (issuer root-ca): no findings" no_findings --issuer "$P/root-ca.pem" "$P/smime-ca.pem"
check "smime-lint root-ca.pem (self-issued): no findings" no_findings --issuer "$P/root-ca.pem" "$P/root-ca.pem"

# The limits again, with OpenSSL alone.
epoch() { date -u -d "$(openssl x509 -in "$1" -noout "-$2" | sed 's/^[^=]*=//')" +%s; }
within_825_days() {
    nb=$(epoch "$1" startdate) na=$(epoch "$1" enddate)
    [ $((na - nb)) -le $((825 * 86400)) ] || { echo "  $1: $(( (na - nb) / 86400 )) days" >&2; return 1; }
}
valid_now() { openssl x509 -in "$1" -noout -checkend 0 && [ "$(epoch "$1" startdate)" -le "$(date -u +%s)" ]; }
no_reserved_tld() {
    openssl x509 -in "$1" -noout -ext subjectAltName >"$T/san" || return 1
    grep -q 'email:' "$T/san" && ! grep -Eiq '\.(test|example|invalid|localhost)(,|$)' "$T/san" ||
        { cat "$T/san" >&2; return 1; }
}
serial_over_64_bits() { # more than 16 hex digits
    s=$(openssl x509 -in "$1" -noout -serial | sed 's/^serial=//; s/^0*//')
    [ "${#s}" -gt 16 ]
}
for leaf in $leaves; do
    check "$leaf: validity at most 825 days" within_825_days "$P/$leaf"
    check "$leaf: valid now" valid_now "$P/$leaf"
    check "$leaf: mailbox on a real-looking domain" no_reserved_tld "$P/$leaf"
    check "$leaf: serial over 64 bits" serial_over_64_bits "$P/$leaf"
done

# What `make run` trusts: a directory of the demo root and the test root.
mkdir "$T/anchors"
cp "$P/trust-anchors.pem" "$T/anchors/demo-root.pem"
cp sample-mail/pki/trust-anchors.pem "$T/anchors/sample-mail-test-root.pem"
check "anchor directory: a demo pass verifies" \
    sh -c '"$1" --trust-anchors "$2" "$3" | grep -q "smime=pass "' sh "$V" "$T/anchors" "$D/01-mailbox-strict.eml"
check "anchor directory: a sample-mail pass verifies" \
    sh -c '"$1" --trust-anchors "$2" "$3" | grep -q "smime=pass "' sh "$V" "$T/anchors" sample-mail/01-multipart-signed-rsa2048.eml

[ "$fails" -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "all ok"
