//===- ConvertKilnToLinalg.cpp - the convert-kiln-to-linalg pass ----------===//
//
// Decomposes composite kiln ops, applies the lowering patterns of every op
// family, and reports any kiln op that is left.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "Common.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_CONVERTKILNTOLINALG
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// kiln.if -> scf.if on tensors (one-shot bufferization handles it): the
/// condition's one element is extracted, the regions move over.
struct LowerIf final : OpRewritePattern<IfOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(IfOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto condType = cast<RankedTensorType>(op.getCond().getType());
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    SmallVector<Value> idx(condType.getRank(), zero);
    Value cond = tensor::ExtractOp::create(rewriter, loc, op.getCond(), idx);
    rewriter.setInsertionPoint(op);
    auto ifOp = scf::IfOp::create(rewriter, loc, op.getResultTypes(), cond,
                                  /*withElseRegion=*/true);
    for (auto [from, to] : {std::pair<Region *, Region *>{&op.getThenBranch(),
                                                          &ifOp.getThenRegion()},
                            {&op.getElseBranch(), &ifOp.getElseRegion()}}) {
      // kiln.yield -> scf.yield, casting a branch's sharper types to the
      // results'.
      auto yield = cast<YieldOp>(from->front().getTerminator());
      rewriter.setInsertionPoint(yield);
      SmallVector<Value> values;
      for (auto [v, t] : llvm::zip(yield.getValues(), op.getResultTypes()))
        values.push_back(v.getType() == t
                             ? v
                             : tensor::CastOp::create(rewriter, yield.getLoc(), t, v)
                                   .getResult());
      rewriter.replaceOpWithNewOp<scf::YieldOp>(yield, values);
      while (!to->empty())
        rewriter.eraseBlock(&to->front());
      rewriter.inlineRegionBefore(*from, *to, to->end());
    }
    rewriter.replaceOp(op, ifOp.getResults());
    return success();
  }
};

struct ConvertKilnToLinalg final
    : mlir::kiln::impl::ConvertKilnToLinalgBase<ConvertKilnToLinalg> {
  using ConvertKilnToLinalgBase::ConvertKilnToLinalgBase;
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ModuleOp root = getOperation();
    if (!root.lookupSymbol("kiln_rt_check_dim")) {
      OpBuilder b = OpBuilder::atBlockBegin(root.getBody());
      auto i64 = b.getI64Type();
      auto decl = func::FuncOp::create(b, root.getLoc(), "kiln_rt_check_dim",
                                       b.getFunctionType({i64, i64}, {}));
      decl.setPrivate();
    }
    if (attentionKeyBlock < 1) {
      root.emitError("attention-key-block must be >= 1, got ")
          << static_cast<int64_t>(attentionKeyBlock);
      return signalPassFailure();
    }
    RewritePatternSet decompose(ctx);
    lowering::populateDecompositionPatterns(decompose);
    if (failed(applyPatternsGreedily(root, std::move(decompose))))
      return signalPassFailure();
    RewritePatternSet patterns(ctx);
    lowering::populateElementwisePatterns(patterns);
    lowering::populateTensorPatterns(patterns);
    lowering::populateIndexingPatterns(patterns);
    lowering::populateLinalgPatterns(patterns);
    lowering::populateConvPatterns(patterns);
    lowering::populateAttentionPatterns(patterns, attentionKeyBlock);
    lowering::populateLinearPatterns(patterns);
    lowering::populateEinsumPatterns(patterns);
    lowering::populateNormPatterns(patterns);
    lowering::populateRotaryPatterns(patterns);
    patterns.add<LowerIf>(ctx);
    // Non-convergence is reported through the leftover ops below.
    (void)applyPatternsGreedily(root, std::move(patterns));
    bool leftover = false;
    root->walk([&](Operation *op) {
      // kiln.ukernel is the CPU pipeline's own call op: it stays.
      if (!isa<KilnDialect>(op->getDialect()) || isa<UkernelOp>(op))
        return;
      op->emitError("'") << op->getName()
                         << "' does not lower to the CPU code generator yet "
                            "(unsupported form: "
                         << op->getOperandTypes() << " -> "
                         << op->getResultTypes() << ")";
      leftover = true;
    });
    if (leftover)
      signalPassFailure();
  }
};
} // namespace
