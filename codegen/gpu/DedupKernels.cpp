//===- DedupKernels.cpp - the kiln-gpu-dedup-kernels pass -----------------===//
//
// Outlining makes one kernel module per launch, so the N layers of a
// transformer give N copies of each of its kernels, every one lowered to
// NVVM, to PTX and through ptxas, embedded in the library and loaded by the
// driver. Kernels that differ only in their names are kept once here, and
// every launch calls the one kept (DESIGN: identical kernels once).
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUDEDUPKERNELS
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

/// The module's only kernel function, or null when it has none or several.
gpu::GPUFuncOp soleKernel(gpu::GPUModuleOp module) {
  gpu::GPUFuncOp found;
  for (auto fn : module.getOps<gpu::GPUFuncOp>()) {
    if (!fn.isKernel())
      continue;
    if (found)
      return {};
    found = fn;
  }
  return found;
}

/// The module printed with its own and its kernel's names replaced, without
/// locations: two modules print the same exactly when they compute the same.
std::string canonicalText(gpu::GPUModuleOp module, gpu::GPUFuncOp kernel) {
  MLIRContext *ctx = module.getContext();
  StringAttr moduleName = SymbolTable::getSymbolName(module);
  StringAttr kernelName = SymbolTable::getSymbolName(kernel);
  auto canonical = StringAttr::get(ctx, "kiln_kernel");
  SymbolTable::setSymbolName(module, canonical);
  SymbolTable::setSymbolName(kernel, canonical);
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os, OpPrintingFlags().useLocalScope());
  SymbolTable::setSymbolName(module, moduleName);
  SymbolTable::setSymbolName(kernel, kernelName);
  return text;
}

struct KilnGpuDedupKernels final
    : mlir::kiln::impl::KilnGpuDedupKernelsBase<KilnGpuDedupKernels> {
  void runOnOperation() override {
    ModuleOp top = getOperation();
    // Each kernel module's launches, modules in order of their first launch.
    llvm::MapVector<Operation *, SmallVector<gpu::LaunchFuncOp>> launches;
    SymbolTable symbols(top);
    top.walk([&](gpu::LaunchFuncOp launch) {
      if (auto module =
              symbols.lookup<gpu::GPUModuleOp>(launch.getKernelModuleName()))
        launches[module].push_back(launch);
    });
    llvm::StringMap<gpu::GPUModuleOp> kept;
    for (auto &[op, calls] : launches) {
      auto module = cast<gpu::GPUModuleOp>(op);
      gpu::GPUFuncOp kernel = soleKernel(module);
      if (!kernel)
        continue;
      auto [it, fresh] = kept.try_emplace(canonicalText(module, kernel), module);
      if (fresh)
        continue;
      gpu::GPUModuleOp same = it->second;
      auto ref = SymbolRefAttr::get(
          SymbolTable::getSymbolName(same),
          {FlatSymbolRefAttr::get(SymbolTable::getSymbolName(soleKernel(same)))});
      bool all = true;
      for (gpu::LaunchFuncOp launch : calls) {
        if (launch.getKernelName() == SymbolTable::getSymbolName(kernel))
          launch.setKernelAttr(ref);
        else
          all = false;
      }
      // A module some other op still names stays.
      if (all && SymbolTable::symbolKnownUseEmpty(module, top))
        symbols.erase(module);
    }
  }
};

} // namespace
