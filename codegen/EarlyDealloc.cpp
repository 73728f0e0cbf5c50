//===- EarlyDealloc.cpp - the kiln-early-dealloc pass ---------------------===//
//
// Frees each buffer right after its last use instead of at the end of its
// block (where ownership-based deallocation puts every dealloc), so that
// the workspace reuses blocks within a run while they are in cache. See
// the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMTypes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNEARLYDEALLOC
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

/// The last op of `block` using `alloc`'s buffer (through any op that
/// derives memrefs from it), or null when the buffer cannot be moved:
/// its address taken as a value, a second dealloc, a use outside
/// `block`. `dealloc` gets the buffer's one dealloc.
Operation *lastUse(memref::AllocOp alloc, Block *block,
                   memref::DeallocOp &dealloc) {
  Operation *last = alloc;
  SmallVector<Value> worklist{alloc.getResult()};
  llvm::SmallPtrSet<Value, 8> seen{alloc.getResult()};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (auto d = dyn_cast<memref::DeallocOp>(user)) {
        if (dealloc || d->getBlock() != block)
          return nullptr;
        dealloc = d;
        continue;
      }
      Operation *top = block->findAncestorOpInBlock(*user);
      if (!top)
        return nullptr;
      if (last->isBeforeInBlock(top))
        last = top;
      // Its address as a value this walk cannot follow.
      if (isa<memref::ExtractAlignedPointerAsIndexOp>(user))
        return nullptr;
      // Memrefs and tensors derived from the buffer (views, casts,
      // reshapes): their uses are the buffer's uses. Other results (a
      // loaded value, a dim) do not hold the buffer; a pointer might.
      for (Value r : user->getResults()) {
        if (isa<LLVM::LLVMPointerType>(r.getType()))
          return nullptr;
        if (isa<BaseMemRefType, TensorType>(r.getType()) &&
            seen.insert(r).second)
          worklist.push_back(r);
      }
    }
  }
  return dealloc ? last : nullptr;
}

struct KilnEarlyDealloc
    : mlir::kiln::impl::KilnEarlyDeallocBase<KilnEarlyDealloc> {
  void runOnOperation() override {
    SmallVector<memref::AllocOp> allocs;
    getOperation().walk([&](memref::AllocOp a) { allocs.push_back(a); });
    for (memref::AllocOp alloc : allocs) {
      memref::DeallocOp dealloc;
      Operation *last = lastUse(alloc, alloc->getBlock(), dealloc);
      if (last && last->isBeforeInBlock(dealloc))
        dealloc->moveAfter(last);
    }
  }
};

} // namespace
