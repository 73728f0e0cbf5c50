#!/usr/bin/env bash
# Installs clang-22 and its libFuzzer/sanitizer runtimes (Debian 12
# packages) and configures build-fuzz/: kiln built with clang, ASan and
# UBSan (-DKILN_FUZZ=ON). Shared by scripts/fuzz.sh and scripts/sanitize.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-22 >/dev/null || ! dpkg-query -W -f='${Status}' libclang-rt-22-dev 2>/dev/null | grep -q "install ok installed"; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends clang-22 libclang-rt-22-dev >/dev/null
fi
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang-22 CXX=clang++-22 cmake -G Ninja -S . -B build-fuzz \
    -DCMAKE_BUILD_TYPE=Release -DKILN_FUZZ=ON >/dev/null
fi
