//===- Decompose.cpp - composite kiln ops into primitive kiln ops ---------===//
//
// Softmax, batch/instance norms, mean-like reductions and global pools become
// reductions and elementwise kiln ops, which the other patterns lower. The
// fused-op lowerings of the graph-optimization work replace these for speed;
// this keeps every op lowerable meanwhile.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// A 0-D kiln.constant of `elt`.
Value scalar(OpBuilder &b, Location loc, Type elt, double v) {
  auto t = RankedTensorType::get({}, elt);
  Attribute a = isa<FloatType>(elt) ? (Attribute)b.getFloatAttr(elt, v)
                                    : (Attribute)b.getIntegerAttr(elt, (int64_t)v);
  return ConstantOp::create(b, loc, DenseElementsAttr::get(t, a));
}

/// The element count of `axes` of `x` as a 0-D tensor of `elt`.
Value countOf(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes,
              Type elt) {
  auto t = cast<RankedTensorType>(x.getType());
  int64_t n = 1;
  bool dynamic = false;
  for (int64_t a : axes) {
    if (t.isDynamicDim(a))
      dynamic = true;
    else
      n *= t.getDimSize(a);
  }
  if (!dynamic)
    return scalar(b, loc, elt, (double)n);
  Value c = arith::ConstantIndexOp::create(b, loc, 1);
  for (int64_t a : axes)
    c = arith::MulIOp::create(b, loc, c, dimValue(b, loc, x, a));
  c = arith::IndexCastOp::create(b, loc, b.getI64Type(), c);
  c = castScalar(b, loc, c, elt);
  return tensor::FromElementsOp::create(b, loc, RankedTensorType::get({}, elt), c);
}

SmallVector<int64_t> tailAxes(int64_t axis, int64_t rank) {
  if (axis < 0)
    axis += rank;
  return llvm::to_vector(llvm::seq<int64_t>(axis, rank));
}

Value mean(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes) {
  Type elt = cast<RankedTensorType>(x.getType()).getElementType();
  Value s = ReduceSumOp::create(b, loc, x, axes, true);
  return DivOp::create(b, loc, s, countOf(b, loc, x, axes, elt));
}

struct DecomposeSoftmax final : OpRewritePattern<SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SoftmaxOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    int64_t rank = op.getType().getRank();
    int64_t axis = (int64_t)op.getAxis();
    SmallVector<int64_t> axes{axis < 0 ? axis + rank : axis};
    Value m = ReduceMaxOp::create(b, loc, op.getInput(), axes, true);
    Value e = ExpOp::create(b, loc, SubOp::create(b, loc, op.getInput(), m));
    Value s = ReduceSumOp::create(b, loc, e, axes, true);
    rewriter.replaceOp(op, DivOp::create(b, loc, e, s).getResult());
    return success();
  }
};

struct DecomposeLogSoftmax final : OpRewritePattern<LogSoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LogSoftmaxOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    int64_t rank = op.getType().getRank();
    int64_t axis = (int64_t)op.getAxis();
    SmallVector<int64_t> axes{axis < 0 ? axis + rank : axis};
    Value m = ReduceMaxOp::create(b, loc, op.getInput(), axes, true);
    Value d = SubOp::create(b, loc, op.getInput(), m);
    Value s = ReduceSumOp::create(b, loc, ExpOp::create(b, loc, d), axes, true);
    rewriter.replaceOp(op, SubOp::create(b, loc, d, LogOp::create(b, loc, s)).getResult());
    return success();
  }
};

/// (x - mean) / sqrt(var + eps) over `axes`, without scale/bias.
Value normalize(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes,
                double eps) {
  Type elt = cast<RankedTensorType>(x.getType()).getElementType();
  Value d = SubOp::create(b, loc, x, mean(b, loc, x, axes));
  Value var = mean(b, loc, MulOp::create(b, loc, d, d), axes);
  Value den = SqrtOp::create(b, loc, AddOp::create(b, loc, var, scalar(b, loc, elt, eps)));
  return DivOp::create(b, loc, d, den);
}

