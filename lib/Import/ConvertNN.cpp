//===- ConvertNN.cpp - linear algebra, convolution, normalization ---------===//
//
// MatMul, Gemm (normalized to transpose + matmul + scale + add), Einsum,
// Conv/ConvTranspose and pooling (auto_pad resolved to explicit pads),
// normalizations, softmax family, reductions (axes as attribute or input by
// opset), ArgMax/ArgMin, CumSum and TopK. The losses: ConvertLoss.cpp.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

using namespace ::kiln::import;
namespace k = mlir::kiln;

namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

LogicalResult convertGemm(NodeContext &c) {
  auto alpha = c.getFloat("alpha", 1.0f), beta = c.getFloat("beta", 1.0f);
  auto transA = c.getInt("transA", 0), transB = c.getInt("transB", 0);
  if (failed(c.requireInputs(2)) || failed(alpha) || failed(beta) ||
      failed(transA) || failed(transB))
    return failure();
  Value a = c.input(0), b = c.input(1);
  for (Value v : {a, b})
    if (c.typeOf(v).getRank() != 2)
      return c.fail("A and B must be 2-D, got " + k::typeStr(v.getType()));
  auto perm = c.named("perm", c.b.getDenseI64ArrayAttr({1, 0}));
  if (*transA) {
    auto t = c.make<k::TransposeOp>(a, {perm});
    if (failed(t))
      return failure();
    a = *t;
  }
  if (*transB) {
    auto t = c.make<k::TransposeOp>(b, {perm});
    if (failed(t))
      return failure();
    b = *t;
  }
  auto y = c.make<k::MatmulOp>({a, b});
  if (failed(y))
    return failure();
  Type elt = c.typeOf(*y).getElementType();
  if (*alpha != 1.0f) {
    y = c.make<k::MulOp>({*y, c.scalarLike(elt, *alpha)});
    if (failed(y))
      return failure();
  }
  if (Value bias = c.input(2); bias && *beta != 0.0f) {
    if (*beta != 1.0f) {
      auto scaled = c.make<k::MulOp>({bias, c.scalarLike(elt, *beta)});
      if (failed(scaled))
        return failure();
      bias = *scaled;
    }
    y = c.make<k::AddOp>({*y, bias});
    if (failed(y))
      return failure();
  }
  c.outputs.push_back(*y);
  return success();
}

/// Strides, dilations and explicit pads for a windowed op, with auto_pad
/// resolved against the input's static spatial dims.
struct Window {
  SmallVector<int64_t> kernel, strides, dilations, pads;
};

FailureOr<Window> readWindow(NodeContext &c, RankedTensorType input,
                             ArrayRef<int64_t> kernelFromWeight) {
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1)
    return c.fail("input must have rank >= 3, got " + k::typeStr(input));
  Window w;
  auto kernel = c.getInts("kernel_shape", kernelFromWeight);
  auto strides = c.getInts("strides", SmallVector<int64_t>(spatial, 1));
  auto dil = c.getInts("dilations", SmallVector<int64_t>(spatial, 1));
  auto pads = c.getInts("pads", SmallVector<int64_t>(2 * spatial, 0));
  auto autoPad = c.getString("auto_pad", "NOTSET");
  if (failed(kernel) || failed(strides) || failed(dil) || failed(pads) ||
      failed(autoPad))
    return failure();
  if ((int64_t)kernel->size() != spatial)
    return c.fail("kernel_shape has " + Twine(kernel->size()) +
                  " entries, but the input has " + Twine(spatial) +
                  " spatial dims");
  if ((int64_t)strides->size() != spatial || (int64_t)dil->size() != spatial ||
      (int64_t)pads->size() != 2 * spatial)
    return c.fail("strides/dilations/pads do not match " + Twine(spatial) +
                  " spatial dims");
  w.kernel = *kernel;
  w.strides = *strides;
  w.dilations = *dil;
  w.pads = *pads;
  for (int64_t i = 0; i < spatial; ++i) {
    if (w.strides[i] < 1 || w.dilations[i] < 1)
      return c.fail("strides and dilations must be >= 1, got stride " +
                    Twine(w.strides[i]) + " and dilation " +
                    Twine(w.dilations[i]));
    if (!ShapedType::isDynamic(w.kernel[i]) && w.kernel[i] < 1)
      return c.fail("kernel_shape must be >= 1, got " + Twine(w.kernel[i]));
  }
  if (*autoPad == "VALID") {
    std::fill(w.pads.begin(), w.pads.end(), 0);
  } else if (*autoPad == "SAME_UPPER" || *autoPad == "SAME_LOWER") {
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t in = input.getDimSize(i + 2);
      if (ShapedType::isDynamic(in) || ShapedType::isDynamic(w.kernel[i]))
        return c.fail("auto_pad " + *autoPad +
                      " needs static spatial dims; specialize them with "
                      "--input-shape");
      int64_t out = (in + w.strides[i] - 1) / w.strides[i];
      int64_t total = std::max<int64_t>(
          0, (out - 1) * w.strides[i] + (w.kernel[i] - 1) * w.dilations[i] + 1 -
                 in);
      int64_t small = total / 2, large = total - small;
      w.pads[i] = *autoPad == "SAME_UPPER" ? small : large;
      w.pads[i + spatial] = *autoPad == "SAME_UPPER" ? large : small;
    }
  } else if (*autoPad != "NOTSET") {
    return c.fail("unknown auto_pad '" + *autoPad + "'");
  }
  return w;
}

