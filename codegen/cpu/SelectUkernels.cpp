//===- SelectUkernels.cpp - the kiln-cpu-select-ukernels pass -------------===//
//
// Fused kiln ops that the CPU runtime has a hand-written kernel for become
// kiln.ukernel ops (destination-passing, bufferized like linalg ops) before
// the generic kiln -> linalg lowering; everything else keeps that lowering.
// Today: kiln.attention in f32 with rank-3 or rank-4 query/key/value and an
// optional additive f32 or boolean mask (lib/Runtime/ukernels/attention_f32.c),
// kiln.layer_norm / kiln.rms_norm in f32 over the last dim
// (lib/Runtime/ukernels/norm_f32.c), and kiln.linear in f32 with its bias,
// activation and residual applied on the GEMM's register tile
// (kiln_ukernel_linear_f32 in lib/Runtime/ukernels/linear_f32.c), the
// convolutions and standalone batch norms of CNNs
// (SelectConvUkernels.cpp), poolings and Resize (SelectPoolUkernels.cpp),
// and ONNX
// Runtime's dynamically quantized matmuls (DynamicQuantizeLinear +
// MatMulInteger as the importer spells them out) and statically quantized
// (QDQ) matmuls onto the int8 GEMM with the model's own weights and scales
// (SelectQuantUkernels.cpp, lib/Runtime/ukernels/gemm_s8.c).
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/SelectUkernels.h"
#include "codegen/Passes.h"
#include "codegen/KilnToLinalg/Common.h"
#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/StringSwitch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNCPUSELECTUKERNELS
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace mlir::kiln::cpu {

/// kiln.ukernel `kernel` on `ins` writing a fresh f32 tensor of extents
/// `dims`; returns its result.
Value createUkernel(PatternRewriter &rewriter, Location loc, StringRef kernel,
                    ValueRange ins, ArrayRef<OpFoldResult> dims,
                    ArrayRef<int64_t> intParams, ArrayRef<float> floatParams) {
  Value init =
      tensor::EmptyOp::create(rewriter, loc, dims, rewriter.getF32Type());
  return createUkernelInto(rewriter, loc, kernel, ins, init, intParams,
                           floatParams);
}

Value createUkernelInto(PatternRewriter &rewriter, Location loc,
                        StringRef kernel, ValueRange ins, Value init,
                        ArrayRef<int64_t> intParams, ArrayRef<float> floatParams) {
  return UkernelOp::create(rewriter, loc, TypeRange{init.getType()},
                           rewriter.getStringAttr(kernel), ins, ValueRange{init},
                           rewriter.getDenseI64ArrayAttr(intParams),
                           rewriter.getDenseF32ArrayAttr(floatParams))
      .getResult();
}

/// Replaces `op` by `v`, cast to the op's (possibly more static) type.
void replaceWithCast(PatternRewriter &rewriter, Operation *op, Value v) {
  Type t = op->getResult(0).getType();
  if (v.getType() != t)
    v = tensor::CastOp::create(rewriter, op->getLoc(), t, v);
  rewriter.replaceOp(op, v);
}

/// kiln.ukernel "linear_f32" on `x` viewed as [M, K] ([..., K] flattened)
/// with weight `w` ([K, N], [N, K] when `tw`), the operands `extra` right
/// after the weight, an optional bias and residual; returns y shaped
/// [..., N] like x.
Value linearUkernel(PatternRewriter &rewriter, Location loc, Value x, Value w,
                    bool tw, ValueRange extra, Value bias, Value residual,
                    ArrayRef<int64_t> intParams, ArrayRef<float> floatParams) {
  auto xt = cast<RankedTensorType>(x.getType());
  int64_t rank = xt.getRank();
  // [..., K] -> [M, K] with tensor.reshape (a view of a dense buffer):
  // expand-strided-metadata crashes on extract_strided_metadata of a
  // dynamic memref.collapse_shape in MLIR 22.
  int64_t mStatic = 1;
  Value mv = arith::ConstantIndexOp::create(rewriter, loc, 1);
  for (int64_t d = 0; d + 1 < rank; ++d) {
    mStatic = ShapedType::isDynamic(mStatic) || xt.isDynamicDim(d)
                  ? ShapedType::kDynamic
                  : mStatic * xt.getDimSize(d);
    mv = arith::MulIOp::create(rewriter, loc, mv,
                               tensor::DimOp::create(rewriter, loc, x, d));
  }
  OpFoldResult mDim = ShapedType::isDynamic(mStatic)
                          ? OpFoldResult(mv)
                          : OpFoldResult(rewriter.getIndexAttr(mStatic));
  auto flatten = [&](Value v) -> Value {
    if (rank == 2)
      return v;
    auto vt = cast<RankedTensorType>(v.getType());
    return lowering::reshapeTo(
        rewriter, loc, v,
        RankedTensorType::get({mStatic, vt.getShape().back()},
                              rewriter.getF32Type()),
        {mDim, tensor::getMixedSize(rewriter, loc, v, rank - 1)});
  };
  Value x2 = flatten(x);
  SmallVector<OpFoldResult> dims{
      mDim, tensor::getMixedSize(rewriter, loc, w, tw ? 0 : 1)};
  SmallVector<Value> ins{x2, w};
  ins.append(extra.begin(), extra.end());
  if (bias)
    ins.push_back(bias);
  if (residual)
    ins.push_back(flatten(residual));
  Value y = createUkernel(rewriter, loc, "linear_f32", ins, dims, intParams,
                         floatParams);
  if (rank > 2) {
    SmallVector<OpFoldResult> outShape;
    for (int64_t d = 0; d + 1 < rank; ++d)
      outShape.push_back(tensor::getMixedSize(rewriter, loc, x, d));
    outShape.push_back(dims[1]);
    SmallVector<int64_t> shape;
    for (OpFoldResult f : outShape) {
      auto c = getConstantIntValue(f);
      shape.push_back(c ? *c : ShapedType::kDynamic);
    }
    y = lowering::reshapeTo(rewriter, loc, y,
                            RankedTensorType::get(shape, rewriter.getF32Type()),
                            outShape);
  }
  return y;
}

/// The single float value of a splat constant.
std::optional<double> splatOf(Value v) {
  Attribute a;
  if (!v || !matchPattern(v, m_Constant(&a)))
    return std::nullopt;
  auto d = dyn_cast<DenseElementsAttr>(a);
  if (!d || !d.isSplat() || !isa<FloatType>(d.getElementType()))
    return std::nullopt;
  return d.getSplatValue<APFloat>().convertToDouble();
}

} // namespace mlir::kiln::cpu

