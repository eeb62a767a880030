#!/bin/sh
# CAA for S/MIME (RFC 9495) against a real DNS server: an unbound instance that
# this script runs on 127.0.0.1 (local-zone/local-data CAA records under the
# private TLD smimetest.; "test." itself is one of the names resolvers answer
# NXDOMAIN for without asking), and a UDP "blackhole" that reads queries and never
# answers.  Everything goes through the real code: libunbound forwarding to the
# server, the checker's one round per batch, the climb, the decision.
#
#   1. `smime-telemetry caa` over every zone form: issuemail at the domain, at a
#      parent (the climb), with parameters, the empty issuer ";", only `issue`, a
#      critical unknown property, no CAA, a refused zone (SERVFAIL to the client)
#      and a zone forwarded to the blackhole (timeout) in the same round;
#   2. a resolver that is only the blackhole: every lookup times out, within a
#      generous bound of the timeout;
#   3. `smime-telemetry record --caa` over messages signed by certificates for
#      those domains: the stored caa_issuemail/caa_ca, no plain domain in the
#      database, and the report's two CAA sections;
#   4. smime-milter with CAALookup and its keys: messages through the milter
#      protocol (bench/milter-load), the outcomes its writer stored.
set -u
BUILD=${1:?usage: check-caa.sh BUILD_DIR}
TOOL="$BUILD/smime-telemetry"
PKI=sample-mail/pki
status=0
tmp=$(mktemp -d /tmp/check-caa.XXXXXX)
unbound_pid=""
bh_pid=""

