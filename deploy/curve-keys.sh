#!/usr/bin/env bash
# Makes the CURVE keys of a Chime deployment in DIR (kept where present, so a
# second run adds only what is missing; a key pair is never replaced, since
# its peers would be locked out):
#
#   curve-scheduler-keypair  the schedulers' key pair (every replica shares it)
#   curve-scheduler-public   its public key: CHIME_CURVE_SERVER_PUBLIC_KEY_FILE
#   curve-worker-keypair     the workers' key pair (every worker shares it)
#   curve-jobctl-keypair     jobctl's key pair
#   curve-allowed-keys       the clients the schedulers accept: the workers'
#                            and jobctl's public keys
#
#   deploy/curve-keys.sh DIR
#
# Used by deploy/compose-secrets.sh and deploy/k8s/make-secret.sh. Needs
# openssl (deploy/curve-keygen.sh). Files are created mode 0600.
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
HERE="$(cd "$(dirname "$0")" && pwd)"
DIR="$1"
mkdir -p "$DIR"
umask 077

for role in scheduler worker jobctl; do
  if [[ ! -s "$DIR/curve-$role-keypair" ]]; then
    rm -f "$DIR/curve-$role-keypair"  # An empty leftover of an interrupted run.
    "$HERE/curve-keygen.sh" "$DIR/curve-$role-keypair" >/dev/null
  fi
done
# The first key line of a pair file (a 40-character word) is its public key.
public_key() { awk 'length($1) == 40 { print $1; exit }' "$1"; }
public_key "$DIR/curve-scheduler-keypair" >"$DIR/curve-scheduler-public"
{
  echo "# Clients the schedulers accept (deploy/curve-keys.sh); one public key a line"
  echo "$(public_key "$DIR/curve-worker-keypair") workers"
  echo "$(public_key "$DIR/curve-jobctl-keypair") jobctl"
} >"$DIR/curve-allowed-keys"
