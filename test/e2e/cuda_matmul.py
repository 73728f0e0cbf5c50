#!/usr/bin/env python3
"""The GPU matmul kernels' tiling at awkward shapes, checked on the CPU.

    cuda_matmul.py --kiln KILN [--precision fp32|fp16|bf16] [--ptx DIR]
                   [--compile-args "--gpu-mma-tile 128x64"] [--cases split-k]

kiln-gpu-tile-matmuls gives every f32 matmul a 64 x 64 block tile staged
in shared memory 16 values of k at a time. These models put partial tiles
on every edge (M, N and K not multiples of the tile, k shorter than one
step, one row), a batch of two activations (batch_matmul), a Gemm with
transposed B and a bias, and a strided operand. The last four cases have
operands the pipelined tensor-core kernel takes (--gpu-mma-tile: K a
multiple of 4, N of a 16-byte vector), with partial 64- and 128-wide tiles
and steps of k, a single step, whole tiles, and an activation-by-activation
batch (B in fp32). Each is compiled with
`--target cuda --emulate-gpu` (the kernel's per-thread steps as CPU loops)
and compared with numpy in float64 within 1e-4 of the output's max.
With --precision fp16|bf16 (the tensor-core kernel: operands rounded to
that type when staged in shared memory, fp32 accumulation) the reference
rounds the matmuls' operands the same way (round to nearest even) and the
tolerance is the same; the emulation checks the staging, rounding, warp
tiling and epilogue, not mma.sync's fragment order (see TileMatmuls.cpp).
With --ptx DIR each is also compiled for the GPU and its PTX kept in
DIR/<model>, for the caller to check the tiled kernels are there.
With --cases split-k the models are SPLIT_K_CASES instead: long k (600
to 900, a partial last step) for --gpu-split-k, with a bias prologue and a
Relu epilogue, a batch, partial tiles.
Prints one line per model and shape and `cuda_matmul: N failed`.
"""
import argparse
import os
import sys
import tempfile

import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, HERE)
import kiln  # noqa: E402
from run_e2e import fp32_or_cosine  # noqa: E402


def rounder(precision):
    """Rounds float32 values to `precision` (round to nearest even), as the
    kernel does when it stages operands, returned as float64."""
    def fp16(x):
        return np.asarray(x, np.float32).astype(np.float16).astype(np.float64)

    def bf16(x):
        bits = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
        bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
        return bits.astype(np.uint32).view(np.float32).astype(np.float64)
    return {"fp32": lambda x: np.asarray(x, np.float64), "fp16": fp16,
            "bf16": bf16}[precision]


R = rounder("fp32")


def weight_matmul(path, k, n, rng):
    """y[M, N] = x[M, k] @ W[k, n], M dynamic."""
    w = rng.standard_normal((k, n)).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["M", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["M", n])],
        [numpy_helper.from_array(w, "w")])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    return lambda f: R(f["x"]) @ R(w)


def batched(path, k, n, rng):
    """y[B, M, N] = a[B, M, k] @ b[B, k, n], B and M dynamic."""
    del rng
    g = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["y"], name="bmm")], "g",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["B", "M", k]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, ["B", k, n])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["B", "M", n])])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    return lambda f: R(f["a"]) @ R(f["b"])


def gemm_bias(path, k, n, rng):
    """y = x @ W^T + c (Gemm transB=1), then a slice of columns as input of
    a second MatMul (a strided view)."""
    w = rng.standard_normal((n, k)).astype(np.float32)
    c = rng.standard_normal(n).astype(np.float32)
    w2 = rng.standard_normal((n - 2, 9)).astype(np.float32)
    starts = numpy_helper.from_array(np.array([1], np.int64), "starts")
    ends = numpy_helper.from_array(np.array([n - 1], np.int64), "ends")
    axes = numpy_helper.from_array(np.array([1], np.int64), "axes")
    g = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w", "c"], ["h"], name="gemm", transB=1),
         helper.make_node("Slice", ["h", "starts", "ends", "axes"], ["s"], name="slice"),
         helper.make_node("MatMul", ["s", "w2"], ["y"], name="mm2")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["M", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["M", 9])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(c, "c"),
         numpy_helper.from_array(w2, "w2"), starts, ends, axes])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)

    def ref(f):
        h = (R(f["x"]) @ R(w.T) + c).astype(np.float32)
        return R(h[:, 1:n - 1]) @ R(w2)
    return ref