LogicalResult convertConv(NodeContext &c) {
  if (failed(c.requireInputs(2)))
    return failure();
  auto input = c.typeOf(c.input(0)), weight = c.typeOf(c.input(1));
  auto group = c.getInt("group", 1);
  if (failed(group))
    return failure();
  if (weight.getRank() != input.getRank() || input.getRank() < 3)
    return c.fail("weight rank " + Twine(weight.getRank()) +
                  " must equal input rank " + Twine(input.getRank()) +
                  ", which must be >= 3");
  auto w = readWindow(c, input, weight.getShape().drop_front(2));
  if (failed(w))
    return failure();
  SmallVector<Value> operands{c.input(0), c.input(1)};
  if (c.input(2))
    operands.push_back(c.input(2));
  return c.emit<k::ConvOp>(
      operands, {c.named("strides", c.b.getDenseI64ArrayAttr(w->strides)),
                 c.named("pads", c.b.getDenseI64ArrayAttr(w->pads)),
                 c.named("dilations", c.b.getDenseI64ArrayAttr(w->dilations)),
                 c.named("group", c.b.getI64IntegerAttr(*group))});
}

LogicalResult convertConvTranspose(NodeContext &c) {
  if (failed(c.requireInputs(2)))
    return failure();
  auto input = c.typeOf(c.input(0)), weight = c.typeOf(c.input(1));
  int64_t spatial = input.getRank() - 2;
  if (weight.getRank() != input.getRank() || spatial < 1)
    return c.fail("weight rank " + Twine(weight.getRank()) +
                  " must equal input rank " + Twine(input.getRank()) +
                  ", which must be >= 3");
  auto group = c.getInt("group", 1);
  auto outPad = c.getInts("output_padding", SmallVector<int64_t>(spatial, 0));
  auto outShape = c.getInts("output_shape", {});
  auto autoPad = c.getString("auto_pad", "NOTSET");
  if (failed(group) || failed(outPad) || failed(outShape) || failed(autoPad))
    return failure();
  // ConvTranspose's SAME pads differ from Conv's: resolve them below.
  Window w;
  {
    auto kernel = c.getInts("kernel_shape", weight.getShape().drop_front(2));
    auto strides = c.getInts("strides", SmallVector<int64_t>(spatial, 1));
    auto dil = c.getInts("dilations", SmallVector<int64_t>(spatial, 1));
    auto pads = c.getInts("pads", SmallVector<int64_t>(2 * spatial, 0));
    if (failed(kernel) || failed(strides) || failed(dil) || failed(pads))
      return failure();
    if ((int64_t)kernel->size() != spatial ||
        (int64_t)strides->size() != spatial || (int64_t)dil->size() != spatial ||
        (int64_t)pads->size() != 2 * spatial ||
        (int64_t)outPad->size() != spatial)
      return c.fail("kernel_shape/strides/dilations/pads/output_padding do not "
                    "match the input's spatial rank");
    w = {*kernel, *strides, *dil, *pads};
    // Bounded so that the extents below cannot overflow an int64.
    constexpr int64_t kMax = int64_t(1) << 30;
    for (int64_t i = 0; i < spatial; ++i) {
      if (w.kernel[i] < 1 || w.kernel[i] > kMax)
        return c.fail("kernel extents must be in [1, 2^30] (no kernel_shape "
                      "and a weight with dynamic spatial dims?)");
      if (w.strides[i] < 1 || w.dilations[i] < 1 || w.strides[i] > kMax ||
          w.dilations[i] > kMax)
        return c.fail("strides and dilations must be in [1, 2^30]");
      if ((*outPad)[i] < 0 || (*outPad)[i] > kMax)
        return c.fail("output_padding must be in [0, 2^30]");
    }
  }
  bool same = *autoPad == "SAME_UPPER" || *autoPad == "SAME_LOWER";
  if (!outShape->empty() || same) {
    SmallVector<int64_t> target = *outShape;
    if ((int64_t)target.size() == spatial + 2)
      target.erase(target.begin(), target.begin() + 2);
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t in = input.getDimSize(i + 2);
      if (!ShapedType::isDynamic(in) && in > (int64_t(1) << 30))
        return c.fail("spatial dims over 2^30 are not supported");
    }
    for (int64_t t : target)
      if (t < 0 || t > (int64_t(1) << 30))
        return c.fail("output_shape entries must be in [0, 2^30]");
    if (target.empty())
      for (int64_t i = 0; i < spatial; ++i)
        target.push_back(ShapedType::isDynamic(input.getDimSize(i + 2))
                             ? kDyn
                             : input.getDimSize(i + 2) * w.strides[i]);
    if ((int64_t)target.size() != spatial)
      return c.fail("output_shape has " + Twine(outShape->size()) + " entries");
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t in = input.getDimSize(i + 2);
      if (ShapedType::isDynamic(in) || ShapedType::isDynamic(target[i]))
        return c.fail("output_shape/auto_pad needs static spatial dims");
      int64_t total = w.strides[i] * (in - 1) + (*outPad)[i] +
                      (w.kernel[i] - 1) * w.dilations[i] + 1 - target[i];
      if (total < 0) {
        // A larger output than the kernel covers: extend with output padding.
        (*outPad)[i] += -total;
        total = 0;
      }
      int64_t half = total / 2;
      w.pads[i] = *autoPad == "SAME_UPPER" ? half : total - half;
      w.pads[i + spatial] = *autoPad == "SAME_UPPER" ? total - half : half;
    }
  } else if (*autoPad == "VALID") {
    std::fill(w.pads.begin(), w.pads.end(), 0);
  } else if (*autoPad != "NOTSET") {
    return c.fail("unknown auto_pad '" + *autoPad + "'");
  }
  SmallVector<Value> operands{c.input(0), c.input(1)};
  if (c.input(2))
    operands.push_back(c.input(2));
  return c.emit<k::ConvTransposeOp>(
      operands,
      {c.named("strides", c.b.getDenseI64ArrayAttr(w.strides)),
       c.named("pads", c.b.getDenseI64ArrayAttr(w.pads)),
       c.named("dilations", c.b.getDenseI64ArrayAttr(w.dilations)),
       c.named("output_padding", c.b.getDenseI64ArrayAttr(*outPad)),
       c.named("group", c.b.getI64IntegerAttr(*group))});
}

