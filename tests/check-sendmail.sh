#!/bin/sh
# Integration test: smime-milter behind a real Sendmail 8.17 from Debian's packages,
# on loopback.
#
# Debian's sendmail-bin conflicts with postfix (which the Postfix tests need), so
# Sendmail is not installed: its packages are fetched with `apt-get download` into
# a cache directory ($SMIME_TEST_CACHE, default /var/cache/smime-milter-tests) and
# unpacked into the test's own directory with dpkg-deb -x.  A download that fails
# is a FAIL, never a skip: the machines that run this have Debian's mirrors.
#
# The Sendmail instance: a .cf built with m4 from a .mc and Debian's cf/ macros;
# its own queue directory, pid file and service switch (hosts from files, no DNS);
# every message relayed to tests/smtp-sink.py, which stores one file per recipient.
# Four listeners, each with its own filter definition (DaemonPortOptions'
# InputMailFilters) of the same milter:
#   MTA-T  F=T  (milter unreachable: tempfail)  the recommended one
#   MTA-R  F=R  (milter unreachable: reject)
#   MTA-N  no F (milter unreachable: mail passes unchecked)
#   MTA-L  F=T over a local (UNIX-domain) socket
#   MTA-E  F=T with an end-of-message timeout (T=E:1s) shorter than RevocationTimeout
#
# Checks:
#   1. every sample-mail message sent to MTA-T arrives with exactly the smime=
#      results of sample-mail/MANIFEST, with one Authentication-Results header of
#      ours and X-SMIME-Signature details (pass, fail, policy, ... headers);
#   2. forged Authentication-Results claiming our authserv-id and X-SMIME-*
#      headers are removed (Sendmail counts header occurrences for
#      smfi_chgheader itself), other Authentication-Results kept;
#   3. after SIGHUP to a configuration with actions: fail -> 550 with the reason
#      text, permerror -> 451 with the reason text, neutral -> quarantined
#      (Sendmail keeps it in its queue as an hf file with the reason on its q
#      line, and does not deliver it; released with sendmail -qQ -qIqid -Q and
#      run with sendmail -q -qIqid it is delivered tagged), policy -> discarded
#      (250, not delivered);
#   4. the milter stopped: MTA-T answers 451 4.3.2 at MAIL, MTA-R refuses the
#      connection with 554, MTA-N delivers the message without our header; the
#      milter back: MTA-T tags mail again;
#   5. the milter on a local socket (owned by UserID nobody, mode 0770, UMask 007)
#      behind MTA-L;
#   6. timeouts: a signer whose revocation responder never answers makes the
#      milter wait RevocationTimeout (3 s): behind MTA-T (E:2m) the message is
#      delivered smime=pass with the unknown status noted (Revocation soft);
#      behind MTA-E (E:1s) Sendmail gives up on the filter and, by F=T, tempfails.
# With the ASan build (BUILD=build-asan) check 1 sends a subset of the sample mail;
# the milter's log must hold no sanitizer report.  Needs root, swaks, m4, python3
# and apt (tools/deps.sh).  Every wait is bounded; everything started is stopped.
set -u
BUILD=${1:?usage: check-sendmail.sh BUILD_DIR}
ROOT=$(pwd)
case "$BUILD" in /*) MILTER="$BUILD/smime-milter" ;; *) MILTER="$ROOT/$BUILD/smime-milter" ;; esac
case "$BUILD" in *asan*) SMOKE=1 ;; *) SMOKE=0 ;; esac
CACHE=${SMIME_TEST_CACHE:-/var/cache/smime-milter-tests}/sendmail
SM_PACKAGES="sendmail-bin sendmail-base sendmail-cf libwrap0 liblockfile1"

# Not under /tmp: Sendmail refuses a milter socket below a world-writable
# directory ("local socket name ... unsafe: World writable directory").
T=$(mktemp -d /run/smime-sendmail.XXXXXX) || { echo "FATAL: mktemp"; exit 1; }
chmod 755 "$T"
FAILED=0
MILTER_PID=""
SM_PID=""
SINK_PID=""
BH_PID=""
# port helpers, wait_for, fail/die, send, headers_of, our_results, start_milter,
# pf_milter_dirs and pf_base_conf are shared with the Postfix tests
. tests/postfix-lib.sh

sm_cleanup() {
    [ -n "$MILTER_PID" ] && kill "$MILTER_PID" 2>/dev/null
    if [ -n "$SM_PID" ]; then
        kill "$SM_PID" 2>/dev/null
        wait_for 50 sh -c "! kill -0 $SM_PID 2>/dev/null" || kill -9 "$SM_PID" 2>/dev/null
    fi
    [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
    [ -n "$BH_PID" ] && kill "$BH_PID" 2>/dev/null
    if [ "$FAILED" -ne 0 ]; then
        echo "--- milter log (last 40 lines)"; tail -n 40 "$T/milter.log" 2>/dev/null
        echo "--- sendmail SMTP trace (last 40 lines)"; tail -n 40 "$T/sendmail.trace" 2>/dev/null
        echo "--- sendmail output"; tail -n 20 "$T/sendmail.out" 2>/dev/null
    fi
    [ -n "${KEEP_T:-}" ] || rm -rf "$T"
}
trap sm_cleanup EXIT
trap 'exit 1' INT TERM HUP

[ "$(id -u)" -eq 0 ] || die "must run as root (it starts a private Sendmail)"
for tool in swaks m4 python3 apt-get dpkg-deb unshare hostname; do
    command -v "$tool" >/dev/null || die "$tool not installed (sh tools/deps.sh)"
done
[ -x "$MILTER" ] || die "$MILTER not built"

# ---- Sendmail from Debian's packages, unpacked privately ----
have_debs() {
    for p in $SM_PACKAGES; do
        ls "$CACHE/${p}_"*.deb >/dev/null 2>&1 || return 1
    done
}
if ! have_debs; then
    mkdir -p "$CACHE" || die "cannot create $CACHE"
    # apt-get download writes into the current directory; the package lists may
    # be missing on a fresh machine, so one update and a second try
    (cd "$CACHE" && apt-get download $SM_PACKAGES >"$T/apt.log" 2>&1) ||
        { apt-get -o DPkg::Lock::Timeout=900 update -qq >>"$T/apt.log" 2>&1 &&
          (cd "$CACHE" && apt-get download $SM_PACKAGES >>"$T/apt.log" 2>&1); } ||
        { cat "$T/apt.log"; die "apt-get download $SM_PACKAGES failed"; }
    have_debs || { cat "$T/apt.log"; die "Sendmail packages missing in $CACHE after download"; }
fi
SM_ROOT="$T/sendmail-root"
for p in $SM_PACKAGES; do
    deb=$(ls "$CACHE/${p}_"*.deb | sort -V | tail -n 1)
    dpkg-deb -x "$deb" "$SM_ROOT" || die "dpkg-deb -x $deb failed"
done
SENDMAIL="$SM_ROOT/usr/libexec/sendmail/sendmail"
CF_DIR="$SM_ROOT/usr/share/sendmail/cf"
[ -x "$SENDMAIL" ] && [ -f "$CF_DIR/m4/cf.m4" ] || die "no sendmail binary or cf/ macros in the packages"
# setgid smmsp as packaged: the dynamic loader would then ignore LD_LIBRARY_PATH,
# which is how the privately unpacked libraries are found
chmod g-s "$SENDMAIL"
export LD_LIBRARY_PATH="$SM_ROOT/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if LD_LIBRARY_PATH=$LD_LIBRARY_PATH ldd "$SENDMAIL" | grep -q 'not found'; then
    ldd "$SENDMAIL" | grep 'not found'
    die "sendmail needs libraries that are neither installed nor in $SM_PACKAGES"
fi

# ---- ports, the sink, the milter ----
# Distinct free ports (tests/port-lib.sh: below the kernel's ephemeral range).
USED=""
for v in MPORT PORT_T PORT_R PORT_N PORT_L PORT_E SINK; do
    q=$(free_port $USED)
    USED="$USED $q"
    eval "$v=$q"
done

mkdir -p "$T/sink"
python3 tests/smtp-sink.py "$SINK" "$T/sink" >"$T/sink.log" 2>&1 &
SINK_PID=$!
wait_for 100 port_open "$SINK" || { fail "smtp-sink did not start: $(cat "$T/sink.log")"; exit 1; }

pf_milter_dirs
base_conf() {
    pf_base_conf tests/check-sendmail.sh
    cat <<EOF
RejectReply         550 5.7.1 smime test reject: %r
TempfailReply       451 4.7.1 smime test tempfail: %r
EOF
}
base_conf > "$T/milter/accept.conf"
{ base_conf; cat <<EOF
On-Fail             reject
On-PermError        tempfail
On-Neutral          quarantine
On-Policy           discard
EOF
} > "$T/milter/actions.conf"
cp "$T/milter/accept.conf" "$T/milter/smime-milter.conf"
start_milter

# ---- Sendmail's configuration, built as an admin builds it ----
SOCK="$T/milter/run/milter.sock"
mkdir -p "$T/queue"
chmod 700 "$T/queue"
printf 'hosts files\naliases files\n' > "$T/service.switch"
# The filter lines are what smime-milter(8) tells an admin to add; T=E (the end of
# message) must outlast RevocationTimeout plus VerifyTimeout.
cat > "$T/sendmail.mc" <<EOF
divert(-1)
# generated by tests/check-sendmail.sh
divert(0)dnl
VERSIONID(\`smime-milter check-sendmail')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.test')dnl
define(\`QUEUE_DIR', \`$T/queue')dnl
define(\`confPID_FILE', \`$T/sendmail.pid')dnl
define(\`STATUS_FILE', \`$T/sendmail.st')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`HELP_FILE', \`$SM_ROOT/etc/mail/helpfile')dnl
define(\`confHOST_STATUS_DIRECTORY', \`')dnl
define(\`confSERVICE_SWITCH_FILE', \`$T/service.switch')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confDELIVERY_MODE', \`background')dnl
define(\`SMART_HOST', \`relay:[127.0.0.1]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $SINK')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`accept_unresolvable_domains')dnl
DAEMON_OPTIONS(\`Port=$PORT_T, Addr=127.0.0.1, Name=MTA-T, InputMailFilters=smimeT')dnl
DAEMON_OPTIONS(\`Port=$PORT_R, Addr=127.0.0.1, Name=MTA-R, InputMailFilters=smimeR')dnl
DAEMON_OPTIONS(\`Port=$PORT_N, Addr=127.0.0.1, Name=MTA-N, InputMailFilters=smimeN')dnl
DAEMON_OPTIONS(\`Port=$PORT_L, Addr=127.0.0.1, Name=MTA-L, InputMailFilters=smimeL')dnl
DAEMON_OPTIONS(\`Port=$PORT_E, Addr=127.0.0.1, Name=MTA-E, InputMailFilters=smimeE')dnl
MAIL_FILTER(\`smimeT', \`S=inet:$MPORT@127.0.0.1, F=T, T=C:10s;S:30s;R:30s;E:2m')dnl
MAIL_FILTER(\`smimeR', \`S=inet:$MPORT@127.0.0.1, F=R, T=C:10s;S:30s;R:30s;E:2m')dnl
MAIL_FILTER(\`smimeN', \`S=inet:$MPORT@127.0.0.1, T=C:10s;S:30s;R:30s;E:2m')dnl
MAIL_FILTER(\`smimeL', \`S=local:$SOCK, F=T, T=C:10s;S:30s;R:30s;E:2m')dnl
MAIL_FILTER(\`smimeE', \`S=inet:$MPORT@127.0.0.1, F=T, T=C:10s;S:30s;R:30s;E:1s')dnl
MAILER(\`smtp')dnl
EOF
m4 -D_CF_DIR_="$CF_DIR/" "$CF_DIR/m4/cf.m4" "$T/sendmail.mc" > "$T/sendmail.cf" 2>"$T/m4.log" ||
    { cat "$T/m4.log"; die "m4 could not build sendmail.cf"; }
# Sendmail wants a qualified name for itself before it reads any configuration:
# a host named without a dot that the resolver cannot qualify costs a 60 s sleep
# at every start ("My unqualified host name ... sleeping for retry"), so it runs
# in a UTS namespace of its own, named mx.test.
sm_run() { unshare --uts sh -c 'hostname mx.test && exec "$@"' sh "$@"; }
version=$(sm_run "$SENDMAIL" -C "$T/sendmail.cf" -d0.1 -bt </dev/null 2>&1 | sed -n 's/^Version //p' | head -n 1)
case "$version" in
    8.17.*) ;;
    *) die "expected Sendmail 8.17, the packages give '$version'" ;;
esac
# -bD: the daemon in the foreground, so its pid is ours; -X: the SMTP trace
# (exec in a subshell: unshare, sh and sendmail then keep the one pid we kill)
(exec unshare --uts sh -c 'hostname mx.test && exec "$@"' sh \
    "$SENDMAIL" -C "$T/sendmail.cf" -bD -X "$T/sendmail.trace") >"$T/sendmail.out" 2>&1 </dev/null &
SM_PID=$!
for p in $PORT_T $PORT_R $PORT_N $PORT_L $PORT_E; do
    wait_for 100 port_open "$p" || { fail "sendmail did not listen on $p"; exit 1; }
done
echo "sendmail $version on 127.0.0.1:$PORT_T (F=T) :$PORT_R (F=R) :$PORT_N (no F) :$PORT_L (local socket) :$PORT_E (E:1s), milter on :$MPORT, sink on :$SINK"

# Every delivered message is a file $T/sink/LOCALPART.N.eml.
delivered_files() { ls "$T/sink/$1".*.eml 2>/dev/null; }
delivered_count() { delivered_files "$1" | wc -l; }
has_delivery() { [ "$(delivered_count "$1")" -ge "${2:-1}" ]; }
expect_reply() { # PORT NAME FILE CODE TEXT-PREFIX
    if send "$1" "$2" "$3"; then
        fail "$2: accepted, expected $4"
    elif ! grep -q "^<\*\* *$4 .*$5" "$T/swaks.out"; then
        fail "$2: expected '$4 ... $5', got: $(grep '<\*\*' "$T/swaks.out" | tail -n 1)"
    fi
}

# ---- 1. every sample message through MTA-T ----
# "#via sendmail FILE RESULT..." in the MANIFEST: what FILE gives once Sendmail has
# queued it (a NUL in a header line: see the MANIFEST and smime-milter(8))
via_sendmail() { awk -v f="$1" '$1 == "#via" && $2 == "sendmail" && $3 == f { $1 = $2 = $3 = ""; sub(/^ */, ""); print; exit }' sample-mail/MANIFEST; }
sent=0
while read -r file expected; do
    case "$file" in ''|'#'*) continue ;; esac
    via=$(via_sendmail "$file"); [ -z "$via" ] || expected=$via
    if [ "$SMOKE" -eq 1 ]; then
        case "$file" in 01-*|07-*|17-*|30-*|32-*|36-*|38-*) ;; *) continue ;; esac
    fi
    rcpt=$(echo "m-$file" | sed 's/\.eml$//' | tr 'A-Z' 'a-z')
    send "$PORT_T" "$rcpt" "sample-mail/$file" ||
        { fail "$file: SMTP refused: $(grep '<\*\*' "$T/swaks.out" | tail -n 1)"; continue; }
    sent=$((sent + 1))
    echo "$rcpt $expected" >> "$T/expected"
