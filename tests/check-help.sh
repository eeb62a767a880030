#!/bin/sh
# The options each program prints with --help (smime-milter: -h) are the options
# of its man page's SYNOPSIS, each is described in the man page (in its OPTIONS
# section when it has one), and a synopsis of the program in a README code
# block lists the same set.  Generic: every tools/*.c program and the daemon;
# the page is doc/NAME.1 or doc/NAME.8.  Prints what is missing where.
set -u
BUILD=${1:?usage: check-help.sh BUILD_DIR}
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
bad=0
fail() { echo "FAIL: $*"; bad=$((bad + 1)); }

# roff to plain text, enough to read option names: \- is -, font escapes go
unroff() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\|//g' -e 's/\\&//g'; }
# the option names in standard input, one per line, sorted: long ones (--name)
# for a program that has any, else short ones (-x)
long_opts() { grep -o -- '--[a-z][a-z0-9-]*' | sort -u; }
short_opts() { grep -o -E -- '(^|[^A-Za-z0-9-])-[A-Za-z]([^A-Za-z0-9-]|$)' | grep -o -- '-[A-Za-z]' | sort -u; }
section() { # NAME: the man section .SH NAME up to the next .SH
    awk -v s="$1" '/^\.SH / { on = ($0 == ".SH " s); next } on' 
}
# the lines of README code blocks that are a synopsis of PROGRAM: a line starting
# with the program's name and an option, and the indented lines that follow it
readme_synopsis() { # PROGRAM
    awk -v p="$1" '
        /^```/ { code = !code; keep = 0; next }
        !code { next }
        index($0, p " ") == 1 && $0 ~ ("^" p " +(\\[|-)") { keep = 1; print; next }
        keep && /^[ \t]+/ { print; next }
        { keep = 0 }' README.md
}
compare() { # WHAT HELP-FILE OTHER-FILE
    missing=$(comm -23 "$2" "$3" | tr '\n' ' ')
    extra=$(comm -13 "$2" "$3" | tr '\n' ' ')
    [ -z "$missing" ] || fail "$1 lacks $missing"
    [ -z "$extra" ] || fail "$1 has $extra which --help does not"
}

programs=""
for f in tools/*.c; do programs="$programs $(basename "$f" .c)"; done
programs="$programs smime-milter"
n=0
for p in $programs; do
    exe="$BUILD/$p"
    [ -x "$exe" ] || { fail "$exe not built"; continue; }
    if ! "$exe" --help > "$T/help" 2>&1 || ! grep -q '^usage:' "$T/help"; then
        "$exe" -h > "$T/help" 2>&1 || { fail "$p: neither --help nor -h prints a usage"; continue; }
    fi
    page=$(ls doc/"$p".[18] 2>/dev/null | head -n 1)
    [ -n "$page" ] || { fail "$p: no man page doc/$p.1 or doc/$p.8"; continue; }
    if grep -q -- '--[a-z]' "$T/help"; then opts=long_opts; else opts=short_opts; fi
    $opts < "$T/help" > "$T/h"
    [ -s "$T/h" ] || { fail "$p: no options found in its usage"; continue; }
    section SYNOPSIS < "$page" | unroff | $opts > "$T/s"
    compare "$page SYNOPSIS" "$T/h" "$T/s"
    # described: named in the page outside its SYNOPSIS (pages that have an
    # OPTIONS section: in it)
    if grep -q '^\.SH OPTIONS' "$page"; then
        section OPTIONS < "$page"
    else
        awk '/^\.SH / { on = ($0 != ".SH SYNOPSIS"); next } on' "$page"
    fi | unroff | $opts > "$T/o"
    missing=$(comm -23 "$T/h" "$T/o" | tr '\n' ' ')
    [ -z "$missing" ] || fail "$page describes no $missing"
    readme_synopsis "$p" > "$T/readme"
    if [ -s "$T/readme" ]; then
        $opts < "$T/readme" > "$T/r"
        compare "README's synopsis of $p" "$T/h" "$T/r"
    fi
    n=$((n + 1))
done
[ "$bad" -eq 0 ] && echo "check-help: $n programs: --help, man SYNOPSIS and OPTIONS, README synopses agree"
[ "$bad" -eq 0 ]
