#!/bin/sh
# make-sample-mail-extra.sh -- sample messages whose CMS another writer than
# OpenSSL's DER encoder made: NSS (the library of Thunderbird), BER re-encodings
# of DER samples, RSASSA-PSS with every SHA-2 hash, and author headers with
# control bytes.
#
#   sh tools/make-sample-mail-extra.sh [OUTDIR]        (default OUTDIR: sample-mail)
#
# tools/make-sample-mail.sh runs it as its last step; run it alone to remake only
# these messages.  It uses the PKI in OUTDIR/pki and the messages 01, 03, 10, 11,
# 13 and 31 that make-sample-mail.sh wrote, and replaces only its own messages
# (24-26, 42-45, 60-99) and its own block of OUTDIR/MANIFEST (between the
# "begin/end make-sample-mail-extra.sh" lines); nothing else is touched, so the
# other messages (and the golden files made from them) stay as they are.
#
# Needs, besides what make-sample-mail.sh needs: python3 (tools/ber-reencode.py)
# and certutil, pk12util and cmsutil from Debian's libnss3-tools.  No network.
set -eu

OUT=${1:-sample-mail}
HERE=$(dirname "$0")
LC_ALL=C
export LC_ALL
unset OPENSSL_CONF || true

TMP=$(mktemp -d "${TMPDIR:-/tmp}/make-sample-mail-extra.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' HUP INT TERM

die() { echo "make-sample-mail-extra: $*" >&2; exit 1; }
log() { echo "make-sample-mail-extra: $*" >&2; }

for tool in openssl python3 certutil pk12util cmsutil; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (libnss3-tools for the NSS tools)"
done
PKI=$OUT/pki
INTER=$PKI/smime-ca.pem
[ -f "$PKI/trust-anchors.pem" ] || die "no PKI in $PKI: run tools/make-sample-mail.sh first"
for n in 01 03 10 11 13 31; do
    ls "$OUT/$n"-*.eml >/dev/null 2>&1 || die "no message $n in $OUT: run tools/make-sample-mail.sh first"
done

. "$HERE/sample-mail-lib.sh"
DATE=$(date -u '+%a, %d %b %Y %H:%M:%S +0000')

# run CMD...: quiet unless it fails.
run() {
    if ! "$@" >"$TMP/run.log" 2>&1; then
        cat "$TMP/run.log" >&2
        die "$1 failed"
    fi
}

for f in "$OUT"/2[456]-*.eml "$OUT"/4[2-5]-*.eml "$OUT"/[6-9][0-9]-*.eml; do
    [ -e "$f" ] && rm -f "$f"
done

MANIFEST=$TMP/MANIFEST
: >"$MANIFEST"
expect() { echo "$*" >>"$MANIFEST"; }
note() { echo "# $*" >>"$MANIFEST"; }

# The signed text of every message here: the same as make-sample-mail.sh's.
body >"$TMP/body.txt"
text_entity <"$TMP/body.txt" >"$TMP/content"

# replace FILE OLD NEW: OLD (bytes, once, exactly) becomes NEW in FILE.  Works on
# binary data, where sed would not.
replace() {
    python3 - "$1" "$2" "$3" <<'EOF'
import sys
path, old, new = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
data = open(path, "rb").read()
if data.count(old) != 1:
    sys.exit("replace: %r occurs %d times in %s" % (old, data.count(old), path))
open(path, "wb").write(data.replace(old, new))
EOF
}

# tamper_body EML OUT ID SUBJECT: the signed text of EML changed after signing
# (Tuesday -> Thursday), with its own Message-ID and Subject.
tamper_body() {
    sed "s/on Tuesday at/on Thursday at/; s/^Message-ID: .*/Message-ID: <$3.sample@example.test>\r/; s/^Subject: .*/Subject: $4\r/" \
        "$1" >"$2"
    grep -q Thursday "$2" || die "$2: tampering failed"
}

# cms_of EML OUT.der: the CMS object of a message made by sample-mail-lib.sh (the
# base64 after the smime.p7s/p7m part headers).
cms_of() {
    awk 'inb && /^--/ { exit }
         inb { print }
         hdr && /^\r?$/ { inb = 1 }
         /^Content-Disposition: attachment; filename="smime\.p7[sm]"/ { hdr = 1 }' "$1" |
        tr -d '\r' | openssl base64 -d >"$2"
    [ -s "$2" ] || die "$1: no CMS found"
}

# with_cms EML CMS ID SUBJECT OUT: EML with its CMS (the base64 block) replaced by
# CMS, and its own Message-ID and Subject.
with_cms() {
    b64 <"$2" >"$TMP/with.b64"
    awk -v b64="$TMP/with.b64" -v id="$3" -v subj="$4" '
        hdr && !inb && /^\r?$/ { print; inb = 1
            while ((getline l < b64) > 0) print l
            next }
        inb && /^[A-Za-z0-9+\/=]+\r?$/ { next }
        inb { inb = 0; hdr = 0 }
        /^Content-Disposition: attachment; filename="smime\.p7[sm]"/ { hdr = 1 }
        !done && /^Message-ID: / { printf "Message-ID: <%s.sample@example.test>\r\n", id; next }
        !done && /^Subject: / { printf "Subject: %s\r\n", subj; next }
        /^\r?$/ { done = 1 }
        { print }' "$1" >"$5"
}

# ---------------------------------------------------------------------------
# 24..26: RSASSA-PSS with SHA-256, SHA-384, SHA-512 (OpenSSL)
# ---------------------------------------------------------------------------
PSS="PSS Signer <pss@example.test>"
note "---- 24..26: RSASSA-PSS made by OpenSSL 3.0 (openssl cms -sign, DER): the hash, MGF1"
note "with the same hash, salt length = hash length (rsa_pss_saltlen:-1), RFC 4055 / 8702"
for spec in 24:sha256 25:sha384 26:sha512; do
    n=${spec%%:*} md=${spec#*:}
    run openssl cms -sign -binary -in "$TMP/content" -signer "$PKI/pss.pem" -inkey "$PKI/pss.key" \
        -certfile "$INTER" -outform DER -out "$TMP/pss.der" -md "$md" \
        -keyopt rsa_padding_mode:pss -keyopt rsa_pss_saltlen:-1
    f=$n-rsa-pss-$md.eml
    { headers "$PSS" "$CAROL" "RSASSA-PSS, $md, MGF1-$md, salt = hash length" "$n.sample"
      multipart_signed "$TMP/content" "$TMP/pss.der" "=_signed_$n" "$(echo "$md" | sed 's/sha/sha-/')"
    } >"$OUT/$f"
    expect "$f" pass
done

# ---------------------------------------------------------------------------
# 42..45: control bytes in the author headers, validly signed by alice
# ---------------------------------------------------------------------------
# author_msg NUM NAME SUBJECT HEADERFMT: alice's signed message whose From (and
# Sender) lines are the printf format HEADERFMT (so octal escapes give any byte).
author_msg() {
    run openssl cms -sign -binary -in "$TMP/content" -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" \
        -certfile "$INTER" -outform DER -out "$TMP/alice.der" -md sha256
    # shellcheck disable=SC2059 # the format is the point
    { printf "$4"
      headers "$ALICE" "$CAROL" "$3" "$1.sample" | sed 1d
      multipart_signed "$TMP/content" "$TMP/alice.der" "=_signed_$1" sha-256
    } >"$OUT/$1-$2.eml"
    expect "$1-$2.eml" policy
}
note "---- 42..45: a signature by alice, valid, but a From or Sender header holds a control"
note "byte (the message is otherwise 01): the author a reader shows is ambiguous -> policy"
author_msg 42 from-nul "From with a NUL byte" \
    'From: Alice Example <alice@example.test>\000 Mallory <mallory@example.test>\r\n'
author_msg 43 from-soh "From with a SOH (0x01) in the display name" \
    'From: Alice Example\001 <alice@example.test>\r\n'
author_msg 44 from-esc "From with an ANSI escape sequence" \
    'From: \033[8mMallory <mallory@example.test>\033[0m Alice Example <alice@example.test>\r\n'
author_msg 45 sender-nul "From mallory, Sender alice with a NUL byte" \
    'From: Mallory <mallory@example.test>\r\nSender: Alice Example <alice@example.test>\000 Mallory <mallory@example.test>\r\n'
# Through an MTA the NULs never reach the milter: libmilter hands a header value
# over as a C string, cut at the NUL.  Postfix cuts the header line there too
# before it queues the message, so what it delivers has alice's From (Sender)
# alone and the milter rightly says pass.  Sendmail drops the NUL and keeps the
# rest: the milter sees two mailboxes with no comma between them, a From that
# names mallory (policy) and a Sender of two mailboxes (policy, ambiguous-from),
# as without an MTA.  "#via MTA FILE RESULT..." lines give what the tests that
# send through that MTA must see instead.
note "\"#via MTA FILE RESULT...\": what FILE gives once MTA (postfix, sendmail) has queued"
note "it: Postfix cuts a header line at a NUL byte (Sendmail drops the NUL and keeps the rest)."
echo "#via postfix 42-from-nul.eml pass" >>"$MANIFEST"
echo "#via postfix 45-sender-nul.eml pass" >>"$MANIFEST"

# ---------------------------------------------------------------------------
# 60..79: NSS (cmsutil): BER, as Thunderbird sends it
# ---------------------------------------------------------------------------
log "signing with NSS (cmsutil)"
NSSDB=sql:$TMP/nssdb
mkdir -p "$TMP/nssdb"
run certutil -N -d "$NSSDB" --empty-password
run certutil -A -d "$NSSDB" -n root -t "C,C,C" -i "$PKI/root-ca.pem"
run certutil -A -d "$NSSDB" -n smime-ca -t ",," -i "$INTER"
for k in alice p256 p384; do
    run openssl pkcs12 -export -inkey "$PKI/$k.key" -in "$PKI/$k.pem" -certfile "$INTER" \
        -name "$k" -passout pass:nss -out "$TMP/$k.p12"
    run pk12util -i "$TMP/$k.p12" -d "$NSSDB" -W nss
done

# nss_msg NUM SIGNER HASH FORM FROM: message NUM signed by cmsutil as Thunderbird
# signs (signing time, S/MIME capabilities, encryption key preference), and its
# tampered twin NUM+10.  FORM is detached or opaque.
nss_msg() {
    num=$1 k=$2 hash=$3 form=$4 from=$5
    mic=$(echo "$hash" | tr 'A-Z' 'a-z' | sed 's/sha/sha-/')
    keyname=$(case $k in alice) echo RSA-2048 ;; p256) echo ECDSA P-256 ;; *) echo ECDSA P-384 ;; esac)
    f=$num-nss-$form-$k-$(echo "$hash" | tr 'A-Z' 'a-z').eml
    t=$((num + 10))-nss-$form-$k-$(echo "$hash" | tr 'A-Z' 'a-z')-tampered.eml
    subj="NSS cmsutil, $form, $keyname, $hash"
    if [ "$form" = detached ]; then
        run cmsutil -S -T -N "$k" -H "$hash" -G -P -d "$NSSDB" -i "$TMP/content" -o "$TMP/nss.ber"
        { headers "$from" "$CAROL" "$subj" "$num.sample"
          multipart_signed "$TMP/content" "$TMP/nss.ber" "=_signed_$num" "$mic"
        } >"$OUT/$f"
        tamper_body "$OUT/$f" "$OUT/$t" "$((num + 10))" "$subj, body changed after signing"
    else
        run cmsutil -S -N "$k" -H "$hash" -G -P -d "$NSSDB" -i "$TMP/content" -o "$TMP/nss.ber"
        { headers "$from" "$CAROL" "$subj" "$num.sample"
          opaque_entity "$TMP/nss.ber" application/pkcs7-mime signed-data
        } >"$OUT/$f"
        # the encapsulated text changed inside the CMS (same length, so only
        # the content differs)
        cp "$TMP/nss.ber" "$TMP/nss-t.ber"
        replace "$TMP/nss-t.ber" "in room 4." "in room 9."
        { headers "$from" "$CAROL" "$subj, content changed after signing" "$((num + 10)).sample"
          opaque_entity "$TMP/nss-t.ber" application/pkcs7-mime signed-data
        } >"$OUT/$t"
    fi
    head -c 2 "$TMP/nss.ber" | od -An -tx1 | grep -q '30 80' || die "$f: NSS did not write BER"
    expect "$f" pass
    NSS_TAMPERED="$NSS_TAMPERED $t"
}

