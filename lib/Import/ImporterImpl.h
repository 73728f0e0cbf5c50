//===- ImporterImpl.h - internals of the ONNX importer ----------*- C++ -*-===//
//
// The state shared by the graph walker (Importer.cpp), tensor decoding
// (Tensors.cpp) and the per-op converters (Convert*.cpp). A converter sees one
// node through NodeContext: its inputs as Values, typed attribute getters that
// report wrong types, and `create<Op>` which infers, verifies and folds.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_IMPORT_IMPORTERIMPL_H
#define KILN_LIB_IMPORT_IMPORTERIMPL_H

#include "dialects/kiln/KilnDialect.h"

#include "mlir/IR/Builders.h"
#include "onnx/onnx_pb.h"

#include "llvm/ADT/StringMap.h"

#include <functional>
#include <set>
#include <memory>

namespace kiln::import {

using namespace mlir;

/// Owns everything weight blobs point into: the parsed model and mapped
/// external-data files. Blobs hold a shared_ptr to it.
struct ModelStorage {
  onnx::ModelProto model;
  std::string modelDir; // real path of the folder holding the model
  struct Mapping {
    void *addr = nullptr;
    size_t size = 0;
    ~Mapping();
  };
  llvm::StringMap<std::shared_ptr<Mapping>> mappings;
};

/// Maps an ONNX element type to an MLIR type; null when unsupported.
Type onnxElementType(MLIRContext *ctx, int dataType);
/// The ONNX name of a data type, for messages.
std::string onnxTypeName(int dataType);
/// ONNX's 4-bit integer types (opset 21: UINT4 = 21, INT4 = 22, newer
/// than the onnx headers kiln builds with). Their initializers and Constant
/// values are held one value per byte as ui8 / i8 (decodeTensor), and the
/// constant carries kFourBitAttr (the data type) so QuantizeLinear
/// saturates to the 4-bit range of such a zero point. Graph inputs and
/// outputs of these types are not supported.
bool isFourBitType(int dataType);
/// The type a 4-bit data type's values are held in (i8 for INT4, ui8 for
/// UINT4); null for other data types.
Type fourBitStorageType(MLIRContext *ctx, int dataType);
inline constexpr llvm::StringLiteral kFourBitAttr = "kiln.onnx_4bit";
/// Sets kFourBitAttr on `v`'s constant when `tensor` is 4-bit.
void markFourBit(Value v, const onnx::TensorProto &tensor);
/// The 4-bit data type `v` was decoded from (21, 22), or 0.
int fourBitTypeOf(Value v);

/// Decodes a TensorProto (inline, typed fields or external data) into an
/// ElementsAttr: small tensors become DenseElementsAttr so folders can read
/// them, the rest dense_resource blobs that reference the data in place.
FailureOr<ElementsAttr> decodeTensor(MLIRContext *ctx,
                                     const std::shared_ptr<ModelStorage> &store,
                                     const onnx::TensorProto &tensor,
                                     std::string &error);

/// Upgrades `model` in place to `formOpset` when its default-domain opset is
/// older and some node's form differs (OldOpsets.cpp); on failure `error`
/// names the node or the converter's reason.
LogicalResult upgradeToFormOpset(onnx::ModelProto &model, int64_t formOpset,
                                 std::string &error);

/// Adds the names `g` itself defines (its inputs, initializers and node
/// outputs) to `names` (ControlFlow.cpp).
void addDefinedNames(const onnx::GraphProto &g, std::set<std::string> &names);

class NodeContext;
using Converter = std::function<LogicalResult(NodeContext &)>;

/// All converters, keyed by op type in the default domain and by
/// "<domain>:<op type>" in others.
const llvm::StringMap<Converter> &getConverters();
void addElementwiseConverters(llvm::StringMap<Converter> &map);
void addNNConverters(llvm::StringMap<Converter> &map);
void addLossConverters(llvm::StringMap<Converter> &map);
void addShapeConverters(llvm::StringMap<Converter> &map);
/// Opset-23 and com.microsoft transformer ops (keys "com.microsoft:<op>").
void addTransformerConverters(llvm::StringMap<Converter> &map);
void addOrtContribConverters(llvm::StringMap<Converter> &map);
/// cast<f32>((a - azp) x (b - bzp)) * (as * bs) [+ bias] (ConvertQuant.cpp).
FailureOr<Value> scaledIntegerMatmul(NodeContext &c, Value a, Value b, Value azp,
                                     Value bzp, Value as, Value bs, Value bias);
/// QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, MatMulInteger,
/// QLinearMatMul, ConvInteger, QLinearConv (ConvertQuant.cpp).
void addQuantConverters(llvm::StringMap<Converter> &map);
/// The bytes of a constant operand (dense or resource), or nothing. A
/// splat is expanded into `storage` (ConvertQuant.cpp).
std::optional<ArrayRef<char>> constantBytes(Value v, std::vector<char> &storage);
/// com.microsoft MatMulNBits (ConvertMatMulNBits.cpp).
LogicalResult convertMatMulNBits(NodeContext &c);
/// EyeLike, Shrink, MVN, LRN, the window functions, ReverseSequence and Det
/// as other kiln ops (ConvertMisc.cpp).
void addMiscConverters(llvm::StringMap<Converter> &map);
class NodeContext;
/// BatchNormalization with training_mode = 1: Y, running mean and variance
/// from the batch's statistics (ConvertMisc.cpp).
LogicalResult batchNormTraining(NodeContext &c, float eps);
/// Dropout whose training_mode is not a constant false (ConvertMisc.cpp).
LogicalResult dropoutTraining(NodeContext &c);
/// RNN, GRU and LSTM, unrolled over a static sequence length
/// (ConvertRecurrent.cpp).
void addRecurrentConverters(llvm::StringMap<Converter> &map);
class NodeContext;
/// Expansions for axes / sizes given as non-constant tensors
/// (RuntimeAxes.cpp); the output rank stays static.
FailureOr<Value> unsqueezeAtRunTime(NodeContext &c, Value x, Value axes);
FailureOr<Value> squeezeAtRunTime(NodeContext &c, Value x, Value axes);
FailureOr<Value> reduceSumAtRunTime(NodeContext &c, Value x, Value axes,
                                    bool keepdims);
FailureOr<Value> cumSumAtRunTime(NodeContext &c, Value x, Value axis,
                                 bool exclusive, bool reverse);
/// Pushes the node's outputs.
LogicalResult splitAtRunTime(NodeContext &c, Value x, int64_t axis,
                             Value sizes);
/// The Conv converter (ConvertNN.cpp), for ops built on a convolution.
LogicalResult convertConvNode(NodeContext &c);

class NodeContext {
public:
  NodeContext(const onnx::NodeProto &node, int64_t opset, OpBuilder &builder,
              Location loc, SmallVector<Value> inputs,
              const std::shared_ptr<ModelStorage> &store)
      : node(node), opset(opset), b(builder), loc(loc),
        inputs(std::move(inputs)), store(store) {}

