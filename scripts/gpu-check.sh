#!/usr/bin/env bash
# The on-GPU check of --target cuda (scripts/gpu_check.py).
#   scripts/gpu-check.sh prepare [DIR]  here (kiln built, CUDA toolkit; no GPU needed)
#   scripts/gpu-check.sh run [DIR]      on the GPU machine (numpy; PyTorch for anchors)
#   scripts/gpu-check.sh [DIR]          both, on a machine that has everything
# DIR defaults to gpu-check/ (git-ignored; carry it to the GPU machine).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
dir=${2:-gpu-check}
case "$mode" in
  prepare) exec /usr/bin/python3 scripts/gpu_check.py prepare "$dir" ;;
  run) exec python3 scripts/gpu_check.py run "$dir" ;;
  *) dir=${1:-gpu-check}
     /usr/bin/python3 scripts/gpu_check.py prepare "$dir"
     exec python3 scripts/gpu_check.py run "$dir" ;;
esac