P256="P-256 Signer <p256@example.test>"
P384="P-384 Signer <p384@example.test>"
NSS_TAMPERED=
note "---- 60..79: made by NSS (libnss3-tools cmsutil -S, as Thunderbird signs: signing"
note "time, SMIMECapabilities, encryption key preference).  NSS writes BER: indefinite"
note "lengths, the encapsulated content as a constructed OCTET STRING.  Each NN has a"
note "tampered twin NN+10 (the signed text changed after signing) that must fail."
nss_msg 60 alice SHA256 detached "$ALICE"
nss_msg 61 alice SHA256 opaque   "$ALICE"
nss_msg 62 alice SHA384 detached "$ALICE"
nss_msg 63 alice SHA512 opaque   "$ALICE"
nss_msg 64 p256  SHA256 detached "$P256"
nss_msg 65 p256  SHA256 opaque   "$P256"
nss_msg 66 p384  SHA384 detached "$P384"
nss_msg 67 p384  SHA512 opaque   "$P384"
nss_msg 68 alice SHA512 detached "$ALICE"
nss_msg 69 p384  SHA384 opaque   "$P384"
for t in $(printf '%s\n' $NSS_TAMPERED | sort); do expect "$t" fail; done

# ---------------------------------------------------------------------------
# 80..95: BER re-encodings (tools/ber-reencode.py) of OpenSSL's DER
# ---------------------------------------------------------------------------
log "re-encoding DER samples in BER"
ber() { run python3 "$HERE/ber-reencode.py" "$@"; }
first() { ls "$OUT/$1"-*.eml | head -n 1; }

