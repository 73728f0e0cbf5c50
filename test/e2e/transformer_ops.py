#!/usr/bin/env python3
"""End-to-end numerics of the transformer ops kiln imports directly.

lib/Import/ConvertTransformer.cpp imports opset-23 Attention,
RMSNormalization and RotaryEmbedding and the com.microsoft
SkipLayerNormalization, SkipSimplifiedLayerNormalization,
SimplifiedLayerNormalization, FastGelu, BiasGelu, Gelu, RotaryEmbedding and
GroupQueryAttention into kiln.attention, kiln.rms_norm, kiln.layer_norm,
kiln.gelu and kiln.rotary_embedding (and kiln-fuse-rotary fuses LLaMA's
exported rotate_half form into the latter). ONNX 1.12's onnx.helper/checker
know neither opset 23 nor the com.microsoft ops, so the models are written as
ONNX text (.onnxtxt), which `kiln compile` reads directly. Each model keeps
its batch / sequence dims dynamic; it is compiled once and run through the
Python API (python/kiln) at the shapes listed in CASES, against a numpy
float64 reference of the op's semantics:

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
  RotaryEmbedding (opset 23: X, cos_cache, sin_cache, position_ids;
              com.microsoft: input, position_ids, cos_cache, sin_cache)
              X is [B, H, S, D] or [B, S, H * D] with num_heads; cos/sin =
              cache[position_ids] ([B, S, R/2], R = rotary_embedding_dim or
              D; com.microsoft also takes a 1-element offset o meaning
              positions o .. o + S - 1), broadcast over the heads;
              x1, x2 = x[..., :R/2], x[..., R/2:R] (interleaved: x[..., 0:R:2],
              x[..., 1:R:2]); real = cos x1 - sin x2, imag = sin x1 + cos x2;
              the result is concat(real, imag, x[..., R:]) (interleaved: real
              at the even and imag at the odd positions of the first R)
  GroupQueryAttention (com.microsoft)
              q [B, S, H * D] (or packed QKV), k/v [B, S, Hkv * D], past
              [B, Hkv, P, D] concatenated in front (present_key/value); scale
              1/sqrt(D) unless given; query head h reads kv head
              h // (H / Hkv); query i sees key j iff j <= P + i and
              j <= seqlens_k[b]. seqlens_k = P + S - 1 (unpadded), or, on a
              first step without past, each sequence's length - 1 (right
              padding): the padded query rows, which ONNX Runtime leaves
              unspecified, are NaN in the reference and not compared

Tolerance: max|err| <= 1e-4 * max(1, max|ref|) for every output (over the
reference's non-NaN elements). Prints one row per case and output and a
closing `transformer_ops: N passed, M failed` line; exits 1 on any failure.
"""

import argparse
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
import kiln  # noqa: E402

