//===- Chain.h - importing an ONNX node as a chain of kiln ops --*- C++ -*-===//
//
// Shared by the converters of composite ops (ConvertTransformer.cpp,
// ConvertOrtContrib.cpp): kiln ops chained with the first failure
// remembered, and extents known equal at import time.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_IMPORT_CHAIN_H
#define KILN_LIB_IMPORT_CHAIN_H

#include "ImporterImpl.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

namespace kiln::import {

namespace k = mlir::kiln;

/// Fails (naming the output) when the model uses one of outputs `outs`,
/// which the converter does not compute.
inline LogicalResult rejectOutputs(NodeContext &c, ArrayRef<int> outs,
                                   StringRef what) {
  for (int i : outs)
    if (c.outputUsed(i))
      return c.fail(what + Twine(" (output ") + Twine(i) +
                    ") is not supported");
  return success();
}

/// Chains kiln ops, remembering the first failure (already reported).
struct Chain {
  NodeContext &c;
  bool ok = true;
  template <typename OpTy>
  Value op(ValueRange operands, ArrayRef<NamedAttribute> attrs = {}) {
    if (!ok || llvm::any_of(operands, [](Value v) { return !v; })) {
      ok = false;
      return {};
    }
    auto r = c.make<OpTy>(operands, attrs);
    if (failed(r)) {
      ok = false;
      return {};
    }
    return *r;
  }
  Value transpose(Value v, ArrayRef<int64_t> perm) {
    return op<k::TransposeOp>(v, {c.named("perm", c.b.getDenseI64ArrayAttr(perm))});
  }
  Value reshape(Value v, ArrayRef<int64_t> shape) {
    return op<k::ReshapeOp>({v, c.i64Vector(shape)});
  }
  Value unsqueeze(Value v, ArrayRef<int64_t> axes) {
    return op<k::UnsqueezeOp>(v, {c.named("axes", c.b.getDenseI64ArrayAttr(axes))});
  }
  /// Extent `axis` of `v` as a 0-D i64 tensor.
  Value extent(Value v, int64_t axis) {
    Value shape = op<k::ShapeOp>(v, {c.named("start", c.b.getI64IntegerAttr(axis)),
                                     c.named("end", c.b.getI64IntegerAttr(axis + 1))});
    return op<k::SqueezeOp>(shape, {c.named("axes", c.b.getDenseI64ArrayAttr({0}))});
  }
  /// `v` converted to element type `t`.
  Value cast(Value v, Type t) {
    if (!ok || !v) {
      ok = false;
      return {};
    }
    auto r = c.createTyped<k::CastOp>({v}, {}, {c.typeOf(v).clone(t)});
    if (failed(r)) {
      ok = false;
      return {};
    }
    return (*r)[0];
  }
  /// 0, 1, ..., n - 1 (n a 0-D i64 tensor).
  Value arange(Value n) {
    return op<k::RangeOp>({c.i64Scalar(0), n, c.i64Scalar(1)});
  }
  LogicalResult finish(ArrayRef<Value> outs) {
    if (!ok)
      return failure();
    c.outputs.append(outs.begin(), outs.end());
    return success();
  }
};

/// The symbolic name of dim `d` of a graph input (its `kiln.dims` entry).
inline StringRef inputDimName(Value v, int64_t d) {
  auto arg = dyn_cast<BlockArgument>(v);
  auto fn = arg ? dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp())
                : FunctionOpInterface();
  auto names =
      fn ? fn.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), "kiln.dims")
         : ArrayAttr();
  if (!names || d >= (int64_t)names.size())
    return {};
  auto s = dyn_cast<StringAttr>(names[d]);
  return s ? s.getValue() : StringRef();
}

/// Extents known to be equal: both static and equal, or the same named
/// symbolic dim of graph inputs.
inline bool sameExtent(Value a, int64_t da, Value b, int64_t db) {
  int64_t x = cast<RankedTensorType>(a.getType()).getDimSize(da);
  int64_t y = cast<RankedTensorType>(b.getType()).getDimSize(db);
  if (x != ShapedType::kDynamic || y != ShapedType::kDynamic)
    return x == y;
  StringRef n = inputDimName(a, da);
  return !n.empty() && n == inputDimName(b, db);
}

} // namespace kiln::import

#endif // KILN_LIB_IMPORT_CHAIN_H
