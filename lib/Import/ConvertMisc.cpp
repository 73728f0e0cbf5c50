//===- ConvertMisc.cpp - ops expanded into other kiln ops -----------------===//
//
// ONNX ops with no kiln op of their own, each written as a few kiln ops:
//   EyeLike            a constant (static shape)
//   Shrink             two comparisons and a select
//   MeanVarianceNormalization  (X - mean) / sqrt(var + 1e-9) over `axes`
//   LRN                the channel-window sum of squares as `size` shifted
//                      slices of the zero-padded squares
//   HannWindow / HammingWindow / BlackmanWindow  cosines of a run-time Range
//   ReverseSequence    GatherElements along the time axis
//   Det                closed forms for 1x1, 2x2 and 3x3 matrices (larger
//                      ones are refused)
//   BatchNormalization with training_mode: batch statistics and the
//                      running-statistics outputs
//   GridSample         kiln.grid_sample (4-D)
//   RandomUniform(Like), RandomNormal(Like), Bernoulli, training Dropout
//                      kiln.random: a counter-based hash of (seed, index),
//                      the same numbers on every run (no seed: one derived
//                      from the node's output name)
//
//===----------------------------------------------------------------------===//

#include "Emitter.h"

#include <cmath>
#include <cstring>

#include "llvm/Support/xxhash.h"

using namespace ::kiln::import;
namespace k = mlir::kiln;

