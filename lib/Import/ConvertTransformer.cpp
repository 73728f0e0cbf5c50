//===- ConvertTransformer.cpp - transformer ops named directly ------------===//
//
// The ops newer opsets and ONNX Runtime's exporters use for transformer
// blocks import straight into kiln's fused ops: opset-23 Attention,
// RMSNormalization and RotaryEmbedding, and the com.microsoft
// RotaryEmbedding, SkipLayerNormalization,
// SkipSimplifiedLayerNormalization, SimplifiedLayerNormalization, FastGelu,
// BiasGelu and Gelu. ONNX 1.12's schema registry knows none of them, so
// their attributes are read here without it.
//
//===----------------------------------------------------------------------===//

#include "Chain.h"

#include <cmath>
#include <limits>

using namespace ::kiln::import;
namespace k = mlir::kiln;

namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

/// input + skip [+ bias], then `norm`; output 3 is the sum.
template <typename NormOp>
LogicalResult convertSkipNorm(NodeContext &c, bool hasBeta) {
  auto eps = c.getFloat("epsilon", 1e-12f);
  if (failed(c.requireInputs(3)) || failed(eps) ||
      failed(rejectOutputs(c, {1, 2}, "the mean and inverse-deviation output")))
    return failure();
  Chain ch{c};
  // (input + bias) + skip: a MatMul feeding `input` then takes the bias and
  // the skip into its epilogue (kiln-fuse-linear: bias, then residual).
  Value sum = c.input(0);
  if (Value bias = c.input(hasBeta ? 4 : 3))
    sum = ch.op<k::AddOp>({sum, bias});
  sum = ch.op<k::AddOp>({sum, c.input(1)});
  SmallVector<Value> operands{sum, c.input(2)};
  if (hasBeta && c.input(3))
    operands.push_back(c.input(3));
  Value y = ch.op<NormOp>(operands, {c.named("axis", c.b.getI64IntegerAttr(-1)),
                                     c.named("epsilon", c.b.getF32FloatAttr(*eps))});
  return ch.finish({y, Value(), Value(), sum});
}

LogicalResult convertRmsNorm(NodeContext &c, float defaultEps) {
  auto eps = c.getFloat("epsilon", defaultEps);
  auto axis = c.getInt("axis", -1);
  if (failed(c.requireInputs(2)) || failed(eps) || failed(axis) ||
      failed(rejectOutputs(c, {1}, "the inverse-deviation output")))
    return failure();
  return c.emit<k::RmsNormOp>({c.input(0), c.input(1)},
                              {c.named("axis", c.b.getI64IntegerAttr(*axis)),
                               c.named("epsilon", c.b.getF32FloatAttr(*eps))});
}

