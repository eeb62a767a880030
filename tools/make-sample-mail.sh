#!/bin/sh
# make-sample-mail.sh -- (re)creates the project's test PKI and sample S/MIME
# messages.
#
# This is a test PKI that breaks two SBR rules on purpose, so that the tests
# (golden files, the Postfix and Sendmail suites, which use the current time)
# never expire: every certificate is valid 2025-01-01 .. 2055-01-01 (VAL-02:
# the SBR maximum is 825 days) and every mailbox is on example.test (SAN-MBX-02:
# a reserved TLD), so each pass carries "SBR ...: 2 errors (VAL-02, SAN-MBX-02)".
# What a first-time user sees in `make run` is the SBR-clean demo set of
# tools/make-demo-mail.sh, made for the day it runs.
#
#   sh tools/make-sample-mail.sh [OUTDIR]        (default OUTDIR: sample-mail)
#
# Needs only a POSIX shell, awk, coreutils and the OpenSSL 3.0 command line; no
# network.  At the end it runs tools/make-sample-mail-extra.sh, which also needs
# python3 and libnss3-tools.  Everything in OUTDIR/pki and OUTDIR/*.eml is
# replaced; OUTDIR/README.md is kept.  Keys and serial numbers are random, so every run gives different bytes
# but the same kinds of messages and the same MANIFEST.
#
# Layout of the output, and what each message is expected to yield, are described
# in OUTDIR/README.md and OUTDIR/MANIFEST.
set -eu

OUT=${1:-sample-mail}
LC_ALL=C
export LC_ALL
unset OPENSSL_CONF || true

