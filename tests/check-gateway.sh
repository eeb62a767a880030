#!/bin/sh
# Integration test of the gateway features (issue #18) behind a real, private
# Postfix on loopback (the set-up of tests/postfix-lib.sh): SigningPolicy,
# SubjectTag-*, detail headers with the path, HarvestDirectory.
#
# A PKI is made here in the temporary directory: "Example CA" and "Other CA"
# (both trusted), an OV Strict certificate for ceo@partner.example from each, and
# a mailbox-validated Strict one from Example CA.  The policy is the worked
# example of smime-milter.conf(5): partner.example must sign with an OV Strict
# certificate from Example CA, else 550 with the rule's reply.  Checks:
#   1. partner.example unsigned -> 550 with the configured text; signed by
#      Example CA (OV Strict) -> delivered, policy.smime-signing=pass, [signed];
#      signed by Other CA, or with an MV certificate -> 550 naming why;
#      an unlisted sender's unsigned mail -> delivered, [unsigned];
#   2. subject tags: a forged "[signed]" in an incoming subject is removed;
#      a bad signature gets [signature INVALID]; the detail header names the
#      path (chain1=, chain1-sha256= the Example CA fingerprint) and validity;
#   3. smime-verify --policy gives the same policy outcome for the same files;
#   4. the harvest store: only the passing, let-in signers, one file each (no
#      duplicates), mode 0600, the partner's Example CA certificate, nothing
#      for the expired or the refused ones;
#   5. SIGHUP with action=tag: the unsigned partner mail is delivered, tagged
#      [policy FAILED], policy.smime-signing=fail in Authentication-Results.
# Needs root, Postfix, swaks and openssl.  Every wait is bounded.
set -u
BUILD=${1:?usage: check-gateway.sh BUILD_DIR}
ROOT=$(pwd)
case "$BUILD" in /*) B="$BUILD" ;; *) B="$ROOT/$BUILD" ;; esac
MILTER="$B/smime-milter"
VERIFY="$B/smime-verify"

T=$(mktemp -d /tmp/smime-gateway.XXXXXX) || { echo "FATAL: mktemp"; exit 1; }
chmod 755 "$T"
FAILED=0
MILTER_PID=""
. tests/postfix-lib.sh
trap pf_cleanup EXIT
trap 'exit 1' INT TERM HUP
pf_need
command -v openssl >/dev/null || die "openssl not installed"
pf_pick_ports

# ---- the PKI ----
P=$T/pki
mkdir -p "$P"
ossl() { openssl "$@" >>"$T/openssl.log" 2>&1 || die "openssl $1 failed (see $T/openssl.log)"; }
mkca() { # NAME CN
    ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/$1.key" \
        -out "$P/$1.pem" -subj "/O=$2/CN=$2" -days 3650 -sha256 \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
mkleaf() { # CA NAME ADDRESS POLICY-OID
    ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/$2.key" \
        -subj "/O=Partner Org/CN=$3" -out "$P/$2.csr"
    cat >"$P/$2.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=emailProtection
subjectAltName=email:$3
certificatePolicies=$4
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
    ossl x509 -req -in "$P/$2.csr" -CA "$P/$1.pem" -CAkey "$P/$1.key" -CAcreateserial \
        -days 365 -sha256 -extfile "$P/$2.ext" -out "$P/$2.pem"
}
mkca example-ca "Example CA"
mkca other-ca "Other CA"
mkleaf example-ca partner-ov ceo@partner.example 2.23.140.1.5.2.3   # organization-strict
mkleaf other-ca partner-other ceo@partner.example 2.23.140.1.5.2.3
mkleaf example-ca partner-mv ceo@partner.example 2.23.140.1.5.1.3   # mailbox-strict
FP=$(openssl x509 -in "$P/example-ca.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
FPHEX=$(printf '%s' "$FP" | tr -d ':')
OVFP=$(openssl x509 -in "$P/partner-ov.pem" -noout -fingerprint -sha256 | sed 's/.*=//' | tr -d ':')

signed_msg() { # CERT SUBJECT OUT
    printf 'Quarterly figures attached.\n' >"$T/body.txt"
    ossl cms -sign -in "$T/body.txt" -text -signer "$P/$1.pem" -inkey "$P/$1.key" -md sha256 \
        -from "CEO <ceo@partner.example>" -to "x@example.test" -subject "$2" -out "$3"
}
unsigned_msg() { # FROM SUBJECT OUT
    printf 'From: %s\r\nTo: x@example.test\r\nSubject: %s\r\nMessage-ID: <%s@test>\r\n\r\nhello\r\n' \
        "$1" "$2" "$(basename "$3")" >"$3"
}
M=$T/msg
mkdir -p "$M"
unsigned_msg "CEO <ceo@partner.example>" "Please pay invoice 4711" "$M/partner-unsigned.eml"
signed_msg partner-ov "Quarterly figures" "$M/partner-valid.eml"
signed_msg partner-ov "[signed] Quarterly figures" "$M/partner-valid-pretagged.eml"
signed_msg partner-other "Quarterly figures" "$M/partner-otherca.eml"
signed_msg partner-mv "Quarterly figures" "$M/partner-mv.eml"
unsigned_msg "Bob <bob@world.example>" "hello world" "$M/world-unsigned.eml"
unsigned_msg "Bob <bob@world.example>" "[signed] Pay [signed]now" "$M/world-forged.eml"

# ---- the milter ----
pf_milter_dirs
cat "$P/example-ca.pem" "$P/other-ca.pem" >>"$T/milter/anchors.pem"
write_policy() { # ACTION
    cat >"$T/milter/signing.policy" <<EOF
# partner.example must sign with an OV Strict certificate from Example CA
partner.example  results=pass ca=sha256:$FP sbr=organization-strict action=$1 reply="550 5.7.1 partner.example must sign with an OV Strict certificate from Example CA: %r"
EOF
    [ "$1" = reject ] || sed -i 's/ reply="[^"]*"//' "$T/milter/signing.policy"
}
write_policy reject
{
    pf_base_conf tests/check-gateway.sh
    cat <<EOF
SigningPolicy          $T/milter/signing.policy
SubjectTag-Pass        "[signed]"
SubjectTag-Fail        "[signature INVALID]"
SubjectTag-None        "[unsigned]"
SubjectTag-SigningFail "[policy FAILED]"
HarvestDirectory       $T/milter/run/harvest
EOF
} >"$T/milter/smime-milter.conf"
"$MILTER" -c "$T/milter/smime-milter.conf" -n >/dev/null || fail "the gateway configuration does not check"
start_milter

# ---- Postfix ----
pf_write_config
pf_start
echo "postfix on :$FILTER, milter on :$MPORT"

expect_reply() { # NAME FILE CODE TEXT
    if send "$FILTER" "$1" "$2"; then
        fail "$1: accepted, expected $3"
    elif ! grep -q "^<\*\* *$3 .*$4" "$T/swaks.out"; then
        fail "$1: expected '$3 ... $4', got: $(grep '<\*\*' "$T/swaks.out" | tail -n 1)"
    fi
    echo "  $1: $(grep '<\*\*' "$T/swaks.out" | tail -n 1 | sed 's/^<\*\* *//')"
}
delivered() { # NAME FILE: sends, waits for the delivery, sets F to the file
    F=""
    send "$FILTER" "$1" "$2" || { fail "$1: refused: $(grep '<\*\*' "$T/swaks.out" | tail -n 1)"; return 1; }
    wait_for 150 has_delivery "$1" || { fail "$1: not delivered"; return 1; }
    F=$(delivered_files "$1" | head -n 1)
}
subject_of() { headers_of "$1" | grep -i '^Subject:' | sed 's/^Subject: *//'; }
ar_of() { headers_of "$1" | grep -i '^Authentication-Results: mx\.test;'; }

