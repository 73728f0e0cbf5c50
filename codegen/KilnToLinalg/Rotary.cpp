//===- Rotary.cpp - kiln.rotary_embedding ---------------------------------===//
//
// One elementwise pass over the input: each output feature reads its own
// input, its rotation partner (d +- R/2, or d xor 1 when interleaved) and
// cos/sin at that position; features past the rotary width pass through.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

struct LowerRotary final : OpRewritePattern<RotaryEmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RotaryEmbeddingOp op,
                                PatternRewriter &rewriter) const override {
    OpBuilder &b = rewriter;
    Location loc = op.getLoc();
    Value x = op.getInput(), cosT = op.getCos(), sinT = op.getSin();
    auto xt = cast<RankedTensorType>(x.getType());
    auto ct = cast<RankedTensorType>(cosT.getType());
    int64_t r = xt.getRank(), rc = ct.getRank();
    int64_t width = ct.getShape().back();
    bool interleaved = op.getInterleaved();
    Type elt = xt.getElementType();
    // cos/sin extents known only at run time must be the input's.
    for (int64_t j = 0; j + 1 < rc; ++j)
      if (ct.isDynamicDim(j))
        for (Value t : {cosT, sinT})
          checkDims(b, loc, dimValue(b, loc, t, j),
                    dimValue(b, loc, x, j + r - rc));
    if (xt.isDynamicDim(r - 1))
      checkDims(b, loc,
                arith::MaxSIOp::create(b, loc, dimValue(b, loc, x, r - 1),
                                       arith::ConstantIndexOp::create(b, loc, width)),
                dimValue(b, loc, x, r - 1));
    Value out = tensor::EmptyOp::create(b, loc, getDims(b, loc, x), elt);
    AffineMap id = b.getMultiDimIdentityMap(r);
    auto g = linalg::GenericOp::create(
        b, loc, TypeRange{out.getType()}, ValueRange{x}, ValueRange{out},
        ArrayRef<AffineMap>{id, id},
        SmallVector<utils::IteratorType>(r, utils::IteratorType::parallel),
        [&](OpBuilder &nb, Location l, ValueRange a) {
          auto cidx = [&](int64_t v) {
            return arith::ConstantIndexOp::create(nb, l, v).getResult();
          };
          SmallVector<Value> ix;
          for (int64_t d = 0; d < r; ++d)
            ix.push_back(linalg::IndexOp::create(nb, l, d));
          Value d = ix.back();
          Value w = cidx(width);
          Value inRot =
              arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, d, w);
          Value first;   // the feature takes -partner * sin
          Value partner;
          if (interleaved) {
            Value bit = arith::AndIOp::create(nb, l, d, cidx(1));
            first = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, bit,
                                          cidx(0));
            partner = arith::XOrIOp::create(nb, l, d, cidx(1));
          } else {
            Value half = cidx(width / 2);
            first = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, d,
                                          half);
            partner = arith::SelectOp::create(
                nb, l, first, arith::AddIOp::create(nb, l, d, half),
                arith::SubIOp::create(nb, l, d, half));
          }
          partner = arith::SelectOp::create(nb, l, inRot, partner, d);
          Value dc = arith::MinSIOp::create(nb, l, d, cidx(width - 1));
          SmallVector<Value> px(ix);
          px.back() = partner;
          Value xp = tensor::ExtractOp::create(nb, l, x, px);
          SmallVector<Value> cx;
          for (int64_t j = 0; j + 1 < rc; ++j)
            cx.push_back(ct.getDimSize(j) == 1 ? cidx(0) : ix[j + r - rc]);
          cx.push_back(dc);
          Value c = tensor::ExtractOp::create(nb, l, cosT, cx);
          Value s = tensor::ExtractOp::create(nb, l, sinT, cx);
          Value rot = arith::SelectOp::create(
              nb, l, first, arith::NegFOp::create(nb, l, xp), xp);
          Value y = arith::AddFOp::create(
              nb, l, arith::MulFOp::create(nb, l, a[0], c),
              arith::MulFOp::create(nb, l, rot, s));
          linalg::YieldOp::create(nb, l,
                                  arith::SelectOp::create(nb, l, inRot, y, a[0])
                                      .getResult());
        });
    rewriter.replaceOp(op, g.getResult(0));
    return success();
  }
};

} // namespace

void lowering::populateRotaryPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerRotary>(patterns.getContext());
}
