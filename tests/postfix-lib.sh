# tests/postfix-lib.sh - shared set-up of the tests that run smime-milter behind a
# private Postfix on loopback (tests/check-postfix.sh, tests/check-load.sh,
# tests/check-faults.sh).  Sourced, not run.
#
# Before sourcing, the caller sets
#   T        a fresh temporary directory (removed on exit by pf_cleanup)
#   MILTER   the smime-milter binary
#   FAILED=0 MILTER_PID=""
# and after sourcing it calls `trap pf_cleanup EXIT`.  A caller with more to stop
# defines extra_cleanup(); pf_cleanup runs it first.
#
# The Postfix instance (pf_write_config, pf_start) has its own config, queue and
# data directories under $T; loopback only; no DNS; virtual delivery into the
# Maildir $T/mail/all/ (the Delivered-To header says for whom).  Two listeners:
#   INJECT  no milter; every message goes back out through the queue
#           (content_filter) to FILTER - the path on which Postfix must defer,
#           and later deliver, what the milter could not check;
#   FILTER  smtpd_milters = the milter; milter_default_action = tempfail.
# Every wait is bounded.

fail() { echo "FAIL: $*"; FAILED=1; }
die() { echo "FATAL: $*"; exit 1; }

PF="postfix -c $T/etc"

pf_need() { # checks what every Postfix test needs
    [ "$(id -u)" -eq 0 ] || die "must run as root (it starts a private Postfix)"
    command -v postfix >/dev/null || die "postfix not installed (sh tools/deps.sh)"
    command -v swaks >/dev/null || die "swaks not installed (sh tools/deps.sh)"
    [ -x "$MILTER" ] || die "$MILTER not built"
}

pf_cleanup() {
    command -v extra_cleanup >/dev/null 2>&1 && extra_cleanup
    [ -n "$MILTER_PID" ] && kill "$MILTER_PID" 2>/dev/null
    $PF stop >/dev/null 2>&1
    # master may need a moment; then make sure nothing of ours is left
    i=0
    while [ -f "$T/queue/pid/master.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    if [ -f "$T/queue/pid/master.pid" ]; then
        kill -9 "$(tr -d ' ' < "$T/queue/pid/master.pid")" 2>/dev/null
    fi
    if [ "$FAILED" -ne 0 ]; then
        echo "--- milter log (last 60 lines)"; tail -n 60 "$T/milter.log" 2>/dev/null
        echo "--- postfix log (last 40 lines)"; tail -n 40 "$T/maillog" 2>/dev/null
    fi
    rm -rf "$T"
}

# Free TCP ports on 127.0.0.1 (bash's /dev/tcp is the portable probe on Debian).
port_open() { bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
pick_port() {
    p=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 20000 + 30000 ))
    while port_open "$p"; do p=$((p + 1)); done
    echo "$p"
}
wait_for() { # TIMEOUT_TENTHS COMMAND...: polls every 0.1 s
    limit=$1; shift
    n=0
    until "$@"; do
        n=$((n + 1)); [ $n -ge "$limit" ] && return 1
        sleep 0.1
    done
}
pf_pick_ports() { # sets MPORT (the milter), INJECT and FILTER (Postfix)
    MPORT=$(pick_port)
    INJECT=$(pick_port); [ "$INJECT" = "$MPORT" ] && INJECT=$((INJECT + 1))
    FILTER=$((INJECT + 1))
    while port_open "$FILTER" || [ "$FILTER" = "$MPORT" ]; do FILTER=$((FILTER + 1)); done
}

# The milter's directories: spool and run (pid file, telemetry) owned by nobody,
# the sample-mail trust anchors, the Maildir root for the virtual agent.
pf_milter_dirs() {
    mkdir -p "$T/milter/spool" "$T/milter/run" "$T/mail"
    cp sample-mail/pki/trust-anchors.pem "$T/milter/anchors.pem"
    chown nobody "$T/milter/spool" "$T/milter/run"
    chown nobody:nogroup "$T/mail"
}

