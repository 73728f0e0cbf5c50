//===- KilnShapes.cpp - result type inference for kiln ops ----------------===//
//
// Each kiln op infers its result type here, and the same code is its
// verifier: a failure names the op and the values seen. Elementwise, linear
// algebra, convolution, normalization and reduction ops live in this file;
// shape and data-movement ops in KilnShapeOps.cpp.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnDialect.h"
#include "dialects/kiln/ShapeUtils.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::detail;


std::string mlir::kiln::typeStr(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << type;
  return s;
}

bool mlir::kiln::areCompatibleTensorTypes(TypeRange lhs, TypeRange rhs) {
  if (lhs.size() != rhs.size())
    return false;
  for (auto [l, r] : llvm::zip(lhs, rhs)) {
    auto lt = dyn_cast<RankedTensorType>(l), rt = dyn_cast<RankedTensorType>(r);
    if (!lt || !rt) {
      if (l != r)
        return false;
      continue;
    }
    if (lt.getElementType() != rt.getElementType() ||
        lt.getRank() != rt.getRank())
      return false;
    for (auto [a, b] : llvm::zip(lt.getShape(), rt.getShape()))
      if (!ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b)
        return false;
  }
  return true;
}

LogicalResult mlir::kiln::verifyResultExtents(Operation *op,
                                              TypeRange inferred) {
  constexpr int64_t kMaxExtent = int64_t(1) << 40;
  for (Type t : llvm::concat<const Type>(inferred, op->getResultTypes()))
    if (auto rt = dyn_cast<RankedTensorType>(t))
      for (int64_t d : rt.getShape())
        if (!ShapedType::isDynamic(d) && (d < 0 || d > kMaxExtent))
          return op->emitOpError("result dim ")
                 << d << " is negative or larger than 2^40";
  return success();
}

LogicalResult mlir::kiln::opError(StringRef opName, OptLoc loc,
                                  const Twine &msg) {
  return emitOptionalError(loc, "'", opName, "' op ", msg.str());
}

std::optional<SmallVector<int64_t>> mlir::kiln::getConstantIntValues(Value v) {
  DenseIntElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  if (attr.getType().getRank() > 1)
    return std::nullopt;
  SmallVector<int64_t> out;
  bool isUnsigned = attr.getElementType().isUnsignedInteger();
  for (const APInt &x : attr.getValues<APInt>())
    out.push_back(isUnsigned || x.getBitWidth() == 1 ? (int64_t)x.getZExtValue()
                                                     : x.getSExtValue());
  return out;
}

FailureOr<SmallVector<int64_t>> mlir::kiln::broadcastShapes(ArrayRef<int64_t> a,
                                                            ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t x = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t y = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (x == 1)
      out[i] = y;
    else if (y == 1)
      out[i] = x;
    else if (ShapedType::isDynamic(x))
      out[i] = y;
    else if (ShapedType::isDynamic(y) || x == y)
      out[i] = x;
    else
      return failure();
  }
  return out;
}

LogicalResult mlir::kiln::inferSameType(StringRef opName, OptLoc loc,
                                        Value input, Types &types) {
  types.push_back(input.getType());
  return success();
}

LogicalResult mlir::kiln::inferSameShape(StringRef opName, OptLoc loc,
                                         Value input, Type elementType,
                                         Types &types) {
  types.push_back(tensorOf(input).clone(elementType));
  return success();
}

LogicalResult mlir::kiln::inferBroadcast(StringRef opName, OptLoc loc,
                                         ValueRange operands, int kind,
                                         Types &types) {
  auto lhs = tensorOf(operands[0]), rhs = tensorOf(operands[1]);
  if (kind != 2 && lhs.getElementType() != rhs.getElementType())
    return opError(opName, loc,
                   "operand element types differ: " +
                       typeStr(lhs.getElementType()) + " vs " +
                       typeStr(rhs.getElementType()));
  auto shape = broadcastShapes(lhs.getShape(), rhs.getShape());
  if (failed(shape))
    return opError(opName, loc,
                   "operand shapes " + dimsToString(lhs.getShape()) + " and " +
                       dimsToString(rhs.getShape()) + " do not broadcast");
  Type elt = kind == 1 ? IntegerType::get(lhs.getContext(), 1)
                       : lhs.getElementType();
  types.push_back(RankedTensorType::get(*shape, elt));
  return success();
}

