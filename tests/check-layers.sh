#!/bin/sh
# The core library's folders are its stages, in this order from the bottom; a file
# of one folder may include headers of its own folder and of the folders below it,
# never of one above (a cycle between stages is then impossible).  Also checks that
# src/ and include/smime/ hold only folders.  Run from the project root.
set -u
ORDER="util mail crypto lint report revocation verdict telemetry"
rank() { i=0; for f in $ORDER; do [ "$f" = "$1" ] && { echo $i; return; }; i=$((i + 1)); done; echo 99; }
bad=0
for f in src/*.c include/smime/*.h; do
    [ -e "$f" ] || continue
    echo "layers: $f is at the top of its tree; every file belongs to a stage folder"; bad=1
done
for folder in $ORDER; do
    mine=$(rank "$folder")
    for f in src/$folder/*.c include/smime/$folder/*.h; do
        [ -e "$f" ] || continue
        for inc in $(sed -n 's|^[[:space:]]*#[[:space:]]*include[[:space:]]*"smime/\([a-z_]*\)/.*|\1|p' "$f"); do
            theirs=$(rank "$inc")
            if [ "$theirs" -gt "$mine" ]; then
                echo "layers: $f ($folder) includes a header of $inc, a stage above it"; bad=1
            fi
        done
        if grep -qE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"smime/[a-z_]+\.h"' "$f"; then
            echo "layers: $f includes a header outside the stage folders"; bad=1
        fi
        if grep -qE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<libmilter' "$f"; then
            echo "layers: $f includes libmilter; the core never does"; bad=1
        fi
    done
done
for d in src/*/; do
    [ -d "$d" ] || continue
    [ "$(rank "$(basename "$d")")" -eq 99 ] && { echo "layers: $d is not a known stage (ORDER in $0)"; bad=1; }
done
[ "$bad" -eq 0 ] && echo "layers: $(ls src/*/*.c | wc -l) sources in $(echo $ORDER | wc -w) stages, no upward include"
exit $bad
