//===- Emitter.h - sticky-failure op builder for converters ----*- C++ -*-===//
//
// Converters that expand one ONNX node into many kiln ops (RNN/GRU/LSTM,
// ops with axes known only at run time) build through KilnEmitter: each
// call creates, infers and folds one op through the NodeContext; the first
// failure (already reported by NodeContext) sticks, and every later call
// returns a null Value, so the expansion reads straight through and checks
// `failed` once.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_IMPORT_EMITTER_H
#define KILN_LIB_IMPORT_EMITTER_H

#include "ImporterImpl.h"

namespace kiln::import {

/// Builds kiln ops for one node; the first failure sticks and later calls
/// return null values, so the step code reads straight through.
class KilnEmitter {
public:
  explicit KilnEmitter(NodeContext &c) : c(c) {}
  NodeContext &c;
  bool failed = false;

  template <typename OpTy>
  Value op(ValueRange operands, ArrayRef<NamedAttribute> attrs = {}) {
    if (failed || llvm::any_of(operands, [](Value v) { return !v; }))
      return fail();
    auto r = c.make<OpTy>(operands, attrs);
    if (mlir::failed(r))
      return fail();
    return *r;
  }
  Value fail() {
    failed = true;
    return {};
  }
  NamedAttribute f32(StringRef name, float v) {
    return c.named(name, c.b.getF32FloatAttr(v));
  }
  /// v[index] along `axis` (the axis is dropped).
  Value at(Value v, int64_t index, int64_t axis) {
    return op<mlir::kiln::GatherOp>({v, c.i64Scalar(index)},
                           {c.named("axis", c.b.getI64IntegerAttr(axis))});
  }
  /// v[..., lo:hi] along `axis`.
  Value slice(Value v, int64_t lo, int64_t hi, int64_t axis) {
    return op<mlir::kiln::SliceOp>({v, c.i64Vector({lo}), c.i64Vector({hi}),
                           c.i64Vector({axis}), c.i64Vector({1})});
  }
  Value transpose(Value v, ArrayRef<int64_t> perm) {
    return op<mlir::kiln::TransposeOp>(
        v, {c.named("perm", c.b.getDenseI64ArrayAttr(perm))});
  }
  Value unsqueeze(Value v, int64_t axis) {
    return op<mlir::kiln::UnsqueezeOp>(
        v, {c.named("axes", c.b.getDenseI64ArrayAttr({axis}))});
  }
  Value concat(ValueRange vs, int64_t axis) {
    if (vs.size() == 1)
      return vs[0];
    return op<mlir::kiln::ConcatOp>(vs, {c.named("axis", c.b.getI64IntegerAttr(axis))});
  }
  Value scalar(Type elt, double v) { return c.scalarLike(elt, v); }
  Value cast(Value v, Type elt) {
    if (failed || !v)
      return fail();
    auto t = c.typeOf(v);
    if (t.getElementType() == elt)
      return v;
    auto r = c.createTyped<mlir::kiln::CastOp>(v, {}, {t.clone(elt)});
    if (mlir::failed(r))
      return fail();
    return (*r)[0];
  }
  /// A reduction over `axes` (sorted, non-negative).
  template <typename OpTy>
  Value reduce(Value v, ArrayRef<int64_t> axes, bool keepdims) {
    return op<OpTy>(v, {c.named("axes", c.b.getDenseI64ArrayAttr(axes)),
                        c.named("keepdims", c.b.getBoolAttr(keepdims))});
  }
  /// kiln.if on a one-element bool `cond` with one result per branch
  /// (ControlFlow.cpp); dims where the branches differ become dynamic.
  Value ifElse(Value cond, llvm::function_ref<Value()> thenFn,
               llvm::function_ref<Value()> elseFn);
};

} // namespace kiln::import

#endif // KILN_LIB_IMPORT_EMITTER_H
