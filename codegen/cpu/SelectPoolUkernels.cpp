//===- SelectPoolUkernels.cpp - poolings and Resize onto runtime kernels --===//
//
// Part of kiln-cpu-select-ukernels (SelectUkernels.cpp): 2-D max, average
// and global average pooling (lib/Runtime/ukernels/pool_f32.c) and nearest
// / linear Resize of the last two dims (resize_f32.c), the ops that read a
// window or points of each plane.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/SelectUkernels.h"
#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/StringSwitch.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::cpu;

namespace {

/// kiln.max_pool / kiln.average_pool in f32, 2-D, with static output
/// height and width and no dilation -> kiln.ukernel "maxpool2d_f32" /
/// "avgpool2d_f32" (lib/Runtime/ukernels/pool_f32.c: row maxima or sums
/// along contiguous memory, padding clipped, no padded copy of the input).
/// int_params (isa, kernel h/w, stride h/w, pad top/left; averages also pad
/// bottom/right and count_include_pad, for the divisor); ceil_mode is in
/// the output's extents.
template <typename OpTy>
struct PoolToUkernel final : IsaPattern<OpTy> {
  using IsaPattern<OpTy>::IsaPattern;

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    constexpr bool isMax = std::is_same_v<OpTy, MaxPoolOp>;
    auto xt = cast<RankedTensorType>(op.getInput().getType());
    auto rt = op.getType();
    if (xt.getRank() != 4 || !xt.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "not a 2-D f32 pooling");
    if (rt.isDynamicDim(2) || rt.isDynamicDim(3))
      return rewriter.notifyMatchFailure(op, "output extent is dynamic");
    ArrayRef<int64_t> k = op.getKernelShape(), st = op.getStrides(),
                      pd = op.getPads(), dl = op.getDilations();
    if (k.size() != 2 || st.size() != 2 || pd.size() != 4 || dl.size() != 2)
      return rewriter.notifyMatchFailure(op, "not 2 spatial dims");
    if (dl[0] != 1 || dl[1] != 1)
      return rewriter.notifyMatchFailure(op, "dilated window");
    if (k[0] < 1 || k[1] < 1 || st[0] < 1 || st[1] < 1 ||
        llvm::any_of(pd, [](int64_t p) { return p < 0; }))
      return rewriter.notifyMatchFailure(op, "empty window or negative pad");
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> dims{
        tensor::getMixedSize(rewriter, loc, op.getInput(), 0),
        tensor::getMixedSize(rewriter, loc, op.getInput(), 1),
        rewriter.getIndexAttr(rt.getDimSize(2)),
        rewriter.getIndexAttr(rt.getDimSize(3))};
    SmallVector<int64_t> params{this->isaFlag, k[0], k[1], st[0], st[1], pd[0], pd[1]};
    if constexpr (!isMax)
      params.append({pd[2], pd[3], op.getCountIncludePad() ? 1 : 0});
    Value y = createUkernel(rewriter, loc, isMax ? "maxpool2d_f32" : "avgpool2d_f32",
                            {op.getInput()}, dims, params, {});
    replaceWithCast(rewriter, op, y);
    return success();
  }
};

/// Whether entry `i` of the 1-D shape vector `v` is extent `d` of `x`:
/// through kiln.shape, constant 1-D slices and concats (PyTorch's
/// interpolate exports Resize's sizes as Concat(Slice(Shape(x), 0, 2),
/// [H, W]), whose [N, C] stay dynamic in the types).
static bool entryIsDimOf(Value v, int64_t i, Value x, int64_t d) {
  Operation *def = v.getDefiningOp();
  if (auto shape = dyn_cast_or_null<ShapeOp>(def)) {
    int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
    int64_t start = (int64_t)shape.getStart();
    start = start < 0 ? start + rank : start;
    return shape.getInput() == x && start + i == d;
  }
  if (auto concat = dyn_cast_or_null<ConcatOp>(def)) {
    for (Value in : concat.getInputs()) {
      auto t = cast<RankedTensorType>(in.getType());
      if (t.getRank() != 1 || t.isDynamicDim(0))
        return false;
      if (i < t.getDimSize(0))
        return entryIsDimOf(in, i, x, d);
      i -= t.getDimSize(0);
    }
    return false;
  }
  if (auto slice = dyn_cast_or_null<SliceOp>(def)) {
    auto starts = getConstantIntValues(slice.getStarts());
    auto steps = getConstantIntValues(slice.getSteps());
    auto axes = getConstantIntValues(slice.getAxes());
    auto it = cast<RankedTensorType>(slice.getInput().getType());
    if (!starts || !steps || !axes || starts->size() != 1 || steps->size() != 1 ||
        axes->size() != 1 || ((*axes)[0] != 0 && (*axes)[0] != -1) ||
        (*steps)[0] < 1 || it.getRank() != 1 || it.isDynamicDim(0))
      return false;
    int64_t first = (*starts)[0] < 0 ? (*starts)[0] + it.getDimSize(0) : (*starts)[0];
    first = std::clamp<int64_t>(first, 0, it.getDimSize(0));
    return entryIsDimOf(slice.getInput(), first + i * (*steps)[0], x, d);
  }
  return false;
}