def linear_relu(path, k, n, rng):
    """y = Relu(x @ W + b): the bias a prologue, the Relu an epilogue."""
    w = rng.standard_normal((k, n)).astype(np.float32)
    c = rng.standard_normal(n).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"),
         helper.make_node("Add", ["h", "c"], ["hb"], name="bias"),
         helper.make_node("Relu", ["hb"], ["y"], name="relu")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["M", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["M", n])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(c, "c")])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    return lambda f: np.maximum(R(f["x"]) @ R(w) + c, 0)


# name, builder, k, n, shapes (dims by input name)
CASES = [
    ("matmul_k37_n100", weight_matmul, 37, 100, [{"M": 1}, {"M": 70}]),
    ("matmul_k5_n3", weight_matmul, 5, 3, [{"M": 2}, {"M": 129}]),
    ("matmul_k130_n64", weight_matmul, 130, 64, [{"M": 64}, {"M": 65}]),
    ("batched_k19_n33", batched, 19, 33, [{"B": 1, "M": 1}, {"B": 3, "M": 67}]),
    ("gemm_bias_slice", gemm_bias, 48, 80, [{"M": 3}, {"M": 66}]),
    ("matmul_k100_n136", weight_matmul, 100, 136, [{"M": 1}, {"M": 130}]),
    ("matmul_k8_n8", weight_matmul, 8, 8, [{"M": 3}]),
    ("matmul_k256_n128", weight_matmul, 256, 128, [{"M": 128}, {"M": 257}]),
    ("batched_k20_n40", batched, 20, 40, [{"B": 2, "M": 67}]),
]

# For --gpu-split-k: K = 600 takes a split of 2 (at least 256 per part),
# not of 3; the others take up to 3.
SPLIT_K_CASES = [
    ("matmul_k812_n72", weight_matmul, 812, 72, [{"M": 1}, {"M": 130}]),
    ("gemm_bias_k600", gemm_bias, 600, 80, [{"M": 66}]),
    ("batched_k800_n40", batched, 800, 40, [{"B": 2, "M": 67}]),
    ("linear_relu_k900_n64", linear_relu, 900, 64, [{"M": 129}]),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--ptx")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "fp16", "bf16"])
    ap.add_argument("--compile-args", default="", help="more kiln compile flags")
    ap.add_argument("--cases", default="default", choices=["default", "split-k"])
    args = ap.parse_args()
    global R
    R = rounder(args.precision)
    failed = 0
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        for name, build, k, n, shapes in (SPLIT_K_CASES if args.cases == "split-k"
                                          else CASES):
            path = os.path.join(tmp, name + ".onnx")
            ref = build(path, k, n, rng)
            so = os.path.join(tmp, name + ".so")
            kiln.compile(path, so, kiln=args.kiln, target="cuda",
                         precision=args.precision,
                         extra_args=["--emulate-gpu"] + args.compile_args.split())
            if args.ptx:
                kiln.compile(path, os.path.join(tmp, name + ".cuda.so"), kiln=args.kiln,
                             target="cuda", precision=args.precision,
                             extra_args=["--save-ptx", os.path.join(args.ptx, name)]
                             + args.compile_args.split())
            model = kiln.load(so)
            for dims in shapes:
                feeds = {}
                for info in model.inputs:
                    shape = [dims[d] if isinstance(d, str) else d for d in info["dims"]]
                    feeds[info["name"]] = rng.standard_normal(shape).astype(np.float32)
                got = model.run(feeds)["y"]
                want = ref(feeds)
                # The reference rounds operands as the kernel does, so every
                # precision is held to the fp32 tolerance.
                ok, detail = fp32_or_cosine(got, want, fp32=True)
                ok = ok and got.shape == want.shape
                failed += not ok
                label = ",".join(f"{d}={v}" for d, v in dims.items())
                print(f"{name} {args.precision} {label} {detail} {'ok' if ok else 'FAIL'}")
            model.close()
    print(f"cuda_matmul: {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
