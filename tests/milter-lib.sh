# tests/milter-lib.sh - starts smime-milter on loopback with the sample trust
# anchors and waits until a message goes through it, for the callers that drive
# it with bench/milter-load and no MTA (tests/check-milter-protocol.sh,
# bench/run.sh).  Sourced, not run.
#
#   milter_up BUILD DIR AUTHSERV_ID PORT
# writes DIR/milter.conf, runs BUILD/smime-milter in the foreground with its log
# in DIR/milter.log, sets MILTER_PID, and sends one sample message until it comes
# back (10 s at most).  Returns 0, or 1 with the probe's output and the end of the
# log on standard error.  The caller stops MILTER_PID.

milter_up() {
    _build=$1 _dir=$2 _servid=$3 _port=$4
    cat > "$_dir/milter.conf" <<EOF_CONF
Socket       inet:$_port@127.0.0.1
AuthservID   $_servid
TrustAnchors $(pwd)/sample-mail/pki/trust-anchors.pem
Syslog       no
EOF_CONF
    # the daemon refuses to keep root: as root, it switches to nobody after binding
    [ "$(id -u)" -eq 0 ] && echo "UserID nobody" >> "$_dir/milter.conf"
    "$_build/smime-milter" -c "$_dir/milter.conf" -f > "$_dir/milter.log" 2>&1 &
    MILTER_PID=$!
    _i=0
    until "$_build/bench/milter-load" 127.0.0.1 "$_port" 1 1 sample-mail/01-multipart-signed-rsa2048.eml \
            > "$_dir/probe" 2>&1; do
        _i=$((_i + 1))
        if [ $_i -ge 100 ] || ! kill -0 "$MILTER_PID" 2>/dev/null; then
            echo "no message through the milter: $(tail -n 3 "$_dir/probe"); milter log: $(tail -n 5 "$_dir/milter.log")" >&2
            return 1
        fi
        sleep 0.1
    done
    return 0
}