# ---- 1. the policy ----
echo "1. SigningPolicy (SMTP replies):"
expect_reply g-unsigned "$M/partner-unsigned.eml" 550 \
    "5.7.1 partner.example must sign with an OV Strict certificate from Example CA: ceo@partner.example must sign: message is not S/MIME signed"
expect_reply g-otherca "$M/partner-otherca.eml" 550 \
    "5.7.1 partner.example must sign with an OV Strict certificate from Example CA: ceo@partner.example must sign: signer certificate (issuer .*Other CA.*) is not issued under a CA the rule requires"
expect_reply g-mv "$M/partner-mv.eml" 550 \
    "must sign: signer certificate is S/MIME BR mailbox-strict, not an accepted profile"
if delivered g-valid "$M/partner-valid.eml"; then
    echo "  g-valid: delivered; headers:"
    headers_of "$F" | grep -i '^Subject:\|^Authentication-Results: mx\|^X-SMIME' | sed 's/^/    /'
    ar_of "$F" | grep -q 'smime=pass .*policy\.smime-signing=pass policy\.smime-rule=partner\.example' ||
        fail "g-valid: no policy.smime-signing=pass in: $(ar_of "$F")"
    [ "$(subject_of "$F")" = "[signed] Quarterly figures" ] || fail "g-valid: subject '$(subject_of "$F")'"
    det=$(headers_of "$F" | grep '^X-SMIME-Signature:')
    printf '%s' "$det" | grep -q "chain1=\"CN=Example CA,O=Example CA\"; chain1-sha256=$FPHEX" ||
        fail "g-valid: detail header does not name Example CA and its fingerprint: $det"
    printf '%s' "$det" | grep -q 'valid-from="20[0-9-]*T[0-9:]*Z"; valid-to="20' ||
        fail "g-valid: detail header has no validity dates: $det"
