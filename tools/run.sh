#!/bin/sh
# `make run`: the milter in the foreground on inet:8894@127.0.0.1, trusting the
# sample-mail anchors, logging to the terminal.  First every sample message is
# checked offline (-t) so the headers it would add are on screen; then the daemon
# starts and waits for an MTA (see README.md, "The milter").  Ctrl-C stops it.
set -u
BUILD=${1:-build}
CONF="$BUILD/smime-milter-run.conf"
cat > "$CONF" <<EOF_CONF
# written by tools/run.sh
Socket              inet:8894@127.0.0.1
AuthservID          smime-milter.localhost
TrustAnchors        $(pwd)/sample-mail/pki/trust-anchors.pem
Syslog              no
LogWhy              yes
TemporaryDirectory  /tmp
EOF_CONF
# the daemon refuses to keep root: as root, switch to nobody after binding
[ "$(id -u)" -eq 0 ] && echo "UserID              nobody" >> "$CONF"
"$BUILD/smime-milter" -c "$CONF" -n || exit 1
"$BUILD/smime-milter" -c "$CONF" -t sample-mail/*.eml || exit 1
echo "== smime-milter listening on inet:8894@127.0.0.1 (Ctrl-C stops it)"
exec "$BUILD/smime-milter" -f -c "$CONF"
