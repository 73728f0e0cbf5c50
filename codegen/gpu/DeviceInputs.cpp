//===- DeviceInputs.cpp - the kiln-gpu-device-inputs pass -----------------===//
//
// A run's inputs are staged into the workspace before the kernels read them.
// An input that only kernels read may instead be read where the caller
// keeps it when that is GPU memory (a decode step's KV cache, already on
// the GPU): the runtime then skips the copy. This pass finds those inputs
// from the host code's uses of @main's arguments.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/gpu/KernelUses.h"

#include "mlir/IR/Builders.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUDEVICEINPUTS
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

struct KilnGpuDeviceInputs final
    : mlir::kiln::impl::KilnGpuDeviceInputsBase<KilnGpuDeviceInputs> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal())
      return;
    Builder b(&getContext());
    SmallVector<int64_t> inputs;
    for (BlockArgument arg : main.getArguments())
      if (isa<MemRefType>(arg.getType()) && mlir::kiln::onlyKernelsTouch(arg))
        inputs.push_back(arg.getArgNumber());
    module->setAttr("kiln.device_inputs", b.getDenseI64ArrayAttr(inputs));
  }
};

} // namespace
