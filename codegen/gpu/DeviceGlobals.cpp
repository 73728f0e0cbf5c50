//===- DeviceGlobals.cpp - the kiln-gpu-device-globals pass ---------------===//
//
// Constant buffers (weights, folded tables) live in the host library; the
// kernels need them in memory the GPU can read. Each host use of a global
// becomes a call that returns the runtime's device-resident copy, made once
// per process.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/RuntimeCalls.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/Support/raw_ostream.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUDEVICEGLOBALS
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

/// The element types and ranks lib/Runtime/cuda.c has an entry for.
bool runtimeHasEntry(MemRefType t) {
  Type e = t.getElementType();
  bool known = e.isF32() || e.isF64() || e.isF16() || e.isBF16() ||
               (isa<IntegerType>(e) && llvm::is_contained(
                                           ArrayRef<unsigned>{1, 8, 16, 32, 64},
                                           e.getIntOrFloatBitWidth()));
  return known && t.getRank() <= 6 && t.getLayout().isIdentity();
}

struct KilnGpuDeviceGlobals final
    : mlir::kiln::impl::KilnGpuDeviceGlobalsBase<KilnGpuDeviceGlobals> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder b(&getContext());
    SymbolTable symbols(module);
    llvm::StringMap<int64_t> ids;
    SmallVector<memref::GetGlobalOp> gets;
    for (auto fn : module.getOps<func::FuncOp>())
      fn.walk([&](memref::GetGlobalOp get) { gets.push_back(get); });
    for (memref::GetGlobalOp get : gets) {
      MemRefType type = get.getType();
      if (!runtimeHasEntry(type)) {
        get.emitError("kiln-gpu-device-globals: no device copy for global @")
            << get.getName() << " of type " << type
            << " (supported: float and integer elements, rank <= 6, "
               "identity layout)";
        return signalPassFailure();
      }
      auto [it, fresh] = ids.try_emplace(get.getName(), (int64_t)ids.size());
      (void)fresh;
      std::string name;
      llvm::raw_string_ostream os(name);
      os << "kiln_rt_gpu_global_" << type.getElementType() << "_r"
         << type.getRank();
      auto dynType = mlir::kiln::dynamicShaped(type);
      auto decl = mlir::kiln::runtimeDecl(
          module, symbols, name,
          b.getFunctionType({dynType, b.getI64Type()}, {dynType}), get.getLoc());
      b.setInsertionPointAfter(get);
      Value host = get.getResult();
      if (dynType != type)
        host = memref::CastOp::create(b, get.getLoc(), dynType, get);
      Value id = arith::ConstantOp::create(b, get.getLoc(),
                                           b.getI64IntegerAttr(it->second));
      auto call =
          func::CallOp::create(b, get.getLoc(), decl, ValueRange{host, id});
      Value view = call.getResult(0);
      if (dynType != type)
        view = memref::CastOp::create(b, get.getLoc(), type, view);
      get.getResult().replaceAllUsesExcept(
          view, host == get.getResult() ? call.getOperation()
                                        : host.getDefiningOp());
    }
  }
};

} // namespace
