//===- KilnPadFolds.cpp - zero pads taken into convolutions and poolings --===//
//
// Exporters write padding as a separate Pad in front of a convolution or
// an average pooling: tf2onnx for TensorFlow's "SAME" padding at stride 2,
// torch at older opsets for avg_pool2d with count_include_pad (Inception-v3's
// nine 3 x 3 poolings), and models written by hand. A constant-zero Pad of
// the spatial dims only, used by nothing else, becomes the op's own pads:
//   - kiln.conv: pads added (a zero pad is the convolution's padding);
//   - kiln.average_pool without ceil_mode whose padding counts
//     (count_include_pad) or that has none: pads added, count_include_pad
//     set (the divisor counted the Pad's zeros, and still does). With
//     ceil_mode a last window is kept only if it starts inside the input
//     or its begin pad, which moving the pads would change.
// The padded copy is not made any more.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnDialect.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The spatial begin and end pads of a constant-zero `kiln.pad` of a float
/// rank >= 3 NC... tensor that pads no batch or channel, used only once; empty
/// otherwise.
SmallVector<int64_t> zeroSpatialPads(Value v) {
  auto pad = v.getDefiningOp<PadOp>();
  if (!pad || !pad->hasOneUse() || pad.getMode() != "constant" ||
      !isa<FloatType>(getElementTypeOrSelf(v.getType())))
    return {};
  if (Value z = pad.getValue())
    if (!matchPattern(z, m_AnyZeroFloat()) && !matchPattern(z, m_Zero()))
      return {};
  ArrayRef<int64_t> p = pad.getPads();
  int64_t rank = (int64_t)p.size() / 2;
  if (rank < 3 || p[0] != 0 || p[1] != 0 || p[rank] != 0 || p[rank + 1] != 0 ||
      llvm::any_of(p, [](int64_t x) { return x < 0; }))
    return {};
  SmallVector<int64_t> s(p.begin() + 2, p.begin() + rank);
  s.append(p.begin() + rank + 2, p.end());
  return s;
}

/// `pads` (begins, then ends, of the spatial dims) plus `extra`.
SmallVector<int64_t> addPads(ArrayRef<int64_t> pads, ArrayRef<int64_t> extra) {
  SmallVector<int64_t> r(pads);
  for (auto [a, b] : llvm::zip(r, extra))
    a += b;
  return r;
}

struct ConvAbsorbsPad final : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvOp op, PatternRewriter &rewriter) const override {
    SmallVector<int64_t> extra = zeroSpatialPads(op.getInput());
    if (extra.empty() || extra.size() != op.getPads().size())
      return rewriter.notifyMatchFailure(op, "input is not a zero spatial pad");
    auto pad = op.getInput().getDefiningOp<PadOp>();
    rewriter.modifyOpInPlace(op, [&] {
      op.setPads(addPads(op.getPads(), extra));
      op.getInputMutable().assign(pad.getInput());
    });
    rewriter.eraseOp(pad);
    return success();
  }
};

struct AveragePoolAbsorbsPad final : OpRewritePattern<AveragePoolOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AveragePoolOp op,
                                PatternRewriter &rewriter) const override {
    SmallVector<int64_t> extra = zeroSpatialPads(op.getInput());
    if (extra.empty() || extra.size() != op.getPads().size())
      return rewriter.notifyMatchFailure(op, "input is not a zero spatial pad");
    // with ceil_mode the last window's start is checked against the
    // input's end, which moves: the output extent could change
    if (op.getCeilMode())
      return rewriter.notifyMatchFailure(op, "ceil_mode");
    if (!op.getCountIncludePad() &&
        llvm::any_of(op.getPads(), [](int64_t p) { return p != 0; }))
      return rewriter.notifyMatchFailure(
          op, "its own padding is not counted, the pad's zeros are");
    auto pad = op.getInput().getDefiningOp<PadOp>();
    rewriter.modifyOpInPlace(op, [&] {
      op.setPads(addPads(op.getPads(), extra));
      op.setCountIncludePad(true);
      op.getInputMutable().assign(pad.getInput());
    });
    rewriter.eraseOp(pad);
    return success();
  }
};

} // namespace

void ConvOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                         MLIRContext *ctx) {
  results.add<ConvAbsorbsPad>(ctx);
}

void AveragePoolOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                                MLIRContext *ctx) {
  results.add<AveragePoolAbsorbsPad>(ctx);
}