template <typename OpTy>
LogicalResult convertPool(NodeContext &c) {
  if (failed(c.requireInputs(1)))
    return failure();
  constexpr bool isMax = std::is_same_v<OpTy, k::MaxPoolOp>;
  if (c.outputUsed(1) && !isMax)
    return c.fail("has no second output");
  auto input = c.typeOf(c.input(0));
  if (!c.hasAttr("kernel_shape"))
    return c.fail("attribute 'kernel_shape' is required");
  auto w = readWindow(c, input, {});
  auto ceil = c.getInt("ceil_mode", 0);
  if (failed(w) || failed(ceil))
    return failure();
  SmallVector<NamedAttribute> attrs{
      c.named("kernel_shape", c.b.getDenseI64ArrayAttr(w->kernel)),
      c.named("strides", c.b.getDenseI64ArrayAttr(w->strides)),
      c.named("pads", c.b.getDenseI64ArrayAttr(w->pads)),
      c.named("dilations", c.b.getDenseI64ArrayAttr(w->dilations)),
      c.named("ceil_mode", c.b.getBoolAttr(*ceil))};
  if constexpr (std::is_same_v<OpTy, k::AveragePoolOp>) {
    auto cip = c.getInt("count_include_pad", 0);
    if (failed(cip))
      return failure();
    attrs.push_back(c.named("count_include_pad", c.b.getBoolAttr(*cip)));
  }
  if (isMax && c.outputUsed(1)) { // Indices: each maximum's flat index
    auto order = c.getInt("storage_order", 0);
    if (failed(order))
      return failure();
    attrs.push_back(c.named("storage_order", c.b.getI64IntegerAttr(*order)));
    auto r = c.create<k::MaxPoolWithIndicesOp>({c.input(0)}, attrs, 2);
    if (failed(r))
      return failure();
    c.outputs.append(r->begin(), r->end());
    return success();
  }
  return c.emit<OpTy>(c.input(0), attrs);
}

