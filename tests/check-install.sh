#!/bin/sh
# `make install` and `make uninstall` into a DESTDIR: the FHS places (daemon in
# sbin, tools in bin, man pages, the configuration, the anchors and state
# directories, the unit), the paths rewritten into the unit and the
# configuration for another PREFIX/SYSCONFDIR, an admin's configuration kept on
# a second install and by uninstall.  No root needed; nothing outside $T.
set -u
BUILD=${1:?usage: check-install.sh BUILD_DIR}
[ -x "$BUILD/smime-milter" ] || { echo "FAIL: $BUILD/smime-milter not built"; exit 1; }
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
bad=0
fail() { echo "FAIL: $*"; bad=$((bad + 1)); }
inst() { # DESTDIR [VAR=VALUE...]
    d=$1; shift
    make -s --no-print-directory install BUILD="$BUILD" DESTDIR="$d" "$@" > "$T/make.out" 2>&1 ||
        fail "make install $*: $(tail -n 5 "$T/make.out")"
}
TOOLS=$(for f in tools/*.c; do basename "$f" .c; done)

# ---- the default: PREFIX /usr/local, SYSCONFDIR /etc ----
D="$T/default"
inst "$D"
[ -x "$D/usr/local/sbin/smime-milter" ] || fail "no /usr/local/sbin/smime-milter"
for t in $TOOLS; do
    [ -x "$D/usr/local/bin/$t" ] || fail "no /usr/local/bin/$t"
    [ -f "$D/usr/local/share/man/man1/$t.1" ] || fail "no man page $t(1)"
done
[ -f "$D/usr/local/share/man/man8/smime-milter.8" ] || fail "no smime-milter(8)"
[ -f "$D/usr/local/share/man/man5/smime-milter.conf.5" ] || fail "no smime-milter.conf(5)"
[ -d "$D/etc/smime-milter/anchors" ] || fail "no /etc/smime-milter/anchors"
[ -d "$D/var/lib/smime-milter" ] || fail "no /var/lib/smime-milter"
cmp -s doc/smime-milter.conf.sample "$D/etc/smime-milter.conf" ||
    fail "/etc/smime-milter.conf is not the sample (SYSCONFDIR /etc changes nothing)"
[ "$(stat -c %a "$D/etc/smime-milter.conf")" = 644 ] || fail "configuration mode $(stat -c %a "$D/etc/smime-milter.conf")"
U="$D/usr/local/lib/systemd/system/smime-milter.service"
[ -f "$U" ] || fail "no unit in /usr/local/lib/systemd/system"
grep -qx 'ExecStart=/usr/local/sbin/smime-milter -f -c /etc/smime-milter.conf' "$U" ||
    fail "unit ExecStart: $(grep ExecStart= "$U")"
grep -qx 'ExecStartPre=/usr/local/sbin/smime-milter -n -c /etc/smime-milter.conf' "$U" ||
    fail "unit ExecStartPre: $(grep ExecStartPre= "$U")"
grep -q '/usr/sbin/smime-milter' "$U" && fail "unit still names /usr/sbin/smime-milter"
"$D/usr/local/sbin/smime-milter" -V > /dev/null || fail "installed daemon -V"

# ---- an admin's configuration survives a second install ----
echo "# edited by the admin" >> "$D/etc/smime-milter.conf"
inst "$D"
grep -q '^# edited by the admin' "$D/etc/smime-milter.conf" || fail "second install overwrote the configuration"
grep -q 'kept .*/etc/smime-milter.conf' "$T/make.out" || fail "second install did not say it kept the configuration"

# ---- uninstall: programs, pages and unit go, the admin's files stay ----
make -s --no-print-directory uninstall BUILD="$BUILD" DESTDIR="$D" > "$T/make.out" 2>&1 || fail "make uninstall"
left=$(cd "$D" && find . -type f | sort | tr '\n' ' ')
[ "$left" = "./etc/smime-milter.conf " ] || fail "after uninstall, files left: $left"
[ -d "$D/etc/smime-milter/anchors" ] && [ -d "$D/var/lib/smime-milter" ] ||
    fail "uninstall removed the anchors or state directory"

# ---- another layout: the paths follow ----
O="$T/other"
inst "$O" PREFIX=/usr SYSCONFDIR=/opt/sm/etc UNITDIR=/lib/systemd/system LOCALSTATEDIR=/srv/var
[ -x "$O/usr/sbin/smime-milter" ] || fail "PREFIX=/usr: no /usr/sbin/smime-milter"
[ -d "$O/srv/var/lib/smime-milter" ] || fail "LOCALSTATEDIR: no /srv/var/lib/smime-milter"
grep -qx 'ExecStart=/usr/sbin/smime-milter -f -c /opt/sm/etc/smime-milter.conf' "$O/lib/systemd/system/smime-milter.service" ||
    fail "SYSCONFDIR: unit ExecStart: $(grep ExecStart= "$O/lib/systemd/system/smime-milter.service")"
grep -qx 'TrustAnchors        /opt/sm/etc/smime-milter/anchors' "$O/opt/sm/etc/smime-milter.conf" ||
    fail "SYSCONFDIR: configuration TrustAnchors: $(grep '^TrustAnchors' "$O/opt/sm/etc/smime-milter.conf")"
[ -d "$O/opt/sm/etc/smime-milter/anchors" ] || fail "SYSCONFDIR: no anchors directory"

[ "$bad" -eq 0 ] && echo "check-install: all passed"
[ "$bad" -eq 0 ]
