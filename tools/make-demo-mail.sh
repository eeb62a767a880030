#!/bin/sh
# make-demo-mail.sh -- an SBR-clean demo PKI and a few demo S/MIME messages,
# made for the time it runs.
#
#   sh tools/make-demo-mail.sh OUTDIR
#
# sample-mail/ is the test PKI: long-lived on purpose, so it breaks two SBR
# rules (VAL-02, SAN-MBX-02) and every `pass` of it carries "2 errors".  This
# set is what `make run` shows instead: certificates that meet the S/MIME
# Baseline Requirements profile they claim as far as smime-lint checks them, so
# that a demo `pass` reads "SBR <type>-<generation>: no errors".  The price is
# that it expires: leaves are valid from a day ago for 730 days (within the
# 825-day maximum of the strict and multipurpose generations), so it is made
# when needed (tools/run.sh remakes it when older than 30 days), never
# committed.  tests/check-demo.sh checks what it makes.
#
# Domains are example.com and example.org (RFC 2606 documentation domains that
# are ordinary DNS names, unlike the reserved TLD .test the linter flags); CRL
# and caIssuers URLs are http on example.com hosts, which nobody serves: the
# demo verifies with revocation checking off, as `make run` has it.
#
# Output (OUTDIR/pki is replaced, OUTDIR/*.eml and OUTDIR/MANIFEST rewritten):
#   pki/trust-anchors.pem   the demo root (the anchor to trust)
#   pki/root-ca.pem         "Example Demo Root CA", ECDSA P-384
#   pki/smime-ca.pem        "Example Demo S/MIME CA", ECDSA P-384, issued by the root
#   pki/NAME.pem/.key       leaves: alice (mailbox-strict, RSA-2048),
#                           orders (organization-strict, ECDSA P-256),
#                           ina (individual-multipurpose, RSA-2048),
#                           sam (sponsor-strict, RSA-2048)
#   01..04-*.eml            pass, one per leaf (multipart/signed)
#   05-tampered.eml         fail (alice's message, body changed after signing)
#   06-unsigned.eml         none
#   MANIFEST                FILE RESULT PROFILE per message (as sample-mail/MANIFEST,
#                           plus the SBR profile a pass is linted as)
#
# Needs a POSIX shell, awk, coreutils (GNU date for the dates) and the OpenSSL
# 3.0 command line; no network.  Takes a few seconds.
set -eu

