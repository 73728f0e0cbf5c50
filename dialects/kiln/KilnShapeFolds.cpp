//===- KilnShapeFolds.cpp - kiln shape-op folders and canonicalizations --===//
//
// Folders of the shape ops on small constants (the Shape, Gather,
// Unsqueeze, Concat, Slice, Transpose, Range chains exporters emit) and the
// shape ops' canonicalizations (composed transposes and reshapes, a gather
// moved before a transpose). Constants are only materialized below
// kFoldLimit elements (KilnFoldUtils.h).
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnDialect.h"
#include "dialects/kiln/KilnFoldUtils.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::folds;

OpFoldResult ShapeOp::fold(FoldAdaptor) {
  auto in = cast<RankedTensorType>(getInput().getType());
  int64_t n = getType().getDimSize(0), rank = in.getRank();
  int64_t start = (int64_t)getStart();
  if (start < 0)
    start += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  SmallVector<int64_t> dims;
  for (int64_t i = 0; i < n; ++i) {
    int64_t d = in.getDimSize(start + i);
    if (ShapedType::isDynamic(d))
      return {};
    dims.push_back(d);
  }
  return DenseIntElementsAttr::get(getType(), dims);
}

OpFoldResult SizeOp::fold(FoldAdaptor) {
  auto in = cast<RankedTensorType>(getInput().getType());
  if (!in.hasStaticShape())
    return {};
  return DenseIntElementsAttr::get(getType(), {in.getNumElements()});
}

/// A constant reinterpreted with a new static shape (same elements).
static Attribute reshapeConstant(Attribute in, Type resultType) {
  auto d = denseOf(in);
  auto t = dyn_cast<RankedTensorType>(resultType);
  if (!d || !t || !t.hasStaticShape() ||
      t.getNumElements() != d.getNumElements() ||
      (!d.isSplat() && d.getNumElements() > kFoldLimit))
    return {};
  return d.reshape(t);
}

OpFoldResult ReshapeOp::fold(FoldAdaptor a) {
  if (getInput().getType() == getType() && getType().hasStaticShape())
    return getInput();
  return reshapeConstant(a.getInput(), getType());
}

OpFoldResult UnsqueezeOp::fold(FoldAdaptor a) {
  if (getAxes().empty())
    return getInput();
  return reshapeConstant(a.getInput(), getType());
}

OpFoldResult SqueezeOp::fold(FoldAdaptor a) {
  if (getAxes().empty() && getInput().getType() == getType())
    return getInput();
  return reshapeConstant(a.getInput(), getType());
}

OpFoldResult ExpandOp::fold(FoldAdaptor a) {
  if (getInput().getType() == getType() && getType().hasStaticShape())
    return getInput();
  auto d = denseOf(a.getInput());
  if (d && d.isSplat() && getType().hasStaticShape())
    return SplatElementsAttr::get(getType(), d.getSplatValue<Attribute>());
  return {};
}

OpFoldResult TransposeOp::fold(FoldAdaptor a) {
  if (llvm::equal(getPerm(), llvm::seq<int64_t>(0, getPerm().size())))
    return getInput();
  auto d = denseOf(a.getInput());
  if (d && d.isSplat() && getType().hasStaticShape())
    return SplatElementsAttr::get(getType(), d.getSplatValue<Attribute>());
  // Integer (shape) tensors only: a float weight keeps its transpose for
  // the kernels' own packing, as large ones must.
  if (!small(d) || !isa<IntegerType>(d.getElementType()) ||
      !getType().hasStaticShape() || !d.getType().hasStaticShape())
    return {};
  // out[i] = in[j] with j[perm[k]] = i[k].
  auto outShape = getType().getShape();
  auto inStrides = stridesOf(d.getType().getShape());
  auto outStrides = stridesOf(outShape);
  SmallVector<Attribute> vals(d.getValues<Attribute>()), out;
  for (int64_t lin = 0; lin < getType().getNumElements(); ++lin) {
    int64_t src = 0;
    for (size_t k = 0; k < outShape.size(); ++k)
      src += (lin / outStrides[k]) % outShape[k] * inStrides[getPerm()[k]];
    out.push_back(vals[src]);
  }
  return DenseElementsAttr::get(getType(), out);
}

OpFoldResult ConcatOp::fold(FoldAdaptor a) {
  if (getInputs().size() == 1 && getInputs()[0].getType() == getType())
    return getInputs()[0];
  // Only 1-D constants (shape vectors) are concatenated at compile time.
  if (getType().getRank() != 1 || !getType().hasStaticShape())
    return {};
  SmallVector<Attribute> vals;
  for (Attribute in : a.getInputs()) {
    auto d = denseOf(in);
    if (!small(d))
      return {};
    llvm::append_range(vals, d.getValues<Attribute>());
  }
  return DenseElementsAttr::get(getType(), vals);
}

