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

# per day: 74 signatures in sample-mail/, 3 in the client copies
PER_DAY=77
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
    [ "$version" = 6 ] && ok "schema version 6" || fail "schema version $version"
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
# The sample corpus has one signature per certificate per day: at K=10 every
# bucket of fewer than 10 distinct certificates is suppressed, so the content is
# checked at K=1 and suppression at K=2 and K=13.
report "$URI" --min-count 1 > "$tmp/r.txt"
expect() {   # expect FILE PATTERN WHAT
    if grep -q -- "$2" "$1"; then ok "$3"; else fail "$3: no \"$2\" in $(basename "$1")"; fi
}
absent() {
    if grep -q -- "$2" "$1"; then fail "$3: \"$2\" in $(basename "$1")"; else ok "$3"; fi
}
ncerts=$(sqlite3 "$DB" "SELECT count(DISTINCT cert_id) FROM signature WHERE cert_id <> ''")
expect "$tmp/r.txt" "^signatures: $TOTAL\$" "text: total signatures"
expect "$tmp/r.txt" "^certificates: $ncerts\$" "text: distinct certificates ($ncerts, as in the database)"
expect "$tmp/r.txt" "^reporter: (not given); software: smime-milter [0-9.]*; lint catalogue: [0-9]*-lints-" "text: provenance"
for section in "Result rates" "Results by reason" "Certificates by issuing CA" "Certificate type x generation" \
               "Post-issuance compliance by CA, type and generation" "Requirements most broken" \
               "Requirements broken per CA, type and generation" \
               "Sponsor- and Organization-validated certificates named only by a mailbox" \
               "Pseudonyms by type and generation" "Subject commonName forms by type" \
               "Profile generations by issuance month" "Profile generations by month seen" \
               "Legacy certificates issued after the sunset" "Signer key algorithms and sizes" \
               "Key algorithms by issuance month" "CMS digest algorithms" "CMS signature algorithms" \
               "Certificate validity periods by generation" "Signing clients" "SBR scope" \
               "Certificates by trust anchor" "SBR policy OIDs"; do
    expect "$tmp/r.txt" "^$section" "text: section $section"
done
expect "$tmp/r.txt" "CN=smime-milter Test S/MIME CA,O=smime-milter test PKI,C=US" "text: CA by DN"
expect "$tmp/r.txt" "mailbox  *strict" "text: type x generation"
expect "$tmp/r.txt" "organization  *multipurpose" "text: organization multipurpose"
expect "$tmp/r.txt" "RSA-2048" "text: key sizes"
# one certificate (p384) signing on 12 days, in several messages a day: all its
# signatures, 1 certificate
n384=$(sqlite3 "$DB" "SELECT count(*) FROM signature WHERE key_alg LIKE '%P384%' OR key_alg LIKE '%P-384%'")
expect "$tmp/r.txt" "EC-P384  *$n384  *1  " "text: a certificate's $n384 signatures count once as a certificate"
expect "$tmp/r.txt" "Thunderbird  *12 " "text: client Thunderbird"
expect "$tmp/r.txt" "Outlook  *12 " "text: client Outlook"
expect "$tmp/r.txt" "Apple Mail  *12 " "text: client Apple Mail"
expect "$tmp/r.txt" "^  pass  *[0-9]" "text: result rates"
expect "$tmp/r.txt" "CN=smime-milter Test Root CA,O=smime-milter test PKI,C=US  *[0-9]" "text: by trust anchor"
expect "$tmp/r.txt" "2.23.140.1.5.1.3" "text: policy OID"
expect "$tmp/r.txt" "(untrusted)" "text: untrusted issuers as a class"

# ---- K-suppression ---------------------------------------------------------------
# At K=13 every bucket of 12 signatures must vanish from every format; at K=2 every
# bucket of one certificate, however many signatures it made.
ksupp() {   # ksupp K FORMAT FILE: no bucket below K in the JSON, in signatures or certificates
    python3 - "$1" "$2" <<'PY'
import json, sys
k = int(sys.argv[1]); d = json.load(open(sys.argv[2])); bad = 0
for s in d["sections"]:
    for r in s["rows"]:
        if r["signatures"] < k or 0 < r["certificates"] < k:
            bad += 1; print("below K:", s["name"], r["key"], r["signatures"], r["certificates"])
        for f in ("part_signatures", "part_certificates"):
            v = r.get(f)
            if v is not None and (0 < v < k or 0 < r[f.split("_")[1]] - v < k):
                bad += 1; print("part reveals a small number:", s["name"], r["key"], f, v)
sys.exit(1 if bad else 0)
PY
}
for k in 2 13; do
    report "$URI" --min-count $k --format json > "$tmp/k$k.json"
    ksupp $k "$tmp/k$k.json" && ok "json K=$k: no bucket or part below $k" || fail "json K=$k: a bucket below $k"
