//===- RuntimeAxes.cpp - ops whose axes are only known at run time -------===//
//
// ONNX gives axes (Unsqueeze, Squeeze, ReduceSum from opset 13), CumSum's
// axis and Split's sizes as tensors, which exporters make constants but
// which may be graph inputs. When they are not constant, these expansions
// compute the same result from the values at run time, with the output's
// rank still static (it depends only on how many axes there are):
//   - Unsqueeze / Squeeze: the output shape is computed from the axes and
//     the input's shape (a handful of ops on [rank]-sized integer tensors),
//     then a Reshape;
//   - ReduceSum: per input dim, a kiln.if reduces it (keepdims) when it is
//     one of the axes; without keepdims, a run-time Squeeze follows;
//   - CumSum: a chain of kiln.if on the axis value, one branch per dim;
//   - Split: Slices between the running sums of the sizes.
// Out-of-range axes are not diagnosed at run time (the Reshape's element
// count check catches a Squeeze of a non-unit dim).
//
//===----------------------------------------------------------------------===//

#include "Emitter.h"

using namespace ::kiln::import;
namespace k = mlir::kiln;

namespace {

/// Axes (any integer type, 0-D or 1-D) as i64 [n], negative ones taken
/// from the end of `rank` dims.
Value normalizedAxes(KilnEmitter &e, Value axes, int64_t rank) {
  NodeContext &c = e.c;
  Value a = e.cast(axes, c.b.getI64Type());
  if (a && c.typeOf(a).getRank() == 0)
    a = e.unsqueeze(a, 0);
  Value neg = e.op<k::LessOp>({a, c.i64Scalar(0)});
  return e.op<k::WhereOp>({neg, e.op<k::AddOp>({a, c.i64Scalar(rank)}), a});
}

/// isAxis[j] (i64 0 / 1) for j < rank: whether j is among `axesN` [n].
Value axisFlags(KilnEmitter &e, Value axesN, int64_t rank) {
  NodeContext &c = e.c;
  Value j = c.i64Vector(llvm::to_vector(llvm::seq<int64_t>(0, rank)));
  Value eq = e.op<k::EqualOp>({e.unsqueeze(axesN, 1), j}); // [n, rank]
  return e.reduce<k::ReduceMaxOp>(e.cast(eq, c.b.getI64Type()), {0}, false);
}

int64_t staticCount(NodeContext &c, Value axes) {
  auto t = c.typeOf(axes);
  if (t.getRank() == 0)
    return 1;
  return t.getRank() == 1 ? t.getDimSize(0) : ShapedType::kDynamic;
}

} // namespace