/// ONNX Attention (opset 23): Q/K/V 4-D [B, H, S, D] or 3-D [B, S, H*D].
LogicalResult convertAttention(NodeContext &c) {
  auto causal = c.getInt("is_causal", 0), qHeads = c.getInt("q_num_heads", 0),
       kvHeads = c.getInt("kv_num_heads", 0),
       mode = c.getInt("qk_matmul_output_mode", 0);
  auto softcap = c.getFloat("softcap", 0.0f);
  if (failed(c.requireInputs(3)) || failed(causal) || failed(qHeads) ||
      failed(kvHeads) || failed(mode) || failed(softcap))
    return failure();
  if (*softcap != 0.0f)
    return c.fail("softcap is not supported");
  if (c.input(6))
    return c.fail("nonpad_kv_seqlen is not supported");
  if (failed(rejectOutputs(c, {3}, "qk_matmul_output")))
    return failure();
  if (!c.input(4) != !c.input(5))
    return c.fail("past_key and past_value must be given together");
  Chain ch{c};
  Value q = c.input(0), key = c.input(1), v = c.input(2);
  int64_t rank = c.typeOf(q).getRank();
  if (rank != 3 && rank != 4)
    return c.fail("Q must be 3-D or 4-D, got " + k::typeStr(q.getType()));
  if (c.typeOf(key).getRank() != rank || c.typeOf(v).getRank() != rank)
    return c.fail("Q, K and V must have one rank");
  if (rank == 3) {
    if (*qHeads <= 0 || *kvHeads <= 0)
      return c.fail("3-D inputs need q_num_heads and kv_num_heads");
    auto split = [&](Value x, int64_t heads) {
      return ch.transpose(ch.reshape(x, {0, 0, heads, -1}), {0, 2, 1, 3});
    };
    q = split(q, *qHeads);
    key = split(key, *kvHeads);
    v = split(v, *kvHeads);
    if (!ch.ok)
      return failure();
  }
  if (Value pk = c.input(4)) {
    auto axis = c.named("axis", c.b.getI64IntegerAttr(2));
    key = ch.op<k::ConcatOp>({pk, key}, {axis});
    v = ch.op<k::ConcatOp>({c.input(5), v}, {axis});
  }
  if (!ch.ok)
    return failure();
  auto qt = c.typeOf(q);
  double scale;
  if (c.hasAttr("scale")) {
    scale = *c.getFloat("scale", 1.0f);
  } else {
    if (qt.isDynamicDim(3))
      return c.fail("the default scale needs a static head size");
    scale = 1.0 / std::sqrt((double)qt.getDimSize(3));
  }
  // kiln.attention's causal mask is bottom-right aligned (key j is excluded
  // when j > i + Sk - Sq); ONNX aligns it after the past keys (j > i + P).
  // They agree when the new keys are as many as the queries; when that is
  // not known statically, the mask is built explicitly instead.
  int64_t seqDim = rank == 4 ? 2 : 1;
  bool alignedCausal =
      *causal && sameExtent(c.input(0), seqDim, c.input(1), seqDim);
  Value mask = c.input(3);
  if (mask) {
    auto mt = c.typeOf(mask);
    int64_t sk = c.typeOf(key).getDimSize(2), mk = mt.getDimSize(mt.getRank() - 1);
    if (sk != kDyn && mk != kDyn && mk != sk && mk != 1)
      return c.fail("an attn_mask shorter than the keys is not supported");
  }
  if (*causal && !alignedCausal) {
    Value rows = ch.unsqueeze(ch.arange(ch.extent(q, 2)), {1});
    if (Value pk = c.input(4))
      rows = ch.op<k::AddOp>({rows, ch.extent(pk, 2)});
    Value cols = ch.arange(ch.extent(key, 2));
    Value allowed = ch.op<k::LessEqualOp>({cols, rows}); // [Sq, Sk]
    if (!mask) {
      mask = allowed;
    } else if (c.typeOf(mask).getElementType().isInteger(1)) {
      mask = ch.op<k::AndOp>({mask, allowed});
    } else {
      Value ninf = c.scalarLike(c.typeOf(mask).getElementType(),
                                -std::numeric_limits<double>::infinity());
      mask = ch.op<k::WhereOp>({allowed, mask, ninf});
    }
    if (!ch.ok)
      return failure();
  }
  SmallVector<Value> operands{q, key, v};
  if (mask)
    operands.push_back(mask);
  Value y = ch.op<k::AttentionOp>(
      operands, {c.named("scale", c.b.getF32FloatAttr(scale)),
                 c.named("causal", c.b.getBoolAttr(alignedCausal))});
  if (rank == 3)
    y = ch.reshape(ch.transpose(y, {0, 2, 1, 3}), {0, 0, -1});
  Value presentK = key, presentV = v;
  return ch.finish({y, presentK, presentV});
}

/// A cos/sin cache gathered for the positions, [B, S, R/2], made
/// broadcastable against a 4-D x with heads on `headAxis` ([B, 1, S, R] or
/// [B, S, 1, R]): each value twice, as halves or interleaved.
Value widenRotaryCache(Chain &ch, Value t, int64_t headAxis, bool interleaved) {
  NodeContext &c = ch.c;
  t = ch.unsqueeze(t, {headAxis});
  auto axis = c.named("axis", c.b.getI64IntegerAttr(-1));
  if (!interleaved)
    return ch.op<k::ConcatOp>({t, t}, {axis});
  Value u = ch.unsqueeze(t, {4});
  if (!ch.ok)
    return {};
  int64_t half = c.typeOf(t).getShape().back();
  return ch.reshape(ch.op<k::ConcatOp>({u, u}, {axis}),
                    {0, 0, 0, half == kDyn ? -1 : 2 * half});
}

