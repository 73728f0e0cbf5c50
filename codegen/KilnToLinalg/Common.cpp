//===- Common.cpp - helpers shared by the kiln-to-linalg patterns ---------===//
//
// Broadcasting generics, reductions, reshapes and scalar casts on tensors
// with dynamic dims.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

SmallVector<OpFoldResult> lowering::getDims(OpBuilder &b, Location loc,
                                            Value v) {
  return tensor::getMixedSizes(b, loc, v);
}

Value lowering::dimValue(OpBuilder &b, Location loc, Value v, int64_t dim) {
  return getValueOrCreateConstantIndexOp(
      b, loc, tensor::getMixedSize(b, loc, v, dim));
}

// Signless stand-ins of unsigned values (toSignless): the bodies still
// pick unsigned ops (divui, uitofp, ...) for them.
static llvm::DenseSet<Value> &unsignedStandIns() {
  static thread_local llvm::DenseSet<Value> set;
  return set;
}

Value lowering::wrapIndex(OpBuilder &b, Location loc, Value v, Value dim) {
  v = arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value neg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, v, zero);
  v = arith::SelectOp::create(b, loc, neg, arith::AddIOp::create(b, loc, v, dim), v);
  Value last = arith::SubIOp::create(b, loc, dim, arith::ConstantIndexOp::create(b, loc, 1));
  return arith::MaxSIOp::create(b, loc, arith::MinSIOp::create(b, loc, v, last),
                                zero);
}

Value lowering::extractIndex(OpBuilder &b, Location loc, Value tensor,
                            int64_t pos) {
  auto t = cast<RankedTensorType>(tensor.getType());
  SmallVector<Value> idx;
  for (int64_t d = 0; d < t.getRank(); ++d)
    idx.push_back(arith::ConstantIndexOp::create(b, loc, d == t.getRank() - 1 ? pos : 0));
  Value v = tensor::ExtractOp::create(b, loc, tensor, idx);
  if (!v.getType().isIndex())
    v = arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  return v;
}

void lowering::checkDims(OpBuilder &b, Location loc, Value a, Value o) {
  auto i64 = b.getI64Type();
  func::CallOp::create(b, loc, "kiln_rt_check_dim", TypeRange{},
                       ValueRange{arith::IndexCastOp::create(b, loc, i64, a),
                                  arith::IndexCastOp::create(b, loc, i64, o)});
}

void lowering::checkExtent(OpBuilder &b, Location loc, Value a, int64_t da,
                           Value o, int64_t db, bool atMost) {
  auto at = cast<RankedTensorType>(a.getType()), ot = cast<RankedTensorType>(o.getType());
  if (!at.isDynamicDim(da) && !ot.isDynamicDim(db))
    return;
  Value x = dimValue(b, loc, a, da), y = dimValue(b, loc, o, db);
  if (atMost) // min(x, y) == x exactly when x <= y
    y = arith::MinUIOp::create(b, loc, x, y);
  checkDims(b, loc, x, y);
}

Value lowering::buildElementwise(
    OpBuilder &b, Location loc, RankedTensorType resultType, ValueRange inputs,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  return buildElementwiseWithDims(b, loc, resultType, {}, inputs, body);
}