/// A per-channel [C] tensor reshaped to [C, 1, ..., 1] for NC... broadcasting.
Value channelParam(OpBuilder &b, Location loc, Value p, int64_t rank) {
  SmallVector<int64_t> axes;
  for (int64_t i = 1; i < rank - 1; ++i)
    axes.push_back(i);
  if (axes.empty())
    return p;
  return UnsqueezeOp::create(b, loc, p, axes);
}

struct DecomposeBatchNorm final : OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BatchNormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    int64_t rank = op.getType().getRank();
    Type elt = op.getType().getElementType();
    Value mean = channelParam(b, loc, op.getMean(), rank);
    Value var = channelParam(b, loc, op.getVariance(), rank);
    Value scale = channelParam(b, loc, op.getScale(), rank);
    Value bias = channelParam(b, loc, op.getBias(), rank);
    Value den = SqrtOp::create(
        b, loc, AddOp::create(b, loc, var,
                              scalar(b, loc, elt, op.getEpsilon().convertToDouble())));
    Value y = DivOp::create(b, loc, SubOp::create(b, loc, op.getInput(), mean), den);
    y = AddOp::create(b, loc, MulOp::create(b, loc, y, scale), bias);
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct DecomposeInstanceNorm final : OpRewritePattern<InstanceNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(InstanceNormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    int64_t rank = op.getType().getRank();
    auto axes = tailAxes(2, rank);
    Value y = normalize(b, loc, op.getInput(), axes,
                        op.getEpsilon().convertToDouble());
    y = MulOp::create(b, loc, y, channelParam(b, loc, op.getScale(), rank));
    y = AddOp::create(b, loc, y, channelParam(b, loc, op.getBias(), rank));
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// Drops the kept unit dims of a keepdims reduction when the op had none.
Value maybeSqueeze(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> axes,
                   bool keepdims) {
  if (keepdims)
    return v;
  return SqueezeOp::create(b, loc, v, axes);
}

template <typename OpTy>
struct DecomposeReduce final : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    Value x = op.getInput();
    ArrayRef<int64_t> axes = op.getAxes();
    Value y;
    if constexpr (std::is_same_v<OpTy, ReduceMeanOp>) {
      y = mean(b, loc, x, axes);
    } else if constexpr (std::is_same_v<OpTy, ReduceL2Op>) {
      y = SqrtOp::create(b, loc, ReduceSumSquareOp::create(b, loc, x, axes, true));
    } else if constexpr (std::is_same_v<OpTy, ReduceLogSumOp>) {
      y = LogOp::create(b, loc, ReduceSumOp::create(b, loc, x, axes, true));
    } else {
      Value m = ReduceMaxOp::create(b, loc, x, axes, true);
      Value s = ReduceSumOp::create(b, loc,
                                    ExpOp::create(b, loc, SubOp::create(b, loc, x, m)),
                                    axes, true);
      y = AddOp::create(b, loc, LogOp::create(b, loc, s), m);
    }
    rewriter.replaceOp(op, maybeSqueeze(b, loc, y, axes, op.getKeepdims()));
    return success();
  }
};

template <typename OpTy>
struct DecomposeGlobalPool final : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto axes = tailAxes(2, cast<RankedTensorType>(op.getType()).getRank());
    Value y;
    if constexpr (std::is_same_v<OpTy, GlobalAveragePoolOp>)
      y = mean(rewriter, loc, op.getInput(), axes);
    else
      y = ReduceMaxOp::create(rewriter, loc, op.getInput(), axes, true);
    rewriter.replaceOp(op, y);
    return success();
  }
};

} // namespace

void lowering::populateDecompositionPatterns(RewritePatternSet &patterns) {
  patterns.add<DecomposeSoftmax, DecomposeLogSoftmax, DecomposeBatchNorm, DecomposeInstanceNorm,
               DecomposeReduce<ReduceMeanOp>, DecomposeReduce<ReduceL2Op>,
               DecomposeReduce<ReduceLogSumOp>,
               DecomposeReduce<ReduceLogSumExpOp>,
               DecomposeGlobalPool<GlobalAveragePoolOp>,
               DecomposeGlobalPool<GlobalMaxPoolOp>>(patterns.getContext());
}
