//===- CopiesToKernels.cpp - the kiln-gpu-copies-to-kernels pass ----------===//
//
// Bufferization leaves `memref.copy` in host code, which lowers to the
// runtime's memrefCopy: a CPU loop over managed memory, so every copy of a
// tensor the GPU wrote migrates its pages to the host and back. As
// `linalg.copy` the copy goes down the same path as every other linalg op
// and becomes a kernel.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUCOPIESTOKERNELS
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

struct KilnGpuCopiesToKernels final
    : mlir::kiln::impl::KilnGpuCopiesToKernelsBase<KilnGpuCopiesToKernels> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp op) {
      auto from = dyn_cast<MemRefType>(op.getSource().getType());
      auto to = dyn_cast<MemRefType>(op.getTarget().getType());
      // Unranked copies keep the runtime call.
      if (from && to && from.getRank() == to.getRank())
        copies.push_back(op);
    });
    OpBuilder b(&getContext());
    for (memref::CopyOp op : copies) {
      b.setInsertionPoint(op);
      linalg::CopyOp::create(b, op.getLoc(), op.getSource(), op.getTarget());
      op.erase();
    }
  }
};

} // namespace
