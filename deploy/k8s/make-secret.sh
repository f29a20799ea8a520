#!/usr/bin/env bash
# Makes the files of the Secret chime-secrets in DIR, for
# `kubectl create secret generic chime-secrets --from-file=DIR` (each file
# a key). Existing files are kept, so a second run adds only what is
# missing and never replaces a key pair (its peers would be locked out):
#
#   database-url             yours: write it first (a libpq URI); required
#   admin-secret             32 random bytes, base64, unless present
#   curve-*                  the CURVE keys (deploy/curve-keys.sh): ZeroMQ
#                            between workers, jobctl and the schedulers is
#                            encrypted, and the schedulers hear only the
#                            workers' and jobctl's keys
#
#   deploy/k8s/make-secret.sh DIR
#
# DIR holds private keys: keep it out of any repository, owner-only (this
# script makes it so), and delete it once the Secret exists, or keep it in
# your secret manager. Needs openssl.
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
HERE="$(cd "$(dirname "$0")" && pwd)"
DIR="$1"
umask 077
mkdir -p "$DIR"
chmod 700 "$DIR"
if [[ ! -s "$DIR/database-url" ]]; then
  echo "$0: write $DIR/database-url first (a libpq URI, e.g. postgresql://chime:PASSWORD@db:5432/chime?sslmode=verify-full)" >&2
  exit 1
fi
if [[ ! -s "$DIR/admin-secret" ]]; then
  head -c 32 /dev/urandom | base64 | tr -d '\n' >"$DIR/admin-secret"
fi
"$HERE/../curve-keys.sh" "$DIR"
echo "chime-secrets files in $DIR/; now:"
echo "  kubectl -n chime create secret generic chime-secrets --from-file=$DIR"