sys.path.insert(0, HERE)

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
    # Opset-23 RotaryEmbedding, 4-D [B, H, S, D], caches [M, D/2] gathered by
    # position_ids [B, S]; not interleaved. y_nopos: no position_ids, the
    # caches are already [B, S, D/2].
    "rotary_4d": """
rotary_4d (float[B, 4, S, 16] x, float[M, 8] cos_cache, float[M, 8] sin_cache, int64[B, S] pos,
           float[B, S, 8] cos_bs, float[B, S, 8] sin_bs)
    => (float[B, 4, S, 16] y, float[B, 4, S, 16] y_nopos)
{
  y = RotaryEmbedding (x, cos_cache, sin_cache, pos)
  y_nopos = RotaryEmbedding (x, cos_bs, sin_bs)
}
""",
    # 3-D [B, S, H * D] with num_heads, interleaved.
    "rotary_3d_interleaved": """
rotary_3d_interleaved (float[B, S, 64] x, float[M, 8] cos_cache, float[M, 8] sin_cache, int64[B, S] pos)
    => (float[B, S, 64] y)
{
  y = RotaryEmbedding <num_heads = 4, interleaved = 1> (x, cos_cache, sin_cache, pos)
}
""",
    # A partial rotation: the first 8 features of D = 16 (caches [M, 4]);
    # also interleaved.
    "rotary_partial": """
rotary_partial (float[B, 4, S, 16] x, float[M, 4] cos_cache, float[M, 4] sin_cache, int64[B, S] pos)
    => (float[B, 4, S, 16] y, float[B, 4, S, 16] y_interleaved)
{
  y = RotaryEmbedding <rotary_embedding_dim = 8> (x, cos_cache, sin_cache, pos)
  y_interleaved = RotaryEmbedding <rotary_embedding_dim = 8, interleaved = 1> (x, cos_cache, sin_cache, pos)
}
""",
    # com.microsoft RotaryEmbedding (input, position_ids, cos, sin): a
    # one-element position offset (positions offset .. offset + S - 1) on a
    # 4-D input, and [B, S] positions on a 3-D input with num_heads.
    "rotary_ms": """
rotary_ms (float[B, 4, S, 16] x, int64[1] offset, float[M, 8] cos_cache, float[M, 8] sin_cache,
           float[B, S, 64] x3, int64[B, S] pos)
    => (float[B, 4, S, 16] y, float[B, S, 64] y3)
{
  y = com.microsoft.RotaryEmbedding (x, offset, cos_cache, sin_cache)
  y3 = com.microsoft.RotaryEmbedding <num_heads = 4> (x3, pos, cos_cache, sin_cache)
}
""",
    # LLaMA's exported rotary embedding, x * cos + rotate_half(x) * sin with
    # rotate_half(x) = concat(-x[..., 8:], x[..., :8]), which
    # kiln-fuse-rotary turns into one kiln.rotary_embedding.
    "rotary_llama_export": """
rotary_llama_export (float[B, 4, S, 16] x, float[1, 1, S, 16] cos, float[1, 1, S, 16] sin)
    => (float[B, 4, S, 16] y)
{
  h = Constant <value = int64[1] {8}> ()
  big = Constant <value = int64[1] {9223372036854775807}> ()
  zero = Constant <value = int64[1] {0}> ()
  last = Constant <value = int64[1] {-1}> ()
  one = Constant <value = int64[1] {1}> ()
  xc = Mul (x, cos)
  x2 = Slice (x, h, big, last, one)
  x1 = Slice (x, zero, h, last, one)
  n = Neg (x2)
  rh = Concat <axis = -1> (n, x1)
  rs = Mul (rh, sin)
  y = Add (xc, rs)
}
""",
    # com.microsoft GroupQueryAttention: 4 query heads over 2 key/value
    # heads, head size 16, a KV cache of P entries; present_key/value out.
    "gqa_past": """
gqa_past (float[B, S, 64] q, float[B, S, 32] k, float[B, S, 32] v,
          float[B, 2, P, 16] past_k, float[B, 2, P, 16] past_v, int32[B] seqlens_k, int32 total_len)
    => (float[B, S, 64] y, float[B, 2, T, 16] present_k, float[B, 2, T, 16] present_v)
{
  y, present_k, present_v = com.microsoft.GroupQueryAttention <num_heads = 4, kv_num_heads = 2> (q, k, v, past_k, past_v, seqlens_k, total_len)
}
""",
    # The first step of a right-padded batch: no past, seqlens_k per batch.
    "gqa_padded": """
gqa_padded (float[B, S, 64] q, float[B, S, 32] k, float[B, S, 32] v, int32[B] seqlens_k, int32 total_len)
    => (float[B, S, 64] y)
{
  y, , = com.microsoft.GroupQueryAttention <num_heads = 4, kv_num_heads = 2> (q, k, v, , , seqlens_k, total_len)
}
""",
    # Packed QKV [B, S, (4 + 2 * 2) * 16] with a KV cache and an explicit
    # scale.
    "gqa_packed": """
gqa_packed (float[B, S, 128] qkv, float[B, 2, P, 16] past_k, float[B, 2, P, 16] past_v,
            int32[B] seqlens_k, int32 total_len)
    => (float[B, S, 64] y, float[B, 2, T, 16] present_k, float[B, 2, T, 16] present_v)
{
  y, present_k, present_v = com.microsoft.GroupQueryAttention <num_heads = 4, kv_num_heads = 2, scale = 0.2> (qkv, , , past_k, past_v, seqlens_k, total_len)
}
""",
}

# --- float64 references -------------------------------------------------------

