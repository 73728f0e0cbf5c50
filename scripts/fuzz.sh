#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-22 (ASan + UBSan) into build-fuzz/
# and runs the importer fuzzer for SECONDS (default 60) on one core, seeded
# with the exported test models and ONNX's backend node-test models.
#   scripts/fuzz.sh [SECONDS]
# A crash leaves its input in build-fuzz/crashes/ and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
scripts/setup-fuzz-build.sh
ninja -C build-fuzz kiln-import-fuzzer
seeds=build-fuzz/seeds corpus=build-fuzz/corpus
mkdir -p "$seeds" "$corpus" build-fuzz/crashes
if [ -z "$(ls -A "$seeds")" ]; then
  /usr/bin/python3 test/models/export_models.py "$seeds" >/dev/null
  i=0
  for f in /usr/share/libonnx-testdata/data/node/*/model.onnx; do
    [ -f "$f" ] || continue
    cp "$f" "$seeds/node_$i.onnx"; i=$((i + 1))
  done
fi
# -rss_limit_mb: a model may legitimately ask for big constants; the
# importer must refuse what it cannot hold rather than exhaust memory.
ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
  build-fuzz/bin/kiln-import-fuzzer "$corpus" "$seeds" -max_total_time="$secs" \
  -max_len=262144 -rss_limit_mb=6144 -timeout=30 \
  -artifact_prefix=build-fuzz/crashes/ -print_final_stats=1
