#!/usr/bin/env python3
"""Rewrites an fp32 ONNX model as an fp16 or bf16 one, as converters that
ship half-precision models do (onnxconverter-common's float16 converter,
with its default keep_io_types=False): every float initializer, Constant,
ConstantOfShape value, Cast-to-float, graph input, output and value_info
becomes half; tensors that ONNX requires in fp32 (Resize's roi and scales,
Upsample's scales) stay fp32. Values beyond fp16's range saturate to
+-65504 (as that converter clips them), so a -3.4e38 mask fill stays finite.

    /usr/bin/python3 test/models/to_half.py IN.onnx OUT.onnx [--type fp16|bf16]
"""

import argparse
import sys

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

# (op type, input index) that ONNX types as float whatever the model's type.
KEEP_FP32_INPUTS = {("Resize", 1), ("Resize", 2), ("Upsample", 1)}


def bf16_bits(a):
    """Round-to-nearest-even bf16 bit patterns of float32 array `a`."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def half_tensor(t, kind):
    """`t` (a float TensorProto) as a half one, in place."""
    if t.data_type != TensorProto.FLOAT:
        return
    a = numpy_helper.to_array(t)
    if kind == "fp16":
        h = numpy_helper.from_array(np.clip(a, -65504, 65504).astype(np.float16), t.name)
    else:
        h = onnx.helper.make_tensor(t.name, TensorProto.BFLOAT16, a.shape,
                                    bf16_bits(a).tobytes(), raw=True)
    t.CopyFrom(h)


def convert(model, kind):
    half = TensorProto.FLOAT16 if kind == "fp16" else TensorProto.BFLOAT16
    g = model.graph
    keep = {n.input[i] for n in g.node for (op, i) in KEEP_FP32_INPUTS
            if n.op_type == op and i < len(n.input)}
    for t in g.initializer:
        if t.name not in keep:
            half_tensor(t, kind)
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        tt = vi.type.tensor_type
        if tt.elem_type == TensorProto.FLOAT and vi.name not in keep:
            tt.elem_type = half
    for n in g.node:
        for a in n.attribute:
            if n.op_type in ("Constant", "ConstantOfShape") and a.type == onnx.AttributeProto.TENSOR:
                if not (n.op_type == "Constant" and n.output[0] in keep):
                    half_tensor(a.t, kind)
            elif n.op_type == "Cast" and a.name == "to" and a.i == TensorProto.FLOAT:
                a.i = half
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--type", choices=["fp16", "bf16"], default="fp16")
    args = ap.parse_args()
    m = convert(onnx.load(args.src), args.type)
    onnx.save(m, args.dst)
    print(f"{args.dst}: {args.type}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
