//===- ConvertLoss.cpp - NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss ===//
//
// The training losses of the ONNX node tests, built from gather_elements,
// gather, where and reductions (split out of ConvertNN.cpp).
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

using namespace ::kiln::import;
namespace k = mlir::kiln;

namespace {

/// NegativeLogLikelihoodLoss on `input` [N, C, d...] (log-probabilities)
/// and integer `target` [N, d...]: loss = -input[n, target, d...] *
/// weight[target], 0 where target == ignore_index; reduced by `reduction`
/// (none, sum, or mean: the sum over the sum of the weights counted, or
/// over the count of targets when there are no weights and none ignored).
/// Built from gather_elements, gather, where and reductions.
static FailureOr<Value> nllLoss(NodeContext &c, Value input, Value target,
                                Value weight, StringRef reduction,
                                std::optional<int64_t> ignore) {
  auto it = c.typeOf(input), tt = c.typeOf(target);
  Type ft = it.getElementType();
  if (!isa<FloatType>(ft))
    return c.fail("input must be a float tensor");
  if (!isa<IntegerType>(tt.getElementType()))
    return c.fail("target must be an integer tensor");
  if (it.getRank() < 2 || tt.getRank() != it.getRank() - 1)
    return c.fail("input must be [N, C, d...] and target [N, d...]");
  if (reduction != "none" && reduction != "sum" && reduction != "mean")
    return c.fail("reduction must be none, sum or mean, got '" + reduction + "'");
  Value t = target, counted;
  if (ignore) {
    Value ig = c.scalarLike(tt.getElementType(), (double)*ignore);
    auto eq = c.make<k::EqualOp>(ValueRange{t, ig});
    if (failed(eq))
      return failure();
    auto keep = c.make<k::NotOp>(*eq);
    auto safe = c.make<k::WhereOp>(
        ValueRange{*eq, c.scalarLike(tt.getElementType(), 0.0), t});
    if (failed(keep) || failed(safe))
      return failure();
    counted = *keep;
    t = *safe;
  }
  auto idx = c.make<k::UnsqueezeOp>(t, {c.named("axes", c.b.getDenseI64ArrayAttr({1}))});
  if (failed(idx))
    return failure();
  auto picked = c.make<k::GatherElementsOp>(ValueRange{input, *idx},
                                             {c.named("axis", c.b.getI64IntegerAttr(1))});
  if (failed(picked))
    return failure();
  auto g = c.make<k::SqueezeOp>(*picked, {c.named("axes", c.b.getDenseI64ArrayAttr({1}))});
  if (failed(g))
    return failure();
  Value w; // per-element weight, or null for all ones
  if (weight) {
    auto wt = c.make<k::GatherOp>(ValueRange{weight, t},
                                  {c.named("axis", c.b.getI64IntegerAttr(0))});
    if (failed(wt))
      return failure();
    w = *wt;
  }
  if (counted) {
    auto shape = c.typeOf(counted).getShape();
    auto mf = c.createTyped<k::CastOp>(counted, {}, RankedTensorType::get(shape, ft));
    if (failed(mf))
      return failure();
    if (w) {
      auto m = c.make<k::MulOp>(ValueRange{w, (*mf)[0]});
      if (failed(m))
        return failure();
      w = *m;
    } else {
      w = (*mf)[0];
    }
  }
  auto loss = c.make<k::NegOp>(*g);
  if (failed(loss))
    return failure();
  if (w) {
    loss = c.make<k::MulOp>(ValueRange{*loss, w});
    if (failed(loss))
      return failure();
  }
  if (reduction == "none")
    return *loss;
  SmallVector<int64_t> all;
  for (int64_t d = 0; d < tt.getRank(); ++d)
    all.push_back(d);
  auto axes = c.named("axes", c.b.getDenseI64ArrayAttr(all));
  auto keep0 = c.named("keepdims", c.b.getBoolAttr(false));
  if (reduction == "mean" && !w)
    return c.make<k::ReduceMeanOp>(*loss, {axes, keep0});
  auto sum = c.make<k::ReduceSumOp>(*loss, {axes, keep0});
  if (failed(sum) || reduction == "sum")
    return sum;
  auto den = c.make<k::ReduceSumOp>(w, {axes, keep0});
  if (failed(den))
    return failure();
  return c.make<k::DivOp>(ValueRange{*sum, *den});
}

static FailureOr<std::optional<int64_t>> ignoreIndex(NodeContext &c) {
  if (!c.hasAttr("ignore_index"))
    return std::optional<int64_t>();
  auto v = c.getInt("ignore_index", 0);
  if (failed(v))
    return failure();
  return std::optional<int64_t>(*v);
}

} // namespace

void ::kiln::import::addLossConverters(llvm::StringMap<Converter> &m) {
  m["NegativeLogLikelihoodLoss"] = [](NodeContext &c) -> LogicalResult {
    auto red = c.getString("reduction", "mean");
    auto ig = ignoreIndex(c);
    if (failed(c.requireInputs(2)) || failed(red) || failed(ig))
      return failure();
    auto loss = nllLoss(c, c.input(0), c.input(1), c.input(2), *red, *ig);
    if (failed(loss))
      return failure();
    c.outputs.push_back(*loss);
    return success();
  };
  // loss = NLL(LogSoftmax(scores, axis 1), labels); the second output is
  // the log-probabilities.
  m["SoftmaxCrossEntropyLoss"] = [](NodeContext &c) -> LogicalResult {
    auto red = c.getString("reduction", "mean");
    auto ig = ignoreIndex(c);
    if (failed(c.requireInputs(2)) || failed(red) || failed(ig))
      return failure();
    auto logp = c.make<k::LogSoftmaxOp>(c.input(0),
                                        {c.named("axis", c.b.getI64IntegerAttr(1))});
    if (failed(logp))
      return failure();
    auto loss = nllLoss(c, *logp, c.input(1), c.input(2), *red, *ig);
    if (failed(loss))
      return failure();
    c.outputs.push_back(*loss);
    if (c.numOutputs() > 1)
      c.outputs.push_back(*logp);
    return success();
  };
}