done < sample-mail/MANIFEST
echo "sent $sent sample messages"
[ "$sent" -gt 0 ] || fail "no sample message sent"
seen=""
while read -r rcpt expected; do
    if ! wait_for 150 has_delivery "$rcpt"; then
        fail "$rcpt: not delivered"; continue
    fi
    f=$(delivered_files "$rcpt" | head -n 1)
    got=$(our_results "$f")
    want=$(printf '%s' "$expected" | tr -s ' \t' ' ')
    if [ "$got" != "$want" ]; then
        fail "$rcpt: expected smime=[$want], delivered with [$got]"
        headers_of "$f" | grep -i '^Authentication-Results' | sed 's/^/    /'
    fi
    seen="$seen $got"
    c=$(headers_of "$f" | grep -ci '^Authentication-Results: mx\.test;')
    [ "$c" -eq 1 ] || fail "$rcpt: $c Authentication-Results headers of ours (want 1)"
    [ "$expected" = none ] || headers_of "$f" | grep -q '^X-SMIME-Signature: part=' ||
        fail "$rcpt: no X-SMIME-Signature detail header"
    # our headers go above Sendmail's own Received line, as with Postfix
    headers_of "$f" | head -n 1 | grep -qi '^Authentication-Results: mx\.test;' ||
        fail "$rcpt: our Authentication-Results is not the first header"