# ber_twin NUM SOURCE SUBJECT: message NUM is message SOURCE with its CMS in BER.
ber_twin() {
    cms_of "$(first "$2")" "$TMP/src.der"
    ber "$TMP/src.der" "$TMP/ber"
    f=$1-ber-of-$(basename "$(first "$2")" | sed 's/^[0-9]*-//')
    with_cms "$(first "$2")" "$TMP/ber" "$1" "$3" "$OUT/$f"
}
note "---- 80..95: BER re-encodings (tools/ber-reencode.py: every constructed element of"
note "the envelope in indefinite length, the content and the signature value as nested"
note "constructed OCTET STRINGs, non-minimal lengths; certificates, signer identifier"
note "and signed attributes kept as signed) of OpenSSL's DER.  Same verdict as the DER."
ber_twin 80 01 "BER re-encoding of 01 (multipart/signed, RSA-2048)"
expect "$f" pass
ber_twin 81 03 "BER re-encoding of 03 (opaque signed-data, RSA-2048)"
expect "$f" pass
ber_twin 82 11 "BER re-encoding of 11 (multipart/signed, ECDSA P-256)"
expect "$f" pass
ber_twin 83 13 "BER re-encoding of 13 (multipart/signed, ECDSA P-521, SHA-512)"
expect "$f" pass
ber_twin 84 10 "BER re-encoding of 10 (multipart/signed, RSASSA-PSS)"
expect "$f" pass
# an opaque ECDSA message, signed here by OpenSSL in DER, then re-encoded
run openssl cms -sign -nodetach -binary -in "$TMP/content" -signer "$PKI/p384.pem" \
    -inkey "$PKI/p384.key" -certfile "$INTER" -md sha384 -outform DER -out "$TMP/p384-opaque.der"
