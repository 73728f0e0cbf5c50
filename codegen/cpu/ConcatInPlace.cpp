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
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

#include "llvm/ADT/SetVector.h"

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

/// The kernel that computes `v` alone for the concat: one init from a
/// tensor.empty of its own, one result used only here (through at most a
/// tensor.cast used only here).
kiln::UkernelOp inPlaceProducer(Value v) {
  if (auto cast = v.getDefiningOp<tensor::CastOp>()) {
    if (!cast->hasOneUse())
      return {};
    v = cast.getSource();
  }
  auto u = v.getDefiningOp<kiln::UkernelOp>();
  if (!u || !v.hasOneUse() || u->getNumResults() != 1 ||
      u.getInits().size() != 1 || !writesChannelSlice(u.getKernel()))
    return {};
  auto init = u.getInits()[0].getDefiningOp<tensor::EmptyOp>();
  if (!init || !init->hasOneUse())
    return {};
  auto t = cast<RankedTensorType>(u->getResult(0).getType());
  if (t.getRank() != 4 || t.isDynamicDim(1))
    return {};
  return u;
}

void rewriteConcat(kiln::ConcatOp cat) {
  auto rt = dyn_cast<RankedTensorType>(cat.getType());
  if (!rt || rt.getRank() != 4)
    return;
  int64_t axis = cat.getAxis();
  if (axis < 0)
    axis += 4;
  if (axis != 1 || rt.isDynamicDim(1))
    return;
  // the parts' channel offsets (static) and their in-place producers
  SmallVector<int64_t> offsets;
  SmallVector<kiln::UkernelOp> producers;
  int64_t off = 0;
  for (Value in : cat.getInputs()) {
    auto t = dyn_cast<RankedTensorType>(in.getType());
    if (!t || t.getRank() != 4 || t.isDynamicDim(1))
      return;
    offsets.push_back(off);
    off += t.getDimSize(1);
    kiln::UkernelOp u = inPlaceProducer(in);
    if (u && u->getBlock() != cat->getBlock())
      u = {};
    producers.push_back(u);
  }
  if (off != rt.getDimSize(1))
    return;
  // the producers in program order; the concat's tensor is made before
  // the first, with its sizes (the batch and spatial dims every part has)
  SmallVector<unsigned> order;
  for (unsigned i = 0; i < producers.size(); ++i)
    if (producers[i])
      order.push_back(i);
  if (order.empty())
    return;
  llvm::sort(order, [&](unsigned a, unsigned b) {
    return producers[a]->isBeforeInBlock(producers[b]);
  });
  kiln::UkernelOp first = producers[order.front()];
  auto firstInit = first.getInits()[0].getDefiningOp<tensor::EmptyOp>();
  OpBuilder b(first);
  Location loc = cat.getLoc();
  SmallVector<OpFoldResult> initSizes = firstInit.getMixedSizes();
  SmallVector<Value> dynSizes;
  for (int64_t d = 0; d < 4; ++d) {
    if (!rt.isDynamicDim(d))
      continue;
    OpFoldResult s = initSizes[d];
    if (auto v = dyn_cast<Value>(s))
      dynSizes.push_back(v);
    else
      dynSizes.push_back(arith::ConstantIndexOp::create(
          b, loc, *getConstantIntValue(s)));
  }
  Value acc = tensor::EmptyOp::create(b, loc, rt, dynSizes);
  IntegerAttr zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  SmallVector<OpFoldResult> strides(4, one);
  for (unsigned i : order) {
    kiln::UkernelOp u = producers[i];
    auto init = u.getInits()[0].getDefiningOp<tensor::EmptyOp>();
    b.setInsertionPoint(u);
    SmallVector<OpFoldResult> offs{zero, b.getIndexAttr(offsets[i]), zero, zero};
    SmallVector<OpFoldResult> sizes = init.getMixedSizes();
    auto st = cast<RankedTensorType>(init.getType());
    Value slice = tensor::ExtractSliceOp::create(b, loc, st, acc, offs, sizes, strides);
    u.getInitsMutable()[0].set(slice);
    init->erase();
    b.setInsertionPointAfter(u);
    acc = tensor::InsertSliceOp::create(b, loc, u->getResult(0), acc, offs, sizes,
                                        strides);
  }
  // the other parts, inserted where the concat was
  b.setInsertionPoint(cat);
  for (auto [i, in] : llvm::enumerate(cat.getInputs())) {
    if (producers[i])
      continue;
    SmallVector<OpFoldResult> offs{zero, b.getIndexAttr(offsets[i]), zero, zero};
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, in);
    acc = tensor::InsertSliceOp::create(b, loc, in, acc, offs, sizes, strides);
  }
  // a producer's tensor.cast to the concat's part type goes with the concat
  llvm::SetVector<Operation *> casts;
  for (Value in : cat.getInputs())
    if (auto c = in.getDefiningOp<tensor::CastOp>())
      casts.insert(c);
  cat.getResult().replaceAllUsesWith(acc);
  cat->erase();
  for (Operation *c : casts)
    if (c->use_empty())
      c->erase();
}

struct KilnCpuConcatInPlacePass final
    : kiln::impl::KilnCpuConcatInPlaceBase<KilnCpuConcatInPlacePass> {
  void runOnOperation() override {
    SmallVector<kiln::ConcatOp> cats;
    getOperation()->walk([&](kiln::ConcatOp c) { cats.push_back(c); });
    for (kiln::ConcatOp c : cats)
      rewriteConcat(c);
  }
};

} // namespace
