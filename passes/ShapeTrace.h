//===- ShapeTrace.h - symbolic extents of kiln values -----------*- C++ -*-===//
//
// A small symbolic view of tensor extents for the graph passes: an extent is
// a constant or "dim i of value v" followed back through the ops that keep
// it (unsqueeze, transpose, elementwise ops, matmul, expand, reshape,
// gather, rotary embedding, ...), so two extents that are provably equal
// compare equal. Model inputs' dims with the same name (`kiln.dims`) are
// one extent: the runtime checks them equal before a run. Shape tensors
// (the 1-D i64 values exporters build with Shape/Gather/Concat) are traced
// to one symbolic extent per entry.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_SHAPETRACE_H
#define KILN_PASSES_SHAPETRACE_H

#include "dialects/kiln/KilnDialect.h"

#include <optional>

namespace mlir::kiln {

/// A constant (`root` null, value `index`) or dim `index` of `root`.
struct SymDim {
  Value root;
  int64_t index = 0;
  static SymDim constant(int64_t c) { return {Value(), c}; }
  bool isConstant() const { return !root; }
  bool operator==(const SymDim &o) const {
    return root == o.root && index == o.index;
  }
};

/// The canonical symbolic extent of dim `d` of `x`.
SymDim canonicalDim(Value x, int64_t d);

/// The entries of a 0-D or 1-D integer shape tensor, each symbolic or unknown
/// (nullopt entry); nullopt when the tensor's length is not known.
std::optional<SmallVector<std::optional<SymDim>>> traceShape(Value shape);

} // namespace mlir::kiln

#endif // KILN_PASSES_SHAPETRACE_H