Value lowering::buildElementwiseWithDims(
    OpBuilder &b, Location loc, RankedTensorType resultType,
    ArrayRef<OpFoldResult> givenDims, ValueRange inputs,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  int64_t rank = resultType.getRank();
  SmallVector<OpFoldResult> dims(givenDims);
  for (int64_t d = givenDims.empty() ? 0 : rank; d < rank; ++d) {
    // Every operand dim that is not statically 1 must equal the result's;
    // dynamic ones are checked at run time before the loop runs (the hook
    // ends the run on a mismatch), so bad inputs never read out of bounds.
    SmallVector<OpFoldResult> extents;
    if (!resultType.isDynamicDim(d))
      extents.push_back(b.getIndexAttr(resultType.getDimSize(d)));
    for (Value in : inputs) {
      auto t = cast<RankedTensorType>(in.getType());
      int64_t id = d - (rank - t.getRank());
      if (id < 0 || t.getDimSize(id) == 1)
        continue;
      extents.push_back(tensor::getMixedSize(b, loc, in, id));
    }
    if (extents.empty()) {
      dims.push_back(b.getIndexAttr(1));
      continue;
    }
    OpFoldResult extent = extents[0];
    for (OpFoldResult other : ArrayRef(extents).drop_front()) {
      if (isa<Attribute>(extent) && isa<Attribute>(other))
        continue; // both static: verified at compile time
      Value a = getValueOrCreateConstantIndexOp(b, loc, extent);
      Value o = getValueOrCreateConstantIndexOp(b, loc, other);
      checkDims(b, loc, a, o);
    }
    dims.push_back(extent);
  }
  Value init = tensor::EmptyOp::create(b, loc, dims, resultType.getElementType());
  SmallVector<AffineMap> maps;
  for (Value in : inputs) {
    auto t = cast<RankedTensorType>(in.getType());
    SmallVector<AffineExpr> exprs;
    for (int64_t id = 0; id < t.getRank(); ++id) {
      int64_t d = id + rank - t.getRank();
      bool bcast = t.getDimSize(id) == 1 && resultType.getDimSize(d) != 1;
      exprs.push_back(bcast ? b.getAffineConstantExpr(0) : b.getAffineDimExpr(d));
    }
    maps.push_back(AffineMap::get(rank, 0, exprs, b.getContext()));
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps, iters,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        // arith works on signless integers: unsigned elements enter the body
        // as signless (the bodies pick the unsigned ops: divui, maxui,
        // uitofp, ...) and leave as the result's type. The casts are
        // between types of the same width and vanish in the LLVM lowering
        // (reconcile-unrealized-casts).
        SmallVector<Value> in, standIns;
        for (Value a : args.drop_back()) {
          Value s = toSignless(nb, nloc, a);
          if (s != a)
            standIns.push_back(s);
          in.push_back(s);
        }
        // The stand-ins count as unsigned while the body is built, and only
        // then: a later value could reuse a stand-in's storage.
        for (Value s : standIns)
          unsignedStandIns().insert(s);
        Value r = body(nb, nloc, in);
        for (Value s : standIns)
          unsignedStandIns().erase(s);
        Type want = resultType.getElementType();
        if (r.getType() != want && isa<IntegerType>(want) &&
            cast<IntegerType>(want).isUnsigned())
          r = UnrealizedConversionCastOp::create(nb, nloc, want, r).getResult(0);
        linalg::YieldOp::create(nb, nloc, r);
      });
  return generic.getResult(0);
}

Value lowering::buildReduction(
    OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes,
    TypedAttr init,
    function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  auto t = cast<RankedTensorType>(input.getType());
  int64_t rank = t.getRank();
  SmallVector<OpFoldResult> dims;
  SmallVector<int64_t> shape;
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iters;
  for (int64_t d = 0; d < rank; ++d) {
    if (llvm::is_contained(axes, d)) {
      iters.push_back(utils::IteratorType::reduction);
      continue;
    }
    iters.push_back(utils::IteratorType::parallel);
    dims.push_back(tensor::getMixedSize(b, loc, input, d));
    shape.push_back(t.getDimSize(d));
    outExprs.push_back(b.getAffineDimExpr(d));
  }
  auto outType = RankedTensorType::get(shape, init.getType());
  Value filled =
      filledTensor(b, loc, dims, arith::ConstantOp::create(b, loc, init));
  SmallVector<AffineMap> maps{
      b.getMultiDimIdentityMap(rank),
      AffineMap::get(rank, 0, outExprs, b.getContext())};
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{outType}, ValueRange{input}, ValueRange{filled}, maps,
      iters, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        linalg::YieldOp::create(nb, nloc, combine(nb, nloc, args[0], args[1]));
      });
  return generic.getResult(0);
}

Value lowering::reshapeTo(OpBuilder &b, Location loc, Value v,
                          RankedTensorType type, ArrayRef<OpFoldResult> dims) {
  if (v.getType() == type)
    return v;
  SmallVector<Value> elems;
  for (OpFoldResult d : dims)
    elems.push_back(arith::IndexCastOp::create(
        b, loc, b.getI64Type(), getValueOrCreateConstantIndexOp(b, loc, d)));
  auto shapeType = RankedTensorType::get({(int64_t)elems.size()}, b.getI64Type());
  Value shape = tensor::FromElementsOp::create(b, loc, shapeType, elems);
  return tensor::ReshapeOp::create(b, loc, type, v, shape);
}

Value lowering::scalarConst(OpBuilder &b, Location loc, Type type, double v) {
  if (auto ft = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(ft, v));
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, (int64_t)v));
}