LogicalResult mlir::kiln::inferWhere(StringRef opName, OptLoc loc,
                                     ValueRange operands, Types &types) {
  auto cond = tensorOf(operands[0]), x = tensorOf(operands[1]),
       y = tensorOf(operands[2]);
  if (!cond.getElementType().isInteger(1))
    return opError(opName, loc,
                   "condition must be i1, got " +
                       typeStr(cond.getElementType()));
  if (x.getElementType() != y.getElementType())
    return opError(opName, loc,
                   "x and y element types differ: " +
                       typeStr(x.getElementType()) + " vs " +
                       typeStr(y.getElementType()));
  auto s1 = broadcastShapes(cond.getShape(), x.getShape());
  FailureOr<SmallVector<int64_t>> s2 = failure();
  if (succeeded(s1))
    s2 = broadcastShapes(*s1, y.getShape());
  if (failed(s2))
    return opError(opName, loc,
                   "operand shapes " + dimsToString(cond.getShape()) + ", " +
                       dimsToString(x.getShape()) + " and " +
                       dimsToString(y.getShape()) + " do not broadcast");
  types.push_back(RankedTensorType::get(*s2, x.getElementType()));
  return success();
}

LogicalResult mlir::kiln::inferMatmul(StringRef opName, OptLoc loc, Value lhsV,
                                      Value rhsV, Types &types) {
  auto lhs = tensorOf(lhsV), rhs = tensorOf(rhsV);
  if (lhs.getElementType() != rhs.getElementType())
    return opError(opName, loc,
                   "operand element types differ: " +
                       typeStr(lhs.getElementType()) + " vs " +
                       typeStr(rhs.getElementType()));
  if (lhs.getRank() == 0 || rhs.getRank() == 0)
    return opError(opName, loc, "operands must have rank >= 1");
  SmallVector<int64_t> a(lhs.getShape()), b(rhs.getShape());
  bool lhsVec = a.size() == 1, rhsVec = b.size() == 1;
  if (lhsVec)
    a.insert(a.begin(), 1);
  if (rhsVec)
    b.push_back(1);
  int64_t k1 = a.back(), k2 = b[b.size() - 2];
  if (!ShapedType::isDynamic(k1) && !ShapedType::isDynamic(k2) && k1 != k2)
    return opError(opName, loc,
                   "contracting dims differ: lhs " + dimsToString(lhs.getShape()) +
                       ", rhs " + dimsToString(rhs.getShape()));
  auto batch = broadcastShapes(ArrayRef<int64_t>(a).drop_back(2),
                               ArrayRef<int64_t>(b).drop_back(2));
  if (failed(batch))
    return opError(opName, loc,
                   "batch dims of " + dimsToString(lhs.getShape()) + " and " +
                       dimsToString(rhs.getShape()) + " do not broadcast");
  SmallVector<int64_t> out = *batch;
  if (!lhsVec)
    out.push_back(a[a.size() - 2]);
  if (!rhsVec)
    out.push_back(b.back());
  types.push_back(RankedTensorType::get(out, lhs.getElementType()));
  return success();
}

