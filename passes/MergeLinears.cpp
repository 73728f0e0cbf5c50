//===- MergeLinears.cpp - the kiln-merge-linears pass ---------------------===//
//
// Dense layers that read the same input with constant weights (attention's
// Q, K and V projections) become one layer over the weights concatenated
// along N, whose result is split back. The input is then read, quantized
// and packed once instead of once per layer, and the GEMM streams one wider
// weight with more column blocks to share among threads.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/PatternReport.h"
#include "passes/PatternUtils.h"
#include "dialects/kiln/KilnDialect.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/PatternMatch.h"

#include "llvm/ADT/SetVector.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNMERGELINEARS
#include "passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// One dense layer of a group: a kiln.linear without residual or a
/// kiln.matmul, of `[..., K]` by a constant 2-D float weight, with a
/// constant `[N]` bias or none.
struct Member {
  Operation *op = nullptr;
  Value input;
  ConstantOp weight, bias;
  bool transposed = false;
  StringRef activation = "none";
  int64_t n = 0;

  static std::optional<Member> of(Operation *op) {
    Member m;
    m.op = op;
    Value w, b;
    if (auto lin = dyn_cast<LinearOp>(op)) {
      if (lin.getResidual())
        return std::nullopt;
      m.input = lin.getInput();
      w = lin.getWeight();
      b = lin.getBias();
      m.transposed = lin.getTransposeWeight();
      m.activation = lin.getActivation();
    } else if (auto mm = dyn_cast<MatmulOp>(op)) {
      m.input = mm.getLhs();
      w = mm.getRhs();
    } else {
      return std::nullopt;
    }
    auto xt = cast<RankedTensorType>(m.input.getType());
    auto rt = cast<RankedTensorType>(op->getResult(0).getType());
    m.weight = w.getDefiningOp<ConstantOp>();
    if (xt.getRank() < 2 || rt.getRank() != xt.getRank() ||
        !isa<FloatType>(xt.getElementType()) || !m.weight)
      return std::nullopt;
    auto wt = cast<RankedTensorType>(w.getType());
    if (wt.getRank() != 2 || !isa<FloatType>(wt.getElementType()))
      return std::nullopt;
    m.n = wt.getDimSize(m.transposed ? 0 : 1);
    int64_t k = wt.getDimSize(m.transposed ? 1 : 0);
    if (ShapedType::isDynamic(m.n) || ShapedType::isDynamic(k) ||
        rt.getShape().back() != m.n)
      return std::nullopt;
    if (b) {
      m.bias = b.getDefiningOp<ConstantOp>();
      auto bt = cast<RankedTensorType>(b.getType());
      if (!m.bias || bt.getRank() != 1 ||
          bt.getDimSize(0) != m.n || bt.getElementType() != rt.getElementType())
        return std::nullopt;
    }
    return m;
  }

  /// The weight's type with N dropped: what the group's weights share.
  std::pair<Type, int64_t> weightType() const {
    auto wt = cast<RankedTensorType>(weight->getResult(0).getType());
    return {wt.getElementType(), wt.getDimSize(transposed ? 1 : 0)};
  }

  /// Whether `o` can share one layer with this one.
  bool fits(const Member &o) const {
    auto rt = cast<RankedTensorType>(op->getResult(0).getType());
    auto ot = cast<RankedTensorType>(o.op->getResult(0).getType());
    return op->getName() == o.op->getName() && input == o.input &&
           op->getBlock() == o.op->getBlock() && transposed == o.transposed &&
           activation == o.activation && !bias == !o.bias &&
           weightType() == o.weightType() &&
           rt.getElementType() == ot.getElementType() &&
           rt.getShape().drop_back() == ot.getShape().drop_back();
  }
};

/// The members' constants (`ofBias` picks which) concatenated along N: the
/// weights' dim 1 (dim 0 when transposed), the biases' only dim. Nullopt
/// when one has no bytes to read.
std::optional<std::vector<char>> joined(ArrayRef<Member> group, bool ofBias) {
  const Member &first = group.front();
  auto t0 = cast<RankedTensorType>(
      (ofBias ? first.bias : first.weight)->getResult(0).getType());
  // Row-major [rows, cols] pieces joined along cols (rows is 1 for the
  // biases and for transposed weights, whose [N, K] rows just append).
  int64_t rows = !ofBias && !first.transposed ? t0.getDimSize(0) : 1;
  std::vector<std::vector<char>> storage(group.size());
  SmallVector<ArrayRef<char>> pieces;
  for (auto [i, m] : llvm::enumerate(group)) {
    auto bytes = bytesOf(ofBias ? m.bias : m.weight, storage[i]);
    if (!bytes)
      return std::nullopt;
    pieces.push_back(*bytes);
  }
  std::vector<char> out;
  out.reserve(pieces.size() * pieces.front().size());
  for (int64_t r = 0; r < rows; ++r)
    for (ArrayRef<char> p : pieces) {
      size_t rowBytes = p.size() / rows;
      out.insert(out.end(), p.begin() + r * rowBytes,
                 p.begin() + (r + 1) * rowBytes);
    }
  return out;
}

