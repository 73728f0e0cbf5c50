#!/usr/bin/env python3
"""Rewrites an fp32 ONNX model into the QDQ form ONNX Runtime's
`quantize_static` writes (quant_format=QDQ, u8 activations, s8 weights,
min-max calibration), so kiln and ORT can be compared on statically
quantized models without ORT's Python tools (not installable here).
Written from the format ORT documents; no ORT code.

Every MatMul whose right-hand side is a 2-D fp32 initializer becomes

    x -> QuantizeLinear(x_scale, x_zp: uint8) -> DequantizeLinear -> x'
    W_q: int8 -> DequantizeLinear(W_scale, W_zp = 0 [, axis = 1]) -> W'
    MatMul(x', W') -> QuantizeLinear(y_scale, y_zp) -> DequantizeLinear -> y

The activation ranges come from running the model on calibration inputs
(min-max, widened to include 0: scale = (max - min) / 255, zp =
round(-min / scale)); weights are symmetric, max|W| / 127, per tensor or,
with per_channel, per column (axis 1). Other nodes are left as they are.

usage: quantize_static_qdq.py IN.onnx OUT.onnx --shape batch=1,seq=16
       [--per-channel] [--node NODE]
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quantize_dynamic import replace_nodes  # noqa: E402


def activation_params(lo, hi):
    lo, hi = min(0.0, float(lo)), max(0.0, float(hi))
    scale = np.float32((hi - lo) / 255.0) if hi > lo else np.float32(1.0)
    zp = np.uint8(np.clip(np.round(-lo / scale), 0, 255))
    return scale, zp


CONVS = False  # --conv: Conv nodes too (set by main)


def initializers(model):
    """Initializers by name, and by the output names of Identity nodes of
    them (torch's exports share equal tensors, such as the zero biases of
    folded batch norms, so)."""
    inits = {i.name: i for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            inits[node.output[0]] = inits[node.input[0]]
    return inits


def quantizable(model):
    inits = initializers(model)
    out = []
    for i, node in enumerate(model.graph.node):
        if node.op_type == "MatMul" and len(node.input) == 2:
            w = inits.get(node.input[1])
            if w is not None and w.data_type == TensorProto.FLOAT and len(w.dims) == 2:
                out.append((i, node, w))
        elif CONVS and node.op_type == "Conv" and len(node.input) >= 2:
            w = inits.get(node.input[1])
            b = inits.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
            if (w is not None and w.data_type == TensorProto.FLOAT and len(w.dims) == 4 and
                    (len(node.input) < 3 or not node.input[2] or b is not None)):
                out.append((i, node, w))
    return out


def calibrate(model, feeds_list, run):
    """min and max of each quantized MatMul's input and output over the
    calibration inputs; run(path, feeds) -> {output name: array}."""
    names = []
    for _, node, _ in quantizable(model):
        names += [node.input[0], node.output[0]]
    names = list(dict.fromkeys(names))
    m = onnx.ModelProto()
    m.CopyFrom(model)
    have = {o.name for o in m.graph.output}
    for n in names:
        if n not in have:
            m.graph.output.append(helper.make_tensor_value_info(n, TensorProto.FLOAT, None))
    ranges = {n: [np.inf, -np.inf] for n in names}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "calib.onnx")
        onnx.save(m, path)
        for feeds in feeds_list:
            out = run(path, feeds)
            for n in names:
                r = ranges[n]
                r[0] = min(r[0], float(out[n].min()))
                r[1] = max(r[1], float(out[n].max()))
    return ranges


def quantize_static_qdq(model, ranges, per_channel=False):
    g = model.graph
    targets = {i: w for i, _, w in quantizable(model)}
    nodes, used, count = [], set(), 0
    done_acts = {}  # tensor -> its DequantizeLinear output

    def qdq(name, prefix):
        if name in done_acts:
            return done_acts[name]
        if name in done_acts.values():  # already a DequantizeLinear output
            return name
        scale, zp = activation_params(*ranges[name])
        g.initializer.extend([numpy_helper.from_array(np.asarray(scale), prefix + "_scale"),
                              numpy_helper.from_array(np.asarray(zp), prefix + "_zp")])
        nodes.append(helper.make_node("QuantizeLinear", [name, prefix + "_scale", prefix + "_zp"],
                                      [prefix + "_q"], name=prefix + "_Q"))
        nodes.append(helper.make_node("DequantizeLinear", [prefix + "_q", prefix + "_scale", prefix + "_zp"],
                                      [prefix + "_dq"], name=prefix + "_DQ"))
        done_acts[name] = prefix + "_dq"
        return prefix + "_dq"

    renames = {}
    inits = initializers(model)
    for index, node in enumerate(g.node):
        for i, x in enumerate(node.input):
            if x in renames:
                node.input[i] = renames[x]
        w = targets.get(index)
        if w is None:
            nodes.append(node)
            continue
        p = f"{node.name or node.output[0]}_qdq{count}"
        count += 1
        conv = node.op_type == "Conv"
        wa = numpy_helper.to_array(w).astype(np.float32)
        # Conv: per output channel (axis 0, as quantize_static does)
        if conv:
            amax = np.max(np.abs(wa), axis=(1, 2, 3)) if per_channel else np.max(np.abs(wa))
            wsb = (amax / 127.0).reshape(-1, 1, 1, 1) if per_channel else amax / 127.0
            ws = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
            wq = np.clip(np.rint(wa / np.where(np.asarray(wsb) > 0, wsb, 1.0)), -127, 127).astype(np.int8)
        else:
            amax = np.max(np.abs(wa), axis=0) if per_channel else np.max(np.abs(wa))
            ws = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
            wq = np.clip(np.rint(wa / ws), -127, 127).astype(np.int8)
        g.initializer.extend([
            numpy_helper.from_array(wq, p + "_W_quantized"),
            numpy_helper.from_array(np.asarray(ws, np.float32), p + "_W_scale"),
            numpy_helper.from_array(np.zeros(ws.shape, np.int8), p + "_W_zero_point")])
        used.add(w.name)
        xdq = qdq(node.input[0], p + "_x")
        nodes.append(helper.make_node(
            "DequantizeLinear", [p + "_W_quantized", p + "_W_scale", p + "_W_zero_point"],
            [p + "_W_dq"], name=p + "_W_DQ",
            **({"axis": 0 if conv else 1} if per_channel else {})))
        y = node.output[0]
        if conv:
            # the bias as int32 at scale x_scale * w_scale, zero point 0
            # (the form ORT's QDQ Conv fusion takes)
            ins = [xdq, p + "_W_dq"]
            if len(node.input) > 2 and node.input[2]:
                b = inits[node.input[2]]
                # x's range: of the tensor whose QDQ pair feeds the node
                # (a convolution right after another reads its y_dq)
                src = next((k for k, v in done_acts.items() if v == node.input[0]),
                           node.input[0])
                xs, _ = activation_params(*ranges[src])
                bs = (np.float32(xs) * np.broadcast_to(ws, (wa.shape[0],))).astype(np.float32)
                ba = numpy_helper.to_array(b).astype(np.float32)
                bq = np.rint(ba / np.where(bs > 0, bs, 1.0)).astype(np.int32)
                g.initializer.extend([
                    numpy_helper.from_array(bq, p + "_B_quantized"),
                    numpy_helper.from_array(bs, p + "_B_scale"),
                    numpy_helper.from_array(np.zeros(bs.shape, np.int32), p + "_B_zero_point")])
                nodes.append(helper.make_node(
                    "DequantizeLinear", [p + "_B_quantized", p + "_B_scale", p + "_B_zero_point"],
                    [p + "_B_dq"], name=p + "_B_DQ", axis=0))
                ins.append(p + "_B_dq")
            nodes.append(helper.make_node("Conv", ins, [p + "_y"], name=node.name))
            nodes[-1].attribute.extend(node.attribute)
        else:
            nodes.append(helper.make_node("MatMul", [xdq, p + "_W_dq"], [p + "_y"], name=node.name))
        # the output's QDQ pair, ranged on the fp32 model's output
        ranges[p + "_y"] = ranges[y]
        renames[y] = qdq(p + "_y", p + "_y")
    for o in g.output:
        if o.name in renames:
            nodes.append(helper.make_node("Identity", [renames[o.name]], [o.name]))
    replace_nodes(g, nodes, used)
    if not any(o.domain in ("", "ai.onnx") and o.version >= 13 for o in model.opset_import):
        raise SystemExit("quantize_static_qdq.py: needs opset >= 13 (per-axis DequantizeLinear)")
    return model, count


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "e2e"))
    from run_e2e import run_ort  # noqa: E402
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--shape", required=True, help="dims of the calibration inputs")
    ap.add_argument("--per-channel", action="store_true")
    ap.add_argument("--node", default="node")
    ap.add_argument("--conv", action="store_true",
                    help="Conv nodes with constant weights too (per output channel "
                         "with --per-channel, int32 biases)")
    a = ap.parse_args()
    global CONVS
    CONVS = a.conv
    model = onnx.load(a.input)
    shape = {k: int(v) for k, v in (kv.split("=") for kv in a.shape.split(","))}
    feeds_list = calibration_feeds(model, shape, 4)
    with tempfile.TemporaryDirectory() as tmp:
        ranges = calibrate(model, feeds_list, lambda p, f: run_ort(p, f, tmp, a.node))
    model, n = quantize_static_qdq(model, ranges, a.per_channel)
    onnx.save(model, a.output)
    print(f"{a.output}: {n} {'MatMuls and Convs' if a.conv else 'MatMuls'} quantized (QDQ)")
    return 0


def calibration_feeds(model, shape, count, seed=7):
    """`count` sets of random inputs for the model's graph inputs (token
    ids below 100, masks of ones, normal floats)."""
    rng = np.random.default_rng(seed)
    inits = {i.name for i in model.graph.initializer}
    out = []
    for _ in range(count):
        feeds = {}
        for vi in model.graph.input:
            if vi.name in inits:
                continue
            t = vi.type.tensor_type
            dims = [d.dim_value if d.HasField("dim_value") else shape.get(d.dim_param, 2)
                    for d in t.shape.dim]
            if t.elem_type == TensorProto.INT64:
                feeds[vi.name] = (np.ones(dims, np.int64) if "mask" in vi.name
                                  else rng.integers(0, 2 if "type" in vi.name else 100,
                                                    dims).astype(np.int64))
            else:
                feeds[vi.name] = rng.standard_normal(dims).astype(np.float32)
        out.append(feeds)
    return out


if __name__ == "__main__":
    sys.exit(main())
