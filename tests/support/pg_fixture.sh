#!/usr/bin/env bash
# The ctest fixture "chime_pg": `start ENV_FILE` starts one private PostgreSQL
# for the whole ctest run in a temporary directory and writes its URL to
# ENV_FILE; `stop ENV_FILE` stops it and removes the directory. A detached
# watchdog does the same if ctest goes away without running `stop`
# (interrupted, killed, or a crash).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PG="$HERE/../../scripts/pg.sh"
cmd="$1"
env_file="$2"

stop_from_env() {
  [ -f "$env_file" ] || return 0
  local dir
  dir="$(sed -n 's/^CHIME_TEST_PG_DIR=//p' "$env_file")"
  if [ -n "$dir" ] && [ -d "$dir" ]; then
    "$PG" destroy "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
  fi
  rm -f "$env_file"
}

case "$cmd" in
  start)
    if [ -n "${CHIME_TEST_DATABASE_URL:-}" ]; then
      echo "using external server from CHIME_TEST_DATABASE_URL"
      exit 0
    fi
    stop_from_env  # Left over from an interrupted run.
    mkdir -p "$(dirname "$env_file")"
    dir="$(mktemp -d /tmp/chime-test-pg.XXXXXX)"
    chmod 755 "$dir"
    url="$(CHIME_PG_FAST=1 "$PG" start "$dir")"
    printf 'CHIME_TEST_DATABASE_URL=%s\nCHIME_TEST_PG_DIR=%s\n' "$url" "$dir" > "$env_file"
    # Find the ctest process among our ancestors for the watchdog.
    pid=$$
    ctest_pid=""
    while [ "$pid" -gt 1 ]; do
      if [ "$(cat /proc/$pid/comm 2>/dev/null)" = "ctest" ]; then ctest_pid=$pid; break; fi
      pid="$(awk '{print $4}' /proc/$pid/stat 2>/dev/null || echo 1)"
    done
    if [ -n "$ctest_pid" ]; then
      setsid nohup bash -c '
        while kill -0 '"$ctest_pid"' 2>/dev/null; do sleep 1; done
        "'"$PG"'" destroy "'"$dir"'" >/dev/null 2>&1 || true
        rm -rf "'"$dir"'"
        # Only while it still names this server: a later run may own it now.
        if grep -qxF "CHIME_TEST_PG_DIR='"$dir"'" "'"$env_file"'" 2>/dev/null; then
          rm -f "'"$env_file"'"
        fi' >/dev/null 2>&1 < /dev/null &
    fi
    echo "started $url"
    ;;
  stop)
    stop_from_env
    ;;
  *)
    echo "usage: $0 start|stop ENV_FILE" >&2
    exit 2
    ;;
esac