done
report "$URI" --min-count 13 > "$tmp/k13.txt"
absent "$tmp/k13.txt" "EC-P384" "text K=13: bucket of one certificate suppressed"
absent "$tmp/k13.txt" "Thunderbird" "text K=13: client bucket of 12 suppressed"
expect "$tmp/k13.txt" "bucket(s) below 13 suppressed" "text K=13: suppression noted"
report "$URI" --min-count 2 > "$tmp/k2.txt"
absent "$tmp/k2.txt" "EC-P384" "text K=2: a bucket of one certificate is suppressed however many signatures it has"
report "$URI" --min-count 13 --format csv > "$tmp/k13.csv"
bad=$(grep -v '^"provenance"' "$tmp/k13.csv" | sed 1d | grep -v '(suppressed buckets)' |
      awk -F, '{ print $(NF-3) }' | awk '$1 < 13' | wc -l)
[ "$bad" -eq 0 ] && ok "csv K=13: no bucket below 13" || fail "csv K=13: $bad rows below 13"
absent "$tmp/k13.csv" "EC-P384" "csv K=13: bucket of one certificate suppressed"
report "$URI" --min-count 13 --format html > "$tmp/k13.html"
bad=$(grep -o '<td data-col="signatures" class="n">[0-9]*</td>' "$tmp/k13.html" | grep -o '>[0-9]*<' | tr -d '<>' | awk '$1 < 13' | wc -l)
[ "$bad" -eq 0 ] && ok "html K=13: no bucket below 13" || fail "html K=13: $bad cells below 13"
absent "$tmp/k13.html" "EC-P384" "html K=13: bucket of one certificate suppressed"
report "$URI" --min-count 100000 > "$tmp/kbig.txt"
expect "$tmp/kbig.txt" "^signatures: fewer than 100000" "text: a total below K is not shown"

# ---- date filters ----------------------------------------------------------------
report "$URI" --since 2026-07-01 > "$tmp/since.txt"
expect "$tmp/since.txt" "^signatures: $((4 * PER_DAY))\$" "--since"
report "$URI" --since 2026-05-01 --until 2026-06-01 > "$tmp/range.txt"
expect "$tmp/range.txt" "^signatures: $((3 * PER_DAY))\$" "--since/--until, bounds inclusive"
expect "$tmp/range.txt" "^period: 2026-05-01 to 2026-06-01\$" "period in words"

# ---- CSV, JSON, HTML ---------------------------------------------------------------
report "$URI" --min-count 1 --format csv > "$tmp/r.csv"
expect "$tmp/r.csv" '^section,dim1,dim2,dim3,signatures,certificates,part,share' "csv: header"
expect "$tmp/r.csv" "^\"overview\",\"all\",\"\",\"\",$TOTAL,$ncerts," "csv: totals"
expect "$tmp/r.csv" '^"by_ca","CN=smime-milter Test S/MIME CA,O=smime-milter test PKI,C=US",' "csv: quoted DN"
report "$URI" --min-count 1 --format json > "$tmp/r.json"
python3 - "$tmp/r.json" "$TOTAL" "$ncerts" <<'PY' && ok "json: parses; totals, shares and counts are numbers" || fail "json: not as documented"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["format"] == "smime-telemetry-export" and d["version"] == 1
assert d["signatures"] == int(sys.argv[2]) and d["certificates"] == int(sys.argv[3])
for s in d["sections"]:
    for r in s["rows"]:
        assert isinstance(r["signatures"], int) and isinstance(r["certificates"], int)
        assert r["share"] is None or isinstance(r["share"], float) or r["share"] in (0, 1)