LogicalResult mlir::kiln::inferPool(StringRef opName, OptLoc loc, Value inputV,
                                    ArrayRef<int64_t> kernel,
                                    ArrayRef<int64_t> strides,
                                    ArrayRef<int64_t> pads,
                                    ArrayRef<int64_t> dilations, bool ceilMode,
                                    Types &types) {
  auto input = tensorOf(inputV);
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1)
    return opError(opName, loc,
                   "input must have rank >= 3 (N, C, spatial...), got rank " +
                       Twine(input.getRank()));
  if ((int64_t)kernel.size() != spatial)
    return opError(opName, loc,
                   "kernel_shape has " + Twine(kernel.size()) +
                       " entries, but the input has " + Twine(spatial) +
                       " spatial dims");
  if (failed(checkWindowAttrs(opName, loc, spatial, strides, pads, dilations)))
    return failure();
  SmallVector<int64_t> out(input.getShape().take_front(2));
  for (int64_t i = 0; i < spatial; ++i) {
    if (kernel[i] < 1)
      return opError(opName, loc, "kernel_shape must be >= 1, got " +
                                      Twine(kernel[i]));
    int64_t e = windowExtent(input.getDimSize(i + 2), kernel[i], strides[i],
                             pads[i], pads[i + spatial], dilations[i], ceilMode);
    if (e < 0 && !ShapedType::isDynamic(e))
      return opError(opName, loc,
                     "window of spatial dim " + Twine(i) +
                         " is larger than the padded input " +
                         dimsToString(input.getShape()));
    out.push_back(e);
  }
  types.push_back(RankedTensorType::get(out, input.getElementType()));
  return success();
}

LogicalResult mlir::kiln::inferPoolWithIndices(
    StringRef opName, OptLoc loc, Value input, ArrayRef<int64_t> kernel,
    ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
    ArrayRef<int64_t> dilations, bool ceilMode, int64_t storageOrder,
    Types &types) {
  if (storageOrder != 0 && storageOrder != 1)
    return opError(opName, loc,
                   "storage_order must be 0 (row major) or 1 (column major), "
                   "got " + Twine(storageOrder));
  if (failed(inferPool(opName, loc, input, kernel, strides, pads, dilations,
                       ceilMode, types)))
    return failure();
  auto values = cast<RankedTensorType>(types.back());
  types.push_back(RankedTensorType::get(
      values.getShape(), IntegerType::get(input.getContext(), 64)));
  return success();
}

LogicalResult mlir::kiln::inferGlobalPool(StringRef opName, OptLoc loc,
                                          Value inputV, Types &types) {
  auto input = tensorOf(inputV);
  if (input.getRank() < 3)
    return opError(opName, loc,
                   "input must have rank >= 3, got rank " +
                       Twine(input.getRank()));
  SmallVector<int64_t> out(input.getShape());
  std::fill(out.begin() + 2, out.end(), 1);
  types.push_back(RankedTensorType::get(out, input.getElementType()));
  return success();
}

LogicalResult mlir::kiln::inferSameTypeWithAxis(StringRef opName, OptLoc loc,
                                                Value input, int64_t axis,
                                                Types &types) {
  if (failed(checkAxis(opName, loc, axis, tensorOf(input).getRank())))
    return failure();
  types.push_back(input.getType());
  return success();
}

LogicalResult mlir::kiln::inferReduce(StringRef opName, OptLoc loc,
                                      Value inputV, ArrayRef<int64_t> axes,
                                      bool keepdims, Type elementType,
                                      Types &types) {
  auto input = tensorOf(inputV);
  int64_t rank = input.getRank();
  for (auto [i, a] : llvm::enumerate(axes)) {
    if (a < 0 || a >= rank)
      return opError(opName, loc,
                     "axis " + Twine(a) + " is out of range for rank " +
                         Twine(rank));
    if (i > 0 && a <= axes[i - 1])
      return opError(opName, loc, "axes must be sorted and unique");
  }
  SmallVector<int64_t> out;
  for (int64_t d = 0; d < rank; ++d) {
    if (llvm::is_contained(axes, d)) {
      if (keepdims)
        out.push_back(1);
    } else {
      out.push_back(input.getDimSize(d));
    }
  }
  types.push_back(RankedTensorType::get(
      out, elementType ? elementType : input.getElementType()));
  return success();
}

LogicalResult mlir::kiln::inferArgReduce(StringRef opName, OptLoc loc,
                                         Value input, int64_t axis,
                                         bool keepdims, Types &types) {
  int64_t rank = tensorOf(input).getRank();
  if (failed(checkAxis(opName, loc, axis, rank)))
    return failure();
  if (axis < 0)
    axis += rank;
  return inferReduce(opName, loc, input, {axis}, keepdims,
                     IntegerType::get(input.getContext(), 64), types);
}

