//===- Attention.cpp - kiln.attention with a streaming softmax ------------===//
//
// kiln.attention lowers to a loop over blocks of keys carrying the running
// row maximum m, the running softmax denominator l and the unnormalized
// output acc (the online softmax of FlashAttention):
//
//   for each key block K_b, V_b:
//     S     = scale * Q . K_b^T  (+ mask, causal exclusion)   [.., Sq, Bk]
//     m'    = max(m, rowmax(S));  alpha = exp(m - m')
//     P     = exp(S - m')
//     l     = l * alpha + rowsum(P)
//     acc   = acc * alpha + P . V_b
//   result = acc / l
//
// Only an Sq x Bk block of scores exists at a time. Each step is a
// linalg.generic, so it is fused, parallelized and vectorized like every
// other op; grouped-query heads are read through `head floordiv r` maps.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

using utils::IteratorType;

Value genericOp(OpBuilder &b, Location loc, ValueRange ins, Value init,
                ArrayRef<AffineMap> maps, ArrayRef<IteratorType> iters,
                function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ins, ValueRange{init}, maps,
             iters,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(nb, nl, body(nb, nl, args));
             })
      .getResult(0);
}

Value filled(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> dims, Type elt,
             TypedAttr value) {
  return filledTensor(b, loc, dims, arith::ConstantOp::create(b, loc, value));
}

struct LowerAttention final : OpRewritePattern<AttentionOp> {
  LowerAttention(MLIRContext *ctx, int64_t keyBlock)
      : OpRewritePattern(ctx), keyBlock(keyBlock) {}

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    OpBuilder &b = rewriter;
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Value q = op.getQuery(), k = op.getKey(), v = op.getValue(),
          mask = op.getMask();
    auto qt = cast<RankedTensorType>(q.getType());
    auto kt = cast<RankedTensorType>(k.getType());
    auto outT = op.getType();
    Type elt = qt.getElementType();
    int64_t r = qt.getRank(), nb = r - 2; // batch dims incl. heads
    auto ftype = cast<FloatType>(elt);

    // Heads: query head h reads key/value head h / rep.
    int64_t hq = qt.getDimSize(nb - 1), hk = kt.getDimSize(nb - 1), rep = 1;
    if (!ShapedType::isDynamic(hq) && !ShapedType::isDynamic(hk))
      rep = hq / hk;
    // Run-time checks for extents the types leave open.
    auto check = [&](Value a, int64_t da, Value c, int64_t dc) {
      auto at = cast<RankedTensorType>(a.getType());
      auto ct = cast<RankedTensorType>(c.getType());
      if (at.isDynamicDim(da) || ct.isDynamicDim(dc))
        checkDims(b, loc, dimValue(b, loc, a, da), dimValue(b, loc, c, dc));
    };
    for (int64_t d = 0; d < nb - 1; ++d) {
      check(q, d, k, d);
      check(q, d, v, d);
    }
    if (rep == 1)
      check(q, nb - 1, k, nb - 1);
    check(k, nb - 1, v, nb - 1);
    // A dynamic mask extent is read as the scores' extent: check it.
    if (mask) {
      auto mt = cast<RankedTensorType>(mask.getType());
      for (int64_t d = 0; d < mt.getRank(); ++d) {
        if (!mt.isDynamicDim(d))
          continue;
        int64_t sd = d + (r - mt.getRank());
        Value target = sd == r - 1 ? dimValue(b, loc, k, r - 2)
                                   : dimValue(b, loc, q, sd);
        checkDims(b, loc, dimValue(b, loc, mask, d), target);
      }
    }
    check(q, r - 1, k, r - 1);
    check(k, r - 2, v, r - 2);

    // Loop dims: b_0..b_{nb-1}, i (query), j (key), d (head or value dim).
    auto dimE = [&](int64_t i) { return b.getAffineDimExpr(i); };
    int64_t I = nb, J = nb + 1, D = nb + 2, n = nb + 3;
    SmallVector<AffineExpr> batchQ, batchKV;
    for (int64_t d = 0; d < nb; ++d) {
      batchQ.push_back(dimE(d));
      batchKV.push_back(d == nb - 1 && rep > 1 ? dimE(d).floorDiv(rep)
                                               : dimE(d));
    }
    auto map = [&](ArrayRef<AffineExpr> lead, ArrayRef<AffineExpr> tail,
                   int64_t dims) {
      SmallVector<AffineExpr> e(lead);
      e.append(tail.begin(), tail.end());
      return AffineMap::get(dims, 0, e, ctx);
    };
    SmallVector<IteratorType> par2(nb + 2, IteratorType::parallel);
    SmallVector<IteratorType> par1(nb + 1, IteratorType::parallel);
    SmallVector<IteratorType> red3(par2);
    red3.push_back(IteratorType::reduction);
    SmallVector<IteratorType> red2(par1);
    red2.push_back(IteratorType::reduction);

