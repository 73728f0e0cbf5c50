//===- Norms.cpp - kiln.layer_norm and kiln.rms_norm ----------------------===//
//
// Each normalization is two generics: one reduction pass over every row that
// accumulates the sum and the sum of squares together (as ONNX Runtime's CPU
// kernel does), and one elementwise pass that normalizes, scales and shifts:
//
//   mean = sum / n,  var = max(sumsq / n - mean^2, 0)
//   layer_norm: y = (x - mean) / sqrt(var + eps) * scale + bias
//   rms_norm:   y = x / sqrt(sumsq / n + eps) * scale
//
//===----------------------------------------------------------------------===//

#include "Common.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

using utils::IteratorType;

/// Map of a parameter broadcast over the trailing dims of a rank-`r` input.
AffineMap paramMap(OpBuilder &b, Value p, int64_t r) {
  auto pt = cast<RankedTensorType>(p.getType());
  SmallVector<AffineExpr> e;
  for (int64_t i = 0; i < pt.getRank(); ++i) {
    int64_t d = r - pt.getRank() + i;
    e.push_back(pt.getDimSize(i) == 1 ? b.getAffineConstantExpr(0)
                                      : b.getAffineDimExpr(d));
  }
  return AffineMap::get(r, 0, e, b.getContext());
}

template <typename OpTy>
struct LowerNorm final : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    constexpr bool isLayer = std::is_same_v<OpTy, LayerNormOp>;
    OpBuilder &b = rewriter;
    Location loc = op.getLoc();
    Value x = op.getInput();
    auto t = cast<RankedTensorType>(x.getType());
    Type elt = t.getElementType();
    if (!isa<FloatType>(elt))
      return rewriter.notifyMatchFailure(op, "not a float tensor");
    int64_t r = t.getRank();
    int64_t axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += r;
    SmallVector<Value> params{op.getScale()};
    if constexpr (isLayer)
      if (op.getBias())
        params.push_back(op.getBias());
    // Parameter extents known only at run time must be the input's.
    for (Value p : params) {
      auto pt = cast<RankedTensorType>(p.getType());
      for (int64_t i = 0; i < pt.getRank(); ++i)
        if (pt.isDynamicDim(i))
          checkDims(b, loc, dimValue(b, loc, p, i),
                    dimValue(b, loc, x, r - pt.getRank() + i));
    }

    // n = product of the normalized extents, as a float.
    Value n = arith::ConstantIndexOp::create(b, loc, 1);
    SmallVector<OpFoldResult> rowDims;
    SmallVector<AffineExpr> rowExprs;
    SmallVector<IteratorType> iters;
    for (int64_t d = 0; d < r; ++d) {
      if (d >= axis) {
        n = arith::MulIOp::create(b, loc, n, dimValue(b, loc, x, d));
        iters.push_back(IteratorType::reduction);
      } else {
        rowDims.push_back(tensor::getMixedSize(b, loc, x, d));
        rowExprs.push_back(b.getAffineDimExpr(d));
        iters.push_back(IteratorType::parallel);
      }
    }
    Value nf = arith::UIToFPOp::create(
        b, loc, elt, arith::IndexCastOp::create(b, loc, b.getI64Type(), n));
    AffineMap id = b.getMultiDimIdentityMap(r);
    AffineMap row = AffineMap::get(r, 0, rowExprs, b.getContext());

    // Pass 1: sum and sum of squares per row.
    Value acc = filledTensor(b, loc, rowDims, scalarConst(b, loc, elt, 0));
    SmallVector<Value> inits{acc};
    if (isLayer)
      inits.push_back(acc);
    SmallVector<AffineMap> maps{id};
    maps.append(inits.size(), row);
    auto stats = linalg::GenericOp::create(
        b, loc, TypeRange(ValueRange(inits)), ValueRange{x}, inits, maps, iters,
        [&](OpBuilder &g, Location l, ValueRange a) {
          Value sq = mulAddReassoc(g, l, a.back(), a[0], a[0]);
          if (isLayer)
            linalg::YieldOp::create(g, l,
                                    ValueRange{addReassoc(g, l, a[1], a[0]), sq});
          else
            linalg::YieldOp::create(g, l, sq);
        });

    // Pass 2: normalize, scale, shift.
    SmallVector<Value> ins{x};
    ins.append(stats->result_begin(), stats->result_end());
    ins.append(params.begin(), params.end());
    SmallVector<AffineMap> nmaps{id};
    nmaps.append(stats->getNumResults(), row);
    for (Value p : params)
      nmaps.push_back(paramMap(b, p, r));
    nmaps.push_back(id);
    SmallVector<IteratorType> par(r, IteratorType::parallel);
    Value out = tensor::EmptyOp::create(b, loc, getDims(b, loc, x), elt);
    double eps = op.getEpsilon().convertToDouble();
    auto norm = linalg::GenericOp::create(
        b, loc, TypeRange{out.getType()}, ins, ValueRange{out}, nmaps, par,
        [&](OpBuilder &g, Location l, ValueRange a) {
          Value epsV = scalarConst(g, l, elt, eps);
          Value y;
          if (isLayer) {
            Value mean = arith::DivFOp::create(g, l, a[1], nf);
            Value ms = arith::DivFOp::create(g, l, a[2], nf);
            Value var = arith::SubFOp::create(
                g, l, ms, arith::MulFOp::create(g, l, mean, mean));
            var = arith::MaximumFOp::create(g, l, var, scalarConst(g, l, elt, 0));
            Value inv = math::RsqrtOp::create(
                g, l, arith::AddFOp::create(g, l, var, epsV));
            y = arith::MulFOp::create(
                g, l, arith::SubFOp::create(g, l, a[0], mean), inv);
            y = arith::MulFOp::create(g, l, y, a[3]);
            if (params.size() > 1)
              y = arith::AddFOp::create(g, l, y, a[4]);
          } else {
            Value ms = arith::DivFOp::create(g, l, a[1], nf);
            Value inv = math::RsqrtOp::create(
                g, l, arith::AddFOp::create(g, l, ms, epsV));
            y = arith::MulFOp::create(g, l, arith::MulFOp::create(g, l, a[0], inv),
                                      a[2]);
          }
          linalg::YieldOp::create(g, l, y);
        });
    Value result = norm.getResult(0);
    if (result.getType() != op.getType())
      result = tensor::CastOp::create(b, loc, op.getType(), result);
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void lowering::populateNormPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerNorm<LayerNormOp>, LowerNorm<RmsNormOp>>(
      patterns.getContext(), /*benefit=*/2);
}
