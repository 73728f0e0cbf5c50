#!/usr/bin/env python3
"""Export small, real-architecture PyTorch models to ONNX for kiln's import tests.

The models are written here in plain torch.nn (plus two torchvision CNNs), use
random weights with fixed seeds (torch.manual_seed(0) before each build) and are
kept small so that exporting all of them takes seconds (transformers < 1 MB
each; resnet18 ~47 MB, mobilenet_v3_small ~10 MB and mobilenet_v2 ~14 MB at their
stock widths).
They mimic the graph structure of real exports (HF-style BERT, GPT-2 with a KV
cache, LLaMA, ViT, ResNet, MobileNetV3, nn.TransformerEncoder): Shape/Gather/
Slice plumbing, dynamic `batch`/`seq`/`past_seq` dims, etc.

Usage (Debian's torch 1.13 / onnx 1.12):
    /usr/bin/python3 test/models/export_models.py OUTDIR [--only NAME ...] [--large]

Writes OUTDIR/<name>.onnx and prints `name: N nodes, opset K, inputs: ...` per
model; exits 1 if any export or onnx.checker check fails. `--large` also
exports `bert_base` (~440 MB; `--only bert_base` does too); `mobilenet_v2`
only when named with `--only`. Other scripts can
`import export_models` and use MODELS: name -> ModelSpec(builder, opset, inputs,
outputs, dynamic_axes), where inputs is a list of (name, example shape, dtype).
"""

import argparse
import math
import os
import sys
from collections import namedtuple

import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------
# BERT (HF-style encoder)
# ---------------------------------------------------------------------------

BertConfig = namedtuple(
    "BertConfig", "vocab hidden layers heads intermediate max_pos type_vocab eps")
BERT_SMALL = BertConfig(100, 64, 2, 4, 128, 64, 2, 1e-12)
BERT_BASE = BertConfig(30522, 768, 12, 12, 3072, 512, 2, 1e-12)


class BertEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab, c.hidden)
        self.position_embeddings = nn.Embedding(c.max_pos, c.hidden)
        self.token_type_embeddings = nn.Embedding(c.type_vocab, c.hidden)
        self.LayerNorm = nn.LayerNorm(c.hidden, eps=c.eps)
        self.dropout = nn.Dropout(0.1)
        self.register_buffer("position_ids", torch.arange(c.max_pos).expand((1, -1)))

    def forward(self, input_ids, token_type_ids):
        seq_len = input_ids.size(1)
        position_ids = self.position_ids[:, :seq_len]
        x = (self.word_embeddings(input_ids)
             + self.token_type_embeddings(token_type_ids)
             + self.position_embeddings(position_ids))
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.num_heads = c.heads
        self.head_dim = c.hidden // c.heads
        self.all_head = self.num_heads * self.head_dim
        self.query = nn.Linear(c.hidden, self.all_head)
        self.key = nn.Linear(c.hidden, self.all_head)
        self.value = nn.Linear(c.hidden, self.all_head)
        self.dropout = nn.Dropout(0.1)

    def split_heads(self, x):
        new_shape = x.size()[:-1] + (self.num_heads, self.head_dim)
        return x.view(new_shape).permute(0, 2, 1, 3)

    def forward(self, hidden, ext_mask):
        q = self.split_heads(self.query(hidden))
        k = self.split_heads(self.key(hidden))
        v = self.split_heads(self.value(hidden))
        scores = torch.matmul(q, k.transpose(-1, -2))
        scores = scores / math.sqrt(self.head_dim)
        scores = scores + ext_mask
        probs = self.dropout(nn.functional.softmax(scores, dim=-1))
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(ctx.size()[:-2] + (self.all_head,))


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertSelfAttention(c)
        self.attn_out = nn.Linear(c.hidden, c.hidden)
        self.attn_ln = nn.LayerNorm(c.hidden, eps=c.eps)
        self.intermediate = nn.Linear(c.hidden, c.intermediate)
        self.act = nn.GELU()  # erf form
        self.output = nn.Linear(c.intermediate, c.hidden)
        self.out_ln = nn.LayerNorm(c.hidden, eps=c.eps)
        self.dropout = nn.Dropout(0.1)

    def forward(self, hidden, ext_mask):
        a = self.dropout(self.attn_out(self.attention(hidden, ext_mask)))
        hidden = self.attn_ln(a + hidden)
        m = self.dropout(self.output(self.act(self.intermediate(hidden))))
        return self.out_ln(m + hidden)