f = [s for s in d["sections"] if s["name"] == "findings"][0]["rows"]
assert f and all("sbr_section" in r and "severity" in r and "requirement" in r for r in f)
PY
if command -v python3 >/dev/null && python3 -c 'import jsonschema' 2>/dev/null; then
    python3 -c 'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' \
        "$tmp/r.json" doc/smime-telemetry-export.schema.json && ok "json: valid against doc/smime-telemetry-export.schema.json" ||
        fail "json: not valid against the schema"
fi
report "$URI" --min-count 1 --format html > "$tmp/r.html"
charts=$(grep -c '<svg class="chart line-chart"' "$tmp/r.html")
[ "$charts" -ge 3 ] && ok "html: $charts line charts for the monthly series" || fail "html: $charts line charts"
bars=$(grep -o '<td class="bar"><div' "$tmp/r.html" | wc -l)
[ "$bars" -ge 20 ] && ok "html: $bars bars" || fail "html: $bars bars"
expect "$tmp/r.html" '<td data-col="SBR section">' "html: findings with their SBR section"
expect "$tmp/r.html" '<p class="explain">' "html: an explanation per section"
# the SVG namespace is an identifier, not a fetch; any other URL is a failure
if grep -o 'https\?://[^"]*' "$tmp/r.html" | grep -v '^http://www.w3.org/2000/svg$' | grep -q .; then
    fail "html: refers to a URL"
fi

# ---- a synthetic month, two relying parties, and their merge -------------------------
# A: 2000 certificates, B: 1500 others, C: both together in one database.  Exports
# of A and B merged must equal the export of C in every bucket both show, be the
# sum of the inputs in every bucket one of them suppressed, and reveal nothing an
# input hid (tests/telemetry/merge_check.py).
for n in A B C; do
    "$TOOL" record --db "sqlite:$tmp/$n.db" --trust-anchors "$ANCHORS" sample-mail/38-unsigned.eml \
        >/dev/null 2>&1 || fail "create $n.db"
done
python3 tests/telemetry/synth.py "$tmp/A.db" 1 2000 a > "$tmp/synth.log" &&
python3 tests/telemetry/synth.py "$tmp/B.db" 2 1500 b >> "$tmp/synth.log" &&
python3 tests/telemetry/synth.py "$tmp/C.db" 1 2000 a >/dev/null &&
python3 tests/telemetry/synth.py "$tmp/C.db" 2 1500 b >/dev/null || fail "synthetic data"
sed 's/^/     /' "$tmp/synth.log"
for n in A B C; do
    "$TOOL" export --db "sqlite:$tmp/$n.db" --reporter "relying party $n" > "$tmp/$n.json" ||
        fail "export $n"
done
"$TOOL" merge --format json "$tmp/A.json" "$tmp/B.json" > "$tmp/M.json" || fail "merge"
python3 tests/telemetry/merge_check.py "$tmp/M.json" "$tmp/C.json" "$tmp/A.json" "$tmp/B.json" > "$tmp/merge.log"
rc=$?
tail -n 1 "$tmp/merge.log" | sed 's/^/     /'
[ $rc -eq 0 ] && ok "merge of two exports = the combined data, except suppressed buckets" ||
    { fail "merge check"; head -n 20 "$tmp/merge.log"; }
ksupp 10 "$tmp/M.json" && ok "merge: no bucket below K" || fail "merge: a bucket below K"
"$TOOL" merge --min-count 1 "$tmp/A.json" "$tmp/B.json" > "$tmp/M1.txt" 2>&1
expect "$tmp/M1.txt" "bucket(s) below 10 suppressed" "merge: K is at least the inputs' K"
for f in text csv html; do
    "$TOOL" merge --format $f "$tmp/A.json" "$tmp/B.json" > "$tmp/M.$f" || fail "merge --format $f"
    "$TOOL" report --from "$tmp/C.json" --format $f > "$tmp/C.$f" || fail "report --from --format $f"
done
expect "$tmp/M.text" "^merged from 2 exports" "merge: provenance says merged"
expect "$tmp/C.text" "^reporter: relying party C;" "report --from: the export's provenance"
"$TOOL" report --from "$tmp/C.json" --format json > "$tmp/C2.json"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); sys.exit(0 if a["sections"]==b["sections"] else 1)' \
    "$tmp/C.json" "$tmp/C2.json" && ok "report --from an export gives the export's buckets back" || fail "export round trip"
