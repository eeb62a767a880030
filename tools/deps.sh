#!/bin/sh
# Installs the Debian packages the build and the tests need.  Quick when they are
# already there: dpkg is asked first, apt only when something is missing.
# Postfix (for the integration test, which runs its own private instance) is
# preseeded to "No configuration" so installing it asks nothing and sets up no
# system mail service.  Telemetry: libsqlite3-dev and libpq-dev to build; sqlite3
# (CLI), postgresql (a private server on loopback) and chromium (renders the HTML
# report headless) for tests/check-telemetry.sh; libjansson-dev (reads and writes
# telemetry exports).  Revocation: libcurl4-gnutls-dev
# to build; python3 (a loopback HTTP server) and iproute2 (loopback up in a private
# network namespace) for tests/check-revocation.sh.  libssl-dev: only for the
# bench floors that measure OpenSSL as the reference (bench/crypto-limit,
# bench/cms-peers); nothing else links it.  Sample mail: libnss3-tools
# (cmsutil, the CMS of NSS and so of Thunderbird) for tools/make-sample-mail-extra.sh.
# m4 builds the private Sendmail's .cf in tests/check-sendmail.sh (Sendmail itself
# is fetched there with apt-get download, never installed: it conflicts with
# postfix).  Metrics: libmicrohttpd-dev (the daemon's HTTP endpoint); prometheus
# (promtool and a real server that scrapes it in tests/check-metrics.sh).
# Packaging (make deb, tests/check-deb.sh): debhelper, dpkg-dev, fakeroot,
# lintian; man-db to find the installed man pages; strace (tests/check-startup.sh:
# the system calls the unit's SystemCallFilter must allow).
# CAA: libunbound-dev (the resolver library) to build; unbound (a DNS server on
# loopback) for tests/check-caa.sh.
# One package a line, so that adding one is adding a line.
set -eu
PKGS="
build-essential
pkg-config
libgmime-3.0-dev
libgnutls28-dev
gnutls-bin
libmilter-dev
libcmocka-dev
openssl
jq
valgrind
bc
clang
libclang-rt-14-dev
postfix
swaks
libcurl4-gnutls-dev
python3
iproute2
m4
libmicrohttpd-dev
prometheus
libsqlite3-dev
sqlite3
libpq-dev
postgresql
chromium
libjansson-dev
libssl-dev
libnss3-tools
debhelper
dpkg-dev
fakeroot
lintian
man-db
strace
libunbound-dev
unbound
"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
