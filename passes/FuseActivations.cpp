//===- FuseActivations.cpp - the kiln-fuse-activations pass ---------------===//
//
// GELU from its decomposed erf form into kiln.gelu.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
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

/// 1 + erf(x / sqrt(2)) (or erf(x * 0.70710678)): returns x.
Value matchOnePlusErf(Value v) {
  auto add = v.getDefiningOp<AddOp>();
  if (!add || !add->hasOneUse())
    return {};
  for (Value e : {add.getLhs(), add.getRhs()}) {
    auto erf = e.getDefiningOp<ErfOp>();
    if (!erf || !erf->hasOneUse() || !isScalar(otherOperand(add, e), 1.0))
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
      // (x * (1 + erf)) * 0.5
      if (isScalar(b, 0.5)) {
        for (Value t : {inner.getLhs(), inner.getRhs()}) {
          Value x = matchOnePlusErf(t);
          if (x && otherOperand(inner, t) == x)
            return replace(root, x, rewriter);
        }
      }
      // (x * 0.5) * (1 + erf)
      Value x = matchOnePlusErf(b);
      if (x) {
        for (Value c : {inner.getLhs(), inner.getRhs()})
          if (isScalar(c, 0.5) && otherOperand(inner, c) == x)
            return replace(root, x, rewriter);
      }
    }
    return rewriter.notifyMatchFailure(root, "not 0.5 * x * (1 + erf(x/sqrt2))");
  }

  static LogicalResult replace(MulOp root, Value x, PatternRewriter &rewriter) {
    if (x.getType() != root.getType())
      return rewriter.notifyMatchFailure(root, "gelu would change the type");
    rewriter.replaceOpWithNewOp<GeluOp>(root, x, rewriter.getBoolAttr(false));
    return success();
  }
};

struct KilnFuseActivations final
    : mlir::kiln::impl::KilnFuseActivationsBase<KilnFuseActivations> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseGelu>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
