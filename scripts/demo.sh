#!/usr/bin/env bash
# README command 1: installs what is missing, builds into build/, starts a
# private PostgreSQL under .chime/pg, applies the schema, enqueues demo jobs
# shaped like the seed documents and shows them with `jobctl list` and
# `jobctl stats`.
#
# Idempotent: a second run reuses the build, the running server and the jobs.
# Every demo job carries a unique key, so while the jobs are live (no worker
# has run them) a re-run answers "existing job N" instead of piling up copies.
#
# Environment:
#   CHIME_BUILD_DIR  build directory (default: build)
#   CHIME_DEMO_DIR   PostgreSQL directory for scripts/pg.sh (default: .chime/pg)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR="${CHIME_BUILD_DIR:-build}"
PG_DIR="${CHIME_DEMO_DIR:-.chime/pg}"
JOBCTL="$BUILD_DIR/jobctl/jobctl"

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

step "Installing missing packages"
scripts/install-deps.sh

step "Building into $BUILD_DIR/"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# Only what the demo runs; scripts/test.sh builds everything, tests included.
cmake --build "$BUILD_DIR" -j"$(nproc)" --target jobctl chime-worker

step "Starting PostgreSQL in $PG_DIR"
CHIME_DATABASE_URL=$(scripts/pg.sh start "$PG_DIR")
export CHIME_DATABASE_URL
echo "CHIME_DATABASE_URL=$CHIME_DATABASE_URL"

step "Applying the schema"
jobctl migrate

step "Enqueueing demo jobs"
# Capacity reconciliation across all active exams, reporting drift only.
jobctl enqueue reconcile_exam_capacity --payload '{"dry_run":true}' \
  --unique-key demo:reconcile-all
# The nightly fan-out: one sync per (user, provider) that is due.
jobctl enqueue process_all_users \
  --payload '{"maxUsers":50,"jobType":"scheduled-sync","timeframeDays":1}' \
  --unique-key demo:process-all-users
# Housekeeping runs on its own queue, behind user-facing work.
jobctl enqueue cleanup_old_jobs --payload '{"retentionDays":7}' --queue maintenance \
  --priority 5 --unique-key demo:cleanup
jobctl enqueue reset_stale_jobs --queue maintenance --priority 5 --unique-key demo:reset-stale
jobctl enqueue noop --unique-key demo:noop
# Delayed: a GitHub sync due at its 15-minute cadence.
jobctl enqueue sync_integration --payload '{"userId":"demo-user","provider":"github"}' \
  --delay 15m --timeout 2m --max-attempts 5 --unique-key demo:sync-github

step "Deduplication: the same unique key twice gives one job"
# A second enqueue with a live job's key returns that job ("existing job N").
for _ in 1 2; do
  jobctl enqueue reconcile_exam_capacity --payload '{"examId":"demo-exam-1","dry_run":true}' \
    --unique-key exam:demo-exam-1 --dry-run --json
done

# DEMO-WORKER: the runtime issue starts the scheduler and chime-worker here
# and waits until the demo jobs finish.

step "Jobs"
jobctl list

step "Statistics"
jobctl stats

cat <<EOF

PostgreSQL keeps running in $PG_DIR for more jobctl commands, e.g.
  export CHIME_DATABASE_URL=$CHIME_DATABASE_URL
  $JOBCTL show 1
Stop it with:
  scripts/pg.sh stop $PG_DIR
EOF
