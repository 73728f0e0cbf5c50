//===- Common.h - helpers shared by the kiln-to-linalg patterns -*- C++ -*-===//
//
// Builders for broadcasting elementwise generics, reductions and reshapes on
// tensors with dynamic dims, and the pattern-population entry points of each
// op family.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_KILNTOLINALG_COMMON_H
#define KILN_CODEGEN_KILNTOLINALG_COMMON_H

#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::kiln::lowering {

/// The extents of `v` as OpFoldResults (constants where static).
SmallVector<OpFoldResult> getDims(OpBuilder &b, Location loc, Value v);

/// Calls the runtime hook that fails the run when extents `a` and `b`
/// (index values) differ.
void checkDims(OpBuilder &b, Location loc, Value a, Value other);

/// Checks at run time that extent `da` of `a` equals (or, with `atMost`,
/// does not exceed) extent `db` of `o`; nothing when both are static (the
/// op's verifier has checked those).
void checkExtent(OpBuilder &b, Location loc, Value a, int64_t da, Value o,
                 int64_t db, bool atMost = false);

/// An index constant.
inline Value idx(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// An index Value for one extent.
Value dimValue(OpBuilder &b, Location loc, Value v, int64_t dim);

/// A numpy-broadcasting elementwise linalg.generic producing `resultType`;
/// `body` gets the scalar operands (in input element types) and returns the
/// result scalar. Dynamic result dims come from the first operand whose dim
/// is not statically 1; a dynamic dim that is 1 at run time while the
/// result's is not is not broadcast (as in torch-mlir).
Value buildElementwise(
    OpBuilder &b, Location loc, RankedTensorType resultType, ValueRange inputs,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body);

/// Like buildElementwise, with the result's extents given explicitly.
Value buildElementwiseWithDims(
    OpBuilder &b, Location loc, RankedTensorType resultType,
    ArrayRef<OpFoldResult> dims, ValueRange inputs,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body);

/// An integer index element as `index`, negatives counted from `dim`, out
/// of range clamped to [0, dim - 1] (bad input never reads out of bounds).
Value wrapIndex(OpBuilder &b, Location loc, Value v, Value dim);

/// An index Value from a 0-D/1-element or 1-D integer tensor entry.
Value extractIndex(OpBuilder &b, Location loc, Value tensor, int64_t pos);

/// A linalg.generic reducing `axes` (sorted) of `input` with `combine`,
/// starting from `init`; the result drops the reduced dims.
Value buildReduction(OpBuilder &b, Location loc, Value input,
                     ArrayRef<int64_t> axes, TypedAttr init,
                     function_ref<Value(OpBuilder &, Location, Value, Value)>
                         combine);

/// Reshapes `v` to `type` whose dynamic extents are `dims` (tensor.reshape).
Value reshapeTo(OpBuilder &b, Location loc, Value v, RankedTensorType type,
                ArrayRef<OpFoldResult> dims);

/// acc + a * b for reduction bodies, with `reassoc` and `contract` so LLVM
/// may vectorize the reduction and use FMAs (the summation order is free).
Value mulAddReassoc(OpBuilder &b, Location loc, Value acc, Value x, Value y);
/// acc + x with `reassoc` (a reassociable sum).
Value addReassoc(OpBuilder &b, Location loc, Value acc, Value x);

/// A tensor of extents `dims` filled with the scalar `value`
/// (tensor.empty + linalg.fill).
Value filledTensor(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> dims,
                   Value value);

/// A scalar constant of `type` (float or integer) with value `v`.
Value scalarConst(OpBuilder &b, Location loc, Type type, double v);

/// The lowest (for max) or highest (for min) value of `type`.
TypedAttr extremeAttr(Type type, bool lowest);

/// An unsigned integer scalar as a signless one of the same width (arith
/// takes no ui types); other values unchanged.
Value toSignless(OpBuilder &b, Location loc, Value v);
/// Whether `v` holds an unsigned (or i1) integer, directly or as the
/// signless stand-in of an elementwise body's unsigned operand (registered
/// while buildElementwise builds that body).
bool isUnsignedValue(Value v);

/// Converts a scalar between element types with ONNX Cast semantics.
Value castScalar(OpBuilder &b, Location loc, Value v, Type to);

void populateElementwisePatterns(RewritePatternSet &patterns);
void populateTensorPatterns(RewritePatternSet &patterns);
/// Reshape, Flatten, Unsqueeze, Squeeze (Reshape.cpp; added by
/// populateTensorPatterns).
void populateReshapePatterns(RewritePatternSet &patterns);
/// DepthToSpace/SpaceToDepth, OneHot, GatherND, scatters, TopK, CumSum, and
/// the sampling patterns below.
void populateIndexingPatterns(RewritePatternSet &patterns);
/// Resize, GridSample, Random (Sampling.cpp; added by
/// populateIndexingPatterns).
void populateSamplingPatterns(RewritePatternSet &patterns);
void populateLinalgPatterns(RewritePatternSet &patterns);
/// Conv, ConvTranspose, MaxPool/AveragePool.
void populateConvPatterns(RewritePatternSet &patterns);
/// kiln.layer_norm / kiln.rms_norm as a statistics pass and a normalize pass.
void populateNormPatterns(RewritePatternSet &patterns);
/// kiln.rotary_embedding as one elementwise pass.
void populateRotaryPatterns(RewritePatternSet &patterns);
/// kiln.linear as one matmul with its epilogue.
void populateLinearPatterns(RewritePatternSet &patterns);
/// kiln.einsum as one linalg.generic (outer products, contractions, sums).
void populateEinsumPatterns(RewritePatternSet &patterns);
/// kiln.attention as a loop over blocks of `keyBlock` keys.
void populateAttentionPatterns(RewritePatternSet &patterns, int64_t keyBlock);
/// kiln.if -> scf.if, kiln.loop -> scf.while (ControlFlow.cpp).
void populateControlFlowPatterns(RewritePatternSet &patterns);
/// Rewrites composite kiln ops (softmax, layer_norm, ...) into primitive kiln
/// ops before lowering.
void populateDecompositionPatterns(RewritePatternSet &patterns);

} // namespace mlir::kiln::lowering

#endif // KILN_CODEGEN_KILNTOLINALG_COMMON_H
