//===- Elementwise.cpp - kiln elementwise ops to linalg.generic -----------===//
//
// One pattern lowers every elementwise kiln op to a broadcasting
// linalg.generic; `scalarBody` holds the per-op scalar computation in arith
// and math, with ONNX semantics per element type.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

bool isF(Type t) { return isa<FloatType>(t); }

Value cst(OpBuilder &b, Location loc, Type t, double v) {
  return scalarConst(b, loc, t, v);
}

/// min(max(x, lo), hi) for floats (NaN-propagating) or integers.
Value clamp(OpBuilder &b, Location loc, Value x, Value lo, Value hi) {
  Type t = x.getType();
  if (isF(t)) {
    if (lo)
      x = arith::MaximumFOp::create(b, loc, x, lo);
    if (hi)
      x = arith::MinimumFOp::create(b, loc, x, hi);
    return x;
  }
  bool u = isUnsignedValue(x);
  if (lo)
    x = u ? (Value)arith::MaxUIOp::create(b, loc, x, lo)
          : (Value)arith::MaxSIOp::create(b, loc, x, lo);
  if (hi)
    x = u ? (Value)arith::MinUIOp::create(b, loc, x, hi)
          : (Value)arith::MinSIOp::create(b, loc, x, hi);
  return x;
}

Value cmp(OpBuilder &b, Location loc, arith::CmpFPredicate fp,
          arith::CmpIPredicate sp, arith::CmpIPredicate up, Value l, Value r) {
  Type t = l.getType();
  if (isF(t))
    return arith::CmpFOp::create(b, loc, fp, l, r);
  return arith::CmpIOp::create(b, loc, isUnsignedValue(l) ? up : sp, l, r);
}

float f32Attr(FloatAttr a) { return a.getValueAsDouble(); }

