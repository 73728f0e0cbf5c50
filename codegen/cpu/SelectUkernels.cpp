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
// (kiln_ukernel_linear_f32 in lib/Runtime/ukernels/gemm_f32.c), and
// 2-D group-1 kiln.conv in f32 with its bias and a residual block's add and
// ReLU on the register tile (lib/Runtime/ukernels/conv_f32.c), and ONNX
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
#include "passes/PatternUtils.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/StringSwitch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

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

int64_t convActivation(Operation *o, Type rt) {
  if (o->getNumResults() != 1 || o->getResult(0).getType() != rt)
    return 0;
  // HardSigmoid in PyTorch's form (alpha 1/6, beta 1/2), the
  // squeeze-excite gate of MobileNetV3: the kernels' act 6
  if (auto hs = dyn_cast<HardSigmoidOp>(o))
    return std::abs(hs.getAlpha().convertToDouble() - 1.0 / 6.0) < 1e-7 &&
                   hs.getBeta().convertToDouble() == 0.5
               ? 6
               : 0;
  // Clip to [0, 6] (ReLU6: MobileNetV2's, torch's Hardtanh(0, 6)) is act
  // 7, to [0, +inf) ReLU; other bounds stay a clip.
  if (auto clip = dyn_cast<ClipOp>(o)) {
    std::optional<double> lo = splatOf(clip.getMin()),
                          hi = clip.getMax() ? splatOf(clip.getMax())
                                             : std::optional<double>(INFINITY);
    if (!lo || !hi || *lo != 0.0)
      return 0;
    return *hi == 6.0 ? 7 : std::isinf(*hi) && *hi > 0 ? 1 : 0;
  }
  // GELU (MaxViT's MBConv blocks): erf form 2, tanh form 3
  if (auto g = dyn_cast<GeluOp>(o))
    return g.getTanhApprox() ? 3 : 2;
  return isa<ReluOp>(o)        ? 1
         : isa<SiluOp>(o)      ? 4
         : isa<HardSwishOp>(o) ? 5
                               : 0;
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

/// kiln.conv in f32, 2-D, with a static [F, C, KH, KW] filter and static
/// output height and width -> kiln.ukernel "conv2d_f32" for group 1 (the
/// input's patches packed straight into the GEMM's panels, the output
/// written NCHW) or "dwconv2d_f32" for depthwise (group = C = F; rows of
/// each plane vectorized); lib/Runtime/ukernels/conv_f32.c. The ops after
/// it are taken into the kernel's epilogue when each is its producer's only
/// use: act(conv), and for group 1 conv + r and act(conv + r) (a residual
/// block's tail), with r of the convolution's own type and act ReLU (1),
/// GELU (2, 3 in its tanh form: MaxViT's), SiLU (4: EfficientNet's, as
/// kiln-fuse-activations leaves it),
/// HardSwish (5), HardSigmoid with alpha 1/6 and beta 1/2 (6) or a clip to
/// [0, 6] (7: MobileNetV2's ReLU6; to [0, +inf) is ReLU). A group-1
/// convolution of x * s, s [N or 1, C, 1, 1] (a squeeze-excite gate, the
/// product's only use), takes s as an operand after the residual (flag 16):
/// the kernel scales its own copy of the input (or, 1 x 1, its filter per
/// image) instead of a pass writing x * s.
/// Other grouped convolutions take "conv2d_f32" with flag 128 (the runtime
/// runs each group on its channels' views, no packed filter).
/// int_params (isa, flags, activation, stride h/w, pad top/left, dilation
/// h/w); flags 1 = bias, 2 = residual, 16 = input scale, 128 = groups.
struct ConvToUkernel final : IsaPattern<ConvOp> {
  using IsaPattern::IsaPattern;

  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    auto xt = cast<RankedTensorType>(op.getInput().getType());
    auto wt = cast<RankedTensorType>(op.getWeight().getType());
    auto rt = op.getType();
    if (xt.getRank() != 4 || !xt.getElementType().isF32() ||
        !wt.getElementType().isF32() || !rt.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "not a 2-D f32 convolution");
    if (!wt.hasStaticShape() || rt.isDynamicDim(2) || rt.isDynamicDim(3))
      return rewriter.notifyMatchFailure(op, "filter or output extent is dynamic");
    int64_t group = static_cast<int64_t>(op.getGroup());
    // The input's channels may be dynamic (a channel shuffle's reshape):
    // the kernels check them against the filter's at run time.
    bool depthwise = group > 1 && group == wt.getDimSize(0) && wt.getDimSize(1) == 1 &&
                     (xt.isDynamicDim(1) || group == xt.getDimSize(1));
    // Other grouped convolutions (ResNeXt, RegNet) run "conv2d_f32" per
    // group (flag 128: the runtime narrows the views to each group's
    // channels) with static channels that divide into the groups.
    bool grouped = group > 1 && !depthwise;
    if (grouped && (xt.isDynamicDim(1) || wt.getDimSize(1) * group != xt.getDimSize(1) ||
                    wt.getDimSize(0) % group))
      return rewriter.notifyMatchFailure(op, "grouped convolution with channels "
                                             "that do not divide into its groups");
    if (op.getStrides().size() != 2 || op.getPads().size() != 4 ||
        op.getDilations().size() != 2)
      return rewriter.notifyMatchFailure(op, "not 2 spatial dims");
    Value bias = op.getBias();
    if (bias) {
      auto bt = cast<RankedTensorType>(bias.getType());
      if (bt.getRank() != 1 || bt.getDimSize(0) != wt.getDimSize(0))
        return rewriter.notifyMatchFailure(op, "bias is not a static [F]");
    }
    // The residual block's tail: relu(conv), conv + r, relu(conv + r).
    Operation *last = op, *addOp = nullptr;
    Value residual;
    int64_t act = 0;
    auto actOf = [&](Operation *o) -> int64_t { return convActivation(o, rt); };
    if (op->hasOneUse()) {
      Operation *user = *op->getUsers().begin();
      if (auto add = dyn_cast<AddOp>(user); add && !depthwise) {
        Value other = add.getLhs() == op.getResult() ? add.getRhs() : add.getLhs();
        if (add.getLhs() != add.getRhs() && other.getType() == rt &&
            add.getType() == rt) {
          residual = other;
          last = addOp = add;
        }
      } else if ((act = actOf(user))) {
        last = user;
      }
      if (residual && last->hasOneUse()) {
        Operation *next = *last->getUsers().begin();
        if ((act = actOf(next)))
          last = next;
      }
    }
    Value input = op.getInput(), scale;
    MulOp gate = depthwise || grouped ? MulOp() : input.getDefiningOp<MulOp>();
    if (gate && gate->hasOneUse() && !xt.isDynamicDim(1)) {
      for (int i = 0; i < 2 && !scale; ++i) {
        Value a = gate->getOperand(i), s = gate->getOperand(1 - i);
        auto st = dyn_cast<RankedTensorType>(s.getType());
        if (a != s && a.getType() == xt && st && st.getRank() == 4 &&
            st.getElementType().isF32() && st.getDimSize(1) == xt.getDimSize(1) &&
            st.getDimSize(2) == 1 && st.getDimSize(3) == 1 &&
            (st.getDimSize(0) == 1 || st.getDimSize(0) == xt.getDimSize(0))) {
          input = a;
          scale = s;
        }
      }
    }
    // Created before `last`: the residual may be computed after the
    // convolution (torch exports a block's downsample branch there).
    rewriter.setInsertionPoint(last);
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> dims{
        tensor::getMixedSize(rewriter, loc, input, 0),
        rewriter.getIndexAttr(wt.getDimSize(0)),
        rewriter.getIndexAttr(rt.getDimSize(2)),
        rewriter.getIndexAttr(rt.getDimSize(3))};
    SmallVector<Value> ins{input, op.getWeight()};
    if (bias)
      ins.push_back(bias);
    if (residual)
      ins.push_back(residual);
    if (scale)
      ins.push_back(scale);
    ArrayRef<int64_t> st = op.getStrides(), pd = op.getPads(),
                      dl = op.getDilations();
    int64_t flags = (bias ? 1 : 0) | (residual ? 2 : 0) | (scale ? 16 : 0) |
                    (grouped ? 128 : 0);
    Value y = createUkernel(rewriter, loc, depthwise ? "dwconv2d_f32" : "conv2d_f32",
                            ins, dims,
                            {isaFlag, flags, act, st[0], st[1], pd[0], pd[1],
                             dl[0], dl[1]},
                            {});
    replaceWithCast(rewriter, last, y);
    if (addOp && addOp != last)
      rewriter.eraseOp(addOp);
    if (last != op)
      rewriter.eraseOp(op);
    if (scale)
      rewriter.eraseOp(gate);
    return success();
  }
};

