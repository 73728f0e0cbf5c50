#!/usr/bin/env python3
"""Runs a command that must fail cleanly, as kiln promises on bad input.

Usage: expect_exit1.py COMMAND [ARGS...]

Prints the command's stderr on stdout (for FileCheck) and exits 0 only if
the command
  - exited with code exactly 1 (not 0, not another code, not a signal),
  - wrote exactly one line to stderr, and that line starts "kiln: error:",
  - wrote nothing to stdout (no partial IR on failure),
  - finished within the time limit (KILN_EXPECT_TIMEOUT seconds, default 60).
Otherwise it prints why on stdout and exits 1, so a FileCheck pipeline under
lit's pipefail fails too.
"""

import os
import signal
import subprocess
import sys


def main(argv):
    if len(argv) < 2:
        print("usage: expect_exit1.py COMMAND [ARGS...]")
        return 2
    timeout = float(os.environ.get("KILN_EXPECT_TIMEOUT", "60"))
    try:
        p = subprocess.run(argv[1:], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        print("expect_exit1: FAIL: command did not finish within %g s (hang?)"
              % timeout)
        return 1
    except OSError as e:
        print("expect_exit1: FAIL: cannot run %r: %s" % (argv[1], e))
        return 1
    err = p.stderr.decode("utf-8", errors="replace")
    sys.stdout.write(err)
    if err and not err.endswith("\n"):
        sys.stdout.write("\n")

    problems = []
    rc = p.returncode
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = "signal %d" % -rc
        problems.append("killed by %s (crash)" % name)
    elif rc != 1:
        problems.append("exit code %d, expected 1" % rc)
    lines = err.splitlines()
    if len(lines) != 1:
        problems.append("stderr has %d lines, expected exactly 1"
                        % len(lines))
    if not lines or not lines[0].startswith("kiln: error:"):
        problems.append("stderr does not start with 'kiln: error:'")
    if p.stdout:
        problems.append("stdout is not empty (%d bytes)" % len(p.stdout))
    if problems:
        for why in problems:
            print("expect_exit1: FAIL: " + why)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
