#!/usr/bin/env python3
"""End-to-end numerics of the transformer ops kiln imports directly.

lib/Import/ConvertTransformer.cpp imports opset-23 Attention and
RMSNormalization and the com.microsoft SkipLayerNormalization,
SkipSimplifiedLayerNormalization, SimplifiedLayerNormalization, FastGelu,
BiasGelu and Gelu into kiln.attention, kiln.rms_norm, kiln.layer_norm and
kiln.gelu. ONNX 1.12's onnx.helper/checker know neither opset 23 nor the
com.microsoft ops, so the models are written as ONNX text (.onnxtxt), which
`kiln compile` reads directly. Each model keeps its batch / sequence dims
dynamic; it is compiled once and run through the Python API (python/kiln) at
the shapes listed in CASES, against a numpy float64 reference of the op's
semantics:

  Attention   scores = scale * Q.K^T (scale defaults to 1/sqrt(head size));
              bool attn_mask: True attends, False is -inf; float attn_mask is
              added; GQA: query head h reads key/value head h // (Hq / Hkv);
              past_key/past_value are concatenated in front of K/V on axis 2
              and returned as present_key/present_value; is_causal: query i
              (0-based among the Sq new queries) sees key j iff
              j <= i + past length; 3-D inputs [B, S, heads * D] are split
              into heads by q_num_heads / kv_num_heads and merged back.
  RMSNormalization, SimplifiedLayerNormalization
              x / sqrt(mean(x^2 over [axis, rank)) + eps) * scale
  SkipLayerNormalization
              LayerNorm over the last axis of input + skip + bias, with gamma
              and beta; output 3 is input + skip + bias
  SkipSimplifiedLayerNormalization
              the RMS norm of input + skip + bias; output 3 is the sum
  FastGelu    tanh-approximate GELU of x + bias
  BiasGelu    erf GELU of a + b
  Gelu        erf GELU

Tolerance: max|err| <= 1e-4 * max(1, max|ref|) for every output. Prints one
row per case and output and a closing `transformer_ops: N passed, M failed`
line; exits 1 on any failure.
"""

import argparse
import math
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
import kiln  # noqa: E402

HEADER = "<\n  ir_version: 9,\n  opset_import: [\"\" : 23, \"com.microsoft\" : 1]\n>\n"

# --- models (ONNX text) -------------------------------------------------------
# Attention nodes list their unused optional outputs as empty names.

