#!/bin/sh
# Makes the small test PKI of the revocation tests in DIR:
#
#   root (trust anchor) -> sub (issuing CA; CRL at http://127.0.0.1:HTTP/root.crl)
#   sub -> leaves, each with its own AIA OCSP URL and/or CRL distribution point:
#     good, revoked (keyCompromise), unknown (not in the responder's index),
#     crl-good, crl-revoked (CRL only), crl-expired (CRL whose nextUpdate passed),
#     crl-missing (its CRL URL answers 404), crl-noreason (revoked, no reasonCode),
#     down (responder port closed), slow (responder accepts and never answers),
#     malformed / badsig / noauth (responder serves a broken, a wrongly signed, or an
#     unauthorised-signer response), crl-badsig (CRL signed by an impostor of sub),
#     nourl (no revocation pointer at all)
#   sub -> ocsp (delegated responder: EKU OCSPSigning + id-pkix-ocsp-nocheck)
#   sub -> ocsp-noeku (responder certificate without OCSPSigning: not authorised)
#   evil (an unrelated CA) -> evil-ocsp (a responder the sub CA never authorised)
#   fake-sub: self-signed with sub's name and evil's key (signs badsig.crl)
#
# index.txt (openssl ca format) lists what sub issued, for `openssl ocsp` and
# `openssl ca -gencrl`; root-index.txt the same for root.
# Usage: make-pki.sh DIR OCSP_PORT HTTP_PORT SLOW_PORT DOWN_PORT
set -eu
DIR=$1 OCSP=$2 HTTP=$3 SLOW=$4 DOWN=$5
mkdir -p "$DIR"
cd "$DIR"
O="http://127.0.0.1:$OCSP"
H="http://127.0.0.1:$HTTP"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

# ext NAME LINES... : writes an extension section file NAME.ext
ext() { n=$1; shift; printf '%s\n' "[ext]" "$@" > "$n.ext"; }

key root
openssl req -x509 -new -key root.key -subj "/CN=Revocation Test Root" -days 36500 \
    -set_serial 1 -out root.pem -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

# issue NAME ISSUER SERIAL SUBJECT EXTFILE
issue() {
    key "$1"
    openssl req -new -key "$1.key" -subj "$4" -out "$1.csr" 2>/dev/null
    openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -set_serial "$3" -days 36500 \
        -sha256 -extfile "$5" -extensions ext -out "$1.pem" 2>/dev/null
    rm -f "$1.csr"
}

ext sub "basicConstraints=critical,CA:TRUE,pathlen:0" "keyUsage=critical,keyCertSign,cRLSign" \
    "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" "crlDistributionPoints=URI:$H/root.crl"
issue sub root 0x1001 "/CN=Revocation Test Issuing CA" sub.ext

ext ocsp "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=OCSPSigning" "noCheck=ignored" "authorityKeyIdentifier=keyid"
issue ocsp sub 0x2001 "/CN=Revocation Test OCSP Responder" ocsp.ext
ext ocsp-noeku "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=emailProtection" "noCheck=ignored" "authorityKeyIdentifier=keyid"
issue ocsp-noeku sub 0x2002 "/CN=Revocation Test Not A Responder" ocsp-noeku.ext

key evil
openssl req -x509 -new -key evil.key -subj "/CN=Revocation Test Evil CA" -days 36500 \
    -set_serial 9 -out evil.pem -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
issue evil-ocsp evil 0x9001 "/CN=Revocation Test OCSP Responder" ocsp.ext
# An impostor of sub: same name, evil's key; what it signs must not verify with sub.
openssl req -x509 -new -key evil.key -subj "/CN=Revocation Test Issuing CA" -days 36500 \
    -set_serial 10 -out fake-sub.pem -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

