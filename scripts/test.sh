#!/usr/bin/env bash
# Runs every kiln test: installs dependencies, builds, runs the lit suites
# (dialect, passes, importer, error cases, exported PyTorch models), the
# import check of the ONNX backend node tests against the committed list,
# and the sanitizer job (scripts/sanitize.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh || exit 1
scripts/build.sh || exit 1

# ONNX Runtime from npm is the numerical reference of the end-to-end tests.
if [ ! -d test/e2e/node_modules/onnxruntime-node ]; then
  (cd test/e2e && npm install --ignore-scripts --no-audit --no-fund --loglevel=error) || exit 1
fi

LIT=/usr/lib/llvm-22/bin/lit
lit_out=$(mktemp)
"$LIT" -sv build/test 2>&1 | tee "$lit_out"
lit_rc=${PIPESTATUS[0]}
lit_pass=$(grep -Eo 'Passed *: *[0-9]+' "$lit_out" | grep -Eo '[0-9]+$' || echo 0)
lit_fail=$(grep -Eo 'Failed *: *[0-9]+' "$lit_out" | grep -Eo '[0-9]+$' || echo 0)
[ -n "$lit_pass" ] || lit_pass=0
[ -n "$lit_fail" ] || lit_fail=0

echo "== ONNX backend node tests: import check against test/conformance/import_pass.txt"
/usr/bin/python3 test/conformance/import_node_tests.py --kiln build/bin/kiln \
  --check-list test/conformance/import_pass.txt
conf_rc=$?
echo "== ONNX backend node tests: compile + run against test/conformance/run_pass.txt"
/usr/bin/python3 test/conformance/run_node_tests.py --kiln build/bin/kiln \
  --check-list test/conformance/run_pass.txt
[ $? -eq 0 ] || conf_rc=1
conf_fail=0; [ $conf_rc -eq 0 ] || conf_fail=1

# The compiler built with clang, ASan and UBSan runs the compiler-only lit
# suites, then the importer fuzzer for 60 s (scripts/sanitize.sh).
echo "== sanitizer job: scripts/sanitize.sh"
scripts/sanitize.sh 60
san_rc=$?
san_fail=0; [ $san_rc -eq 0 ] || san_fail=1

total_fail=$((lit_fail + conf_fail + san_fail))
[ $lit_rc -eq 0 ] || [ $lit_fail -gt 0 ] || total_fail=$((total_fail + 1))
echo "kiln: $((lit_pass + 3 - 2 * conf_fail - san_fail)) passed, ${total_fail} failed"
[ $lit_rc -eq 0 ] && [ $conf_rc -eq 0 ] && [ $san_rc -eq 0 ]
