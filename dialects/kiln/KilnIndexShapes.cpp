//===- KilnIndexShapes.cpp - inference of gather and scatter ops ----------===//
//
// Result types (and verification) of the index-driven ops: gather,
// gather_elements, gather_nd, scatter_nd, scatter_elements.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnDialect.h"
#include "dialects/kiln/ShapeUtils.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::detail;

static LogicalResult requireIndices(StringRef name, OptLoc loc, Value v) {
  auto t = tensorOf(v);
  if (!t.getElementType().isInteger(64) && !t.getElementType().isInteger(32))
    return opError(name, loc,
                   "indices must be i32 or i64, got " +
                       typeStr(t.getElementType()));
  return success();
}

LogicalResult GatherOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                         Adaptor adaptor, Types &types) {
  StringRef name = getOperationName();
  auto input = tensorOf(adaptor.getInput()),
       indices = tensorOf(adaptor.getIndices());
  int64_t rank = input.getRank(), axis = adaptor.getAxis();
  if (rank == 0 || axis < -rank || axis >= rank)
    return opError(name, loc, "axis " + Twine(axis) +
                                  " is out of range for rank " + Twine(rank));
  if (failed(requireIndices(name, loc, adaptor.getIndices())))
    return failure();
  if (axis < 0)
    axis += rank;
  SmallVector<int64_t> out(input.getShape().take_front(axis));
  out.append(indices.getShape().begin(), indices.getShape().end());
  out.append(input.getShape().begin() + axis + 1, input.getShape().end());
  types.push_back(RankedTensorType::get(out, input.getElementType()));
  return success();
}

LogicalResult GatherElementsOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                                 Adaptor adaptor, Types &types) {
  StringRef name = getOperationName();
  auto input = tensorOf(adaptor.getInput()),
       indices = tensorOf(adaptor.getIndices());
  int64_t rank = input.getRank(), axis = adaptor.getAxis();
  if (indices.getRank() != rank)
    return opError(name, loc, "indices rank " + Twine(indices.getRank()) +
                                  " differs from input rank " + Twine(rank));
  if (rank == 0 || axis < -rank || axis >= rank)
    return opError(name, loc, "axis " + Twine(axis) +
                                  " is out of range for rank " + Twine(rank));
  if (failed(requireIndices(name, loc, adaptor.getIndices())))
    return failure();
  types.push_back(indices.clone(input.getElementType()));
  return success();
}

LogicalResult GatherNDOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                           Adaptor adaptor, Types &types) {
  StringRef name = getOperationName();
  auto input = tensorOf(adaptor.getInput()),
       indices = tensorOf(adaptor.getIndices());
  int64_t b = adaptor.getBatchDims();
  if (failed(requireIndices(name, loc, adaptor.getIndices())))
    return failure();
  if (indices.getRank() < 1 || indices.isDynamicDim(indices.getRank() - 1))
    return opError(name, loc, "indices need a static last dim");
  int64_t k = indices.getShape().back();
  if (b < 0 || b >= std::min(input.getRank(), indices.getRank()) ||
      b + k > input.getRank())
    return opError(name, loc,
                   "batch_dims " + Twine(b) + " and index depth " + Twine(k) +
                       " do not fit input rank " + Twine(input.getRank()));
  SmallVector<int64_t> out(indices.getShape().drop_back());
  out.append(input.getShape().begin() + b + k, input.getShape().end());
  types.push_back(RankedTensorType::get(out, input.getElementType()));
  return success();
}

static LogicalResult checkReduction(StringRef name, OptLoc loc, StringRef r) {
  if (!llvm::is_contained({"none", "add", "mul", "max", "min"}, r))
    return opError(name, loc, "unknown reduction '" + r + "'");
  return success();
}

LogicalResult ScatterNDOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                            Adaptor adaptor, Types &types) {
  StringRef name = getOperationName();
  auto input = tensorOf(adaptor.getInput());
  if (failed(requireIndices(name, loc, adaptor.getIndices())) ||
      failed(checkReduction(name, loc, adaptor.getReduction())))
    return failure();
  auto updates = tensorOf(adaptor.getUpdates());
  auto indices = tensorOf(adaptor.getIndices());
  if (updates.getElementType() != input.getElementType())
    return opError(name, loc, "updates element type differs from the input's");
  if (indices.getRank() < 1)
    return opError(name, loc, "indices must have rank >= 1");
  int64_t k = indices.getShape().back();
  if (!ShapedType::isDynamic(k)) {
    if (k < 1 || k > input.getRank())
      return opError(name, loc,
                     "index depth " + Twine(k) + " must be in [1, " +
                         Twine(input.getRank()) + "]");
    int64_t want = indices.getRank() - 1 + input.getRank() - k;
    if (updates.getRank() != want)
      return opError(name, loc,
                     "updates have rank " + Twine(updates.getRank()) +
                         ", expected " + Twine(want));
  }
  types.push_back(input);
  return success();
}

LogicalResult ScatterElementsOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                                  Adaptor adaptor,
                                                  Types &types) {
  StringRef name = getOperationName();
  auto input = tensorOf(adaptor.getInput());
  int64_t rank = input.getRank(), axis = adaptor.getAxis();
  if (rank == 0 || axis < -rank || axis >= rank)
    return opError(name, loc, "axis " + Twine(axis) +
                                  " is out of range for rank " + Twine(rank));
  if (failed(requireIndices(name, loc, adaptor.getIndices())) ||
      failed(checkReduction(name, loc, adaptor.getReduction())))
    return failure();
  if (tensorOf(adaptor.getUpdates()).getElementType() != input.getElementType())
    return opError(name, loc, "updates element type differs from the input's");
  types.push_back(input);
  return success();
}