/// A kiln.constant of `type` holding `bytes`: dense when small (as the
/// importer keeps them: readable, foldable), else a resource named `name`.
Value constantOf(PatternRewriter &rewriter, Location loc,
                 RankedTensorType type, ArrayRef<char> bytes, StringRef name) {
  ElementsAttr attr;
  if (type.getNumElements() <= kInlineElements)
    attr = cast<ElementsAttr>(DenseElementsAttr::getFromRawBuffer(type, bytes));
  else
    attr = cast<ElementsAttr>(DenseResourceElementsAttr::get(
        type, name,
        HeapAsmResourceBlob::allocateAndCopyWithAlign(
            bytes, type.getElementTypeBitWidth() / 8)));
  return ConstantOp::create(rewriter, loc, type, attr).getResult();
}

/// The group rooted at `first` (a Member or ConvMember of `root`): `root`
/// and every other user of `input` that the member type accepts and that
/// fits it, in block order. Fails (with `what` in the note) unless `root`
/// is the group's first op and another joins it.
template <typename M>
FailureOr<SmallVector<M>> groupOf(PatternRewriter &rewriter, Operation *root,
                                  const M &first, Value input, StringRef what) {
  SmallVector<M> group{first};
  for (Operation *user : input.getUsers()) {
    if (user == root)
      continue;
    std::optional<M> m = M::of(user);
    if (!m || !first.fits(*m) ||
        llvm::any_of(group, [&](const M &g) { return g.op == user; }))
      continue;
    if (user->isBeforeInBlock(root))
      return rewriter.notifyMatchFailure(root, "not the group's first " + what);
    group.push_back(*m);
  }
  if (group.size() < 2)
    return rewriter.notifyMatchFailure(root, "no other " + what + " reads its input");
  llvm::sort(group, [](const M &a, const M &b) {
    return a.op->isBeforeInBlock(b.op);
  });
  return group;
}

/// Erases the group's weight and bias constants that nothing reads any
/// more (one bias may be shared with an op outside the group).
template <typename M>
void eraseUnusedConstants(PatternRewriter &rewriter, ArrayRef<M> group) {
  llvm::SetVector<Operation *> originals;
  for (const M &m : group)
    for (ConstantOp c : {m.weight, m.bias})
      if (c)
        originals.insert(c);
  for (Operation *c : originals)
    if (c->use_empty())
      rewriter.eraseOp(c);
}

