//===- ConcatInPlace.cpp - the kiln-cpu-concat-in-place pass --------------===//
//
// A channel concat of kernel outputs (SqueezeNet's fire modules, the
// Inception blocks of GoogLeNet and Inception-v3, ShuffleNet's units)
// copied every part into a fresh tensor. Here each part that a
// kiln.ukernel writes, and that nothing else reads, is written by that
// kernel straight into its channel slice of the concat's tensor:
//
//   %e = tensor.empty(...)                      (the concat's shape)
//   %s = tensor.extract_slice %acc[0, off, 0, 0] [n, c, h, w] [1, 1, 1, 1]
//   %r = kiln.ukernel "conv2d_f32"(...) outs(%s)
//   %acc' = tensor.insert_slice %r into %acc[0, off, 0, 0] ...
//
// which one-shot bufferization turns into a kernel writing through a
// subview, no copy (the matching extract_slice / insert_slice pair). The
// kernels taken write any image stride with dense images (the
// convolutions, poolings and the channel affine); other parts are
// inserted as before.
//
// Concats of the first parts of a larger one (DenseNet: every layer reads
// the concat of the block's features so far, the block's output is the
// concat of all) share its tensor as a family: each feature is written
// once into its slice, each smaller concat is the tensor's leading
// channels (an extract_slice, a subview after bufferization) where its
// users read strided images (the batch norm's channel_affine_f32, the
// poolings). DenseNet-121 copied 593 buffers per run, now 8.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNCPUCONCATINPLACE
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

/// Kernels whose one output may be a channel slice of a larger NCHW
/// tensor: they step images by the output's own stride and need only each
/// image's channels dense (lib/Runtime/ukernels: conv_f32.c and the
/// convolution paths it calls, pool_f32.c, affine_f32.c).
bool writesChannelSlice(StringRef kernel) {
  return kernel == "conv2d_f32" || kernel == "maxpool2d_f32" ||
         kernel == "avgpool2d_f32" || kernel == "channel_affine_f32";
}

/// Kernels that read an input whose images lie further apart than their
/// size (the leading channels of a larger tensor): they step images by the
/// input's own stride and need each image's planes dense (pool_f32.c,
/// affine_f32.c). A prefix concat becomes such a view only where every
/// user is one of them (DenseNet: each layer's batch norm).
bool readsChannelSlice(Operation *op) {
  auto u = dyn_cast<kiln::UkernelOp>(op);
  if (!u)
    return false;
  StringRef k = u.getKernel();
  return k == "channel_affine_f32" || k == "maxpool2d_f32" ||
         k == "avgpool2d_f32" || k == "global_avgpool_f32";
}

/// A channel concat this pass takes: rank 4 along dim 1, static channel
/// counts, no value twice.
bool eligible(kiln::ConcatOp cat) {
  auto rt = dyn_cast<RankedTensorType>(cat.getType());
  if (!rt || rt.getRank() != 4 || rt.isDynamicDim(1))
    return false;
  int64_t axis = cat.getAxis();
  if ((axis < 0 ? axis + 4 : axis) != 1)
    return false;
  llvm::SmallPtrSet<Value, 8> seen;
  int64_t c = 0;
  for (Value in : cat.getInputs()) {
    auto t = dyn_cast<RankedTensorType>(in.getType());
    if (!t || t.getRank() != 4 || t.isDynamicDim(1) || !seen.insert(in).second)
      return false;
    c += t.getDimSize(1);
  }
  return c == rt.getDimSize(1);
}

/// `p`'s parts are the first parts of `m`'s, in order (DenseNet: each
/// layer's input is the concat of the block's features so far, the block's
/// output the concat of all).
bool isPrefix(kiln::ConcatOp p, kiln::ConcatOp m) {
  auto a = p.getInputs(), b = m.getInputs();
  return a.size() < b.size() && llvm::equal(a, b.take_front(a.size()));
}

/// One concat and the concats of its first parts: one tensor holds them
/// all, the smaller ones are its leading channels.
struct Family {
  kiln::ConcatOp top;
  SmallVector<kiln::ConcatOp> prefixes;
};

