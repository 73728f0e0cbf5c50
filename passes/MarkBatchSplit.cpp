//===- MarkBatchSplit.cpp - the kiln-mark-batch-split pass -----------------===//
//
// Proves that @main computes each image (row of the leading dynamic dim) of
// its outputs from the same image of its inputs alone, so the runtime may
// run a batch of B as B runs of batch 1 (each image's activations stay in
// the core's cache; on T threads, T images at once with no barrier between
// layers). The proof is a forward walk over @main's ops: every value is
// Free (computed from constants and unsplit inputs only), Batch (its dim 0
// is the image, and image i depends on image i of the inputs alone) or
// neither, which stops the proof. Each op kind has its rule (an elementwise
// op broadcasts a Free operand only across dim 0; a reduction, softmax,
// concat, ... must not run along dim 0; a reshape must keep dim 0; ...);
// anything unlisted stops it.
//
// The runtime splits only when it pays: each image then reads all of the
// dense layers' weights again. The pass records the weights' bytes and the
// FLOPs per image of the ops that read them, by the input dims those depend
// on (a decode step's one token per image reads every weight for 2 FLOPs
// per 4 bytes; a 224 x 224 image's convolutions do hundreds).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/ShapeTrace.h"

#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <map>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNMARKBATCHSPLIT
#include "passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

enum class Kind { Free, Batch };

class BatchProof {
public:
  BatchProof(func::FuncOp fn, StringRef dim) : fn(fn), dim(dim) {}

  /// Why the proof stopped ("" when it holds).
  std::string why;
  /// Weights of the dense layers, and FLOPs per image of the ops reading
  /// them by the product of input dim names they scale with ("" for none).
  int64_t weightBytes = 0;
  std::map<std::string, int64_t> flops;

  bool run();

private:
  func::FuncOp fn;
  std::string dim;
  DenseMap<Value, Kind> kinds;

  bool isFree(Value v) const {
    auto it = kinds.find(v);
    return it != kinds.end() && it->second == Kind::Free;
  }
  bool isBatch(Value v) const {
    auto it = kinds.find(v);
    return it != kinds.end() && it->second == Kind::Batch;
  }
  static int64_t rankOf(Value v) {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    return t ? t.getRank() : -1;
  }
  /// `v` broadcasts into a result of rank `rank` without mixing images:
  /// Batch with the result's rank (at least `minRank`: its dim 0 is the
  /// image), or Free and of lower rank or with a static 1 at dim 0.
  bool broadcasts(Value v, int64_t rank, int64_t minRank = 1) const {
    int64_t r = rankOf(v);
    if (isBatch(v))
      return r == rank && r >= minRank;
    return isFree(v) && r >= 0 && (r < rank || unitDim0(v));
  }
  /// A ranked tensor with a static 1 at dim 0.
  static bool unitDim0(Value v) {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    return t && t.getRank() > 0 && t.getDimSize(0) == 1;
  }
  bool fail(Operation *op, const Twine &reason) {
    std::string node;
    if (auto nl = dyn_cast<NameLoc>(op->getLoc()))
      node = " (node '" + nl.getName().str() + "')";
    why = "'" + op->getName().getStringRef().str() + "'" + node + ": " +
          reason.str();
    return false;
  }
  /// The symbolic name of dim `d` of `v` traced to @main's inputs, or "".
  std::string dimName(Value v, int64_t d) {
    SymDim s = canonicalDim(v, d);
    auto arg = dyn_cast_or_null<BlockArgument>(s.root);
    if (!arg || arg.getOwner()->getParentOp() != fn)
      return "";
    auto names = fn.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), "kiln.dims");
    if (!names || s.index >= (int64_t)names.size())
      return "";
    auto n = dyn_cast<StringAttr>(names[s.index]);
    return n && n.getValue() != dim ? n.str() : "";
  }
  /// Records an op reading all of `weight` once per image for every element
  /// of dims [from, to) of `rows` (2 FLOPs per weight element each).
  void addWeightUse(Value weight, Value rows, int64_t from, int64_t to);
  bool visit(Operation *op);
  bool visitBatchOp(Operation *op);
};

