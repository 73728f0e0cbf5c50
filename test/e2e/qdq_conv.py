#!/usr/bin/env python3
"""QDQ convolutions through kiln.

    qdq_conv.py --model M.onnx --shape batch=2 --kiln KILN

The fp32 CNN is rewritten into the QDQ form of ORT's quantize_static with
its convolutions quantized too (test/models/quantize_static_qdq.py --conv:
u8 activations with min-max ranges calibrated by ORT, s8 filters per
tensor or per output channel, int32 biases at x_scale * w_scale). kiln
compiles that file as it is and ORT runs the same file (its int8
convolutions) on the same inputs. Checks, per form:
  - the import dequantizes the filters and biases into f32 constants (no
    int8 tensor of rank 3+ and no int32 tensor left in the IR), so the
    CPU pipeline packs them for its convolution kernels;
  - kiln's outputs against ORT's: cosine >= 0.999 (kiln computes the
    graph's arithmetic in fp32 on the dequantized values; ORT requantizes
    int32 sums, so a value may land one u8 step away).
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
        for per_channel in (False, True):
            qm, n = qdq.quantize_static_qdq(onnx.load(args.model), dict(ranges), per_channel)
            convs = sum(1 for node in qm.graph.node if node.op_type == "Conv")
            q = os.path.join(tmp, f"qdq_{per_channel}.onnx")
            onnx.save(qm, q)
            ir = subprocess.run([args.kiln, "import", "--optimize", q], check=True,
                                capture_output=True, text=True).stdout
            left = len(re.findall(r"tensor<(?:\d+x){3,}i8>|tensor<(?:\d+x)+i32>", ir))
            so = q[:-5] + ".so"
            kiln.compile(q, so, kiln=args.kiln)
            m = kiln.load(so, threads=2)
            feeds = make_inputs(m, shape, np.random.default_rng(0))
            ref = run_ort(q, feeds, os.path.join(tmp, "ort"), "node")
            err, cos = compare(m.run(feeds), ref)
            m.close()
            ok = cos >= 0.999 and left == 0
            form = "per-channel" if per_channel else "per-tensor"
            print(f"{form} ({n} of {convs} Conv quantized): {left} int8 filter / int32 "
                  f"tensors left after import; cosine {cos:.6f} max diff {err:.1e} "
                  f"vs ORT QDQ {'ok' if ok else 'FAIL'}")
            failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