/// The kernel that computes part `j` of the family for its concats alone:
/// one init from a tensor.empty of its own, its result used only as part
/// j of the family's concats (through at most a tensor.cast used only
/// there) and by tensor.dim (the batch size read for later tensors), in
/// the family's block.
kiln::UkernelOp inPlaceProducer(Value v, unsigned j,
                                const llvm::SmallPtrSetImpl<Operation *> &members,
                                Block *block) {
  // (a tensor.dim of it reads only its shape, which stays)
  for (OpOperand &use : v.getUses())
    if (!isa<tensor::DimOp>(use.getOwner()) &&
        (!members.contains(use.getOwner()) || use.getOperandNumber() != j))
      return {};
  Value r = v;
  if (auto cast = v.getDefiningOp<tensor::CastOp>()) {
    r = cast.getSource();
    if (!r.hasOneUse())
      return {};
  }
  auto u = r.getDefiningOp<kiln::UkernelOp>();
  if (!u || u->getNumResults() != 1 || u.getInits().size() != 1 ||
      !writesChannelSlice(u.getKernel()) || u->getBlock() != block)
    return {};
  auto init = u.getInits()[0].getDefiningOp<tensor::EmptyOp>();
  if (!init || !init->hasOneUse())
    return {};
  auto t = cast<RankedTensorType>(u->getResult(0).getType());
  if (t.getRank() != 4 || t.isDynamicDim(1))
    return {};
  return u;
}

void rewriteFamily(Family &f) {
  kiln::ConcatOp top = f.top;
  auto rt = cast<RankedTensorType>(top.getType());
  Block *block = top->getBlock();
  llvm::SmallPtrSet<Operation *, 16> members;
  members.insert(top);
  for (kiln::ConcatOp p : f.prefixes)
    members.insert(p);
  // the parts' channel offsets and in-place producers
  SmallVector<int64_t> offsets;
  SmallVector<kiln::UkernelOp> producers;
  int64_t off = 0;
  for (auto [j, in] : llvm::enumerate(top.getInputs())) {
    offsets.push_back(off);
    off += cast<RankedTensorType>(in.getType()).getDimSize(1);
    producers.push_back(inPlaceProducer(in, j, members, block));
  }
  bool anyProducer = llvm::any_of(producers, [](kiln::UkernelOp u) { return !!u; });
  if (!anyProducer && f.prefixes.empty())
    return;
  // the events in program order: producers write, concats read
  DenseMap<Operation *, unsigned> producerOf;
  for (auto [j, u] : llvm::enumerate(producers))
    if (u)
      producerOf[u] = j;
  Operation *first = nullptr;
  for (Operation &op : *block)
    if (producerOf.count(&op) || members.contains(&op)) {
      first = &op;
      break;
    }
  // the family's tensor, made before the first event, its batch and
  // spatial sizes from that event (a kernel's init, or a concat's first
  // part)
  OpBuilder b(first);
  Location loc = top.getLoc();
  SmallVector<OpFoldResult> sizes;
  if (auto it = producerOf.find(first); it != producerOf.end())
    sizes = cast<kiln::UkernelOp>(first).getInits()[0].getDefiningOp<tensor::EmptyOp>()
                .getMixedSizes();
  else
    sizes = tensor::getMixedSizes(b, loc, cast<kiln::ConcatOp>(first).getInputs()[0]);
  SmallVector<Value> dynSizes;
  for (int64_t d = 0; d < 4; ++d) {
    if (!rt.isDynamicDim(d))
      continue;
    if (auto v = dyn_cast<Value>(sizes[d]))
      dynSizes.push_back(v);
    else
      dynSizes.push_back(
          arith::ConstantIndexOp::create(b, loc, *getConstantIntValue(sizes[d])));
  }
  Value acc = tensor::EmptyOp::create(b, loc, rt, dynSizes);
  IntegerAttr zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  SmallVector<OpFoldResult> strides(4, one);
  auto sliceSizes = [&](OpBuilder &ob, int64_t channels) {
    SmallVector<OpFoldResult> s = tensor::getMixedSizes(ob, loc, acc);
    s[1] = ob.getIndexAttr(channels);
    return s;
  };
  SmallVector<bool> inserted(producers.size(), false);
  llvm::SetVector<Operation *> casts;
  SmallVector<Operation *> events;
  for (Operation &op : llvm::make_range(first->getIterator(), std::next(top->getIterator())))
    if (producerOf.count(&op) || members.contains(&op))
      events.push_back(&op);
  for (Operation *op : events) {
    if (auto it = producerOf.find(op); it != producerOf.end()) {
      unsigned j = it->second;
      auto u = cast<kiln::UkernelOp>(op);
      auto init = u.getInits()[0].getDefiningOp<tensor::EmptyOp>();
      b.setInsertionPoint(u);
      SmallVector<OpFoldResult> offs{zero, b.getIndexAttr(offsets[j]), zero, zero};
      SmallVector<OpFoldResult> isz = init.getMixedSizes();
      Value slice = tensor::ExtractSliceOp::create(
          b, loc, cast<RankedTensorType>(init.getType()), acc, offs, isz, strides);
      u.getInitsMutable()[0].set(slice);
      init->erase();
      b.setInsertionPointAfter(u);
      acc = tensor::InsertSliceOp::create(b, loc, u->getResult(0), acc, offs, isz,
                                          strides);
      inserted[j] = true;
      continue;
    }
    // a concat of the family: its parts not written yet are copied in,
    // then it is the leading channels of the family's tensor
    auto cat = cast<kiln::ConcatOp>(op);
    b.setInsertionPoint(cat);
    int64_t channels = 0;
    for (auto [j, in] : llvm::enumerate(cat.getInputs())) {
      int64_t c = cast<RankedTensorType>(in.getType()).getDimSize(1);
      channels += c;
      if (auto cst = in.getDefiningOp<tensor::CastOp>())
        casts.insert(cst);
      if (inserted[j])
        continue;
      SmallVector<OpFoldResult> offs{zero, b.getIndexAttr(offsets[j]), zero, zero};
      acc = tensor::InsertSliceOp::create(b, loc, in, acc, offs,
                                          tensor::getMixedSizes(b, loc, in), strides);
      inserted[j] = true;
    }
    Value repl = acc;
    if (cat != top) {
      SmallVector<OpFoldResult> offs(4, zero);
      repl = tensor::ExtractSliceOp::create(b, loc, acc, offs, sliceSizes(b, channels),
                                            strides);
    }
    if (repl.getType() != cat.getType())
      repl = tensor::CastOp::create(b, loc, cat.getType(), repl);
    cat.getResult().replaceAllUsesWith(repl);
    cat->erase();
  }
  // the producers' casts to the concats' part types went with the concats
  for (Operation *c : casts)
    if (c->use_empty())
      c->erase();
}