MODELS = {
    # 4-D MHA with a KV cache, causal: Sq new queries over past + Sq keys.
    "causal_past": """
causal_past (float[B, 4, S, 16] q, float[B, 4, S, 16] k, float[B, 4, S, 16] v,
             float[B, 4, P, 16] past_k, float[B, 4, P, 16] past_v)
    => (float[B, 4, S, 16] y, float[B, 4, T, 16] present_k, float[B, 4, T, 16] present_v)
{
  y, present_k, present_v = Attention <is_causal = 1> (q, k, v, , past_k, past_v)
}
""",
    # Causal without a past and with independent query/key lengths: ONNX
    # aligns the mask to the first key.
    "causal_nopast": """
causal_nopast (float[B, 4, S, 16] q, float[B, 4, T, 16] k, float[B, 4, T, 16] v) => (float[B, 4, S, 16] y)
{
  y = Attention <is_causal = 1> (q, k, v)
}
""",
    # 3-D GQA: 4 query heads over 2 key/value heads, head size 16.
    "gqa_3d": """
gqa_3d (float[B, S, 64] q, float[B, T, 32] k, float[B, T, 32] v) => (float[B, S, 64] y)
{
  y, , = Attention <q_num_heads = 4, kv_num_heads = 2> (q, k, v)
}
""",
    # 4-D with a bool mask [B, 1, S, T] (True = attend); value head size 24.
    "bool_mask": """
bool_mask (float[B, 4, S, 16] q, float[B, 4, T, 16] k, float[B, 4, T, 24] v, bool[B, 1, S, T] mask)
    => (float[B, 4, S, 24] y)
{
  y, , = Attention (q, k, v, mask)
}
""",
    # 4-D GQA with an additive float mask [B, 4, S, T] and an explicit scale.
    "float_mask": """
float_mask (float[B, 4, S, 16] q, float[B, 2, T, 16] k, float[B, 2, T, 16] v, float[B, 4, S, T] mask)
    => (float[B, 4, S, 16] y)
{
  y, , = Attention <scale = 0.1> (q, k, v, mask)
}
""",
    # 4-D plain attention, run with 200 keys (two blocks of the lowering).
    "long": """
long (float[B, 4, S, 16] q, float[B, 4, T, 16] k, float[B, 4, T, 16] v) => (float[B, 4, S, 16] y)
{
  y, , = Attention (q, k, v)
}
""",
    "rms_norm": """
rms_norm (float[B, S, 64] x, float[64] g, float[B, 6, 64] x2, float[6, 64] g2)
    => (float[B, S, 64] y, float[B, 6, 64] y2)
{
  y = RMSNormalization (x, g)
  y2 = RMSNormalization <axis = -2, epsilon = 0.001> (x2, g2)
}
""",
    "skip_layer_norm": """
skip_layer_norm (float[B, S, 64] x, float[B, S, 64] skip, float[64] gamma, float[64] beta, float[64] bias)
    => (float[B, S, 64] y, float[B, S, 64] sum, float[B, S, 64] y_plain)
{
  y, , , sum = com.microsoft.SkipLayerNormalization <epsilon = 0.00001> (x, skip, gamma, beta, bias)
  y_plain, , , = com.microsoft.SkipLayerNormalization (x, skip, gamma)
}
""",
    "skip_simplified": """
skip_simplified (float[B, S, 64] x, float[B, S, 64] skip, float[64] gamma, float[64] bias)
    => (float[B, S, 64] y, float[B, S, 64] sum)
{
  y, , , sum = com.microsoft.SkipSimplifiedLayerNormalization <epsilon = 0.000001> (x, skip, gamma, bias)
}
""",
    "simplified": """
simplified (float[B, S, 64] x, float[64] g) => (float[B, S, 64] y)
{
  y = com.microsoft.SimplifiedLayerNormalization <epsilon = 0.000001> (x, g)
}
""",
    "fast_gelu": """
fast_gelu (float[B, S, 64] x, float[B, S, 64] x2, float[64] bias)
    => (float[B, S, 64] y, float[B, S, 64] y_bias)
{
  y = com.microsoft.FastGelu (x)
  y_bias = com.microsoft.FastGelu (x2, bias)
}
""",
    "bias_gelu": """
bias_gelu (float[B, S, 64] a, float[64] b) => (float[B, S, 64] y)
{
  y = com.microsoft.BiasGelu (a, b)
}
""",
    "gelu": """
gelu (float[B, S, 64] x) => (float[B, S, 64] y)
{
  y = com.microsoft.Gelu (x)
}
""",
}

# --- float64 references -------------------------------------------------------

f64 = np.float64