# Fleet scale (issue 17): the report is aggregated by the database (--compute
# server, the default); the same report computed here from every distinct record
# (--compute client, the path before) must be byte for byte the same, in every
# format, for the sample corpus and the synthetic month, with and without
# suppression and a day range.
same_compute() {   # same_compute URI WHAT ARGS...
    u=$1; w=$2; shift 2
    bad=0
    for f in text csv json html; do
        "$TOOL" report --db "$u" --format $f "$@" | sed 's/20[0-9-]*T[0-9:]*Z/TIME/g' > "$tmp/srv.$f" ||
            { fail "report --compute server ($w $f)"; bad=1; }
        "$TOOL" report --db "$u" --format $f --compute client "$@" | sed 's/20[0-9-]*T[0-9:]*Z/TIME/g' > "$tmp/cli.$f" ||
            { fail "report --compute client ($w $f)"; bad=1; }
        if ! cmp -s "$tmp/srv.$f" "$tmp/cli.$f"; then
            fail "server-side report differs from the client-side one ($w, $f $*):"
            diff "$tmp/cli.$f" "$tmp/srv.$f" | head -n 10 | cut -c1-200; bad=1
        fi
    done
    [ $bad -eq 0 ] && ok "aggregated in SQL = aggregated here, every format ($w $*)"
}
same_compute "sqlite:$tmp/C.db" "sqlite, synthetic month"
same_compute "sqlite:$tmp/C.db" "sqlite, synthetic month" --min-count 1 --since 2026-06-05 --until 2026-06-20
same_compute "$URI" "sqlite, sample corpus" --min-count 1
same_compute "$URI" "sqlite, sample corpus" --min-count 13
# periods that start or end inside a month: whole months from the monthly
# roll-up, the rest from the daily one
same_compute "$URI" "sqlite, sample corpus" --min-count 1 --since 2026-04-15 --until 2026-06-30
same_compute "$URI" "sqlite, sample corpus" --min-count 1 --since 2026-05-01 --until 2026-07-02
"$TOOL" report --db "sqlite:$tmp/C.db" | grep -q "^  issuemail published  *[0-9]" &&
    ok "synthetic month: CAA sections with numbers" || fail "synthetic month: no CAA numbers"
"$TOOL" report --db "$URI" --compute elsewhere >/dev/null 2>&1; [ $? -eq 2 ] && ok "--compute: bad value refused" ||
    fail "--compute elsewhere accepted"
"$TOOL" report --db "sqlite:$tmp/C.db" > "$tmp/synth.txt"
expect "$tmp/synth.txt" "^certificates: 3500\$" "synthetic month: 3500 distinct certificates"
for sec in compliance findings_by_ca naming_mailbox_cn pseudonyms legacy_after_sunset generations_by_issuance key_algorithms_by_issuance validity; do
    n=$(python3 -c 'import json,sys; print(len([s for s in json.load(open(sys.argv[1]))["sections"] if s["name"]==sys.argv[2]][0]["rows"]))' "$tmp/C.json" "$sec")
    [ "$n" -ge 1 ] && ok "synthetic month: $sec has $n buckets" || fail "synthetic month: $sec empty"
done
echo '{"format":"smime-telemetry-export","version":2}' > "$tmp/v2.json"
"$TOOL" merge "$tmp/v2.json" >/dev/null 2>"$tmp/v2.err"; [ $? -eq 3 ] && grep -q "version 2" "$tmp/v2.err" &&
    ok "merge: a newer export version is refused" || fail "merge: version 2 accepted"
printf '{"format":"smime-telemetry-export","version":1,"provenance":{"min_count":1},"sections":[{"name":"results","rows":[{"key":["pass"],"signatures":-5,"certificates":1}]}]}' > "$tmp/neg.json"
"$TOOL" merge "$tmp/neg.json" >/dev/null 2>&1; [ $? -eq 3 ] && ok "merge: negative counts refused" || fail "merge: negative counts"
"$TOOL" merge --min-count 1 "$tmp/A.json" "$tmp/nonexistent.json" >/dev/null 2>&1; [ $? -eq 3 ] && ok "merge: missing input: exit 3" || fail "merge: missing input"

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
    report "$H" --min-count 1 --format html > "$tmp/h.html"
    absent "$tmp/h.html" "<script>" "html: certificate text cannot inject markup"
    expect "$tmp/h.html" "&lt;script&gt;" "html: certificate text shown escaped"
    report "$H" --min-count 1 --format csv > "$tmp/h.csv"
    expect "$tmp/h.csv" "^\"by_ca\",\"'=HYPERLINK" "csv: a formula-like cell is defused"
    report "$H" --min-count 1 > "$tmp/h.txt"
    if grep -q "$esc" "$tmp/h.txt"; then fail "text: an escape character reached the output"
    else ok "text: control characters cleaned"; fi
    report "$H" --min-count 1 --format json > "$tmp/h.json"
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