/// MaxUnpool: zeros of the output shape with X's values at the flat
/// indices I (MaxPool's Indices, over N, C and the spatial dims of the
/// default output, (in - 1) * stride + kernel - pads per spatial dim), i.e.
/// a ScatterElements on the flattened tensors. With an output_shape input
/// the default output sits at its start (ONNX's reference pads at the
/// end): the indices are re-flattened over output_shape's spatial dims.
LogicalResult convertMaxUnpool(NodeContext &c) {
  if (failed(c.requireInputs(2)))
    return failure();
  Value x = c.input(0), idx = c.input(1);
  auto xt = c.typeOf(x);
  auto w = readWindow(c, xt, {});
  if (failed(w))
    return failure();
  if (!c.typeOf(idx).getElementType().isInteger(64))
    return c.fail("the indices I must be int64, got " + k::typeStr(c.typeOf(idx)));
  int64_t sp = xt.getRank() - 2;
  SmallVector<int64_t> dflt;
  for (int64_t i = 0; i < sp; ++i) {
    int64_t in = xt.getDimSize(i + 2);
    if (ShapedType::isDynamic(in))
      return c.fail("spatial dim " + Twine(i) + " of X is dynamic");
    dflt.push_back((in - 1) * w->strides[i] + w->kernel[i] - w->pads[i] -
                   w->pads[i + sp]);
    if (dflt.back() < 1)
      return c.fail("spatial dim " + Twine(i) + " of the output would be " +
                    Twine(dflt.back()));
  }
  auto bin = [&](auto tag, Value a, Value b) -> FailureOr<Value> {
    return c.make<decltype(tag)>(ValueRange{a, b});
  };
  Value shape, flatIdx = idx;
  if (c.input(2)) {
    auto t = c.typeOf(c.input(2));
    if (t.getRank() != 1 || !t.getElementType().isInteger(64))
      return c.fail("output_shape must be a 1-D int64 tensor, got " + k::typeStr(t));
    shape = c.input(2);
    // idx = nc * plane + sum(coord_i * tail_i) over the default dims ->
    // nc * prod(out_i) + the coords flattened over out_i.
    int64_t plane = 1;
    for (int64_t d : dflt)
      plane *= d;
    auto out = bin(k::DivOp(), idx, c.i64Scalar(plane));
    auto rest = c.make<k::ModOp>(ValueRange{idx, c.i64Scalar(plane)});
    if (failed(out) || failed(rest))
      return failure();
    int64_t tail = plane;
    for (int64_t i = 0; i < sp; ++i) {
      tail /= dflt[i];
      auto q = bin(k::DivOp(), *rest, c.i64Scalar(tail));
      if (failed(q))
        return failure();
      auto coord = c.make<k::ModOp>(ValueRange{*q, c.i64Scalar(dflt[i])});
      auto extent = c.make<k::GatherOp>(ValueRange{shape, c.i64Scalar(2 + i)},
                                        {c.named("axis", c.b.getI64IntegerAttr(0))});
      if (failed(coord) || failed(extent))
        return failure();
      auto scaled = bin(k::MulOp(), *out, *extent);
      if (failed(scaled))
        return failure();
      out = bin(k::AddOp(), *scaled, *coord);
      if (failed(out))
        return failure();
    }
    flatIdx = *out;
  } else {
    auto lead = c.make<k::ShapeOp>(x, {c.named("end", c.b.getI64IntegerAttr(2))});
    if (failed(lead))
      return failure();
    auto cat = c.make<k::ConcatOp>({*lead, c.i64Vector(dflt)},
                                   {c.named("axis", c.b.getI64IntegerAttr(0))});
    if (failed(cat))
      return failure();
    shape = *cat;
  }
  Type elt = xt.getElementType();
  auto zero = DenseElementsAttr::get(RankedTensorType::get({1}, elt),
                                     ArrayRef<Attribute>{c.b.getZeroAttr(elt)});
  auto zeros = c.make<k::ConstantOfShapeOp>(shape, {c.named("value", zero)});
  if (failed(zeros))
    return failure();
  Value flatShape = c.i64Vector({-1});
  auto flatZeros = c.make<k::ReshapeOp>({*zeros, flatShape});
  auto flatX = c.make<k::ReshapeOp>({x, flatShape});
  auto flatI = c.make<k::ReshapeOp>({flatIdx, flatShape});
  if (failed(flatZeros) || failed(flatX) || failed(flatI))
    return failure();
  auto scattered = c.make<k::ScatterElementsOp>(
      {*flatZeros, *flatI, *flatX},
      {c.named("axis", c.b.getI64IntegerAttr(0)),
       c.named("reduction", c.b.getStringAttr("none"))});
  if (failed(scattered))
    return failure();
  return c.emit<k::ReshapeOp>({*scattered, shape});
}