/// kiln.batch_norm in f32 on [N, C, H, W] with constant scale, bias, mean
/// and variance [C] (one that no convolution before it absorbed: DenseNet's
/// norm -> ReLU -> conv) -> kiln.ukernel "channel_affine_f32"
/// (lib/Runtime/ukernels/affine_f32.c): y = act(x * s + t), s = scale /
/// sqrt(var + eps) and t = bias - mean * s folded here, and the activation
/// after it (as a convolution takes it) when the norm is its only input.
/// int_params (isa, act).
struct BatchNormToUkernel final : IsaPattern<BatchNormOp> {
  using IsaPattern::IsaPattern;

  LogicalResult matchAndRewrite(BatchNormOp op,
                                PatternRewriter &rewriter) const override {
    auto xt = cast<RankedTensorType>(op.getInput().getType());
    auto rt = op.getType();
    if (xt.getRank() != 4 || !xt.getElementType().isF32() ||
        !rt.getElementType().isF32() || xt.isDynamicDim(1))
      return rewriter.notifyMatchFailure(op, "not f32 [N, C, H, W] with static C");
    int64_t c = xt.getDimSize(1);
    SmallVector<std::vector<double>, 4> params;
    for (Value v : {op.getScale(), op.getBias(), op.getMean(), op.getVariance()}) {
      // f32 [C] (or one value): inline or resource (the importer's form)
      auto k = v.getDefiningOp<ConstantOp>();
      auto kt = k ? dyn_cast<RankedTensorType>(k.getType()) : RankedTensorType();
      std::vector<char> storage;
      std::optional<ArrayRef<char>> bytes;
      if (kt && kt.getElementType().isF32() && kt.hasStaticShape() &&
          (kt.getNumElements() == c || kt.getNumElements() == 1))
        bytes = bytesOf(k, storage);
      if (!bytes)
        return rewriter.notifyMatchFailure(op, "a parameter is not a constant f32 [C]");
      const float *f = reinterpret_cast<const float *>(bytes->data());
      std::vector<double> p;
      for (int64_t i = 0; i < c; ++i)
        p.push_back(f[kt.getNumElements() == 1 ? 0 : i]);
      params.push_back(std::move(p));
    }
    double eps = op.getEpsilon().convertToDouble();
    std::vector<float> s(c), t(c);
    for (int64_t i = 0; i < c; ++i) {
      double k = params[0][i] / std::sqrt(params[3][i] + eps);
      s[i] = static_cast<float>(k);
      t[i] = static_cast<float>(params[1][i] - params[2][i] * k);
    }
    Operation *last = op;
    int64_t act = 0;
    if (op->hasOneUse())
      if ((act = convActivation(*op->getUsers().begin(), rt)))
        last = *op->getUsers().begin();
    rewriter.setInsertionPoint(last);
    Location loc = op.getLoc();
    auto vt = RankedTensorType::get({c}, rewriter.getF32Type());
    Value sv = ConstantOp::create(rewriter, loc,
                                  DenseElementsAttr::get(vt, ArrayRef<float>(s)));
    Value tv = ConstantOp::create(rewriter, loc,
                                  DenseElementsAttr::get(vt, ArrayRef<float>(t)));
    SmallVector<OpFoldResult> dims;
    for (int64_t i = 0; i < 4; ++i)
      dims.push_back(tensor::getMixedSize(rewriter, loc, op.getInput(), i));
    Value y = createUkernel(rewriter, loc, "channel_affine_f32",
                            {op.getInput(), sv, tv}, dims, {isaFlag, act}, {});
    replaceWithCast(rewriter, last, y);
    if (last != op)
      rewriter.eraseOp(op);
    return success();
  }
};

