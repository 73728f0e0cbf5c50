//===- Tensor.cpp - kiln shape and data-movement ops to tensor/linalg -----===//
//
// Constants, shape queries, transposes, concatenation, slicing, gathers,
// broadcasting, padding and index-generated tensors (reshapes: Reshape.cpp).
// Run-time shape operands (slice bounds) are evaluated with arith on index
// values, with ONNX's clamping rules.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// A linalg.generic over `init` (parallel in every dim) that yields
/// `src[index(...)]`, where `index` gets the generic's scalar `inputs`
/// (read through `inputMaps`), cast to `type`.
Value buildExtractGeneric(
    OpBuilder &b, Location loc, Value init, ValueRange inputs,
    ArrayRef<AffineMap> inputMaps, Value src, RankedTensorType type,
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)> index) {
  int64_t rank = cast<RankedTensorType>(init.getType()).getRank();
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(b.getMultiDimIdentityMap(rank));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        SmallVector<Value> ix = index(nb, nloc, args.drop_back());
        linalg::YieldOp::create(
            nb, nloc, tensor::ExtractOp::create(nb, nloc, src, ix).getResult());
      });
  Value r = generic.getResult(0);
  if (r.getType() != type)
    r = tensor::CastOp::create(b, loc, type, r);
  return r;
}

template <typename OpTy>
struct OpLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
};

struct LowerConstant final : OpLowering<ConstantOp> {
  using OpLowering::OpLowering;
  LogicalResult matchAndRewrite(ConstantOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, op.getType(),
                                                   cast<TypedAttr>(op.getValue()));
    return success();
  }
};

struct LowerShape final : OpLowering<ShapeOp> {
  using OpLowering::OpLowering;
  LogicalResult matchAndRewrite(ShapeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto in = cast<RankedTensorType>(op.getInput().getType());
    int64_t start = (int64_t)op.getStart();
    if (start < 0)
      start += in.getRank();
    start = std::clamp<int64_t>(start, 0, in.getRank());
    SmallVector<Value> elems;
    for (int64_t i = 0; i < op.getType().getDimSize(0); ++i)
      elems.push_back(arith::IndexCastOp::create(
          rewriter, loc, rewriter.getI64Type(),
          dimValue(rewriter, loc, op.getInput(), start + i)));
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, op.getType(), elems);
    return success();
  }
};

struct LowerSize final : OpLowering<SizeOp> {
  using OpLowering::OpLowering;
  LogicalResult matchAndRewrite(SizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value n = idx(rewriter, loc, 1);
    auto in = cast<RankedTensorType>(op.getInput().getType());
    for (int64_t d = 0; d < in.getRank(); ++d)
      n = arith::MulIOp::create(rewriter, loc, n,
                                dimValue(rewriter, loc, op.getInput(), d));
    Value v = arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(), n);
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, op.getType(), v);
    return success();
  }
};


struct LowerTranspose final : OpLowering<TransposeOp> {
  using OpLowering::OpLowering;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto in = getDims(rewriter, loc, op.getInput());
    SmallVector<OpFoldResult> dims;
    for (int64_t p : op.getPerm())
      dims.push_back(in[p]);
    Value init = tensor::EmptyOp::create(rewriter, loc, dims,
                                         op.getType().getElementType());
    auto t = linalg::TransposeOp::create(rewriter, loc, op.getInput(), init,
                                         op.getPerm());
    rewriter.replaceOp(op, t.getResult());
    return success();
  }
};