using namespace mlir::kiln::cpu;

namespace {

// Must match the flags of lib/Runtime/ukernels/attention_f32.c.
enum : int64_t { kMask = 1, kMaskBool = 2, kCausal = 4, kFill = 8 };

/// f32 with rank 3 ([B*H, S, D], as torch's MultiheadAttention exports)
/// or 4 ([B, H, S, D]).
bool isF32Rank3or4(Value v, int64_t rank) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.getRank() == rank && (rank == 3 || rank == 4) &&
         t.getElementType().isF32();
}

struct AttentionToUkernel final : IsaPattern<AttentionOp> {
  /// maxHeadDim > 0: only static query and value head dims in
  /// [1, maxHeadDim] (the GPU kernel's registers and shared tiles).
  AttentionToUkernel(MLIRContext *ctx, int64_t isaFlag, int64_t maxHeadDim = 0)
      : IsaPattern(ctx, isaFlag), maxHeadDim(maxHeadDim) {}
  int64_t maxHeadDim;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Value q = op.getQuery(), k = op.getKey(), v = op.getValue(),
          mask = op.getMask();
    int64_t rank = cast<RankedTensorType>(q.getType()).getRank();
    // (the CPU kernel only: the GPU one has not run rank 5 on a GPU yet)
    if (rank > 4 && maxHeadDim == 0)
      return collapseBatch(op, rewriter);
    if (!isF32Rank3or4(q, rank) || !isF32Rank3or4(k, rank) ||
        !isF32Rank3or4(v, rank) || !isF32Rank3or4(op.getResult(), rank))
      return rewriter.notifyMatchFailure(op,
                                         "not f32 with rank-3 or rank-4 operands");
    auto headDimOk = [&](Value x) {
      int64_t d = cast<RankedTensorType>(x.getType()).getDimSize(rank - 1);
      return !ShapedType::isDynamic(d) && d >= 1 && d <= maxHeadDim;
    };
    if (maxHeadDim > 0 && (!headDimOk(q) || !headDimOk(v)))
      return rewriter.notifyMatchFailure(op, "head dims not static within the limit");
    int64_t flags = op.getCausal() ? int64_t(kCausal) : int64_t(0), maskRank = 0;
    if (mask) {
      auto mt = cast<RankedTensorType>(mask.getType());
      if (mt.getRank() > 4)
        return rewriter.notifyMatchFailure(op, "mask rank above 4");
      if (mt.getElementType().isInteger(1))
        flags |= kMaskBool;
      else if (!mt.getElementType().isF32())
        return rewriter.notifyMatchFailure(op, "mask is neither f32 nor i1");
      flags |= kMask;
      maskRank = mt.getRank();
    }
    float fill = 0.0f;
    if (auto f = op.getMaskFillAttr()) {
      flags |= kFill;
      fill = f.getValueAsDouble();
    }
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> dims;
    for (int64_t d = 0; d + 1 < rank; ++d)
      dims.push_back(tensor::getMixedSize(rewriter, loc, q, d));
    dims.push_back(tensor::getMixedSize(rewriter, loc, v, rank - 1));
    SmallVector<Value> ins{q, k, v};
    if (mask)
      ins.push_back(mask);
    replaceWithCast(rewriter, op,
                    createUkernel(rewriter, loc, "attention_f32", ins, dims,
                                  {isaFlag, flags, maskRank, rank},
                                  {op.getScale().convertToFloat(), fill}));
    return success();
  }
  /// Rank 5 and more (MaxViT's [B, G, H, S, D] windows): the batch dims
  /// before the heads collapsed into one, an attention of rank 4 (which
  /// this pattern then selects) and its result expanded back. Operands of
  /// equal static extents there, at most one of those dims dynamic (the
  /// kernel checks the collapsed extents at run time, which then decides
  /// them), and a mask that aligns with the last three dims or has a
  /// leading 1.
  LogicalResult collapseBatch(AttentionOp op, PatternRewriter &rewriter) const {
    Value q = op.getQuery(), k = op.getKey(), v = op.getValue(),
          mask = op.getMask();
    auto qt = cast<RankedTensorType>(q.getType());
    int64_t rank = qt.getRank(), lead = rank - 3;
    int64_t dynamicDims = 0;
    for (int64_t d = 0; d < lead; ++d)
      dynamicDims += qt.isDynamicDim(d);
    if (dynamicDims > 1)
      return rewriter.notifyMatchFailure(op, "more than one dynamic batch dim");
    for (Value x : {k, v, Value(op.getResult())}) {
      auto t = cast<RankedTensorType>(x.getType());
      if (t.getRank() != rank || !t.getElementType().isF32())
        return rewriter.notifyMatchFailure(op, "operands of other ranks or types");
      for (int64_t d = 0; d < lead; ++d)
        if (t.isDynamicDim(d) != qt.isDynamicDim(d) || t.getDimSize(d) != qt.getDimSize(d))
          return rewriter.notifyMatchFailure(op, "batch dims differ");
    }
    if (mask) {
      auto mt = cast<RankedTensorType>(mask.getType());
      if (mt.getRank() > 4 || (mt.getRank() == 4 && mt.getDimSize(0) != 1))
        return rewriter.notifyMatchFailure(op, "mask spans the collapsed batch dims");
    }
    SmallVector<ReassociationIndices> re{llvm::to_vector(llvm::seq<int64_t>(0, lead))};
    for (int64_t d = lead; d < rank; ++d)
      re.push_back({d});
    Location loc = op.getLoc();
    auto collapse = [&](Value x) -> Value {
      return tensor::CollapseShapeOp::create(rewriter, loc, x, re);
    };
    SmallVector<Value> operands{collapse(q), collapse(k), collapse(v)};
    if (mask)
      operands.push_back(mask);
    auto rt = cast<RankedTensorType>(op.getType());
    SmallVector<int64_t> shape4{1};
    for (int64_t d = 0; d < lead; ++d)
      shape4[0] = rt.isDynamicDim(d) || ShapedType::isDynamic(shape4[0])
                      ? ShapedType::kDynamic
                      : shape4[0] * rt.getDimSize(d);
    for (int64_t d = lead; d < rank; ++d)
      shape4.push_back(rt.getDimSize(d));
    auto at = AttentionOp::create(rewriter, loc,
                                  TypeRange{RankedTensorType::get(shape4, rt.getElementType())},
                                  operands, op->getAttrs());
    SmallVector<OpFoldResult> outShape;
    for (int64_t d = 0; d < rank; ++d)
      outShape.push_back(tensor::getMixedSize(rewriter, loc, d < rank - 1 ? q : v, d));
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, rt, at.getResult(), re, outShape);
    return success();
  }
};

