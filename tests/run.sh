#!/bin/sh
# Runs every test of one build directory: each cmocka unit test binary in
# BUILD/tests/, then each tests/check-*.sh script (given BUILD as $1 and run from
# the project root).  Prints one line per suite and a closing count; exits non-zero
# when any suite fails.
set -u
BUILD=${1:?usage: tests/run.sh BUILD_DIR}
passed=0
failed=0
failures=""
log_dir="$BUILD/test-logs"
mkdir -p "$log_dir"
run_suite() {
    name=$1; shift
    if "$@" >"$log_dir/$name.log" 2>&1; then
        passed=$((passed + 1)); echo "  ok    $name"
    else
        failed=$((failed + 1)); failures="$failures $name"
        echo "  FAIL  $name (log: $log_dir/$name.log)"
        tail -n 40 "$log_dir/$name.log" | sed 's/^/        /'
    fi
}
echo "tests of $BUILD:"
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    run_suite "$(basename "$t")" "$t"
done
for s in tests/check-*.sh; do
    [ -f "$s" ] || continue
    run_suite "$(basename "$s" .sh)" sh "$s" "$BUILD"
done
echo "$BUILD: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