/// RotaryEmbedding (opset 23: X, cos, sin, position_ids; com.microsoft:
/// X, position_ids, cos, sin). X is [B, H, S, D] or [B, S, H*D]; the caches
/// are [positions, R/2] (gathered by position_ids) or already [B, S, R/2].
LogicalResult convertRotary(NodeContext &c, bool microsoft) {
  auto interleaved = c.getInt("interleaved", 0),
       heads = c.getInt("num_heads", 0), dim = c.getInt("rotary_embedding_dim", 0);
  if (failed(interleaved) || failed(heads) || failed(dim) ||
      failed(c.requireInputs(microsoft ? 4 : 3)))
    return failure();
  if (microsoft) {
    auto scale = c.getFloat("scale", 1.0f);
    auto packed = c.getInt("is_packed_batching", 0);
    if (failed(scale) || failed(packed))
      return failure();
    if (*scale != 1.0f || *packed)
      return c.fail("scale and is_packed_batching are not supported");
  }
  Value x = c.input(0);
  Value cosC = c.input(microsoft ? 2 : 1), sinC = c.input(microsoft ? 3 : 2);
  Value pos = c.input(microsoft ? 1 : 3);
  Chain ch{c};
  int64_t rank = c.typeOf(x).getRank();
  if (rank != 3 && rank != 4)
    return c.fail("input must be 3-D or 4-D, got " + k::typeStr(x.getType()));
  if (rank == 3) {
    if (*heads <= 0)
      return c.fail("a 3-D input needs num_heads");
    x = ch.reshape(x, {0, 0, *heads, -1}); // [B, S, H, D]
  }
  if (pos) {
    auto pt = c.typeOf(pos);
    if (microsoft && pt.getRank() == 1) {
      // One offset: positions offset .. offset + S - 1.
      Value r = ch.arange(ch.extent(x, rank == 4 ? 2 : 1));
      pos = ch.unsqueeze(ch.op<k::AddOp>({r, pos}), {0});
    }
    cosC = ch.op<k::GatherOp>({cosC, pos});
    sinC = ch.op<k::GatherOp>({sinC, pos});
  }
  if (!ch.ok)
    return failure();
  // [B, S, R/2] -> broadcastable against x: [B, 1, S, R/2] or [B, S, 1, R/2].
  if (c.typeOf(cosC).getRank() != 3)
    return c.fail("cos/sin must be [batch, sequence, rotary_dim / 2], got " +
                  k::typeStr(cosC.getType()));
  int64_t headAxis = rank == 4 ? 1 : 2;
  cosC = widenRotaryCache(ch, cosC, headAxis, *interleaved);
  sinC = widenRotaryCache(ch, sinC, headAxis, *interleaved);
  if (!ch.ok)
    return failure();
  int64_t width = c.typeOf(cosC).getShape().back();
  int64_t d = c.typeOf(x).getShape().back();
  if (*dim != 0 && width != kDyn && width != *dim)
    return c.fail("rotary_embedding_dim " + Twine(*dim) +
                  " does not match the caches' width " + Twine(width));
  if (*dim == 0 && width != kDyn && d != kDyn && width != d)
    return c.fail("the caches' width " + Twine(width) +
                  " is not the head size " + Twine(d) +
                  " (set rotary_embedding_dim for a partial rotation)");
  Value y = ch.op<k::RotaryEmbeddingOp>(
      {x, cosC, sinC}, {c.named("interleaved", c.b.getBoolAttr(*interleaved))});
  if (rank == 3)
    y = ch.reshape(y, {0, 0, -1});
  return ch.finish({y});
}

