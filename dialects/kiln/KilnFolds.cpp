//===- KilnFolds.cpp - kiln elementwise, comparison and cast folders -----===//
//
// Folders evaluate the arithmetic of shape computations on small constants
// (and float scalars), compare them, cast them, and remove no-op ops; the
// shape ops' folders and canonicalizations are in KilnShapeFolds.cpp.
// Constants are only materialized below kFoldLimit elements (KilnFoldUtils.h).
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnDialect.h"
#include "dialects/kiln/KilnFoldUtils.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/APSInt.h"

#include <cmath>

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::folds;


/// Linear index into `in` of the element at `outIdx` of the broadcast result.
static int64_t broadcastIndex(ArrayRef<int64_t> outIdx,
                              ArrayRef<int64_t> inShape) {
  int64_t lin = 0, stride = 1, off = outIdx.size() - inShape.size();
  for (int64_t d = (int64_t)inShape.size() - 1; d >= 0; --d) {
    int64_t i = inShape[d] == 1 ? 0 : outIdx[d + off];
    lin += i * stride;
    stride *= inShape[d];
  }
  return lin;
}

/// Evaluates an elementwise op over broadcast constant operands.
template <typename T>
static Attribute
foldElementwise(ArrayRef<Attribute> operands, Value result,
                function_ref<std::optional<T>(ArrayRef<T>)> fn,
                function_ref<Attribute(Type, ArrayRef<T>)> make) {
  auto type = staticType(result);
  if (!type || type.getNumElements() > kFoldLimit)
    return {};
  SmallVector<DenseElementsAttr> ins;
  for (Attribute a : operands) {
    auto d = denseOf(a);
    if (!small(d))
      return {};
    ins.push_back(d);
  }
  SmallVector<SmallVector<T>> vals;
  for (auto d : ins)
    vals.emplace_back(d.getValues<T>().begin(), d.getValues<T>().end());
  auto shape = type.getShape();
  auto strides = stridesOf(shape);
  SmallVector<T> out;
  SmallVector<int64_t> idx(shape.size());
  SmallVector<T> args(ins.size());
  for (int64_t lin = 0; lin < type.getNumElements(); ++lin) {
    for (size_t d = 0; d < shape.size(); ++d)
      idx[d] = (lin / strides[d]) % shape[d];
    for (size_t k = 0; k < ins.size(); ++k)
      args[k] = ins[k].isSplat()
                    ? vals[k][0]
                    : vals[k][broadcastIndex(idx, ins[k].getType().getShape())];
    auto r = fn(args);
    if (!r)
      return {};
    out.push_back(*r);
  }
  return make(type, out);
}

static Attribute makeInts(Type t, ArrayRef<APInt> v) {
  return DenseElementsAttr::get(cast<ShapedType>(t), v);
}

/// Folds a binary integer op on constants.
static Attribute foldIntBinary(ArrayRef<Attribute> operands, Value result,
                               function_ref<std::optional<APInt>(const APInt &,
                                                                 const APInt &)>
                                   fn) {
  auto type = staticType(result);
  if (!type || !isa<IntegerType>(type.getElementType()))
    return {};
  return foldElementwise<APInt>(
      operands, result,
      [&](ArrayRef<APInt> a) { return fn(a[0], a[1]); }, makeInts);
}

/// Folds a float elementwise op on small constants, evaluating in double and
/// rounding once to the element type (exact for + - * / and sqrt).
static Attribute foldFloat(ArrayRef<Attribute> operands, Value result,
                           function_ref<double(ArrayRef<double>)> fn) {
  auto type = staticType(result);
  if (!type || !isa<FloatType>(type.getElementType()) ||
      type.getNumElements() > kFoldLimit)
    return {};
  SmallVector<DenseFPElementsAttr> ins;
  SmallVector<SmallVector<double>> vals;
  for (Attribute a : operands) {
    auto d = dyn_cast_or_null<DenseFPElementsAttr>(a);
    if (!d || !small(d))
      return {};
    ins.push_back(d);
    auto &v = vals.emplace_back();
    for (APFloat x : d.getValues<APFloat>())
      v.push_back(x.convertToDouble());
  }
  auto shape = type.getShape();
  auto strides = stridesOf(shape);
  auto &sem = cast<FloatType>(type.getElementType()).getFloatSemantics();
  SmallVector<APFloat> out;
  SmallVector<int64_t> idx(shape.size());
  SmallVector<double> args(ins.size());
  for (int64_t lin = 0; lin < type.getNumElements(); ++lin) {
    for (size_t d = 0; d < shape.size(); ++d)
      idx[d] = (lin / strides[d]) % shape[d];
    for (size_t k = 0; k < ins.size(); ++k)
      args[k] = ins[k].isSplat()
                    ? vals[k][0]
                    : vals[k][broadcastIndex(idx, ins[k].getType().getShape())];
    APFloat r(fn(args));
    bool lost;
    r.convert(sem, APFloat::rmNearestTiesToEven, &lost);
    out.push_back(r);
  }
  return DenseElementsAttr::get(type, out);
}

