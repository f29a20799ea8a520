#!/usr/bin/env bash
# README command 1: installs what is missing, builds into build/, starts a
# private PostgreSQL under .chime/pg and a local cluster (one chime-scheduler,
# two chime-workers) under .chime/cluster, enqueues demo jobs through the
# scheduler, waits for them and shows the outcome with jobctl show, list,
# stats and workers. The cluster keeps running for more jobctl commands.
#
#   scripts/demo.sh        start (or restart) everything and run the demo
#   scripts/demo.sh stop   drain the workers, stop the scheduler and PostgreSQL
#
# Idempotent: a re-run reuses the build and the database and restarts the
# cluster with the fresh binaries.
#
# Environment:
#   CHIME_BUILD_DIR  build directory (default: build)
#   CHIME_DEMO_DIR   PostgreSQL directory for scripts/pg.sh (default: .chime/pg)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR="${CHIME_BUILD_DIR:-build}"
PG_DIR="${CHIME_DEMO_DIR:-.chime/pg}"
RUN_DIR=.chime/cluster
JOBCTL="$BUILD_DIR/jobctl/jobctl"
WORKERS=(demo-worker-1 demo-worker-2)

step() { printf '\n== %s\n' "$*"; }

# Echoes a jobctl command line (quoted so it can be pasted), then runs it.
jobctl() {
  local arg line="$ jobctl"
  for arg in "$@"; do
    if [[ "$arg" =~ ^[A-Za-z0-9_./:=@,+-]+$ ]]; then
      line+=" $arg"
    else
      line+=" '${arg//\'/\'\\\'\'}'"
    fi
  done
  echo "$line"
  "$JOBCTL" "$@"
}

# Sends SIGTERM to the process in $RUN_DIR/$1.pid and waits for it to exit
# (a worker drains: running jobs finish or are released).
stop_process() {
  local pid_file="$RUN_DIR/$1.pid" pid
  [[ -f "$pid_file" ]] || return 0
  pid=$(cat "$pid_file")
  if kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 1 400); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "$1 (pid $pid) did not stop within 40 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pid_file"
}

stop_cluster() {
  local name
  for name in "${WORKERS[@]}"; do stop_process "$name"; done
  stop_process scheduler
}

if [[ "${1:-}" == "stop" ]]; then
  step "Stopping the cluster and PostgreSQL"
  stop_cluster
  scripts/pg.sh stop "$PG_DIR"
  exit 0