class Bert(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = BertEmbeddings(c)
        self.layers = nn.ModuleList([BertLayer(c) for _ in range(c.layers)])
        self.pooler = nn.Linear(c.hidden, c.hidden)

    def forward(self, input_ids, attention_mask, token_type_ids):
        ext = attention_mask[:, None, None, :].float()
        ext = (1.0 - ext) * -10000.0
        h = self.embeddings(input_ids, token_type_ids)
        for layer in self.layers:
            h = layer(h, ext)
        pooled = torch.tanh(self.pooler(h[:, 0]))
        return h, pooled


# ---------------------------------------------------------------------------
# GPT-2 with KV cache
# ---------------------------------------------------------------------------

GPT2Config = namedtuple("GPT2Config", "vocab n_embd n_layer n_head n_positions eps")
GPT2_SMALL = GPT2Config(100, 64, 2, 4, 128, 1e-5)


class Conv1D(nn.Module):
    """GPT-2's transposed linear: y = x @ W + b with W of shape [nx, nf]."""

    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.randn(nx, nf) * 0.02)
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        out_shape = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(out_shape)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class GPT2Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        n = c.n_positions
        self.register_buffer(
            "bias", torch.tril(torch.ones((n, n), dtype=torch.bool)).view(1, 1, n, n))
        self.n_embd, self.n_head = c.n_embd, c.n_head
        self.head_dim = c.n_embd // c.n_head
        self.c_attn = Conv1D(3 * c.n_embd, c.n_embd)
        self.c_proj = Conv1D(c.n_embd, c.n_embd)

    def split_heads(self, x):
        x = x.view(x.size()[:-1] + (self.n_head, self.head_dim))
        return x.permute(0, 2, 1, 3)

    def forward(self, x, past_key, past_value):
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        q, k, v = self.split_heads(q), self.split_heads(k), self.split_heads(v)
        k = torch.cat((past_key, k), dim=-2)
        v = torch.cat((past_value, v), dim=-2)
        w = torch.matmul(q, k.transpose(-1, -2))
        w = w / torch.full([], v.size(-1) ** 0.5, dtype=w.dtype)
        q_len, k_len = q.size(-2), k.size(-2)
        causal = self.bias[:, :, k_len - q_len:k_len, :k_len]
        mask_value = torch.full([], torch.finfo(w.dtype).min, dtype=w.dtype)
        w = torch.where(causal, w, mask_value)
        w = nn.functional.softmax(w, dim=-1)
        a = torch.matmul(w, v).permute(0, 2, 1, 3).contiguous()
        a = a.view(a.size()[:-2] + (self.n_embd,))
        return self.c_proj(a), k, v


class GPT2Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c.n_embd, eps=c.eps)
        self.attn = GPT2Attention(c)
        self.ln_2 = nn.LayerNorm(c.n_embd, eps=c.eps)
        self.c_fc = Conv1D(4 * c.n_embd, c.n_embd)
        self.c_proj = Conv1D(c.n_embd, 4 * c.n_embd)

    def forward(self, x, past_key, past_value):
        a, k, v = self.attn(self.ln_1(x), past_key, past_value)
        x = x + a
        x = x + self.c_proj(gelu_new(self.c_fc(self.ln_2(x))))
        return x, k, v