done < "$T/expected"
for word in pass fail policy none; do
    echo "$seen" | grep -qw "$word" || fail "no smime=$word among the delivered sample mail"
done
echo "1. sample mail through Sendmail: done ($sent messages)"

# ---- 2. forged headers ----
check_forged_headers "$PORT_T"
echo "2. forged headers: done"

# ---- 3. actions, after SIGHUP ----
reloads=$(grep -c 'reloaded' "$T/milter.log")
more_reloads() { [ "$(grep -c 'reloaded' "$T/milter.log")" -gt "$reloads" ]; }
cp "$T/milter/actions.conf" "$T/milter/smime-milter.conf"
kill -HUP "$MILTER_PID"
wait_for 50 more_reloads || fail "no reload after SIGHUP"
milter_alive || { fail "milter died on SIGHUP"; exit 1; }
expect_reply "$PORT_T" a-fail sample-mail/30-tampered-body.eml 550 \
    "5.7.1 smime test reject: signature does not verify"
expect_reply "$PORT_T" a-permerror sample-mail/36-cert-not-included.eml 451 \
    "4.7.1 smime test tempfail: signer certificate .* is not included in the message"
send "$PORT_T" a-policy sample-mail/32-from-not-in-cert.eml || fail "a-policy: discard must answer 250"
send "$PORT_T" a-neutral sample-mail/37-garbage-cms.eml || fail "a-neutral: quarantine must answer 250"
neutral_qid=$(sed -n 's/^<-  250 2\.0\.0 \([A-Za-z0-9]*\) Message accepted.*/\1/p' "$T/swaks.out")
send "$PORT_T" a-pass sample-mail/01-multipart-signed-rsa2048.eml || fail "a-pass: refused"
wait_for 150 has_delivery a-pass || fail "a-pass: not delivered"
# Sendmail's quarantine: the queue file is renamed qf -> hf and carries the reason
quarantined() { [ -n "$neutral_qid" ] && [ -f "$T/queue/hf$neutral_qid" ]; }
if wait_for 50 quarantined; then
    grep -q '^qsmime-milter: signature is not a readable CMS SignedData' "$T/queue/hf$neutral_qid" ||
        fail "a-neutral: quarantine reason not in hf$neutral_qid: $(grep '^q' "$T/queue/hf$neutral_qid")"
    grep -q 'smime=neutral' "$T/queue/hf$neutral_qid" ||
        fail "a-neutral: the quarantined message lacks our header"
    # the queue listing an admin runs (mailq -qQ)
    sm_run "$SENDMAIL" -C "$T/sendmail.cf" -bp -qQ > "$T/mailq.out" 2>&1
    grep -q "$neutral_qid" "$T/mailq.out" || fail "a-neutral: mailq -qQ does not list it: $(cat "$T/mailq.out")"