void BatchProof::addWeightUse(Value weight, Value rows, int64_t from,
                              int64_t to) {
  auto wt = dyn_cast<RankedTensorType>(weight.getType());
  auto rt = dyn_cast<RankedTensorType>(rows.getType());
  if (!wt || !rt || !wt.hasStaticShape() || !wt.getElementType().isIntOrFloat())
    return;
  int64_t elems = wt.getNumElements();
  weightBytes += elems * (int64_t)llvm::divideCeil(
                             wt.getElementType().getIntOrFloatBitWidth(), 8);
  int64_t factor = 2 * elems;
  SmallVector<std::string> names;
  for (int64_t d = from; d < to; ++d) {
    if (!rt.isDynamicDim(d)) {
      factor *= rt.getDimSize(d);
      continue;
    }
    // An extent not traced to an input counts as 1: the split is then
    // judged as if the op did the least work per weight.
    std::string n = dimName(rows, d);
    if (!n.empty())
      names.push_back(n);
  }
  llvm::sort(names);
  std::string key;
  for (const std::string &n : names)
    key += "*" + n;
  flops[key] += factor;
}

bool BatchProof::run() {
  for (BlockArgument arg : fn.getArguments()) {
    auto t = dyn_cast<RankedTensorType>(arg.getType());
    auto names = fn.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), "kiln.dims");
    bool split = false;
    for (int64_t d = 0; t && names && d < t.getRank() &&
                        d < (int64_t)names.size();
         ++d) {
      auto n = dyn_cast<StringAttr>(names[d]);
      if (!n || n.getValue() != dim || !t.isDynamicDim(d))
        continue;
      if (d != 0) {
        why = "input " + std::to_string(arg.getArgNumber()) + " has '" + dim +
              "' at dim " + std::to_string(d) + ", not dim 0";
        return false;
      }
      split = true;
    }
    kinds[arg] = split ? Kind::Batch : Kind::Free;
  }
  for (Operation &op : fn.getBody().front())
    if (!visit(&op))
      return false;
  return true;
}

bool BatchProof::visit(Operation *op) {
  if (auto ret = dyn_cast<func::ReturnOp>(op)) {
    for (auto [i, v] : llvm::enumerate(ret.getOperands()))
      if (!isBatch(v))
        return fail(op, "output " + std::to_string(i) +
                            " is not computed image by image");
    return true;
  }
  if (op->getNumRegions())
    return fail(op, "ops with regions are not followed");
  if (isa<RandomOp>(op))
    return fail(op, "random values differ between a batch and its images");
  if (op->getNumResults() == 0)
    return fail(op, "an op without results");
  if (op->getNumOperands() == 0 && !isPure(op))
    return fail(op, "an op with side effects");
  bool allFree = llvm::all_of(op->getOperands(),
                              [&](Value v) { return isFree(v); });
  if (allFree && isPure(op)) {
    for (Value r : op->getResults())
      kinds[r] = Kind::Free;
    return true;
  }
  if (!visitBatchOp(op))
    return false;
  for (Value r : op->getResults())
    kinds.try_emplace(r, Kind::Batch); // (kiln.shape has set Free)
  return true;
}

/// The `axis` of `op` when it is one of `Ops`.
template <typename... Ops>
std::optional<int64_t> axisOf(Operation *op) {
  std::optional<int64_t> axis;
  (void)((isa<Ops>(op) ? (axis = (int64_t)cast<Ops>(op).getAxis(), true) : false) ||
         ...);
  return axis;
}