class GPT2(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wte = nn.Embedding(c.vocab, c.n_embd)
        self.wpe = nn.Embedding(c.n_positions, c.n_embd)
        self.h = nn.ModuleList([GPT2Block(c) for _ in range(c.n_layer)])
        self.ln_f = nn.LayerNorm(c.n_embd, eps=c.eps)
        self.lm_head = nn.Linear(c.n_embd, c.vocab, bias=False)
        self.lm_head.weight = self.wte.weight  # tied

    def forward(self, input_ids, *past):
        past_len = past[0].size(-2)
        seq_len = input_ids.size(-1)
        pos = torch.arange(past_len, seq_len + past_len, dtype=torch.long).unsqueeze(0)
        x = self.wte(input_ids) + self.wpe(pos)
        presents = []
        for i, block in enumerate(self.h):
            x, k, v = block(x, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        return (self.lm_head(self.ln_f(x)),) + tuple(presents)


# ---------------------------------------------------------------------------
# LLaMA (RMSNorm, RoPE, GQA, SwiGLU)
# ---------------------------------------------------------------------------

LlamaConfig = namedtuple(
    "LlamaConfig", "vocab hidden layers heads kv_heads intermediate eps rope_theta")
LLAMA_SMALL = LlamaConfig(100, 64, 2, 4, 2, 172, 1e-6, 10000.0)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return x * self.weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def repeat_kv(x, n_rep):
    b, kvh, s, d = x.shape
    if n_rep == 1:
        return x
    x = x[:, :, None, :, :].expand(b, kvh, n_rep, s, d)
    return x.reshape(b, kvh * n_rep, s, d)


class LlamaAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads, self.kv_heads = c.heads, c.kv_heads
        self.head_dim = c.hidden // c.heads
        self.q_proj = nn.Linear(c.hidden, c.heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(c.hidden, c.kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(c.hidden, c.kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(c.heads * self.head_dim, c.hidden, bias=False)

    def forward(self, x, cos, sin, mask):
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        n_rep = self.heads // self.kv_heads
        k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)
        w = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim)
        w = F.softmax(w + mask, dim=-1, dtype=torch.float32).to(q.dtype)
        o = torch.matmul(w, v).transpose(1, 2).contiguous()
        return self.o_proj(o.reshape(b, s, -1))


class LlamaMLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden, c.intermediate, bias=False)
        self.up_proj = nn.Linear(c.hidden, c.intermediate, bias=False)
        self.down_proj = nn.Linear(c.intermediate, c.hidden, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c.hidden, c.eps)
        self.self_attn = LlamaAttention(c)
        self.post_attention_layernorm = RMSNorm(c.hidden, c.eps)
        self.mlp = LlamaMLP(c)

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c.vocab, c.hidden)
        self.layers = nn.ModuleList([LlamaLayer(c) for _ in range(c.layers)])
        self.norm = RMSNorm(c.hidden, c.eps)
        self.lm_head = nn.Linear(c.hidden, c.vocab, bias=False)
        d = c.hidden // c.heads
        inv_freq = 1.0 / (c.rope_theta ** (torch.arange(0, d, 2).float() / d))
        self.register_buffer("inv_freq", inv_freq)

    def rope_angles(self, pos):
        return pos[:, None] * self.inv_freq[None, :]

    def forward(self, input_ids):
        seq_len = input_ids.shape[1]
        pos = torch.arange(seq_len, dtype=torch.long).float()
        freqs = self.rope_angles(pos)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None, None, :, :], emb.sin()[None, None, :, :]
        # causal mask: 0 on/below the diagonal, finfo.min above it
        mask = torch.full((seq_len, seq_len), torch.finfo(torch.float32).min)
        cond = torch.arange(seq_len)
        mask = mask.masked_fill(cond < (cond + 1).view(seq_len, 1), 0.0)
        mask = mask[None, None, :, :]
        x = self.embed_tokens(input_ids)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.lm_head(self.norm(x))


class LlamaOuter(Llama):
    """The LLaMA-style model with its RoPE angles from torch.outer, as
    Hugging Face's LlamaRotaryEmbedding computes them (exported as an Einsum
    'i,j->ij')."""

    def rope_angles(self, pos):
        return torch.outer(pos, self.inv_freq)


