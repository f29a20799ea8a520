#!/usr/bin/env bash
# README command 2: installs what is missing, builds with warnings as errors,
# and runs every test (ctest starts one private PostgreSQL for the run), the
# docker-compose cluster's last.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
# A build of its own, unoptimised and without debug info: it compiles in
# about two thirds of the time of -O2 -g, which keeps CI within its budget
# on two cores, and the suite's time is spent in PostgreSQL and processes,
# not in Chime's code. (scripts/demo.sh and chime-bench use optimised builds.)
BUILD_DIR="${CHIME_BUILD_DIR:-build-test}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0 -DCHIME_WERROR=ON
cmake --build "$BUILD_DIR" -j"$(nproc)"
# Everything but the docker-compose cluster, in parallel; then that test
# alone (it compiles Chime into an image and runs a cluster: minutes, both
# cores). Both passes run; the script fails if either did.
rc=0
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" -LE docker "$@" || rc=$?
ctest --test-dir "$BUILD_DIR" --output-on-failure -L docker "$@" || rc=$?
exit "$rc"