/// kiln.layer_norm / kiln.rms_norm over the last dim of an f32 input of
/// rank <= 4 with a [N] scale (and [N] bias) -> kiln.ukernel "norm_f32".
template <typename NormOp>
struct NormToUkernel final : IsaPattern<NormOp> {
  using IsaPattern<NormOp>::IsaPattern;

  LogicalResult matchAndRewrite(NormOp op,
                                PatternRewriter &rewriter) const override {
    constexpr bool isRms = std::is_same_v<NormOp, RmsNormOp>;
    Value x = op.getInput(), scale = op.getScale(), bias;
    if constexpr (!isRms)
      bias = op.getBias();
    auto xt = cast<RankedTensorType>(x.getType());
    int64_t rank = xt.getRank();
    if (!xt.getElementType().isF32() || rank < 1 || rank > 4)
      return rewriter.notifyMatchFailure(op, "not f32 of rank 1 to 4");
    // getAxis() reads the I64Attr as unsigned: take the signed value.
    int64_t axis = op.getAxisAttr().getInt();
    if (axis < 0)
      axis += rank;
    if (axis != rank - 1)
      return rewriter.notifyMatchFailure(op, "does not normalize the last dim only");
    auto rank1 = [&](Value v) {
      auto t = cast<RankedTensorType>(v.getType());
      return t.getRank() == 1 && t.getElementType().isF32() &&
             (t.isDynamicDim(0) || xt.isDynamicDim(rank - 1) ||
              t.getDimSize(0) == xt.getDimSize(rank - 1));
    };
    if (!rank1(scale) || (bias && !rank1(bias)))
      return rewriter.notifyMatchFailure(op, "scale or bias is not a [N] vector");
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> dims;
    for (int64_t d = 0; d < rank; ++d)
      dims.push_back(tensor::getMixedSize(rewriter, loc, x, d));
    SmallVector<Value> ins{x, scale};
    if (bias)
      ins.push_back(bias);
    int64_t flags = (isRms ? 1 : 0) | (bias ? 2 : 0);
    replaceWithCast(rewriter, op,
                    createUkernel(rewriter, loc, "norm_f32", ins, dims,
                                  {this->isaFlag, flags, rank},
                                  {op.getEpsilon().convertToFloat()}));
    return success();
  }
};

