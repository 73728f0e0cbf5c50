#!/usr/bin/env python3
"""Opset 21's blocked quantization and 4-bit types through kiln, against
ONNX Runtime running the same file.

    qdq_blocked.py --kiln KILN [--node NODE] [--write DIR]

Debian's onnx package (1.12) predates INT4/UINT4 (data types 22 and 21)
and DequantizeLinear's block_size, so the models are built from the
protobuf messages directly: 4-bit initializers as raw_data two values per
byte, low nibble first (the ONNX spec's packing), int32_data for one case.

The weight-only forms are what ONNX Runtime's 4-bit quantizer writes in
its QDQ format (DequantizeLinear of int4/uint4 weights [K, N], axis 0,
block_size 32 or 128, float scales [K / block, N], optional zero points of
the weight's type, then MatMul); the others cover int8 blocks along the
last axis, a ragged last block, QuantizeLinear in blocks on an activation
and QuantizeLinear to int4. Prints one line per model and build:
`name build shape detail ok|FAIL`. fp32 builds match ORT computing in
fp32 within 1e-4 of each output's max; `--quantize int4` re-packs the
dequantized weights for kiln's int4 kernels (asymmetric blocks keep
their zero points) and is held to ORT's default run, its own
int8-activation MatMulNBits fusion (cosine >= 0.999). --write DIR only
writes the models, and
the malformed ones qdq_blocked.test expects errors from.
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, HERE)
import kiln  # noqa: E402
from run_e2e import fp32_or_cosine, run_ort  # noqa: E402

UINT4, INT4 = 21, 22  # TensorProto data types (onnx >= 1.16)
FP32_ORT = {"session.qdq_matmulnbits_accuracy_level": "1"}


def tensor4(name, values, signed, typed_field=False):
    """A 4-bit initializer of `values` (integers in the type's range)."""
    v = np.asarray(values, np.int64)
    lo, hi = (-8, 7) if signed else (0, 15)
    assert v.min() >= lo and v.max() <= hi
    flat = (v.reshape(-1) & 15).astype(np.uint8)
    if flat.size % 2:
        flat = np.append(flat, np.uint8(0))
    packed = (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8)
    t = TensorProto()
    t.name = name
    t.data_type = INT4 if signed else UINT4
    t.dims.extend(v.shape)
    if typed_field:
        t.int32_data.extend(int(b) for b in packed)
    else:
        t.raw_data = packed.tobytes()
    return t


def value_info(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def save(path, nodes, inputs, outputs, inits):
    g = helper.make_graph(nodes, os.path.basename(path)[:-5], inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
    m.ir_version = 10  # 4-bit types and opset 21
    onnx.save(m, path)


def block_quantize(w, axis, block, bits, signed, with_zp):
    """w quantized in blocks of `block` along `axis`: (q, scale, zp or None)
    with scale/zp of w's shape except ceil(extent / block) along axis."""
    w = np.moveaxis(w, axis, 0)
    d = w.shape[0]
    nb = (d + block - 1) // block
    qmax = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
    qmin = -(1 << (bits - 1)) if signed else 0
    q = np.zeros(w.shape, np.int64)
    scale = np.zeros((nb,) + w.shape[1:], np.float32)
    zp = np.zeros((nb,) + w.shape[1:], np.int64)
    for b in range(nb):
        blk = w[b * block:(b + 1) * block]
        if with_zp:
            lo, hi = np.minimum(blk.min(0), 0), np.maximum(blk.max(0), 0)
            s = np.maximum((hi - lo) / (qmax - qmin), 1e-8).astype(np.float32)
            z = np.clip(np.round(qmin - lo / s), qmin, qmax).astype(np.int64)
        else:
            s = np.maximum(np.abs(blk).max(0) / qmax, 1e-8).astype(np.float32)
            z = np.zeros_like(s, np.int64)
        q[b * block:(b + 1) * block] = np.clip(np.round(blk / s) + z, qmin, qmax)
        scale[b], zp[b] = s, z
    mv = lambda a: np.ascontiguousarray(np.moveaxis(a, 0, axis))  # noqa: E731
    return mv(q), mv(scale), (mv(zp) if with_zp else None)


def weight_dq(name, k, n, block, bits, signed, with_zp, rng, inits, axis=0,
              typed_field=False):
    """A DequantizeLinear of a blocked weight [k, n]; returns the node."""
    w = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
    q, s, z = block_quantize(w, axis, block, bits, signed, with_zp)
    if bits == 4:
        inits.append(tensor4(name + "_q", q, signed, typed_field))
    else:
        inits.append(numpy_helper.from_array(q.astype(np.int8 if signed else np.uint8), name + "_q"))
    inits.append(numpy_helper.from_array(s, name + "_scale"))
    ins = [name + "_q", name + "_scale"]
    if z is not None:
        ins.append(name + "_zp")
        if bits == 4:
            inits.append(tensor4(name + "_zp", z, signed))
        else:
            inits.append(numpy_helper.from_array(z.astype(np.int8 if signed else np.uint8), name + "_zp"))
    return helper.make_node("DequantizeLinear", ins, [name + "_w"], axis=axis,
                            block_size=block, name=name + "_dq")


def weight_only_mlp(path, k, hidden, n, block, bits, signed, with_zp, axis=0,
                    typed_field=False):
    """x [batch, seq, k] -> MatMul(DQ(W1)) -> Relu -> MatMul(DQ(W2)) -> y."""
    rng = np.random.default_rng(k * 7 + hidden + block + bits)
    inits = []
    nodes = [weight_dq("fc1", k, hidden, block, bits, signed, with_zp, rng, inits, axis, typed_field),
             helper.make_node("MatMul", ["x", "fc1_w"], ["h"]),
             helper.make_node("Relu", ["h"], ["r"]),
             weight_dq("fc2", hidden, n, block, bits, signed, with_zp, rng, inits, axis),
             helper.make_node("MatMul", ["r", "fc2_w"], ["y"])]
    save(path, nodes, [value_info("x", TensorProto.FLOAT, ["batch", "seq", k])],
         [value_info("y", TensorProto.FLOAT, ["batch", "seq", n])], inits)


def activation_blocks(path):
    """QuantizeLinear -> DequantizeLinear in blocks of 16 along the last
    axis of a static [2, 8, 72] activation (ragged last block), scales
    and uint8 zero points per block as initializers, then a Tanh."""
    rng = np.random.default_rng(5)
    s = rng.uniform(0.01, 0.05, (2, 8, 5)).astype(np.float32)
    z = rng.integers(100, 156, (2, 8, 5)).astype(np.uint8)
    inits = [numpy_helper.from_array(s, "s"), numpy_helper.from_array(z, "z")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], axis=-1, block_size=16),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["d"], axis=-1, block_size=16),
             helper.make_node("Tanh", ["d"], ["y"])]
    save(path, nodes, [value_info("x", TensorProto.FLOAT, [2, 8, 72])],
         [value_info("y", TensorProto.FLOAT, [2, 8, 72])], inits)