# A writer that PostgreSQL aborts to break a deadlock runs its transaction again
# instead of dropping the batch. The deadlock is made on purpose: another session
# holds the message's sender domain, uncommitted; the writer's trigger inserts the
# certificate's fact row and waits for that domain; the session then inserts the
# same fact row and waits for the writer. The writer waited first and, with the
# shorter deadlock_timeout, is the one aborted (the server log says which).
pg_deadlock_test() {
    pg_db() { "$pg_bin/psql" -X -A -t -q -h 127.0.0.1 -p "$port" -U postgres -d "$1" -c "$2"; }
    dl_uri="postgresql://postgres@127.0.0.1:$port/deadlock"
    dl_mail=sample-mail/01-multipart-signed-rsa2048.eml
    "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres deadlock_learn &&
    "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres deadlock || { fail "deadlock: createdb"; return; }
    # the rows the message makes, learnt from a database of their own
    "$TOOL" record --db "postgresql://postgres@127.0.0.1:$port/deadlock_learn" --trust-anchors "$ANCHORS" \
        --secret "$tmp/pg.secret" --at 2026-06-01 "$dl_mail" >"$tmp/dl-learn.log" 2>&1 ||
        { fail "deadlock: recording the message"; cat "$tmp/dl-learn.log"; return; }
    want=$(pg_db deadlock_learn 'SELECT count(*) FROM signature')
    domain_sql=$(pg_db deadlock_learn "SELECT format('INSERT INTO sender_domains (sender_domain) VALUES (%L);', sender_domain) FROM sender_domains")
    fact_cols="fact_key, cert_id, issuer_dn, issuer_key_id, root_subject, policy_oid, cert_type, generation, findings, key_alg, validity_days, not_before_month, sbr_scope, cn_form, name_attrs"
    fact_sql=$(pg_db deadlock_learn "SELECT format('INSERT INTO cert_facts ($fact_cols) VALUES (%L, %L, %L, %L, %L, %L, %L, %L, %L, %L, %L, %L, %L, %L, %L);', $fact_cols) FROM cert_facts")
    [ "$want" -ge 1 ] && [ "$(printf '%s\n' "$domain_sql" | wc -l)" = 1 ] &&
        [ "$(printf '%s\n' "$fact_sql" | wc -l)" = 1 ] ||
        { fail "deadlock: expected one fact and one domain, got: $domain_sql $fact_sql"; return; }
    "$TOOL" report --db "$dl_uri" >/dev/null 2>"$tmp/dl-migrate.log" ||
        { fail "deadlock: migrating"; cat "$tmp/dl-migrate.log"; return; }
    pg_db deadlock "ALTER DATABASE deadlock SET deadlock_timeout = '3s'" >/dev/null
    log_from=$(( $(wc -c <"$tmp/pg/server.log") + 1 ))   # the earlier writers may have deadlocked too
    rm -f "$tmp/dl.fifo"; mkfifo "$tmp/dl.fifo"
    "$pg_bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d deadlock <"$tmp/dl.fifo" >"$tmp/dl-holder.log" 2>&1 &
    holder=$!
    exec 7>"$tmp/dl.fifo"
    printf "SET deadlock_timeout = '60s';\nBEGIN;\n%s\n" "$domain_sql" >&7
    "$TOOL" record --db "$dl_uri" --trust-anchors "$ANCHORS" --secret "$tmp/pg.secret" --at 2026-06-01 \
        "$dl_mail" >"$tmp/dl-writer.log" 2>&1 &
    writer=$!
    waited=0
    for i in $(seq 1 200); do
        [ "$(pg_db deadlock "SELECT count(*) FROM pg_stat_activity WHERE datname = 'deadlock' AND wait_event_type = 'Lock'")" = 1 ] &&
            { waited=1; break; }
        sleep 0.05
    done
    [ $waited -eq 1 ] || fail "deadlock: the writer never waited for the held domain"
    printf '%s\nCOMMIT;\n' "$fact_sql" >&7
    exec 7>&-
    wait "$holder"
    if wait "$writer"; then ok "deadlock: the writer's record exits 0"
    else fail "deadlock: the writer failed:"; cat "$tmp/dl-writer.log"; fi
    got=$(pg_db deadlock 'SELECT count(*) FROM signature')
    [ "$got" = "$want" ] && ok "deadlock: the aborted write ran again ($got records)" ||
        fail "deadlock: $got records written, expected $want"
    tail -c +"$log_from" "$tmp/pg/server.log" >"$tmp/dl-server.log"
    grep -A 16 'ERROR:  deadlock detected' "$tmp/dl-server.log" | grep -q 'STATEMENT:  INSERT INTO signature' &&
        ok "deadlock: PostgreSQL aborted the writer" ||
        fail "deadlock: the server did not abort the writer (log: $(grep -c 'deadlock detected' "$tmp/dl-server.log") deadlocks)"
}

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
            [ "$v" = 6 ] && ok "postgresql: schema version 6" || fail "postgresql: schema version $v"
            leaks=$(psql_q "SELECT count(*) FROM signature s WHERE s::text LIKE '%@%' OR s::text ILIKE '%alice%' OR s::text LIKE '%example.test%'")
            [ "$leaks" = 0 ] && ok "postgresql: no address or name in any column" || fail "postgresql: $leaks rows with personal data"
            # The same data through either sink gives the same report, in every format.
            for f in text csv json html; do
                # the same but for the time each was generated
                report "$PGURI" --min-count 1 --format "$f" | sed 's/20[0-9-]*T[0-9:]*Z/TIME/g' > "$tmp/pg.$f"
                report "$URI" --min-count 1 --format "$f" | sed 's/20[0-9-]*T[0-9:]*Z/TIME/g' > "$tmp/sq.$f"
                if cmp -s "$tmp/pg.$f" "$tmp/sq.$f"; then ok "postgresql report ($f) = sqlite report"
                else fail "postgresql report ($f) differs from sqlite:"; diff "$tmp/sq.$f" "$tmp/pg.$f" | head -n 20 | cut -c1-200; fi
            done
            same_compute "$PGURI" "postgresql, sample corpus" --min-count 1
            same_compute "$PGURI" "postgresql, sample corpus" --since 2026-06-01 --until 2026-07-02 --min-count 2
            same_compute "$PGURI" "postgresql, sample corpus" --since 2026-04-10 --until 2026-06-03 --min-count 1
            # the synthetic month through PostgreSQL as well (rows copied from SQLite)
            cols=$(sqlite3 "$tmp/C.db" "SELECT group_concat(name, ',') FROM pragma_table_info('signature') WHERE name <> 'id'")
            sqlite3 -separator '	' "$tmp/C.db" "SELECT $cols FROM signature" |
                "$pg_bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d telemetry \
                    -c "CREATE TABLE sample_keep AS SELECT * FROM signature" \
                    -c "CREATE TABLE synth_import AS SELECT * FROM signature WHERE false" \
                    -c "COPY synth_import ($cols) FROM STDIN" >/dev/null 2>&1 &&
            psql_q "DELETE FROM signature; INSERT INTO signature ($cols) SELECT $cols FROM synth_import; DROP TABLE synth_import" >/dev/null ||
                fail "copying the synthetic month into PostgreSQL"
            n=$(psql_q 'SELECT count(*) FROM signature')
            [ "$n" = "$(sqlite3 "$tmp/C.db" 'SELECT count(*) FROM signature')" ] && ok "postgresql: synthetic month copied ($n records)" ||
                fail "postgresql: synthetic month has $n records"
            same_compute "$PGURI" "postgresql, synthetic month"
            "$TOOL" report --db "$PGURI" --format json | sed 's/20[0-9-]*T[0-9:]*Z/TIME/g' > "$tmp/pg-synth.json"
            "$TOOL" report --db "sqlite:$tmp/C.db" --format json | sed 's/20[0-9-]*T[0-9:]*Z/TIME/g' > "$tmp/sq-synth.json"
            cmp -s "$tmp/pg-synth.json" "$tmp/sq-synth.json" && ok "postgresql and sqlite: the same synthetic report" ||
                fail "synthetic month: postgresql report differs from sqlite"
            psql_q "DELETE FROM signature; INSERT INTO signature SELECT * FROM sample_keep; DROP TABLE sample_keep" >/dev/null ||
                fail "restoring the sample records"
            # the roll-up the triggers keep is the signature table grouped, after
            # the deletes and inserts above: nothing missing, nothing extra
            facts="cert_id, issuer_dn, issuer_key_id, root_subject, policy_oid, cert_type, generation, findings, key_alg, validity_days, not_before_month, sbr_scope, cn_form, name_attrs"
            perday="result, reason, digest_alg, sig_alg, client_family, caa_issuemail, caa_ca"
            grouped="SELECT day, $facts, sender_domain, $perday, count(*) FROM signature GROUP BY day, $facts, sender_domain, $perday"
            kept="SELECT day, $facts, sender_domain, $perday, n FROM signature_daily s JOIN cert_facts f ON f.id = s.fact_id JOIN sender_domains d ON d.id = s.domain_id"
            diff=$(psql_q "SELECT (SELECT count(*) FROM ($grouped EXCEPT $kept) a) + (SELECT count(*) FROM ($kept EXCEPT $grouped) b)")
            kept_n=$(psql_q "SELECT sum(n) FROM signature_daily")
            [ "$diff" = 0 ] && [ "$kept_n" = "$(psql_q 'SELECT count(*) FROM signature')" ] &&
                ok "postgresql: the roll-up is the signature table grouped" ||
                fail "postgresql: the roll-up differs from the signature table ($diff groups, $kept_n signatures)"
            key="fact_id, domain_id, result, reason, digest_alg, sig_alg, client_family, caa_issuemail, caa_ca"
            by_month="SELECT substr(day, 1, 7), $key, sum(n) FROM signature_daily GROUP BY substr(day, 1, 7), $key"
            monthly="SELECT month, $key, n FROM signature_monthly"
            diff=$(psql_q "SELECT (SELECT count(*) FROM ($by_month EXCEPT $monthly) a) + (SELECT count(*) FROM ($monthly EXCEPT $by_month) b) + (SELECT count(*) FROM signature_monthly WHERE n <= 0)")
            [ "$diff" = 0 ] && ok "postgresql: the monthly roll-up is the daily one by month" ||
                fail "postgresql: the monthly roll-up differs from the daily one ($diff groups)"
            report "$PGURI" --since 2026-07-01 --min-count 13 > "$tmp/pg-since.txt"
            expect "$tmp/pg-since.txt" "^signatures: $((4 * PER_DAY))\$" "postgresql: --since"
            # a database migrated by a newer program is refused and left alone
            psql_q "UPDATE telemetry_meta SET value = '99' WHERE key = 'schema_version'"
            "$TOOL" report --db "$PGURI" >/dev/null 2>"$tmp/pg-newer.log"
            [ $? -eq 3 ] && grep -q newer "$tmp/pg-newer.log" && ok "postgresql: newer schema refused" ||
                fail "postgresql: newer schema not refused: $(cat "$tmp/pg-newer.log")"
            v=$(psql_q "SELECT value FROM telemetry_meta WHERE key = 'schema_version'")
            [ "$v" = 99 ] && ok "postgresql: newer schema left untouched" || fail "postgresql: schema now $v"
            psql_q "UPDATE telemetry_meta SET value = '4' WHERE key = 'schema_version'"
            pg_deadlock_test
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
    # The synthetic month's report, as a working-group member would open it.
    "$TOOL" report --db "sqlite:$tmp/C.db" --reporter "synthetic month (tests/telemetry/synth.py)" \
        --format html > "$tmp/synth.html" || fail "synthetic html"
    # 1. the report as shipped: Chromium's DOM holds the line charts and their points
    timeout 120 $chrome $CHROME_FLAGS --dump-dom "file://$tmp/synth.html" > "$tmp/dom.html" 2>"$tmp/chrome.log"
    svgs=$(grep -o '<svg class="chart line-chart"' "$tmp/dom.html" | wc -l)
    pts=$(grep -o '<circle ' "$tmp/dom.html" | wc -l)
    [ "$svgs" -ge 3 ] && [ "$pts" -ge 20 ] && ok "chromium DOM: $svgs line charts, $pts points" ||
        { fail "chromium DOM: $svgs line charts, $pts points"; tail -n 5 "$tmp/chrome.log"; }
    # 2. laid out and read back: a copy with a probe script (the report's own CSP
    #    forbids scripts, so the copy drops it) writes what the page shows into the
    #    DOM: the totals line, the compliance table's first row, the first line
    #    chart's points, the widths (full width, nothing wider than the window)
    sed '/Content-Security-Policy/d' "$tmp/synth.html" > "$tmp/probe.html"
    cat >> "$tmp/probe.html" <<'JS'
