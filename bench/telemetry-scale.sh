#!/bin/sh
# Fleet-scale telemetry figures for `make bench` (called by bench/run.sh; also by
# hand: sh bench/telemetry-scale.sh BUILD [RECORDS]).
#
#   - RECORDS synthetic records (bench/telemetry-scale.c: 100,000 certificates of
#     eight CAs, 20,000 sender domains, one month) loaded into a private
#     PostgreSQL server on loopback with COPY, and into a SQLite file in one
#     transaction with a prepared insert;
#   - the time of `smime-telemetry report` over each (aggregated on the server:
#     only buckets come back), targets < 10 s (PostgreSQL) and < 30 s (SQLite);
#   - the mail path's cost: smime_telemetry_submit and submit_sig, mean and p99.
#
# Prints "name value" lines; the last one is telemetry_ok 1 when every part ran.
# Needs the PostgreSQL server binaries (tools/deps.sh installs them); without
# them the PostgreSQL figures are null.
set -u
BUILD=${1:-build}
RECORDS=${2:-${BENCH_TELEMETRY_RECORDS:-10000000}}
GEN="$BUILD/bench/telemetry-scale"
TOOL="$BUILD/smime-telemetry"
tmp=$(mktemp -d /tmp/telemetry-scale.XXXXXX)
pg_ctl="" pg_data=""
ok=1

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    if [ -n "$pg_ctl" ] && [ -f "$pg_data/postmaster.pid" ]; then
        as_pg "$pg_ctl" stop -D "$pg_data" -m immediate -w -t 30 >/dev/null 2>&1
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

[ -x "$GEN" ] && [ -x "$TOOL" ] || { echo "telemetry-scale: build first" >&2; exit 1; }
echo "records $RECORDS"

# ---- the mail path -------------------------------------------------------------
"$GEN" submit 1000000 || ok=0

# ---- SQLite ------------------------------------------------------------------------
t0=$(date +%s.%N)
"$GEN" sqlite "$tmp/t.db" "$RECORDS" 1 || ok=0
t1=$(date +%s.%N)
echo "sqlite_load_s $(secs "$t0" "$t1")"
echo "sqlite_db_mb $(du -m "$tmp/t.db" | cut -f1)"
"$TOOL" report --db "sqlite:$tmp/t.db" > "$tmp/sqlite.txt" 2>"$tmp/sqlite.err" || { ok=0; cat "$tmp/sqlite.err" >&2; }
t2=$(date +%s.%N)
echo "sqlite_report_s $(secs "$t1" "$t2")"
grep "^signatures: " "$tmp/sqlite.txt" | sed 's/^signatures: /sqlite_report_signatures /'
rm -f "$tmp/t.db"

# ---- PostgreSQL ------------------------------------------------------------------------
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
    echo "pg_report_s null"
    echo "telemetry-scale: PostgreSQL server binaries missing" >&2
    ok=0
else
    pg_ctl="$pg_bin/pg_ctl"
    pg_data="$tmp/pg/data"
    mkdir -p "$tmp/pg"
    [ "$(id -u)" -eq 0 ] && chown postgres "$tmp/pg" && chmod 755 "$tmp"
    as_pg "$pg_bin/initdb" -D "$pg_data" --auth=trust -U postgres -E UTF8 --no-locale \
        >"$tmp/pg/initdb.log" 2>&1 || { cat "$tmp/pg/initdb.log" >&2; exit 1; }
    started=0
    for try in 1 2 3 4 5; do
        port=$(( 20000 + ($$ * 11 + try * 1117) % 30000 ))
        # a server sized for a report, not the defaults of a shared install
        if as_pg "$pg_ctl" start -D "$pg_data" -w -t 60 -l "$tmp/pg/server.log" \
                -o "-k $tmp/pg -h 127.0.0.1 -p $port -c fsync=off -c synchronous_commit=off \
                    -c shared_buffers=1GB -c work_mem=256MB -c maintenance_work_mem=512MB \
                    -c max_wal_size=8GB -c wal_level=minimal -c max_wal_senders=0" \
                >/dev/null 2>&1; then
            started=1; break
        fi
    done
    [ $started -eq 1 ] || { tail -n 20 "$tmp/pg/server.log" >&2; exit 1; }
    "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres telemetry || exit 1
    URI="postgresql://postgres@127.0.0.1:$port/telemetry"
    psql_q() { "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d telemetry "$@"; }
    # the tool makes and migrates the schema (a report of the empty database)
    "$TOOL" report --db "$URI" >/dev/null 2>&1 || ok=0
    cols=$("$GEN" columns)
    t0=$(date +%s.%N)
    "$GEN" copy "$RECORDS" 1 | psql_q -c "COPY signature ($cols) FROM STDIN" ||
        ok=0
    psql_q -c "VACUUM ANALYZE signature" || ok=0
    t1=$(date +%s.%N)
    echo "pg_load_s $(secs "$t0" "$t1")"
    echo "pg_table_mb $(psql_q -A -t -c "SELECT pg_total_relation_size('signature') / 1048576")"
    "$TOOL" report --db "$URI" > "$tmp/pg.txt" 2>"$tmp/pg.err" || { ok=0; cat "$tmp/pg.err" >&2; }
    t2=$(date +%s.%N)
    echo "pg_report_s $(secs "$t1" "$t2")"
    grep "^signatures: " "$tmp/pg.txt" | sed 's/^signatures: /pg_report_signatures /'
fi
echo "telemetry_ok $ok"