struct LowerConcat final : OpLowering<ConcatOp> {
  using OpLowering::OpLowering;
  LogicalResult matchAndRewrite(ConcatOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    int64_t rank = op.getType().getRank(), axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    SmallVector<OpFoldResult> dims = getDims(rewriter, loc, op.getInputs()[0]);
    Value total = idx(rewriter, loc, 0);
    for (Value in : op.getInputs())
      total = arith::AddIOp::create(rewriter, loc, total,
                                    dimValue(rewriter, loc, in, axis));
    dims[axis] = op.getType().isDynamicDim(axis)
                     ? OpFoldResult(total)
                     : rewriter.getIndexAttr(op.getType().getDimSize(axis));
    Value acc = tensor::EmptyOp::create(rewriter, loc, dims,
                                        op.getType().getElementType());
    acc = tensor::CastOp::create(rewriter, loc, op.getType(), acc);
    Value offset = idx(rewriter, loc, 0);
    for (Value in : op.getInputs()) {
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
      offsets[axis] = offset;
      SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
      acc = tensor::InsertSliceOp::create(rewriter, loc, in, acc, offsets,
                                          getDims(rewriter, loc, in), strides);
      offset = arith::AddIOp::create(rewriter, loc, offset,
                                     dimValue(rewriter, loc, in, axis));
    }
    rewriter.replaceOp(op, acc);
    return success();
  }
};

