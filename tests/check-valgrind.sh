#!/bin/sh
# smime-verify under valgrind over the sample mail: no invalid access, no
# uninitialised use, no definite leak.  Skipped for the sanitizer build, whose
# instrumentation valgrind cannot run.
set -u
BUILD=${1:?usage: check-valgrind.sh BUILD_DIR}
case "$BUILD" in *asan*) echo "valgrind: skipped for the sanitizer build"; exit 0 ;; esac
command -v valgrind >/dev/null || { echo "valgrind not installed (make deps installs it)"; exit 1; }
valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    "$BUILD/smime-verify" --trust-anchors sample-mail/pki/trust-anchors.pem --at 2026-06-01 \
    --json sample-mail/*.eml >/dev/null
rc=$?
echo "valgrind over $(ls sample-mail/*.eml | wc -l) sample messages: exit $rc (99 = valgrind error)"
[ $rc -ne 99 ] && [ $rc -le 1 ]
