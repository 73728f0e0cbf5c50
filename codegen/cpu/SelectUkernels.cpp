//===- SelectUkernels.cpp - the kiln-cpu-select-ukernels pass -------------===//
//
// Fused kiln ops that the CPU runtime has a hand-written kernel for become
// kiln.ukernel ops (destination-passing, bufferized like linalg ops) before
// the generic kiln -> linalg lowering; everything else keeps that lowering.
// Today: kiln.attention in f32 with rank-3 or rank-4 query/key/value and an
// optional additive f32 or boolean mask (lib/Runtime/ukernels/attention_f32.c),
// and kiln.layer_norm / kiln.rms_norm in f32 over the last dim
// (lib/Runtime/ukernels/norm_f32.c).
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "dialects/kiln/KilnDialect.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNCPUSELECTUKERNELS
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

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

struct AttentionToUkernel final : OpRewritePattern<AttentionOp> {
  AttentionToUkernel(MLIRContext *ctx, int64_t isaFlag)
      : OpRewritePattern(ctx), isaFlag(isaFlag) {}
  int64_t isaFlag;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Value q = op.getQuery(), k = op.getKey(), v = op.getValue(),
          mask = op.getMask();
    int64_t rank = cast<RankedTensorType>(q.getType()).getRank();
    if (!isF32Rank3or4(q, rank) || !isF32Rank3or4(k, rank) ||
        !isF32Rank3or4(v, rank) || !isF32Rank3or4(op.getResult(), rank))
      return rewriter.notifyMatchFailure(op,
                                         "not f32 with rank-3 or rank-4 operands");
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
    Value init = tensor::EmptyOp::create(rewriter, loc, dims,
                                         rewriter.getF32Type());
    SmallVector<Value> ins{q, k, v};
    if (mask)
      ins.push_back(mask);
    auto u = UkernelOp::create(
        rewriter, loc, init.getType(), rewriter.getStringAttr("attention_f32"),
        ins, init, rewriter.getDenseI64ArrayAttr({isaFlag, flags, maskRank, rank}),
        rewriter.getDenseF32ArrayAttr({op.getScale().convertToFloat(), fill}));
    Value result = u.getResult();
    if (result.getType() != op.getType())
      result = tensor::CastOp::create(rewriter, loc, op.getType(), result);
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// kiln.layer_norm / kiln.rms_norm over the last dim of an f32 input of
/// rank <= 4 with a [N] scale (and [N] bias) -> kiln.ukernel "norm_f32".
template <typename NormOp>
struct NormToUkernel final : OpRewritePattern<NormOp> {
  NormToUkernel(MLIRContext *ctx, int64_t isaFlag)
      : OpRewritePattern<NormOp>(ctx), isaFlag(isaFlag) {}
  int64_t isaFlag;

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
    Value init = tensor::EmptyOp::create(rewriter, loc, dims,
                                         rewriter.getF32Type());
    SmallVector<Value> ins{x, scale};
    if (bias)
      ins.push_back(bias);
    int64_t flags = (isRms ? 1 : 0) | (bias ? 2 : 0);
    auto u = UkernelOp::create(
        rewriter, loc, init.getType(), rewriter.getStringAttr("norm_f32"), ins,
        init, rewriter.getDenseI64ArrayAttr({isaFlag, flags, rank}),
        rewriter.getDenseF32ArrayAttr({op.getEpsilon().convertToFloat()}));
    Value result = u.getResult();
    if (result.getType() != op.getType())
      result = tensor::CastOp::create(rewriter, loc, op.getType(), result);
    rewriter.replaceOp(op, result);
    return success();
  }
};

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
                 NormToUkernel<RmsNormOp>>(&getContext(), flag);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