struct LowerSplit final : OpLowering<SplitOp> {
  using OpLowering::OpLowering;
  LogicalResult matchAndRewrite(SplitOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto in = cast<RankedTensorType>(op.getInput().getType());
    int64_t rank = in.getRank(), axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    int64_t n = op.getNumResults();
    Value dim = dimValue(rewriter, loc, op.getInput(), axis);
    Value each = arith::CeilDivUIOp::create(rewriter, loc, dim, idx(rewriter, loc, n));
    Value offset = idx(rewriter, loc, 0);
    SmallVector<Value> results;
    for (int64_t i = 0; i < n; ++i) {
      auto rt = cast<RankedTensorType>(op.getResult(i).getType());
      Value size;
      if (auto sizes = op.getSizes())
        size = idx(rewriter, loc, (*sizes)[i]);
      else if (i + 1 < n)
        size = each;
      else
        size = arith::SubIOp::create(rewriter, loc, dim, offset);
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
      offsets[axis] = offset;
      SmallVector<OpFoldResult> sizes = getDims(rewriter, loc, op.getInput());
      sizes[axis] = size;
      SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
      Value s = tensor::ExtractSliceOp::create(rewriter, loc, op.getInput(),
                                               offsets, sizes, strides);
      if (s.getType() != rt)
        s = tensor::CastOp::create(rewriter, loc, rt, s);
      results.push_back(s);
      offset = arith::AddIOp::create(rewriter, loc, offset, size);
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// out[i] = in[start + i * step] on sliced axes, with ONNX clamping.
struct LowerSlice final : OpLowering<SliceOp> {
  using OpLowering::OpLowering;
  LogicalResult matchAndRewrite(SliceOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto in = cast<RankedTensorType>(op.getInput().getType());
    int64_t rank = in.getRank();
    auto axesC = getConstantIntValues(op.getAxes());
    auto axesT = cast<RankedTensorType>(op.getAxes().getType());
    if (!axesC && (axesT.getRank() != 1 || axesT.isDynamicDim(0)))
      return rewriter.notifyMatchFailure(op, "run-time axes of unknown count");
    auto &b = rewriter;
    SmallVector<Value> starts(rank), steps(rank);
    SmallVector<OpFoldResult> dims = getDims(b, loc, op.getInput());
    Value zero = idx(b, loc, 0), one = idx(b, loc, 1);
    // Entry k of starts/ends/steps on a dim of extent d: the normalized,
    // clamped start, the step and the result extent.
    auto entry = [&](int64_t k, Value d) -> std::tuple<Value, Value, Value> {
      Value s = extractIndex(b, loc, op.getStarts(), k);
      Value e = extractIndex(b, loc, op.getEnds(), k);
      Value st = extractIndex(b, loc, op.getSteps(), k);
      auto norm = [&](Value v) {
        Value neg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, v, zero);
        return arith::SelectOp::create(b, loc, neg,
                                       arith::AddIOp::create(b, loc, v, d), v);
      };
      auto clampTo = [&](Value v, Value lo, Value hi) -> Value {
        return arith::MinSIOp::create(b, loc,
                                      arith::MaxSIOp::create(b, loc, v, lo), hi);
      };
      s = norm(s);
      e = norm(e);
      Value pos = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, st, zero);
      Value dm1 = arith::SubIOp::create(b, loc, d, one);
      Value sPos = clampTo(s, zero, d), ePos = clampTo(e, zero, d);
      Value sNeg = clampTo(s, zero, dm1), eNeg = clampTo(e, idx(b, loc, -1), dm1);
      s = arith::SelectOp::create(b, loc, pos, sPos, sNeg);
      e = arith::SelectOp::create(b, loc, pos, ePos, eNeg);
      // size = max(0, ceil((e - s) / step))
      Value diff = arith::SubIOp::create(b, loc, e, s);
      Value stepAbs = arith::SelectOp::create(
          b, loc, pos, st, arith::SubIOp::create(b, loc, zero, st));
      Value diffAbs = arith::SelectOp::create(
          b, loc, pos, diff, arith::SubIOp::create(b, loc, zero, diff));
      Value size = arith::CeilDivSIOp::create(b, loc, diffAbs, stepAbs);
      size = arith::MaxSIOp::create(b, loc, size, zero);
      return {s, st, size};
    };
    auto setDim = [&](int64_t ax, Value size) {
      if (op.getType().isDynamicDim(ax))
        dims[ax] = size;
      else
        dims[ax] = b.getIndexAttr(op.getType().getDimSize(ax));
    };
    if (axesC) {
      for (auto [k, a] : llvm::enumerate(*axesC)) {
        int64_t ax = a < 0 ? a + rank : a;
        auto [s, st, size] = entry(k, dimValue(b, loc, op.getInput(), ax));
        starts[ax] = s;
        steps[ax] = st;
        setDim(ax, size);
      }
    } else {
      // Axes known only at run time (ONNX allows them as a graph input):
      // every dim starts as the identity slice and takes entry k where
      // axes[k] (negatives from the rank) names it.
      Value rankV = idx(b, loc, rank);
      for (int64_t ax = 0; ax < rank; ++ax) {
        Value d = dimValue(b, loc, op.getInput(), ax);
        Value s = zero, st = one, size = d, here = idx(b, loc, ax);
        for (int64_t k = 0; k < axesT.getDimSize(0); ++k) {
          Value a = extractIndex(b, loc, op.getAxes(), k);
          Value neg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, a, zero);
          a = arith::SelectOp::create(b, loc, neg, arith::AddIOp::create(b, loc, a, rankV), a);
          Value sel = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, a, here);
          auto [sk, stk, sizek] = entry(k, d);
          s = arith::SelectOp::create(b, loc, sel, sk, s);
          st = arith::SelectOp::create(b, loc, sel, stk, st);
          size = arith::SelectOp::create(b, loc, sel, sizek, size);
        }
        starts[ax] = s;
        steps[ax] = st;
        setDim(ax, size);
      }
    }
    Value init = tensor::EmptyOp::create(b, loc, dims, in.getElementType());
    Value r = buildExtractGeneric(
        b, loc, init, {}, {}, op.getInput(), op.getType(),
        [&](OpBuilder &nb, Location nloc, ValueRange) {
          SmallVector<Value> ix;
          for (int64_t d = 0; d < rank; ++d) {
            Value i = linalg::IndexOp::create(nb, nloc, d);
            if (starts[d])
              i = arith::AddIOp::create(
                  nb, nloc, starts[d], arith::MulIOp::create(nb, nloc, i, steps[d]));
            ix.push_back(i);
          }
          return ix;
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};


struct LowerGather final : OpLowering<GatherOp> {
  using OpLowering::OpLowering;
  LogicalResult matchAndRewrite(GatherOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto ind = cast<RankedTensorType>(op.getIndices().getType());
    int64_t axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += in.getRank();
    int64_t q = ind.getRank(), rank = op.getType().getRank();
    // A constant scalar index into a static dim: a rank-reducing slice, a
    // view (q, k and v picked out of a fused projection).
    auto picked = getConstantIntValues(op.getIndices());
    if (q == 0 && picked && picked->size() == 1 && !in.isDynamicDim(axis)) {
      int64_t c = (*picked)[0], extent = in.getDimSize(axis);
      if (c < 0)
        c += extent;
      if (c >= 0 && c < extent) {
        SmallVector<OpFoldResult> offsets(in.getRank(), b.getIndexAttr(0));
        SmallVector<OpFoldResult> sizes = getDims(b, loc, op.getInput());
        SmallVector<OpFoldResult> strides(in.getRank(), b.getIndexAttr(1));
        offsets[axis] = b.getIndexAttr(c);
        sizes[axis] = b.getIndexAttr(1);
        rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
            op, op.getType(), op.getInput(), offsets, sizes, strides);
        return success();
      }
    }
    SmallVector<OpFoldResult> inDims = getDims(b, loc, op.getInput());
    SmallVector<OpFoldResult> dims(inDims.begin(), inDims.begin() + axis);
    llvm::append_range(dims, getDims(b, loc, op.getIndices()));
    dims.append(inDims.begin() + axis + 1, inDims.end());
    Value init = tensor::EmptyOp::create(b, loc, dims, in.getElementType());
    SmallVector<AffineExpr> indExprs;
    for (int64_t i = 0; i < q; ++i)
      indExprs.push_back(b.getAffineDimExpr(axis + i));
    Value axisDim = dimValue(b, loc, op.getInput(), axis);
    Value r = buildExtractGeneric(
        b, loc, init, op.getIndices(),
        {AffineMap::get(rank, 0, indExprs, b.getContext())}, op.getInput(),
        op.getType(), [&](OpBuilder &nb, Location nloc, ValueRange args) {
          SmallVector<Value> ix;
          for (int64_t d = 0; d < axis; ++d)
            ix.push_back(linalg::IndexOp::create(nb, nloc, d));
          ix.push_back(wrapIndex(nb, nloc, args[0], axisDim));
          for (int64_t d = axis + 1; d < in.getRank(); ++d)
            ix.push_back(linalg::IndexOp::create(nb, nloc, d - 1 + q));
          return ix;
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

struct LowerGatherElements final : OpLowering<GatherElementsOp> {
  using OpLowering::OpLowering;
  LogicalResult matchAndRewrite(GatherElementsOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    int64_t rank = op.getType().getRank(), axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    Value axisDim = dimValue(b, loc, op.getInput(), axis);
    Value src = op.getInput();
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis)
        checkExtent(b, loc, op.getIndices(), d, src, d, /*atMost=*/true);
    Value r = buildElementwise(
        b, loc, op.getType(), op.getIndices(),
        [&](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
          SmallVector<Value> ix;
          for (int64_t d = 0; d < rank; ++d)
            ix.push_back(d == axis ? wrapIndex(nb, nloc, args[0], axisDim)
                                   : (Value)linalg::IndexOp::create(nb, nloc, d));
          return tensor::ExtractOp::create(nb, nloc, src, ix);
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

struct LowerExpand final : OpLowering<ExpandOp> {
  using OpLowering::OpLowering;
  LogicalResult matchAndRewrite(ExpandOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    auto rt = op.getType();
    auto in = cast<RankedTensorType>(op.getInput().getType());
    int64_t rank = rt.getRank();
    int64_t n = cast<RankedTensorType>(op.getShape().getType()).getDimSize(0);
    SmallVector<OpFoldResult> dims;
    for (int64_t d = 0; d < rank; ++d) {
      if (!rt.isDynamicDim(d)) {
        dims.push_back(b.getIndexAttr(rt.getDimSize(d)));
        continue;
      }
      int64_t sd = d - (rank - n), id = d - (rank - in.getRank());
      Value e = sd >= 0 ? extractIndex(b, loc, op.getShape(), sd) : idx(b, loc, 1);
      if (id >= 0) {
        Value inDim = dimValue(b, loc, op.getInput(), id);
        Value isOne = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, e,
                                            idx(b, loc, 1));
        e = arith::SelectOp::create(b, loc, isOne, inDim, e);
      }
      dims.push_back(e);
    }
    Value r = buildElementwiseWithDims(
        b, loc, rt, dims, op.getInput(),
        [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    rewriter.replaceOp(op, r);
    return success();
  }
};

struct LowerTile final : OpLowering<TileOp> {
  using OpLowering::OpLowering;
  LogicalResult matchAndRewrite(TileOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    int64_t rank = op.getType().getRank();
    SmallVector<OpFoldResult> dims;
    SmallVector<Value> inDims;
    for (int64_t d = 0; d < rank; ++d) {
      Value id = dimValue(b, loc, op.getInput(), d);
      inDims.push_back(id);
      dims.push_back(op.getType().isDynamicDim(d)
                         ? OpFoldResult(arith::MulIOp::create(
                               b, loc, id, extractIndex(b, loc, op.getRepeats(), d)))
                         : b.getIndexAttr(op.getType().getDimSize(d)));
    }
    Value init = tensor::EmptyOp::create(b, loc, dims, op.getType().getElementType());
    Value r = buildExtractGeneric(
        b, loc, init, {}, {}, op.getInput(), op.getType(),
        [&](OpBuilder &nb, Location nloc, ValueRange) {
          SmallVector<Value> ix;
          for (int64_t d = 0; d < rank; ++d)
            ix.push_back(arith::RemUIOp::create(
                nb, nloc, linalg::IndexOp::create(nb, nloc, d), inDims[d]));
          return ix;
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

struct LowerPad final : OpLowering<PadOp> {
  using OpLowering::OpLowering;
  LogicalResult matchAndRewrite(PadOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getMode() != "constant")
      return rewriter.notifyMatchFailure(op, "only constant padding lowers yet");
    ArrayRef<int64_t> pads = op.getPads();
    if (llvm::any_of(pads, [](int64_t p) { return p < 0; }))
      return rewriter.notifyMatchFailure(op, "negative pads do not lower yet");
    Location loc = op.getLoc();
    int64_t rank = op.getType().getRank();
    Type elt = op.getType().getElementType();
    Value value = op.getValue()
                      ? tensor::ExtractOp::create(
                            rewriter, loc, op.getValue(),
                            SmallVector<Value>(
                                cast<RankedTensorType>(op.getValue().getType()).getRank(),
                                idx(rewriter, loc, 0)))
                            .getResult()
                      : scalarConst(rewriter, loc, elt, 0);
    SmallVector<OpFoldResult> low, high;
    for (int64_t d = 0; d < rank; ++d) {
      low.push_back(rewriter.getIndexAttr(pads[d]));
      high.push_back(rewriter.getIndexAttr(pads[d + rank]));
    }
    auto pad = tensor::PadOp::create(rewriter, loc, op.getType(), op.getInput(),
                                     low, high, value);
    rewriter.replaceOp(op, pad.getResult());
    return success();
  }
};

struct LowerRange final : OpLowering<RangeOp> {
  using OpLowering::OpLowering;
  LogicalResult matchAndRewrite(RangeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    Type elt = op.getType().getElementType();
    auto scalar = [&](Value t) -> Value {
      auto tt = cast<RankedTensorType>(t.getType());
      return tensor::ExtractOp::create(
          b, loc, t, SmallVector<Value>(tt.getRank(), idx(b, loc, 0)));
    };
    Value start = scalar(op.getStart()), limit = scalar(op.getLimit()),
          delta = scalar(op.getDelta());
    SmallVector<OpFoldResult> dims;
    if (op.getType().isDynamicDim(0)) {
      Value n;
      if (isa<FloatType>(elt)) {
        Value q = arith::DivFOp::create(
            b, loc, arith::SubFOp::create(b, loc, limit, start), delta);
        q = math::CeilOp::create(b, loc, q);
        n = arith::FPToSIOp::create(b, loc, b.getI64Type(), q);
      } else {
        Value diff = arith::SubIOp::create(b, loc, limit, start);
        n = arith::CeilDivSIOp::create(b, loc, diff, delta);
      }
      n = arith::IndexCastOp::create(b, loc, b.getIndexType(), n);
      n = arith::MaxSIOp::create(b, loc, n, idx(b, loc, 0));
      dims.push_back(n);
    } else {
      dims.push_back(b.getIndexAttr(op.getType().getDimSize(0)));
    }
    Value init = tensor::EmptyOp::create(b, loc, dims, elt);
    auto generic = linalg::GenericOp::create(
        b, loc, TypeRange{init.getType()}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{b.getMultiDimIdentityMap(1)},
        SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
        [&](OpBuilder &nb, Location nloc, ValueRange) {
          Value i = linalg::IndexOp::create(nb, nloc, 0);
          i = arith::IndexCastOp::create(nb, nloc, nb.getI64Type(), i);
          Value fi = castScalar(nb, nloc, i, elt);
          Value v = isa<FloatType>(elt)
                        ? (Value)arith::AddFOp::create(
                              nb, nloc, start, arith::MulFOp::create(nb, nloc, fi, delta))
                        : (Value)arith::AddIOp::create(
                              nb, nloc, start, arith::MulIOp::create(nb, nloc, fi, delta));
          linalg::YieldOp::create(nb, nloc, v);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct LowerConstantOfShape final : OpLowering<ConstantOfShapeOp> {
  using OpLowering::OpLowering;
  LogicalResult matchAndRewrite(ConstantOfShapeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto value = dyn_cast<DenseElementsAttr>(op.getValue());
    if (!value)
      return rewriter.notifyMatchFailure(op, "value must be dense");
    SmallVector<OpFoldResult> dims;
    for (int64_t d = 0; d < op.getType().getRank(); ++d)
      dims.push_back(op.getType().isDynamicDim(d)
                         ? OpFoldResult(extractIndex(rewriter, loc, op.getShape(), d))
                         : rewriter.getIndexAttr(op.getType().getDimSize(d)));
    Value v = arith::ConstantOp::create(
        rewriter, loc, cast<TypedAttr>(*value.getValues<Attribute>().begin()));
    Value init = tensor::EmptyOp::create(rewriter, loc, dims,
                                         op.getType().getElementType());
    Value r = linalg::FillOp::create(rewriter, loc, v, init).getResult(0);
    if (r.getType() != op.getType())
      r = tensor::CastOp::create(rewriter, loc, op.getType(), r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

struct LowerTrilu final : OpLowering<TriluOp> {
  using OpLowering::OpLowering;
  LogicalResult matchAndRewrite(TriluOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    int64_t rank = op.getType().getRank();
    Value k = op.getK() ? extractIndex(b, loc, op.getK(), 0) : idx(b, loc, 0);
    bool upper = op.getUpper();
    Type elt = op.getType().getElementType();
    Value r = buildElementwise(
        b, loc, op.getType(), op.getInput(),
        [&](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
          Value i = linalg::IndexOp::create(nb, nloc, rank - 2);
          Value j = linalg::IndexOp::create(nb, nloc, rank - 1);
          Value diff = arith::SubIOp::create(nb, nloc, j, i);
          Value keep = arith::CmpIOp::create(
              nb, nloc, upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle,
              diff, k);
          return arith::SelectOp::create(nb, nloc, keep, args[0],
                                         scalarConst(nb, nloc, elt, 0));
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

} // namespace

void lowering::populateTensorPatterns(RewritePatternSet &patterns) {
  populateReshapePatterns(patterns);
  patterns.add<LowerConstant, LowerShape, LowerSize, LowerTranspose,
               LowerConcat,
               LowerSplit, LowerSlice, LowerGather, LowerGatherElements,
               LowerExpand, LowerTile, LowerPad, LowerRange,
               LowerConstantOfShape, LowerTrilu>(patterns.getContext());
}
