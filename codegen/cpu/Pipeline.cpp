//===- Pipeline.cpp - the CPU lowering pipeline ---------------------------===//
//
// kiln -> linalg on tensors -> elementwise fusion -> entry ABI -> one-shot
// bufferization -> ownership-based deallocation -> loops -> LLVM dialect.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

const char *const mlir::kiln::kGraphPipeline =
    "func.func(kiln-widen-half,kiln-fold-shapes,kiln-refine-types,kiln-fuse-norms,"
    "kiln-fuse-activations,kiln-fuse-rotary,kiln-fuse-attention,kiln-fuse-linear,"
    "kiln-merge-linears,"
    "kiln-fold-shapes,"
    "kiln-refine-types)";

// The CPU pipeline in three textual stretches (each also a valid
// kiln-opt pipeline) around the passes that take options from the driver,
// which are built in C++: nothing from the user is spliced into text.
const char *const mlir::kiln::kToBuffersPipeline =
    "convert-kiln-to-linalg,"
    "canonicalize,cse,"
    "func.func(linalg-fuse-elementwise-ops),"
    "kiln-lower-entry-abi,"
    "one-shot-bufferize{bufferize-function-boundaries "
    "allow-return-allocs-from-loops "
    "function-boundary-type-conversion=identity-layout-map},"
    "buffer-deallocation-pipeline";

// After kiln-cpu-ukernels: matmuls the microkernels did not take (other
// element types) are tiled on buffers: tiling on tensors makes one-shot
// analysis of the tiled loops super-linear (37 s for BERT-base).
static constexpr const char *kCpuToLoops =
    "func.func(kiln-tile-matmuls,linalg-generalize-named-ops,"
    "kiln-interchange-reductions,kiln-collapse-elementwise-dims,cse,"
    "scf-forall-to-parallel,convert-linalg-to-parallel-loops,"
    "kiln-approximate-math),"
    "kiln-serialize-inner-parallel";

// After kiln-externalize-weights: the host code to the LLVM dialect, in two
// stretches so the CUDA target can put gpu-to-llvm (launches, gpu.binary)
// between them.
static constexpr const char *kHostToLLVMHead =
    // Outermost parallel loops become OpenMP regions; the runtime implements
    // the few libomp calls they make on its own pool (lib/Runtime/parallel.c).
    "convert-scf-to-openmp,"
    "canonicalize,"
    "lower-affine,"
    "func.func(convert-vector-to-scf{full-unroll=true}),"
    "convert-scf-to-cf,expand-strided-metadata,lower-affine,"
    "convert-math-to-funcs{convert-ctlz=false},"
    "func.func(convert-math-to-llvm),convert-math-to-libm,"
    // Buffers come from the model's workspace (lib/Runtime/arena.c).
    "convert-vector-to-llvm{vector-contract-lowering=outerproduct},"
    "finalize-memref-to-llvm{use-generic-functions=true},convert-arith-to-llvm,convert-index-to-llvm,"
    "convert-cf-to-llvm,convert-openmp-to-llvm";
static constexpr const char *kHostToLLVMTail =
    "convert-func-to-llvm,"
    "convert-ub-to-llvm,"
    "reconcile-unrealized-casts";

void mlir::kiln::addPipelineText(OpPassManager &pm, llvm::StringRef text) {
  // The texts are constants of this file; a parse failure is a bug here,
  // caught by every test that compiles.
  if (failed(parsePassPipeline(text, pm)))
    llvm::report_fatal_error("kiln: a built-in pipeline stretch does not parse");
}

void mlir::kiln::addHostToLLVMPasses(OpPassManager &pm, bool gpuLaunches) {
  addPipelineText(pm, kHostToLLVMHead);
  if (gpuLaunches)
    addPipelineText(pm, "gpu-to-llvm");
  addPipelineText(pm, kHostToLLVMTail);
}

void mlir::kiln::buildCpuLoweringPipeline(OpPassManager &pm,
                                          const CpuPipelineOptions &options) {
  addPipelineText(pm, kGraphPipeline);
  pm.addPass(createKilnMarkBatchSplit());
  pm.addPass(createKilnOutlineBatchHead());
  KilnCpuSelectUkernelsOptions sel;
  sel.isaName = options.ukernelIsa;
  pm.addNestedPass<func::FuncOp>(createKilnCpuSelectUkernels(sel));
  pm.addNestedPass<func::FuncOp>(createKilnCpuConcatInPlace());
  addPipelineText(pm, kToBuffersPipeline);
  pm.addPass(createKilnOutputsInPlace());
  pm.addPass(createKilnFoldTransposes());
  pm.addNestedPass<func::FuncOp>(createKilnEarlyDealloc());
  KilnCpuUkernelsOptions uk;
  uk.isaName = options.ukernelIsa;
  uk.precision = options.precision;
  uk.quantize = options.quantize;
  uk.groupSize = options.groupSize;
  uk.calibration = options.calibration;
  uk.keepFp32.assign(options.keepFp32.begin(), options.keepFp32.end());
  uk.winograd = options.winograd;
  pm.addPass(createKilnCpuUkernels(uk));
  addPipelineText(pm, kCpuToLoops);
  if (!options.weightsFile.empty()) {
    KilnExternalizeWeightsOptions ext;
    ext.weightsFile = options.weightsFile;
    ext.minBytes = options.minWeightBytes;
    pm.addPass(createKilnExternalizeWeights(ext));
  }
  addHostToLLVMPasses(pm, /*gpuLaunches=*/false);
}

void mlir::kiln::registerCpuPipelines() {
  PassPipelineRegistration<>(
      "kiln-cpu-lowering",
      "Lower kiln IR to the LLVM dialect for the CPU (what kiln compile runs)",
      [](OpPassManager &pm) { mlir::kiln::buildCpuLoweringPipeline(pm, {}); });
}
