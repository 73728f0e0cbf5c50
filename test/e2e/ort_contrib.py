#!/usr/bin/env python3
"""ONNX Runtime's fused transformer ops (com.microsoft EmbedLayerNormalization,
Attention, MultiHeadAttention, QuickGelu, with SkipLayerNormalization and
FastGelu), as its transformer optimizer writes them into BERT and GPT-2
models, through kiln against ONNX Runtime running the same file.

The models are built with onnx.helper (binary .onnx, batch and sequence dims
dynamic) and have random weights:
  bert_ort   EmbedLayerNormalization (word, position, segment embeddings;
             int32 ids and mask; its mask_index output feeds the layers) and
             2 layers of Attention (1-D key lengths) -> MatMul + bias ->
             SkipLayerNormalization -> MatMul -> FastGelu -> MatMul ->
             SkipLayerNormalization; outputs the last hidden state, the
             mask_index and the embedding sum. Right-padded sequences.
  gpt2_ort   Attention unidirectional with past [2, B, H, P, D] and present,
             a 2-D [B, P + S] attention mask with left padding.
  attn_opts  Attention with qkv_hidden_sizes (V wider than Q and K), a 3-D
             [B, S, T] mask, attention_bias [1, H, S, T], a scale attribute
             and mask_filter_value.
  mha_self   MultiHeadAttention, 3-D Q, K, V with a bias, a [B, T]
             key_padding_mask, past_key/past_value and the present outputs.
  mha_cross  MultiHeadAttention with 4-D [B, H, L, D] key and value (cross
             attention on projected keys; only the query's bias is added),
             then QuickGelu.
  gqa_rotary GroupQueryAttention with do_rotary (cos/sin caches, halves or
             interleaved), with a KV cache and without (a prompt), as
             onnxruntime-genai's LLaMA/Phi models use it.
  gpt2_ort_model  a whole 2-layer GPT-2 in ORT's optimized form (Attention
             with past and present per layer, SkipLayerNormalization's
             sum output as the residual, FastGelu, a tied LM head), a
             prefill on a cache and a decode step, left padding.
  ort_fused  the CPU fusions ONNX Runtime saves in optimized models:
             FusedMatMul (transB, alpha), FusedGemm (LeakyRelu), FusedConv
             (Clip, HardSigmoid).
  ort_int8   its optimized dynamic int8 matmuls: DynamicQuantizeLinear ->
             MatMulIntegerToFloat, and DynamicQuantizeMatMul (int8
             weights, per-column scales, zero points 0, a bias).
Prints one line per model, shape and output: `name shape output max|err| tol
ok|FAIL` and a closing `ort_contrib: N passed, M failed`.
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

F, I32 = TensorProto.FLOAT, TensorProto.INT32
MS = "com.microsoft"


class Graph:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []

    def weight(self, name, shape, scale=None):
        scale = scale if scale is not None else 1.0 / np.sqrt(shape[0])
        a = (self.rng.standard_normal(shape) * scale).astype(np.float32)
        self.inits.append(numpy_helper.from_array(a, name))
        return name

    def node(self, op, ins, outs, domain="", **attrs):
        self.nodes.append(helper.make_node(op, ins, outs, domain=domain, **attrs))

    def save(self, path, name, inputs, outputs):
        g = helper.make_graph(self.nodes, name, inputs, outputs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                                helper.make_opsetid(MS, 1)])
        onnx.save(m, path)


def vi(name, elem, dims):
    return helper.make_tensor_value_info(name, elem, dims)


def bert_ort(path, hidden=64, heads=4, ffn=128, layers=2, vocab=50, max_pos=32):
    g = Graph(1)
    g.node("EmbedLayerNormalization",
           ["input_ids", "segment_ids", g.weight("word", [vocab, hidden], 1.0),
            g.weight("pos", [max_pos, hidden], 0.5), g.weight("seg", [2, hidden], 0.5),
            g.weight("emb_g", [hidden], 1.0), g.weight("emb_b", [hidden], 0.1),
            "attention_mask"],
           ["emb", "mask_index", "emb_sum"], domain=MS, epsilon=1e-12)
    x = "emb"
    for i in range(layers):
        p = f"l{i}_"
        g.node("Attention", [x, g.weight(p + "qkv_w", [hidden, 3 * hidden]),
                             g.weight(p + "qkv_b", [3 * hidden], 0.1), "mask_index"],
               [p + "att"], domain=MS, num_heads=heads)
        g.node("MatMul", [p + "att", g.weight(p + "o_w", [hidden, hidden])], [p + "o"])
        g.node("SkipLayerNormalization",
               [p + "o", x, g.weight(p + "ln1_g", [hidden], 1.0),
                g.weight(p + "ln1_b", [hidden], 0.1), g.weight(p + "o_b", [hidden], 0.1)],
               [p + "h"], domain=MS, epsilon=1e-12)
        g.node("MatMul", [p + "h", g.weight(p + "f1_w", [hidden, ffn])], [p + "f1"])
        g.node("FastGelu", [p + "f1", g.weight(p + "f1_b", [ffn], 0.1)], [p + "gelu"],
               domain=MS)
        g.node("MatMul", [p + "gelu", g.weight(p + "f2_w", [ffn, hidden])], [p + "f2"])
        out = "last_hidden_state" if i == layers - 1 else p + "out"
        g.node("SkipLayerNormalization",
               [p + "f2", p + "h", g.weight(p + "ln2_g", [hidden], 1.0),
                g.weight(p + "ln2_b", [hidden], 0.1), g.weight(p + "f2_b", [hidden], 0.1)],
               [out], domain=MS, epsilon=1e-12)
        x = out
    g.save(path, "bert_ort",
           [vi("input_ids", I32, ["batch", "seq"]), vi("segment_ids", I32, ["batch", "seq"]),
            vi("attention_mask", I32, ["batch", "seq"])],
           [vi("last_hidden_state", F, ["batch", "seq", hidden]),
            vi("mask_index", I32, ["batch"]), vi("emb_sum", F, ["batch", "seq", hidden])])


def bert_feeds(b, s, lengths):
    rng = np.random.default_rng(b * 100 + s)
    mask = np.zeros((b, s), np.int32)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
    return {"input_ids": rng.integers(0, 50, (b, s)).astype(np.int32),
            "segment_ids": rng.integers(0, 2, (b, s)).astype(np.int32),
            "attention_mask": mask}


def gpt2_ort(path, hidden=64, heads=4):
    g = Graph(2)
    g.node("Attention", ["x", g.weight("qkv_w", [hidden, 3 * hidden]),
                         g.weight("qkv_b", [3 * hidden], 0.1), "attention_mask", "past"],
           ["y", "present"], domain=MS, num_heads=heads, unidirectional=1)
    d = hidden // heads
    g.save(path, "gpt2_ort",
           [vi("x", F, ["batch", "seq", hidden]), vi("attention_mask", I32, ["batch", "total"]),
            vi("past", F, [2, "batch", heads, "past_seq", d])],
           [vi("y", F, ["batch", "seq", hidden]),
            vi("present", F, [2, "batch", heads, "total", d])])


def gpt2_ort_model(path, hidden=256, heads=4, layers=4, ffn=1024, vocab=8000, positions=1024):
    """A whole GPT-2 in the form ONNX Runtime's GPT-2 optimizer writes:
    LayerNormalization -> Attention (unidirectional, past_i [2, B, H, P, D]
    -> present_i) -> MatMul -> SkipLayerNormalization (its sum output is
    the residual) -> MatMul -> FastGelu -> MatMul -> Add -> Add, a final
    LayerNormalization and the tied LM head. For bench/make_models.py."""
    g = Graph(9)
    d = hidden // heads
    wte = g.weight("wte", [vocab, hidden], 0.1)
    g.node("Gather", [wte, "input_ids"], ["tok"])
    g.node("Gather", [g.weight("wpe", [positions, hidden], 0.1), "position_ids"], ["pos"])
    g.node("Add", ["tok", "pos"], ["h0"])
    h = "h0"
    for i in range(layers):
        p = f"l{i}_"
        g.node("LayerNormalization", [h, g.weight(p + "ln1_g", [hidden], 1.0),
                                      g.weight(p + "ln1_b", [hidden], 0.1)], [p + "ln1"],
               epsilon=1e-5)
        g.node("Attention", [p + "ln1", g.weight(p + "qkv_w", [hidden, 3 * hidden]),
                             g.weight(p + "qkv_b", [3 * hidden], 0.1), "attention_mask",
                             f"past_{i}"],
               [p + "att", f"present_{i}"], domain=MS, num_heads=heads, unidirectional=1)
        g.node("MatMul", [p + "att", g.weight(p + "o_w", [hidden, hidden])], [p + "o"])
        g.node("SkipLayerNormalization",
               [p + "o", h, g.weight(p + "ln2_g", [hidden], 1.0),
                g.weight(p + "ln2_b", [hidden], 0.1), g.weight(p + "o_b", [hidden], 0.1)],
               [p + "ln2", "", "", p + "res"], domain=MS, epsilon=1e-5)
        g.node("MatMul", [p + "ln2", g.weight(p + "fc_w", [hidden, ffn])], [p + "fc"])
        g.node("FastGelu", [p + "fc", g.weight(p + "fc_b", [ffn], 0.1)], [p + "gelu"],
               domain=MS)
        g.node("MatMul", [p + "gelu", g.weight(p + "pr_w", [ffn, hidden])], [p + "pr"])
        g.node("Add", [p + "pr", g.weight(p + "pr_b", [hidden], 0.1)], [p + "prb"])
        g.node("Add", [p + "prb", p + "res"], [p + "out"])
        h = p + "out"
    g.node("LayerNormalization", [h, g.weight("lnf_g", [hidden], 1.0),
                                  g.weight("lnf_b", [hidden], 0.1)], ["lnf"], epsilon=1e-5)
    g.node("Transpose", [wte], ["wte_t"], perm=[1, 0])
    g.node("MatMul", ["lnf", "wte_t"], ["logits"])
    g.save(path, "gpt2_ort_model",
           [vi("input_ids", TensorProto.INT64, ["batch", "seq"]),
            vi("position_ids", TensorProto.INT64, ["batch", "seq"]),
            vi("attention_mask", I32, ["batch", "total_seq"])]
           + [vi(f"past_{i}", F, [2, "batch", heads, "past_seq", d]) for i in range(layers)],
           [vi("logits", F, ["batch", "seq", vocab])]
           + [vi(f"present_{i}", F, [2, "batch", heads, "total_seq", d]) for i in range(layers)])


def gpt2_feeds(b, p, s, hidden=64, heads=4, pads=()):
    rng = np.random.default_rng(b * 10 + p + s)
    mask = np.ones((b, p + s), np.int32)
    for i, n in enumerate(pads):  # left padding
        mask[i, :n] = 0
    return {"x": rng.standard_normal((b, s, hidden)).astype(np.float32),
            "attention_mask": mask,
            "past": rng.standard_normal((2, b, heads, p, hidden // heads)).astype(np.float32)}


def attn_opts(path, hidden=48, heads=3):
    g = Graph(3)
    g.node("Attention", ["x", g.weight("qkv_w", [hidden, 2 * hidden + 96]),
                         g.weight("qkv_b", [2 * hidden + 96], 0.1), "mask", "", "attn_bias"],
           ["y"], domain=MS, num_heads=heads, qkv_hidden_sizes=[hidden, hidden, 96],
           scale=0.2, mask_filter_value=-5000.0)
    g.save(path, "attn_opts",
           [vi("x", F, ["batch", "seq", hidden]), vi("mask", I32, ["batch", "seq", "seq"]),
            vi("attn_bias", F, [1, heads, "seq", "seq"])],
           [vi("y", F, ["batch", "seq", 96])])


def attn_opts_feeds(b, s, heads=3, hidden=48):
    rng = np.random.default_rng(b + s)
    return {"x": rng.standard_normal((b, s, hidden)).astype(np.float32),
            "mask": (rng.random((b, s, s)) > 0.3).astype(np.int32),
            "attn_bias": rng.standard_normal((1, heads, s, s)).astype(np.float32)}


def mha_self(path, hidden=64, heads=4):
    g = Graph(4)
    g.node("MultiHeadAttention", ["q", "k", "v", g.weight("bias", [3 * hidden], 0.1),
                                  "key_padding_mask", "", "past_key", "past_value"],
           ["y", "present_key", "present_value"], domain=MS, num_heads=heads)
    d = hidden // heads
    g.save(path, "mha_self",
           [vi("q", F, ["batch", "seq", hidden]), vi("k", F, ["batch", "seq", hidden]),
            vi("v", F, ["batch", "seq", hidden]), vi("key_padding_mask", I32, ["batch", "total"]),
            vi("past_key", F, ["batch", heads, "past", d]),
            vi("past_value", F, ["batch", heads, "past", d])],
           [vi("y", F, ["batch", "seq", hidden]),
            vi("present_key", F, ["batch", heads, "total", d]),
            vi("present_value", F, ["batch", heads, "total", d])])


def mha_self_feeds(b, p, s, hidden=64, heads=4):
    rng = np.random.default_rng(p * 7 + s)
    d = hidden // heads
    mask = np.ones((b, p + s), np.int32)
    mask[-1, p + s - 2:] = 0  # the last sequence's last two keys
    r = lambda *sh: rng.standard_normal(sh).astype(np.float32)  # noqa: E731
    return {"q": r(b, s, hidden), "k": r(b, s, hidden), "v": r(b, s, hidden),
            "key_padding_mask": mask, "past_key": r(b, heads, p, d), "past_value": r(b, heads, p, d)}


def mha_cross(path, hidden=64, heads=4):
    g = Graph(5)
    g.node("MultiHeadAttention", ["q", "k", "v", g.weight("bias", [3 * hidden], 0.1)],
           ["att"], domain=MS, num_heads=heads)
    g.node("QuickGelu", ["att"], ["y"], domain=MS, alpha=1.5)
    d = hidden // heads
    g.save(path, "mha_cross",
           [vi("q", F, ["batch", "seq", hidden]), vi("k", F, ["batch", heads, "mem", d]),
            vi("v", F, ["batch", heads, "mem", d])],
           [vi("y", F, ["batch", "seq", hidden])])


def mha_cross_feeds(b, s, m, hidden=64, heads=4):
    rng = np.random.default_rng(b + s + m)
    r = lambda *sh: rng.standard_normal(sh).astype(np.float32)  # noqa: E731
    return {"q": r(b, s, hidden), "k": r(b, heads, m, hidden // heads),
            "v": r(b, heads, m, hidden // heads)}


def gqa_rotary(path, past=True, interleaved=0, heads=4, kv_heads=2, d=16):
    """GroupQueryAttention with do_rotary (onnxruntime-genai's LLaMA/Phi
    form): Q and the new K rotated at positions P .. P + S - 1."""
    g = Graph(7 + interleaved)
    pos = np.arange(64, dtype=np.float64)[:, None]
    inv = 1.0 / (10000 ** (np.arange(0, d, 2) / d))
    g.inits += [numpy_helper.from_array(np.cos(pos * inv).astype(np.float32), "cos"),
                numpy_helper.from_array(np.sin(pos * inv).astype(np.float32), "sin")]
    ins = ["q", "k", "v"] + (["past_key", "past_value"] if past else ["", ""])
    g.node("GroupQueryAttention", ins + ["seqlens_k", "total_seq", "cos", "sin"],
           ["y", "present_key", "present_value"], domain=MS, num_heads=heads,
           kv_num_heads=kv_heads, do_rotary=1, rotary_interleaved=interleaved)
    inputs = [vi("q", F, ["batch", "seq", heads * d]), vi("k", F, ["batch", "seq", kv_heads * d]),
              vi("v", F, ["batch", "seq", kv_heads * d])]
    if past:
        inputs += [vi("past_key", F, ["batch", kv_heads, "past", d]),
                   vi("past_value", F, ["batch", kv_heads, "past", d])]
    inputs += [vi("seqlens_k", I32, ["batch"]), vi("total_seq", I32, [1])]
    g.save(path, "gqa_rotary", inputs,
           [vi("y", F, ["batch", "seq", heads * d]),
            vi("present_key", F, ["batch", kv_heads, "total", d]),
            vi("present_value", F, ["batch", kv_heads, "total", d])])


def gqa_feeds(b, p, s, past=True, heads=4, kv_heads=2, d=16):
    rng = np.random.default_rng(b * 31 + p + s)
    r = lambda *sh: rng.standard_normal(sh).astype(np.float32)  # noqa: E731
    f = {"q": r(b, s, heads * d), "k": r(b, s, kv_heads * d), "v": r(b, s, kv_heads * d)}
    if past:
        f["past_key"], f["past_value"] = r(b, kv_heads, p, d), r(b, kv_heads, p, d)
    f["seqlens_k"] = np.full(b, p + s - 1, np.int32)
    f["total_seq"] = np.array([p + s], np.int32)
    return f


def gpt2_model_feeds(b, p, s, hidden=64, heads=4, layers=2):
    rng = np.random.default_rng(b * 13 + p + s)
    f = {"input_ids": rng.integers(0, 100, (b, s)).astype(np.int64),
         "position_ids": np.tile(np.arange(p, p + s, dtype=np.int64), (b, 1)),
         "attention_mask": np.ones((b, p + s), np.int32)}
    f["attention_mask"][-1, :2] = 0  # the last sequence left-padded by 2
    for i in range(layers):
        f[f"past_{i}"] = rng.standard_normal((2, b, heads, p, hidden // heads)).astype(np.float32)
    return f


def ort_int8(path, k=64, n=48):
    """ORT's optimized dynamic int8 matmuls: DynamicQuantizeLinear ->
    MatMulIntegerToFloat, and DynamicQuantizeMatMul (int8 weights, per
    column scales, zero points of 0, a bias)."""
    g = Graph(10)
    w = g.rng.integers(-127, 128, (k, n)).astype(np.int8)
    g.inits += [numpy_helper.from_array(w, "wq"),
                numpy_helper.from_array((g.rng.random(n) * 0.01 + 0.001).astype(np.float32), "ws"),
                numpy_helper.from_array(np.zeros(n, np.int8), "wz"),
                numpy_helper.from_array(g.rng.standard_normal(n).astype(np.float32), "bias")]
    g.node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"])
    g.node("MatMulIntegerToFloat", ["xq", "wq", "xs", "ws", "xz", "wz", "bias"], ["y"],
           domain=MS)
    g.node("DynamicQuantizeMatMul", ["x", "wq", "ws", "wz", "bias"], ["y2"], domain=MS)
    g.save(path, "ort_int8", [vi("x", F, ["batch", "seq", k])],
           [vi("y", F, ["batch", "seq", n]), vi("y2", F, ["batch", "seq", n])])


def ort_int8_feeds(b, s, k=64):
    return {"x": np.random.default_rng(b + s).standard_normal((b, s, k)).astype(np.float32)}


def ort_fused(path):
    """ONNX Runtime's saved CPU fusions: FusedMatMul, FusedGemm, FusedConv."""
    g = Graph(6)
    g.node("FusedMatMul", ["x", g.weight("w1", [24, 32])], ["mm"], domain=MS,
           transB=1, alpha=0.5)
    g.node("FusedGemm", ["g", g.weight("w2", [24, 16]), g.weight("c2", [16], 0.1)], ["gemm"],
           domain=MS, activation="LeakyRelu", activation_alpha=0.1)
    g.node("FusedConv", ["img", g.weight("k1", [8, 3, 3, 3], 0.3), g.weight("b1", [8], 0.1)],
           ["c1"], domain=MS, pads=[1, 1, 1, 1], activation="Clip",
           activation_params=[0.0, 0.5])
    g.node("FusedConv", ["c1", g.weight("k2", [4, 8, 3, 3], 0.3)], ["conv"], domain=MS,
           strides=[2, 2], activation="HardSigmoid", activation_params=[0.3, 0.4])
    g.save(path, "ort_fused",
           [vi("x", F, ["batch", "seq", 32]), vi("g", F, ["batch", 24]),
            vi("img", F, ["batch", 3, 16, 16])],
           [vi("mm", F, ["batch", "seq", 24]), vi("gemm", F, ["batch", 16]),
            vi("conv", F, ["batch", 4, 7, 7])])


