#!/usr/bin/env python3
"""Summarizes the ptxas -v reports that `kiln compile --save-ptx DIR` wrote.

DIR holds one folder per model, each with <module>.ptx and
<module>.ptxas.log. Prints one line per kernel that spills or has no report
and a closing line `ptxas: M models, K kernel modules, all sm_XX cubins,
S with spills, N missing`; exits 1 when any kernel spills or lacks a report.
"""
import os
import re
import sys

SPILL = re.compile(r"(\d+) bytes spill stores, (\d+) bytes spill loads")
ARCH = re.compile(r"for '(sm_\d+a?)'")


def main():
    root = sys.argv[1]
    models = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    kernels = spilling = missing = 0
    archs = set()
    for model in models:
        folder = os.path.join(root, model)
        for f in sorted(os.listdir(folder)):
            if not f.endswith(".ptx"):
                continue
            kernels += 1
            log = os.path.join(folder, f[:-4] + ".ptxas.log")
            if not os.path.exists(log):
                print(f"{model}/{f}: no ptxas report")
                missing += 1
                continue
            text = open(log).read()
            archs.update(ARCH.findall(text))
            spills = sum(int(a) + int(b) for a, b in SPILL.findall(text))
            if not SPILL.search(text):
                print(f"{model}/{f}: the report has no spill line")
                missing += 1
            elif spills:
                print(f"{model}/{f}: {spills} bytes of spill stores and loads")
                spilling += 1
    arch = ",".join(sorted(archs)) or "no"
    print(f"ptxas: {len(models)} models, {kernels} kernel modules, all {arch} cubins, "
          f"{spilling} with spills, {missing} missing")
    return 1 if spilling or missing or not kernels else 0


if __name__ == "__main__":
    sys.exit(main())
