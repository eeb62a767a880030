#!/bin/sh
# The milter's Prometheus endpoint (MetricsSocket), as a monitoring system sees it.
#
#   1. `promtool check metrics` finds nothing to say about a scrape (before any mail,
#      and after, with the telemetry series);
#   2. mail driven through the milter over the milter protocol (bench/milter-load,
#      no MTA) moves the counters by exactly what was sent: messages by result
#      and action, signatures by result, the latency histogram, revocation
#      lookups and fetches (Revocation soft); SIGHUP moves the
#      reload counters (ok, and refused for a broken file); telemetry records
#      are counted queued and written; HEAD, 404 and 405 answers;
#   3. a real Prometheus server (Debian's prometheus package) started on loopback
#      with scrape_interval 1s scrapes the milter; the test asks its HTTP API until
#      it reports the target up and then, after more mail, the counters moved
#      (bounded waits), and stops it.
# Figures are not judged.  Needs prometheus (promtool), python3 and curl
# (tools/deps.sh).  Every wait is bounded; everything started is stopped.
set -u
BUILD=${1:?usage: check-metrics.sh BUILD_DIR}
M="$BUILD/smime-milter"
LOAD="$BUILD/bench/milter-load"
for b in "$M" "$LOAD"; do [ -x "$b" ] || { echo "FAIL: $b not built"; exit 1; }; done
for tool in promtool prometheus python3 curl; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (sh tools/deps.sh)"; exit 1; }
done
T=$(mktemp -d) || exit 1
chmod 755 "$T"
MPID=""
PPID_PROM=""
FAILED=0
fail() { echo "FAIL: $*"; FAILED=1; }
cleanup() {
    [ -n "$MPID" ] && kill "$MPID" 2>/dev/null
    if [ -n "$PPID_PROM" ]; then
        kill "$PPID_PROM" 2>/dev/null
        wait "$PPID_PROM" 2>/dev/null
    fi
    if [ "$FAILED" -ne 0 ]; then
        echo "--- milter log (last 20 lines)"; tail -n 20 "$T/milter.log" 2>/dev/null
        echo "--- prometheus log (last 20 lines)"; tail -n 20 "$T/prometheus.log" 2>/dev/null
    fi
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

. tests/port-lib.sh
wait_for() { # TIMEOUT_TENTHS COMMAND...
    limit=$1; shift
    i=0
    until "$@"; do
        i=$((i + 1)); [ $i -ge "$limit" ] && return 1
        sleep 0.1
    done
}
MPORT=$(free_port)
HPORT=$(free_port "$MPORT")
PPORT=$(free_port "$MPORT" "$HPORT")
URL="http://127.0.0.1:$HPORT/metrics"

conf() {
    cat <<EOF
Socket        inet:$MPORT@127.0.0.1
AuthservID    metrics.test
TrustAnchors  $(pwd)/sample-mail/pki/trust-anchors.pem
Syslog        no
MetricsSocket inet:$HPORT@127.0.0.1
Telemetry     sqlite:$T/run/telemetry.db
On-Fail       reject
Revocation    soft
RevocationTimeout 2
EOF
    # as root the daemon must switch user
    [ "$(id -u)" -eq 0 ] && echo "UserID        nobody"
}
mkdir -p "$T/run"
[ "$(id -u)" -eq 0 ] && chown nobody "$T/run"
conf > "$T/milter.conf"
"$M" -f -c "$T/milter.conf" > "$T/milter.log" 2>&1 &
MPID=$!
wait_for 100 port_open "$MPORT" || { fail "milter did not start"; exit 1; }
wait_for 100 port_open "$HPORT" || { fail "metrics endpoint did not open"; exit 1; }

scrape() { curl -sS --max-time 10 -o "$1" -w '%{http_code} %{content_type}\n' "$URL"; }
# value FILE SERIES: the value of one series of a scrape (exactly as rendered)
value() { awk -v s="$2" 'index($0, s " ") == 1 { print $NF; found = 1 } END { if (!found) print "missing" }' "$1"; }
promcheck() { # FILE
    if ! promtool check metrics < "$1" > "$T/promtool.out" 2>&1 || [ -s "$T/promtool.out" ]; then
        fail "promtool check metrics on $1: $(cat "$T/promtool.out")"
    fi
}

# ---- 1. format ----
got=$(scrape "$T/s0")
[ "$got" = "200 text/plain; version=0.0.4; charset=utf-8" ] || fail "scrape answered '$got'"
promcheck "$T/s0"
grep -q '^smime_milter_build_info{version="[0-9.]*",gnutls="[0-9.]*",gmime="[0-9.]*"} 1$' "$T/s0" ||
    fail "no build_info: $(grep build_info "$T/s0")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HPORT/")" = 404 ] || fail "/ is not 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL")" = 405 ] || fail "POST is not 405"