namespace kiln::import {

FailureOr<Value> unsqueezeAtRunTime(NodeContext &c, Value x,
                                                  Value axes) {
  int64_t n = staticCount(c, axes);
  if (ShapedType::isDynamic(n))
    return c.fail("axes must have a static length when they are not constant");
  int64_t rank = c.typeOf(x).getRank(), outRank = rank + n;
  KilnEmitter e(c);
  Value axesN = normalizedAxes(e, axes, outRank);
  Value isAxis = axisFlags(e, axesN, outRank);
  Value j = c.i64Vector(llvm::to_vector(llvm::seq<int64_t>(0, outRank)));
  Value dims;
  if (rank == 0) {
    dims = c.i64Vector(SmallVector<int64_t>(outRank, 1));
  } else {
    // Output dim j is input dim j - (axes before j) unless j is an axis.
    Value before = e.reduce<k::ReduceSumOp>(
        e.cast(e.op<k::LessOp>({e.unsqueeze(axesN, 1), j}), c.b.getI64Type()),
        {0}, false);
    Value idx = e.op<k::ClipOp>(
        {e.op<k::SubOp>({j, before}), c.i64Scalar(0), c.i64Scalar(rank - 1)},
        {c.named("operandSegmentSizes", c.b.getDenseI32ArrayAttr({1, 1, 1}))});
    Value inDims = e.op<k::GatherOp>({e.op<k::ShapeOp>(x), idx},
                                     {c.named("axis", c.b.getI64IntegerAttr(0))});
    dims = e.op<k::WhereOp>(
        {e.op<k::EqualOp>({isAxis, c.i64Scalar(1)}), c.i64Scalar(1), inDims});
  }
  Value y = e.op<k::ReshapeOp>(
      {x, dims}, {c.named("allowzero", c.b.getBoolAttr(true))});
  if (e.failed)
    return failure();
  return y;
}

FailureOr<Value> squeezeAtRunTime(NodeContext &c, Value x,
                                                Value axes) {
  int64_t n = staticCount(c, axes);
  int64_t rank = c.typeOf(x).getRank();
  if (ShapedType::isDynamic(n) || n > rank)
    return c.fail("axes must have a static length (at most the rank) when "
                  "they are not constant");
  int64_t outRank = rank - n;
  KilnEmitter e(c);
  Value dims;
  if (outRank == 0) {
    dims = c.i64Vector({});
  } else {
    Value axesN = normalizedAxes(e, axes, rank);
    Value keep = e.op<k::SubOp>({c.i64Scalar(1), axisFlags(e, axesN, rank)});
    // A kept dim j lands at the number of kept dims before it; output dim o
    // is the sum over kept j with that position of shape[j].
    Value pos = e.op<k::CumSumOp>(
        keep, {c.named("axis", c.b.getI64IntegerAttr(0)),
               c.named("exclusive", c.b.getBoolAttr(true))});
    Value o = c.i64Vector(llvm::to_vector(llvm::seq<int64_t>(0, outRank)));
    Value hit = e.op<k::MulOp>(
        {e.cast(e.op<k::EqualOp>({e.unsqueeze(o, 1), pos}), c.b.getI64Type()),
         keep}); // [outRank, rank]
    dims = e.reduce<k::ReduceSumOp>(
        e.op<k::MulOp>({hit, e.op<k::ShapeOp>(x)}), {1}, false);
  }
  Value y = e.op<k::ReshapeOp>(
      {x, dims}, {c.named("allowzero", c.b.getBoolAttr(true))});
  if (e.failed)
    return failure();
  return y;
}

FailureOr<Value> reduceSumAtRunTime(NodeContext &c, Value x,
                                                  Value axes, bool keepdims) {
  int64_t n = staticCount(c, axes);
  int64_t rank = c.typeOf(x).getRank();
  if (ShapedType::isDynamic(n) || n > rank)
    return c.fail("axes must have a static length (at most the rank) when "
                  "they are not constant");
  KilnEmitter e(c);
  Value axesN = normalizedAxes(e, axes, rank);
  Value isAxis = axisFlags(e, axesN, rank);
  Value y = x;
  for (int64_t d = 0; d < rank; ++d) {
    Value cond = e.op<k::EqualOp>({e.at(isAxis, d, 0), c.i64Scalar(1)});
    Value in = y;
    y = e.ifElse(
        cond, [&] { return e.reduce<k::ReduceSumOp>(in, {d}, true); },
        [&] { return in; });
  }
  if (e.failed)
    return failure();
  if (keepdims)
    return y;
  return squeezeAtRunTime(c, y, axes);
}

FailureOr<Value> cumSumAtRunTime(NodeContext &c, Value x,
                                               Value axis, bool exclusive,
                                               bool reverse) {
  int64_t rank = c.typeOf(x).getRank();
  if (rank == 0)
    return c.fail("the input must have rank >= 1");
  KilnEmitter e(c);
  Value a = normalizedAxes(e, axis, rank);
  auto along = [&](int64_t d) {
    return e.op<k::CumSumOp>(
        x, {c.named("axis", c.b.getI64IntegerAttr(d)),
            c.named("exclusive", c.b.getBoolAttr(exclusive)),
            c.named("reverse", c.b.getBoolAttr(reverse))});
  };
  // if (axis == 0) ... else if (axis == 1) ... else along(rank - 1)
  std::function<Value(int64_t)> chain = [&](int64_t d) -> Value {
    if (d == rank - 1)
      return along(d);
    Value cond = e.op<k::EqualOp>({a, c.i64Vector({d})});
    return e.ifElse(cond, [&] { return along(d); }, [&] { return chain(d + 1); });
  };
  Value y = chain(0);
  if (e.failed)
    return failure();
  return y;
}

LogicalResult splitAtRunTime(NodeContext &c, Value x,
                                           int64_t axis, Value sizes) {
  int64_t n = c.numOutputs();
  int64_t given = staticCount(c, sizes);
  if (given != n)
    return c.fail("split must have a static length equal to the number of "
                  "outputs when it is not constant");
  KilnEmitter e(c);
  Value s = e.cast(sizes, c.b.getI64Type());
  Value ends = e.op<k::CumSumOp>(s, {c.named("axis", c.b.getI64IntegerAttr(0))});
  Value starts = e.op<k::SubOp>({ends, s});
  for (int64_t i = 0; i < n; ++i) {
    Value idx = c.i64Vector({i});
    auto pick = [&](Value v) {
      return e.op<k::GatherOp>({v, idx},
                               {c.named("axis", c.b.getI64IntegerAttr(0))});
    };
    c.outputs.push_back(e.op<k::SliceOp>(
        {x, pick(starts), pick(ends), c.i64Vector({axis}), c.i64Vector({1})}));
  }
  return failure(e.failed);
}

} // namespace kiln::import