else
    fail "a-neutral: not quarantined (queue: $(ls "$T/queue"))"
fi
for r in a-fail a-permerror a-policy a-neutral; do
    [ "$(delivered_count "$r")" -eq 0 ] || fail "$r: delivered, must not be"
done
grep -q 'action=discard' "$T/milter.log" || fail "no discard logged"
# what an admin does with a quarantined message: release it, then deliver it
if [ -n "$neutral_qid" ] && [ -f "$T/queue/hf$neutral_qid" ]; then
    sm_run "$SENDMAIL" -C "$T/sendmail.cf" -qQ -qI"$neutral_qid" -Q >"$T/release.out" 2>&1 ||
        fail "a-neutral: release failed: $(cat "$T/release.out")"
    sm_run "$SENDMAIL" -C "$T/sendmail.cf" -q -qI"$neutral_qid" >>"$T/release.out" 2>&1 ||
        fail "a-neutral: queue run failed: $(cat "$T/release.out")"
    if wait_for 150 has_delivery a-neutral; then
        [ "$(our_results "$(delivered_files a-neutral | head -n 1)")" = neutral ] ||
            fail "a-neutral: released without its smime=neutral header"
    else
        fail "a-neutral: not delivered after release (queue: $(ls "$T/queue"))"
    fi
