#!/usr/bin/env bash
# Installs the Debian 12 packages nenep builds and runs with. Idempotent: when
# every package is already installed it does nothing and needs no root.
#
#   tools/setup.sh            build + test dependencies
#   tools/setup.sh --bench    also PostgreSQL 15 (for tools/bench/compare_postgres.sh)
set -euo pipefail

packages=(
  # toolchain
  cmake ninja-build pkg-config g++ clang-14 libclang-rt-14-dev clang-format
  # gRPC 1.51, Protobuf 3.21 (+ grpc_cpp_plugin, health.proto)
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc grpc-proto
  # storage and support libraries
  librocksdb-dev libabsl-dev libspdlog-dev libfmt-dev prometheus-cpp-dev
  libssl-dev libicu-dev tzdata
  # nenepd's allocator (cmake/nenep_allocator.cmake)
  libjemalloc-dev
  # nightly reports (.xlsx)
  libxlsxwriter-dev
  # tests (unzip opens the nightly .xlsx reports)
  libgtest-dev libgmock-dev unzip openssl
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(postgresql-15 postgresql-client-15)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "setup: installing ${#missing[@]} Debian package(s): ${missing[*]}" >&2
if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "setup: these packages are missing and I cannot install them:" >&2
  echo "  ${missing[*]}" >&2
  echo "setup: run as root, or give this user password-less sudo, or install them with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
  # A fresh machine may have no package lists yet.
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi
