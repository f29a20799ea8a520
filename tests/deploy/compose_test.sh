#!/usr/bin/env bash
# The docker-compose cluster of docker-compose.yml, run for real:
#   1. a Docker engine (started here if installed but not running),
#   2. a Debian base image from debootstrap + docker import (no registry is
#      reachable), PostgreSQL from deploy/postgres/Dockerfile and Chime from
#      deploy/Dockerfile on it: under ctest with the binaries of the build
#      folder (CHIME_PREBUILT=1, nothing compiled twice), run by hand or with
#      CHIME_DEPLOY_FROM_SOURCE=1 compiled in the image as users build it,
#   3. the cluster up, scaled to 3 workers; 1,000 jobs through jobctl, all
#      succeeded exactly once, on all three workers,
#   4. a worker container killed (SIGKILL) mid-job: every job still succeeds
#      exactly once, the killed attempts end as lease_expired,
#   5. the leading scheduler container stopped: the other takes over and the
#      demo schedule keeps firing once per minute, no tick lost or doubled,
#   6. everything torn down, volumes included (also on failure).
# Prints the duration of each phase. Exit 0: passed; 77: no Docker engine can
# be had here (ctest reports a skip); anything else: failed.
#
# Environment: CHIME_SOURCE_DIR (default: this checkout), CHIME_BINARY_DIR (a
# build folder whose scheduler/, worker/ and jobctl/ binaries the image ships;
# default none: compile in the image), CHIME_DEPLOY_FROM_SOURCE=1 (compile in
# the image even so), CHIME_DEPLOY_WORK
# (scratch folder, default a temporary one), CHIME_DEBIAN_MIRROR,
# CHIME_DEPLOY_KEEP=1 (leave a failed cluster up to look at; then
# `docker-compose -p <project> down -v`).
set -euo pipefail

SRC="${CHIME_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
# The image's binaries: those of this build folder (ctest passes it), or
# compiled in the image from $SRC when none is given or
# CHIME_DEPLOY_FROM_SOURCE=1.
BIN_DIR="${CHIME_BINARY_DIR:-}"
if [[ "${CHIME_DEPLOY_FROM_SOURCE:-}" == 1 ]]; then BIN_DIR=""; fi
WORK="${CHIME_DEPLOY_WORK:-$(mktemp -d /tmp/chime-compose.XXXXXX)}"
MIRROR="${CHIME_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BASE_IMAGE=chime-local/debian:bookworm-slim
POSTGRES_IMAGE=chime-local/postgres:15
CHIME_IMAGE=chime-local/chime:test
PROJECT="chimetest$$"
START=$(date +%s)
PHASE_START=$START

phase() {
  local now
  now=$(date +%s)
  echo "== [$((now - START)) s, previous phase $((now - PHASE_START)) s] $*"
  PHASE_START=$now
}
fail() {
  echo "compose_test: FAILED: $*" >&2
  exit 1
}
skip() {
  echo "compose_test: SKIPPED: $*" >&2
  exit 77
}

# Polls until "$@" succeeds; fails naming what it waited for after $2 s.
wait_for() {
  local what="$1" timeout="$2"
  shift 2
  local deadline=$(($(date +%s) + timeout))
  until "$@" >/dev/null 2>&1; do
    [[ $(date +%s) -lt $deadline ]] || fail "timed out after ${timeout} s waiting for $what"
    sleep 1
  done
}

# --- 1. A Docker engine -------------------------------------------------------
STARTED_DOCKERD=""
if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null || skip "no Docker engine running and no dockerd installed"
  [[ $(id -u) -eq 0 ]] || skip "no Docker engine running, and starting dockerd needs root"
  phase "starting dockerd (log: $WORK/dockerd.log)"
  mkdir -p "$WORK"
  dockerd >"$WORK/dockerd.log" 2>&1 &
  STARTED_DOCKERD=$!
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$STARTED_DOCKERD" 2>/dev/null || break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    tail -20 "$WORK/dockerd.log" >&2
    skip "dockerd did not start here (its log above)"
  fi
fi
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null; then
  COMPOSE=(docker-compose)
else
  fail "neither 'docker compose' nor docker-compose is installed (scripts/install-deps.sh installs docker-compose)"
fi
mkdir -p "$WORK"

