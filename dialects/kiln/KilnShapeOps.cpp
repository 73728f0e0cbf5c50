//===- KilnShapeOps.cpp - inference for shape and data-movement ops -------===//
//
// Result types of the ops that move data or compute shapes. Shape operands
// (reshape, expand, tile, constant_of_shape, resize sizes) are read entry by
// entry through constants and concats, so `[?, ?, 12, 64]` is inferred even
// when only some of the target dims are known at compile time. The
// sampling and index ops (resize, grid_sample, depth_to_space,
// space_to_depth, non_zero, one_hot, random) are in KilnIndexOps.cpp.
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

std::optional<SmallVector<int64_t>> mlir::kiln::detail::getShapeEntries(Value v) {
  if (auto c = getConstantIntValues(v)) {
    // INT64_MIN would read as `?`; keep it an (invalid) negative entry.
    for (int64_t &x : *c)
      if (ShapedType::isDynamic(x))
        x = -2;
    return c;
  }
  auto t = tensorOf(v);
  if (!t || t.getRank() > 1 || !t.hasStaticShape())
    return std::nullopt;
  Operation *def = v.getDefiningOp();
  if (auto concat = dyn_cast_or_null<ConcatOp>(def)) {
    SmallVector<int64_t> out;
    for (Value in : concat.getInputs()) {
      auto part = getShapeEntries(in);
      if (!part)
        return SmallVector<int64_t>(t.getNumElements(), kDyn);
      out.append(*part);
    }
    return out;
  }
  // The extents of a tensor (dynamic ones unknown), and a constant slice
  // of known entries: [N, C] of Resize's sizes = Concat(Slice(Shape(x), 0,
  // 2), [H, W]) as PyTorch's interpolate exports it.
  if (auto shape = dyn_cast_or_null<ShapeOp>(def)) {
    auto src = tensorOf(shape.getInput());
    int64_t rank = src.getRank(), start = shape.getStart();
    start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
    if (start + t.getNumElements() > rank)
      return SmallVector<int64_t>(t.getNumElements(), kDyn);
    return SmallVector<int64_t>(src.getShape().slice(start, t.getNumElements()));
  }
  if (auto slice = dyn_cast_or_null<SliceOp>(def)) {
    auto inner = getShapeEntries(slice.getInput());
    auto starts = getConstantIntValues(slice.getStarts());
    auto steps = getConstantIntValues(slice.getSteps());
    auto axes = getConstantIntValues(slice.getAxes());
    if (inner && starts && steps && axes && starts->size() == 1 &&
        steps->size() == 1 && axes->size() == 1 &&
        ((*axes)[0] == 0 || (*axes)[0] == -1) && (*steps)[0] != 0) {
      int64_t n = inner->size(), first = (*starts)[0], step = (*steps)[0];
      if (first < 0)
        first += n;
      first = step > 0 ? std::clamp<int64_t>(first, 0, n)
                       : std::clamp<int64_t>(first, 0, n - 1);
      SmallVector<int64_t> out;
      for (int64_t i = 0; i < t.getNumElements(); ++i) {
        int64_t k = first + i * step;
        if (k < 0 || k >= n)
          return SmallVector<int64_t>(t.getNumElements(), kDyn);
        out.push_back((*inner)[k]);
      }
      return out;
    }
  }
  if (isa_and_nonnull<UnsqueezeOp, CastOp, ReshapeOp>(def))
    if (auto inner = getShapeEntries(def->getOperand(0));
        inner && (int64_t)inner->size() == t.getNumElements())
      return inner;
  return SmallVector<int64_t>(t.getNumElements(), kDyn);
}

LogicalResult mlir::kiln::detail::requireShapeOperand(StringRef name,
                                                      OptLoc loc,
                                                      StringRef what, Value v) {
  auto t = tensorOf(v);
  if (!t.getElementType().isInteger(64) || t.getRank() != 1 ||
      t.isDynamicDim(0))
    return opError(name, loc,
                   what + " must be a 1-D i64 tensor of static length, got " +
                       typeStr(t));
  return success();
}

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                           Adaptor adaptor, Types &types) {
  auto t = dyn_cast<RankedTensorType>(adaptor.getValue().getType());
  if (!t)
    return opError(getOperationName(), loc, "value must be a ranked tensor");
  types.push_back(t);
  return success();
}