/// LayerNormalization whose Mean and InvStdDev outputs are used (training
/// graphs, the node tests): the normalization spelled out so they exist,
///   mean = E[x], d = x - mean, inv = 1 / sqrt(E[d^2] + eps),
///   y = d * inv * scale (+ bias)
/// over the dims from `axis` on, mean and inv kept with unit dims there.
static LogicalResult layerNormWithStats(NodeContext &c, int64_t axis, float eps) {
  Value x = c.input(0);
  auto xt = c.typeOf(x);
  if (!isa<FloatType>(xt.getElementType()))
    return c.fail("input must be a float tensor");
  auto a = c.normAxis(axis, xt.getRank());
  if (failed(a))
    return failure();
  SmallVector<int64_t> axes;
  for (int64_t d = *a; d < xt.getRank(); ++d)
    axes.push_back(d);
  auto attrs = {c.named("axes", c.b.getDenseI64ArrayAttr(axes)),
                c.named("keepdims", c.b.getBoolAttr(true))};
  auto mean = c.make<k::ReduceMeanOp>(x, attrs);
  if (failed(mean))
    return failure();
  auto d = c.make<k::SubOp>(ValueRange{x, *mean});
  if (failed(d))
    return failure();
  auto d2 = c.make<k::MulOp>(ValueRange{*d, *d});
  if (failed(d2))
    return failure();
  auto var = c.make<k::ReduceMeanOp>(*d2, attrs);
  if (failed(var))
    return failure();
  auto ve = c.make<k::AddOp>(ValueRange{*var, c.scalarLike(xt.getElementType(), eps)});
  if (failed(ve))
    return failure();
  auto sd = c.make<k::SqrtOp>(*ve);
  if (failed(sd))
    return failure();
  auto inv = c.make<k::ReciprocalOp>(*sd);
  if (failed(inv))
    return failure();
  auto y = c.make<k::MulOp>(ValueRange{*d, *inv});
  if (failed(y))
    return failure();
  y = c.make<k::MulOp>(ValueRange{*y, c.input(1)});
  if (failed(y))
    return failure();
  if (c.input(2)) {
    y = c.make<k::AddOp>(ValueRange{*y, c.input(2)});
    if (failed(y))
      return failure();
  }
  c.outputs.push_back(*y);
  if (c.numOutputs() > 1)
    c.outputs.push_back(*mean);
  if (c.numOutputs() > 2)
    c.outputs.push_back(*inv);
  return success();
}

