//===- ConstantWeights.h - GPU matmul weights made at compile time -*- C++ -*-===//
//
// kiln-gpu-tile-matmuls (TileMatmuls.cpp) stages a matmul's right-hand side
// in shared memory. A constant one is made at compile time in the layout and
// precision the kernel stages: with fp16 / bf16 a row-major [K, N] global of
// that type (rounded once, half the bytes the kernels read), and a [1, 0]
// transpose of a constant (a Gemm's transB) transposed here rather than on
// every run. The layouts are WeightPacker's row-major kinds.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_GPU_CONSTANTWEIGHTS_H
#define KILN_CODEGEN_GPU_CONSTANTWEIGHTS_H

#include "codegen/cpu/WeightPacker.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::kiln::gpu_weights {

/// Rewrites the 2-D f32 `linalg.matmul`s of `fn` (outside kernels) whose
/// right-hand side is a [1, 0] transpose of a constant, or (when `lowp`,
/// f16 / bf16, is given; null for fp32) a constant read through reshapes,
/// to read the packed global instead; the originals' reads, transposes and
/// buffers go when nothing else uses them.
void useConstantWeights(func::FuncOp fn, Type lowp, SymbolTable &symbols,
                        kiln::cpu::WeightPacker &packer);

} // namespace mlir::kiln::gpu_weights

#endif // KILN_CODEGEN_GPU_CONSTANTWEIGHTS_H
