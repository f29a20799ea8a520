#!/usr/bin/env bash
# Installs every Debian package Chime's build, tests and local cluster need.
# Idempotent and quick when everything is present: apt is only touched for
# packages that are missing. Nothing is downloaded from outside Debian.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libpqxx-dev libpq-dev
  libzmq3-dev cppzmq-dev libsodium-dev
  libprotobuf-dev protobuf-compiler
  libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev
  libcli11-dev nlohmann-json3-dev libyaml-cpp-dev libhowardhinnant-date-dev
  libcurl4-openssl-dev libssl-dev
  prometheus-cpp-dev libboost-dev  # Boost.Beast + Asio (header-only): common/web's HTTP server
  postgresql-15 postgresql-client-15
  iproute2 procps curl
  chromium  # headless, for the dashboard test
  libjs-chart.js  # Chart.js 3.9, embedded in chime-scheduler for the dashboard's charts
  debootstrap  # the local base image of tests/deploy/compose_test.sh
  libfaketime  # skewed and jumping wall clocks in tests/reliability/clock_test
  pgbouncer  # schedulers and workers behind a transaction pooler (pgbouncer_test)
  clang-19 libclang-rt-19-dev  # libFuzzer targets (scripts/fuzz.sh; g++ 12 has no libFuzzer)
  openssl  # CURVE keys in deploy/curve-keygen.sh (compose secrets, Kubernetes Secret)
  prometheus  # promtool: tests/integration/promtool_test lints both processes' /metrics
  zsh  # jobctl completion zsh is checked by a real zsh (tests/jobctl/completion_test)
)
# A Docker engine and compose for tests/deploy/compose_test.sh, unless some
# engine (Debian's or Docker's own packages) is installed already; kubectl
# (kustomize) for the Kubernetes manifests' test.
command -v dockerd >/dev/null || PACKAGES+=(docker.io)
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null || PACKAGES+=(docker-compose)
command -v kubectl >/dev/null || PACKAGES+=(kubernetes-client)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Update the index once if it is missing or older than a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
  $SUDO apt-get update -qq
fi
# The postgresql package would start a system cluster on port 5432; Chime
# runs its own private servers, so keep the system one from starting.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
