#!/bin/sh
# `make run`: the main job on embedded defaults.  Until the milter daemon lands this
# verifies every message in sample-mail/ against the sample trust anchors and
# prints the Authentication-Results header each would get.
set -u
BUILD=${1:-build}
for f in sample-mail/*.eml; do
    "$BUILD/smime-verify" --trust-anchors sample-mail/pki/trust-anchors.pem \
        --authserv-id smime-milter.localhost "$f"
    rc=$?
    [ $rc -le 1 ] || exit $rc
done
exit 0