compose() { "${COMPOSE[@]}" --project-name "$PROJECT" --project-directory "$SRC" -f "$SRC/docker-compose.yml" "$@"; }
# Queries PostgreSQL in its container (local socket, trusted).
sql() { compose exec -T postgres psql -U chime -d chime -v ON_ERROR_STOP=1 -Atc "$1"; }
jobctl() { compose run --rm -T jobctl "$@"; }
# Conditions for wait_for.
sql_is() { [[ $(sql "$1") == "$2" ]]; }
sql_at_least() { [[ $(sql "$1") -ge $2 ]]; }
sql_any() { [[ -n $(sql "$1") ]]; }

teardown() {
  local rc=$?
  if [[ $rc -ne 0 && $rc -ne 77 ]]; then
    echo "--- logs of the cluster (last 60 lines each) ---" >&2
    compose logs --no-color --tail=60 >&2 2>&1 || true
  fi
  if [[ $rc -ne 0 && "${CHIME_DEPLOY_KEEP:-}" == 1 ]]; then
    echo "compose_test: left project $PROJECT up (CHIME_DEPLOY_KEEP=1)"
    exit $rc
  fi
  phase "tearing down (containers, network, volumes)"
  compose --profile tools down --volumes --remove-orphans --timeout 45 >/dev/null 2>&1 || true
  if [[ -n "$STARTED_DOCKERD" ]]; then
    kill "$STARTED_DOCKERD" 2>/dev/null || true
    wait "$STARTED_DOCKERD" 2>/dev/null || true
  fi
  [[ -n "${CHIME_DEPLOY_WORK:-}" ]] || rm -rf "$WORK"
  echo "compose_test: $( [[ $rc -eq 0 ]] && echo passed || echo "exit $rc" ) in $(($(date +%s) - START)) s"
  exit $rc
}
trap teardown EXIT
trap 'exit 130' INT TERM

# --- 2. Images ----------------------------------------------------------------
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  phase "debootstrap bookworm (minbase) from $MIRROR, docker import as $BASE_IMAGE"
  command -v debootstrap >/dev/null || fail "debootstrap is not installed (scripts/install-deps.sh installs it)"
  debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -20 "$WORK/debootstrap.log" >&2; fail "debootstrap failed"; }
  tar -C "$WORK/rootfs" -c . | docker import - "$BASE_IMAGE" >/dev/null
  rm -rf "$WORK/rootfs"
fi
phase "building $POSTGRES_IMAGE (deploy/postgres/Dockerfile)"
docker build -q --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$POSTGRES_IMAGE" "$SRC/deploy/postgres" >/dev/null 2>"$WORK/postgres-build.log" ||
  { tail -30 "$WORK/postgres-build.log" >&2; fail "building the PostgreSQL image"; }
BINARIES=(chime-scheduler chime-worker jobctl)
if [[ -n "$BIN_DIR" ]]; then
  # The binaries this build has just made and its tests have run, in the
  # image's runtime stage as they are: the Dockerfile with CHIME_PREBUILT=1
  # installs and compiles nothing (host and image are both Debian 12). Its
  # build context is a folder of its own: deploy/ and prebuilt/.
  phase "building $CHIME_IMAGE (deploy/Dockerfile, CHIME_PREBUILT=1: the binaries of $BIN_DIR)"
  context="$WORK/image-context"
  rm -rf "$context"
  mkdir -p "$context/prebuilt/bin"
  cp -r "$SRC/deploy" "$context/deploy"
  for b in "${BINARIES[@]}"; do
    case "$b" in chime-scheduler) dir=scheduler ;; chime-worker) dir=worker ;; jobctl) dir=jobctl ;; esac
    [[ -x "$BIN_DIR/$dir/$b" ]] || fail "$BIN_DIR/$dir/$b is not built"
    strip -o "$context/prebuilt/bin/$b" "$BIN_DIR/$dir/$b"
  done
  "$SRC/deploy/runtime-packages.sh" "$context/prebuilt/bin/"* >"$context/prebuilt/runtime-packages" ||
    fail "deploy/runtime-packages.sh"
  docker build -f "$SRC/deploy/Dockerfile" --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg BUILD_IMAGE="$BASE_IMAGE" \
    --build-arg CHIME_PREBUILT=1 -t "$CHIME_IMAGE" "$context" >"$WORK/chime-build.log" 2>&1 ||
    { tail -40 "$WORK/chime-build.log" >&2; fail "building the Chime image"; }