fi
if delivered g-world "$M/world-unsigned.eml"; then
    echo "  g-world (unlisted, unsigned): delivered, Subject: $(subject_of "$F")"
    [ "$(subject_of "$F")" = "[unsigned] hello world" ] || fail "g-world: subject '$(subject_of "$F")'"
    ar_of "$F" | grep -q 'policy\.smime' && fail "g-world: a policy property for an unlisted sender"
fi
for r in g-unsigned g-otherca g-mv; do
    [ "$(delivered_count "$r")" -eq 0 ] || fail "$r: delivered, must not be"
done

# ---- 2. subject tags ----
if delivered g-forged "$M/world-forged.eml"; then
    echo "2. forged tag: 'Subject: [signed] Pay [signed]now' delivered as 'Subject: $(subject_of "$F")'"
    [ "$(subject_of "$F")" = "[unsigned] Pay now" ] || fail "g-forged: subject '$(subject_of "$F")'"
    [ "$(headers_of "$F" | grep -ci '^Subject:')" -eq 1 ] || fail "g-forged: not one Subject"
fi
if delivered g-pretagged "$M/partner-valid-pretagged.eml"; then
    [ "$(subject_of "$F")" = "[signed] Quarterly figures" ] || fail "g-pretagged: subject '$(subject_of "$F")'"
    # the outer Subject is not signed: the signature still verifies after the edit
    ar_of "$F" | grep -q 'smime=pass' || fail "g-pretagged: not pass after the subject edit"
fi
if delivered g-tampered sample-mail/30-tampered-body.eml; then
    case "$(subject_of "$F")" in "[signature INVALID] "*) ;; *) fail "g-tampered: subject '$(subject_of "$F")'" ;; esac
fi
if delivered g-alice sample-mail/01-multipart-signed-rsa2048.eml; then
    case "$(subject_of "$F")" in "[signed] "*) ;; *) fail "g-alice: subject '$(subject_of "$F")'" ;; esac
fi
delivered g-expired sample-mail/33-expired.eml
delivered g-valid2 "$M/partner-valid.eml"     # the same certificate again
# a signed forwarded message in an unsigned wrapper must not look signed
if delivered g-forwarded sample-mail/06-forwarded-rfc822.eml; then
    case "$(subject_of "$F")" in "[signed]"*) fail "g-forwarded: tagged signed: '$(subject_of "$F")'" ;; esac
fi

