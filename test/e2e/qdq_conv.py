#!/usr/bin/env python3
"""QDQ convolutions through kiln.

    qdq_conv.py --model M.onnx --shape batch=2 --kiln KILN

The fp32 CNN is rewritten into the QDQ form of ORT's quantize_static with
its convolutions quantized too (test/models/quantize_static_qdq.py --conv:
u8 activations with min-max ranges calibrated by ORT, s8 filters per
tensor or per output channel, int32 biases at x_scale * w_scale). kiln
compiles that file as it is, for the host and for x86-64-v3 (AVX2), and
ORT runs the same file (its int8 convolutions) on the same inputs.
Checks, per form and target:
  - which convolutions kiln-cpu-select-ukernels put on the int8 kernel
    (conv2d_f32 with flag 256: all of them on an AVX-512 host, none for
    AVX2), and that every other filter was dequantized into an f32
    constant there (no int8 filter left after the pass), so the CPU
    pipeline packs it for its f32 kernels;
  - kiln's outputs against ORT's: cosine >= 0.99999 on the int8 kernel
    (exact int32 sums, ORT's arithmetic), >= 0.999 on the f32 kernels
    (their float sums may move a requantized value one u8 step).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "models"))
import kiln  # noqa: E402
import quantize_static_qdq as qdq  # noqa: E402
from quantized import compare  # noqa: E402
from run_e2e import make_inputs, run_ort  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--shape", required=True)
    ap.add_argument("--kiln", required=True)
    args = ap.parse_args()
    shape = {k: int(v) for k, v in (kv.split("=") for kv in args.shape.split(","))}
    qdq.CONVS = True
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = onnx.load(args.model)
        ranges = qdq.calibrate(fp32, qdq.calibration_feeds(fp32, shape, 3),
                               lambda p, f: run_ort(p, f, os.path.join(tmp, "calib"), "node"))
        avx512 = "avx512f" in open("/proc/cpuinfo").read()
        for per_channel in (False, True):
            qm, n = qdq.quantize_static_qdq(onnx.load(args.model), dict(ranges), per_channel)
            convs = sum(1 for node in qm.graph.node if node.op_type == "Conv")
            q = os.path.join(tmp, f"qdq_{per_channel}.onnx")
            onnx.save(qm, q)
            form = "per-channel" if per_channel else "per-tensor"
            for cpu in ("native", "x86-64-v3"):
                so = q[:-5] + f"_{cpu}.so"
                ir = subprocess.run(
                    [args.kiln, "compile", q, "-o", so, "--cpu", cpu,
                     "--print-ir-after=kiln-cpu-select-ukernels"],
                    check=True, capture_output=True, text=True).stderr
                flags = re.findall(r'"conv2d_f32".*int_params = array<i64: \d+, (\d+)', ir)
                int8 = sum(1 for f in flags if int(f) & 256)
                # a filter still dequantized at run time: a cast of an int8
                # [F, C, KH, KW] to f32
                left = len(re.findall(r"kiln\.cast \S+ : tensor<(?:\d+x){4}i8> ->", ir))
                want = n if cpu == "native" and avx512 else 0
                m = kiln.load(so, threads=2)
                feeds = make_inputs(m, shape, np.random.default_rng(0))
                ref = run_ort(q, feeds, os.path.join(tmp, "ort"), "node")
                err, cos = compare(m.run(feeds), ref)
                m.close()
                # the int8 kernel computes the quantized graph's own
                # arithmetic (exact int32 sums, as ORT's): closer than the
                # f32 kernels' sums, which may move a value one u8 step
                ok = cos >= (0.99999 if int8 else 0.999) and left == 0 and int8 == want
                target = "host" if cpu == "native" else "avx2"
                print(f"{form} {target} ({n} of {convs} Conv quantized): "
                      f"{'all' if int8 == n else int8} in int8 "
                      f"{'(as expected)' if int8 == want else f'(expected {want})'}, "
                      f"{left} int8 filters left; cosine {cos:.6f} max diff {err:.1e} "
                      f"vs ORT QDQ {'ok' if ok else 'FAIL'}")
                failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
