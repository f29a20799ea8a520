#!/usr/bin/env bash
# The soak: a seeded random nemesis over a loaded cluster for MINUTES
# (default 30), then the history checker (tests/reliability/soak_test.cc;
# the suite runs a 90-second version). Prints the seed, the faults injected,
# the jobs run and what the checker found.
#
#   scripts/soak.sh [MINUTES]
#   CHIME_NEMESIS_SEED=N scripts/soak.sh 5    replay a failed run's faults
set -euo pipefail
cd "$(dirname "$0")/.."

MINUTES="${1:-30}"
# Up to 110 minutes: soak_test's ctest TIMEOUT is two hours.
[[ "$MINUTES" =~ ^[1-9][0-9]*$ ]] && (( MINUTES <= 110 )) ||
  { echo "soak: MINUTES must be a whole number from 1 to 110, not '$MINUTES'" >&2; exit 2; }
BUILD_DIR="${CHIME_BUILD_DIR:-build-test}"

scripts/install-deps.sh
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0
cmake --build "$BUILD_DIR" -j"$(nproc)" --target soak_test chime-scheduler chime-worker jobctl
CHIME_SOAK_SECONDS=$((MINUTES * 60)) ctest --test-dir "$BUILD_DIR" -R '^soak_test$' --output-on-failure -V