# ---- 3. smime-verify --policy reproduces the milter ----
pv() { "$VERIFY" --trust-anchors "$T/milter/anchors.pem" --policy "$T/milter/signing.policy" "$1"; }
for f in partner-unsigned partner-otherca partner-mv; do
    out=$(pv "$M/$f.eml"); rc=$?
    [ $rc -eq 1 ] || fail "smime-verify --policy $f: exit $rc (want 1)"
    printf '%s' "$out" | grep -q 'policy\.smime-signing=fail policy\.smime-rule=partner\.example' ||
        fail "smime-verify --policy $f: $out"
done
out=$(pv "$M/partner-valid.eml"); rc=$?
[ $rc -eq 0 ] || fail "smime-verify --policy partner-valid: exit $rc"
printf '%s' "$out" | grep -q 'policy\.smime-signing=pass' || fail "smime-verify --policy partner-valid: $out"
out=$(pv "$M/world-unsigned.eml"); rc=$?
[ $rc -eq 0 ] || fail "smime-verify --policy world-unsigned: exit $rc"
echo "3. smime-verify --policy: same outcomes"

# ---- 4. the harvest store ----
H=$T/milter/run/harvest
# the writer works off the mail path: wait (bounded) for its files
wait_for 50 test -f "$H/ceo@partner.example.pem" || fail "harvest: no entry for ceo@partner.example"
wait_for 50 test -f "$H/alice@example.test.pem" || fail "harvest: no entry for alice@example.test"
files=$(ls -A "$H" | sort | tr '\n' ' ')
echo "4. harvest store: $files"
[ "$files" = "alice@example.test.pem ceo@partner.example.pem " ] || fail "harvest: unexpected files: $files"
for f in "$H"/*.pem; do
    [ "$(stat -c %a "$f")" = 600 ] || fail "harvest: $f mode $(stat -c %a "$f")"
done
[ "$(stat -c %a "$H")" = 700 ] || fail "harvest: directory mode $(stat -c %a "$H")"
got=$(openssl x509 -in "$H/ceo@partner.example.pem" -noout -fingerprint -sha256 | sed 's/.*=//' | tr -d ':')
[ "$got" = "$OVFP" ] || fail "harvest: ceo@partner.example holds $got, not the Example CA certificate"
[ "$(grep -c 'BEGIN CERTIFICATE' "$H/ceo@partner.example.pem")" -eq 2 ] ||
    fail "harvest: the partner entry is not signer + Example CA"

# ---- 5. reload with action=tag ----
gen_before=$(grep -c 'reloaded' "$T/milter.log")
write_policy tag
kill -HUP "$MILTER_PID"
reloaded() { [ "$(grep -c 'reloaded' "$T/milter.log")" -gt "$gen_before" ]; }
wait_for 50 reloaded || fail "no reload after SIGHUP"
if delivered g-tagged "$M/partner-unsigned.eml"; then
    echo "5. after SIGHUP (action=tag): delivered; headers:"
    headers_of "$F" | grep -i '^Subject:\|^Authentication-Results: mx' | sed 's/^/    /'
    [ "$(subject_of "$F")" = "[policy FAILED] Please pay invoice 4711" ] ||
        fail "g-tagged: subject '$(subject_of "$F")'"
    ar_of "$F" | grep -q 'smime=none .*policy\.smime-signing=fail policy\.smime-rule=partner\.example policy\.smime-reason="ceo@partner\.example must sign: message is not S/MIME signed"' ||
        fail "g-tagged: $(ar_of "$F")"
fi
grep -q 'signing=fail rule=partner.example' "$T/milter.log" || fail "the log line does not name the rule"

milter_alive || fail "milter died"
# a clean stop (the harvest writer is finished and freed) and no sanitizer report
kill "$MILTER_PID"
wait_for 100 sh -c "! kill -0 $MILTER_PID 2>/dev/null" || fail "milter did not stop on SIGTERM"
wait "$MILTER_PID"; rc=$?
MILTER_PID=""
[ "$rc" -eq 0 ] || fail "milter exit status $rc after SIGTERM"
grep -q 'ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer' "$T/milter.log" &&
    fail "sanitizer report in the milter log"
if [ "$FAILED" -eq 0 ]; then echo "check-gateway: all passed"; else echo "check-gateway: FAILED"; fi
exit "$FAILED"