TMP=$(mktemp -d "${TMPDIR:-/tmp}/make-sample-mail.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' HUP INT TERM

die() { echo "make-sample-mail: $*" >&2; exit 1; }
log() { echo "make-sample-mail: $*" >&2; }

command -v openssl >/dev/null 2>&1 || die "openssl not found"

mkdir -p "$OUT"
rm -rf "$OUT/pki"
rm -f "$OUT"/*.eml "$OUT/MANIFEST"
mkdir -p "$OUT/pki"
PKI=$OUT/pki

# ---------------------------------------------------------------------------
# Byte helpers (crlf, b64 and the MIME framing are in sample-mail-lib.sh)
# ---------------------------------------------------------------------------

. "$(dirname "$0")/sample-mail-lib.sh"

# hexbytes: stdin (binary) -> lower-case hex, no spaces or newlines.
hexbytes() { od -An -v -tx1 | tr -d ' \n'; }

# unhex: hex on stdin -> bytes on stdout (for short strings: tags, OIDs).
# POSIX printf writes any byte from an octal escape; awk turns hex into those.
unhex() {
    printf "$(tr -d ' \n' | fold -w 2 | awk '
        BEGIN { for (i = 0; i < 16; i++) v[substr("0123456789abcdef", i + 1, 1)] = i }
        NF { printf "\\%03o", v[substr($0, 1, 1)] * 16 + v[substr($0, 2, 1)] }
        END { print "" }')"
}

# der_len N: the DER length octets of a content of N bytes, as hex.
der_len() {
    awk -v n="$1" 'BEGIN {
        if (n < 128) { printf "%02x", n; exit }
        s = ""; while (n > 0) { s = sprintf("%02x", n % 256) s; n = int(n / 256) }
        printf "%02x%s", 128 + length(s) / 2, s }'
}

# der TAGHEX FILE...: writes to stdout a DER TLV with the given tag whose
# content is the concatenation of FILEs.
der() {
    tag=$1; shift
    cat "$@" >"$TMP/der.content"
    n=$(wc -c <"$TMP/der.content" | tr -d ' ')
    printf '%s%s' "$tag" "$(der_len "$n")" | unhex
    cat "$TMP/der.content"
}

# ---------------------------------------------------------------------------
# PKI
# ---------------------------------------------------------------------------

NB=20250101000000Z          # notBefore of CAs and normal leaves
NA=20550101000000Z          # notAfter
NB_EXPIRED=20200101000000Z
NA_EXPIRED=20210101000000Z
CRL_URL=http://crl.example.test/smime.crl
AIA_URL=http://ca.example.test/smime.crt

pki_init

log "making the PKI in $PKI"

# Roots ----------------------------------------------------------------------
cat >"$TMP/root.ext" <<EOF
[ ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF

genkey p384 "$PKI/root-ca.key"
ca_init root-ca
issue root-ca "/C=US/O=smime-milter test PKI/CN=smime-milter Test Root CA" \
    "$PKI/root-ca.key" "$PKI/root-ca.pem" "$TMP/root.ext" sha384 "$NB" "$NA" selfsign

genkey p384 "$PKI/untrusted-root.key"
ca_init untrusted-root
issue untrusted-root "/C=US/O=smime-milter test PKI/CN=smime-milter Untrusted Root" \
    "$PKI/untrusted-root.key" "$PKI/untrusted-root.pem" "$TMP/root.ext" sha384 "$NB" "$NA" selfsign

# Intermediate ---------------------------------------------------------------
cat >"$TMP/inter.ext" <<EOF
[ ext ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = emailProtection
certificatePolicies = 2.23.140.1.5.1.3, 2.23.140.1.5.2.2, 2.23.140.1.5.4.2
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:http://crl.example.test/root.crl
authorityInfoAccess = caIssuers;URI:http://ca.example.test/root.crt
EOF
genkey rsa2048 "$PKI/smime-ca.key"
issue root-ca "/C=US/O=smime-milter test PKI/CN=smime-milter Test S\\/MIME CA" \
    "$PKI/smime-ca.key" "$PKI/smime-ca.pem" "$TMP/inter.ext" sha384 "$NB" "$NA"
ca_init smime-ca

cp "$PKI/root-ca.pem" "$PKI/trust-anchors.pem"

# Leaves ---------------------------------------------------------------------
# leaf NAME KEYTYPE [options]; options (each a word):
#   ca=NAME  eku=EXT  ku=EXT  policy=OID  subj=DN  mail=ADDR  san=SECTIONBODY
#   expired  serial1=DIGIT
leaf() {
    name=$1 ktype=$2; shift 2
    ca=smime-ca mail=$name@example.test policy=2.23.140.1.5.1.3
    eku=emailProtection subj='' san='' nb=$NB na=$NA SERIAL_FIRST=''
    case $ktype in
    rsa*) ku="critical, digitalSignature, keyEncipherment" ;;
    *)    ku="critical, digitalSignature" ;;
    esac
    for o in "$@"; do
        case $o in
        ca=*) ca=${o#ca=} ;;
        eku=*) eku=${o#eku=} ;;
        ku=*) ku=${o#ku=} ;;
        policy=*) policy=${o#policy=} ;;
        subj=*) subj=${o#subj=} ;;
        mail=*) mail=${o#mail=} ;;
        san=*) san=${o#san=} ;;
        expired) nb=$NB_EXPIRED na=$NA_EXPIRED ;;
        serial1=*) SERIAL_FIRST=${o#serial1=} ;;
        *) die "leaf: bad option $o" ;;
        esac
    done
    [ -n "$subj" ] || subj="/CN=$mail"
    [ -n "$san" ] || san="email.1 = $mail"
    cat >"$TMP/leaf.ext" <<EOF
[ ext ]
keyUsage = $ku
extendedKeyUsage = $eku
certificatePolicies = $policy
subjectAltName = @san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:$CRL_URL
authorityInfoAccess = caIssuers;URI:$AIA_URL
[ san ]
$san
EOF
    genkey "$ktype" "$PKI/$name.key"
    issue "$ca" "$subj" "$PKI/$name.key" "$PKI/$name.pem" "$TMP/leaf.ext" sha256 "$nb" "$na"
    SERIAL_FIRST=
}

log "issuing leaf certificates"
# DER sorts the SET OF SignerInfo; with the same issuer, the serial number
# decides, so alice's serial is made smaller than bob's for 17-two-signers.
leaf alice    rsa2048 serial1=2
leaf bob      rsa2048 serial1=6
leaf rsa3072  rsa3072
leaf rsa4096  rsa4096
leaf pss      rsa2048
leaf p256     p256
leaf p384     p384
leaf p521     p521
leaf ed25519  ed25519
leaf expired  rsa2048 expired
leaf untrusted rsa2048 ca=untrusted-root
leaf wrongeku rsa2048 eku=serverAuth
leaf nonrep   rsa2048 "ku=critical, nonRepudiation"
leaf org      rsa2048 policy=2.23.140.1.5.2.2 \
    "subj=/C=US/O=Example Test Organization/organizationIdentifier=NTRUS\\+CA-1234/CN=org@example.test"
leaf indiv    rsa2048 policy=2.23.140.1.5.4.2 \
    "subj=/C=US/givenName=Ina/surname=Individual/CN=indiv@example.test"
# SmtpUTF8Mailbox (RFC 9598) otherName with a non-ASCII local part, plus an
# ASCII rfc822Name; FORMAT:UTF8 makes OpenSSL take the bytes as UTF-8.
leaf smtputf8 rsa2048 mail=joerg@example.test "san=otherName.1 = 1.3.6.1.5.5.7.8.9;FORMAT:UTF8,UTF8:jörg@example.test
email.1 = joerg@example.test"

# ---------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------

log "writing messages"
DATE=$(date -u '+%a, %d %b %Y %H:%M:%S +0000')
INTER=$PKI/smime-ca.pem
MANIFEST=$TMP/MANIFEST
: >"$MANIFEST"

# expect FILE RESULT...: one MANIFEST line; note TEXT: a comment line.
expect() { echo "$*" >>"$MANIFEST"; }
note() { echo "# $*" >>"$MANIFEST"; }

# sign_detached KEYNAME CONTENT OUT.der [openssl cms options...]
sign_detached() {
    k=$1 c=$2 o=$3; shift 3
    ossl cms -sign -binary -in "$c" -signer "$PKI/$k.pem" -inkey "$PKI/$k.key" \
        -certfile "$INTER" -outform DER -out "$o" "$@"
}
# sign_opaque KEYNAME CONTENT OUT.der [options]
sign_opaque() {
    k=$1 c=$2 o=$3; shift 3
    ossl cms -sign -nodetach -binary -in "$c" -signer "$PKI/$k.pem" -inkey "$PKI/$k.key" \
        -certfile "$INTER" -outform DER -out "$o" "$@"
}

# signed_msg FILE KEY MICALG FROM SUBJECT [cms options...]: the common case,
# a text body from FROM to Carol, detached signature.
signed_msg() {
    f=$1 k=$2 mic=$3 from=$4 subject=$5; shift 5
    id=${f%%-*}
    body >"$TMP/body.txt"
    text_entity <"$TMP/body.txt" >"$TMP/c-$id"
    sign_detached "$k" "$TMP/c-$id" "$TMP/s-$id.der" "$@"
    { headers "$from" "$CAROL" "$subject" "$id.sample"
      multipart_signed "$TMP/c-$id" "$TMP/s-$id.der" "=_signed_$id" "$mic"
    } >"$OUT/$f"
}

# --- 01..23: expected pass --------------------------------------------------
signed_msg 01-multipart-signed-rsa2048.eml alice sha-256 "$ALICE" "Quarterly review (RSA-2048, SHA-256)" -md sha256
expect 01-multipart-signed-rsa2048.eml pass

# 02: signature part typed application/x-pkcs7-signature, protocol unchanged
text_entity <"$TMP/body.txt" >"$TMP/c-02"
sign_detached alice "$TMP/c-02" "$TMP/s-02.der" -md sha256
{ headers "$ALICE" "$CAROL" "Quarterly review (x-pkcs7-signature part)" 02.sample
  multipart_signed "$TMP/c-02" "$TMP/s-02.der" "=_signed_02" sha-256 application/x-pkcs7-signature
} >"$OUT/02-x-pkcs7-signature.eml"
expect 02-x-pkcs7-signature.eml pass

# 03: opaque signed-data
text_entity <"$TMP/body.txt" >"$TMP/c-03"
sign_opaque alice "$TMP/c-03" "$TMP/s-03.der" -md sha256
{ headers "$ALICE" "$CAROL" "Quarterly review (opaque signed-data)" 03.sample
  opaque_entity "$TMP/s-03.der" application/pkcs7-mime signed-data
} >"$OUT/03-opaque-signed-data.eml"
expect 03-opaque-signed-data.eml pass

# 04: opaque, x-pkcs7-mime, no smime-type
text_entity <"$TMP/body.txt" >"$TMP/c-04"
sign_opaque alice "$TMP/c-04" "$TMP/s-04.der" -md sha256
{ headers "$ALICE" "$CAROL" "Quarterly review (x-pkcs7-mime, no smime-type)" 04.sample
  opaque_entity "$TMP/s-04.der" application/x-pkcs7-mime
} >"$OUT/04-opaque-no-smime-type.eml"
expect 04-opaque-no-smime-type.eml pass

# 05: multipart/mixed { multipart/signed, list footer }
text_entity <"$TMP/body.txt" >"$TMP/c-05"
sign_detached alice "$TMP/c-05" "$TMP/s-05.der" -md sha256
{ headers "$ALICE" "Team List <team@lists.example.test>" "[team] Quarterly review" 05.sample
  printf 'List-Id: Team List <team.lists.example.test>\r\n'
  printf 'Content-Type: multipart/mixed; boundary="=_mixed_05"\r\n\r\n'
  printf -- '--=_mixed_05\r\n'
  multipart_signed "$TMP/c-05" "$TMP/s-05.der" "=_signed_05" sha-256
  printf '\r\n--=_mixed_05\r\n'
  printf '%s\n' "_______________________________________________" \
      "team mailing list -- team@lists.example.test" \
      "To unsubscribe send an email to team-leave@lists.example.test" | text_entity
  printf -- '--=_mixed_05--\r\n'
} >"$OUT/05-nested-in-mixed.eml"
expect 05-nested-in-mixed.eml pass

# 06: multipart/mixed { text, message/rfc822 (signed message from Alice) }
{ printf 'Carol,\n\nforwarding my signed note from this morning, see attachment.\n\nAlice\n' | text_entity
} >"$TMP/fwd-text"
{ headers "$ALICE" "Dave Example <dave@example.test>" "Fwd: Quarterly review" 06.sample
  printf 'Content-Type: multipart/mixed; boundary="=_mixed_06"\r\n\r\n'
  printf -- '--=_mixed_06\r\n'
  cat "$TMP/fwd-text"
  printf '\r\n--=_mixed_06\r\n'
  printf 'Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename="Quarterly review.eml"\r\n\r\n'
  sed 's/01\.sample@/06.inner@/' "$OUT/01-multipart-signed-rsa2048.eml"
  printf '\r\n--=_mixed_06--\r\n'
} >"$OUT/06-forwarded-rfc822.eml"
expect 06-forwarded-rfc822.eml pass

# 07: Bob signs a message; Alice signs, as the content of an outer
# multipart/signed, a message/rfc822 entity holding Bob's complete signed
# message (so Bob's signature is bound to the From of Bob's message).
body Bob >"$TMP/body-bob.txt"
text_entity <"$TMP/body-bob.txt" >"$TMP/c-07i"
sign_detached bob "$TMP/c-07i" "$TMP/s-07i.der" -md sha256
{ printf 'Content-Type: message/rfc822\r\n\r\n'
  headers "$BOB" "$CAROL" "Quarterly review (signed by Bob)" 07.inner
  multipart_signed "$TMP/c-07i" "$TMP/s-07i.der" "=_signed_07_inner" sha-256
} >"$TMP/c-07"
sign_detached alice "$TMP/c-07" "$TMP/s-07.der" -md sha256
{ headers "$ALICE" "$CAROL" "Bob's signed note, countersigned by Alice" 07.sample
  multipart_signed "$TMP/c-07" "$TMP/s-07.der" "=_signed_07_outer" sha-256
} >"$OUT/07-signed-inside-signed.eml"
expect 07-signed-inside-signed.eml pass pass

signed_msg 08-rsa3072-sha384.eml rsa3072 sha-384 "RSA 3072 <rsa3072@example.test>" "RSA-3072, SHA-384" -md sha384
expect 08-rsa3072-sha384.eml pass
signed_msg 09-rsa4096-sha512.eml rsa4096 sha-512 "RSA 4096 <rsa4096@example.test>" "RSA-4096, SHA-512" -md sha512
expect 09-rsa4096-sha512.eml pass
signed_msg 10-rsa-pss.eml pss sha-256 "PSS Signer <pss@example.test>" "RSASSA-PSS, SHA-256, salt 32" \
    -md sha256 -keyopt rsa_padding_mode:pss -keyopt rsa_pss_saltlen:digest
expect 10-rsa-pss.eml pass
signed_msg 11-ecdsa-p256.eml p256 sha-256 "P-256 Signer <p256@example.test>" "ECDSA P-256, SHA-256" -md sha256
expect 11-ecdsa-p256.eml pass
signed_msg 12-ecdsa-p384.eml p384 sha-384 "P-384 Signer <p384@example.test>" "ECDSA P-384, SHA-384" -md sha384
expect 12-ecdsa-p384.eml pass
signed_msg 13-ecdsa-p521.eml p521 sha-512 "P-521 Signer <p521@example.test>" "ECDSA P-521, SHA-512" -md sha512
expect 13-ecdsa-p521.eml pass

# 14: Ed25519 (RFC 8419).  OpenSSL 3.0's `cms -sign` cannot sign with Ed25519
# ("invalid digest"), so the SignedData is assembled here byte by byte:
# signed attributes (contentType, signingTime, messageDigest = SHA-512 of the
# content) signed with `pkeyutl -sign -rawin` (PureEdDSA over the DER SET).
text_entity <"$TMP/body.txt" >"$TMP/c-14"
E=$TMP/ed
mkdir -p "$E"
openssl x509 -in "$PKI/ed25519.pem" -outform DER -out "$E/leaf.der"
openssl x509 -in "$INTER" -outform DER -out "$E/inter.der"
# issuer Name and serial INTEGER of the leaf: the 4th and 2nd depth-2 items
openssl asn1parse -inform DER -in "$E/leaf.der" | awk '
    /:d=2 / { n++; split($0, a, ":"); off = a[1] + 0
              hl = $0; sub(/.*hl= */, "", hl); hl += 0
              l = $0; sub(/.* l= */, "", l); l += 0
              if (n == 2) print "serial", off, hl + l
              if (n == 4) { print "issuer", off, hl + l; exit } }' >"$E/offsets"