/// Softmax, LogSoftmax, Hardmax. A model upgraded from opset < 13 by the
/// importer (upgradeOpset) carries the node's old axis in
/// `kiln_legacy_axis`: the old forms coerce the input to 2-D at that axis,
/// so the op runs over all the dims from it on (flatten, op over the last
/// dim, reshape back). ONNX's own adapter needs the input's rank in the
/// model's shape annotations, which exporters often leave out.
template <typename OpTy>
LogicalResult convertAxisOp(NodeContext &c) {
  auto axis = c.getInt("axis", -1);
  if (failed(c.requireInputs(1)) || failed(axis))
    return failure();
  Value x = c.input(0);
  if (c.hasAttr("kiln_legacy_axis")) {
    auto legacy = c.getInt("kiln_legacy_axis", 1);
    if (failed(legacy))
      return failure();
    int64_t rank = c.typeOf(x).getRank();
    auto a = c.normAxis(*legacy, rank == 0 ? 1 : rank);
    if (failed(a))
      return failure();
    if (*a < rank - 1) {
      auto flat = c.make<k::FlattenOp>(x, {c.named("axis", c.b.getI64IntegerAttr(*a))});
      if (failed(flat))
        return failure();
      auto y = c.make<OpTy>(*flat, {c.named("axis", c.b.getI64IntegerAttr(-1))});
      if (failed(y))
        return failure();
      auto shape = c.make<k::ShapeOp>(x);
      if (failed(shape))
        return failure();
      return c.emit<k::ReshapeOp>(ValueRange{*y, *shape});
    }
    axis = *a;
  }
  return c.emit<OpTy>(x, {c.named("axis", c.b.getI64IntegerAttr(*axis))});
}

/// ReduceSum takes axes as an input from opset 13, the others from 18.
template <typename OpTy>
Converter reduce(int64_t axesInputSince) {
  return [axesInputSince](NodeContext &c) -> LogicalResult {
    auto keep = c.getInt("keepdims", 1);
    auto noop = c.getInt("noop_with_empty_axes", 0);
    if (failed(c.requireInputs(1)) || failed(keep) || failed(noop))
      return failure();
    int64_t rank = c.typeOf(c.input(0)).getRank();
    SmallVector<int64_t> axes;
    if (c.opset >= axesInputSince) {
      if (c.hasAttr("axes"))
        return c.fail("axes is an input from opset " + Twine(axesInputSince) +
                      ", not an attribute");
      if (c.input(1) && !c.isConstInts(1)) {
        // ReduceSum only: a sum over a set of dims is the sum over each in
        // turn (ReduceLogSum is its log).
        bool logSum = std::is_same_v<OpTy, k::ReduceLogSumOp>;
        if (!std::is_same_v<OpTy, k::ReduceSumOp> && !logSum)
          return c.fail("input 'axes' must be a compile-time constant "
                        "integer tensor");
        auto n = c.typeOf(c.input(1));
        if (!(n.hasStaticShape() && n.getNumElements() == 0)) {
          auto y = reduceSumAtRunTime(c, c.input(0), c.input(1), *keep);
          if (failed(y))
            return failure();
          if (logSum)
            return c.emit<k::LogOp>(*y);
          c.outputs.push_back(*y);
          return success();
        }
      }
      if (c.input(1)) {
        auto v = c.constInts(1, "axes");
        if (failed(v))
          return failure();
        axes = *v;
      }
    } else {
      auto v = c.getInts("axes", {});
      if (failed(v))
        return failure();
      axes = *v;
    }
    if (axes.empty()) {
      if (*noop) {
        c.outputs.push_back(c.input(0));
        return success();
      }
      axes = llvm::to_vector(llvm::seq<int64_t>(0, rank));
    }
    for (int64_t &a : axes) {
      auto n = c.normAxis(a, rank);
      if (failed(n))
        return failure();
      a = *n;
    }
    llvm::sort(axes);
    if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
      return c.fail("axes contain a duplicate");
    return c.emit<OpTy>(c.input(0),
                        {c.named("axes", c.b.getDenseI64ArrayAttr(axes)),
                         c.named("keepdims", c.b.getBoolAttr(*keep))});
  };
}