/// Rooted at the first member (in block order) of a group of two or more.
struct MergeLinears final : RewritePattern {
  MergeLinears(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *root,
                                PatternRewriter &rewriter) const override {
    if (!isa<LinearOp, MatmulOp>(root))
      return failure();
    std::optional<Member> first = Member::of(root);
    if (!first)
      return rewriter.notifyMatchFailure(root, "not a dense layer by constants");
    FailureOr<SmallVector<Member>> members =
        groupOf(rewriter, root, *first, first->input, "layer");
    if (failed(members))
      return failure();
    SmallVector<Member> &group = *members;
    int64_t nTotal = 0;
    SmallVector<int64_t> sizes;
    SmallVector<Location> locs;
    for (const Member &m : group) {
      nTotal += m.n;
      sizes.push_back(m.n);
      locs.push_back(m.op->getLoc());
    }
    // Everything is read before anything is built: a pattern that fails
    // leaves the IR as it was.
    std::optional<std::vector<char>> weightBytes = joined(group, false);
    std::optional<std::vector<char>> biasBytes;
    if (weightBytes && first->bias)
      biasBytes = joined(group, true);
    if (!weightBytes || (first->bias && !biasBytes))
      return rewriter.notifyMatchFailure(root, "a constant without its bytes");
    rewriter.setInsertionPoint(root);
    Location loc = rewriter.getFusedLoc(locs);
    auto wt = cast<RankedTensorType>(first->weight->getResult(0).getType());
    SmallVector<int64_t> wshape{wt.getDimSize(0), nTotal};
    if (first->transposed)
      wshape = {nTotal, wt.getDimSize(1)};
    Value weight = constantOf(rewriter, loc,
                              RankedTensorType::get(wshape, wt.getElementType()),
                              *weightBytes, "merged_weight");
    Value bias;
    if (first->bias)
      bias = constantOf(
          rewriter, loc,
          RankedTensorType::get(
              {nTotal},
              cast<RankedTensorType>(first->bias->getResult(0).getType())
                  .getElementType()),
          *biasBytes, "merged_bias");
    auto rt = cast<RankedTensorType>(root->getResult(0).getType());
    SmallVector<int64_t> shape(rt.getShape());
    shape.back() = nTotal;
    auto mergedType = RankedTensorType::get(shape, rt.getElementType());
    Value merged;
    if (isa<LinearOp>(root))
      merged = LinearOp::create(rewriter, loc, TypeRange{mergedType},
                                first->input, weight, bias, Value(),
                                first->transposed,
                                rewriter.getStringAttr(first->activation));
    else
      merged = MatmulOp::create(rewriter, loc, TypeRange{mergedType},
                                first->input, weight);
    SmallVector<Type> types;
    for (const Member &m : group)
      types.push_back(m.op->getResult(0).getType());
    auto split = SplitOp::create(rewriter, loc, types, merged,
                                 rewriter.getI64IntegerAttr(rt.getRank() - 1),
                                 rewriter.getDenseI64ArrayAttr(sizes));
    for (auto [m, r] : llvm::zip(group, split.getResults()))
      rewriter.replaceOp(m.op, r);
    // The originals go unless another op reads them too (a shared bias).
    eraseUnusedConstants<Member>(rewriter, group);
    return success();
  }
};

/// Convolutions that read the same input (an Inception block's 1 x 1
/// branches): group 1, constant 4-D weights of the same [C, KH, KW] and
/// element type, the same strides, pads and dilations, constant biases or
/// none, each result read only by a kiln.relu. They become one convolution
/// over the filters appended along F and its relu, split back along the
/// channels: the input is read once and the kernel runs one wider F
/// (Inception-v3 1.015-1.02x faster at 1 and 2 threads, GoogLeNet within
/// 1%, `kiln run --against` both orders).
/// Not without the relu: a result that a residual add reads would lose
/// that add in the kernel's epilogue (ResNet's first block: its 1 x 1
/// and its downsample 1 x 1 read the same input).
struct ConvMember {
  Operation *op = nullptr; // a kiln.conv
  ConstantOp weight, bias;
  Operation *relu = nullptr; // the result's only user
  int64_t f = 0;

  static std::optional<ConvMember> of(Operation *o) {
    auto conv = dyn_cast<ConvOp>(o);
    if (!conv || conv.getGroup() != 1)
      return std::nullopt;
    ConvMember m;
    m.op = conv.getOperation();
    m.weight = conv.getWeight().getDefiningOp<ConstantOp>();
    auto wt = cast<RankedTensorType>(conv.getWeight().getType());
    auto rt = cast<RankedTensorType>(conv.getType());
    if (!m.weight || wt.getRank() != 4 || !wt.hasStaticShape() ||
        !isa<FloatType>(wt.getElementType()) || rt.getRank() != 4 ||
        rt.getDimSize(1) != wt.getDimSize(0))
      return std::nullopt;
    m.f = wt.getDimSize(0);
    if (Value b = conv.getBias()) {
      m.bias = b.getDefiningOp<ConstantOp>();
      auto bt = cast<RankedTensorType>(b.getType());
      if (!m.bias || bt.getRank() != 1 || bt.getDimSize(0) != m.f ||
          bt.getElementType() != wt.getElementType())
        return std::nullopt;
    }
    if (!conv->hasOneUse() || !isa<ReluOp>(*conv->getUsers().begin()))
      return std::nullopt;
    m.relu = *conv->getUsers().begin();
    return m;
  }

