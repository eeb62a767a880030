#!/bin/sh
# Conformance of the SBR linter with zlint over ../shared/corpus/zlint-smime, in
# default mode (no profile forced, the SBR's dates applied).
#
# zlint's cases.tsv gives, for each of its S/MIME lints, test certificates and the
# status zlint expects.  tests/lint/zlint-map.tsv maps each zlint lint to our lint
# IDs of the same requirement.  For a case:
#   error (warn for a w_ lint)  we must report one of the mapped IDs as an error
#                               (for a w_ lint: a warning or an error);
#   pass, NA, NE                we must report none of them at that level.
# Findings we mark pre-SBR (the certificate predates 2023-09-01) are what zlint
# calls not effective, so they count for neither.  A mapped finding on a pass/NA/NE
# case is also explained when zlint itself expects an error of another lint with
# that ID on the same file (zlint splits one requirement over several lints, e.g.
# keyCertSign in an RSA key under e_rsa_other_key_usages, not e_rsa_key_usage_strict).
# Other disagreements are allowed only when tests/lint/zlint-allowlist.tsv lists
# them with an argument from the SBR text.  Prints the agreement figure; fails on
# any unexplained disagreement.  MODE=forced lints with --all-dates and counts
# pre-SBR findings too (the figure is printed; only default mode must agree).
#
# usage: sh tests/check-zlint.sh BUILD_DIR
set -u
BUILD=${1:?usage: check-zlint.sh BUILD_DIR}
CORPUS=${CORPUS:-../shared/corpus/zlint-smime}
MODE=${MODE:-default}
LINT="$BUILD/smime-lint"
MAP=tests/lint/zlint-map.tsv
ALLOW=tests/lint/zlint-allowlist.tsv
# The evaluation time only moves DATE-14 (CA certificates); fixed for repeatability.
AT=2026-11-28

[ -x "$LINT" ] || { echo "missing $LINT"; exit 1; }
if [ ! -f "$CORPUS/cases.tsv" ]; then
    echo "corpus $CORPUS not found: skipping"
    exit 0
fi
case $MODE in
default) flags= ;;
forced) flags=--all-dates ;;
*) echo "MODE must be default or forced"; exit 2 ;;
esac
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# One line per file: file <TAB> errors <TAB> warnings (IDs, space-separated,
# pre-SBR findings left out in default mode).
cut -f2 "$CORPUS/cases.tsv" | LC_ALL=C sort -u >"$tmp/files"
: >"$tmp/found"
while IFS= read -r f; do
    # shellcheck disable=SC2086
    "$LINT" --json --at "$AT" $flags "$CORPUS/$f" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ge 2 ]; then
        echo "FAIL: smime-lint exited $rc on $f: $(cat "$tmp/err")"
        exit 1
    fi
    # Each finding is one object: "id", "severity", ..., "pre_sbr".
    grep -o '{"id":"[^"]*","severity":"[a-z]*"[^{}]*"pre_sbr":[a-z]*}' "$tmp/out" |
        sed 's/^{"id":"\([^"]*\)","severity":"\([a-z]*\)".*"pre_sbr":\([a-z]*\)}$/\1 \2 \3/' >"$tmp/f"
    errs=$(awk -v m="$MODE" '$2 == "error" && (m == "forced" || $3 == "false") { print $1 }' "$tmp/f" | LC_ALL=C sort -u | tr '\n' ' ')
    warns=$(awk -v m="$MODE" '$2 == "warning" && (m == "forced" || $3 == "false") { print $1 }' "$tmp/f" | LC_ALL=C sort -u | tr '\n' ' ')
    printf '%s\t%s\t%s\n' "$f" "$errs" "$warns" >>"$tmp/found"
done <"$tmp/files"

awk -F'\t' -v mode="$MODE" -v mapfile="$MAP" -v allowfile="$ALLOW" -v foundfile="$tmp/found" '
BEGIN {
    while ((getline line < mapfile) > 0) {
        if (line ~ /^#/ || line == "") continue
        split(line, m, "\t"); map[m[1]] = "," m[2] ","
    }
    while ((getline line < allowfile) > 0) {
        if (line ~ /^#/ || line == "") continue
        split(line, a, "\t")
        if (a[3] == "") { print "allowlist line without an argument: " line; bad_allow = 1 }
        allow[a[1] SUBSEP a[2]] = a[3]; used[a[1] SUBSEP a[2]] = 0
    }
    while ((getline line < foundfile) > 0) {
        split(line, f, "\t"); errs[f[1]] = " " f[2]; warns[f[1]] = " " f[3]
    }
}
# First pass over cases.tsv (read twice): which IDs zlint expects as errors per file.
FNR == NR {
    if ($3 == "error" || $3 == "warn") expected[$2] = expected[$2] map[$1]
    next
}
{
    lint = $1; file = $2; want = $3; total++
    if (!(lint in map)) { printf "UNMAPPED zlint lint %s\n", lint; unexplained++; next }
    level = (lint ~ /^w_/) ? errs[file] warns[file] : errs[file]
    n = split(level, ids, " "); hit = ""
    for (i = 1; i <= n; i++) if (index(map[lint], "," ids[i] ",")) hit = hit " " ids[i]
    k = lint SUBSEP file
    if (want == "error" || want == "warn") {
        if (hit != "") { agree++; next }
        problem = "zlint " want ", we report none of" map[lint]
    } else {
        if (hit == "") { agree++; next }
        # explained by a sibling zlint lint expecting the same ID on this file
        sib = 1; nh = split(hit, h, " ")
        for (i = 1; i <= nh; i++) if (!index(expected[file], "," h[i] ",")) sib = 0
        if (sib) { agree++; sibling++; next }
        problem = "zlint " want ", we report" hit
    }
    if (k in allow) { used[k] = 1; allowed++; printf "allowed %s %s: %s\n  because: %s\n", lint, file, problem, allow[k]; next }
    printf "UNEXPLAINED %s %s: %s\n", lint, file, problem; unexplained++
}
END {
    if (mode == "default")
        for (k in used) if (!used[k]) { split(k, p, SUBSEP); printf "note: allowlist entry not needed: %s %s\n", p[1], p[2] }
    printf "zlint conformance (%s mode): %d of %d cases agree (%d of them through a sibling lint), %d allow-listed, %d unexplained\n", mode, agree, total, sibling + 0, allowed + 0, unexplained + 0
    if (mode == "default" && (unexplained > 0 || bad_allow)) exit 1
}' "$CORPUS/cases.tsv" "$CORPUS/cases.tsv"
