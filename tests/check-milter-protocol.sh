#!/bin/sh
# The milter protocol without an MTA: bench/milter-load drives smime-milter on
# loopback as an MTA would, once offering every protocol option (the milter then
# takes MAIL, headers, end of headers and body without replies) and once offering
# none and sending no DATA step, as an MTA older than protocol 6 does (libmilter
# then answers those steps for us, and the message begins at its first header).
# Either way every message must come back answered and tagged, none lost.  Then
# SkipAuthenticated, with the {auth_authen} macro Postfix sends for a SASL client.
# Figures are not judged here: speed belongs to make bench.
set -u
BUILD=${1:?usage: check-milter-protocol.sh BUILD_DIR}
M="$BUILD/smime-milter"
LOAD="$BUILD/bench/milter-load"
for b in "$M" "$LOAD"; do [ -x "$b" ] || { echo "FAIL: $b not built"; exit 1; }; done
T=$(mktemp -d) || exit 1
chmod 755 "$T"
MPID=""
trap '[ -n "$MPID" ] && kill "$MPID" 2>/dev/null; rm -rf "$T"' EXIT
bad=0
fail() { echo "FAIL: $*"; bad=$((bad + 1)); }

S=sample-mail
# one message carries an Authentication-Results header forged with our authserv-id
{ printf 'Authentication-Results: protocol.test; smime=pass\r\n'; cat "$S/30-tampered-body.eml"; } \
    > "$T/forged.eml"
MIX="$S/01-multipart-signed-rsa2048.eml $S/11-ecdsa-p256.eml $S/14-ed25519.eml
$S/51-body-500k-p256.eml $T/forged.eml"
for f in $MIX; do [ -f "$f" ] || { echo "FAIL: $f missing"; exit 1; }; done
. tests/port-lib.sh
port=$(free_port)
. tests/milter-lib.sh
milter_up "$BUILD" "$T" protocol.test "$port" 2> "$T/up"
up=$?
MPID=$MILTER_PID
[ $up -eq 0 ] || { echo "FAIL: $(cat "$T/up")"; exit 1; }

# field NAME FILE: a "name value" line of milter-load's output
field() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

# run NAME OFFER MESSAGES TAGGED [MACRO]: drive 4 connections; every message must
# come back accepted, TAGGED of them with our Authentication-Results
run() {
    "$LOAD" -p "$2" ${5:+-m "$5"} 127.0.0.1 "$port" 4 "$3" $MIX > "$T/$1.out" 2>&1 ||
        fail "$1: milter-load: $(tail -n 3 "$T/$1.out")"
    for k in milter_messages milter_accepted; do
        [ "$(field $k "$T/$1.out")" = "$3" ] || fail "$1: $k is $(field $k "$T/$1.out"), want $3"
    done
    [ "$(field milter_tagged "$T/$1.out")" = "$4" ] ||
        fail "$1: $(field milter_tagged "$T/$1.out") tagged, want $4"
    [ "$(field milter_errors "$T/$1.out")" = 0 ] || fail "$1: protocol errors"
}

# SMFIP_NR_MAIL 0x4000, SMFIP_NR_HDR 0x80, SMFIP_NR_EOH 0x40000, SMFIP_NR_BODY
# 0x80000 (libmilter/mfdef.h)
NR=$((0x4000 | 0x80 | 0x40000 | 0x80000))
run full 0x1fffff 200 200
steps=$(field milter_steps "$T/full.out")
[ $(( steps & NR )) -eq $NR ] || fail "full offer: no-reply steps not taken (steps $steps)"
# connect may refuse and DATA decides (see cb_data in milter/callbacks.c)
[ $(( steps & (0x1000 | 0x10000) )) -eq 0 ] || fail "full offer: no reply asked where the milter decides (steps $steps)"
echo "1. every option offered: 200 messages answered and tagged (steps $steps)"

# an MTA offering nothing sends no DATA step either: the message begins with its
# first header
run old 0 200 200
steps=$(field milter_steps "$T/old.out")
[ $(( steps & NR )) -eq 0 ] || fail "no option offered: milter still asks for $steps"
echo "2. no option offered, no DATA step (pre-6 MTA): 200 messages answered and tagged (steps $steps)"

# the forged Authentication-Results claiming our authserv-id is removed in both
grep -c 'removed=1' "$T/milter.log" > "$T/removed"
[ "$(cat "$T/removed")" -ge 80 ] || fail "forged header removals logged: $(cat "$T/removed"), want 80"

# SkipAuthenticated: a client the MTA says is authenticated is accepted unchecked
# (at DATA, or at end of message from an MTA without DATA); others are checked
echo "SkipAuthenticated yes" >> "$T/milter.conf"
kill -HUP "$MPID"
i=0
until grep -q reloaded "$T/milter.log"; do
    i=$((i + 1)); [ $i -lt 50 ] || { fail "no reload after SIGHUP"; break; }
    sleep 0.1
done
run auth 0x1fffff 100 0 '{auth_authen}=alice'
run auth-old 0 100 0 '{auth_authen}=alice'
run unauth 0x1fffff 100 100
n=$(grep -c 'authenticated client, not checked' "$T/milter.log")
[ "$n" -eq 200 ] || fail "SkipAuthenticated: $n messages logged as not checked, want 200"
echo "3. SkipAuthenticated: 200 authenticated messages accepted unchecked, 100 others checked"

kill -0 "$MPID" 2>/dev/null || fail "milter died"
if [ "$bad" -eq 0 ]; then echo "check-milter-protocol: all passed"; else echo "check-milter-protocol: $bad failed"; fi
[ "$bad" -eq 0 ]
