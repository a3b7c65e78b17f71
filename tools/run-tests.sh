#!/usr/bin/env bash
# Builds nenep and runs every test (unit, integration over real gRPC, the
# SIGKILL crash cycles, the format check). Installs what it needs first.
#
#   tools/run-tests.sh              everything
#   tools/run-tests.sh -L unit      ctest arguments pass through
#
# BUILD_DIR (default: build) is the CMake build directory.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
ninja -C "$BUILD_DIR"
ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 900 -j2 "$@"
