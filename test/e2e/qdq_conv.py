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
    (conv2d_f32 and dwconv2d_f32 with flag 256: on an AVX-512 host all but
    those whose filter has at most 256 values, an inline constant whose
    dequantization folds at import; none for AVX2), and that every other
    filter was dequantized into an f32
    constant there (no int8 filter left after the pass), so the CPU
    pipeline packs it for its f32 kernels;
  - kiln's outputs against the graph's own arithmetic, ORT running the
    file with graph optimizations off (each Q, DQ and Conv as the spec
    defines it): cosine >= 0.99999 on the int8 kernels (exact int32 sums),
    >= 0.99 on the f32 kernels (their float sums may move a requantized
    value one u8 step, and over MobileNetV2's 52 layers such steps
    compound: 0.993 per channel). Printed too, not checked: the cosine to
    ORT with its fused int8 kernels, which for per-tensor MobileNetV2 is
    0.987 to ORT's own unfused run (its depthwise QLinearConv's rounding),
    while kiln's int8 and f32 builds match the unfused run to 1e-6.
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
            # filters of at most 256 values (a squeeze-excite block's 1 x 1
            # layers, a 16-channel depthwise 3 x 3) are inline constants
            # whose dequantization folds into f32 at import: they stay f32
            init = {i.name: i for i in qm.graph.initializer}
            made = {o: node for node in qm.graph.node for o in node.output}
            tiny = 0
            for node in qm.graph.node:
                dq = made.get(node.input[1]) if node.op_type == "Conv" else None
                w = init.get(dq.input[0]) if dq is not None and dq.op_type == "DequantizeLinear" else None
                tiny += w is not None and int(np.prod(w.dims)) <= 256
            q = os.path.join(tmp, f"qdq_{per_channel}.onnx")
            onnx.save(qm, q)
            form = "per-channel" if per_channel else "per-tensor"
            for cpu in ("native", "x86-64-v3"):
                so = q[:-5] + f"_{cpu}.so"
                ir = subprocess.run(
                    [args.kiln, "compile", q, "-o", so, "--cpu", cpu,
                     "--print-ir-after=kiln-cpu-select-ukernels"],
                    check=True, capture_output=True, text=True).stderr
                flags = re.findall(r'"(?:dw)?conv2d_f32".*int_params = array<i64: \d+, (\d+)', ir)
                int8 = sum(1 for f in flags if int(f) & 256)
                # a filter still dequantized at run time: a cast of an int8
                # [F, C, KH, KW] to f32
                left = len(re.findall(r"kiln\.cast \S+ : tensor<(?:\d+x){4}i8> ->", ir))
                want = n - tiny if cpu == "native" and avx512 else 0
                m = kiln.load(so, threads=2)
                feeds = make_inputs(m, shape, np.random.default_rng(0))
                got = m.run(feeds)
                m.close()
                lit = run_ort(q, feeds, os.path.join(tmp, "lit"), "node", literal=True)
                err, cos = compare(got, lit)
                _, cos_fused = compare(got, run_ort(q, feeds, os.path.join(tmp, "ort"), "node"))
                # the int8 kernels compute the quantized graph's own
                # arithmetic (exact int32 sums): its outputs; the f32
                # kernels' float sums may move a value one u8 step, and
                # such steps compound over MobileNet's 52 layers
                ok = cos >= (0.99999 if int8 else 0.99) and left == 0 and int8 == want
                target = "host" if cpu == "native" else "avx2"
                print(f"{form} {target} ({n} of {convs} Conv quantized): "
                      f"{'all' if int8 == n else int8} in int8{f' ({tiny} tiny filters f32)' if tiny and want else ''} "
                      f"{'(as expected)' if int8 == want else f'(expected {want})'}, "
                      f"{left} int8 filters left; cosine {cos:.6f} max diff {err:.1e} "
                      f"vs the graph (ORT, no fusion) {'ok' if ok else 'FAIL'}; "
                      f"cosine {cos_fused:.6f} vs ORT's int8 kernels")
                failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
