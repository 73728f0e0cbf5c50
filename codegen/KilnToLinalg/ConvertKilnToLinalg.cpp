//===- ConvertKilnToLinalg.cpp - the convert-kiln-to-linalg pass ----------===//
//
// Decomposes composite kiln ops, applies the lowering patterns of every op
// family, and reports any kiln op that is left.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/RuntimeCalls.h"

#include "Common.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_CONVERTKILNTOLINALG
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

struct ConvertKilnToLinalg final
    : mlir::kiln::impl::ConvertKilnToLinalgBase<ConvertKilnToLinalg> {
  using ConvertKilnToLinalgBase::ConvertKilnToLinalgBase;
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ModuleOp root = getOperation();
    declareCheckDim(root);
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
    lowering::populateControlFlowPatterns(patterns);
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