from transformer_refs import (  # noqa: E402
    f64, attention_ref, rms_norm_ref, layer_norm_ref,
    gelu_erf_ref, gelu_tanh_ref, rotary_ref, gqa_ref)


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


def rope_caches(positions, half):
    """LLaMA-style cos/sin caches [positions, half] (theta base 10000)."""
    inv = 10000.0 ** (-np.arange(half) / half)
    ang = np.arange(positions)[:, None] * inv[None, :]
    return np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)


def case_rotary_4d(rng, b, s, m):
    x = randn(rng, b, 4, s, 16, scale=2.0)
    cc, sc = rope_caches(m, 8)
    pos = rng.integers(0, m, size=(b, s)).astype(np.int64)
    pos2 = rng.integers(0, m, size=(b, s))
    cb, sb = cc[pos2], sc[pos2]
    return ({"x": x, "cos_cache": cc, "sin_cache": sc, "pos": pos, "cos_bs": cb, "sin_bs": sb},
            {"y": rotary_ref(x, cc, sc, pos), "y_nopos": rotary_ref(x, cb, sb)})


def case_rotary_3d_interleaved(rng, b, s, m):
    x = randn(rng, b, s, 64, scale=2.0)
    cc, sc = rope_caches(m, 8)
    pos = rng.integers(0, m, size=(b, s)).astype(np.int64)
    return ({"x": x, "cos_cache": cc, "sin_cache": sc, "pos": pos},
            {"y": rotary_ref(x, cc, sc, pos, interleaved=True, num_heads=4)})


def case_rotary_partial(rng, b, s, m):
    x = randn(rng, b, 4, s, 16, scale=2.0)
    cc, sc = rope_caches(m, 4)
    pos = rng.integers(0, m, size=(b, s)).astype(np.int64)
    return ({"x": x, "cos_cache": cc, "sin_cache": sc, "pos": pos},
            {"y": rotary_ref(x, cc, sc, pos, rotary_dim=8),
             "y_interleaved": rotary_ref(x, cc, sc, pos, interleaved=True, rotary_dim=8)})


def case_rotary_ms(rng, b, s, m, offset):
    x, x3 = randn(rng, b, 4, s, 16, scale=2.0), randn(rng, b, s, 64, scale=2.0)
    cc, sc = rope_caches(m, 8)
    off = np.array([offset], dtype=np.int64)
    pos = rng.integers(0, m, size=(b, s)).astype(np.int64)
    return ({"x": x, "offset": off, "cos_cache": cc, "sin_cache": sc, "x3": x3, "pos": pos},
            {"y": rotary_ref(x, cc, sc, off), "y3": rotary_ref(x3, cc, sc, pos, num_heads=4)})


def case_rotary_llama_export(rng, b, s):
    # cos/sin arbitrary per feature (not two equal halves), so every
    # feature's cos/sin index is checked.
    x = randn(rng, b, 4, s, 16, scale=2.0)
    cos, sin = randn(rng, 1, 1, s, 16), randn(rng, 1, 1, s, 16)
    xd = x.astype(f64)
    rot = np.concatenate([-xd[..., 8:], xd[..., :8]], axis=-1)
    return {"x": x, "cos": cos, "sin": sin}, {"y": xd * cos + rot * sin}


def gqa_lengths(b, past, s):
    # Unpadded: every sequence is past + s long.
    return (np.full((b,), past + s - 1, dtype=np.int32), np.array(past + s, dtype=np.int32))


def case_gqa_past(rng, b, past, s):
    q, k, v = randn(rng, b, s, 64, scale=2.0), randn(rng, b, s, 32, scale=2.0), \
        randn(rng, b, s, 32)
    pk, pv = randn(rng, b, 2, past, 16, scale=2.0), randn(rng, b, 2, past, 16)
    sl, tl = gqa_lengths(b, past, s)
    y, prk, prv = gqa_ref(q, k, v, sl, 4, 2, past_k=pk, past_v=pv)
    return ({"q": q, "k": k, "v": v, "past_k": pk, "past_v": pv, "seqlens_k": sl,
             "total_len": tl},
            {"y": y, "present_k": prk, "present_v": prv})


