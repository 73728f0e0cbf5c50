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
// With `generic-readers` (the CUDA pipeline, where every kernel loads and
// stores through any view) the transposed copy of a value may also be read
// by linalg.generics (as an input or by loads in their bodies: LLaMA's
// rotary embedding), linalg.copy and linalg.transpose (GPT-2's KV-cache
// concat), and its buffer may be written again afterwards (bufferization
// reuses Q's copy for the attention output).
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/BufferEffects.h"
#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Dominance.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
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

/// A linalg.transpose that reads `buf`.
linalg::TransposeOp transposeReading(Value buf) {
  for (Operation *user : buf.getUsers())
    if (auto t = dyn_cast<linalg::TransposeOp>(user))
      if (t.getInput() == buf)
        return t;
  return {};
}

struct KilnFoldTransposes final
    : mlir::kiln::impl::KilnFoldTransposesBase<KilnFoldTransposes> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::TransposeOp> transposes;
    getOperation().walk([&](linalg::TransposeOp t) {
      if (t.hasPureBufferSemantics())
        transposes.push_back(t);
    });
    for (linalg::TransposeOp t : transposes)
      foldReads(t);
    SmallVector<mlir::kiln::UkernelOp> kernels;
    getOperation().walk([&](mlir::kiln::UkernelOp u) {
      if (takesStridedViews(u) && u.getResults().empty())
        kernels.push_back(u);
    });
    for (mlir::kiln::UkernelOp u : kernels)
      for (OpOperand &use : u.getInitsMutable())
        foldInit(u, use);
  }

  /// Whether `use` of a transposed copy may read a view of its source.
  bool viewReader(OpOperand &use) {
    Operation *op = use.getOwner();
    if (auto u = dyn_cast<mlir::kiln::UkernelOp>(op))
      return takesStridedViews(u) && u.getResults().empty() &&
             llvm::any_of(u.getInputsMutable(),
                          [&](OpOperand &in) { return &in == &use; });
    if (!genericReaders)
      return false;
    if (isa<memref::LoadOp>(op))
      return op->getParentOfType<linalg::GenericOp>() != nullptr;
    if (isa<linalg::GenericOp, linalg::CopyOp, linalg::TransposeOp>(op))
      return cast<linalg::LinalgOp>(op).isDpsInput(&use);
    return false;
  }

  /// Whether `use` writes every element of its buffer without reading it.
  static bool overwrites(OpOperand &use) {
    Operation *op = use.getOwner();
    if (auto u = dyn_cast<mlir::kiln::UkernelOp>(op))
      return takesStridedViews(u) &&
             llvm::any_of(u.getInitsMutable(),
                          [&](OpOperand &out) { return &out == &use; });
    auto l = dyn_cast<linalg::LinalgOp>(op);
    return l && l.isDpsInit(&use) && !l.payloadUsesValueFromOperand(&use) &&
           l.getNumReductionLoops() == 0 &&
           l.getMatchingIndexingMap(&use).isPermutation();
  }

  /// transpose(%src -> %t) where %t = alloc, then reads of %t (before
  /// anything writes %t again): the reads take memref.transpose %src when
  /// nothing between the copy and the last read may write %src. The copy
  /// goes, and the alloc and its deallocs when nothing else uses %t.
  void foldReads(linalg::TransposeOp t) {
    Value buf = t.getInit();
    if (!buf.getDefiningOp<memref::AllocOp>() ||
        !unitInnermost(t.getPermutation()))
      return;
    Block *block = t->getBlock();
    auto topOf = [&](Operation *user) {
      Operation *top = block->findAncestorOpInBlock(*user);
      return top && t->isBeforeInBlock(top) ? top : nullptr;
    };
    // The first op after the copy that writes all of %t again.
    Operation *next = nullptr;
    for (OpOperand &use : buf.getUses()) {
      Operation *top = use.getOwner() == t ? nullptr : topOf(use.getOwner());
      if (top && overwrites(use) && (!next || top->isBeforeInBlock(next)))
        next = top;
    }
    SmallVector<OpOperand *> reads;
    SmallVector<Operation *> deallocs;
    Operation *last = t;
    for (OpOperand &use : buf.getUses()) {
      if (use.getOwner() == t)
        continue;
      Operation *top = topOf(use.getOwner());
      if (!top)
        return;
      if (next && next->isBeforeInBlock(top))
        continue; // reads the later values
      // (The op that writes %t again may read it too: the view holds the
      // values it read.)
      if (top == next && overwrites(use))
        continue;
      if (isa<memref::DeallocOp>(use.getOwner()) && !next) {
        deallocs.push_back(use.getOwner());
        continue;
      }
      if (!viewReader(use))
        return;
      reads.push_back(&use);
      if (last->isBeforeInBlock(top))
        last = top;
    }
    if (reads.empty())
      return;
    for (Operation *op = t->getNextNode(); op != last->getNextNode();
         op = op->getNextNode())
      if (mlir::kiln::mayWrite(op, t.getInput()))
        return;
    OpBuilder b(t);
    Value view = memref::TransposeOp::create(
        b, t.getLoc(), t.getInput(),
        AffineMapAttr::get(AffineMap::getPermutationMap(
            permutationOf(t.getPermutation()), b.getContext())));
    for (OpOperand *use : reads)
      use->set(view);
    t->erase();
    if (llvm::all_of(buf.getUsers(),
                     [](Operation *u) { return isa<memref::DeallocOp>(u); })) {
      for (Operation *d : deallocs)
        d->erase();
      buf.getDefiningOp()->erase();
    }
  }

  /// outs(%o), then transpose(%o -> %dst) where %o = alloc:
  /// outs(memref.transpose %dst by the inverse permutation).
  void foldInit(mlir::kiln::UkernelOp u, OpOperand &use) {
    Value buf = use.get();
    linalg::TransposeOp t = transposeReading(buf);
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
