#!/usr/bin/env bash
# Builds and runs bench/gemm_bench.c against the built runtime (build/lib).
# usage: bench/gemm_bench.sh [threads [shape-name-filter]]
set -euo pipefail
cd "$(dirname "$0")/.."
cc -O2 -std=gnu11 -Iinclude bench/gemm_bench.c build/lib/libkiln_runtime.a \
  -o build/gemm_bench -lpthread -lm -ldl
build/gemm_bench "$@"
