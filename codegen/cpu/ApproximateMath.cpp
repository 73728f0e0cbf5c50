//===- ApproximateMath.cpp - the kiln-approximate-math pass ---------------===//
//
// exp/erf/tanh/log and friends as polynomials in arith ops: a libm call in
// a loop body stops LLVM's vectorizer, a polynomial vectorizes like any
// other arithmetic. Upstream's approximations are within a few ulp of f32.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNAPPROXIMATEMATH
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

struct KilnApproximateMath final
    : mlir::kiln::impl::KilnApproximateMathBase<KilnApproximateMath> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
