"""Float64 numpy references of the transformer ops (ONNX opset-23 and
com.microsoft semantics) for transformer_ops.py."""

import math

import numpy as np

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


def rotary_ref(x, cos_cache, sin_cache, pos=None, interleaved=False, num_heads=0,
               rotary_dim=0):
    """RotaryEmbedding (opset 23 and com.microsoft) in float64."""
    x = x.astype(f64)
    three_d = x.ndim == 3
    if three_d:                                  # [B, S, H * D] -> [B, S, H, D]
        b, s, hd = x.shape
        x = x.reshape(b, s, num_heads, hd // num_heads)
    else:                                        # [B, H, S, D] -> [B, S, H, D]
        x = x.transpose(0, 2, 1, 3)
    s = x.shape[1]
    if pos is None:
        cos, sin = cos_cache.astype(f64), sin_cache.astype(f64)
    else:
        if pos.ndim == 1:                        # com.microsoft offset
            pos = (pos[0] + np.arange(s))[None, :]
        cos, sin = cos_cache.astype(f64)[pos], sin_cache.astype(f64)[pos]
    r = rotary_dim or x.shape[-1]
    assert cos.shape[-1] == r // 2
    cos, sin = cos[:, :, None, :], sin[:, :, None, :]   # broadcast over heads
    xr, rest = x[..., :r], x[..., r:]
    if interleaved:
        x1, x2 = xr[..., 0::2], xr[..., 1::2]
    else:
        x1, x2 = xr[..., :r // 2], xr[..., r // 2:]
    real = cos * x1 - sin * x2
    imag = sin * x1 + cos * x2
    if interleaved:
        rot = np.stack([real, imag], axis=-1).reshape(xr.shape)
    else:
        rot = np.concatenate([real, imag], axis=-1)
    y = np.concatenate([rot, rest], axis=-1)
    if three_d:
        return y.reshape(y.shape[0], y.shape[1], -1)
    return y.transpose(0, 2, 1, 3)


def gqa_ref(q, k, v, seqlens_k, num_heads, kv_heads, past_k=None, past_v=None, scale=None):
    """GroupQueryAttention (com.microsoft) in float64: returns (y, present_k,
    present_v); y's query rows past a batch's seqlens_k (padding) are NaN."""
    def split(x, h):
        b, s, hd = x.shape
        return x.astype(f64).reshape(b, s, h, hd // h).transpose(0, 2, 1, 3)
    q, k, v = split(q, num_heads), split(k, kv_heads), split(v, kv_heads)
    past = 0
    if past_k is not None:
        past = past_k.shape[2]
        k = np.concatenate([past_k.astype(f64), k], axis=2)
        v = np.concatenate([past_v.astype(f64), v], axis=2)
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    rep = num_heads // kv_heads          # query head h reads kv head h // rep
    kr, vr = np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1)
    s = np.matmul(q, np.swapaxes(kr, -1, -2)) * scale
    b, _, sq, sk = s.shape
    i = np.arange(sq)[None, :, None]
    j = np.arange(sk)[None, None, :]
    sl = seqlens_k.astype(np.int64)[:, None, None]
    allowed = (j <= past + i) & (j <= sl)                   # [B, Sq, Sk]
    s = np.where(allowed[:, None], s, -np.inf)
    y = np.matmul(softmax(s), vr)                            # [B, H, Sq, D]
    y = y.transpose(0, 2, 1, 3).reshape(b, sq, -1)
    y[(np.arange(sq)[None, :] > sl[:, :, 0] - past)] = np.nan
    return y, k, v


# --- cases: (label, model, feeds and references) -------------------------------