/// kiln.resize in nearest or linear mode of an f32 [N, C, H, W] tensor that
/// resizes H and W only, to static extents, with scales known at compile
/// time (or sizes) -> kiln.ukernel "resize2d_f32"
/// (lib/Runtime/ukernels/resize_f32.c: per-row and per-column tables, a
/// separable blend). int_params (isa, mode, coordinate transformation,
/// nearest mode), float_params (the scales of H and W, 0 for out / in).
/// Cubic mode and run-time scales keep the generic lowering.
struct ResizeToUkernel final : IsaPattern<ResizeOp> {
  using IsaPattern::IsaPattern;

  LogicalResult matchAndRewrite(ResizeOp op, PatternRewriter &rewriter) const override {
    Value x = op.getInput();
    auto xt = cast<RankedTensorType>(x.getType());
    auto rt = cast<RankedTensorType>(op.getType());
    if (xt.getRank() != 4 || !xt.getElementType().isF32() || !rt.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "not an f32 [N, C, H, W] resize");
    if (rt.isDynamicDim(2) || rt.isDynamicDim(3))
      return rewriter.notifyMatchFailure(op, "output extent is dynamic");
    if (op.getScalesInput())
      return rewriter.notifyMatchFailure(op, "scales read at run time");
    int64_t mode = llvm::StringSwitch<int64_t>(op.getMode())
                       .Case("nearest", 0).Case("linear", 1).Default(-1);
    int64_t ctm = llvm::StringSwitch<int64_t>(op.getCoordinateTransformationMode())
                      .Case("half_pixel", 0).Case("pytorch_half_pixel", 1)
                      .Case("asymmetric", 2).Case("tf_half_pixel_for_nn", 3)
                      .Case("align_corners", 4).Default(-1);
    int64_t nm = llvm::StringSwitch<int64_t>(op.getNearestMode())
                     .Case("round_prefer_floor", 0).Case("round_prefer_ceil", 1)
                     .Case("floor", 2).Case("ceil", 3).Default(-1);
    if (mode < 0 || ctm < 0 || (mode == 0 && nm < 0))
      return rewriter.notifyMatchFailure(op, "mode");
    SmallVector<float> fp{0.0f, 0.0f};
    if (std::optional<ArrayRef<float>> sc = op.getScales(); sc && !op.getSizes()) {
      if (sc->size() != 4 || (*sc)[0] != 1.0f || (*sc)[1] != 1.0f)
        return rewriter.notifyMatchFailure(op, "resizes N or C");
      fp = {(*sc)[2], (*sc)[3]};
    } else if (Value sizes = op.getSizes()) {
      for (int64_t d = 0; d < 2; ++d) {
        bool same = (!xt.isDynamicDim(d) && !rt.isDynamicDim(d) &&
                     xt.getDimSize(d) == rt.getDimSize(d)) ||
                    entryIsDimOf(sizes, d, x, d);
        if (!same)
          return rewriter.notifyMatchFailure(op, "N or C may be resized");
      }
    } else {
      return rewriter.notifyMatchFailure(op, "needs sizes or scales");
    }
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> dims{tensor::getMixedSize(rewriter, loc, x, 0),
                                   tensor::getMixedSize(rewriter, loc, x, 1),
                                   rewriter.getIndexAttr(rt.getDimSize(2)),
                                   rewriter.getIndexAttr(rt.getDimSize(3))};
    Value y = createUkernel(rewriter, loc, "resize2d_f32", {x}, dims,
                            {isaFlag, mode, ctm, mode == 0 ? nm : 0}, fp);
    replaceWithCast(rewriter, op, y);
    return success();
  }
};

/// kiln.global_average_pool in f32 on [N, C, H, W] -> kiln.ukernel
/// "global_avgpool_f32" (lib/Runtime/ukernels/pool_f32.c: each plane summed
/// along contiguous memory; the linalg lowering's reduction vectorized
/// across planes with a gather per element). int_params (isa).
struct GlobalAvgPoolToUkernel final : IsaPattern<GlobalAveragePoolOp> {
  using IsaPattern::IsaPattern;

  LogicalResult matchAndRewrite(GlobalAveragePoolOp op,
                                PatternRewriter &rewriter) const override {
    auto xt = cast<RankedTensorType>(op.getInput().getType());
    if (xt.getRank() != 4 || !xt.getElementType().isF32() ||
        !op.getType().getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "not a 2-D f32 global average pool");
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> dims{
        tensor::getMixedSize(rewriter, loc, op.getInput(), 0),
        tensor::getMixedSize(rewriter, loc, op.getInput(), 1),
        rewriter.getIndexAttr(1), rewriter.getIndexAttr(1)};
    Value y = createUkernel(rewriter, loc, "global_avgpool_f32", {op.getInput()},
                            dims, {isaFlag}, {});
    replaceWithCast(rewriter, op, y);
    return success();
  }
};

} // namespace

void mlir::kiln::cpu::populatePoolUkernelPatterns(RewritePatternSet &patterns,
                                                 int64_t isaFlag) {
  patterns.add<PoolToUkernel<MaxPoolOp>, PoolToUkernel<AveragePoolOp>,
               GlobalAvgPoolToUkernel, ResizeToUkernel>(patterns.getContext(),
                                                        isaFlag);
}
