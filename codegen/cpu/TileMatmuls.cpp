//===- TileMatmuls.cpp - the kiln-tile-matmuls pass -----------------------===//
//
// Cache tiling of 2-D matmuls: a parallel loop over column blocks of
// `tile-n` and, inside, a loop over reduction blocks of `tile-k` around a
// matmul on the slices, so the
// [tile-k, tile-n] block of the weight stays in L2 while every row of the
// left operand streams past it (instead of the whole weight streaming from
// memory once per row).
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"
#include "mlir/Interfaces/TilingInterface.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNTILEMATMULS
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

/// On buffers: [kRm x kRn] register tiles stepping one k at a time, each a
/// vector.contract (masked at the edges) whose accumulator reads and writes
/// are then hoisted out of the k loop, so the tile stays in registers.
constexpr int64_t kRm = 8, kRn = 32;

void microKernel(RewriterBase &rewriter, linalg::MatmulOp m) {
  scf::SCFTilingOptions regs;
  regs.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
  regs.setTileSizes({rewriter.getIndexAttr(kRm), rewriter.getIndexAttr(kRn),
                     rewriter.getIndexAttr(1)});
  rewriter.setInsertionPoint(m);
  auto tiled = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(m.getOperation()), regs);
  if (failed(tiled) || tiled->loops.size() != 3)
    return;
  rewriter.eraseOp(m);
  // Peel the row and column loops so the main loops see full tiles (static
  // sizes, no masks); the edges stay scalar matmuls.
  auto outer = cast<scf::ForOp>(tiled->loops[0].getOperation());
  auto mid = cast<scf::ForOp>(tiled->loops[1].getOperation());
  scf::ForOp partial;
  (void)scf::peelForLoopAndSimplifyBounds(rewriter, mid, partial);
  (void)scf::peelForLoopAndSimplifyBounds(rewriter, outer, partial);
}

/// In the k loop of a vectorized tile, the accumulator tile `acc` (a view
/// defined outside the loop, never aliasing the operands: bufferization
/// gives a matmul's output its own buffer) is read before the loop, carried
/// as a vector through it and written once after it.
void keepAccumulatorInRegisters(RewriterBase &rewriter, scf::ForOp kLoop,
                                Value acc) {
  if (kLoop->isAncestor(acc.getParentBlock()->getParentOp()) ||
      acc.getParentRegion()->isAncestor(&kLoop.getRegion()) == false)
    return;
  vector::TransferReadOp read;
  vector::TransferWriteOp write;
  for (Operation &op : kLoop.getBody()->without_terminator()) {
    if (auto r = dyn_cast<vector::TransferReadOp>(op); r && r.getBase() == acc)
      read = r;
    if (auto w = dyn_cast<vector::TransferWriteOp>(op); w && w.getBase() == acc)
      write = w;
  }
  auto sameIndices = [&] {
    if (read.getIndices().size() != write.getIndices().size())
      return false;
    for (auto [a, b] : llvm::zip(read.getIndices(), write.getIndices()))
      if (!isEqualConstantIntOrValue(a, b))
        return false;
    return true;
  };
  if (!read || !write || !sameIndices() ||
      llvm::any_of(read.getIndices(), [&](Value v) {
        return kLoop->isAncestor(v.getParentBlock()->getParentOp());
      }) ||
      !write->isBeforeInBlock(kLoop.getBody()->getTerminator()) ||
      !read->isBeforeInBlock(write))
    return;
  rewriter.setInsertionPoint(kLoop);
  Operation *init = rewriter.clone(*read.getOperation());
  Value written = write.getVector();
  auto grown = cast<LoopLikeOpInterface>(kLoop.getOperation())
                   .replaceWithAdditionalYields(
                       rewriter, init->getResult(0),
                       /*replaceInitOperandUsesInLoop=*/false,
                       [&](OpBuilder &, Location, ArrayRef<BlockArgument>) {
                         return SmallVector<Value>{written};
                       });
  if (failed(grown))
    return;
  auto loop = cast<scf::ForOp>(grown->getOperation());
  rewriter.replaceOp(read, loop.getRegionIterArgs().back());
  rewriter.setInsertionPointAfter(loop);
  vector::TransferWriteOp::create(rewriter, write.getLoc(),
                                  loop.getResults().back(), acc,
                                  write.getIndices(),
                                  write.getPermutationMapAttr(),
                                  write.getInBoundsAttr());
  rewriter.eraseOp(write);
}

