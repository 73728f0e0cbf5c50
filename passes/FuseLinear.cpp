//===- FuseLinear.cpp - the kiln-fuse-linear pass -------------------------===//
//
// A matmul by a 2-D weight with its epilogue: a transposed weight (Gemm's
// transB, torch Linear's weight.T), a bias add, an activation and a residual
// add become one kiln.linear.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/PatternReport.h"
#include "passes/PatternUtils.h"
#include "passes/ShapeTrace.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNFUSELINEAR
#include "passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The single user of `v` when it is an `OpTy`.
template <typename OpTy>
OpTy soleUser(Value v) {
  if (!v.hasOneUse())
    return {};
  return dyn_cast<OpTy>(*v.getUsers().begin());
}

/// kiln.linear's name for the activation `op` computes, or "none".
StringRef activationOf(Operation *op) {
  if (auto g = dyn_cast<GeluOp>(op))
    return g.getTanhApprox() ? "gelu_tanh" : "gelu";
  if (isa<ReluOp>(op))
    return "relu";
  if (isa<SiluOp>(op))
    return "silu";
  return "none";
}

struct FuseLinear final : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp mm,
                                PatternRewriter &rewriter) const override {
    auto xt = cast<RankedTensorType>(mm.getLhs().getType());
    auto wt = cast<RankedTensorType>(mm.getRhs().getType());
    if (xt.getRank() < 2 || wt.getRank() != 2 ||
        !isa<FloatType>(xt.getElementType()))
      return rewriter.notifyMatchFailure(mm, "not [..., K] x [K, N] float");
    Value weight = mm.getRhs();
    bool transposed = false;
    auto tr = weight.getDefiningOp<TransposeOp>();
    if (tr && tr.getPerm() == ArrayRef<int64_t>{1, 0}) {
      weight = tr.getInput();
      transposed = true;
    }
    int64_t n = wt.getDimSize(1);
    Operation *last = mm;
    Value cur = mm.getResult(), bias, residual;
    if (auto add = soleUser<AddOp>(cur)) {
      Value b = otherOperand(add, cur);
      auto bt = cast<RankedTensorType>(b.getType());
      if (bt.getRank() == 1 && add.getType() == cur.getType() &&
          (bt.getDimSize(0) == n || bt.getDimSize(0) == 1)) {
        bias = b;
        last = add;
        cur = add.getResult();
      }
    }
    StringRef act = "none";
    if (Operation *user = cur.hasOneUse() ? *cur.getUsers().begin() : nullptr) {
      act = activationOf(user);
      if (act != "none") {
        last = user;
        cur = user->getResult(0);
      }
    }
    if (auto add = soleUser<AddOp>(cur)) {
      Value r = otherOperand(add, cur);
      if (r != cur && r.getType() == cur.getType() &&
          add.getType() == cur.getType() && r.getDefiningOp() != mm) {
        residual = r;
        last = add;
      }
    }
    if (!transposed && !bias && !residual && act == "none")
      return rewriter.notifyMatchFailure(mm, "no epilogue to fuse");
    rewriter.setInsertionPoint(last);
    // Both node names stay in the location (--keep-fp32 names the MatMul).
    auto op = LinearOp::create(
        rewriter, rewriter.getFusedLoc({mm.getLoc(), last->getLoc()}),
        TypeRange{last->getResult(0).getType()},
        mm.getLhs(), weight, bias, residual, transposed,
        rewriter.getStringAttr(act));
    rewriter.replaceOp(last, op.getResult());
    return success();
  }
};

/// reshape(linear(reshape(x, [M, K])), [..., N]) where the outer reshape
/// restores x's leading dims (GPT-2's Conv1D flattens around its addmm):
/// linear(x) directly, so the activation after it can fuse too.
struct UnflattenLinear final : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp outer,
                                PatternRewriter &rewriter) const override {
    auto lin = outer.getInput().getDefiningOp<LinearOp>();
    if (!lin || !lin->hasOneUse() || lin.getResidual())
      return rewriter.notifyMatchFailure(outer, "not a reshape of a linear");
    auto flat = lin.getInput().getDefiningOp<ReshapeOp>();
    if (!flat || !flat->hasOneUse())
      return rewriter.notifyMatchFailure(outer, "linear input not flattened");
    Value x = flat.getInput();
    auto xt = cast<RankedTensorType>(x.getType());
    auto ft = cast<RankedTensorType>(flat.getType());
    auto ot = outer.getType();
    int64_t r = xt.getRank();
    if (r < 3 || ft.getRank() != 2 || ot.getRank() != r ||
        ShapedType::isDynamic(xt.getShape().back()) ||
        xt.getShape().back() != ft.getShape().back() ||
        ot.getShape().back() != lin.getType().getShape().back())
      return rewriter.notifyMatchFailure(outer, "not a flatten of leading dims");
    for (int64_t i = 0; i < r - 1; ++i)
      if (!(canonicalDim(outer.getResult(), i) == canonicalDim(x, i)))
        return rewriter.notifyMatchFailure(outer, "leading dims not restored");
    rewriter.replaceOpWithNewOp<LinearOp>(
        outer, ot, x, lin.getWeight(), lin.getBias(), Value(),
        lin.getTransposeWeight(), lin.getActivationAttr());
    return success();
  }
};

/// A linear whose result feeds only an activation (when it has none yet and
/// no residual) or a residual add (when it has no residual): absorbs it.
struct ExtendLinear final : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp lin,
                                PatternRewriter &rewriter) const override {
    if (lin.getResidual() || !lin->hasOneUse())
      return rewriter.notifyMatchFailure(lin, "has a residual or other uses");
    Operation *user = *lin->getUsers().begin();
    StringRef act = lin.getActivation();
    Value residual;
    if (act == "none")
      act = activationOf(user);
    if (act == lin.getActivation()) {
      auto add = dyn_cast<AddOp>(user);
      Value r = add ? otherOperand(add, lin.getResult()) : Value();
      if (!r || r == lin.getResult() || r.getType() != lin.getType() ||
          add.getType() != lin.getType())
        return rewriter.notifyMatchFailure(lin, "nothing to absorb");
      residual = r;
    }
    rewriter.setInsertionPoint(user);
    auto op = LinearOp::create(rewriter,
                               rewriter.getFusedLoc({lin.getLoc(), user->getLoc()}),
                               TypeRange{user->getResult(0).getType()},
                               lin.getInput(), lin.getWeight(), lin.getBias(),
                               residual, lin.getTransposeWeight(),
                               rewriter.getStringAttr(act));
    rewriter.replaceOp(user, op.getResult());
    return success();
  }
};

struct KilnFuseLinear final
    : mlir::kiln::impl::KilnFuseLinearBase<KilnFuseLinear> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseLinear, UnflattenLinear, ExtendLinear>(&getContext());
    if (failed(applyAndRecord(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