def softmax(x):
    m = x.max(axis=-1, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(axis=-1, keepdims=True)


def attention_ref(q, k, v, mask=None, past_k=None, past_v=None, scale=None, causal=False,
                  q_heads=None, kv_heads=None):
    """ONNX Attention (opset 23) in float64; returns (y, present_k, present_v)."""
    q, k, v = q.astype(f64), k.astype(f64), v.astype(f64)
    three_d = q.ndim == 3
    if three_d:
        def split(x, h):
            b, s, hd = x.shape
            return x.reshape(b, s, h, hd // h).transpose(0, 2, 1, 3)
        q, k, v = split(q, q_heads), split(k, kv_heads), split(v, kv_heads)
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    past = 0
    if past_k is not None:
        past = past_k.shape[2]
        k = np.concatenate([past_k.astype(f64), k], axis=2)
        v = np.concatenate([past_v.astype(f64), v], axis=2)
    present_k, present_v = k, v
    rep = q.shape[1] // k.shape[1]
    kr, vr = np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1)
    s = np.matmul(q, np.swapaxes(kr, -1, -2)) * scale
    sq, sk = s.shape[-2:]
    if causal:
        i = np.arange(sq)[:, None]
        j = np.arange(sk)[None, :]
        s = np.where(j <= i + past, s, -np.inf)
    if mask is not None:
        if mask.dtype == np.bool_:
            s = np.where(mask, s, -np.inf)
        else:
            s = s + mask.astype(f64)
    y = np.matmul(softmax(s), vr)
    if three_d:
        b, h, sq_, dv = y.shape
        y = y.transpose(0, 2, 1, 3).reshape(b, sq_, h * dv)
    return y, present_k, present_v


def rms_norm_ref(x, g, axis=-1, eps=1e-5):
    x = x.astype(f64)
    axes = tuple(range(axis % x.ndim, x.ndim))
    return x / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps) * g.astype(f64)


def layer_norm_ref(x, g, b=None, eps=1e-5):
    x = x.astype(f64)
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps) * g.astype(f64)
    return y if b is None else y + b.astype(f64)


def gelu_erf_ref(x):
    x = x.astype(f64)
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def gelu_tanh_ref(x):
    x = x.astype(f64)
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


# --- cases: (label, model, feeds and references) -------------------------------

def randn(rng, *shape, scale=1.0, shift=0.0):
    return (shift + scale * rng.standard_normal(shape)).astype(np.float32)


def case_causal_past(rng, b, past, sq):
    q, k, v = (randn(rng, b, 4, sq, 16, scale=2.0), randn(rng, b, 4, sq, 16, scale=2.0),
               randn(rng, b, 4, sq, 16))
    pk, pv = randn(rng, b, 4, past, 16, scale=2.0), randn(rng, b, 4, past, 16)
    y, prk, prv = attention_ref(q, k, v, past_k=pk, past_v=pv, causal=True)
    return ({"q": q, "k": k, "v": v, "past_k": pk, "past_v": pv},
            {"y": y, "present_k": prk, "present_v": prv})


def case_causal_nopast(rng, b, sq, sk):
    q, k, v = (randn(rng, b, 4, sq, 16, scale=2.0), randn(rng, b, 4, sk, 16, scale=2.0),
               randn(rng, b, 4, sk, 16))
    y, _, _ = attention_ref(q, k, v, causal=True)
    return {"q": q, "k": k, "v": v}, {"y": y}


def case_gqa_3d(rng, b, sq, sk):
    q, k, v = randn(rng, b, sq, 64, scale=2.0), randn(rng, b, sk, 32, scale=2.0), \
        randn(rng, b, sk, 32)
    y, _, _ = attention_ref(q, k, v, q_heads=4, kv_heads=2)
    return {"q": q, "k": k, "v": v}, {"y": y}


def case_bool_mask(rng, b, sq, sk):
    q, k, v = randn(rng, b, 4, sq, 16, scale=2.0), randn(rng, b, 4, sk, 16, scale=2.0), \
        randn(rng, b, 4, sk, 24)
    mask = rng.random((b, 1, sq, sk)) < 0.6
    mask[..., rng.integers(0, sk, size=()) if sk > 1 else 0] = True  # no empty rows
    y, _, _ = attention_ref(q, k, v, mask=mask)
    return {"q": q, "k": k, "v": v, "mask": mask}, {"y": y}


def case_float_mask(rng, b, sq, sk):
    q, k, v = randn(rng, b, 4, sq, 16, scale=2.0), randn(rng, b, 2, sk, 16, scale=2.0), \
        randn(rng, b, 2, sk, 16)
    mask = randn(rng, b, 4, sq, sk)
    mask[rng.random(mask.shape) < 0.3] = -10000.0
    y, _, _ = attention_ref(q, k, v, mask=mask, scale=np.float32(0.1))
    return {"q": q, "k": k, "v": v, "mask": mask}, {"y": y}