/// `x op c` where c is a splat `neutral`: the op is an identity on x.
static bool isSplatInt(Attribute a, int64_t v) {
  auto d = denseOf(a);
  return d && d.isSplat() && isa<IntegerType>(d.getElementType()) &&
         d.getSplatValue<APInt>().getSExtValue() == v;
}

OpFoldResult AddOp::fold(FoldAdaptor a) {
  if (isSplatInt(a.getRhs(), 0) && getLhs().getType() == getType())
    return getLhs();
  if (Attribute f = foldFloat(a.getOperands(), getResult(),
                              [](ArrayRef<double> a) { return a[0] + a[1]; }))
    return f;
  return foldIntBinary(a.getOperands(), getResult(),
                       [](const APInt &x, const APInt &y) { return x + y; });
}

OpFoldResult SubOp::fold(FoldAdaptor a) {
  if (isSplatInt(a.getRhs(), 0) && getLhs().getType() == getType())
    return getLhs();
  if (Attribute f = foldFloat(a.getOperands(), getResult(),
                              [](ArrayRef<double> a) { return a[0] - a[1]; }))
    return f;
  return foldIntBinary(a.getOperands(), getResult(),
                       [](const APInt &x, const APInt &y) { return x - y; });
}

OpFoldResult MulOp::fold(FoldAdaptor a) {
  if (isSplatInt(a.getRhs(), 1) && getLhs().getType() == getType())
    return getLhs();
  if (Attribute f = foldFloat(a.getOperands(), getResult(),
                              [](ArrayRef<double> a) { return a[0] * a[1]; }))
    return f;
  return foldIntBinary(a.getOperands(), getResult(),
                       [](const APInt &x, const APInt &y) { return x * y; });
}

OpFoldResult DivOp::fold(FoldAdaptor a) {
  if (isSplatInt(a.getRhs(), 1) && getLhs().getType() == getType())
    return getLhs();
  if (Attribute f = foldFloat(a.getOperands(), getResult(),
                              [](ArrayRef<double> a) { return a[0] / a[1]; }))
    return f;
  bool isUnsigned = getType().getElementType().isUnsignedInteger();
  return foldIntBinary(a.getOperands(), getResult(),
                       [&](const APInt &x,
                           const APInt &y) -> std::optional<APInt> {
                         if (y.isZero())
                           return std::nullopt;
                         return isUnsigned ? x.udiv(y) : x.sdiv(y);
                       });
}

OpFoldResult ModOp::fold(FoldAdaptor a) {
  // Integers only (shape arithmetic: Swin's window padding is
  // (w - H % w) % w of static extents); fmod = 0 takes the divisor's sign.
  bool isUnsigned = getType().getElementType().isUnsignedInteger();
  bool fmod = getFmod();
  return foldIntBinary(a.getOperands(), getResult(),
                       [&](const APInt &x, const APInt &y) -> std::optional<APInt> {
                         if (y.isZero())
                           return std::nullopt;
                         if (isUnsigned)
                           return x.urem(y);
                         APInt r = x.srem(y);
                         if (!fmod && !r.isZero() && r.isNegative() != y.isNegative())
                           r += y;
                         return r;
                       });
}

OpFoldResult MaxOp::fold(FoldAdaptor a) {
  bool isUnsigned = getType().getElementType().isUnsignedInteger();
  return foldIntBinary(a.getOperands(), getResult(),
                       [&](const APInt &x, const APInt &y) {
                         bool less = isUnsigned ? x.ult(y) : x.slt(y);
                         return less ? y : x;
                       });
}

OpFoldResult MinOp::fold(FoldAdaptor a) {
  bool isUnsigned = getType().getElementType().isUnsignedInteger();
  return foldIntBinary(a.getOperands(), getResult(),
                       [&](const APInt &x, const APInt &y) {
                         bool less = isUnsigned ? x.ult(y) : x.slt(y);
                         return less ? x : y;
                       });
}

