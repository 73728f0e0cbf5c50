//===- KilnIndexOps.cpp - inference for sampling and index ops ------------===//
//
// Result types and verifiers of the ops whose output is read at computed
// positions or drawn: resize, grid_sample, depth_to_space, space_to_depth,
// non_zero, one_hot and random. The shape operands' helpers are shared with
// KilnShapeOps.cpp (ShapeUtils.h).
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnDialect.h"
#include "dialects/kiln/ShapeUtils.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::detail;

LogicalResult RandomOp::verify() {
  auto rt = cast<RankedTensorType>(getResult().getType());
  if (!isa<FloatType>(rt.getElementType()))
    return emitOpError("the result must be a float tensor, got ") << rt;
  if (getDistribution() != "uniform" && getDistribution() != "normal")
    return emitOpError("unknown distribution '") << getDistribution() << "'";
  if (Value like = getLike()) {
    auto lt = cast<RankedTensorType>(like.getType());
    if (failed(verifyCompatibleShape(lt.getShape(), rt.getShape())))
      return emitOpError("the result shape must match `like`'s, got ")
             << rt << " for " << lt;
  } else if (!rt.hasStaticShape()) {
    return emitOpError("without `like` the result shape must be static");
  }
  return success();
}

LogicalResult ResizeOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                         Adaptor adaptor, Types &types) {
  StringRef name = getOperationName();
  auto input = tensorOf(adaptor.getInput());
  int64_t rank = input.getRank();
  if (!llvm::is_contained({"nearest", "linear", "cubic"}, adaptor.getMode()))
    return opError(name, loc, "unknown mode '" + adaptor.getMode() + "'");
  SmallVector<int64_t> out;
  if (Value sizes = adaptor.getSizes()) {
    if (failed(requireShapeOperand(name, loc, "sizes", sizes)))
      return failure();
    out = *getShapeEntries(sizes);
  } else if (Value scalesIn = adaptor.getScalesInput()) {
    auto st = tensorOf(scalesIn);
    if (st.getRank() != 1 || !isa<FloatType>(st.getElementType()) ||
        (!st.isDynamicDim(0) && st.getDimSize(0) != rank))
      return opError(name, loc, "scales must be a 1-D float tensor of " +
                                    Twine(rank) + " entries, got " +
                                    typeStr(st));
    out.assign(rank, kDyn);
  } else if (auto scales = adaptor.getScales()) {
    for (auto [d, s] : llvm::zip(input.getShape(), *scales))
      out.push_back(ShapedType::isDynamic(d) ? kDyn
                                             : (int64_t)std::floor(d * (double)s));
    if ((int64_t)scales->size() != rank)
      out.clear();
  } else {
    return opError(name, loc, "needs sizes or scales");
  }
  if ((int64_t)out.size() != rank)
    return opError(name, loc, "sizes/scales need " + Twine(rank) + " entries");
  types.push_back(RankedTensorType::get(out, input.getElementType()));
  return success();
}

LogicalResult GridSampleOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                             Adaptor adaptor, Types &types) {
  StringRef name = getOperationName();
  auto input = tensorOf(adaptor.getInput()), grid = tensorOf(adaptor.getGrid());
  if (input.getRank() != 4 || grid.getRank() != 4 ||
      !isa<FloatType>(input.getElementType()) ||
      !isa<FloatType>(grid.getElementType()))
    return opError(name, loc, "needs a float [N, C, H, W] input and a float "
                              "[N, Ho, Wo, 2] grid, got " +
                                  typeStr(input) + " and " + typeStr(grid));
  if (!grid.isDynamicDim(3) && grid.getDimSize(3) != 2)
    return opError(name, loc, "the grid's last dim must be 2");
  if (!llvm::is_contained({"nearest", "bilinear", "bicubic"}, adaptor.getMode()))
    return opError(name, loc, "unknown mode '" + adaptor.getMode() + "'");
  if (!llvm::is_contained({"zeros", "border", "reflection"},
                          adaptor.getPaddingMode()))
    return opError(name, loc,
                   "unknown padding_mode '" + adaptor.getPaddingMode() + "'");
  int64_t n = input.getDimSize(0);
  if (ShapedType::isDynamic(n))
    n = grid.getDimSize(0);
  types.push_back(RankedTensorType::get(
      {n, input.getDimSize(1), grid.getDimSize(1), grid.getDimSize(2)},
      input.getElementType()));
  return success();
}