LogicalResult ShapeOp::inferReturnTypes(MLIRContext *ctx, OptLoc loc,
                                        Adaptor adaptor, Types &types) {
  int64_t rank = tensorOf(adaptor.getInput()).getRank();
  auto norm = [&](int64_t x) {
    if (x < 0)
      x += rank;
    return std::clamp<int64_t>(x, 0, rank);
  };
  int64_t start = norm(adaptor.getStart());
  int64_t end = adaptor.getEnd() ? norm(*adaptor.getEnd()) : rank;
  types.push_back(RankedTensorType::get({std::max<int64_t>(end - start, 0)},
                                        IntegerType::get(ctx, 64)));
  return success();
}

LogicalResult SizeOp::inferReturnTypes(MLIRContext *ctx, OptLoc, Adaptor,
                                       Types &types) {
  types.push_back(RankedTensorType::get({}, IntegerType::get(ctx, 64)));
  return success();
}

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                          Adaptor adaptor, Types &types) {
  StringRef name = getOperationName();
  auto input = tensorOf(adaptor.getInput());
  if (failed(requireShapeOperand(name, loc, "shape", adaptor.getShape())))
    return failure();
  SmallVector<int64_t> out = *getShapeEntries(adaptor.getShape());
  SmallVector<bool> copied(out.size(), false);
  int inferIdx = -1;
  for (auto [i, d] : llvm::enumerate(out)) {
    if (d == -1) {
      if (inferIdx >= 0)
        return opError(name, loc, "shape " + dimsToString(out) +
                                      " has more than one -1");
      inferIdx = i;
    } else if (d == 0 && !adaptor.getAllowzero()) {
      if ((int64_t)i >= input.getRank())
        return opError(name, loc,
                       "shape " + dimsToString(out) + " copies dim " + Twine(i) +
                           " of an input of rank " + Twine(input.getRank()));
      out[i] = input.getDimSize(i);
      copied[i] = true;
    } else if (d < 0 && !ShapedType::isDynamic(d)) {
      return opError(name, loc, "shape " + dimsToString(out) +
                                    " has a negative entry");
    }
  }
  if (inferIdx >= 0) {
    // Dims copied by a 0 appear on both sides and cancel, so -1 is known
    // whenever every other extent is.
    int64_t num = 1, den = 1;
    bool known = true;
    for (int64_t d = 0; d < input.getRank(); ++d) {
      if (d < (int64_t)copied.size() && copied[d])
        continue;
      if (input.isDynamicDim(d) ||
          __builtin_mul_overflow(num, input.getDimSize(d), &num))
        known = false;
    }
    for (auto [i, d] : llvm::enumerate(out)) {
      if ((int)i == inferIdx || copied[i])
        continue;
      if (ShapedType::isDynamic(d) || __builtin_mul_overflow(den, d, &den))
        known = false;
    }
    if (known && den != 0 && num % den == 0 &&
        !input.hasStaticShape()) {
      out[inferIdx] = num / den;
      inferIdx = -1;
    }
  }
  if (inferIdx >= 0) {
    out[inferIdx] = kDyn;
    bool known = input.hasStaticShape() &&
                 llvm::none_of(out, [](int64_t d) { return ShapedType::isDynamic(d); });
    out[inferIdx] = kDyn;
    if (known || (input.hasStaticShape() &&
                  llvm::count_if(out, ShapedType::isDynamic) == 1)) {
      int64_t rest = 1;
      bool overflow = false;
      for (auto [i, d] : llvm::enumerate(out))
        if ((int)i != inferIdx)
          overflow |= __builtin_mul_overflow(rest, d, &rest);
      if (overflow || rest == 0 || input.getNumElements() % rest != 0)
        return opError(name, loc,
                       "cannot reshape " + dimsToString(input.getShape()) +
                           " into " + dimsToString(out) + " with one -1");
      out[inferIdx] = input.getNumElements() / rest;
    }
  }
  if (input.hasStaticShape() &&
      llvm::none_of(out, [](int64_t d) { return ShapedType::isDynamic(d); })) {
    int64_t n = 1;
    bool overflow = false;
    for (int64_t d : out)
      overflow |= __builtin_mul_overflow(n, d, &n);
    if (overflow)
      return opError(name, loc,
                     "cannot reshape " + dimsToString(input.getShape()) +
                         " into " + dimsToString(out) +
                         ": the element count overflows 64 bits");
    if (n != input.getNumElements())
      return opError(name, loc,
                     "cannot reshape " + dimsToString(input.getShape()) + " (" +
                         Twine(input.getNumElements()) + " elements) into " +
                         dimsToString(out) + " (" + Twine(n) + " elements)");
  }
  types.push_back(RankedTensorType::get(out, input.getElementType()));
  return success();
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                            Adaptor adaptor, Types &types) {
  auto input = tensorOf(adaptor.getInput());
  ArrayRef<int64_t> perm = adaptor.getPerm();
  if ((int64_t)perm.size() != input.getRank())
    return opError(getOperationName(), loc,
                   "perm has " + Twine(perm.size()) +
                       " entries, but input rank is " + Twine(input.getRank()));
  SmallVector<bool> seen(perm.size());
  SmallVector<int64_t> out;
  for (int64_t p : perm) {
    if (p < 0 || p >= (int64_t)perm.size() || seen[p])
      return opError(getOperationName(), loc,
                     "perm " + dimsToString(perm) + " is not a permutation");
    seen[p] = true;
    out.push_back(input.getDimSize(p));
  }
  types.push_back(RankedTensorType::get(out, input.getElementType()));
  return success();
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                         Adaptor adaptor, Types &types) {
  StringRef name = getOperationName();
  ValueRange inputs = adaptor.getInputs();
  if (inputs.empty())
    return opError(name, loc, "needs at least one input");
  auto first = tensorOf(inputs[0]);
  int64_t rank = first.getRank(), axis = adaptor.getAxis();
  if (rank == 0 || axis < -rank || axis >= rank)
    return opError(name, loc, "axis " + Twine(axis) +
                                  " is out of range for rank " + Twine(rank));
  if (axis < 0)
    axis += rank;
  SmallVector<int64_t> out(first.getShape());
  for (Value v : inputs.drop_front()) {
    auto t = tensorOf(v);
    if (t.getRank() != rank || t.getElementType() != first.getElementType())
      return opError(name, loc,
                     "inputs must share rank and element type: " +
                         typeStr(first) + " vs " + typeStr(t));
    for (int64_t d = 0; d < rank; ++d) {
      int64_t e = t.getDimSize(d);
      if (d == axis) {
        if (ShapedType::isDynamic(out[d]) || ShapedType::isDynamic(e))
          out[d] = kDyn;
        else if (llvm::AddOverflow(out[d], e, out[d]))
          return opError(name, loc,
                         "the concatenated dim " + Twine(d) +
                             " overflows 64 bits");
      } else if (ShapedType::isDynamic(out[d])) {
        out[d] = e;
      } else if (!ShapedType::isDynamic(e) && e != out[d]) {
        return opError(name, loc,
                       "inputs differ in dim " + Twine(d) + ": " +
                           dimsToString(first.getShape()) + " vs " +
                           dimsToString(t.getShape()));
      }
    }
  }
  types.push_back(RankedTensorType::get(out, first.getElementType()));
  return success();
}