def case_long(rng, b, sq, sk):
    q, k, v = randn(rng, b, 4, sq, 16, scale=2.0), randn(rng, b, 4, sk, 16, scale=2.0), \
        randn(rng, b, 4, sk, 16)
    y, _, _ = attention_ref(q, k, v)
    return {"q": q, "k": k, "v": v}, {"y": y}


def case_rms_norm(rng, b, s):
    x, g = randn(rng, b, s, 64, scale=3.0, shift=1.0), randn(rng, 64)
    x2, g2 = randn(rng, b, 6, 64, scale=3.0, shift=1.0), randn(rng, 6, 64)
    return ({"x": x, "g": g, "x2": x2, "g2": g2},
            {"y": rms_norm_ref(x, g), "y2": rms_norm_ref(x2, g2, axis=-2, eps=np.float32(1e-3))})


def case_skip_layer_norm(rng, b, s):
    x, skip = randn(rng, b, s, 64, scale=2.0, shift=1.0), randn(rng, b, s, 64)
    gamma, beta, bias = randn(rng, 64), randn(rng, 64), randn(rng, 64)
    total = x.astype(f64) + skip + bias
    return ({"x": x, "skip": skip, "gamma": gamma, "beta": beta, "bias": bias},
            {"y": layer_norm_ref(total, gamma, beta, eps=np.float32(1e-5)), "sum": total,
             "y_plain": layer_norm_ref(x.astype(f64) + skip, gamma, eps=np.float32(1e-12))})


def case_skip_simplified(rng, b, s):
    x, skip = randn(rng, b, s, 64, scale=2.0, shift=1.0), randn(rng, b, s, 64)
    gamma, bias = randn(rng, 64), randn(rng, 64)
    total = x.astype(f64) + skip + bias
    return ({"x": x, "skip": skip, "gamma": gamma, "bias": bias},
            {"y": rms_norm_ref(total, gamma, eps=np.float32(1e-6)), "sum": total})


def case_simplified(rng, b, s):
    x, g = randn(rng, b, s, 64, scale=2.0, shift=0.5), randn(rng, 64)
    return {"x": x, "g": g}, {"y": rms_norm_ref(x, g, eps=np.float32(1e-6))}


def uniform(rng, lo, hi, *shape):
    return rng.uniform(lo, hi, shape).astype(np.float32)


# GELU inputs (after the bias) lie in [-3, 1]: there |GELU| < 0.85, so the
# tolerance is 1e-4, well under the 4.7e-4 that separates the tanh and erf
# forms near x = -2.7.
def case_fast_gelu(rng, b, s):
    x, bias = uniform(rng, -3.0, 1.0, b, s, 64), uniform(rng, -0.5, 0.5, 64)
    x2 = uniform(rng, -2.5, 0.5, b, s, 64)
    return ({"x": x, "x2": x2, "bias": bias},
            {"y": gelu_tanh_ref(x), "y_bias": gelu_tanh_ref(x2.astype(f64) + bias)})


def case_bias_gelu(rng, b, s):
    a, bb = uniform(rng, -2.5, 0.5, b, s, 64), uniform(rng, -0.5, 0.5, 64)
    return {"a": a, "b": bb}, {"y": gelu_erf_ref(a.astype(f64) + bb)}


def case_gelu(rng, b, s):
    x = uniform(rng, -3.0, 1.0, b, s, 64)
    return {"x": x}, {"y": gelu_erf_ref(x)}