class LlamaKV(Llama):
    """em.Llama with a KV cache: inputs input_ids [batch, seq] and per layer
    past_key_i / past_value_i [batch, kv_heads, past_seq, head_dim]; outputs
    logits and present_key_i / present_value_i (past + new, before the GQA
    repeat). RoPE positions and the causal mask start at past_seq."""

    def forward(self, input_ids, *past):
        b, seq = input_ids.shape
        past_len = past[0].shape[2]
        pos = (torch.arange(seq, dtype=torch.long) + past_len).float()
        freqs = self.rope_angles(pos)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None, None, :, :], emb.sin()[None, None, :, :]
        total = past_len + seq
        rows = (torch.arange(seq) + past_len).view(seq, 1)
        mask = torch.zeros(seq, total).masked_fill(
            torch.arange(total).view(1, total) > rows,
            torch.finfo(torch.float32).min)[None, None, :, :]
        x = self.embed_tokens(input_ids)
        presents = []
        for i, layer in enumerate(self.layers):
            a = layer.self_attn
            h = layer.input_layernorm(x)
            q = a.q_proj(h).view(b, seq, a.heads, a.head_dim).transpose(1, 2)
            k = a.k_proj(h).view(b, seq, a.kv_heads, a.head_dim).transpose(1, 2)
            v = a.v_proj(h).view(b, seq, a.kv_heads, a.head_dim).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            k = torch.cat((past[2 * i], k), dim=2)
            v = torch.cat((past[2 * i + 1], v), dim=2)
            presents += [k, v]
            n_rep = a.heads // a.kv_heads
            kr, vr = repeat_kv(k, n_rep), repeat_kv(v, n_rep)
            w = torch.matmul(q, kr.transpose(2, 3)) / math.sqrt(a.head_dim)
            w = torch.softmax(w + mask, dim=-1)
            o = torch.matmul(w, vr).transpose(1, 2).contiguous().reshape(b, seq, -1)
            x = x + a.o_proj(o)
            x = x + layer.mlp(layer.post_attention_layernorm(x))
        return (self.lm_head(self.norm(x)), *presents)


# ---------------------------------------------------------------------------
# ViT (pre-LN, explicit fused-qkv attention)
# ---------------------------------------------------------------------------

ViTConfig = namedtuple("ViTConfig", "image patch hidden layers heads mlp classes eps")
VIT_SMALL = ViTConfig(32, 8, 64, 2, 4, 128, 10, 1e-6)


class ViTAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads, self.head_dim = c.heads, c.hidden // c.heads
        self.qkv = nn.Linear(c.hidden, 3 * c.hidden)
        self.proj = nn.Linear(c.hidden, c.hidden)
        self.scale = self.head_dim ** -0.5

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(x)


class ViTBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm1 = nn.LayerNorm(c.hidden, eps=c.eps)
        self.attn = ViTAttention(c)
        self.norm2 = nn.LayerNorm(c.hidden, eps=c.eps)
        self.mlp = nn.Sequential(nn.Linear(c.hidden, c.mlp), nn.GELU(), nn.Linear(c.mlp, c.hidden))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self, c):
        super().__init__()
        n_patches = (c.image // c.patch) ** 2
        self.patch_embed = nn.Conv2d(3, c.hidden, kernel_size=c.patch, stride=c.patch)
        self.cls_token = nn.Parameter(torch.randn(1, 1, c.hidden) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, n_patches + 1, c.hidden) * 0.02)
        self.blocks = nn.ModuleList([ViTBlock(c) for _ in range(c.layers)])
        self.norm = nn.LayerNorm(c.hidden, eps=c.eps)
        self.head = nn.Linear(c.hidden, c.classes)

    def forward(self, pixel_values):
        x = self.patch_embed(pixel_values).flatten(2).transpose(1, 2)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat((cls, x), dim=1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.norm(x)[:, 0])


# ---------------------------------------------------------------------------
# Builders and the model table
# ---------------------------------------------------------------------------

def build_bert(config=BERT_SMALL):
    return Bert(config)


def build_bert_base():
    return Bert(BERT_BASE)


def build_llama():
    return Llama(LLAMA_SMALL)


def build_llama_outer():
    return LlamaOuter(LLAMA_SMALL)


def build_vit():
    return ViT(VIT_SMALL)