/// kiln.max_pool in f32, 2-D, with static output height and width and no
/// dilation -> kiln.ukernel "maxpool2d_f32" (lib/Runtime/ukernels/pool_f32.c:
/// row maxima along contiguous memory, padding clipped, no padded copy of
/// the input). int_params (isa, kernel h/w, stride h/w, pad top/left); the
/// bottom and right padding and ceil_mode are in the output's extents.
struct MaxPoolToUkernel final : IsaPattern<MaxPoolOp> {
  using IsaPattern::IsaPattern;

  LogicalResult matchAndRewrite(MaxPoolOp op,
                                PatternRewriter &rewriter) const override {
    auto xt = cast<RankedTensorType>(op.getInput().getType());
    auto rt = op.getType();
    if (xt.getRank() != 4 || !xt.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "not a 2-D f32 max pooling");
    if (rt.isDynamicDim(2) || rt.isDynamicDim(3))
      return rewriter.notifyMatchFailure(op, "output extent is dynamic");
    ArrayRef<int64_t> k = op.getKernelShape(), st = op.getStrides(),
                      pd = op.getPads(), dl = op.getDilations();
    if (k.size() != 2 || st.size() != 2 || pd.size() != 4 || dl.size() != 2)
      return rewriter.notifyMatchFailure(op, "not 2 spatial dims");
    if (dl[0] != 1 || dl[1] != 1)
      return rewriter.notifyMatchFailure(op, "dilated window");
    if (k[0] < 1 || k[1] < 1 || st[0] < 1 || st[1] < 1 || pd[0] < 0 || pd[1] < 0)
      return rewriter.notifyMatchFailure(op, "empty window or negative pad");
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> dims{
        tensor::getMixedSize(rewriter, loc, op.getInput(), 0),
        tensor::getMixedSize(rewriter, loc, op.getInput(), 1),
        rewriter.getIndexAttr(rt.getDimSize(2)),
        rewriter.getIndexAttr(rt.getDimSize(3))};
    Value y = createUkernel(rewriter, loc, "maxpool2d_f32", {op.getInput()}, dims,
                            {isaFlag, k[0], k[1], st[0], st[1], pd[0], pd[1]}, {});
    replaceWithCast(rewriter, op, y);
    return success();
  }
};

