//===- AsyncLaunches.cpp - the kiln-gpu-async-launches pass ---------------===//
//
// Outlined launches are synchronous: gpu-to-llvm makes each one a stream
// create, launch, synchronize and destroy, so the GPU idles while the host
// waits for every kernel. This chains the launches of a block on one stream
// and synchronizes only before host code that may touch memory a kernel
// uses (see Passes.td for the rules).
//
//===----------------------------------------------------------------------===//

#include "codegen/BufferEffects.h"
#include "codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/ADT/DenseSet.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUASYNCLAUNCHES
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

/// The allocation `v` views: followed through view-like ops, reshapes
/// (kiln::rootBuffer) and casts to a block argument or the result of
/// another op.
Value rootOf(Value v) {
  for (;;) {
    v = kiln::rootBuffer(v);
    auto cast = v.getDefiningOp<memref::CastOp>();
    if (!cast)
      return v;
    v = cast.getSource();
  }
}

class Synchronizer {
public:
  explicit Synchronizer(func::FuncOp fn) {
    fn.walk([&](gpu::LaunchFuncOp launch) {
      for (Value v : launch.getKernelOperands())
        if (isa<BaseMemRefType>(v.getType()))
          deviceRoots.insert(rootOf(v));
    });
  }

  void runOnBlock(Block &block) {
    Value token;
    OpBuilder b(block.getParentOp()->getContext());
    auto sync = [&](Operation *before) {
      if (!token)
        return;
      b.setInsertionPoint(before);
      gpu::WaitOp::create(b, before->getLoc(), Type(), ValueRange{token});
      token = Value();
      ++syncs;
    };
    for (Operation &op : llvm::make_early_inc_range(block)) {
      if (auto launch = dyn_cast<gpu::LaunchFuncOp>(&op)) {
        if (launch.getAsyncToken()) { // already asynchronous: leave it
          sync(&op);
          continue;
        }
        b.setInsertionPoint(&op);
        Type tokenType = gpu::AsyncTokenType::get(b.getContext());
        if (!token)
          token = gpu::WaitOp::create(b, op.getLoc(), tokenType, ValueRange{})
                      .getAsyncToken();
        std::optional<gpu::KernelDim3> cluster;
        if (launch.hasClusterSize())
          cluster = launch.getClusterSizeOperandValues();
        auto async = gpu::LaunchFuncOp::create(
            b, op.getLoc(), launch.getKernel(),
            launch.getGridSizeOperandValues(),
            launch.getBlockSizeOperandValues(),
            launch.getDynamicSharedMemorySize(), launch.getKernelOperands(),
            tokenType, ValueRange{token}, cluster);
        async->setDiscardableAttrs(op.getDiscardableAttrDictionary());
        token = async.getAsyncToken();
        op.erase();
        ++launches;
        continue;
      }
      if (op.hasTrait<OpTrait::IsTerminator>() || mayTouchDevice(&op))
        sync(&op);
      for (Region &region : op.getRegions())
        for (Block &inner : region)
          runOnBlock(inner);
    }
  }

  int64_t launches = 0, syncs = 0;

private:
  bool deviceMemory(Value v) {
    Value root = rootOf(v);
    return isa<BlockArgument>(root) || deviceRoots.contains(root);
  }

  bool anyDeviceMemref(ValueRange values) {
    return llvm::any_of(values, [&](Value v) {
      return isa<BaseMemRefType>(v.getType()) && deviceMemory(v);
    });
  }

  /// Whether host op `op` may read or write memory a kernel uses.
  bool mayTouchDevice(Operation *op) {
    if (isa<memref::AllocOp, memref::AllocaOp>(op))
      return false;
    if (auto dealloc = dyn_cast<memref::DeallocOp>(op))
      return deviceMemory(dealloc.getMemref());
    if (auto reshape = dyn_cast<memref::ReshapeOp>(op))
      return deviceMemory(reshape.getShape());
    if (auto call = dyn_cast<func::CallOp>(op))
      return anyDeviceMemref(call.getOperands());
    if (op->getNumRegions())
      return !isMemoryEffectFree(op);
    auto effects = dyn_cast<MemoryEffectOpInterface>(op);
    if (!effects)
      return !isMemoryEffectFree(op);
    SmallVector<MemoryEffects::EffectInstance> list;
    effects.getEffects(list);
    for (auto &e : list) {
      if (isa<MemoryEffects::Allocate, MemoryEffects::Free>(e.getEffect()) &&
          e.getValue() && !anyDeviceMemref(e.getValue()))
        continue;
      Value v = e.getValue();
      if (!v || !isa<BaseMemRefType>(v.getType()) || deviceMemory(v))
        return true;
    }
    return false;
  }

  llvm::DenseSet<Value> deviceRoots;
};

struct KilnGpuAsyncLaunches final
    : mlir::kiln::impl::KilnGpuAsyncLaunchesBase<KilnGpuAsyncLaunches> {
  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      if (fn.isExternal())
        continue;
      Synchronizer s(fn);
      for (Block &block : fn.getBody())
        s.runOnBlock(block);
    }
  }
};

} // namespace