def calibrate_batchnorm(model, image=64, steps=4):
    """Give BatchNorm layers real running statistics (fresh ones are mean 0 / var 1,
    which makes BN near-identity and, in MobileNetV3, lets activations decay to
    ~1e-9 at the logits). Deterministic: uses the global seed."""
    for mod in model.modules():
        if isinstance(mod, nn.modules.batchnorm._BatchNorm):
            mod.reset_running_stats()
            mod.momentum = None  # cumulative average
    model.train()
    with torch.no_grad():
        for _ in range(steps):
            model(torch.randn(8, 3, image, image))
    for mod in model.modules():
        if isinstance(mod, nn.modules.batchnorm._BatchNorm):
            mod.momentum = 0.1
    return model.eval()


def build_resnet18():
    import torchvision
    return calibrate_batchnorm(torchvision.models.resnet18(weights=None))


def build_mobilenet_v3_small():
    import torchvision
    return calibrate_batchnorm(torchvision.models.mobilenet_v3_small(weights=None))


def build_mobilenet_v2():
    import torchvision
    return calibrate_batchnorm(torchvision.models.mobilenet_v2(weights=None))


class TransformerEncoderModel(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model=64, nhead=4, dim_feedforward=128,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)

    def forward(self, src):
        # torch 1.13's inference fast path (aten::_transformer_encoder_layer_fwd) has
        # no ONNX symbolic; it is skipped when grad is enabled and params require grad.
        with torch.enable_grad():
            return self.encoder(src)


def build_transformer_encoder():
    return TransformerEncoderModel()


# inputs: list of (name, example shape, dtype); dynamic_axes as for torch.onnx.export
ModelSpec = namedtuple("ModelSpec", "builder opset inputs outputs dynamic_axes")

BS = {0: "batch", 1: "seq"}
_BERT_INPUTS = [("input_ids", (2, 8), "int64"), ("attention_mask", (2, 8), "int64"),
                ("token_type_ids", (2, 8), "int64")]
_BERT_AXES = {"input_ids": BS, "attention_mask": BS, "token_type_ids": BS,
              "last_hidden_state": BS, "pooler_output": {0: "batch"}}
_BERT_OUTPUTS = ["last_hidden_state", "pooler_output"]


def _kv_spec(build, layers, kv, ids):
    """A decoder with a KV cache: input_ids [batch, seq] and per layer
    past_key_i / past_value_i of shape `kv` [batch, heads, past_seq, dim];
    outputs logits and present_key_i / present_value_i."""
    inputs = [("input_ids", ids, "int64")]
    outputs = ["logits"]
    axes = {"input_ids": BS, "logits": BS}
    for i in range(layers):
        for kind in ("key", "value"):
            inputs.append((f"past_{kind}_{i}", kv, "float32"))
            outputs.append(f"present_{kind}_{i}")
            axes[f"past_{kind}_{i}"] = {0: "batch", 2: "past_seq"}
            axes[f"present_{kind}_{i}"] = {0: "batch", 2: "total_seq"}
    return ModelSpec(build, 14, inputs, outputs, axes)