fi
echo "3. reject, tempfail, quarantine, discard: done"

# ---- 4. the milter down: Sendmail's failure modes ----
kill "$MILTER_PID"; wait "$MILTER_PID" 2>/dev/null; MILTER_PID=""
milter_port_closed() { ! port_open "$MPORT"; }
wait_for 50 milter_port_closed || fail "milter port still open"
expect_reply "$PORT_T" down-t sample-mail/01-multipart-signed-rsa2048.eml 451 "4.3.2"
grep -q '^ -> MAIL FROM' "$T/swaks.out" && ! grep -q '^ -> RCPT TO' "$T/swaks.out" ||
    fail "down-t: the 451 did not come at MAIL FROM"
expect_reply "$PORT_R" down-r sample-mail/01-multipart-signed-rsa2048.eml 554 "mx.test ESMTP not accepting messages"
grep -q '^ -> EHLO' "$T/swaks.out" && fail "down-r: not refused at the greeting"
send "$PORT_N" down-n sample-mail/01-multipart-signed-rsa2048.eml || fail "down-n: refused without F="
if wait_for 150 has_delivery down-n; then
    [ -z "$(our_results "$(delivered_files down-n | head -n 1)")" ] || fail "down-n: carries a result of ours"
else
    fail "down-n: not delivered"
