//===- KilnControlFlow.cpp - kiln.if, kiln.loop and kiln.yield ------------===//
//
// Verification of kiln.if and kiln.loop, and the constant-condition
// canonicalization of kiln.if.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// `got` may stand where `want` is expected: same element type and rank,
/// and the same extent wherever `want`'s is static.
bool refines(Type gotT, Type wantT) {
  auto got = dyn_cast<RankedTensorType>(gotT);
  auto want = dyn_cast<RankedTensorType>(wantT);
  if (!got || !want || got.getElementType() != want.getElementType() ||
      got.getRank() != want.getRank())
    return false;
  for (int64_t d = 0; d < got.getRank(); ++d)
    if (!want.isDynamicDim(d) && got.getDimSize(d) != want.getDimSize(d))
      return false;
  return true;
}

bool isScalarOf(Type t, unsigned width) {
  auto r = dyn_cast<RankedTensorType>(t);
  return r && r.getElementType().isSignlessInteger(width) &&
         r.hasStaticShape() && r.getNumElements() == 1;
}

} // namespace

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
    for (auto [i, v] : llvm::enumerate(yield.getValues()))
      if (!refines(v.getType(), getResult(i).getType()))
        return emitOpError("result ")
               << i << " has type " << getResult(i).getType()
               << ", but a branch yields " << v.getType();
  }
  return success();
}

LogicalResult LoopOp::verify() {
  if (!isScalarOf(getMaxTrip().getType(), 64))
    return emitOpError("max_trip must be an i64 tensor of one element, got ")
           << getMaxTrip().getType();
  if (!isScalarOf(getCond().getType(), 1))
    return emitOpError("cond must be an i1 tensor of one element, got ")
           << getCond().getType();
  size_t carried = getInits().size();
  if (getNumResults() < carried)
    return emitOpError("has ") << carried << " loop-carried values but only "
                               << getNumResults() << " results";
  for (size_t i = 0; i < carried; ++i)
    if (!refines(getInits()[i].getType(), getResult(i).getType()))
      return emitOpError("loop-carried value ")
             << i << " has type " << getInits()[i].getType()
             << ", which does not fit result type " << getResult(i).getType();
  Block &body = getBody().front();
  if (body.getNumArguments() != carried + 2)
    return emitOpError("the body takes ")
           << body.getNumArguments() << " arguments, expected " << carried + 2
           << " (iteration, condition, loop-carried values)";
  auto i64 = RankedTensorType::get({}, IntegerType::get(getContext(), 64));
  auto i1 = RankedTensorType::get({}, IntegerType::get(getContext(), 1));
  if (body.getArgument(0).getType() != i64 ||
      body.getArgument(1).getType() != i1)
    return emitOpError("the body's first arguments must be tensor<i64> and "
                       "tensor<i1>");
  for (size_t i = 0; i < carried; ++i)
    if (body.getArgument(i + 2).getType() != getResult(i).getType())
      return emitOpError("body argument ")
             << i + 2 << " has type " << body.getArgument(i + 2).getType()
             << ", expected the result type " << getResult(i).getType();
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield)
    return emitOpError("the body must end in kiln.yield");
  if (yield.getValues().size() != getNumResults() + 1)
    return emitOpError("the body yields ")
           << yield.getValues().size() << " values, expected "
           << getNumResults() + 1 << " (condition, then one per result)";
  if (!isScalarOf(yield.getValues()[0].getType(), 1))
    return emitOpError("the body's condition must be an i1 tensor of one "
                       "element, got ")
           << yield.getValues()[0].getType();
  for (size_t i = 0; i < getNumResults(); ++i) {
    Type got = yield.getValues()[i + 1].getType();
    Type want = getResult(i).getType();
    if (i < carried) {
      if (!refines(got, want))
        return emitOpError("the body yields ")
               << got << " for loop-carried result " << i << " of type "
               << want;
      continue;
    }
    auto elem = cast<RankedTensorType>(got);
    auto stacked = cast<RankedTensorType>(want);
    bool ok = stacked.getRank() == elem.getRank() + 1 &&
              stacked.getElementType() == elem.getElementType();
    for (int64_t d = 0; ok && d < elem.getRank(); ++d)
      ok = stacked.getDimSize(d + 1) == elem.getDimSize(d);
    if (!ok)
      return emitOpError("scan result ")
             << i << " has type " << want << ", which is not the body's "
             << got << " stacked on a new axis 0";
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