namespace {

NamedAttribute axisAttr(NodeContext &c, int64_t axis) {
  return c.named("axis", c.b.getI64IntegerAttr(axis));
}

LogicalResult convertEyeLike(NodeContext &c) {
  auto dtype = c.getInt("dtype", 0), kOff = c.getInt("k", 0);
  if (failed(c.requireInputs(1)) || failed(dtype) || failed(kOff))
    return failure();
  auto t = c.typeOf(c.input(0));
  if (t.getRank() != 2 || !t.hasStaticShape())
    return c.fail("needs a 2-D input of static shape, got " + k::typeStr(t));
  Type elt = t.getElementType();
  if (*dtype) {
    elt = onnxElementType(c.ctx(), *dtype);
    if (!elt)
      return c.fail("unsupported dtype " + onnxTypeName(*dtype));
  }
  int64_t rows = t.getDimSize(0), cols = t.getDimSize(1);
  SmallVector<bool> ones(rows * cols);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      ones[i * cols + j] = j - i == *kOff;
  Value mask = c.constant(DenseElementsAttr::get(
      RankedTensorType::get({rows, cols}, c.b.getI1Type()), ones));
  KilnEmitter e(c);
  Value y = e.cast(mask, elt);
  if (e.failed)
    return failure();
  c.outputs.push_back(y);
  return success();
}

LogicalResult convertShrink(NodeContext &c) {
  auto bias = c.getFloat("bias", 0.0f), lambd = c.getFloat("lambd", 0.5f);
  if (failed(c.requireInputs(1)) || failed(bias) || failed(lambd))
    return failure();
  Value x = c.input(0);
  Type elt = c.typeOf(x).getElementType();
  KilnEmitter e(c);
  Value lo = e.op<k::LessOp>({x, e.scalar(elt, -*lambd)});
  Value hi = e.op<k::GreaterOp>({x, e.scalar(elt, *lambd)});
  Value y = e.op<k::WhereOp>(
      {lo, e.op<k::AddOp>({x, e.scalar(elt, *bias)}),
       e.op<k::WhereOp>({hi, e.op<k::SubOp>({x, e.scalar(elt, *bias)}),
                         e.scalar(elt, 0.0)})});
  if (e.failed)
    return failure();
  c.outputs.push_back(y);
  return success();
}

LogicalResult convertMVN(NodeContext &c) {
  auto axes = c.getInts("axes", {0, 2, 3});
  if (failed(c.requireInputs(1)) || failed(axes))
    return failure();
  Value x = c.input(0);
  int64_t rank = c.typeOf(x).getRank();
  SmallVector<int64_t> norm;
  for (int64_t a : *axes) {
    auto n = c.normAxis(a, rank);
    if (failed(n))
      return failure();
    norm.push_back(*n);
  }
  llvm::sort(norm);
  norm.erase(std::unique(norm.begin(), norm.end()), norm.end());
  Type elt = c.typeOf(x).getElementType();
  KilnEmitter e(c);
  Value d = e.op<k::SubOp>({x, e.reduce<k::ReduceMeanOp>(x, norm, true)});
  Value var = e.reduce<k::ReduceMeanOp>(e.op<k::MulOp>({d, d}), norm, true);
  Value y = e.op<k::DivOp>(
      {d, e.op<k::SqrtOp>(e.op<k::AddOp>({var, e.scalar(elt, 1e-9)}))});
  if (e.failed)
    return failure();
  c.outputs.push_back(y);
  return success();
}

LogicalResult convertLRN(NodeContext &c) {
  auto alpha = c.getFloat("alpha", 1e-4f), beta = c.getFloat("beta", 0.75f),
       bias = c.getFloat("bias", 1.0f);
  auto size = c.getInt("size", 0);
  if (failed(c.requireInputs(1)) || failed(alpha) || failed(beta) ||
      failed(bias) || failed(size))
    return failure();
  Value x = c.input(0);
  auto t = c.typeOf(x);
  int64_t rank = t.getRank();
  if (rank < 3 || *size < 1 || *size > 1024)
    return c.fail("needs an input of rank >= 3 and size in [1, 1024]");
  if (t.isDynamicDim(1))
    return c.fail("needs a static channel dim");
  int64_t ch = t.getDimSize(1);
  int64_t lo = (*size - 1) / 2, hi = *size - 1 - lo;
  Type elt = t.getElementType();
  KilnEmitter e(c);
  Value sq = e.op<k::MulOp>({x, x});
  SmallVector<int64_t> pads(2 * rank, 0);
  pads[1] = lo;
  pads[rank + 1] = hi;
  Value padded = e.op<k::PadOp>(
      sq, {c.named("pads", c.b.getDenseI64ArrayAttr(pads))});
  // sum over c' in [c - lo, c + hi] of x[c']^2: `size` shifted windows
  Value sum;
  for (int64_t i = 0; i < *size; ++i) {
    Value w = e.slice(padded, i, i + ch, 1);
    sum = sum ? e.op<k::AddOp>({sum, w}) : w;
  }
  Value den = e.op<k::AddOp>(
      {e.scalar(elt, *bias), e.op<k::MulOp>({sum, e.scalar(elt, *alpha / *size)})});
  Value y = e.op<k::MulOp>({x, e.op<k::PowOp>({den, e.scalar(elt, -*beta)})});
  if (e.failed)
    return failure();
  c.outputs.push_back(y);
  return success();
}

enum class Window { Hann, Hamming, Blackman };

LogicalResult convertWindow(NodeContext &c, Window kind) {
  auto periodic = c.getInt("periodic", 1), dtype = c.getInt("output_datatype", 1);
  if (failed(c.requireInputs(1)) || failed(periodic) || failed(dtype))
    return failure();
  Type out = onnxElementType(c.ctx(), *dtype);
  if (!out)
    return c.fail("unsupported output_datatype " + onnxTypeName(*dtype));
  if (c.typeOf(c.input(0)).getNumElements() != 1)
    return c.fail("size must be a scalar");
  KilnEmitter e(c);
  Type f32 = c.b.getF32Type();
  Value size = e.cast(c.input(0), c.b.getI64Type());
  if (size && c.typeOf(size).getRank() != 0)
    size = e.op<k::ReshapeOp>({size, c.i64Vector({})});
  Value n = e.cast(e.op<k::RangeOp>({c.i64Scalar(0), size, c.i64Scalar(1)}), f32);
  Value len = e.cast(size, f32);
  if (!*periodic)
    len = e.op<k::SubOp>({len, e.scalar(f32, 1.0)});
  // a = 2 pi n / N
  Value a = e.op<k::DivOp>({e.op<k::MulOp>({n, e.scalar(f32, 2.0 * M_PI)}), len});
  Value y;
  if (kind == Window::Blackman) {
    y = e.op<k::AddOp>(
        {e.op<k::SubOp>({e.scalar(f32, 0.42),
                         e.op<k::MulOp>({e.op<k::CosOp>(a), e.scalar(f32, 0.5)})}),
         e.op<k::MulOp>({e.op<k::CosOp>(e.op<k::MulOp>({a, e.scalar(f32, 2.0)})),
                         e.scalar(f32, 0.08)})});
  } else {
    double a0 = kind == Window::Hann ? 0.5 : 25.0 / 46.0;
    y = e.op<k::SubOp>({e.scalar(f32, a0),
                        e.op<k::MulOp>({e.op<k::CosOp>(a), e.scalar(f32, 1.0 - a0)})});
  }
  y = e.cast(y, out);
  if (e.failed)
    return failure();
  c.outputs.push_back(y);
  return success();
}

LogicalResult convertReverseSequence(NodeContext &c) {
  auto batchAxis = c.getInt("batch_axis", 1), timeAxis = c.getInt("time_axis", 0);
  if (failed(c.requireInputs(2)) || failed(batchAxis) || failed(timeAxis))
    return failure();
  Value x = c.input(0);
  int64_t rank = c.typeOf(x).getRank();
  if (rank < 2 || !((*batchAxis == 0 && *timeAxis == 1) ||
                    (*batchAxis == 1 && *timeAxis == 0)))
    return c.fail("needs rank >= 2 and batch/time axes 0 and 1");
  KilnEmitter e(c);
  Value shape = e.op<k::ShapeOp>(x);
  Value steps = e.op<k::ReshapeOp>({e.slice(shape, *timeAxis, *timeAxis + 1, 0),
                                    c.i64Vector({})});
  Value t = e.op<k::RangeOp>({c.i64Scalar(0), steps, c.i64Scalar(1)});
  Value lens = e.cast(c.input(1), c.b.getI64Type());
  // idx[.., t, .., b, ..] = t < len[b] ? len[b] - 1 - t : t
  Value tt = e.unsqueeze(t, *timeAxis == 0 ? 1 : 0);
  Value ll = e.unsqueeze(lens, *batchAxis == 0 ? 1 : 0);
  Value rev = e.op<k::SubOp>({e.op<k::SubOp>({ll, c.i64Scalar(1)}), tt});
  Value idx = e.op<k::WhereOp>({e.op<k::LessOp>({tt, ll}), rev, tt});
  for (int64_t d = 2; d < rank; ++d)
    idx = e.unsqueeze(idx, d);
  idx = e.op<k::ExpandOp>({idx, shape});
  Value y = e.op<k::GatherElementsOp>({x, idx}, {axisAttr(c, *timeAxis)});
  if (e.failed)
    return failure();
  c.outputs.push_back(y);
  return success();
}

LogicalResult convertDet(NodeContext &c) {
  if (failed(c.requireInputs(1)))
    return failure();
  Value x = c.input(0);
  auto t = c.typeOf(x);
  int64_t rank = t.getRank();
  if (rank < 2 || t.isDynamicDim(rank - 1) || t.isDynamicDim(rank - 2) ||
      t.getDimSize(rank - 1) != t.getDimSize(rank - 2))
    return c.fail("needs square matrices of static size, got " + k::typeStr(t));
  int64_t n = t.getDimSize(rank - 1);
  if (n < 1 || n > 3)
    return c.fail("only 1x1, 2x2 and 3x3 matrices are supported, got " +
                  std::to_string(n) + "x" + std::to_string(n));
  KilnEmitter e(c);
  auto a = [&](int64_t i, int64_t j) {
    return e.at(e.at(x, i, rank - 2), j, rank - 2);
  };
  auto mul = [&](Value p, Value q) { return e.op<k::MulOp>({p, q}); };
  auto sub = [&](Value p, Value q) { return e.op<k::SubOp>({p, q}); };
  auto add = [&](Value p, Value q) { return e.op<k::AddOp>({p, q}); };
  Value y;
  if (n == 1) {
    y = a(0, 0);
  } else if (n == 2) {
    y = sub(mul(a(0, 0), a(1, 1)), mul(a(0, 1), a(1, 0)));
  } else {
    auto minor = [&](int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
      return sub(mul(a(r0, c0), a(r1, c1)), mul(a(r0, c1), a(r1, c0)));
    };
    y = add(sub(mul(a(0, 0), minor(1, 2, 1, 2)), mul(a(0, 1), minor(1, 2, 0, 2))),
            mul(a(0, 2), minor(1, 2, 0, 1)));
  }
  if (e.failed)
    return failure();
  c.outputs.push_back(y);
  return success();
}

LogicalResult convertGridSample(NodeContext &c) {
  auto mode = c.getString("mode", "bilinear");
  auto pad = c.getString("padding_mode", "zeros");
  auto ac = c.getInt("align_corners", 0);
  if (failed(c.requireInputs(2)) || failed(mode) || failed(pad) || failed(ac))
    return failure();
  // opset 20 names the 2-D modes linear and cubic
  std::string m = *mode == "linear" ? "bilinear" : *mode == "cubic" ? "bicubic" : *mode;
  if (c.typeOf(c.input(0)).getRank() != 4)
    return c.fail("only 4-D inputs ([N, C, H, W]) are supported");
  return c.emit<k::GridSampleOp>(
      {c.input(0), c.input(1)},
      {c.named("mode", c.b.getStringAttr(m)),
       c.named("padding_mode", c.b.getStringAttr(*pad)),
       c.named("align_corners", c.b.getBoolAttr(*ac != 0))});
}

/// The node's seed attribute, or a stable hash of its first output's name
/// (two unseeded nodes draw different numbers; each draws the same on every
/// run).
FailureOr<int64_t> seedOf(NodeContext &c) {
  if (const onnx::AttributeProto *a = c.attr("seed");
      a && a->type() == onnx::AttributeProto::INT)
    return (int64_t)((uint64_t)a->i() * 0x100000001b3ULL); // Dropout's: an int
  if (c.hasAttr("seed")) {
    auto s = c.getFloat("seed", 0.0f);
    if (failed(s))
      return failure();
    uint32_t bits;
    float f = *s;
    std::memcpy(&bits, &f, sizeof bits);
    return (int64_t)((uint64_t)bits * 0x100000001b3ULL); // wraps, no UB
  }
  std::string name = c.numOutputs() ? c.node.output(0) : c.node.name();
  return (int64_t)llvm::xxh3_64bits(name);
}

/// dtype attribute (0: `dflt`) as an element type.
FailureOr<Type> floatDtype(NodeContext &c, Type dflt) {
  auto dtype = c.getInt("dtype", 0);
  if (failed(dtype))
    return failure();
  Type t = *dtype ? onnxElementType(c.ctx(), *dtype) : dflt;
  if (!t || !isa<FloatType>(t))
    return c.fail("dtype must be a float type");
  return t;
}

/// RandomUniform(Like) / RandomNormal(Like): `like` is the input (Like
/// forms) or null (the static `shape` attribute).
LogicalResult convertRandom(NodeContext &c, bool normal, bool like) {
  auto a = c.getFloat(normal ? "mean" : "low", 0.0f);
  auto b = c.getFloat(normal ? "scale" : "high", 1.0f);
  auto seed = seedOf(c);
  if (failed(a) || failed(b) || failed(seed) || (like && failed(c.requireInputs(1))))
    return failure();
  RankedTensorType type;
  Value src;
  if (like) {
    src = c.input(0);
    auto t = c.typeOf(src);
    auto elt = floatDtype(c, isa<FloatType>(t.getElementType())
                                 ? t.getElementType()
                                 : (Type)c.b.getF32Type());
    if (failed(elt))
      return failure();
    type = t.clone(*elt);
  } else {
    auto shape = c.getInts("shape", {});
    auto elt = floatDtype(c, c.b.getF32Type());
    if (failed(shape) || failed(elt))
      return failure();
    if (!c.hasAttr("shape") || llvm::any_of(*shape, [](int64_t d) { return d < 0; }))
      return c.fail("needs a shape attribute of non-negative dims");
    type = RankedTensorType::get(*shape, *elt);
  }
  SmallVector<Value> operands;
  if (src)
    operands.push_back(src);
  auto r = c.createTyped<k::RandomOp>(
      operands,
      {c.named("distribution", c.b.getStringAttr(normal ? "normal" : "uniform")),
       c.named("a", c.b.getF32FloatAttr(*a)), c.named("b", c.b.getF32FloatAttr(*b)),
       c.named("seed", c.b.getI64IntegerAttr(*seed))},
      {type});
  if (failed(r))
    return failure();
  c.outputs.push_back((*r)[0]);
  return success();
}

/// Bernoulli: 1 where a uniform draw is below the input's probability.
LogicalResult convertBernoulli(NodeContext &c) {
  auto seed = seedOf(c);
  if (failed(c.requireInputs(1)) || failed(seed))
    return failure();
  Value p = c.input(0);
  auto t = c.typeOf(p);
  auto elt = floatDtype(c, t.getElementType());
  if (failed(elt))
    return failure();
  auto u = c.createTyped<k::RandomOp>(
      p,
      {c.named("distribution", c.b.getStringAttr("uniform")),
       c.named("a", c.b.getF32FloatAttr(0.0f)), c.named("b", c.b.getF32FloatAttr(1.0f)),
       c.named("seed", c.b.getI64IntegerAttr(*seed))},
      {t});
  if (failed(u))
    return failure();
  KilnEmitter e(c);
  Value y = e.cast(e.op<k::LessOp>({(*u)[0], p}), *elt);
  if (e.failed)
    return failure();
  c.outputs.push_back(y);
  return success();
}

} // namespace