ber "$TMP/p384-opaque.der" "$TMP/ber"
{ headers "$P384" "$CAROL" "BER, opaque signed-data, ECDSA P-384, SHA-384" 85.sample
  opaque_entity "$TMP/ber" application/pkcs7-mime signed-data
} >"$OUT/85-ber-opaque-p384.eml"
expect 85-ber-opaque-p384.eml pass

BER_TAMPERED=
# 90, 95: the signed text changed after signing; 91: 31's inverted signature bytes
for spec in 90:80 95:82; do
    n=${spec%%:*} src=$(first "${spec#*:}")
    t=$n-$(basename "$src" | sed 's/^[0-9]*-//; s/\.eml$//')-tampered.eml
    tamper_body "$src" "$OUT/$t" "$n" "BER, body changed after signing"
    BER_TAMPERED="$BER_TAMPERED $t"
done
ber_twin 91 31 "BER re-encoding of 31 (signature value bytes inverted)"
BER_TAMPERED="$BER_TAMPERED $f"
# 92: the attack of issue 13 on 01 with its body tampered: nothing re-encoded but
# the outer length, 30 82 LL LL -> 30 80 ... 00 00; needs no key
cms_of "$(first 01)" "$TMP/src.der"
ber --outer-only "$TMP/src.der" "$TMP/ber"
with_cms "$(first 01)" "$TMP/ber" 92 "Outer length indefinite (no other change)" "$TMP/92.eml"
tamper_body "$TMP/92.eml" "$OUT/92-outer-indefinite-tampered.eml" 92 \
    "Outer ContentInfo length made indefinite, body changed after signing"
