#!/usr/bin/env bash
# Writes a CURVE key pair file, as `jobctl curve-keygen FILE` does, where no
# Chime binary is at hand (a deploy host): OpenSSL makes the X25519 key pair
# (CURVE's keys are X25519 keys, as libsodium makes them) and this script
# writes both keys in Z85, public key first, mode 0600, never over an
# existing file. Prints the public key.
#
#   deploy/curve-keygen.sh FILE
#
# Used by deploy/compose-secrets.sh and deploy/k8s/make-secret.sh.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 FILE" >&2; exit 2; }
FILE="$1"
command -v openssl >/dev/null || { echo "$0: needs openssl (apt-get install openssl)" >&2; exit 1; }
[[ ! -e "$FILE" ]] || { echo "$0: $FILE exists; a key file is never overwritten" >&2; exit 1; }

# Z85 (ZeroMQ RFC 32) of 32 raw bytes read on stdin.
z85() {
  od -An -v -tu1 | awk '
    BEGIN { alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#" }
    { for (i = 1; i <= NF; i++) bytes[n++] = $i }
    END {
      if (n != 32) { print "z85: expected 32 bytes, got " n > "/dev/stderr"; exit 1 }
      out = ""
      for (i = 0; i < n; i += 4) {
        value = ((bytes[i] * 256 + bytes[i + 1]) * 256 + bytes[i + 2]) * 256 + bytes[i + 3]
        chunk = ""
        for (k = 0; k < 5; k++) { chunk = substr(alphabet, value % 85 + 1, 1) chunk; value = int(value / 85) }
        out = out chunk
      }
      print out
    }'
}

umask 077
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
openssl genpkey -algorithm X25519 -outform DER -out "$WORK/key.der" 2>/dev/null
openssl pkey -inform DER -in "$WORK/key.der" -pubout -outform DER -out "$WORK/pub.der" 2>/dev/null
# The raw keys are the last 32 bytes of the PKCS#8 and SubjectPublicKeyInfo DER.
SECRET="$(tail -c 32 "$WORK/key.der" | z85)"
PUBLIC="$(tail -c 32 "$WORK/pub.der" | z85)"
[[ ${#SECRET} -eq 40 && ${#PUBLIC} -eq 40 ]] || { echo "$0: key generation failed" >&2; exit 1; }

# noclobber: a file that appeared meanwhile is not replaced either.
set -o noclobber
printf '# CURVE key pair (deploy/curve-keygen.sh): public key, then secret key\n%s\n%s\n' \
  "$PUBLIC" "$SECRET" >"$FILE"
echo "$PUBLIC"