TypedAttr lowering::extremeAttr(Type type, bool lowest) {
  if (auto ft = dyn_cast<FloatType>(type))
    return FloatAttr::get(
        ft, APFloat::getInf(ft.getFloatSemantics(), /*Negative=*/lowest));
  unsigned w = type.getIntOrFloatBitWidth();
  bool isUnsigned = type.isUnsignedInteger() || w == 1;
  APInt v = lowest ? (isUnsigned ? APInt::getMinValue(w) : APInt::getSignedMinValue(w))
                   : (isUnsigned ? APInt::getMaxValue(w) : APInt::getSignedMaxValue(w));
  return IntegerAttr::get(type, v);
}


Value lowering::toSignless(OpBuilder &b, Location loc, Value v) {
  auto it = dyn_cast<IntegerType>(v.getType());
  if (!it || !it.isUnsigned())
    return v;
  return UnrealizedConversionCastOp::create(b, loc,
                                            b.getIntegerType(it.getWidth()), v)
      .getResult(0);
}

bool lowering::isUnsignedValue(Value v) {
  return v.getType().isUnsignedInteger() || v.getType().isInteger(1) ||
         unsignedStandIns().contains(v);
}

Value lowering::castScalar(OpBuilder &b, Location loc, Value v, Type to) {
  Type from = v.getType();
  if (from == to)
    return v;
  // arith takes signless integers: an unsigned source is read through its
  // stand-in, an unsigned target is produced signless and cast back.
  if (auto ti = dyn_cast<IntegerType>(to); ti && ti.isUnsigned()) {
    Type ts = b.getIntegerType(ti.getWidth());
    Value r = isa<FloatType>(from)
                  ? (Value)arith::FPToUIOp::create(b, loc, ts, v)
                  : castScalar(b, loc, v, ts);
    return UnrealizedConversionCastOp::create(b, loc, to, r).getResult(0);
  }
  bool srcUnsigned = isUnsignedValue(v);
  if (from.isUnsignedInteger()) {
    v = toSignless(b, loc, v);
    from = v.getType();
    if (from == to)
      return v;
  }
  auto fromF = dyn_cast<FloatType>(from), toF = dyn_cast<FloatType>(to);
  if (fromF && toF)
    return fromF.getWidth() < toF.getWidth()
               ? (Value)arith::ExtFOp::create(b, loc, to, v)
               : (Value)arith::TruncFOp::create(b, loc, to, v);
  if (to.isInteger(1)) {
    Value zero = scalarConst(b, loc, from, 0);
    if (fromF)
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, v, zero);
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, v, zero);
  }
  if (toF)
    return srcUnsigned ? (Value)arith::UIToFPOp::create(b, loc, to, v)
                       : (Value)arith::SIToFPOp::create(b, loc, to, v);
  if (fromF)
    return to.isUnsignedInteger()
               ? (Value)arith::FPToUIOp::create(b, loc, to, v)
               : (Value)arith::FPToSIOp::create(b, loc, to, v);
  unsigned fw = from.getIntOrFloatBitWidth(), tw = to.getIntOrFloatBitWidth();
  if (fw < tw)
    return srcUnsigned ? (Value)arith::ExtUIOp::create(b, loc, to, v)
                       : (Value)arith::ExtSIOp::create(b, loc, to, v);
  if (fw > tw)
    return arith::TruncIOp::create(b, loc, to, v);
  return arith::BitcastOp::create(b, loc, to, v);
}

Value lowering::filledTensor(OpBuilder &b, Location loc,
                             ArrayRef<OpFoldResult> dims, Value value) {
  Value empty = tensor::EmptyOp::create(b, loc, dims, value.getType());
  return linalg::FillOp::create(b, loc, value, empty).getResult(0);
}

static arith::FastMathFlagsAttr reassocFlags(OpBuilder &b) {
  return arith::FastMathFlagsAttr::get(
      b.getContext(), arith::FastMathFlags::reassoc | arith::FastMathFlags::contract);
}

Value lowering::mulAddReassoc(OpBuilder &b, Location loc, Value acc, Value x,
                              Value y) {
  Value p = arith::MulFOp::create(b, loc, x, y, reassocFlags(b));
  return arith::AddFOp::create(b, loc, acc, p, reassocFlags(b));
}

Value lowering::addReassoc(OpBuilder &b, Location loc, Value acc, Value x) {
  return arith::AddFOp::create(b, loc, acc, x, reassocFlags(b));
}