BER_TAMPERED="$BER_TAMPERED 92-outer-indefinite-tampered.eml"
# 93, 94: opaque, the encapsulated text changed in the DER, then re-encoded
cms_of "$(first 03)" "$TMP/src.der"
replace "$TMP/src.der" "in room 4." "in room 9."
ber "$TMP/src.der" "$TMP/ber"
with_cms "$(first 03)" "$TMP/ber" 93 "BER, opaque RSA-2048, content changed after signing" \
    "$OUT/93-ber-opaque-rsa2048-tampered.eml"
cp "$TMP/p384-opaque.der" "$TMP/src.der"
replace "$TMP/src.der" "in room 4." "in room 9."
ber "$TMP/src.der" "$TMP/ber"
{ headers "$P384" "$CAROL" "BER, opaque ECDSA P-384, content changed after signing" 94.sample
  opaque_entity "$TMP/ber" application/pkcs7-mime signed-data
} >"$OUT/94-ber-opaque-p384-tampered.eml"
BER_TAMPERED="$BER_TAMPERED 93-ber-opaque-rsa2048-tampered.eml 94-ber-opaque-p384-tampered.eml"
note "tampered BER twins: a failed check is fail, whatever the encoding"
for t in $(printf '%s\n' $BER_TAMPERED | sort); do expect "$t" fail; done

# ---------------------------------------------------------------------------
# Done: this script's block of the MANIFEST replaced
# ---------------------------------------------------------------------------
BEGIN_MARK="# ---- begin make-sample-mail-extra.sh ----"
END_MARK="# ---- end make-sample-mail-extra.sh ----"
if [ -f "$OUT/MANIFEST" ]; then
    awk -v b="$BEGIN_MARK" -v e="$END_MARK" '$0 == b { skip = 1 } !skip { print } $0 == e { skip = 0 }' \
        "$OUT/MANIFEST" >"$TMP/MANIFEST.old"
else
    : >"$TMP/MANIFEST.old"
fi
{ cat "$TMP/MANIFEST.old"
  echo "$BEGIN_MARK"
  echo "# Generated by tools/make-sample-mail-extra.sh (the same PKI and trust anchor)."
  cat "$MANIFEST"
  echo "$END_MARK"
} >"$OUT/MANIFEST"

log "done: $(grep -c '^[0-9]' "$MANIFEST") messages"
