//===- Loops.h - loop builders of the GPU kernel passes ---------*- C++ -*-===//
//
// Shared by kiln-gpu-tile-matmuls, kiln-gpu-reduce-rows and
// kiln-gpu-attention (their kernels and CPU emulations). Every op is built
// in its own statement, so the IR does not depend on the compiler's
// argument evaluation order.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_GPU_LOOPS_H
#define KILN_CODEGEN_GPU_LOOPS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::kiln::gpu_loops {

/// `scf.for` from 0 to `ub` by `step`.
inline scf::ForOp forFromZero(OpBuilder &b, Location loc, Value ub,
                              int64_t step, ValueRange iterArgs = {}) {
  Value lb = arith::ConstantIndexOp::create(b, loc, 0);
  Value st = arith::ConstantIndexOp::create(b, loc, step);
  return scf::ForOp::create(b, loc, lb, ub, st, iterArgs);
}

/// `for v in [0, n)` whose body `body(v)` builds at its start.
inline void forEach(OpBuilder &b, Location loc, Value n,
                    function_ref<void(Value)> body) {
  auto loop = forFromZero(b, loc, n, 1);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  body(loop.getInductionVar());
}

} // namespace mlir::kiln::gpu_loops

#endif // KILN_CODEGEN_GPU_LOOPS_H