LogicalResult SplitOp::verify() {
  auto input = getInput().getType();
  int64_t rank = input.getRank(), axis = getAxis();
  if (axis < -rank || axis >= rank)
    return emitOpError("axis ") << axis << " is out of range for rank " << rank;
  if (axis < 0)
    axis += rank;
  size_t n = getNumResults();
  if (n == 0)
    return emitOpError("needs at least one result");
  int64_t dim = input.getDimSize(axis);
  SmallVector<int64_t> sizes;
  if (auto s = getSizes()) {
    if (s->size() != n)
      return emitOpError("has ") << s->size() << " sizes but " << n
                                 << " results";
    sizes.assign(s->begin(), s->end());
    int64_t sum = 0;
    for (int64_t x : sizes) {
      if (x < 0)
        return emitOpError("sizes must be >= 0");
      sum += x;
    }
    if (!ShapedType::isDynamic(dim) && sum != dim)
      return emitOpError("sizes sum to ")
             << sum << ", but dim " << axis << " has extent " << dim;
  } else {
    int64_t each =
        ShapedType::isDynamic(dim) ? kDyn : (dim + (int64_t)n - 1) / (int64_t)n;
    sizes.assign(n, each);
    if (!ShapedType::isDynamic(dim))
      sizes.back() = dim - each * ((int64_t)n - 1);
    if (!ShapedType::isDynamic(dim) && sizes.back() < 0)
      return emitOpError("cannot split extent ") << dim << " into " << n
                                                  << " parts";
  }
  for (auto [r, s] : llvm::zip(getResults(), sizes)) {
    SmallVector<int64_t> shape(input.getShape());
    shape[axis] = s;
    auto expected = RankedTensorType::get(shape, input.getElementType());
    if (!areCompatibleTensorTypes(TypeRange{expected}, TypeRange{r.getType()}))
      return emitOpError("result type ")
             << r.getType() << " does not match expected " << expected;
  }
  return success();
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                        Adaptor adaptor, Types &types) {
  StringRef name = getOperationName();
  auto input = tensorOf(adaptor.getInput());
  const char *names[] = {"starts", "ends", "axes", "steps"};
  int64_t n = -1;
  for (auto [nm, v] : llvm::zip(names, adaptor.getOperands().drop_front())) {
    if (failed(requireShapeOperand(name, loc, nm, v)))
      return failure();
    int64_t len = tensorOf(v).getDimSize(0);
    if (n >= 0 && len != n)
      return opError(name, loc, "starts, ends, axes and steps differ in length");
    n = len;
  }
  int64_t rank = input.getRank();
  SmallVector<int64_t> out(input.getShape());
  auto axes = getConstantIntValues(adaptor.getAxes());
  if (!axes) {
    types.push_back(RankedTensorType::get(
        SmallVector<int64_t>(rank, kDyn), input.getElementType()));
    return success();
  }
  auto starts = getConstantIntValues(adaptor.getStarts());
  auto ends = getConstantIntValues(adaptor.getEnds());
  auto steps = getConstantIntValues(adaptor.getSteps());
  SmallVector<bool> seen(rank);
  for (int64_t i = 0; i < n; ++i) {
    int64_t a = (*axes)[i];
    if (a < -rank || a >= rank)
      return opError(name, loc, "axis " + Twine(a) +
                                    " is out of range for rank " + Twine(rank));
    if (a < 0)
      a += rank;
    if (seen[a])
      return opError(name, loc, "axis " + Twine(a) + " is sliced twice");
    seen[a] = true;
    if (steps && (*steps)[i] == 0)
      return opError(name, loc, "steps must be non-zero");
    int64_t d = input.getDimSize(a);
    if (!starts || !ends || !steps || ShapedType::isDynamic(d)) {
      out[a] = kDyn;
      continue;
    }
    int64_t s = (*starts)[i], e = (*ends)[i], st = (*steps)[i];
    if (s < 0)
      s += d;
    if (e < 0)
      e += d;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, d);
      e = std::clamp<int64_t>(e, 0, d);
      out[a] = e > s ? (e - s + st - 1) / st : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, d - 1);
      e = std::clamp<int64_t>(e, -1, d - 1);
      out[a] = s > e ? (s - e + (-st) - 1) / (-st) : 0;
    }
  }
  types.push_back(RankedTensorType::get(out, input.getElementType()));
  return success();
}

