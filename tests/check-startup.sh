#!/bin/sh
# What an admin sees when smime-milter starts, fails to start or stops; no MTA.
#   1. each start-up problem -n knows (preflight.c): -n exits 1 naming it, and a
#      real start (-f, Syslog yes: with or without a syslog daemon) exits 1 with
#      the same reason on stderr, listening on nothing;
#   2. a good configuration: -n says ok; a detaching start returns 0 once the
#      daemon serves, and 1 with the reason on stderr when it cannot;
#   3. the pid file, written by UserID into its directory, is removed at exit;
#   4. SIGTERM: the daemon exits 0 within 2 s (the figure is printed), idle and
#      under load;
#   5. SIGTERM while a message is being checked: its reply goes out first;
#   6. every system call the daemon makes as the unit runs it is allowed by the
#      unit's SystemCallFilter (strace; systemd-analyze expands the groups).
# Needs root (UserID switches).  Every wait is bounded; every process started
# here is stopped on exit.
set -u
BUILD=${1:?usage: check-startup.sh BUILD_DIR}
ROOT=$(pwd)
case "$BUILD" in /*) M="$BUILD/smime-milter" ;; *) M="$ROOT/$BUILD/smime-milter" ;; esac
LOAD="$(dirname "$M")/bench/milter-load"
[ -x "$M" ] || { echo "FAIL: $M not built"; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "FATAL: check-startup.sh must run as root (UserID switches)"; exit 1; }
T=$(mktemp -d /tmp/smime-startup.XXXXXX) || exit 1
chmod 755 "$T"
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
bad=0
fail() { echo "FAIL: $*"; bad=$((bad + 1)); }

. tests/port-lib.sh
wait_for() { # TENTHS COMMAND...
    limit=$1; shift
    n=0
    until "$@"; do
        n=$((n + 1)); [ $n -ge "$limit" ] && return 1
        sleep 0.1
    done
}
now_ms() { date +%s%3N; }

mkdir -p "$T/run" "$T/spool" "$T/db" "$T/private"
cp sample-mail/pki/trust-anchors.pem "$T/anchors.pem"
chmod 644 "$T/anchors.pem"
chown nobody "$T/run" "$T/spool" "$T/db"
cp "$T/anchors.pem" "$T/private/anchors.pem"
echo "partner.example results=pass action=reject" > "$T/private/signing.policy"
chmod 700 "$T/private"
PORT=$(free_port)

base() { # the good configuration
    cat <<EOF
Socket              inet:$PORT@127.0.0.1
AuthservID          mx.test
TrustAnchors        $T/anchors.pem
UserID              nobody
Syslog              yes
TemporaryDirectory  $T/spool
PidFile             $T/run/smime-milter.pid
Telemetry           sqlite:$T/db/telemetry.db
EOF
}
# conf_with NAME KEY VALUE: the good configuration with KEY set to VALUE (or
# removed when VALUE is "-")
conf_with() {
    base | grep -v "^$2 " > "$T/$1.conf"
    [ "$3" = "-" ] || echo "$2 $3" >> "$T/$1.conf"
}

# ---- 1. every problem, by -n and by a start ----
expect_refused() { # NAME EXPECTED-TEXT
    c="$T/$1.conf"
    if "$M" -n -c "$c" > "$T/n.out" 2>&1; then
        fail "$1: -n exit 0: $(cat "$T/n.out")"
    elif ! grep -qF -- "$2" "$T/n.out"; then
        fail "$1: -n said [$(cat "$T/n.out")], want [$2]"
    fi
    timeout 20 "$M" -f -c "$c" > "$T/start.out" 2> "$T/start.err"; rc=$?
    [ "$rc" -eq 1 ] || fail "$1: start exit status $rc, want 1"
    grep -qF -- "$2" "$T/start.err" || fail "$1: start's stderr [$(cat "$T/start.err")], want [$2]"
    port_open "$PORT" && fail "$1: something listens on $PORT after a refused start"
    [ -e "$T/run/smime-milter.pid" ] && fail "$1: pid file left by a refused start"
    rm -f "$T/run/smime-milter.pid"
    checked=$((checked + 1))
}
checked=0
base > "$T/good.conf"
ROOT_MSG="refusing to run as root: set UserID in $T/noroot.conf to an unprivileged user (e.g. UserID smime-milter)"
conf_with noroot UserID -
expect_refused noroot "$ROOT_MSG"
# smime-milter(8) quotes that message word for word (FILE for the file)
man_msg=$(sed -n 's/^\.I \(refusing to run as root: .*\)$/\1/p' doc/smime-milter.8 | sed "s|FILE|$T/noroot.conf|")
[ -n "$man_msg" ] && grep -qF -- "$man_msg" "$T/start.err" ||
    fail "smime-milter(8) quotes [$man_msg]; the daemon said [$(cat "$T/start.err")]"
conf_with userroot UserID root
expect_refused userroot "refusing to run as root: set UserID in $T/userroot.conf"
conf_with uid0 UserID 0
expect_refused uid0 "refusing to run as root: set UserID in $T/uid0.conf"
conf_with nouser UserID no-such-user-here
expect_refused nouser "UserID: no user no-such-user-here"
conf_with nogroup UserID nobody:no-such-group-here
expect_refused nogroup "UserID: no group no-such-group-here"
conf_with sockdir Socket "local:$T/missing/milter.sock"
expect_refused sockdir "Socket: directory $T/missing: No such file or directory"
: > "$T/run/plain-file"
conf_with socknotsock Socket "local:$T/run/plain-file"
expect_refused socknotsock "Socket: $T/run/plain-file exists and is not a socket"
conf_with anchors TrustAnchors "$T/private/anchors.pem"
expect_refused anchors "TrustAnchors: $T/private/anchors.pem not readable by uid $(id -u nobody)"
conf_with tmpmissing TemporaryDirectory "$T/no-spool"
expect_refused tmpmissing "TemporaryDirectory $T/no-spool: cannot create a file as uid $(id -u nobody)"
conf_with tmproot TemporaryDirectory "$T/private"
expect_refused tmproot "TemporaryDirectory $T/private: cannot create a file"
conf_with sqlitedir Telemetry "sqlite:$T/no-db-dir/telemetry.db"
expect_refused sqlitedir "Telemetry: directory $T/no-db-dir: No such file or directory"
conf_with sqliteroot Telemetry "sqlite:$T/private/telemetry.db"
expect_refused sqliteroot "Telemetry: directory $T/private not writable by uid $(id -u nobody)"
conf_with piddir PidFile "$T/telemetry-not-here/x.pid"
expect_refused piddir "PidFile: directory $T/telemetry-not-here: No such file or directory"
conf_with pidroot PidFile "$T/private/x.pid"
expect_refused pidroot "PidFile: directory $T/private not writable by uid $(id -u nobody)"
conf_with revcache RevocationCache "$T/no-cache"
expect_refused revcache "RevocationCache: directory $T/no-cache: No such file or directory"
conf_with policy SigningPolicy "$T/private/signing.policy"
expect_refused policy "SigningPolicy: $T/private/signing.policy not readable by uid $(id -u nobody)"
conf_with harvestroot HarvestDirectory "$T/private/harvest"
expect_refused harvestroot "HarvestDirectory: directory $T/private not writable by uid $(id -u nobody)"
conf_with harvestparent HarvestDirectory "$T/no-such/harvest"
expect_refused harvestparent "HarvestDirectory: directory $T/no-such: No such file or directory"
# started as another user (a unit's User=): UserID may only name that user
conf_with other UserID daemon
setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$M" -n -c "$T/other.conf" > "$T/n.out" 2>&1 &&
    fail "as nobody, UserID daemon: -n exit 0"
grep -qF "UserID daemon: started as uid $(id -u nobody), not root, so it cannot switch to it" "$T/n.out" ||
    fail "as nobody, UserID daemon: -n said [$(cat "$T/n.out")]"
checked=$((checked + 1))
setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$M" -n -c "$T/good.conf" > "$T/n.out" 2>&1 ||
    fail "as nobody, UserID nobody: -n: $(cat "$T/n.out")"
echo "1. $checked start-up problems: -n exits 1 with the reason; a start (Syslog yes) exits 1 with it on stderr"

# ---- 2. a good configuration ----
base > "$T/good.conf"
"$M" -n -c "$T/good.conf" > "$T/n.out" 2>&1 || fail "good: -n: $(cat "$T/n.out")"
grep -q "configuration ok (1 trust anchors, authserv-id mx.test)" "$T/n.out" || fail "good: -n said $(cat "$T/n.out")"
[ -e "$T/db/telemetry.db" ] && fail "good: -n created the telemetry database"
# detaching: the parent returns once the daemon serves
timeout 20 "$M" -c "$T/good.conf" > "$T/d.out" 2>&1; rc=$?
[ "$rc" -eq 0 ] || fail "detach: exit status $rc: $(cat "$T/d.out")"
port_open "$PORT" || fail "detach: nothing listens on $PORT when the start returned"
DPID=$(cat "$T/run/smime-milter.pid" 2>/dev/null)
[ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null || fail "detach: pid file does not name a running daemon"
[ -n "$DPID" ] && PIDS="$PIDS $DPID"
[ "$(stat -c %U "$T/run/smime-milter.pid" 2>/dev/null)" = nobody ] ||
    fail "detach: pid file owned by $(stat -c %U "$T/run/smime-milter.pid" 2>/dev/null), want nobody"
# a second start on the same port fails, and says so from the detaching parent
base | sed "s|$T/run/smime-milter.pid|$T/run/second.pid|" > "$T/second.conf"
timeout 20 "$M" -c "$T/second.conf" > "$T/d2.out" 2>&1; rc=$?
[ "$rc" -eq 1 ] || fail "detach, port taken: exit status $rc, want 1"
grep -q "cannot listen on inet:$PORT@127.0.0.1: Address already in use" "$T/d2.out" || fail "detach, port taken: said [$(cat "$T/d2.out")]"
# a failure after detaching (the telemetry database is unusable) is still told
mkdir -p "$T/db2"; chown nobody "$T/db2"; echo "not a database" > "$T/db2/telemetry.db"
chown nobody "$T/db2/telemetry.db"
P3=$(free_port "$PORT")
base | sed -e "s|^Socket .*|Socket inet:$P3@127.0.0.1|" -e "s|$T/db/|$T/db2/|" \
    -e "s|smime-milter.pid|third.pid|" > "$T/third.conf"
timeout 20 "$M" -c "$T/third.conf" > "$T/d3.out" 2>&1; rc=$?
[ "$rc" -eq 1 ] || fail "detach, bad database: exit status $rc, want 1"
grep -q "Telemetry sqlite:$T/db2/telemetry.db" "$T/d3.out" || fail "detach, bad database: said [$(cat "$T/d3.out")]"

# ---- 3. the pid file goes at exit ----
if [ -n "$DPID" ]; then
    kill "$DPID"
    wait_for 50 sh -c "! kill -0 $DPID 2>/dev/null" || fail "detach: daemon did not stop on SIGTERM"
    [ -e "$T/run/smime-milter.pid" ] && fail "pid file left after SIGTERM"
fi

# ---- 4. SIGTERM latency ----
sigterm_ms() { # CONF [SET-UP]: starts in the foreground, SIGTERMs; ELAPSED = ms to exit
    ELAPSED=99999
    "$M" -f -c "$1" >> "$T/fg.log" 2>&1 &
    FPID=$!
    PIDS="$PIDS $FPID"
    wait_for 100 port_open "$PORT" || { fail "sigterm: milter did not start: $(tail -n 3 "$T/fg.log")"; return; }
    [ -n "${2:-}" ] && "$2"
    t0=$(now_ms)
    kill -TERM "$FPID"
    wait "$FPID"; rc=$?
    t1=$(now_ms)
    [ "$rc" -eq 0 ] || fail "sigterm: exit status $rc"
    ELAPSED=$((t1 - t0))
}
sed 's/^Syslog .*/Syslog no/' "$T/good.conf" > "$T/fg.conf"
sigterm_ms "$T/fg.conf"
idle=$ELAPSED
[ "$idle" -lt 2000 ] || fail "sigterm idle: $idle ms, want < 2000"
[ -e "$T/run/smime-milter.pid" ] && fail "sigterm: pid file left"
busy="-"
if [ -x "$LOAD" ]; then
    under_load() {
        "$LOAD" 127.0.0.1 "$PORT" 4 100000 sample-mail/01-multipart-signed-rsa2048.eml > "$T/load.out" 2>&1 &
        LPID=$!
        PIDS="$PIDS $LPID"
        sleep 1
    }
    sigterm_ms "$T/fg.conf" under_load
    busy=$ELAPSED
    [ "$busy" -lt 2000 ] || fail "sigterm under load: $busy ms, want < 2000"
    grep -q "message(s) still being checked at exit" "$T/fg.log" && fail "sigterm under load: a message was cut off"
    kill "$LPID" 2>/dev/null
