#!/usr/bin/env python3
"""`kiln calibrate` and `kiln compile --quantize int8-static`.

    int8_static.py --model BERT.onnx --shape batch=2,seq=16 --kiln KILN

1. Ranges: kiln calibrate on stacked sample inputs (one .npz, a leading
   sample dim per input) against the min and max ORT computes for the same
   tensors on the same inputs (test/models/quantize_static_qdq.py's
   calibrate, which adds them as graph outputs): equal within 1e-5 of each
   range's width.
2. The model compiled with --quantize int8-static from those ranges: every
   dense layer takes its range (the compile says how many), and its outputs
   on new inputs keep cosine >= 0.999 against ORT's fp32 run; also printed:
   ORT running the QDQ model quantize_static_qdq.py writes from the same
   ranges (the same static scheme, ORT's kernels).
3. A two-layer MLP (a named MatMul + Add, ReLU, then an unnamed Gemm with
   transB, which is named Gemm_3 as the importer names it) calibrated on
   inputs in [-1, 1] and run on inputs in [-3, 3]: the static build follows
   the MLP with each layer's input clipped to its calibrated range (the
   static quantizer clips there), the dynamic int8 build the unclipped one.
4. percentile and entropy ranges lie within the min-max range.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "models"))
import kiln  # noqa: E402
from quantize_static_qdq import calibrate, calibration_feeds, quantize_static_qdq  # noqa: E402
from run_e2e import run_ort  # noqa: E402


def cosine(a, b):
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30))


def stacked(feeds_list, path):
    np.savez(path, **{k: np.stack([f[k] for f in feeds_list]) for k in feeds_list[0]})


def kiln_cli(args, *cmd):
    p = subprocess.run([args.kiln, *cmd], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip())
    return p.stdout


def mlp(path, rng):
    """The two-layer MLP; returns f(x, r1, r2), its fp32 value with each
    layer's input clipped to the range r1 / r2 ((lo, hi) or None)."""
    w1 = rng.standard_normal((48, 64)).astype(np.float32) * 0.2
    b1 = rng.standard_normal(64).astype(np.float32) * 0.1
    w2 = rng.standard_normal((24, 64)).astype(np.float32) * 0.2  # transB
    b2 = rng.standard_normal(24).astype(np.float32) * 0.1
    g = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W1"], ["h0"], name="/fc1/MatMul"),
         helper.make_node("Add", ["h0", "B1"], ["h1"], name="/fc1/Add"),
         helper.make_node("Relu", ["h1"], ["h2"], name="/act/Relu"),
         helper.make_node("Gemm", ["h2", "W2", "B2"], ["Y"], transB=1)],
        "mlp",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["batch", 48])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["batch", 24])],
        [numpy_helper.from_array(w1, "W1"), numpy_helper.from_array(b1, "B1"),
         numpy_helper.from_array(w2, "W2"), numpy_helper.from_array(b2, "B2")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    clip = lambda v, r: v if r is None else np.clip(v, r[0], r[1])  # noqa: E731
    return lambda x, r1=None, r2=None: clip(np.maximum(clip(x, r1) @ w1 + b1, 0), r2) @ w2.T + b2


def check_model(args, tmp, shape):
    failed = 0
    fp32 = onnx.load(args.model)
    feeds_list = calibration_feeds(fp32, shape, 3)
    samples = os.path.join(tmp, "samples.npz")
    stacked(feeds_list, samples)
    ranges_path = os.path.join(tmp, "ranges.json")
    kiln_cli(args, "calibrate", args.model, "--samples", samples, "-o", ranges_path,
             "--threads", "2")
    got = json.load(open(ranges_path))["nodes"]
    ort = calibrate(fp32, feeds_list, lambda p, f: run_ort(p, f, os.path.join(tmp, "calib"), "node"))
    # ORT's script calibrates the MatMuls it quantizes (not the pooler's Gemm)
    worst, compared = 0.0, 0
    for node, r in got.items():
        if r["tensor"] not in ort:
            continue
        lo, hi = ort[r["tensor"]]
        worst = max(worst, abs(r["min"] - lo) / (hi - lo), abs(r["max"] - hi) / (hi - lo))
        compared += 1
    ok = worst <= 1e-5 and compared > 0
    print(f"model ranges: {len(got)} dense layers, {compared} also calibrated by ORT, "
          f"worst difference to ORT's min/max {worst:.1e} of the range {'ok' if ok else 'FAIL'}")
    failed += not ok

    so = os.path.join(tmp, "static.so")
    log = kiln_cli(args, "compile", args.model, "-o", so, "--quantize", "int8-static",
                   "--calibration", ranges_path)
    print(" ".join(line for line in log.splitlines() if "int8-static" in line))
    m = kiln.load(so, threads=2)
    feeds = calibration_feeds(fp32, shape, 1, seed=11)[0]
    out = m.run(feeds)
    m.close()
    ref = run_ort(args.model, feeds, os.path.join(tmp, "ort_fp32"), "node")
    qdq = os.path.join(tmp, "qdq.onnx")
    onnx.save(quantize_static_qdq(onnx.load(args.model), dict(ort), True)[0], qdq)
    ort_qdq = run_ort(qdq, feeds, os.path.join(tmp, "ort_qdq"), "node")
    for name in ref:
        c, cq = cosine(out[name], ref[name]), cosine(ort_qdq[name], ref[name])
        ok = c >= 0.999
        print(f"model {name}: cosine to ORT fp32 {c:.6f} {'ok' if ok else 'FAIL'} "
              f"(ORT's QDQ model from the same ranges: {cq:.6f})")
        failed += not ok
    return failed


def check_mlp(args, tmp):
    failed = 0
    rng = np.random.default_rng(3)
    path = os.path.join(tmp, "mlp.onnx")
    f = mlp(path, rng)
    samples = os.path.join(tmp, "mlp_samples.npz")
    np.savez(samples, X=rng.uniform(-1, 1, (4, 5, 48)).astype(np.float32))
    ranges = {}
    for method in ("minmax", "percentile", "entropy"):
        out = os.path.join(tmp, f"mlp_{method}.json")
        extra = ["--percentile", "99"] if method == "percentile" else []
        kiln_cli(args, "calibrate", path, "--samples", samples, "--method", method,
                 "-o", out, *extra)
        ranges[method] = json.load(open(out))["nodes"]
    print("mlp nodes: " + ", ".join(sorted(ranges["minmax"])))
    mm = ranges["minmax"]
    ok = -1.0 <= mm["/fc1/MatMul"]["min"] < -0.98 and 0.98 < mm["/fc1/MatMul"]["max"] <= 1.0
    print(f"mlp minmax /fc1/MatMul [{mm['/fc1/MatMul']['min']:.4f}, "
          f"{mm['/fc1/MatMul']['max']:.4f}] {'ok' if ok else 'FAIL'}")
    failed += not ok
    for method in ("percentile", "entropy"):
        inside = all(mm[n]["min"] <= r["min"] <= r["max"] <= mm[n]["max"]
                     for n, r in ranges[method].items())
        narrower = any(r["max"] - r["min"] < mm[n]["max"] - mm[n]["min"]
                       for n, r in ranges[method].items())
        ok = inside and narrower and set(ranges[method]) == set(mm)
        print(f"mlp {method} within minmax and narrower somewhere {'ok' if ok else 'FAIL'}")
        failed += not ok

    x = rng.uniform(-3, 3, (7, 48)).astype(np.float32)
    rng_of = lambda n: (mm[n]["min"], mm[n]["max"])  # noqa: E731
    clipped, unclipped = f(x, rng_of("/fc1/MatMul"), rng_of("Gemm_3")), f(x)
    rel = lambda a, b: float(np.abs(a - b).max() / np.abs(b).max())  # noqa: E731
    # compiled from the ranges file and from the samples directly
    for how, cal in (("ranges", os.path.join(tmp, "mlp_minmax.json")), ("samples", samples)):
        so = os.path.join(tmp, f"mlp_static_{how}.so")
        log = kiln_cli(args, "compile", path, "-o", so, "--quantize", "int8-static",
                       "--calibration", cal)
        y = kiln.load(so).run({"X": x})["Y"]
        ok = rel(y, clipped) <= 0.03 and rel(y, unclipped) > 0.1
        print(f"mlp static ({how}): {' '.join(l for l in log.splitlines() if 'int8-static' in l)}; "
              f"to the clipped MLP {rel(y, clipped):.3f}, to the unclipped {rel(y, unclipped):.3f} "
              f"{'ok' if ok else 'FAIL'}")
        failed += not ok
    so = os.path.join(tmp, "mlp_dynamic.so")
    kiln_cli(args, "compile", path, "-o", so, "--quantize", "int8")
    y = kiln.load(so).run({"X": x})["Y"]
    ok = rel(y, unclipped) <= 0.03
    print(f"mlp dynamic: to the unclipped MLP {rel(y, unclipped):.3f} {'ok' if ok else 'FAIL'}")
    failed += not ok
    return failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--shape", required=True)
    ap.add_argument("--kiln", required=True)
    args = ap.parse_args()
    shape = {k: int(v) for k, v in (kv.split("=") for kv in args.shape.split(","))}
    with tempfile.TemporaryDirectory() as tmp:
        failed = check_mlp(args, tmp) + check_model(args, tmp, shape)
    print("int8-static: " + (f"{failed} FAILED" if failed else "ok"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
