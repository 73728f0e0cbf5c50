#!/usr/bin/env python3
"""Speed of kiln-compiled models next to ONNX Runtime, in one run.

For each model: compile with kiln, make one set of inputs, then time kiln
(through the Python API, which calls kiln_run) and ONNX Runtime (npm
onnxruntime-node, graph optimizations on) at the same thread count, each
with a warm-up and N timed runs. Prints a table of medians and the ratio
kiln / ORT (lower is better for kiln). Not a test: numbers depend on the
machine; quote medians.

    /usr/bin/python3 bench/run_bench.py --models DIR [--runs 20] [--threads 1]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "test", "e2e"))
import kiln  # noqa: E402
from run_e2e import make_inputs  # noqa: E402

SHAPE = {"batch": 1, "seq": 64, "past_seq": 64}


def ort_median(onnx_path, feeds, workdir, runs, threads, node):
    ind = os.path.join(workdir, "in")
    os.makedirs(ind, exist_ok=True)
    manifest = {}
    for i, (name, a) in enumerate(feeds.items()):
        f = f"in{i}.bin"
        a.tofile(os.path.join(ind, f))
        manifest[name] = {"dtype": str(a.dtype) if a.dtype != np.bool_ else "bool",
                          "dims": list(a.shape), "file": f}
    json.dump(manifest, open(os.path.join(ind, "manifest.json"), "w"))
    p = subprocess.run([node, os.path.join(HERE, "..", "test", "e2e", "ort_run.js"),
                        onnx_path, ind, "", "--threads", str(threads), "--bench", str(runs)],
                       capture_output=True, text=True, timeout=3600)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip())
    return json.loads(p.stdout.strip().splitlines()[-1])["median_ms"]


def kiln_median(model, feeds, runs):
    model.run(feeds)
    ms = []
    for _ in range(runs):
        t = time.perf_counter()
        model.run(feeds)
        ms.append((time.perf_counter() - t) * 1e3)
    return float(np.median(ms))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--models", required=True)
    ap.add_argument("--kiln", default=os.path.join(HERE, "..", "build", "bin", "kiln"))
    ap.add_argument("--node", default="node")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    names = sorted(f[:-5] for f in os.listdir(args.models) if f.endswith(".onnx"))
    if args.only:
        names = [n for n in names if n in args.only]
    print(f"threads: {args.threads}, runs: {args.runs} (+1 warm-up), shapes: {SHAPE}")
    print(f"| model | ORT median ms | kiln median ms | kiln / ORT |")
    print(f"|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            onnx_path = os.path.join(args.models, name + ".onnx")
            so = os.path.join(tmp, name + ".so")
            kiln.compile(onnx_path, so, kiln=args.kiln)
            model = kiln.load(so, threads=args.threads)
            feeds = make_inputs(model, SHAPE, np.random.default_rng(0))
            k = kiln_median(model, feeds, args.runs)
            o = ort_median(onnx_path, feeds, os.path.join(tmp, name), args.runs,
                           args.threads, args.node)
            print(f"| {name} | {o:.3f} | {k:.3f} | {k / o:.2f} |", flush=True)
            model.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