else
    echo "note: $LOAD not built; SIGTERM under load not measured"
fi
echo "4. SIGTERM to exit: idle $idle ms, with 4 connections sending $busy ms"

# ---- 5. SIGTERM while a message is being checked: its reply goes out first ----
# The signer's revocation responder never answers, so the check waits out
# RevocationTimeout (2 s); SIGTERM comes once the responder has been contacted.
if [ -x "$LOAD" ] && command -v python3 > /dev/null && command -v openssl > /dev/null; then
    python3 tests/blackhole.py 120 > "$T/bh.log" 2>&1 &
    BH_PID=$!
    PIDS="$PIDS $BH_PID"
    bh_ready() { [ -s "$T/bh.log" ]; }
    wait_for 100 bh_ready || fail "black hole did not start"
    BH=$(head -n 1 "$T/bh.log")
    sh tests/revocation/make-pki.sh "$T/rpki" "$BH" "$BH" "$BH" "$BH" > "$T/pki.log" 2>&1 ||
        fail "make-pki: $(tail -n 3 "$T/pki.log")"
    { printf 'From: slow@example.org\r\nTo: bh@example.test\r\nSubject: in flight\r\n'
      printf 'Content-Type: text/plain\r\n\r\nIts revocation responder never answers.\r\n' |
          openssl cms -sign -signer "$T/rpki/leaf-slow.pem" -inkey "$T/rpki/leaf-slow.key" \
              -certfile "$T/rpki/sub.pem" -md sha256; } > "$T/bh.raw" || fail "cannot sign the message"
    sed 's/\r*$/\r/' "$T/bh.raw" > "$T/bh.eml"     # milter-load takes CRLF mail, as an MTA sends it
    chmod 644 "$T/rpki/root.pem"
    sed -e "s|^TrustAnchors .*|TrustAnchors $T/rpki/root.pem|" -e 's/^Syslog .*/Syslog no/' "$T/good.conf" > "$T/bh.conf"
    printf 'Revocation soft\nRevocationTimeout 2\nRevocationAllowPrivate yes\n' >> "$T/bh.conf"
    in_flight() {
        "$LOAD" 127.0.0.1 "$PORT" 1 1 "$T/bh.eml" > "$T/bh-load.out" 2>&1 &
        LPID=$!
        contacted() { grep -q accepted "$T/bh.log"; }
        wait_for 100 contacted || fail "in flight: the responder was never contacted: $(tail -n 3 "$T/fg.log")"
    }
    sigterm_ms "$T/bh.conf" in_flight
    wait "$LPID" 2>/dev/null
    grep -qx 'milter_messages 1' "$T/bh-load.out" && grep -qx 'milter_errors 0' "$T/bh-load.out" &&
        grep -qx 'milter_tagged 1' "$T/bh-load.out" ||
        fail "in flight: the message did not get its reply: $(tr '\n' ' ' < "$T/bh-load.out")"
    [ "$ELAPSED" -lt 5000 ] || fail "in flight: exit took $ELAPSED ms (RevocationTimeout 2 s)"
    [ "$bad" -eq 0 ] && echo "5. SIGTERM during a check: the reply went out (tagged), exit after $ELAPSED ms (RevocationTimeout 2 s)"
    kill "$BH_PID" 2>/dev/null
