"""Helpers shared by the node-test scripts (import_node_tests.py and
run_node_tests.py): finding tests, reading pass lists, waiting for the kiln
binary, and summarizing a failed command."""

import os
import signal
import sys
import time

# How long to wait for a kiln binary that is missing (being rebuilt).
BINARY_WAIT_S = 120


def find_tests(data_dir):
    tests = []
    for name in sorted(os.listdir(data_dir)):
        model = os.path.join(data_dir, name, "model.onnx")
        if os.path.isfile(model):
            tests.append(name)
    return tests


def read_list(path):
    names = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                names.append(line)
    return names


def wait_for_binary(kiln):
    deadline = time.monotonic() + BINARY_WAIT_S
    while not (os.path.isfile(kiln) and os.access(kiln, os.X_OK)):
        if time.monotonic() > deadline:
            sys.exit(f"error: kiln binary {kiln} not found or not executable")
        time.sleep(2)


def signal_name(num):
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def first_error_line(text):
    """The `kiln: error: ...` line if there is one, else the first line."""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for l in lines:
        if "error:" in l:
            return l
    return lines[0] if lines else ""
