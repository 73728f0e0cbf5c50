//===- CollapseElementwiseDims.cpp - kiln-collapse-elementwise-dims -------===//
//
// Merges the inner dims of elementwise linalg.generic ops on dense buffers
// into one, so that the innermost loop is long enough to vectorize. See
// the pass description in codegen/Passes.td.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNCOLLAPSEELEMENTWISEDIMS
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

/// Iterations the merged innermost loop should reach: 16 lanes x 4
/// interleaved vectors per step, with room for the remainder.
constexpr int64_t kMinInner = 256;

/// The dims to merge (a suffix of the loops), or empty when `g` does not
/// qualify.
SmallVector<int64_t> innerSuffix(linalg::GenericOp g) {
  int64_t rank = g.getNumLoops();
  if (rank < 4 || g.getNumReductionLoops() != 0 || g.hasIndexSemantics() ||
      !g.hasPureBufferSemantics())
    return {};
  for (AffineMap m : g.getIndexingMapsArray())
    if (!m.isIdentity())
      return {};
  for (OpOperand &o : g->getOpOperands()) {
    auto t = dyn_cast<MemRefType>(o.get().getType());
    if (!t || !t.getLayout().isIdentity() || t.getRank() != rank)
      return {};
  }
  SmallVector<int64_t> shape = g.getStaticLoopRanges();
  SmallVector<int64_t> dims;
  int64_t count = 1;
  // Dims 0 and 1 stay loops of their own: the outermost parallel loop is
  // what the threads share (kiln-serialize-inner-parallel), and a batch of
  // one image would leave them nothing else.
  for (int64_t d = rank - 1; d >= 2; --d) {
    if (ShapedType::isDynamic(shape[d]))
      break;
    dims.insert(dims.begin(), d);
    count *= shape[d];
    if (count >= kMinInner)
      break;
  }
  if (dims.size() < 2)
    return {};
  return dims;
}

struct KilnCollapseElementwiseDims final
    : mlir::kiln::impl::KilnCollapseElementwiseDimsBase<
          KilnCollapseElementwiseDims> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<linalg::GenericOp> generics;
    getOperation()->walk([&](linalg::GenericOp g) { generics.push_back(g); });
    for (linalg::GenericOp g : generics) {
      SmallVector<int64_t> dims = innerSuffix(g);
      if (dims.empty())
        continue;
      rewriter.setInsertionPoint(g);
      ReassociationIndices group(dims.begin(), dims.end());
      FailureOr<linalg::CollapseResult> r = linalg::collapseOpIterationDims(
          cast<linalg::LinalgOp>(g.getOperation()), {group}, rewriter);
      if (failed(r))
        continue;
      // On buffers the op has no results: the collapsed op writes the
      // outputs through their collapsed views.
      rewriter.eraseOp(g);
    }
  }
};

} // namespace
