#!/bin/sh
# Prints, one a line and sorted, the Debian packages that hold the shared
# libraries the given binaries load: what deploy/Dockerfile's runtime stage
# installs, so that its libraries match what was linked. Run where the
# binaries were linked: the Dockerfile's build stage, or the host for the
# prebuilt image of tests/deploy/compose_test.sh. Fails if a library is not
# found or belongs to no package.
#
#   deploy/runtime-packages.sh BINARY...
set -eu
[ $# -gt 0 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }
libs=$(ldd "$@") || { echo "runtime-packages: ldd failed on $*" >&2; exit 1; }
if echo "$libs" | grep 'not found' >&2; then
  echo "runtime-packages: the libraries above are not found" >&2
  exit 1
fi
packages=""
for lib in $(echo "$libs" | awk '/=> \//{ print $3 }' | sort -u); do
  owner=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null) || {
    echo "runtime-packages: $lib belongs to no Debian package" >&2
    exit 1
  }
  packages="$packages
$(echo "$owner" | cut -d: -f1)"
done
echo "$packages" | sed '/^$/d' | sort -u
