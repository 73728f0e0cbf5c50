//===- Passes.h - kiln code-generation passes -------------------*- C++ -*-===//
//
// Declarations and registration of the code-generation passes and the CPU
// pipeline that runs them.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_PASSES_H
#define KILN_CODEGEN_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Pass/Pass.h"

namespace mlir::kiln {

#define GEN_PASS_DECL
#include "codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/Passes.h.inc"

/// The graph optimizations (passes/) as a pass pipeline on builtin.module:
/// what `kiln import --optimize` runs and `kiln compile` runs first.
extern const char *const kGraphPipeline;

struct CpuPipelineOptions {
  /// With a path, constants of at least `minWeightBytes` go to that file.
  std::string weightsFile;
  int64_t minWeightBytes = 1 << 20;
  /// The GEMM microkernel variant: avx512, avx2 or generic.
  std::string ukernelIsa = "avx512";
  /// fp32, or bf16 (dense layers' constant weights packed in bf16).
  std::string precision = "fp32";
  /// none, int8 (dense layers' constant weights quantized to int8), or
  /// int4 (weight-only, per group of `groupSize` values of k).
  std::string quantize = "none";
  int64_t groupSize = 128;
};

/// Adds the graph passes, then kiln -> linalg -> bufferized loops -> LLVM
/// dialect, to `pm`.
void buildCpuLoweringPipeline(OpPassManager &pm,
                              const CpuPipelineOptions &options);

/// Attaches one-shot bufferization's interface to kiln.ukernel.
void registerUkernelBufferization(DialectRegistry &registry);

/// Registers `kiln-cpu-lowering` (the pipeline above) with kiln-opt.
void registerCpuPipelines();

} // namespace mlir::kiln

#endif // KILN_CODEGEN_PASSES_H