/// com.microsoft GroupQueryAttention: query [B, S, H*D] (or packed QKV with
/// no key/value), key/value [B, S, Hkv*D], past_key/value [B, Hkv, P, D]
/// concatenated with the new ones (returned as present), seqlens_k [B]
/// (total length - 1) masking keys past each sequence's end; causal. With a
/// past cache every sequence must fill it (checked at run time). do_rotary:
/// Q and the new K rotated by cos_cache/sin_cache [positions, R/2] at the
/// new tokens' positions (rotary_interleaved).
LogicalResult convertGroupQueryAttention(NodeContext &c) {
  auto heads = c.getInt("num_heads", 0), kvHeads = c.getInt("kv_num_heads", 0),
       rotary = c.getInt("do_rotary", 0), window = c.getInt("local_window_size", -1),
       smooth = c.getInt("smooth_softmax", 0);
  auto softcap = c.getFloat("softcap", 0.0f);
  if (failed(heads) || failed(kvHeads) || failed(rotary) || failed(window) ||
      failed(smooth) || failed(softcap) || failed(c.requireInputs(1)))
    return failure();
  if (*heads <= 0 || *kvHeads <= 0)
    return c.fail("num_heads and kv_num_heads must be positive");
  auto rotaryInterleaved = c.getInt("rotary_interleaved", 0);
  if (failed(rotaryInterleaved))
    return failure();
  if (*rotary && (!c.input(7) || !c.input(8)))
    return c.fail("do_rotary needs cos_cache and sin_cache");
  if (c.input(9))
    return c.fail("position_ids is not supported");
  if (*window != -1 || *softcap != 0.0f || *smooth)
    return c.fail("local_window_size, softcap and smooth_softmax are not supported");
  if (c.input(10) || c.input(11))
    return c.fail("attention_bias and head_sink are not supported");
  if (!c.input(5))
    return c.fail("seqlens_k is required");
  if (!c.input(3) != !c.input(4))
    return c.fail("past_key and past_value must be given together");
  Chain ch{c};
  Value q = c.input(0), k = c.input(1), v = c.input(2);
  if (c.typeOf(q).getRank() != 3)
    return c.fail("query must be 3-D [batch, sequence, hidden], got " +
                  k::typeStr(q.getType()));
  if (!k != !v)
    return c.fail("key and value must be given together");
  if (!k) {
    // Packed QKV: [B, S, (H + 2 Hkv) * D].
    int64_t hidden = c.typeOf(q).getShape().back();
    int64_t parts = *heads + 2 * *kvHeads;
    if (hidden == kDyn || hidden % parts)
      return c.fail("packed QKV needs a static hidden size divisible by "
                    "num_heads + 2 * kv_num_heads");
    int64_t d = hidden / parts;
    Value packed = q;
    auto part = [&](int64_t from, int64_t to) {
      return ch.op<k::SliceOp>({packed, c.i64Vector({from}), c.i64Vector({to}),
                                c.i64Vector({-1}), c.i64Vector({1})});
    };
    q = part(0, *heads * d);
    k = part(*heads * d, (*heads + *kvHeads) * d);
    v = part((*heads + *kvHeads) * d, hidden);
  }
  auto split = [&](Value x, int64_t h) {
    return ch.transpose(ch.reshape(x, {0, 0, h, -1}), {0, 2, 1, 3});
  };
  q = split(q, *heads);
  k = split(k, *kvHeads);
  v = split(v, *kvHeads);
  if (*rotary) {
    // The new tokens sit at positions P .. P + S - 1 (P the past length;
    // an unpadded cache, as checked below): their rows of the caches
    // rotate Q and the new K before K joins the cache.
    Value first = c.input(3) ? ch.extent(c.input(3), 2) : c.i64Scalar(0);
    Value pos = ch.unsqueeze(
        ch.op<k::AddOp>({ch.arange(ch.extent(c.input(0), 1)), first}), {0});
    Value cosC = widenRotaryCache(ch, ch.op<k::GatherOp>({c.input(7), pos}), 1,
                                  *rotaryInterleaved);
    Value sinC = widenRotaryCache(ch, ch.op<k::GatherOp>({c.input(8), pos}), 1,
                                  *rotaryInterleaved);
    auto inter = c.named("interleaved", c.b.getBoolAttr(*rotaryInterleaved));
    q = ch.op<k::RotaryEmbeddingOp>({q, cosC, sinC}, {inter});
    k = ch.op<k::RotaryEmbeddingOp>({k, cosC, sinC}, {inter});
  }
  if (Value pk = c.input(3)) {
    auto axis = c.named("axis", c.b.getI64IntegerAttr(2));
    k = ch.op<k::ConcatOp>({pk, k}, {axis});
    v = ch.op<k::ConcatOp>({c.input(4), v}, {axis});
  }
  if (!ch.ok)
    return failure();
  double scale;
  if (c.hasAttr("scale") && *c.getFloat("scale", 0.0f) != 0.0f) {
    scale = *c.getFloat("scale", 0.0f);
  } else {
    int64_t d = c.typeOf(q).getShape().back();
    if (d == kDyn)
      return c.fail("the default scale needs a static head size");
    scale = 1.0 / std::sqrt((double)d);
  }
  // Keys past each sequence's end (index > seqlens_k[b]) are masked.
  auto slType = c.typeOf(c.input(5)).clone(c.b.getI64Type());
  auto slCast = c.createTyped<k::CastOp>({c.input(5)}, {}, {slType});
  if (failed(slCast))
    return failure();
  Value sl = (*slCast)[0];
  if (Value pk = c.input(3)) {
    // With a past cache kiln appends the new keys after all P past slots;
    // ONNX Runtime writes them at each sequence's own length. The two agree
    // when no sequence is padded: seqlens_k[b] == P + S - 1, checked at run
    // time (a padded cache ends the run with a shape error).
    Value last = ch.op<k::SubOp>(
        {ch.op<k::AddOp>({ch.extent(pk, 2), ch.extent(c.input(0), 1)}),
         c.i64Scalar(1)});
    sl = ch.op<k::CheckEqualOp>({sl, last});
  }
  sl = ch.unsqueeze(sl, {1, 2, 3});
  Value cols = ch.arange(ch.extent(k, 2));
  Value mask = ch.op<k::LessEqualOp>({cols, sl}); // [B, 1, 1, Sk]
  Value y = ch.op<k::AttentionOp>(
      {q, k, v, mask}, {c.named("scale", c.b.getF32FloatAttr(scale)),
                        c.named("causal", c.b.getBoolAttr(true))});
  y = ch.reshape(ch.transpose(y, {0, 2, 1, 3}), {0, 0, -1});
  return ch.finish({y, k, v});
}

} // namespace

