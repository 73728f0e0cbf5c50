//===- FuseNorms.cpp - the kiln-fuse-norms pass ---------------------------===//
//
// LayerNorm and RMSNorm from their decomposed export forms into
// kiln.layer_norm / kiln.rms_norm.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/PatternReport.h"
#include "passes/PatternUtils.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNFUSENORMS
#include "passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The number of trailing dims `mean` reduces (keepdims), or 0 if it does
/// not reduce a trailing block.
int64_t trailingAxes(ReduceMeanOp mean) {
  if (!mean || !mean.getKeepdims())
    return 0;
  int64_t rank = cast<RankedTensorType>(mean.getInput().getType()).getRank();
  ArrayRef<int64_t> axes = mean.getAxes();
  for (auto [i, a] : llvm::enumerate(axes))
    if (a != rank - (int64_t)axes.size() + (int64_t)i)
      return 0;
  return axes.size();
}

/// `sq` is x*x or Pow(x, 2): returns x.
Value squaredOperand(Operation *sq) {
  if (auto pow = dyn_cast_or_null<PowOp>(sq))
    return isScalar(pow.getRhs(), 2.0) ? pow.getLhs() : Value();
  if (auto mul = dyn_cast_or_null<MulOp>(sq))
    return mul.getLhs() == mul.getRhs() ? mul.getLhs() : Value();
  return {};
}

/// sqrt(mean(sq(x)) + eps): returns x, the reduced-dim count and eps.
struct RootMeanSquare {
  Value x;
  int64_t k = 0;
  double eps = 0;
  SmallVector<Operation *> ops; // the chain, to check single use
};

std::optional<RootMeanSquare> matchRootMeanSquare(Value v) {
  auto sqrt = v.getDefiningOp<SqrtOp>();
  if (!sqrt)
    return std::nullopt;
  auto add = sqrt.getInput().getDefiningOp<AddOp>();
  if (!add)
    return std::nullopt;
  for (Value meanV : {add.getLhs(), add.getRhs()}) {
    auto mean = meanV.getDefiningOp<ReduceMeanOp>();
    auto eps = scalarValue(otherOperand(add, meanV));
    if (!mean || !eps)
      continue;
    Operation *sq = mean.getInput().getDefiningOp();
    Value x = squaredOperand(sq);
    int64_t k = trailingAxes(mean);
    if (!x || k == 0)
      continue;
    return RootMeanSquare{x, k, *eps, {sqrt, add, mean, sq}};
  }
  return std::nullopt;
}

bool singleUses(ArrayRef<Operation *> ops) {
  return llvm::all_of(ops, [](Operation *op) { return op->hasOneUse(); });
}

/// `param` broadcasts to the last `k` dims of `x` without adding dims.
bool fitsNormalized(Value param, Value x, int64_t k) {
  auto p = dyn_cast<RankedTensorType>(param.getType());
  auto t = cast<RankedTensorType>(x.getType());
  if (!p || p.getElementType() != t.getElementType() || p.getRank() > k)
    return false;
  for (int64_t i = 0; i < p.getRank(); ++i) {
    int64_t pd = p.getDimSize(p.getRank() - 1 - i);
    int64_t xd = t.getDimSize(t.getRank() - 1 - i);
    if (pd != 1 && pd != xd)
      return false;
  }
  return true;
}

/// After the normalization `norm`, absorbs `* scale` and (if `withBias`)
/// `+ bias`. Returns the last op of the chain.
Operation *absorbAffine(Operation *norm, Value x, int64_t k, Value &scale,
                        Value &bias, bool withBias) {
  Operation *last = norm;
  if (!norm->hasOneUse())
    return last;
  auto mul = dyn_cast<MulOp>(*norm->getUsers().begin());
  if (!mul)
    return last;
  Value s = otherOperand(mul, norm->getResult(0));
  if (!s || !fitsNormalized(s, x, k) || s.getDefiningOp() == norm)
    return last;
  scale = s;
  last = mul;
  if (!withBias || !mul->hasOneUse())
    return last;
  auto add = dyn_cast<AddOp>(*mul->getUsers().begin());
  if (!add)
    return last;
  Value b = otherOperand(add, mul.getResult());
  if (!b || !fitsNormalized(b, x, k))
    return last;
  bias = b;
  return add;
}

/// Normalized dims of `x`: a [k] (or trailing-shape) tensor type for ones.
RankedTensorType normalizedType(Value x, int64_t k) {
  auto t = cast<RankedTensorType>(x.getType());
  return RankedTensorType::get(t.getShape().take_back(k), t.getElementType());
}