LogicalResult UnsqueezeOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                            Adaptor adaptor, Types &types) {
  auto input = tensorOf(adaptor.getInput());
  ArrayRef<int64_t> axes = adaptor.getAxes();
  int64_t outRank = input.getRank() + axes.size();
  for (auto [i, a] : llvm::enumerate(axes))
    if (a < 0 || a >= outRank || (i > 0 && a <= axes[i - 1]))
      return opError(getOperationName(), loc,
                     "axes " + dimsToString(axes) +
                         " must be sorted, unique and in [0, " +
                         Twine(outRank) + ")");
  SmallVector<int64_t> out;
  auto in = input.getShape().begin();
  for (int64_t d = 0; d < outRank; ++d)
    out.push_back(llvm::is_contained(axes, d) ? 1 : *in++);
  types.push_back(RankedTensorType::get(out, input.getElementType()));
  return success();
}

LogicalResult SqueezeOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                          Adaptor adaptor, Types &types) {
  auto input = tensorOf(adaptor.getInput());
  ArrayRef<int64_t> axes = adaptor.getAxes();
  for (auto [i, a] : llvm::enumerate(axes)) {
    if (a < 0 || a >= input.getRank() || (i > 0 && a <= axes[i - 1]))
      return opError(getOperationName(), loc,
                     "axes " + dimsToString(axes) +
                         " must be sorted, unique and in [0, " +
                         Twine(input.getRank()) + ")");
    int64_t d = input.getDimSize(a);
    if (!ShapedType::isDynamic(d) && d != 1)
      return opError(getOperationName(), loc,
                     "cannot squeeze dim " + Twine(a) + " of extent " +
                         Twine(d));
  }
  SmallVector<int64_t> out;
  for (int64_t d = 0; d < input.getRank(); ++d)
    if (!llvm::is_contained(axes, d))
      out.push_back(input.getDimSize(d));
  types.push_back(RankedTensorType::get(out, input.getElementType()));
  return success();
}

