//===- FuseRotary.cpp - the kiln-fuse-rotary pass -------------------------===//
//
// x * cos + rotate_half(x) * sin, with rotate_half(x) exported as
// concat(-x[..., D/2:], x[..., :D/2]) along the last dim, becomes
// kiln.rotary_embedding.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/PatternReport.h"
#include "passes/PatternUtils.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNFUSEROTARY
#include "passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// `v` is slice(x, [begin], [end or past it], [last axis], [1]) of rank `r`:
/// returns x.
Value sliceOfLast(Value v, int64_t begin, int64_t end) {
  auto s = v.getDefiningOp<SliceOp>();
  if (!s || !s->hasOneUse())
    return {};
  auto xt = cast<RankedTensorType>(s.getInput().getType());
  int64_t r = xt.getRank();
  auto starts = getConstantIntValues(s.getStarts());
  auto ends = getConstantIntValues(s.getEnds());
  auto axes = getConstantIntValues(s.getAxes());
  auto steps = getConstantIntValues(s.getSteps());
  if (!starts || !ends || !axes || !steps || starts->size() != 1 ||
      ends->size() != 1 || axes->size() != 1 || steps->size() != 1)
    return {};
  int64_t axis = (*axes)[0] < 0 ? (*axes)[0] + r : (*axes)[0];
  int64_t e = (*ends)[0];
  bool endOk = e == end || (end == xt.getShape().back() && e >= end);
  if (axis != r - 1 || (*steps)[0] != 1 || (*starts)[0] != begin || !endOk)
    return {};
  return s.getInput();
}

/// rotate_half(x) = concat(-x[..., h:], x[..., :h], axis = -1): returns x.
Value rotateHalfOf(Value v) {
  auto cat = v.getDefiningOp<ConcatOp>();
  if (!cat || !cat->hasOneUse() || cat.getInputs().size() != 2)
    return {};
  auto t = cast<RankedTensorType>(cat.getType());
  int64_t r = t.getRank(), d = t.getShape().back();
  int64_t axis = (int64_t)cat.getAxis();
  if ((axis != -1 && axis != r - 1) || ShapedType::isDynamic(d) || d % 2)
    return {};
  auto neg = cat.getInputs()[0].getDefiningOp<NegOp>();
  if (!neg || !neg->hasOneUse())
    return {};
  Value x1 = sliceOfLast(neg.getInput(), d / 2, d);
  Value x2 = sliceOfLast(cat.getInputs()[1], 0, d / 2);
  return x1 && x1 == x2 ? x1 : Value();
}

struct FuseRotary final : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp add,
                                PatternRewriter &rewriter) const override {
    for (auto [aV, bV] : {std::pair{add.getLhs(), add.getRhs()},
                          std::pair{add.getRhs(), add.getLhs()}}) {
      auto xc = aV.getDefiningOp<MulOp>(), rs = bV.getDefiningOp<MulOp>();
      if (!xc || !rs || !xc->hasOneUse() || !rs->hasOneUse())
        continue;
      for (Value rh : {rs.getLhs(), rs.getRhs()}) {
        Value x = rotateHalfOf(rh);
        Value cosV = otherOperand(xc, x);
        if (!x || !cosV || x.getType() != add.getType())
          continue;
        Value sinV = otherOperand(rs, rh);
        auto ct = dyn_cast<RankedTensorType>(cosV.getType());
        if (!ct || ct != sinV.getType())
          continue;
        SmallVector<Type> inferred;
        SmallVector<Value> operands{x, cosV, sinV};
        RotaryEmbeddingOp::Adaptor adaptor(operands);
        if (failed(RotaryEmbeddingOp::inferReturnTypes(
                getContext(), std::nullopt, adaptor, inferred)) ||
            ct.getShape().back() !=
                cast<RankedTensorType>(x.getType()).getShape().back())
          continue;
        rewriter.replaceOpWithNewOp<RotaryEmbeddingOp>(add, add.getType(), x,
                                                       cosV, sinV, false);
        return success();
      }
    }
    return rewriter.notifyMatchFailure(add, "not x * cos + rotate_half(x) * sin");
  }
};

struct KilnFuseRotary final
    : mlir::kiln::impl::KilnFuseRotaryBase<KilnFuseRotary> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseRotary>(&getContext());
    if (failed(applyAndRecord(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
