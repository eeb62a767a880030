#!/bin/sh
# make check runs every libFuzzer target briefly (FUZZ_SECONDS, default 5) and
# replays the saved regression inputs; `make fuzz FUZZ_SECONDS=N` runs longer.
# Once per `make check`: the fuzz build is its own ASan+UBSan build, so the run
# for the sanitizer build directory is skipped.
set -eu
BUILD=${1:?usage: check-fuzz.sh BUILD_DIR}
case "$BUILD" in *asan*) echo "fuzz: run once, with the normal build"; exit 0 ;; esac
command -v clang >/dev/null || { echo "fuzz: clang not installed (make deps installs it)"; exit 1; }
sh tests/fuzz/run.sh "${FUZZ_SECONDS:-5}"
