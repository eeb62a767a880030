#!/bin/sh
# `make bench`: speed and memory figures, measured in one run so that ratios hold
# on a noisy machine.  Prints a table and writes bench/results.json.  Never fails
# the build for slowness: only for a benchmark that could not run.
#
#   BENCH_SECONDS  seconds per throughput figure (default 5)
#   BENCH_BIG_MB   size of the big message for the memory figure (default 50)
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
end_by=$(echo "$start + $SECONDS_EACH" | bc)
while :; do
    for f in $ossl_mix; do
        openssl cms -verify -in "$f" -CAfile "$S/pki/trust-anchors.pem" -purpose smimesign \
            -out /dev/null 2>/dev/null || { echo "bench: openssl failed on $f" >&2; exit 1; }
        n=$((n + 1))
    done
    now=$(date +%s.%N)
    [ "$(echo "$now > $end_by" | bc)" -eq 1 ] && break
done
openssl_rate=$(echo "scale=1; $n / ($now - $start)" | bc)

echo "bench: peak memory for one ${BIG_MB} MB message..."
big="$T/big.eml"
{
    printf 'Content-Type: text/plain\r\n\r\n'
    yes 'The quick brown fox jumps over the lazy dog; 0123456789 abcdefghijklmnopqrstuvwxyz.' |
        head -c $((BIG_MB * 1024 * 1024)) | sed 's/$/\r/'
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

ratio() { echo "scale=3; $1 / $2" | bc; }
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
  "lint_certs_per_s": null,
  "milter_msgs_per_s": null,
  "milter_p50_ms": null,
  "milter_p99_ms": null,
  "milter_peak_rss_mb": null,
  "mix": "$(echo $MIX | tr '\n' ' ')",
  "openssl_mix_excludes": "ed25519 (OpenSSL 3.0 cms cannot verify it)",
  "seconds_per_figure": $SECONDS_EACH
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
printf '%-34s %14s   %s\n' "lint certs/s" "n/a" "linter not integrated yet"
printf '%-34s %14s   %s\n' "milter msgs/s, p50, p99" "n/a" "milter not built yet"
echo "bench: wrote $OUT"