/// The families of a function: each eligible concat that is no other's
/// prefix, with the eligible concats that are its prefix and no other
/// one's.
SmallVector<Family> families(Operation *fn) {
  SmallVector<kiln::ConcatOp> cats;
  fn->walk([&](kiln::ConcatOp c) {
    if (eligible(c))
      cats.push_back(c);
  });
  SmallVector<Family> out;
  DenseMap<Operation *, unsigned> topIndex;
  for (kiln::ConcatOp c : cats) {
    bool isTop = llvm::none_of(cats, [&](kiln::ConcatOp d) {
      return d->getBlock() == c->getBlock() && isPrefix(c, d);
    });
    if (isTop) {
      topIndex[c] = out.size();
      out.push_back({c, {}});
    }
  }
  for (kiln::ConcatOp c : cats) {
    if (topIndex.count(c))
      continue;
    SmallVector<unsigned> tops;
    for (auto [i, f] : llvm::enumerate(out))
      if (f.top->getBlock() == c->getBlock() && isPrefix(c, f.top))
        tops.push_back(i);
    // (tensor.dim users read the batch size: the slice has it too)
    if (tops.size() == 1 && llvm::all_of(c->getUsers(), [](Operation *u) {
          return readsChannelSlice(u) || isa<tensor::DimOp>(u);
        }))
      out[tops[0]].prefixes.push_back(c);
  }
  return out;
}

struct KilnCpuConcatInPlacePass final
    : kiln::impl::KilnCpuConcatInPlaceBase<KilnCpuConcatInPlacePass> {
  void runOnOperation() override {
    for (Family &f : families(getOperation()))
      rewriteFamily(f);
  }
};

} // namespace