namespace kiln::import {
/// Dropout with training_mode true (constant or run time): keep where a
/// uniform draw is >= ratio, scaled by 1 / (1 - ratio); mask output.
LogicalResult dropoutTraining(NodeContext &c) {
  auto seed = seedOf(c);
  if (failed(seed))
    return failure();
  Value x = c.input(0), training = c.input(2);
  auto t = c.typeOf(x);
  Type elt = t.getElementType();
  if (!isa<FloatType>(elt))
    return c.fail("training-mode dropout needs a float input");
  KilnEmitter e(c);
  Value ratio = c.input(1) ? e.cast(c.input(1), elt) : e.scalar(elt, 0.5);
  auto u = c.createTyped<k::RandomOp>(
      x,
      {c.named("distribution", c.b.getStringAttr("uniform")),
       c.named("a", c.b.getF32FloatAttr(0.0f)), c.named("b", c.b.getF32FloatAttr(1.0f)),
       c.named("seed", c.b.getI64IntegerAttr(*seed))},
      {t});
  if (failed(u))
    return failure();
  Value keep = e.op<k::GreaterEqualOp>({(*u)[0], ratio});
  Value scale = e.op<k::DivOp>(
      {e.scalar(elt, 1.0), e.op<k::SubOp>({e.scalar(elt, 1.0), ratio})});
  Value y = e.op<k::WhereOp>({keep, e.op<k::MulOp>({x, scale}), e.scalar(elt, 0.0)});
  // training_mode known only at run time: inference keeps x and all-true
  Value on = e.cast(training, c.b.getI1Type());
  y = e.op<k::WhereOp>({on, y, x});
  keep = e.op<k::OrOp>({keep, e.op<k::NotOp>(on)});
  if (e.failed)
    return failure();
  c.outputs.push_back(y);
  c.outputs.push_back(keep);
  return success();
}
} // namespace kiln::import

