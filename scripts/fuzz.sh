#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz in build-fuzz/ and runs each for
# a bounded time from a copy of its committed seed corpus.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      (default 10)
#
# Environment: FUZZ_TARGETS (space-separated subset, default all),
# FUZZ_JOBS (build parallelism, default 2), FUZZ_BUILD_DIR (default
# build-fuzz). Prints executions, exec/s and the result per target; exits 1
# if any target found a crash, a timeout, a leak or an out-of-memory, and
# prints the reproducer's path (replay: build-fuzz/tests/fuzz/<target> <file>).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-10}
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz: SECONDS_PER_TARGET must be a positive integer, got '$seconds'" >&2
  exit 2
fi
jobs=${FUZZ_JOBS:-2}
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
all_targets="fuzz_cron fuzz_zone fuzz_envelope fuzz_router fuzz_address_policy fuzz_webhook fuzz_http_response"
targets=${FUZZ_TARGETS:-$all_targets}

# clang 19: older Debian clang with libstdc++ 12 lacks std::expected.
packages=(clang-19 libclang-rt-19-dev)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "fuzz: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
    $SUDO apt-get update -qq
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -f "$build/CMakeCache.txt" ]; then
  # -O1 with line tables only: libFuzzer's usual setting, and it compiles in
  # about half the time of -O2 -g (this build runs in CI).
  CXX=clang++-19 cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DCHIME_FUZZ=ON -DCHIME_BUILD_TESTS=OFF >/dev/null
fi
# shellcheck disable=SC2086
cmake --build "$build" -j "$jobs" --target $targets

runs=$build/fuzz-runs
failed=0
printf '%-22s %12s %10s  %s\n' target executions exec/s result
for t in $targets; do
  dir=$runs/$t
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp "$root/tests/fuzz/corpus/$t/"* "$dir/corpus/"
  status=0
  "$build/tests/fuzz/$t" "$dir/corpus" -max_total_time="$seconds" -timeout=5 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
    >"$dir/log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
  reproducer=$(find "$dir/artifacts" -type f | head -1)
  if [ "$status" -eq 0 ] && [ -z "$reproducer" ]; then
    result=ok
  else
    failed=1
    result="FAILED (exit $status) reproducer: ${reproducer:-none}, log: $dir/log"
  fi
  printf '%-22s %12s %10s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$result"
  if [ "$result" != ok ]; then
    grep -m1 -E 'FUZZ_CHECK failed|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error' \
      "$dir/log" -A1 | sed 's/^/    /' || true
  fi
done
exit "$failed"
