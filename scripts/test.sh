#!/usr/bin/env bash
# README command 2: installs what is missing, builds with warnings as errors,
# and runs every test (ctest starts one private PostgreSQL for the run), the
# libFuzzer targets for a bounded time, the docker-compose cluster's last.
#
#   CHIME_SANITIZE=address scripts/test.sh   the suite under ASan + UBSan
#   CHIME_SANITIZE=thread scripts/test.sh    the suite under TSan
# (each in build-asan/ or build-tsan/; the compose cluster, which builds its
# own image, is left out there).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
# A build of its own, unoptimised and without debug info: it compiles in
# about two thirds of the time of -O2 -g, which keeps CI within its budget
# on two cores, and the suite's time is spent in PostgreSQL and processes,
# not in Chime's code. (scripts/demo.sh and chime-bench use optimised builds.)
SANITIZE="${CHIME_SANITIZE:-}"
case "$SANITIZE" in
  "") BUILD_DIR="${CHIME_BUILD_DIR:-build-test}" ;;
  address) BUILD_DIR="${CHIME_BUILD_DIR:-build-asan}" ;;
  thread) BUILD_DIR="${CHIME_BUILD_DIR:-build-tsan}" ;;
  *) echo "CHIME_SANITIZE: '$SANITIZE' is not address or thread" >&2; exit 2 ;;
esac
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0 -DCHIME_WERROR=ON \
  -DCHIME_SANITIZE="$SANITIZE"
cmake --build "$BUILD_DIR" -j"$(nproc)"
if [[ -n "$SANITIZE" ]]; then
  # Any report fails the test that triggered it; children inherit these.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
  export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/sanitizers/lsan.supp}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
  export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/sanitizers/tsan.supp}"
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" -LE docker "$@"
  exit
fi
# Everything but the docker-compose cluster, in parallel; then the libFuzzer
# targets, 10 s each from their committed corpus (CHIME_FUZZ_SECONDS; a
# clang build of its own in build-fuzz/, about a minute); then the compose
# test alone (an image of the binaries just built and tested, a cluster of
# it: a few minutes). All passes run; the script fails if any did.
rc=0
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" -LE docker "$@" || rc=$?
fuzz_seconds="${CHIME_FUZZ_SECONDS:-10}"  # 0: no fuzzing
if [[ "$fuzz_seconds" != 0 ]]; then scripts/fuzz.sh "$fuzz_seconds" || rc=$?; fi
ctest --test-dir "$BUILD_DIR" --output-on-failure -L docker "$@" || rc=$?
exit "$rc"