while read -r what off len; do
    dd if="$E/leaf.der" of="$E/$what.der" bs=1 skip="$off" count="$len" 2>/dev/null
done <"$E/offsets"
printf '0609608648016503040203' | unhex >"$E/sha512.oid"          # id-sha512
printf '06032b6570' | unhex >"$E/ed25519.alg"                      # id-Ed25519
der 30 "$E/sha512.oid" >"$E/sha512.alg"
printf '06092a864886f70d010701' | unhex >"$E/data.oid"             # id-data
openssl dgst -sha512 -binary "$TMP/c-14" >"$E/md"
# contentType
printf '06092a864886f70d010903' | unhex >"$E/a1.oid"
der 31 "$E/data.oid" >"$E/a1.set"
der 30 "$E/a1.oid" "$E/a1.set" >"$E/a1"
# signingTime (UTCTime)
printf '06092a864886f70d010905' | unhex >"$E/a2.oid"
printf '%s' "$(date -u +%y%m%d%H%M%SZ)" >"$E/time"
der 17 "$E/time" >"$E/time.der"
der 31 "$E/time.der" >"$E/a2.set"
der 30 "$E/a2.oid" "$E/a2.set" >"$E/a2"
# messageDigest
printf '06092a864886f70d010904' | unhex >"$E/a3.oid"
der 04 "$E/md" >"$E/md.der"
der 31 "$E/md.der" >"$E/a3.set"
der 30 "$E/a3.oid" "$E/a3.set" >"$E/a3"
# DER SET OF order: by encoding (30 18.. < 30 1c.. < 30 4f..)
der 31 "$E/a1" "$E/a2" "$E/a3" >"$E/attrs.set"
ossl pkeyutl -sign -rawin -inkey "$PKI/ed25519.key" -in "$E/attrs.set" -out "$E/sig"
der a0 "$E/a1" "$E/a2" "$E/a3" >"$E/attrs.impl"
printf '020101' | unhex >"$E/v1"
der 30 "$E/issuer.der" "$E/serial.der" >"$E/sid"
der 30 "$E/ed25519.alg" >"$E/sigalg"
der 04 "$E/sig" >"$E/sig.der"
der 30 "$E/v1" "$E/sid" "$E/sha512.alg" "$E/attrs.impl" "$E/sigalg" "$E/sig.der" >"$E/si"
der 31 "$E/si" >"$E/sis"
der 31 "$E/sha512.alg" >"$E/dalgs"
der 30 "$E/data.oid" >"$E/eci"
der a0 "$E/leaf.der" "$E/inter.der" >"$E/certs"
der 30 "$E/v1" "$E/dalgs" "$E/eci" "$E/certs" "$E/sis" >"$E/sd"
der a0 "$E/sd" >"$E/sd0"
printf '06092a864886f70d010702' | unhex >"$E/sd.oid"
der 30 "$E/sd.oid" "$E/sd0" >"$TMP/s-14.der"
ossl cms -cmsout -inform DER -in "$TMP/s-14.der" -noout      # parses?
{ headers "Ed25519 Signer <ed25519@example.test>" "$CAROL" "Ed25519 (RFC 8419)" 14.sample
  multipart_signed "$TMP/c-14" "$TMP/s-14.der" "=_signed_14" sha-512
} >"$OUT/14-ed25519.eml"
expect 14-ed25519.eml pass

