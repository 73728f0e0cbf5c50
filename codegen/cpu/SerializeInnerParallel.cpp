//===- SerializeInnerParallel.cpp - the kiln-serialize-inner-parallel pass ===//
//
// Nested scf.parallel loops become scf.for nests; outermost ones stay
// parallel and run on the runtime's pool.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNSERIALIZEINNERPARALLEL
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

struct KilnSerializeInnerParallel final
    : mlir::kiln::impl::KilnSerializeInnerParallelBase<
          KilnSerializeInnerParallel> {
  void runOnOperation() override {
    SmallVector<scf::ParallelOp> inner;
    getOperation()->walk([&](scf::ParallelOp p) {
      if (p.getNumReductions() == 0 && p->getParentOfType<scf::ParallelOp>())
        inner.push_back(p);
    });
    // The walk is post-order: inner loops come first, so a rewritten loop
    // never holds one that is still to be rewritten.
    for (scf::ParallelOp p : inner) {
      OpBuilder b(p);
      scf::buildLoopNest(
          b, p.getLoc(), p.getLowerBound(), p.getUpperBound(), p.getStep(),
          [&](OpBuilder &nb, Location, ValueRange ivs) {
            IRMapping map;
            map.map(p.getInductionVars(), ivs);
            for (Operation &op : p.getBody()->without_terminator())
              nb.clone(op, map);
          });
      p.erase();
    }
  }
};

} // namespace
