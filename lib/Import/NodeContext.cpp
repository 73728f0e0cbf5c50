//===- NodeContext.cpp - what a converter sees of one node ----------------===//
//
// Typed attribute getters that report wrong types, constant helpers, and
// createOp: build an op generically, infer its result types, verify and fold
// it, so every converter gets checked, folded results.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "mlir/IR/Verifier.h"

using namespace ::kiln::import;

LogicalResult NodeContext::fail(const Twine &msg) const {
  return emitError(loc) << msg;
}

bool NodeContext::outputUsed(int i) const {
  return i < node.output_size() && !node.output(i).empty();
}

LogicalResult NodeContext::requireInputs(size_t n) const {
  for (size_t i = 0; i < n; ++i)
    if (!input(i))
      return fail("expects at least " + Twine(n) + " inputs, input " +
                  Twine(i) + " is missing");
  return success();
}

const onnx::AttributeProto *NodeContext::attr(StringRef name) const {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

static const char *attrTypeName(int t) {
  return onnx::AttributeProto_AttributeType_Name(
             (onnx::AttributeProto_AttributeType)t)
      .c_str();
}

#define KILN_ATTR_CHECK(KIND, WANT)                                            \
  if (a->type() != onnx::AttributeProto::KIND) {                              \
    (void)fail("attribute '" + name + "' must be " WANT ", got " +             \
               attrTypeName(a->type()));                                       \
    return failure();                                                          \
  }

FailureOr<int64_t> NodeContext::getInt(StringRef name, int64_t dflt) const {
  auto *a = attr(name);
  if (!a)
    return dflt;
  KILN_ATTR_CHECK(INT, "an int")
  return a->i();
}

FailureOr<float> NodeContext::getFloat(StringRef name, float dflt) const {
  auto *a = attr(name);
  if (!a)
    return dflt;
  KILN_ATTR_CHECK(FLOAT, "a float")
  return a->f();
}

FailureOr<std::string> NodeContext::getString(StringRef name,
                                              StringRef dflt) const {
  auto *a = attr(name);
  if (!a)
    return dflt.str();
  KILN_ATTR_CHECK(STRING, "a string")
  return a->s();
}

FailureOr<SmallVector<int64_t>>
NodeContext::getInts(StringRef name, ArrayRef<int64_t> dflt) const {
  auto *a = attr(name);
  if (!a)
    return SmallVector<int64_t>(dflt);
  KILN_ATTR_CHECK(INTS, "a list of ints")
  return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
}

FailureOr<SmallVector<float>> NodeContext::getFloats(StringRef name) const {
  auto *a = attr(name);
  if (!a)
    return SmallVector<float>();
  KILN_ATTR_CHECK(FLOATS, "a list of floats")
  return SmallVector<float>(a->floats().begin(), a->floats().end());
}

bool NodeContext::isConstInts(size_t i) const {
  Value v = input(i);
  if (!v)
    return false;
  if (auto t = dyn_cast<RankedTensorType>(v.getType());
      t && t.hasStaticShape() && t.getNumElements() == 0)
    return true;
  return mlir::kiln::getConstantIntValues(v).has_value();
}

FailureOr<SmallVector<int64_t>> NodeContext::constInts(size_t i,
                                                       StringRef what) const {
  Value v = input(i);
  if (!v)
    return fail("input '" + what + "' is missing");
  if (auto t = dyn_cast<RankedTensorType>(v.getType());
      t && t.hasStaticShape() && t.getNumElements() == 0)
    return SmallVector<int64_t>();
  auto vals = mlir::kiln::getConstantIntValues(v);
  if (!vals)
    return fail("input '" + what +
                "' must be a compile-time constant integer tensor");
  return *vals;
}

FailureOr<int64_t> NodeContext::normAxis(int64_t axis, int64_t rank) const {
  if (axis < -rank || axis >= rank)
    return fail("axis " + Twine(axis) + " is out of range for rank " +
                Twine(rank));
  return axis < 0 ? axis + rank : axis;
}

Value NodeContext::constant(ElementsAttr value) {
  return mlir::kiln::ConstantOp::create(b, loc, value);
}

Value NodeContext::i64Vector(ArrayRef<int64_t> values) {
  auto t = RankedTensorType::get({(int64_t)values.size()}, b.getI64Type());
  return constant(DenseIntElementsAttr::get(t, values));
}

Value NodeContext::i64Scalar(int64_t value) {
  auto t = RankedTensorType::get({}, b.getI64Type());
  return constant(DenseIntElementsAttr::get(t, {value}));
}

Value NodeContext::scalarLike(Type elementType, double value) {
  auto t = RankedTensorType::get({}, elementType);
  if (auto ft = dyn_cast<FloatType>(elementType)) {
    APFloat f(value);
    bool lost;
    f.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
    return constant(DenseElementsAttr::get(t, f));
  }
  return constant(DenseElementsAttr::get(
      t, APInt(elementType.getIntOrFloatBitWidth(), (int64_t)value, true)));
}

FailureOr<SmallVector<Value>>
NodeContext::createOp(StringRef name, ValueRange operands,
                      ArrayRef<NamedAttribute> attrs, unsigned numResults,
                      TypeRange types) {
  OperationState state(loc, name);
  state.addOperands(operands);
  state.addAttributes(attrs);
  if (types.empty())
    state.addTypes(SmallVector<Type>(numResults, b.getNoneType()));
  else
    state.addTypes(types);
  Operation *op = b.create(state);
  if (types.empty()) {
    auto infer = cast<InferTypeOpInterface>(op);
    SmallVector<Type> inferred;
    if (failed(infer.inferReturnTypes(
            ctx(), loc, op->getOperands(), op->getRawDictionaryAttrs(),
            op->getPropertiesStorage(), op->getRegions(), inferred))) {
      op->erase();
      return failure();
    }
    for (auto [r, t] : llvm::zip(op->getResults(), inferred))
      r.setType(t);
  }
  if (failed(mlir::verify(op))) {
    op->erase();
    return failure();
  }
  SmallVector<Value> results;
  if (succeeded(b.tryFold(op, results)) && !results.empty()) {
    op->erase();
    return results;
  }
  return SmallVector<Value>(op->getResults());
}

