#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-22 (ASan + UBSan) into build-fuzz/
# and runs one for SECONDS (default 60) on one core:
#   import (default): bytes as a binary ONNX model, seeded with the exported
#     test models and ONNX's backend node-test models;
#   text: bytes as ONNX's text format (.onnxtxt), seeded with the text
#     models of the lit tests (their `#--- NAME.onnxtxt` sections);
#   runtime: bytes as a kiln_run call (inputs, dtypes, ranks, dims, buffers
#     and their sizes, outputs) on a small compiled model, linked with the
#     runtime built with ASan + UBSan (fuzz/runtime/), seeded with valid
#     calls (fuzz/runtime/make_seeds.py).
#   scripts/fuzz.sh [SECONDS] [import|text|runtime]
# A crash leaves its input in build-fuzz/crashes/ and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
target=${2:-import}
case "$target" in
  import|text|runtime) ;;
  *) echo "fuzz.sh: unknown target '$target' (import, text or runtime)" >&2; exit 2 ;;
esac
scripts/setup-fuzz-build.sh
ninja -C build-fuzz "kiln-$target-fuzzer"
seeds=build-fuzz/seeds corpus=build-fuzz/corpus
[ "$target" = text ] && seeds=build-fuzz/seeds-text corpus=build-fuzz/corpus-text
[ "$target" = runtime ] && seeds=build-fuzz/seeds-runtime corpus=build-fuzz/corpus-runtime
mkdir -p "$seeds" "$corpus" build-fuzz/crashes
if [ -z "$(ls -A "$seeds")" ]; then
  if [ "$target" = runtime ]; then
    /usr/bin/python3 fuzz/runtime/make_seeds.py "$seeds"
  elif [ "$target" = text ]; then
    /usr/bin/python3 - "$seeds" <<'PY'
import pathlib, re, sys
out = pathlib.Path(sys.argv[1])
n = 0
for t in sorted(pathlib.Path("test").rglob("*.test")):
    parts = re.split(r"^#--- (\S+)\n", t.read_text(), flags=re.M)
    for name, body in zip(parts[1::2], parts[2::2]):
        if name.endswith(".onnxtxt"):
            (out / f"seed_{n}.onnxtxt").write_text(body)
            n += 1
PY
  else
    /usr/bin/python3 test/models/export_models.py "$seeds" >/dev/null
    i=0
    for f in /usr/share/libonnx-testdata/data/node/*/model.onnx; do
      [ -f "$f" ] || continue
      cp "$f" "$seeds/node_$i.onnx"; i=$((i + 1))
    done
  fi
fi
# -rss_limit_mb: a model may legitimately ask for big constants; the
# importer must refuse what it cannot hold rather than exhaust memory.
ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
  "build-fuzz/bin/kiln-$target-fuzzer" "$corpus" "$seeds" -max_total_time="$secs" \
  -max_len=262144 -rss_limit_mb=6144 -timeout=30 \
  -artifact_prefix=build-fuzz/crashes/ -print_final_stats=1