OpFoldResult NegOp::fold(FoldAdaptor a) {
  auto in = denseOf(a.getInput());
  if (!small(in) || !isa<IntegerType>(in.getElementType()) ||
      !getType().hasStaticShape())
    return {};
  return in.mapValues(in.getElementType(), [](const APInt &v) { return -v; });
}

OpFoldResult EqualOp::fold(FoldAdaptor a) {
  auto lhs = denseOf(a.getLhs());
  if (!lhs || !isa<IntegerType>(lhs.getElementType()))
    return {};
  return foldElementwise<APInt>(
      a.getOperands(), getResult(),
      [](ArrayRef<APInt> v) { return APInt(1, v[0] == v[1]); }, makeInts);
}

/// Integer comparisons of constants (shape tests feeding an If or a Where):
/// signed for signless integers, unsigned for ui types.
template <typename Cmp>
static OpFoldResult foldIntCompare(Attribute lhsAttr, ArrayRef<Attribute> operands,
                                   Value result, Cmp cmp) {
  auto lhs = denseOf(lhsAttr);
  if (!lhs || !isa<IntegerType>(lhs.getElementType()) ||
      lhs.getElementType().isInteger(1))
    return {};
  bool isUnsigned = lhs.getElementType().isUnsignedInteger();
  return foldElementwise<APInt>(
      operands, result,
      [&](ArrayRef<APInt> v) {
        int c = isUnsigned ? (v[0].ult(v[1]) ? -1 : v[0] == v[1] ? 0 : 1)
                           : (v[0].slt(v[1]) ? -1 : v[0] == v[1] ? 0 : 1);
        return APInt(1, cmp(c));
      },
      makeInts);
}

OpFoldResult LessOp::fold(FoldAdaptor a) {
  return foldIntCompare(a.getLhs(), a.getOperands(), getResult(),
                        [](int c) { return c < 0; });
}
OpFoldResult LessEqualOp::fold(FoldAdaptor a) {
  return foldIntCompare(a.getLhs(), a.getOperands(), getResult(),
                        [](int c) { return c <= 0; });
}
OpFoldResult GreaterOp::fold(FoldAdaptor a) {
  return foldIntCompare(a.getLhs(), a.getOperands(), getResult(),
                        [](int c) { return c > 0; });
}
OpFoldResult GreaterEqualOp::fold(FoldAdaptor a) {
  return foldIntCompare(a.getLhs(), a.getOperands(), getResult(),
                        [](int c) { return c >= 0; });
}

OpFoldResult WhereOp::fold(FoldAdaptor a) {
  auto cond = denseOf(a.getCondition());
  if (cond && cond.isSplat()) {
    Value pick = cond.getSplatValue<bool>() ? getX() : getY();
    if (pick.getType() == getType())
      return pick;
  }
  return foldElementwise<Attribute>(
      a.getOperands(), getResult(),
      [](ArrayRef<Attribute> v) -> std::optional<Attribute> {
        return cast<IntegerAttr>(v[0]).getValue().isOne() ? v[1] : v[2];
      },
      [](Type t, ArrayRef<Attribute> v) -> Attribute {
        return DenseElementsAttr::get(cast<ShapedType>(t), v);
      });
}

OpFoldResult IdentityOp::fold(FoldAdaptor) { return getInput(); }

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

/// Whether every element of constant `v` is an integral float within
/// [lo, hi] (the bounds' integrality is what matters when v is a bound).
static bool integralConstant(Value v, double lo, double hi) {
  Attribute a;
  if (!v || !matchPattern(v, m_Constant(&a)))
    return false;
  auto d = dyn_cast<DenseFPElementsAttr>(a);
  if (!d || d.getNumElements() > 4096)
    return false;
  for (APFloat f : d.getValues<APFloat>()) {
    double x = f.convertToDouble();
    if (!(x >= lo && x <= hi) || x != std::nearbyint(x))
      return false;
  }
  return true;
}

