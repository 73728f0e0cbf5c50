#!/usr/bin/env python3
"""`kiln calibrate` and `--quantize int8-static` on a CNN, then `--quantize
int8` (each convolution's input range taken per call): the Conv nodes
(one group, constant filter) get calibrated input ranges, their int8
convolutions run (the compile says how many: all 20), and the outputs keep cosine >= 0.995 to ORT's fp32 run
on new inputs (per-tensor min-max activation ranges from 4 samples on
this random-weight ResNet-18: kiln 0.9966; ORT running the QDQ model
quantize_static_qdq.py writes, per-channel filters, from its own min-max
ranges of the same 4 samples: 0.9950).

    int8_static_conv.py --model RESNET.onnx --shape batch=2 --kiln KILN
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, HERE)
import kiln  # noqa: E402
from run_e2e import make_inputs, run_ort  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--shape", required=True)
    ap.add_argument("--kiln", required=True)
    args = ap.parse_args()
    dims = {k: int(v) for k, v in (kv.split("=") for kv in args.shape.split(","))}
    with tempfile.TemporaryDirectory() as tmp:
        # calibration samples drawn as the test's inputs are (normal), 4 of
        # them, none the test input
        so0 = os.path.join(tmp, "f32.so")
        kiln.compile(args.model, so0, kiln=args.kiln)
        m = kiln.load(so0, threads=2)
        sets = [make_inputs(m, dims, np.random.default_rng(s)) for s in range(4)]
        m.close()
        samples = os.path.join(tmp, "samples.npz")
        np.savez(samples, **{k: np.stack([f[k] for f in sets]) for k in sets[0]})
        ranges = os.path.join(tmp, "ranges.json")
        subprocess.run([args.kiln, "calibrate", args.model, "-o", ranges,
                        "--samples", samples],
                       check=True, capture_output=True, text=True)
        nodes = json.load(open(ranges))["nodes"]
        convs = [n for n in nodes if "Conv" in n]
        print(f"calibrated: {len(nodes)} nodes, {len(convs)} Conv")
        ok, ref, feeds = True, None, None
        for mode in (["int8-static", "--calibration", ranges], ["int8"]):
            so = os.path.join(tmp, f"m_{mode[0]}.so")
            p = subprocess.run([args.kiln, "compile", args.model, "-o", so,
                                "--quantize", *mode],
                               check=True, capture_output=True, text=True)
            print(f"{mode[0]}: {p.stdout.strip()}")
            m = kiln.load(so, threads=2)
            if feeds is None:
                feeds = make_inputs(m, dims, np.random.default_rng(7))
                ref = run_ort(args.model, feeds, os.path.join(tmp, "ort"), "node")
            out = m.run(feeds)
            m.close()
            for k in ref:
                a, b = out[k].astype(np.float64).ravel(), ref[k].astype(np.float64).ravel()
                cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30))
                good = cos >= 0.995
                ok &= good
                print(f"{mode[0]} {k}: cosine to ORT fp32 {cos:.6f} {'ok' if good else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
