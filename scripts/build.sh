#!/usr/bin/env bash
# Configures and builds kiln into build/ (Release, Ninja, shared libMLIR/libLLVM).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release -DKILN_WERROR=ON >/dev/null
fi
ninja -C build -j"$(nproc)"
