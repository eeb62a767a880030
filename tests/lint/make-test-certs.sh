#!/bin/sh
# Generates the lint test certificates: for each entry of the lint table, a
# certificate that passes it and one that fails it, plus tests/lint/cases.tsv, the
# manifest read by tests/unit/test_lint_pairs.c.  Uses the openssl CLI (OpenSSL
# 3.0) and, for what openssl cannot express, tests/lint/der-edit.c (compiled with
# cc) to edit the DER of a good certificate.  Lints still without a pair are listed
# in tests/lint/pending.tsv with the reason.
#
# usage: sh tests/lint/make-test-certs.sh [OUTDIR]     (run from the project root)
#
# Every file written is a PEM chain: the subscriber certificate, then its issuing
# CA, then the root (so the chain lints run too).  Keys and serials are random, so
# re-running changes the bytes but not the findings.
set -eu
OUT=${1:-tests/lint/certs}
MANIFEST=tests/lint/cases.tsv
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT INT TERM
mkdir -p "$OUT" "$W/new"
: >"$W/index.txt"
rm -f "$OUT"/*.pem

cat >"$W/ca.cnf" <<'EOF'
[ca]
default_ca = CA_default
[CA_default]
database = $ENV::W/index.txt
new_certs_dir = $ENV::W/new
serial = $ENV::W/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = yes
copy_extensions = none
[policy_any]
[req]
distinguished_name = dn
string_mask = $ENV::MASK
utf8 = yes
prompt = no
[dn]
EOF
export W
MASK=utf8only
export MASK

key() { # name spec
    case $2 in
    ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$W/$1.key" ;;
    ec384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$W/$1.key" ;;
    ec521) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out "$W/$1.key" ;;
    k1) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 -out "$W/$1.key" ;;
    ed25519) openssl genpkey -algorithm ED25519 -out "$W/$1.key" ;;
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$W/$1.key" ;;
    rsa1024) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$W/$1.key" ;;
    rsa2052) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2052 -out "$W/$1.key" ;;
    rsa-e3) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_keygen_pubexp:3 -out "$W/$1.key" ;;
    esac 2>/dev/null
}

serial() { # fresh random 16-octet positive serial unless given
    if [ -n "${1:-}" ]; then echo "$1" >"$W/serial"; else echo "5f$(openssl rand -hex 15)" >"$W/serial"; fi
}

# sign NAME KEY SUBJ START END EXTFILE(or -) SIGNER(keyname or -selfsign) MD
sign() {
    openssl req -new -key "$W/$2.key" -subj "$3" -utf8 -config "$W/ca.cnf" -out "$W/$1.csr" 2>"$W/req.log" || { cat "$W/req.log" >&2; return 1; }
    set -- "$@"
    _name=$1 _start=$4 _end=$5 _ext=$6 _signer=$7 _md=$8
    if [ "$_signer" = -selfsign ]; then _sargs="-selfsign -keyfile $W/$2.key"
    else _sargs="-cert $W/$_signer.pem -keyfile $W/$_signer.key"; fi
    if [ "$_ext" = - ]; then _eargs=""; else _eargs="-extfile $_ext -extensions ext"; fi
    # shellcheck disable=SC2086
    openssl ca -batch -config "$W/ca.cnf" $_sargs -in "$W/$_name.csr" -startdate "$_start" \
        -enddate "$_end" -md "$_md" $_eargs -notext -preserveDN -out "$W/$_name.pem" \
        >"$W/ca.log" 2>&1 || { cat "$W/ca.log" >&2; return 1; }
}

# ---- the CA hierarchy ----
key root ec
key subca ec
key evil ec
key subca-rsa rsa
cat >"$W/root.ext" <<'EOF'
[ext]
basicConstraints=critical,CA:true
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
EOF
serial; sign root root "/C=US/O=Lint Test/CN=Lint Test Root" 20230101000000Z 20400101000000Z "$W/root.ext" -selfsign sha256

subca_ext() { # overrides... -> $W/subca.ext
    cat >"$W/subca.base" <<'EOF'
basicConstraints=critical,CA:true,pathlen:0
keyUsage=critical,digitalSignature,keyCertSign,cRLSign
extendedKeyUsage=emailProtection
certificatePolicies=2.23.140.1.5.1.3,2.23.140.1.5.2.2,2.23.140.1.5.3.3,2.23.140.1.5.4.3,2.23.140.1.5.1.2,2.23.140.1.5.1.1,2.23.140.1.5.2.3,2.23.140.1.5.2.1,2.23.140.1.5.3.2,2.23.140.1.5.3.1,2.23.140.1.5.4.2,2.23.140.1.5.4.1
crlDistributionPoints=URI:http://crl.example.com/root.crl
authorityInfoAccess=caIssuers;URI:http://ca.example.com/root.crt
authorityKeyIdentifier=keyid:always
subjectKeyIdentifier=hash
EOF
    apply_overrides "$W/subca.base" "$W/subca.ext" "$@"
}

# apply_overrides BASE OUT [e:key=value | x:key | a:line | s:section-text]...
apply_overrides() {
    _base=$1 _out=$2; shift 2
    cp "$_base" "$W/ov.cur"
    : >"$W/ov.sect"
    for o in "$@"; do
        case $o in
        e:*) kv=${o#e:}; k=${kv%%=*}
             awk -v k="$k" -v kv="$kv" 'BEGIN{done=0} index($0, k "=") == 1 { if (!done) print kv; done=1; next } { print } END { if (!done) print kv }' "$W/ov.cur" >"$W/ov.new"
             mv "$W/ov.new" "$W/ov.cur" ;;
        x:*) k=${o#x:}; awk -v k="$k" 'index($0, k "=") != 1' "$W/ov.cur" >"$W/ov.new"; mv "$W/ov.new" "$W/ov.cur" ;;
        a:*) echo "${o#a:}" >>"$W/ov.cur" ;;
        s:*) printf '%b\n' "${o#s:}" >>"$W/ov.sect" ;;
        *) ;;
        esac
    done
    { echo "[ext]"; cat "$W/ov.cur"; cat "$W/ov.sect"; } >"$_out"
}

mkca() { # name keyname subject signer md start [overrides...]
    _n=$1 _k=$2 _s=$3 _signer=$4 _md=$5 _st=$6; shift 6
    subca_ext "$@"
    serial; sign "$_n" "$_k" "$_s" "$_st" 20350101000000Z "$W/subca.ext" "$_signer" "$_md"
}
mkca subca subca "/C=US/O=Lint Test/CN=Lint Test SMIME CA" root sha256 20240101000000Z
cp "$W/subca.key" "$W/subca-same.key"
# Another CA with the same name but another key (signature and AKI failures).
mkca evil evil "/C=US/O=Lint Test/CN=Lint Test SMIME CA" root sha256 20240101000000Z

# ---- subscriber profiles ----
# profile -> subject, SAN, policy OID arc
subject_of() {
    case $1 in
    mailbox-*) echo "/CN=alice@example.com" ;;
    organization-*) echo "/C=US/O=Example Inc/organizationIdentifier=NTRUS\\+CA-1234567/CN=Example Inc" ;;
    sponsor-*) echo "/C=US/O=Example Inc/organizationIdentifier=NTRUS\\+CA-1234567/GN=Alice/SN=Smith/CN=Alice Smith" ;;
    individual-*) echo "/C=US/GN=Alice/SN=Smith/CN=Alice Smith" ;;
    esac
}
oid_of() {
    t=${1%-*} g=${1#*-}
    case $t in mailbox) tt=1 ;; organization) tt=2 ;; sponsor) tt=3 ;; individual) tt=4 ;; esac
    case $g in legacy) gg=1 ;; multipurpose) gg=2 ;; strict) gg=3 ;; esac
    echo "2.23.140.1.5.$tt.$gg"
}
# default dates: Legacy before its sunset, others after every date gate in force
start_of() { case $1 in *-legacy) echo 20250101000000Z ;; *) echo 20260101000000Z ;; esac; }
end_of() { case $1 in *-legacy) echo 20270101000000Z ;; *) echo 20270101000000Z ;; esac; }

leaf_base() { # profile -> $W/leaf.base
    cat >"$W/leaf.base" <<EOF
keyUsage=critical,digitalSignature
extendedKeyUsage=emailProtection
certificatePolicies=$(oid_of "$1")
crlDistributionPoints=URI:http://crl.example.com/ca.crl
authorityInfoAccess=caIssuers;URI:http://ca.example.com/ca.crt
authorityKeyIdentifier=keyid:always
subjectKeyIdentifier=hash
subjectAltName=email:alice@example.com
EOF
}

# mk FILE PROFILE [option...]
#   e:/x:/a:/s: extension overrides (see apply_overrides); subj:SUBJECT; key:SPEC;
#   start:/end: times; ca:NAME (issuing CA); chain:NAMES (comma list of CA certs
#   after the leaf, default "ca,root"); md:DIGEST; serial:HEX; noext; mask:MASK
mk() {
    _file=$1 _prof=$2; shift 2
    _subj=$(subject_of "$_prof") _key=ec _start=$(start_of "$_prof") _end=$(end_of "$_prof")
    _ca=subca _chain="" _md=sha256 _serial="" _noext=0 MASK=utf8only
    leaf_base "$_prof"
    for o in "$@"; do
        case $o in
        subj:*) _subj=${o#subj:} ;;
        key:*) _key=${o#key:} ;;
        start:*) _start=${o#start:} ;;
        end:*) _end=${o#end:} ;;
        ca:*) _ca=${o#ca:} ;;
        chain:*) _chain=${o#chain:} ;;
        md:*) _md=${o#md:} ;;
        serial:*) _serial=${o#serial:} ;;
        noext) _noext=1 ;;
        mask:*) MASK=${o#mask:} ;;
        esac
    done
    export MASK
    apply_overrides "$W/leaf.base" "$W/leaf.ext" "$@"
    [ -f "$W/k-$_key.key" ] || key "k-$_key" "$_key"
    serial "$_serial"
    if [ $_noext = 1 ]; then _e=-; else _e=$W/leaf.ext; fi
    sign leaf "k-$_key" "$_subj" "$_start" "$_end" "$_e" "$_ca" "$_md" || return 1
    [ -n "$_chain" ] || _chain="$_ca,root"
    cat "$W/leaf.pem" >"$OUT/$_file"
    for c in $(echo "$_chain" | tr ',' ' '); do cat "$W/$c.pem" >>"$OUT/$_file"; done
    MASK=utf8only
}

# ---- manifest helpers ----
: >"$MANIFEST.tmp"
# case ID FORCE PASSFILE FAILFILE
case_() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$MANIFEST.tmp"; }
# fail ID PROFILE [options]: the failing certificate; the pass one is good-PROFILE
# (a case openssl refuses to generate is reported and left out of the manifest)
fail() { _id=$1 _p=$2; shift 2
    if mk "$_id.fail.pem" "$_p" "$@"; then case_ "$_id" - "good-$_p.pem" "$_id.fail.pem"
    else echo "make-test-certs: could not generate $_id" >&2; rm -f "$OUT/$_id.fail.pem"; fi; }
# failf ID PROFILE: same, linted with the profile forced
failf() { _id=$1 _p=$2; shift 2
    if mk "$_id.fail.pem" "$_p" "$@"; then case_ "$_id" "$_p" "good-$_p.pem" "$_id.fail.pem"
    else echo "make-test-certs: could not generate $_id" >&2; rm -f "$OUT/$_id.fail.pem"; fi; }
# pass ID PROFILE [options]: a specific passing certificate for the last case
passcert() { _id=$1 _p=$2; shift 2
    mk "$_id.pass.pem" "$_p" "$@" || { echo "make-test-certs: could not generate the passing $_id" >&2; return 0; }
    awk -F'\t' -v id="$_id" -v f="$_id.pass.pem" 'BEGIN{OFS="\t"} $1 == id { $3 = f } { print }' "$MANIFEST.tmp" >"$MANIFEST.new"
    mv "$MANIFEST.new" "$MANIFEST.tmp"; }

for p in mailbox-legacy mailbox-multipurpose mailbox-strict organization-legacy organization-multipurpose \
         organization-strict sponsor-legacy sponsor-multipurpose sponsor-strict individual-legacy \
         individual-multipurpose individual-strict; do
    mk "good-$p.pem" "$p"
done

MS=mailbox-strict MM=mailbox-multipurpose ML=mailbox-legacy
OS=organization-strict OM=organization-multipurpose
SS=sponsor-strict IS=individual-strict IM=individual-multipurpose IL=individual-legacy

# ---- classification ----
printf -- '-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n' >"$OUT/GEN-DER.fail.pem"
case_ GEN-DER - "good-$MS.pem" GEN-DER.fail.pem
fail CLS-SCOPE $MS e:extendedKeyUsage=clientAuth
fail CLS-DATE $MS start:20230101000000Z end:20240101000000Z
failf CLS-NONE $MS e:certificatePolicies=1.2.3.4
mk CLS-EXACTLY-ONE.fail.pem $MM; case_ CLS-EXACTLY-ONE $MS "good-$MS.pem" CLS-EXACTLY-ONE.fail.pem
fail CLS-MULTI $MS e:certificatePolicies=2.23.140.1.5.1.3,2.23.140.1.5.4.3
fail CLS-UNKNOWN-ARC $MS e:certificatePolicies=2.23.140.1.5.1.3,2.23.140.1.5.5.1
fail CLS-LEGACY-SUNSET $ML start:20260101000000Z
fail CLS-ANYPOLICY $MS e:certificatePolicies=2.23.140.1.5.1.3,2.5.29.32.0

# ---- fields ----
failf VER-01 $MS noext
fail SER-01 $MS serial:00
fail SER-02 $MS serial:7f0102030405060708090a0b0c0d0e0f1011121314
fail SER-03 $MS serial:1234
fail SIG-02 $MS md:sha1
fail SIG-03 $MS md:sha384
fail SIG-04 $MS ca:evil chain:subca,root
fail VAL-01 $MS start:20260101000000Z end:20251231000000Z
fail VAL-02 $MS end:20280405000000Z
fail VAL-03 $MS end:20280404235959Z
fail NAM-01 $MS chain:root
fail EXT-OTHER $MS a:1.2.3.4.5=DER:0500

# ---- key ----
fail SPKI-01 $MS key:k1
fail SPKI-RSA-1 $MS key:rsa1024
fail SPKI-RSA-2 $MS key:rsa2052
fail SPKI-RSA-4 $MS key:rsa-e3
fail SPKI-EC-1 $MS key:k1
fail SPKI-OVERLAY $MS key:ec521

# ---- certificatePolicies ----
fail CP-01 $MS x:certificatePolicies
fail CP-02 $MS e:certificatePolicies=critical,2.23.140.1.5.1.3
fail CP-04 $MS e:certificatePolicies=2.23.140.1.5.1.3,1.2.3.4,1.2.3.4
fail CP-05 $MS e:certificatePolicies=@pol 's:[pol]\npolicyIdentifier=2.23.140.1.5.1.3\nCPS.1="ftp://example.com/cps"'
passcert CP-05 $MS e:certificatePolicies=@pol 's:[pol]\npolicyIdentifier=2.23.140.1.5.1.3\nCPS.1="https://example.com/cps"'
fail CP-06 $MS e:certificatePolicies=@pol 's:[pol]\npolicyIdentifier=2.23.140.1.5.1.3\nuserNotice.1=@notice\n[notice]\norganization="Example"\nnoticeNumbers=1\nexplicitText="UTF8:Notice"'
passcert CP-06 $MS e:certificatePolicies=@pol 's:[pol]\npolicyIdentifier=2.23.140.1.5.1.3\nuserNotice.1=@notice\n[notice]\nexplicitText="UTF8:Notice"'
fail CP-07 $MS e:certificatePolicies=@pol 's:[pol]\npolicyIdentifier=2.23.140.1.5.1.3\nuserNotice.1=@notice\n[notice]\nexplicitText="VISIBLE:Notice"'
passcert CP-07 $MS e:certificatePolicies=@pol 's:[pol]\npolicyIdentifier=2.23.140.1.5.1.3\nuserNotice.1=@notice\n[notice]\nexplicitText="UTF8:Notice"'
# certificatePolicies with a qualifier of type 1.2.3.4 (raw DER)
fail CP-08 $MS x:certificatePolicies a:2.5.29.32=DER:30183016060767810c01050103300b300906032a03040c024142

# ---- cRLDistributionPoints ----
fail CRL-01 $MS x:crlDistributionPoints
fail CRL-02 $MS e:crlDistributionPoints=critical,URI:http://crl.example.com/ca.crl
fail CRL-03 $MS e:crlDistributionPoints=cdp 's:[cdp]\nCRLissuer=dirName:cdpname\nreasons=keyCompromise\n[cdpname]\nCN=CRL issuer'
fail CRL-04 $MS e:crlDistributionPoints=URI:https://crl.example.com/ca.crl
fail CRL-05 $ML e:crlDistributionPoints=URI:ldap://crl.example.com/cn=ca
fail CRL-06 $MS e:crlDistributionPoints=cdp 's:[cdp]\nfullname=URI:http://crl.example.com/ca.crl\nreasons=keyCompromise'

# ---- authorityInformationAccess ----
fail AIA-01 $MS x:authorityInfoAccess
fail AIA-02 $MS "e:authorityInfoAccess=critical,caIssuers;URI:http://ca.example.com/ca.crt"
fail AIA-03 $MS "e:authorityInfoAccess=OCSP;URI:http://ocsp.example.com"
fail AIA-05 $MS "e:authorityInfoAccess=caIssuers;URI:https://ca.example.com/ca.crt"
fail AIA-06 $ML "e:authorityInfoAccess=caIssuers;URI:ldap://ca.example.com/cn=ca"
fail AIA-07 $MS "e:authorityInfoAccess=caIssuers;email:ca@example.com"
fail AIA-08 $MS "e:authorityInfoAccess=caIssuers;URI:http://ca.example.com/ca.crt,1.2.3.4;URI:http://x.example.com"

# ---- basicConstraints, keyUsage, extKeyUsage ----
fail BC-01 $MS a:basicConstraints=CA:TRUE
fail BC-02 $MS a:basicConstraints=CA:FALSE,pathlen:0
fail KU-01 $MS x:keyUsage
fail KU-02 $MS e:keyUsage=digitalSignature
fail KU-03 $MS x:keyUsage a:2.5.29.15=critical,DER:030100
fail KU-04 $MS e:keyUsage=critical,digitalSignature,keyCertSign
fail KU-05 $MS e:keyUsage=critical,digitalSignature,keyEncipherment
fail KU-06 $MS key:rsa e:keyUsage=critical,nonRepudiation
failf EKU-01 $MS x:extendedKeyUsage
failf EKU-02 $MS e:extendedKeyUsage=clientAuth
fail EKU-03 $MM e:extendedKeyUsage=emailProtection,serverAuth
fail EKU-04 $MS e:extendedKeyUsage=emailProtection,clientAuth
fail EKU-05 $MM e:extendedKeyUsage=emailProtection,OCSPSigning
fail EKU-06 $MM e:extendedKeyUsage=emailProtection,clientAuth,clientAuth
fail EKU-2027 $MM start:20270801000000Z end:20280101000000Z e:extendedKeyUsage=emailProtection,1.3.6.1.4.1.311.10.3.12

# ---- key identifiers ----
fail AKI-01 $MS e:authorityKeyIdentifier=none
fail AKI-02 $MS e:authorityKeyIdentifier=critical,keyid:always
fail AKI-03 $MS e:authorityKeyIdentifier=issuer:always
fail AKI-04 $MS e:authorityKeyIdentifier=keyid:always,issuer:always
fail AKI-05 $MS x:authorityKeyIdentifier a:2.5.29.35=DER:301680140102030405060708090a0b0c0d0e0f1011121314
fail SKI-01 $MS e:subjectKeyIdentifier=none
fail SKI-02 $MS e:subjectKeyIdentifier=critical,hash
fail SKI-03 $MS x:subjectKeyIdentifier a:2.5.29.14=DER:04140102030405060708090a0b0c0d0e0f1011121314

# ---- other extensions ----
fail SMC-01 $MS a:1.2.840.113549.1.9.15=critical,DER:300c300a06082a864886f70d0307
# subjectDirectoryAttributes { dateOfBirth 19900101000000Z }
SDA=DER:301f301d06082b060105050709013111180f31393930303130313030303030305a
fail SDA-01 $MM "a:2.5.29.9=$(echo $SDA | tr -d ' ')"
fail SDA-02 $IL "a:2.5.29.9=critical,$(echo $SDA | tr -d ' ')"
fail SDA-03 $ML "a:2.5.29.9=$(echo $SDA | tr -d ' ')"
# qcStatements { QcCompliance }
fail QC-01 $MS a:1.3.6.1.5.5.7.1.3=critical,DER:300a3008060604008e460101
fail LEI-01 $IS a:1.3.6.1.4.1.52266.1=DER:13143534393330304232374b4c4455443556564c3830
fail LEI-02 $OS a:1.3.6.1.4.1.52266.2=DER:130a53616c657320526f6c65
fail LEI-03 $SS a:1.3.6.1.4.1.52266.1=critical,DER:13143534393330304232374b4c4455443556564c3830
fail LEI-04 $OS a:1.3.6.1.4.1.52266.1=DER:13143534393330304232374b4c4455443556564c3831
passcert LEI-04 $OS a:1.3.6.1.4.1.52266.1=DER:13143534393330304232374b4c4455443556564c3830
# Adobe time-stamp { version 1, location URI | dNSName }
fail ADB-01 $OS a:1.2.840.113583.1.1.9.1=DER:301a0201018615687474703a2f2f74732e6578616d706c652e636f6d
fail ADB-02 $OM a:1.2.840.113583.1.1.9.1=critical,DER:301a0201018615687474703a2f2f74732e6578616d706c652e636f6d
fail ADB-03 $OM a:1.2.840.113583.1.1.9.1=DER:3012020101820d74732e6578616d706c652e6a70
passcert ADB-03 $OM a:1.2.840.113583.1.1.9.1=DER:301a0201018615687474703a2f2f74732e6578616d706c652e636f6d

# ---- subject ----
fail SUBJ-01 $OS "subj:/C=US/O=Example Inc/CN=Example Inc"
fail SUBJ-02 $IS "subj:/C=US/O=Example Inc/GN=Alice/SN=Smith/CN=Alice Smith"
fail SUBJ-03 $OS "subj:/C=US/O=Example Inc/organizationIdentifier=NTRUS\\+CA-1234567/description=Sales/CN=Example Inc"
fail SUBJ-NAME-REQ $SS "subj:/C=US/O=Example Inc/organizationIdentifier=NTRUS\\+CA-1234567/CN=alice@example.com"
fail SUBJ-NAME-PSEUDO-EXCL $IS "subj:/C=US/GN=Alice/pseudonym=Ali/CN=Ali"
fail SUBJ-CN-MBX $MS "subj:/CN=bob@example.com"
fail SUBJ-CN-OV $OS "subj:/C=US/O=Example Inc/organizationIdentifier=NTRUS\\+CA-1234567/CN=Example"
fail SUBJ-CN-SVIV $IS "subj:/C=US/pseudonym=Ali/CN=Alice Smith"
fail SUBJ-CN-PSEUDO-EXCL $IS "subj:/C=US/pseudonym=Ali/CN=Alice Smith"
fail SUBJ-SERIAL $IS "subj:/C=US/GN=Alice/SN=Smith/serialNumber=ABCDE-12345/CN=Alice Smith"
fail SUBJ-EMAIL-01 $IS "subj:/C=US/GN=Alice/SN=Smith/emailAddress=alice/CN=Alice Smith"
fail SUBJ-C-01 $IS "subj:/C=UK/GN=Alice/SN=Smith/CN=Alice Smith"
fail SUBJ-ADDR-DEP $OS "subj:/C=US/O=Example Inc/organizationIdentifier=NTRUS\\+CA-1234567/street=1 Main St/CN=Example Inc"
fail SUBJ-META $IS "subj:/C=US/L=./GN=Alice/SN=Smith/CN=Alice Smith"
fail SUBJ-ENC $IS mask:default "subj:/C=US/GN=Alice/SN=Sm$(printf '\303\251')th/CN=Alice Smith"
fail SUBJ-HTML $OS "subj:/C=US/O=A &amp; B/organizationIdentifier=NTRUS\\+CA-1234567/CN=A &amp; B"
fail SUBJ-MULTIVALUE $IS "subj:/C=US/GN=Alice+SN=Smith/CN=Alice Smith"
fail ORGID-01 $OS mask:default "subj:/C=US/O=Example Inc/organizationIdentifier=NTRUS\\+CA-12$(printf '\303\251')/CN=Example Inc"
fail ORGID-02 $OS "subj:/C=US/O=Example Inc/organizationIdentifier=XYZUS-123/CN=Example Inc"
fail ORGID-03 $OS "subj:/C=US/O=Example Inc/organizationIdentifier=NTRUS/CN=Example Inc"
fail ORGID-04 $OS "subj:/C=US/O=Example Inc/organizationIdentifier=LEIXG-549300B27KLDUD5VVL81/CN=Example Inc"
passcert ORGID-04 $OS "subj:/C=US/O=Example Inc/organizationIdentifier=LEIXG-549300B27KLDUD5VVL80/CN=Example Inc"
fail ORGID-05 $OS "subj:/O=Example Inc/organizationIdentifier=INTUS/CN=Example Inc"
passcert ORGID-05 $OS "subj:/O=Example Inc/organizationIdentifier=INTXG/CN=Example Inc"
fail ORGID-06 $OS "subj:/O=Example Inc/organizationIdentifier=NTRZZ-123/CN=Example Inc"
fail ORGID-07 $OS "subj:/C=US/O=Example Inc/organizationIdentifier=VATUS\\+CA-123/CN=Example Inc"
fail ORGID-08 $OS "subj:/C=DE/O=Example Inc/organizationIdentifier=NTRUS\\+CA-1234567/CN=Example Inc"
fail ORGID-09 $OS "subj:/C=BE/O=Example Inc/organizationIdentifier=PSDBE-1234/CN=Example Inc"
passcert ORGID-09 $OS "subj:/C=BE/O=Example Inc/organizationIdentifier=PSDBE-NBB-1234.567.890/CN=Example Inc"
fail ORGID-10 $OS "subj:/C=FR/O=Example SA/organizationIdentifier=NTRFR-DER3306.HRB12345/CN=Example SA"
passcert ORGID-10 $OS "subj:/C=FR/O=Example SA/organizationIdentifier=NTRFR-FRR3306.HRB12345/CN=Example SA"
fail ORGID-11 $OM start:20250101000000Z "subj:/C=FR/O=Example SA/organizationIdentifier=NTRFR\\+75-123/CN=Example SA"
passcert ORGID-11 $OM start:20250101000000Z "subj:/C=FR/O=Example SA/organizationIdentifier=NTRFR-123/CN=Example SA"
fail ORGID-12 $IS "subj:/C=US/organizationIdentifier=NTRUS\\+CA-1234567/GN=Alice/SN=Smith/CN=Alice Smith"

# ---- subjectAltName ----
YAMADA=$(printf '\345\261\261\347\224\260')
REI=$(printf '\344\276\213\343\201\210')
failf SAN-01 $IS x:subjectAltName
fail SAN-02 $MS e:subjectAltName=critical,email:alice@example.com
failf SAN-03 $IS e:subjectAltName=dirName:dn 's:[dn]\nCN=Alice Smith\nGN=Alice\nSN=Smith'
fail SAN-04 $MS e:subjectAltName=email:alice@example.com,DNS:example.com
fail SAN-05 $MS "e:subjectAltName=email:alice@example.com,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@example.com"
fail SAN-REPEAT $IS "subj:/C=US/GN=Alice/SN=Smith/emailAddress=bob@example.com/CN=Alice Smith"
fail SAN-MBX-01 $IS e:subjectAltName=email:alice@example..com
fail SAN-MBX-02 $IS e:subjectAltName=email:alice@corp.local
fail SAN-UTF8-01 $IS "e:subjectAltName=email:alice@example.com,otherName:1.3.6.1.5.5.7.8.9;UTF8:$YAMADA"
passcert SAN-UTF8-01 $IS "e:subjectAltName=email:alice@example.com,otherName:1.3.6.1.5.5.7.8.9;UTF8:$YAMADA@example.com"
fail SAN-UTF8-02 $IS "e:subjectAltName=email:alice@example.com,otherName:1.3.6.1.5.5.7.8.9;UTF8:bob@example.com"
fail SAN-UTF8-ALABEL $IS "e:subjectAltName=email:alice@example.com,otherName:1.3.6.1.5.5.7.8.9;UTF8:$YAMADA@$REI.jp"
passcert SAN-UTF8-ALABEL $IS "e:subjectAltName=email:alice@example.com,otherName:1.3.6.1.5.5.7.8.9;UTF8:$YAMADA@xn--r8jz45g.jp"
fail SAN-UTF8-03 $IS "e:subjectAltName=email:alice@example.com,otherName:1.3.6.1.5.5.7.8.9;UTF8:$YAMADA@EXAMPLE.com"
fail SAN-DUP $IS e:subjectAltName=email:alice@example.com,email:alice@example.com
fail SAN-UPN-01 $IM "e:subjectAltName=email:alice@example.com,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:nobody"
passcert SAN-UPN-01 $IM "e:subjectAltName=email:alice@example.com,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@example.com"

# ---- issuing CAs ----
S="/C=US/O=Lint Test/CN=Lint Test Bad CA"
cafail() { # ID CANAME [CA extension overrides...]; env CASUBJ, CAMD
    _id=$1 _can=$2; shift 2
    cp "$W/subca.key" "$W/$_can.key"
    mkca "$_can" "$_can" "${CASUBJ:-$S}" root "${CAMD:-sha256}" 20240101000000Z "$@"
    fail "$_id" $MS "ca:$_can"
}
cafail SUBCA-BC ca-bc e:basicConstraints=CA:true
cafail SUBCA-KU ca-ku e:keyUsage=critical,keyCertSign
cafail SUBCA-EKU-1 ca-eku1 x:extendedKeyUsage
cafail SUBCA-EKU-2 ca-eku2 e:extendedKeyUsage=emailProtection,serverAuth
cafail SUBCA-CP-1 ca-cp1 x:certificatePolicies
cafail SUBCA-CP-2 ca-cp2 e:certificatePolicies=1.2.3.4
cafail SUBCA-CP-3 ca-cp3 e:certificatePolicies=@pol 's:[pol]\npolicyIdentifier=2.23.140.1.5.1.3\nCPS.1="ftp://example.com/cps"'
cafail SUBCA-CRL ca-crl x:crlDistributionPoints
cafail SUBCA-AIA ca-aia x:authorityInfoAccess
cafail SUBCA-AKI ca-aki e:authorityKeyIdentifier=critical,keyid:always
cafail SUBCA-SKI ca-ski e:subjectKeyIdentifier=critical,hash
cafail SUBCA-NC ca-nc "a:nameConstraints=permitted;email:.example.com"
CASUBJ="/C=US/CN=Lint Test No Org CA" cafail SUBCA-SUBJ ca-subj
# a CA with a 1024-bit RSA key
key ca-key1024 rsa1024
subca_ext; serial; sign ca-key1024 ca-key1024 "$S" 20240101000000Z 20350101000000Z "$W/subca.ext" root sha256
fail SUBCA-KEY $MS ca:ca-key1024
CAMD=sha1 cafail SUBCA-SIG ca-sha1
CAMD=sha1 cafail DATE-14 ca-sha1b
cafail CA-EXTANT-END ca-extant x:extendedKeyUsage
# a root with an extKeyUsage, given as the last chain certificate
cat >"$W/badroot.ext" <<'EOF'
[ext]
basicConstraints=critical,CA:true
keyUsage=critical,keyCertSign,cRLSign
extendedKeyUsage=emailProtection
subjectKeyIdentifier=hash
EOF
key badroot ec
serial; sign badroot badroot "/C=US/O=Lint Test/CN=Lint Test Bad Root" 20230101000000Z 20400101000000Z "$W/badroot.ext" -selfsign sha256
fail ROOT $MS chain:subca,root,badroot
# RSA 2048 sub-CA issued from 2026-09-15, and a leaf from 2027-09-15 under it
cp "$W/subca-rsa.key" "$W/ca-rsa.key"
subca_ext; serial; sign ca-rsa subca-rsa "$S" 20261001000000Z 20350101000000Z "$W/subca.ext" root sha256
fail CA-RSA-4096 $MS ca:ca-rsa
fail CA-RSA-3072-ISSUE $MS ca:ca-rsa start:20271001000000Z end:20280101000000Z

# ---- cases the openssl CLI cannot express: DER edits of a good certificate ----
# (tests/lint/der-edit.c; the edited certificate's signature no longer verifies)
cc -std=c11 -O1 -o "$W/der-edit" tests/lint/der-edit.c
dfail() { # ID PROFILE der-edit operations...
    _id=$1 _p=$2; shift 2
    if "$W/der-edit" "$OUT/good-$_p.pem" "$@" >"$OUT/$_id.fail.pem"; then case_ "$_id" - "good-$_p.pem" "$_id.fail.pem"
    else echo "make-test-certs: could not generate $_id" >&2; rm -f "$OUT/$_id.fail.pem"; fi
}
# a keyUsage extension with critical FALSE encoded (not DER)
if "$W/der-edit" "$OUT/good-$MS.pem" set 0.7.0.0 "30(06(551d0f)01(00)04(03020780))" >"$OUT/GEN-DER-critical-false.fail.pem"; then
    case_ GEN-DER - "good-$MS.pem" GEN-DER-critical-false.fail.pem
fi
dfail SIG-01 $MS set 0.2 "30(06(2a8648ce3d040303))"
dfail AIA-09 $MS set 0.7.0.4 "30(06(2b06010505070101)04(30(30(06(2b06010505073002)86('http://ca.corp/ca.crt')))))"
dfail VAL-04 $MS set 0.4.0 "18('20260101000000Z')"
dfail UID-01 $MS ins 0.7 "81(00ab)"
dfail EXT-UNIQ $MS dup 0.7.0.0
dfail SPKI-RSA-3 $MS set 0.6 "30(30(06(2a864886f70d010101)05())03(00 30(02(00 c5*254 01)02(02))))"
dfail SPKI-RSA-5 $MS set 0.6 "30(30(06(2a864886f70d010101)05())03(00 30(02(00 ff*255)02(010001))))"
dfail SPKI-EC-2 $MS set 0.6 "30(30(06(2a8648ce3d0201)06(2a8648ce3d030107))03(00 04 0102))"
dfail SPKI-ED-1 $MS set 0.6 "30(30(06(2b6570))03(00 01*4))"
dfail SPKI-MLDSA-1 $MS set 0.6 "30(30(06(608648016503040311))03(00 01*99))"
dfail SPKI-MLKEM-1 $MS set 0.6 "30(30(06(608648016503040401))03(00 01*99))"
dfail SUBJ-CN-LEN $IS set 0.5 "30(31(30(06(550406)13('US')))31(30(06(55042a)0c('Alice')))31(30(06(550404)0c('Smith')))31(30(06(550403)0c('Alice Smith aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'))))"
dfail SUBJ-UB $IS set 0.5 "30(31(30(06(550406)13('US')))31(30(06(550407)0c('$(printf 'L%.0s' $(seq 1 129))')))31(30(06(55042a)0c('Alice')))31(30(06(550404)0c('Smith')))31(30(06(550403)0c('Alice Smith'))))"

LC_ALL=C sort "$MANIFEST.tmp" | { printf '# lint ID\tforced profile (- = from the certificate)\tpassing file\tfailing file\n'; cat; } >"$MANIFEST"
rm -f "$MANIFEST.tmp"
echo "wrote $(grep -vc '^#' "$MANIFEST") cases to $MANIFEST and certificates to $OUT"
