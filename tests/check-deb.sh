#!/bin/sh
# The Debian package, as an admin gets it: built from (a copy of) this tree with
# `make deb` (dpkg-buildpackage -us -uc -b), lintian without errors, installed with
# `apt-get install ./smime-milter_*.deb` on this machine, then checked:
#   - the system user and group smime-milter, /var/lib/smime-milter owned by it
#     (0750), the anchors directory, /etc/smime-milter.conf a conffile, the unit
#     installed and enabled, `systemd-analyze verify` clean (skipped, saying so,
#     where systemd-analyze is missing), the man pages, the programs;
#   - the installed daemon run exactly as the unit's ExecStartPre and ExecStart
#     (same command lines, as the unit's User= and UMask=; not systemd's
#     sandbox) after the admin's steps of README (Install): two lines of the
#     configuration and the anchors; one message through the private Postfix of
#     tests/postfix-lib.sh comes out with our Authentication-Results header;
#   - `apt-get purge`: package, configuration, state and unit gone.
# Needs root, dpkg-dev, debhelper, fakeroot, lintian, Postfix and swaks
# (tools/deps.sh).  It installs and purges the package smime-milter on this
# machine, so it refuses to run where smime-milter is installed and was not
# installed by an earlier run of this test.  Normal build only: the package
# builds its own binaries, so an ASan run would test nothing new.
set -u
BUILD=${1:?usage: check-deb.sh BUILD_DIR}
case "$BUILD" in *asan*) echo "check-deb: skipped for $BUILD (the package builds its own binaries)"; exit 0 ;; esac
ROOT=$(pwd)
T=$(mktemp -d /tmp/smime-deb.XXXXXX) || { echo "FATAL: mktemp"; exit 1; }
chmod 755 "$T"
FAILED=0
MILTER_PID=""
MILTER="/usr/sbin/smime-milter"
MARK=/var/lib/smime-milter/.installed-by-check-deb
. tests/postfix-lib.sh
installed() { dpkg-query -W -f='${Status}' smime-milter 2>/dev/null | grep -q 'install ok installed'; }
present() { dpkg-query -W -f='${Status}' smime-milter 2>/dev/null | grep -qv 'not-installed'; }
APT="apt-get -o DPkg::Lock::Timeout=900 -y -q"
extra_cleanup() {
    # whatever happened, the machine is left without our package
    if [ -n "$MILTER_PID" ]; then kill "$MILTER_PID" 2>/dev/null; wait "$MILTER_PID" 2>/dev/null; MILTER_PID=""; fi
    if [ "${OURS:-0}" -eq 1 ] && present; then
        env DEBIAN_FRONTEND=noninteractive $APT purge smime-milter > "$T/purge-cleanup.log" 2>&1 ||
            echo "WARNING: could not purge smime-milter: $(tail -n 3 "$T/purge-cleanup.log")"
    fi
}
trap pf_cleanup EXIT
trap 'exit 1' INT TERM HUP
[ "$(id -u)" -eq 0 ] || die "must run as root (it installs a package)"
for c in dpkg-buildpackage dh fakeroot lintian apt-get postfix swaks setpriv; do
    command -v "$c" > /dev/null || die "$c not installed (sh tools/deps.sh)"
done
OURS=0
if present; then
    [ -e "$MARK" ] || die "smime-milter is installed on this machine (not by this test): remove it first"
fi
OURS=1

# ---- build, from a copy of the tree (the build leaves files in ../) ----
SRC="$T/src/smime-milter"
mkdir -p "$SRC"
if git rev-parse --git-dir > /dev/null 2>&1; then
    git ls-files -co --exclude-standard | tar -cf - -T - | (cd "$SRC" && tar -xf -)
else
    tar -cf - --exclude='./build*' --exclude=./debian/smime-milter . | (cd "$SRC" && tar -xf -)
