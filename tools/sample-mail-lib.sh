# sample-mail-lib.sh -- the MIME framing and the OpenSSL CA helpers shared by
# tools/make-sample-mail.sh, tools/make-sample-mail-extra.sh and
# tools/make-demo-mail.sh (sourced; POSIX sh).  The messages of these scripts
# are built by these functions so that they differ only where a message is meant
# to differ.  Needs $DATE (the Date header) and openssl; the CA helpers also need
# $TMP (a private scratch directory), $PKI (where keys and certificates go) and
# a die function.

# crlf: stdin -> stdout with every line ended by CRLF (existing CRs kept single).
crlf() { awk '{ sub(/\r$/, ""); printf "%s\r\n", $0 }'; }

# b64: stdin (binary) -> base64 in 64-character CRLF lines.
b64() { openssl base64 -e | crlf; }

# headers FROM TO SUBJECT ID: the message header block (without the blank line);
# the Message-ID is ID@$MSGID_DOMAIN (default example.test).
headers() {
    printf 'From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n' \
        "$1" "$2" "$3" "$DATE" "$4" "${MSGID_DOMAIN:-example.test}"
}

# text_entity: body on stdin -> a text/plain MIME entity (CRLF) on stdout.
text_entity() {
    printf 'Content-Type: text/plain; charset=us-ascii; format=flowed\r\nContent-Transfer-Encoding: 7bit\r\n\r\n'
    crlf
}

ALICE="Alice Example <alice@example.test>"
BOB="Bob Example <bob@example.test>"
CAROL="Carol Example <carol@example.test>"

# default body
body() {
    cat <<EOF
Hi Carol,

The quarterly review meeting is on Tuesday at 10:00 in room 4.
Please bring the figures we discussed last week.

Regards,
${1:-Alice}
EOF
}

# multipart_signed CONTENT SIG.der BOUNDARY MICALG [SIGTYPE [PREAMBLE EPILOGUE]]
# -> the multipart/signed entity (its Content-Type header, a blank line, body).
# The signed bytes are CONTENT exactly; the CRLF after it belongs to the boundary.
multipart_signed() {
    c=$1 s=$2 b=$3 mic=$4 st=${5:-application/pkcs7-signature} pre=${6:-} epi=${7:-}
    printf 'Content-Type: multipart/signed; protocol="application/pkcs7-signature";\r\n'
    printf '\tmicalg=%s; boundary="%s"\r\n\r\n' "$mic" "$b"
    [ -z "$pre" ] || printf '%s\r\n' "$pre"
    printf -- '--%s\r\n' "$b"
    cat "$c"
    printf '\r\n--%s\r\n' "$b"
    printf 'Content-Type: %s; name="smime.p7s"\r\n' "$st"
    printf 'Content-Transfer-Encoding: base64\r\n'
    printf 'Content-Disposition: attachment; filename="smime.p7s"\r\n'
    printf 'Content-Description: S/MIME Cryptographic Signature\r\n\r\n'
    b64 <"$s"
    printf -- '--%s--\r\n' "$b"
    [ -z "$epi" ] || printf '%s\r\n' "$epi"
}

# opaque_entity DER TYPE [SMIMETYPE]: an application/(x-)pkcs7-mime entity.
opaque_entity() {
    if [ -n "${3:-}" ]; then
        printf 'Content-Type: %s; smime-type=%s;\r\n\tname="smime.p7m"\r\n' "$2" "$3"
    else
        printf 'Content-Type: %s; name="smime.p7m"\r\n' "$2"
    fi
    printf 'Content-Transfer-Encoding: base64\r\n'
    printf 'Content-Disposition: attachment; filename="smime.p7m"\r\n\r\n'
    b64 <"$1"
}

# ---------------------------------------------------------------------------
# PKI: certificates issued with `openssl ca`
# ---------------------------------------------------------------------------

