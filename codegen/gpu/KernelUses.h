//===- KernelUses.h - memory only GPU kernels touch -------------*- C++ -*-===//
//
// Shared by the CUDA pipeline's passes that hand the kernels a caller's GPU
// buffer in place (kiln-gpu-device-inputs, kiln-outputs-in-place with
// kernels-only): such a buffer may be device memory the host cannot read
// or write, so every use of it must be a kernel's.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_GPU_KERNELUSES_H
#define KILN_CODEGEN_GPU_KERNELUSES_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace mlir::kiln {

/// True when the host code never reads or writes the memory of `v`: its
/// uses (other than those `skip` accepts) are kernel launches, size and
/// metadata queries, and views whose uses are the same. Anything else (a
/// host load, store or copy, a call, the output callback, which may copy
/// strided data on the host) counts as host access.
inline bool onlyKernelsTouch(Value v,
                             llvm::function_ref<bool(OpOperand &)> skip = {}) {
  for (OpOperand &use : v.getUses()) {
    Operation *op = use.getOwner();
    if (skip && skip(use))
      continue;
    if (isa<gpu::LaunchFuncOp, memref::DimOp, memref::ExtractStridedMetadataOp>(
            op))
      continue;
    // A view of the memory (cast, subview, reinterpret_cast, reshapes,
    // transpose) is followed.
    if (auto view = dyn_cast<ViewLikeOpInterface>(op);
        view && view.getViewSource() == v) {
      for (Value r : op->getResults())
        if (isa<BaseMemRefType>(r.getType()) && !onlyKernelsTouch(r, skip))
          return false;
      continue;
    }
    return false;
  }
  return true;
}

} // namespace mlir::kiln

#endif // KILN_CODEGEN_GPU_KERNELUSES_H