/// Vectorizes the full [kRm, 1] x [1, kRn] register tiles in `root`.
void vectorizeTiles(RewriterBase &rewriter, Operation *root) {
  SmallVector<linalg::MatmulOp> tiles;
  root->walk([&](linalg::MatmulOp t) {
    auto a = cast<ShapedType>(t.getDpsInputOperand(0)->get().getType());
    auto b = cast<ShapedType>(t.getDpsInputOperand(1)->get().getType());
    if (a.hasStaticShape() && b.hasStaticShape() && a.getDimSize(0) == kRm &&
        b.getDimSize(1) == kRn && a.getDimSize(1) == 1)
      tiles.push_back(t);
  });
  for (linalg::MatmulOp t : tiles) {
    auto kLoop = dyn_cast<scf::ForOp>(t->getParentOp());
    Value acc = t.getDpsInitOperand(0)->get();
    rewriter.setInsertionPoint(t);
    if (failed(linalg::vectorize(rewriter, t, {}, {}, false, false, false,
                                 /*createNamedContraction=*/true)))
      continue;
    rewriter.eraseOp(t);
    if (kLoop) {
      moveLoopInvariantCode(cast<LoopLikeOpInterface>(kLoop.getOperation()));
      keepAccumulatorInRegisters(rewriter, kLoop, acc);
    }
  }
}

struct KilnTileMatmuls final
    : mlir::kiln::impl::KilnTileMatmulsBase<KilnTileMatmuls> {
  using KilnTileMatmulsBase::KilnTileMatmulsBase;
  void runOnOperation() override {
    if (tileN < 1 || tileK < 1) {
      getOperation()->emitError("tile-n and tile-k must be >= 1");
      return signalPassFailure();
    }
    SmallVector<linalg::MatmulOp> matmuls;
    getOperation()->walk([&](linalg::MatmulOp m) { matmuls.push_back(m); });
    IRRewriter rewriter(&getContext());
    bool anyVectorized = false;
    for (linalg::MatmulOp m : matmuls) {
      bool onTensors = m.hasPureTensorSemantics();
      if (!onTensors && !m.hasPureBufferSemantics())
        continue;
      auto bt = cast<ShapedType>(m.getDpsInputOperand(1)->get().getType());
      int64_t k = bt.getDimSize(0), n = bt.getDimSize(1);
      // Small weights fit in cache already.
      if (!ShapedType::isDynamic(k) && !ShapedType::isDynamic(n) &&
          k * n * 4 <= (int64_t)tileK * tileN * 4)
        continue;
      // Column blocks: an scf.forall (they are independent: the thread pool
      // takes one block per thread); reduction blocks: an scf.for inside.
      scf::SCFTilingOptions outer;
      outer.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
      outer.setTileSizes({rewriter.getIndexAttr(0), rewriter.getIndexAttr(tileN),
                          rewriter.getIndexAttr(0)});
      rewriter.setInsertionPoint(m);
      auto tiled = scf::tileUsingSCF(
          rewriter, cast<TilingInterface>(m.getOperation()), outer);
      if (failed(tiled))
        continue;
      if (auto inner = dyn_cast<linalg::MatmulOp>(tiled->tiledOps.back())) {
        scf::SCFTilingOptions red;
        red.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
        red.setTileSizes({rewriter.getIndexAttr(0), rewriter.getIndexAttr(0),
                          rewriter.getIndexAttr(tileK)});
        rewriter.setInsertionPoint(inner);
        auto kTiled = scf::tileUsingSCF(
            rewriter, cast<TilingInterface>(inner.getOperation()), red);
        if (succeeded(kTiled)) {
          if (onTensors) {
            rewriter.replaceOp(inner, kTiled->replacements);
          } else {
            rewriter.eraseOp(inner);
            if (registerTiles)
              microKernel(rewriter,
                          cast<linalg::MatmulOp>(kTiled->tiledOps.back()));
          }
        }
      }
      if (onTensors)
        rewriter.replaceOp(m, tiled->replacements);
      else
        rewriter.eraseOp(m);
      anyVectorized |= !onTensors && registerTiles;
    }
    if (anyVectorized) {
      // Fold the peeled loops' tile sizes to constants, so the full tiles
      // have static shapes.
      RewritePatternSet patterns(&getContext());
      for (RegisteredOperationName op :
           getContext().getRegisteredOperations())
        op.getCanonicalizationPatterns(patterns, &getContext());
      (void)applyPatternsGreedily(getOperation(), std::move(patterns));
      vectorizeTiles(rewriter, getOperation());
    }
  }
};

} // namespace