# model -> (case function, list of (label, argument tuple))
CASES = {
    "causal_past": (case_causal_past, [("B=2,P=3,S=5", (2, 3, 5)),
                                       ("B=1,P=195,S=5", (1, 195, 5)),
                                       ("B=2,P=0,S=7", (2, 0, 7))]),
    "causal_nopast": (case_causal_nopast, [("B=2,S=4,T=6", (2, 4, 6)),
                                           ("B=1,S=7,T=7", (1, 7, 7)),
                                           ("B=1,S=3,T=200", (1, 3, 200))]),
    "gqa_3d": (case_gqa_3d, [("B=2,S=7,T=9", (2, 7, 9)), ("B=1,S=1,T=13", (1, 1, 13))]),
    "bool_mask": (case_bool_mask, [("B=2,S=6,T=11", (2, 6, 11))]),
    "float_mask": (case_float_mask, [("B=2,S=6,T=11", (2, 6, 11))]),
    "long": (case_long, [("B=2,S=200,T=200", (2, 200, 200)), ("B=2,S=3,T=200", (2, 3, 200))]),
    "rms_norm": (case_rms_norm, [("B=2,S=7", (2, 7))]),
    "skip_layer_norm": (case_skip_layer_norm, [("B=2,S=7", (2, 7))]),
    "skip_simplified": (case_skip_simplified, [("B=2,S=7", (2, 7))]),
    "simplified": (case_simplified, [("B=2,S=7", (2, 7))]),
    "fast_gelu": (case_fast_gelu, [("B=2,S=7", (2, 7))]),
    "bias_gelu": (case_bias_gelu, [("B=2,S=7", (2, 7))]),
    "gelu": (case_gelu, [("B=2,S=7", (2, 7))]),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kiln", default=os.path.join(HERE, "..", "..", "build", "bin", "kiln"))
    ap.add_argument("--only", nargs="*", help="model names to run")
    ap.add_argument("--keep", help="write the models and libraries here (kept)")
    args = ap.parse_args()
    names = [n for n in MODELS if not args.only or n in args.only]
    passed = failed = 0
    print(f"{'model':16} {'shape':16} {'output':10} {'max|err|':>10} {'tol':>9}  status",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or tmp
        os.makedirs(work, exist_ok=True)
        for n_model, name in enumerate(names):
            path = os.path.join(work, name + ".onnxtxt")
            so = os.path.join(work, name + ".so")
            try:
                with open(path, "w") as f:
                    f.write(HEADER + MODELS[name].lstrip())
                kiln.compile(path, so, kiln=args.kiln)
                model = kiln.load(so)
            except Exception as e:  # compile/load failures are test failures
                print(f"{name:16} {'-':16} {'-':10} {'-':>10} {'-':>9}  FAIL: {e}", flush=True)
                failed += 1
                continue
            case, shapes = CASES[name]
            for n_shape, (label, shape) in enumerate(shapes):
                rng = np.random.default_rng(100 * n_model + n_shape)
                feeds, refs = case(rng, *shape)
                try:
                    got = model.run(feeds)
                except Exception as e:
                    print(f"{name:16} {label:16} {'-':10} {'-':>10} {'-':>9}  FAIL: {e}",
                          flush=True)
                    failed += 1
                    continue
                for out, ref in refs.items():
                    try:
                        g = got[out]
                        if g.shape != ref.shape:
                            raise RuntimeError(f"shape {g.shape} vs {ref.shape}")
                        tol = 1e-4 * max(1.0, float(np.abs(ref).max()))
                        err = float(np.abs(g.astype(f64) - ref).max())
                        status = "ok" if np.isfinite(err) and err <= tol else \
                            f"FAIL: max|err| {err:.3g} > {tol:.3g}"
                    except Exception as e:
                        err, tol, status = float("nan"), float("nan"), f"FAIL: {e}"
                    print(f"{name:16} {label:16} {out:10} {err:10.3g} {tol:9.3g}  {status}",
                          flush=True)
                    passed += status == "ok"
                    failed += status != "ok"
            model.close()
    print(f"transformer_ops: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
