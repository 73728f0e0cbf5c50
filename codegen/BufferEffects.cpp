//===- BufferEffects.cpp - which buffers an op may touch ------------------===//

#include "codegen/BufferEffects.h"
#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;

Value kiln::rootBuffer(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (auto view = dyn_cast<ViewLikeOpInterface>(def))
      v = view.getViewSource();
    else if (auto reshape = dyn_cast<memref::ReshapeOp>(def))
      v = reshape.getSource();
    else
      break;
  }
  return v;
}

bool kiln::mayAlias(Value a, Value b) {
  Value ra = rootBuffer(a), rb = rootBuffer(b);
  return ra == rb || (!ra.getDefiningOp<memref::AllocOp>() &&
                      !rb.getDefiningOp<memref::AllocOp>());
}

bool kiln::mayWrite(Operation *op, Value mem) {
  if (isa<memref::AllocOp>(op) || isMemoryEffectFree(op))
    return false;
  auto anyAlias = [&](ValueRange values) {
    return llvm::any_of(values, [&](Value v) {
      return isa<BaseMemRefType>(v.getType()) && mayAlias(v, mem);
    });
  };
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
    bool stores = false;
    op->walk([&](Operation *inner) {
      stores |= inner != op && !isa<memref::LoadOp>(inner) &&
                !isMemoryEffectFree(inner);
    });
    return stores || anyAlias(linalgOp.getDpsInits());
  }
  if (auto u = dyn_cast<kiln::UkernelOp>(op))
    return anyAlias(u.getInits());
  if (auto call = dyn_cast<func::CallOp>(op))
    return anyAlias(call.getOperands());
  if (auto store = dyn_cast<memref::StoreOp>(op))
    return mayAlias(store.getMemref(), mem);
  if (auto dealloc = dyn_cast<memref::DeallocOp>(op))
    return mayAlias(dealloc.getMemref(), mem);
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects || op->getNumRegions())
    return true;
  SmallVector<MemoryEffects::EffectInstance> list;
  effects.getEffects(list);
  for (auto &e : list) {
    if (isa<MemoryEffects::Read>(e.getEffect()))
      continue;
    Value v = e.getValue();
    if (!v || !isa<BaseMemRefType>(v.getType()) || mayAlias(v, mem))
      return true;
  }
  return false;
}
