#!/bin/sh
# Cases the committed sample mail does not cover, made here with OpenSSL from the
# sample PKI (fresh keys each run, so nothing here can be stale): a SHA-1 CMS
# signature, BER indefinite-length (streamed) opaque signed-data, a leaf issued by
# a non-CA, a leaf whose CA signature is SHA-1, a leaf whose CA signature is
# corrupted.  Each must get its expected result and reason.
set -u
BUILD=${1:?usage: check-edge-cases.sh BUILD_DIR}
VERIFY="$BUILD/smime-verify"
PKI=sample-mail/pki
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
checks=0

wrap() { # FROM RAW OUT: prepend RFC 5322 headers to OpenSSL's S/MIME output
    { printf 'From: %s\r\nTo: carol@example.test\r\nSubject: edge case\r\n' "$1"; cat "$2"; } >"$3"
}
expect() { # FILE RESULT REASON-SUBSTRING
    checks=$((checks + 1))
    out=$("$VERIFY" --trust-anchors "$PKI/trust-anchors.pem" --at 2026-06-01 "$1" 2>&1)
    case "$out" in
    *"smime=$2 "*"$3"*) echo "ok $(basename "$1"): smime=$2 ($3)" ;;
    *) fails=$((fails + 1)); echo "MISMATCH $(basename "$1"): want smime=$2 with '$3'"; echo "  $out" ;;
    esac
}

printf 'Content-Type: text/plain\r\n\r\nedge case body\r\n' >"$T/c.txt"
sign() { # SIGNER-CERT KEY EXTRA-CERTS OUT [options]
    cert=$1 key=$2 extra=$3 out=$4; shift 4
    openssl cms -sign -binary -in "$T/c.txt" -signer "$cert" -inkey "$key" -certfile "$extra" \
        "$@" >"$out" 2>"$T/err" || { cat "$T/err"; exit 1; }
}

sign "$PKI/alice.pem" "$PKI/alice.key" "$PKI/smime-ca.pem" "$T/sha1.raw" -md sha1
wrap alice@example.test "$T/sha1.raw" "$T/sha1-signature.eml"
expect "$T/sha1-signature.eml" policy "insecure algorithm (RSA-SHA1)"

sign "$PKI/alice.pem" "$PKI/alice.key" "$PKI/smime-ca.pem" "$T/ber.raw" -nodetach -stream
wrap alice@example.test "$T/ber.raw" "$T/ber-streamed-opaque.eml"
expect "$T/ber-streamed-opaque.eml" pass "signature verified"

# A leaf for x@example.test, issued three ways.
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/x.key" -subj "/CN=x@example.test" \
    -out "$T/x.csr" 2>/dev/null
printf 'subjectAltName=email:x@example.test\nextendedKeyUsage=emailProtection\nkeyUsage=critical,digitalSignature\n' >"$T/ext.cnf"
issue() { # CA-CERT CA-KEY OUT [options]
    ca=$1 cakey=$2 out=$3; shift 3
    openssl x509 -req -in "$T/x.csr" -CA "$ca" -CAkey "$cakey" -set_serial "0x$(openssl rand -hex 8)" \
        -days 3650 -extfile "$T/ext.cnf" -out "$out" "$@" 2>/dev/null
}
issue "$PKI/alice.pem" "$PKI/alice.key" "$T/x-by-alice.pem"
cat "$PKI/alice.pem" "$PKI/smime-ca.pem" >"$T/alice-chain.pem"
sign "$T/x-by-alice.pem" "$T/x.key" "$T/alice-chain.pem" "$T/nonca.raw"
wrap x@example.test "$T/nonca.raw" "$T/issued-by-non-ca.eml"
expect "$T/issued-by-non-ca.eml" fail "may not issue"

issue "$PKI/smime-ca.pem" "$PKI/smime-ca.key" "$T/x-sha1.pem" -sha1
sign "$T/x-sha1.pem" "$T/x.key" "$PKI/smime-ca.pem" "$T/sha1cert.raw"
wrap x@example.test "$T/sha1cert.raw" "$T/sha1-certificate.eml"
expect "$T/sha1-certificate.eml" fail "insecure algorithm"

issue "$PKI/smime-ca.pem" "$PKI/smime-ca.key" "$T/x.der" -outform DER
# Invert one byte of the CA's signature value (the last bytes of the DER).
size=$(wc -c <"$T/x.der" | tr -d ' ')
off=$((size - 5))
byte=$(od -An -tu1 -j "$off" -N1 "$T/x.der" | tr -d ' ')
printf "\\$(printf '%03o' $((255 - byte)))" | dd of="$T/x.der" bs=1 seek="$off" conv=notrunc 2>/dev/null
openssl x509 -inform DER -in "$T/x.der" -out "$T/x-badsig.pem"
sign "$T/x-badsig.pem" "$T/x.key" "$PKI/smime-ca.pem" "$T/badsig.raw"
wrap x@example.test "$T/badsig.raw" "$T/bad-ca-signature.eml"
expect "$T/bad-ca-signature.eml" fail "CA signature"

echo "edge cases: $checks checked, $fails mismatches"
[ "$checks" -eq 5 ] && [ "$fails" -eq 0 ]
