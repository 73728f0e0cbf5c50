//===- ConvertOrtContrib.cpp - ONNX Runtime's fused BERT/GPT ops ----------===//
//
// The com.microsoft ops that ONNX Runtime's transformer optimizer (and
// Optimum's optimized exports) write into BERT- and GPT-2-style models:
// EmbedLayerNormalization, Attention (packed QKV projection, a key mask in
// one of several layouts, a past/present cache stacked as [2, B, H, T, D]),
// MultiHeadAttention (projected Q, K, V) and QuickGelu; and the CPU
// fusions ONNX Runtime saves in optimized models: FusedMatMul, FusedGemm,
// FusedConv, MatMulIntegerToFloat, DynamicQuantizeMatMul. Each becomes the kiln
// ops it is made of: gathers, a layer norm, a matmul (fused again by
// kiln-fuse-linear), kiln.attention with an additive mask. ONNX Runtime
// adds mask_filter_value (default -10000) to the scores of masked keys
// rather than excluding them, and so does the mask built here.
//
//===----------------------------------------------------------------------===//

#include "Chain.h"

#include <cmath>
#include <limits>

using namespace ::kiln::import;

namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

/// [B, S, H * D] -> [B, H, S, D].
Value splitHeads(Chain &ch, Value x, int64_t heads) {
  return ch.transpose(ch.reshape(x, {0, 0, heads, -1}), {0, 2, 1, 3});
}

/// The additive mask (0 where a key is attended, `filter` where it is not)
/// of an ONNX Runtime key mask, broadcastable to [B, H, S, T]; `keys` is
/// the attention's key tensor [B, H, T, D] (T past + new keys).
///   [B]       keys j < mask[b] are attended (right padding);
///   [B, T]    keys with mask[b, j] > 0 are ([B, 1] and [1, 1]: no mask);
///   [B, S, T] per query row.
/// A null value without a failure means no mask.
Value keyMask(NodeContext &c, Chain &ch, Value mask, Value keys, Type elem,
              float filter) {
  auto mt = c.typeOf(mask);
  Value allowed;
  if (mt.getRank() == 1) {
    Value lengths = ch.unsqueeze(ch.cast(mask, c.b.getI64Type()), {1, 2, 3});
    Value cols = ch.arange(ch.extent(keys, 2));
    allowed = ch.op<k::LessOp>({cols, lengths}); // [B, 1, 1, T]
  } else if (mt.getRank() == 2 && mt.getDimSize(1) == 1) {
    return {}; // ONNX Runtime's placeholder mask
  } else if (mt.getRank() == 2 || mt.getRank() == 3) {
    Value zero = c.scalarLike(mt.getElementType(), 0.0);
    allowed = ch.op<k::GreaterOp>({mask, zero});
    allowed = ch.unsqueeze(allowed, mt.getRank() == 2 ? ArrayRef<int64_t>{1, 2}
                                                      : ArrayRef<int64_t>{1});
  } else {
    (void)c.fail("a mask of rank " + Twine(mt.getRank()) +
                 " is not supported (1-D key lengths, 2-D [batch, "
                 "total_sequence] or 3-D [batch, sequence, total_sequence])");
    ch.ok = false;
    return {};
  }
  return ch.op<k::WhereOp>(
      {allowed, c.scalarLike(elem, 0.0), c.scalarLike(elem, filter)});
}

/// The default scale 1 / sqrt(head size), or the attribute when non-zero.
FailureOr<double> scaleOf(NodeContext &c, Value q) {
  auto s = c.getFloat("scale", 0.0f);
  if (failed(s))
    return failure();
  if (*s != 0.0f)
    return (double)*s;
  int64_t d = c.typeOf(q).getShape().back();
  if (d == kDyn)
    return c.fail("the default scale needs a static head size");
  return 1.0 / std::sqrt((double)d);
}

/// kiln.attention of [B, H, S, D] operands (the key mask `keys` in one of
/// keyMask's layouts and `bias` [B|1, H|1, S, T] both added to the scores),
/// merged back to [B, S, H * Dv]; null after a reported failure.
Value maskedAttention(NodeContext &c, Chain &ch, Value q, Value k, Value v,
                      Value keys, Value bias, float filter, bool causal) {
  auto scale = scaleOf(c, q);
  if (failed(scale) || !ch.ok)
    return {};
  Value mask;
  if (keys)
    mask = keyMask(c, ch, keys, k, c.typeOf(q).getElementType(), filter);
  if (bias)
    mask = mask ? ch.op<k::AddOp>({mask, bias}) : bias;
  SmallVector<Value> operands{q, k, v};
  if (mask)
    operands.push_back(mask);
  Value y = ch.op<k::AttentionOp>(
      operands, {c.named("scale", c.b.getF32FloatAttr(*scale)),
                 c.named("causal", c.b.getBoolAttr(causal))});
  y = ch.reshape(ch.transpose(y, {0, 2, 1, 3}), {0, 0, -1});
  return ch.ok ? y : Value();
}

