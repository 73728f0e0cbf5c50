//===- FuseActivations.cpp - the kiln-fuse-activations pass ---------------===//
//
// GELU from its decomposed erf and tanh forms into kiln.gelu.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/PatternReport.h"
#include "passes/PatternUtils.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNFUSEACTIVATIONS
#include "passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// sqrt(2/pi) * (x + 0.044715 * x^3), as the tanh GELU writes it: returns x.
Value matchTanhArgument(Value v) {
  auto scale = v.getDefiningOp<MulOp>();
  if (!scale || !scale->hasOneUse())
    return {};
  for (Value c : {scale.getLhs(), scale.getRhs()}) {
    if (!isScalar(c, std::sqrt(2.0 / M_PI)))
      continue;
    auto sum = otherOperand(scale, c).getDefiningOp<AddOp>();
    if (!sum || !sum->hasOneUse())
      continue;
    for (Value cubicV : {sum.getLhs(), sum.getRhs()}) {
      auto cubic = cubicV.getDefiningOp<MulOp>();
      if (!cubic || !cubic->hasOneUse())
        continue;
      Value x = otherOperand(sum, cubicV);
      for (Value k : {cubic.getLhs(), cubic.getRhs()}) {
        auto pow = otherOperand(cubic, k).getDefiningOp<PowOp>();
        if (isScalar(k, 0.044715) && pow && pow->hasOneUse() &&
            pow.getLhs() == x && isScalar(pow.getRhs(), 3.0))
          return x;
      }
    }
  }
  return {};
}

/// 1 + erf(x / sqrt(2)) (or erf(x * 0.70710678)), or 1 + tanh(...) of the
/// tanh approximation: returns x, and whether it is the tanh form.
Value matchOnePlusErf(Value v, bool &isTanh) {
  auto add = v.getDefiningOp<AddOp>();
  if (!add || !add->hasOneUse())
    return {};
  for (Value e : {add.getLhs(), add.getRhs()}) {
    if (!isScalar(otherOperand(add, e), 1.0))
      continue;
    if (auto tanh = e.getDefiningOp<TanhOp>()) {
      Value x = tanh->hasOneUse() ? matchTanhArgument(tanh.getInput()) : Value();
      if (x) {
        isTanh = true;
        return x;
      }
      continue;
    }
    isTanh = false;
    auto erf = e.getDefiningOp<ErfOp>();
    if (!erf || !erf->hasOneUse())
      continue;
    Operation *scaleOp = erf.getInput().getDefiningOp();
    if (auto div = dyn_cast_or_null<DivOp>(scaleOp)) {
      if (div->hasOneUse() && isScalar(div.getRhs(), M_SQRT2))
        return div.getLhs();
    } else if (auto mul = dyn_cast_or_null<MulOp>(scaleOp)) {
      if (!mul->hasOneUse())
        continue;
      for (Value c : {mul.getLhs(), mul.getRhs()})
        if (isScalar(c, M_SQRT1_2))
          return otherOperand(mul, c);
    }
  }
  return {};
}

/// (x * (1 + erf(x/√2))) * 0.5, or (x * 0.5) * (1 + erf(x/√2)), any
/// operand order.
struct FuseGelu final : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp root,
                                PatternRewriter &rewriter) const override {
    for (Value a : {root.getLhs(), root.getRhs()}) {
      Value b = otherOperand(root, a);
      auto inner = a.getDefiningOp<MulOp>();
      if (!inner || !inner->hasOneUse())
        continue;
      bool isTanh = false;
      // (x * (1 + erf)) * 0.5
      if (isScalar(b, 0.5)) {
        for (Value t : {inner.getLhs(), inner.getRhs()}) {
          Value x = matchOnePlusErf(t, isTanh);
          if (x && otherOperand(inner, t) == x)
            return replace(root, x, isTanh, rewriter);
        }
      }
      // (x * 0.5) * (1 + erf)
      Value x = matchOnePlusErf(b, isTanh);
      if (x) {
        for (Value c : {inner.getLhs(), inner.getRhs()})
          if (isScalar(c, 0.5) && otherOperand(inner, c) == x)
            return replace(root, x, isTanh, rewriter);
      }
    }
    return rewriter.notifyMatchFailure(root, "not 0.5 * x * (1 + erf(x/sqrt2))");
  }

  static LogicalResult replace(MulOp root, Value x, bool isTanh,
                               PatternRewriter &rewriter) {
    if (x.getType() != root.getType())
      return rewriter.notifyMatchFailure(root, "gelu would change the type");
    rewriter.replaceOpWithNewOp<GeluOp>(root, x, rewriter.getBoolAttr(isTanh));
    return success();
  }
};

/// x * sigmoid(x) -> kiln.silu
struct FuseSilu final : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp mul,
                                PatternRewriter &rewriter) const override {
    for (Value s : {mul.getLhs(), mul.getRhs()}) {
      auto sig = s.getDefiningOp<SigmoidOp>();
      Value x = otherOperand(mul, s);
      if (sig && sig->hasOneUse() && sig.getInput() == x &&
          x.getType() == mul.getType()) {
        rewriter.replaceOpWithNewOp<SiluOp>(mul, x);
        return success();
      }
    }
    return rewriter.notifyMatchFailure(mul, "not x * sigmoid(x)");
  }
};

/// silu(gate) * up -> kiln.swiglu (after FuseSilu made the silu)
struct FuseSwiGlu final : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp mul,
                                PatternRewriter &rewriter) const override {
    for (Value s : {mul.getLhs(), mul.getRhs()}) {
      auto silu = s.getDefiningOp<SiluOp>();
      Value up = otherOperand(mul, s);
      if (!silu || !silu->hasOneUse() || up == s ||
          silu.getType() != mul.getType() || up.getType() != mul.getType())
        continue;
      rewriter.replaceOpWithNewOp<SwiGluOp>(mul, silu.getInput(), up);
      return success();
    }
    return rewriter.notifyMatchFailure(mul, "not silu(gate) * up");
  }
};

/// x * hard_sigmoid(x) with alpha 1/6 and beta 1/2 -> kiln.hard_swish
struct FuseHardSwish final : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp mul,
                                PatternRewriter &rewriter) const override {
    for (Value s : {mul.getLhs(), mul.getRhs()}) {
      auto hs = s.getDefiningOp<HardSigmoidOp>();
      Value x = otherOperand(mul, s);
      if (!hs || !hs->hasOneUse() || hs.getInput() != x ||
          x.getType() != mul.getType())
        continue;
      double alpha = hs.getAlpha().convertToDouble();
      double beta = hs.getBeta().convertToDouble();
      if (std::abs(alpha - 1.0 / 6) > 1e-4 || std::abs(beta - 0.5) > 1e-4)
        return rewriter.notifyMatchFailure(mul, "hard_sigmoid is not x/6 + 1/2");
      rewriter.replaceOpWithNewOp<HardSwishOp>(mul, x);
      return success();
    }
    return rewriter.notifyMatchFailure(mul, "not x * hard_sigmoid(x)");
  }
};

struct KilnFuseActivations final
    : mlir::kiln::impl::KilnFuseActivationsBase<KilnFuseActivations> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseGelu, FuseSilu, FuseHardSwish>(&getContext());
    patterns.add<FuseSwiGlu>(&getContext(), /*benefit=*/0);
    if (failed(applyAndRecord(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
