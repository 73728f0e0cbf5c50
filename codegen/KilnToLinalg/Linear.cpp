//===- Linear.cpp - kiln.linear -------------------------------------------===//
//
// input [..., K] is viewed as [M, K]; the accumulator starts from the bias
// broadcast to [M, N] (plus the residual when no activation follows), so the
// matmul adds its products onto it; an activation (then the residual) is one
// elementwise pass over the [M, N] result, before it is viewed as [..., N]. A transposed weight is transposed once
// per run, so every product is a linalg.matmul.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

struct LowerLinear final : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    OpBuilder &b = rewriter;
    Location loc = op.getLoc();
    Value x = op.getInput(), w = op.getWeight(), bias = op.getBias(),
          residual = op.getResidual();
    auto xt = cast<RankedTensorType>(x.getType());
    auto ot = op.getType();
    Type elt = ot.getElementType();
    bool tw = op.getTransposeWeight();
    StringRef act = op.getActivation();
    int64_t r = xt.getRank();
    int64_t kDim = tw ? 1 : 0, nDim = tw ? 0 : 1;
    if (xt.isDynamicDim(r - 1) ||
        cast<RankedTensorType>(w.getType()).isDynamicDim(kDim))
      checkDims(b, loc, dimValue(b, loc, x, r - 1), dimValue(b, loc, w, kDim));

    if (bias && cast<RankedTensorType>(bias.getType()).isDynamicDim(0))
      checkDims(b, loc, dimValue(b, loc, bias, 0), dimValue(b, loc, w, nDim));

    // [..., K] -> [M, K]
    int64_t m = 1;
    Value mv = arith::ConstantIndexOp::create(b, loc, 1);
    for (int64_t d = 0; d < r - 1; ++d) {
      m = (m == ShapedType::kDynamic || xt.isDynamicDim(d))
              ? ShapedType::kDynamic
              : m * xt.getDimSize(d);
      mv = arith::MulIOp::create(b, loc, mv, dimValue(b, loc, x, d));
    }
    OpFoldResult mDim = m == ShapedType::kDynamic ? OpFoldResult(mv)
                                                  : b.getIndexAttr(m);
    OpFoldResult kSize = tensor::getMixedSize(b, loc, x, r - 1);
    OpFoldResult nSize = tensor::getMixedSize(b, loc, w, nDim);
    int64_t n = ot.getShape().back();
    auto x2t = RankedTensorType::get({m, xt.getShape().back()}, elt);
    Value x2 = reshapeTo(b, loc, x, x2t, {mDim, kSize});
    auto c2t = RankedTensorType::get({m, n}, elt);
    SmallVector<OpFoldResult> c2dims{mDim, nSize};
    SmallVector<OpFoldResult> outDims = getDims(b, loc, x);
    outDims.back() = nSize;

    // The accumulator's start: bias [+ residual] or zeros.
    SmallVector<Value> initIns;
    Value res2;
    if (residual && act == "none") {
      res2 = reshapeTo(b, loc, residual, c2t, c2dims);
      initIns.push_back(res2);
    }
    if (bias)
      initIns.push_back(bias);
    Value init;
    if (initIns.empty()) {
      init = filledTensor(b, loc, c2dims, scalarConst(b, loc, elt, 0));
    } else {
      init = buildElementwiseWithDims(
          b, loc, c2t, c2dims, initIns,
          [&](OpBuilder &g, Location l, ValueRange a) -> Value {
            return a.size() == 1 ? a[0]
                                 : arith::AddFOp::create(g, l, a[0], a[1])
                                       .getResult();
          });
    }

    // C[m, n] += X[m, k] * W[k, n]
    // A transposed weight is transposed once per run (O(N*K), against the
    // matmul's O(M*N*K)) so the product is a plain linalg.matmul, which the
    // CPU pipeline tiles and vectorizes.
    Value wk = w;
    if (tw) {
      SmallVector<OpFoldResult> wdims{kSize, nSize};
      Value empty = tensor::EmptyOp::create(b, loc, wdims, elt);
      wk = linalg::TransposeOp::create(b, loc, w, empty,
                                       ArrayRef<int64_t>{1, 0})
               .getResult()[0];
    }
    Value c = linalg::MatmulOp::create(b, loc, TypeRange{init.getType()},
                                       ValueRange{x2, wk}, ValueRange{init})
                  .getResult(0);
    // The epilogue on the [M, N] result, before the reshape back: kiln ops,
    // lowered by their own patterns (and fused into one pass by elementwise
    // fusion), reading the matmul's result directly, which lets the CUDA
    // pipeline apply them in the matmul kernel's epilogue.
    Value y = c;
    if (act == "relu")
      y = ReluOp::create(b, loc, y);
    else if (act == "silu")
      y = SiluOp::create(b, loc, y);
    else if (act == "gelu" || act == "gelu_tanh")
      y = GeluOp::create(b, loc, y.getType(), y, act == "gelu_tanh");
    if (residual && act != "none")
      y = AddOp::create(b, loc, y, reshapeTo(b, loc, residual, c2t, c2dims));
    y = reshapeTo(b, loc, y, RankedTensorType::get(ot.getShape(), elt),
                  outDims);
    if (y.getType() != ot)
      y = tensor::CastOp::create(b, loc, ot, y);
    rewriter.replaceOp(op, y);
    return success();
  }
};

} // namespace

void lowering::populateLinearPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerLinear>(patterns.getContext());
}