[ $# -eq 1 ] || { echo "usage: sh tools/make-demo-mail.sh OUTDIR" >&2; exit 2; }
OUT=$1
LC_ALL=C
export LC_ALL
unset OPENSSL_CONF || true

die() { echo "make-demo-mail: $*" >&2; exit 1; }
command -v openssl >/dev/null 2>&1 || die "openssl not found"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/make-demo-mail.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' HUP INT TERM

. "$(dirname "$0")/sample-mail-lib.sh"

mkdir -p "$OUT"
rm -rf "$OUT/pki"
rm -f "$OUT"/*.eml "$OUT/MANIFEST"
mkdir -p "$OUT/pki"
PKI=$OUT/pki

# ---------------------------------------------------------------------------
# Dates.  notBefore a day back, so that a clock a little behind the one that
# made the set still finds it valid.  The CAs outlive the leaves by a year.
# ---------------------------------------------------------------------------
NOW=$(date -u +%s)
stamp() { date -u -d "@$1" +%Y%m%d%H%M%SZ 2>/dev/null || die "date -d @EPOCH not supported (GNU date needed)"; }
DAY=86400
LEAF_DAYS=730
NB=$(stamp $((NOW - DAY)))
NA_LEAF=$(stamp $((NOW - DAY + LEAF_DAYS * DAY - 1)))
NA_CA=$(stamp $((NOW - DAY + (LEAF_DAYS + 365) * DAY - 1)))
NA_ROOT=$(stamp $((NOW - DAY + 10 * 365 * DAY - 1)))

CRL_ROOT=http://crl.example.com/demo-root.crl
AIA_ROOT=http://pki.example.com/demo-root.crt
CRL_CA=http://crl.example.com/demo-smime.crl
AIA_CA=http://pki.example.com/demo-smime.crt

# SBR reserved policy OIDs (SBR 7.1.6.1) of the leaves made here
P_MAILBOX_STRICT=2.23.140.1.5.1.3
P_ORG_STRICT=2.23.140.1.5.2.3
P_SPONSOR_STRICT=2.23.140.1.5.3.3
P_INDIV_MULTI=2.23.140.1.5.4.2

pki_init

# Root (SBR 7.1.2.1): CA:TRUE critical, keyCertSign+cRLSign critical, SKI; no
# EKU, no policies.
cat >"$TMP/root.ext" <<EOF
[ ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
genkey p384 "$PKI/root-ca.key"
ca_init root-ca
issue root-ca "/C=US/O=Example Demo PKI/CN=Example Demo Root CA" \
    "$PKI/root-ca.key" "$PKI/root-ca.pem" "$TMP/root.ext" sha384 "$NB" "$NA_ROOT" selfsign

# S/MIME issuing CA (SBR 7.1.2.2): pathlen 0, EKU emailProtection only, the
# reserved policy OIDs of the leaves it issues, CRL DP and caIssuers of the root.
cat >"$TMP/inter.ext" <<EOF
[ ext ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = emailProtection
certificatePolicies = $P_MAILBOX_STRICT, $P_ORG_STRICT, $P_SPONSOR_STRICT, $P_INDIV_MULTI
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:$CRL_ROOT
authorityInfoAccess = caIssuers;URI:$AIA_ROOT
EOF
genkey p384 "$PKI/smime-ca.key"
issue root-ca "/C=US/O=Example Demo PKI/CN=Example Demo S\\/MIME CA" \
    "$PKI/smime-ca.key" "$PKI/smime-ca.pem" "$TMP/inter.ext" sha384 "$NB" "$NA_CA"
ca_init smime-ca
cp "$PKI/root-ca.pem" "$PKI/trust-anchors.pem"

# leaf NAME KEYTYPE POLICY MAILBOX SUBJECT: a subscriber certificate (SBR
# 7.1.2.3): KU digitalSignature (+ keyEncipherment for RSA), EKU
# emailProtection, the one reserved policy OID, the mailbox as rfc822Name,
# CRL DP and caIssuers of the issuing CA.  Signed with SHA-384: the issuing
# CA's key is P-384, and SBR 7.1.3.2.2 pairs P-384 with ecdsa-with-SHA384.
leaf() {
    name=$1 ktype=$2 policy=$3 mail=$4 subj=$5
    case $ktype in
    rsa*) ku="critical, digitalSignature, keyEncipherment" ;;
    *)    ku="critical, digitalSignature" ;;
    esac
    cat >"$TMP/leaf.ext" <<EOF
[ ext ]
keyUsage = $ku
extendedKeyUsage = emailProtection
certificatePolicies = $policy
subjectAltName = email:$mail
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:$CRL_CA
authorityInfoAccess = caIssuers;URI:$AIA_CA
EOF
    genkey "$ktype" "$PKI/$name.key"
    issue smime-ca "$subj" "$PKI/$name.key" "$PKI/$name.pem" "$TMP/leaf.ext" sha384 "$NB" "$NA_LEAF"
}

# Subjects per profile (SBR 7.1.4.2): mailbox-validated only the mailbox;
# organization: O, organizationIdentifier (SBR 7.1.4.2.2(d) scheme NTR, country
# US, state CA), C; individual: givenName, surname; sponsor: both.
leaf alice  rsa2048 $P_MAILBOX_STRICT alice@example.com "/CN=alice@example.com"
leaf orders p256    $P_ORG_STRICT     orders@example.org \
    "/C=US/O=Example Org Inc./organizationIdentifier=NTRUS\\+CA-1234567/CN=Example Org Inc."
leaf ina    rsa2048 $P_INDIV_MULTI    ina.individual@example.com \
    "/C=US/givenName=Ina/surname=Individual/CN=Ina Individual"
leaf sam    rsa2048 $P_SPONSOR_STRICT sam.sponsor@example.org \
    "/C=US/O=Example Org Inc./organizationIdentifier=NTRUS\\+CA-1234567/givenName=Sam/surname=Sponsor/CN=Sam Sponsor"

# ---------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------
DATE=$(date -u '+%a, %d %b %Y %H:%M:%S +0000')
MSGID_DOMAIN=demo.example.com
CAROL="Carol Example <carol@example.com>"
INTER=$PKI/smime-ca.pem
: >"$TMP/MANIFEST"

# signed FILE KEY FROM SUBJECT PROFILE: FROM to Carol, detached signature.
signed() {
    f=$1 k=$2 from=$3 subject=$4 profile=$5
    id=${f%%-*}
    body "${from%% <*}" | text_entity >"$TMP/c-$id"
    ossl cms -sign -binary -md sha256 -in "$TMP/c-$id" -signer "$PKI/$k.pem" -inkey "$PKI/$k.key" \
        -certfile "$INTER" -outform DER -out "$TMP/s-$id.der"
    { headers "$from" "$CAROL" "$subject" "$id.demo"
      multipart_signed "$TMP/c-$id" "$TMP/s-$id.der" "=_signed_$id" sha-256
    } >"$OUT/$f"
    echo "$f pass $profile" >>"$TMP/MANIFEST"
}

signed 01-mailbox-strict.eml alice "Alice Example <alice@example.com>" \
    "Quarterly review (mailbox-validated)" mailbox-strict
signed 02-organization-strict.eml orders "Example Org Orders <orders@example.org>" \
    "Order confirmation (organization-validated)" organization-strict
signed 03-individual-multipurpose.eml ina "Ina Individual <ina.individual@example.com>" \
    "Quarterly review (individual-validated)" individual-multipurpose
signed 04-sponsor-strict.eml sam "Sam Sponsor <sam.sponsor@example.org>" \
    "Quarterly review (sponsor-validated)" sponsor-strict

sed 's/on Tuesday at/on Thursday at/; s/01\.demo@/05.demo@/; s/^Subject: .*/Subject: Tampered body (changed after signing)\r/' \
    "$OUT/01-mailbox-strict.eml" >"$OUT/05-tampered.eml"
grep -q Thursday "$OUT/05-tampered.eml" || die "05: tampering failed"
echo "05-tampered.eml fail" >>"$TMP/MANIFEST"

{ headers "Alice Example <alice@example.com>" "$CAROL" "Plain unsigned message" 06.demo
  body | text_entity
} >"$OUT/06-unsigned.eml"
echo "06-unsigned.eml none" >>"$TMP/MANIFEST"

{ cat <<EOF
# smime-milter demo mail, made by tools/make-demo-mail.sh at $(date -u +%Y-%m-%dT%H:%M:%SZ).
# FILE RESULT [SBR-PROFILE]; trust anchor: pki/trust-anchors.pem; leaves valid
# $NB .. $NA_LEAF.
EOF
  cat "$TMP/MANIFEST"
} >"$OUT/MANIFEST"