LogicalResult DepthToSpaceOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                               Adaptor adaptor, Types &types) {
  auto input = tensorOf(adaptor.getInput());
  int64_t b = adaptor.getBlocksize();
  if (input.getRank() != 4 || b < 1 || b > (1 << 16))
    return opError(getOperationName(), loc,
                   "needs a rank-4 input and blocksize in [1, 65536], got " +
                       Twine(b));
  if (!llvm::is_contained({"DCR", "CRD"}, adaptor.getMode()))
    return opError(getOperationName(), loc,
                   "unknown mode '" + adaptor.getMode() + "'");
  auto s = input.getShape();
  if (!ShapedType::isDynamic(s[1]) && s[1] % (b * b))
    return opError(getOperationName(), loc,
                   "channels " + Twine(s[1]) + " are not divisible by " +
                       Twine(b * b));
  auto mul = [&](int64_t d) { return ShapedType::isDynamic(d) ? kDyn : d * b; };
  types.push_back(RankedTensorType::get(
      {s[0], ShapedType::isDynamic(s[1]) ? kDyn : s[1] / (b * b), mul(s[2]),
       mul(s[3])},
      input.getElementType()));
  return success();
}

LogicalResult SpaceToDepthOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                               Adaptor adaptor, Types &types) {
  auto input = tensorOf(adaptor.getInput());
  int64_t b = adaptor.getBlocksize();
  if (input.getRank() != 4 || b < 1 || b > (1 << 16))
    return opError(getOperationName(), loc,
                   "needs a rank-4 input and blocksize in [1, 65536], got " +
                       Twine(b));
  auto s = input.getShape();
  auto div = [&](int64_t d) -> int64_t {
    return ShapedType::isDynamic(d) ? kDyn : d / b;
  };
  for (int i = 2; i < 4; ++i)
    if (!ShapedType::isDynamic(s[i]) && s[i] % b)
      return opError(getOperationName(), loc,
                     "spatial dim " + Twine(s[i]) + " is not divisible by " +
                         Twine(b));
  types.push_back(RankedTensorType::get(
      {s[0], ShapedType::isDynamic(s[1]) ? kDyn : s[1] * b * b, div(s[2]),
       div(s[3])},
      input.getElementType()));
  return success();
}

LogicalResult NonZeroOp::inferReturnTypes(MLIRContext *ctx, OptLoc,
                                          Adaptor adaptor, Types &types) {
  types.push_back(RankedTensorType::get(
      {tensorOf(adaptor.getInput()).getRank(), kDyn}, IntegerType::get(ctx, 64)));
  return success();
}

LogicalResult OneHotOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                         Adaptor adaptor, Types &types) {
  StringRef name = getOperationName();
  auto indices = tensorOf(adaptor.getIndices()),
       values = tensorOf(adaptor.getValues());
  if (values.getNumElements() != 2)
    return opError(name, loc, "values must hold [off, on]");
  if (tensorOf(adaptor.getDepth()).getNumElements() != 1)
    return opError(name, loc, "depth must be a scalar");
  int64_t outRank = indices.getRank() + 1, axis = adaptor.getAxis();
  if (axis < -outRank || axis >= outRank)
    return opError(name, loc, "axis " + Twine(axis) + " is out of range");
  if (axis < 0)
    axis += outRank;
  int64_t depth = kDyn;
  DenseElementsAttr d;
  if (matchPattern(adaptor.getDepth(), m_Constant(&d))) {
    if (isa<FloatType>(d.getElementType()))
      depth = (int64_t)(*d.getValues<APFloat>().begin()).convertToDouble();
    else
      depth = (*d.getValues<APInt>().begin()).getSExtValue();
    if (depth < 1)
      return opError(name, loc, "depth must be >= 1");
  }
  SmallVector<int64_t> out(indices.getShape());
  out.insert(out.begin() + axis, depth);
  types.push_back(RankedTensorType::get(out, values.getElementType()));
  return success();
}
