#!/bin/sh
# make-signers-mail.sh OUTDIR: the messages of the `bench signers` figures, made
# from the sample PKI (sample-mail/pki) into OUTDIR (the build tree):
#   8-signers.eml         one SignedData with 8 SignerInfos (RSA 2048/3072/4096,
#                         P-256/384/521, two more RSA 2048), each signer's
#                         certificate and the intermediate carried; From Alice
#   8-signers-extra20.eml the same content and signers with 20 more carried
#                         certificates that no signer uses (self-signed P-256)
# Made afresh on every bench run: the signatures are not reproducible byte for
# byte (ECDSA, signingTime), and no figure depends on those bytes.
set -eu
OUT=$1
S=sample-mail
PKI=$S/pki
DATE="Thu, 03 Dec 2026 12:00:00 +0000"
. tools/sample-mail-lib.sh
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$OUT"
body | text_entity >"$T/content"
set --
for k in alice bob rsa3072 rsa4096 p256 p384 p521 nonrep; do
    set -- "$@" -signer "$PKI/$k.pem" -inkey "$PKI/$k.key"
done
openssl cms -sign -binary -in "$T/content" -md sha256 "$@" -certfile "$PKI/smime-ca.pem" \
    -outform DER -out "$T/s8.der"
: >"$T/extra.pem"
i=0
while [ "$i" -lt 20 ]; do
    i=$((i + 1))
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/x.key" \
        -subj "/CN=Unrelated certificate $i" -days 3650 -out "$T/x.pem" 2>/dev/null
    cat "$T/x.pem" >>"$T/extra.pem"
done
cat "$PKI/smime-ca.pem" "$T/extra.pem" >"$T/certs20.pem"
openssl cms -sign -binary -in "$T/content" -md sha256 "$@" -certfile "$T/certs20.pem" \
    -outform DER -out "$T/s8x.der"
for v in s8:8-signers s8x:8-signers-extra20; do
    der=${v%%:*} name=${v#*:}
    { headers "$ALICE" "$CAROL" "Eight signers" "$name.bench"
      multipart_signed "$T/content" "$T/$der.der" "=_signed_$name" sha-256
    } >"$OUT/$name.eml"
done