/// com.microsoft EmbedLayerNormalization: LayerNorm(word[input_ids] +
/// position[position_ids or 0..S-1] (+ segment[segment_ids or 0])); output 1 the
/// count of mask values equal to 1 per sequence (int32, zeros without a
/// mask), output 2 the sum before the norm.
LogicalResult convertEmbedLayerNorm(NodeContext &c) {
  auto eps = c.getFloat("epsilon", 1e-12f);
  if (failed(eps) || failed(c.requireInputs(1)))
    return failure();
  Value ids = c.input(0), segIds = c.input(1), word = c.input(2),
        pos = c.input(3), seg = c.input(4), gamma = c.input(5),
        beta = c.input(6), mask = c.input(7), posIds = c.input(8);
  if (!word || !pos || !gamma)
    return c.fail("word_embedding, position_embedding and gamma are required");
  if (segIds && !seg)
    return c.fail("segment_ids needs segment_embedding");
  if (c.typeOf(ids).getRank() != 2)
    return c.fail("input_ids must be 2-D [batch, sequence], got " +
                  k::typeStr(ids.getType()));
  Chain ch{c};
  Value sum = ch.op<k::GatherOp>({word, ids});
  Value positions;
  if (posIds)
    positions = ch.op<k::GatherOp>({pos, posIds});
  else
    positions = ch.op<k::GatherOp>({pos, ch.arange(ch.extent(ids, 1))});
  sum = ch.op<k::AddOp>({sum, positions});
  // Without segment_ids every token is segment 0.
  if (seg)
    sum = ch.op<k::AddOp>(
        {sum, ch.op<k::GatherOp>({seg, segIds ? segIds : c.i64Scalar(0)})});
  SmallVector<Value> norm{sum, gamma};
  if (beta)
    norm.push_back(beta);
  Value y = ch.op<k::LayerNormOp>(norm, {c.named("axis", c.b.getI64IntegerAttr(-1)),
                                         c.named("epsilon", c.b.getF32FloatAttr(*eps))});
  Value maskIndex;
  if (c.outputUsed(1)) {
    Type i32 = c.b.getI32Type();
    auto axis1 = c.named("axes", c.b.getDenseI64ArrayAttr({1}));
    auto flat = c.named("keepdims", c.b.getBoolAttr(false));
    if (mask) {
      Value one = c.scalarLike(c.typeOf(mask).getElementType(), 1.0);
      Value ones = ch.cast(ch.op<k::EqualOp>({mask, one}), i32);
      maskIndex = ch.op<k::ReduceSumOp>(ones, {axis1, flat});
    } else {
      Value shape = ch.op<k::ShapeOp>(ids, {c.named("end", c.b.getI64IntegerAttr(1))});
      maskIndex = ch.op<k::ExpandOp>({c.scalarLike(i32, 0.0), shape});
    }
  }
  return ch.finish({y, maskIndex, sum});
}

