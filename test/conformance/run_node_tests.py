#!/usr/bin/python3
"""Compile and run ONNX backend node tests with kiln; compare the outputs.

For each test folder under the ONNX backend node-test data (Debian's
libonnx-testdata by default), restricted to the tests on --from-list (by
default test/conformance/import_pass.txt: the others cannot compile):

  kiln compile <test>/model.onnx -o <tmp>/model.so
  kiln run <tmp>/model.so --inputs <test>/test_data_set_K --output <tmp>/K.npz

for every test_data_set_K folder, then compares each graph output (the npz
key is the graph output name) with output_N.pb (matched to the graph outputs
by position). Shapes and dtypes must match exactly; floating-point values must
satisfy |got - expected| <= atol + rtol * |expected| (rtol 1e-3, atol 1e-5,
as ONNX Runtime's test runner), with NaN equal to NaN and infinities equal
only to themselves; integer, bool and string outputs must match exactly.
bfloat16 outputs (stored as uint16 bit patterns in the test data) are compared
as float32 values with rtol 2**-7 (about one bfloat16 ulp). A test passes when
it compiles and every data set matches.

Each kiln invocation has a timeout (HANG, 120 s); a kiln killed by a signal is
a CRASH. Tests run in a thread pool (-j, default os.cpu_count()), each in its
own temporary folder; `kiln run` gets --threads 1 (see --run-threads) since
the tests already run in parallel.

  --from-list FILE    run only these tests (default import_pass.txt)
  --all               run every node test

  --write-list FILE   write the sorted names of the passing tests
  --check-list FILE   fail (exit 1) if a test on the committed list no longer
                      passes; tests that newly pass are only reported
  --report FILE       write a markdown report of every failure, grouped by
                      cause (compile error, run error, wrong result, CRASH,
                      HANG)
  --summary           print the failure categories and their counts
  --compile-args A    more `kiln compile` arguments, e.g. "--target cuda
                      --emulate-gpu" (the GPU kernels' steps as CPU loops)

The last line printed is always `node tests running: N of M`.
Needs numpy and python3-onnx (run with /usr/bin/python3).
"""

import argparse
import collections
import concurrent.futures
import errno
import glob
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from node_tests_common import (  # noqa: E402
    BINARY_WAIT_S, find_tests, first_error_line, read_list, signal_name,
    wait_for_binary)

try:
    import numpy as np
    import onnx
    from onnx import numpy_helper
except ImportError as e:  # pragma: no cover
    sys.exit(f"error: {e} (run with /usr/bin/python3; needs python3-numpy "
             "and python3-onnx)")

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = "/usr/share/libonnx-testdata/data/node"
DEFAULT_LIST = os.path.join(HERE, "import_pass.txt")
TIMEOUT_S = 120
RTOL = 1e-3
ATOL = 1e-5
# How long to wait for a kiln binary that is missing or being rewritten
# (another build may be relinking it).
STDERR_TAIL_LINES = 12
RELINK_RETRIES = 3
# ONNX test data holds bfloat16 tensors as their uint16 bit patterns; they are
# compared as float32 values to within about one bfloat16 ulp (2**-7
# relative: rounding may differ from the reference's at ties).
BF16_RTOL = 2.0 ** -7

Result = collections.namedtuple("Result", "name ok kind stage error ops tail")
# kind:  "pass"; "compile" / "run" (kiln printed an error and exited 1);
#        "mismatch" (wrong result: values, shape, dtype or a missing output);
#        "bad-output" (kiln run exited 0 but numpy cannot read its .npz);
#        "harness" (the expected data could not be read);
#        "CRASH" (killed by a signal); "HANG" (timeout).
# stage: "compile", "run" or "compare" (where it failed).
# ops:   the op type of the model's node ("A+B" for several node types).
# tail:  the last lines of kiln's stderr for CRASH / HANG, else "".


def tail(text, n=STDERR_TAIL_LINES):
    lines = [l.rstrip() for l in text.splitlines() if l.strip()]
    return "\n".join(lines[-n:])


class KilnFailure(Exception):
    def __init__(self, kind, error, tail=""):
        super().__init__(error)
        self.kind, self.error, self.tail = kind, error, tail


def binary_id(path):
    try:
        st = os.stat(path)
        return (st.st_ino, st.st_mtime_ns, st.st_size)
    except OSError:
        return None


