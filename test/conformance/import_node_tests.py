#!/usr/bin/python3
"""Import every ONNX backend node test model with `kiln import`.

Runs `kiln import <test>/model.onnx -o /dev/null` for each test folder under
the ONNX backend node-test data (Debian's libonnx-testdata by default), in a
thread pool, with a per-model timeout. A model passes when kiln exits 0.
A timeout is reported as HANG, death by a signal as CRASH.

  --write-list FILE   write the sorted names of the passing tests
  --check-list FILE   fail (exit 1) if a test on the committed list no longer
                      passes; tests that newly pass are only reported
  --report FILE       write a markdown table of every failure, grouped by cause
  --summary           print the failure categories and their counts

The last line printed is always `node tests importing: N of M`.
Standard library only.
"""

import argparse
import collections
import concurrent.futures
import errno
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from node_tests_common import (  # noqa: E402
    BINARY_WAIT_S, find_tests, first_error_line, read_list, signal_name,
    wait_for_binary)

DEFAULT_DATA = "/usr/share/libonnx-testdata/data/node"
TIMEOUT_S = 60
# How long to wait for a kiln binary that is missing or being rewritten
# (another build may be relinking it).

Result = collections.namedtuple("Result", "name ok kind error")
# kind: "pass", "fail" (kiln reported an error), "CRASH", "HANG"


def run_one(kiln, data_dir, name, timeout):
    model = os.path.join(data_dir, name, "model.onnx")
    cmd = [kiln, "import", model, "-o", os.devnull]
    deadline = time.monotonic() + BINARY_WAIT_S
    while True:
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=timeout)
            break
        except subprocess.TimeoutExpired:
            return Result(name, False, "HANG",
                          f"HANG: no exit after {timeout} s")
        except OSError as e:
            # Binary briefly missing or 'text file busy' while relinking.
            if (e.errno in (errno.ENOENT, errno.ETXTBSY, errno.EACCES)
                    and time.monotonic() < deadline):
                time.sleep(2)
                continue
            return Result(name, False, "fail", f"could not run kiln: {e}")
    if p.returncode == 0:
        return Result(name, True, "pass", "")
    err = p.stderr.decode("utf-8", "replace")
    line = first_error_line(err) or first_error_line(
        p.stdout.decode("utf-8", "replace"))
    if p.returncode < 0:
        msg = f"CRASH ({signal_name(-p.returncode)})"
        if line:
            msg += ": " + line
        return Result(name, False, "CRASH", msg)
    if not line:
        line = f"exit {p.returncode} with no error message"
    return Result(name, False, "fail", line)


_NODE_RE = re.compile(r"node '[^']*' \((\w+)(?:, domain '([^']*)')?")


def categorize(r):
    """A short cause for a failure, used to group the report."""
    if r.kind in ("CRASH", "HANG"):
        return r.kind
    e = r.error
    m = re.search(r"model uses default-domain opset (\d+)", e)
    if m:
        return "opset < 13" if int(m.group(1)) < 13 else "opset > 21"
    if "imports no default-domain" in e:
        return "opset: no default-domain (ai.onnx) opset imported"
    node = _NODE_RE.search(e)
    op = node.group(1) if node else None
    if node and node.group(2):
        op = f"{node.group(2)}.{op}"
    if "unsupported operator" in e:
        return f"unsupported operator {op}"
    if "is not a tensor" in e:
        return "non-tensor value (sequence/map/optional)"
    if "STRING" in e:
        return "string tensors"
    if "control flow" in e:
        return "control flow (subgraphs)"
    if "must be a compile-time constant" in e:
        return f"non-constant input: {op}" if op else "non-constant input"
    if "exit " in e and "no error message" in e:
        return "no error message"
    return f"other: {op}" if op else "other"


def write_report(path, failures, total):
    groups = collections.defaultdict(list)
    for r in failures:
        groups[categorize(r)].append(r)
    order = sorted(groups, key=lambda c: (-len(groups[c]), c))
    with open(path, "w") as f:
        f.write("# kiln import: ONNX node test failures\n\n")
        f.write(f"{len(failures)} of {total} node tests fail to import.\n\n")
        f.write("| category | tests |\n|---|---|\n")
        for c in order:
            f.write(f"| {c} | {len(groups[c])} |\n")
        for c in order:
            f.write(f"\n## {c} ({len(groups[c])})\n\n")
            f.write("| test | error |\n|---|---|\n")
            for r in sorted(groups[c]):
                err = r.error.replace("|", "\\|")
                f.write(f"| {r.name} | {err} |\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kiln", required=True, help="path to the kiln binary")
    ap.add_argument("--data", default=DEFAULT_DATA,
                    help=f"node test folder (default {DEFAULT_DATA})")
    ap.add_argument("--write-list", metavar="FILE",
                    help="write the sorted names of passing tests")
    ap.add_argument("--check-list", metavar="FILE",
                    help="exit 1 if a test on this list no longer passes")
    ap.add_argument("--report", metavar="FILE",
                    help="write a table of failures grouped by cause")
    ap.add_argument("--summary", action="store_true",
                    help="print failure categories and counts")
    ap.add_argument("-k", "--filter", metavar="REGEX",
                    help="only run tests whose name matches REGEX")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timeout", type=int, default=TIMEOUT_S,
                    help=f"per-model timeout in seconds (default {TIMEOUT_S})")
    args = ap.parse_args()

    if not os.path.isdir(args.data):
        sys.exit(f"error: node test folder {args.data} not found "
                 "(install Debian's libonnx-testdata)")
    kiln = os.path.abspath(args.kiln)
    wait_for_binary(kiln)
    tests = find_tests(args.data)
    if args.filter:
        tests = [t for t in tests if re.search(args.filter, t)]
    if not tests:
        sys.exit(f"error: no node tests found under {args.data}")

    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        results = list(pool.map(
            lambda t: run_one(kiln, args.data, t, args.timeout), tests))

    passed = sorted(r.name for r in results if r.ok)
    failures = [r for r in results if not r.ok]
    by_name = {r.name: r for r in results}

    for r in failures:
        if r.kind in ("CRASH", "HANG"):
            print(f"{r.kind}: {r.name}: {r.error}")

    if args.write_list:
        with open(args.write_list, "w") as f:
            f.writelines(n + "\n" for n in passed)
        print(f"wrote {len(passed)} passing tests to {args.write_list}")

    if args.report:
        write_report(args.report, failures, len(results))
        print(f"wrote failure report to {args.report}")

    if args.summary:
        counts = collections.Counter(categorize(r) for r in failures)
        print("failures by category:")
        for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {n:5d}  {c}")

    status = 0
    if args.check_list:
        expected = read_list(args.check_list)
        if args.filter:
            expected = [t for t in expected if re.search(args.filter, t)]
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

    # Not the CI closing line: tests off the committed list are unsupported
    # features, not failures; regressions are reported above.
    print(f"node tests importing: {len(passed)} of {len(passed) + len(failures)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
