#!/bin/sh
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for SECONDS,
# seeded from sample-mail/ and ../shared/corpus, then replays every saved
# regression input in tests/fuzz/regressions/TARGET/.  A crash is kept under
# build-fuzz/crashes/ and fails the run; add it to regressions/ once fixed.
#   sh tests/fuzz/run.sh SECONDS [TARGET...]
set -eu
SECONDS_EACH=${1:-10}
shift || true
B=build-fuzz
mkdir -p "$B/seeds" "$B/crashes"
make -s BUILD="$B" CC=clang SAN=1 OPTFLAGS="-O1 -fsanitize=fuzzer-no-link" "$B/libsmime.a"
CFLAGS_F="-std=c11 -g -O1 -Iinclude -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
 -fsanitize=fuzzer,address,undefined $(pkg-config --cflags gmime-3.0 gnutls)"
LIBS="$B/libsmime.a $(pkg-config --libs gmime-3.0 gnutls sqlite3 libpq libcurl) -pthread"

seed_dir() { # TARGET -> a directory of seed inputs
    d="$B/seeds/$1"
    rm -rf "$d"; mkdir -p "$d"
    case "$1" in
    fuzz_verify)
        cp sample-mail/*.eml "$d/"
        # Thunderbird's messages: real NSS BER (copied into the build tree only)
        find ../shared/corpus/thunderbird-smime -name '*.eml' 2>/dev/null |
            while read -r f; do cp "$f" "$d/tb-$(basename "$f")"; done ;;
    fuzz_cms|fuzz_ber)
        # `openssl smime -pk7out` writes PEM whatever -outform says: take the
        # base64 out of it for the DER the message carries, and add a BER twin.
        for f in sample-mail/*.eml; do
            n=$(basename "$f" .eml)
            openssl smime -pk7out -in "$f" 2>/dev/null | sed '/^-----/d' | base64 -d >"$d/$n.der" 2>/dev/null || true
            [ -s "$d/$n.der" ] || { rm -f "$d/$n.der"; continue; }
            python3 tests/fuzz/berify.py "$d/$n.der" "$d/$n.ber" || rm -f "$d/$n.ber"
        done ;;
    fuzz_lint)
        for f in ../shared/corpus/pkilint-smime/smime_br/*/*/*.crttest tests/lint/certs/*.pem; do
            [ -f "$f" ] || continue
            sed -n '/BEGIN CERT/,/END CERT/p' "$f" | openssl x509 -outform DER \
                -out "$d/$(basename "$f" | tr . _).der" 2>/dev/null || true
        done ;;
    fuzz_authres) printf 'reason\377alice@example.test\3771.2\377AB\377CN=x' >"$d/basic" ;;
    fuzz_config)
        cp doc/smime-milter.conf.sample "$d/sample.conf"
        printf 'TrustAnchors /etc/a.pem\n' >"$d/minimal"
        printf 'Socket local:/run/m.sock # c\r\nTrustAnchors /a\nUserID nobody:postfix\nUMask 007\nMaximumMessageSize 100k\nMessageMemoryLimit 16k\n' >"$d/local"
        printf 'socket inet6:8894@[::1]\ntrustanchors\t/a\nOn-Fail reject\nRejectReply 550 5.7.1 no: %%r\nRevocation hard\nRevocationTimeout 1\nTelemetry sqlite:/t.db\n' >"$d/inet6"
        printf 'TrustAnchors /a\nOn-Fail explode\n' >"$d/bad" ;;
    fuzz_crl) cp tests/revocation/fixtures/*.crl "$d/" ;;
    fuzz_ocsp) cp tests/revocation/fixtures/ocsp-*.der "$d/" ;;
    *) [ -d "tests/fuzz/seeds/$1" ] && cp "tests/fuzz/seeds/$1/"* "$d/" ;;
    esac
    echo "$d"
}

targets=${*:-$(ls tests/fuzz/fuzz_*.c | xargs -n1 basename | sed 's/\.c$//')}
total=0
for t in $targets; do
    # shellcheck disable=SC2086
    clang $CFLAGS_F -o "$B/$t" "tests/fuzz/$t.c" $LIBS
    seeds=$(seed_dir "$t")
    reg="tests/fuzz/regressions/$t"
    if [ -d "$reg" ] && [ -n "$(ls "$reg")" ]; then
        "$B/$t" -runs=0 "$reg"/* >"$B/$t.replay.log" 2>&1 ||
            { echo "fuzz: $t fails on a saved regression input"; tail -30 "$B/$t.replay.log"; exit 1; }
    fi
    corpus="$B/corpus/$t"
    mkdir -p "$corpus"
    "$B/$t" -max_total_time="$SECONDS_EACH" -max_len=262144 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$B/crashes/$t-" -print_final_stats=1 "$corpus" "$seeds" >"$B/$t.log" 2>&1 ||
        { echo "fuzz: $t found a failure (see $B/$t.log, input in $B/crashes/)"; tail -40 "$B/$t.log"; exit 1; }
    runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$B/$t.log")
    echo "fuzz: $t: $runs executions in ${SECONDS_EACH}s, no failure"
    total=$((total + 1))
done
echo "fuzz: $total targets run"
