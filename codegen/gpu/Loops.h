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
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
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

/// A gpu.launch on the grid (x, y, z) of `threads` x 1 x 1 threads per
/// block, with `shared` as its workgroup attributions and only its
/// terminator in its body; the builder is left at the body's start (the
/// caller holds an InsertionGuard).
inline gpu::LaunchOp launchAtBody(OpBuilder &b, Location loc, Value x,
                                  Value y, Value z, Value threads,
                                  TypeRange shared = {}) {
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto launch = gpu::LaunchOp::create(
      b, loc, x, y, z, threads, one, one,
      /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, shared);
  b.setInsertionPointToEnd(&launch.getBody().front());
  gpu::TerminatorOp::create(b, loc);
  b.setInsertionPointToStart(&launch.getBody().front());
  return launch;
}

/// `for v in [0, n)` whose body `body(v)` builds at its start.
inline void forEach(OpBuilder &b, Location loc, Value n,
                    function_ref<void(Value)> body) {
  auto loop = forFromZero(b, loc, n, 1);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  body(loop.getInductionVar());
}

/// Index arithmetic at a builder's point, for the kernel builders (each op
/// in its own statement).
class IndexOps {
public:
  IndexOps(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t y) { return y ? add(x, idx(y)) : x; }
  Value sub(Value x, int64_t y) {
    return arith::SubIOp::create(b, loc, x, idx(y));
  }
  Value mul(Value x, int64_t y) {
    return arith::MulIOp::create(b, loc, x, idx(y));
  }
  Value div(Value x, int64_t y) {
    return arith::DivUIOp::create(b, loc, x, idx(y));
  }
  Value rem(Value x, int64_t y) {
    return arith::RemUIOp::create(b, loc, x, idx(y));
  }
  Value lt(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, x, y);
  }

protected:
  OpBuilder &b;
  Location loc;
};

/// An emulation's per-thread registers: a [threads, count] f32 buffer,
/// allocated where it is made; `release` deallocates it.
class EmulatedRegisters : IndexOps {
public:
  EmulatedRegisters(OpBuilder &b, Location loc, int64_t threads,
                    int64_t count)
      : IndexOps(b, loc), count(count),
        buffer(memref::AllocOp::create(
            b, loc, MemRefType::get({threads, count}, b.getF32Type()))) {}

  /// Thread t's registers.
  SmallVector<Value> load(Value t) {
    SmallVector<Value> values;
    for (int64_t e = 0; e < count; ++e)
      values.push_back(
          memref::LoadOp::create(b, loc, buffer, ValueRange{t, idx(e)}));
    return values;
  }
  void store(Value t, ValueRange values) {
    for (int64_t e = 0; e < count; ++e)
      memref::StoreOp::create(b, loc, values[e], buffer, ValueRange{t, idx(e)});
  }
  void release() { memref::DeallocOp::create(b, loc, buffer); }

private:
  int64_t count;
  Value buffer;
};

} // namespace mlir::kiln::gpu_loops

#endif // KILN_CODEGEN_GPU_LOOPS_H
