//===- ShapeUtils.h - helpers of kiln type inference -----------*- C++ -*-===//
//
// Small helpers shared by the files that implement kiln ops' inference
// (KilnShapes.cpp, KilnNNShapes.cpp, KilnShapeOps.cpp, KilnIndexShapes.cpp),
// and the einsum equation splitting the einsum lowering shares with them.
// Internal to the compiler.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_SHAPEUTILS_H
#define KILN_DIALECTS_KILN_SHAPEUTILS_H

#include "dialects/kiln/KilnDialect.h"

#include "llvm/Support/raw_ostream.h"

namespace mlir::kiln::detail {

inline constexpr int64_t kDyn = ShapedType::kDynamic;

/// An einsum equation with its spaces removed (`text`), split into the
/// operand terms and the output term; `explicitOut` is false without "->".
struct EinsumTerms {
  std::string text;
  SmallVector<std::string> inputs;
  std::string output;
  bool explicitOut = false;
};

inline EinsumTerms splitEinsumEquation(StringRef equation) {
  EinsumTerms e;
  for (char c : equation)
    if (c != ' ')
      e.text.push_back(c);
  StringRef lhs = e.text;
  if (size_t arrow = lhs.find("->"); arrow != StringRef::npos) {
    e.output = lhs.drop_front(arrow + 2).str();
    lhs = lhs.take_front(arrow);
    e.explicitOut = true;
  }
  SmallVector<StringRef> terms;
  lhs.split(terms, ',');
  for (StringRef t : terms)
    e.inputs.push_back(t.str());
  return e;
}

inline std::string dimsToString(ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "[";
  llvm::interleave(
      shape, os,
      [&](int64_t d) {
        if (ShapedType::isDynamic(d))
          os << "?";
        else
          os << d;
      },
      ", ");
  os << "]";
  return s;
}

inline RankedTensorType tensorOf(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}

/// Output extent of a sliding window; kDyn when the input extent is dynamic.
inline int64_t windowExtent(int64_t in, int64_t k, int64_t s, int64_t padBegin,
                            int64_t padEnd, int64_t d, bool ceilMode) {
  if (ShapedType::isDynamic(in))
    return kDyn;
  int64_t span = in + padBegin + padEnd - d * (k - 1) - 1;
  if (span < 0)
    return -1;
  int64_t out = (ceilMode ? (span + s - 1) / s : span / s) + 1;
  // With ceil mode a window that would start in the end padding is dropped.
  if (ceilMode && (out - 1) * s >= in + padBegin)
    --out;
  return out;
}

inline LogicalResult checkWindowAttrs(StringRef opName, OptLoc loc,
                                      int64_t spatial, ArrayRef<int64_t> strides,
                                      ArrayRef<int64_t> pads,
                                      ArrayRef<int64_t> dilations) {
  if ((int64_t)strides.size() != spatial || (int64_t)dilations.size() != spatial ||
      (int64_t)pads.size() != 2 * spatial)
    return opError(opName, loc,
                   "expected " + Twine(spatial) + " strides and dilations and " +
                       Twine(2 * spatial) + " pads, got " +
                       Twine(strides.size()) + ", " + Twine(dilations.size()) +
                       " and " + Twine(pads.size()));
  for (int64_t s : strides)
    if (s < 1)
      return opError(opName, loc, "strides must be >= 1, got " + Twine(s));
  for (int64_t d : dilations)
    if (d < 1)
      return opError(opName, loc, "dilations must be >= 1, got " + Twine(d));
  for (int64_t p : pads)
    if (p < 0)
      return opError(opName, loc, "pads must be >= 0, got " + Twine(p));
  return success();
}

inline LogicalResult checkAxis(StringRef opName, OptLoc loc, int64_t axis,
                               int64_t rank) {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    return opError(opName, loc,
                   "axis " + Twine(axis) + " is out of range for rank " +
                       Twine(rank));
  return success();
}

/// The entries of a 1-D integer shape operand, kDyn where unknown. Looks
/// through concat, unsqueeze and cast so partially known shapes stay partial
/// (KilnShapeOps.cpp).
std::optional<SmallVector<int64_t>> getShapeEntries(Value v);

/// An error unless `v` (the op `name`'s operand `what`) is a 1-D i64 tensor
/// of static length (KilnShapeOps.cpp).
LogicalResult requireShapeOperand(StringRef name, OptLoc loc, StringRef what,
                                  Value v);

} // namespace mlir::kiln::detail

#endif // KILN_DIALECTS_KILN_SHAPEUTILS_H