/// The scalar computation of an elementwise op, or null if `op` is not one.
Value scalarBody(Operation *op, OpBuilder &b, Location loc, ValueRange a,
                 Type rt) {
  using P = arith::CmpFPredicate;
  using I = arith::CmpIPredicate;
  Value x = a.empty() ? Value() : a[0];
  Type t = x ? x.getType() : Type();
  bool u = x && isUnsignedValue(x); // unsigned, directly or as a stand-in
  auto fOrI = [&](auto fOp, auto iOp) -> Value {
    using F = decltype(fOp);
    using J = decltype(iOp);
    if (isF(t))
      return F::create(b, loc, a[0], a[1]);
    return J::create(b, loc, a[0], a[1]);
  };
  auto sigmoid = [&](Value v) -> Value {
    Value one = cst(b, loc, t, 1.0);
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, v));
    return arith::DivFOp::create(b, loc, one, arith::AddFOp::create(b, loc, one, e));
  };
  auto softplus = [&](Value v) -> Value {
    // log(1 + exp(v)), computed as max(v, 0) + log1p(exp(-|v|)).
    Value zero = cst(b, loc, t, 0.0);
    Value m = arith::MaximumFOp::create(b, loc, v, zero);
    Value e = math::ExpOp::create(
        b, loc, arith::NegFOp::create(b, loc, math::AbsFOp::create(b, loc, v)));
    return arith::AddFOp::create(b, loc, m, math::Log1pOp::create(b, loc, e));
  };
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](AddOp) { return fOrI(arith::AddFOp(), arith::AddIOp()); })
      .Case([&](SubOp) { return fOrI(arith::SubFOp(), arith::SubIOp()); })
      .Case([&](MulOp) { return fOrI(arith::MulFOp(), arith::MulIOp()); })
      .Case([&](DivOp) -> Value {
        if (isF(t))
          return arith::DivFOp::create(b, loc, a[0], a[1]);
        return u ? (Value)arith::DivUIOp::create(b, loc, a[0], a[1])
                      : (Value)arith::DivSIOp::create(b, loc, a[0], a[1]);
      })
      .Case([&](PowOp) -> Value {
        Value e = castScalar(b, loc, a[1], t);
        if (isF(t))
          return math::PowFOp::create(b, loc, a[0], e);
        return math::IPowIOp::create(b, loc, a[0], e);
      })
      .Case([&](ModOp m) -> Value {
        if (isF(t))
          return arith::RemFOp::create(b, loc, a[0], a[1]);
        if (u)
          return arith::RemUIOp::create(b, loc, a[0], a[1]);
        Value r = arith::RemSIOp::create(b, loc, a[0], a[1]);
        if (m.getFmod())
          return r;
        // Python-style: the result takes the divisor's sign.
        Value zero = cst(b, loc, t, 0);
        Value nz = arith::CmpIOp::create(b, loc, I::ne, r, zero);
        Value rneg = arith::CmpIOp::create(b, loc, I::slt, r, zero);
        Value dneg = arith::CmpIOp::create(b, loc, I::slt, a[1], zero);
        Value differ = arith::XOrIOp::create(b, loc, rneg, dneg);
        Value fix = arith::AndIOp::create(b, loc, nz, differ);
        return arith::SelectOp::create(
            b, loc, fix, arith::AddIOp::create(b, loc, r, a[1]), r);
      })
      .Case([&](MaxOp) -> Value {
        if (isF(t))
          return arith::MaximumFOp::create(b, loc, a[0], a[1]);
        return u ? (Value)arith::MaxUIOp::create(b, loc, a[0], a[1])
                      : (Value)arith::MaxSIOp::create(b, loc, a[0], a[1]);
      })
      .Case([&](MinOp) -> Value {
        if (isF(t))
          return arith::MinimumFOp::create(b, loc, a[0], a[1]);
        return u ? (Value)arith::MinUIOp::create(b, loc, a[0], a[1])
                      : (Value)arith::MinSIOp::create(b, loc, a[0], a[1]);
      })
      .Case([&](PReluOp) -> Value {
        Value zero = cst(b, loc, t, 0);
        Value neg = cmp(b, loc, P::OLT, I::slt, I::ult, a[0], zero);
        Value scaled = isF(t) ? (Value)arith::MulFOp::create(b, loc, a[0], a[1])
                              : (Value)arith::MulIOp::create(b, loc, a[0], a[1]);
        return arith::SelectOp::create(b, loc, neg, scaled, a[0]);
      })
      .Case([&](SwiGluOp) -> Value {
        Value g = arith::MulFOp::create(b, loc, a[0], sigmoid(a[0]));
        return arith::MulFOp::create(b, loc, g, a[1]);
      })
      .Case([&](AndOp) { return arith::AndIOp::create(b, loc, a[0], a[1]); })
      .Case([&](OrOp) { return arith::OrIOp::create(b, loc, a[0], a[1]); })
      .Case([&](XorOp) { return arith::XOrIOp::create(b, loc, a[0], a[1]); })
      .Case([&](BitwiseAndOp) { return arith::AndIOp::create(b, loc, a[0], a[1]); })
      .Case([&](BitwiseOrOp) { return arith::OrIOp::create(b, loc, a[0], a[1]); })
      .Case([&](BitwiseXorOp) { return arith::XOrIOp::create(b, loc, a[0], a[1]); })
      .Case([&](BitShiftOp s) -> Value {
        if (s.getRight())
          return arith::ShRUIOp::create(b, loc, a[0], a[1]);
        return arith::ShLIOp::create(b, loc, a[0], a[1]);
      })
      .Case([&](EqualOp) { return cmp(b, loc, P::OEQ, I::eq, I::eq, a[0], a[1]); })
      .Case([&](LessOp) { return cmp(b, loc, P::OLT, I::slt, I::ult, a[0], a[1]); })
      .Case([&](GreaterOp) { return cmp(b, loc, P::OGT, I::sgt, I::ugt, a[0], a[1]); })
      .Case([&](LessEqualOp) { return cmp(b, loc, P::OLE, I::sle, I::ule, a[0], a[1]); })
      .Case([&](GreaterEqualOp) { return cmp(b, loc, P::OGE, I::sge, I::uge, a[0], a[1]); })
      .Case([&](WhereOp) { return arith::SelectOp::create(b, loc, a[0], a[1], a[2]); })
      .Case([&](ClipOp c) -> Value {
        Value lo, hi;
        unsigned i = 1;
        if (c.getMin())
          lo = a[i++];
        if (c.getMax())
          hi = a[i++];
        return clamp(b, loc, x, lo, hi);
      })
      .Case([&](CastOp) { return castScalar(b, loc, x, rt); })
      .Case([&](IdentityOp) { return x; })
      .Case([&](SqrtOp) { return math::SqrtOp::create(b, loc, x); })
      .Case([&](ReciprocalOp) {
        return arith::DivFOp::create(b, loc, cst(b, loc, t, 1.0), x);
      })
      .Case([&](ExpOp) { return math::ExpOp::create(b, loc, x); })
      .Case([&](LogOp) { return math::LogOp::create(b, loc, x); })
      .Case([&](ErfOp) { return math::ErfOp::create(b, loc, x); })
      .Case([&](TanhOp) { return math::TanhOp::create(b, loc, x); })
      .Case([&](SigmoidOp) { return sigmoid(x); })
      .Case([&](SiluOp) { return arith::MulFOp::create(b, loc, x, sigmoid(x)); })
      .Case([&](ReluOp) { return clamp(b, loc, x, cst(b, loc, t, 0), Value()); })
      .Case([&](NegOp) -> Value {
        if (isF(t))
          return arith::NegFOp::create(b, loc, x);
        return arith::SubIOp::create(b, loc, cst(b, loc, t, 0), x);
      })
      .Case([&](AbsOp) -> Value {
        if (isF(t))
          return math::AbsFOp::create(b, loc, x);
        if (u)
          return x;
        return math::AbsIOp::create(b, loc, x);
      })
      .Case([&](SinOp) { return math::SinOp::create(b, loc, x); })
      .Case([&](CosOp) { return math::CosOp::create(b, loc, x); })
      .Case([&](TanOp) { return math::TanOp::create(b, loc, x); })
      .Case([&](AsinOp) { return math::AsinOp::create(b, loc, x); })
      .Case([&](AcosOp) { return math::AcosOp::create(b, loc, x); })
      .Case([&](AtanOp) { return math::AtanOp::create(b, loc, x); })
      .Case([&](SinhOp) { return math::SinhOp::create(b, loc, x); })
      .Case([&](CoshOp) { return math::CoshOp::create(b, loc, x); })
      .Case([&](AsinhOp) { return math::AsinhOp::create(b, loc, x); })
      .Case([&](AcoshOp) { return math::AcoshOp::create(b, loc, x); })
      .Case([&](AtanhOp) { return math::AtanhOp::create(b, loc, x); })
      .Case([&](FloorOp) { return math::FloorOp::create(b, loc, x); })
      .Case([&](CeilOp) { return math::CeilOp::create(b, loc, x); })
      .Case([&](RoundOp) { return math::RoundEvenOp::create(b, loc, x); })
      .Case([&](SignOp) -> Value {
        Value zero = cst(b, loc, t, 0), one = cst(b, loc, t, 1),
              mone = u ? zero : cst(b, loc, t, -1);
        Value pos = cmp(b, loc, P::OGT, I::sgt, I::ugt, x, zero);
        Value neg = cmp(b, loc, P::OLT, I::slt, I::ult, x, zero);
        return arith::SelectOp::create(
            b, loc, pos, one, arith::SelectOp::create(b, loc, neg, mone, zero));
      })
      .Case([&](SoftplusOp) { return softplus(x); })
      .Case([&](SoftsignOp) {
        Value d = arith::AddFOp::create(b, loc, cst(b, loc, t, 1.0),
                                        math::AbsFOp::create(b, loc, x));
        return arith::DivFOp::create(b, loc, x, d);
      })
      .Case([&](HardSwishOp) {
        Value y = arith::AddFOp::create(
            b, loc, arith::MulFOp::create(b, loc, x, cst(b, loc, t, 1.0 / 6)),
            cst(b, loc, t, 0.5));
        y = clamp(b, loc, y, cst(b, loc, t, 0), cst(b, loc, t, 1));
        return arith::MulFOp::create(b, loc, x, y);
      })
      .Case([&](HardSigmoidOp h) {
        Value y = arith::AddFOp::create(
            b, loc,
            arith::MulFOp::create(b, loc, x,
                                  cst(b, loc, t, f32Attr(h.getAlphaAttr()))),
            cst(b, loc, t, f32Attr(h.getBetaAttr())));
        return clamp(b, loc, y, cst(b, loc, t, 0), cst(b, loc, t, 1));
      })
      .Case([&](LeakyReluOp l) {
        Value zero = cst(b, loc, t, 0);
        Value neg = arith::CmpFOp::create(b, loc, P::OLT, x, zero);
        Value s = arith::MulFOp::create(
            b, loc, x, cst(b, loc, t, f32Attr(l.getAlphaAttr())));
        return arith::SelectOp::create(b, loc, neg, s, x);
      })
      .Case([&](EluOp e) {
        Value zero = cst(b, loc, t, 0);
        Value neg = arith::CmpFOp::create(b, loc, P::OLT, x, zero);
        Value em1 = math::ExpM1Op::create(b, loc, x);
        Value s = arith::MulFOp::create(
            b, loc, em1, cst(b, loc, t, f32Attr(e.getAlphaAttr())));
        return arith::SelectOp::create(b, loc, neg, s, x);
      })
      .Case([&](CeluOp c) {
        // max(0, x) + min(0, alpha * (exp(x / alpha) - 1))
        Value alpha = cst(b, loc, t, f32Attr(c.getAlphaAttr()));
        Value zero = cst(b, loc, t, 0);
        Value e = math::ExpM1Op::create(b, loc,
                                        arith::DivFOp::create(b, loc, x, alpha));
        Value n = arith::MinimumFOp::create(
            b, loc, zero, arith::MulFOp::create(b, loc, alpha, e));
        return arith::AddFOp::create(
            b, loc, arith::MaximumFOp::create(b, loc, x, zero), n);
      })
      .Case([&](SeluOp s) {
        Value alpha = cst(b, loc, t, f32Attr(s.getAlphaAttr()));
        Value gamma = cst(b, loc, t, f32Attr(s.getGammaAttr()));
        Value zero = cst(b, loc, t, 0);
        Value neg = arith::CmpFOp::create(b, loc, P::OLE, x, zero);
        Value n = arith::MulFOp::create(b, loc, alpha,
                                        math::ExpM1Op::create(b, loc, x));
        return arith::MulFOp::create(b, loc, gamma,
                                     arith::SelectOp::create(b, loc, neg, n, x));
      })
      .Case([&](ThresholdedReluOp r) {
        Value gt = arith::CmpFOp::create(
            b, loc, P::OGT, x, cst(b, loc, t, f32Attr(r.getAlphaAttr())));
        return arith::SelectOp::create(b, loc, gt, x, cst(b, loc, t, 0));
      })
      .Case([&](GeluOp g) -> Value {
        Value half = cst(b, loc, t, 0.5), one = cst(b, loc, t, 1.0);
        Value inner;
        if (g.getTanhApprox()) {
          Value x3 = arith::MulFOp::create(
              b, loc, x, arith::MulFOp::create(b, loc, x, x));
          Value p = arith::AddFOp::create(
              b, loc, x,
              arith::MulFOp::create(b, loc, cst(b, loc, t, 0.044715), x3));
          inner = math::TanhOp::create(
              b, loc,
              arith::MulFOp::create(b, loc, cst(b, loc, t, std::sqrt(2.0 / M_PI)),
                                    p));
        } else {
          inner = math::ErfOp::create(
              b, loc, arith::MulFOp::create(b, loc, x, cst(b, loc, t, M_SQRT1_2)));
        }
        return arith::MulFOp::create(
            b, loc, arith::MulFOp::create(b, loc, half, x),
            arith::AddFOp::create(b, loc, one, inner));
      })
      .Case([&](MishOp) {
        return arith::MulFOp::create(b, loc, x,
                                     math::TanhOp::create(b, loc, softplus(x)));
      })
      .Case([&](NotOp) {
        return arith::XOrIOp::create(b, loc, x, cst(b, loc, t, 1));
      })
      .Case([&](BitwiseNotOp) {
        return arith::XOrIOp::create(b, loc, x, cst(b, loc, t, -1));
      })
      .Case([&](IsNaNOp) -> Value {
        if (!isa<FloatType>(t)) // ONNX defines it on floats only
          return Value();
        return arith::CmpFOp::create(b, loc, P::UNO, x, x);
      })
      .Case([&](IsInfOp i) -> Value {
        // Floats only (an integer input crashed here: found by the fuzzer).
        if (!isa<FloatType>(t))
          return Value();
        Value inf = arith::ConstantOp::create(
            b, loc, FloatAttr::get(t, APFloat::getInf(
                                          cast<FloatType>(t).getFloatSemantics())));
        Value ninf = arith::NegFOp::create(b, loc, inf);
        Value pos = arith::CmpFOp::create(b, loc, P::OEQ, x, inf);
        Value neg = arith::CmpFOp::create(b, loc, P::OEQ, x, ninf);
        Value f = cst(b, loc, b.getI1Type(), 0);
        return arith::OrIOp::create(b, loc,
                                    i.getDetectPositive() ? pos : f,
                                    i.getDetectNegative() ? neg : f);
      })
      .Default([](Operation *) { return Value(); });
}

