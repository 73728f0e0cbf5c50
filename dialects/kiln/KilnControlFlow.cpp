//===- KilnControlFlow.cpp - kiln.if and kiln.yield -----------------------===//
//
// Verification and the constant-condition canonicalization of kiln.if.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::kiln;

LogicalResult IfOp::verify() {
  auto c = cast<RankedTensorType>(getCond().getType());
  if (!c.getElementType().isInteger(1) ||
      (c.hasStaticShape() && c.getNumElements() != 1))
    return emitOpError("condition must be a boolean tensor of one element, got ")
           << c;
  for (Region *r : {&getThenBranch(), &getElseBranch()}) {
    auto yield = dyn_cast<YieldOp>(r->front().getTerminator());
    if (!yield)
      return emitOpError("each branch must end in kiln.yield");
    if (yield.getValues().size() != getNumResults())
      return emitOpError("a branch yields ")
             << yield.getValues().size() << " values for "
             << getNumResults() << " results";
    for (auto [i, v] : llvm::enumerate(yield.getValues())) {
      auto got = cast<RankedTensorType>(v.getType());
      auto want = cast<RankedTensorType>(getResult(i).getType());
      bool ok = got.getElementType() == want.getElementType() &&
                got.getRank() == want.getRank();
      for (int64_t d = 0; ok && d < got.getRank(); ++d)
        ok = want.isDynamicDim(d) || got.getDimSize(d) == want.getDimSize(d);
      if (!ok)
        return emitOpError("result ")
               << i << " has type " << want << ", but a branch yields " << got;
    }
  }
  return success();
}

namespace {

/// kiln.if on a constant condition: the taken branch's ops move before the
/// op, which is replaced by the yielded values (cast back where a branch is
/// more static than the result: refine-types then sharpens the users).
struct InlineConstantIf final : OpRewritePattern<IfOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(IfOp op, PatternRewriter &rewriter) const override {
    DenseElementsAttr cond;
    if (!matchPattern(op.getCond(), m_Constant(&cond)) ||
        cond.getNumElements() != 1)
      return failure();
    bool taken = *cond.getValues<bool>().begin();
    Region &region = taken ? op.getThenBranch() : op.getElseBranch();
    Block &block = region.front();
    auto yield = cast<YieldOp>(block.getTerminator());
    SmallVector<Value> yielded(yield.getValues());
    rewriter.inlineBlockBefore(&block, op);
    rewriter.setInsertionPoint(op);
    SmallVector<Value> replacements;
    for (auto [v, r] : llvm::zip(yielded, op.getResults()))
      replacements.push_back(
          v.getType() == r.getType()
              ? v
              : tensor::CastOp::create(rewriter, op.getLoc(), r.getType(), v)
                    .getResult());
    rewriter.eraseOp(yield);
    rewriter.replaceOp(op, replacements);
    return success();
  }
};

} // namespace

void IfOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                       MLIRContext *context) {
  results.add<InlineConstantIf>(context);
}
