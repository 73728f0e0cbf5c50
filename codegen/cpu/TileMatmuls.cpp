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

#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNTILEMATMULS
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

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
          if (onTensors)
            rewriter.replaceOp(inner, kTiled->replacements);
          else
            rewriter.eraseOp(inner);
        }
      }
      if (onTensors)
        rewriter.replaceOp(m, tiled->replacements);
      else
        rewriter.eraseOp(m);
    }
  }
};

} // namespace