cleanup() {
    [ -n "$unbound_pid" ] && kill "$unbound_pid" 2>/dev/null
    [ -n "$bh_pid" ] && kill "$bh_pid" 2>/dev/null
    [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() { echo "FAIL: $*"; status=1; }
ok() { echo "ok   $*"; }

[ -x "$TOOL" ] || { echo "FAIL: $TOOL not built"; exit 1; }
if ! command -v unbound >/dev/null 2>&1 && [ ! -x /usr/sbin/unbound ]; then
    echo "unbound missing: installing it (tools/deps.sh)"
    sh tools/deps.sh >/dev/null 2>&1
fi
UNBOUND=$(command -v unbound || echo /usr/sbin/unbound)
[ -x "$UNBOUND" ] || { echo "FAIL: unbound (the DNS server) is not installed"; exit 1; }

# ---- the blackhole: reads, never answers ------------------------------------------
. tests/port-lib.sh
bh_port=$(free_port)
cat > "$tmp/blackhole.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
print("ready", flush=True)
while True:
    s.recvfrom(4096)
PY
for try in 1 2 3 4 5; do
    : > "$tmp/bh.out"
    python3 "$tmp/blackhole.py" "$bh_port" > "$tmp/bh.out" 2>&1 &
    bh_pid=$!
    for i in 1 2 3 4 5 6 7 8 9 10; do grep -q ready "$tmp/bh.out" && break; sleep 0.2; done
    grep -q ready "$tmp/bh.out" && break
    kill "$bh_pid" 2>/dev/null; bh_pid=""
    bh_port=$((bh_port + 1))
done
[ -n "$bh_pid" ] || { echo "FAIL: blackhole did not start"; exit 1; }

# ---- the DNS server ------------------------------------------------------------------
write_conf() {   # write_conf PORT
    cat > "$tmp/unbound.conf" <<EOF
server:
  interface: 127.0.0.1
  port: $1
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$tmp"
  pidfile: ""
  use-syslog: no
  logfile: "$tmp/unbound.log"
  do-ip6: no
  verbosity: 1
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  do-not-query-localhost: no
  local-zone: "smimetest." static
  local-zone: "signed.smimetest." static
  local-data: 'signed.smimetest. 300 IN CAA 0 issuemail "ca.example"'
  local-data: 'signed.smimetest. 300 IN CAA 0 issuemail "other.example; account=42"'
  local-zone: "parent.smimetest." static
  local-data: 'parent.smimetest. 300 IN CAA 0 issuemail "CA.Example; account=7; policy=x"'
  local-zone: "other.smimetest." static
  local-data: 'other.smimetest. 300 IN CAA 0 issuemail "other.example"'
  local-data: 'other.smimetest. 300 IN CAA 0 issue "ca.example"'
  local-zone: "empty.smimetest." static
  local-data: 'empty.smimetest. 300 IN CAA 0 issuemail ";"'
  local-zone: "issueonly.smimetest." static
  local-data: 'issueonly.smimetest. 300 IN CAA 0 issue "ca.example"'
  local-zone: "crit.smimetest." static
  local-data: 'crit.smimetest. 300 IN CAA 0 issuemail "ca.example"'
  local-data: 'crit.smimetest. 300 IN CAA 128 futureprop "x"'
  local-zone: "malformed.smimetest." static
  local-data: 'malformed.smimetest. 300 IN CAA 0 issuemail "ca.example account=1"'
  local-zone: "fail.smimetest." refuse
  local-zone: "slow.smimetest." transparent
forward-zone:
  name: "slow.smimetest."
  forward-addr: 127.0.0.1@$bh_port
EOF
}
started=0
for try in 1 2 3 4 5; do
    port=$(( 20000 + ($$ * 7 + try * 1117) % 10000 ))
    write_conf "$port"
    "$UNBOUND" -c "$tmp/unbound.conf" -d > "$tmp/unbound.out" 2>&1 &
    unbound_pid=$!
    for i in 1 2 3 4 5 6 7 8 9 10; do
        grep -q "start of service" "$tmp/unbound.log" 2>/dev/null && break
        kill -0 "$unbound_pid" 2>/dev/null || break
        sleep 0.3
    done
    if grep -q "start of service" "$tmp/unbound.log" 2>/dev/null && kill -0 "$unbound_pid" 2>/dev/null; then
        started=1; break
    fi
    kill "$unbound_pid" 2>/dev/null; unbound_pid=""; rm -f "$tmp/unbound.log"
done
[ $started -eq 1 ] || { echo "FAIL: unbound did not start"; cat "$tmp/unbound.out" "$tmp/unbound.log" 2>/dev/null; exit 1; }
ok "unbound serving CAA on 127.0.0.1:$port (blackhole on $bh_port)"
DNS="127.0.0.1@$port"

# The issuer map: the sample test CA has the CAA identifier ca.example (by DN),
# plus a second name by key id that no zone uses.
CA_DN="CN=smime-milter Test S/MIME CA,O=smime-milter test PKI,C=US"
CA_KEYID=$(openssl x509 -in "$PKI/smime-ca.pem" -noout -ext subjectKeyIdentifier 2>/dev/null | sed -n 2p | tr -d ' :')
cat > "$tmp/issuers.map" <<EOF
# CAA issuer-domain-names of the CAs we trust (tests/check-caa.sh)
ca.example  dn:$CA_DN
ca-alt.example  keyid:$CA_KEYID
EOF

# ---- 1. every zone form in one round ---------------------------------------------------
"$TOOL" caa --resolver "$DNS" --issuer-map "$tmp/issuers.map" --timeout 1500 --ca "dn:$CA_DN" \
    signed.smimetest mail.parent.smimetest other.smimetest empty.smimetest issueonly.smimetest \
    crit.smimetest malformed.smimetest none.smimetest x.fail.smimetest slow.smimetest \
    > "$tmp/caa.out" 2>"$tmp/caa.err"
rc=$?
[ $rc -eq 0 ] && ok "caa: one round over ten domains" || { fail "caa exit $rc"; cat "$tmp/caa.err"; }
want() {   # want DOMAIN EXPECTED-TAIL WHAT
    line=$(grep "^$1 " "$tmp/caa.out")
    if [ "$line" = "$1 $2" ]; then ok "$3: $line"; else fail "$3: got [$line], want [$1 $2]"; fi
}
want signed.smimetest "issuemail=issuemail ca=authorized at=signed.smimetest" "issuemail at the domain, CA named"
want mail.parent.smimetest "issuemail=issuemail ca=authorized at=parent.smimetest" "climb to the parent; issuer with parameters, any case"
want other.smimetest "issuemail=issuemail ca=not-authorized at=other.smimetest" "issuemail names another CA (issue for ours does not count)"
want empty.smimetest "issuemail=issuemail ca=not-authorized at=empty.smimetest" "empty issuer ';': no CA"
want issueonly.smimetest "issuemail=no-issuemail ca=unrestricted at=issueonly.smimetest" "only issue: no issuemail, unrestricted"
want crit.smimetest "issuemail=issuemail ca=not-authorized at=crit.smimetest" "critical unknown property forbids every CA"
want malformed.smimetest "issuemail=issuemail ca=not-authorized at=malformed.smimetest" "malformed issuemail value: treated as the empty issuer"
want none.smimetest "issuemail=no-caa ca=unrestricted at=-" "no CAA up to the TLD"
want x.fail.smimetest "issuemail=lookup-failed ca=lookup-failed at=x.fail.smimetest why=SERVFAIL" "refused zone: lookup failed (SERVFAIL), not no CAA"
want slow.smimetest "issuemail=lookup-failed ca=lookup-failed at=slow.smimetest why=timeout" "unanswered zone: timeout, the others still answered"
# the same domain for a CA the map does not know, and for the second map name
"$TOOL" caa --resolver "$DNS" --issuer-map "$tmp/issuers.map" --ca keyid:00ff signed.smimetest \
    > "$tmp/caa2.out" 2>&1
grep -q "^signed.smimetest issuemail=issuemail ca=ca-not-mapped " "$tmp/caa2.out" &&
    ok "a CA without a map entry: ca-not-mapped" || fail "unmapped CA: $(cat "$tmp/caa2.out")"
"$TOOL" caa --resolver "$DNS" --issuer-map "$tmp/issuers.map" --ca "keyid:$CA_KEYID" signed.smimetest \
    > "$tmp/caa3.out" 2>&1
grep -q "^signed.smimetest issuemail=issuemail ca=not-authorized " "$tmp/caa3.out" &&
    ok "mapped by key id to a name the zone does not list: not-authorized" || fail "keyid map: $(cat "$tmp/caa3.out")"

# ---- 2. a resolver that never answers ----------------------------------------------------
start=$(date +%s)
"$TOOL" caa --resolver "127.0.0.1@$bh_port" --timeout 800 a.smimetest b.c.smimetest > "$tmp/bh.res" 2>&1
end=$(date +%s)
n=$(grep -c "issuemail=lookup-failed ca=lookup-failed at=.* why=timeout" "$tmp/bh.res")
[ "$n" = 2 ] && ok "blackhole resolver: every lookup a timeout" || fail "blackhole: $(cat "$tmp/bh.res")"
[ $((end - start)) -le 10 ] && ok "blackhole: the round ended (bound 10 s for an 800 ms timeout)" ||
    fail "blackhole round took $((end - start)) s"

# ---- 3. recorded through the writer, and reported ------------------------------------------
# One certificate per domain from the sample test CA (so its issuer is a trusted
# anchor's and the DN matches the map), one signed message each.
days_ok=1
for d in signed mail.parent other empty issueonly crit none x.fail slow; do
    dom=$d.smimetest
    name=$(echo "$d" | tr . -)
    cat > "$tmp/$name.ext" <<EOF
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = emailProtection
certificatePolicies = 2.23.140.1.5.1.3
subjectAltName = email:alice@$dom
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
    openssl req -new -newkey rsa:2048 -nodes -keyout "$tmp/$name.key" -subj "/CN=alice@$dom" \
        -out "$tmp/$name.csr" 2>/dev/null &&
    openssl x509 -req -in "$tmp/$name.csr" -CA "$PKI/smime-ca.pem" -CAkey "$PKI/smime-ca.key" \
        -set_serial "0x$(openssl rand -hex 8)" -days 300 -sha256 -extfile "$tmp/$name.ext" \
        -out "$tmp/$name.pem" 2>/dev/null &&
    printf 'Hello from %s.\r\n' "$dom" > "$tmp/$name.txt" &&
    openssl smime -sign -in "$tmp/$name.txt" -signer "$tmp/$name.pem" -inkey "$tmp/$name.key" \
        -certfile "$PKI/smime-ca.pem" -from "Alice <alice@$dom>" -to "bob@example.org" \
        -subject "caa $dom" -out "$tmp/$name.eml" 2>/dev/null || days_ok=0
done
[ $days_ok -eq 1 ] && ok "nine signed messages, one certificate per domain" || fail "openssl could not make the messages"
printf 'a key for the domain hashes' > "$tmp/hmac.key"
DB="$tmp/caa.db"
"$TOOL" record --db "sqlite:$DB" --trust-anchors "$PKI/trust-anchors.pem" --sender-domain hmac \
    --hmac-key-file "$tmp/hmac.key" --caa "$DNS" --caa-issuer-map "$tmp/issuers.map" \
    --caa-timeout 1500 "$tmp"/*.eml "$tmp"/signed.eml > "$tmp/record.log" 2>&1 ||
    { fail "record --caa"; cat "$tmp/record.log"; }
if command -v sqlite3 >/dev/null 2>&1; then
    got=$(sqlite3 "$DB" "SELECT caa_issuemail || '/' || caa_ca, count(*), count(DISTINCT sender_domain) FROM signature GROUP BY 1 ORDER BY 1" | tr '\n' ' ')
    expect="issuemail/authorized|3|2 issuemail/not-authorized|3|3 lookup-failed/lookup-failed|2|2 no-caa/unrestricted|1|1 no-issuemail/unrestricted|1|1 "
    [ "$got" = "$expect" ] && ok "stored outcomes: $got" || fail "stored outcomes: [$got], want [$expect]"
    want_h=$(printf 'mail.parent.smimetest' | openssl dgst -sha256 -hmac 'a key for the domain hashes' -r | cut -d' ' -f1)
    n=$(sqlite3 "$DB" "SELECT count(*) FROM signature WHERE sender_domain = '$want_h' AND caa_ca = 'authorized'")
    [ "$n" = 1 ] && ok "the climbed domain is stored as its keyed hash, authorized" || fail "mail.parent: $n rows"
    sqlite3 "$DB" .dump > "$tmp/dump.sql"
    if grep -q "smimetest\|ca\.example" "$tmp/dump.sql"; then fail "a domain name in the database"
    else ok "no domain name (sender's or CA's) in the database"; fi
else
    fail "sqlite3 (the CLI) is not installed"
fi
"$TOOL" report --db "sqlite:$DB" --min-count 1 > "$tmp/report.txt" 2>&1 || fail "report"
sed -n '/^CAA for S\/MIME: sender domains/,/^$/p;/^CAA for S\/MIME: is the signer/,/^$/p' "$tmp/report.txt" > "$tmp/caa-sections.txt"
sed 's/^/     /' "$tmp/caa-sections.txt"
grep -q "^  (all)  *10  *9  *100.0%" "$tmp/caa-sections.txt" && ok "report: 10 signatures from 9 distinct sender domains" ||
    fail "report: (all) row"
grep -q "^  issuemail published  *6  *5 " "$tmp/caa-sections.txt" && ok "report: 5 domains publish issuemail" || fail "report: issuemail published"
grep -q "^  lookup failed  *2  *2 " "$tmp/caa-sections.txt" && ok "report: 2 lookups failed" || fail "report: lookup failed"
grep -q "^  authorized  *3  *2 " "$tmp/caa-sections.txt" && ok "report: signer's CA authorized by 2 domains" || fail "report: authorized"
grep -q "^  not authorized  *3  *3 " "$tmp/caa-sections.txt" && ok "report: not authorized by 3 domains" || fail "report: not authorized"
"$TOOL" report --db "sqlite:$DB" --min-count 3 > "$tmp/k3.txt" 2>&1
sed -n '/^CAA for S\/MIME: sender domains/,/^$/p' "$tmp/k3.txt" | grep -q "lookup failed" &&
    fail "K=3: a bucket of 2 domains shown" || ok "K=3: buckets of fewer than 3 domains suppressed"
"$TOOL" record --db "sqlite:$tmp/x.db" --trust-anchors "$PKI/trust-anchors.pem" --caa "$DNS" "$tmp/signed.eml" \
    >/dev/null 2>&1
[ $? -eq 2 ] && ok "--caa without --sender-domain: usage error" || fail "--caa without a domain mode accepted"

# ---- the shipped example map, and the milter's keys ------------------------------------
"$TOOL" caa --resolver "$DNS" --issuer-map doc/caa-issuer-map.example --ca "dn:CN=Example S/MIME CA,O=Example,C=US" \
    signed.smimetest > "$tmp/example.out" 2>&1 &&
    grep -q "^signed.smimetest issuemail=issuemail ca=authorized " "$tmp/example.out" &&
    ok "doc/caa-issuer-map.example parses and maps ca.example" || fail "example map: $(cat "$tmp/example.out")"
M="$BUILD/smime-milter"
if [ -x "$M" ]; then
    # -n checks as UserID what the daemon will open: a directory nobody can use
    nd="$tmp/n"
    mkdir -p "$nd"; chmod 777 "$nd"; chmod 755 "$tmp"
    printf 'k' > "$nd/dom.key"; cp "$tmp/issuers.map" "$nd/issuers.map"
    chmod 644 "$nd/dom.key" "$nd/issuers.map"
    printf 'TrustAnchors %s/%s\nTelemetry sqlite:%s/m.db\nTelemetrySenderDomain hmac\nTelemetryHMACKeyFile %s/dom.key\nCAALookup yes\nCAAResolver %s\nCAAIssuerMap %s/issuers.map\nCAATimeout 1500\n' \
        "$(pwd)" "$PKI/trust-anchors.pem" "$nd" "$nd" "$DNS" "$nd" > "$tmp/milter.conf"
    [ "$(id -u)" -eq 0 ] && echo "UserID nobody" >> "$tmp/milter.conf"
    "$M" -c "$tmp/milter.conf" -n > "$tmp/n.out" 2>&1 && ok "smime-milter -n: CAA keys accepted" ||
        fail "smime-milter -n: $(cat "$tmp/n.out")"
    grep -v TelemetrySenderDomain "$tmp/milter.conf" | grep -v TelemetryHMACKeyFile > "$tmp/bad.conf"
    "$M" -c "$tmp/bad.conf" -n > "$tmp/n.out" 2>&1
    [ $? -ne 0 ] && grep -q "CAALookup needs" "$tmp/n.out" && ok "smime-milter -n: CAALookup without a sender domain mode refused" ||
        fail "smime-milter -n bad: $(cat "$tmp/n.out")"
fi

# ---- 4. the daemon: smime-milter with CAALookup, messages through the milter protocol --------
LOAD="$BUILD/bench/milter-load"
if [ -x "$M" ] && [ -x "$LOAD" ] && command -v sqlite3 >/dev/null 2>&1; then
    md="$tmp/milter"
    mkdir -p "$md"
    chmod 777 "$md"; chmod 755 "$tmp"
    cp "$tmp/issuers.map" "$md/issuers.map"; cp "$tmp/hmac.key" "$md/dom.key"
    chmod 644 "$md/issuers.map" "$md/dom.key"
    mport=$(free_port "$bh_port")
    cat > "$md/milter.conf" <<EOF_CONF
Socket       inet:$mport@127.0.0.1
AuthservID   caa.test
TrustAnchors $(pwd)/$PKI/trust-anchors.pem
Syslog       no
Telemetry    sqlite:$md/t.db
TelemetrySenderDomain hmac
TelemetryHMACKeyFile $md/dom.key
CAALookup    yes
CAAResolver  $DNS
CAAIssuerMap $md/issuers.map
CAATimeout   1500
EOF_CONF
    [ "$(id -u)" -eq 0 ] && echo "UserID nobody" >> "$md/milter.conf"
    "$M" -c "$md/milter.conf" -f > "$md/milter.log" 2>&1 &
    mpid=$!
    i=0
    for n in signed mail-parent x-fail issueonly; do   # the load client sends CRLF files
        awk '{ sub(/\r$/, ""); printf "%s\r\n", $0 }' "$tmp/$n.eml" > "$md/$n.eml"
    done
    until "$LOAD" 127.0.0.1 "$mport" 1 4 "$md/signed.eml" "$md/mail-parent.eml" "$md/x-fail.eml" \
            "$md/issueonly.eml" > "$md/load.out" 2>&1; do
        i=$((i + 1))
        if [ $i -ge 100 ] || ! kill -0 "$mpid" 2>/dev/null; then break; fi
        sleep 0.1
    done
    kill -TERM "$mpid" 2>/dev/null; wait "$mpid" 2>/dev/null
    got=$(sqlite3 "$md/t.db" "SELECT caa_issuemail || '/' || caa_ca, count(*) FROM signature GROUP BY 1 ORDER BY 1" 2>&1 | tr '\n' ' ')
    case "$got" in
    *"issuemail/authorized|2"*"lookup-failed/lookup-failed|1"*"no-issuemail/unrestricted|1"*)
        ok "smime-milter: CAA outcomes recorded by the daemon's writer: $got" ;;
    *) fail "smime-milter CAA: [$got]; log: $(tail -n 5 "$md/milter.log")" ;;
    esac
    n=$(sqlite3 "$md/t.db" "SELECT count(*) FROM signature WHERE length(cert_id) = 64 AND length(sender_domain) = 64")
    [ "$n" = 4 ] && ok "smime-milter: every record has its certificate id and keyed sender domain" ||
        fail "smime-milter: $n of 4 records with a certificate id and sender domain"
    grep -q "CAA for S/MIME looked up through $DNS" "$md/milter.log" && ok "smime-milter logs the CAA resolver" ||
        fail "smime-milter: no CAA start line in the log"
fi

echo "caa checks: $([ $status -eq 0 ] && echo passed || echo FAILED)"
exit $status
