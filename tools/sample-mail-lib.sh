# sample-mail-lib.sh -- the MIME framing shared by tools/make-sample-mail.sh and
# tools/make-sample-mail-extra.sh (sourced; POSIX sh).  The messages of both
# scripts are built by these functions so that they differ only where a message
# is meant to differ.  Needs $DATE (the Date header) and openssl.

# crlf: stdin -> stdout with every line ended by CRLF (existing CRs kept single).
crlf() { awk '{ sub(/\r$/, ""); printf "%s\r\n", $0 }'; }

# b64: stdin (binary) -> base64 in 64-character CRLF lines.
b64() { openssl base64 -e | crlf; }

# headers FROM TO SUBJECT ID: the message header block (without the blank line).
headers() {
    printf 'From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@example.test>\r\nMIME-Version: 1.0\r\n' \
        "$1" "$2" "$3" "$DATE" "$4"
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