fi
for r in down-t down-r; do
    [ "$(delivered_count "$r")" -eq 0 ] || fail "$r: delivered, must not be"
done
cp "$T/milter/accept.conf" "$T/milter/smime-milter.conf"
start_milter
send "$PORT_T" back sample-mail/01-multipart-signed-rsa2048.eml || fail "back: refused after restart"
if wait_for 150 has_delivery back; then
    [ "$(our_results "$(delivered_files back | head -n 1)")" = pass ] || fail "back: not tagged smime=pass"
else
    fail "back: not delivered"
fi
echo "4. milter down: F=T tempfails (451 4.3.2), F=R rejects (554), no F passes unchecked: done"

# ---- 5. a local socket ----
kill "$MILTER_PID"; wait "$MILTER_PID" 2>/dev/null; MILTER_PID=""
{ base_conf | sed -e "s|^Socket .*|Socket local:$SOCK|" -e "s|^UserID .*|UserID nobody:nogroup|"
  echo "UMask 007"; } > "$T/milter/smime-milter.conf"
"$MILTER" -f -c "$T/milter/smime-milter.conf" >>"$T/milter.log" 2>&1 &
MILTER_PID=$!
sock_ready() { [ -S "$SOCK" ]; }
wait_for 100 sock_ready || fail "local: socket not created"
mode=$(stat -c '%a %U' "$SOCK" 2>/dev/null)
[ "$mode" = "770 nobody" ] || fail "local: socket is '$mode', want '770 nobody'"
send "$PORT_L" local sample-mail/01-multipart-signed-rsa2048.eml ||
    fail "local: refused: $(grep '<\*\*' "$T/swaks.out" | tail -n 1)"
if wait_for 150 has_delivery local; then
    [ "$(our_results "$(delivered_files local | head -n 1)")" = pass ] || fail "local: not tagged smime=pass"
else
    fail "local: not delivered"
fi
echo "5. local socket: done"