/// com.microsoft Attention: input [B, S, In] times weights [In, Hq + Hk +
/// Hv] (+ bias), split into Q, K, V (qkv_hidden_sizes, or thirds) of
/// num_heads heads; past [2, B, H, P, D] in front of K and V, returned as
/// present; unidirectional is causal (query i sees keys j <= P + i).
LogicalResult convertMsAttention(NodeContext &c) {
  auto heads = c.getInt("num_heads", 0), uni = c.getInt("unidirectional", 0),
       rotary = c.getInt("do_rotary", 0),
       share = c.getInt("past_present_share_buffer", 0);
  auto filter = c.getFloat("mask_filter_value", -10000.0f);
  auto sizes = c.getInts("qkv_hidden_sizes", {});
  if (failed(heads) || failed(uni) || failed(rotary) || failed(share) ||
      failed(filter) || failed(sizes) || failed(c.requireInputs(2)))
    return failure();
  if (*heads <= 0)
    return c.fail("num_heads must be positive");
  if (*rotary || *share)
    return c.fail("do_rotary and past_present_share_buffer are not supported");
  Value x = c.input(0), w = c.input(1);
  auto xt = c.typeOf(x), wt = c.typeOf(w);
  if (xt.getRank() != 3 || wt.getRank() != 2)
    return c.fail("input must be 3-D and weights 2-D, got " +
                  k::typeStr(x.getType()) + " and " + k::typeStr(w.getType()));
  int64_t total = wt.getDimSize(1);
  SmallVector<int64_t> hs(sizes->begin(), sizes->end());
  if (hs.empty()) {
    if (total == kDyn || total % 3)
      return c.fail("the weights' width must be static and a multiple of 3 "
                    "without qkv_hidden_sizes");
    hs.assign(3, total / 3);
  }
  if (hs.size() != 3 || llvm::any_of(hs, [&](int64_t h) { return h <= 0 || h % *heads; }) ||
      (total != kDyn && hs[0] + hs[1] + hs[2] != total))
    return c.fail("qkv_hidden_sizes must be three positive multiples of "
                  "num_heads summing to the weights' width");
  if (hs[0] != hs[1])
    return c.fail("Q and K hidden sizes must agree");
  Chain ch{c};
  Value qkv = ch.op<k::MatmulOp>({x, w});
  if (Value bias = c.input(2))
    qkv = ch.op<k::AddOp>({qkv, bias});
  if (!ch.ok)
    return failure();
  // One split (views of the projection's result, as kiln-merge-linears
  // makes), not three copying slices.
  auto qkvType = c.typeOf(qkv);
  SmallVector<Type> parts;
  for (int64_t h : hs) {
    SmallVector<int64_t> shape(qkvType.getShape());
    shape.back() = h;
    parts.push_back(qkvType.clone(shape));
  }
  auto split = c.createTyped<k::SplitOp>(
      {qkv}, {c.named("axis", c.b.getI64IntegerAttr(2)),
              c.named("sizes", c.b.getDenseI64ArrayAttr(hs))},
      parts);
  if (failed(split))
    return failure();
  Value q = splitHeads(ch, (*split)[0], *heads);
  Value key = splitHeads(ch, (*split)[1], *heads);
  Value v = splitHeads(ch, (*split)[2], *heads);
  if (Value past = c.input(4)) {
    if (c.typeOf(past).getRank() != 5)
      return c.fail("past must be 5-D [2, batch, heads, past_sequence, "
                    "head_size], got " + k::typeStr(past.getType()));
    if (hs[1] != hs[2])
      return c.fail("a past cache needs equal K and V hidden sizes");
    auto axis = c.named("axis", c.b.getI64IntegerAttr(2));
    key = ch.op<k::ConcatOp>({ch.op<k::GatherOp>({past, c.i64Scalar(0)}), key}, {axis});
    v = ch.op<k::ConcatOp>({ch.op<k::GatherOp>({past, c.i64Scalar(1)}), v}, {axis});
  }
  if (!ch.ok)
    return failure();
  Value y = maskedAttention(c, ch, q, key, v, c.input(3), c.input(5), *filter,
                            *uni != 0);
  if (!y)
    return failure();
  Value present;
  if (c.outputUsed(1)) {
    auto axis0 = c.named("axis", c.b.getI64IntegerAttr(0));
    present = ch.op<k::ConcatOp>({ch.unsqueeze(key, {0}), ch.unsqueeze(v, {0})},
                                 {axis0});
  }
  return ch.finish({y, present});
}