[ "$(curl -s -o /dev/null -w '%{http_code}' -I "$URL")" = 200 ] || fail "HEAD is not 200"
echo "1. scrape format (promtool check metrics): done"

# ---- 2. counters move by what was sent ----
S=sample-mail
PASS="$S/01-multipart-signed-rsa2048.eml"
FAIL_MSG="$S/30-tampered-body.eml"
NONE="$S/38-unsigned.eml"
send() { # MESSAGES FILE...
    n=$1; shift
    "$LOAD" 127.0.0.1 "$MPORT" 2 "$n" "$@" > "$T/load.out" 2>&1 || fail "milter-load: $(tail -n 3 "$T/load.out")"
}
send 10 "$PASS"
send 4 "$FAIL_MSG"
send 3 "$NONE"
kill -HUP "$MPID"
reloaded() { grep -q 'reloaded' "$T/milter.log"; }
wait_for 50 reloaded || fail "no reload"
cp "$T/milter.conf" "$T/good.conf"
echo "On-Fail explode" >> "$T/milter.conf"
kill -HUP "$MPID"
refused() { grep -q 'reload refused' "$T/milter.log"; }
wait_for 50 refused || fail "broken configuration not refused"
cp "$T/good.conf" "$T/milter.conf"
# telemetry records are written off the mail path: wait (bounded) for all 14
written() { scrape "$T/s1" >/dev/null && [ "$(value "$T/s1" smime_milter_telemetry_records_written_total)" = 14 ]; }
wait_for 100 written || fail "telemetry: written = $(value "$T/s1" smime_milter_telemetry_records_written_total), want 14"
promcheck "$T/s1"
expect() { # SERIES WANT
    v=$(value "$T/s1" "$1")
    [ "$v" = "$2" ] || fail "$1 = $v, want $2"
}
expect 'smime_milter_messages_total{result="pass",action="accept"}' 10
expect 'smime_milter_messages_total{result="fail",action="reject"}' 4
expect 'smime_milter_messages_total{result="none",action="accept"}' 3
expect 'smime_milter_messages_total{result="fail",action="accept"}' 0
expect 'smime_milter_signatures_total{result="pass"}' 10
expect 'smime_milter_signatures_total{result="fail"}' 4
expect 'smime_milter_verification_seconds_count' 17
expect 'smime_milter_verification_seconds_bucket{le="+Inf"}' 17
expect 'smime_milter_reloads_total{outcome="ok"}' 1
expect 'smime_milter_reloads_total{outcome="refused"}' 1
expect 'smime_milter_telemetry_records_queued_total' 14
expect 'smime_milter_telemetry_records_dropped_total{reason="queue-full"}' 0
expect 'smime_milter_internal_errors_total{action="tempfail"}' 0
# the sample certificates name a CRL: each signer's status is asked (whatever the
# answer), and at least the first ask fetches (later ones may hit the cache)
total() { grep "^$2{" "$1" | awk '{ n += $NF } END { print n + 0 }'; }
lookups=$(total "$T/s1" smime_milter_revocation_lookups_total)
[ "$lookups" -ge 10 ] || fail "revocation lookups $lookups, want >= 10 (one per passing signer)"
fetches=$(total "$T/s1" smime_milter_revocation_fetches_total)
[ "$fetches" -ge 1 ] || fail "revocation fetches $fetches, want >= 1"
sum=$(value "$T/s1" smime_milter_verification_seconds_sum)
awk -v s="$sum" 'BEGIN { exit !(s > 0 && s < 60) }' || fail "latency sum $sum"
echo "2. counters after 17 messages and two SIGHUPs: done"