bool isElementwise(Operation *op) {
  return isa<AddOp, SubOp, MulOp, DivOp, PowOp, ModOp, MaxOp, MinOp, PReluOp,
             SwiGluOp,
             AndOp, OrOp, XorOp, BitwiseAndOp, BitwiseOrOp, BitwiseXorOp,
             BitShiftOp, EqualOp, LessOp, GreaterOp, LessEqualOp,
             GreaterEqualOp, WhereOp, ClipOp, CastOp, IdentityOp, SqrtOp,
             ReciprocalOp, ExpOp, LogOp, ErfOp, TanhOp, SigmoidOp, SiluOp, ReluOp,
             NegOp, AbsOp, SinOp, CosOp, TanOp, AsinOp, AcosOp, AtanOp, SinhOp,
             CoshOp, AsinhOp, AcoshOp, AtanhOp, FloorOp, CeilOp, RoundOp,
             SignOp, SoftplusOp, SoftsignOp, HardSwishOp, HardSigmoidOp,
             LeakyReluOp, EluOp, CeluOp, SeluOp, ThresholdedReluOp, GeluOp,
             MishOp, NotOp, BitwiseNotOp, IsNaNOp, IsInfOp>(op);
}

struct LowerElementwise final : RewritePattern {
  LowerElementwise(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isElementwise(op))
      return rewriter.notifyMatchFailure(op, "not an elementwise kiln op");
    // IsNaN/IsInf are defined on floats (an integer input crashed the body
    // builder: found by the importer fuzzer); left over, they are reported.
    if (isa<IsNaNOp, IsInfOp>(op) &&
        !isa<FloatType>(getElementTypeOrSelf(op->getOperand(0).getType())))
      return rewriter.notifyMatchFailure(op, "IsNaN/IsInf of a non-float");
    auto rt = cast<RankedTensorType>(op->getResult(0).getType());
    Value result = buildElementwise(
        rewriter, op->getLoc(), rt, op->getOperands(),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          return scalarBody(op, b, loc, args, rt.getElementType());
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// A serial reduction keeps the last (input, expected) pair that differ
/// (0, 0 when none), then one kiln_rt_check_dim call on the calling thread
/// ends the run on a mismatch.
struct LowerCheckEqual final : OpRewritePattern<CheckEqualOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CheckEqualOp op,
                                PatternRewriter &rewriter) const override {
    OpBuilder &b = rewriter;
    Location loc = op.getLoc();
    Value x = op.getInput(), e = op.getExpected();
    auto xt = cast<RankedTensorType>(x.getType());
    auto et = cast<RankedTensorType>(e.getType());
    int64_t r = xt.getRank();
    Type elt = xt.getElementType();
    SmallVector<AffineExpr> ee;
    for (int64_t i = 0; i < et.getRank(); ++i) {
      int64_t d = r - et.getRank() + i;
      ee.push_back(et.getDimSize(i) == 1 ? b.getAffineConstantExpr(0)
                                         : b.getAffineDimExpr(d));
    }
    auto scalarT = RankedTensorType::get({}, elt);
    Value init = filledTensor(b, loc, {}, scalarConst(b, loc, elt, 0));
    AffineMap scalarMap = AffineMap::get(r, 0, {}, b.getContext());
    auto g = linalg::GenericOp::create(
        b, loc, TypeRange{scalarT, scalarT}, ValueRange{x, e},
        ValueRange{init, init},
        ArrayRef<AffineMap>{b.getMultiDimIdentityMap(r),
                            AffineMap::get(r, 0, ee, b.getContext()), scalarMap,
                            scalarMap},
        SmallVector<utils::IteratorType>(r, utils::IteratorType::reduction),
        [&](OpBuilder &nb, Location l, ValueRange a) {
          Value ne = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ne,
                                           a[0], a[1]);
          linalg::YieldOp::create(
              nb, l,
              ValueRange{arith::SelectOp::create(nb, l, ne, a[0], a[2]),
                         arith::SelectOp::create(nb, l, ne, a[1], a[3])});
        });
    Value got = tensor::ExtractOp::create(b, loc, g.getResult(0), ValueRange{});
    Value want = tensor::ExtractOp::create(b, loc, g.getResult(1), ValueRange{});
    Type idx = b.getIndexType();
    checkDims(b, loc, arith::IndexCastOp::create(b, loc, idx, got),
              arith::IndexCastOp::create(b, loc, idx, want));
    rewriter.replaceOp(op, x);
    return success();
  }
};

} // namespace

void lowering::populateElementwisePatterns(RewritePatternSet &patterns) {
  patterns.add<LowerElementwise, LowerCheckEqual>(patterns.getContext());
}
