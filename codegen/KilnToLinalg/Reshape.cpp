//===- Reshape.cpp - kiln reshapes to tensor ops --------------------------===//
//
// Reshape, Flatten, Unsqueeze and Squeeze. A reshape provably splitting dims
// (a constant target copying the leading dims, static extents after them)
// is a tensor.expand_shape, a view of any strided buffer; the others are
// tensor.reshape with their extents evaluated at run time as ONNX says (0
// copies an input dim, -1 is inferred).
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// The run-time extents of a reshape target, with 0 (copy) and -1 (infer)
/// resolved as ONNX says.
SmallVector<OpFoldResult> reshapeDims(OpBuilder &b, Location loc, ReshapeOp op) {
  auto rt = op.getType();
  if (rt.hasStaticShape())
    return getAsIndexOpFoldResult(b.getContext(), rt.getShape());
  auto in = cast<RankedTensorType>(op.getInput().getType());
  Value numel = idx(b, loc, 1);
  for (int64_t d = 0; d < in.getRank(); ++d)
    numel = arith::MulIOp::create(b, loc, numel, dimValue(b, loc, op.getInput(), d));
  SmallVector<Value> entries;
  Value known = idx(b, loc, 1);
  Value zero = idx(b, loc, 0), mone = idx(b, loc, -1);
  for (int64_t i = 0; i < rt.getRank(); ++i) {
    Value e = extractIndex(b, loc, op.getShape(), i);
    if (!op.getAllowzero() && i < in.getRank()) {
      Value isZero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, e, zero);
      e = arith::SelectOp::create(b, loc, isZero, dimValue(b, loc, op.getInput(), i), e);
    }
    entries.push_back(e);
    Value isInfer = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, e, mone);
    known = arith::MulIOp::create(
        b, loc, known, arith::SelectOp::create(b, loc, isInfer, idx(b, loc, 1), e));
  }
  Value inferred = arith::DivUIOp::create(b, loc, numel, known);
  SmallVector<OpFoldResult> dims;
  for (int64_t i = 0; i < rt.getRank(); ++i) {
    if (!rt.isDynamicDim(i)) {
      dims.push_back(b.getIndexAttr(rt.getDimSize(i)));
      continue;
    }
    Value isInfer = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                          entries[i], mone);
    dims.push_back(
        (Value)arith::SelectOp::create(b, loc, isInfer, inferred, entries[i]));
  }
  return dims;
}

/// When `op` provably splits dims of its input, the reassociation of a
/// tensor.expand_shape: its constant shape copies (0) the leading dims, and
/// the remaining input dims are static and split into the remaining result
/// dims, which are static too. An expand_shape is a view of any strided
/// buffer (a column slice of a merged Q/K/V projection), where tensor.reshape
/// needs a contiguous one and so a copy.
std::optional<SmallVector<ReassociationIndices>> expansionOf(ReshapeOp op) {
  auto in = cast<RankedTensorType>(op.getInput().getType());
  auto rt = op.getType();
  int64_t r = in.getRank(), rr = rt.getRank();
  auto entries = getConstantIntValues(op.getShape());
  if (op.getAllowzero() || !entries || (int64_t)entries->size() != rr ||
      rr <= r || r == 0)
    return std::nullopt;
  int64_t lead = 0;
  while (lead < r && (*entries)[lead] == 0)
    ++lead;
  SmallVector<ReassociationIndices> groups;
  for (int64_t i = 0; i < lead; ++i) {
    if (in.getDimSize(i) != rt.getDimSize(i))
      return std::nullopt;
    groups.push_back({i});
  }
  int64_t j = lead;
  for (int64_t i = lead; i < r; ++i) {
    int64_t want = in.getDimSize(i), have = 1;
    if (ShapedType::isDynamic(want))
      return std::nullopt;
    ReassociationIndices group;
    while (j < rr && (group.empty() || have < want)) {
      if (rt.isDynamicDim(j))
        return std::nullopt;
      have *= rt.getDimSize(j);
      group.push_back(j++);
    }
    if (have != want)
      return std::nullopt;
    groups.push_back(group);
  }
  // Trailing unit dims join the last group.
  for (; j < rr; ++j) {
    if (rt.getDimSize(j) != 1 || groups.empty())
      return std::nullopt;
    groups.back().push_back(j);
  }
  return groups;
}

struct LowerReshape final : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    if (auto groups = expansionOf(op)) {
      SmallVector<OpFoldResult> sizes;
      for (int64_t i = 0; i < op.getType().getRank(); ++i)
        sizes.push_back(
            op.getType().isDynamicDim(i)
                ? tensor::getMixedSize(rewriter, op.getLoc(), op.getInput(), i)
                : rewriter.getIndexAttr(op.getType().getDimSize(i)));
      rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
          op, op.getType(), op.getInput(), *groups, sizes);
      return success();
    }
    auto dims = reshapeDims(rewriter, op.getLoc(), op);
    rewriter.replaceOp(op, reshapeTo(rewriter, op.getLoc(), op.getInput(),
                                     op.getType(), dims));
    return success();
  }
};

/// Flatten, Unsqueeze, Squeeze: reshapes whose extents come from the input.
template <typename OpTy>
struct LowerViewLike final : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = cast<RankedTensorType>(op.getType());
    auto in = cast<RankedTensorType>(op.getInput().getType());
    SmallVector<OpFoldResult> dims;
    if constexpr (std::is_same_v<OpTy, FlattenOp>) {
      int64_t axis = (int64_t)op.getAxis();
      if (axis < 0)
        axis += in.getRank();
      Value lead = idx(rewriter, loc, 1), tail = idx(rewriter, loc, 1);
      for (int64_t d = 0; d < in.getRank(); ++d) {
        Value v = dimValue(rewriter, loc, op.getInput(), d);
        (d < axis ? lead : tail) =
            arith::MulIOp::create(rewriter, loc, d < axis ? lead : tail, v);
      }
      dims = {lead, tail};
    } else if constexpr (std::is_same_v<OpTy, UnsqueezeOp>) {
      int64_t src = 0;
      for (int64_t d = 0; d < rt.getRank(); ++d)
        dims.push_back(llvm::is_contained(op.getAxes(), d)
                           ? rewriter.getIndexAttr(1)
                           : tensor::getMixedSize(rewriter, loc, op.getInput(),
                                                  src++));
    } else {
      for (int64_t d = 0; d < in.getRank(); ++d)
        if (!llvm::is_contained(op.getAxes(), d))
          dims.push_back(tensor::getMixedSize(rewriter, loc, op.getInput(), d));
    }
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, op.getInput(), rt, dims));
    return success();
  }
};

} // namespace

void lowering::populateReshapePatterns(RewritePatternSet &patterns) {
  patterns.add<LowerReshape, LowerViewLike<FlattenOp>,
               LowerViewLike<UnsqueezeOp>, LowerViewLike<SqueezeOp>>(
      patterns.getContext());
}
