//===- SelectUkernels.h - helpers of the kiln-cpu-select-ukernels pass ----===//
//
// The pass's patterns live in SelectUkernels.cpp (attention, norms, dense
// layers, convolutions) and SelectQuantUkernels.cpp (quantized matmuls);
// these build the kiln.ukernel ops they rewrite to.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_CPU_SELECTUKERNELS_H
#define KILN_CODEGEN_CPU_SELECTUKERNELS_H

#include "mlir/IR/PatternMatch.h"

#include <optional>

namespace mlir::kiln::cpu {

/// kiln.ukernel `kernel` on `ins` writing a fresh f32 tensor of extents
/// `dims`; returns its result.
Value createUkernel(PatternRewriter &rewriter, Location loc, StringRef kernel,
                    ValueRange ins, ArrayRef<OpFoldResult> dims,
                    ArrayRef<int64_t> intParams, ArrayRef<float> floatParams);

/// kiln.ukernel `kernel` on `ins` writing into `init` (a value of the
/// result's type); returns its result.
Value createUkernelInto(PatternRewriter &rewriter, Location loc,
                        StringRef kernel, ValueRange ins, Value init,
                        ArrayRef<int64_t> intParams, ArrayRef<float> floatParams);

/// Replaces `op` by `v`, cast to the op's (possibly more static) type.
void replaceWithCast(PatternRewriter &rewriter, Operation *op, Value v);

/// kiln.ukernel "linear_f32" on `x` viewed as [M, K] ([..., K] flattened)
/// with weight `w` ([K, N], [N, K] when `tw`), the operands `extra` right
/// after the weight, an optional bias and residual; returns y shaped
/// [..., N] like x.
Value linearUkernel(PatternRewriter &rewriter, Location loc, Value x, Value w,
                    bool tw, ValueRange extra, Value bias, Value residual,
                    ArrayRef<int64_t> intParams,
                    ArrayRef<float> floatParams = {});

/// kiln.attention -> kiln.ukernel "attention_f32" (f32, rank 3 or 4); with
/// maxHeadDim > 0 only when the query and value head dims are static and at
/// most maxHeadDim (the CUDA pipeline's fused kernel, kiln-gpu-attention).
void populateAttentionUkernelPattern(RewritePatternSet &patterns,
                                     int64_t isaFlag, int64_t maxHeadDim);

/// The single float value of a splat constant.
std::optional<double> splatOf(Value v);

/// v's defining op if it is an OpTy.
template <typename OpTy>
OpTy producer(Value v) {
  return v ? v.getDefiningOp<OpTy>() : OpTy();
}

/// A rewrite of OpTy that passes the target's isa (0 generic, 1 AVX2, 2
/// AVX-512) to the kernel it selects as its first int param.
template <typename OpTy>
struct IsaPattern : OpRewritePattern<OpTy> {
  IsaPattern(MLIRContext *ctx, int64_t isaFlag)
      : OpRewritePattern<OpTy>(ctx), isaFlag(isaFlag) {}
  int64_t isaFlag;
};

/// A per-tensor QuantizeLinear -> DequantizeLinear pair (u8) on an f32
/// activation as the importer spells it out: x, the scale and zero point
/// (SelectQuantUkernels.cpp).
struct StaticQuant {
  Value x;
  float scale = 0.0f, zp = 0.0f;
};
std::optional<StaticQuant> matchStaticQuantDequant(Value v);

/// A DequantizeLinear of a constant int8 convolution filter [F, C, KH, KW]
/// with zero point 0, per tensor or per filter (a scale of one value or F
/// values shaped [F] or [F, 1, 1, 1]): the int8 constant and F scales.
struct DequantFilter {
  Value wq;
  SmallVector<float> scales;
};
std::optional<DequantFilter> matchDequantFilter(Value w);

/// The filter `d` dequantized into an f32 constant (integers: its int8
/// values as they are, unscaled).
Value dequantizedFilter(PatternRewriter &rewriter, Location loc,
                        const DequantFilter &d, bool integers = false);

/// Stores an int8 convolution's output quantized (u8) where another int8
/// convolution is its only reader, which then reads it as its quantized
/// input (SelectConvUkernels.cpp). Run after the patterns.
void chainInt8Convs(Operation *root);

/// Folds a DequantizeLinear of a constant int8 convolution filter into an
/// f32 constant (pipelines without the int8 convolution kernel).
void populateFilterDequantPattern(RewritePatternSet &patterns);

/// The quantized-matmul patterns (SelectQuantUkernels.cpp).
void populateQuantUkernelPatterns(RewritePatternSet &patterns, int64_t isaFlag);

/// Convolutions, poolings and standalone batch norms onto the runtime's
/// CNN kernels (SelectConvUkernels.cpp).
void populateConvUkernelPatterns(RewritePatternSet &patterns, int64_t isaFlag);

/// 2-D max / average / global average pooling and nearest / linear Resize
/// of f32 NCHW onto the runtime's kernels (SelectPoolUkernels.cpp).
void populatePoolUkernelPatterns(RewritePatternSet &patterns, int64_t isaFlag);

} // namespace mlir::kiln::cpu

#endif