/// Whether every element of float `v` is integral (or NaN): a round, a
/// round plus or minus integral constants (a quantizer's zero point), or
/// such a value clipped to integral bounds.
static bool integralValued(Value v, int depth = 0) {
  Operation *d = v.getDefiningOp();
  if (!d || depth > 4)
    return false;
  if (isa<RoundOp, FloorOp, CeilOp>(d))
    return true;
  if (isa<AddOp, SubOp>(d)) {
    Value l = d->getOperand(0), r = d->getOperand(1);
    return (integralValued(l, depth + 1) && integralConstant(r, -1e9, 1e9)) ||
           (isa<AddOp>(d) && integralValued(r, depth + 1) &&
            integralConstant(l, -1e9, 1e9));
  }
  if (auto c = dyn_cast<ClipOp>(d))
    return integralValued(c.getInput(), depth + 1) &&
           (!c.getMin() || integralConstant(c.getMin(), -1e9, 1e9)) &&
           (!c.getMax() || integralConstant(c.getMax(), -1e9, 1e9));
  return false;
}

/// float -> int -> the same float of a value that is integral and within
/// the integer type's range: the value itself (kiln-cpu-select-ukernels
/// applies it after its int8 rewrites, which match the casts). A
/// QuantizeLinear -> DequantizeLinear pair (ConvertQuant.cpp: clip(round(x
/// / s) + zp, lo, hi) cast to u8 / s8, then back to float) so stays in
/// float, and its loop vectorizes: LLVM kept the integer conversions
/// scalar. A NaN, which the integer round trip would not keep, stays NaN.
Value mlir::kiln::integerRoundTripSource(CastOp op) {
  auto inner = op.getInput().getDefiningOp<CastOp>();
  if (!inner)
    return {};
  Value v = inner.getInput();
  auto it = dyn_cast<IntegerType>(getElementTypeOrSelf(inner.getType()));
  if (!it || it.getWidth() <= 1 || it.getWidth() > 16 ||
      v.getType() != op.getType() ||
      !isa<FloatType>(getElementTypeOrSelf(op.getType())))
    return {};
  double lo = it.isUnsigned() ? 0.0 : -std::ldexp(1.0, it.getWidth() - 1);
  double hi = it.isUnsigned() ? std::ldexp(1.0, it.getWidth()) - 1
                              : std::ldexp(1.0, it.getWidth() - 1) - 1;
  auto c = v.getDefiningOp<ClipOp>();
  if (c && c.getMin() && c.getMax() && integralConstant(c.getMin(), lo, hi) &&
      integralConstant(c.getMax(), lo, hi) && integralValued(v))
    return v;
  return {};
}

OpFoldResult CastOp::fold(FoldAdaptor a) {
  if (getInput().getType() == getType())
    return getInput();
  auto in = denseOf(a.getInput());
  if (!small(in) || !getType().hasStaticShape())
    return {};
  Type from = in.getElementType(), to = getType().getElementType();
  auto toInt = dyn_cast<IntegerType>(to);
  auto fromInt = dyn_cast<IntegerType>(from);
  if (fromInt && toInt) {
    bool srcSigned = !fromInt.isUnsigned() && fromInt.getWidth() > 1;
    return in.mapValues(to, [&](const APInt &v) {
      if (toInt.getWidth() == 1)
        return APInt(1, !v.isZero());
      return srcSigned ? v.sextOrTrunc(toInt.getWidth())
                       : v.zextOrTrunc(toInt.getWidth());
    });
  }
  if (fromInt && isa<FloatType>(to)) {
    bool srcSigned = !fromInt.isUnsigned() && fromInt.getWidth() > 1;
    auto &sem = cast<FloatType>(to).getFloatSemantics();
    return in.mapValues(to, [&](const APInt &v) {
      APFloat f(sem);
      f.convertFromAPInt(v, srcSigned, APFloat::rmNearestTiesToEven);
      return f.bitcastToAPInt();
    });
  }
  if (isa<FloatType>(from) && toInt && toInt.getWidth() > 1) {
    bool ok = true;
    auto r = in.mapValues(to, [&](const APFloat &v) {
      APSInt i(toInt.getWidth(), toInt.isUnsigned());
      bool exact;
      if (v.convertToInteger(i, APFloat::rmTowardZero, &exact) &
          APFloat::opInvalidOp)
        ok = false;
      return APInt(i);
    });
    return ok ? r : Attribute();
  }
  return {};
}

OpFoldResult PowOp::fold(FoldAdaptor a) {
  if (getLhs().getType() != getType())
    return {};
  return foldFloat(a.getOperands(), getResult(), [](ArrayRef<double> a) {
    return std::pow(a[0], a[1]);
  });
}

OpFoldResult SqrtOp::fold(FoldAdaptor a) {
  return foldFloat(a.getOperands(), getResult(),
                   [](ArrayRef<double> a) { return std::sqrt(a[0]); });
}
