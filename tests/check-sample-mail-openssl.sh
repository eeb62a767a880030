#!/bin/sh
# check-sample-mail-openssl.sh -- cross-checks sample-mail/ with OpenSSL alone.
#
#   sh tests/check-sample-mail-openssl.sh [BUILD_DIR]     (BUILD_DIR is unused)
#
# For every message in sample-mail/MANIFEST it asks the OpenSSL 3.0 command line
# whether the expected results are plausible, independently of our own code:
#   pass/policy  every signed entity (found by a small MIME walk: multipart/*,
#                message/rfc822, the content of multipart/signed) verifies
#                with pki/trust-anchors.pem, -purpose smimesign, at 2026-06-01;
#                each signer certificate, in SignerInfo order, matches (pass)
#                or does not match (policy) the From address of its message
#                (`x509 -checkemail`), and the number of signers is the number
#                of results.  Ed25519 (which OpenSSL 3.0 CMS cannot verify) is
#                checked by hand: chain, messageDigest, PureEdDSA signature.
#   fail         OpenSSL rejects it (with the specific error where one is known).
#   permerror    rejected for "signer certificate not found", and verifies once
#                the pki/ leaf certificates are supplied.
#   neutral      OpenSSL cannot even parse the CMS.
#   none         OpenSSL finds no signed data.
# It also checks line ends (CRLF everywhere except 18-lf-line-endings.eml) and
# that MANIFEST and the *.eml files list the same messages.
# Prints one line per message; exits non-zero on any mismatch.
set -u

DIR=${SAMPLE_MAIL_DIR:-sample-mail}
AT=1780272000                       # 2026-06-01T00:00:00Z, inside the validity window
TA=$DIR/pki/trust-anchors.pem
LC_ALL=C
export LC_ALL
unset OPENSSL_CONF || true