/// com.microsoft MultiHeadAttention with separate query [B, S, Hq], key
/// and value [B, L, Hk] (projected, split into num_heads heads) or
/// [B, H, L, D] (used as they are), an optional bias [Hq + Hk + Hv] added
/// to the 3-D ones (only its query part with 4-D key and value), key_padding_mask (as Attention's mask), attention_bias
/// and past_key/past_value [B, H, P, D] in front (returned as present).
LogicalResult convertMultiHeadAttention(NodeContext &c) {
  auto heads = c.getInt("num_heads", 0), uni = c.getInt("unidirectional", 0);
  auto filter = c.getFloat("mask_filter_value", -10000.0f);
  if (failed(heads) || failed(uni) || failed(filter) || failed(c.requireInputs(1)))
    return failure();
  if (*heads <= 0)
    return c.fail("num_heads must be positive");
  if (failed(rejectOutputs(c, {3}, "qk")))
    return failure();
  if (c.input(8) || c.input(9))
    return c.fail("past_sequence_length and cache_indirection are not supported");
  Value q = c.input(0), key = c.input(1), v = c.input(2);
  if (c.typeOf(q).getRank() != 3 || !key || !v)
    return c.fail("query must be 3-D and key and value given (packed QKV or "
                  "KV is not supported)");
  int64_t kr = c.typeOf(key).getRank();
  if ((kr != 3 && kr != 4) || c.typeOf(v).getRank() != kr)
    return c.fail("key and value must both be 3-D or both 4-D");
  if (!c.input(6) != !c.input(7))
    return c.fail("past_key and past_value must be given together");
  if (kr == 4 && c.input(6))
    return c.fail("a past cache needs 3-D key and value");
  Chain ch{c};
  if (Value bias = c.input(3)) {
    // With 4-D (projected) key and value only the query's part is added.
    int64_t hq = c.typeOf(q).getShape().back(),
            hk = c.typeOf(key).getShape().back(),
            hv = c.typeOf(v).getShape().back();
    if (hq == kDyn || (kr == 3 && (hk == kDyn || hv == kDyn)))
      return c.fail("a bias needs query, key and value of static widths");
    auto part = [&](int64_t from, int64_t to) {
      return ch.op<k::SliceOp>({bias, c.i64Vector({from}), c.i64Vector({to}),
                                c.i64Vector({0}), c.i64Vector({1})});
    };
    q = ch.op<k::AddOp>({q, part(0, hq)});
    if (kr == 3) {
      key = ch.op<k::AddOp>({key, part(hq, hq + hk)});
      v = ch.op<k::AddOp>({v, part(hq + hk, hq + hk + hv)});
    }
  }
  q = splitHeads(ch, q, *heads);
  if (kr == 3) {
    key = splitHeads(ch, key, *heads);
    v = splitHeads(ch, v, *heads);
  }
  if (Value pk = c.input(6)) {
    auto axis = c.named("axis", c.b.getI64IntegerAttr(2));
    key = ch.op<k::ConcatOp>({pk, key}, {axis});
    v = ch.op<k::ConcatOp>({c.input(7), v}, {axis});
  }
  if (!ch.ok)
    return failure();
  Value y = maskedAttention(c, ch, q, key, v, c.input(4), c.input(5), *filter,
                            *uni != 0);
  if (!y)
    return failure();
  return ch.finish({y, key, v});
}

/// The activation of ONNX Runtime's FusedGemm / FusedConv (`activation`,
/// its parameters from activation_alpha/beta or activation_params) applied
/// to the base op's single output.
LogicalResult withActivation(NodeContext &c, const Converter &base) {
  auto act = c.getString("activation", "");
  if (failed(act))
    return failure();
  SmallVector<float> params;
  if (c.hasAttr("activation_params")) {
    auto p = c.getFloats("activation_params");
    if (failed(p))
      return failure();
    params.assign(p->begin(), p->end());
  }
  for (StringRef name : {"activation_alpha", "activation_beta"})
    if (c.hasAttr(name)) {
      auto v = c.getFloat(name, 0.0f);
      if (failed(v))
        return failure();
      params.push_back(*v);
    }
  auto param = [&](size_t i, float dflt) {
    return i < params.size() ? params[i] : dflt;
  };
  if (failed(base(c)))
    return failure();
  if (act->empty())
    return success();
  Value x = c.outputs.pop_back_val();
  Chain ch{c};
  auto f32 = [&](float v) { return c.b.getF32FloatAttr(v); };
  Value y;
  if (*act == "Relu") {
    y = ch.op<k::ReluOp>(x);
  } else if (*act == "Tanh") {
    y = ch.op<k::TanhOp>(x);
  } else if (*act == "Sigmoid") {
    y = ch.op<k::SigmoidOp>(x);
  } else if (*act == "LeakyRelu") {
    y = ch.op<k::LeakyReluOp>(x, {c.named("alpha", f32(param(0, 0.01f)))});
  } else if (*act == "HardSigmoid") {
    y = ch.op<k::HardSigmoidOp>(x, {c.named("alpha", f32(param(0, 0.2f))),
                                    c.named("beta", f32(param(1, 0.5f)))});
  } else if (*act == "Clip") {
    Type e = c.typeOf(x).getElementType();
    y = ch.op<k::ClipOp>(
        {x, c.scalarLike(e, param(0, -std::numeric_limits<float>::max())),
         c.scalarLike(e, param(1, std::numeric_limits<float>::max()))},
        {c.named("operandSegmentSizes", c.b.getDenseI32ArrayAttr({1, 1, 1}))});
  } else {
    return c.fail("activation '" + *act + "' is not supported (Relu, Tanh, "
                  "Sigmoid, LeakyRelu, HardSigmoid, Clip)");
  }
  return ch.finish({y});
}

