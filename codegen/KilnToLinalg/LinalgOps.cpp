//===- LinalgOps.cpp - matmul, reductions, arg max/min, hardmax -----------===//
//
// Contractions stay named linalg ops wherever the shapes allow (matmul,
// batch_matmul), so later tiling, packing and vectorization see them; other
// cases become linalg.generic. Convolutions and pooling: Conv.cpp.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

Value zeroFilled(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> dims,
                 Type elt) {
  return filledTensor(b, loc, dims, scalarConst(b, loc, elt, 0));
}

/// Product of the extents [from, to) of `v`.
Value dimProduct(OpBuilder &b, Location loc, Value v, int64_t from, int64_t to) {
  Value n = idx(b, loc, 1);
  for (int64_t d = from; d < to; ++d)
    n = arith::MulIOp::create(b, loc, n, dimValue(b, loc, v, d));
  return n;
}

int64_t staticProduct(ArrayRef<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (ShapedType::isDynamic(d))
      return ShapedType::kDynamic;
    n *= d;
  }
  return n;
}

struct LowerMatmul final : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    Value lhs = op.getLhs(), rhs = op.getRhs();
    auto lt = cast<RankedTensorType>(lhs.getType());
    auto rt = cast<RankedTensorType>(rhs.getType());
    auto ot = op.getType();
    Type elt = ot.getElementType();
    // Contracting dims known only at run time must agree before any loop
    // reads them (the runtime ends the run otherwise).
    {
      int64_t lk = lt.getRank() - 1, rk = rt.getRank() == 1 ? 0 : rt.getRank() - 2;
      if (lt.isDynamicDim(lk) || rt.isDynamicDim(rk))
        checkDims(b, loc, dimValue(b, loc, lhs, lk), dimValue(b, loc, rhs, rk));
    }
    // [..., M, K] x [K, N]: fold the leading dims into M and use linalg.matmul.
    if (lt.getRank() >= 2 && rt.getRank() == 2) {
      Value a = lhs;
      int64_t lead = lt.getRank() - 1;
      if (lt.getRank() > 2) {
        auto at = RankedTensorType::get(
            {staticProduct(lt.getShape().drop_back()), lt.getShape().back()}, elt);
        a = reshapeTo(b, loc, lhs, at,
                      {dimProduct(b, loc, lhs, 0, lead),
                       tensor::getMixedSize(b, loc, lhs, lead)});
      }
      auto at = cast<RankedTensorType>(a.getType());
      auto mt = RankedTensorType::get({at.getDimSize(0), rt.getDimSize(1)}, elt);
      Value init = zeroFilled(b, loc,
                              {tensor::getMixedSize(b, loc, a, 0),
                               tensor::getMixedSize(b, loc, rhs, 1)},
                              elt);
      Value m = linalg::MatmulOp::create(b, loc, TypeRange{mt}, ValueRange{a, rhs},
                                         ValueRange{init})
                    .getResult(0);
      if (lt.getRank() > 2) {
        SmallVector<OpFoldResult> dims = getDims(b, loc, lhs);
        dims.back() = tensor::getMixedSize(b, loc, rhs, 1);
        m = reshapeTo(b, loc, m, ot, dims);
      }
      if (m.getType() != ot)
        m = tensor::CastOp::create(b, loc, ot, m);
      rewriter.replaceOp(op, m);
      return success();
    }
    // Same batch dims on both sides: batch_matmul over the flattened batch.
    if (lt.getRank() >= 3 && lt.getRank() == rt.getRank() &&
        lt.getShape().drop_back(2) == rt.getShape().drop_back(2) &&
        llvm::none_of(lt.getShape().drop_back(2),
                      [](int64_t d) { return d == 1; })) {
      int64_t r = lt.getRank();
      for (int64_t d = 0; d < r - 2; ++d)
        if (lt.isDynamicDim(d) || rt.isDynamicDim(d))
          checkDims(b, loc, dimValue(b, loc, lhs, d), dimValue(b, loc, rhs, d));
      int64_t bs = staticProduct(lt.getShape().drop_back(2));
      Value batch = dimProduct(b, loc, lhs, 0, r - 2);
      auto a3 = RankedTensorType::get({bs, lt.getDimSize(r - 2), lt.getDimSize(r - 1)}, elt);
      auto b3 = RankedTensorType::get({bs, rt.getDimSize(r - 2), rt.getDimSize(r - 1)}, elt);
      Value a = reshapeTo(b, loc, lhs, a3,
                          {batch, tensor::getMixedSize(b, loc, lhs, r - 2),
                           tensor::getMixedSize(b, loc, lhs, r - 1)});
      Value c = reshapeTo(b, loc, rhs, b3,
                          {batch, tensor::getMixedSize(b, loc, rhs, r - 2),
                           tensor::getMixedSize(b, loc, rhs, r - 1)});
      auto o3 = RankedTensorType::get({bs, lt.getDimSize(r - 2), rt.getDimSize(r - 1)}, elt);
      Value init = zeroFilled(b, loc,
                              {batch, tensor::getMixedSize(b, loc, lhs, r - 2),
                               tensor::getMixedSize(b, loc, rhs, r - 1)},
                              elt);
      if (init.getType() != o3)
        init = tensor::CastOp::create(b, loc, o3, init);
      Value m = linalg::BatchMatmulOp::create(b, loc, TypeRange{o3}, ValueRange{a, c},
                                              ValueRange{init})
                    .getResult(0);
      SmallVector<OpFoldResult> dims = getDims(b, loc, lhs);
      dims.back() = tensor::getMixedSize(b, loc, rhs, r - 1);
      m = reshapeTo(b, loc, m, ot, dims);
      rewriter.replaceOp(op, m);
      return success();
    }
    // General case: a broadcasting contraction as linalg.generic over
    // (batch..., m, n, k); 1-D operands are promoted.
    bool lvec = lt.getRank() == 1, rvec = rt.getRank() == 1;
    int64_t outRank = ot.getRank();
    int64_t nb = outRank - (lvec ? 0 : 1) - (rvec ? 0 : 1);
    int64_t loops = outRank + 1;
    int64_t mDim = nb, nDim = nb + (lvec ? 0 : 1), kDim = outRank;
    auto operandMap = [&](RankedTensorType t, bool isLhs, bool vec) {
      SmallVector<AffineExpr> e;
      int64_t tb = t.getRank() - (vec ? 1 : 2);
      for (int64_t i = 0; i < tb; ++i) {
        int64_t od = nb - tb + i;
        bool bcast = t.getDimSize(i) == 1 && ot.getDimSize(od) != 1;
        e.push_back(bcast ? b.getAffineConstantExpr(0) : b.getAffineDimExpr(od));
      }
      if (isLhs) {
        if (!vec)
          e.push_back(b.getAffineDimExpr(mDim));
        e.push_back(b.getAffineDimExpr(kDim));
      } else {
        e.push_back(b.getAffineDimExpr(kDim));
        if (!vec)
          e.push_back(b.getAffineDimExpr(nDim));
      }
      return AffineMap::get(loops, 0, e, b.getContext());
    };
    SmallVector<OpFoldResult> dims;
    for (int64_t d = 0; d < outRank; ++d) {
      if (!ot.isDynamicDim(d)) {
        dims.push_back(b.getIndexAttr(ot.getDimSize(d)));
        continue;
      }
      // Find the dim in an operand.
      OpFoldResult f;
      if (d < nb) {
        for (auto [v, t, vec] : {std::tuple{lhs, lt, lvec}, std::tuple{rhs, rt, rvec}}) {
          int64_t tb = t.getRank() - (vec ? 1 : 2), i = d - (nb - tb);
          if (i >= 0 && t.getDimSize(i) != 1) {
            f = tensor::getMixedSize(b, loc, v, i);
            break;
          }
        }
        if (!f)
          f = b.getIndexAttr(1);
      } else if (d == mDim && !lvec) {
        f = tensor::getMixedSize(b, loc, lhs, lt.getRank() - 2);
      } else {
        f = tensor::getMixedSize(b, loc, rhs, rt.getRank() - 1);
      }
      dims.push_back(f);
    }
    Value init = zeroFilled(b, loc, dims, elt);
    SmallVector<AffineExpr> outE;
    for (int64_t d = 0; d < outRank; ++d)
      outE.push_back(b.getAffineDimExpr(d));
    SmallVector<AffineMap> maps{operandMap(lt, true, lvec), operandMap(rt, false, rvec),
                                AffineMap::get(loops, 0, outE, b.getContext())};
    SmallVector<utils::IteratorType> iters(loops, utils::IteratorType::parallel);
    iters.back() = utils::IteratorType::reduction;
    bool isFloat = isa<FloatType>(elt);
    auto g = linalg::GenericOp::create(
        b, loc, TypeRange{init.getType()}, ValueRange{lhs, rhs}, ValueRange{init},
        maps, iters, [&](OpBuilder &nb2, Location l, ValueRange a) {
          Value p = isFloat ? (Value)arith::MulFOp::create(nb2, l, a[0], a[1])
                            : (Value)arith::MulIOp::create(nb2, l, a[0], a[1]);
          Value s = isFloat ? (Value)arith::AddFOp::create(nb2, l, a[2], p)
                            : (Value)arith::AddIOp::create(nb2, l, a[2], p);
          linalg::YieldOp::create(nb2, l, s);
        });
    Value r = g.getResult(0);
    if (r.getType() != ot)
      r = tensor::CastOp::create(b, loc, ot, r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// Reductions with a single combiner; keepdims re-inserts unit dims.
template <typename OpTy>
struct LowerReduce final : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = cast<RankedTensorType>(op.getType());
    Type elt = rt.getElementType();
    bool isFloat = isa<FloatType>(elt);
    bool isUnsigned = elt.isUnsignedInteger();
    Value input = op.getInput();
    TypedAttr init;
    std::function<Value(OpBuilder &, Location, Value, Value)> combine;
    auto add = [&](OpBuilder &b, Location l, Value x, Value acc) -> Value {
      return isFloat ? (Value)arith::AddFOp::create(b, l, x, acc)
                     : (Value)arith::AddIOp::create(b, l, x, acc);
    };
    Builder bb(op.getContext());
    auto zeroAttr = [&]() -> TypedAttr {
      return isFloat ? (TypedAttr)bb.getFloatAttr(elt, 0) : bb.getIntegerAttr(elt, 0);
    };
    if constexpr (std::is_same_v<OpTy, ReduceSumOp>) {
      init = zeroAttr();
      combine = add;
    } else if constexpr (std::is_same_v<OpTy, ReduceSumSquareOp>) {
      init = zeroAttr();
      combine = [&](OpBuilder &b, Location l, Value x, Value acc) -> Value {
        Value sq = isFloat ? (Value)arith::MulFOp::create(b, l, x, x)
                           : (Value)arith::MulIOp::create(b, l, x, x);
        return add(b, l, sq, acc);
      };
    } else if constexpr (std::is_same_v<OpTy, ReduceL1Op>) {
      init = zeroAttr();
      combine = [&](OpBuilder &b, Location l, Value x, Value acc) -> Value {
        Value a = isFloat ? (Value)math::AbsFOp::create(b, l, x)
                          : (Value)math::AbsIOp::create(b, l, x);
        return add(b, l, a, acc);
      };
    } else if constexpr (std::is_same_v<OpTy, ReduceProdOp>) {
      init = isFloat ? (TypedAttr)bb.getFloatAttr(elt, 1) : bb.getIntegerAttr(elt, 1);
      combine = [&](OpBuilder &b, Location l, Value x, Value acc) -> Value {
        return isFloat ? (Value)arith::MulFOp::create(b, l, x, acc)
                       : (Value)arith::MulIOp::create(b, l, x, acc);
      };
    } else if constexpr (std::is_same_v<OpTy, ReduceMaxOp>) {
      init = extremeAttr(elt, /*lowest=*/true);
      combine = [&](OpBuilder &b, Location l, Value x, Value acc) -> Value {
        if (isFloat)
          return arith::MaximumFOp::create(b, l, x, acc);
        return isUnsigned ? (Value)arith::MaxUIOp::create(b, l, x, acc)
                          : (Value)arith::MaxSIOp::create(b, l, x, acc);
      };
    } else {
      init = extremeAttr(elt, /*lowest=*/false);
      combine = [&](OpBuilder &b, Location l, Value x, Value acc) -> Value {
        if (isFloat)
          return arith::MinimumFOp::create(b, l, x, acc);
        return isUnsigned ? (Value)arith::MinUIOp::create(b, l, x, acc)
                          : (Value)arith::MinSIOp::create(b, l, x, acc);
      };
    }
    Value r = buildReduction(rewriter, loc, input, op.getAxes(), init, combine);
    if (op.getKeepdims()) {
      SmallVector<OpFoldResult> dims = getDims(rewriter, loc, input);
      for (int64_t a : op.getAxes())
        dims[a] = rewriter.getIndexAttr(1);
      r = reshapeTo(rewriter, loc, r, rt, dims);
    }
    if (r.getType() != rt)
      r = tensor::CastOp::create(rewriter, loc, rt, r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// Hardmax: 1 where the index along `axis` is the first maximum's
/// (kiln.arg_max, kept dims), 0 elsewhere.
struct LowerHardmax final : OpRewritePattern<HardmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(HardmaxOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto rt = cast<RankedTensorType>(op.getType());
    if (!isa<FloatType>(in.getElementType()) || in.getRank() == 0)
      return rewriter.notifyMatchFailure(op, "only float hardmax of rank >= 1");
    int64_t rank = in.getRank(), axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    SmallVector<int64_t> argShape(in.getShape());
    argShape[axis] = 1;
    auto argType = RankedTensorType::get(argShape, b.getI64Type());
    Value arg = ArgMaxOp::create(b, loc, argType, op.getInput(),
                                 b.getI64IntegerAttr(axis), b.getBoolAttr(true),
                                 b.getBoolAttr(false));
    Type elt = rt.getElementType();
    Value r = buildElementwiseWithDims(
        b, loc, rt, getDims(b, loc, op.getInput()), ValueRange{arg},
        [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
          Value i = linalg::IndexOp::create(nb, l, axis);
          i = arith::IndexCastOp::create(nb, l, nb.getI64Type(), i);
          Value hit = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, i, a[0]);
          return arith::SelectOp::create(nb, l, hit, scalarConst(nb, l, elt, 1.0),
                                         scalarConst(nb, l, elt, 0.0));
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// ArgMax/ArgMin: a two-output reduction carrying (best value, index).
template <typename OpTy>
struct LowerArg final : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    constexpr bool isMax = std::is_same_v<OpTy, ArgMaxOp>;
    Location loc = op.getLoc();
    auto &b = rewriter;
    auto in = cast<RankedTensorType>(op.getInput().getType());
    Type elt = in.getElementType();
    int64_t rank = in.getRank(), axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    SmallVector<OpFoldResult> dims;
    SmallVector<int64_t> shape;
    SmallVector<AffineExpr> outE;
    SmallVector<utils::IteratorType> iters;
    for (int64_t d = 0; d < rank; ++d) {
      if (d == axis) {
        iters.push_back(utils::IteratorType::reduction);
        continue;
      }
      iters.push_back(utils::IteratorType::parallel);
      dims.push_back(tensor::getMixedSize(b, loc, op.getInput(), d));
      shape.push_back(in.getDimSize(d));
      outE.push_back(b.getAffineDimExpr(d));
    }
    Value vSeed = arith::ConstantOp::create(b, loc, extremeAttr(elt, isMax));
    Value vEmpty = tensor::EmptyOp::create(b, loc, dims, elt);
    Value vInit = linalg::FillOp::create(b, loc, vSeed, vEmpty).getResult(0);
    Value iSeed = scalarConst(b, loc, b.getI64Type(), 0);
    Value iEmpty = tensor::EmptyOp::create(b, loc, dims, b.getI64Type());
    Value iInit = linalg::FillOp::create(b, loc, iSeed, iEmpty).getResult(0);
    auto outMap = AffineMap::get(rank, 0, outE, b.getContext());
    bool last = op.getSelectLastIndex();
    bool isFloat = isa<FloatType>(elt);
    auto g = linalg::GenericOp::create(
        b, loc, TypeRange{vInit.getType(), iInit.getType()},
        ValueRange{op.getInput()}, ValueRange{vInit, iInit},
        SmallVector<AffineMap>{b.getMultiDimIdentityMap(rank), outMap, outMap}, iters,
        [&](OpBuilder &nb, Location l, ValueRange a) {
          Value i = arith::IndexCastOp::create(nb, l, nb.getI64Type(),
                                               linalg::IndexOp::create(nb, l, axis));
          Value better;
          if (isFloat)
            better = arith::CmpFOp::create(
                nb, l,
                isMax ? (last ? arith::CmpFPredicate::OGE : arith::CmpFPredicate::OGT)
                      : (last ? arith::CmpFPredicate::OLE : arith::CmpFPredicate::OLT),
                a[0], a[1]);
          else
            better = arith::CmpIOp::create(
                nb, l,
                isMax ? (last ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sgt)
                      : (last ? arith::CmpIPredicate::sle : arith::CmpIPredicate::slt),
                a[0], a[1]);
          // The first element always wins, so an all-NaN or all-equal row
          // gives index 0 (or the last index with select_last_index).
          Value first = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, i,
                                              scalarConst(nb, l, nb.getI64Type(), 0));
          better = arith::OrIOp::create(nb, l, better, first);
          linalg::YieldOp::create(
              nb, l,
              ValueRange{arith::SelectOp::create(nb, l, better, a[0], a[1]),
                         arith::SelectOp::create(nb, l, better, i, a[2])});
        });
    Value r = g.getResult(1);
    auto rt = op.getType();
    if (op.getKeepdims()) {
      SmallVector<OpFoldResult> kd = getDims(b, loc, op.getInput());
      kd[axis] = b.getIndexAttr(1);
      r = reshapeTo(b, loc, r, rt, kd);
    }
    if (r.getType() != rt)
      r = tensor::CastOp::create(b, loc, rt, r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

} // namespace

void lowering::populateLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerMatmul, LowerReduce<ReduceSumOp>, LowerReduce<ReduceMaxOp>,
               LowerReduce<ReduceMinOp>, LowerReduce<ReduceProdOp>,
               LowerReduce<ReduceL1Op>, LowerReduce<ReduceSumSquareOp>,
               LowerArg<ArgMaxOp>, LowerArg<ArgMinOp>, LowerHardmax>(
      patterns.getContext());
}