fi
t0=$(date +%s)
(cd "$SRC" && nice make deb) > "$T/build.log" 2>&1 ||
    { tail -n 30 "$T/build.log"; fail "make deb"; exit 1; }
t1=$(date +%s)
DEB=$(ls "$T"/src/smime-milter_*_*.deb 2>/dev/null | head -n 1)
[ -f "$DEB" ] || { fail "no .deb built"; exit 1; }
echo "built $(basename "$DEB") in $((t1 - t0)) s"
lintian --fail-on error --tag-display-limit 0 "$DEB" > "$T/lintian.out" 2>&1; rc=$?
grep -v 'running with root privileges' "$T/lintian.out" | sed 's/^/    lintian: /'
[ "$rc" -eq 0 ] || fail "lintian reports errors"
echo "lintian: $(grep -c '^E: ' "$T/lintian.out") errors, $(grep -c '^W: ' "$T/lintian.out") warnings"
grep -q '^E: ' "$T/lintian.out" && fail "lintian: $(grep -c '^E: ' "$T/lintian.out") error(s)"

# ---- install as an admin does ----
env DEBIAN_FRONTEND=noninteractive $APT install "$DEB" > "$T/install.log" 2>&1 ||
    { tail -n 20 "$T/install.log"; fail "apt-get install ./$(basename "$DEB")"; exit 1; }
installed || { fail "not installed after apt-get install"; exit 1; }
: > "$MARK"

# the user, the group, the state directory
pw=$(getent passwd smime-milter) || fail "no user smime-milter"
uid=$(echo "$pw" | cut -d: -f3)
[ -n "$uid" ] && [ "$uid" -lt 1000 ] || fail "smime-milter is not a system user (uid $uid)"
case "$(echo "$pw" | cut -d: -f7)" in */nologin|/bin/false) ;; *) fail "smime-milter has a login shell: $pw" ;; esac
getent group smime-milter > /dev/null || fail "no group smime-milter"
[ "$(stat -c '%U:%G %a' /var/lib/smime-milter 2>/dev/null)" = "smime-milter:smime-milter 750" ] ||
    fail "/var/lib/smime-milter: $(stat -c '%U:%G %a' /var/lib/smime-milter 2>&1), want smime-milter:smime-milter 750"
[ -d /etc/smime-milter/anchors ] || fail "no /etc/smime-milter/anchors"
# the configuration is a conffile
dpkg-query -W -f='${Conffiles}\n' smime-milter | grep -q '^ /etc/smime-milter.conf ' ||
    fail "/etc/smime-milter.conf is not a conffile: $(dpkg-query -W -f='${Conffiles}' smime-milter)"
# the unit: installed, enabled at boot, valid
UNIT=/lib/systemd/system/smime-milter.service
[ -f "$UNIT" ] || fail "no $UNIT"
[ -L /etc/systemd/system/multi-user.target.wants/smime-milter.service ] || fail "the unit is not enabled"
if command -v systemd-analyze > /dev/null; then
    [ -d /run/systemd/system ] || echo "note: systemd is not PID 1 here; systemd-analyze verify runs offline"
    systemd-analyze verify "$UNIT" > "$T/verify.out" 2>&1 || fail "systemd-analyze verify: $(cat "$T/verify.out")"
    [ -s "$T/verify.out" ] && fail "systemd-analyze verify says: $(cat "$T/verify.out")"
else
    echo "note: systemd-analyze not available; unit not verified"