elif [[ $# -gt 0 ]]; then
  echo "usage: scripts/demo.sh [stop]" >&2
  exit 2
fi

step "Installing missing packages"
scripts/install-deps.sh

step "Building into $BUILD_DIR/"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# Only what the demo runs; scripts/test.sh builds everything, tests included.
cmake --build "$BUILD_DIR" -j"$(nproc)" --target jobctl chime-scheduler chime-worker

step "Starting PostgreSQL in $PG_DIR"
CHIME_DATABASE_URL=$(scripts/pg.sh start "$PG_DIR")
export CHIME_DATABASE_URL
echo "CHIME_DATABASE_URL=$CHIME_DATABASE_URL"

step "Applying the schema"
jobctl migrate

step "The application's tables (chime_app) and demo data for the seeds' kinds"
jobctl app-schema --demo-data

step "Starting the cluster: one scheduler, two workers (logs in $RUN_DIR/)"
stop_cluster  # A re-run restarts the cluster with the fresh binaries.
mkdir -p "$RUN_DIR"
# The admin secret that signs every jobctl request: made once, owner-only,
# passed by file so that it never shows in a process list.
if [[ ! -s .chime/admin-secret ]]; then
  (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '\n' >.chime/admin-secret)
fi
export CHIME_ADMIN_SECRET_FILE="$PWD/.chime/admin-secret"
"$BUILD_DIR/scheduler/chime-scheduler" --bind tcp://127.0.0.1:0 \
  --http-listen "127.0.0.1:${CHIME_DEMO_HTTP_PORT:-0}" \
  --schedules deploy/schedules.example.yaml --kinds-config deploy/kinds.compose.yaml \
  >"$RUN_DIR/scheduler.log" 2>&1 &
echo $! >"$RUN_DIR/scheduler.pid"
CHIME_SCHEDULER=""
for _ in $(seq 1 300); do
  CHIME_SCHEDULER=$(sed -n 's/.*listening on \(tcp:[^ ]*\).*/\1/p' "$RUN_DIR/scheduler.log" | head -1)
  [[ -n "$CHIME_SCHEDULER" ]] && break
  kill -0 "$(cat "$RUN_DIR/scheduler.pid")" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$CHIME_SCHEDULER" ]]; then
  echo "chime-scheduler did not start; its log:" >&2
  cat "$RUN_DIR/scheduler.log" >&2
  exit 1
fi
export CHIME_SCHEDULER
echo "CHIME_SCHEDULER=$CHIME_SCHEDULER"
HTTP_ADDR=$(sed -n 's/.*http listening on \([^ ]*\).*/\1/p' "$RUN_DIR/scheduler.log" | head -1)
for name in "${WORKERS[@]}"; do
  "$BUILD_DIR/worker/chime-worker" --worker-id "$name" --slots 4 >"$RUN_DIR/$name.log" 2>&1 &
  echo $! >"$RUN_DIR/$name.pid"
done
connected=0
for _ in $(seq 1 300); do
  connected=$(grep -c "worker demo-worker-[0-9]* (" "$RUN_DIR/scheduler.log" || true)
  [[ "$connected" -ge ${#WORKERS[@]} ]] && break
  sleep 0.1
done
echo "$connected of ${#WORKERS[@]} workers said hello to the scheduler"

step "Enqueueing demo jobs through the scheduler"
# A burst of no-ops, spread over both workers by their free slots.
jobctl enqueue noop --count 200 | sed -n '1p;$s/^/... last id /p'
# Jobs that take a moment: the workers run them concurrently.
jobctl enqueue sleep --payload '{"ms":1500}' --count 3
# Fails its first two attempts, then succeeds: retried with backoff.
jobctl enqueue fail --payload '{"times":2}' --max-attempts 5 | tee "$RUN_DIR/flaky.id"
FLAKY=$(tail -1 "$RUN_DIR/flaky.id")
# No handler is registered for this kind: discarded with a reason, not retried.
jobctl enqueue no_such_kind
# --wait blocks until the job finishes and prints its outcome, as a script would.
jobctl enqueue sleep --payload '{"ms":200}' --wait
# Delayed, shaped like the seeds' 15-minute GitHub sync; it waits as
# "scheduled".
jobctl enqueue sync_integration --payload '{"userId":1,"provider":"github"}' \
  --delay 15m --timeout 2m --max-attempts 5 --unique-key demo:sync-github

step "Deduplication: the same unique key twice gives one job"
# A second enqueue with a live job's key returns that job ("existing job N").
for _ in 1 2; do
  jobctl enqueue sync_integration --payload '{"userId":2,"provider":"notion"}' \
    --delay 15m --unique-key demo:sync-notion --json
done

step "Waiting for the workers to finish what is due"
pending=1
for _ in $(seq 1 600); do
  pending=$("$JOBCTL" stats --json |
    awk -F': *' '/"(available|running|retryable)"/ { gsub(/[^0-9]/, "", $2); n += $2 } END { print n + 0 }')
  [[ "$pending" == 0 ]] && break
  sleep 0.2
done
echo "jobs still due or running: $pending"

step "The seeds' kinds on the demo data"
# Enqueues a job, waits for it and prints what its handler reported.
run_and_show() {
  local id rc=0
  jobctl enqueue "$@" --wait | tee "$RUN_DIR/last.out" || rc=$?
  # 8 (partial) and 9 (skipped) are outcomes to show, not failures.
  [[ $rc == 0 || $rc == 8 || $rc == 9 ]] || return "$rc"
  id=$(awk '/^job [0-9]+ /{ print $2 }' "$RUN_DIR/last.out")
  jobctl show "$id" | sed -n '/^result of attempt/,$p'
}
# Exam capacity drift (seed 000): counters corrected, in the seed's format.
run_and_show reconcile_exam_capacity --payload '{"examIds":[3,4]}'
# The nightly fan-out (seed 002) as a dry run: who is due, nothing enqueued.
run_and_show process_all_users --payload '{"maxUsers":50}' --dry-run
# Housekeeping (seed 002): the hourly stale-job reset.
run_and_show reset_stale_jobs

step "The flaky job and its runs"
jobctl show "$FLAKY"

step "Jobs (newest first)"
jobctl list --limit 12

step "Statistics"
jobctl stats

step "Workers"
jobctl workers

step "Schedules (deploy/schedules.example.yaml; the leader fires them)"
jobctl schedule list
# A manual run, as the seeds' "trigger now" buttons did (5 per minute at most).
jobctl schedule trigger demo-heartbeat
# The next ticks of the seeds' two-hourly reconciliation, in UTC.
jobctl cron next '0 */2 * * *' --count 3

step "Health: statistics per job kind (24 h) and alerts"
jobctl stats --by kind
jobctl alerts

step "A token for the dashboard (scope operate: it may retry, cancel, trigger and pause)"
# Made again on every run (a revoked name can be reused); kept owner-only.
jobctl token revoke dashboard >/dev/null 2>&1 || true
(umask 077 && jobctl token create dashboard --scope operate |
  grep -o 'chime_dashboard_[A-Za-z0-9_-]*' | head -1 >.chime/dashboard-token)
echo "token in .chime/dashboard-token"

step "HTTP on the scheduler: /readyz and /metrics (the dashboard is at /)"
if [[ -n "$HTTP_ADDR" ]] && command -v curl >/dev/null; then
  curl -s "http://$HTTP_ADDR/readyz"; echo
  curl -s "http://$HTTP_ADDR/metrics" | grep -E '^chime_(queue_ready_jobs|scheduler_leader|scheduler_workers_connected|jobs\{.*state="succeeded")' | head -8
else
  echo "(no HTTP address in the scheduler's log, or no curl)"
fi

cat <<EOF

The cluster keeps running (logs in $RUN_DIR/).
Dashboard: http://$HTTP_ADDR/#token=$(cat .chime/dashboard-token 2>/dev/null)
  (scope operate; the page keeps the token in the tab). Metrics: http://$HTTP_ADDR/metrics
For more jobctl commands:
  export CHIME_SCHEDULER=$CHIME_SCHEDULER CHIME_ADMIN_SECRET_FILE=$CHIME_ADMIN_SECRET_FILE
  $JOBCTL enqueue sleep --payload '{"ms":500}' --wait
Stop the cluster and PostgreSQL with:
  scripts/demo.sh stop
EOF