def quantize_int4(path):
    """QuantizeLinear to int4 (a zero point of type int4, per axis) and to
    uint4 (output_dtype, per tensor), each dequantized again: values
    saturate at the 4-bit ranges."""
    rng = np.random.default_rng(6)
    s = rng.uniform(0.1, 0.3, (24,)).astype(np.float32)
    inits = [numpy_helper.from_array(s, "s"), tensor4("z", rng.integers(-2, 3, (24,)), True),
             numpy_helper.from_array(np.float32(0.2), "s1")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], axis=2),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["a"], axis=2),
             helper.make_node("QuantizeLinear", ["x", "s1"], ["q1"], output_dtype=UINT4),
             helper.make_node("DequantizeLinear", ["q1", "s1"], ["b"]),
             helper.make_node("Add", ["a", "b"], ["y"])]
    save(path, nodes, [value_info("x", TensorProto.FLOAT, ["batch", "seq", 24])],
         [value_info("y", TensorProto.FLOAT, ["batch", "seq", 24])], inits)


def odd_int4(path):
    """An int4 constant with an odd element count (the last byte's high
    nibble unused), dequantized per axis and added to the input."""
    inits = [tensor4("c", np.array([[-8, 7, 3]]), True),
             numpy_helper.from_array(np.array([0.5, 0.25, 2.0], np.float32), "cs")]
    nodes = [helper.make_node("DequantizeLinear", ["c", "cs"], ["d"], axis=1),
             helper.make_node("Add", ["x", "d"], ["y"])]
    save(path, nodes, [value_info("x", TensorProto.FLOAT, ["batch", "seq", 3])],
         [value_info("y", TensorProto.FLOAT, ["batch", "seq", 3])], inits)


