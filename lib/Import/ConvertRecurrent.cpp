//===- ConvertRecurrent.cpp - RNN, GRU and LSTM ---------------------------===//
//
// The ONNX recurrent layers, unrolled over a static sequence length into
// kiln ops. Per direction, the input projection of every step is one GEMM
// (X [S, B, I] x W^T [I, G*H] plus the biases that do not depend on the
// state); each step then adds H_{t-1} R^T, applies the gate activations and
// forms the new state. With sequence_lens, steps at or past a sequence's
// length keep the state and output zeros (a reverse direction therefore
// starts each sequence at its own last step, as ONNX defines it).
//
// Gate order in W, R and B is ONNX's: RNN i; GRU z, r, h; LSTM i, o, f, c
// (peepholes i, o, f). Refused with a message naming the node: a dynamic
// sequence length or one above kMaxUnrolledSteps (the recurrence is unrolled
// at import), LSTM's input_forget, unknown activation names.
//
//===----------------------------------------------------------------------===//

#include "Emitter.h"

#include "llvm/ADT/StringExtras.h"

using namespace ::kiln::import;
namespace k = mlir::kiln;

namespace {

/// Longest sequence unrolled at import (each step is ~10-20 kiln ops).
constexpr int64_t kMaxUnrolledSteps = 1024;

enum class Cell { RNN, GRU, LSTM };

/// One activation of the `activations` attribute with its alpha and beta.
struct Activation {
  std::string name; // lower case
  float alpha = 0.0f, beta = 0.0f;
};

/// The step code's builder, with the gate activations.
class Emitter : public KilnEmitter {
public:
  using KilnEmitter::KilnEmitter;
  Value activate(const Activation &a, Value x) {
    if (failed || !x)
      return fail();
    Type elt = c.typeOf(x).getElementType();
    const std::string &n = a.name;
    if (n == "sigmoid")
      return op<k::SigmoidOp>(x);
    if (n == "tanh")
      return op<k::TanhOp>(x);
    if (n == "relu")
      return op<k::ReluOp>(x);
    if (n == "softsign")
      return op<k::SoftsignOp>(x);
    if (n == "softplus")
      return op<k::SoftplusOp>(x);
    if (n == "leakyrelu")
      return op<k::LeakyReluOp>(x, {f32("alpha", a.alpha)});
    if (n == "thresholdedrelu")
      return op<k::ThresholdedReluOp>(x, {f32("alpha", a.alpha)});
    if (n == "elu")
      return op<k::EluOp>(x, {f32("alpha", a.alpha)});
    if (n == "hardsigmoid")
      return op<k::HardSigmoidOp>(
          x, {f32("alpha", a.alpha), f32("beta", a.beta)});
    if (n == "affine")
      return op<k::AddOp>(
          {op<k::MulOp>({x, scalar(elt, a.alpha)}), scalar(elt, a.beta)});
    if (n == "scaledtanh")
      return op<k::MulOp>(
          {op<k::TanhOp>(op<k::MulOp>({x, scalar(elt, a.beta)})),
           scalar(elt, a.alpha)});
    return fail();
  }
};

/// alpha / beta defaults of the activations that take them (ONNX's).
bool takesAlpha(StringRef n, float &dflt) {
  if (n == "leakyrelu")
    dflt = 0.01f;
  else if (n == "thresholdedrelu" || n == "elu" || n == "affine" ||
           n == "scaledtanh")
    dflt = 1.0f;
  else if (n == "hardsigmoid")
    dflt = 0.2f;
  else
    return false;
  return true;
}
bool takesBeta(StringRef n, float &dflt) {
  if (n == "hardsigmoid")
    dflt = 0.5f;
  else if (n == "affine")
    dflt = 0.0f;
  else if (n == "scaledtanh")
    dflt = 1.0f;
  else
    return false;
  return true;
}

FailureOr<SmallVector<Activation>> readActivations(NodeContext &c, Cell cell,
                                                   int64_t dirs) {
  SmallVector<StringRef> dflt;
  if (cell == Cell::RNN)
    dflt = {"tanh"};
  else if (cell == Cell::GRU)
    dflt = {"sigmoid", "tanh"};
  else
    dflt = {"sigmoid", "tanh", "tanh"};
  SmallVector<std::string> names;
  if (const onnx::AttributeProto *a = c.attr("activations")) {
    for (const std::string &s : a->strings())
      names.push_back(llvm::StringRef(s).lower());
    if (names.size() != dflt.size() * dirs)
      return c.fail("activations lists " + std::to_string(names.size()) +
                    " functions, expected " +
                    std::to_string(dflt.size() * dirs));
  } else {
    for (int64_t d = 0; d < dirs; ++d)
      for (StringRef s : dflt)
        names.push_back(s.str());
  }
  SmallVector<float> alphas, betas;
  if (c.hasAttr("activation_alpha")) {
    auto v = c.getFloats("activation_alpha");
    if (failed(v))
      return failure();
    alphas = *v;
  }
  if (c.hasAttr("activation_beta")) {
    auto v = c.getFloats("activation_beta");
    if (failed(v))
      return failure();
    betas = *v;
  }
  // alpha and beta values are consumed in order by the activations that
  // take them.
  size_t ai = 0, bi = 0;
  SmallVector<Activation> acts;
  for (const std::string &n : names) {
    Activation a{n};
    float d;
    if (takesAlpha(n, d))
      a.alpha = ai < alphas.size() ? alphas[ai++] : d;
    if (takesBeta(n, d))
      a.beta = bi < betas.size() ? betas[bi++] : d;
    static const char *known[] = {"sigmoid",   "tanh",       "relu",
                                  "softsign",  "softplus",   "leakyrelu",
                                  "thresholdedrelu", "elu",  "hardsigmoid",
                                  "affine",    "scaledtanh"};
    if (llvm::none_of(known, [&](const char *k) { return n == k; }))
      return c.fail("unsupported activation '" + n + "'");
    acts.push_back(a);
  }
  return acts;
}

LogicalResult convertRecurrent(NodeContext &c, Cell cell) {
  const int64_t gates = cell == Cell::RNN ? 1 : cell == Cell::GRU ? 3 : 4;
  auto direction = c.getString("direction", "forward");
  auto hiddenAttr = c.getInt("hidden_size", 0);
  auto layout = c.getInt("layout", 0);
  auto lbr = c.getInt("linear_before_reset", 0);
  auto inputForget = c.getInt("input_forget", 0);
  if (failed(c.requireInputs(3)) || failed(direction) || failed(hiddenAttr) ||
      failed(layout) || failed(lbr) || failed(inputForget))
    return failure();
  if (cell == Cell::LSTM && *inputForget)
    return c.fail("input_forget is not supported");
  int64_t dirs = *direction == "bidirectional" ? 2 : 1;
  if (*direction != "forward" && *direction != "reverse" && dirs != 2)
    return c.fail("unknown direction '" + *direction + "'");
  auto acts = readActivations(c, cell, dirs);
  if (failed(acts))
    return failure();
  std::optional<float> clip;
  if (c.hasAttr("clip")) {
    auto v = c.getFloat("clip", 0.0f);
    if (failed(v))
      return failure();
    clip = *v;
  }

  Emitter e(c);
  Value x = c.input(0), w = c.input(1), r = c.input(2);
  for (Value v : {x, w, r})
    if (c.typeOf(v).getRank() != 3)
      return c.fail("X, W and R must be 3-D, got " + k::typeStr(v.getType()));
  Type elt = c.typeOf(x).getElementType();
  if (!isa<FloatType>(elt))
    return c.fail("X must be a float tensor, got " + k::typeStr(x.getType()));
  if (*layout)
    x = e.transpose(x, {1, 0, 2}); // [B, S, I] -> [S, B, I]
  if (!x)
    return failure();
  int64_t steps = c.typeOf(x).getDimSize(0);
  if (ShapedType::isDynamic(steps))
    return c.fail("a dynamic sequence length is not supported (the "
                  "recurrence is unrolled at import)");
  if (steps > kMaxUnrolledSteps)
    return c.fail("sequence length " + std::to_string(steps) +
                  " is above the " + std::to_string(kMaxUnrolledSteps) +
                  " steps unrolled at import");
  int64_t hidden = *hiddenAttr;
  int64_t rHidden = c.typeOf(r).getDimSize(2);
  if (hidden <= 0)
    hidden = rHidden;
  if (ShapedType::isDynamic(hidden) || hidden <= 0)
    return c.fail("hidden_size is missing and R's last dim is dynamic");
  if (!ShapedType::isDynamic(rHidden) && rHidden != hidden)
    return c.fail("R's last dim " + std::to_string(rHidden) +
                  " differs from hidden_size " + std::to_string(hidden));
  for (Value v : {w, r}) {
    auto t = c.typeOf(v);
    if ((!t.isDynamicDim(0) && t.getDimSize(0) != dirs) ||
        (!t.isDynamicDim(1) && t.getDimSize(1) != gates * hidden))
      return c.fail("W and R must be [" + std::to_string(dirs) + ", " +
                    std::to_string(gates * hidden) + ", _], got " +
                    k::typeStr(v.getType()));
  }
  const int64_t gh = gates * hidden;
  Value bias = c.input(3), seqLens = c.input(4), initH = c.input(5);
  Value initC = cell == Cell::LSTM ? c.input(6) : Value();
  Value peep = cell == Cell::LSTM ? c.input(7) : Value();
  if (initH && *layout)
    initH = e.transpose(initH, {1, 0, 2}); // [B, D, H] -> [D, B, H]
  if (initC && *layout)
    initC = e.transpose(initC, {1, 0, 2});

  // Zeros [B, H] for a missing initial state (B may be dynamic).
  auto zerosBH = [&]() -> Value {
    auto xt = c.typeOf(x);
    if (!xt.isDynamicDim(1))
      return c.constant(DenseElementsAttr::get(
          RankedTensorType::get({xt.getDimSize(1), hidden}, elt),
          c.b.getFloatAttr(elt, 0.0)));
    Value shape = e.op<k::ShapeOp>(x);
    Value bDim = e.slice(shape, 1, 2, 0);
    Value dims = e.concat({bDim, c.i64Vector({hidden})}, 0);
    return e.op<k::ExpandOp>({e.scalar(elt, 0.0), dims});
  };

  const size_t perDir = cell == Cell::RNN ? 1 : cell == Cell::GRU ? 2 : 3;
  SmallVector<Value> ys, lastH, lastC;
  for (int64_t d = 0; d < dirs; ++d) {
    bool reverse = *direction == "reverse" || d == 1;
    ArrayRef<Activation> act = ArrayRef<Activation>(*acts).slice(d * perDir,
                                                                  perDir);
    Value wT = e.transpose(e.at(w, d, 0), {1, 0}); // [I, G*H]
    Value rT = e.transpose(e.at(r, d, 0), {1, 0}); // [H, G*H]
    Value xw = e.op<k::MatmulOp>({x, wT});          // [S, B, G*H]
    Value rbh;                                      // GRU with lbr: R's h bias
    if (bias) {
      Value bd = e.at(bias, d, 0); // [2*G*H]
      Value wb = e.slice(bd, 0, gh, 0), rb = e.slice(bd, gh, 2 * gh, 0);
      if (cell == Cell::GRU && *lbr) {
        // R's h bias is added after the product with H_{t-1} (inside the
        // reset), so it leaves the projection's bias.
        rbh = e.slice(rb, 2 * hidden, gh, 0);
        Value zeros = c.constant(DenseElementsAttr::get(
            RankedTensorType::get({hidden}, elt), c.b.getFloatAttr(elt, 0.0)));
        rb = e.concat({e.slice(rb, 0, 2 * hidden, 0), zeros}, 0);
      }
      xw = e.op<k::AddOp>({xw, e.op<k::AddOp>({wb, rb})});
    }
    Value h = initH ? e.at(initH, d, 0) : zerosBH();
    Value cst = cell == Cell::LSTM ? (initC ? e.at(initC, d, 0) : zerosBH())
                                   : Value();
    Value pi, po, pf;
    if (peep) {
      Value pd = e.at(peep, d, 0); // [3H]: i, o, f
      pi = e.slice(pd, 0, hidden, 0);
      po = e.slice(pd, hidden, 2 * hidden, 0);
      pf = e.slice(pd, 2 * hidden, 3 * hidden, 0);
    }
    auto gate = [&](Value v, int64_t g) {
      return e.slice(v, g * hidden, (g + 1) * hidden, 1);
    };
    auto clipped = [&](Value v) {
      if (!clip)
        return v;
      return e.op<k::ClipOp>(
          {v, e.scalar(elt, -*clip), e.scalar(elt, *clip)},
          {c.named("operandSegmentSizes", c.b.getDenseI32ArrayAttr({1, 1, 1}))});
    };
    SmallVector<Value> outs(steps);
    for (int64_t i = 0; i < steps; ++i) {
      int64_t t = reverse ? steps - 1 - i : i;
      Value xt = e.at(xw, t, 0); // [B, G*H]
      Value hNew, cNew;
      if (cell == Cell::RNN) {
        Value pre = e.op<k::AddOp>({xt, e.op<k::MatmulOp>({h, rT})});
        hNew = e.activate(act[0], clipped(pre));
      } else if (cell == Cell::GRU) {
        // z and r from the fused products; h's recurrent term needs r first
        // (or is formed before the reset with linear_before_reset).
        Value rTzr = e.slice(rT, 0, 2 * hidden, 1);
        Value rTh = e.slice(rT, 2 * hidden, gh, 1);
        Value zr = e.op<k::AddOp>(
            {e.slice(xt, 0, 2 * hidden, 1), e.op<k::MatmulOp>({h, rTzr})});
        Value z = e.activate(act[0], clipped(gate(zr, 0)));
        Value rg = e.activate(act[0], clipped(gate(zr, 1)));
        Value rec;
        if (*lbr) {
          Value hr = e.op<k::MatmulOp>({h, rTh});
          if (rbh)
            hr = e.op<k::AddOp>({hr, rbh});
          rec = e.op<k::MulOp>({rg, hr});
        } else {
          rec = e.op<k::MatmulOp>({e.op<k::MulOp>({rg, h}), rTh});
        }
        Value hh = e.activate(act[1], clipped(e.op<k::AddOp>({gate(xt, 2), rec})));
        // H = (1 - z) * hh + z * H_prev = hh + z * (H_prev - hh)
        hNew = e.op<k::AddOp>(
            {hh, e.op<k::MulOp>({z, e.op<k::SubOp>({h, hh})})});
      } else {
        Value pre = e.op<k::AddOp>({xt, e.op<k::MatmulOp>({h, rT})});
        Value ip = gate(pre, 0), opre = gate(pre, 1), fp = gate(pre, 2),
              cp = gate(pre, 3);
        if (peep) {
          ip = e.op<k::AddOp>({ip, e.op<k::MulOp>({pi, cst})});
          fp = e.op<k::AddOp>({fp, e.op<k::MulOp>({pf, cst})});
        }
        Value ig = e.activate(act[0], clipped(ip));
        Value fg = e.activate(act[0], clipped(fp));
        Value cg = e.activate(act[1], clipped(cp));
        cNew = e.op<k::AddOp>(
            {e.op<k::MulOp>({fg, cst}), e.op<k::MulOp>({ig, cg})});
        if (peep)
          opre = e.op<k::AddOp>({opre, e.op<k::MulOp>({po, cNew})});
        Value og = e.activate(act[0], clipped(opre));
        hNew = e.op<k::MulOp>({og, e.activate(act[2], cNew)});
      }
      Value y = hNew;
      if (seqLens) {
        // valid[b] = t < sequence_lens[b]; invalid steps keep the state and
        // output zeros.
        Type lt = c.typeOf(seqLens).getElementType();
        Value valid = e.unsqueeze(
            e.op<k::LessOp>({e.scalar(lt, (double)t), seqLens}), 1);
        hNew = e.op<k::WhereOp>({valid, hNew, h});
        y = e.op<k::WhereOp>({valid, y, e.scalar(elt, 0.0)});
        if (cNew)
          cNew = e.op<k::WhereOp>({valid, cNew, cst});
      }
      h = hNew;
      if (cNew)
        cst = cNew;
      outs[t] = e.unsqueeze(y, 0); // [1, B, H]
      if (e.failed)
        return failure();
    }
    ys.push_back(e.unsqueeze(e.concat(outs, 0), 1)); // [S, 1, B, H]
    lastH.push_back(e.unsqueeze(h, 0));               // [1, B, H]
    if (cst)
      lastC.push_back(e.unsqueeze(cst, 0));
  }
  Value y = e.concat(ys, 1), yh = e.concat(lastH, 0);
  Value yc = cell == Cell::LSTM ? e.concat(lastC, 0) : Value();
  if (*layout) {
    y = e.transpose(y, {2, 0, 1, 3}); // [S, D, B, H] -> [B, S, D, H]
    yh = e.transpose(yh, {1, 0, 2});  // [D, B, H] -> [B, D, H]
    if (yc)
      yc = e.transpose(yc, {1, 0, 2});
  }
  if (e.failed)
    return failure();
  c.outputs.push_back(y);
  c.outputs.push_back(yh);
  if (yc)
    c.outputs.push_back(yc);
  return success();
}

} // namespace

void ::kiln::import::addRecurrentConverters(llvm::StringMap<Converter> &m) {
  m["RNN"] = [](NodeContext &c) { return convertRecurrent(c, Cell::RNN); };
  m["GRU"] = [](NodeContext &c) { return convertRecurrent(c, Cell::GRU); };
  m["LSTM"] = [](NodeContext &c) { return convertRecurrent(c, Cell::LSTM); };
}
