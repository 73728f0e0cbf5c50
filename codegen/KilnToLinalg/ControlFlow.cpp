//===- ControlFlow.cpp - kiln.if and kiln.loop to scf ----------------------===//
//
// kiln.if becomes scf.if and kiln.loop becomes scf.while, both on tensors
// (one-shot bufferization handles them); their regions move over.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The one element of a one-element tensor.
Value extractScalar(OpBuilder &b, Location loc, Value t) {
  auto type = cast<RankedTensorType>(t.getType());
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  SmallVector<Value> idx(type.getRank(), zero);
  return tensor::ExtractOp::create(b, loc, t, idx);
}

/// `v` as type `t` (a tensor.cast where `v` is more static).
Value castTo(OpBuilder &b, Location loc, Value v, Type t) {
  return v.getType() == t ? v : tensor::CastOp::create(b, loc, t, v).getResult();
}

/// kiln.if -> scf.if on tensors (one-shot bufferization handles it): the
/// condition's one element is extracted, the regions move over.
struct LowerIf final : OpRewritePattern<IfOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(IfOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value cond = extractScalar(rewriter, loc, op.getCond());
    rewriter.setInsertionPoint(op);
    auto ifOp = scf::IfOp::create(rewriter, loc, op.getResultTypes(), cond,
                                  /*withElseRegion=*/true);
    for (auto [from, to] : {std::pair<Region *, Region *>{&op.getThenBranch(),
                                                          &ifOp.getThenRegion()},
                            {&op.getElseBranch(), &ifOp.getElseRegion()}}) {
      // kiln.yield -> scf.yield, casting a branch's sharper types to the
      // results'.
      auto yield = cast<YieldOp>(from->front().getTerminator());
      rewriter.setInsertionPoint(yield);
      SmallVector<Value> values;
      for (auto [v, t] : llvm::zip(yield.getValues(), op.getResultTypes()))
        values.push_back(castTo(rewriter, yield.getLoc(), v, t));
      rewriter.replaceOpWithNewOp<scf::YieldOp>(yield, values);
      while (!to->empty())
        rewriter.eraseBlock(&to->front());
      rewriter.inlineRegionBefore(*from, *to, to->end());
    }
    rewriter.replaceOp(op, ifOp.getResults());
    return success();
  }
};