/// kiln.global_average_pool in f32 on [N, C, H, W] -> kiln.ukernel
/// "global_avgpool_f32" (lib/Runtime/ukernels/pool_f32.c: each plane summed
/// along contiguous memory; the linalg lowering's reduction vectorized
/// across planes with a gather per element). int_params (isa).
struct GlobalAvgPoolToUkernel final : IsaPattern<GlobalAveragePoolOp> {
  using IsaPattern::IsaPattern;

  LogicalResult matchAndRewrite(GlobalAveragePoolOp op,
                                PatternRewriter &rewriter) const override {
    auto xt = cast<RankedTensorType>(op.getInput().getType());
    if (xt.getRank() != 4 || !xt.getElementType().isF32() ||
        !op.getType().getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "not a 2-D f32 global average pool");
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> dims{
        tensor::getMixedSize(rewriter, loc, op.getInput(), 0),
        tensor::getMixedSize(rewriter, loc, op.getInput(), 1),
        rewriter.getIndexAttr(1), rewriter.getIndexAttr(1)};
    Value y = createUkernel(rewriter, loc, "global_avgpool_f32", {op.getInput()},
                            dims, {isaFlag}, {});
    replaceWithCast(rewriter, op, y);
    return success();
  }
};

/// The global average pool of a depthwise convolution's output (the
/// squeeze-excite block after each of MobileNetV3's): kiln.ukernel
/// "global_avgpool_f32" of a "dwconv2d_f32" result becomes that kernel's
/// second output (flag 32, init [N, C, 1, 1]), summed on its register tiles
/// instead of a pass reading the output back. The convolution keeps its
/// other uses.
struct DwConvMeanToUkernel final : OpRewritePattern<UkernelOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(UkernelOp gap,
                                PatternRewriter &rewriter) const override {
    if (gap.getKernel() != "global_avgpool_f32" || gap.getInputs().size() != 1 ||
        gap.getResults().size() != 1)
      return failure();
    auto dw = gap.getInputs()[0].getDefiningOp<UkernelOp>();
    if (!dw || dw.getKernel() != "dwconv2d_f32" || dw.getResults().size() != 1 ||
        dw.getIntParams().size() < 2 || (dw.getIntParams()[1] & 32))
      return rewriter.notifyMatchFailure(gap, "not of a depthwise kernel's output");
    auto yt = cast<RankedTensorType>(dw.getResult().getType());
    auto mt = cast<RankedTensorType>(gap.getResult().getType());
    if (yt.getRank() != 4 || yt.isDynamicDim(1))
      return rewriter.notifyMatchFailure(gap, "channels are dynamic");
    rewriter.setInsertionPoint(dw);
    Location loc = gap.getLoc();
    SmallVector<OpFoldResult> dims{
        tensor::getMixedSize(rewriter, loc, dw.getInputs()[0], 0),
        rewriter.getIndexAttr(yt.getDimSize(1)), rewriter.getIndexAttr(1),
        rewriter.getIndexAttr(1)};
    Value meanInit =
        tensor::EmptyOp::create(rewriter, loc, dims, rewriter.getF32Type());
    SmallVector<int64_t> params(dw.getIntParams());
    params[1] |= 32;
    auto fused = UkernelOp::create(
        rewriter, dw.getLoc(), TypeRange{yt, meanInit.getType()},
        dw.getKernelAttr(), dw.getInputs(), ValueRange{dw.getInit(), meanInit},
        rewriter.getDenseI64ArrayAttr(params), dw.getFloatParamsAttr());
    Value mean = fused.getResults()[1];
    if (mean.getType() != mt)
      mean = tensor::CastOp::create(rewriter, loc, mt, mean);
    rewriter.replaceOp(gap, mean);
    rewriter.replaceOp(dw, fused.getResults()[0]);
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
                 NormToUkernel<RmsNormOp>, LinearToUkernel, ConvToUkernel,
                 MaxPoolToUkernel, GlobalAvgPoolToUkernel, BatchNormToUkernel>(
        &getContext(), flag);
    patterns.add<DwConvMeanToUkernel>(&getContext());
    cpu::populateQuantUkernelPatterns(patterns, flag);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