/// (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) [* gamma [+ beta]]
struct FuseLayerNorm final : OpRewritePattern<DivOp> {
  FuseLayerNorm(MLIRContext *ctx) : OpRewritePattern(ctx, /*benefit=*/2) {}
  LogicalResult matchAndRewrite(DivOp div,
                                PatternRewriter &rewriter) const override {
    auto sub = div.getLhs().getDefiningOp<SubOp>();
    if (!sub)
      return rewriter.notifyMatchFailure(div, "numerator is not x - mean");
    auto mean = sub.getRhs().getDefiningOp<ReduceMeanOp>();
    Value x = sub.getLhs();
    if (!mean || mean.getInput() != x)
      return rewriter.notifyMatchFailure(div, "x - mean(x) not found");
    int64_t k = trailingAxes(mean);
    if (k == 0)
      return rewriter.notifyMatchFailure(div, "mean is not over trailing dims");
    auto rms = matchRootMeanSquare(div.getRhs());
    if (!rms || rms->x != sub.getResult() || rms->k != k)
      return rewriter.notifyMatchFailure(
          div, "denominator is not sqrt(mean((x - mean)^2) + eps)");
    // The centered value feeds only the square and this division.
    for (Operation *user : sub->getUsers())
      if (user != div && user != rms->ops.back())
        return rewriter.notifyMatchFailure(div, "x - mean has other uses");
    if (!singleUses(rms->ops) || !mean->hasOneUse())
      return rewriter.notifyMatchFailure(div, "an intermediate has other uses");
    if (!isa<FloatType>(cast<RankedTensorType>(x.getType()).getElementType()))
      return rewriter.notifyMatchFailure(div, "not a float tensor");
    Value scale, bias;
    Operation *last = absorbAffine(div, x, k, scale, bias, /*withBias=*/true);
    rewriter.setInsertionPoint(last);
    if (!scale)
      scale = onesLike(rewriter, div.getLoc(), normalizedType(x, k));
    if (!scale)
      return rewriter.notifyMatchFailure(div, "no gamma and dynamic dims");
    int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
    auto ln = LayerNormOp::create(rewriter, last->getLoc(), x, scale, bias,
                                  rewriter.getI64IntegerAttr(rank - k),
                                  rewriter.getF32FloatAttr(rms->eps));
    rewriter.replaceOp(last, ln.getResult());
    return success();
  }
};

/// x * (1 / sqrt(mean(x^2) + eps)) or x / sqrt(mean(x^2) + eps) [* w]
struct FuseRmsNorm final : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp mul,
                                PatternRewriter &rewriter) const override {
    for (Value rV : {mul.getLhs(), mul.getRhs()}) {
      auto recip = rV.getDefiningOp<DivOp>();
      if (!recip || !isScalar(recip.getLhs(), 1.0) || !recip->hasOneUse())
        continue;
      Value x = otherOperand(mul, rV);
      auto rms = matchRootMeanSquare(recip.getRhs());
      if (!rms || rms->x != x || !singleUses(rms->ops))
        continue;
      return fuse(mul, x, *rms, rewriter);
    }
    return rewriter.notifyMatchFailure(mul, "not x * rsqrt(mean(x^2) + eps)");
  }

  static LogicalResult fuse(Operation *norm, Value x, const RootMeanSquare &rms,
                            PatternRewriter &rewriter) {
    if (!isa<FloatType>(cast<RankedTensorType>(x.getType()).getElementType()))
      return rewriter.notifyMatchFailure(norm, "not a float tensor");
    Value scale, bias;
    Operation *last = absorbAffine(norm, x, rms.k, scale, bias, false);
    rewriter.setInsertionPoint(last);
    if (!scale)
      scale = onesLike(rewriter, norm->getLoc(), normalizedType(x, rms.k));
    if (!scale)
      return rewriter.notifyMatchFailure(norm, "no weight and dynamic dims");
    int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
    auto op = RmsNormOp::create(rewriter, last->getLoc(), x, scale,
                                rewriter.getI64IntegerAttr(rank - rms.k),
                                rewriter.getF32FloatAttr(rms.eps));
    rewriter.replaceOp(last, op.getResult());
    return success();
  }
};

struct FuseRmsNormDiv final : OpRewritePattern<DivOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DivOp div,
                                PatternRewriter &rewriter) const override {
    auto rms = matchRootMeanSquare(div.getRhs());
    if (!rms || rms->x != div.getLhs() || !singleUses(rms->ops))
      return rewriter.notifyMatchFailure(div, "not x / sqrt(mean(x^2) + eps)");
    return FuseRmsNorm::fuse(div, div.getLhs(), *rms, rewriter);
  }
};

struct KilnFuseNorms final
    : mlir::kiln::impl::KilnFuseNormsBase<KilnFuseNorms> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseLayerNorm, FuseRmsNorm, FuseRmsNormDiv>(&getContext());
    if (failed(applyAndRecord(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
