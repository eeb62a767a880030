#!/bin/sh
# `make run`: the milter in the foreground on inet:8894@127.0.0.1, logging to the
# terminal.  First the demo mail (tools/make-demo-mail.sh: an SBR-clean PKI made
# for today, kept in BUILD/demo/) is checked offline (-t) so the headers the
# milter would add are on screen; then the daemon starts and waits for an MTA
# (see README.md, "The milter").  It trusts the demo root and the sample-mail/
# test root (a directory of both), so mail from either verifies.  Ctrl-C stops it.
#
# sample-mail/ is left out of the -t run: it is the long-lived test PKI, which
# breaks two SBR rules on purpose (see sample-mail/MANIFEST).
set -u
BUILD=${1:-build}
DEMO="$BUILD/demo"
ANCHORS="$BUILD/run-anchors"
CONF="$BUILD/smime-milter-run.conf"

# The demo set expires (its leaves are valid 730 days), so it is remade when it
# is missing, older than 30 days, older than its generator (or the library it
# sources), or a leaf expires within 60 days.
demo_stale() {
    [ -f "$DEMO/MANIFEST" ] || return 0
    [ -n "$(find tools/make-demo-mail.sh tools/sample-mail-lib.sh -newer "$DEMO/MANIFEST")" ] && return 0
    [ -n "$(find "$DEMO/MANIFEST" -mtime +30)" ] && return 0
    for leaf in "$DEMO"/pki/*.pem; do
        case $leaf in */root-ca.pem|*/smime-ca.pem|*/trust-anchors.pem) continue ;; esac
        openssl x509 -in "$leaf" -noout -checkend $((60 * 86400)) >/dev/null 2>&1 || return 0
    done
    return 1
}
if demo_stale; then
    echo "== making the demo mail in $DEMO (tools/make-demo-mail.sh)"
    sh tools/make-demo-mail.sh "$DEMO" || exit 1
fi

rm -rf "$ANCHORS"
mkdir -p "$ANCHORS" || exit 1
cp "$DEMO/pki/trust-anchors.pem" "$ANCHORS/demo-root.pem" || exit 1
cp sample-mail/pki/trust-anchors.pem "$ANCHORS/sample-mail-test-root.pem" || exit 1
chmod 0755 "$ANCHORS" && chmod 0644 "$ANCHORS"/*.pem || exit 1
case $ANCHORS in /*) ANCHORS_PATH=$ANCHORS ;; *) ANCHORS_PATH=$(pwd)/$ANCHORS ;; esac

cat > "$CONF" <<EOF_CONF
# written by tools/run.sh
Socket              inet:8894@127.0.0.1
AuthservID          smime-milter.localhost
TrustAnchors        $ANCHORS_PATH
Syslog              no
LogWhy              yes
TemporaryDirectory  /tmp
EOF_CONF
# the daemon refuses to keep root: as root, switch to nobody after binding
[ "$(id -u)" -eq 0 ] && echo "UserID              nobody" >> "$CONF"
"$BUILD/smime-milter" -c "$CONF" -n || exit 1
echo "== the demo mail ($DEMO/MANIFEST), as the milter would tag it:"
"$BUILD/smime-milter" -c "$CONF" -t "$DEMO"/*.eml || exit 1
echo "== (the test samples, which break two SBR rules on purpose: $BUILD/smime-milter -c $CONF -t sample-mail/*.eml)"
echo "== smime-milter listening on inet:8894@127.0.0.1 (Ctrl-C stops it)"
exec "$BUILD/smime-milter" -f -c "$CONF"
