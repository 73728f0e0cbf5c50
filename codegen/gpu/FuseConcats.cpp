//===- FuseConcats.cpp - the kiln-gpu-fuse-concats pass -------------------===//
//
// A Concat bufferizes to one copy per input into a subview of the result's
// buffer, and each copy became a kernel (GPT-2's KV cache: two per key and
// value per layer; LLaMA's rotary tables). Here the copies into unit-stride
// subviews of one memref.alloc become one linalg.generic over the whole
// buffer: an element inside a part's subview loads the part's source, the
// others keep the buffer's value (a later copy wins where parts overlap, as
// in the original order). One kernel per concat.
//
//===----------------------------------------------------------------------===//

#include "codegen/BufferEffects.h"
#include "codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include "llvm/ADT/MapVector.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUFUSECONCATS
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

/// A copy into a unit-stride subview of the buffer.
struct Part {
  linalg::CopyOp copy;
  memref::SubViewOp view;
};

/// The copy's target as a unit-stride, rank-preserving subview of a
/// memref.alloc used only by this copy; else null.
memref::SubViewOp partView(linalg::CopyOp copy) {
  if (!copy.hasPureBufferSemantics())
    return {};
  auto view = copy.getOutputs()[0].getDefiningOp<memref::SubViewOp>();
  if (!view || !view->hasOneUse() ||
      !view.getSource().getDefiningOp<memref::AllocOp>() ||
      view.getSourceType().getRank() != view.getType().getRank())
    return {};
  for (OpFoldResult s : view.getMixedStrides())
    if (getConstantIntValue(s) != 1)
      return {};
  return view;
}

class ConcatFuser {
public:
  ConcatFuser(Value buffer, SmallVector<Part> parts)
      : buffer(buffer), parts(std::move(parts)) {}

  /// Whether the copies can run as one op at the last copy: nothing between
  /// the first and the last touches the buffer other than the parts, or
  /// writes memory a source may share.
  bool legal() {
    Operation *first = parts.front().copy, *last = parts.back().copy;
    Block *block = first->getBlock();
    llvm::SmallPtrSet<Operation *, 8> own;
    size_t single = 0; // one-element parts
    for (Part &p : parts) {
      if (p.copy->getBlock() != block ||
          kiln::rootBuffer(p.copy.getInputs()[0]) == buffer)
        return false;
      if (p.view.getType().hasStaticShape() &&
          p.view.getType().getNumElements() == 1)
        ++single;
      own.insert(p.copy);
      own.insert(p.view);
    }
    // One-element copies (a shape's Concat) become host code (their loops
    // fold away); fused, they would be a kernel.
    if (single == parts.size())
      return false;
    // Every use of the buffer and of its other views, outside the copies'
    // span.
    SmallVector<Value> views{buffer};
    while (!views.empty()) {
      Value v = views.pop_back_val();
      for (Operation *user : v.getUsers()) {
        if (own.contains(user))
          continue;
        if (isa<ViewLikeOpInterface, memref::ReshapeOp>(user))
          llvm::append_range(views, user->getResults());
        Operation *top = block->findAncestorOpInBlock(*user);
        if (!top)
          return false;
        if (top != last && !top->isBeforeInBlock(first) &&
            !last->isBeforeInBlock(top))
          return false; // read or written between the copies
      }
    }
    for (Operation *op = first->getNextNode(); op != last;
         op = op->getNextNode()) {
      if (own.contains(op))
        continue;
      for (Part &p : parts)
        if (kiln::mayWrite(op, p.copy.getInputs()[0]))
          return false;
    }
    return true;
  }

  void rewrite() {
    Operation *last = parts.back().copy;
    OpBuilder b(last);
    Location loc = last->getLoc();
    auto type = cast<MemRefType>(buffer.getType());
    int64_t rank = type.getRank();
    // The parts' views are used only by their copies: their offsets and
    // sizes are defined before the first copy.
    auto identity = b.getMultiDimIdentityMap(rank);
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    auto gen = linalg::GenericOp::create(
        b, loc, TypeRange{}, ValueRange{}, ValueRange{buffer},
        ArrayRef<AffineMap>{identity}, iterators,
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          SmallVector<Value> at;
          for (int64_t d = 0; d < rank; ++d)
            at.push_back(linalg::IndexOp::create(nb, nloc, d));
          Value y = select(nb, nloc, at, args[0], parts.size());
          linalg::YieldOp::create(nb, nloc, y);
        });
    (void)gen;
    for (Part &p : parts) {
      p.copy->erase();
      p.view->erase();
    }
  }

private:
  /// The value at `at` of the first `n` parts, the last of them first:
  /// its source's element when `at` is inside its view, else the earlier
  /// parts' (`old`, the buffer's value, outside them all).
  Value select(OpBuilder &b, Location loc, ArrayRef<Value> at, Value old,
               size_t n) {
    if (n == 0)
      return old;
    Part &p = parts[n - 1];
    SmallVector<OpFoldResult> offsets = p.view.getMixedOffsets();
    SmallVector<OpFoldResult> sizes = p.view.getMixedSizes();
    Value inside = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1);
    SmallVector<Value> local;
    for (size_t d = 0; d < at.size(); ++d) {
      Value off = getValueOrCreateConstantIndexOp(b, loc, offsets[d]);
      Value size = getValueOrCreateConstantIndexOp(b, loc, sizes[d]);
      Value i = arith::SubIOp::create(b, loc, at[d], off);
      // 0 <= i < size, as one unsigned compare.
      Value in = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, i,
                                       size);
      inside = arith::AndIOp::create(b, loc, inside, in);
      local.push_back(i);
    }
    auto branch = scf::IfOp::create(b, loc, old.getType(), inside,
                                    /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(branch.thenBlock());
      Value x = memref::LoadOp::create(b, loc, p.copy.getInputs()[0], local);
      scf::YieldOp::create(b, loc, x);
      b.setInsertionPointToStart(branch.elseBlock());
      Value earlier = select(b, loc, at, old, n - 1);
      scf::YieldOp::create(b, loc, earlier);
    }
    return branch.getResult(0);
  }

  Value buffer;
  SmallVector<Part> parts;
};

struct KilnGpuFuseConcats final
    : mlir::kiln::impl::KilnGpuFuseConcatsBase<KilnGpuFuseConcats> {
  void runOnOperation() override {
    // The copies into subviews of each buffer, in program order.
    llvm::MapVector<Value, SmallVector<Part>> groups;
    getOperation().walk([&](linalg::CopyOp copy) {
      if (memref::SubViewOp view = partView(copy))
        groups[view.getSource()].push_back({copy, view});
    });
    for (auto &[buffer, parts] : groups) {
      if (parts.size() < 2)
        continue;
      Block *block = parts.front().copy->getBlock();
      if (llvm::any_of(parts, [&](Part &p) {
            return p.copy->getBlock() != block;
          }))
        continue;
      llvm::sort(parts, [](Part &x, Part &y) {
        return x.copy->isBeforeInBlock(y.copy.getOperation());
      });
      ConcatFuser fuser(buffer, parts);
      if (fuser.legal())
        fuser.rewrite();
    }
  }
};

} // namespace