<script>
var r={};
r.totals=document.getElementById("totals").textContent;
var row=document.querySelector("#compliance tbody tr");
r.compliance=[].map.call(row.querySelectorAll("td"),function(td){return td.textContent});
var ch=document.querySelector("#generations_by_issuance svg.line-chart");
r.chart_width=Math.round(ch.getBoundingClientRect().width);
r.points=[].map.call(ch.querySelectorAll("circle"),function(c){var b=c.getBoundingClientRect();
  return [c.parentNode.getAttribute("data-series"),c.getAttribute("data-month"),
          parseFloat(c.getAttribute("data-share")),b.width>0?1:0]});
r.window=window.innerWidth;
r.scroll=document.documentElement.scrollWidth;
r.table=Math.round(document.querySelector("#compliance table").getBoundingClientRect().width);
var pre=document.createElement("pre");pre.id="probe";pre.textContent=JSON.stringify(r);
document.body.appendChild(pre);
</script>
JS
    timeout 120 $chrome $CHROME_FLAGS --window-size=1400,1000 --dump-dom "file://$tmp/probe.html" > "$tmp/probe-dom.html" 2>>"$tmp/chrome.log"
    python3 - "$tmp/probe-dom.html" "$tmp/C.json" <<'PY' > "$tmp/probe.log" 2>&1
