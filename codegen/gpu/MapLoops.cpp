//===- MapLoops.cpp - the kiln-gpu-map-loops pass -------------------------===//
//
// Tiles each outermost scf.parallel into a grid of thread blocks and maps it
// innermost-first, so threads with neighbouring x indices touch neighbouring
// elements (upstream's gpu-map-parallel-loops maps thread x to the
// outermost dim, which makes every access strided).
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/IR/Matchers.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUMAPLOOPS
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

/// The trip count of dim `i` when lower bound, upper bound and step are
/// constants.
std::optional<int64_t> staticTripCount(scf::ParallelOp op, unsigned i) {
  APInt lb, ub, step;
  if (!matchPattern(op.getLowerBound()[i], m_ConstantInt(&lb)) ||
      !matchPattern(op.getUpperBound()[i], m_ConstantInt(&ub)) ||
      !matchPattern(op.getStep()[i], m_ConstantInt(&step)) ||
      step.getSExtValue() <= 0)
    return std::nullopt;
  int64_t n = ub.getSExtValue() - lb.getSExtValue();
  int64_t s = step.getSExtValue();
  return n <= 0 ? 0 : (n + s - 1) / s;
}

/// Threads per dim: innermost first, up to three dims, each taking the next
/// power of two of its static extent (a dynamic dim takes all that is left).
SmallVector<int64_t> threadTile(scf::ParallelOp op, int64_t blockSize) {
  unsigned rank = op.getNumLoops();
  SmallVector<int64_t> tile(rank, 1);
  int64_t left = blockSize;
  for (unsigned k = 0; k < rank && k < 3 && left > 1; ++k) {
    unsigned i = rank - 1 - k;
    int64_t t = left;
    if (auto n = staticTripCount(op, i))
      t = std::min<int64_t>(left, llvm::PowerOf2Ceil(std::max<int64_t>(*n, 1)));
    tile[i] = t;
    left /= t;
  }
  return tile;
}

gpu::ParallelLoopDimMappingAttr dimMap(MLIRContext *ctx, gpu::Processor p) {
  AffineMap id = AffineMap::getMultiDimIdentityMap(1, ctx);
  return gpu::ParallelLoopDimMappingAttr::get(ctx, p, id, id);
}

struct KilnGpuMapLoops final
    : mlir::kiln::impl::KilnGpuMapLoopsBase<KilnGpuMapLoops> {
  using Base::Base;
  void runOnOperation() override {
    if (blockSize < 32 || blockSize > 1024 || !llvm::isPowerOf2_64(blockSize)) {
      getOperation().emitError("kiln-gpu-map-loops: block-size must be a power "
                               "of two from 32 to 1024, got ")
          << static_cast<int64_t>(blockSize);
      return signalPassFailure();
    }
    SmallVector<scf::ParallelOp> roots;
    getOperation().walk([&](scf::ParallelOp op) {
      if (!op->getParentOfType<scf::ParallelOp>() &&
          !op->hasAttr(gpu::getMappingAttrName()) && op.getNumReductions() == 0)
        roots.push_back(op);
    });
    MLIRContext *ctx = &getContext();
    static const gpu::Processor blocks[] = {
        gpu::Processor::BlockX, gpu::Processor::BlockY, gpu::Processor::BlockZ};
    static const gpu::Processor threads[] = {gpu::Processor::ThreadX,
                                             gpu::Processor::ThreadY,
                                             gpu::Processor::ThreadZ};
    for (scf::ParallelOp op : roots) {
      SmallVector<int64_t> tile = threadTile(op, blockSize);
      unsigned rank = op.getNumLoops();
      auto [outer, inner] =
          scf::tileParallelLoop(op, tile, /*noMinMaxBounds=*/true);
      SmallVector<gpu::ParallelLoopDimMappingAttr> outerMap, innerMap;
      unsigned nextThread = 0;
      for (unsigned i = 0; i < rank; ++i) {
        unsigned fromInner = rank - 1 - i;
        outerMap.push_back(dimMap(
            ctx, fromInner < 3 ? blocks[fromInner] : gpu::Processor::Sequential));
      }
      // Thread dims: innermost tiled dim first.
      innerMap.assign(rank, dimMap(ctx, gpu::Processor::Sequential));
      for (unsigned k = 0; k < rank; ++k) {
        unsigned i = rank - 1 - k;
        if (tile[i] > 1 && nextThread < 3)
          innerMap[i] = dimMap(ctx, threads[nextThread++]);
      }
      if (failed(gpu::setMappingAttr(outer, outerMap)) ||
          failed(gpu::setMappingAttr(inner, innerMap))) {
        outer.emitError("kiln-gpu-map-loops: cannot map this loop");
        return signalPassFailure();
      }
    }
  }
};

} // namespace