# ---- 6. T=E against RevocationTimeout ----
kill "$MILTER_PID"; wait "$MILTER_PID" 2>/dev/null; MILTER_PID=""
python3 tests/blackhole.py 300 > "$T/blackhole.log" 2>&1 &
BH_PID=$!
bh_ready() { [ -s "$T/blackhole.log" ]; }
wait_for 100 bh_ready || fail "black hole did not start"
BH=$(head -n 1 "$T/blackhole.log")
# every OCSP and CRL URL of this PKI points at the black hole
sh tests/revocation/make-pki.sh "$T/rpki" "$BH" "$BH" "$BH" "$BH" >"$T/pki.log" 2>&1 ||
    fail "make-pki: $(tail -n 3 "$T/pki.log")"
{
    printf 'From: slow@example.org\r\nTo: bh@example.test\r\nSubject: black hole\r\n'
    printf 'Content-Type: text/plain\r\n\r\nThe revocation responder of this signer never answers.\r\n' |
        openssl cms -sign -signer "$T/rpki/leaf-slow.pem" -inkey "$T/rpki/leaf-slow.key" \
            -certfile "$T/rpki/sub.pem" -md sha256
} > "$T/bh.eml" || fail "cannot sign the black-hole message"
cp "$T/rpki/root.pem" "$T/milter/rev-anchors.pem"
{ base_conf | sed "s|^TrustAnchors .*|TrustAnchors        $T/milter/rev-anchors.pem|"
  echo "Revocation          soft"; echo "RevocationTimeout   3"
  echo "RevocationAllowPrivate yes"; } > "$T/milter/smime-milter.conf"
start_milter
send "$PORT_T" slow-t "$T/bh.eml" || fail "slow-t: refused: $(grep '<\*\*' "$T/swaks.out" | tail -n 1)"
if wait_for 150 has_delivery slow-t; then
    headers_of "$(delivered_files slow-t | head -n 1)" |
        grep -q '^Authentication-Results: mx\.test; smime=pass reason="[^"]*revocation status of the signer certificate unknown' ||
        fail "slow-t: not pass with the unknown revocation status noted"
else
    fail "slow-t: not delivered"
fi
if send "$PORT_E" slow-e "$T/bh.eml"; then
    fail "slow-e: accepted although the filter's E:1s passed before its reply"
else
    grep -q '^<\*\* *4[0-9][0-9] ' "$T/swaks.out" ||
        fail "slow-e: expected a 4xx, got: $(grep '<\*\*' "$T/swaks.out" | tail -n 1)"
    echo "   behind E:1s: $(grep '<\*\*' "$T/swaks.out" | tail -n 1)"
fi
sleep 4          # the milter's late reply to the connection Sendmail dropped
[ "$(delivered_count slow-e)" -eq 0 ] || fail "slow-e: delivered, must not be"
milter_alive || fail "slow-e: the milter died after Sendmail dropped the connection"
kill "$BH_PID" 2>/dev/null; wait "$BH_PID" 2>/dev/null; BH_PID=""
echo "6. T=E shorter than RevocationTimeout tempfails, longer delivers: done"

# ---- Sendmail stops with its pid ----
kill "$SM_PID"
sm_gone() { ! kill -0 "$SM_PID" 2>/dev/null; }
wait_for 100 sm_gone || fail "sendmail did not stop on SIGTERM"
SM_PID=""
for p in $PORT_T $PORT_R $PORT_N $PORT_L $PORT_E; do
    port_open "$p" && fail "port $p still open after sendmail stopped"
done

# ---- the milter's exit, sanitizers ----
kill "$MILTER_PID"
wait_for 100 sh -c "! kill -0 $MILTER_PID 2>/dev/null" || fail "milter did not stop on SIGTERM"
wait "$MILTER_PID"; rc=$?
MILTER_PID=""
[ "$rc" -eq 0 ] || fail "milter exit status $rc after SIGTERM"
grep -q 'ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer' "$T/milter.log" &&
    fail "sanitizer report in the milter log"

if [ "$FAILED" -ne 0 ]; then
    echo "check-sendmail: FAILED"
    exit 1
fi
echo "check-sendmail: all passed"
