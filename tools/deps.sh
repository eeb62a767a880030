#!/bin/sh
# Installs the Debian packages the build and the tests need.  Quick when they are
# already there: dpkg is asked first, apt only when something is missing.
set -eu
PKGS="build-essential pkg-config libgmime-3.0-dev libgnutls28-dev gnutls-bin libmilter-dev
libcmocka-dev openssl valgrind"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
