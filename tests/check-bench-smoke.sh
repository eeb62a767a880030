#!/bin/sh
# The bench programs still run and `make bench` still writes its JSON: each floor
# program (crypto-limit, cms-peers, null-milter driven by milter-load, as the
# libmilter floor and as the crypto milter floor) and the
# in-process figures over a few messages for a few milliseconds of CPU, then
# bench/run.sh itself with every duration and count at its smallest, into a
# temporary file.  Checks that each prints a positive figure and that the JSON
# parses and has every key; no timing is asserted.
#   tests/check-bench-smoke.sh BUILD
set -eu
BUILD=${1:?usage: tests/check-bench-smoke.sh BUILD}
S=sample-mail
T=$(mktemp -d)
NPID=
trap '[ -n "$NPID" ] && kill "$NPID" 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# positive KEY FILE: KEY's value in FILE is a number above zero
positive() {
    awk -v k="$1" '$1 == k { found = 1; if ($2 + 0 > 0) ok = 1 } END { exit !(found && ok) }' "$2" ||
        fail "$1 is not a positive figure in: $(tr '\n' ' ' <"$2")"
    echo "ok: $1 $(awk -v k="$1" '$1 == k { print $2 }' "$2")"
}
MIX="$S/01-multipart-signed-rsa2048.eml $S/11-ecdsa-p256.eml $S/14-ed25519.eml"
OSSL_MIX="$S/01-multipart-signed-rsa2048.eml $S/11-ecdsa-p256.eml"

"$BUILD/bench/crypto-limit" gnutls 0.01 $MIX >"$T/out" || fail "crypto-limit gnutls"
positive crypto_limit_msgs_per_s "$T/out"
positive crypto_limit_us_per_msg "$T/out"
"$BUILD/bench/crypto-limit" openssl 0.01 $MIX >"$T/out" || fail "crypto-limit openssl"
positive crypto_limit_openssl_msgs_per_s "$T/out"
"$BUILD/bench/cms-peers" gnutls-pkcs7 0.01 $MIX >"$T/out" || fail "cms-peers gnutls-pkcs7"
positive gnutls_pkcs7_msgs_per_s "$T/out"
"$BUILD/bench/cms-peers" openssl-cms 0.01 $OSSL_MIX >"$T/out" || fail "cms-peers openssl-cms"
positive openssl_cms_msgs_per_s "$T/out"
"$BUILD/bench/bench" pipeline 0.01 $MIX >"$T/out" || fail "bench pipeline"
positive pipeline_cpu_msgs_per_s "$T/out"
positive pipeline_msgs_per_s "$T/out"
"$BUILD/bench/bench" crypto 0.01 $MIX >"$T/out" || fail "bench crypto"
positive crypto_bound_msgs_per_s "$T/out"
"$BUILD/bench/bench" large 0.01 "$S/51-body-500k-p256.eml" >"$T/out" || fail "bench large"
positive large_body_vs_sha256 "$T/out"
positive sha256_mb_per_s "$T/out"

# A floor that measures a wrong thing must not run: a tampered body fails the
# crypto limit's messageDigest check and both peers.
for p in "crypto-limit gnutls" "crypto-limit openssl" "cms-peers gnutls-pkcs7" "cms-peers openssl-cms"; do
    # shellcheck disable=SC2086
    if "$BUILD/bench/"$p 0.01 "$S/30-tampered-body.eml" >"$T/out" 2>&1; then
        fail "$p measured a tampered message"
    fi
done
echo "ok: the floors refuse a tampered message"

# The null milter answers the load client: every message accepted, none tagged.
. tests/port-lib.sh
port=$(free_port)
"$BUILD/bench/null-milter" "$port" >"$T/null.log" 2>&1 &
NPID=$!
i=0
until "$BUILD/bench/milter-load" 127.0.0.1 "$port" 1 1 "$S/01-multipart-signed-rsa2048.eml" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] && kill -0 "$NPID" 2>/dev/null || fail "null milter did not answer: $(cat "$T/null.log")"
    sleep 0.1
done
"$BUILD/bench/milter-load" 127.0.0.1 "$port" 4 40 $MIX >"$T/out" || fail "milter-load against the null milter"
[ "$(awk '$1 == "milter_accepted" { print $2 }' "$T/out")" = 40 ] || fail "null milter: $(tr '\n' ' ' <"$T/out")"
[ "$(awk '$1 == "milter_errors" { print $2 }' "$T/out")" = 0 ] || fail "null milter: protocol errors"
awk '{ exit !($14 + $15 >= 0) }' "/proc/$NPID/stat" || fail "no CPU times for the null milter"
kill -9 "$NPID"                  # libmilter takes up to 5 s to act on a SIGTERM
wait "$NPID" 2>/dev/null || true
NPID=
echo "ok: null milter accepted 40 of 40"

# The crypto milter floor verifies what it receives: every mix message accepted
# and tagged; a tampered body is no floor, and stops it (exit 3).
port=$(free_port)
"$BUILD/bench/null-milter" "$port" $MIX >"$T/floor.log" 2>&1 &
NPID=$!
i=0
until "$BUILD/bench/milter-load" 127.0.0.1 "$port" 1 1 "$S/01-multipart-signed-rsa2048.eml" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] && kill -0 "$NPID" 2>/dev/null || fail "crypto milter did not answer: $(cat "$T/floor.log")"
    sleep 0.1
