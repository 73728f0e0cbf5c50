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

/// The ranks and static extents the element-wise index ops need: indices
/// of the input's rank, each extent off `axis` within the input's (the op
/// reads or writes the input at those positions), and, for scatter,
/// updates of the indices' shape. Dynamic extents are checked at run time
/// by the lowering.
static LogicalResult checkElementIndices(StringRef name, OptLoc loc,
                                         RankedTensorType input,
                                         RankedTensorType indices,
                                         int64_t axis,
                                         RankedTensorType updates = {}) {
  int64_t rank = input.getRank();
  if (indices.getRank() != rank)
    return opError(name, loc, "indices rank " + Twine(indices.getRank()) +
                                  " differs from input rank " + Twine(rank));
  if (rank == 0 || axis < -rank || axis >= rank)
    return opError(name, loc, "axis " + Twine(axis) +
                                  " is out of range for rank " + Twine(rank));
  if (axis < 0)
    axis += rank;
  for (int64_t d = 0; d < rank; ++d)
    if (d != axis && !indices.isDynamicDim(d) && !input.isDynamicDim(d) &&
        indices.getDimSize(d) > input.getDimSize(d))
      return opError(name, loc, "indices extent " + Twine(indices.getDimSize(d)) +
                                    " exceeds the input's " +
                                    Twine(input.getDimSize(d)) + " in dim " +
                                    Twine(d));
  if (!updates)
    return success();
  if (updates.getRank() != rank)
    return opError(name, loc, "updates rank " + Twine(updates.getRank()) +
                                  " differs from indices rank " + Twine(rank));
  for (int64_t d = 0; d < rank; ++d)
    if (!updates.isDynamicDim(d) && !indices.isDynamicDim(d) &&
        updates.getDimSize(d) != indices.getDimSize(d))
      return opError(name, loc, "updates extent " + Twine(updates.getDimSize(d)) +
                                    " differs from the indices' " +
                                    Twine(indices.getDimSize(d)) + " in dim " +
                                    Twine(d));
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
  if (failed(checkElementIndices(name, loc, input, indices, adaptor.getAxis())) ||
      failed(requireIndices(name, loc, adaptor.getIndices())))
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
    // updates: the indices' extents but the last, then the input's from k
    SmallVector<int64_t> shape(indices.getShape().drop_back());
    shape.append(input.getShape().begin() + k, input.getShape().end());
    for (auto [d, u, w] : llvm::enumerate(updates.getShape(), shape))
      if (!ShapedType::isDynamic(u) && !ShapedType::isDynamic(w) && u != w)
        return opError(name, loc, "updates extent " + Twine(u) + " in dim " +
                                      Twine(d) + ", expected " + Twine(w));
  }
  types.push_back(input);
  return success();
}

LogicalResult ScatterElementsOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                                  Adaptor adaptor,
                                                  Types &types) {
  StringRef name = getOperationName();
  auto input = tensorOf(adaptor.getInput());
  if (failed(checkElementIndices(name, loc, input, tensorOf(adaptor.getIndices()),
                                 adaptor.getAxis(), tensorOf(adaptor.getUpdates()))) ||
      failed(requireIndices(name, loc, adaptor.getIndices())) ||
      failed(checkReduction(name, loc, adaptor.getReduction())))
    return failure();
  if (tensorOf(adaptor.getUpdates()).getElementType() != input.getElementType())
    return opError(name, loc, "updates element type differs from the input's");
  types.push_back(input);
  return success();
}