# ---- 3. a real Prometheus server scrapes it ----
cat > "$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: smime-milter
    static_configs:
      - targets: ['127.0.0.1:$HPORT']
EOF
promtool check config "$T/prometheus.yml" > "$T/promtool-config.out" 2>&1 ||
    fail "promtool check config: $(cat "$T/promtool-config.out")"
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
    --web.listen-address="127.0.0.1:$PPORT" > "$T/prometheus.log" 2>&1 &
PPID_PROM=$!
# query EXPR: the first value Prometheus returns for an instant query, or "none"
query() {
    python3 - "$PPORT" "$1" <<'EOF'
import json, sys, urllib.parse, urllib.request
port, expr = sys.argv[1], sys.argv[2]
url = "http://127.0.0.1:%s/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": expr}))
try:
    with urllib.request.urlopen(url, timeout=5) as r:
        data = json.load(r)
    result = data["data"]["result"]
    print(result[0]["value"][1] if data["status"] == "success" and result else "none")
except Exception:
    print("none")
EOF
}
target_up() { [ "$(query 'up{job="smime-milter"}')" = 1 ]; }
# Prometheus takes a few seconds to open its database; 60 s at most
wait_for 600 target_up || { fail "Prometheus never saw the milter up"; exit 1; }
PASSES='smime_milter_messages_total{job="smime-milter",result="pass",action="accept"}'
seen_ten() { [ "$(query "$PASSES")" = 10 ]; }
wait_for 100 seen_ten || fail "Prometheus: $PASSES = $(query "$PASSES"), want 10 before more mail"
send 5 "$PASS"
moved() { [ "$(query "$PASSES")" = 15 ]; }
if wait_for 150 moved; then
    sigs=$(query 'smime_milter_signatures_total{result="pass"}')
    [ "$sigs" = 15 ] || fail "Prometheus: pass signatures = $sigs, want 15"
    n=$(query 'smime_milter_verification_seconds_count')
    [ "$n" = 22 ] || fail "Prometheus: verification count = $n, want 22"
    q=$(query 'histogram_quantile(0.5, smime_milter_verification_seconds_bucket)')
    case "$q" in none|NaN) fail "Prometheus: no median latency from the histogram ($q)" ;; esac
    echo "3. Prometheus on 127.0.0.1:$PPORT saw the counters move: pass 10 -> 15, median verification ${q}s"
else
    fail "Prometheus: $PASSES = $(query "$PASSES"), want 15 after 5 more messages"
fi
kill "$PPID_PROM"
wait_for 100 sh -c "! kill -0 $PPID_PROM 2>/dev/null" || fail "prometheus did not stop"
wait "$PPID_PROM" 2>/dev/null
PPID_PROM=""

kill "$MPID"
wait_for 100 sh -c "! kill -0 $MPID 2>/dev/null" || fail "milter did not stop"
wait "$MPID"; rc=$?
MPID=""
[ "$rc" -eq 0 ] || fail "milter exit status $rc"
port_open "$HPORT" && fail "metrics port still open after the milter stopped"
grep -q 'ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer' "$T/milter.log" &&
    fail "sanitizer report in the milter log"
if [ "$FAILED" -ne 0 ]; then
    echo "check-metrics: FAILED"
    exit 1
fi
echo "check-metrics: all passed"
