//===- InterchangeReductions.cpp - the kiln-interchange-reductions pass ---===//
//
// Moves the reduction loops of linalg.generic ops outside the last parallel
// loop, so the innermost loop is unit-stride over the output.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNINTERCHANGEREDUCTIONS
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

struct KilnInterchangeReductions final
    : mlir::kiln::impl::KilnInterchangeReductionsBase<
          KilnInterchangeReductions> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<linalg::GenericOp> generics;
    getOperation()->walk([&](linalg::GenericOp g) { generics.push_back(g); });
    for (linalg::GenericOp g : generics) {
      auto iters = g.getIteratorTypesArray();
      SmallVector<unsigned> par, red;
      for (auto [i, it] : llvm::enumerate(iters))
        (it == utils::IteratorType::parallel ? par : red).push_back(i);
      if (red.empty() || par.empty() || g.getNumDpsInits() != 1)
        continue;
      // The last parallel loop must be the output's innermost dim.
      AffineMap out = g.getMatchingIndexingMap(g.getDpsInitOperand(0));
      if (out.getNumResults() == 0)
        continue;
      auto inner = dyn_cast<AffineDimExpr>(out.getResults().back());
      if (!inner || inner.getPosition() != par.back())
        continue;
      SmallVector<unsigned> order(par.begin(), par.end() - 1);
      order.append(red.begin(), red.end());
      order.push_back(par.back());
      if (llvm::equal(order, llvm::seq<unsigned>(0, iters.size())))
        continue;
      rewriter.setInsertionPoint(g);
      (void)linalg::interchangeGenericOp(rewriter, g, order);
    }
  }
};

} // namespace
