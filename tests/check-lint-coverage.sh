#!/bin/sh
# doc/lint-coverage.md is where users read what a finding ID means: its table of
# lints must be exactly what the lint table says (smime-lint --list-lints --format
# markdown).  After adding or changing a lint, paste that output between the
# BEGIN/END lint table markers.
#
# usage: sh tests/check-lint-coverage.sh BUILD_DIR
set -u
BUILD=${1:?usage: check-lint-coverage.sh BUILD_DIR}
DOC=doc/lint-coverage.md
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
"$BUILD/smime-lint" --list-lints --format markdown >"$T/table" || { echo "FAIL: smime-lint --list-lints"; exit 1; }
awk '/^<!-- END lint table/ { on = 0 } on { print } /^<!-- BEGIN lint table/ { on = 1 }' "$DOC" >"$T/doc"
if [ ! -s "$T/doc" ]; then
    echo "FAIL: $DOC has no BEGIN/END lint table markers"
    exit 1
fi
if ! cmp -s "$T/table" "$T/doc"; then
    echo "FAIL: the lint table of $DOC differs from the linter's (- document, + linter):"
    diff -u "$T/doc" "$T/table" | head -40
    exit 1
fi
echo "lint coverage: $DOC lists the $(($(grep -c '^| ' "$T/table") - 1)) lints of the table"