def run_kiln(cmd, stage, timeout):
    """Runs kiln; raises KilnFailure unless it exits 0.

    A kiln that fails while its binary is being relinked (by a build running
    beside this script) is run again: a kiln whose executable was replaced
    under it cannot find its runtime archive, for one.
    """
    deadline = time.monotonic() + BINARY_WAIT_S
    retries = RELINK_RETRIES
    while True:
        before = binary_id(cmd[0])
        try:
            # A session of its own, so that a timeout also ends what kiln
            # started (the linker), which would otherwise hold the pipes.
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE,
                                 start_new_session=True)
            try:
                out_b, err_b = p.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                out_b, err_b = p.communicate()
                err = err_b.decode("utf-8", "replace")
                raise KilnFailure("HANG", f"HANG in kiln {stage}: no exit "
                                  f"after {timeout} s", tail(err))
            if (p.returncode != 0 and retries > 0
                    and binary_id(cmd[0]) != before):
                retries -= 1
                time.sleep(2)
                continue
            break
        except OSError as e:
            # Binary briefly missing or 'text file busy' while relinking.
            if (e.errno in (errno.ENOENT, errno.ETXTBSY, errno.EACCES)
                    and time.monotonic() < deadline):
                time.sleep(2)
                continue
            raise KilnFailure(stage, f"could not run kiln: {e}")
    if p.returncode == 0:
        return
    err = err_b.decode("utf-8", "replace")
    out = out_b.decode("utf-8", "replace")
    line = first_error_line(err) or first_error_line(out)
    if p.returncode < 0:
        msg = f"CRASH in kiln {stage} ({signal_name(-p.returncode)})"
        if line:
            msg += ": " + line
        raise KilnFailure("CRASH", msg, tail(err or out))
    if not line:
        line = f"exit {p.returncode} with no error message"
    raise KilnFailure(stage, line)


def op_label(model):
    ops = []
    for n in model.graph.node:
        op = f"{n.domain}.{n.op_type}" if n.domain not in ("", "ai.onnx") \
            else n.op_type
        if op not in ops:
            ops.append(op)
    if not ops:
        return "(no nodes)"
    if len(ops) > 4:
        return "+".join(ops[:4]) + f"+...({len(ops)} op types)"
    return "+".join(ops)


def fmt_val(v):
    if isinstance(v, (bytes, str)):
        return repr(v)
    try:
        if isinstance(v, np.floating):
            return f"{float(v):.7g}"
        return repr(v.item())
    except (AttributeError, ValueError, TypeError):
        return repr(v)


def compare(out_name, got, exp, rtol=RTOL, atol=ATOL):
    """None if got matches exp, else a one-line description of the error."""
    if got.shape != exp.shape:
        return (f"output '{out_name}': shape {list(got.shape)}, "
                f"expected {list(exp.shape)}")
    if got.dtype != exp.dtype:
        return (f"output '{out_name}': dtype {got.dtype}, "
                f"expected {exp.dtype}")
    if exp.size == 0:
        return None
    if exp.dtype.kind in "fc":
        wide = np.complex128 if exp.dtype.kind == "c" else np.float64
        g = got.astype(wide)
        e = exp.astype(wide)
        with np.errstate(invalid="ignore", over="ignore"):
            both_nan = np.isnan(g) & np.isnan(e)
            diff = np.abs(g - e)
            # Infinities must match exactly (inf - inf is not "close").
            finite = np.isfinite(g) & np.isfinite(e)
            close = (g == e) | both_nan | (
                finite & (diff <= atol + rtol * np.abs(e)))
        bad = ~close
        if not bad.any():
            return None
        nbad = int(bad.sum())
        idx = np.unravel_index(int(np.argmax(bad)), bad.shape)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            d = np.where(bad, diff, 0.0)
            d = np.where(np.isnan(d), np.inf, d)
            max_abs = float(np.max(d))
            rel = np.where(bad, diff / np.abs(e), 0.0)
            rel = np.where(np.isnan(rel), np.inf, rel)
            max_rel = float(np.max(rel))
        return (f"output '{out_name}': {nbad} of {exp.size} values differ; "
                f"max abs err {max_abs:.3g}, max rel err {max_rel:.3g}; "
                f"first at {list(map(int, idx))}: got {fmt_val(got[idx])}, "
                f"expected {fmt_val(exp[idx])}")
    bad = got != exp
    if not np.any(bad):
        return None
    nbad = int(np.sum(bad))
    idx = np.unravel_index(int(np.argmax(bad)), bad.shape)
    msg = f"output '{out_name}': {nbad} of {exp.size} values differ"
    if exp.dtype.kind in "iu":
        with np.errstate(over="ignore"):
            d = np.abs(got.astype(np.float64) - exp.astype(np.float64))
        msg += f"; max abs err {float(np.max(d)):.6g}"
    return (msg + f"; first at {list(map(int, idx))}: got "
            f"{fmt_val(got[idx])}, expected {fmt_val(exp[idx])}")


