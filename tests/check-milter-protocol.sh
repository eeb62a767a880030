#!/bin/sh
# The milter protocol without an MTA: bench/milter-load drives smime-milter on
# loopback as an MTA would, once offering every protocol option (the milter then
# takes no-reply headers, end of headers and body) and once offering none, as an
# MTA older than protocol 6 does (libmilter then answers those steps for us).
# Either way every message must come back answered and tagged, none lost.
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
port=$((30000 + $$ % 20000))
cat > "$T/milter.conf" <<EOF_CONF
Socket       inet:$port@127.0.0.1
AuthservID   protocol.test
TrustAnchors $(pwd)/$S/pki/trust-anchors.pem
Syslog       no
EOF_CONF
[ "$(id -u)" -eq 0 ] && echo "UserID nobody" >> "$T/milter.conf"
"$M" -c "$T/milter.conf" -f > "$T/milter.log" 2>&1 &
MPID=$!
i=0
until "$LOAD" 127.0.0.1 "$port" 1 1 "$S/01-multipart-signed-rsa2048.eml" > /dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -ge 100 ] || ! kill -0 "$MPID" 2>/dev/null; then
        echo "FAIL: milter did not start: $(cat "$T/milter.log")"
        exit 1
    fi
    sleep 0.1
done

# field NAME FILE: a "name value" line of milter-load's output
field() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

# run NAME OFFER MESSAGES: drive 4 connections and check every message came back
run() {
    "$LOAD" -p "$2" 127.0.0.1 "$port" 4 "$3" $MIX > "$T/$1.out" 2>&1 ||
        fail "$1: milter-load: $(tail -n 3 "$T/$1.out")"
    for k in milter_messages milter_tagged milter_accepted; do
        [ "$(field $k "$T/$1.out")" = "$3" ] || fail "$1: $k is $(field $k "$T/$1.out"), want $3"
    done
    [ "$(field milter_errors "$T/$1.out")" = 0 ] || fail "$1: protocol errors"
}

# SMFIP_NR_HDR 0x80, SMFIP_NR_EOH 0x40000, SMFIP_NR_BODY 0x80000 (libmilter/mfdef.h)
NR=$((0x80 | 0x40000 | 0x80000))
run full 0x1fffff 200
steps=$(field milter_steps "$T/full.out")
[ $(( steps & NR )) -eq $NR ] || fail "full offer: no-reply steps not taken (steps $steps)"
# connect and MAIL may refuse; DATA stays answered (see cb_data in milter/callbacks.c)
[ $(( steps & (0x1000 | 0x4000 | 0x10000) )) -eq 0 ] || fail "full offer: no reply asked where the milter decides (steps $steps)"
echo "1. every option offered: 200 messages answered and tagged (steps $steps)"

run old 0 200
steps=$(field milter_steps "$T/old.out")
[ $(( steps & NR )) -eq 0 ] || fail "no option offered: milter still asks for $steps"
echo "2. no option offered (pre-6 MTA): 200 messages answered and tagged (steps $steps)"

# the forged Authentication-Results claiming our authserv-id is removed in both
grep -c 'removed=1' "$T/milter.log" > "$T/removed"
[ "$(cat "$T/removed")" -ge 80 ] || fail "forged header removals logged: $(cat "$T/removed"), want 80"

kill -0 "$MPID" 2>/dev/null || fail "milter died"
if [ "$bad" -eq 0 ]; then echo "check-milter-protocol: all passed"; else echo "check-milter-protocol: $bad failed"; fi
[ "$bad" -eq 0 ]
