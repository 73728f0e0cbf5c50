//===- FoldShapes.cpp - the kiln-fold-shapes pass -------------------------===//
//
// Collapses the Shape -> Gather -> Unsqueeze -> Concat chains exporters build
// around every Reshape and Expand: shape entries that are provably a dim the
// op keeps anyway become ONNX's "copy" markers (0 for Reshape, 1 for Expand),
// so the shape turns constant and the chain dies. Small constant subgraphs
// fold through the kiln folders (bounded by their element limit), no-op ops
// go through the canonicalizations, and CSE removes the duplicates exporters
// emit (two Shape ops of one tensor, ...).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/PatternReport.h"
#include "passes/ShapeTrace.h"

#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNFOLDSHAPES
#include "passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

Value constShape(PatternRewriter &rewriter, Location loc, Type type,
                 ArrayRef<int64_t> vals) {
  auto t = cast<RankedTensorType>(type);
  SmallVector<APInt> ints;
  for (int64_t v : vals)
    ints.push_back(APInt(t.getElementTypeBitWidth(), v, /*isSigned=*/true));
  return ConstantOp::create(rewriter, loc,
                            cast<ElementsAttr>(DenseElementsAttr::get(t, ints)));
}

/// A small integer tensor (a shape or an index) every entry of which traces
/// to a constant becomes that constant.
struct FoldTracedShape final : RewritePattern {
  FoldTracedShape(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa<KilnDialect>(op->getDialect()) || isa<ConstantOp>(op) ||
        op->getNumResults() != 1)
      return failure();
    auto t = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!t || t.getRank() > 1 || !t.hasStaticShape() ||
        !t.getElementType().isInteger(64))
      return failure();
    auto entries = traceShape(op->getResult(0));
    if (!entries)
      return failure();
    SmallVector<int64_t> vals;
    for (auto &e : *entries) {
      if (!e || !e->isConstant())
        return failure();
      vals.push_back(e->index);
    }
    rewriter.replaceOp(op, constShape(rewriter, op->getLoc(), t, vals));
    return success();
  }
};

/// Whether `e` is dim `d` of `v`: canonically, or as the same dim of what
/// `v` passes it on from, a few steps back (a split's input off its axis, a
/// dense layer's input off its last dim). Exporters build the reshape of a
/// Q/K/V projection from the layer input's shape (LLaMA), and after
/// kiln-merge-linears the projection is a slice of a merged layer; the walk
/// is kept out of canonicalDim, whose depth limit it would exhaust sooner
/// on one side of a comparison than on the other.
bool isDimOf(const SymDim &e, Value v, int64_t d) {
  for (int step = 0; step < 4; ++step) {
    if (e == canonicalDim(v, d))
      return true;
    int64_t rank = cast<RankedTensorType>(v.getType()).getRank();
    auto rankOf = [](Value x) {
      return cast<RankedTensorType>(x.getType()).getRank();
    };
    Operation *op = v.getDefiningOp();
    if (auto s = dyn_cast_or_null<SplitOp>(op)) {
      int64_t axis = (int64_t)s.getAxis();
      if (axis < 0)
        axis += rank;
      if (d == axis)
        return false;
      v = s.getInput();
    } else if (auto l = dyn_cast_or_null<LinearOp>(op)) {
      if (d >= rank - 1 || rankOf(l.getInput()) != rank)
        return false;
      v = l.getInput();
    } else if (auto m = dyn_cast_or_null<MatmulOp>(op)) {
      if (d >= rank - 1 || rankOf(m.getRhs()) != 2 ||
          rankOf(m.getLhs()) != rank)
        return false;
      v = m.getLhs();
    } else {
      return false;
    }
  }
  return false;
}

/// Reshape: an entry equal to the input's dim at the same position becomes 0
/// (copy); a static result extent becomes that constant. With one entry left
/// unknown and every other a positive constant, it becomes -1.
struct SimplifyReshapeShape final : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getAllowzero() || getConstantIntValues(op.getShape()))
      return failure();
    auto entries = traceShape(op.getShape());
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto out = op.getType();
    if (!entries || (int64_t)entries->size() != out.getRank())
      return failure();
    SmallVector<int64_t> vals;
    int unknown = -1;
    bool othersPositive = true;
    for (auto [p, e] : llvm::enumerate(*entries)) {
      int64_t p64 = p;
      if (e && e->isConstant()) {
        vals.push_back(e->index);
        othersPositive &= e->index > 0;
      } else if (e && !e->isConstant() && p64 < in.getRank() &&
                 isDimOf(*e, op.getInput(), p64)) {
        vals.push_back(0);
        othersPositive = false;
      } else if (!out.isDynamicDim(p64) && out.getDimSize(p64) > 0) {
        vals.push_back(out.getDimSize(p64));
      } else if (unknown < 0 && !(e && e->isConstant())) {
        unknown = p64;
        vals.push_back(-1);
      } else {
        return rewriter.notifyMatchFailure(op, "shape entries stay unknown");
      }
    }
    if (unknown >= 0 && !othersPositive)
      return rewriter.notifyMatchFailure(op, "-1 would be ambiguous");
    Value shape =
        constShape(rewriter, op.getLoc(), op.getShape().getType(), vals);
    rewriter.modifyOpInPlace(op, [&] { op.getShapeMutable().assign(shape); });
    return success();
  }
};

/// Expand: an entry equal to the input's aligned dim becomes 1 (keep).
struct SimplifyExpandShape final : OpRewritePattern<ExpandOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ExpandOp op,
                                PatternRewriter &rewriter) const override {
    if (getConstantIntValues(op.getShape()))
      return failure();
    auto entries = traceShape(op.getShape());
    auto in = cast<RankedTensorType>(op.getInput().getType());
    if (!entries)
      return failure();
    int64_t n = entries->size(), off = n - in.getRank();
    SmallVector<int64_t> vals;
    for (auto [p, e] : llvm::enumerate(*entries)) {
      int64_t id = (int64_t)p - off;
      if (e && e->isConstant()) {
        vals.push_back(e->index);
      } else if (e && id >= 0 && *e == canonicalDim(op.getInput(), id)) {
        vals.push_back(1);
      } else {
        return rewriter.notifyMatchFailure(op, "shape entries stay unknown");
      }
    }
    Value shape =
        constShape(rewriter, op.getLoc(), op.getShape().getType(), vals);
    rewriter.modifyOpInPlace(op, [&] { op.getShapeMutable().assign(shape); });
    return success();
  }
};

struct KilnFoldShapes final
    : mlir::kiln::impl::KilnFoldShapesBase<KilnFoldShapes> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<FoldTracedShape, SimplifyReshapeShape, SimplifyExpandShape>(
        ctx);
    for (RegisteredOperationName op : ctx->getRegisteredOperations())
      if (&op.getDialect() == ctx->getLoadedDialect<KilnDialect>())
        op.getCanonicalizationPatterns(patterns, ctx);
    if (failed(applyAndRecord(getOperation(), std::move(patterns))))
      return signalPassFailure();
    IRRewriter rewriter(ctx);
    DominanceInfo dom(getOperation());
    eliminateCommonSubExpressions(rewriter, dom, getOperation());
  }
};

} // namespace
