#!/usr/bin/env python3
"""Compiles one model for each kernel variant (--cpu native: AVX-512 where
the machine has it; x86-64-v3: the AVX2 kernels; x86-64: the generic C
kernels) and compares each with ONNX Runtime on the same inputs.

    cpu_variants.py --model M.onnx --shape batch=2,seq=37 --kiln KILN
Prints `<cpu> <max rel. diff> ok|FAIL` per variant (tolerance 1e-4 of the
output's max |ORT|); then `--precision bf16` for the native (AVX512-BF16
where the CPU has it) and generic kernels, judged by cosine >= 0.999 per
output and max rel. diff <= 5e-2; last `--quantize int8 --keep-fp32` with
every MatMul and Gemm node named, which must match ORT like fp32.
--variants cpu:precision,... runs only those."""
import argparse
import os
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
    ap.add_argument("--variants", default="",
                    help="only these, as cpu:precision pairs (native:bf16,...)")
    args = ap.parse_args()
    shape = {k: int(v) for k, v in (kv.split("=") for kv in args.shape.split(","))}
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        ref = feeds = None
        for cpu, prec in [("native", "fp32"), ("x86-64-v3", "fp32"), ("x86-64", "fp32"),
                          ("native", "bf16"), ("x86-64", "bf16"),
                          ("native", "int8"), ("x86-64-v3", "int8"), ("x86-64", "int8"),
                          ("native", "int4"), ("x86-64", "int4"),
                          ("native", "int8-keep")]:
            if args.variants and f"{cpu}:{prec}" not in args.variants.split(","):
                continue
            so = os.path.join(tmp, f"m_{cpu}_{prec}.so")
            keep = ()
            if prec == "int8-keep":
                import onnx
                graph = onnx.load(args.model, load_external_data=False).graph
                keep = [n.name or f"{n.op_type}_{i}" for i, n in enumerate(graph.node)
                        if n.op_type in ("MatMul", "Gemm")]
            kiln.compile(args.model, so, cpu=cpu, kiln=args.kiln,
                         precision="bf16" if prec == "bf16" else "fp32",
                         quantize=prec[:4] if prec.startswith("int") else "none",
                         keep_fp32=keep)
            m = kiln.load(so, threads=2)
            if feeds is None:
                feeds = make_inputs(m, shape, np.random.default_rng(0))
                ref = run_ort(args.model, feeds, os.path.join(tmp, "ort"), "node")
            out = m.run(feeds)
            m.close()
            err = max(float(np.max(np.abs(out[k].astype(np.float64) - ref[k]))) /
                      max(float(np.max(np.abs(ref[k]))), 1e-30) for k in ref)
            if prec in ("fp32", "int8-keep"):
                ok = err <= 1e-4
                print(f"{cpu}{'' if prec == 'fp32' else ' ' + prec} {err:.1e} "
                      f"{'ok' if ok else 'FAIL'}")
            else:
                # bf16 (8-bit mantissas) or int8 (--quantize int8) weights
                # and activations: judged by cosine similarity to fp32 ORT,
                # per output, and a looser max rel. diff
                cos = min(float(np.dot(out[k].ravel().astype(np.float64), ref[k].ravel()) /
                                max(np.linalg.norm(out[k]) * np.linalg.norm(ref[k]), 1e-30))
                          for k in ref)
                # int4 weights (4 bits per group of 128): looser
                ok = (cos >= 0.999 and err <= 5e-2) if prec != "int4" else \
                    (cos >= 0.99 and err <= 0.2)
                print(f"{cpu} {prec} cosine {cos:.6f} {err:.1e} {'ok' if ok else 'FAIL'}")
            failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
