//===- ConvertElementwise.cpp - elementwise ONNX ops ----------------------===//
//
// Unary and binary math, comparisons and logic, variadic Sum/Mean/Max/Min,
// Where, Clip, Cast/CastLike, Identity and Dropout (inference).
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

using namespace ::kiln::import;
namespace k = mlir::kiln;

namespace {

template <typename OpTy>
LogicalResult unary(NodeContext &c) {
  if (failed(c.requireInputs(1)))
    return failure();
  return c.emit<OpTy>(c.input(0));
}

template <typename OpTy>
LogicalResult binary(NodeContext &c) {
  if (failed(c.requireInputs(2)))
    return failure();
  return c.emit<OpTy>({c.input(0), c.input(1)});
}

/// Unary op with float attributes copied from the node (name, default).
template <typename OpTy>
Converter unaryWithFloats(std::vector<std::pair<const char *, float>> attrs) {
  return [attrs](NodeContext &c) -> LogicalResult {
    if (failed(c.requireInputs(1)))
      return failure();
    SmallVector<NamedAttribute> named;
    for (auto [name, dflt] : attrs) {
      auto v = c.getFloat(name, dflt);
      if (failed(v))
        return failure();
      named.push_back(c.named(name, c.b.getF32FloatAttr(*v)));
    }
    return c.emit<OpTy>(c.input(0), named);
  };
}

/// Max/Min/Sum: a left fold of the binary op; Mean divides the sum by n.
template <typename OpTy>
LogicalResult variadic(NodeContext &c, bool mean = false) {
  if (c.numInputs() == 0 || failed(c.requireInputs(c.numInputs())))
    return c.fail("expects at least one input");
  Value acc = c.input(0);
  for (size_t i = 1; i < c.numInputs(); ++i) {
    auto r = c.make<OpTy>({acc, c.input(i)});
    if (failed(r))
      return failure();
    acc = *r;
  }
  if (mean && c.numInputs() > 1) {
    Type elt = c.typeOf(acc).getElementType();
    auto r = c.make<k::DivOp>(
        {acc, c.scalarLike(elt, (double)c.numInputs())});
    if (failed(r))
      return failure();
    acc = *r;
  }
  c.outputs.push_back(acc);
  return success();
}

LogicalResult convertCast(NodeContext &c, Value in, Type to) {
  auto t = c.typeOf(in);
  if (t.getElementType() == to) {
    c.outputs.push_back(in);
    return success();
  }
  auto r = c.createTyped<k::CastOp>(in, {}, {t.clone(to)});
  if (failed(r))
    return failure();
  c.outputs.push_back((*r)[0]);
  return success();
}

} // namespace