signed_msg 15-no-signed-attributes.eml alice sha-256 "$ALICE" "No signed attributes" -md sha256 -noattr
expect 15-no-signed-attributes.eml pass
signed_msg 16-signer-by-ski.eml alice sha-256 "$ALICE" "Signer identified by subjectKeyIdentifier" -md sha256 -keyid
expect 16-signer-by-ski.eml pass

# 17: one SignedData, two SignerInfos (Alice, then Bob); From Alice
text_entity <"$TMP/body.txt" >"$TMP/c-17"
ossl cms -sign -binary -in "$TMP/c-17" -md sha256 \
    -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" \
    -signer "$PKI/bob.pem" -inkey "$PKI/bob.key" \
    -certfile "$INTER" -outform DER -out "$TMP/s-17.der"
first=$(openssl asn1parse -inform DER -in "$TMP/s-17.der" | awk '
    /:d=3 .*SET/ { found = "" }
    /:d=6 .*INTEGER/ && found == "" { found = $NF; sub(/^:/, "", found) }
    END { print found }')
[ "$first" = "$(openssl x509 -in "$PKI/alice.pem" -noout -serial | sed 's/.*=//')" ] ||
    die "17: the first SignerInfo is not alice's ($first)"
{ headers "$ALICE" "$CAROL" "Two signers (Alice and Bob)" 17.sample
  multipart_signed "$TMP/c-17" "$TMP/s-17.der" "=_signed_17" sha-256
} >"$OUT/17-two-signers.eml"
note "bob is not the From address"
expect 17-two-signers.eml pass policy

# 18: 01 with bare LF line ends
tr -d '\r' <"$OUT/01-multipart-signed-rsa2048.eml" | sed 's/01\.sample@/18.sample@/' >"$OUT/18-lf-line-endings.eml"
expect 18-lf-line-endings.eml pass

# 19: preamble and epilogue
text_entity <"$TMP/body.txt" >"$TMP/c-19"
sign_detached alice "$TMP/c-19" "$TMP/s-19.der" -md sha256
{ headers "$ALICE" "$CAROL" "Preamble and epilogue" 19.sample
  multipart_signed "$TMP/c-19" "$TMP/s-19.der" "=_signed_19" sha-256 application/pkcs7-signature \
      "This is a cryptographically signed message in MIME format." \
      "This epilogue is not signed and must be ignored."
} >"$OUT/19-preamble-epilogue.eml"
expect 19-preamble-epilogue.eml pass

signed_msg 20-nonrepudiation-only.eml nonrep sha-256 "Non Repudiation <nonrep@example.test>" "Signer with keyUsage nonRepudiation only" -md sha256
expect 20-nonrepudiation-only.eml pass
signed_msg 21-smtputf8-mailbox.eml smtputf8 sha-256 "=?UTF-8?Q?J=C3=B6rg?= Example <joerg@example.test>" "Certificate with an SmtpUTF8Mailbox" -md sha256
expect 21-smtputf8-mailbox.eml pass
signed_msg 22-org-multipurpose.eml org sha-256 "Example Test Organization <org@example.test>" "Organization-validated multipurpose certificate" -md sha256
expect 22-org-multipurpose.eml pass
signed_msg 23-indiv-multipurpose.eml indiv sha-256 "Ina Individual <indiv@example.test>" "Individual-validated multipurpose certificate" -md sha256
expect 23-indiv-multipurpose.eml pass

# --- 30..41: negatives --------------------------------------------------------
# 30: one word of the signed text changed after signing
sed 's/on Tuesday at/on Thursday at/; s/01\.sample@/30.sample@/; s/^Subject: .*/Subject: Tampered body\r/' \
    "$OUT/01-multipart-signed-rsa2048.eml" >"$OUT/30-tampered-body.eml"
grep -q Thursday "$OUT/30-tampered-body.eml" || die "30: tampering failed"
note "body changed after signing"
expect 30-tampered-body.eml fail

# 31: bytes flipped inside the signature value (the last OCTET STRING)
text_entity <"$TMP/body.txt" >"$TMP/c-31"
sign_detached alice "$TMP/c-31" "$TMP/s-31.der" -md sha256
set -- $(openssl asn1parse -inform DER -in "$TMP/s-31.der" | awk '/OCTET STRING/ { line = $0 }
    END { split(line, a, ":"); off = a[1] + 0
          hl = line; sub(/.*hl= */, "", hl); hl += 0
          l = line; sub(/.* l= */, "", l); l += 0
          print off + hl, l }')
[ "${2:-0}" -ge 64 ] || die "31: no signature value found"
flip=$(( $1 + $2 / 2 ))
size=$(wc -c <"$TMP/s-31.der" | tr -d ' ')
{ dd if="$TMP/s-31.der" bs=1 count="$flip" 2>/dev/null
  dd if="$TMP/s-31.der" bs=1 skip="$flip" count=4 2>/dev/null | hexbytes |
      awk '{ for (i = 1; i <= length($0); i += 2) {
                 h = substr($0, i, 2); v = 0
                 for (j = 1; j <= 2; j++) v = v * 16 + index("0123456789abcdef", substr(h, j, 1)) - 1
                 printf "%02x", 255 - v } }' | unhex
  dd if="$TMP/s-31.der" bs=1 skip=$((flip + 4)) 2>/dev/null
} >"$TMP/s-31x.der"
[ "$(wc -c <"$TMP/s-31x.der" | tr -d ' ')" -eq "$size" ] || die "31: size changed"
{ headers "$ALICE" "$CAROL" "Tampered signature value" 31.sample
  multipart_signed "$TMP/c-31" "$TMP/s-31x.der" "=_signed_31" sha-256
} >"$OUT/31-tampered-signature.eml"
note "4 bytes of the RSA signature inverted"
expect 31-tampered-signature.eml fail