void ::kiln::import::addTransformerConverters(llvm::StringMap<Converter> &m) {
  m["Attention"] = convertAttention;
  m["RotaryEmbedding"] = [](NodeContext &c) { return convertRotary(c, false); };
  m["com.microsoft:RotaryEmbedding"] = [](NodeContext &c) {
    return convertRotary(c, true);
  };
  m["com.microsoft:GroupQueryAttention"] = convertGroupQueryAttention;
  m["RMSNormalization"] = [](NodeContext &c) { return convertRmsNorm(c, 1e-5f); };
  // ONNX Runtime registers SimplifiedLayerNormalization in both domains.
  m["SimplifiedLayerNormalization"] = [](NodeContext &c) {
    return convertRmsNorm(c, 1e-5f);
  };
  m["com.microsoft:SimplifiedLayerNormalization"] = [](NodeContext &c) {
    return convertRmsNorm(c, 1e-5f);
  };
  m["com.microsoft:SkipLayerNormalization"] = [](NodeContext &c) {
    return convertSkipNorm<k::LayerNormOp>(c, /*hasBeta=*/true);
  };
  m["com.microsoft:SkipSimplifiedLayerNormalization"] = [](NodeContext &c) {
    return convertSkipNorm<k::RmsNormOp>(c, /*hasBeta=*/false);
  };
  auto gelu = [](bool tanh) {
    return [tanh](NodeContext &c) -> LogicalResult {
      if (failed(c.requireInputs(1)))
        return failure();
      Chain ch{c};
      Value x = c.input(0);
      if (Value bias = c.input(1))
        x = ch.op<k::AddOp>({x, bias});
      Value y = ch.op<k::GeluOp>(
          x, {c.named("tanh_approx", c.b.getBoolAttr(tanh))});
      return ch.finish({y});
    };
  };
  m["com.microsoft:FastGelu"] = gelu(true);
  m["com.microsoft:BiasGelu"] = [gelu](NodeContext &c) -> LogicalResult {
    if (failed(c.requireInputs(2)))
      return failure();
    return gelu(false)(c);
  };
  m["com.microsoft:Gelu"] = gelu(false);
}
