#!/bin/sh
# End-to-end revocation checks with BUILD/smime-revcheck against a real OCSP
# responder (`openssl ocsp`) and a local HTTP server for CRLs and canned responses
# (tests/revocation/http-server.py), both on 127.0.0.1.  When the kernel lets us,
# everything runs in a private network namespace (only its own loopback), because
# `openssl ocsp -port` listens on every interface.  Every wait is bounded and
# every process started here is stopped on exit.
#
# Covers: good, revoked, unknown (OCSP), good / revoked / expired / wrongly signed
# CRL, responder down, responder slower than the budget, malformed, wrongly signed
# and unauthorised-signer responses, no revocation pointer, offline, CRLDirectory,
# cache hits in memory and on disk (no second fetch, counted at the servers), and
# many concurrent lookups of one certificate (one fetch).
# Usage: sh tests/check-revocation.sh BUILD_DIR   (from the project root)
set -eu
BUILD=${1:?usage: tests/check-revocation.sh BUILD_DIR}
BIN=$BUILD/smime-revcheck
HERE=tests/revocation
[ -x "$BIN" ] || { echo "FAIL: $BIN not built"; exit 1; }

if [ -z "${REVCHECK_NETNS:-}" ]; then
    for how in "-n" "-rn"; do
        if unshare $how true 2>/dev/null; then
            REVCHECK_NETNS=1 exec unshare $how sh "$0" "$@"
        fi
    done
    echo "note: no network namespace available; servers bind 127.0.0.1 (openssl ocsp: all interfaces)"
else
    ip link set lo up
fi

T=$(mktemp -d /tmp/smime-revcheck.XXXXXX)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fails=0
pass() { echo "ok    $1"; }
fail() { echo "FAIL  $1"; fails=$((fails + 1)); }