signed_msg 32-from-not-in-cert.eml alice sha-256 "Mallory <mallory@example.test>" "Signed by Alice, From Mallory" -md sha256
note "valid signature by alice, From mallory"
expect 32-from-not-in-cert.eml policy
signed_msg 33-expired.eml expired sha-256 "Expired Signer <expired@example.test>" "Signer certificate expired 2021-01-01" -md sha256
note "signer certificate valid 2020-01-01..2021-01-01"
expect 33-expired.eml fail
# the untrusted leaf is issued by the untrusted root directly; the message
# carries that root, which must not become a trust anchor
text_entity <"$TMP/body.txt" >"$TMP/c-34"
ossl cms -sign -binary -in "$TMP/c-34" -signer "$PKI/untrusted.pem" -inkey "$PKI/untrusted.key" \
    -certfile "$PKI/untrusted-root.pem" -md sha256 -outform DER -out "$TMP/s-34.der"
{ headers "Untrusted Signer <untrusted@example.test>" "$CAROL" "Signer under an untrusted root" 34.sample
  multipart_signed "$TMP/c-34" "$TMP/s-34.der" "=_signed_34" sha-256
} >"$OUT/34-untrusted-root.eml"
note "chains to smime-milter Untrusted Root (included in the message)"
expect 34-untrusted-root.eml fail
signed_msg 35-wrong-eku.eml wrongeku sha-256 "Wrong EKU <wrongeku@example.test>" "Signer certificate has EKU serverAuth only" -md sha256
note "EKU serverAuth only"
expect 35-wrong-eku.eml fail
signed_msg 36-cert-not-included.eml alice sha-256 "$ALICE" "Signer certificate not included" -md sha256 -nocerts
note "-nocerts: only the intermediate is in the message"
expect 36-cert-not-included.eml permerror