/// An op with a Batch operand: true when all its results are Batch.
bool BatchProof::visitBatchOp(Operation *op) {
  Value result = op->getResult(0);
  int64_t rank = rankOf(result);
  if (rank < 1)
    return fail(op, "a result of rank 0");
  auto norm = [](int64_t axis, int64_t r) { return axis < 0 ? axis + r : axis; };
  auto allFreeBut = [&](unsigned keep) {
    for (auto [i, v] : llvm::enumerate(op->getOperands()))
      if (i != keep && !isFree(v))
        return false;
    return true;
  };
  // Elementwise ops (unary, binary, where, clip, cast) and tensor.cast.
  if (op->hasTrait<OpTrait::KilnBroadcasting>() || isa<ClipOp, tensor::CastOp>(op)) {
    for (Value v : op->getOperands())
      if (v && !broadcasts(v, rank))
        return fail(op, "an operand would broadcast along dim 0");
    return true;
  }
  // Ops over the channel and spatial dims of NC... tensors.
  if (isa<MaxPoolOp, AveragePoolOp, GlobalAveragePoolOp, GlobalMaxPoolOp,
          BatchNormOp, InstanceNormOp, DepthToSpaceOp, SpaceToDepthOp>(op)) {
    if (!isBatch(op->getOperand(0)) || !allFreeBut(0))
      return fail(op, "only its data may depend on the images");
    return true;
  }
  if (auto conv = dyn_cast<ConvOp>(op)) {
    if (!isBatch(conv.getInput()) || !allFreeBut(0))
      return fail(op, "only its data may depend on the images");
    addWeightUse(conv.getWeight(), result, 2, rank);
    return true;
  }
  if (auto conv = dyn_cast<ConvTransposeOp>(op)) {
    if (!isBatch(conv.getInput()) || !allFreeBut(0))
      return fail(op, "only its data may depend on the images");
    addWeightUse(conv.getWeight(), conv.getInput(), 2, rank);
    return true;
  }
  if (auto lin = dyn_cast<LinearOp>(op)) {
    int64_t inRank = rankOf(lin.getInput());
    if (!isBatch(lin.getInput()) || inRank < 2 || !isFree(lin.getWeight()) ||
        (lin.getBias() && !isFree(lin.getBias())) ||
        (lin.getResidual() && !broadcasts(lin.getResidual(), rank)))
      return fail(op, "its weights depend on the images");
    addWeightUse(lin.getWeight(), lin.getInput(), 1, inRank - 1);
    return true;
  }
  if (auto mm = dyn_cast<MatmulOp>(op)) {
    Value a = mm.getLhs(), b = mm.getRhs();
    int64_t ra = rankOf(a), rb = rankOf(b);
    if (isBatch(a) && ra == 2 && isFree(b) && rb <= 2) {
      addWeightUse(b, a, 1, 1);
      return true;
    }
    // Batched products: dim 0 is a batch dim of every Batch operand.
    bool ok = rank >= 3 && (isBatch(a) || isBatch(b)) &&
              (isBatch(a) ? ra == rank
                          : isFree(a) && ra >= 1 && (ra < rank || unitDim0(a))) &&
              (isBatch(b) ? rb == rank
                          : isFree(b) && rb >= 1 && (rb < rank || unitDim0(b)));
    if (!ok)
      return fail(op, "a product over dim 0");
    if (isFree(b))
      addWeightUse(b, a, rb == 2 ? 1 : ra - 2, ra - 1);
    return true;
  }
  if (auto att = dyn_cast<AttentionOp>(op)) {
    for (Value v : op->getOperands())
      if (!broadcasts(v, rank, 4))
        return fail(op, "dim 0 is not a batch dim of its operands");
    return true;
  }
  if (auto rot = dyn_cast<RotaryEmbeddingOp>(op)) {
    if (!isBatch(rot.getInput()) || !broadcasts(rot.getCos(), rank) ||
        !broadcasts(rot.getSin(), rank))
      return fail(op, "cos/sin would broadcast along dim 0");
    return true;
  }
  if (auto n = dyn_cast<LayerNormOp>(op)) {
    if (!isBatch(n.getInput()) || !allFreeBut(0) || norm(n.getAxis(), rank) < 1)
      return fail(op, "normalizes over dim 0");
    return true;
  }
  if (auto n = dyn_cast<RmsNormOp>(op)) {
    if (!isBatch(n.getInput()) || !allFreeBut(0) || norm(n.getAxis(), rank) < 1)
      return fail(op, "normalizes over dim 0");
    return true;
  }
  // Ops along one axis of their only data operand.
  int64_t inRank = rankOf(op->getOperand(0));
  std::optional<int64_t> axis =
      axisOf<SoftmaxOp, LogSoftmaxOp, HardmaxOp, CumSumOp, ArgMaxOp, ArgMinOp,
             TopKOp, SplitOp>(op);
  if (axis) {
    if (!isBatch(op->getOperand(0)) || !allFreeBut(0) || norm(*axis, inRank) == 0)
      return fail(op, "runs along dim 0");
    return true;
  }
  if (isa<ReduceSumOp, ReduceMeanOp, ReduceMaxOp, ReduceMinOp, ReduceProdOp,
          ReduceL1Op, ReduceL2Op, ReduceLogSumOp, ReduceLogSumExpOp,
          ReduceSumSquareOp>(op)) {
    auto axes = op->getAttrOfType<DenseI64ArrayAttr>("axes");
    bool ok = axes && !axes.empty() && isBatch(op->getOperand(0));
    for (int64_t a : axes ? axes.asArrayRef() : ArrayRef<int64_t>())
      ok = ok && norm(a, inRank) != 0;
    if (!ok)
      return fail(op, "reduces dim 0 (or all dims)");
    return true;
  }
  if (auto c = dyn_cast<ConcatOp>(op)) {
    bool ok = norm(c.getAxis(), rank) != 0;
    for (Value v : c.getInputs())
      ok = ok && isBatch(v);
    if (!ok)
      return fail(op, "concatenates along dim 0 or with a tensor of other images");
    return true;
  }
  if (auto g = dyn_cast<GatherOp>(op)) {
    int64_t a = norm(g.getAxis(), inRank);
    // Rows of a table picked by each image's indices, or each image's
    // values picked by indices shared by all.
    if ((a == 0 && isFree(g.getInput()) && isBatch(g.getIndices()) &&
         rankOf(g.getIndices()) >= 1) ||
        (a != 0 && isBatch(g.getInput()) && isFree(g.getIndices())))
      return true;
    return fail(op, "gathers along dim 0 of the images");
  }
  if (auto t = dyn_cast<TransposeOp>(op)) {
    if (t.getPerm().empty() || t.getPerm()[0] != 0)
      return fail(op, "moves dim 0");
    return true;
  }
  if (auto u = dyn_cast<UnsqueezeOp>(op)) {
    for (int64_t a : u.getAxes())
      if (norm(a, rank) == 0)
        return fail(op, "inserts a dim before dim 0");
    return true;
  }
  if (auto s = dyn_cast<SqueezeOp>(op)) {
    if (s.getAxes().empty())
      return fail(op, "squeezes every unit dim, maybe dim 0");
    for (int64_t a : s.getAxes())
      if (norm(a, inRank) == 0)
        return fail(op, "squeezes dim 0");
    return true;
  }
  if (auto f = dyn_cast<FlattenOp>(op)) {
    if (norm(f.getAxis(), inRank) != 1)
      return fail(op, "merges dim 0 with other dims");
    return true;
  }
  if (auto r = dyn_cast<ReshapeOp>(op)) {
    auto shape = getConstantIntValues(r.getShape());
    auto in = dyn_cast<RankedTensorType>(r.getInput().getType());
    if (!in || !isBatch(r.getInput()) || !shape || shape->empty())
      return fail(op, "a target shape not known at compile time");
    if ((*shape)[0] == 0 && !r.getAllowzero())
      return true; // dim 0 copied
    // [-1, static...] over an input whose other dims are all static with
    // the same product: dim 0 is kept.
    int64_t inRest = 1, outRest = 1;
    bool ok = (*shape)[0] == -1;
    for (int64_t d = 1; d < in.getRank(); ++d)
      ok = ok && !in.isDynamicDim(d), inRest *= in.getDimSize(d);
    for (size_t i = 1; i < shape->size(); ++i)
      ok = ok && (*shape)[i] > 0, outRest *= (*shape)[i];
    if (!ok || inRest != outRest)
      return fail(op, "may not keep dim 0");
    return true;
  }
  if (auto s = dyn_cast<SliceOp>(op)) {
    auto axes = getConstantIntValues(s.getAxes());
    if (!isBatch(s.getInput()) || !allFreeBut(0) || !axes)
      return fail(op, "slices along axes not known at compile time");
    for (int64_t a : *axes)
      if (norm(a, inRank) == 0)
        return fail(op, "slices dim 0");
    return true;
  }
  if (auto p = dyn_cast<PadOp>(op)) {
    ArrayRef<int64_t> pads = p.getPads();
    if (!isBatch(p.getInput()) || !allFreeBut(0) ||
        (int64_t)pads.size() != 2 * inRank || pads[0] != 0 || pads[inRank] != 0)
      return fail(op, "pads dim 0");
    return true;
  }
  if (auto t = dyn_cast<TileOp>(op)) {
    auto reps = getConstantIntValues(t.getRepeats());
    if (!isBatch(t.getInput()) || !reps || reps->empty() || (*reps)[0] != 1)
      return fail(op, "repeats along dim 0");
    return true;
  }
  if (auto e = dyn_cast<ExpandOp>(op)) {
    auto shape = getConstantIntValues(e.getShape());
    if (!isBatch(e.getInput()) || !shape || (int64_t)shape->size() != inRank ||
        (*shape)[0] != 1)
      return fail(op, "may expand dim 0");
    return true;
  }
  if (auto s = dyn_cast<ShapeOp>(op)) {
    // The other dims of an image are the same in every image.
    int64_t start = (int64_t)s.getStart();
    if (norm(start, inRank) >= 1) {
      kinds[result] = Kind::Free;
      return true;
    }
    return fail(op, "reads the batch size");
  }
  return fail(op, "not known to keep images apart");
}

