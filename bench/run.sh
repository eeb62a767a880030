#!/bin/sh
# `make bench`: speed and memory figures, measured in one run so that ratios hold
# on a noisy machine.  Prints a table and writes bench/results.json.  Never fails
# the build for slowness: only for a benchmark that could not run.
#
#   BENCH_SECONDS  seconds per throughput figure (default 5)
#   BENCH_BIG_MB   size of the big message for the memory figure (default 50)
#   BENCH_MILTER_MSGS  messages sent through the milter in each run (default 20000)
#   BENCH_MILTER_CONNS concurrent milter connections (default 16)
#   BENCH_MILTER_RATE  offered rate for the latency figures, msgs/s (default 2000)
set -eu
BUILD=${1:-build}
SECONDS_EACH=${BENCH_SECONDS:-5}
BIG_MB=${BENCH_BIG_MB:-50}
OUT=bench/results.json
S=sample-mail
MIX="$S/01-multipart-signed-rsa2048.eml $S/08-rsa3072-sha384.eml $S/11-ecdsa-p256.eml
$S/14-ed25519.eml $S/50-body-5k-rsa2048.eml $S/51-body-500k-p256.eml"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

echo "bench: pipeline ($SECONDS_EACH s, one core)..."
pipeline=$("$BUILD/bench/bench" pipeline "$SECONDS_EACH" $MIX | awk '{print $2}')
echo "bench: pipeline without the validated-path cache ($SECONDS_EACH s, one core)..."
cold=$("$BUILD/bench/bench" pipeline-cold "$SECONDS_EACH" $MIX | awk '{print $2}')
echo "bench: SBR linter over ../shared/corpus ($SECONDS_EACH s, one core)..."
lint_rate=null
if [ -d ../shared/corpus/pkilint-smime ]; then
    lint_rate=$("$BUILD/bench/bench" lint "$SECONDS_EACH" ../shared/corpus/pkilint-smime |
                awk '/^lint_certs_per_s/ {print $2}')
fi
echo "bench: crypto bound ($SECONDS_EACH s, one core)..."
crypto=$("$BUILD/bench/bench" crypto "$SECONDS_EACH" $MIX | awk '{print $2}')

# OpenSSL CLI: one `openssl cms -verify` process per message, as a shell script
# would do it.  Ed25519 is verified by neither OpenSSL 3.0's cms nor smime, so the
# OpenSSL mix leaves it out (and says so).
echo "bench: openssl cms -verify per message..."
ossl_mix=""
for f in $MIX; do case "$f" in *ed25519*) ;; *) ossl_mix="$ossl_mix $f" ;; esac; done
n=0
start=$(date +%s.%N)
end_by=$(awk -v s="$start" -v d="$SECONDS_EACH" 'BEGIN { printf "%.3f", s + d }')
while :; do
    for f in $ossl_mix; do
        openssl cms -verify -in "$f" -CAfile "$S/pki/trust-anchors.pem" -purpose smimesign \
            -out /dev/null 2>/dev/null || { echo "bench: openssl failed on $f" >&2; exit 1; }
        n=$((n + 1))
    done
    now=$(date +%s.%N)
    awk -v n="$now" -v e="$end_by" 'BEGIN { exit !(n > e) }' && break
done
openssl_rate=$(awk -v n="$n" -v a="$start" -v b="$now" 'BEGIN { printf "%.1f", n / (b - a) }')