else
    echo "note: 5. skipped (needs $LOAD, python3 and openssl)"
fi

# ---- 6. the unit's SystemCallFilter: every system call the daemon makes as
# the unit runs it (not root, UserID itself, a local socket, telemetry, -n, a
# message, SIGTERM) is one the filter allows; a forbidden one would kill it ----
UNIT=doc/smime-milter.service
case "$BUILD" in *asan*) NO_STRACE="the unit runs the normal build; LeakSanitizer does not work under ptrace" ;;
                 *) NO_STRACE="" ;; esac
if [ -n "$NO_STRACE" ]; then
    echo "note: 6. skipped for $BUILD ($NO_STRACE)"
elif command -v strace > /dev/null && command -v systemd-analyze > /dev/null &&
   systemd-analyze syscall-filter @system-service > /dev/null 2>&1; then
    expand() { # @group or name...: the system call names, nested groups expanded
        for g in "$@"; do
            case "$g" in
            @*) systemd-analyze syscall-filter "$g" | sed -n 's/^    \([^#].*\)$/\1/p' |
                    while read -r x; do expand "$x"; done ;;
            *) echo "$g" ;;
            esac
        done
    }
    allow=$(sed -n 's/^SystemCallFilter=\([^~].*\)$/\1/p' "$UNIT")
    deny=$(sed -n 's/^SystemCallFilter=~\(.*\)$/\1/p' "$UNIT")
    # shellcheck disable=SC2086
    expand $allow | sort -u > "$T/allowed"
    # shellcheck disable=SC2086
    expand $deny | sort -u > "$T/denied"
    comm -23 "$T/allowed" "$T/denied" > "$T/permitted"
    mkdir -p "$T/unitrun"; chown nobody:nogroup "$T/unitrun"
    base | sed -e "s|^Socket .*|Socket local:$T/unitrun/m.sock|" -e 's/^Syslog .*/Syslog no/' \
               -e "s|^PidFile .*|PidFile $T/unitrun/m.pid|" > "$T/unit.conf"
    as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
    umask 007
    as_nobody strace -f -qq -o "$T/unitrun/strace-n.out" "$M" -n -c "$T/unit.conf" > "$T/unit-n.out" 2>&1 ||
        fail "unit: -n as the unit runs it: $(cat "$T/unit-n.out")"
    as_nobody strace -f -qq -o "$T/unitrun/strace.out" "$M" -f -c "$T/unit.conf" >> "$T/fg.log" 2>&1 &
    SPID=$!
    PIDS="$PIDS $SPID"
    usock() { [ -S "$T/unitrun/m.sock" ]; }
    wait_for 150 usock || fail "unit: no socket"
    umask 022
    # one message over the local socket (milter-load speaks TCP only: a relay)
    if [ -x "$LOAD" ] && command -v python3 > /dev/null; then
        RP=$(free_port "$PORT" "$P3")
        python3 -c '