/// kiln.loop -> scf.while over (iteration i64, condition i1, loop-carried
/// tensors, scan buffers). The before region tests `i < max_trip && cond`;
/// the after region is the body, its arguments rebuilt as tensors, and
/// yields i + 1, the body's next condition and carried values, and each
/// scan buffer with the iteration's value inserted as row i. A scan buffer
/// has max(max_trip, 0) rows (the importer gives a loop with scan outputs
/// a trip count) and, where the values' extents are dynamic, is allocated
/// by iteration 0 (later values' extents checked against it); the result
/// keeps the rows the iterations wrote.
struct LowerLoop final : OpRewritePattern<LoopOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LoopOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Block &body = op.getBody().front();
    auto yield = cast<YieldOp>(body.getTerminator());
    size_t carried = op.getInits().size();
    size_t scans = op.getNumResults() - carried;
    Type i64 = rewriter.getI64Type();
    Value trip = extractScalar(rewriter, loc, op.getMaxTrip());
    Value scanRows;
    Value zero64 = arith::ConstantIntOp::create(rewriter, loc, i64, 0);
    SmallVector<Value> inits{zero64, extractScalar(rewriter, loc, op.getCond())};
    for (auto [v, r] : llvm::zip(op.getInits(), op.getResults()))
      inits.push_back(castTo(rewriter, loc, v, r.getType()));
    if (scans) {
      Value rows = arith::IndexCastOp::create(
          rewriter, loc, rewriter.getIndexType(),
          arith::MaxSIOp::create(rewriter, loc, trip, zero64));
      scanRows = rows;
      for (size_t k = 0; k < scans; ++k) {
        // A dim the iterations' values do not fix at compile time is 0
        // here; the first iteration allocates the buffer with its extents.
        auto elem = cast<RankedTensorType>(yield.getValues()[1 + carried + k].getType());
        SmallVector<int64_t> shape{ShapedType::kDynamic};
        SmallVector<Value> dynamic{rows};
        for (int64_t d : elem.getShape()) {
          shape.push_back(d);
          if (ShapedType::isDynamic(d))
            dynamic.push_back(arith::ConstantIndexOp::create(rewriter, loc, 0));
        }
        inits.push_back(tensor::EmptyOp::create(rewriter, loc, shape,
                                                elem.getElementType(), dynamic));
      }
    }
    SmallVector<Type> types;
    for (Value v : inits)
      types.push_back(v.getType());
    SmallVector<Location> locs(types.size(), loc);
    auto loop = scf::WhileOp::create(rewriter, loc, types, inits);

    Block *before = rewriter.createBlock(&loop.getBefore(), {}, types, locs);
    Value inRange = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::slt,
                                          before->getArgument(0), trip);
    Value go = arith::AndIOp::create(rewriter, loc, inRange, before->getArgument(1));
    scf::ConditionOp::create(rewriter, loc, go, before->getArguments());

    Block *after = rewriter.createBlock(&loop.getAfter(), {}, types, locs);
    Value iter = after->getArgument(0);
    SmallVector<Value> bound{
        tensor::FromElementsOp::create(rewriter, loc,
                                       RankedTensorType::get({}, i64), iter),
        tensor::FromElementsOp::create(
            rewriter, loc, RankedTensorType::get({}, rewriter.getI1Type()),
            after->getArgument(1))};
    for (size_t i = 0; i < carried; ++i)
      bound.push_back(after->getArgument(2 + i));
    rewriter.inlineBlockBefore(&body, after, after->end(), bound);

    rewriter.setInsertionPoint(yield);
    Location yloc = yield.getLoc();
    Value one = arith::ConstantIntOp::create(rewriter, yloc, i64, 1);
    SmallVector<Value> next{arith::AddIOp::create(rewriter, yloc, iter, one),
                            extractScalar(rewriter, yloc, yield.getValues()[0])};
    for (size_t i = 0; i < carried; ++i)
      next.push_back(castTo(rewriter, yloc, yield.getValues()[1 + i],
                            op.getResult(i).getType()));
    Value row = arith::IndexCastOp::create(rewriter, yloc,
                                           rewriter.getIndexType(), iter);
    for (size_t k = 0; k < scans; ++k) {
      Value v = yield.getValues()[1 + carried + k];
      Value buf = after->getArgument(2 + carried + k);
      auto elem = cast<RankedTensorType>(v.getType());
      SmallVector<OpFoldResult> sizes{rewriter.getIndexAttr(1)};
      llvm::append_range(sizes, lowering::getDims(rewriter, yloc, v));
      if (!elem.hasStaticShape()) {
        // Iteration 0 allocates the buffer with its value's extents; every
        // later value must have the same (ONNX), checked at run time.
        Value first = arith::CmpIOp::create(rewriter, yloc, arith::CmpIPredicate::eq,
                                            iter, zero64);
        SmallVector<Value> dynamic{scanRows};
        for (int64_t d = 0; d < elem.getRank(); ++d)
          if (elem.isDynamicDim(d))
            dynamic.push_back(lowering::dimValue(rewriter, yloc, v, d));
        auto ifOp = scf::IfOp::create(
            rewriter, yloc, first,
            [&](OpBuilder &b, Location l) {
              Value fresh = tensor::EmptyOp::create(
                  b, l, cast<RankedTensorType>(buf.getType()).getShape(),
                  elem.getElementType(), dynamic);
              scf::YieldOp::create(b, l, fresh);
            },
            [&](OpBuilder &b, Location l) { scf::YieldOp::create(b, l, buf); });
        buf = ifOp.getResult(0);
        for (int64_t d = 0; d < elem.getRank(); ++d)
          if (elem.isDynamicDim(d))
            lowering::checkDims(rewriter, yloc,
                                lowering::dimValue(rewriter, yloc, buf, d + 1),
                                lowering::dimValue(rewriter, yloc, v, d));
      }
      SmallVector<OpFoldResult> offsets(elem.getRank() + 1,
                                        rewriter.getIndexAttr(0));
      offsets[0] = row;
      SmallVector<OpFoldResult> strides(elem.getRank() + 1,
                                        rewriter.getIndexAttr(1));
      next.push_back(tensor::InsertSliceOp::create(rewriter, yloc, v, buf,
                                                   offsets, sizes, strides));
    }
    rewriter.replaceOpWithNewOp<scf::YieldOp>(yield, next);

    rewriter.setInsertionPointAfter(loop);
    SmallVector<Value> results;
    for (size_t i = 0; i < carried; ++i)
      results.push_back(loop.getResult(2 + i));
    if (scans) {
      Value count = arith::IndexCastOp::create(
          rewriter, loc, rewriter.getIndexType(), loop.getResult(0));
      for (size_t k = 0; k < scans; ++k) {
        Value buf = loop.getResult(2 + carried + k);
        auto type = cast<RankedTensorType>(buf.getType());
        SmallVector<OpFoldResult> offsets(type.getRank(), rewriter.getIndexAttr(0));
        SmallVector<OpFoldResult> sizes =
            lowering::getDims(rewriter, loc, buf);
        sizes[0] = count;
        SmallVector<OpFoldResult> strides(type.getRank(), rewriter.getIndexAttr(1));
        Value rowsRun = tensor::ExtractSliceOp::create(rewriter, loc, buf,
                                                       offsets, sizes, strides);
        results.push_back(castTo(rewriter, loc, rowsRun,
                                 op.getResult(carried + k).getType()));
      }
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void mlir::kiln::lowering::populateControlFlowPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerIf, LowerLoop>(patterns.getContext());
}
