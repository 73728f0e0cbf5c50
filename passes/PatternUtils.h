//===- PatternUtils.h - helpers for kiln fusion patterns --------*- C++ -*-===//
//
// Matching constant scalars and single-use chains, shared by the fusion
// passes.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_PATTERNUTILS_H
#define KILN_PASSES_PATTERNUTILS_H

#include "dialects/kiln/KilnDialect.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

#include <cmath>
#include <optional>
#include <vector>

namespace mlir::kiln {

/// Constants a pass makes with at most this many elements are dense
/// attributes (readable, foldable); larger ones are resources, as the
/// importer keeps them.
constexpr int64_t kInlineElements = 256;

/// The bytes of a constant's elements in row-major order (a splat
/// expanded into `storage`), or nullopt for elements that are not whole
/// bytes or a resource without its blob.
inline std::optional<ArrayRef<char>> bytesOf(ConstantOp c,
                                      std::vector<char> &storage) {
  auto type = cast<RankedTensorType>(c.getType());
  unsigned bits = type.getElementTypeBitWidth();
  if (bits % 8 != 0 || !type.hasStaticShape())
    return std::nullopt;
  size_t size = (size_t)type.getNumElements() * (bits / 8);
  if (auto res = dyn_cast<DenseResourceElementsAttr>(c.getValue())) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != size)
      return std::nullopt;
    return blob->getData();
  }
  auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
  if (!dense)
    return std::nullopt;
  ArrayRef<char> raw = dense.getRawData();
  if (dense.isSplat() && raw.size() == bits / 8) {
    storage.clear();
    for (size_t i = 0; i < size; i += raw.size())
      storage.insert(storage.end(), raw.begin(), raw.end());
    return ArrayRef<char>(storage);
  }
  if (raw.size() != size)
    return std::nullopt;
  return raw;
}

/// The value of a one-element (or splat) float constant.
inline std::optional<double> scalarValue(Value v) {
  DenseFPElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  if (!attr.isSplat() && attr.getNumElements() != 1)
    return std::nullopt;
  return (*attr.getValues<APFloat>().begin()).convertToDouble();
}

/// `want` rounded to the nearest value of `sem` (fp16, bf16).
inline double roundedTo(double want, const llvm::fltSemantics &sem) {
  bool lost = false;
  APFloat v(want);
  v.convert(sem, APFloat::rmNearestTiesToEven, &lost);
  return v.convertToDouble();
}

/// True when `v` is a constant scalar within 1e-4 (relative) of `want`, or
/// `want` rounded to fp16 or bf16: the constants of a model exported in
/// half precision, widened to f32 (kiln-widen-half), where sqrt(2) is
/// 1.4140625 in fp16.
inline bool isScalar(Value v, double want) {
  auto got = scalarValue(v);
  return got &&
         (std::abs(*got - want) <= 1e-4 * std::max(1.0, std::abs(want)) ||
          *got == roundedTo(want, APFloat::IEEEhalf()) ||
          *got == roundedTo(want, APFloat::BFloat()));
}

/// The operand of binary `op` that is not `known`, if `known` is one.
inline Value otherOperand(Operation *op, Value known) {
  if (op->getOperand(0) == known)
    return op->getOperand(1);
  if (op->getOperand(1) == known)
    return op->getOperand(0);
  return {};
}

/// A constant of ones with `type`'s static shape (null if not static).
inline Value onesLike(OpBuilder &b, Location loc, RankedTensorType type) {
  if (!type.hasStaticShape())
    return {};
  auto attr = DenseElementsAttr::get(
      type, b.getFloatAttr(type.getElementType(), 1.0));
  return ConstantOp::create(b, loc, cast<ElementsAttr>(attr));
}

} // namespace mlir::kiln

#endif // KILN_PASSES_PATTERNUTILS_H