# 37: signature part is random bytes
text_entity <"$TMP/body.txt" >"$TMP/c-37"
openssl rand -out "$TMP/s-37.der" 1024
{ headers "$ALICE" "$CAROL" "Signature part is garbage" 37.sample
  multipart_signed "$TMP/c-37" "$TMP/s-37.der" "=_signed_37" sha-256
} >"$OUT/37-garbage-cms.eml"
note "1024 random bytes instead of CMS"
expect 37-garbage-cms.eml neutral

{ headers "$ALICE" "$CAROL" "Plain unsigned message" 38.sample
  body | text_entity
} >"$OUT/38-unsigned.eml"
expect 38-unsigned.eml none

text_entity <"$TMP/body.txt" >"$TMP/c-39"
ossl cms -encrypt -binary -aes-256-cbc -in "$TMP/c-39" -outform DER -out "$TMP/s-39.der" "$PKI/alice.pem"
{ headers "$CAROL" "$ALICE" "Encrypted only (enveloped-data)" 39.sample
  opaque_entity "$TMP/s-39.der" application/pkcs7-mime enveloped-data
} >"$OUT/39-encrypted-only.eml"
note "enveloped-data for alice, not signed"
expect 39-encrypted-only.eml none

# 40: compressed-data (RFC 3274).  Debian's OpenSSL has no zlib, so the
# CompressedData is built here: a zlib stream of "stored" (uncompressed) deflate
# blocks, which every inflater accepts, wrapped in the CMS structure.
text_entity <"$TMP/body.txt" >"$TMP/c-40"
Z=$TMP/z
mkdir -p "$Z"
zlen=$(wc -c <"$TMP/c-40" | tr -d ' ')
[ "$zlen" -lt 65536 ] || die "40: content too long for one stored block"
od -An -v -tu1 "$TMP/c-40" | awk '
    BEGIN { a = 1; b = 0 }
    { for (i = 1; i <= NF; i++) { a = (a + $i) % 65521; b = (b + a) % 65521 } }
    END { printf "%04x%04x\n", b, a }' >"$Z/adler.hex"
