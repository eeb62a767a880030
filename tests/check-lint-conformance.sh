#!/bin/sh
# Conformance of the SBR linter with pkilint over ../shared/corpus/pkilint-smime,
# in two modes.
#
# Forced: for every certificate the directory gives the profile to force
# (`sponsored` = sponsor type); rules apply regardless of date (--all-dates), as
# pkilint does.  Default: no flags at all, as a CA would run it; the profile comes
# from the certificate's own policy OID, and certificates from before 2023-09-01
# that assert one are linted with their findings marked pre-SBR (counted here:
# pkilint lints them too).  In default mode a certificate may disagree only when
# tests/lint/pkilint-default.tsv lists it, and the test checks the reason given
# there: the certificate asserts another profile than its directory, or none.
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
TARGET_DEFAULT=${TARGET_DEFAULT:-91}
DEFAULT_LIST=tests/lint/pkilint-default.tsv
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

# profile_oid TYPE GEN: the reserved OID of a directory's profile.
profile_oid() {
    t=$1 g=$2
    case $t in mailbox) t=1 ;; organization) t=2 ;; sponsor) t=3 ;; individual) t=4 ;; esac
    case $g in legacy) g=1 ;; multipurpose) g=2 ;; strict) g=3 ;; esac
    echo "2.23.140.1.5.$t.$g"
}

# collect MODE: one line per certificate: rel-path <TAB> their codes
# (space-separated) <TAB> our IDs <TAB> the directory's OID <TAB> the OID we classified by
collect() {
    : >"$tmp/rows.$1"
    while IFS= read -r f; do
        rel=${f#"$CORPUS"/}
        gen=$(basename "$(dirname "$f")")
        typ=$(basename "$(dirname "$(dirname "$f")")")
        [ "$typ" = sponsored ] && typ=sponsor
        theirs=$(sed -n '/^node_path,/,$p' "$f" | awk -F, 'NR > 1 && ($3 == "ERROR" || $3 == "FATAL") { print $4 }' | LC_ALL=C sort -u | tr '\n' ' ')
        if [ "$1" = forced ]; then
            out=$("$LINT" --json --all-dates --profile "$typ-$gen" "$f" 2>"$tmp/err")
        else
            out=$("$LINT" --json "$f" 2>"$tmp/err")
        fi
        rc=$?
        if [ "$rc" -ge 2 ]; then
            echo "FAIL: smime-lint exited $rc on $rel: $(cat "$tmp/err")"
            exit 1
        fi
        ours=$(printf '%s\n' "$out" | grep -o '"id":"[^"]*","severity":"error"' | sed 's/"id":"\([^"]*\)".*/\1/' | LC_ALL=C sort -u | tr '\n' ' ')
        asserted=$(printf '%s\n' "$out" | sed -n 's/.*"policy_oid":"\([0-9.]*\)".*/\1/p' | head -n 1)
        printf '%s\t%s\t%s\t%s\t%s\n' "$rel" "$theirs" "$ours" "$(profile_oid "$typ" "$gen")" "${asserted:-none}" >>"$tmp/rows.$1"
    done <"$tmp/files"
}

find "$CORPUS" -name '*.crttest' | LC_ALL=C sort >"$tmp/files"
collect forced
collect default

# compare MODE TARGET
compare() {
awk -F'\t' -v mode="$1" -v target="$2" -v mapfile="$MAP" -v allowfile="$ALLOW" -v deffile="$DEFAULT_LIST" '
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
    while (mode == "default" && (getline line < deffile) > 0) {
        if (line ~ /^#/ || line == "") continue
        split(line, a, "\t")
        if (a[3] == "") { print "pkilint-default line without a reason: " line; bad_allow = 1 }
        deflist[a[1]] = a[2]; defreason[a[1]] = a[3]; defused[a[1]] = 0
    }
}
{
    file = $1; nt = split($2, t, " "); no = split($3, o, " ")
    total++; exact = 1; explain = ""; unexpl = ""
    delete oursset
    for (i = 1; i <= no; i++) oursset[o[i]] = 1
    for (i = 1; i <= nt; i++) {
        code = t[i]
        if (!(code in map)) { unexpl = unexpl sprintf("UNMAPPED pkilint code %s (%s)\n", code, file); exact = 0; continue }
        ok = 0
        for (id in oursset) if (index(map[code], "," id ",")) ok = 1
        if (!ok) {
            exact = 0; k = file SUBSEP "theirs" SUBSEP code
            if (k in allow) { used[k] = 1; explain = explain "  pkilint " code " not reported by us: " allow[k] "\n" }
            else unexpl = unexpl sprintf("UNEXPLAINED %s: pkilint error %s has no matching finding (allowed IDs%s)\n", file, code, map[code])
        }
    }
    for (id in oursset) {
        ok = 0
        for (i = 1; i <= nt; i++) if ((t[i] in map) && index(map[t[i]], "," id ",")) ok = 1
        if (!ok) {
            exact = 0; k = file SUBSEP "ours" SUBSEP id
            if (k in allow) { used[k] = 1; explain = explain "  our " id " not reported by pkilint: " allow[k] "\n" }
            else unexpl = unexpl sprintf("UNEXPLAINED %s: our error %s has no pkilint counterpart\n", file, id)
        }
    }
    if (unexpl != "" && (file in deflist)) {
        # Documented: linted as the profile it asserts, not its directory.
        defused[file] = 1
        if ($4 == $5) { printf "WRONG pkilint-default entry %s: it asserts its directory'"'"'s profile %s\n", file, $4; unexplained++ }
        else if (deflist[file] != $5) { printf "WRONG pkilint-default entry %s: it asserts %s, not %s\n", file, $5, deflist[file]; unexplained++ }
        else { documented++; printf "documented difference %s: directory %s, certificate asserts %s: %s\n", file, $4, $5, defreason[file] }
        next
    }
    if (unexpl != "") { printf "%s", unexpl; unexplained++; next }
    if (exact) agree++
    else if (explain != "") printf "allowed disagreement %s\n%s", file, explain
}
END {
    if (mode == "forced")
        for (k in used) if (!used[k]) { split(k, p, SUBSEP); printf "note: allowlist entry not needed: %s %s %s\n", p[1], p[2], p[3] }
    for (k in defused) if (!defused[k]) printf "note: pkilint-default entry not needed: %s\n", k
    printf "pkilint conformance (%s mode): %d of %d certificates agree exactly on error findings (target %d); %d documented profile differences; %d unexplained disagreements\n", mode, agree, total, target, documented + 0, unexplained + 0
    if (unexplained > 0 || agree < target || bad_allow) exit 1
}' "$tmp/rows.$1"
}

status=0
compare forced "$TARGET" || status=1
compare default "$TARGET_DEFAULT" || status=1
exit $status
