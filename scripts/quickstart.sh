#!/usr/bin/env bash
# Sets kiln up on a fresh Debian 12 machine and runs the main job on the
# bundled example model: a small BERT exported from PyTorch (opset 14).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
echo "== kiln import examples/bert_tiny.onnx --summary"
build/bin/kiln import examples/bert_tiny.onnx --summary
echo "== the same model specialized to batch=1, seq=16 (first lines of the IR)"
build/bin/kiln import examples/bert_tiny.onnx --input-shape batch=1,seq=16 --elide-weights | head -n 12
