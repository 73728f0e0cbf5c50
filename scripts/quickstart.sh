#!/usr/bin/env bash
# Sets kiln up on a fresh Debian 12 machine and runs the main job on the
# bundled example model: a small BERT exported from PyTorch (opset 14).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
if [ ! -d test/e2e/node_modules/onnxruntime-node ]; then
  (cd test/e2e && npm install --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
echo "== kiln import examples/bert_tiny.onnx --summary"
build/bin/kiln import examples/bert_tiny.onnx --summary | head -n 14
echo "== kiln compile + run, next to ONNX Runtime"
/usr/bin/python3 examples/run_example.py