    SmallVector<OpFoldResult> rowDims; // [b..., Sq]
    for (int64_t d = 0; d <= nb; ++d)
      rowDims.push_back(tensor::getMixedSize(b, loc, q, d));
    SmallVector<OpFoldResult> accDims(rowDims);
    accDims.push_back(tensor::getMixedSize(b, loc, v, r - 1));
    Value sq = dimValue(b, loc, q, r - 2), sk = dimValue(b, loc, k, r - 2);

    auto lowest = b.getFloatAttr(elt, APFloat::getLargest(ftype.getFloatSemantics(), true));
    Value m0 = filled(b, loc, rowDims, elt, lowest);
    Value l0 = filled(b, loc, rowDims, elt, b.getFloatAttr(elt, 0.0));
    Value acc0 = filled(b, loc, accDims, elt, b.getFloatAttr(elt, 0.0));

    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value step = arith::ConstantIndexOp::create(b, loc, keyBlock);
    auto loop = scf::ForOp::create(
        b, loc, zero, sk, step, ValueRange{m0, l0, acc0},
        [&](OpBuilder &lb, Location ll, Value j0, ValueRange carried) {
          Value m = carried[0], l = carried[1], acc = carried[2];
          Value rest = arith::SubIOp::create(lb, ll, sk, j0);
          Value bs = arith::MinSIOp::create(lb, ll, rest, step);
          auto block = [&](Value t, int64_t dim) {
            auto tt = cast<RankedTensorType>(t.getType());
            SmallVector<OpFoldResult> offs(tt.getRank(), lb.getIndexAttr(0));
            SmallVector<OpFoldResult> sizes = getDims(lb, ll, t);
            SmallVector<OpFoldResult> strides(tt.getRank(), lb.getIndexAttr(1));
            offs[dim] = j0;
            sizes[dim] = bs;
            return tensor::ExtractSliceOp::create(lb, ll, t, offs, sizes,
                                                  strides)
                .getResult();
          };
          Value kb = block(k, r - 2), vb = block(v, r - 2);
          SmallVector<OpFoldResult> sDims(rowDims);
          sDims.push_back(bs);

          // S = Q . K_b^T
          Value s0 = filled(lb, ll, sDims, elt, lb.getFloatAttr(elt, 0.0));
          Value s = genericOp(
              lb, ll, {q, kb}, s0,
              {map(batchQ, {dimE(I), dimE(D)}, n),
               map(batchKV, {dimE(J), dimE(D)}, n),
               map(batchQ, {dimE(I), dimE(J)}, n)},
              red3, [&](OpBuilder &g, Location gl, ValueRange a) {
                return mulAddReassoc(g, gl, a[2], a[0], a[1]);
              });

          // Scale, mask, causal exclusion.
          SmallVector<Value> ins{s};
          SmallVector<AffineMap> maps{map(batchQ, {dimE(I), dimE(J)}, n - 1)};
          if (mask) {
            auto mt = cast<RankedTensorType>(mask.getType());
            Value mb = mask;
            if (mt.getDimSize(mt.getRank() - 1) != 1)
              mb = block(mask, mt.getRank() - 1);
            SmallVector<AffineExpr> me;
            for (int64_t d = 0; d < mt.getRank(); ++d) {
              int64_t sd = d + (r - mt.getRank());
              int64_t target = sd < r - 1 ? outT.getDimSize(sd) : 0;
              bool bcast = mt.getDimSize(d) == 1 &&
                           (sd == r - 1 || target != 1);
              me.push_back(bcast ? lb.getAffineConstantExpr(0) : dimE(sd));
            }
            ins.push_back(mb);
            maps.push_back(AffineMap::get(n - 1, 0, me, ctx));
          }
          maps.push_back(maps[0]);
          Value sEmpty = tensor::EmptyOp::create(lb, ll, sDims, elt);
          Value offset = arith::SubIOp::create(lb, ll, sk, sq);
          bool isBool = mask && cast<RankedTensorType>(mask.getType())
                                    .getElementType()
                                    .isInteger(1);
          Value s2 = genericOp(
              lb, ll, ins, sEmpty, maps, par2,
              [&](OpBuilder &g, Location gl, ValueRange a) {
                Value x = arith::MulFOp::create(
                    g, gl, a[0],
                    arith::ConstantOp::create(
                        g, gl, g.getFloatAttr(elt, op.getScale().convertToDouble())));
                Value low = arith::ConstantOp::create(g, gl, lowest);
                if (mask && !isBool)
                  x = arith::AddFOp::create(g, gl, x, a[1]);
                if (isBool) {
                  Value fill = low;
                  if (auto f = op.getMaskFill())
                    fill = arith::ConstantOp::create(
                        g, gl, g.getFloatAttr(elt, f->convertToDouble()));
                  x = arith::SelectOp::create(g, gl, a[1], x, fill);
                }
                if (op.getCausal()) {
                  Value i = linalg::IndexOp::create(g, gl, I);
                  Value j = linalg::IndexOp::create(g, gl, J);
                  Value key = arith::AddIOp::create(g, gl, j, j0);
                  Value lim = arith::AddIOp::create(g, gl, i, offset);
                  Value out = arith::CmpIOp::create(
                      g, gl, arith::CmpIPredicate::sgt, key, lim);
                  x = arith::SelectOp::create(g, gl, out, low, x);
                }
                return x;
              });

          // Every carried value is updated in place (destination-passing
          // into its own buffer), so the loop carries no copies:
          // rowmax(S); alpha = exp(m - max(m, rowmax)); m = max(m, rowmax)
          AffineMap rowMap = map(batchQ, {dimE(I)}, n - 1);
          AffineMap sMap = map(batchQ, {dimE(I), dimE(J)}, n - 1);
          AffineMap rowId = b.getMultiDimIdentityMap(nb + 1);
          Value rowMax = genericOp(
              lb, ll, {s2}, filled(lb, ll, rowDims, elt, lowest),
              {sMap, rowMap}, red2,
              [&](OpBuilder &g, Location gl, ValueRange a) {
                return arith::MaximumFOp::create(g, gl, a[0], a[1]).getResult();
              });
          Value alpha = genericOp(
              lb, ll, {m, rowMax}, tensor::EmptyOp::create(lb, ll, rowDims, elt),
              {rowId, rowId, rowId}, par1,
              [&](OpBuilder &g, Location gl, ValueRange a) {
                Value mx = arith::MaximumFOp::create(g, gl, a[0], a[1]);
                Value d = arith::SubFOp::create(g, gl, a[0], mx);
                return math::ExpOp::create(g, gl, d).getResult();
              });
          Value mNew = genericOp(
              lb, ll, {rowMax}, m, {rowId, rowId}, par1,
              [&](OpBuilder &g, Location gl, ValueRange a) {
                return arith::MaximumFOp::create(g, gl, a[1], a[0]).getResult();
              });
          // P = exp(S - m)
          Value p = genericOp(
              lb, ll, {s2, mNew}, tensor::EmptyOp::create(lb, ll, sDims, elt),
              {sMap, rowMap, sMap}, par2,
              [&](OpBuilder &g, Location gl, ValueRange a) {
                Value d = arith::SubFOp::create(g, gl, a[0], a[1]);
                return math::ExpOp::create(g, gl, d).getResult();
              });
          // l = l * alpha + rowsum(P)
          Value lScaled = genericOp(
              lb, ll, {alpha}, l, {rowId, rowId}, par1,
              [&](OpBuilder &g, Location gl, ValueRange a) {
                return arith::MulFOp::create(g, gl, a[1], a[0]).getResult();
              });
          Value lNew = genericOp(
              lb, ll, {p}, lScaled, {sMap, rowMap}, red2,
              [&](OpBuilder &g, Location gl, ValueRange a) {
                return addReassoc(g, gl, a[1], a[0]);
              });
          // acc = acc * alpha + P . V_b   (loop dims b.., i, d, j)
          AffineMap accId = b.getMultiDimIdentityMap(nb + 2);
          Value accScaled = genericOp(
              lb, ll, {alpha}, acc, {map(batchQ, {dimE(I)}, n - 1), accId},
              par2, [&](OpBuilder &g, Location gl, ValueRange a) {
                return arith::MulFOp::create(g, gl, a[1], a[0]).getResult();
              });
          int64_t Dv = nb + 1, Jr = nb + 2;
          Value accNew = genericOp(
              lb, ll, {p, vb}, accScaled,
              {map(batchQ, {dimE(I), dimE(Jr)}, n),
               map(batchKV, {dimE(Jr), dimE(Dv)}, n),
               map(batchQ, {dimE(I), dimE(Dv)}, n)},
              red3, [&](OpBuilder &g, Location gl, ValueRange a) {
                return mulAddReassoc(g, gl, a[2], a[0], a[1]);
              });
          scf::YieldOp::create(lb, ll, ValueRange{mNew, lNew, accNew});
        });

    // result = acc / l
    AffineMap accId = b.getMultiDimIdentityMap(nb + 2);
    Value out = genericOp(
        b, loc, {loop.getResult(2), loop.getResult(1)},
        tensor::EmptyOp::create(b, loc, accDims, elt),
        {accId, map(batchQ, {dimE(I)}, n - 1), accId}, par2,
        [&](OpBuilder &g, Location gl, ValueRange a) {
          return arith::DivFOp::create(g, gl, a[0], a[1]).getResult();
        });
    if (out.getType() != outT)
      out = tensor::CastOp::create(b, loc, outT, out);
    rewriter.replaceOp(op, out);
    return success();
  }

  int64_t keyBlock;
};

} // namespace

void lowering::populateAttentionPatterns(RewritePatternSet &patterns,
                                         int64_t keyBlock) {
  patterns.add<LowerAttention>(patterns.getContext(), keyBlock);
}