template <typename OpTy>
LogicalResult convertArg(NodeContext &c) {
  auto axis = c.getInt("axis", 0), keep = c.getInt("keepdims", 1),
       last = c.getInt("select_last_index", 0);
  if (failed(c.requireInputs(1)) || failed(axis) || failed(keep) || failed(last))
    return failure();
  return c.emit<OpTy>(c.input(0),
                      {c.named("axis", c.b.getI64IntegerAttr(*axis)),
                       c.named("keepdims", c.b.getBoolAttr(*keep)),
                       c.named("select_last_index", c.b.getBoolAttr(*last))});
}

} // namespace

LogicalResult(::kiln::import::convertConvNode)(NodeContext &c) {
  return convertConv(c);
}

void ::kiln::import::addNNConverters(llvm::StringMap<Converter> &m) {
  m["MatMul"] = [](NodeContext &c) -> LogicalResult {
    if (failed(c.requireInputs(2)))
      return failure();
    return c.emit<k::MatmulOp>({c.input(0), c.input(1)});
  };
  m["Gemm"] = convertGemm;
  m["Einsum"] = [](NodeContext &c) -> LogicalResult {
    auto eq = c.getString("equation", "");
    if (c.numInputs() == 0)
      return c.fail("expects at least one input");
    if (failed(eq) || failed(c.requireInputs(c.numInputs())))
      return failure();
    return c.emit<k::EinsumOp>(c.inputs,
                               {c.named("equation", c.b.getStringAttr(*eq))});
  };
  m["Conv"] = convertConv;
  m["ConvTranspose"] = convertConvTranspose;
  m["MaxPool"] = convertPool<k::MaxPoolOp>;
  m["MaxUnpool"] = convertMaxUnpool;
  m["AveragePool"] = convertPool<k::AveragePoolOp>;
  m["GlobalAveragePool"] = [](NodeContext &c) -> LogicalResult {
    if (failed(c.requireInputs(1)))
      return failure();
    return c.emit<k::GlobalAveragePoolOp>(c.input(0));
  };
  m["GlobalMaxPool"] = [](NodeContext &c) -> LogicalResult {
    if (failed(c.requireInputs(1)))
      return failure();
    return c.emit<k::GlobalMaxPoolOp>(c.input(0));
  };
  m["BatchNormalization"] = [](NodeContext &c) -> LogicalResult {
    auto eps = c.getFloat("epsilon", 1e-5f);
    auto training = c.getInt("training_mode", 0);
    if (failed(c.requireInputs(5)) || failed(eps) || failed(training))
      return failure();
    if (*training)
      return batchNormTraining(c, *eps);
    if (c.outputUsed(1))
      return c.fail("running-statistics outputs need training_mode = 1");
    return c.emit<k::BatchNormOp>(
        {c.input(0), c.input(1), c.input(2), c.input(3), c.input(4)},
        {c.named("epsilon", c.b.getF32FloatAttr(*eps))});
  };
  m["InstanceNormalization"] = [](NodeContext &c) -> LogicalResult {
    auto eps = c.getFloat("epsilon", 1e-5f);
    if (failed(c.requireInputs(3)) || failed(eps))
      return failure();
    return c.emit<k::InstanceNormOp>(
        {c.input(0), c.input(1), c.input(2)},
        {c.named("epsilon", c.b.getF32FloatAttr(*eps))});
  };
  m["LayerNormalization"] = [](NodeContext &c) -> LogicalResult {
    auto eps = c.getFloat("epsilon", 1e-5f);
    auto axis = c.getInt("axis", -1);
    if (failed(c.requireInputs(2)) || failed(eps) || failed(axis))
      return failure();
    if (c.outputUsed(1) || c.outputUsed(2))
      return layerNormWithStats(c, *axis, *eps);
    SmallVector<Value> operands{c.input(0), c.input(1)};
    if (c.input(2))
      operands.push_back(c.input(2));
    return c.emit<k::LayerNormOp>(
        operands, {c.named("axis", c.b.getI64IntegerAttr(*axis)),
                   c.named("epsilon", c.b.getF32FloatAttr(*eps))});
  };
  m["Softmax"] = convertAxisOp<k::SoftmaxOp>;
  m["LogSoftmax"] = convertAxisOp<k::LogSoftmaxOp>;
  m["Hardmax"] = convertAxisOp<k::HardmaxOp>;
  m["ReduceSum"] = reduce<k::ReduceSumOp>(13);
  m["ReduceMean"] = reduce<k::ReduceMeanOp>(18);
  m["ReduceMax"] = reduce<k::ReduceMaxOp>(18);
  m["ReduceMin"] = reduce<k::ReduceMinOp>(18);
  m["ReduceProd"] = reduce<k::ReduceProdOp>(18);
  m["ReduceL1"] = reduce<k::ReduceL1Op>(18);
  m["ReduceL2"] = reduce<k::ReduceL2Op>(18);
  m["ReduceLogSum"] = reduce<k::ReduceLogSumOp>(18);
  m["ReduceLogSumExp"] = reduce<k::ReduceLogSumExpOp>(18);
  m["ReduceSumSquare"] = reduce<k::ReduceSumSquareOp>(18);
  m["ArgMax"] = convertArg<k::ArgMaxOp>;
  m["ArgMin"] = convertArg<k::ArgMinOp>;
  m["CumSum"] = [](NodeContext &c) -> LogicalResult {
    auto excl = c.getInt("exclusive", 0), rev = c.getInt("reverse", 0);
    if (failed(c.requireInputs(2)) || failed(excl) || failed(rev))
      return failure();
    if (!c.isConstInts(1)) {
      auto y = cumSumAtRunTime(c, c.input(0), c.input(1), *excl, *rev);
      if (failed(y))
        return failure();
      c.outputs.push_back(*y);
      return success();
    }
    auto axis = c.constInts(1, "axis");
    if (failed(axis))
      return failure();
    if (axis->size() != 1)
      return c.fail("axis must hold one value");
    return c.emit<k::CumSumOp>(
        c.input(0), {c.named("axis", c.b.getI64IntegerAttr((*axis)[0])),
                     c.named("exclusive", c.b.getBoolAttr(*excl)),
                     c.named("reverse", c.b.getBoolAttr(*rev))});
  };
  m["TopK"] = [](NodeContext &c) -> LogicalResult {
    auto axis = c.getInt("axis", -1), largest = c.getInt("largest", 1),
         sorted = c.getInt("sorted", 1);
    if (failed(c.requireInputs(2)) || failed(axis) || failed(largest) ||
        failed(sorted))
      return failure();
    auto r = c.create<k::TopKOp>(
        {c.input(0), c.input(1)},
        {c.named("axis", c.b.getI64IntegerAttr(*axis)),
         c.named("largest", c.b.getBoolAttr(*largest)),
         c.named("sorted", c.b.getBoolAttr(*sorted))},
        2);
    if (failed(r))
      return failure();
    c.outputs.append(r->begin(), r->end());
    return success();
  };
}
