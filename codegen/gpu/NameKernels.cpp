//===- NameKernels.cpp - the kiln-gpu-name-kernels pass -------------------===//
//
// Outlined kernels are all called `main_kernel`; this names each after the
// ONNX node it computes, so a profile, a saved PTX file or a CUDA error
// points at the model.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUNAMEKERNELS
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

/// The first NameLoc's name inside `loc`, or "".
std::string nodeName(Location loc) {
  std::string found;
  loc->walk([&](Location l) {
    if (auto n = dyn_cast<NameLoc>(l)) {
      found = n.getName().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return found;
}

/// Letters, digits and single '_' separators, at most 48 characters.
std::string sanitize(StringRef name) {
  std::string out;
  for (char c : name) {
    if (out.size() >= 48)
      break;
    if (llvm::isAlnum(c))
      out += c;
    else if (!out.empty() && out.back() != '_')
      out += '_';
  }
  while (!out.empty() && out.back() == '_')
    out.pop_back();
  return out;
}

struct KilnGpuNameKernels final
    : mlir::kiln::impl::KilnGpuNameKernelsBase<KilnGpuNameKernels> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    MLIRContext *ctx = &getContext();
    int64_t n = 0;
    SmallVector<gpu::LaunchFuncOp> launches;
    for (auto fn : module.getOps<func::FuncOp>())
      fn.walk([&](gpu::LaunchFuncOp l) { launches.push_back(l); });
    for (gpu::LaunchFuncOp launch : launches) {
      auto kernelModule =
          symbols.lookup<gpu::GPUModuleOp>(launch.getKernelModuleName());
      if (!kernelModule)
        continue;
      auto kernel = SymbolTable::lookupSymbolIn(kernelModule,
                                                launch.getKernelName());
      // Outlining makes one module per launch; a module launched twice keeps
      // its first name.
      if (!kernel || kernelModule->hasAttr("kiln.named"))
        continue;
      std::string node = sanitize(nodeName(launch.getLoc()));
      std::string name = "k" + std::to_string(n++) + (node.empty() ? "" : "_" + node);
      if (failed(symbols.rename(kernelModule, StringAttr::get(ctx, name))))
        continue;
      SymbolTable(kernelModule).setSymbolName(kernel, StringAttr::get(ctx, name));
      kernelModule->setAttr("kiln.named", UnitAttr::get(ctx));
      auto ref = SymbolRefAttr::get(ctx, name, {FlatSymbolRefAttr::get(ctx, name)});
      for (gpu::LaunchFuncOp other : launches)
        if (other.getKernelModuleName() == kernelModule.getName())
          other.setKernelAttr(ref);
    }
    module.walk([](gpu::GPUModuleOp m) { m->removeAttr("kiln.named"); });
  }
};

} // namespace
