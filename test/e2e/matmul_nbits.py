#!/usr/bin/env python3
"""ONNX Runtime's 4-bit weight-only matmul (com.microsoft MatMulNBits)
through kiln against ORT running the same file.

Writes models in the layout ORT's MatMulNBitsQuantizer produces (B uint8
[N, blocks, block_size / 2], low nibble first; scales [N * blocks]; zero
points uint8 two per byte, or absent for the symmetric default of 8; an
optional bias), compiles them with kiln (fp32, and --quantize int4 when
block_size is a kiln group size) and compares at two shapes. Prints one line
per model and shape: `name shape max|err| tol ok|FAIL`.
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


def quantize_blocks(w, block, symmetric, rng):
    """w [K, N] -> (B uint8 [N, blocks, block/2], scales f32 [N*blocks],
    zero points uint8 [N * ceil(blocks/2)] or None)."""
    k, n = w.shape
    blocks = (k + block - 1) // block
    padded = np.zeros((blocks * block, n), np.float32)
    padded[:k] = w
    q = np.zeros((n, blocks, block), np.uint8)
    scales = np.zeros((n, blocks), np.float32)
    zps = np.full((n, blocks), 8, np.uint8)
    for c in range(n):
        for b in range(blocks):
            v = padded[b * block:(b + 1) * block, c]
            if symmetric:
                s = max(np.abs(v).max() / 7.0, 1e-8)
                z = 8
            else:
                lo, hi = min(v.min(), 0.0), max(v.max(), 0.0)
                s = max((hi - lo) / 15.0, 1e-8)
                z = int(np.clip(np.round(-lo / s), 0, 15))
            q[c, b] = np.clip(np.round(v / s) + z, 0, 15).astype(np.uint8)
            scales[c, b], zps[c, b] = s, z
    packed = (q[:, :, 0::2] | (q[:, :, 1::2] << 4)).astype(np.uint8)
    zp = None
    if not symmetric:
        zb = (blocks + 1) // 2
        zpad = np.zeros((n, zb * 2), np.uint8)
        zpad[:, :blocks] = zps
        zp = (zpad[:, 0::2] | (zpad[:, 1::2] << 4)).astype(np.uint8).reshape(-1)
    return packed, scales.reshape(-1), zp


def nbits_node(name, x, y, k, n, block, symmetric, bias, rng, inits):
    w = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
    b, s, z = quantize_blocks(w, block, symmetric, rng)
    inputs = [x, name + "_B", name + "_scales"]
    inits += [numpy_helper.from_array(b, name + "_B"), numpy_helper.from_array(s, name + "_scales")]
    if z is not None or bias:
        inputs.append(name + "_zp" if z is not None else "")
        if z is not None:
            inits.append(numpy_helper.from_array(z, name + "_zp"))
    if bias:
        inputs.append("")  # g_idx absent
        inputs.append(name + "_bias")
        inits.append(numpy_helper.from_array(
            rng.standard_normal(n).astype(np.float32), name + "_bias"))
    return helper.make_node("MatMulNBits", inputs, [y], domain="com.microsoft",
                            K=k, N=n, bits=4, block_size=block)


def mlp(path, k, hidden, n, block, symmetric, bias):
    """x [batch, seq, k] -> MatMulNBits -> Relu -> MatMulNBits -> y."""
    rng = np.random.default_rng(k + hidden + block)
    inits = []
    nodes = [nbits_node("fc1", "x", "h", k, hidden, block, symmetric, bias, rng, inits),
             helper.make_node("Relu", ["h"], ["r"]),
             nbits_node("fc2", "r", "y", hidden, n, block, symmetric, False, rng, inits)]
    g = helper.make_graph(nodes, "mlp",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", k])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "seq", n])],
                          inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                            helper.make_opsetid("com.microsoft", 1)])
    onnx.save(m, path)


CASES = [
    # name, K, hidden, N, block_size, symmetric, bias
    ("asym_b32", 128, 96, 64, 32, False, False),
    ("sym_b32_bias", 128, 96, 64, 32, True, True),
    ("asym_b16_ragged", 72, 40, 24, 16, False, True),  # K not a multiple of the block
    ("asym_b128", 256, 128, 64, 128, False, False),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--node", default="node")
    args = ap.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, k, hidden, n, block, sym, bias in CASES:
            path = os.path.join(tmp, name + ".onnx")
            mlp(path, k, hidden, n, block, sym, bias)
            variants = [("fp32", {})]
            if block in (32, 128):
                # kiln's groups; asymmetric blocks keep their zero points
                variants.append(("int4", {"quantize": "int4", "group_size": block}))
            for label, opts in variants:
                so = os.path.join(tmp, f"{name}_{label}.so")
                kiln.compile(path, so, kiln=args.kiln, **opts)
                model = kiln.load(so)
                for shape in [(1, 7), (3, 16)]:
                    x = np.random.default_rng(shape[1]).standard_normal((*shape, k)).astype(np.float32)
                    got = model.run({"x": x})["y"]
                    ref = run_ort(path, {"x": x}, os.path.join(tmp, "ort"), args.node)["y"]
                    # fp32: ORT dequantizes to fp32 too (1e-4 of the max);
                    # int4: kiln re-packs the same 4-bit values but
                    # quantizes activations to int8 (cosine).
                    ok, detail = fp32_or_cosine(got, ref, label == "fp32")
                    failed += not ok
                    print(f"{name} {label} batch={shape[0]},seq={shape[1]} {detail} "
                          f"{'ok' if ok else 'FAIL'}")
                model.close()
    print(f"matmul_nbits: {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