def bfloat16_bits_to_float32(a):
    return (a.astype(np.uint32) << 16).view(np.float32)


def compare_bfloat16(out_name, got, exp):
    """Compares a bfloat16 output: exp holds uint16 bit patterns (as ONNX
    test data stores bfloat16); got may be bit patterns (uint16) or values
    (float32)."""
    if exp.dtype == np.uint16:
        exp = bfloat16_bits_to_float32(exp)
    if got.dtype == np.uint16:
        got = bfloat16_bits_to_float32(got)
    if got.dtype != np.float32:
        return (f"output '{out_name}': dtype {got.dtype} for a bfloat16 "
                "output, expected uint16 bit patterns or float32")
    return compare(out_name, got, exp.astype(np.float32), rtol=BF16_RTOL)


def run_one(kiln, data_dir, name, timeout, run_threads, compile_args=()):
    test_dir = os.path.join(data_dir, name)
    model_path = os.path.join(test_dir, "model.onnx")
    ops = "?"
    try:
        model = onnx.load(model_path)
        ops = op_label(model)
        outputs = list(model.graph.output)
    except Exception as e:  # noqa: BLE001
        return Result(name, False, "harness", "compile",
                      f"cannot read model.onnx: {e}", ops, "")
    # Checked after compiling, so that kiln's own error comes first.
    non_tensor = [o.name for o in outputs if not o.type.HasField("tensor_type")]
    data_sets = sorted(glob.glob(os.path.join(test_dir, "test_data_set_*")),
                       key=lambda p: int(re.sub(r"\D", "", os.path.basename(p))
                                         or 0))
    if not data_sets:
        return Result(name, False, "harness", "run",
                      "no test_data_set_* folder", ops, "")

    with tempfile.TemporaryDirectory(prefix="kiln-run-") as tmp:
        so = os.path.join(tmp, "model.so")
        stage = "compile"
        try:
            run_kiln([kiln, "compile", model_path, "-o", so, *compile_args],
                     "compile",
                     timeout)
            if non_tensor:
                return Result(name, False, "harness", "compare",
                              f"output '{non_tensor[0]}' is not a tensor "
                              "(sequence/map/optional outputs are not "
                              "compared)", ops, "")
            stage = "run"
            for ds in data_sets:
                ds_name = os.path.basename(ds)
                npz = os.path.join(tmp, ds_name + ".npz")
                cmd = [kiln, "run", so, "--inputs", ds, "--output", npz]
                if run_threads is not None:
                    cmd += ["--threads", str(run_threads)]
                stage = "run"
                run_kiln(cmd, "run", timeout)
                stage = "compare"
                err = check_outputs(npz, ds, outputs)
                if err:
                    kind = "mismatch"
                    if err.startswith("harness: "):
                        kind, err = "harness", err[len("harness: "):]
                    elif err.startswith("cannot read kiln's output"):
                        kind = "bad-output"
                    if len(data_sets) > 1:
                        err = f"{ds_name}: {err}"
                    return Result(name, False, kind, "compare", err, ops, "")
        except KilnFailure as f:
            return Result(name, False, f.kind, stage, f.error, ops, f.tail)
    return Result(name, True, "pass", "", "", ops, "")


