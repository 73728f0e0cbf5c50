#!/usr/bin/env bash
# The sanitizer job (CI runs it from scripts/test.sh): kiln's compiler built
# with clang-22, AddressSanitizer and UBSan (build-fuzz/, -DKILN_FUZZ=ON,
# shared with scripts/fuzz.sh), then
#   1. the whole lit suite against the instrumented kiln and kiln-opt: the
#      dialect, pass, codegen and importer tests, and the end-to-end and
#      runtime tests, whose models the instrumented kiln imports, lowers,
#      compiles and links (a heap overflow, a use after free or undefined
#      behaviour anywhere in the compiler fails its test with a report);
#      the models themselves link the uninstrumented runtime archive (a
#      model is a -z defs shared library), whose kernels run under ASan +
#      UBSan in test/runtime/sanitize.test of the main (gcc) suite, left out
#      here (clang's UBSan runtime differs from gcc's), as is
#      test/runtime/tsan.test (TSan excludes ASan: this build has no TSan
#      runtime archive);
#   2. a 60-second smoke run of the importer fuzzer, a 30-second one of
#      the text-format fuzzer and one of the runtime's input validation
#      (scripts/fuzz.sh).
# Leak checking is off: MLIR keeps its contexts' allocations until exit.
# The freed-memory quarantine is 64 MB instead of 256: a use after free is
# still caught unless 64 MB were freed in between, and a CUDA compile of
# BERT (test/e2e/cuda.test) took 2.6 s instead of 3.8-4.3 s (577 MB of
# resident memory, most of it quarantine, against 373 MB).
#   scripts/sanitize.sh [FUZZ_SECONDS]
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
scripts/setup-fuzz-build.sh || exit 1
ninja -C build-fuzz || exit 1
echo "== sanitizer job: the lit suites with kiln built with ASan + UBSan"
ASAN_OPTIONS=detect_leaks=0:quarantine_size_mb=64 /usr/lib/llvm-22/bin/lit -s \
  --filter-out 'runtime/(sanitize|tsan)\.test' build-fuzz/test
lit_rc=$?
echo "== sanitizer job: importer fuzzer, ${secs} s"
scripts/fuzz.sh "$secs" > build-fuzz/fuzz-smoke.log 2>&1
fuzz_rc=$?
tail -n 8 build-fuzz/fuzz-smoke.log
[ $fuzz_rc -eq 0 ] || echo "sanitizer job: the fuzzer failed (build-fuzz/crashes/)"
echo "== sanitizer job: text-format fuzzer, 30 s"
scripts/fuzz.sh 30 text > build-fuzz/fuzz-text-smoke.log 2>&1
text_rc=$?
tail -n 8 build-fuzz/fuzz-text-smoke.log
[ $text_rc -eq 0 ] || echo "sanitizer job: the text fuzzer failed (build-fuzz/crashes/)"
echo "== sanitizer job: runtime input fuzzer, 30 s"
scripts/fuzz.sh 30 runtime > build-fuzz/fuzz-runtime-smoke.log 2>&1
runtime_rc=$?
tail -n 8 build-fuzz/fuzz-runtime-smoke.log
[ $runtime_rc -eq 0 ] || echo "sanitizer job: the runtime fuzzer failed (build-fuzz/crashes/)"
[ $lit_rc -eq 0 ] && [ $fuzz_rc -eq 0 ] && [ $text_rc -eq 0 ] && [ $runtime_rc -eq 0 ]