def _gpt2_spec(c=GPT2_SMALL):
    return _kv_spec(lambda: GPT2(c), c.n_layer, (2, c.n_head, 3, c.n_embd // c.n_head),
                    (2, 5))


def _llama_kv_spec(c):
    return _kv_spec(lambda: LlamaKV(c), c.layers, (1, c.kv_heads, 4, c.hidden // c.heads),
                    (1, 1))


def _image_spec(builder, opset, size, output="logits"):
    return ModelSpec(builder, opset, [("pixel_values", (2, 3, size, size), "float32")],
                     [output], {"pixel_values": {0: "batch"}, output: {0: "batch"}})


MODELS = {
    "bert_op13": ModelSpec(build_bert, 13, _BERT_INPUTS, _BERT_OUTPUTS, _BERT_AXES),
    "bert_op14": ModelSpec(build_bert, 14, _BERT_INPUTS, _BERT_OUTPUTS, _BERT_AXES),
    "bert_op17": ModelSpec(build_bert, 17, _BERT_INPUTS, _BERT_OUTPUTS, _BERT_AXES),
    "gpt2_kv": _gpt2_spec(),
    "llama": ModelSpec(build_llama, 14, [("input_ids", (2, 8), "int64")], ["logits"],
                       {"input_ids": BS, "logits": BS}),
    "llama_outer": ModelSpec(build_llama_outer, 14, [("input_ids", (2, 8), "int64")],
                             ["logits"], {"input_ids": BS, "logits": BS}),
    "llama_kv": _llama_kv_spec(LLAMA_SMALL),
    "vit": _image_spec(build_vit, 14, 32),
    "resnet18": _image_spec(build_resnet18, 13, 64),
    "mobilenet_v3_small": _image_spec(build_mobilenet_v3_small, 13, 64),
    # inverted residuals of ReLU6 depthwise convolutions (the int8 CNN most
    # deployed; test/e2e/qdq_conv.test)
    "mobilenet_v2": _image_spec(build_mobilenet_v2, 13, 64),
    "transformer_encoder": ModelSpec(build_transformer_encoder, 14,
                                     [("src", (2, 8, 64), "float32")], ["output"],
                                     {"src": BS, "output": BS}),
    "bert_base": ModelSpec(build_bert_base, 14, _BERT_INPUTS, _BERT_OUTPUTS, _BERT_AXES),
    # Older opsets (7-12): the importer upgrades them with ONNX's version
    # converter (Softmax's old 2-D coercion handled by kiln itself).
    "bert_op11": ModelSpec(build_bert, 11, _BERT_INPUTS, _BERT_OUTPUTS, _BERT_AXES),
    "gpt2_op12": _gpt2_spec()._replace(opset=12),
    "resnet18_op9": _image_spec(build_resnet18, 9, 64),
    "mobilenet_v3_small_op12": _image_spec(build_mobilenet_v3_small, 12, 64),
}
LARGE_MODELS = {"bert_base"}
# Exported only when named (--only): MobileNetV2 for the QDQ convolution
# test (test/e2e/qdq_conv.test), not in every model suite.
ON_REQUEST = {"mobilenet_v2"}


def make_inputs(spec, vocab_limit=100):
    """Deterministic example inputs. int64 inputs are ids/masks in [0, 2) or
    [0, vocab_limit); attention_mask is all ones except the last position."""
    g = torch.Generator().manual_seed(1234)
    out = []
    for name, shape, dtype in spec.inputs:
        if dtype == "int64":
            if name == "attention_mask":
                t = torch.ones(shape, dtype=torch.int64)
                t[:, -1] = 0
            elif name == "token_type_ids":
                t = torch.randint(0, 2, shape, generator=g)
            else:
                t = torch.randint(0, vocab_limit, shape, generator=g)
        else:
            t = torch.randn(shape, generator=g)
        out.append(t)
    return tuple(out)


def export_one(name, outdir, spec=None):
    import onnx
    spec = spec or MODELS[name]
    torch.manual_seed(0)
    model = spec.builder().eval()
    args = make_inputs(spec)
    path = os.path.join(outdir, name + ".onnx")
    with torch.no_grad():
        torch.onnx.export(model, args, path,
                          do_constant_folding=True, opset_version=spec.opset,
                          input_names=[i[0] for i in spec.inputs],
                          output_names=spec.outputs, dynamic_axes=spec.dynamic_axes)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    opset = next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))

    def fmt(vi):
        dims = [d.dim_param or str(d.dim_value) for d in vi.type.tensor_type.shape.dim]
        dt = onnx.TensorProto.DataType.Name(vi.type.tensor_type.elem_type).lower()
        return f"{vi.name}[{','.join(dims)}]:{dt}"

    inits = {i.name for i in m.graph.initializer}
    ins = ", ".join(fmt(i) for i in m.graph.input if i.name not in inits)
    print(f"{name}: {len(m.graph.node)} nodes, opset {opset}, inputs: {ins}", flush=True)
    return m


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("outdir")
    p.add_argument("--only", nargs="+", metavar="NAME", choices=sorted(MODELS),
                   help="export only these models")
    p.add_argument("--large", action="store_true", help="also export bert_base (~440 MB)")
    a = p.parse_args(argv)
    names = a.only or [n for n in MODELS
                       if n not in ON_REQUEST and (a.large or n not in LARGE_MODELS)]
    os.makedirs(a.outdir, exist_ok=True)
    failed = []
    for name in names:
        try:
            export_one(name, a.outdir)
        except Exception as e:  # keep going, report at the end
            print(f"{name}: FAILED: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