OpFoldResult GatherOp::fold(FoldAdaptor a) {
  // Gathering static extents out of a kiln.shape of a partly dynamic tensor.
  if (auto shape = getInput().getDefiningOp<ShapeOp>()) {
    auto idx = denseOf(a.getIndices());
    auto src = cast<RankedTensorType>(shape.getInput().getType());
    int64_t n = shape.getType().getDimSize(0);
    int64_t start = (int64_t)shape.getStart();
    if (start < 0)
      start += src.getRank();
    start = std::clamp<int64_t>(start, 0, src.getRank());
    if (small(idx) && getType().hasStaticShape()) {
      SmallVector<int64_t> dims;
      for (const APInt &i : idx.getValues<APInt>()) {
        int64_t k = i.getSExtValue();
        if (k < 0)
          k += n;
        if (k < 0 || k >= n || src.isDynamicDim(start + k))
          return {};
        dims.push_back(src.getDimSize(start + k));
      }
      return DenseIntElementsAttr::get(getType(), dims);
    }
  }
  auto data = denseOf(a.getInput());
  auto idx = denseOf(a.getIndices());
  if (!small(data) || !small(idx) || data.getType().getRank() != 1 ||
      !getType().hasStaticShape())
    return {};
  int64_t n = data.getNumElements();
  SmallVector<Attribute> vals(data.getValues<Attribute>());
  SmallVector<Attribute> out;
  for (const APInt &i : idx.getValues<APInt>()) {
    int64_t k = i.getSExtValue();
    if (k < 0)
      k += n;
    if (k < 0 || k >= n)
      return {};
    out.push_back(vals[k]);
  }
  return DenseElementsAttr::get(getType(), out);
}

OpFoldResult SliceOp::fold(FoldAdaptor a) {
  auto inType = cast<RankedTensorType>(getInput().getType());
  if (inType == getType() && inType.hasStaticShape()) {
    auto steps = getConstantIntValues(getSteps());
    if (steps && llvm::all_of(*steps, [](int64_t s) { return s == 1; }))
      return getInput();
  }
  // Vectors of any type, and integer (shape) tensors of higher rank.
  auto data = denseOf(a.getInput());
  if (!small(data) || !inType.hasStaticShape() || !getType().hasStaticShape() ||
      (inType.getRank() != 1 && !isa<IntegerType>(inType.getElementType())))
    return {};
  auto starts = getConstantIntValues(getStarts());
  auto steps = getConstantIntValues(getSteps());
  auto axes = getConstantIntValues(getAxes());
  int64_t rank = inType.getRank();
  if (!starts || !steps || !axes || starts->size() != axes->size() ||
      steps->size() != axes->size())
    return {};
  // Per dim, the first element and the step (the result type has the
  // extents: the verifier computed them from the same operands).
  SmallVector<int64_t> first(rank, 0), step(rank, 1);
  for (auto [i, axis] : llvm::enumerate(*axes)) {
    int64_t ax = axis < 0 ? axis + rank : axis;
    if (ax < 0 || ax >= rank)
      return {};
    int64_t n = inType.getDimSize(ax), s = (*starts)[i], st = (*steps)[i];
    if (st == 0)
      return {};
    if (s < 0)
      s += n;
    first[ax] = st > 0 ? std::clamp<int64_t>(s, 0, n) : std::clamp<int64_t>(s, 0, n - 1);
    step[ax] = st;
  }
  auto outShape = getType().getShape();
  auto inStrides = stridesOf(inType.getShape());
  auto outStrides = stridesOf(outShape);
  SmallVector<Attribute> vals(data.getValues<Attribute>()), out;
  for (int64_t lin = 0; lin < getType().getNumElements(); ++lin) {
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t j = first[d] + (lin / outStrides[d]) % outShape[d] * step[d];
      if (j < 0 || j >= inType.getDimSize(d))
        return {};
      src += j * inStrides[d];
    }
    out.push_back(data.isSplat() ? vals[0] : vals[src]);
  }
  return DenseElementsAttr::get(getType(), out);
}

OpFoldResult RangeOp::fold(FoldAdaptor a) {
  auto s = denseOf(a.getStart()), d = denseOf(a.getDelta());
  if (!s || !d || !getType().hasStaticShape() ||
      getType().getNumElements() > kFoldLimit ||
      !isa<IntegerType>(s.getElementType()))
    return {};
  APInt x = *s.getValues<APInt>().begin(), step = *d.getValues<APInt>().begin();
  SmallVector<APInt> out;
  for (int64_t i = 0; i < getType().getDimSize(0); ++i, x += step)
    out.push_back(x);
  return DenseElementsAttr::get(getType(), out);
}

OpFoldResult ConstantOfShapeOp::fold(FoldAdaptor) {
  if (!getType().hasStaticShape())
    return {};
  auto v = dyn_cast<DenseElementsAttr>(getValue());
  if (!v)
    return {};
  return SplatElementsAttr::get(getType(), *v.getValues<Attribute>().begin());
}

