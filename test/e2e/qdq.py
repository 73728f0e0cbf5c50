#!/usr/bin/env python3
"""Statically quantized (QDQ) models through kiln.

    qdq.py --model M.onnx --shape batch=2,seq=37 --kiln KILN

The fp32 model is rewritten into the QDQ form ORT's quantize_static writes
(test/models/quantize_static_qdq.py: u8 activations with min-max ranges
calibrated by ORT on random inputs, s8 weights per tensor or per column);
kiln compiles that file as it is and ORT runs the same file on the same
inputs. Prints per form the cosine and the max difference relative to
each output's max.

A one-layer model is held to the quantized graph evaluated exactly in
NumPy (1e-5): kiln runs its matmul on the int8 GEMM, whose int32 sums are
exact and scaled once, the arithmetic the graph defines. Deeper models are
judged against ORT by cosine >= 0.9999 (an fp32 difference of 1e-7
upstream can move a value across a rounding boundary of the next
quantizer: one u8 step), or, where ORT's own one-layer result is not exact
(its int8 kernel without AVX512-VNNI saturates int16 pair sums), against
ORT's fp32 run at cosine >= 0.999.
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "models"))
from quantize_static_qdq import calibrate, calibration_feeds, quantize_static_qdq  # noqa: E402
from run_e2e import run_ort  # noqa: E402
from quantized import check_forms  # noqa: E402


def exact_one_layer(qm, x):
    """The QDQ one-layer graph evaluated exactly: int32 sums of the
    quantized values, scaled once in fp32, then the output's QDQ pair and
    the bias, in fp32 as the graph's ops define them."""
    init = {i.name: numpy_helper.to_array(i) for i in qm.graph.initializer}
    get = lambda suffix: next(v for k, v in init.items() if k.endswith(suffix))  # noqa: E731
    wq = get("_W_quantized").astype(np.int64)
    ws = get("_W_scale").astype(np.float32)
    sx, zx = np.float32(get("_x_scale")), np.float32(get("_x_zp"))
    sy, zy = np.float32(get("_y_scale")), np.float32(get("_y_zp"))
    xq = np.clip(np.round(x.astype(np.float32) / sx) + zx, 0, 255).astype(np.int64)
    acc = (xq - int(zx)) @ wq
    y = acc.astype(np.float32) * (sx * ws)
    yq = np.clip(np.round(y / sy) + zy, 0, 255).astype(np.float32)
    return {"Y": (yq - zy) * sy + init["B"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--shape", required=True)
    ap.add_argument("--kiln", required=True)
    args = ap.parse_args()
    shape = {k: int(v) for k, v in (kv.split("=") for kv in args.shape.split(","))}
    ranges = {}  # per source model, calibrated once by ORT
    with tempfile.TemporaryDirectory() as tmp:
        def quantize(src, per_channel):
            if src not in ranges:
                fp32 = onnx.load(src)
                ranges[src] = calibrate(
                    fp32, calibration_feeds(fp32, shape, 3),
                    lambda p, f: run_ort(p, f, os.path.join(tmp, "calib"), "node"))
            return quantize_static_qdq(onnx.load(src), dict(ranges[src]), per_channel)
        failed = check_forms(args, quantize, exact_one_layer, "QDQ")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
