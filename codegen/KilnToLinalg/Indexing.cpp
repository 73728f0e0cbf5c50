//===- Indexing.cpp - kiln ops that move elements by computed indices -----===//
//
// Lowerings whose output element is read from (or written to) a position
// computed per element: DepthToSpace/SpaceToDepth, OneHot, GatherND (one
// generic over the output extracting its source), ScatterElements,
// ScatterND, TopK and CumSum (scf.for nests carrying the output tensor, so
// updates apply in ONNX's order). Resize, GridSample and Random are in
// Sampling.cpp. Correct for every form the node tests use; not tuned for
// speed.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// kiln.depth_to_space / kiln.space_to_depth on [N, C, H, W]: a pure
/// permutation, one linalg.generic over the output extracting the source
/// element (b = blocksize, C' = C / b^2 for depth_to_space):
///   depth_to_space DCR: out[n, c, h*b + i, w*b + j] = in[n, (i*b + j)*C' + c, h, w]
///   depth_to_space CRD: out[n, c, h*b + i, w*b + j] = in[n, c*b*b + i*b + j, h, w]
///   space_to_depth:     out[n, (i*b + j)*C + c, h, w] = in[n, c, h*b + i, w*b + j]
template <typename OpTy>
struct LowerBlockShuffle final : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    constexpr bool toSpace = std::is_same_v<OpTy, DepthToSpaceOp>;
    Location loc = op.getLoc();
    auto &b = rewriter;
    Value input = op.getInput();
    auto in = cast<RankedTensorType>(input.getType());
    auto rt = cast<RankedTensorType>(op.getType());
    if (in.getRank() != 4)
      return rewriter.notifyMatchFailure(op, "not [N, C, H, W]");
    int64_t bs = (int64_t)op.getBlocksize();
    bool crd = false;
    if constexpr (toSpace)
      crd = op.getMode() == "CRD";
    SmallVector<OpFoldResult> dims;
    for (int64_t d = 0; d < 4; ++d) {
      if (!rt.isDynamicDim(d)) {
        dims.push_back(b.getIndexAttr(rt.getDimSize(d)));
        continue;
      }
      Value e = dimValue(b, loc, input, d);
      Value k = arith::ConstantIndexOp::create(b, loc, d == 1 ? bs * bs : bs);
      bool grows = (d == 1) != toSpace; // channels grow in space_to_depth
      dims.push_back((Value)(grows ? (Value)arith::MulIOp::create(b, loc, e, k)
                                   : (Value)arith::DivUIOp::create(b, loc, e, k)));
    }
    // channels of the smaller side: C' (depth_to_space output) or C
    // (space_to_depth input)
    Value cSmall = toSpace ? getValueOrCreateConstantIndexOp(b, loc, dims[1])
                           : dimValue(b, loc, input, 1);
    Value init = tensor::EmptyOp::create(b, loc, dims, rt.getElementType());
    auto g = linalg::GenericOp::create(
        b, loc, TypeRange{init.getType()}, ValueRange{}, ValueRange{init},
        ArrayRef<AffineMap>{b.getMultiDimIdentityMap(4)},
        SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
        [&](OpBuilder &nb, Location l, ValueRange) {
          Value n = linalg::IndexOp::create(nb, l, 0), c = linalg::IndexOp::create(nb, l, 1),
                h = linalg::IndexOp::create(nb, l, 2), w = linalg::IndexOp::create(nb, l, 3);
          Value B = arith::ConstantIndexOp::create(nb, l, bs);
          auto mul = [&](Value x, Value y) -> Value { return arith::MulIOp::create(nb, l, x, y); };
          auto add = [&](Value x, Value y) -> Value { return arith::AddIOp::create(nb, l, x, y); };
          auto div = [&](Value x, Value y) -> Value { return arith::DivUIOp::create(nb, l, x, y); };
          auto rem = [&](Value x, Value y) -> Value { return arith::RemUIOp::create(nb, l, x, y); };
          SmallVector<Value> idx;
          if (toSpace) {
            Value i = rem(h, B), j = rem(w, B);
            Value ij = add(mul(i, B), j);
            Value ch = crd ? add(mul(c, mul(B, B)), ij) : add(mul(ij, cSmall), c);
            idx = {n, ch, div(h, B), div(w, B)};
          } else {
            // out channel o = (i*b + j)*C + c
            Value ij = div(c, cSmall), ci = rem(c, cSmall);
            Value i = div(ij, B), j = rem(ij, B);
            idx = {n, ci, add(mul(h, B), i), add(mul(w, B), j)};
          }
          linalg::YieldOp::create(nb, l, tensor::ExtractOp::create(nb, l, input, idx).getResult());
        });
    Value r = g.getResult(0);
    if (r.getType() != rt)
      r = tensor::CastOp::create(b, loc, rt, r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// kiln.one_hot: out[..., k, ...] (k at `axis`) = values[1] where the
/// index (negative counts from depth) equals k, values[0] elsewhere; depth
/// (any numeric 0-D/1-element tensor) gives the new dim's extent.
struct LowerOneHot final : OpRewritePattern<OneHotOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(OneHotOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    Value ind = op.getIndices(), depthT = op.getDepth(), vals = op.getValues();
    auto rt = cast<RankedTensorType>(op.getType());
    auto dt = cast<RankedTensorType>(depthT.getType());
    auto vt = cast<RankedTensorType>(vals.getType());
    if (dt.getNumElements() != 1 || vt.getRank() != 1 || vt.getDimSize(0) != 2)
      return rewriter.notifyMatchFailure(op, "depth is not one value or values not [2]");
    int64_t rank = rt.getRank(), axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    // depth as i64 (floats truncate, as ONNX casts it)
    SmallVector<Value> zeros(dt.getRank(), arith::ConstantIndexOp::create(b, loc, 0));
    Value depth = tensor::ExtractOp::create(b, loc, depthT, zeros);
    depth = castScalar(b, loc, depth, b.getI64Type());
    Value depthIdx = arith::IndexCastOp::create(b, loc, b.getIndexType(), depth);
    SmallVector<OpFoldResult> dims;
    for (int64_t d = 0, k = 0; d < rank; ++d) {
      if (d == axis) {
        dims.push_back(rt.isDynamicDim(d) ? OpFoldResult(depthIdx)
                                          : OpFoldResult(b.getIndexAttr(rt.getDimSize(d))));
        continue;
      }
      dims.push_back(tensor::getMixedSize(b, loc, ind, k++));
    }
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0),
          c1 = arith::ConstantIndexOp::create(b, loc, 1);
    Value off = tensor::ExtractOp::create(b, loc, vals, ValueRange{c0});
    Value on = tensor::ExtractOp::create(b, loc, vals, ValueRange{c1});
    SmallVector<AffineExpr> inE;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis)
        inE.push_back(b.getAffineDimExpr(d));
    Value init = tensor::EmptyOp::create(b, loc, dims, rt.getElementType());
    auto g = linalg::GenericOp::create(
        b, loc, TypeRange{init.getType()}, ValueRange{ind}, ValueRange{init},
        ArrayRef<AffineMap>{AffineMap::get(rank, 0, inE, b.getContext()),
                            b.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &nb, Location l, ValueRange a) {
          Value i = castScalar(nb, l, a[0], nb.getI64Type());
          Value neg = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, i,
                                            arith::ConstantIntOp::create(nb, l, nb.getI64Type(), 0));
          i = arith::SelectOp::create(nb, l, neg, arith::AddIOp::create(nb, l, i, depth), i);
          Value k = arith::IndexCastOp::create(nb, l, nb.getI64Type(),
                                               linalg::IndexOp::create(nb, l, axis));
          Value hit = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, i, k);
          linalg::YieldOp::create(nb, l, arith::SelectOp::create(nb, l, hit, on, off).getResult());
        });
    Value r = g.getResult(0);
    if (r.getType() != rt)
      r = tensor::CastOp::create(b, loc, rt, r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// kiln.gather_nd: out[p..., r...] = data[p[0:b]..., idx[p..., 0:k]..., r...]
/// with b = batch_dims, k = the indices' last extent (static), negative
/// indices counted from the dim and out-of-range ones clamped.
struct LowerGatherND final : OpRewritePattern<GatherNDOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherNDOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    Value data = op.getInput(), ind = op.getIndices();
    auto dt = cast<RankedTensorType>(data.getType());
    auto it = cast<RankedTensorType>(ind.getType());
    auto rt = cast<RankedTensorType>(op.getType());
    int64_t q = it.getRank(), bd = (int64_t)op.getBatchDims();
    if (q < 1 || it.isDynamicDim(q - 1))
      return rewriter.notifyMatchFailure(op, "indices' last extent is dynamic");
    int64_t k = it.getDimSize(q - 1), prefix = q - 1, rank = rt.getRank();
    SmallVector<OpFoldResult> dims;
    for (int64_t d = 0; d < prefix; ++d)
      dims.push_back(tensor::getMixedSize(b, loc, ind, d));
    for (int64_t d = bd + k; d < dt.getRank(); ++d)
      dims.push_back(tensor::getMixedSize(b, loc, data, d));
    SmallVector<Value> dataDims;
    for (int64_t d = 0; d < dt.getRank(); ++d)
      dataDims.push_back(dimValue(b, loc, data, d));
    Value init = tensor::EmptyOp::create(b, loc, dims, rt.getElementType());
    auto g = linalg::GenericOp::create(
        b, loc, TypeRange{init.getType()}, ValueRange{}, ValueRange{init},
        ArrayRef<AffineMap>{b.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &nb, Location l, ValueRange) {
          SmallVector<Value> iv;
          for (int64_t d = 0; d < rank; ++d)
            iv.push_back(linalg::IndexOp::create(nb, l, d));
          SmallVector<Value> di(iv.begin(), iv.begin() + bd);
          for (int64_t j = 0; j < k; ++j) {
            SmallVector<Value> ii(iv.begin(), iv.begin() + prefix);
            ii.push_back(arith::ConstantIndexOp::create(nb, l, j));
            Value v = tensor::ExtractOp::create(nb, l, ind, ii);
            di.push_back(wrapIndex(nb, l, v, dataDims[bd + j]));
          }
          di.append(iv.begin() + prefix, iv.end());
          linalg::YieldOp::create(nb, l, tensor::ExtractOp::create(nb, l, data, di).getResult());
        });
    Value r = g.getResult(0);
    if (r.getType() != rt)
      r = tensor::CastOp::create(b, loc, rt, r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// A nest of scf.for loops over [0, ubs[i]) carrying one tensor; `body`
/// gets the induction variables and the carried tensor and returns its
/// next value.
static Value loopNest(OpBuilder &b, Location loc, ArrayRef<Value> ubs, Value init,
                      function_ref<Value(OpBuilder &, Location, ValueRange, Value)> body,
                      SmallVector<Value> ivs = {}) {
  if (ivs.size() == ubs.size())
    return body(b, loc, ivs, init);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto loop = scf::ForOp::create(
      b, loc, zero, ubs[ivs.size()], one, ValueRange{init},
      [&](OpBuilder &nb, Location l, Value iv, ValueRange args) {
        SmallVector<Value> next(ivs);
        next.push_back(iv);
        Value r = loopNest(nb, l, ubs, args[0], body, next);
        scf::YieldOp::create(nb, l, r);
      });
  return loop.getResult(0);
}

/// old (reduction) new, for ScatterElements/ScatterND's `reduction`.
static Value scatterCombine(OpBuilder &b, Location loc, StringRef red, Value old,
                            Value v) {
  bool f = isa<FloatType>(v.getType());
  if (red == "add")
    return f ? (Value)arith::AddFOp::create(b, loc, old, v)
             : (Value)arith::AddIOp::create(b, loc, old, v);
  if (red == "mul")
    return f ? (Value)arith::MulFOp::create(b, loc, old, v)
             : (Value)arith::MulIOp::create(b, loc, old, v);
  if (red == "max")
    return f ? (Value)arith::MaximumFOp::create(b, loc, old, v)
             : (Value)arith::MaxSIOp::create(b, loc, old, v);
  if (red == "min")
    return f ? (Value)arith::MinimumFOp::create(b, loc, old, v)
             : (Value)arith::MinSIOp::create(b, loc, old, v);
  return v;
}

/// acc with updates value v applied at `target` under `red`.
static Value scatterStep(OpBuilder &b, Location loc, StringRef red, Value acc,
                         ArrayRef<Value> target, Value v) {
  if (red != "none")
    v = scatterCombine(b, loc, red, tensor::ExtractOp::create(b, loc, acc, target), v);
  return tensor::InsertOp::create(b, loc, v, acc, target);
}

/// Scatter into unsigned elements would need the unsigned max/min.
static bool scatterSupported(StringRef red, Type elt) {
  auto it = dyn_cast<IntegerType>(elt);
  return (red == "none" || red == "add" || red == "mul" || red == "max" ||
          red == "min") &&
         !(it && it.isUnsigned());
}


/// kiln.scatter_elements: a copy of data, then, in order, for every index
/// position p: out[p with p[axis] = idx[p]] (reduction)= updates[p]. Loops
/// (scf.for) with in-place tensor updates: sequential, as ONNX specifies.
struct LowerScatterElements final : OpRewritePattern<ScatterElementsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScatterElementsOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    Value data = op.getInput(), ind = op.getIndices(), upd = op.getUpdates();
    auto dt = cast<RankedTensorType>(data.getType());
    if (!scatterSupported(op.getReduction(), dt.getElementType()))
      return rewriter.notifyMatchFailure(op, "reduction or element type");
    int64_t rank = dt.getRank(), axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    SmallVector<Value> ubs;
    for (int64_t d = 0; d < rank; ++d) {
      checkExtent(b, loc, upd, d, ind, d);
      if (d != axis)
        checkExtent(b, loc, ind, d, data, d, /*atMost=*/true);
      ubs.push_back(dimValue(b, loc, ind, d));
    }
    Value axisDim = dimValue(b, loc, data, axis);
    StringRef red = op.getReduction();
    Value r = loopNest(b, loc, ubs, data,
                       [&](OpBuilder &nb, Location l, ValueRange iv, Value acc) -> Value {
                         SmallVector<Value> t(iv.begin(), iv.end());
                         t[axis] = wrapIndex(nb, l, tensor::ExtractOp::create(nb, l, ind, iv),
                                             axisDim);
                         return scatterStep(nb, l, red, acc, t,
                                            tensor::ExtractOp::create(nb, l, upd, iv));
                       });
    if (r.getType() != op.getType())
      r = tensor::CastOp::create(b, loc, op.getType(), r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// kiln.scatter_nd: a copy of data, then for every index prefix p (the
/// indices' dims but the last, of extent k) and every trailing position r:
/// out[idx[p, 0:k]..., r...] (reduction)= updates[p..., r...].
struct LowerScatterND final : OpRewritePattern<ScatterNDOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScatterNDOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    Value data = op.getInput(), ind = op.getIndices(), upd = op.getUpdates();
    auto dt = cast<RankedTensorType>(data.getType());
    auto it = cast<RankedTensorType>(ind.getType());
    int64_t q = it.getRank();
    if (!scatterSupported(op.getReduction(), dt.getElementType()) || q < 1 ||
        it.isDynamicDim(q - 1))
      return rewriter.notifyMatchFailure(op, "reduction, element type or index depth");
    int64_t k = it.getDimSize(q - 1), rank = dt.getRank();
    SmallVector<Value> ubs, dataDims;
    for (int64_t d = 0; d + 1 < q; ++d)
      ubs.push_back(dimValue(b, loc, ind, d));
    for (int64_t d = 0; d < rank; ++d)
      dataDims.push_back(dimValue(b, loc, data, d));
    for (int64_t d = k; d < rank; ++d)
      ubs.push_back(dataDims[d]);
    // updates: the indices' extents but the last, then data's from k
    for (int64_t d = 0; d < (int64_t)ubs.size(); ++d)
      if (d + 1 < q)
        checkExtent(b, loc, upd, d, ind, d);
      else
        checkExtent(b, loc, upd, d, data, d - (q - 1) + k);
    StringRef red = op.getReduction();
    Value r = loopNest(b, loc, ubs, data,
                       [&](OpBuilder &nb, Location l, ValueRange iv, Value acc) -> Value {
                         SmallVector<Value> t;
                         for (int64_t j = 0; j < k; ++j) {
                           SmallVector<Value> ii(iv.begin(), iv.begin() + (q - 1));
                           ii.push_back(arith::ConstantIndexOp::create(nb, l, j));
                           t.push_back(wrapIndex(nb, l, tensor::ExtractOp::create(nb, l, ind, ii),
                                                 dataDims[j]));
                         }
                         t.append(iv.begin() + (q - 1), iv.end());
                         return scatterStep(nb, l, red, acc, t,
                                            tensor::ExtractOp::create(nb, l, upd, iv));
                       });
    if (r.getType() != op.getType())
      r = tensor::CastOp::create(b, loc, op.getType(), r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// kiln.top_k (float input): for every position outside `axis`, the k
/// best elements in order (largest: higher value first, equal values by
/// lower index; smallest: the reverse order of values), found by k passes
/// that each pick the best element ranked after the previous pick, so no
/// scratch is needed (O(n k) per row; sorted output either way).
struct LowerTopK final : OpRewritePattern<TopKOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TopKOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    Value x = op.getInput();
    auto xt = cast<RankedTensorType>(x.getType());
    auto vt = cast<RankedTensorType>(op.getValues().getType());
    auto it = cast<RankedTensorType>(op.getIndices().getType());
    Type elt = xt.getElementType();
    if (!isa<FloatType>(elt) || !it.getElementType().isInteger(64))
      return rewriter.notifyMatchFailure(op, "only float top_k with i64 indices");
    int64_t rank = xt.getRank(), axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    bool largest = op.getLargest();
    Value kv = extractIndex(b, loc, op.getK(), 0);
    SmallVector<OpFoldResult> dims = getDims(b, loc, x);
    dims[axis] = vt.isDynamicDim(axis) ? OpFoldResult(kv)
                                       : OpFoldResult(b.getIndexAttr(vt.getDimSize(axis)));
    Value vals = tensor::EmptyOp::create(b, loc, dims, elt);
    Value idxs = tensor::EmptyOp::create(b, loc, dims, b.getI64Type());
    Value n = dimValue(b, loc, x, axis);
    Value kUb = getValueOrCreateConstantIndexOp(b, loc, dims[axis]);
    SmallVector<Value> ubs;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis)
        ubs.push_back(dimValue(b, loc, x, d));
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    // better(a, b): a ranks before b
    auto better = [&](OpBuilder &nb, Location l, Value av, Value ai, Value bv,
                      Value bi) -> Value {
      Value strict = arith::CmpFOp::create(
          nb, l, largest ? arith::CmpFPredicate::OGT : arith::CmpFPredicate::OLT, av, bv);
      Value eq = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, av, bv);
      Value lower = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, ai, bi);
      return arith::OrIOp::create(nb, l, strict, arith::AndIOp::create(nb, l, eq, lower));
    };
    std::function<SmallVector<Value>(OpBuilder &, Location, SmallVector<Value>, Value,
                                     Value)>
        outer = [&](OpBuilder &ob, Location ol, SmallVector<Value> ivs, Value v0,
                    Value i0) -> SmallVector<Value> {
      if (ivs.size() < ubs.size()) {
        auto loop = scf::ForOp::create(
            ob, ol, zero, ubs[ivs.size()], one, ValueRange{v0, i0},
            [&](OpBuilder &nb, Location l, Value iv, ValueRange args) {
              SmallVector<Value> next(ivs);
              next.push_back(iv);
              scf::YieldOp::create(nb, l, outer(nb, l, next, args[0], args[1]));
            });
        return {loop.getResult(0), loop.getResult(1)};
      }
      auto at = [&](Value a) {
        SmallVector<Value> full;
        for (int64_t d = 0, o = 0; d < rank; ++d)
          full.push_back(d == axis ? a : ivs[o++]);
        return full;
      };
      Value none = arith::ConstantIntOp::create(ob, ol, ob.getI64Type(), -1);
      Value fz = scalarConst(ob, ol, elt, 0.0);
      // j-th pick: the best element ranked after the previous pick (pv, pi)
      auto picks = scf::ForOp::create(
          ob, ol, zero, kUb, one, ValueRange{v0, i0, fz, none},
          [&](OpBuilder &jb, Location jl, Value j, ValueRange st) {
            Value pv = st[2], pi = st[3];
            Value first = arith::CmpIOp::create(jb, jl, arith::CmpIPredicate::eq, pi, none);
            auto scan = scf::ForOp::create(
                jb, jl, zero, n, one, ValueRange{fz, none},
                [&](OpBuilder &tb, Location tl, Value t, ValueRange cur) {
                  Value v = tensor::ExtractOp::create(tb, tl, x, at(t));
                  Value ti = arith::IndexCastOp::create(tb, tl, tb.getI64Type(), t);
                  Value after = arith::OrIOp::create(tb, tl, first,
                                                     better(tb, tl, pv, pi, v, ti));
                  Value noneYet = arith::CmpIOp::create(tb, tl, arith::CmpIPredicate::eq,
                                                        cur[1], none);
                  Value beats = arith::OrIOp::create(
                      tb, tl, noneYet, better(tb, tl, v, ti, cur[0], cur[1]));
                  Value take = arith::AndIOp::create(tb, tl, after, beats);
                  scf::YieldOp::create(
                      tb, tl,
                      ValueRange{arith::SelectOp::create(tb, tl, take, v, cur[0]).getResult(),
                                 arith::SelectOp::create(tb, tl, take, ti, cur[1]).getResult()});
                });
            Value bv = scan.getResult(0), bi = scan.getResult(1);
            Value nv = tensor::InsertOp::create(jb, jl, bv, st[0], at(j));
            Value ni = tensor::InsertOp::create(jb, jl, bi, st[1], at(j));
            scf::YieldOp::create(jb, jl, ValueRange{nv, ni, bv, bi});
          });
      return {picks.getResult(0), picks.getResult(1)};
    };
    SmallVector<Value> r = outer(b, loc, {}, vals, idxs);
    Value rv = r[0], ri = r[1];
    if (rv.getType() != vt)
      rv = tensor::CastOp::create(b, loc, vt, rv);
    if (ri.getType() != it)
      ri = tensor::CastOp::create(b, loc, it, ri);
    rewriter.replaceOp(op, ValueRange{rv, ri});
    return success();
  }
};

