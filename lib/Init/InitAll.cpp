//===- InitAll.cpp - register kiln dialects and passes --------------------===//
//
// Implements include/kiln/InitAll.h.
//
//===----------------------------------------------------------------------===//

#include "kiln/InitAll.h"

#include "dialects/kiln/KilnDialect.h"
#include "passes/Passes.h"
#include "codegen/Passes.h"

#include "mlir/InitAllPasses.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"

void kiln::registerKilnDialects(mlir::DialectRegistry &registry) {
  registry.insert<mlir::kiln::KilnDialect, mlir::func::FuncDialect,
                  mlir::arith::ArithDialect, mlir::math::MathDialect,
                  mlir::tensor::TensorDialect, mlir::linalg::LinalgDialect,
                  mlir::scf::SCFDialect>();
  // Lowering passes and bufferization need the rest, with their interfaces.
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::kiln::registerUkernelBufferization(registry);
  // gpu-module-to-binary translates kernels to LLVM IR (NVVM, GPU) inside
  // the pipeline; the driver translates the host module afterwards.
  mlir::registerAllToLLVMIRTranslations(registry);
}

void kiln::registerAllKilnPasses() {
  mlir::kiln::registerKilnPasses();
  mlir::kiln::registerKilnCodegenPasses();
  mlir::kiln::registerCpuPipelines();
  mlir::kiln::registerCudaPipelines();
  // The CPU pipeline is built from upstream passes by name.
  mlir::registerAllPasses();
}