import html, json, re, sys
m = re.search(r'<pre id="probe">(.*?)</pre>', open(sys.argv[1]).read(), re.S)
assert m, "no probe result"
r = json.loads(html.unescape(m.group(1)))
d = json.load(open(sys.argv[2]))
sec = {s["name"]: s for s in d["sections"]}
want = "%d signatures from %d distinct certificates" % (d["signatures"], d["certificates"])
assert r["totals"] == want, (r["totals"], want)
c0 = sec["compliance"]["rows"][0]
assert r["compliance"][:3] == c0["key"], (r["compliance"], c0["key"])
assert r["compliance"][3:6] == [str(c0["signatures"]), str(c0["certificates"]), str(c0["part_certificates"])], r["compliance"]
rows = {(x["key"][1], x["key"][0]): x for x in sec["generations_by_issuance"]["rows"]}
assert len(r["points"]) >= 20, len(r["points"])
for series, month, share, visible in r["points"]:
    assert visible, (series, month)
    assert abs(rows[(series, month)]["share"] - share) < 1e-3, (series, month, share)
assert r["chart_width"] >= 0.9 * r["window"] - 60, ("chart not full width", r["chart_width"], r["window"])
assert r["table"] >= 0.9 * r["window"] - 60, ("table not full width", r["table"])
assert r["scroll"] <= r["window"], ("wider than the window", r["scroll"], r["window"])
print("read back: totals \"%s\", compliance row %s, %d chart points equal to the export, chart %d px of %d"
      % (r["totals"], r["compliance"][:6], len(r["points"]), r["chart_width"], r["window"]))
PY
    if [ $? -eq 0 ]; then ok "chromium: $(cat "$tmp/probe.log")"
    else fail "chromium read-back:"; tail -n 5 "$tmp/probe.log"; fi
    timeout 120 $chrome $CHROME_FLAGS --window-size=1400,2600 --screenshot="$tmp/report.png" \
        "file://$tmp/synth.html" >/dev/null 2>>"$tmp/chrome.log"
    [ -s "$tmp/report.png" ] && ok "chromium screenshot: $(wc -c < "$tmp/report.png") bytes" ||
        fail "chromium screenshot"
    # SCREENSHOT=path keeps it (doc/telemetry-report.png was made so)
    [ -n "${SCREENSHOT:-}" ] && cp "$tmp/report.png" "$SCREENSHOT" && cp "$tmp/synth.txt" "${SCREENSHOT%.png}.txt"
fi

echo "telemetry checks: $([ $status -eq 0 ] && echo passed || echo FAILED)"
exit $status
