//===- OutlineBatchHead.cpp - the kiln-outline-batch-head pass ------------===//
//
// A model whose batch the runtime may run image by image
// (kiln-mark-batch-split) ends, for a CNN, in a classifier head: a few
// dense layers on one small vector per image (MobileNetV3's 576 -> 1024 ->
// 1000). Run per image, each image streams the head's weights again for 2
// FLOPs per weight; run on the whole batch, the weights are read once. The
// pass moves that tail of @main into its own function, @kiln_head, taking
// the one value every path from the inputs to the outputs goes through (the
// cut). @main then returns the cut; the runtime runs @main image by image
// (or on the whole batch), collects the cut's rows, and runs @kiln_head
// once on the batch.
//
// The cut is the earliest point in @main's op order where exactly one
// non-constant value crosses into the rest, such that every value of the
// rest is a vector per image of at most kMaxHeadImageBytes (the head runs
// dense layers on pooled features, nothing that reuses a weight within an
// image) and the rest reads at least kMinHeadWeightBytes of constant
// matrices (otherwise there is nothing to share). @main must keep an op on
// per-image maps or sequences: a model on vectors alone keeps its form. Constants the head reads move into it (or are copied, when @main
// reads them too).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNOUTLINEBATCHHEAD
#include "passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

constexpr int64_t kMaxHeadImageBytes = 64 * 1024;
constexpr int64_t kMinHeadWeightBytes = 64 * 1024;

/// An op that makes a value from nothing (a weight or other constant).
bool isConstantLike(Operation *op) {
  return op && op->getNumOperands() == 0 && op->getNumRegions() == 0 &&
         isPure(op);
}

/// Whether one image (dims 1..) of `v` is a vector of at most
/// kMaxHeadImageBytes: [N, C] or [N, C, 1, ...], static but for dim 0. A
/// head on per-image maps or sequences ([N, C, H, W], [N, T, C]) would take
/// convolutions or per-token layers, whose weights each image reuses, away
/// from the per-image runs.
bool isImageVector(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.getElementType().isIntOrFloat())
    return false;
  int64_t bytes =
      (int64_t)llvm::divideCeil(t.getElementType().getIntOrFloatBitWidth(), 8);
  for (int64_t d = 1; d < t.getRank(); ++d) {
    if (t.isDynamicDim(d) || (d >= 2 && t.getDimSize(d) != 1))
      return false;
    bytes *= t.getDimSize(d);
  }
  return bytes <= kMaxHeadImageBytes;
}