static int64_t product(ArrayRef<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (ShapedType::isDynamic(d) || __builtin_mul_overflow(n, d, &n))
      return kDyn; // unknown, or too large to be a real extent
  }
  return n;
}

LogicalResult FlattenOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                          Adaptor adaptor, Types &types) {
  auto input = tensorOf(adaptor.getInput());
  int64_t rank = input.getRank(), axis = adaptor.getAxis();
  if (axis < -rank || axis > rank)
    return opError(getOperationName(), loc,
                   "axis " + Twine(axis) + " is out of range for rank " +
                       Twine(rank));
  if (axis < 0)
    axis += rank;
  types.push_back(RankedTensorType::get(
      {product(input.getShape().take_front(axis)),
       product(input.getShape().drop_front(axis))},
      input.getElementType()));
  return success();
}

LogicalResult ExpandOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                         Adaptor adaptor, Types &types) {
  StringRef name = getOperationName();
  auto input = tensorOf(adaptor.getInput());
  if (failed(requireShapeOperand(name, loc, "shape", adaptor.getShape())))
    return failure();
  auto entries = *getShapeEntries(adaptor.getShape());
  // An unknown target entry against a static input dim d != 1 must be 1 or d.
  auto out = broadcastShapes(input.getShape(), entries);
  if (failed(out))
    return opError(name, loc,
                   "input shape " + dimsToString(input.getShape()) +
                       " does not broadcast to " + dimsToString(entries));
  types.push_back(RankedTensorType::get(*out, input.getElementType()));
  return success();
}

LogicalResult TileOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                       Adaptor adaptor, Types &types) {
  StringRef name = getOperationName();
  auto input = tensorOf(adaptor.getInput());
  if (failed(requireShapeOperand(name, loc, "repeats", adaptor.getRepeats())))
    return failure();
  auto reps = *getShapeEntries(adaptor.getRepeats());
  if ((int64_t)reps.size() != input.getRank())
    return opError(name, loc, "repeats has " + Twine(reps.size()) +
                                  " entries, but input rank is " +
                                  Twine(input.getRank()));
  SmallVector<int64_t> out;
  for (auto [d, r] : llvm::zip(input.getShape(), reps)) {
    if (!ShapedType::isDynamic(r) && r < 0)
      return opError(name, loc, "repeats must be >= 0");
    int64_t e = kDyn;
    if (!ShapedType::isDynamic(d) && !ShapedType::isDynamic(r) &&
        llvm::MulOverflow(d, r, e))
      return opError(name, loc,
                     "result dim " + Twine(out.size()) + " overflows 64 bits");
    out.push_back(e);
  }
  types.push_back(RankedTensorType::get(out, input.getElementType()));
  return success();
}