namespace kiln::import {
LogicalResult batchNormTraining(NodeContext &c, float eps) {
  auto momentum = c.getFloat("momentum", 0.9f);
  if (failed(momentum))
    return failure();
  Value x = c.input(0), scale = c.input(1), bias = c.input(2),
        mean = c.input(3), var = c.input(4);
  int64_t rank = c.typeOf(x).getRank();
  if (rank < 2)
    return c.fail("needs an input of rank >= 2");
  SmallVector<int64_t> axes{0}, perChannel; // per-channel values broadcast
  for (int64_t d = 2; d < rank; ++d) {
    axes.push_back(d);
    perChannel.push_back(d - 1);
  }
  Type elt = c.typeOf(x).getElementType();
  KilnEmitter e(c);
  auto bcast = [&](Value v) {
    for (int64_t d : perChannel)
      v = e.unsqueeze(v, d);
    return v;
  };
  Value bm = e.reduce<k::ReduceMeanOp>(x, axes, false); // [C]
  Value d = e.op<k::SubOp>({x, bcast(bm)});
  Value bv = e.reduce<k::ReduceMeanOp>(e.op<k::MulOp>({d, d}), axes, false);
  Value inv = e.op<k::DivOp>(
      {e.scalar(elt, 1.0),
       e.op<k::SqrtOp>(e.op<k::AddOp>({bv, e.scalar(elt, eps)}))});
  Value y = e.op<k::AddOp>(
      {e.op<k::MulOp>({d, bcast(e.op<k::MulOp>({inv, scale}))}), bcast(bias)});
  auto running = [&](Value old, Value cur) {
    return e.op<k::AddOp>({e.op<k::MulOp>({old, e.scalar(elt, *momentum)}),
                           e.op<k::MulOp>({cur, e.scalar(elt, 1.0 - *momentum)})});
  };
  Value rm = running(mean, bm), rv = running(var, bv);
  if (e.failed)
    return failure();
  c.outputs.append({y, rm, rv});
  return success();
}
} // namespace kiln::import

void ::kiln::import::addMiscConverters(llvm::StringMap<Converter> &m) {
  m["EyeLike"] = convertEyeLike;
  m["Shrink"] = convertShrink;
  m["MeanVarianceNormalization"] = convertMVN;
  m["LRN"] = convertLRN;
  m["HannWindow"] = [](NodeContext &c) { return convertWindow(c, Window::Hann); };
  m["HammingWindow"] = [](NodeContext &c) {
    return convertWindow(c, Window::Hamming);
  };
  m["BlackmanWindow"] = [](NodeContext &c) {
    return convertWindow(c, Window::Blackman);
  };
  m["ReverseSequence"] = convertReverseSequence;
  m["Det"] = convertDet;
  m["GridSample"] = convertGridSample;
  m["RandomUniformLike"] = [](NodeContext &c) { return convertRandom(c, false, true); };
  m["RandomNormalLike"] = [](NodeContext &c) { return convertRandom(c, true, true); };
  m["RandomUniform"] = [](NodeContext &c) { return convertRandom(c, false, false); };
  m["RandomNormal"] = [](NodeContext &c) { return convertRandom(c, true, false); };
  m["Bernoulli"] = convertBernoulli;
}