def bad_models(folder):
    """Models kiln must refuse with an error naming the node or value."""
    x = lambda elem, shape: value_info("x", elem, shape)  # noqa: E731
    y = lambda elem, shape: value_info("y", elem, shape)  # noqa: E731
    s3 = numpy_helper.from_array(np.ones((2, 3), np.float32), "s")
    save(os.path.join(folder, "bad_int4_input.onnx"),
         [helper.make_node("DequantizeLinear", ["x", "one"], ["y"])],
         [x(INT4, [4])], [y(TensorProto.FLOAT, [4])],
         [numpy_helper.from_array(np.float32(1), "one")])
    save(os.path.join(folder, "bad_int4_output.onnx"),
         [helper.make_node("QuantizeLinear", ["x", "one"], ["y"], output_dtype=INT4)],
         [x(TensorProto.FLOAT, [4])], [y(INT4, [4])],
         [numpy_helper.from_array(np.float32(1), "one")])
    save(os.path.join(folder, "bad_block_scale.onnx"),
         [helper.make_node("DequantizeLinear", ["w", "s"], ["y"], axis=1, block_size=2,
                           name="dq_w")],
         [], [y(TensorProto.FLOAT, [2, 8])],
         [tensor4("w", np.zeros((2, 8), np.int64), True), s3])
    short = tensor4("w", np.zeros((2, 5), np.int64), True)
    short.raw_data = short.raw_data[:-1]
    save(os.path.join(folder, "bad_int4_short.onnx"),
         [helper.make_node("DequantizeLinear", ["w", "one"], ["y"])],
         [], [y(TensorProto.FLOAT, [2, 5])],
         [short, numpy_helper.from_array(np.float32(1), "one")])
    save(os.path.join(folder, "bad_block_dynamic.onnx"),
         [helper.make_node("QuantizeLinear", ["x", "s"], ["y"], axis=1, block_size=4,
                           name="q_x")],
         [x(TensorProto.FLOAT, [2, "n"])], [y(TensorProto.UINT8, [2, "n"])], [s3])


CASES = [
    # name, builder, input last dim, kiln builds
    ("int4_sym_b32", lambda p: weight_only_mlp(p, 128, 96, 64, 32, 4, True, False), 128,
     ["fp32", "int4"]),
    ("uint4_zp_b32", lambda p: weight_only_mlp(p, 128, 96, 64, 32, 4, False, True), 128,
     ["fp32", "int4"]),
    ("int4_zp_b128_typed", lambda p: weight_only_mlp(p, 256, 128, 64, 128, 4, True, True,
                                                     typed_field=True), 256, ["fp32", "int4"]),
    ("uint4_zp_b16_ragged", lambda p: weight_only_mlp(p, 72, 40, 24, 16, 4, False, True), 72,
     ["fp32"]),
    ("int8_zp_b16_axis1", lambda p: weight_only_mlp(p, 64, 48, 40, 16, 8, True, True, axis=1),
     64, ["fp32"]),
    ("activation_blocks", activation_blocks, 72, ["fp32"]),
    ("quantize_int4", quantize_int4, 24, ["fp32"]),
    ("odd_int4", odd_int4, 3, ["fp32"]),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kiln")
    ap.add_argument("--node", default="node")
    ap.add_argument("--write", help="only write the models into this folder")
    args = ap.parse_args()
    if args.write:
        os.makedirs(args.write, exist_ok=True)
        for name, build, _, _ in CASES:
            build(os.path.join(args.write, name + ".onnx"))
        bad_models(args.write)
        return 0
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, build, k, builds in CASES:
            path = os.path.join(tmp, name + ".onnx")
            build(path)
            static = name == "activation_blocks"
            shapes = [(2, 8)] if static else [(1, 7), (3, 16)]
            for label in builds:
                so = os.path.join(tmp, f"{name}_{label}.so")
                group = 128 if "b128" in name else 32
                opts = {"quantize": "int4", "group_size": group} if label == "int4" else {}
                kiln.compile(path, so, kiln=args.kiln, **opts)
                model = kiln.load(so)
                for shape in shapes:
                    x = np.random.default_rng(shape[1]).standard_normal((*shape, k)).astype(np.float32)
                    got = model.run({"x": x})["y"]
                    # ORT fuses DequantizeLinear(4-bit, blocked) + MatMul
                    # into MatMulNBits at accuracy level 4 (int8
                    # activations) by default; level 1 computes in fp32,
                    # what the graph defines (as with optimizations off).
                    config = FP32_ORT if label == "fp32" else None
                    ref = run_ort(path, {"x": x}, os.path.join(tmp, "ort"), args.node,
                                  config)["y"]
                    ok, detail = fp32_or_cosine(got, ref, label == "fp32")
                    failed += not ok
                    print(f"{name} {label} batch={shape[0]},seq={shape[1]} {detail} "
                          f"{'ok' if ok else 'FAIL'}")
                model.close()
    print(f"qdq_blocked: {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