nl=$((65535 - zlen))
# zlib header 78 01, then one final stored block: 01 LEN NLEN (little-endian)
printf '780101%02x%02x%02x%02x\n' $((zlen % 256)) $((zlen / 256)) $((nl % 256)) $((nl / 256)) >"$Z/head.hex"
{ unhex <"$Z/head.hex"; cat "$TMP/c-40"; unhex <"$Z/adler.hex"; } >"$Z/zlib"
der 04 "$Z/zlib" >"$Z/octets"
der a0 "$Z/octets" >"$Z/econtent"
printf '06092a864886f70d010701' | unhex >"$Z/data.oid"
der 30 "$Z/data.oid" "$Z/econtent" >"$Z/eci"
printf '020100' | unhex >"$Z/v0"
printf '060b2a864886f70d0109100308' | unhex >"$Z/zlib.oid"   # id-alg-zlibCompress
der 30 "$Z/zlib.oid" >"$Z/alg"
der 30 "$Z/v0" "$Z/alg" "$Z/eci" >"$Z/cd"
der a0 "$Z/cd" >"$Z/cd0"
printf '060b2a864886f70d0109100109' | unhex >"$Z/cd.oid"     # id-ct-compressedData
der 30 "$Z/cd.oid" "$Z/cd0" >"$TMP/s-40.der"
ossl cms -cmsout -inform DER -in "$TMP/s-40.der" -noout
{ headers "$ALICE" "$CAROL" "Compressed only (compressed-data)" 40.sample
  opaque_entity "$TMP/s-40.der" application/pkcs7-mime compressed-data
} >"$OUT/40-compressed.eml"
note "compressed-data (zlib, stored blocks), not signed"
expect 40-compressed.eml none

