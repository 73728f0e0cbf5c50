//===- Compile.h - compile an ONNX model to a shared library ----*- C++ -*-===//
//
// The compiler's C++ entry point: import, optimize, lower, emit an object for
// the host (or a named x86-64 level) and link it with the runtime into a
// self-contained MODEL.so.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILE_H
#define KILN_COMPILE_H

#include "kiln/Import.h"

#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace kiln {

struct CompileOptions {
  ImportOptions import;
  /// "native" (the host CPU and its features), or an LLVM CPU name such as
  /// "x86-64-v3" / "x86-64-v4".
  std::string cpu = "native";
  /// Print the time of each stage (import, passes, LLVM, link) to `log`.
  bool timing = false;
  /// "fp32" (default), "bf16": dense layers' weights stored in bf16 and
  /// multiplied in bf16 with fp32 accumulation (AVX512-BF16 where the CPU
  /// has it), or "fp16": dense layers' weights stored in fp16 and widened
  /// to fp32 in registers; everything else stays fp32.
  std::string precision = "fp32";
  /// "none" (default) or "int8": dense layers' constant weights quantized to
  /// int8 per output column at compile time, activations quantized per row
  /// to u8 at run time, u8 x s8 products with int32 accumulation
  /// (AVX512-VNNI where the CPU has it).
  std::string quantize = "none";
  /// With quantize "int8-static": the activation ranges of the dense
  /// layers' inputs (the JSON `kiln calibrate` writes), keyed by the ONNX
  /// MatMul / Gemm node; layers it has no range for are quantized
  /// dynamically.
  std::string calibration;
  /// With quantize "int4": values of k per scale (a multiple of 8; 32 or
  /// 128 are the usual choices).
  int64_t groupSize = 128;
  /// ONNX node names (a MatMul, Gemm or Attention node) that keep fp32
  /// weights under a lower precision or quantization; each must name a node
  /// of the model.
  std::vector<std::string> keepFp32;
  /// 3 x 3 convolutions at stride 1 (group 1, AVX-512 targets) by Winograd
  /// F(2x2, 3x3): 2.25x fewer multiplies, the filter transformed at
  /// compile time. false: the direct kernel for every convolution.
  bool winograd = true;
  /// Print, per graph pass, the kiln op counts before and after and which
  /// ops it created or removed.
  bool report = false;
  /// Print the IR to stderr after every pass of the pipeline, or after the
  /// passes whose argument (as kiln-opt spells it) is `printIrAfter`.
  bool printIrAfterAll = false;
  std::string printIrAfter;
  /// Print each pass's time (MLIR's pass timing) to stderr.
  bool mlirTiming = false;
  /// Keep the intermediate object file next to the output.
  bool keepObject = false;
  /// Constants of at least this many bytes go to MODEL.so.weights, mapped at
  /// load, instead of into the library.
  int64_t minWeightBytes = 1 << 20;
  /// "cpu" (default) or "cuda": NVIDIA GPU kernels (PTX assembled to cubins
  /// by the CUDA toolkit's ptxas) launched by host code through the CUDA
  /// driver, loaded when the model first runs.
  std::string target = "cpu";
  /// --target cuda: the SM architecture of the cubins.
  std::string gpuArch = "sm_90";
  /// --target cuda: the CUDA toolkit root (ptxas, libdevice); empty means
  /// $CUDA_PATH, else /usr/local/cuda.
  std::string cudaPath;
  /// --target cuda: write each kernel module's PTX and ptxas -v report here.
  std::string savePtxDir;
  /// --target cuda: lower the tiled, block x thread mapped loops for the
  /// CPU instead of the GPU (checks the GPU tiling numerically anywhere).
  bool emulateGpu = false;
  /// --target cuda --precision fp16|bf16: "ROWSxCOLS" (64 or 128 each)
  /// gives the matmuls that allow 16-byte loads the pipelined tensor-core
  /// kernel with that tile of C per block; empty: the 64 x 64 kernel.
  std::string gpuMmaTile;
  /// With gpuMmaTile: the pipelined kernel loads its mma.sync fragments with
  /// ldmatrix.
  bool gpuMmaLdmatrix = false;
  /// With gpuMmaTile: split k of the matmuls with a static K of at least
  /// 256 x this many (2 to 8; 1: off) and twice N over that many blocks per
  /// tile, whose
  /// fp32 partial tiles a second kernel adds up before the epilogue.
  int64_t gpuSplitK = 1;
  /// --target cuda --precision fp16|bf16: attention with more than 8 query
  /// rows on tensor cores (the tensor-core rows kernel).
  bool gpuMmaAttention = false;
  /// Folder holding libkiln_runtime.a; empty means next to the kiln binary.
  std::string runtimeDir;
  /// "" (default), "asan" or "tsan": link the runtime built with that
  /// sanitizer (lib/asan/, lib/tsan/ next to the default archive) and the
  /// sanitizer's own library, for tests of the runtime under a sanitizer.
  std::string runtimeVariant;
};

/// Compiles `modelPath` into the shared library `outputPath`. Returns false
/// with a one-line `error` on failure.
bool compileModel(llvm::StringRef modelPath, llvm::StringRef outputPath,
                  const CompileOptions &options, std::string &error,
                  llvm::raw_ostream &log);

} // namespace kiln

#endif // KILN_COMPILE_H
