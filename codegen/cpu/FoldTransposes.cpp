//===- FoldTransposes.cpp - the kiln-fold-transposes pass -----------------===//
//
// Attention's operands as strided views instead of transposed copies. A
// transformer's Q, K and V reach kiln.attention as [B, S, H, D] reshaped and
// transposed to [B, H, S, D], and its output goes back the same way; on
// buffers each transpose was a full copy (four per layer: BERT-base copied
// 19 MB per run, 6.5% of its bf16 time in the generated code's copy
// loops). The runtime's attention kernel reads and writes any strides with
// unit innermost stride, so the copies are not needed.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Dominance.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNFOLDTRANSPOSES
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

/// The kernels whose operands may be any strided view with a unit
/// innermost stride (lib/Runtime/ukernels/attention_f32.c).
bool takesStridedViews(mlir::kiln::UkernelOp u) {
  return u.getKernel() == "attention_f32";
}

/// `buf` is a memref.alloc used only by `writer` or `reader` (one of each
/// given) and memref.deallocs, which are collected.
bool onlyUsedBy(Value buf, Operation *a, Operation *b,
                SmallVectorImpl<Operation *> &deallocs) {
  if (!buf.getDefiningOp<memref::AllocOp>())
    return false;
  for (Operation *user : buf.getUsers()) {
    if (isa<memref::DeallocOp>(user))
      deallocs.push_back(user);
    else if (user != a && user != b)
      return false;
  }
  return true;
}

/// Nothing strictly between `from` and `to` (the same block, `from` first)
/// writes or frees memory, other than linalg.transposes into fresh
/// memref.allocs (the other operands' copies) and deallocs of `except`.
bool quietBetween(Operation *from, Operation *to) {
  if (from->getBlock() != to->getBlock() || !from->isBeforeInBlock(to))
    return false;
  for (Operation *op = from->getNextNode(); op && op != to;
       op = op->getNextNode()) {
    if (auto t = dyn_cast<linalg::TransposeOp>(op))
      if (t.getInit().getDefiningOp<memref::AllocOp>())
        continue;
    if (isa<memref::AllocOp>(op) || isMemoryEffectFree(op))
      continue;
    if (auto e = dyn_cast<MemoryEffectOpInterface>(op))
      if (e.onlyHasEffect<MemoryEffects::Read>())
        continue;
    return false;
  }
  return true;
}

/// A linalg.transpose that writes `buf` (writes) or reads it.
linalg::TransposeOp transposeOf(Value buf, bool writes) {
  for (Operation *user : buf.getUsers())
    if (auto t = dyn_cast<linalg::TransposeOp>(user))
      if ((writes ? t.getInit() : t.getInput()) == buf)
        return t;
  return {};
}

struct KilnFoldTransposes final
    : mlir::kiln::impl::KilnFoldTransposesBase<KilnFoldTransposes> {
  void runOnOperation() override {
    SmallVector<mlir::kiln::UkernelOp> kernels;
    getOperation().walk([&](mlir::kiln::UkernelOp u) {
      if (takesStridedViews(u) && u.getResults().empty())
        kernels.push_back(u);
    });
    for (mlir::kiln::UkernelOp u : kernels) {
      for (OpOperand &use : u.getInputsMutable())
        foldInput(u, use);
      for (OpOperand &use : u.getInitsMutable())
        foldInit(u, use);
    }
  }

  /// ins(%t) where %t = alloc, transpose(%src -> %t): ins(memref.transpose
  /// %src). The copy, the alloc and its deallocs go.
  void foldInput(mlir::kiln::UkernelOp u, OpOperand &use) {
    Value buf = use.get();
    linalg::TransposeOp t = transposeOf(buf, /*writes=*/true);
    SmallVector<Operation *> deallocs;
    if (!t || !onlyUsedBy(buf, t, u, deallocs) || !quietBetween(t, u) ||
        !unitInnermost(t.getPermutation()))
      return;
    OpBuilder b(u);
    Value view = memref::TransposeOp::create(
        b, u.getLoc(), t.getInput(),
        AffineMapAttr::get(AffineMap::getPermutationMap(
            permutationOf(t.getPermutation()), b.getContext())));
    use.set(view);
    erase(t, deallocs, buf);
  }

  /// outs(%o), then transpose(%o -> %dst) where %o = alloc:
  /// outs(memref.transpose %dst by the inverse permutation).
  void foldInit(mlir::kiln::UkernelOp u, OpOperand &use) {
    Value buf = use.get();
    linalg::TransposeOp t = transposeOf(buf, /*writes=*/false);
    SmallVector<Operation *> deallocs;
    if (!t || !onlyUsedBy(buf, t, u, deallocs) || !quietBetween(u, t) ||
        !unitInnermost(t.getPermutation()))
      return;
    Value dst = t.getInit();
    for (Value operand : u->getOperands())
      if (operand == dst)
        return;
    // dst must exist at the kernel: an alloc after it moves up when its
    // sizes do
    if (Operation *def = dst.getDefiningOp()) {
      DominanceInfo dom(u->getParentOp());
      if (!dom.properlyDominates(def, u)) {
        auto alloc = dyn_cast<memref::AllocOp>(def);
        if (!alloc || alloc->getBlock() != u->getBlock())
          return;
        for (Value size : alloc->getOperands())
          if (!dom.properlyDominates(size, u))
            return;
        alloc->moveBefore(u);
      }
    }
    ArrayRef<int64_t> perm = t.getPermutation();
    SmallVector<unsigned> inverse(perm.size());
    for (auto [i, p] : llvm::enumerate(perm))
      inverse[p] = i;
    OpBuilder b(u);
    Value view = memref::TransposeOp::create(
        b, u.getLoc(), dst,
        AffineMapAttr::get(AffineMap::getPermutationMap(inverse, b.getContext())));
    use.set(view);
    erase(t, deallocs, buf);
  }

  static SmallVector<unsigned> permutationOf(ArrayRef<int64_t> perm) {
    return SmallVector<unsigned>(perm.begin(), perm.end());
  }
  /// The innermost dim stays innermost (the kernel's unit stride).
  static bool unitInnermost(ArrayRef<int64_t> perm) {
    return !perm.empty() && perm.back() == (int64_t)perm.size() - 1;
  }
  static void erase(linalg::TransposeOp t, ArrayRef<Operation *> deallocs,
                    Value buf) {
    t->erase();
    for (Operation *d : deallocs)
      d->erase();
    buf.getDefiningOp()->erase();
  }
};

} // namespace
