#!/usr/bin/env python3
"""End-to-end numerics of kiln.attention at long sequence lengths.

kiln-fuse-attention turns softmax(scale * Q.K^T + mask).V into
kiln.attention, which lowers to a loop over blocks of 128 keys with an online
(streaming) softmax. This script builds small ONNX attention blocks with
onnx.helper (opset 17, float32, dynamic batch / sequence dims) in the export
forms the fusion recognizes:

  mha         Q,K,V [B,4,S,16]; MatMul(Q, Transpose(K)) / sqrt(16) + additive
              float mask input [B,1,1,Sk] (0 or -10000); Softmax; MatMul V
  causal      GPT-2 style: a constant lower-triangular bool buffer
              [1,1,512,512] sliced to [Sk-Sq:Sk, 0:Sk] through Shape/Gather/
              Slice; Where(mask, scores, -3.4028235e38); Softmax; MatMul V
  gqa         Q [B,4,Sq,16], K,V [B,2,Sk,16] repeated per head by
              Unsqueeze(axes=[2]) -> Expand([B,2,2,Sk,16]) ->
              Reshape([B,4,Sk,16]), both shapes from Shape/Gather/Concat;
              scores * 0.25; Softmax; MatMul V. The repeat must be absorbed
              (kiln.attention reads the 2 key/value heads directly).
  gqa_neg1    the same with the constant Reshape shape [0,4,-1,16]; the
              repeat must be absorbed too (the -1 extent is traced)
  pad_neginf  bool key-padding mask input [B,1,1,Sk] (True = padded) applied
              as Where(mask, -inf, scores) (the inverted form); batch 1 pads
              the first 128+ keys, so whole leading key blocks are excluded

Each model is compiled once (`kiln compile`, dims kept dynamic), checked to
fuse (`kiln import --optimize` must print one `kiln.attention`), and run through
the Python API (python/kiln) at several (Sq, Sk) pairs around the 128-key
block size (1, 127, 128, 129, 300) and the CUDA kernels' 64-row and 64- or
32-key tiles (9, 70, 77, 200), and a decode step on a longer cache (2,
1100: the CUDA decode kernel's keys in 5 parts of 256, the last partial;
not for causal, whose buffer holds 512 positions), batch 2, against a
numpy float64 reference of the same math. Tolerance: max|err| <= 1e-4 * max(1, max|ref|).

`--precision fp16|bf16` compiles with that precision and draws Q, K and V
already rounded to it, so that what a low-precision kernel rounds is its
probabilities (and its fp32 sums): tolerance 2e-3 (fp16) or 1.6e-2 (bf16)
times max(1, max|ref|). `--head-dim` sets the head dim (default 16).
Prints one row per model and shape and a closing
`attention_long: N passed, M failed` line; exits 1 on any failure.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
import kiln  # noqa: E402

OPSET = 17
B, H, HKV, D = 2, 4, 2, 16
MAX_POS = 512
FLT_LOWEST = -3.4028235e38

# (Sq, Sk) pairs: one key block, a partial block, exactly one block, one key
# into the second block, three blocks with a partial last one; Sq = 1 and
# Sq = Sk.
SHAPES = [(1, 1), (5, 127), (128, 128), (3, 129), (300, 300), (1, 300),
          (9, 70), (77, 200), (2, 1100)]
# The compile's precision: Q, K, V are drawn rounded to it; the tolerance.
PRECISION = "fp32"
TOLERANCE = {"fp32": 1e-4, "fp16": 2e-3, "bf16": 1.6e-2}


def rounded(x):
    """x (float32) rounded to PRECISION, as float32."""
    if PRECISION == "fp16":
        return x.astype(np.float16).astype(np.float32)
    if PRECISION == "bf16":  # round to nearest even on the upper 16 bits
        u = x.view(np.uint32).astype(np.uint64)
        u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
        return u.astype(np.uint32).view(np.float32)
    return x


def const(name, array):
    return helper.make_node("Constant", [], [name],
                            value=numpy_helper.from_array(np.asarray(array), name))


def vinfo(name, elem, dims):
    return helper.make_tensor_value_info(name, elem, dims)


def make_model(name, nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="attention_long")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def qkv_inputs(kv_heads=None):
    kv_heads = kv_heads or H
    return [vinfo("q", TensorProto.FLOAT, ["batch", H, "q_seq", D]),
            vinfo("k", TensorProto.FLOAT, ["batch", kv_heads, "kv_seq", D]),
            vinfo("v", TensorProto.FLOAT, ["batch", kv_heads, "kv_seq", D])]


def output():
    return [vinfo("out", TensorProto.FLOAT, ["batch", H, "q_seq", D])]


def build_mha():
    nodes = [
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
        helper.make_node("MatMul", ["q", "kt"], ["qk"]),
        const("sqrt_d", np.array(np.sqrt(D), np.float32)),
        helper.make_node("Div", ["qk", "sqrt_d"], ["scores"]),
        helper.make_node("Add", ["scores", "mask"], ["masked"]),
        helper.make_node("Softmax", ["masked"], ["probs"], axis=-1),
        helper.make_node("MatMul", ["probs", "v"], ["out"]),
    ]
    inputs = qkv_inputs() + [vinfo("mask", TensorProto.FLOAT, ["batch", 1, 1, "kv_seq"])]
    return make_model("mha", nodes, inputs, output())


def build_causal():
    bias = np.tril(np.ones((MAX_POS, MAX_POS), np.bool_)).reshape(1, 1, MAX_POS, MAX_POS)
    nodes = [
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
        helper.make_node("MatMul", ["q", "kt"], ["qk"]),
        const("sqrt_d", np.array(np.sqrt(D), np.float32)),
        helper.make_node("Div", ["qk", "sqrt_d"], ["scores"]),
        # GPT-2: query_length, key_length = q.size(-2), k.size(-2)
        #        causal_mask = bias[:, :, key_length - query_length:key_length, :key_length]
        helper.make_node("Shape", ["q"], ["q_shape"]),
        const("idx2", np.array(2, np.int64)),
        helper.make_node("Gather", ["q_shape", "idx2"], ["q_len"], axis=0),
        helper.make_node("Shape", ["k"], ["k_shape"]),
        helper.make_node("Gather", ["k_shape", "idx2"], ["k_len"], axis=0),
        helper.make_node("Sub", ["k_len", "q_len"], ["start"]),
        const("axes0", np.array([0], np.int64)),
        helper.make_node("Unsqueeze", ["start", "axes0"], ["start1"]),
        helper.make_node("Unsqueeze", ["k_len", "axes0"], ["k_len1"]),
        const("axis2", np.array([2], np.int64)),
        const("axis3", np.array([3], np.int64)),
        const("zero1", np.array([0], np.int64)),
        const("one1", np.array([1], np.int64)),
        helper.make_node("Slice", ["bias", "start1", "k_len1", "axis2", "one1"], ["bias_rows"]),
        helper.make_node("Slice", ["bias_rows", "zero1", "k_len1", "axis3", "one1"],
                         ["causal_mask"]),
        const("fill", np.array(FLT_LOWEST, np.float32)),
        helper.make_node("Where", ["causal_mask", "scores", "fill"], ["masked"]),
        helper.make_node("Softmax", ["masked"], ["probs"], axis=-1),
        helper.make_node("MatMul", ["probs", "v"], ["out"]),
    ]
    return make_model("causal", nodes, qkv_inputs(), output(),
                      [numpy_helper.from_array(bias, "bias")])


def build_gqa(reshape_from_shape=True):
    rep = H // HKV
    nodes = [
        # repeat_kv: x[:, :, None, :, :].expand(b, kvh, rep, s, d).reshape(b, kvh * rep, s, d)
        const("axes2", np.array([2], np.int64)),
        const("rep", np.array([rep], np.int64)),
        const("heads", np.array([H], np.int64)),
        const("reshape_to", np.array([0, H, -1, D], np.int64)),
        const("i0", np.array([0], np.int64)),
        const("i01", np.array([0, 1], np.int64)),
        const("i23", np.array([2, 3], np.int64)),
    ]
    for t in ("k", "v"):
        nodes += [
            helper.make_node("Unsqueeze", [t, "axes2"], [f"{t}_u"]),
            helper.make_node("Shape", [t], [f"{t}_shape"]),
            helper.make_node("Gather", [f"{t}_shape", "i0"], [f"{t}_batch"], axis=0),
            helper.make_node("Gather", [f"{t}_shape", "i01"], [f"{t}_lead"], axis=0),
            helper.make_node("Gather", [f"{t}_shape", "i23"], [f"{t}_tail"], axis=0),
            helper.make_node("Concat", [f"{t}_lead", "rep", f"{t}_tail"], [f"{t}_eshape"], axis=0),
            helper.make_node("Expand", [f"{t}_u", f"{t}_eshape"], [f"{t}_e"]),
        ]
        if reshape_from_shape:  # [b, kvh * rep, s, d] from Shape ops, as torch exports it
            nodes += [
                helper.make_node("Concat", [f"{t}_batch", "heads", f"{t}_tail"], [f"{t}_rshape"],
                                 axis=0),
                helper.make_node("Reshape", [f"{t}_e", f"{t}_rshape"], [f"{t}_rep"]),
            ]
        else:  # constant [0, kvh * rep, -1, d]
            nodes.append(helper.make_node("Reshape", [f"{t}_e", "reshape_to"], [f"{t}_rep"]))
    nodes += [
        helper.make_node("Transpose", ["k_rep"], ["kt"], perm=[0, 1, 3, 2]),
        helper.make_node("MatMul", ["q", "kt"], ["qk"]),
        const("scale", np.array(0.25, np.float32)),
        helper.make_node("Mul", ["qk", "scale"], ["scores"]),
        helper.make_node("Softmax", ["scores"], ["probs"], axis=-1),
        helper.make_node("MatMul", ["probs", "v_rep"], ["out"]),
    ]
    return make_model("gqa" if reshape_from_shape else "gqa_neg1", nodes, qkv_inputs(HKV),
                      output())


def build_gqa_neg1():
    return build_gqa(reshape_from_shape=False)


def build_pad_neginf():
    nodes = [
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
        helper.make_node("MatMul", ["q", "kt"], ["qk"]),
        const("sqrt_d", np.array(np.sqrt(D), np.float32)),
        helper.make_node("Div", ["qk", "sqrt_d"], ["scores"]),
        const("neginf", np.array(-np.inf, np.float32)),
        helper.make_node("Where", ["pad", "neginf", "scores"], ["masked"]),
        helper.make_node("Softmax", ["masked"], ["probs"], axis=-1),
        helper.make_node("MatMul", ["probs", "v"], ["out"]),
    ]
    inputs = qkv_inputs() + [vinfo("pad", TensorProto.BOOL, ["batch", 1, 1, "kv_seq"])]
    return make_model("pad_neginf", nodes, inputs, output())


# --- inputs and float64 references -----------------------------------------

def softmax(x):
    m = x.max(axis=-1, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(axis=-1, keepdims=True)


def qkv(rng, sq, sk, kv_heads=None):
    kv_heads = kv_heads or H
    # Scaled up so that the softmax is peaked and the running maximum moves
    # between key blocks.
    q = (2.0 * rng.standard_normal((B, H, sq, D))).astype(np.float32)
    k = (2.0 * rng.standard_normal((B, kv_heads, sk, D))).astype(np.float32)
    v = rng.standard_normal((B, kv_heads, sk, D)).astype(np.float32)
    return rounded(q), rounded(k), rounded(v)


def scores64(q, k, scale):
    q64, k64 = q.astype(np.float64), k.astype(np.float64)
    rep = q.shape[1] // k.shape[1]
    k64 = np.repeat(k64, rep, axis=1)
    return np.matmul(q64, np.swapaxes(k64, -1, -2)) * scale


def attend64(s, v):
    rep = s.shape[1] // v.shape[1]
    return np.matmul(softmax(s), np.repeat(v.astype(np.float64), rep, axis=1))


def case_mha(rng, sq, sk):
    q, k, v = qkv(rng, sq, sk)
    mask = np.zeros((B, 1, 1, sk), np.float32)
    # Batch 0: every key visible; batch 1: padding at the end (the last 40%,
    # at least one key kept) plus a scattered few.
    keep = max(1, (sk * 3) // 5)
    mask[1, ..., keep:] = -10000.0
    mask[1, ..., rng.random(sk) < 0.1] = -10000.0
    mask[1, ..., 0] = 0.0
    s = scores64(q, k, 1.0 / np.sqrt(D)) + mask.astype(np.float64)
    return {"q": q, "k": k, "v": v, "mask": mask}, attend64(s, v)


def case_causal(rng, sq, sk):
    q, k, v = qkv(rng, sq, sk)
    s = scores64(q, k, 1.0 / np.sqrt(D))
    i = np.arange(sq)[:, None]
    j = np.arange(sk)[None, :]
    allowed = j <= i + (sk - sq)
    s = np.where(allowed, s, np.float64(np.float32(FLT_LOWEST)))
    return {"q": q, "k": k, "v": v}, attend64(s, v)


def case_gqa(rng, sq, sk):
    q, k, v = qkv(rng, sq, sk, HKV)
    s = scores64(q, k, 0.25)
    return {"q": q, "k": k, "v": v}, attend64(s, v)


def case_pad_neginf(rng, sq, sk):
    q, k, v = qkv(rng, sq, sk)
    pad = np.zeros((B, 1, 1, sk), np.bool_)
    # Batch 0: random padding; batch 1: left padding over the first 128+ keys
    # (whole key blocks excluded), always keeping the last key.
    pad[0, ..., :] = rng.random(sk) < 0.3
    pad[1, ..., : max(0, min(sk - 1, 130))] = True
    pad[:, ..., sk - 1] = False
    s = scores64(q, k, 1.0 / np.sqrt(D))
    s = np.where(pad, -np.inf, s)
    return {"q": q, "k": k, "v": v, "pad": pad}, attend64(s, v)


def absorbs_head_repeat(line):
    """The GQA head repeat is absorbed: key and value keep their HKV heads."""
    kv = f"tensor<?x{HKV}x?x{D}xf32>"
    if f"tensor<?x{H}x?x{D}xf32>, {kv}, {kv}" not in line:
        return f"head repeat not absorbed into kiln.attention: {line}"
    return None


# name, builder, inputs and reference, extra check of the kiln.attention line
MODELS = [
    ("mha", build_mha, case_mha, None),
    ("causal", build_causal, case_causal, None),
    ("gqa", build_gqa, case_gqa, absorbs_head_repeat),
    ("gqa_neg1", build_gqa_neg1, case_gqa, absorbs_head_repeat),
    ("pad_neginf", build_pad_neginf, case_pad_neginf, None),
]


def attention_lines(ir):
    return [line.strip() for line in ir.splitlines() if "kiln.attention" in line]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kiln", default=os.path.join(HERE, "..", "..", "build", "bin", "kiln"))
    ap.add_argument("--only", nargs="*", help="model names to run")
    ap.add_argument("--keep", help="write the models and libraries here (kept)")
    ap.add_argument("--compile-args", default="",
                    help="more `kiln compile` flags, e.g. \"--target cuda --emulate-gpu\"")
    ap.add_argument("--precision", choices=sorted(TOLERANCE), default="fp32",
                    help="compile with --precision P; Q, K, V drawn rounded to it")
    ap.add_argument("--head-dim", type=int, default=16)
    args = ap.parse_args()
    global PRECISION, D
    PRECISION, D = args.precision, args.head_dim
    if PRECISION != "fp32":
        args.compile_args += f" --precision {PRECISION}"
    models = [m for m in MODELS if not args.only or m[0] in args.only]
    passed = failed = 0
    print(f"{'model':11} {'Sq':>4} {'Sk':>4} {'max|err|':>10} {'tol':>9}  status", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or tmp
        os.makedirs(work, exist_ok=True)
        for name, build, case, require in models:
            onnx_path = os.path.join(work, name + ".onnx")
            so = os.path.join(work, name + ".so")
            try:
                onnx.save(build(), onnx_path)
                p = subprocess.run([args.kiln, "import", onnx_path, "--optimize",
                                    "--elide-weights"], capture_output=True, text=True)
                if p.returncode != 0:
                    raise RuntimeError("kiln import --optimize: " + p.stderr.strip())
                fused = attention_lines(p.stdout)
                if len(fused) != 1:
                    raise RuntimeError(f"not fused: {len(fused)} kiln.attention ops in `kiln "
                                       "import --optimize` output:\n" + p.stdout)
                problem = require and require(fused[0])
                if problem:
                    raise RuntimeError(problem)
                kiln.compile(onnx_path, so, kiln=args.kiln,
                             extra_args=args.compile_args.split())
                model = kiln.load(so)
            except Exception as e:  # build/fusion/compile failures are test failures
                print(f"{name:11} {'-':>4} {'-':>4} {'-':>10} {'-':>9}  FAIL: {e}", flush=True)
                failed += 1
                continue
            for n, (sq, sk) in enumerate(SHAPES):
                if name == "causal" and (sq > sk or sk > MAX_POS):
                    continue
                rng = np.random.default_rng(1000 * n + sq + sk)
                feeds, ref = case(rng, sq, sk)
                try:
                    got = model.run(feeds)["out"]
                    if got.shape != ref.shape:
                        raise RuntimeError(f"shape {got.shape} vs {ref.shape}")
                    tol = TOLERANCE[PRECISION] * max(1.0, float(np.abs(ref).max()))
                    err = float(np.abs(got.astype(np.float64) - ref).max())
                    status = "ok" if np.isfinite(err) and err <= tol else \
                        f"FAIL: max|err| {err:.3g} > {tol:.3g}"
                except Exception as e:
                    err, tol, status = float("nan"), float("nan"), f"FAIL: {e}"
                print(f"{name:11} {sq:4} {sk:4} {err:10.3g} {tol:9.3g}  {status}", flush=True)
                passed += status == "ok"
                failed += status != "ok"
            model.close()
    print(f"attention_long: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
