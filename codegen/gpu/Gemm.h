//===- Gemm.h - the matmul kernels of kiln-gpu-tile-matmuls -----*- C++ -*-===//
//
// kiln-gpu-tile-matmuls (TileMatmuls.cpp) finds the matmuls and the
// elementwise ops it fuses with them (a prologue or fill writing C before,
// an epilogue reading C after) and builds one kernel per matmul:
//   - the 64 x 64 kernel (TileMatmuls.cpp): fp32 on CUDA cores, or fp16 /
//     bf16 on tensor cores; any layout and size, operands staged element by
//     element;
//   - the pipelined tensor-core kernel (MmaPipelined.cpp), chosen with the
//     pass's `mma-tile` option: a BM x BN tile (64 or 128 each) staged with
//     16-byte vector loads into two shared buffers, so the next step's loads
//     are in flight while the tensor cores work on the current one.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_GPU_GEMM_H
#define KILN_CODEGEN_GPU_GEMM_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

namespace mlir::kiln::gpu_gemm {

/// C (+)= A x B, optionally with a leading batch dim on all three.
struct Gemm {
  Value a, b, c;
  bool batched;
  Location loc;
  /// The elementwise op right before the matmul that writes all of C
  /// without reading it, or reading it only element by element in place
  /// (a dense layer's bias, a residual plus bias): the
  /// epilogue computes its value instead of loading C, and it goes.
  linalg::GenericOp prologue;
  /// Else the linalg.fill right before the matmul that writes all of C (a
  /// bare matmul's zeros): the epilogue starts from its value, and it goes.
  linalg::FillOp fill;
  /// The elementwise op after the matmul that reads C (identity map) as
  /// C's only other reader: the epilogue applies it and writes its output
  /// (C itself when it runs in place) instead of C, and it goes.
  linalg::GenericOp epilogue;
};

/// C[at] (+)= acc: C's old value (or the fused prologue's or fill's value
/// there) plus `acc`, through the fused epilogue, stored. The caller guards
/// `at` inside C.
void accumulateAt(OpBuilder &b, const Gemm &g, ArrayRef<Value> at, Value acc);

/// A pipelined tensor-core kernel's tile of C: rows x columns per block.
struct MmaTile {
  int64_t rows = 0, cols = 0;
  bool ldmatrix = false; // fragments by ldmatrix (GPU only)
  /// Blocks per tile, each running an equal share of k's steps into a
  /// partial tile that a second kernel adds up (1: one block, no partials).
  /// Taken only where K and N are static, K at least 256 x split and 2 N.
  int64_t split = 1;
  explicit operator bool() const { return rows != 0; }
};

/// Whether the pipelined kernel takes `g` with operands rounded to `lowp`
/// (f16 / bf16): A f32 and B f32 or `lowp`, both row-major with unit
/// innermost stride, static row strides and offsets (and K, and N) that
/// keep every 16-byte vector load aligned and inside a row.
bool pipelinedFits(const Gemm &g, Type lowp);

/// Builds the pipelined kernel for `g` (a gpu.launch, or with `emulate`
/// the same per-thread steps as CPU loops) at the builder's point; with
/// `tile.split` > 1 (where it applies) the partial buffer's allocation
/// before it and the adding kernel after it, the buffer freed at the end of
/// the builder's block.
void buildPipelined(OpBuilder &b, const Gemm &g, Type lowp, MmaTile tile,
                    bool emulate);

} // namespace mlir::kiln::gpu_gemm

#endif // KILN_CODEGEN_GPU_GEMM_H
