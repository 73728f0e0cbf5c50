//===- KilnDialect.h - the kiln dialect -------------------------*- C++ -*-===//
//
// Declarations of the kiln dialect, its ops, and the shape-inference helpers
// the generated op classes call.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_KILNDIALECT_H
#define KILN_DIALECTS_KILN_KILNDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <optional>

namespace mlir::kiln {

/// Two lists of tensor types are compatible when element types match and each
/// dim pair is equal or has a `?` on either side.
bool areCompatibleTensorTypes(TypeRange lhs, TypeRange rhs);

/// The type as printed, for diagnostics.
std::string typeStr(Type type);

/// Emits "'<opName>' op <msg>" at `loc` when a location is given; always
/// returns failure, so inference helpers can `return opError(...)`.
LogicalResult opError(StringRef opName, std::optional<Location> loc,
                      const Twine &msg);

/// The values of a 1-D or 0-D integer constant (a kiln.constant or anything
/// that folds to DenseIntElementsAttr), sign-extended to i64.
std::optional<SmallVector<int64_t>> getConstantIntValues(Value value);

/// Broadcasts two shapes numpy-style; fails on incompatible static extents.
FailureOr<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> a,
                                                ArrayRef<int64_t> b);

/// Rejects inferred result dims that are negative or absurdly large (the
/// signature of overflowed shape arithmetic).
LogicalResult verifyResultExtents(Operation *op, TypeRange inferred);

// Inference helpers shared by many ops (see KilnShapes.cpp).
using Types = SmallVectorImpl<Type>;
using OptLoc = std::optional<Location>;
LogicalResult inferSameType(StringRef opName, OptLoc loc, Value input,
                            Types &types);
LogicalResult inferSameShape(StringRef opName, OptLoc loc, Value input,
                             Type elementType, Types &types);
LogicalResult inferBroadcast(StringRef opName, OptLoc loc, ValueRange operands,
                             int kind, Types &types);
LogicalResult inferWhere(StringRef opName, OptLoc loc, ValueRange operands,
                         Types &types);
/// kiln.attention's result type from its operand types (`mask` may be null).
LogicalResult inferAttention(StringRef opName, OptLoc loc, RankedTensorType q,
                             RankedTensorType k, RankedTensorType v,
                             RankedTensorType mask, Types &types);
LogicalResult inferMatmul(StringRef opName, OptLoc loc, Value lhs, Value rhs,
                          Types &types);
LogicalResult inferPool(StringRef opName, OptLoc loc, Value input,
                        ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                        ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations,
                        bool ceilMode, Types &types);
/// kiln.max_pool_with_indices: the pool's type, and the same shape of i64
/// (storage_order 0 or 1).
LogicalResult inferPoolWithIndices(StringRef opName, OptLoc loc, Value input,
                                   ArrayRef<int64_t> kernel,
                                   ArrayRef<int64_t> strides,
                                   ArrayRef<int64_t> pads,
                                   ArrayRef<int64_t> dilations, bool ceilMode,
                                   int64_t storageOrder, Types &types);
LogicalResult inferGlobalPool(StringRef opName, OptLoc loc, Value input,
                              Types &types);
LogicalResult inferSameTypeWithAxis(StringRef opName, OptLoc loc, Value input,
                                    int64_t axis, Types &types);
LogicalResult inferReduce(StringRef opName, OptLoc loc, Value input,
                          ArrayRef<int64_t> axes, bool keepdims,
                          Type elementType, Types &types);
LogicalResult inferArgReduce(StringRef opName, OptLoc loc, Value input,
                             int64_t axis, bool keepdims, Types &types);

} // namespace mlir::kiln

#include "dialects/kiln/KilnDialect.h.inc"

namespace mlir::OpTrait {
/// Marks kiln elementwise ops whose result shape is the broadcast of their
/// operands' shapes (see Kiln_Broadcasting).
template <typename ConcreteType>
class KilnBroadcasting : public TraitBase<ConcreteType, KilnBroadcasting> {};
} // namespace mlir::OpTrait

#define GET_OP_CLASSES
#include "dialects/kiln/KilnOps.h.inc"

namespace mlir::kiln {
/// For a float -> integer -> float cast pair of a value known to be
/// integral and within the integer type's range (a QuantizeLinear ->
/// DequantizeLinear pair's clip(round(x / s) + zp, lo, hi)): that value;
/// else null (KilnFolds.cpp).
Value integerRoundTripSource(CastOp op);
} // namespace mlir::kiln

#endif // KILN_DIALECTS_KILN_KILNDIALECT_H