def check_outputs(npz, ds, outputs):
    """None if every output in npz matches ds/output_N.pb, else the error."""
    try:
        with np.load(npz, allow_pickle=False) as z:
            got = {k: z[k] for k in z.files}
    except Exception as e:  # noqa: BLE001
        return f"cannot read kiln's output {os.path.basename(npz)}: {e}"
    for i, o in enumerate(outputs):
        pb = os.path.join(ds, f"output_{i}.pb")
        if not os.path.isfile(pb):
            return f"harness: missing expected output_{i}.pb"
        try:
            exp = numpy_helper.to_array(onnx.load_tensor(pb))
        except Exception as e:  # noqa: BLE001
            return f"harness: cannot read output_{i}.pb: {e}"
        if o.name not in got:
            return (f"output '{o.name}' missing from kiln's outputs "
                    f"(has {sorted(got)})")
        if o.type.tensor_type.elem_type == onnx.TensorProto.BFLOAT16:
            err = compare_bfloat16(o.name, got[o.name], exp)
        else:
            err = compare(o.name, got[o.name], exp)
        if err:
            return err
    return None


# Names in error messages vary per test; strip them to group by cause.
_QUOTED_NODE_RE = re.compile(r"\bnode '[^']*'")
_LOC_RE = re.compile(r"loc\([^)]*\)")
_NUM_RE = re.compile(r"(?<![\w.])-?\d+(\.\d+)?(e-?\d+)?(?![\w])")
_SHAPE_RE = re.compile(r"tensor<[^>]*>")


def normalize_message(msg):
    m = msg
    m = re.sub(r"^kiln: error: ", "", m)
    m = _QUOTED_NODE_RE.sub("node", m)
    m = _LOC_RE.sub("loc(...)", m)
    m = re.sub(r"\s*\(in [^)]*\.onnx\)", "", m)
    m = re.sub(r"/\S+\.(onnx|so|npz|pb)\b", "FILE", m)
    m = re.sub(r"\b(input|output) '[^']*'", r"\1 '...'", m)
    m = _SHAPE_RE.sub("tensor<...>", m)
    m = _NUM_RE.sub("N", m)
    # Unsigned element types reaching signless-only arith ops: one cause.
    if "must be signless" in m:
        m = re.sub(r"'arith\.\w+'", "'arith.*'", m)
        m = re.sub(r"'ui\d+'", "'uiN'", m)
    return m.strip()


def categorize(r):
    """A short cause for a failure, used to group the report."""
    if r.kind in ("CRASH", "HANG"):
        return f"{r.kind} (kiln {r.stage})"
    if r.kind == "mismatch":
        e = r.error
        if "missing from kiln's outputs" in e:
            return "wrong result: missing output"
        if ": shape " in e:
            return "wrong result: shape"
        if ": dtype " in e:
            return "wrong result: dtype"
        return "wrong result: values"
    if r.kind == "harness":
        return "harness: " + normalize_message(r.error)
    if r.kind == "bad-output":
        return "run error: kiln wrote an unreadable .npz"
    return f"{r.kind} error: {normalize_message(r.error)}"


