//===- KilnFoldUtils.h - constants helpers shared by the folders ----*- C++ -*-===//
//
// Private to dialects/kiln: KilnFolds.cpp (elementwise, comparison and cast
// folders) and KilnShapeFolds.cpp (shape-op folders and canonicalizations).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_KILNFOLDUTILS_H
#define KILN_DIALECTS_KILN_KILNFOLDUTILS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"

namespace mlir::kiln::folds {

/// Constants are only materialized below this many elements, so a folder
/// never creates a weight-sized tensor; splats are free at any size.
inline constexpr int64_t kFoldLimit = 1 << 14;

inline RankedTensorType staticType(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.hasStaticShape() ? t : RankedTensorType();
}

/// A constant operand as DenseElementsAttr (dense_resource does not qualify).
inline DenseElementsAttr denseOf(Attribute a) {
  return dyn_cast_or_null<DenseElementsAttr>(a);
}

inline bool small(DenseElementsAttr a) {
  return a && (a.isSplat() || a.getNumElements() <= kFoldLimit);
}

/// Row-major strides of a static shape.
inline SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> s(shape.size(), 1);
  for (int64_t i = (int64_t)shape.size() - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

} // namespace mlir::kiln::folds

#endif
