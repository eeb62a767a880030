#!/bin/sh
# Conformance of the SBR linter with pkilint over ../shared/corpus/pkilint-smime.
#
# For every certificate the directory gives the profile to force (`sponsored` =
# sponsor type); rules apply regardless of date (--all-dates), as pkilint does.
# Every pkilint ERROR/FATAL row must be matched by an error finding of ours whose
# ID the mapping table tests/lint/pkilint-map.tsv allows for that code, and every
# error finding of ours must be explained by a pkilint error of the certificate via
# the same table.  Disagreements are allowed only when tests/lint/allowlist.tsv
# lists them, each with a reason citing the SBR.  Prints the agreement figure; fails
# on any unexplained disagreement or when fewer than TARGET certificates agree.
#
# usage: sh tests/check-lint-conformance.sh BUILD_DIR
set -u
BUILD=${1:?usage: check-lint-conformance.sh BUILD_DIR}
CORPUS=${CORPUS:-../shared/corpus/pkilint-smime}
TARGET=${TARGET:-95}
LINT="$BUILD/smime-lint"
MAP=tests/lint/pkilint-map.tsv
ALLOW=tests/lint/allowlist.tsv

[ -x "$LINT" ] || { echo "missing $LINT"; exit 1; }
if [ ! -d "$CORPUS" ]; then
    echo "corpus $CORPUS not found: skipping"
    exit 0
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# One line per certificate: rel-path <TAB> their codes (space-separated) <TAB> our IDs
: >"$tmp/rows"
find "$CORPUS" -name '*.crttest' | LC_ALL=C sort >"$tmp/files"
while IFS= read -r f; do
    rel=${f#"$CORPUS"/}
    gen=$(basename "$(dirname "$f")")
    typ=$(basename "$(dirname "$(dirname "$f")")")
    [ "$typ" = sponsored ] && typ=sponsor
    theirs=$(sed -n '/^node_path,/,$p' "$f" | awk -F, 'NR > 1 && ($3 == "ERROR" || $3 == "FATAL") { print $4 }' | LC_ALL=C sort -u | tr '\n' ' ')
    out=$("$LINT" --json --all-dates --profile "$typ-$gen" "$f" 2>"$tmp/err")
    rc=$?
    if [ "$rc" -ge 2 ]; then
        echo "FAIL: smime-lint exited $rc on $rel: $(cat "$tmp/err")"
        exit 1
    fi
    ours=$(printf '%s\n' "$out" | grep -o '"id":"[^"]*","severity":"error"' | sed 's/"id":"\([^"]*\)".*/\1/' | LC_ALL=C sort -u | tr '\n' ' ')
    printf '%s\t%s\t%s\n' "$rel" "$theirs" "$ours" >>"$tmp/rows"
done <"$tmp/files"

awk -F'\t' -v target="$TARGET" -v mapfile="$MAP" -v allowfile="$ALLOW" '
BEGIN {
    while ((getline line < mapfile) > 0) {
        if (line ~ /^#/ || line == "") continue
        split(line, m, "\t"); map[m[1]] = "," m[2] ","
    }
    while ((getline line < allowfile) > 0) {
        if (line ~ /^#/ || line == "") continue
        split(line, a, "\t")
        if (a[4] == "") { print "allowlist line without a reason: " line; bad_allow = 1 }
        allow[a[1] SUBSEP a[2] SUBSEP a[3]] = a[4]; used[a[1] SUBSEP a[2] SUBSEP a[3]] = 0
    }
}
{
    file = $1; nt = split($2, t, " "); no = split($3, o, " ")
    total++; exact = 1; explain = ""
    delete oursset
    for (i = 1; i <= no; i++) oursset[o[i]] = 1
    delete covered
    for (i = 1; i <= nt; i++) {
        code = t[i]
        if (!(code in map)) { printf "UNMAPPED pkilint code %s (%s)\n", code, file; unexplained++; exact = 0; continue }
        ok = 0
        for (id in oursset) if (index(map[code], "," id ",")) { ok = 1; covered[id] = 1 }
        if (!ok) {
            exact = 0; k = file SUBSEP "theirs" SUBSEP code
            if (k in allow) { used[k] = 1; explain = explain "  pkilint " code " not reported by us: " allow[k] "\n" }
            else { printf "UNEXPLAINED %s: pkilint error %s has no matching finding (allowed IDs%s)\n", file, code, map[code]; unexplained++ }
        }
    }
    for (id in oursset) {
        ok = 0
        for (i = 1; i <= nt; i++) if ((t[i] in map) && index(map[t[i]], "," id ",")) ok = 1
        if (!ok) {
            exact = 0; k = file SUBSEP "ours" SUBSEP id
            if (k in allow) { used[k] = 1; explain = explain "  our " id " not reported by pkilint: " allow[k] "\n" }
            else { printf "UNEXPLAINED %s: our error %s has no pkilint counterpart\n", file, id; unexplained++ }
        }
    }
    if (exact) agree++
    else if (explain != "") printf "allowed disagreement %s\n%s", file, explain
}
END {
    for (k in used) if (!used[k]) { split(k, p, SUBSEP); printf "note: allowlist entry not needed: %s %s %s\n", p[1], p[2], p[3] }
    printf "pkilint conformance: %d of %d certificates agree exactly on error findings (target %d); %d unexplained disagreements\n", agree, total, target, unexplained + 0
    if (unexplained > 0 || agree < target || bad_allow) exit 1
}' "$tmp/rows"
