#!/bin/sh
# Load test: smime-milter behind a private Postfix on loopback (the set-up of
# tests/postfix-lib.sh), LOAD_SESSIONS concurrent SMTP sessions (default 8) to the
# milter-facing listener sharing LOAD_MESSAGES messages (default 200), cycling
# through every sample-mail message, each with a unique X-Load-Id header put on
# top.  Then, over the delivered copies (tests/smtp-load.py check):
#   - no SMTP refusal, zero lost (every id delivered), zero duplicated;
#   - every copy carries exactly one Authentication-Results of ours, with the
#     smime= results sample-mail/MANIFEST gives for its message;
#   - the milter's peak resident memory (VmHWM from /proc/PID/status) stays under
#     LOAD_RSS_MB (default 512 MB): a bound on memory, not on time.
# Then (normal build) the milter is SIGKILLed while LOAD_KILL_MESSAGES (default
# 100) go in through the milter-less listener and Postfix relays them to the
# milter's: after a restart and a queue flush every one is delivered exactly once,
# checked as above.
# It prints sessions, messages, lost, duplicated and the peak RSS.
# With the ASan build (BUILD contains "asan") a smoke run: 4 sessions, 40
# messages, and any sanitizer report fails (ASan's own memory use makes the RSS
# figure meaningless there; it is printed, not judged).
# Larger runs: LOAD_SESSIONS=32 LOAD_MESSAGES=5000 sh tests/check-load.sh build
# Needs root, Postfix, swaks, python3 (tools/deps.sh).  Every wait is bounded;
# every process started here is stopped on exit.
set -u
BUILD=${1:?usage: check-load.sh BUILD_DIR}
ROOT=$(pwd)
case "$BUILD" in /*) MILTER="$BUILD/smime-milter" ;; *) MILTER="$ROOT/$BUILD/smime-milter" ;; esac
case "$BUILD" in *asan*) SMOKE=1 ;; *) SMOKE=0 ;; esac
if [ "$SMOKE" -eq 1 ]; then
    SESSIONS=${LOAD_SESSIONS:-4} MESSAGES=${LOAD_MESSAGES:-40}
else
    SESSIONS=${LOAD_SESSIONS:-8} MESSAGES=${LOAD_MESSAGES:-200}
fi
RSS_LIMIT_MB=${LOAD_RSS_MB:-512}

T=$(mktemp -d /tmp/smime-load.XXXXXX) || { echo "FATAL: mktemp"; exit 1; }
chmod 755 "$T"
FAILED=0
MILTER_PID=""
. tests/postfix-lib.sh
trap pf_cleanup EXIT
trap 'exit 1' INT TERM HUP
pf_need
command -v python3 >/dev/null || die "python3 not installed (sh tools/deps.sh)"
pf_pick_ports

pf_milter_dirs
pf_base_conf tests/check-load.sh > "$T/milter/smime-milter.conf"
start_milter
pf_write_config
# room for the sessions: the client's and the relay's
postconf -c "$T/etc" -e "smtpd_client_connection_count_limit = 0" \
    "smtpd_client_connection_rate_limit = 0" "smtpd_client_message_rate_limit = 0"
pf_start
echo "postfix on 127.0.0.1:$FILTER (filter), milter on :$MPORT (pid $MILTER_PID)"

# every message of sample-mail/MANIFEST, in its order
FILES=$(awk '!/^#/ && NF { print "sample-mail/" $1 }' sample-mail/MANIFEST)
# the whole send is bounded: 60 s plus 2 s per message would be a hang, not load
timeout $((60 + MESSAGES * 2)) python3 tests/smtp-load.py send "$FILTER" "$SESSIONS" "$MESSAGES" load $FILES \
    >"$T/send.out" 2>&1 || fail "send: $(cat "$T/send.out")"
cat "$T/send.out"

check() { python3 tests/smtp-load.py check "$T/mail/all" load "$MESSAGES" mx.test sample-mail/MANIFEST >"$T/check.out" 2>&1; }
# delivery is asynchronous: wait (bounded) until every id is there
wait_for $((300 + MESSAGES)) check
cat "$T/check.out"
check || fail "delivered copies: $(tr '\n' ' ' < "$T/check.out")"
[ "$(queue_size)" -eq 0 ] || fail "queue not empty: $(queue_size) messages left"

milter_alive || fail "the milter died under load"
hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$MILTER_PID/status" 2>/dev/null)
[ -n "$hwm_kb" ] || { fail "no VmHWM for pid $MILTER_PID"; hwm_kb=0; }
hwm_mb=$((hwm_kb / 1024))
lost=$(awk '$1 == "lost" { print $2 }' "$T/check.out")
dup=$(awk '$1 == "duplicated" { print $2 }' "$T/check.out")
echo "load held: $SESSIONS sessions, $MESSAGES messages, lost ${lost:-?}, duplicated ${dup:-?}, milter peak RSS $hwm_mb MB (VmHWM)"
if [ "$SMOKE" -eq 0 ] && [ "$hwm_mb" -ge "$RSS_LIMIT_MB" ]; then
    fail "milter peak RSS $hwm_mb MB, bound $RSS_LIMIT_MB MB"
fi
[ "$SMOKE" -eq 1 ] && echo "note: ASan build, peak RSS not judged"

# ---- the milter SIGKILLed under load, then restarted (normal build only) ----
# The load goes in through INJECT (no milter there), so Postfix itself carries
# every message to the milter-facing listener and must defer, not lose, what it
# could not get checked while the milter was gone.
if [ "$SMOKE" -eq 0 ]; then
    KMSG=${LOAD_KILL_MESSAGES:-100}
    timeout $((60 + KMSG * 2)) python3 tests/smtp-load.py send "$INJECT" "$SESSIONS" "$KMSG" kill $FILES \
        >"$T/kill-send.out" 2>&1 &
    spid=$!
    kill_seen() { grep -rlqs 'X-Load-Id: kill-' "$T/mail/all"; }
    wait_for 300 kill_seen || fail "kill: nothing delivered before the kill"
    kill -9 "$MILTER_PID"; wait "$MILTER_PID" 2>/dev/null; MILTER_PID=""
    wait "$spid" || fail "kill: send: $(cat "$T/kill-send.out")"
    cat "$T/kill-send.out"
    kcheck() { python3 tests/smtp-load.py check "$T/mail/all" kill "$KMSG" mx.test sample-mail/MANIFEST >"$T/kill-check.out" 2>&1; }
    # The kill must have caught messages in flight, or this phase proved nothing.
    kdeferred() { grep -q 'status=deferred.*4\.7\.[0-9]' "$T/maillog"; }
    wait_for 150 kdeferred || fail "kill: nothing deferred with a 4.7.x while the milter was down"
    kcheck && fail "kill: every message was through before the milter died"
    start_milter
    postqueue -c "$T/etc" -f
    wait_for $((300 + KMSG)) kcheck
    cat "$T/kill-check.out"
    kcheck || fail "kill under load: $(tr '\n' ' ' < "$T/kill-check.out")"
    [ "$(queue_size)" -eq 0 ] || fail "kill: queue not empty: $(queue_size) messages left"
    klost=$(awk '$1 == "lost" { print $2 }' "$T/kill-check.out")
    kdup=$(awk '$1 == "duplicated" { print $2 }' "$T/kill-check.out")
    echo "milter SIGKILLed under load ($SESSIONS sessions, $KMSG messages) and restarted: lost ${klost:-?}, duplicated ${kdup:-?}"
fi

kill "$MILTER_PID"
wait_for 100 sh -c "! kill -0 $MILTER_PID 2>/dev/null" || fail "milter did not stop on SIGTERM"
wait "$MILTER_PID"; rc=$?
MILTER_PID=""
[ "$rc" -eq 0 ] || fail "milter exit status $rc after SIGTERM"
grep -q 'ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer' "$T/milter.log" &&
    fail "sanitizer report in the milter log"

if [ "$FAILED" -ne 0 ]; then
    echo "check-load: FAILED"
    exit 1
fi
echo "check-load: all passed"