else
  # chime-bench is left out: the cluster does not run it, and compiling its
  # two dozen files again took minutes of CI's 30 (the default image has it).
  phase "building $CHIME_IMAGE (deploy/Dockerfile compiles; unoptimised, as the test build; no chime-bench)"
  docker build -f "$SRC/deploy/Dockerfile" --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg BUILD_IMAGE="$BASE_IMAGE" \
    --build-arg CMAKE_BUILD_TYPE=Debug --build-arg CMAKE_ARGS=-DCMAKE_CXX_FLAGS_DEBUG=-O0 \
    --build-arg CHIME_TARGETS="${BINARIES[*]}" \
    -t "$CHIME_IMAGE" "$SRC" >"$WORK/chime-build.log" 2>&1 ||
    { tail -40 "$WORK/chime-build.log" >&2; fail "building the Chime image"; }
fi
# The runtime image: non-root, the binaries it was built with, no compiler.
[[ $(docker run --rm "$CHIME_IMAGE" id -u) == 10001 ]] || fail "the image does not run as uid 10001"
docker run --rm "$CHIME_IMAGE" sh -c 'for b in chime-scheduler chime-worker jobctl; do "$b" --help >/dev/null || exit 1; done; ! command -v c++' ||
  fail "the image lacks a binary that answers --help, or carries a compiler"
echo "image size: $(docker image inspect -f '{{.Size}}' "$CHIME_IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }')"

# --- 3. Up, scaled to three workers, 1,000 jobs -------------------------------
export CHIME_IMAGE POSTGRES_IMAGE
export CHIME_SECRETS_DIR="$WORK/secrets"
export CHIME_HTTP_PORT_A="" CHIME_HTTP_PORT_B=""  # Any free loopback port.
export CHIME_WORKER_LEASE_MS=5000                  # A killed worker's jobs rerun after 5 s.
"$SRC/deploy/compose-secrets.sh" "$CHIME_SECRETS_DIR" >/dev/null

healthy() {  # healthy SERVICE COUNT: COUNT containers of SERVICE report healthy.
  local ids n=0 id
  ids=$(compose ps -q "$1")
  for id in $ids; do
    [[ $(docker inspect -f '{{.State.Health.Status}}' "$id") == healthy ]] && n=$((n + 1))
  done
  [[ $n -ge $2 ]]
}

both_schedulers_healthy() { healthy scheduler-a 1 && healthy scheduler-b 1; }

phase "docker compose up (postgres, migrate, scheduler-a, scheduler-b, worker)"
compose up -d --no-build >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log" >&2; fail "compose up"; }
wait_for "both schedulers healthy" 120 both_schedulers_healthy
phase "scaling to 3 workers"
compose up -d --no-build --scale worker=3 >>"$WORK/up.log" 2>&1 || { cat "$WORK/up.log" >&2; fail "compose up --scale worker=3"; }
wait_for "3 healthy workers" 120 healthy worker 3
[[ $(compose ps -q worker | wc -l) -eq 3 ]] || fail "expected 3 worker containers"
[[ $(sql "SELECT count(*) FROM chime.schedules WHERE name = 'demo-heartbeat'") == 1 ]] ||
  fail "the demo schedules were not loaded"

phase "enqueueing 1,000 jobs through jobctl"
jobctl enqueue noop --count 1000 >"$WORK/ids"
[[ $(wc -l <"$WORK/ids") -eq 1000 ]] || fail "jobctl printed $(wc -l <"$WORK/ids") ids, expected 1000"
# Ids as listed: a schedule's job may take an id between them.
batch="($(paste -sd, "$WORK/ids"))"
in_batch="job_id IN $batch"
wait_for "1,000 jobs succeeded" 180 sql_is "SELECT count(*) FROM chime.jobs_all WHERE id IN $batch AND state = 'succeeded'" 1000
[[ $(sql "SELECT count(*) FROM chime.runs WHERE $in_batch AND outcome = 'succeeded'") == 1000 ]] ||
  fail "1,000 jobs did not succeed exactly once each"
workers_used=$(sql "SELECT count(DISTINCT worker_id) FROM chime.runs WHERE $in_batch")
echo "1,000 jobs succeeded once each, on $workers_used workers"
[[ $workers_used -eq 3 ]] || fail "expected the jobs on all 3 workers, got $workers_used"

