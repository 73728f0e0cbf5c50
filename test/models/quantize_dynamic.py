#!/usr/bin/env python3
"""Rewrites an fp32 ONNX model into the form ONNX Runtime's
`quantize_dynamic` writes (weight_type=QInt8, per-tensor weights), so kiln
and ORT can be measured and compared on ORT's own int8 models without ORT's
Python tools (not installable here). Written from the format ORT documents;
no ORT code.

Every MatMul whose right-hand side is a 2-D fp32 initializer becomes

    x -> DynamicQuantizeLinear -> (x_q: uint8, x_scale, x_zp)
    MatMulInteger(x_q, W_q: int8, x_zp, W_zp = 0) -> int32
    Cast(to float) -> Mul(x_scale * W_scale)

with W_q = round(W / W_scale), W_scale = max|W| / 127 (symmetric, one scale
per tensor, ORT's default). With --per-channel, one scale per column (ORT's
per_channel=True). Other nodes are left as they are.

usage: quantize_dynamic.py IN.onnx OUT.onnx [--per-channel]
"""
import argparse
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def replace_nodes(g, nodes, used):
    """g's nodes become `nodes`; initializers in `used` (the fp32 weights
    that were quantized) go unless a node still reads them."""
    del g.node[:]
    g.node.extend(nodes)
    still = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name not in used or i.name in still]
    del g.initializer[:]
    g.initializer.extend(keep)


def quantize_dynamic(model, per_channel=False):
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    nodes = []
    used = set()
    count = 0
    for node in g.node:
        w = inits.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        if w is None or w.data_type != TensorProto.FLOAT or len(w.dims) != 2:
            nodes.append(node)
            continue
        wa = numpy_helper.to_array(w).astype(np.float32)
        amax = np.max(np.abs(wa), axis=0) if per_channel else np.max(np.abs(wa))
        scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
        wq = np.clip(np.rint(wa / scale), -127, 127).astype(np.int8)
        p = f"{node.name or node.output[0]}_q{count}"
        count += 1
        zp = np.zeros(scale.shape, np.int8)
        g.initializer.extend([
            numpy_helper.from_array(wq, p + "_W_quantized"),
            numpy_helper.from_array(np.asarray(scale, np.float32), p + "_W_scale"),
            numpy_helper.from_array(zp, p + "_W_zero_point"),
        ])
        used.add(w.name)
        x = node.input[0]
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [x],
                             [p + "_x_q", p + "_x_scale", p + "_x_zp"], name=p + "_dql"),
            helper.make_node("MatMulInteger",
                             [p + "_x_q", p + "_W_quantized", p + "_x_zp", p + "_W_zero_point"],
                             [p + "_int32"], name=p + "_mmi"),
            helper.make_node("Cast", [p + "_int32"], [p + "_f32"], to=TensorProto.FLOAT,
                             name=p + "_cast"),
            helper.make_node("Mul", [p + "_x_scale", p + "_W_scale"], [p + "_scale"],
                             name=p + "_scale_mul"),
            helper.make_node("Mul", [p + "_f32", p + "_scale"], [node.output[0]],
                             name=p + "_out_mul"),
        ]
    replace_nodes(g, nodes, used)
    if not any(o.domain in ("", "ai.onnx") and o.version >= 11 for o in model.opset_import):
        raise SystemExit("quantize_dynamic.py: needs opset >= 11 (DynamicQuantizeLinear)")
    return model, count


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--per-channel", action="store_true")
    a = ap.parse_args()
    model, n = quantize_dynamic(onnx.load(a.input), a.per_channel)
    onnx.save(model, a.output)
    print(f"{a.output}: {n} MatMuls quantized")
    return 0


if __name__ == "__main__":
    sys.exit(main())