def case_gqa_padded(rng, s, lengths):
    b = len(lengths)
    q, k, v = randn(rng, b, s, 64, scale=2.0), randn(rng, b, s, 32, scale=2.0), \
        randn(rng, b, s, 32)
    sl = np.array([n - 1 for n in lengths], dtype=np.int32)
    tl = np.array(s, dtype=np.int32)
    y, _, _ = gqa_ref(q, k, v, sl, 4, 2)
    return ({"q": q, "k": k, "v": v, "seqlens_k": sl, "total_len": tl}, {"y": y})


def case_gqa_packed(rng, b, past, s):
    qkv = randn(rng, b, s, 128, scale=2.0)
    pk, pv = randn(rng, b, 2, past, 16, scale=2.0), randn(rng, b, 2, past, 16)
    sl, tl = gqa_lengths(b, past, s)
    y, prk, prv = gqa_ref(qkv[..., :64], qkv[..., 64:96], qkv[..., 96:], sl, 4, 2,
                          past_k=pk, past_v=pv, scale=np.float32(0.2))
    return ({"qkv": qkv, "past_k": pk, "past_v": pv, "seqlens_k": sl, "total_len": tl},
            {"y": y, "present_k": prk, "present_v": prv})


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
    "rotary_4d": (case_rotary_4d, [("B=2,S=5,M=32", (2, 5, 32)), ("B=1,S=1,M=32", (1, 1, 32))]),
    "rotary_3d_interleaved": (case_rotary_3d_interleaved, [("B=2,S=5,M=32", (2, 5, 32))]),
    "rotary_partial": (case_rotary_partial, [("B=2,S=5,M=32", (2, 5, 32))]),
    "rotary_ms": (case_rotary_ms, [("B=2,S=5,off=7", (2, 5, 32, 7)),
                                   ("B=1,S=3,off=0", (1, 3, 16, 0))]),
    "rotary_llama_export": (case_rotary_llama_export, [("B=2,S=5", (2, 5))]),
    "gqa_past": (case_gqa_past, [("B=2,P=3,S=5", (2, 3, 5)), ("B=1,P=9,S=1", (1, 9, 1)),
                                 ("B=2,P=0,S=4", (2, 0, 4))]),
    "gqa_padded": (case_gqa_padded, [("B=2,S=6,sl=5/3", (6, (6, 4)))]),
    "gqa_packed": (case_gqa_packed, [("B=2,P=3,S=4", (2, 3, 4)), ("B=1,P=0,S=5", (1, 0, 5))]),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kiln", default=os.path.join(HERE, "..", "..", "build", "bin", "kiln"))
    ap.add_argument("--only", nargs="*", help="model names to run")
    ap.add_argument("--keep", help="write the models and libraries here (kept)")
    ap.add_argument("--compile-args", default="",
                    help="more `kiln compile` flags, e.g. \"--target cuda --emulate-gpu\"")
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
                kiln.compile(path, so, kiln=args.kiln,
                             extra_args=args.compile_args.split())
                model = kiln.load(so)
            except Exception as e:  # compile/load failures are test failures
                print(f"{name:16} {'-':16} {'-':10} {'-':>10} {'-':>9}  FAIL: {e}", flush=True)
                failed += 1
                continue
            if name == "gqa_past":
                # A padded past cache (seqlens_k[1] short of P + S - 1) is
                # not what kiln's layout assumes: the run must end with the
                # runtime's shape error, not return numbers.
                rng = np.random.default_rng(7)
                feeds, _ = case_gqa_past(rng, 2, 4, 1)
                feeds["seqlens_k"] = np.array([4, 2], np.int32)
                try:
                    model.run(feeds)
                    status = "FAIL: a padded past cache ran"
                except Exception as e:
                    ok = "inconsistent with the model" in str(e)
                    status = "ok" if ok else f"FAIL: unexpected error {e}"
                print(f"{name:16} {'padded past':16} {'error':10} {'-':>10} {'-':>9}  {status}",
                      flush=True)
                passed += status == "ok"
                failed += status != "ok"
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
                        known = ~np.isnan(ref)  # NaN: left unspecified by the op
                        tol = 1e-4 * max(1.0, float(np.abs(ref[known]).max()))
                        err = float(np.abs(g.astype(f64)[known] - ref[known]).max())
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
