//===- Pipeline.cpp - the CPU lowering pipeline ---------------------------===//
//
// kiln -> linalg on tensors -> elementwise fusion -> entry ABI -> one-shot
// bufferization -> ownership-based deallocation -> loops -> LLVM dialect.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

const char *const mlir::kiln::kGraphPipeline =
    "func.func(kiln-fold-shapes,kiln-refine-types,kiln-fuse-norms,"
    "kiln-fuse-activations,kiln-fuse-rotary,kiln-fuse-attention,kiln-fuse-linear,"
    "kiln-fold-shapes,"
    "kiln-refine-types)";

static constexpr const char *kCpuPipeline =
    // Parsed into a pass manager anchored on builtin.module, after
    // kGraphPipeline.
    "convert-kiln-to-linalg,"
    "canonicalize,cse,"
    "func.func(linalg-fuse-elementwise-ops),"
    "kiln-lower-entry-abi,"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "buffer-deallocation-pipeline,"
    // Matmuls are tiled on buffers: tiling on tensors makes one-shot
    // analysis of the tiled loops super-linear (37 s for BERT-base).
    "func.func(kiln-tile-matmuls,linalg-generalize-named-ops,"
    "kiln-interchange-reductions,scf-forall-to-parallel,"
    "convert-linalg-to-parallel-loops),"
    "kiln-serialize-inner-parallel,"
    "%EXTERNALIZE%"
    // Outermost parallel loops become OpenMP regions; the runtime implements
    // the few libomp calls they make on its own pool (lib/Runtime/parallel.c).
    "convert-scf-to-openmp,"
    "canonicalize,"
    "lower-affine,"
    "func.func(convert-vector-to-scf{full-unroll=true}),"
    "convert-scf-to-cf,expand-strided-metadata,lower-affine,"
    "convert-math-to-funcs{convert-ctlz=false},"
    "func.func(convert-math-to-llvm),convert-math-to-libm,"
    // Buffers come from the runtime's per-run arena (lib/Runtime/arena.c).
    "convert-vector-to-llvm{vector-contract-lowering=outerproduct},"
    "finalize-memref-to-llvm{use-generic-functions=true},convert-arith-to-llvm,convert-index-to-llvm,"
    "convert-cf-to-llvm,convert-openmp-to-llvm,convert-func-to-llvm,"
    "convert-ub-to-llvm,"
    "reconcile-unrealized-casts";

void mlir::kiln::buildCpuLoweringPipeline(OpPassManager &pm,
                                          const std::string &weightsFile,
                                          int64_t minWeightBytes) {
  // The pipeline is spelled as text so that kiln-opt can print and rerun it.
  std::string text = std::string(kGraphPipeline) + "," + kCpuPipeline;
  std::string ext;
  if (!weightsFile.empty())
    ext = "kiln-externalize-weights{weights-file=" + weightsFile +
          " min-bytes=" + std::to_string(minWeightBytes) + "},";
  text.replace(text.find("%EXTERNALIZE%"), 13, ext);
  if (failed(parsePassPipeline(text, pm)))
    llvm::report_fatal_error("kiln: the built-in CPU pipeline does not parse");
}

void mlir::kiln::registerCpuPipelines() {
  PassPipelineRegistration<>(
      "kiln-cpu-lowering",
      "Lower kiln IR to the LLVM dialect for the CPU (what kiln compile runs)",
      [](OpPassManager &pm) { mlir::kiln::buildCpuLoweringPipeline(pm); });
}