# Quiet wrapper: runs openssl, shows its output only when it fails.
ossl() {
    if ! openssl "$@" >"$TMP/ossl.log" 2>&1; then
        cat "$TMP/ossl.log" >&2
        die "openssl $1 failed"
    fi
}

# pki_init: the request template every CSR is made from (the subject is set by
# -subj; this DN is never used).
pki_init() {
    cat >"$TMP/req.cnf" <<EOF
[ req ]
distinguished_name = dn
string_mask = utf8only
utf8 = yes
prompt = no
[ dn ]
CN = unused
EOF
}

# genkey TYPE FILE
genkey() {
    case $1 in
    rsa*)    ossl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${1#rsa}" -out "$2" ;;
    p256)    ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$2" ;;
    p384)    ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -pkeyopt ec_param_enc:named_curve -out "$2" ;;
    p521)    ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -pkeyopt ec_param_enc:named_curve -out "$2" ;;
    ed25519) ossl genpkey -algorithm ED25519 -out "$2" ;;
    *) die "unknown key type $1" ;;
    esac
}

# new_serial FILE [FIRST]: a random positive 16-byte serial number (hex) into
# FILE; FIRST (1-7) fixes its first hex digit.  The other 31 hex digits (124
# bits) come from `openssl rand`, a CSPRNG: SBR 7.1 asks for at least 64 bits.
new_serial() {
    s=$(openssl rand -hex 16)
    first=${2:-$(printf '%s' "$s" | cut -c1 | tr '89abcdef0' '012345671')}
    printf '%s%s\n' "$first" "$(printf '%s' "$s" | cut -c2-)" >"$1"
}

# ca_init NAME: an `openssl ca` working directory for CA NAME.
ca_init() {
    d=$TMP/ca-$1
    mkdir -p "$d/new"
    : >"$d/index.txt"
    cat >"$d/ca.cnf" <<EOF
[ ca ]
default_ca = CA_default
[ CA_default ]
dir            = $d
database       = \$dir/index.txt
new_certs_dir  = \$dir/new
serial         = \$dir/serial
default_md     = sha256
policy         = policy_any
unique_subject = no
email_in_dn    = no
copy_extensions = none
preserve       = yes
[ policy_any ]
commonName     = optional
EOF
}

# issue CA SUBJECT KEY OUTCERT EXTFILE MD NOTBEFORE NOTAFTER [selfsign]
# ($SERIAL_FIRST, when set, fixes the first hex digit of the serial number.)
# Issues a certificate with `openssl ca` (the only OpenSSL 3.0 command that sets
# an arbitrary notBefore).  CA is the name given to ca_init; its key and
# certificate are $PKI/CA.key and $PKI/CA.pem.
issue() {
    ca=$1 subj=$2 key=$3 out=$4 ext=$5 md=$6 nb=$7 na=$8 self=${9:-}
    d=$TMP/ca-$ca
    new_serial "$d/serial" "${SERIAL_FIRST:-}"
    ossl req -new -config "$TMP/req.cnf" -utf8 -key "$key" -subj "$subj" -out "$TMP/csr.pem"
    if [ "$self" = selfsign ]; then
        ossl ca -batch -config "$d/ca.cnf" -selfsign -keyfile "$key" \
            -in "$TMP/csr.pem" -out "$TMP/cert.pem" -notext -preserveDN -utf8 \
            -md "$md" -startdate "$nb" -enddate "$na" -extfile "$ext" -extensions ext
    else
        ossl ca -batch -config "$d/ca.cnf" -cert "$PKI/$ca.pem" -keyfile "$PKI/$ca.key" \
            -in "$TMP/csr.pem" -out "$TMP/cert.pem" -notext -preserveDN -utf8 \
            -md "$md" -startdate "$nb" -enddate "$na" -extfile "$ext" -extensions ext
    fi
    # keep only the PEM block
    openssl x509 -in "$TMP/cert.pem" -out "$out"
}