  const onnx::NodeProto &node;
  const int64_t opset;
  OpBuilder &b;
  const Location loc;
  SmallVector<Value> inputs;
  SmallVector<Value> outputs;
  const std::shared_ptr<ModelStorage> &store;

  MLIRContext *ctx() const { return b.getContext(); }
  size_t numInputs() const { return inputs.size(); }
  /// Input `i`, or null when absent (past the end or an empty name).
  Value input(size_t i) const { return i < inputs.size() ? inputs[i] : Value(); }
  size_t numOutputs() const { return node.output_size(); }
  bool outputUsed(int i) const;

  /// Reports an error about this node; always returns failure.
  LogicalResult fail(const Twine &msg) const;
  /// Fails unless inputs [0, n) are present.
  LogicalResult requireInputs(size_t n) const;
  RankedTensorType typeOf(Value v) const {
    return cast<RankedTensorType>(v.getType());
  }

  // Attributes: each getter fails (with a message) on a wrong attribute type.
  const onnx::AttributeProto *attr(StringRef name) const;
  FailureOr<int64_t> getInt(StringRef name, int64_t dflt) const;
  FailureOr<float> getFloat(StringRef name, float dflt) const;
  FailureOr<std::string> getString(StringRef name, StringRef dflt) const;
  FailureOr<SmallVector<int64_t>> getInts(StringRef name,
                                          ArrayRef<int64_t> dflt) const;
  FailureOr<SmallVector<float>> getFloats(StringRef name) const;
  bool hasAttr(StringRef name) const { return attr(name) != nullptr; }

  /// Whether input `i` is present and a constant integer tensor (or empty).
  bool isConstInts(size_t i) const;
  /// The values of a constant integer input, or failure naming `what`.
  FailureOr<SmallVector<int64_t>> constInts(size_t i, StringRef what) const;
  /// Normalizes `axis` into [0, rank) (or fails naming the op's rank).
  FailureOr<int64_t> normAxis(int64_t axis, int64_t rank) const;

  /// Creates `OpTy` from operands and attributes, infers its result types,
  /// verifies and folds it. Returns the (possibly folded) results.
  template <typename OpTy>
  FailureOr<SmallVector<Value>> create(ValueRange operands,
                                       ArrayRef<NamedAttribute> attrs = {},
                                       unsigned numResults = 1) {
    return createOp(OpTy::getOperationName(), operands, attrs, numResults, {});
  }
  /// Like create, for ops whose result types are given, not inferred.
  template <typename OpTy>
  FailureOr<SmallVector<Value>> createTyped(ValueRange operands,
                                            ArrayRef<NamedAttribute> attrs,
                                            TypeRange types) {
    return createOp(OpTy::getOperationName(), operands, attrs, types.size(),
                    types);
  }
  /// Single-result shorthand of create.
  template <typename OpTy>
  FailureOr<Value> make(ValueRange operands,
                        ArrayRef<NamedAttribute> attrs = {}) {
    auto r = create<OpTy>(operands, attrs);
    if (failed(r))
      return failure();
    return (*r)[0];
  }
  /// Sets the node's single output to the single result of `OpTy`.
  template <typename OpTy>
  LogicalResult emit(ValueRange operands, ArrayRef<NamedAttribute> attrs = {}) {
    auto r = make<OpTy>(operands, attrs);
    if (failed(r))
      return failure();
    outputs.push_back(*r);
    return success();
  }

  /// A constant of the given type and values.
  Value constant(ElementsAttr value);
  Value i64Vector(ArrayRef<int64_t> values);
  Value i64Scalar(int64_t value);
  /// A 0-D constant of `elementType` holding `value`.
  Value scalarLike(Type elementType, double value);

  NamedAttribute named(StringRef name, Attribute value) const {
    return b.getNamedAttr(name, value);
  }

private:
  FailureOr<SmallVector<Value>> createOp(StringRef name, ValueRange operands,
                                         ArrayRef<NamedAttribute> attrs,
                                         unsigned numResults, TypeRange types);
};

} // namespace kiln::import

#endif // KILN_LIB_IMPORT_IMPORTERIMPL_H