echo "bench: peak memory for one ${BIG_MB} MB message..."
big="$T/big.eml"
{
    printf 'Content-Type: text/plain\r\n\r\n'
    yes 'The quick brown fox jumps over the lazy dog; 0123456789 abcdefghijklmnopqrstuvwxyz.' |
        head -n $((BIG_MB * 1024 * 1024 / 87)) | sed 's/$/\r/'
} >"$T/content"
{
    printf 'From: alice@example.test\r\nTo: carol@example.test\r\nSubject: big\r\n'
    openssl cms -sign -binary -in "$T/content" -signer "$S/pki/alice.pem" -inkey "$S/pki/alice.key" \
        -certfile "$S/pki/smime-ca.pem" -md sha256
} >"$big"
"$BUILD/bench/bench" rss "$big" >"$T/rss"
rss=$(awk '/^pipeline_peak_rss_mb/ {print $2}' "$T/rss")
big_size=$(awk '/^rss_message_mb/ {print $2}' "$T/rss")
big_result=$(awk '/^rss_result/ {print $2}' "$T/rss")
big_secs=$(awk '/^rss_verify_seconds/ {print $2}' "$T/rss")

# Through the milter protocol on loopback, no MTA: our load client (bench/
# milter-load.c) against the daemon with a default-like configuration.
milter_rate=null milter_p50=null milter_p99=null milter_rss=null
milter_sat_p50=null milter_sat_p99=null milter_offered=null milter_achieved=null milter_p99_runs=
steady_before=null steady_after=null
MILTER_CONNS=${BENCH_MILTER_CONNS:-16}
MILTER_MSGS=${BENCH_MILTER_MSGS:-20000}
MILTER_RATE=${BENCH_MILTER_RATE:-2000}
if [ -x "$BUILD/smime-milter" ]; then
    port=$((20000 + $$ % 10000))
    . tests/milter-lib.sh
    milter_up "$BUILD" "$T" bench.localhost "$port" ||
        { echo "bench: milter did not start" >&2; kill "$MILTER_PID"; exit 1; }
    mpid=$MILTER_PID
    field() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
    num() { if [ -n "$1" ]; then echo "$1"; else echo null; fi; }   # JSON for a missing figure
    load_ok() {
        [ "$(field milter_errors "$1")" = 0 ] && [ "$(field milter_tagged "$1")" = "$MILTER_MSGS" ] ||
            echo "bench: milter run $1: $(field milter_errors "$1") protocol errors, $(field milter_tagged "$1") of $MILTER_MSGS tagged" >&2
    }
    # How steady the CPU is, just before and just after the milter runs: on a
    # shared VM its speed changes for seconds at a time, and latency with it.
    "$BUILD/bench/bench" steadiness 3 > "$T/steady-before"
    # Runs over the same connections and mix.  Throughput: back to back
    # (closed loop), the most the milter takes; its latencies are mostly waiting
    # in line (mean = connections / throughput) and are reported as "saturated".
    # Latency: at the offered rate (open loop), timed from when each message was
    # due, so a milter that cannot keep up shows its backlog.
    echo "bench: milter, $MILTER_CONNS connections, $MILTER_MSGS messages back to back..."
    "$BUILD/bench/milter-load" 127.0.0.1 "$port" "$MILTER_CONNS" "$MILTER_MSGS" $MIX >"$T/closed" ||
        cat "$T/closed" >&2
    load_ok "$T/closed"
    # A p99 is the figure a noisy neighbour moves most (on the 2-core VM the same
    # build gave 7 to 15 ms in consecutive runs): three runs, the median reported
    # and all three kept.
    for k in 1 2 3; do
        echo "bench: milter, $MILTER_CONNS connections, $MILTER_MSGS messages at $MILTER_RATE/s (run $k of 3)..."
        "$BUILD/bench/milter-load" -r "$MILTER_RATE" 127.0.0.1 "$port" "$MILTER_CONNS" "$MILTER_MSGS" \
            $MIX >"$T/open$k" || cat "$T/open$k" >&2
        load_ok "$T/open$k"
    done
    # the run whose p99 is the median of the three gives p50, p99 and the rate
    median_run=$(for k in 1 2 3; do echo "$(field milter_p99_ms "$T/open$k") $k"; done | sort -n | sed -n 2p |
                 awk '{print $2}')
    if [ -n "$median_run" ]; then cp "$T/open$median_run" "$T/open"; else : >"$T/open"; fi
    milter_p99_runs=$(for k in 1 2 3; do num "$(field milter_p99_ms "$T/open$k")"; done | paste -sd, -)
    "$BUILD/bench/bench" steadiness 3 > "$T/steady-after"
    steady_before=$(num "$(field cpu_speed_slowest_pct "$T/steady-before")")
    steady_after=$(num "$(field cpu_speed_slowest_pct "$T/steady-after")")
    milter_rss=$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' /proc/$mpid/status)
    kill $mpid; wait $mpid 2>/dev/null || true
    milter_rate=$(num "$(field milter_msgs_per_s "$T/closed")")
    milter_sat_p50=$(num "$(field milter_p50_ms "$T/closed")")
    milter_sat_p99=$(num "$(field milter_p99_ms "$T/closed")")
    milter_p50=$(num "$(field milter_p50_ms "$T/open")")
    milter_p99=$(num "$(field milter_p99_ms "$T/open")")
    milter_offered=$MILTER_RATE
    milter_achieved=$(num "$(field milter_msgs_per_s "$T/open")")
