#!/bin/sh
# Golden-file tests of smime-verify's output: the header for every sample message,
# the JSON of a few, and the CLI's error messages and exit codes.  After an
# intended change of output, regenerate with:  UPDATE=1 sh tests/check-golden.sh build
set -u
BUILD=${1:?usage: check-golden.sh BUILD_DIR}
V="$BUILD/smime-verify"
G=tests/golden
A=sample-mail/pki/trust-anchors.pem
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
n=0

run() { # NAME COMMAND...: stdout, stderr (paths of the build dir hidden) and exit code
    name=$1; shift
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    { cat "$T/out"; sed "s|$BUILD/|BUILD/|g" "$T/err"; echo "exit $rc"; } >"$T/$name"
    n=$((n + 1))
    if [ "${UPDATE:-}" = 1 ]; then
        cp "$T/$name" "$G/$name"
    elif ! cmp -s "$T/$name" "$G/$name"; then
        fails=$((fails + 1))
        echo "DIFFERS: $G/$name"
        diff -u "$G/$name" "$T/$name" | head -30
    fi
}

run verify-headers.txt "$V" --trust-anchors "$A" --authserv-id mx.test --at 2026-06-01 sample-mail/*.eml
run verify-07.json "$V" --trust-anchors "$A" --at 2026-06-01 --json sample-mail/07-signed-inside-signed.eml
run verify-33.json "$V" --trust-anchors "$A" --at 2026-06-01 --json sample-mail/33-expired.eml
run verify-39.json "$V" --trust-anchors "$A" --at 2026-06-01 --json sample-mail/39-encrypted-only.eml
run usage-no-args.txt "$V"
run usage-bad-time.txt "$V" --trust-anchors "$A" --at yesterday sample-mail/01-multipart-signed-rsa2048.eml
run usage-bad-servid.txt "$V" --trust-anchors "$A" --authserv-id "a b" sample-mail/01-multipart-signed-rsa2048.eml
run usage-bad-lint-mode.txt "$V" --trust-anchors "$A" --lint-mode strict sample-mail/01-multipart-signed-rsa2048.eml
run verify-enforce.txt "$V" --trust-anchors "$A" --authserv-id mx.test --at 2026-06-01 --lint-mode enforce \
    sample-mail/01-multipart-signed-rsa2048.eml sample-mail/30-tampered-body.eml
run missing-anchors.txt "$V" --trust-anchors /nonexistent/anchors.pem sample-mail/01-multipart-signed-rsa2048.eml
run missing-message.txt "$V" --trust-anchors "$A" --at 2026-06-01 /nonexistent/message.eml
run oversize.txt "$V" --trust-anchors "$A" --at 2026-06-01 --max-size 100 sample-mail/01-multipart-signed-rsa2048.eml

echo "golden files: $n compared, $fails differ"
[ "$fails" -eq 0 ]