# leaf NAME SERIAL OCSP_URL|- CDP_URL|-
leaf() {
    set -- "$1" "$2" "$3" "$4"
    lines="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=emailProtection
authorityKeyIdentifier=keyid
subjectAltName=email:$1@example.org"
    if [ "$1" = good ]; then                       # a caIssuers entry before the OCSP one
        lines="$lines
authorityInfoAccess=caIssuers;URI:$H/sub.crt,OCSP;URI:$3"
    elif [ "$3" != - ]; then
        lines="$lines
authorityInfoAccess=OCSP;URI:$3"
    fi
    [ "$4" = - ] || lines="$lines
crlDistributionPoints=URI:$4"
    printf '[ext]\n%s\n' "$lines" > "leaf-$1.ext"
    issue "leaf-$1" sub "$2" "/CN=$1/emailAddress=$1@example.org" "leaf-$1.ext"
}
leaf good        0x3001 "$O" "$H/sub.crl"   # AIA also names caIssuers, first
leaf revoked     0x3002 "$O" "$H/sub.crl"
leaf unknown     0x3003 "$O" -
leaf crl-good    0x3004 - "$H/sub.crl"
leaf crl-revoked 0x3005 - "$H/sub.crl"
leaf crl-expired 0x3006 - "$H/expired.crl"
leaf crl-badsig  0x300D - "$H/badsig.crl"
leaf crl-missing 0x300E - "$H/missing.crl"
leaf crl-noreason 0x300F - "$H/sub.crl"
leaf down        0x3007 "http://127.0.0.1:$DOWN" -
leaf slow        0x3008 "http://127.0.0.1:$SLOW" -
leaf malformed   0x3009 "$H/static/malformed" -
leaf badsig      0x300A "$H/static/badsig" -
leaf noauth      0x300B "$H/static/noauth" -
leaf nourl       0x300C - -
rm -f ./*.ext

# The responder's and the CRL's view of what sub issued (unknown is left out).
exp=991231235959Z
dn() { openssl x509 -in "$1" -noout -subject -nameopt compat | sed 's/^subject=//'; }
: > index.txt
for n in good crl-good crl-expired crl-badsig crl-missing down slow malformed badsig noauth nourl ocsp ocsp-noeku; do
    f=leaf-$n.pem; [ -f "$f" ] || f=$n.pem
    s=$(openssl x509 -in "$f" -noout -serial | sed 's/serial=//')
    printf 'V\t%s\t\t%s\tunknown\t%s\n' "$exp" "$s" "$(dn "$f")" >> index.txt
done
for n in revoked crl-revoked; do
    s=$(openssl x509 -in "leaf-$n.pem" -noout -serial | sed 's/serial=//')
    printf 'R\t%s\t260101000000Z,keyCompromise\t%s\tunknown\t%s\n' "$exp" "$s" "$(dn "leaf-$n.pem")" >> index.txt
done
s=$(openssl x509 -in leaf-crl-noreason.pem -noout -serial | sed 's/serial=//')
printf 'R\t%s\t260201000000Z\t%s\tunknown\t%s\n' "$exp" "$s" "$(dn leaf-crl-noreason.pem)" >> index.txt
s=$(openssl x509 -in sub.pem -noout -serial | sed 's/serial=//')
printf 'V\t%s\t\t%s\tunknown\t%s\n' "$exp" "$s" "$(dn sub.pem)" > root-index.txt

# CRLs: sub.crl (fresh, 7 days), expired.crl (sub's, long past), badsig.crl (made by
# fake-sub), root.crl.
cat > ca.cnf <<CNF
[ca]
default_ca = sub
[sub]
database = index.txt
crlnumber = crlnumber
default_md = sha256
crl_extensions = crlext
[root]
database = root-index.txt
crlnumber = crlnumber
default_md = sha256
crl_extensions = crlext
[crlext]
authorityKeyIdentifier = keyid
CNF
echo 01 > crlnumber
openssl ca -config ca.cnf -name sub -gencrl -cert sub.pem -keyfile sub.key -crldays 7 \
    -out sub.crl.pem 2>/dev/null
openssl ca -config ca.cnf -name sub -gencrl -cert sub.pem -keyfile sub.key \
    -crl_lastupdate 20200101000000Z -crl_nextupdate 20200108000000Z -out expired.crl.pem 2>/dev/null
openssl ca -config ca.cnf -name sub -gencrl -cert fake-sub.pem -keyfile evil.key -crldays 7 \
    -out badsig.crl.pem 2>/dev/null
openssl ca -config ca.cnf -name root -gencrl -cert root.pem -keyfile root.key -crldays 30 \
    -out root.crl.pem 2>/dev/null
for c in sub expired badsig root; do openssl crl -in $c.crl.pem -outform DER -out $c.crl; done
cat sub.pem root.pem > chain.pem