[ -f "$DIR/MANIFEST" ] || { echo "no $DIR/MANIFEST" >&2; exit 1; }
command -v openssl >/dev/null 2>&1 || { echo "openssl not found" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/check-sample-mail.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM

bad=0
checked=0
# Mismatches and the queue of expected results live in files, so that the
# recursive MIME walk can run each level in a subshell (no `local` in POSIX sh).
problem() { echo "  MISMATCH $file: $*"; echo "$file" >>"$T/bad"; }

# header NAME FILE: the unfolded value of the first NAME header of FILE's header block.
header() {
    awk -v name="$1" '
        { sub(/\r$/, "") }
        /^$/ { exit }
        /^[ \t]/ { if (cur != "") cur = cur " " substr($0, 2); next }
        { if (cur != "" && !found) { found = 1; print cur; exit } ; cur = "" }
        tolower(substr($0, 1, length(name) + 1)) == tolower(name) ":" { cur = substr($0, length(name) + 2) }
        END { if (cur != "" && !found) print cur }' "$2" | sed 's/^[ \t]*//'
}
ctype() { header Content-Type "$1" | sed 's/;.*//; s/[ \t]*$//' | tr 'A-Z' 'a-z'; }
boundary() { header Content-Type "$1" | sed -n 's/.*[Bb][Oo][Uu][Nn][Dd][Aa][Rr][Yy]="\{0,1\}\([^";]*\)"\{0,1\}.*/\1/p'; }
from_addr() {
    header From "$1" | sed 's/.*<\([^>]*\)>.*/\1/; s/[ \t]//g'
}
# body FILE: everything after the header block.
body() { awk 'done { print; next } /^\r?$/ { done = 1 }' "$1"; }
# part FILE BOUNDARY N: the bytes of part N, without the CRLF before the next delimiter.
part() {
    awk -v B="$2" -v N="$3" '
        { line = $0; l = line; sub(/\r$/, "", l) }
        inpart && (l == "--" B || l == "--" B "--") { sub(/\r$/, "", prev); printf "%s", prev; exit }
        inpart { if (started) print prev; prev = line; started = 1; next }
        l == "--" B { k++; if (k == N) inpart = 1 }' "$1"
}
nparts() {
    awk -v B="$2" '{ l = $0; sub(/\r$/, "", l) } l == "--" B { k++ } l == "--" B "--" { exit } END { print k + 0 }' "$1"
}

# author_control FILE: prints the name of the first From or Sender header of FILE's
# header block that holds a control byte other than folding white space (HTAB,
# CRLF + SP/HTAB), if any.  Such an author is ambiguous whatever OpenSSL says of
# the address (MANIFEST: policy).  Read from the bytes: awk and C strings stop at NUL.
author_control() {
    python3 - "$1" <<'PY'
import re, sys
data = re.sub(rb"\r?\n", b"\r\n", open(sys.argv[1], "rb").read())   # 18 has bare LF
end = data.find(b"\r\n\r\n")
head = data[:end if end >= 0 else len(data)]
for field in re.split(rb"\r\n(?![ \t])", head):
    name, _, value = field.partition(b":")
    if name.strip().lower() in (b"from", b"sender"):
        value = re.sub(rb"\r\n(?=[ \t])", b"", value)
        if any((c < 0x20 and c != 9) or c == 0x7F for c in value):
            print(name.strip().decode())
            break
PY
}

# take_result: pops the next expected result from $T/queue into $res.
take_result() {
    res=$(sed -n 1p "$T/queue")
    sed 1d "$T/queue" >"$T/queue.new" && mv "$T/queue.new" "$T/queue"
}

# check_binding CERTFILE FROM: compares the certificate with the From address.
check_binding() {
    take_result
    if [ -z "$res" ]; then problem "more signatures than results in MANIFEST"; return; fi
    if [ -n "$wctl" ]; then
        match=policy
        echo "    $wctl header holds a control byte: the author is ambiguous"
    elif openssl x509 -in "$1" -noout -checkemail "$2" 2>/dev/null | grep -q 'does match'; then
        match=pass
    else
        match=policy
    fi
    [ "$res" = "$match" ] || problem "signer $(openssl x509 -in "$1" -noout -subject) vs From $2: openssl says $match, MANIFEST $res"
}

# check_ed25519 ENTITY: OpenSSL 3.0 CMS cannot verify Ed25519 (RFC 8419), so
# verify by hand: chain of the signer, messageDigest over the content, and
# the PureEdDSA signature over the DER SET OF signed attributes.
check_ed25519() {
    e=$1
    openssl cms -cmsout -in "$e" -outform DER -out "$T/ed.der" 2>/dev/null || { problem "ed25519: cannot read CMS"; return 1; }
    openssl pkcs7 -inform DER -in "$T/ed.der" -print_certs 2>/dev/null | awk '
        /BEGIN CERT/ { n++ } { if (n == 1) print > "'"$T"'/ed-leaf.pem"; else if (n > 1) print > "'"$T"'/ed-chain.pem" }'
    openssl verify -CAfile "$TA" -untrusted "$T/ed-chain.pem" -purpose smimesign -attime "$AT" \
        "$T/ed-leaf.pem" >/dev/null 2>&1 || { problem "ed25519: signer chain does not verify"; return 1; }
    part "$e" "$(boundary "$e")" 1 >"$T/ed-content"
    md=$(openssl dgst -sha512 -binary "$T/ed-content" | od -An -v -tx1 | tr -d ' \n')
    set -- $(openssl asn1parse -inform DER -in "$T/ed.der" | awk '
        /:d=5 .*cont \[ 0 \]/ { split($0, a, ":"); o = a[1] + 0
            h = $0; sub(/.*hl= */, "", h); h += 0; l = $0; sub(/.* l= */, "", l); l += 0; attrs = o " " h + l }
        /:d=5 .*OCTET STRING/ { split($0, a, ":"); o = a[1] + 0
            h = $0; sub(/.*hl= */, "", h); h += 0; l = $0; sub(/.* l= */, "", l); l += 0; sig = o + h " " l }
        END { print attrs, sig }')
    [ $# -eq 4 ] || { problem "ed25519: cannot find signed attributes"; return 1; }
    { printf '1'; dd if="$T/ed.der" bs=1 skip=$(($1 + 1)) count=$(($2 - 1)) 2>/dev/null; } >"$T/ed-attrs.tmp"
    # the first byte must be the SET tag 0x31 instead of [0] 0xa0; "1" is 0x31
    dd if="$T/ed.der" bs=1 skip="$3" count="$4" of="$T/ed-sig" 2>/dev/null
    mv "$T/ed-attrs.tmp" "$T/ed-attrs"
    od -An -v -tx1 "$T/ed-attrs" | tr -d ' \n' | grep -q "0440$md" || { problem "ed25519: messageDigest does not match content"; return 1; }
    openssl x509 -in "$T/ed-leaf.pem" -noout -pubkey >"$T/ed-pub.pem"
    openssl pkeyutl -verify -rawin -pubin -inkey "$T/ed-pub.pem" -in "$T/ed-attrs" -sigfile "$T/ed-sig" >/dev/null 2>&1 ||
        { problem "ed25519: signature does not verify"; return 1; }
    cp "$T/ed-leaf.pem" "$T/signers.pem"
    echo "    ed25519 by hand: chain ok, messageDigest ok, signature ok"
    return 0
}

# verify_entity ENTITY FROM: one signed entity must verify; then binding per signer.
verify_entity() {
    e=$1 from=$2
    rm -f "$T/signers.pem"
    if openssl cms -cmsout -in "$e" -print 2>/dev/null | grep -q 'ED25519'; then
        check_ed25519 "$e" || return
    elif ! openssl cms -verify -in "$e" -CAfile "$TA" -purpose smimesign -attime "$AT" \
            -signer "$T/signers.pem" -out /dev/null >"$T/err" 2>&1; then
        problem "openssl does not verify ($(awk -F: '/:error:/ { print $5 ": " $6; exit }' "$T/err"))"
        return
    fi
    n=0
    awk -v d="$T" '/BEGIN CERT/ { n++ } { print > (d "/signer-" n ".pem") }' "$T/signers.pem"
    i=1
    while [ -f "$T/signer-$i.pem" ]; do
        check_binding "$T/signer-$i.pem" "$from"
        rm -f "$T/signer-$i.pem"
        i=$((i + 1)); n=$((n + 1))
    done
    echo "    verified signed entity ($n signer(s), From $from)"
}

# walk FILE FROM DEPTH: depth-first over the MIME tree, verifying signed entities.
walk() {
    w=$1 wfrom=$2 depth=$3
    [ "$depth" -lt 8 ] || { problem "nesting too deep"; return; }
    f2=$(from_addr "$w"); [ -z "$f2" ] || { wfrom=$f2; wctl=$(author_control "$w"); }
    case $(ctype "$w") in
    multipart/signed)
        verify_entity "$w" "$wfrom"
        part "$w" "$(boundary "$w")" 1 >"$w.1"
        (walk "$w.1" "$wfrom" $((depth + 1))) ;;
    application/pkcs7-mime|application/x-pkcs7-mime)
        verify_entity "$w" "$wfrom" ;;
    multipart/*)
        b=$(boundary "$w"); k=1; np=$(nparts "$w" "$b")
        while [ "$k" -le "$np" ]; do
            part "$w" "$b" "$k" >"$w.$k"
            (walk "$w.$k" "$wfrom" $((depth + 1)))
            k=$((k + 1))
        done ;;
    message/rfc822)
        body "$w" >"$w.m"
        (wctl=; walk "$w.m" "" $((depth + 1))) ;;
    esac
}

# reject FILE PATTERN: OpenSSL must refuse the message (with PATTERN in its output).
reject() {
    if openssl cms -verify -in "$1" -CAfile "$TA" -purpose smimesign -attime "$AT" \
            -out /dev/null >"$T/err" 2>&1; then
        problem "openssl verifies it, expected a rejection"
    elif [ -n "$2" ] && ! grep -Eqi "$2" "$T/err"; then
        problem "openssl rejects it, but not with /$2/: $(awk -F: '/:error:/ { print $5 ": " $6; exit }' "$T/err")"
    else
        echo "    openssl rejects: $(grep -Eio "$2" "$T/err" | head -n 1)"
    fi
}

echo "OpenSSL cross-check of $DIR ($(openssl version)), at $AT (2026-06-01)"
grep -v '^[ \t]*#' "$DIR/MANIFEST" | grep -v '^[ \t]*$' >"$T/manifest"
while read -r file results; do
    checked=$((checked + 1))
    f=$DIR/$file
    echo "$file: $results"
    [ -f "$f" ] || { problem "missing file"; continue; }
    # line ends
    if [ "$file" = 18-lf-line-endings.eml ]; then
        ! grep -q "$(printf '\r')" "$f" || problem "has CR characters, expected bare LF"
    else
        awk '!/\r$/ { bad = 1; exit } END { exit bad }' "$f" || problem "has lines without CRLF"
    fi
    set -- $results
    allok=1
    for r in "$@"; do case $r in pass|policy) ;; *) allok=0 ;; esac; done
    if [ "$allok" = 1 ]; then
        cp "$f" "$T/m"
        printf '%s\n' "$@" >"$T/queue"
        (wctl=; walk "$T/m" "" 0)
        [ ! -s "$T/queue" ] || problem "fewer signatures than results; left over: $(cat "$T/queue" | tr '\n' ' ')"
    else
        [ $# -eq 1 ] || { problem "cannot cross-check a mix of results"; continue; }
        case $1:$file in
        fail:30-*)      reject "$f" 'verification failure|digest' ;;
        fail:31-*)      reject "$f" 'padding|signature failure|verification failure' ;;
        fail:33-*)      reject "$f" 'certificate has expired' ;;
        fail:34-*)      reject "$f" 'self-signed certificate in certificate chain|unable to get local issuer' ;;
        fail:35-*)      reject "$f" 'unsuitable certificate purpose|unsupported certificate purpose' ;;
        fail:7[0-9]-*|fail:9[02-5]-*)   # NSS and BER, content changed after signing
                        reject "$f" 'digest|verification failure' ;;
        fail:91-*)      reject "$f" 'padding|signature failure|verification failure' ;;
        fail:*)         reject "$f" '' ;;
        permerror:*)    reject "$f" 'signer certificate not found'
                        cat "$DIR"/pki/*.pem >"$T/all.pem"
                        if openssl cms -verify -in "$f" -CAfile "$TA" -purpose smimesign -attime "$AT" \
                                -certfile "$T/all.pem" -out /dev/null >/dev/null 2>&1; then
                            echo "    verifies once the pki/ certificates are supplied"
                        else
                            problem "does not verify even with the pki/ certificates"
                        fi ;;
        neutral:*)      reject "$f" 'Error reading SMIME|asn1' ;;
        none:*)         reject "$f" 'content type not signed data|invalid mime type' ;;
        *)              problem "no OpenSSL check for result $1" ;;
        esac
    fi
done <"$T/manifest"

# MANIFEST and the directory list the same messages
awk '{ print $1 }' "$T/manifest" | sort >"$T/listed"
(cd "$DIR" && ls -- *.eml) | sort >"$T/present"
if ! cmp -s "$T/listed" "$T/present"; then
    echo "MISMATCH: MANIFEST and $DIR/*.eml differ:"; diff "$T/listed" "$T/present"; bad=1
fi

if [ "$bad" -ne 0 ] || [ -s "$T/bad" ]; then
    echo "FAILED: $checked messages checked; mismatches in: $(sort -u "$T/bad" 2>/dev/null | tr '\n' ' ')"
    exit 1
fi
echo "OK: $checked messages checked"