def ort_fused_feeds(b):
    rng = np.random.default_rng(b)
    r = lambda *sh: rng.standard_normal(sh).astype(np.float32)  # noqa: E731
    return {"x": r(b, 5, 32), "g": r(b, 24), "img": r(b, 3, 16, 16)}


CASES = [
    ("bert_ort", bert_ort, [("B=2,S=7,len=7/4", bert_feeds(2, 7, [7, 4])),
                            ("B=1,S=16", bert_feeds(1, 16, [16]))]),
    ("gpt2_ort", gpt2_ort, [("B=2,P=3,S=5,pad=0/2", gpt2_feeds(2, 3, 5, pads=(0, 2))),
                            ("B=1,P=9,S=1", gpt2_feeds(1, 9, 1))]),
    ("attn_opts", attn_opts, [("B=2,S=6", attn_opts_feeds(2, 6))]),
    ("mha_self", mha_self, [("B=2,P=3,S=4", mha_self_feeds(2, 3, 4)),
                            ("B=1,P=6,S=1", mha_self_feeds(1, 6, 1))]),
    ("mha_cross", mha_cross, [("B=2,S=5,M=9", mha_cross_feeds(2, 5, 9))]),
    ("ort_fused", ort_fused, [("B=2", ort_fused_feeds(2))]),
    ("ort_int8", ort_int8, [("B=2,S=7", ort_int8_feeds(2, 7)), ("B=1,S=33", ort_int8_feeds(1, 33))]),
    ("gpt2_ort_model", lambda p: gpt2_ort_model(p, hidden=64, layers=2, ffn=128, vocab=100),
     [("B=2,P=6,S=3", gpt2_model_feeds(2, 6, 3)), ("B=1,P=9,S=1", gpt2_model_feeds(1, 9, 1))]),
    ("gqa_rotary", gqa_rotary, [("B=1,P=4,S=3", gqa_feeds(1, 4, 3)),
                                ("B=2,P=9,S=1", gqa_feeds(2, 9, 1))]),
    ("gqa_rotary_interleaved", lambda p: gqa_rotary(p, interleaved=1),
     [("B=1,P=5,S=2", gqa_feeds(1, 5, 2))]),
    ("gqa_rotary_prompt", lambda p: gqa_rotary(p, past=False),
     [("B=2,S=6", gqa_feeds(2, 0, 6, past=False))]),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--node", default="node")
    ap.add_argument("--compile-args", default="",
                    help="more kiln compile flags, e.g. '--target cuda --emulate-gpu'")
    args = ap.parse_args()
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, build, shapes in CASES:
            path = os.path.join(tmp, name + ".onnx")
            build(path)
            so = os.path.join(tmp, name + ".so")
            kiln.compile(path, so, kiln=args.kiln, extra_args=args.compile_args.split())
            model = kiln.load(so)
            for label, feeds in shapes:
                got = model.run(feeds)
                ref = run_ort(path, feeds, os.path.join(tmp, "ort"), args.node)
                for out in sorted(ref):
                    if ref[out].dtype.kind == "f":
                        ok, detail = fp32_or_cosine(got[out], ref[out], True)
                    else:
                        ok = np.array_equal(got[out], ref[out])
                        detail = f"{got[out].tolist()} vs {ref[out].tolist()}"
                    passed += ok
                    failed += not ok
                    print(f"{name} {label} {out} {detail} {'ok' if ok else 'FAIL'}")
            model.close()
    print(f"ort_contrib: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