//===----------------------------------------------------------------------===//
// Canonicalization patterns
//===----------------------------------------------------------------------===//

namespace {
/// transpose(transpose(x, p1), p2) -> transpose(x, p1 o p2)
struct ComposeTransposes final : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<TransposeOp>();
    if (!inner)
      return rewriter.notifyMatchFailure(op, "input is not a kiln.transpose");
    SmallVector<int64_t> perm;
    for (int64_t p : op.getPerm())
      perm.push_back(inner.getPerm()[p]);
    auto composed = TransposeOp::create(rewriter, op.getLoc(), inner.getInput(),
                                        perm);
    if (composed.getType() != op.getType())
      return rewriter.notifyMatchFailure(op, "composed type differs");
    rewriter.replaceOp(op, composed);
    return success();
  }
};

/// reshape(reshape(x, s1), s2) -> reshape(x, s2), when s2 has no 0 entries
/// that would copy a dim of the intermediate shape.
struct ComposeReshapes final : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<ReshapeOp>();
    if (!inner)
      return rewriter.notifyMatchFailure(op, "input is not a kiln.reshape");
    auto shape = getConstantIntValues(op.getShape());
    if (!shape)
      return rewriter.notifyMatchFailure(op, "target shape is not constant");
    if (!op.getAllowzero() && llvm::is_contained(*shape, 0))
      return rewriter.notifyMatchFailure(op, "target shape copies input dims");
    auto composed = ReshapeOp::create(rewriter, op.getLoc(), inner.getInput(),
                                      op.getShape(), op.getAllowzero());
    if (composed.getType() != op.getType()) {
      rewriter.eraseOp(composed);
      return rewriter.notifyMatchFailure(op, "composed type differs");
    }
    rewriter.replaceOp(op, composed);
    return success();
  }
};
/// gather(transpose(x, perm), c) along axis a, c a constant scalar index,
/// when every use of the transpose is such a gather: transpose(gather(x, c)
/// along perm[a]), with perm less a. The fused Q/K/V of ViT-style models
/// (reshape to [B, S, 3, H, D], permute [2, 0, 3, 1, 4], then q, k, v at
/// indices 0, 1, 2) then select before moving data: each selection is a
/// slice of the projection (a view) and its [0, 2, 1, 3] transpose folds
/// into attention's strided operands, where the permute copied the whole
/// projection and each selection copied again.
struct GatherOfTranspose final : OpRewritePattern<GatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherOp op,
                                PatternRewriter &rewriter) const override {
    auto tr = op.getInput().getDefiningOp<TransposeOp>();
    auto it = cast<RankedTensorType>(op.getIndices().getType());
    if (!tr || it.getRank() != 0 || !getConstantIntValues(op.getIndices()))
      return rewriter.notifyMatchFailure(op, "not a constant pick of a transpose");
    for (Operation *user : tr->getUsers()) {
      auto g = dyn_cast<GatherOp>(user);
      if (!g || g.getInput() != tr.getResult() ||
          cast<RankedTensorType>(g.getIndices().getType()).getRank() != 0 ||
          !getConstantIntValues(g.getIndices()))
        return rewriter.notifyMatchFailure(op, "the transpose has other uses");
    }
    ArrayRef<int64_t> perm = tr.getPerm();
    int64_t rank = (int64_t)perm.size(), a = (int64_t)op.getAxis();
    if (a < 0)
      a += rank;
    if (a < 0 || a >= rank)
      return failure();
    int64_t p = perm[a];
    auto xt = cast<RankedTensorType>(tr.getInput().getType());
    SmallVector<int64_t> shape;
    for (int64_t d = 0; d < rank; ++d)
      if (d != p)
        shape.push_back(xt.getDimSize(d));
    SmallVector<int64_t> rest;
    for (int64_t j = 0; j < rank; ++j)
      if (j != a)
        rest.push_back(perm[j] - (perm[j] > p ? 1 : 0));
    // the moved transpose must give the pick's type exactly (a type refined
    // on one side only is left alone)
    for (auto [j, r] : llvm::enumerate(rest))
      if (shape[r] != op.getType().getDimSize(j))
        return rewriter.notifyMatchFailure(op, "types refined differently");
    auto picked = GatherOp::create(
        rewriter, op.getLoc(),
        RankedTensorType::get(shape, xt.getElementType()), tr.getInput(),
        op.getIndices(), rewriter.getI64IntegerAttr(p));
    auto moved = TransposeOp::create(rewriter, op.getLoc(), op.getType(),
                                     picked.getResult(),
                                     rewriter.getDenseI64ArrayAttr(rest));
    rewriter.replaceOp(op, moved.getResult());
    return success();
  }
};
} // namespace

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *ctx) {
  results.add<ComposeTransposes, GatherOfTranspose>(ctx);
}

void ReshapeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                            MLIRContext *ctx) {
  results.add<ComposeReshapes>(ctx);
}
