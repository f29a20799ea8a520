#!/bin/sh
# Initialises $PGDATA on first start (superuser $POSTGRES_USER with a
# SCRAM password, database $POSTGRES_DB), then runs the server listening on
# every interface. Runs as the postgres user.
set -eu

if [ "${1:-}" != "postgres" ]; then
  exec "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  user="${POSTGRES_USER:-postgres}"
  db="${POSTGRES_DB:-$user}"
  for name in "$user" "$db"; do
    case "$name" in
      '' | [0-9]* | *[!A-Za-z0-9_]*)
        echo "postgres: POSTGRES_USER and POSTGRES_DB must be identifiers ([A-Za-z_][A-Za-z0-9_]*): '$name'" >&2
        exit 1 ;;
    esac
  done
  if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
    password_file="$POSTGRES_PASSWORD_FILE"
  elif [ -n "${POSTGRES_PASSWORD:-}" ]; then
    password_file=$(mktemp)
    printf '%s' "$POSTGRES_PASSWORD" >"$password_file"
  else
    echo "postgres: set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE" >&2
    exit 1
  fi
  initdb --pgdata="$PGDATA" --username="$user" --pwfile="$password_file" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  [ "$password_file" = "${POSTGRES_PASSWORD_FILE:-}" ] || rm -f "$password_file"
  # Clients come from other containers: password authentication only.
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  if [ "$db" != "postgres" ]; then
    # Single-user mode: no server is up until the database exists.
    echo "CREATE DATABASE \"$db\" OWNER \"$user\"" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "postgres: initialised $PGDATA (user $user, database $db)"
fi

shift
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