ports=$(python3 -c '
import socket
ss = [socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
set -- $ports
OCSP=$1 HTTP=$2 SLOW=$3 DOWN=$4

sh $HERE/make-pki.sh "$T/pki" "$OCSP" "$HTTP" "$SLOW" "$DOWN"
P=$T/pki
# Canned answers: signed by a responder of another CA; signed with the wrong key
# under the CA's own name; not DER at all.
openssl ocsp -issuer $P/sub.pem -cert $P/leaf-noauth.pem -no_nonce -reqout $T/req.der 2>/dev/null
openssl ocsp -index $P/index.txt -CA $P/sub.pem -rsigner $P/evil-ocsp.pem -rkey $P/evil-ocsp.key \
    -reqin $T/req.der -respout $P/static-noauth.der -ndays 1 2>/dev/null
openssl ocsp -issuer $P/sub.pem -cert $P/leaf-badsig.pem -no_nonce -reqout $T/req.der 2>/dev/null
openssl ocsp -index $P/index.txt -CA $P/sub.pem -rsigner $P/fake-sub.pem -rkey $P/evil.key \
    -resp_no_certs -reqin $T/req.der -respout $P/static-badsig.der -ndays 1 2>/dev/null
printf 'this is not an OCSP response\n' > $P/static-malformed.der

python3 $HERE/http-server.py --port "$HTTP" --slow-port "$SLOW" --dir "$P" --log "$T/http.log" \
    2>"$T/http.err" &
pids="$pids $!"
(cd "$P" && exec openssl ocsp -index index.txt -port "$OCSP" -rsigner ocsp.pem -rkey ocsp.key \
    -CA sub.pem -ndays 1) >"$T/ocsp.log" 2>&1 &
pids="$pids $!"

# Wait (at most 10 s) until both listen.  The OCSP responder is not probed with a
# bare connection: openssl 3.0's responder spins on a connection closed without a
# request, so its own "waiting" line is the sign.
python3 -c '
import socket, sys, time
end = time.time() + 10
for port in map(int, sys.argv[2:]):
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close(); break
        except OSError:
            if time.time() > end: sys.exit("http server did not start")
            time.sleep(0.05)
while b"waiting for OCSP client connections" not in open(sys.argv[1], "rb").read():
    if time.time() > end: sys.exit("openssl ocsp did not start")
    time.sleep(0.05)' "$T/ocsp.log" "$HTTP" "$SLOW"
: > "$T/http.log"

ocsp_requests() { grep -c "Received request" "$T/ocsp.log" || true; }
http_requests() { grep -c "$1" "$T/http.log" || true; }

# The responders listen on loopback, which the transport refuses by default
# (RevocationAllowPrivate): every run allows it, but the first expectation.
allow=--allow-private
# run LEAF [options...]: output in $T/out, exit status in $rc
run() {
    leaf=$1; shift
    rc=0
    timeout 30 "$BIN" --issuer $P/chain.pem --budget 3000 $allow "$@" "$P/leaf-$leaf.pem" >"$T/out" 2>&1 || rc=$?
}

# expect LEAF RC "TEXT" [options...]: the run exits RC and prints TEXT
expect() {
    leaf=$1 want_rc=$2 want=$3; shift 3
    run "$leaf" "$@"
    if [ "$rc" -eq "$want_rc" ] && grep -qF -- "$want" "$T/out"; then
        pass "$leaf: $want"
    else
        fail "$leaf: wanted exit $want_rc and '$want', got exit $rc:"
        sed 's/^/        /' "$T/out"
    fi
}

allow=
expect good        2 "not connecting to the non-public address 127.0.0.1 (RevocationAllowPrivate)"
allow=--allow-private
expect good        0 "cert 0: good good ocsp"
expect good        0 "cert 1: good good crl"       # the issuing CA, by the root's CRL
expect revoked     1 "cert 0: revoked revoked ocsp"
expect revoked     1 "(keyCompromise, by ocsp)"
expect unknown     2 "cert 0: unknown responder-unknown ocsp"
expect crl-good    0 "cert 0: good good crl"
expect crl-revoked 1 "revoked on 2026-01-01T00:00:00Z (keyCompromise, by crl)"
expect crl-expired 2 "cert 0: unknown crl-expired crl"
expect crl-badsig  2 "cert 0: unknown bad-signature crl"
expect crl-missing 2 "cert 0: unknown http-error crl"
expect crl-good    2 "cert 0: unknown too-large crl" --max-bytes 100
expect down        2 "cert 0: unknown unreachable ocsp"
expect malformed   2 "cert 0: unknown malformed ocsp"
expect badsig      2 "cert 0: unknown bad-signature ocsp"
expect noauth      2 "cert 0: unknown unauthorized-responder ocsp"
expect nourl       0 "cert 0: not-checked no-source none"
expect good        2 "cert 0: unknown offline ocsp" --offline
expect good        0 "cert 0: good good ocsp" --no-crl

# A responder that accepts and never answers: the budget bounds the wait.
start=$(date +%s%N)
expect slow 2 "cert 0: unknown timeout ocsp" --budget 1000
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$ms" -ge 900 ] && [ "$ms" -lt 3000 ]; then pass "slow responder cut at the budget (${ms} ms)"
else fail "slow responder took ${ms} ms with a 1000 ms budget"; fi

# CRLDirectory, offline: a mirrored CRL answers without any fetch.
mkdir "$T/crls"
cp $P/sub.crl "$T/crls/"
before=$(http_requests sub.crl)
expect crl-revoked 1 "cert 0: revoked revoked crl cached" --offline --crl-dir "$T/crls"
[ "$(http_requests sub.crl)" -eq "$before" ] && pass "CRLDirectory: no fetch" || fail "CRLDirectory fetched"

# A CRL of 100,000 entries (3.6 MB): read in milliseconds (GnuTLS's own import
# would take about 40 s), the revoked serial among them found.
mkdir "$T/big" "$T/bigdir"
(cd "$T/big" && cp $P/sub.pem $P/sub.key . &&
    { cat $P/index.txt; python3 -c '
for i in range(100000):
    print("R\t991231235959Z\t260101000000Z,superseded\t%X\tunknown\t/CN=filler%d" % (0x100000 + i, i))'
    } > index.txt &&
    printf '[ca]\ndefault_ca=sub\n[sub]\ndatabase=index.txt\ncrlnumber=crlnumber\ndefault_md=sha256\n' > ca.cnf &&
    echo 01 > crlnumber &&
    openssl ca -config ca.cnf -gencrl -cert sub.pem -keyfile sub.key -crldays 7 -out big.pem 2>/dev/null &&
    openssl crl -in big.pem -outform DER -out "$T/bigdir/big.crl")
cp $P/root.crl "$T/bigdir/"
start=$(date +%s%N)
expect crl-revoked 1 "cert 0: revoked revoked crl cached" --offline --crl-dir "$T/bigdir"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 5000 ] && pass "100,000-entry CRL checked in ${ms} ms" || fail "100,000-entry CRL took ${ms} ms"
expect crl-good 0 "cert 0: good good crl cached" --offline --crl-dir "$T/bigdir"

# Memory cache: five lookups in one process, one OCSP request.
before=$(ocsp_requests)
expect good 0 "cert 0: good good ocsp" --repeat 5
after=$(ocsp_requests)
[ $((after - before)) -eq 1 ] && pass "memory cache: 5 lookups, 1 OCSP request" \
    || fail "memory cache: 5 lookups made $((after - before)) OCSP requests"

grep -q "1st line: GET /" "$T/ocsp.log" && pass "OCSP requests sent as GET (RFC 5019)" \
    || fail "no OCSP GET request seen"
expect revoked 1 "cert 0: revoked revoked ocsp" --ocsp-post
grep -q "1st line: POST /" "$T/ocsp.log" && pass "OCSP request sent as POST when asked" \
    || fail "no OCSP POST request seen"

# Disk cache: a second process reads the first one's answers.
mkdir "$T/cache"
expect good 0 "cert 0: good good ocsp uncached" --cache-dir "$T/cache"
before=$(ocsp_requests); before_crl=$(http_requests root.crl)
expect good 0 "cert 0: good good ocsp cached" --cache-dir "$T/cache" --stats
grep -q "disk_hits=2 fetches=0" "$T/out" && pass "disk cache: both answers from disk" \
    || { fail "disk cache stats"; cat "$T/out"; }
[ "$(ocsp_requests)" -eq "$before" ] && [ "$(http_requests root.crl)" -eq "$before_crl" ] \
    && pass "disk cache: no request reached the servers" || fail "disk cache: servers were asked"

# Many concurrent lookups of one certificate: one fetch.
before=$(ocsp_requests)
expect good 0 "threads: 32, all agree" --threads 32 --stats
[ $(( $(ocsp_requests) - before )) -eq 1 ] && pass "32 threads, 1 OCSP request" \
    || fail "32 threads made $(( $(ocsp_requests) - before )) OCSP requests"
before=$(http_requests "GET /sub.crl")
expect crl-good 0 "threads: 32, all agree" --threads 32
[ $(( $(http_requests "GET /sub.crl") - before )) -eq 1 ] && pass "32 threads, 1 CRL download" \
    || fail "32 threads made $(( $(http_requests "GET /sub.crl") - before )) CRL downloads"

# The verdicts, through smime-verify (--revocation off|soft|hard,
# --revocation-timeout SECONDS, --offline): signed messages from the test PKI.
V=$BUILD/smime-verify
[ -x "$V" ] || fail "no $V"
{
    for n in good revoked slow down crl-good; do
        printf 'From: %s@example.org\r\nTo: bob@example.org\r\nSubject: t\r\n\r\nhello\r\n' "$n" \
            > "$T/body.txt"
        openssl smime -sign -in "$T/body.txt" -signer "$P/leaf-$n.pem" -inkey "$P/leaf-$n.key" \
            -certfile "$P/sub.pem" -out "$T/signed.txt" 2>/dev/null
        { printf 'From: %s@example.org\r\nTo: bob@example.org\r\nSubject: t\r\n' "$n"
          cat "$T/signed.txt"; } > "$T/msg-$n.eml"
    done
    # The test PKI is no SBR profile: keep the linter's findings out of the reason.
    nolint="--lint-mode off"
    # verdict MSG MODE "TEXT" [options]: the Authentication-Results line has TEXT
    verdict() {
        msg=$1 mode=$2 want=$3; shift 3
        timeout 30 "$V" --trust-anchors "$P/root.pem" $nolint --revocation "$mode" \
            --revocation-timeout 1 --revocation-allow-private "$@" "$T/msg-$msg.eml" > "$T/out" 2>&1 || true
        if grep -qF -- "$want" "$T/out"; then pass "smime-verify $msg $mode: $want"
        else fail "smime-verify $msg $mode: wanted '$want', got:"; sed 's/^/        /' "$T/out"; fi
    }
    verdict good    off  "smime=pass"
    verdict revoked off  "smime=pass"
    verdict good    soft 'smime=pass reason="signature verified, certificate chain trusted, From address in certificate"'
    verdict revoked soft 'smime=fail reason="signer certificate revoked on 2026-01-01T00:00:00Z (keyCompromise, by ocsp)"'
    verdict revoked hard "smime=fail"
    verdict slow    soft "smime=pass reason=\"signature verified, certificate chain trusted, From address in certificate; revocation status of the signer certificate unknown: OCSP responder"
    verdict slow    hard "smime=temperror"
    # --json carries each certificate's status, signer first
    verdict revoked soft '"revocation":[{"cert":0,"status":"revoked","code":"revoked","source":"ocsp"' --json
    verdict good    soft '"revocation":[{"cert":0,"status":"good","code":"good","source":"ocsp"' --json
    verdict down    hard "smime=temperror"
    verdict good    soft "revocation status of the signer certificate unknown: offline" --offline
    # The issuing CA is checked too, against the anchor from the trust store: its
    # CRL (root.crl) missing from CRLDirectory leaves it unknown.
    mkdir "$T/vcrls"
    cp $P/sub.crl "$T/vcrls/"
    verdict crl-good hard 'smime=temperror reason="revocation status of the issuing CA certificate unknown' \
        --offline --crl-dir "$T/vcrls"
    cp $P/root.crl "$T/vcrls/"
    verdict crl-good hard "smime=pass" --offline --crl-dir "$T/vcrls"
}

# Latency (informational): a miss is one OCSP round trip to the local responder plus
# verification; a hit is answered from memory.  --no-crl keeps the root's CRL out.
run good --no-crl --repeat 2000
grep '^latency' "$T/out" | sed 's/^/OCSP, leaf only: /'
run good --repeat 2000
grep '^latency' "$T/out" | sed 's/^/leaf by OCSP + issuing CA by CRL: /'

echo "revocation: $fails failure(s)"
[ "$fails" -eq 0 ]