/// kiln.cum_sum: loops over the other dims, then one pass along the axis
/// (backwards with `reverse`) carrying the running sum; `exclusive` stores
/// the sum before adding the element. Any float or integer type.
struct LowerCumSum final : OpRewritePattern<CumSumOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CumSumOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    Value x = op.getInput();
    auto xt = cast<RankedTensorType>(x.getType());
    auto rt = cast<RankedTensorType>(op.getResult().getType());
    Type elt = xt.getElementType();
    bool isFloat = isa<FloatType>(elt);
    if (!isFloat && !isa<IntegerType>(elt))
      return rewriter.notifyMatchFailure(op, "only float and integer cum_sum");
    int64_t rank = xt.getRank(), axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    if (axis < 0 || axis >= rank)
      return rewriter.notifyMatchFailure(op, "axis out of range");
    bool reverse = op.getReverse(), exclusive = op.getExclusive();
    Value init = tensor::EmptyOp::create(b, loc, getDims(b, loc, x), elt);
    Value n = dimValue(b, loc, x, axis);
    SmallVector<Value> ubs;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis)
        ubs.push_back(dimValue(b, loc, x, d));
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    std::function<Value(OpBuilder &, Location, SmallVector<Value>, Value)> outer =
        [&](OpBuilder &ob, Location ol, SmallVector<Value> ivs, Value acc) -> Value {
      if (ivs.size() < ubs.size()) {
        auto loop = scf::ForOp::create(
            ob, ol, zero, ubs[ivs.size()], one, ValueRange{acc},
            [&](OpBuilder &nb, Location l, Value iv, ValueRange args) {
              SmallVector<Value> next(ivs);
              next.push_back(iv);
              scf::YieldOp::create(nb, l, outer(nb, l, next, args[0]));
            });
        return loop.getResult(0);
      }
      Value sum0 = scalarConst(ob, ol, elt, 0.0);
      Value last = arith::SubIOp::create(ob, ol, n, one);
      auto scan = scf::ForOp::create(
          ob, ol, zero, n, one, ValueRange{acc, sum0},
          [&](OpBuilder &tb, Location tl, Value t, ValueRange st) {
            Value i = reverse ? arith::SubIOp::create(tb, tl, last, t).getResult() : t;
            SmallVector<Value> at;
            for (int64_t d = 0, o = 0; d < rank; ++d)
              at.push_back(d == axis ? i : ivs[o++]);
            Value v = tensor::ExtractOp::create(tb, tl, x, at);
            Value next = isFloat ? arith::AddFOp::create(tb, tl, st[1], v).getResult()
                                 : arith::AddIOp::create(tb, tl, st[1], v).getResult();
            Value out = tensor::InsertOp::create(tb, tl, exclusive ? st[1] : next,
                                                 st[0], at);
            scf::YieldOp::create(tb, tl, ValueRange{out, next});
          });
      return scan.getResult(0);
    };
    Value r = outer(b, loc, {}, init);
    if (r.getType() != rt)
      r = tensor::CastOp::create(b, loc, rt, r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

} // namespace

void lowering::populateIndexingPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerBlockShuffle<DepthToSpaceOp>,
               LowerBlockShuffle<SpaceToDepthOp>, LowerOneHot, LowerGatherND,
               LowerScatterElements, LowerScatterND, LowerTopK, LowerCumSum>(
      patterns.getContext());
  populateSamplingPatterns(patterns);
}
