#!/usr/bin/env bash
# What CI no longer runs of deploy/Dockerfile's compile stage, checked
# cheaply (tests/deploy/compose_test.sh ships the binaries the test build
# made, with CHIME_PREBUILT=1, rather than compiling them a second time):
#   1. the stage's apt-get list is scripts/install-deps.sh's build packages:
#      every package it installs is in install-deps.sh, and every build
#      package of install-deps.sh (a -dev, the toolchain, protoc, the embedded
#      Chart.js) is in it, less the test-only ones named below;
#   2. its configure (CHIME_BUILD_TESTS=OFF, so without GoogleTest) succeeds
#      and defines the four binaries it builds by default.
# A full compile in the image: CHIME_DEPLOY_FROM_SOURCE=1 tests/deploy/compose_test.sh.
set -euo pipefail
SRC="${CHIME_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
fail() {
  echo "dockerfile_test: FAILED: $*" >&2
  exit 1
}

# The packages of the build stage's `apt-get install`, up to its `&& rm`.
dockerfile=$(awk '/apt-get install/ { on = 1 } on { print } on && /&& rm/ { exit }' "$SRC/deploy/Dockerfile" |
  tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vxE 'apt-get|install|rm|DEBIAN_FRONTEND' | sort -u)
# install-deps.sh's PACKAGES=( ... ), comments dropped.
install_deps=$(awk '/^PACKAGES=\(/ { on = 1; next } on && /^\)/ { exit } on { sub(/#.*/, ""); print }' \
  "$SRC/scripts/install-deps.sh" | tr ' ' '\n' | sed '/^$/d' | sort -u)
[[ $(wc -l <<<"$dockerfile") -ge 10 ]] || fail "found only these packages in deploy/Dockerfile: $dockerfile"
[[ $(wc -l <<<"$install_deps") -ge 10 ]] || fail "found only these packages in scripts/install-deps.sh: $install_deps"
# Build packages that only the tests and the fuzz build use.
test_only="libgtest-dev libgmock-dev libclang-rt-19-dev"
build_packages=$(grep -E -- '-dev$|^(build-essential|cmake|ninja-build|pkg-config|protobuf-compiler|libjs-chart\.js)$' <<<"$install_deps" |
  grep -vxF -f <(tr ' ' '\n' <<<"$test_only"))

status=0
for p in $dockerfile; do
  grep -qxF "$p" <<<"$install_deps" || { echo "deploy/Dockerfile installs $p, which scripts/install-deps.sh does not" >&2; status=1; }
done
for p in $build_packages; do
  grep -qxF "$p" <<<"$dockerfile" || { echo "scripts/install-deps.sh has the build package $p, which deploy/Dockerfile's build stage lacks" >&2; status=1; }
done
[[ $status -eq 0 ]] || fail "the package lists differ (above)"
echo "deploy/Dockerfile's build stage: $(wc -l <<<"$dockerfile") packages, all of install-deps.sh's build packages"

# The stage's configure, as the Dockerfile runs it, and the targets it builds.
build=$(mktemp -d /tmp/chime-dockerfile-test.XXXXXX)
trap 'rm -rf "$build"' EXIT
cmake -S "$SRC" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCHIME_BUILD_TESTS=OFF >"$build/configure.log" 2>&1 ||
  { tail -30 "$build/configure.log" >&2; fail "cmake -DCHIME_BUILD_TESTS=OFF"; }
targets=$(sed -n 's/^ARG CHIME_TARGETS="\(.*\)"$/\1/p' "$SRC/deploy/Dockerfile")
[[ -n "$targets" ]] || fail "no ARG CHIME_TARGETS default in deploy/Dockerfile"
for t in $targets; do
  ninja -C "$build" -t query "$t" >/dev/null 2>&1 || fail "the configure without tests has no target $t"
done
echo "configure with CHIME_BUILD_TESTS=OFF: ok; targets $targets defined"