# --- 4. A worker killed mid-job ---------------------------------------------
phase "killing a worker mid-job (SIGKILL)"
# Long enough that the kill surely lands while the victim holds some.
jobctl enqueue sleep --payload '{"ms":10000}' --count 24 >"$WORK/slow-ids"
batch="($(paste -sd, "$WORK/slow-ids"))"
in_batch="job_id IN $batch"
wait_for "a slow job running" 60 sql_any "SELECT worker_id FROM chime.jobs_all WHERE id IN $batch AND state = 'running' LIMIT 1"
victim_worker=$(sql "SELECT worker_id FROM chime.jobs_all WHERE id IN $batch AND state = 'running' LIMIT 1")
# A worker's id is its host name (the container id's first 12 digits) and pid.
victim=""
for id in $(compose ps -q worker); do
  [[ "$victim_worker" == "${id:0:12}"-* ]] && victim=$id
done
[[ -n "$victim" ]] || fail "no worker container has id $victim_worker"
held=$(sql "SELECT count(*) FROM chime.jobs_all WHERE worker_id = '$victim_worker' AND state = 'running'")
# SIGKILL to the worker process from outside, as the OOM killer would: a
# crash, so the restart policy brings the container back (`docker kill`
# would count as a deliberate stop).
kill -KILL "$(docker inspect -f '{{.State.Pid}}' "$victim")"
echo "killed worker $victim_worker holding $held running jobs"
wait_for "24 slow jobs succeeded" 180 sql_is "SELECT count(*) FROM chime.jobs_all WHERE id IN $batch AND state = 'succeeded'" 24
[[ $(sql "SELECT count(*) FROM (SELECT job_id FROM chime.runs WHERE $in_batch AND outcome = 'succeeded' GROUP BY job_id HAVING count(*) = 1) once") == 24 ]] ||
  fail "a slow job did not succeed exactly once: $(sql "SELECT job_id, outcome, worker_id FROM chime.runs WHERE $in_batch ORDER BY job_id")"
expired=$(sql "SELECT count(*) FROM chime.runs WHERE $in_batch AND worker_id = '$victim_worker' AND outcome = 'lease_expired'")
echo "the killed worker's attempts ended lease_expired: $expired of $held; every job succeeded once"
[[ $expired -ge 1 ]] || fail "no attempt of the killed worker was rescued (lease_expired)"
wait_for "the killed worker restarted healthy" 120 healthy worker 3

# --- 5. The leading scheduler stopped --------------------------------------
is_leader() { compose exec -T "$1" jobctl probe "http://127.0.0.1:8080/readyz?leader=required" >/dev/null 2>&1; }
phase "stopping the leading scheduler"
leader="" standby=""
for s in scheduler-a scheduler-b; do
  if is_leader "$s"; then leader="$s"; else standby="$s"; fi
done
[[ -n "$leader" && -n "$standby" ]] || fail "expected exactly one leading scheduler (leader '$leader')"
heartbeat="SELECT id FROM chime.schedules WHERE name = 'demo-heartbeat'"
# A tick fired under this leader, so the check below spans the change.
wait_for "a demo-heartbeat fire" 75 sql_at_least "SELECT count(*) FROM chime.fires WHERE schedule_id = ($heartbeat)" 1
old_epoch=$(sql "SELECT max(leader_epoch) FROM chime.fires WHERE schedule_id = ($heartbeat)")
compose stop --timeout 30 "$leader" >/dev/null 2>&1
stopped_at=$(sql "SELECT now()")
echo "stopped $leader (epoch $old_epoch); $standby stands by"
wait_for "$standby to lead" 60 is_leader "$standby"
phase "$standby leads; waiting for the next minute's tick"
wait_for "a tick after the stop" 90 \
  sql_at_least "SELECT count(*) FROM chime.fires WHERE schedule_id = ($heartbeat) AND scheduled_for > '$stopped_at'" 1
# Once per tick, none lost: one fire per minute from the first to the last.
read -r fires minutes enqueued new_epoch < <(sql "SELECT count(*), extract(epoch FROM max(scheduled_for) - min(scheduled_for))::int / 60 + 1,
    count(*) FILTER (WHERE job_id IS NOT NULL), max(leader_epoch)
  FROM chime.fires WHERE schedule_id = ($heartbeat)" | tr '|' ' ')
echo "demo-heartbeat: $fires fires over $minutes minutes, $enqueued enqueued; epoch $old_epoch -> $new_epoch"
[[ $fires -eq $minutes ]] || fail "expected one fire per minute, got $fires over $minutes minutes"
[[ $enqueued -eq $fires ]] || fail "a fire enqueued no job"
[[ $new_epoch -gt $old_epoch ]] || fail "the tick after the stop was not fired under a new epoch"

phase "all checks passed"
