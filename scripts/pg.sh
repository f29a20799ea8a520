#!/usr/bin/env bash
# Runs a private PostgreSQL server for Chime's tests, demo and benchmarks.
#
#   scripts/pg.sh start DIR    initdb if needed, start, wait until ready, print URL
#   scripts/pg.sh stop DIR     fast shutdown; succeeds if nothing is running
#   scripts/pg.sh url DIR      print the URL if the server runs, else exit 1
#   scripts/pg.sh destroy DIR  stop and remove the cluster
#
# DIR holds: data/ (the cluster, or a symlink to it, see below), postgres.log
# (server and initdb output), url (written at start, removed at stop).
# The URL is postgresql://postgres@127.0.0.1:PORT/postgres; authentication is
# "trust" and the server listens on 127.0.0.1 only (unless CHIME_PG_LISTEN
# says more), on a free port picked at the first start and reused while it
# stays free. Unix sockets are disabled: a socket path is limited to ~107
# bytes and must be reachable by the server user, and every client here
# connects over TCP anyway.
#
# Environment:
#   CHIME_PG_FAST=1  fsync, synchronous_commit and full_page_writes off. For the
#                    test harness only: a crash can lose or corrupt the data.
#                    The demo and the bench run with normal durability.
#   CHIME_PG_BIN     directory holding initdb/pg_ctl (default: the newest
#                    /usr/lib/postgresql/*/bin, else the one pg_config names).
#   CHIME_PG_LISTEN  listen_addresses, comma-separated (default 127.0.0.1, which
#                    the list must keep: the URL and the readiness probe use
#                    it). For tests that reach the server from another network
#                    namespace, e.g. "127.0.0.1,10.213.0.5".
#   CHIME_PG_TRUST   CIDRs, comma-separated, whose clients are trusted like
#                    loopback ones (default none), e.g. "10.213.0.4/30". Only
#                    for throwaway test servers on private veth subnets.
#
# Running as root: PostgreSQL refuses to run as root, so every server-side
# command runs as the `postgres` user (runuser) and DIR is chowned to it. If
# `postgres` still cannot reach DIR (e.g. a checkout under /root, mode 700), the
# cluster goes to /tmp/chime-pg-<hash of DIR> and DIR/data is a symlink to it.
# We chose this over failing because it makes `pg.sh start DIR` work from any
# checkout; the log and url files stay in DIR since root writes them.
set -euo pipefail

readonly PROG="${0##*/}"

die() {
  echo "$PROG: $*" >&2
  exit 1
}

usage() {
  echo "usage: $PROG {start|stop|url|destroy} DIR" >&2
  exit 2
}

find_pg_bin() {
  if [[ -n "${CHIME_PG_BIN:-}" ]]; then
    echo "$CHIME_PG_BIN"
    return
  fi
  local newest
  newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n "$newest" && -x "$newest/pg_ctl" ]]; then
    echo "$newest"
  elif command -v pg_config >/dev/null; then
    pg_config --bindir
  else
    die "cannot find PostgreSQL binaries; set CHIME_PG_BIN"
  fi
}

is_root() { [[ $EUID -eq 0 ]]; }

# Runs a command as the server user, from / so that a cwd the postgres user
# cannot enter (e.g. /root) does not upset initdb or pg_ctl.
as_pg() {
  if is_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

url_for_port() { echo "postgresql://postgres@127.0.0.1:$1/postgres"; }

# Sets DATA to the cluster directory of DIR (resolving the /tmp symlink).
resolve_data() {
  if [[ -L "$DIR/data" ]]; then
    DATA=$(readlink "$DIR/data")
  else
    DATA="$DIR/data"
  fi
}

# For `start`: decides where the cluster lives and prepares ownership.
prepare_data() {
  if ! is_root; then
    DATA="$DIR/data"
    return
  fi
  id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user"
  chown postgres: "$DIR" 2>/dev/null || true
  if [[ -L "$DIR/data" ]]; then
    resolve_data
  elif [[ -e "$DIR/data" ]] || runuser -u postgres -- test -x "$DIR" -a -w "$DIR" 2>/dev/null; then
    DATA="$DIR/data"
  else
    DATA="/tmp/chime-pg-$(printf '%s' "$DIR" | sha256sum | cut -c1-16)"
    echo "$PROG: user postgres cannot reach $DIR; keeping the cluster in $DATA" >&2
    ln -sfn "$DATA" "$DIR/data"
  fi
  if [[ "$DATA" != "$DIR/data" ]]; then
    if [[ ! -e "$DATA" ]]; then
      as_pg mkdir -m 700 "$DATA"
    elif [[ "$(stat -c %U "$DATA")" != postgres ]]; then
      die "$DATA exists but is not owned by postgres; remove it or pick another DIR"
    fi
  elif [[ -e "$DATA" && "$(stat -c %U "$DATA")" != postgres ]]; then
    chown -R postgres: "$DATA"
  fi
}

has_cluster() { [[ -f "$DATA/PG_VERSION" ]]; }

# Prints the postmaster's pid if it is alive, else fails.
server_pid() {
  local pidfile="$DATA/postmaster.pid" pid
  [[ -f "$pidfile" ]] || return 1
  pid=$(sed -n 1p "$pidfile" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == postgres* ]] || return 1
  echo "$pid"
}