void ::kiln::import::addElementwiseConverters(llvm::StringMap<Converter> &m) {
  m["Sqrt"] = unary<k::SqrtOp>;
  m["Reciprocal"] = unary<k::ReciprocalOp>;
  m["Exp"] = unary<k::ExpOp>;
  m["Log"] = unary<k::LogOp>;
  m["Erf"] = unary<k::ErfOp>;
  m["Tanh"] = unary<k::TanhOp>;
  m["Sigmoid"] = unary<k::SigmoidOp>;
  m["Relu"] = unary<k::ReluOp>;
  m["Neg"] = unary<k::NegOp>;
  m["Abs"] = unary<k::AbsOp>;
  m["Sin"] = unary<k::SinOp>;
  m["Cos"] = unary<k::CosOp>;
  m["Tan"] = unary<k::TanOp>;
  m["Asin"] = unary<k::AsinOp>;
  m["Acos"] = unary<k::AcosOp>;
  m["Atan"] = unary<k::AtanOp>;
  m["Sinh"] = unary<k::SinhOp>;
  m["Cosh"] = unary<k::CoshOp>;
  m["Asinh"] = unary<k::AsinhOp>;
  m["Acosh"] = unary<k::AcoshOp>;
  m["Atanh"] = unary<k::AtanhOp>;
  m["Floor"] = unary<k::FloorOp>;
  m["Ceil"] = unary<k::CeilOp>;
  m["Round"] = unary<k::RoundOp>;
  m["Sign"] = unary<k::SignOp>;
  m["Softplus"] = unary<k::SoftplusOp>;
  m["Softsign"] = unary<k::SoftsignOp>;
  m["HardSwish"] = unary<k::HardSwishOp>;
  m["Mish"] = unary<k::MishOp>;
  m["Not"] = unary<k::NotOp>;
  m["BitwiseNot"] = unary<k::BitwiseNotOp>;
  m["IsNaN"] = unary<k::IsNaNOp>;
  m["LeakyRelu"] = unaryWithFloats<k::LeakyReluOp>({{"alpha", 0.01f}});
  m["HardSigmoid"] =
      unaryWithFloats<k::HardSigmoidOp>({{"alpha", 0.2f}, {"beta", 0.5f}});
  m["Elu"] = unaryWithFloats<k::EluOp>({{"alpha", 1.0f}});
  m["Celu"] = unaryWithFloats<k::CeluOp>({{"alpha", 1.0f}});
  m["Selu"] = unaryWithFloats<k::SeluOp>(
      {{"alpha", 1.67326319217681884765625f},
       {"gamma", 1.05070102214813232421875f}});
  m["ThresholdedRelu"] = unaryWithFloats<k::ThresholdedReluOp>({{"alpha", 1.0f}});
  m["Gelu"] = [](NodeContext &c) -> LogicalResult {
    auto approx = c.getString("approximate", "none");
    if (failed(c.requireInputs(1)) || failed(approx))
      return failure();
    if (*approx != "none" && *approx != "tanh")
      return c.fail("unknown approximate '" + *approx + "'");
    return c.emit<k::GeluOp>(
        c.input(0), {c.named("tanh_approx", c.b.getBoolAttr(*approx == "tanh"))});
  };
  m["IsInf"] = [](NodeContext &c) -> LogicalResult {
    auto pos = c.getInt("detect_positive", 1), neg = c.getInt("detect_negative", 1);
    if (failed(c.requireInputs(1)) || failed(pos) || failed(neg))
      return failure();
    return c.emit<k::IsInfOp>(
        c.input(0), {c.named("detect_positive", c.b.getBoolAttr(*pos)),
                     c.named("detect_negative", c.b.getBoolAttr(*neg))});
  };

  m["Add"] = binary<k::AddOp>;
  m["Sub"] = binary<k::SubOp>;
  m["Mul"] = binary<k::MulOp>;
  m["Div"] = binary<k::DivOp>;
  m["Pow"] = binary<k::PowOp>;
  m["PRelu"] = binary<k::PReluOp>;
  m["And"] = binary<k::AndOp>;
  m["Or"] = binary<k::OrOp>;
  m["Xor"] = binary<k::XorOp>;
  m["BitwiseAnd"] = binary<k::BitwiseAndOp>;
  m["BitwiseOr"] = binary<k::BitwiseOrOp>;
  m["BitwiseXor"] = binary<k::BitwiseXorOp>;
  m["Equal"] = binary<k::EqualOp>;
  m["Less"] = binary<k::LessOp>;
  m["Greater"] = binary<k::GreaterOp>;
  m["LessOrEqual"] = binary<k::LessEqualOp>;
  m["GreaterOrEqual"] = binary<k::GreaterEqualOp>;
  m["Mod"] = [](NodeContext &c) -> LogicalResult {
    auto fmod = c.getInt("fmod", 0);
    if (failed(c.requireInputs(2)) || failed(fmod))
      return failure();
    if (isa<FloatType>(c.typeOf(c.input(0)).getElementType()) && !*fmod)
      return c.fail("fmod must be 1 for floating-point inputs");
    return c.emit<k::ModOp>({c.input(0), c.input(1)},
                            {c.named("fmod", c.b.getBoolAttr(*fmod))});
  };
  m["BitShift"] = [](NodeContext &c) -> LogicalResult {
    auto dir = c.getString("direction", "");
    if (failed(c.requireInputs(2)) || failed(dir))
      return failure();
    if (*dir != "LEFT" && *dir != "RIGHT")
      return c.fail("direction must be LEFT or RIGHT, got '" + *dir + "'");
    return c.emit<k::BitShiftOp>({c.input(0), c.input(1)},
                                 {c.named("right", c.b.getBoolAttr(*dir == "RIGHT"))});
  };
  m["Max"] = [](NodeContext &c) { return variadic<k::MaxOp>(c); };
  m["Min"] = [](NodeContext &c) { return variadic<k::MinOp>(c); };
  m["Sum"] = [](NodeContext &c) { return variadic<k::AddOp>(c); };
  m["Mean"] = [](NodeContext &c) { return variadic<k::AddOp>(c, true); };

  m["Where"] = [](NodeContext &c) -> LogicalResult {
    if (failed(c.requireInputs(3)))
      return failure();
    return c.emit<k::WhereOp>({c.input(0), c.input(1), c.input(2)});
  };
  m["Clip"] = [](NodeContext &c) -> LogicalResult {
    if (failed(c.requireInputs(1)))
      return failure();
    SmallVector<Value> operands{c.input(0)};
    int32_t hasMin = c.input(1) ? 1 : 0, hasMax = c.input(2) ? 1 : 0;
    if (hasMin)
      operands.push_back(c.input(1));
    if (hasMax)
      operands.push_back(c.input(2));
    return c.emit<k::ClipOp>(
        operands, {c.named("operandSegmentSizes",
                           c.b.getDenseI32ArrayAttr({1, hasMin, hasMax}))});
  };
  m["Cast"] = [](NodeContext &c) -> LogicalResult {
    auto to = c.getInt("to", 0);
    if (failed(c.requireInputs(1)) || failed(to))
      return failure();
    Type elt = onnxElementType(c.ctx(), *to);
    if (!elt)
      return c.fail("cannot cast to " + onnxTypeName(*to));
    return convertCast(c, c.input(0), elt);
  };
  m["CastLike"] = [](NodeContext &c) -> LogicalResult {
    if (failed(c.requireInputs(2)))
      return failure();
    return convertCast(c, c.input(0), c.typeOf(c.input(1)).getElementType());
  };
  m["Identity"] = [](NodeContext &c) -> LogicalResult {
    if (failed(c.requireInputs(1)))
      return failure();
    c.outputs.push_back(c.input(0));
    return success();
  };
  m["Dropout"] = [](NodeContext &c) -> LogicalResult {
    if (failed(c.requireInputs(1)))
      return failure();
    if (Value training = c.input(2)) {
      auto v = mlir::kiln::getConstantIntValues(training);
      if (!v || (*v)[0] != 0)
        return dropoutTraining(c);
    }
    c.outputs.push_back(c.input(0));
    if (c.outputUsed(1)) {
      // Inference dropout keeps everything: the mask is all true.
      auto t = c.typeOf(c.input(0));
      if (!t.hasStaticShape())
        return c.fail("the mask output needs a static input shape");
      c.outputs.push_back(c.constant(DenseElementsAttr::get(
          RankedTensorType::get(t.getShape(), c.b.getI1Type()), true)));
    }
    return success();
  };
}