import socket, sys, threading
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1]))); ls.listen(4)
print("ready", flush=True)
def pipe(a, b):
    while True:
        d = a.recv(65536)
        if not d: break
        b.sendall(d)
    b.shutdown(socket.SHUT_WR)
c, _ = ls.accept()
u = socket.socket(socket.AF_UNIX); u.connect(sys.argv[2])
t = threading.Thread(target=pipe, args=(u, c)); t.start()
pipe(c, u); t.join()' "$RP" "$T/unitrun/m.sock" > "$T/relay.out" 2>&1 &
        RPID=$!
        PIDS="$PIDS $RPID"
        relay_ready() { [ -s "$T/relay.out" ]; }
        wait_for 50 relay_ready || fail "unit: the relay did not start"
        "$LOAD" 127.0.0.1 "$RP" 1 1 sample-mail/01-multipart-signed-rsa2048.eml > "$T/unit-load.out" 2>&1
        grep -qx 'milter_tagged 1' "$T/unit-load.out" || fail "unit: message over the local socket not tagged: $(tr '\n' ' ' < "$T/unit-load.out")"
        kill "$RPID" 2>/dev/null
    fi
    DPID=$(cat "$T/unitrun/m.pid" 2>/dev/null)
    [ -n "$DPID" ] && kill -TERM "$DPID"
    wait "$SPID" || fail "unit: exit status $? under strace"
    calls=$(cat "$T/unitrun/strace-n.out" "$T/unitrun/strace.out" | sed -n 's/^[0-9][0-9]* *\([a-z_0-9]*\)(.*/\1/p' | sort -u)
    printf "%s\n" "$calls" | grep . > "$T/used"
    bad_calls=$(comm -23 "$T/used" "$T/permitted" | tr '\n' ' ')
    [ -z "$bad_calls" ] || fail "unit: SystemCallFilter forbids $bad_calls (the daemon would be killed)"
    [ "$(wc -l < "$T/used")" -gt 20 ] || fail "unit: strace saw only $(wc -l < "$T/used") system calls"
    # MemoryDenyWriteExecute=yes: no mapping both writable and executable
    wx=$(cat "$T/unitrun/strace-n.out" "$T/unitrun/strace.out" | grep -E '(mmap|mprotect|pkey_mprotect)\(' |
        grep -E 'PROT_WRITE\|PROT_EXEC|PROT_EXEC\|PROT_WRITE|PROT_READ\|PROT_WRITE\|PROT_EXEC' | head -n 1)
    [ -z "$wx" ] || fail "unit: MemoryDenyWriteExecute forbids $wx"
    # RestrictAddressFamilies: the sockets made are of the families it lets through
    families=$(sed -n 's/^.*RestrictAddressFamilies=//p' "$UNIT")
    used_fams=$(cat "$T/unitrun/strace-n.out" "$T/unitrun/strace.out" |
        sed -n 's/^[0-9][0-9]* *socket(\(AF_[A-Z0-9]*\).*/\1/p' | sort -u | tr '\n' ' ')
    for fam in $used_fams; do
        case " $families " in *" $fam "*) ;; *) fail "unit: RestrictAddressFamilies forbids socket($fam)" ;; esac
    done
    [ "$bad" -eq 0 ] && echo "6. $(wc -l < "$T/used") distinct system calls as the unit runs the daemon, all allowed by its SystemCallFilter; no W+X mapping; sockets: ${used_fams:-none}"
else
    echo "note: 6. skipped (needs strace and systemd-analyze)"
fi

cat "$T"/*.out "$T"/*.err "$T/fg.log" 2>/dev/null |
    grep -q 'ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer' && fail "sanitizer report"
[ "$bad" -eq 0 ] && echo "check-startup: all passed"
[ "$bad" -eq 0 ]