# Prints the port of the running server (line 4 of postmaster.pid).
server_port() { sed -n 4p "$DATA/postmaster.pid"; }

wait_ready() {
  local port=$1 i
  for ((i = 0; i < 600; i++)); do
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

port_free() { [[ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ]]; }

# The port of the last start if it is still free, else a random free one.
pick_port() {
  local last="" port i
  if [[ -f "$DATA/chime.conf" ]]; then
    last=$(sed -n 's/^port = \([0-9]*\)$/\1/p' "$DATA/chime.conf")
  fi
  if [[ -n "$last" && -z "${SKIP_LAST_PORT:-}" ]] && port_free "$last"; then
    echo "$last"
    return
  fi
  for ((i = 0; i < 100; i++)); do
    port=$(shuf -i 20000-60000 -n 1)
    if port_free "$port"; then
      echo "$port"
      return
    fi
  done
  die "no free TCP port found in 20000-60000"
}

# Checks CHIME_PG_LISTEN and CHIME_PG_TRUST before anything is written.
check_network_env() {
  local listen=${CHIME_PG_LISTEN:-127.0.0.1} item
  [[ "$listen" =~ ^[0-9A-Za-z.:,*-]+$ ]] || die "CHIME_PG_LISTEN: not a list of addresses: '$listen'"
  [[ ",$listen," == *,127.0.0.1,* ]] || die "CHIME_PG_LISTEN must include 127.0.0.1 (the URL uses it)"
  IFS=, read -ra TRUST_NETS <<<"${CHIME_PG_TRUST:-}"
  for item in "${TRUST_NETS[@]}"; do
    [[ "$item" =~ ^[0-9a-fA-F.:]+/[0-9]+$ ]] || die "CHIME_PG_TRUST: not a CIDR: '$item'"
  done
}

write_conf() {
  local port=$1 net
  # With CHIME_PG_TRUST, authentication comes from chime_hba.conf: initdb's
  # pg_hba.conf plus one trust line per network, rewritten at every start so
  # that a start without the variable trusts nothing more.
  if ((${#TRUST_NETS[@]} > 0)); then
    {
      cat "$DATA/pg_hba.conf"
      echo "# Added by scripts/pg.sh from CHIME_PG_TRUST."
      for net in "${TRUST_NETS[@]}"; do echo "host all all $net trust"; done
    } >"$DATA/chime_hba.conf"
    if is_root; then chown postgres: "$DATA/chime_hba.conf"; fi
  fi
  {
    echo "# Written by scripts/pg.sh at every start; edits here are overwritten."
    echo "listen_addresses = '${CHIME_PG_LISTEN:-127.0.0.1}'"
    if ((${#TRUST_NETS[@]} > 0)); then echo "hba_file = '$DATA/chime_hba.conf'"; fi
    echo "port = $port"
    echo "unix_socket_directories = ''"
    echo "max_connections = 200"
    echo "shared_buffers = '256MB'"
    if [[ "${CHIME_PG_FAST:-0}" == 1 ]]; then
      echo "# CHIME_PG_FAST=1: no durability, for throwaway test clusters."
      echo "fsync = off"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
    fi
  } >"$DATA/chime.conf"
  if is_root; then chown postgres: "$DATA/chime.conf"; fi
}

fail_with_log() {
  echo "$PROG: $1; last lines of $LOG:" >&2
  tail -n 30 "$LOG" >&2 || true
  exit 1
}

publish_url() {
  local url
  url=$(url_for_port "$1")
  echo "$url" >"$DIR/url.tmp"
  mv -f "$DIR/url.tmp" "$DIR/url"
  echo "$url"
}

cmd_start() {
  check_network_env
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd -P)
  LOG="$DIR/postgres.log"
  exec 9>>"$DIR/.pg.lock"
  flock 9
  prepare_data

  if server_pid >/dev/null; then
    local port
    port=$(server_port)
    wait_ready "$port" || fail_with_log "server (pid $(server_pid)) runs but does not answer on port $port"
    publish_url "$port"
    return
  fi

  if ! has_cluster; then
    echo "$PROG: initdb in $DATA" >&2
    as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres --auth=trust \
      --encoding=UTF8 --no-locale >>"$LOG" 2>&1 </dev/null 9>&- ||
      fail_with_log "initdb failed"
    echo "include_if_exists = 'chime.conf'" >>"$DATA/postgresql.conf"
  fi

  local attempt port offset
  for ((attempt = 1; attempt <= 5; attempt++)); do
    port=$(pick_port)
    write_conf "$port"
    offset=$(($(stat -c %s "$LOG" 2>/dev/null || echo 0) + 1))
    # No -l: the postmaster inherits this redirection, so root opens the log
    # even where the postgres user could not. fd 9 (our lock) must not leak
    # into the server, or the next `start` would wait on it forever.
    if as_pg "$PG_BIN/pg_ctl" -D "$DATA" -w -t 60 start >>"$LOG" 2>&1 </dev/null 9>&-; then
      # With several listen addresses (CHIME_PG_LISTEN) the server starts
      # when any one of them binds; the port taken on another, 127.0.0.1
      # say, is a failed start all the same.
      if tail -c "+$offset" "$LOG" | grep -q 'could not create listen socket'; then
        echo "$PROG: port $port is taken on one of the listen addresses; retrying" >&2
        as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >>"$LOG" 2>&1 </dev/null 9>&- ||
          fail_with_log "cannot stop the server after a partial start"
        SKIP_LAST_PORT=1
        continue
      fi
      wait_ready "$port" || fail_with_log "server started but pg_isready gets no answer on port $port"
      publish_url "$port"
      return
    fi
    if tail -c "+$offset" "$LOG" | grep -q -e 'Address already in use' -e 'could not create any TCP/IP sockets'; then
      echo "$PROG: port $port was taken meanwhile; retrying" >&2
      SKIP_LAST_PORT=1
      continue
    fi
    fail_with_log "server failed to start"
  done
  fail_with_log "server failed to start after $((attempt - 1)) attempts"
}

# Sets DIR, DATA and LOG for commands that must not create anything; returns
# 1 if DIR does not exist.
open_existing() {
  [[ -d "$DIR" ]] || return 1
  DIR=$(cd "$DIR" && pwd -P)
  LOG="$DIR/postgres.log"
  resolve_data
}

cmd_stop() {
  open_existing || return 0
  exec 9>>"$DIR/.pg.lock"
  flock 9
  rm -f "$DIR/url"
  server_pid >/dev/null || return 0
  if ! as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >>"$LOG" 2>&1 </dev/null 9>&-; then
    echo "$PROG: fast shutdown failed; trying immediate" >&2
    as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m immediate -w -t 30 stop >>"$LOG" 2>&1 </dev/null 9>&- ||
      fail_with_log "cannot stop the server in $DATA"
  fi
}

cmd_url() {
  open_existing || exit 1
  server_pid >/dev/null || exit 1
  url_for_port "$(server_port)"
}

cmd_destroy() {
  cmd_stop
  open_existing || return 0
  # Remove only what `start` could have made: DIR/data or /tmp/chime-pg-*.
  if [[ "$DATA" != "$DIR/data" && ! "$DATA" =~ ^/tmp/chime-pg-[0-9a-f]+$ ]]; then
    die "refusing to remove $DATA: $DIR/data points outside /tmp/chime-pg-*"
  fi
  rm -rf -- "$DATA"
  rm -f -- "$DIR/data" "$DIR/url" "$DIR/.pg.lock"
}

[[ $# -eq 2 ]] || usage
DIR=$2
[[ -n "$DIR" ]] || usage
PG_BIN=$(find_pg_bin)
DATA=""
LOG=""
TRUST_NETS=()
case "$1" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  url) cmd_url ;;
  destroy) cmd_destroy ;;
  *) usage ;;
esac