fi

# Ratios with awk: bc prints ".5", which is not JSON.
# Through a real Postfix: the load test with the benchmark's larger defaults
# (root and Postfix needed; BENCH_LOAD=0 skips it).
load_line="skipped (needs root and Postfix)"
if [ "${BENCH_LOAD:-1}" = 1 ] && [ "$(id -u)" -eq 0 ] && command -v postfix >/dev/null; then
    echo "bench: load through Postfix, ${BENCH_LOAD_SESSIONS:-32} sessions, ${BENCH_LOAD_MESSAGES:-2000} messages..."
    if LOAD_SESSIONS=${BENCH_LOAD_SESSIONS:-32} LOAD_MESSAGES=${BENCH_LOAD_MESSAGES:-2000} \
            LOAD_KILL_MESSAGES=${BENCH_LOAD_MESSAGES:-2000} sh tests/check-load.sh "$BUILD" >"$T/load.out" 2>&1; then
        load_line=$(grep '^load held:' "$T/load.out")
        kill_line=$(grep '^milter SIGKILLed under load' "$T/load.out")
    else
        load_line="FAILED (see below)"
        tail -20 "$T/load.out"
    fi
fi

# Telemetry at fleet scale (bench/telemetry-scale.sh): BENCH_TELEMETRY_RECORDS
# (default 10 million) synthetic records in PostgreSQL and SQLite, the report's
# time over each, and the cost of the mail path's submit.
echo "bench: telemetry, ${BENCH_TELEMETRY_RECORDS:-10000000} records in PostgreSQL and SQLite..."
sh bench/telemetry-scale.sh "$BUILD" > "$T/tscale" 2>"$T/tscale.err" || cat "$T/tscale.err" >&2
tfield() { v=$(awk -v k="$1" '$1 == k { print $2 }' "$T/tscale"); echo "${v:-null}"; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
r_crypto=$(ratio "$pipeline" "$crypto")
r_cold=$(ratio "$cold" "$crypto")
r_openssl=$(ratio "$pipeline" "$openssl_rate")
r_rss=$(ratio "$rss" "$big_size")

cat >"$OUT" <<JSON
{
  "pipeline_msgs_per_s": $pipeline,
  "pipeline_cold_msgs_per_s": $cold,
  "crypto_bound_msgs_per_s": $crypto,
  "openssl_cli_msgs_per_s": $openssl_rate,
  "pipeline_over_crypto_bound": $r_crypto,
  "pipeline_cold_over_crypto_bound": $r_cold,
  "pipeline_over_openssl_cli": $r_openssl,
  "pipeline_peak_rss_mb": $rss,
  "big_message_mb": $big_size,
  "big_message_rss_over_size": $r_rss,
  "big_message_result": "$big_result",
  "big_message_verify_s": $big_secs,
  "lint_certs_per_s": $lint_rate,
  "milter_msgs_per_s": $milter_rate,
  "milter_p50_ms": $milter_p50,
  "milter_p99_ms": $milter_p99,
  "milter_p99_ms_runs": [$milter_p99_runs],
  "milter_latency_offered_msgs_per_s": $milter_offered,
  "milter_latency_achieved_msgs_per_s": $milter_achieved,
  "milter_saturated_p50_ms": $milter_sat_p50,
  "milter_saturated_p99_ms": $milter_sat_p99,
  "milter_peak_rss_mb": $milter_rss,
  "cpu_speed_slowest_pct_before_milter": $steady_before,
  "cpu_speed_slowest_pct_after_milter": $steady_after,
  "milter_connections": $MILTER_CONNS,
  "mix": "$(echo $MIX | tr '\n' ' ')",
  "openssl_mix_excludes": "ed25519 (OpenSSL 3.0 cms cannot verify it)",
  "seconds_per_figure": $SECONDS_EACH,
  "telemetry_records": $(tfield records),
  "telemetry_pg_report_s": $(tfield pg_report_s),
  "telemetry_sqlite_report_s": $(tfield sqlite_report_s),
  "telemetry_pg_load_s": $(tfield pg_load_s),
  "telemetry_sqlite_load_s": $(tfield sqlite_load_s),
  "telemetry_submit_mean_ns": $(tfield submit_mean_ns),
  "telemetry_submit_p99_ns": $(tfield submit_p99_ns),
  "telemetry_submit_sig_mean_ns": $(tfield submit_sig_mean_ns)
}
JSON

printf '\n%-34s %14s   %s\n' "figure" "value" "target"
printf '%-34s %14s   %s\n' "pipeline msgs/s (1 core)" "$pipeline" ""
printf '%-34s %14s   %s\n' "  without path cache" "$cold" ""
printf '%-34s %14s   %s\n' "crypto bound msgs/s (1 core)" "$crypto" ""
printf '%-34s %14s   %s\n' "openssl cms -verify msgs/s" "$openssl_rate" ""
printf '%-34s %14s   %s\n' "pipeline / crypto bound" "$r_crypto" ">= 0.5"
printf '%-34s %14s   %s\n' "  without path cache" "$r_cold" ""
printf '%-34s %14s   %s\n' "pipeline / openssl CLI" "$r_openssl" ">= 15"
printf '%-34s %14s   %s\n' "peak RSS, ${big_size} MB message (MB)" "$rss" ""
printf '%-34s %14s   %s\n' "peak RSS / message size" "$r_rss" "< 3"
printf '%-34s %14s   %s\n' "lint certs/s (1 core, corpus)" "$lint_rate" ">= 20000"
printf '%-34s %14s   %s\n' "milter msgs/s ($MILTER_CONNS conns, 2 cores)" "$milter_rate" ">= 2000"
printf '%-34s %14s   %s\n' "milter p50 / p99 ms at $MILTER_RATE/s" "$milter_p50 / $milter_p99" "p99 < 10 (median of $milter_p99_runs)"
printf '%-34s %14s   %s\n' "  saturated (back to back)" "$milter_sat_p50 / $milter_sat_p99" ""
printf '%-34s %14s   %s\n' "milter peak RSS (MB)" "$milter_rss" ""
printf '%-34s %14s   %s\n' "CPU speed, slowest slice (%)" "$steady_before / $steady_after" "before / after the milter runs (100 = steady)"
printf '%-34s %14s   %s\n' "telemetry report s, $(tfield records) rec" "$(tfield pg_report_s) / $(tfield sqlite_report_s)" "PostgreSQL < 10 / SQLite < 30"
printf '%-34s %14s   %s\n' "telemetry submit ns (mean / p99)" "$(tfield submit_mean_ns) / $(tfield submit_p99_ns)" "a few us"
echo "Postfix $load_line"
[ -n "${kill_line:-}" ] && echo "Postfix $kill_line"
echo "bench: wrote $OUT"
