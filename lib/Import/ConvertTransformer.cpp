//===- ConvertTransformer.cpp - transformer ops named directly ------------===//
//
// The ops newer opsets and ONNX Runtime's exporters use for transformer
// blocks import straight into kiln's fused ops: opset-23 Attention and
// RMSNormalization, and the com.microsoft SkipLayerNormalization,
// SkipSimplifiedLayerNormalization, SimplifiedLayerNormalization, FastGelu,
// BiasGelu and Gelu. ONNX 1.12's schema registry knows none of them, so
// their attributes are read here without it.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

#include <cmath>
#include <limits>

using namespace ::kiln::import;
namespace k = mlir::kiln;

namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

/// Chains kiln ops, remembering the first failure (already reported).
struct Chain {
  NodeContext &c;
  bool ok = true;
  template <typename OpTy>
  Value op(ValueRange operands, ArrayRef<NamedAttribute> attrs = {}) {
    if (!ok || llvm::any_of(operands, [](Value v) { return !v; })) {
      ok = false;
      return {};
    }
    auto r = c.make<OpTy>(operands, attrs);
    if (failed(r)) {
      ok = false;
      return {};
    }
    return *r;
  }
  Value transpose(Value v, ArrayRef<int64_t> perm) {
    return op<k::TransposeOp>(v, {c.named("perm", c.b.getDenseI64ArrayAttr(perm))});
  }
  Value reshape(Value v, ArrayRef<int64_t> shape) {
    return op<k::ReshapeOp>({v, c.i64Vector(shape)});
  }
  LogicalResult finish(ArrayRef<Value> outs) {
    if (!ok)
      return failure();
    c.outputs.append(outs.begin(), outs.end());
    return success();
  }
};

/// The symbolic name of dim `d` of a graph input (its `kiln.dims` entry).
StringRef inputDimName(Value v, int64_t d) {
  auto arg = dyn_cast<BlockArgument>(v);
  auto fn = arg ? dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp())
                : FunctionOpInterface();
  auto names =
      fn ? fn.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), "kiln.dims")
         : ArrayAttr();
  if (!names || d >= (int64_t)names.size())
    return {};
  auto s = dyn_cast<StringAttr>(names[d]);
  return s ? s.getValue() : StringRef();
}

/// Extents known to be equal: both static and equal, or the same named
/// symbolic dim of graph inputs.
bool sameExtent(Value a, int64_t da, Value b, int64_t db) {
  int64_t x = cast<RankedTensorType>(a.getType()).getDimSize(da);
  int64_t y = cast<RankedTensorType>(b.getType()).getDimSize(db);
  if (x != kDyn || y != kDyn)
    return x == y;
  StringRef n = inputDimName(a, da);
  return !n.empty() && n == inputDimName(b, db);
}

LogicalResult rejectOutputs(NodeContext &c, ArrayRef<int> outs,
                            StringRef what) {
  for (int i : outs)
    if (c.outputUsed(i))
      return c.fail(what + Twine(" (output ") + Twine(i) +
                    ") is not supported");
  return success();
}

/// input + skip [+ bias], then `norm`; output 3 is the sum.
template <typename NormOp>
LogicalResult convertSkipNorm(NodeContext &c, bool hasBeta) {
  auto eps = c.getFloat("epsilon", 1e-12f);
  if (failed(c.requireInputs(3)) || failed(eps) ||
      failed(rejectOutputs(c, {1, 2}, "the mean and inverse-deviation output")))
    return failure();
  Chain ch{c};
  Value sum = ch.op<k::AddOp>({c.input(0), c.input(1)});
  if (Value bias = c.input(hasBeta ? 4 : 3))
    sum = ch.op<k::AddOp>({sum, bias});
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
    auto extent = [&](Value t) {
      Value shape = ch.op<k::ShapeOp>(t, {c.named("start", c.b.getI64IntegerAttr(2)),
                                          c.named("end", c.b.getI64IntegerAttr(3))});
      return ch.op<k::SqueezeOp>(shape, {c.named("axes", c.b.getDenseI64ArrayAttr({0}))});
    };
    Value zero = c.i64Scalar(0), one = c.i64Scalar(1);
    Value rows = ch.op<k::RangeOp>({zero, extent(q), one});
    rows = ch.op<k::UnsqueezeOp>(rows, {c.named("axes", c.b.getDenseI64ArrayAttr({1}))});
    if (Value pk = c.input(4))
      rows = ch.op<k::AddOp>({rows, extent(pk)});
    Value cols = ch.op<k::RangeOp>({zero, extent(key), one});
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

} // namespace

void ::kiln::import::addTransformerConverters(llvm::StringMap<Converter> &m) {
  m["Attention"] = convertAttention;
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