done
"$BUILD/bench/milter-load" 127.0.0.1 "$port" 4 40 $MIX >"$T/out" || fail "milter-load against the crypto milter"
for k in milter_accepted milter_tagged; do
    [ "$(awk -v k=$k '$1 == k { print $2 }' "$T/out")" = 40 ] || fail "crypto milter: $(tr '\n' ' ' <"$T/out")"
done
# one letter of the signed text changed: a body as long as sample 01's, so it is
# the hash that must refuse it
sed 's/^Hi Carol,/Hi Karol,/' "$S/01-multipart-signed-rsa2048.eml" >"$T/tampered.eml"
cmp -s "$T/tampered.eml" "$S/01-multipart-signed-rsa2048.eml" && fail "sample 01 no longer says Hi Carol"
"$BUILD/bench/milter-load" 127.0.0.1 "$port" 1 1 "$T/tampered.eml" >"$T/out" 2>&1 || true
i=0
while kill -0 "$NPID" 2>/dev/null && [ $i -lt 50 ]; do
    i=$((i + 1))
    sleep 0.1
done
kill -0 "$NPID" 2>/dev/null && fail "the crypto milter took a tampered message and runs on"
rc=0
wait "$NPID" 2>/dev/null || rc=$?
NPID=
[ "$rc" = 3 ] || fail "the crypto milter stopped with $rc at a tampered message: $(cat "$T/floor.log")"
echo "ok: crypto milter verified and tagged 40 of 40, and stopped at a tampered one"

# The whole of make bench at its smallest: it runs, and its JSON has every key.
# The telemetry bench's default is 10 million records (minutes of loading); here
# 2,000 show that it runs.
TELEMETRY_RECORDS=2000
BENCH_OUT="$T/results.json" BENCH_ROUNDS=1 BENCH_ROUND_SECONDS=0.01 BENCH_SECONDS=0.01 BENCH_BIG_MB=1 \
    BENCH_MILTER_MSGS=30 BENCH_MILTER_CLOSED_MSGS=30 BENCH_MILTER_ROUNDS=1 BENCH_STEADY_SECONDS=0.05 \
    BENCH_LOAD=0 BENCH_TELEMETRY_RECORDS=$TELEMETRY_RECORDS sh bench/run.sh "$BUILD" >"$T/run.out" 2>&1 || { tail -n 30 "$T/run.out" >&2; fail "bench/run.sh"; }
python3 - "$T/results.json" "$TELEMETRY_RECORDS" <<'EOF' || fail "bench/run.sh wrote a bad results.json"
import json, sys
d = json.load(open(sys.argv[1]))
keys = """pipeline_msgs_per_s pipeline_cold_msgs_per_s crypto_bound_msgs_per_s openssl_cli_msgs_per_s
pipeline_over_crypto_bound pipeline_cold_over_crypto_bound pipeline_over_openssl_cli pipeline_peak_rss_mb
big_message_mb big_message_rss_over_size big_message_result big_message_verify_s lint_certs_per_s
milter_msgs_per_s milter_p50_ms milter_p99_ms milter_p99_ms_runs milter_latency_offered_msgs_per_s
milter_latency_achieved_msgs_per_s milter_saturated_p50_ms milter_saturated_p99_ms milter_peak_rss_mb
cpu_speed_slowest_pct_before_milter cpu_speed_slowest_pct_after_milter milter_connections mix
openssl_mix_excludes seconds_per_figure
crypto_limit_msgs_per_s pipeline_cpu_msgs_per_s pipeline_vs_limit null_milter_cpu_us_per_msg
milter_cpu_us_per_msg openssl_cms_msgs_per_s gnutls_pkcs7_msgs_per_s large_body_vs_sha256
crypto_milter_cpu_us_per_msg crypto_milter_cpu_spread crypto_milter_limits milter_over_crypto_milter""".split()
missing = [k for k in keys if k not in d]
if missing:
    sys.exit("missing keys: %s" % " ".join(missing))
# the floors and the figures measured in-process are always there and positive
for k in ("crypto_limit_msgs_per_s", "pipeline_cpu_msgs_per_s", "pipeline_vs_limit",
          "openssl_cms_msgs_per_s", "gnutls_pkcs7_msgs_per_s", "large_body_vs_sha256"):
    if not isinstance(d[k], (int, float)) or d[k] <= 0:
        sys.exit("%s is %r" % (k, d[k]))
# the fleet-scale telemetry bench ran over both databases and each report
# counted every synthetic record
if d.get("telemetry_ok") != 1:
    sys.exit("telemetry_ok is %r" % d.get("telemetry_ok"))
for k in ("sqlite_report_signatures", "pg_report_signatures"):
    if d.get(k) != int(sys.argv[2]):
        sys.exit("%s is %r, not the %s records loaded" % (k, d.get(k), sys.argv[2]))
print("ok: results.json has all %d keys" % len(keys))
EOF
grep -q "pipeline, path cache on" "$T/run.out" && grep -q ">= 0.6 x limit" "$T/run.out" ||
    fail "the table lacks the pipeline's target: $(tail -n 30 "$T/run.out")"
echo "ok: make bench at its smallest"