LogicalResult PadOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                      Adaptor adaptor, Types &types) {
  StringRef name = getOperationName();
  auto input = tensorOf(adaptor.getInput());
  int64_t rank = input.getRank();
  ArrayRef<int64_t> pads = adaptor.getPads();
  if ((int64_t)pads.size() != 2 * rank)
    return opError(name, loc, "pads has " + Twine(pads.size()) +
                                  " entries, expected " + Twine(2 * rank));
  if (!llvm::is_contained({"constant", "reflect", "edge", "wrap"},
                          adaptor.getMode()))
    return opError(name, loc, "unknown mode '" + adaptor.getMode() + "'");
  if (Value v = adaptor.getValue()) {
    auto t = tensorOf(v);
    if (t.getNumElements() != 1 || t.getElementType() != input.getElementType())
      return opError(name, loc, "value must be one element of the input type");
  }
  SmallVector<int64_t> out;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t e = input.getDimSize(d);
    e = ShapedType::isDynamic(e) ? kDyn : e + pads[d] + pads[d + rank];
    if (!ShapedType::isDynamic(e) && e < 0)
      return opError(name, loc, "pads make dim " + Twine(d) + " negative");
    out.push_back(e);
  }
  types.push_back(RankedTensorType::get(out, input.getElementType()));
  return success();
}

LogicalResult RangeOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                        Adaptor adaptor, Types &types) {
  StringRef name = getOperationName();
  Type elt = tensorOf(adaptor.getStart()).getElementType();
  for (Value v : adaptor.getOperands()) {
    auto t = tensorOf(v);
    if (t.getNumElements() != 1 || t.getElementType() != elt)
      return opError(name, loc, "start, limit and delta must be scalars of "
                                "one element type");
  }
  int64_t n = kDyn;
  DenseElementsAttr s, l, d;
  if (matchPattern(adaptor.getStart(), m_Constant(&s)) &&
      matchPattern(adaptor.getLimit(), m_Constant(&l)) &&
      matchPattern(adaptor.getDelta(), m_Constant(&d))) {
    auto scalar = [](DenseElementsAttr a) -> double {
      if (isa<FloatType>(a.getElementType()))
        return (*a.getValues<APFloat>().begin()).convertToDouble();
      return (double)(*a.getValues<APInt>().begin()).getSExtValue();
    };
    double delta = scalar(d);
    if (delta == 0)
      return opError(name, loc, "delta must be non-zero");
    n = std::max<int64_t>(0, (int64_t)std::ceil((scalar(l) - scalar(s)) / delta));
  }
  types.push_back(RankedTensorType::get({n}, elt));
  return success();
}

LogicalResult ConstantOfShapeOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                                  Adaptor adaptor,
                                                  Types &types) {
  StringRef name = getOperationName();
  if (failed(requireShapeOperand(name, loc, "shape", adaptor.getShape())))
    return failure();
  auto value = adaptor.getValue();
  if (value.getNumElements() != 1)
    return opError(name, loc, "value must have exactly one element");
  auto dims = *getShapeEntries(adaptor.getShape());
  for (int64_t d : dims)
    if (!ShapedType::isDynamic(d) && d < 0)
      return opError(name, loc, "shape " + dimsToString(dims) +
                                    " has a negative dim");
  types.push_back(RankedTensorType::get(dims, value.getElementType()));
  return success();
}

LogicalResult TriluOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                        Adaptor adaptor, Types &types) {
  auto input = tensorOf(adaptor.getInput());
  if (input.getRank() < 2)
    return opError(getOperationName(), loc, "input must have rank >= 2");
  if (Value k = adaptor.getK())
    if (tensorOf(k).getNumElements() != 1 ||
        !tensorOf(k).getElementType().isInteger(64))
      return opError(getOperationName(), loc, "k must be one i64 element");
  types.push_back(input);
  return success();
}