/// kiln.linear in f32 with a 2-D weight -> kiln.ukernel "linear_f32" on the
/// input viewed as [M, K]: bias, activation and residual are applied on the
/// GEMM's register tile. int_params (isa, flags, activation); flags 1 =
/// transposed weight, 2 = bias, 4 = residual (8 = packed, set by
/// kiln-cpu-ukernels when it packs a constant weight).
struct LinearToUkernel final : IsaPattern<LinearOp> {
  using IsaPattern::IsaPattern;

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    Value x = op.getInput(), w = op.getWeight(), bias = op.getBias(),
          residual = op.getResidual();
    auto xt = cast<RankedTensorType>(x.getType());
    auto wt = cast<RankedTensorType>(w.getType());
    auto rt = op.getType();
    int64_t rank = xt.getRank();
    if (!xt.getElementType().isF32() || !wt.getElementType().isF32() ||
        rank < 2 || wt.getRank() != 2)
      return rewriter.notifyMatchFailure(op, "not f32 [..., K] x [K, N]");
    bool tw = op.getTransposeWeight();
    int64_t n = wt.getDimSize(tw ? 0 : 1);
    if (bias) {
      auto bt = cast<RankedTensorType>(bias.getType());
      if (bt.getRank() != 1 || ShapedType::isDynamic(n) ||
          bt.getDimSize(0) != n)
        return rewriter.notifyMatchFailure(op, "bias is not a static [N]");
    }
    if (residual && residual.getType() != rt)
      return rewriter.notifyMatchFailure(op, "residual type differs from the result");
    int64_t act = llvm::StringSwitch<int64_t>(op.getActivation())
                      .Case("none", 0)
                      .Case("relu", 1)
                      .Case("gelu", 2)
                      .Case("gelu_tanh", 3)
                      .Case("silu", 4)
                      .Default(-1);
    if (act < 0)
      return rewriter.notifyMatchFailure(op, "unknown activation");
    int64_t flags = (tw ? 1 : 0) | (bias ? 2 : 0) | (residual ? 4 : 0);
    Value y = linearUkernel(rewriter, op.getLoc(), x, w, tw, {}, bias, residual,
                            {isaFlag, flags, act});
    replaceWithCast(rewriter, op, y);
    return success();
  }
};

} // namespace