/// com.microsoft FusedMatMul: alpha * op(A) . op(B), op transposing the last
/// two dims when transA / transB (transBatchA/B are not supported).
LogicalResult convertFusedMatMul(NodeContext &c) {
  auto alpha = c.getFloat("alpha", 1.0f);
  auto ta = c.getInt("transA", 0), tb = c.getInt("transB", 0),
       tba = c.getInt("transBatchA", 0), tbb = c.getInt("transBatchB", 0);
  if (failed(alpha) || failed(ta) || failed(tb) || failed(tba) || failed(tbb) ||
      failed(c.requireInputs(2)))
    return failure();
  if (*tba || *tbb)
    return c.fail("transBatchA and transBatchB are not supported");
  Chain ch{c};
  auto lastTwo = [&](Value v) {
    int64_t r = c.typeOf(v).getRank();
    if (r < 2)
      return v;
    SmallVector<int64_t> perm;
    for (int64_t i = 0; i < r; ++i)
      perm.push_back(i < r - 2 ? i : (i == r - 2 ? r - 1 : r - 2));
    return ch.transpose(v, perm);
  };
  Value a = *ta ? lastTwo(c.input(0)) : c.input(0);
  Value b = *tb ? lastTwo(c.input(1)) : c.input(1);
  Value y = ch.op<k::MatmulOp>({a, b});
  if (*alpha != 1.0f)
    y = ch.op<k::MulOp>({y, c.scalarLike(c.typeOf(c.input(0)).getElementType(), *alpha)});
  return ch.finish({y});
}

} // namespace

void ::kiln::import::addOrtContribConverters(llvm::StringMap<Converter> &m) {
  // ONNX Runtime's CPU fusions as saved in optimized models: the ONNX op
  // (its converter, registered before these) and an activation.
  // (The ONNX ops' converters are looked up when a node is converted: the
  // registry is complete by then, whatever the order it was filled in.)
  m["com.microsoft:FusedGemm"] = [](NodeContext &c) {
    return withActivation(c, getConverters().lookup("Gemm"));
  };
  m["com.microsoft:FusedConv"] = [](NodeContext &c) -> LogicalResult {
    if (c.input(3)) // Z: a residual added before the activation
      return c.fail("the sum input Z is not supported");
    return withActivation(c, getConverters().lookup("Conv"));
  };
  m["com.microsoft:FusedMatMul"] = convertFusedMatMul;
  // ORT's optimized form of quantize_dynamic's matmuls: the int32 product
  // scaled to float (and, in DynamicQuantizeMatMul, the activation's
  // DynamicQuantizeLinear), written as the ONNX ops they fuse so that the
  // int8 GEMM takes them as it takes the unfused form.
  m["com.microsoft:MatMulIntegerToFloat"] = [](NodeContext &c) -> LogicalResult {
    if (failed(c.requireInputs(4)))
      return failure();
    auto y = scaledIntegerMatmul(c, c.input(0), c.input(1), c.input(4),
                                 c.input(5), c.input(2), c.input(3), c.input(6));
    if (failed(y))
      return failure();
    c.outputs.push_back(*y);
    return success();
  };
  m["com.microsoft:DynamicQuantizeMatMul"] = [](NodeContext &c) -> LogicalResult {
    if (failed(c.requireInputs(3)))
      return failure();
    SmallVector<Value> saved = c.inputs;
    c.inputs = {saved[0]};
    LogicalResult q = getConverters().lookup("DynamicQuantizeLinear")(c);
    c.inputs = saved;
    if (failed(q) || c.outputs.size() != 3)
      return failure();
    SmallVector<Value> qsz(c.outputs.begin(), c.outputs.end());
    c.outputs.clear();
    auto y = scaledIntegerMatmul(c, qsz[0], c.input(1), qsz[2], c.input(3),
                                 qsz[1], c.input(2), c.input(4));
    if (failed(y))
      return failure();
    c.outputs.push_back(*y);
    return success();
  };
  m["com.microsoft:EmbedLayerNormalization"] = convertEmbedLayerNorm;
  m["com.microsoft:Attention"] = convertMsAttention;
  m["com.microsoft:MultiHeadAttention"] = convertMultiHeadAttention;
  // x * sigmoid(alpha * x) (CLIP's activation).
  m["com.microsoft:QuickGelu"] = [](NodeContext &c) -> LogicalResult {
    auto alpha = c.getFloat("alpha", 1.702f);
    if (failed(alpha) || failed(c.requireInputs(1)))
      return failure();
    Chain ch{c};
    Value x = c.input(0);
    Value a = c.scalarLike(c.typeOf(x).getElementType(), *alpha);
    Value y = ch.op<k::MulOp>(
        {x, ch.op<k::SigmoidOp>(ValueRange{ch.op<k::MulOp>({x, a})})});
    return ch.finish({y});
  };
}