fi
# the man pages (found by man, and rendered without warnings), the programs
for page in smime-milter.8 smime-milter.conf.5 smime-verify.1 smime-lint.1 smime-telemetry.1 smime-revcheck.1; do
    f=/usr/share/man/man${page##*.}/$page.gz
    [ -f "$f" ] || { fail "no man page $f"; continue; }
    w=$(zcat "$f" | groff -man -Tutf8 -z -Wbreak 2>&1)
    [ -z "$w" ] || fail "$page: groff: $w"
    man -w "${page%.*}" > /dev/null 2>&1 || fail "man does not find ${page%.*}"
done
[ -x /usr/sbin/smime-milter ] || fail "no /usr/sbin/smime-milter"
for t in smime-verify smime-lint smime-telemetry smime-revcheck; do
    [ -x "/usr/bin/$t" ] || fail "no /usr/bin/$t"
done
/usr/sbin/smime-milter -V > /dev/null || fail "smime-milter -V"

# ---- the admin's steps (README, Install), with a free port instead of 8894 ----
pf_pick_ports
cp sample-mail/pki/trust-anchors.pem /etc/smime-milter/anchors/sample.pem
sed -i -e "s|^Socket .*|Socket              inet:$MPORT@127.0.0.1|" \
       -e "s|^AuthservID .*|AuthservID          mx.test|" /etc/smime-milter.conf
# what the unit says, run as it runs it
unit_value() { sed -n "s/^$1=//p" "$UNIT" | head -n 1; }
USER_=$(unit_value User); UMASK_=$(unit_value UMask)
PRE=$(unit_value ExecStartPre); START=$(unit_value ExecStart)
[ "$USER_" = smime-milter ] || fail "unit User=$USER_"
[ "$START" = "/usr/sbin/smime-milter -f -c /etc/smime-milter.conf" ] || fail "unit ExecStart=$START"
# RuntimeDirectory= would make this
install -d -o smime-milter -g smime-milter -m 0750 /run/smime-milter
# the command lines are split on blanks, as systemd does for these simple ones;
# the subshell execs setpriv, which execs the daemon: $! is the daemon's pid
# shellcheck disable=SC2086
(umask "$UMASK_" && exec setpriv --reuid="$USER_" --regid="$USER_" --init-groups -- $PRE) > "$T/pre.out" 2>&1 ||
    fail "ExecStartPre ($PRE): $(cat "$T/pre.out")"
grep -q 'configuration ok (1 trust anchors, authserv-id mx.test)' "$T/pre.out" || fail "ExecStartPre said: $(cat "$T/pre.out")"
# shellcheck disable=SC2086
(umask "$UMASK_" && exec setpriv --reuid="$USER_" --regid="$USER_" --init-groups -- $START) >> "$T/milter.log" 2>&1 &
MILTER_PID=$!
wait_for 100 port_open "$MPORT" || { fail "the installed daemon did not listen on $MPORT: $(cat "$T/milter.log")"; exit 1; }
[ "$(stat -c %U "/proc/$MILTER_PID")" = smime-milter ] || fail "the daemon runs as $(stat -c %U "/proc/$MILTER_PID")"

mkdir -p "$T/mail"; chown nobody:nogroup "$T/mail"
pf_write_config
pf_start
send "$FILTER" deb sample-mail/01-multipart-signed-rsa2048.eml || fail "SMTP refused: $(grep '<\*\*' "$T/swaks.out")"
if wait_for 150 has_delivery deb; then
    f=$(delivered_files deb | head -n 1)
    [ "$(our_results "$f")" = pass ] || fail "delivered with smime=[$(our_results "$f")], want pass"
    headers_of "$f" | grep '^Authentication-Results: mx\.test;' | sed 's/^/    /' | cut -c1-160
else
    fail "message not delivered"
fi
stop_daemon() {
    kill "$MILTER_PID"
    wait_for 50 sh -c "! kill -0 $MILTER_PID 2>/dev/null" || fail "the installed daemon did not stop on SIGTERM"
    wait "$MILTER_PID" 2>/dev/null; MILTER_PID=""
    pgrep -u smime-milter -x smime-milter > /dev/null && fail "a smime-milter process of user smime-milter is left"
}
stop_daemon
echo "recipe TCP (Socket inet:PORT@127.0.0.1, smtpd_milters = inet:127.0.0.1:PORT): done"

# ---- the local-socket recipes of smime-milter(8): one socket directory in
# Postfix's queue directory (here $T/queue, /var/spool/postfix there), owned by
# smime-milter, group postfix, set-group-ID so that the socket is postfix's
# group (Postfix's daemons keep no supplementary groups) ----
SD="$T/queue/smime-milter"
install -d -o smime-milter -g postfix -m 2750 "$SD"
sed -i "s|^Socket .*|Socket              local:$SD/smime-milter.sock|" /etc/smime-milter.conf
# shellcheck disable=SC2086
(umask "$UMASK_" && exec setpriv --reuid="$USER_" --regid="$USER_" --init-groups -- $START) >> "$T/milter.log" 2>&1 &
MILTER_PID=$!
sock_ready() { [ -S "$SD/smime-milter.sock" ]; }
wait_for 100 sock_ready || fail "local socket $SD/smime-milter.sock not made: $(tail -n 3 "$T/milter.log")"
[ "$(stat -c '%U:%G %a' "$SD/smime-milter.sock" 2>/dev/null)" = "smime-milter:postfix 770" ] ||
    fail "socket is $(stat -c '%U:%G %a' "$SD/smime-milter.sock" 2>&1), want smime-milter:postfix 770"
recipe() { # NAME: one message through FILTER, delivered with smime=pass
    $PF reload > /dev/null 2>&1 || fail "postfix reload for $1"
    sleep 1                                # the master restarts its services
    send "$FILTER" "$1" sample-mail/01-multipart-signed-rsa2048.eml || fail "$1: SMTP refused: $(grep '<\*\*' "$T/swaks.out")"
    if wait_for 150 has_delivery "$1"; then
        got=$(our_results "$(delivered_files "$1" | head -n 1)")
        [ "$got" = pass ] || fail "$1: delivered with smime=[$got], want pass"
    else
        fail "$1: message not delivered"
    fi
}
# Postfix not chrooted: the socket's full path
postconf -c "$T/etc" -e "smtpd_milters = unix:$SD/smime-milter.sock"
recipe unchrooted
[ "$FAILED" -eq 0 ] && echo "recipe Postfix not chrooted (smtpd_milters = unix:/var/spool/postfix/smime-milter/smime-milter.sock): done"
# Postfix chrooted (Debian's default for smtpd): the path inside the chroot
sed -i "s|^127.0.0.1:$FILTER inet n - n - - smtpd|127.0.0.1:$FILTER inet n - y - - smtpd\n  -o smtpd_milters=unix:/smime-milter/smime-milter.sock|" "$T/etc/master.cf"
grep -q "inet n - y - - smtpd" "$T/etc/master.cf" || fail "master.cf: the filter smtpd is not chrooted"
recipe chrooted
[ "$FAILED" -eq 0 ] && echo "recipe Postfix chrooted (smtpd_milters = unix:/smime-milter/smime-milter.sock): done"
stop_daemon
rm -rf /run/smime-milter                   # as systemd does at stop

# ---- purge ----
env DEBIAN_FRONTEND=noninteractive $APT purge smime-milter > "$T/purge.log" 2>&1 ||
    { tail -n 20 "$T/purge.log"; fail "apt-get purge smime-milter"; }
present && fail "smime-milter still known to dpkg after purge"
for p in /etc/smime-milter.conf /etc/smime-milter /var/lib/smime-milter /usr/sbin/smime-milter \
         /usr/bin/smime-verify "$UNIT" /etc/systemd/system/multi-user.target.wants/smime-milter.service \
         /usr/share/man/man8/smime-milter.8.gz; do
    [ -e "$p" ] || [ -L "$p" ] && fail "$p left after purge"
done
getent passwd smime-milter > /dev/null && echo "note: the system user smime-milter stays after purge (Debian's practice)"

[ "$FAILED" -eq 0 ] && echo "check-deb: all passed"
[ "$FAILED" -eq 0 ]
