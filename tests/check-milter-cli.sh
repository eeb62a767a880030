#!/bin/sh
# smime-milter's command line without an MTA: -V, -n (a good file, bad files whose
# errors name the line), -t (the header and action it would take), usage errors.
# No root, no network, no daemon.
set -u
BUILD=${1:?usage: check-milter-cli.sh BUILD_DIR}
M="$BUILD/smime-milter"
[ -x "$M" ] || { echo "FAIL: $M not built"; exit 1; }
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
bad=0
fail() { echo "FAIL: $*"; bad=$((bad + 1)); }

"$M" -V > "$T/v" || fail "-V exit status"
for w in "smime-milter " "GnuTLS " "GMime " "libmilter "; do
    grep -q "^$w" "$T/v" || fail "-V does not name $w"
done

cat > "$T/good.conf" <<EOF_CONF
AuthservID   mx.test
TrustAnchors $(pwd)/sample-mail/pki/trust-anchors.pem
Syslog       no
DetailHeaders yes
LintMode     off
On-Fail      reject
On-Policy    quarantine
RejectReply  550 5.7.1 refused (%r) 100%%
EOF_CONF
# as root -n checks what a start as root would: that needs a UserID
[ "$(id -u)" -eq 0 ] && echo "UserID nobody" >> "$T/good.conf"
"$M" -c "$T/good.conf" -n > "$T/n" 2>&1 || fail "-n on a good file: $(cat "$T/n")"
grep -q 'configuration ok (1 trust anchors, authserv-id mx.test)' "$T/n" || fail "-n summary: $(cat "$T/n")"

check_bad() { # TEXT EXPECTED-ERROR
    printf '%s\n' "$1" > "$T/bad.conf"
    if "$M" -c "$T/bad.conf" -n > "$T/n" 2>&1; then
        fail "-n accepted: $1"
    elif ! grep -qF "$2" "$T/n"; then
        fail "-n on [$1]: expected [$2], got [$(cat "$T/n")]"
    fi
}
A="TrustAnchors $(pwd)/sample-mail/pki/trust-anchors.pem"
check_bad "$A
On-Fial reject" "bad.conf:2: unknown key \"On-Fial\""
check_bad "$A

Socket inet:99999@127.0.0.1" "bad.conf:3: Socket: expected inet:PORT@HOST"
check_bad "TrustAnchors $T/none.pem" "TrustAnchors:"
check_bad "Syslog no" "bad.conf: TrustAnchors is required"
check_bad "$A
PeerList $T/peers" "PeerList: $T/peers:"
"$M" -c "$T/missing.conf" -n > "$T/n" 2>&1 && fail "-n on a missing file exited 0"
grep -q "missing.conf: No such file" "$T/n" || fail "-n on a missing file: $(cat "$T/n")"

# -t: what the milter would add and do
"$M" -c "$T/good.conf" -t sample-mail/01-multipart-signed-rsa2048.eml \
    sample-mail/30-tampered-body.eml sample-mail/32-from-not-in-cert.eml > "$T/t" 2>&1 ||
    fail "-t exit status: $(cat "$T/t")"
grep -q '^Authentication-Results: mx.test;$' "$T/t" || fail "-t: no folded header"
grep -q '^	smime=pass reason=' "$T/t" || fail "-t: no pass clause"
grep -q '^X-SMIME-Signature: part=1; result=fail;$' "$T/t" || fail "-t: no detail header"
grep -q '^action: accept (result pass)$' "$T/t" || fail "-t: pass not accepted"
grep -q '^action: reject (result fail): 550 5.7.1 refused (signature does not verify: .*) 100%$' "$T/t" ||
    fail "-t: reject reply: $(grep '^action: reject' "$T/t")"
grep -q '^action: quarantine (result policy)$' "$T/t" || fail "-t: policy not quarantined"
"$M" -c "$T/good.conf" -t "$T/nonexistent.eml" > /dev/null 2>&1
[ $? -eq 3 ] || fail "-t on a missing file must exit 3"

# usage
"$M" -x > /dev/null 2>&1; [ $? -eq 2 ] || fail "an unknown option must exit 2"
"$M" -c "$T/good.conf" -n extra.eml > /dev/null 2>&1; [ $? -eq 2 ] || fail "files without -t must exit 2"

[ "$bad" -eq 0 ] && echo "check-milter-cli: all passed"
[ "$bad" -eq 0 ]