# start_milter: runs $MILTER in the foreground on $MILTER_CONF (default
# $T/milter/smime-milter.conf), logging to $T/milter.log; waits for its port.
start_milter() {
    "$MILTER" -f -c "${MILTER_CONF:-$T/milter/smime-milter.conf}" >>"$T/milter.log" 2>&1 &
    MILTER_PID=$!
    wait_for 100 port_open "$MPORT" || { fail "milter did not start"; exit 1; }
}
milter_alive() { kill -0 "$MILTER_PID" 2>/dev/null; }

pf_write_config() { # main.cf and master.cf for $INJECT, $FILTER -> milter $MPORT
    mkdir -p "$T/etc" "$T/queue" "$T/data"
    chown postfix "$T/data"
    cat > "$T/etc/main.cf" <<EOF
compatibility_level = 3.6
config_directory = $T/etc
queue_directory = $T/queue
data_directory = $T/data
maillog_file = $T/maillog
maillog_file_prefixes = $T
myhostname = mx.test
mydomain = test
myorigin = mx.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
disable_dns_lookups = yes
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtp_host_lookup = native
biff = no
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = example.test
virtual_mailbox_base = $T/mail
virtual_mailbox_maps = static:all/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
message_size_limit = 10240000
smtpd_milters = inet:127.0.0.1:$MPORT
milter_default_action = tempfail
milter_protocol = 6
milter_connect_timeout = 5s
milter_command_timeout = 10s
milter_content_timeout = 30s
# retry deferred mail soon; the test also flushes the queue explicitly
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
smtp_connect_timeout = 5s
EOF
    cat > "$T/etc/master.cf" <<EOF
127.0.0.1:$INJECT inet n - n - - smtpd
  -o smtpd_milters=
  -o content_filter=relay:[127.0.0.1]:$FILTER
127.0.0.1:$FILTER inet n - n - - smtpd
  -o myhostname=filter.mx.test
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 1  1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
local     unix  - n n -  - local
virtual   unix  - n n -  - virtual
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
}

pf_start() { # checks the configuration, starts Postfix, waits for both listeners
    $PF check >"$T/postfix-check.log" 2>&1 || { cat "$T/postfix-check.log"; fail "postfix check"; exit 1; }
    $PF start >>"$T/postfix-check.log" 2>&1 || { cat "$T/postfix-check.log"; fail "postfix start"; exit 1; }
    wait_for 100 port_open "$FILTER" || { fail "postfix did not listen on $FILTER"; exit 1; }
    wait_for 100 port_open "$INJECT" || { fail "postfix did not listen on $INJECT"; exit 1; }
}

# send PORT RCPT FILE: one SMTP transaction; the transcript goes to $T/swaks.out.
send() {
    swaks --server 127.0.0.1 --port "$1" --from sender@example.org --to "$2@example.test" \
          --helo client.test --data "@$3" --timeout 30 >"$T/swaks.out" 2>&1
}
# Every message lands in the Maildir $T/mail/all/; the Delivered-To header that the
# virtual delivery agent puts on top says for whom.
delivered_files() { # LOCALPART
    [ -d "$T/mail/all/new" ] || return 0
    grep -l -i "^Delivered-To: $1@example\.test" "$T/mail/all/new/"* 2>/dev/null
}
delivered_count() { delivered_files "$1" | wc -l; }
has_delivery() { [ "$(delivered_count "$1")" -ge "${2:-1}" ]; }
# The header section of a delivered message, folded lines joined with one space.
headers_of() { # FILE
    awk 'BEGIN { h = "" }
         /^\r?$/ { exit }
         /^[ \t]/ { sub(/^[ \t]+/, " "); sub(/\r$/, ""); h = h $0; next }
         { sub(/\r$/, ""); if (h != "") print h; h = $0 }
         END { if (h != "") print h }' "$1"
}
# The smime= results of our Authentication-Results header in one delivered file.
our_results() { # FILE
    headers_of "$1" | grep -i '^Authentication-Results: mx\.test;' |
        grep -o '; smime=[a-z]*' | sed 's/; smime=//' | tr '\n' ' ' | sed 's/ $//'
}
queue_size() { postqueue -c "$T/etc" -j 2>/dev/null | grep -c queue_id; }