  bool fits(const ConvMember &other) const {
    auto self = cast<ConvOp>(op), o = cast<ConvOp>(other.op);
    auto wt = cast<RankedTensorType>(weight->getResult(0).getType());
    auto ot = cast<RankedTensorType>(other.weight->getResult(0).getType());
    auto rt = cast<RankedTensorType>(self.getType());
    auto ort = cast<RankedTensorType>(o.getType());
    return self.getInput() == o.getInput() && self->getBlock() == o->getBlock() &&
           wt.getShape().drop_front() == ot.getShape().drop_front() &&
           wt.getElementType() == ot.getElementType() &&
           self.getStrides() == o.getStrides() && self.getPads() == o.getPads() &&
           self.getDilations() == o.getDilations() && !bias == !other.bias &&
           !relu == !other.relu && rt.getElementType() == ort.getElementType() &&
           rt.getDimSize(0) == ort.getDimSize(0) &&
           rt.getShape().drop_front(2) == ort.getShape().drop_front(2);
  }
};

/// Rooted at the group's first convolution in block order.
struct MergeConvs final : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConvOp root, PatternRewriter &rewriter) const override {
    std::optional<ConvMember> first = ConvMember::of(root);
    if (!first)
      return rewriter.notifyMatchFailure(root, "not a group-1 conv by constants");
    FailureOr<SmallVector<ConvMember>> members =
        groupOf(rewriter, root, *first, root.getInput(), "conv");
    if (failed(members))
      return failure();
    SmallVector<ConvMember> &group = *members;
    // The weights [F, C, KH, KW] append along F (row-major), as do the
    // biases; everything is read before anything is built.
    int64_t fTotal = 0;
    SmallVector<int64_t> sizes;
    SmallVector<Location> locs;
    std::vector<std::vector<char>> storage(2 * group.size());
    std::vector<char> wbytes, bbytes;
    for (auto [i, m] : llvm::enumerate(group)) {
      fTotal += m.f;
      sizes.push_back(m.f);
      locs.push_back(m.op->getLoc());
      auto w = bytesOf(m.weight, storage[2 * i]);
      if (!w)
        return rewriter.notifyMatchFailure(root, "a weight without its bytes");
      wbytes.insert(wbytes.end(), w->begin(), w->end());
      if (m.bias) {
        auto b = bytesOf(m.bias, storage[2 * i + 1]);
        if (!b)
          return rewriter.notifyMatchFailure(root, "a bias without its bytes");
        bbytes.insert(bbytes.end(), b->begin(), b->end());
      }
    }
    // At the first member: the input and the new constants are all the
    // merged conv needs, and every member's users come after it.
    rewriter.setInsertionPoint(root);
    Location loc = rewriter.getFusedLoc(locs);
    auto wt = cast<RankedTensorType>(first->weight->getResult(0).getType());
    SmallVector<int64_t> wshape(wt.getShape());
    wshape[0] = fTotal;
    Value weight = constantOf(rewriter, loc,
                              RankedTensorType::get(wshape, wt.getElementType()),
                              wbytes, "merged_conv_weight");
    Value bias;
    if (first->bias)
      bias = constantOf(rewriter, loc,
                        RankedTensorType::get({fTotal}, wt.getElementType()), bbytes,
                        "merged_conv_bias");
    auto rt = cast<RankedTensorType>(root.getType());
    SmallVector<int64_t> shape(rt.getShape());
    shape[1] = fTotal;
    auto mergedType = RankedTensorType::get(shape, rt.getElementType());
    Value merged = ConvOp::create(rewriter, loc, TypeRange{mergedType}, root.getInput(),
                                  weight, bias, root.getStridesAttr(), root.getPadsAttr(),
                                  root.getDilationsAttr(), root.getGroupAttr());
    if (first->relu)
      merged = ReluOp::create(rewriter, loc, mergedType, merged);
    SmallVector<Type> types;
    for (const ConvMember &m : group)
      types.push_back((m.relu ? m.relu : m.op)->getResult(0).getType());
    auto split = SplitOp::create(rewriter, loc, types, merged,
                                 rewriter.getI64IntegerAttr(1),
                                 rewriter.getDenseI64ArrayAttr(sizes));
    for (auto [m, r] : llvm::zip(group, split.getResults())) {
      if (m.relu) {
        rewriter.replaceOp(m.relu, r);
        rewriter.eraseOp(m.op);
      } else {
        rewriter.replaceOp(m.op, r);
      }
    }
    eraseUnusedConstants<ConvMember>(rewriter, group);
    return success();
  }
};

struct KilnMergeLinears final
    : mlir::kiln::impl::KilnMergeLinearsBase<KilnMergeLinears> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<MergeLinears, MergeConvs>(&getContext());
    if (failed(applyAndRecord(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
