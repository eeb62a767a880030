#!/bin/sh
# Telemetry end to end: record the sample mail (several days, plus copies that
# name a mail client) into a SQLite file with `smime-telemetry record` (the same
# pipeline and queue as the milter), then check `smime-telemetry report` in every
# format: content, date filters, K-suppression (no bucket below K in any format),
# and that no address, message id or subject reached the database.
#
# Then the same through a real PostgreSQL server that this script starts on
# loopback in a temporary directory (initdb --auth=trust, pg_ctl with bounded
# waits, stopped on exit), and the HTML report rendered by headless Chromium.
# Those two parts run for the normal build only: under ASan they would test the
# sanitizer's view of libpq and Chromium rather than our code, and the code they
# drive is the same that the SQLite part runs under ASan.
set -u
BUILD=${1:?usage: check-telemetry.sh BUILD_DIR}
TOOL="$BUILD/smime-telemetry"
ANCHORS=sample-mail/pki/trust-anchors.pem
status=0
tmp=$(mktemp -d /tmp/check-telemetry.XXXXXX)
KEEP_TMP=${KEEP_TMP:-}
pg_data=""
pg_ctl=""

cleanup() {
    if [ -n "$pg_ctl" ] && [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ]; then
        as_pg "$pg_ctl" stop -D "$pg_data" -m immediate -w -t 20 >/dev/null 2>&1
    fi
    [ -n "$KEEP_TMP" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() { echo "FAIL: $*"; status=1; }
ok() { echo "ok   $*"; }

# Runs a command as the postgres user when we are root (initdb refuses root).
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

[ -x "$TOOL" ] || { echo "FAIL: $TOOL not built"; exit 1; }

# ---- test mail: the sample corpus, and copies that carry a client header -------
mkdir -p "$tmp/clients"
add_header() {   # add_header FILE HEADER-LINE OUT: the top-level header is not signed
    { printf '%s\r\n' "$2"; cat "$1"; } > "$3"
}
add_header sample-mail/01-multipart-signed-rsa2048.eml \
    'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.3.1' \
    "$tmp/clients/tb.eml"
add_header sample-mail/11-ecdsa-p256.eml 'X-Mailer: Microsoft Outlook 16.0.17029' \
    "$tmp/clients/ol.eml"
add_header sample-mail/08-rsa3072-sha384.eml 'X-Mailer: Apple Mail (2.3774.200.91.1.1)' \
    "$tmp/clients/am.eml"

DAYS="2026-04-01 2026-04-15 2026-05-01 2026-05-15 2026-06-01 2026-06-02 2026-06-03 2026-06-04
2026-07-01 2026-07-02 2026-07-03 2026-07-04"

record_all() {   # record_all URI [--secret FILE]: 12 days of the corpus; the first two days run at once
    uri=$1; shift
    n=0
    pids=""
    for day in $DAYS; do
        n=$((n + 1))
        if [ $n -le 2 ]; then
            # two writers opening a fresh database together: the migration and the
            # writes must serialise, not fail
            "$TOOL" record --db "$uri" --trust-anchors "$ANCHORS" --at "$day" "$@" \
                sample-mail/*.eml "$tmp"/clients/*.eml >"$tmp/rec-$n.log" 2>&1 &
            pids="$pids $!"
            [ $n -eq 2 ] && for p in $pids; do wait "$p" || { fail "record ($uri) failed:"; cat "$tmp"/rec-*.log; }; done
            continue
        fi
        "$TOOL" record --db "$uri" --trust-anchors "$ANCHORS" --at "$day" "$@" \
            sample-mail/*.eml "$tmp"/clients/*.eml >"$tmp/rec.log" 2>&1 ||
            { fail "record $day ($uri) failed:"; cat "$tmp/rec.log"; }
    done
}

report() {   # report URI ARGS...: the report on stdout, failure is a test failure
    uri=$1; shift
    "$TOOL" report --db "$uri" "$@" 2>"$tmp/report.err" || { fail "report $* failed:"; cat "$tmp/report.err"; }
}

# per day: 35 signatures in sample-mail/, 3 in the client copies
PER_DAY=38
TOTAL=$((12 * PER_DAY))

DB="$tmp/telemetry.db"
URI="sqlite:$DB"
record_all "$URI"

# ---- privacy: nothing personal in the file --------------------------------------
if command -v sqlite3 >/dev/null 2>&1; then
    sqlite3 "$DB" .dump > "$tmp/dump.sql" || fail "sqlite3 .dump"
    rows=$(sqlite3 "$DB" 'SELECT count(*) FROM signature')
    [ "$rows" = "$TOTAL" ] && ok "sqlite: $rows records" || fail "sqlite: $rows records, expected $TOTAL"
    leaks=0
    if grep -q '@' "$tmp/dump.sql"; then fail "an '@' in the database"; leaks=1; fi
    for word in alice bob carol mallory Alice Bob Carol example.test Quarterly Tampered \
                sample@ 115.3.1 17029 Gecko; do
        if grep -q -- "$word" "$tmp/dump.sql"; then fail "database holds \"$word\""; leaks=1; fi
    done
    grep -h -i '^\(message-id\|subject\):' sample-mail/*.eml | sed 's/^[^:]*: *//; s/\r$//' |
        sort -u > "$tmp/personal.txt"
    while IFS= read -r v; do
        [ -n "$v" ] || continue
        if grep -F -q -- "$v" "$tmp/dump.sql"; then fail "database holds \"$v\""; leaks=1; fi
    done < "$tmp/personal.txt"
    [ $leaks -eq 0 ] && ok "no address, name, message id, subject or client version stored"
    version=$(sqlite3 "$DB" "SELECT value FROM telemetry_meta WHERE key='schema_version'")
    [ "$version" = 3 ] && ok "schema version 3" || fail "schema version $version"
    # issue 14: the database and the deployment secret are the owner's only (the
    # tool ran with the usual umask 022).  The -wal and -shm files exist only while
    # a connection is open: tests/unit/test_telemetry.c checks them then.
    for f in "$DB" "$DB.secret"; do
        m=$(stat -c %a "$f" 2>/dev/null)
        [ "$m" = 600 ] && ok "mode 600: $(basename "$f")" || fail "$(basename "$f"): mode ${m:-missing}"
    done
    sz=$(stat -c %s "$DB.secret" 2>/dev/null)
    [ "$sz" = 32 ] && ok "deployment secret: 32 random bytes" || fail "deployment secret: ${sz:-no} bytes"
    # distinct certificates: every signature with a signer certificate has a keyed
    # id (64 hex digits); the same certificate on every day has the same id; and no
    # certificate's fingerprint (SHA-1 or SHA-256, either case) is stored
    bad=$(sqlite3 "$DB" "SELECT count(*) FROM signature WHERE key_alg <> '' AND length(cert_id) <> 64")
    [ "$bad" = 0 ] && ok "cert_id on every signature with a signer" || fail "$bad signatures without cert_id"
    ids=$(sqlite3 "$DB" "SELECT count(DISTINCT cert_id) FROM signature WHERE cert_id <> ''")
    perday=$(sqlite3 "$DB" "SELECT count(DISTINCT cert_id) FROM signature WHERE cert_id <> '' AND day = '2026-06-01'")
    [ "$ids" = "$perday" ] && [ "$ids" -ge 10 ] && ok "cert_id: $ids distinct certificates, the same every day" ||
        fail "cert_id: $ids distinct over all days, $perday on one day"
    fp_leaks=0
    for pem in sample-mail/pki/*.pem; do
        for alg in sha1 sha256; do
            fp=$(openssl x509 -in "$pem" -noout -fingerprint -"$alg" 2>/dev/null | sed 's/.*=//; s/://g')
            [ -n "$fp" ] || continue
            lower=$(echo "$fp" | tr 'A-F' 'a-f')
            if grep -q -i -- "$fp" "$tmp/dump.sql" || grep -q -- "$lower" "$tmp/dump.sql"; then
                fail "the $alg fingerprint of $pem is stored"; fp_leaks=1
            fi
        done
    done
    [ $fp_leaks -eq 0 ] && ok "no certificate fingerprint stored"
    # issue 14: an issuer that reached no trust anchor is only a class
    n=$(sqlite3 "$DB" "SELECT count(*) FROM signature WHERE reason = 'untrusted' AND issuer_dn = '(untrusted)' AND issuer_key_id = '' AND root_subject = ''")
    [ "$n" -gt 0 ] && ok "untrusted chain: issuer stored as the class (untrusted) ($n signatures)" ||
        fail "untrusted chain: no (untrusted) row"
    untrusted_issuer=$(openssl x509 -in sample-mail/pki/untrusted.pem -noout -issuer | sed 's/^issuer= *//; s/.*CN *= *//; s/,.*//')
    if [ -n "$untrusted_issuer" ] && grep -q -- "$untrusted_issuer" "$tmp/dump.sql"; then
        fail "the untrusted issuer \"$untrusted_issuer\" is stored"
    else ok "the untrusted issuer's name is not stored"; fi
else
    fail "sqlite3 (the CLI) is not installed: tools/deps.sh installs it"
fi

# ---- sender domain: off by default (above), keyed hash when asked ------------------
if command -v sqlite3 >/dev/null 2>&1; then
    printf 'a key only this gateway knows' > "$tmp/hmac.key"
    "$TOOL" record --db "sqlite:$tmp/dom.db" --trust-anchors "$ANCHORS" --at 2026-06-01 \
        --sender-domain hmac --hmac-key-file "$tmp/hmac.key" sample-mail/01-*.eml 2>"$tmp/dom.log" ||
        { fail "record --sender-domain hmac"; cat "$tmp/dom.log"; }
    d=$(sqlite3 "$tmp/dom.db" 'SELECT sender_domain FROM signature')
    want=$(printf 'example.test' | openssl dgst -sha256 -hmac 'a key only this gateway knows' -r | cut -d' ' -f1)
    [ "$d" = "$want" ] && ok "sender domain stored as HMAC-SHA256 (matches openssl)" ||
        fail "sender domain hmac: got [$d], want [$want]"
    "$TOOL" record --db "sqlite:$tmp/dom.db" --trust-anchors "$ANCHORS" --sender-domain hmac \
        sample-mail/01-*.eml >/dev/null 2>&1
    [ $? -eq 2 ] && ok "hmac without a key: usage error" || fail "hmac without a key accepted"
fi

# ---- text report ---------------------------------------------------------------
report "$URI" > "$tmp/r.txt"
expect() {   # expect FILE PATTERN WHAT
    if grep -q -- "$2" "$1"; then ok "$3"; else fail "$3: no \"$2\" in $(basename "$1")"; fi
}
absent() {
    if grep -q -- "$2" "$1"; then fail "$3: \"$2\" in $(basename "$1")"; else ok "$3"; fi
}
expect "$tmp/r.txt" "^signatures: $TOTAL\$" "text: total"
for section in "Result rates" "Results by reason" "Signatures by CA" "Certificate type x generation" \
               "Requirements most broken" "Requirements most broken per CA" \
               "Signer key algorithms and sizes" "CMS digest algorithms" \
               "Legacy-generation share over time" "Legacy-generation share by certificate issuance" \
               "Signing clients" "SBR scope" "Signatures by trust anchor" "SBR policy OIDs"; do
    expect "$tmp/r.txt" "^$section" "text: section $section"
done
expect "$tmp/r.txt" "CN=smime-milter Test S/MIME CA,O=smime-milter test PKI,C=US" "text: CA by DN"
expect "$tmp/r.txt" "mailbox  *strict" "text: type x generation"
expect "$tmp/r.txt" "organization  *multipurpose" "text: organization multipurpose"
expect "$tmp/r.txt" "RSA-2048" "text: key sizes"
expect "$tmp/r.txt" "EC-P384  *12 " "text: a bucket of 12 shown at K=10"
expect "$tmp/r.txt" "Thunderbird  *12 " "text: client Thunderbird"
expect "$tmp/r.txt" "Outlook  *12 " "text: client Outlook"
expect "$tmp/r.txt" "Apple Mail  *12 " "text: client Apple Mail"
expect "$tmp/r.txt" "2026-07  " "text: legacy share by month"
expect "$tmp/r.txt" "^  pass  *[0-9]" "text: result rates"
expect "$tmp/r.txt" "CN=smime-milter Test Root CA,O=smime-milter test PKI,C=US  *[0-9]" "text: by trust anchor"
expect "$tmp/r.txt" "2.23.140.1.5.1.3" "text: policy OID"

# ---- K-suppression ---------------------------------------------------------------
# At K=13 every bucket of 12 (one message a day) must vanish from every format,
# and so must a total below K.
report "$URI" --min-count 13 > "$tmp/k13.txt"
absent "$tmp/k13.txt" "EC-P384" "text K=13: bucket of 12 suppressed"
absent "$tmp/k13.txt" "Thunderbird" "text K=13: client bucket of 12 suppressed"
expect "$tmp/k13.txt" "bucket(s) below 13 suppressed" "text K=13: suppression noted"
report "$URI" --min-count 13 --format csv > "$tmp/k13.csv"
bad=$(sed -n '2,$p' "$tmp/k13.csv" | grep -v '^"overview"' | grep -v '(suppressed buckets)' |
      sed 's/.*",\([0-9]*\),"[^"]*"\r$/\1/' | awk '$1 < 13' | wc -l)
[ "$bad" -eq 0 ] && ok "csv K=13: no bucket below 13" || fail "csv K=13: $bad rows below 13"
absent "$tmp/k13.csv" "EC-P384" "csv K=13: bucket of 12 suppressed"
report "$URI" --min-count 13 --format json > "$tmp/k13.json"
bad=$(grep -o '"count":[0-9]*' "$tmp/k13.json" | cut -d: -f2 | awk '$1 < 13' | wc -l)
[ "$bad" -eq 0 ] && ok "json K=13: no bucket below 13" || fail "json K=13: $bad counts below 13"
absent "$tmp/k13.json" "EC-P384" "json K=13: bucket of 12 suppressed"
report "$URI" --min-count 13 --format html > "$tmp/k13.html"
bad=$(grep -o '<td class="n">[0-9]*</td>' "$tmp/k13.html" | grep -o '[0-9][0-9]*' | awk '$1 < 13' | wc -l)
[ "$bad" -eq 0 ] && ok "html K=13: no bucket below 13" || fail "html K=13: $bad cells below 13"
absent "$tmp/k13.html" "EC-P384" "html K=13: bucket of 12 suppressed"
report "$URI" --min-count 100000 > "$tmp/kbig.txt"
expect "$tmp/kbig.txt" "^signatures: fewer than 100000" "text: a total below K is not shown"

# ---- date filters ----------------------------------------------------------------
report "$URI" --since 2026-07-01 > "$tmp/since.txt"
expect "$tmp/since.txt" "^signatures: $((4 * PER_DAY))\$" "--since"
report "$URI" --since 2026-05-01 --until 2026-06-01 > "$tmp/range.txt"
expect "$tmp/range.txt" "^signatures: $((3 * PER_DAY))\$" "--since/--until, bounds inclusive"

# ---- CSV, JSON, HTML ---------------------------------------------------------------
report "$URI" --format csv > "$tmp/r.csv"
expect "$tmp/r.csv" '^section,key,subkey,count,value' "csv: header"
expect "$tmp/r.csv" "^\"overview\",\"signatures\",\"\",$TOTAL," "csv: total"
expect "$tmp/r.csv" '^"by_ca","CN=smime-milter Test S/MIME CA,O=smime-milter test PKI,C=US",' "csv: quoted DN"
report "$URI" --format json > "$tmp/r.json"
expect "$tmp/r.json" "\"signatures\":$TOTAL" "json: total"
expect "$tmp/r.json" '"name":"legacy_share"' "json: legacy share section"
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/r.json" &&
        ok "json: parses" || fail "json: does not parse"
fi
report "$URI" --format html > "$tmp/r.html"
charts=$(grep -c '<svg class="chart"' "$tmp/r.html")
[ "$charts" -ge 10 ] && ok "html: $charts inline SVG charts" || fail "html: $charts charts"
# the SVG namespace is an identifier, not a fetch; any other URL is a failure
if grep -o 'https\?://[^"]*' "$tmp/r.html" | grep -v '^http://www.w3.org/2000/svg$' | grep -q .; then
    fail "html: refers to a URL"
fi

# ---- hostile certificate text: an issuer DN chosen to attack each format ---------------
if command -v sqlite3 >/dev/null 2>&1; then
    cp "$DB" "$tmp/hostile.db"
    esc=$(printf '\033')
    for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
        sqlite3 "$tmp/hostile.db" "INSERT INTO signature (day, result, reason, issuer_dn,
            issuer_key_id, root_subject, policy_oid, cert_type, generation, findings, key_alg,
            digest_alg, sig_alg, validity_days, not_before_month, sbr_scope, scope_flags,
            client_family, sender_domain) VALUES ('2026-06-01', 'fail', 'untrusted',
            '=HYPERLINK(\"x\")<script>alert(1)</script>' || char(10) || char(27) || '[31m\"', '',
            '', '', '', '', '', 'RSA-2048', 'SHA256', 'RSA-SHA256', 365, '2026-01', '', 0,
            'unknown', '')"
    done
    H="sqlite:$tmp/hostile.db"
    report "$H" --format html > "$tmp/h.html"
    absent "$tmp/h.html" "<script>" "html: certificate text cannot inject markup"
    expect "$tmp/h.html" "&lt;script&gt;" "html: certificate text shown escaped"
    report "$H" --format csv > "$tmp/h.csv"
    expect "$tmp/h.csv" "^\"by_ca\",\"'=HYPERLINK" "csv: a formula-like cell is defused"
    report "$H" > "$tmp/h.txt"
    if grep -q "$esc" "$tmp/h.txt"; then fail "text: an escape character reached the output"
    else ok "text: control characters cleaned"; fi
    report "$H" --format json > "$tmp/h.json"
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/h.json" &&
            ok "json: hostile text stays valid JSON" || fail "json: hostile text breaks JSON"
    fi
fi

# ---- errors ---------------------------------------------------------------------
"$TOOL" report >/dev/null 2>&1; [ $? -eq 2 ] && ok "usage error: exit 2" || fail "no --db: not exit 2"
"$TOOL" report --db "$URI" --format pdf >/dev/null 2>&1; [ $? -eq 2 ] && ok "bad format: exit 2" || fail "bad format"
"$TOOL" report --db "$URI" --min-count 0 >/dev/null 2>&1; [ $? -eq 2 ] && ok "K=0 refused" || fail "K=0 accepted"
"$TOOL" report --db sqlite:/nonexistent/dir/x.db >/dev/null 2>&1; [ $? -eq 3 ] && ok "unopenable db: exit 3" || fail "unopenable db"
"$TOOL" report --db mysql://x >/dev/null 2>&1; [ $? -eq 3 ] && ok "unknown URI: exit 3" || fail "unknown URI"
"$TOOL" report --db "sqlite:$tmp/missing.db" >/dev/null 2>&1; rc=$?
[ $rc -eq 3 ] && [ ! -e "$tmp/missing.db" ] && ok "report on a missing file: exit 3, nothing created" ||
    fail "report on a missing file: exit $rc"
"$TOOL" report --db "$URI" --since 2026-07-02 --until 2026-07-01 >/dev/null 2>&1
[ $? -eq 2 ] && ok "--since after --until: exit 2" || fail "--since after --until accepted"

case "$BUILD" in
*asan*)
    echo "skip PostgreSQL and Chromium parts under the sanitizer build $BUILD (run for build/)"
    echo "telemetry checks: $([ $status -eq 0 ] && echo passed || echo FAILED)"
    exit $status ;;
esac

# ---- valgrind: the writer thread, SQLite and the report without sanitizer ------------
if command -v valgrind >/dev/null 2>&1; then
    VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
    $VG "$TOOL" record --db "sqlite:$tmp/vg.db" --trust-anchors "$ANCHORS" --at 2026-06-01 \
        sample-mail/0*.eml sample-mail/1*.eml "$tmp"/clients/*.eml >"$tmp/vg.log" 2>&1
    rc=$?
    [ $rc -eq 0 ] && ok "valgrind: record clean" || { fail "valgrind: record exit $rc"; tail -n 20 "$tmp/vg.log"; }
    for f in text html; do
        $VG "$TOOL" report --db "sqlite:$tmp/vg.db" --min-count 1 --format $f >/dev/null 2>"$tmp/vg.log"
        rc=$?
        [ $rc -eq 0 ] && ok "valgrind: report ($f) clean" || { fail "valgrind: report $f exit $rc"; tail -n 20 "$tmp/vg.log"; }
    done
else
    fail "valgrind not installed (tools/deps.sh installs it)"
fi

# ---- PostgreSQL: a real server on loopback ---------------------------------------
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
    echo "PostgreSQL server binaries missing: installing them (tools/deps.sh)"
    sh tools/deps.sh >/dev/null 2>&1
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
    fail "PostgreSQL server binaries not found (package postgresql)"
else
    pg_ctl="$pg_bin/pg_ctl"
    pg_data="$tmp/pg/data"
    mkdir -p "$tmp/pg"
    [ "$(id -u)" -eq 0 ] && chown postgres "$tmp/pg" && chmod 755 "$tmp"
    if ! as_pg "$pg_bin/initdb" -D "$pg_data" --auth=trust -U postgres -E UTF8 --no-locale \
            >"$tmp/pg/initdb.log" 2>&1; then
        fail "initdb"; cat "$tmp/pg/initdb.log"
    else
        started=0
        for try in 1 2 3 4 5; do
            port=$(( 20000 + ($$ * 7 + try * 1117) % 30000 ))
            if as_pg "$pg_ctl" start -D "$pg_data" -w -t 30 -l "$tmp/pg/server.log" \
                    -o "-k $tmp/pg -h 127.0.0.1 -p $port -c fsync=off" >/dev/null 2>&1; then
                started=1
                break
            fi
        done
        if [ $started -eq 0 ]; then
            fail "PostgreSQL did not start"; tail -n 20 "$tmp/pg/server.log"
        else
            ok "PostgreSQL started on 127.0.0.1:$port"
            "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres telemetry ||
                fail "createdb"
            PGURI="postgresql://postgres@127.0.0.1:$port/telemetry"
            psql_q() { "$pg_bin/psql" -X -A -t -q -h 127.0.0.1 -p "$port" -U postgres -d telemetry -c "$1"; }
            record_all "$PGURI" --secret "$tmp/pg.secret"
            n=$(psql_q 'SELECT count(*) FROM signature')
            [ "$n" = "$TOTAL" ] && ok "postgresql: $n records" || fail "postgresql: $n records, expected $TOTAL"
            v=$(psql_q "SELECT value FROM telemetry_meta WHERE key = 'schema_version'")
            [ "$v" = 3 ] && ok "postgresql: schema version 3" || fail "postgresql: schema version $v"
            leaks=$(psql_q "SELECT count(*) FROM signature s WHERE s::text LIKE '%@%' OR s::text ILIKE '%alice%' OR s::text LIKE '%example.test%'")
            [ "$leaks" = 0 ] && ok "postgresql: no address or name in any column" || fail "postgresql: $leaks rows with personal data"
            # The same data through either sink gives the same report, in every format.
            for f in text csv json html; do
                report "$PGURI" --format "$f" > "$tmp/pg.$f"
                report "$URI" --format "$f" > "$tmp/sq.$f"
                if cmp -s "$tmp/pg.$f" "$tmp/sq.$f"; then ok "postgresql report ($f) = sqlite report"
                else fail "postgresql report ($f) differs from sqlite:"; diff "$tmp/sq.$f" "$tmp/pg.$f" | head -n 20 | cut -c1-200; fi
            done
            report "$PGURI" --since 2026-07-01 --min-count 13 > "$tmp/pg-since.txt"
            expect "$tmp/pg-since.txt" "^signatures: $((4 * PER_DAY))\$" "postgresql: --since"
            # a database migrated by a newer program is refused and left alone
            psql_q "UPDATE telemetry_meta SET value = '99' WHERE key = 'schema_version'"
            "$TOOL" report --db "$PGURI" >/dev/null 2>"$tmp/pg-newer.log"
            [ $? -eq 3 ] && grep -q newer "$tmp/pg-newer.log" && ok "postgresql: newer schema refused" ||
                fail "postgresql: newer schema not refused: $(cat "$tmp/pg-newer.log")"
            v=$(psql_q "SELECT value FROM telemetry_meta WHERE key = 'schema_version'")
            [ "$v" = 99 ] && ok "postgresql: newer schema left untouched" || fail "postgresql: schema now $v"
            psql_q "UPDATE telemetry_meta SET value = '3' WHERE key = 'schema_version'"
            # a database that went away: writes fail, are counted and reported, mail is not held
            as_pg "$pg_ctl" stop -D "$pg_data" -m fast -w -t 30 >/dev/null 2>&1
            "$TOOL" record --db "$PGURI" --trust-anchors "$ANCHORS" --secret "$tmp/pg.secret" sample-mail/01-*.eml \
                >"$tmp/pg-down.log" 2>&1
            [ $? -eq 3 ] && ok "postgresql down: record exits 3" || fail "postgresql down: wrong exit"
            expect "$tmp/pg-down.log" "postgresql" "postgresql down: error names the sink"
        fi
    fi
fi

# ---- HTML in headless Chromium -------------------------------------------------------
chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chrome" ]; then
    fail "chromium not installed (tools/deps.sh installs it)"
else
    CHROME_FLAGS="--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
        --disable-component-update --disable-sync --disable-dev-shm-usage
        --user-data-dir=$tmp/chrome"
    # 1. the report as shipped: Chromium's DOM holds the SVG charts with their bars
    timeout 120 $chrome $CHROME_FLAGS --dump-dom "file://$tmp/r.html" > "$tmp/dom.html" 2>"$tmp/chrome.log"
    svgs=$(grep -o '<svg class="chart"' "$tmp/dom.html" | wc -l)
    rects=$(grep -o '<rect ' "$tmp/dom.html" | wc -l)
    [ "$svgs" -ge 10 ] && [ "$rects" -ge 20 ] && ok "chromium DOM: $svgs charts, $rects bars" ||
        { fail "chromium DOM: $svgs charts, $rects bars"; tail -n 5 "$tmp/chrome.log"; }
    # 2. laid out: a copy with a probe script (the report's own CSP forbids scripts,
    #    so the copy drops it) writes the rendered size of every chart into the DOM
    sed '/Content-Security-Policy/d' "$tmp/r.html" | sed 's|</body>|<script>var n=0,c=document.querySelectorAll("svg.chart");c.forEach(function(s){var b=s.getBoundingClientRect(),r=s.querySelectorAll("rect"),w=0;r.forEach(function(x){if(x.getBoundingClientRect().width>0)w++});if(b.width>100\&\&b.height>10\&\&w==r.length\&\&w>0)n++});document.body.setAttribute("data-rendered",n+"/"+c.length)</script></body>|' > "$tmp/probe.html"
    timeout 120 $chrome $CHROME_FLAGS --dump-dom "file://$tmp/probe.html" > "$tmp/probe-dom.html" 2>>"$tmp/chrome.log"
    rendered=$(grep -o 'data-rendered="[0-9]*/[0-9]*"' "$tmp/probe-dom.html" | head -n 1)
    n=$(echo "$rendered" | sed 's/.*"\([0-9]*\)\/\([0-9]*\)"/\1/')
    m=$(echo "$rendered" | sed 's/.*"\([0-9]*\)\/\([0-9]*\)"/\2/')
    [ -n "$n" ] && [ "$n" = "$m" ] && [ "$n" -ge 10 ] && ok "chromium layout: $n of $m charts drawn with visible bars" ||
        fail "chromium layout: ${rendered:-no probe result}"
    timeout 120 $chrome $CHROME_FLAGS --window-size=1200,4000 --screenshot="$tmp/report.png" \
        "file://$tmp/r.html" >/dev/null 2>>"$tmp/chrome.log"
    [ -s "$tmp/report.png" ] && ok "chromium screenshot: $(wc -c < "$tmp/report.png") bytes" ||
        fail "chromium screenshot"
fi

echo "telemetry checks: $([ $status -eq 0 ] && echo passed || echo FAILED)"
exit $status