struct KilnOutlineBatchHead final
    : mlir::kiln::impl::KilnOutlineBatchHeadBase<KilnOutlineBatchHead> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto split = module->getAttrOfType<DictionaryAttr>("kiln.batch_split");
    auto fn = module.lookupSymbol<func::FuncOp>("main");
    if (!split || !fn || fn.isExternal() || !fn.getBody().hasOneBlock() ||
        module.lookupSymbol("kiln_head"))
      return;
    Block &body = fn.getBody().front();
    auto ret = dyn_cast<func::ReturnOp>(body.getTerminator());
    if (!ret)
      return;
    SmallVector<Operation *> ops;
    DenseMap<Operation *, int64_t> position;
    for (Operation &op : body.without_terminator()) {
      position[&op] = (int64_t)ops.size();
      ops.push_back(&op);
    }
    int64_t n = (int64_t)ops.size();
    position[ret] = n;

    // Where each top-level value is defined (-1: an input) and last used.
    struct Span {
      int64_t def, lastUse;
    };
    llvm::MapVector<Value, Span> spans;
    auto record = [&](Value v, int64_t def) {
      int64_t last = def;
      for (Operation *user : v.getUsers()) {
        Operation *at = body.findAncestorOpInBlock(*user);
        if (at)
          last = std::max(last, position.lookup(at));
      }
      spans[v] = {def, last};
    };
    for (BlockArgument a : body.getArguments())
      record(a, -1);
    for (auto [i, op] : llvm::enumerate(ops))
      if (!isConstantLike(op))
        for (Value r : op->getResults())
          record(r, (int64_t)i);

    // The head grows backwards from the return while its ops keep to
    // vectors per image; the earliest single crossing value wins.
    int64_t cutAt = -1;
    Value cut;
    for (int64_t q = n - 1; q >= 1; --q) {
      Operation *op = ops[q];
      if (isConstantLike(op))
        continue;
      bool vectors = op->getNumRegions() == 0;
      for (Value v : op->getResults())
        vectors = vectors && isImageVector(v);
      for (Value v : op->getOperands())
        vectors = vectors && (isConstantLike(v.getDefiningOp()) || isImageVector(v));
      if (!vectors)
        break;
      Value crossing;
      int count = 0;
      for (auto &[v, s] : spans)
        if (s.def < q && s.lastUse >= q && ++count == 1)
          crossing = v;
      if (count == 1 && isImageVector(crossing)) {
        auto t = cast<RankedTensorType>(crossing.getType());
        if (t.getRank() >= 1 && t.isDynamicDim(0)) {
          cutAt = q;
          cut = crossing;
        }
      }
    }
    // The images' own work must stay in @main: something before the cut
    // runs on maps or sequences (an MLP on vectors is all head).
    if (cutAt < 0 || !cut.getDefiningOp() ||
        llvm::none_of(llvm::make_range(ops.begin(), ops.begin() + cutAt),
                      [](Operation *op) {
                        return llvm::any_of(op->getResults(), [](Value v) {
                          return !isImageVector(v);
                        }) && !isConstantLike(op);
                      }))
      return;

    // Constant matrices the head reads (each once).
    llvm::SetVector<Operation *> constants;
    int64_t weightBytes = 0;
    for (int64_t i = cutAt; i < n; ++i)
      ops[i]->walk([&](Operation *inner) {
        for (Value v : inner->getOperands()) {
          Operation *def = v.getDefiningOp();
          if (!isConstantLike(def) || def->getBlock() != &body ||
              position.lookup(def) >= cutAt || !constants.insert(def))
            continue;
          auto t = dyn_cast<RankedTensorType>(v.getType());
          if (t && t.getRank() >= 2 && t.hasStaticShape() &&
              t.getElementType().isIntOrFloat())
            weightBytes += t.getNumElements() *
                           (int64_t)llvm::divideCeil(
                               t.getElementType().getIntOrFloatBitWidth(), 8);
        }
      });
    if (weightBytes < kMinHeadWeightBytes)
      return;

    // @kiln_head(cut) -> @main's results.
    OpBuilder b(module.getContext());
    b.setInsertionPointAfter(fn);
    auto head = func::FuncOp::create(
        b, ret.getLoc(), "kiln_head",
        b.getFunctionType({cut.getType()}, ret.getOperandTypes()));
    Block *hb = head.addEntryBlock();
    b.setInsertionPointToStart(hb);
    for (Operation *c : constants) {
      Operation *copy = b.clone(*c);
      for (auto [from, to] : llvm::zip(c->getResults(), copy->getResults()))
        from.replaceUsesWithIf(to, [&](OpOperand &use) {
          Operation *at = body.findAncestorOpInBlock(*use.getOwner());
          return at && position.lookup(at) >= cutAt;
        });
    }
    for (int64_t i = cutAt; i < n; ++i)
      ops[i]->moveBefore(hb, hb->end());
    b.setInsertionPointToEnd(hb);
    func::ReturnOp::create(b, ret.getLoc(), ret.getOperands());
    cut.replaceUsesWithIf(hb->getArgument(0), [&](OpOperand &use) {
      return head->isProperAncestor(use.getOwner());
    });
    ret->setOperands(ValueRange{cut});
    fn.setType(b.getFunctionType(fn.getArgumentTypes(), {cut.getType()}));
    fn.removeResAttrsAttr();
    for (Operation *c : constants)
      if (c->use_empty())
        c->erase();

    // The runtime splits when the images' FLOPs pay for reading the
    // weights once per image: the head's are now read once per batch.
    NamedAttrList attrs(split);
    int64_t trunkBytes = 0;
    if (auto w = split.getAs<IntegerAttr>("weight_bytes"))
      trunkBytes = std::max<int64_t>(0, w.getInt() - weightBytes);
    attrs.set("weight_bytes", b.getI64IntegerAttr(trunkBytes));
    attrs.set("head_weight_bytes", b.getI64IntegerAttr(weightBytes));
    attrs.set("head_input",
              TypeAttr::get(cast<RankedTensorType>(cut.getType()).getElementType()));
    module->setAttr("kiln.batch_split", attrs.getDictionary(module.getContext()));
  }
};

} // namespace
