//===- RefineTypes.cpp - re-infer kiln result types -----------------------===//
//
// Implements -kiln-refine-types: after folding, adopt the more static result
// types kiln ops now infer, keeping non-kiln users on the old type via
// tensor.cast.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNREFINETYPES
#include "passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// True when `refined` is `current` with some `?` dims made static.
bool isRefinement(Type current, Type refined) {
  auto c = dyn_cast<RankedTensorType>(current);
  auto r = dyn_cast<RankedTensorType>(refined);
  if (!c || !r || c == r || c.getRank() != r.getRank() ||
      c.getElementType() != r.getElementType())
    return false;
  for (auto [a, b] : llvm::zip(c.getShape(), r.getShape()))
    if (!ShapedType::isDynamic(a) && a != b)
      return false;
  return true;
}

/// The result types `op` would infer now, or failure. kiln.cast takes its
/// input's shape (its verifier wants the two equal) with its own element
/// type; it has no inference of its own since the element type is only in
/// the result.
LogicalResult inferNow(Operation *op, SmallVectorImpl<Type> &inferred) {
  if (auto cast = dyn_cast<CastOp>(op)) {
    inferred.push_back(RankedTensorType::get(
        cast.getInput().getType().getShape(),
        cast.getResult().getType().getElementType()));
    return success();
  }
  auto infer = dyn_cast<InferTypeOpInterface>(op);
  if (!infer)
    return failure();
  return infer.inferReturnTypes(op->getContext(), op->getLoc(),
                                op->getOperands(), op->getRawDictionaryAttrs(),
                                op->getPropertiesStorage(), op->getRegions(),
                                inferred);
}

struct KilnRefineTypes final
    : mlir::kiln::impl::KilnRefineTypesBase<KilnRefineTypes> {
  void runOnOperation() override {
    getOperation()->walk([&](Operation *op) {
      if (!isa_and_present<KilnDialect>(op->getDialect()))
        return;
      SmallVector<Type> inferred;
      if (failed(inferNow(op, inferred)))
        return;
      for (auto [result, type] : llvm::zip(op->getResults(), inferred)) {
        Type old = result.getType();
        if (!isRefinement(old, type))
          continue;
        result.setType(type);
        // Non-kiln users were verified against the old type: give them a cast.
        tensor::CastOp cast;
        for (OpOperand &use : llvm::make_early_inc_range(result.getUses())) {
          if (isa<KilnDialect>(use.getOwner()->getDialect()))
            continue;
          if (!cast) {
            OpBuilder b(op->getContext());
            b.setInsertionPointAfter(op);
            cast = tensor::CastOp::create(b, op->getLoc(), old, result);
          }
          use.set(cast);
        }
      }
    });
  }
};

} // namespace
