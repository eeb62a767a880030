#!/bin/sh
# smime-lint as a CA scripts it: files, directories (recursively), standard input,
# PEM bundles and DER, JSON Lines with one record per certificate and a totals
# record, explicit chain mode and its signature verdict, a CA certificate linted
# as a CA, --list-lints, and the documented exit codes (0 clean, 1 error findings,
# 2 usage, 3 unreadable input).  Uses the lint test certificates (PEM chains:
# subscriber, issuing CA, root).
#
# usage: sh tests/check-lint-cli.sh BUILD_DIR
set -u
BUILD=${1:?usage: check-lint-cli.sh BUILD_DIR}
L="$BUILD/smime-lint"
C=tests/lint/certs
AT="--at 2026-11-28"
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
ok() { echo "ok $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
check() { # NAME: runs the rest as a test; passes when it exits 0
    name=$1; shift
    if "$@" >/dev/null; then ok "$name"; else bad "$name"; fi
}
recs() { # FILTER FILE: FILTER over the array of certificate records (totals left out)
    jq -s -e "map(select(has(\"totals\") | not)) | $1" "$2" >/dev/null
}
rc_is() { # EXPECTED COMMAND...
    want=$1; shift
    "$@" >"$T/rc.out" 2>"$T/rc.err"
    got=$?
    [ "$got" = "$want" ] || { echo "  exit $got, expected $want: $*"; cat "$T/rc.err"; return 1; }
}

# A tree: a bundle (3 certificates), a DER leaf in a subdirectory, a file that is no certificate.
mkdir -p "$T/tree/sub"
cp "$C/good-mailbox-strict.pem" "$T/tree/bundle.pem"
openssl x509 -in "$C/good-organization-strict.pem" -outform DER -out "$T/tree/sub/leaf.der"
echo "not a certificate" >"$T/tree/sub/README"
"$L" --format json $AT "$T/tree" >"$T/tree.json" 2>"$T/tree.err"
rc=$?
check "directory: exit 0 (no error findings)" test "$rc" = 0
check "directory: one record per certificate plus totals" test "$(wc -l <"$T/tree.json")" = 5
check "directory: totals record" jq -s -e '.[-1].totals | .certificates == 4 and .with_errors == 0' "$T/tree.json"
check "directory: DER file in a subdirectory read" recs 'map(select(.file | endswith("sub/leaf.der"))) | length == 1' "$T/tree.json"
check "directory: a file with no certificate is skipped and named" grep -q 'README: no certificate, skipped' "$T/tree.err"
check "records identify the certificate" recs 'all((.subject | type) == "string" and (.issuer | type) == "string"
    and (.serial | test("^[0-9A-F]+$")) and (.sha256 | test("^[0-9A-F]{64}$")) and (.not_before | test("^[0-9-]{10}T"))
    and (.signature_algorithm | test("^ecdsa-with-SHA")))' "$T/tree.json"
check "a bundle is not a chain: no issuer given, signature not checked" \
    recs 'map(select(.file | endswith("bundle.pem"))) | length == 3 and all(.issuers_given == 0 and .issuer_signature == "not checked")' "$T/tree.json"
check "a CA certificate alone is linted as a CA" \
    recs 'map(select((.file | endswith("bundle.pem")) and .index == 1))[0] | .scope.ca_certificate and .type == null
           and ([.findings[].id] | index("CLS-SCOPE") == null)' "$T/tree.json"
"$L" --json $AT --chain "$C/SIG-04.fail.pem" >"$T/sig04.json"
check "findings carry section, severity, effective date and pre_sbr" \
    recs '.[0].findings[0] | has("id") and has("section") and has("severity") and (.effective | test("^[0-9]{4}-")) and .pre_sbr == false' "$T/sig04.json"

# Standard input, PEM and DER.
"$L" --json $AT - <"$C/good-mailbox-strict.pem" >"$T/stdin.json"
check "stdin PEM" jq -s -e '.[-1].totals.certificates == 3 and .[0].file == "-"' "$T/stdin.json"
"$L" --json $AT - <"$T/tree/sub/leaf.der" >"$T/stdin-der.json"
check "stdin DER" recs '.[0].type == "organization"' "$T/stdin-der.json"

# Chain mode.
"$L" --json $AT --chain "$C/good-mailbox-strict.pem" >"$T/chain.json"
check "--chain verifies the issuer signature" recs 'length == 1 and .[0].issuers_given == 2 and .[0].issuer_signature == "verified"' "$T/chain.json"
check "--chain reports a bad signature" recs '.[0].issuer_signature == "failed" and ([.[0].findings[].id] | index("SIG-04") != null)' "$T/sig04.json"
awk '/BEGIN CERT/ { n++ } n >= 2' "$C/good-mailbox-strict.pem" >"$T/issuers.pem"
awk '/BEGIN CERT/ { n++ } n == 1' "$C/good-mailbox-strict.pem" >"$T/leaf.pem"
"$L" --json $AT --issuer "$T/issuers.pem" "$T/leaf.pem" "$T/leaf.pem" >"$T/issuer.json"
check "--issuer FILE verifies every certificate against it" recs 'length == 2 and all(.issuer_signature == "verified")' "$T/issuer.json"
check "text mode names the issuer signature" \
    sh -c "\"$L\" $AT --chain $C/good-mailbox-strict.pem | grep -q 'issuer signature: verified'"
check "text mode marks pre-SBR findings" sh -c "\"$L\" $AT $T/tree/bundle.pem $C/CLS-DATE.fail.pem | grep -q '(pre-SBR)'"
check "text mode ends with totals" sh -c "\"$L\" $AT $T/tree | tail -n 1 | grep -q '^4 certificates, 0 with errors'"

# Exit codes.
check "exit 1 on error findings" rc_is 1 "$L" $AT --chain "$C/SIG-04.fail.pem"
check "exit 2 on an unknown option" rc_is 2 "$L" --frobnicate "$C/good-mailbox-strict.pem"
check "exit 2 on --chain with --issuer" rc_is 2 "$L" --chain --issuer "$T/issuers.pem" "$T/leaf.pem"
check "exit 2 without input" rc_is 2 "$L"
check "exit 3 on a missing file" rc_is 3 "$L" "$T/no-such-file.pem"
check "exit 3 on a file that is no certificate" rc_is 3 "$L" "$T/tree/sub/README"
check "exit 3 outranks error findings" rc_is 3 "$L" --chain "$C/SIG-04.fail.pem" "$T/no-such-file.pem"
check "--help exits 0 and names the exit codes" sh -c "\"$L\" --help | grep -q '3 unreadable input'"

# --list-lints: one row per table entry in every format.
n=$("$L" --list-lints --format json | wc -l)
check "--list-lints json: one line per lint" test "$n" -gt 150
check "--list-lints markdown: the same entries" test "$("$L" --list-lints --format markdown | grep -c '^| [A-Z]')" = "$((n + 1))"
"$L" --list-lints --format json >"$T/lints.json"
check "--list-lints json carries the effective date" jq -s -e 'map(select(.id == "SAN-UTF8-ALABEL"))[0].effective == "2024-08-29"' "$T/lints.json"

echo "smime-lint CLI: $fails failure(s)"
[ "$fails" = 0 ]
