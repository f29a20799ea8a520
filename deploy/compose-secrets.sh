#!/usr/bin/env bash
# Makes the secrets docker-compose.yml reads, once: a random PostgreSQL
# password, the database URL that carries it, the admin secret that signs
# jobctl's requests and opens the HTTP API, and the CURVE keys that encrypt
# and authenticate ZeroMQ (on by default): the schedulers' key pair and its
# public key, one key pair for the workers and one for jobctl, and the
# allowlist of those two public keys. Existing files are kept, so running it
# again adds only what is missing (a key pair is never replaced: its peers
# would be locked out).
#
#   deploy/compose-secrets.sh [DIR]     (default: $CHIME_SECRETS_DIR or
#                                        .chime/compose-secrets)
#
# The folder is owner-only; the files in it are readable by the containers'
# non-root users (uid 10001 for Chime, postgres for PostgreSQL), which see
# only the files their service lists, bind-mounted at /run/secrets/NAME.
# The CURVE keys need openssl (deploy/curve-keys.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-${CHIME_SECRETS_DIR:-.chime/compose-secrets}}"

mkdir -p "$DIR"
chmod 700 "$DIR"
# Hex only: the password goes into a URL unescaped.
random_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

if [[ ! -s "$DIR/postgres-password" ]]; then
  random_hex 24 >"$DIR/postgres-password"
fi
if [[ ! -s "$DIR/database-url" ]]; then
  printf 'postgresql://chime:%s@postgres:5432/chime\n' "$(cat "$DIR/postgres-password")" >"$DIR/database-url"
fi
if [[ ! -s "$DIR/admin-secret" ]]; then
  random_hex 32 >"$DIR/admin-secret"
fi

# CURVE: one key pair per role; a replica or a scaled worker shares its
# role's pair.
deploy/curve-keys.sh "$DIR"

chmod 644 "$DIR/postgres-password" "$DIR/database-url" "$DIR/admin-secret" "$DIR"/curve-*
echo "compose secrets in $DIR/"