struct KilnMarkBatchSplit final
    : mlir::kiln::impl::KilnMarkBatchSplitBase<KilnMarkBatchSplit> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto fn = module.lookupSymbol<func::FuncOp>("main");
    module->removeAttr("kiln.batch_split");
    module->removeAttr("kiln.batch_split_blocked");
    if (!fn || fn.isExternal() || !fn.getBody().hasOneBlock())
      return;
    // The name of the first input's dynamic dim 0.
    std::string dim;
    for (BlockArgument arg : fn.getArguments()) {
      auto t = dyn_cast<RankedTensorType>(arg.getType());
      auto names = fn.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), "kiln.dims");
      if (!t || t.getRank() == 0 || !t.isDynamicDim(0) || !names ||
          names.empty())
        continue;
      auto n = dyn_cast<StringAttr>(names[0]);
      if (n && !n.getValue().empty()) {
        dim = n.str();
        break;
      }
    }
    if (dim.empty())
      return;
    BatchProof proof(fn, dim);
    Builder b(module.getContext());
    if (!proof.run()) {
      module->setAttr("kiln.batch_split_blocked", b.getStringAttr(proof.why));
      return;
    }
    SmallVector<Attribute> flops;
    for (const auto &[names, coef] : proof.flops)
      flops.push_back(b.getStringAttr(std::to_string(coef) + names));
    module->setAttr(
        "kiln.batch_split",
        b.getDictionaryAttr(
            {b.getNamedAttr("dim", b.getStringAttr(dim)),
             b.getNamedAttr("weight_bytes", b.getI64IntegerAttr(proof.weightBytes)),
             b.getNamedAttr("flops", b.getArrayAttr(flops))}));
  }
};

} // namespace
