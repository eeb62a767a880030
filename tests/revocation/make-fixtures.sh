#!/bin/sh
# Regenerates tests/revocation/fixtures/: the test PKI (make-pki.sh, with fixed port
# numbers that the unit tests never connect to), OCSP responses made offline by
# `openssl ocsp`, CRLs, and NOW (the epoch second they were made at; the unit tests
# evaluate at that time, so the committed fixtures never go stale).
# Usage: sh tests/revocation/make-fixtures.sh   (from the project root)
set -eu
OUT=tests/revocation/fixtures
rm -rf "$OUT"
sh tests/revocation/make-pki.sh "$OUT" 18001 18002 18003 18004
cd "$OUT"
date +%s > NOW
# resp NAME LEAF SIGNER-CERT SIGNER-KEY [EXTRA...]
resp() {
    name=$1 leaf=$2 cert=$3 key=$4; shift 4
    openssl ocsp -issuer sub.pem -cert "leaf-$leaf.pem" -no_nonce -reqout "req-$name.der" 2>/dev/null
    openssl ocsp -index index.txt -CA sub.pem -rsigner "$cert.pem" -rkey "$key.key" \
        -reqin "req-$name.der" -respout "ocsp-$name.der" -ndays 1 "$@" 2>/dev/null
    rm -f "req-$name.der"
}
resp good-ca       good    sub        sub
resp good          good    ocsp       ocsp
resp good-bykey    good    ocsp       ocsp -resp_key_id
resp revoked       revoked ocsp       ocsp
resp unknown       unknown ocsp       ocsp
resp noeku         good    ocsp-noeku ocsp-noeku
resp evil          good    evil-ocsp  evil-ocsp
resp badsig        good    fake-sub   evil -resp_no_certs
# For the SBR findings: valid 30 days (REV-OCSP-03), signed with SHA-1 (REV-OCSP-02).
resp long          good    ocsp       ocsp -ndays 30
resp sha1          good    ocsp       ocsp -rmd sha1
openssl ca -config ca.cnf -name sub -gencrl -cert sub.pem -keyfile sub.key -crldays 30 \
    -out long.crl.pem 2>/dev/null
openssl ca -config ca.cnf -name sub -gencrl -cert sub.pem -keyfile sub.key -crldays 7 -md sha1 \
    -out sha1.crl.pem 2>/dev/null
# Scoped CRLs (issuingDistributionPoint): a partition published at the URL the
# leaves name, one published elsewhere, a CA-only one, one for some reasons only.
cat >> ca.cnf <<CNF
[idp_part]
issuingDistributionPoint = critical, @part
[part]
fullname = URI:http://127.0.0.1:18002/sub.crl
[idp_other]
issuingDistributionPoint = critical, @other
[other]
fullname = URI:http://127.0.0.1:18002/other.crl
[idp_onlyca]
issuingDistributionPoint = critical, @onlyca
[onlyca]
onlyCA = TRUE
[idp_reasons]
issuingDistributionPoint = critical, @reasons
[reasons]
fullname = URI:http://127.0.0.1:18002/sub.crl
onlysomereasons = keyCompromise
CNF
for c in part other onlyca reasons; do
    openssl ca -config ca.cnf -name sub -gencrl -cert sub.pem -keyfile sub.key -crldays 7 \
        -crlexts idp_$c -out idp-$c.crl.pem 2>/dev/null
done
for c in long sha1 idp-part idp-other idp-onlyca idp-reasons; do
    openssl crl -in $c.crl.pem -outform DER -out $c.crl
done
# A certificate with URLs the checker must skip: ldap:// ones, a distribution point
# limited to some reasons, one whose CRL another issuer signs (cRLIssuer).
cat > urls.ext <<EXT
[ext]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
authorityInfoAccess=OCSP;URI:ldap://127.0.0.1/ocsp,caIssuers;URI:http://127.0.0.1:18002/sub.crt,OCSP;URI:http://127.0.0.1:18001/ocsp
crlDistributionPoints=dp1,dp2,dp3
[dp1]
fullname=URI:ldap://127.0.0.1/sub.crl,URI:http://127.0.0.1:18002/sub.crl
[dp2]
fullname=URI:http://127.0.0.1:18002/reasons.crl
reasons=keyCompromise
[dp3]
fullname=URI:http://127.0.0.1:18002/indirect.crl
CRLissuer=dirName:issuer_dn
[issuer_dn]
CN=Somebody Else
EXT
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out urls.key 2>/dev/null
openssl req -new -key urls.key -subj "/CN=urls" -out urls.csr 2>/dev/null
openssl x509 -req -in urls.csr -CA sub.pem -CAkey sub.key -set_serial 0x3100 -days 36500 -sha256 \
    -extfile urls.ext -extensions ext -out leaf-urls.pem 2>/dev/null
rm -f urls.ext urls.csr
# Drop what the unit tests do not read.
rm -f ./*.key crlnumber* ./*.crl.pem ca.cnf index.txt root-index.txt leaf-slow.pem leaf-down.pem leaf-malformed.pem \
    leaf-badsig.pem leaf-noauth.pem leaf-crl-missing.pem
echo "fixtures in $OUT"