{ headers "$ALICE" "$CAROL" "Unsigned multipart/alternative" 41.sample
  printf 'Content-Type: multipart/alternative; boundary="=_alt_41"\r\n\r\n'
  printf -- '--=_alt_41\r\n'
  body | text_entity
  printf '\r\n--=_alt_41\r\n'
  printf 'Content-Type: text/html; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n'
  printf '%s\n' '<html><body><p>Hi Carol,</p>' \
      '<p>The quarterly review meeting is on Tuesday at 10:00 in room 4.</p>' \
      '<p>Regards,<br>Alice</p></body></html>' | crlf
  printf -- '--=_alt_41--\r\n'
} >"$OUT/41-unsigned-multipart.eml"
expect 41-unsigned-multipart.eml none

# --- 50, 51: sizes for benchmarks -------------------------------------------
# bigbody BYTES: deterministic text of about BYTES bytes, 72-column lines.
bigbody() {
    awk -v want="$1" 'BEGIN {
        split("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua", w, " ")
        n = 0; line = ""; k = 0
        print "Hi Carol,"; print ""; n = 11
        while (n < want) {
            word = w[k % 19 + 1]; k++
            if (length(line) + length(word) + 1 > 72) { print line; n += length(line) + 2; line = word }
            else line = (line == "" ? word : line " " word)
        }
        print line; print ""; print "Alice" }'
}
for spec in "50-body-5k-rsa2048.eml alice 5000" "51-body-500k-p256.eml p256 500000"; do
    set -- $spec
    id=${1%%-*}
    bigbody "$3" | text_entity >"$TMP/c-$id"
    sign_detached "$2" "$TMP/c-$id" "$TMP/s-$id.der" -md sha256
    case $2 in alice) from=$ALICE ;; *) from="P-256 Signer <p256@example.test>" ;; esac
    { headers "$from" "$CAROL" "Benchmark body of $3 bytes" "$id.sample"
      multipart_signed "$TMP/c-$id" "$TMP/s-$id.der" "=_signed_$id" sha-256
    } >"$OUT/$1"
    expect "$1" pass
done

# ---------------------------------------------------------------------------
{ cat <<'EOF'
# smime-milter sample mail: expected RFC 7281 result(s) per message.
#
# sample-mail/ is a test PKI that breaks two SBR rules on purpose (VAL-02
# 30-year validity, SAN-MBX-02 .test domain) so tests never expire: every pass
# here carries "SBR ...: 2 errors (VAL-02, SAN-MBX-02)" (or more, where a message
# is about another rule).  `make run` uses the SBR-clean demo set of
# tools/make-demo-mail.sh instead.
#
# FILE RESULT [RESULT...]  -- one result per signature, in depth-first document
# order (an outer signature before those inside its signed content; SignerInfo
# order within one SignedData).  "none": no signature at all.
# Generated by tools/make-sample-mail.sh; trust anchor: pki/trust-anchors.pem.
EOF
  cat "$MANIFEST"
} >"$OUT/MANIFEST"

# The messages of other CMS writers (NSS, BER, RSA-PSS with every hash) and the
# author header cases, made from the same PKI; they add their own MANIFEST block.
sh "$(dirname "$0")/make-sample-mail-extra.sh" "$OUT"

log "done: $(ls "$OUT"/*.eml | wc -l | tr -d ' ') messages in $OUT"
