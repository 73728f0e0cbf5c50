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
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
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
  /// quantize int8-static: the ranges file (kiln calibrate's JSON).
  std::string calibration;
  int64_t groupSize = 128;
  /// ONNX node names whose ops keep fp32 weights (--keep-fp32).
  std::vector<std::string> keepFp32;
  /// 3 x 3 stride-1 convolutions by Winograd F(2x2, 3x3) (AVX-512).
  bool winograd = true;
};

/// kiln -> linalg on tensors -> entry ABI -> bufferized, deallocated buffers
/// (shared by every target).
extern const char *const kToBuffersPipeline;

/// Parses a built-in pipeline stretch into `pm` (a parse failure is a bug).
void addPipelineText(OpPassManager &pm, llvm::StringRef text);

/// Host code (loops, memrefs, calls) to the LLVM dialect; with
/// `gpuLaunches`, gpu.launch_func and gpu.binary go through gpu-to-llvm.
void addHostToLLVMPasses(OpPassManager &pm, bool gpuLaunches);

struct CudaPipelineOptions {
  /// SM architecture of the cubins, e.g. sm_90.
  std::string chip = "sm_90";
  /// PTX ISA features given to the NVPTX backend.
  std::string features = "+ptx80";
  /// CUDA toolkit root (libdevice for exp/erf/tanh).
  std::string toolkit = "/usr/local/cuda";
  /// Threads per block of the mapped elementwise/reduction loops.
  int64_t blockSize = 256;
  std::string weightsFile;
  int64_t minWeightBytes = 1 << 20;
  /// Stop after tiling/mapping and lower the tiled loops for the CPU
  /// instead (checks the tiling numerically on machines without a GPU).
  bool emulateOnCpu = false;
  /// fp32, or fp16 / bf16: matmuls on tensor cores (fp32 accumulation).
  std::string precision = "fp32";
  /// fp16 / bf16: "ROWSxCOLS" picks the pipelined tensor-core kernel.
  std::string mmaTile;
  /// With mmaTile: fragments loaded with ldmatrix.
  bool mmaLdmatrix = false;
  /// With mmaTile: k split over this many blocks per tile (1: off).
  int64_t splitK = 1;
  /// fp16 / bf16: attention (Sq > 8) on tensor cores.
  bool mmaAttention = false;
};

/// Adds the graph passes, then kiln -> linalg -> bufferized loops -> tiled,
/// mapped loops -> gpu.launch -> outlined NVVM kernels serialized to PTX
/// (gpu.binary, format isa) with the host side in the LLVM dialect. The
/// driver turns the PTX into cubins with ptxas.
void buildCudaLoweringPipeline(OpPassManager &pm,
                               const CudaPipelineOptions &options);

/// Registers `kiln-cuda-lowering` with kiln-opt.
void registerCudaPipelines();

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