def write_report(path, failures, total, elapsed):
    groups = collections.defaultdict(list)
    for r in failures:
        groups[categorize(r)].append(r)
    order = sorted(groups, key=lambda c: (-len(groups[c]), c))

    def esc(s):
        return s.replace("|", "\\|").replace("\n", " ")

    with open(path, "w") as f:
        f.write("# kiln compile + run: ONNX node test failures\n\n")
        f.write(f"{len(failures)} of {total} node tests fail "
                f"(rtol {RTOL:g}, atol {ATOL:g}; run took {elapsed:.0f} s).\n\n")
        f.write("| category | tests |\n|---|---|\n")
        for c in order:
            f.write(f"| {esc(c)} | {len(groups[c])} |\n")
        for c in order:
            f.write(f"\n## {c} ({len(groups[c])})\n\n")
            f.write("| test | op | error |\n|---|---|---|\n")
            for r in sorted(groups[c]):
                f.write(f"| {r.name} | {esc(r.ops)} | {esc(r.error)} |\n")
            for r in sorted(groups[c]):
                if r.tail:
                    f.write(f"\n### {r.name}: stderr tail\n\n```\n{r.tail}\n"
                            "```\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kiln", required=True, help="path to the kiln binary")
    ap.add_argument("--data", default=DEFAULT_DATA,
                    help=f"node test folder (default {DEFAULT_DATA})")
    ap.add_argument("--from-list", metavar="FILE", default=DEFAULT_LIST,
                    help="only run the tests on this list (default: "
                    "test/conformance/import_pass.txt)")
    ap.add_argument("--all", action="store_true",
                    help="run every node test, ignoring --from-list")
    ap.add_argument("--write-list", metavar="FILE",
                    help="write the sorted names of passing tests")
    ap.add_argument("--check-list", metavar="FILE",
                    help="exit 1 if a test on this list no longer passes")
    ap.add_argument("--report", metavar="FILE",
                    help="write a report of failures grouped by cause")
    ap.add_argument("--summary", action="store_true",
                    help="print failure categories and counts")
    ap.add_argument("-k", "--filter", metavar="REGEX",
                    help="only run tests whose name matches REGEX")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timeout", type=int, default=TIMEOUT_S,
                    help="timeout per kiln invocation in seconds "
                    f"(default {TIMEOUT_S})")
    ap.add_argument("--run-threads", type=int, default=1, metavar="N",
                    help="pass --threads N to `kiln run` (default 1: the "
                    "tests already run in parallel; 0: all cores; -1: do not "
                    "pass --threads)")
    ap.add_argument("--compile-args", default="", metavar="ARGS",
                    help="more `kiln compile` arguments (one shell-quoted "
                    "string), e.g. \"--target cuda --emulate-gpu\"")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print every failure")
    args = ap.parse_args()

    if not os.path.isdir(args.data):
        sys.exit(f"error: node test folder {args.data} not found "
                 "(install Debian's libonnx-testdata)")
    kiln = os.path.abspath(args.kiln)
    compile_args = shlex.split(args.compile_args)
    wait_for_binary(kiln)
    available = set(find_tests(args.data))
    if args.all:
        tests = sorted(available)
    else:
        tests = read_list(args.from_list)
    expected = read_list(args.check_list) if args.check_list else []
    # Tests on the check list always run, so that a regression is noticed
    # even when the test dropped off --from-list.
    tests = sorted(set(tests) | set(expected))
    if args.filter:
        tests = [t for t in tests if re.search(args.filter, t)]
        expected = [t for t in expected if re.search(args.filter, t)]
    missing = [t for t in tests if t not in available]
    tests = [t for t in tests if t in available]
    for t in missing:
        print(f"warning: {t} not found in {args.data}")
    if not tests:
        sys.exit("error: no node tests to run")

    run_threads = None if args.run_threads < 0 else args.run_threads
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        results = list(pool.map(
            lambda t: run_one(kiln, args.data, t, args.timeout, run_threads,
                             compile_args),
            tests))
    elapsed = time.monotonic() - start

    passed = sorted(r.name for r in results if r.ok)
    failures = [r for r in results if not r.ok]
    by_name = {r.name: r for r in results}

    for r in failures:
        if r.kind in ("CRASH", "HANG") or args.verbose:
            print(f"{r.kind}: {r.name}: {r.error}")

    if args.write_list:
        with open(args.write_list, "w") as f:
            f.writelines(n + "\n" for n in passed)
        print(f"wrote {len(passed)} passing tests to {args.write_list}")

    if args.report:
        write_report(args.report, failures, len(results), elapsed)
        print(f"wrote failure report to {args.report}")

    if args.summary:
        counts = collections.Counter(categorize(r) for r in failures)
        print("failures by category:")
        for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {n:5d}  {c}")

    status = 0
    if args.check_list:
        expected_set = set(expected)
        regressions = []
        for name in expected:
            r = by_name.get(name)
            if r is None:
                regressions.append((name, "test not found in " + args.data))
            elif not r.ok:
                regressions.append((name, r.error))
        newly = [n for n in passed if n not in expected_set]
        for name, err in regressions:
            print(f"REGRESSION: {name}: {err}")
        for name in newly:
            print(f"newly passing: {name}")
        if newly:
            print(f"{len(newly)} tests newly pass; update the list with "
                  f"--write-list {args.check_list}")
        if regressions:
            print(f"{len(regressions)} tests on {args.check_list} "
                  "no longer pass")
            status = 1
        else:
            print(f"all {len(expected)} tests on {args.check_list} pass")

    print(f"took {elapsed:.1f} s with {max(1, args.jobs)} workers")
    print(f"node tests running: {len(passed)} of {len(results)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
