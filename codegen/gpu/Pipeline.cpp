//===- Pipeline.cpp - the NVIDIA GPU (CUDA) lowering pipeline -------------===//
//
// kiln -> linalg on tensors -> bufferized buffers (shared with the CPU) ->
// parallel loops tiled and mapped to blocks x threads (kiln-gpu-map-loops)
// -> gpu.launch -> outlined kernels -> NVVM -> PTX (gpu.binary, format isa,
// libdevice linked from the CUDA toolkit) and host code in the LLVM dialect
// calling the runtime's mgpu* shim (lib/Runtime/cuda.c). The driver runs
// ptxas on each kernel module's PTX (lib/Driver/Compile.cpp).
//
// f32 matmuls become shared-memory tiled kernels (kiln-gpu-tile-matmuls;
// with --emulate-gpu the same steps as CPU loops), attention one fused
// online-softmax kernel per op (kiln-gpu-select-attention on tensors,
// kiln-gpu-attention on buffers, its operands strided views rather than
// transposed copies: kiln-fold-transposes), innermost-loop reductions (norms,
// softmax) a warp per row (kiln-gpu-reduce-rows). Copies run as kernels
// (kiln-gpu-copies-to-kernels), a Concat's copies as one
// (kiln-gpu-fuse-concats), and the transposed copies any kernel reads are
// strided views (kiln-fold-transposes with generic-readers). Launches are
// asynchronous on one stream (kiln-gpu-async-launches; the shim maps stream
// creation onto one cached stream per thread), synchronized only before host
// code that touches memory a kernel uses (shape buffers a kernel wrote, the
// outputs). All buffers are CUDA managed memory, so that host code reads
// them directly.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

// Linalg (named ops generalized) to parallel loops, tiled and mapped.
static constexpr const char *kToParallelLoops =
    "func.func(linalg-generalize-named-ops,convert-linalg-to-parallel-loops,"
    "canonicalize)";

// Mapped loops to launches and outlined kernels. Constants and other index
// computations are sunk into the launch bodies first: MLIR 22's outlining
// passes every value from above as a kernel parameter, which turned
// divisions by tile sizes into run-time 64-bit divisions and kept the
// backend from folding strides. Integer powers (math.ipowi, ONNX Pow on
// integers) become calls of generated functions before outlining, which
// copies them into the kernels' modules (NVVM cannot translate the op).
static constexpr const char *kToKernels =
    "func.func(convert-parallel-loops-to-gpu),"
    "convert-math-to-funcs{convert-ctlz=false},"
    "gpu-launch-sink-index-computations,gpu-kernel-outlining,"
    "canonicalize,cse";

// Inside each gpu.module, after nvvm-attach-target.
static constexpr const char *kKernelsToNVVM =
    "gpu.module(expand-strided-metadata,lower-affine,convert-scf-to-cf,"
    "convert-nvgpu-to-nvvm,convert-gpu-to-nvvm{index-bitwidth=64},"
    "reconcile-unrealized-casts,"
    "canonicalize,cse)";

void mlir::kiln::buildCudaLoweringPipeline(OpPassManager &pm,
                                           const CudaPipelineOptions &options) {
  addPipelineText(pm, kGraphPipeline);
  pm.addNestedPass<func::FuncOp>(createKilnGpuSelectAttention());
  addPipelineText(pm, kToBuffersPipeline);
  pm.addNestedPass<func::FuncOp>(createKilnGpuCopiesToKernels());
  // Attention's Q, K, V and output as strided views, not transposed copies
  // (the kernel loads and stores through any layout).
  KilnFoldTransposesOptions folds;
  folds.genericReaders = true;
  pm.addPass(createKilnFoldTransposes(folds));
  pm.addNestedPass<func::FuncOp>(createKilnGpuFuseConcats());
  KilnGpuAttentionOptions attention;
  attention.emulate = options.emulateOnCpu;
  attention.precision = options.precision;
  attention.mma = options.mmaAttention;
  pm.addPass(createKilnGpuAttention(attention));
  KilnGpuTileMatmulsOptions tile;
  tile.emulate = options.emulateOnCpu;
  tile.precision = options.precision;
  tile.mmaTile = options.mmaTile;
  tile.mmaLdmatrix = options.mmaLdmatrix;
  tile.splitK = options.splitK;
  pm.addPass(createKilnGpuTileMatmuls(tile));
  KilnGpuReduceRowsOptions reduce;
  reduce.emulate = options.emulateOnCpu;
  pm.addNestedPass<func::FuncOp>(createKilnGpuReduceRows(reduce));
  addPipelineText(pm, kToParallelLoops);
  KilnGpuMapLoopsOptions map;
  map.blockSize = options.blockSize;
  pm.addNestedPass<func::FuncOp>(createKilnGpuMapLoops(map));
  auto externalize = [&] {
    if (options.weightsFile.empty())
      return;
    KilnExternalizeWeightsOptions ext;
    ext.weightsFile = options.weightsFile;
    ext.minBytes = options.minWeightBytes;
    pm.addPass(createKilnExternalizeWeights(ext));
  };
  if (options.emulateOnCpu) {
    // The tiled loops (blocks, threads, guards) run as CPU loops.
    externalize();
    addHostToLLVMPasses(pm, /*gpuLaunches=*/false);
    return;
  }
  addPipelineText(pm, kToKernels);
  // A transformer's layers launch identical kernels: one copy each.
  pm.addPass(createKilnGpuDedupKernels());
  pm.addPass(createKilnGpuNameKernels());
  pm.addPass(createKilnGpuDeviceGlobals());
  pm.addPass(createKilnGpuAsyncLaunches());
  // Outputs only kernels write go where the caller wants them when that is
  // GPU memory (a decode step's KV cache); otherwise copied out as before.
  KilnOutputsInPlaceOptions outputs;
  outputs.kernelsOnly = true;
  pm.addPass(createKilnOutputsInPlace(outputs));
  pm.addPass(createKilnGpuDeviceInputs());
  externalize();
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.features = options.features;
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));
  addPipelineText(pm, kKernelsToNVVM);
  GpuModuleToBinaryPassOptions binary;
  binary.toolkitPath = options.toolkit;
  binary.compilationTarget = "isa";
  pm.addPass(createGpuModuleToBinaryPass(binary));
  addHostToLLVMPasses(pm, /*gpuLaunches=*/true);
}

void mlir::kiln::registerCudaPipelines() {
  PassPipelineRegistration<>(
      "kiln-cuda-lowering",
      "Lower kiln IR to NVVM kernels (PTX in gpu.binary) and LLVM-dialect "
      "host code (what kiln compile --target cuda runs before ptxas)",
      [](OpPassManager &pm) { mlir::kiln::buildCudaLoweringPipeline(pm, {}); });
}