void mlir::kiln::cpu::populateAttentionUkernelPattern(RewritePatternSet &patterns,
                                                     int64_t isaFlag,
                                                     int64_t maxHeadDim) {
  patterns.add<AttentionToUkernel>(patterns.getContext(), isaFlag, maxHeadDim);
}

namespace {

struct KilnCpuSelectUkernels final
    : mlir::kiln::impl::KilnCpuSelectUkernelsBase<KilnCpuSelectUkernels> {
  using Base::Base;
  void runOnOperation() override {
    int64_t flag = isaName == "avx512" ? 2 : isaName == "avx2" ? 1 : 0;
    if (isaName != "avx512" && isaName != "avx2" && isaName != "generic") {
      getOperation()->emitError("kiln-cpu-select-ukernels: unknown isa '")
          << isaName << "' (expected avx512, avx2 or generic)";
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    patterns.add<AttentionToUkernel, NormToUkernel<LayerNormOp>,
                 NormToUkernel<RmsNormOp>, LinearToUkernel>(&getContext(), flag);
    cpu::populateConvUkernelPatterns(patterns, flag);
    cpu::populatePoolUkernelPatterns(patterns, flag);
    cpu::populateQuantUkernelPatterns(patterns, flag);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // Then, with the int8 rewrites done (they match these casts), the
    // remaining QuantizeLinear -> DequantizeLinear pairs stay in float:
    // the integer round trip kept LLVM from vectorizing their loops (a QDQ
    // ResNet-50: 13 ms of scalar Q/DQ loops per run).
    SmallVector<std::pair<CastOp, Value>> pairs;
    getOperation()->walk([&](CastOp op) {
      if (Value v = integerRoundTripSource(op))
        pairs.push_back({op, v});
    });
    for (auto [op, v] : pairs) {
      auto inner = op.getInput().getDefiningOp<CastOp>();
      op.getResult().replaceAllUsesWith(v);
      op.erase();
      if (inner->use_empty())
        inner.erase();
    }
    // Int8 convolutions in a row pass their tensor quantized.
    if (flag == 2)
      cpu::chainInt8Convs(getOperation());
  }
};

} // namespace
