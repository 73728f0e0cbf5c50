//===- ConvertQuant.cpp - quantization ONNX ops ---------------------------===//
//
// QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, MatMulInteger,
// QLinearMatMul, ConvInteger and QLinearConv, written as the kiln ops of
// their definitions (casts, round, clip, reductions, an i32 matmul, a
// convolution on dequantized values). This is the portable path: it runs
// ONNX Runtime's quantized models (quantize_dynamic's DynamicQuantizeLinear
// + MatMulInteger form, QDQ) correctly but at fp32/i32 speed; `kiln compile
// --quantize int8` is the fast path for fp32 models.
//
// com.microsoft MatMulNBits is ConvertMatMulNBits.cpp's.
//
// Opset 21's blocked Q/DQ (block_size) repeat each scale and zero point
// over its block along the axis (a gather); INT4/UINT4 tensors are held one
// value per byte (Tensors.cpp) and saturate at the 4-bit ranges. Constant
// blocked or 4-bit weights (ORT's 4-bit quantizer in its QDQ format) are
// dequantized at import into one f32 constant, like MatMulNBits.
//
// Not covered: float8 and float4 types; blocked quantization along a
// dynamic extent; MatMulNBits with bits other than 4, g_idx, float zero
// points or non-constant weights; those fail with an error naming the node.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

#include <cstring>

using namespace ::kiln::import;
namespace k = mlir::kiln;

namespace {

FailureOr<Value> castTo(NodeContext &c, Value v, Type elt) {
  auto t = c.typeOf(v);
  if (t.getElementType() == elt)
    return v;
  auto r = c.createTyped<k::CastOp>(v, {}, {t.clone(elt)});
  if (failed(r))
    return failure();
  return (*r)[0];
}


/// The range of a quantized element type (4-bit when `fourBit` names
/// UINT4 or INT4, held in ui8 / i8), or failure naming it.
FailureOr<std::pair<double, double>> rangeOf(NodeContext &c, Type elt,
                                              int fourBit = 0) {
  auto it = dyn_cast<IntegerType>(elt);
  if (!it || (it.getWidth() != 8 && it.getWidth() != 16))
    return c.fail("quantized type must be int4, uint4, int8, uint8, int16 or "
                  "uint16");
  double span = std::ldexp(1.0, fourBit ? 4 : it.getWidth());
  if (it.isUnsigned())
    return std::make_pair(0.0, span - 1);
  return std::make_pair(-span / 2, span / 2 - 1);
}

/// How a Q/DQ node's scale (and zero point) map onto its input: per tensor
/// (a scalar or one value), per axis (1-D along `axis`), or in opset 21's
/// blocks of `block` consecutive values along `axis` (scale of the input's
/// rank and extents, except ceil(D / block) along `axis`).
struct QuantLayout {
  int64_t axis = 0;  // normalized; meaningful when not per tensor
  int64_t block = 0; // 0: not blocked
  int64_t extent = 0; // D, the input's static extent along axis (blocked)
  bool perTensor = false;
};

FailureOr<QuantLayout> layoutOf(NodeContext &c, Value x, Value scale,
                                Value zp) {
  auto axisAttr = c.getInt("axis", 1), block = c.getInt("block_size", 0);
  if (failed(axisAttr) || failed(block))
    return failure();
  auto xt = c.typeOf(x), st = c.typeOf(scale);
  QuantLayout l;
  if (zp && c.typeOf(zp).getShape() != st.getShape())
    return c.fail("zero point shape " + mlir::kiln::typeStr(c.typeOf(zp)) +
                  " differs from the scale's " + mlir::kiln::typeStr(st));
  if (*block < 0)
    return c.fail("block_size must be >= 0, got " + Twine(*block));
  if (*block == 0) {
    l.perTensor =
        st.getRank() == 0 || (st.getRank() == 1 && st.getDimSize(0) == 1);
    if (!l.perTensor && st.getRank() != 1)
      return c.fail("scale must be a scalar or 1-D (per axis) without "
                    "block_size, got " + mlir::kiln::typeStr(st));
    if (!l.perTensor) {
      auto a = c.normAxis(*axisAttr, xt.getRank());
      if (failed(a))
        return failure();
      l.axis = *a;
      int64_t d = xt.getDimSize(l.axis), n = st.getDimSize(0);
      if (!ShapedType::isDynamic(d) && !ShapedType::isDynamic(n) && d != n)
        return c.fail("per-axis scale has " + Twine(n) +
                      " values, but the input's axis " + Twine(l.axis) +
                      " has extent " + Twine(d));
    }
    return l;
  }
  l.block = *block;
  int64_t rank = xt.getRank();
  if (st.getRank() != rank || rank == 0)
    return c.fail("blocked quantization (block_size " + Twine(*block) +
                  ") needs a scale of the input's rank " + Twine(rank) +
                  ", got " + mlir::kiln::typeStr(st));
  auto a = c.normAxis(*axisAttr, rank);
  if (failed(a))
    return failure();
  l.axis = *a;
  l.extent = xt.getDimSize(l.axis);
  if (ShapedType::isDynamic(l.extent))
    return c.fail("blocked quantization needs a static extent along axis " +
                  Twine(l.axis) + " of the input");
  int64_t blocks = (l.extent + *block - 1) / *block;
  for (int64_t i = 0; i < rank; ++i) {
    int64_t want = i == l.axis ? blocks : xt.getDimSize(i);
    int64_t got = st.getDimSize(i);
    if (ShapedType::isDynamic(got) && i == l.axis)
      return c.fail("blocked quantization needs a static scale extent along "
                    "axis " + Twine(l.axis));
    if (!ShapedType::isDynamic(got) && !ShapedType::isDynamic(want) &&
        got != want)
      return c.fail("blocked quantization: scale dim " + Twine(i) + " is " +
                    Twine(got) + ", expected " + Twine(want) + " (" +
                    (i == l.axis ? "ceil(" + Twine(l.extent) + " / block_size " +
                                       Twine(*block) + ")"
                                 : Twine("the input's extent")) +
                    ")");
  }
  return l;
}

/// A scale or zero point shaped to broadcast against the input: per-axis
/// vectors reshaped along the axis, blocks repeated block-size times along
/// it (a gather of value d / block for each d < D).
FailureOr<Value> broadcastable(NodeContext &c, Value v, int64_t rank,
                               const QuantLayout &l) {
  if (l.perTensor)
    return v;
  if (l.block) {
    SmallVector<int64_t> idx(l.extent);
    for (int64_t d = 0; d < l.extent; ++d)
      idx[d] = d / l.block;
    return c.make<k::GatherOp>(ValueRange{v, c.i64Vector(idx)},
                               {c.named("axis", c.b.getI64IntegerAttr(l.axis))});
  }
  SmallVector<int64_t> shape(rank, 1);
  shape[l.axis] = -1;
  return c.make<k::ReshapeOp>({v, c.i64Vector(shape)});
}

/// saturate(round(x / scale) + zp) as `elt` (x, scale: float; zp: float or
/// null), to the 4-bit range when `fourBit` names UINT4 or INT4.
FailureOr<Value> quantize(NodeContext &c, Value x, Value scale, Value zpf,
                          Type elt, int fourBit = 0) {
  auto range = rangeOf(c, elt, fourBit);
  if (failed(range))
    return failure();
  Type f = c.typeOf(x).getElementType();
  auto q = c.make<k::DivOp>({x, scale});
  if (succeeded(q))
    q = c.make<k::RoundOp>(*q);
  if (succeeded(q) && zpf)
    q = c.make<k::AddOp>({*q, zpf});
  if (failed(q))
    return failure();
  auto clipped = c.make<k::ClipOp>(
      {*q, c.scalarLike(f, range->first), c.scalarLike(f, range->second)},
      {c.named("operandSegmentSizes", c.b.getDenseI32ArrayAttr({1, 1, 1}))});
  if (failed(clipped))
    return failure();
  return castTo(c, *clipped, elt);
}

/// (x - zp) * s computed at import into an f32 constant, for constant
/// 8-bit (or 4-bit) or 32-bit x and zp and f32 scales: blocked and 4-bit
/// weights, which the int8 rewrites do not take (weight-only 4-bit QDQ
/// models; as for MatMulNBits, `--quantize int4` re-packs the result), and
/// the filters and int32 biases of QDQ convolutions (see
/// convertDequantizeLinear). Nothing when an operand is not such a
/// constant.
std::optional<Value> foldDequantize(NodeContext &c, Value x, Value scale,
                                    Value zp, const QuantLayout &l) {
  auto xt = c.typeOf(x);
  int bytes = xt.getElementType().isInteger(8)    ? 1
              : xt.getElementType().isInteger(32) ? 4
                                                  : 0;
  if (!xt.hasStaticShape() || !bytes ||
      !c.typeOf(scale).getElementType().isF32() ||
      !c.typeOf(scale).hasStaticShape())
    return std::nullopt;
  std::vector<char> xStore, sStore, zStore;
  auto xb = constantBytes(x, xStore);
  auto sb = constantBytes(scale, sStore);
  std::optional<ArrayRef<char>> zb;
  if (zp)
    zb = constantBytes(zp, zStore);
  int64_t numel = xt.getNumElements();
  int64_t scales = c.typeOf(scale).getNumElements();
  if (!xb || !sb || (zp && !zb) || (int64_t)xb->size() != bytes * numel ||
      (int64_t)sb->size() != 4 * scales ||
      (zb && (int64_t)zb->size() != bytes * scales))
    return std::nullopt;
  bool isSigned = !xt.getElementType().isUnsignedInteger();
  // (x - zp) in integers first: an int32 bias and its zero point may
  // exceed float's 24 exact bits
  auto val = [&](ArrayRef<char> b, int64_t i) -> int64_t {
    if (bytes == 4) {
      int32_t v;
      std::memcpy(&v, b.data() + 4 * i, 4);
      return isSigned ? (int64_t)v : (int64_t)(uint32_t)v;
    }
    return isSigned ? (int64_t)(int8_t)b[i] : (int64_t)(uint8_t)b[i];
  };
  // Element i = (outer, a along the axis, inner): its scale is scale[0]
  // (per tensor), scale[a] (per axis) or scale[outer][a / block][inner].
  int64_t inner = 1, extent = l.perTensor ? 1 : xt.getDimSize(l.axis);
  for (int64_t d = l.axis + 1; !l.perTensor && d < xt.getRank(); ++d)
    inner *= xt.getDimSize(d);
  int64_t blocks = l.block ? (extent + l.block - 1) / l.block : 0;
  if (!l.perTensor && !l.block && scales != extent)
    return std::nullopt; // (layoutOf rejects this)
  std::vector<float> out(numel);
  const char *sp = sb->data();
  for (int64_t i = 0; i < numel; ++i) {
    int64_t si = 0;
    if (!l.perTensor) {
      int64_t a = (i / inner) % extent;
      si = l.block ? ((i / inner / extent) * blocks + a / l.block) * inner +
                         i % inner
                   : a;
    }
    float s;
    std::memcpy(&s, sp + 4 * si, 4);
    float q = (float)(val(*xb, i) - (zb ? val(*zb, si) : 0));
    out[i] = q * s;
  }
  auto type = RankedTensorType::get(xt.getShape(), c.b.getF32Type());
  if (numel <= 256)
    return c.constant(cast<ElementsAttr>(
        DenseElementsAttr::get(type, ArrayRef<float>(out))));
  auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      ArrayRef<char>(reinterpret_cast<const char *>(out.data()), out.size() * 4),
      alignof(float));
  return c.constant(cast<ElementsAttr>(
      DenseResourceElementsAttr::get(type, "dequantized", std::move(blob))));
}

/// (x - zp) * scale in scale's float type.
FailureOr<Value> dequantize(NodeContext &c, Value x, Value scale, Value zp,
                            const QuantLayout &l) {
  int64_t rank = c.typeOf(x).getRank();
  Type f = c.typeOf(scale).getElementType();
  auto s = broadcastable(c, scale, rank, l);
  auto v = castTo(c, x, f);
  if (failed(s) || failed(v))
    return failure();
  if (zp) {
    auto z = broadcastable(c, zp, rank, l);
    if (failed(z))
      return failure();
    auto zf = castTo(c, *z, f);
    if (succeeded(zf))
      v = c.make<k::SubOp>({*v, *zf});
    if (failed(zf) || failed(v))
      return failure();
  }
  return c.make<k::MulOp>({*v, *s});
}

/// Per-tensor or per-axis (not blocked) dequantization, for the integer
/// ops' operands.
FailureOr<Value> dequantize(NodeContext &c, Value x, Value scale, Value zp,
                            int64_t axis) {
  QuantLayout l;
  auto st = c.typeOf(scale);
  l.perTensor = st.getRank() == 0 || (st.getRank() == 1 && st.getDimSize(0) == 1);
  if (!l.perTensor) {
    if (st.getRank() != 1)
      return c.fail("scale and zero point must be scalars or 1-D (per axis)");
    auto a = c.normAxis(axis, c.typeOf(x).getRank());
    if (failed(a))
      return failure();
    l.axis = *a;
  }
  return dequantize(c, x, scale, zp, l);
}

LogicalResult convertQuantizeLinear(NodeContext &c) {
  if (failed(c.requireInputs(2)))
    return failure();
  auto dtype = c.getInt("output_dtype", 0);
  if (failed(dtype))
    return failure();
  Value x = c.input(0), zp = c.input(2);
  // The output type: the zero point's, else output_dtype's, else uint8.
  int fourBit = zp ? fourBitTypeOf(zp) : isFourBitType(*dtype) ? *dtype : 0;
  Type elt = zp ? c.typeOf(zp).getElementType()
             : fourBit ? fourBitStorageType(c.ctx(), fourBit)
             : *dtype ? onnxElementType(c.ctx(), *dtype)
                      : IntegerType::get(c.ctx(), 8, IntegerType::Unsigned);
  if (!elt)
    return c.fail("unsupported output_dtype " + onnxTypeName(*dtype));
  Type f = c.typeOf(x).getElementType();
  if (!isa<FloatType>(f))
    return c.fail("input must be a float tensor");
  auto l = layoutOf(c, x, c.input(1), zp);
  if (failed(l))
    return failure();
  int64_t rank = c.typeOf(x).getRank();
  auto s = broadcastable(c, c.input(1), rank, *l);
  if (succeeded(s))
    s = castTo(c, *s, f);
  if (failed(s))
    return failure();
  Value zpf;
  if (zp) {
    auto z = broadcastable(c, zp, rank, *l);
    if (succeeded(z))
      z = castTo(c, *z, f);
    if (failed(z))
      return failure();
    zpf = *z;
  }
  auto y = quantize(c, x, *s, zpf, elt, fourBit);
  if (failed(y))
    return failure();
  c.outputs.push_back(*y);
  return success();
}

/// Whether `zp` is absent or a constant of zeros.
bool zeroPointIsZero(Value zp) {
  if (!zp)
    return true;
  std::vector<char> storage;
  std::optional<ArrayRef<char>> b = constantBytes(zp, storage);
  return b && llvm::all_of(*b, [](char v) { return v == 0; });
}

LogicalResult convertDequantizeLinear(NodeContext &c) {
  if (failed(c.requireInputs(2)))
    return failure();
  Value x = c.input(0), scale = c.input(1), zp = c.input(2);
  auto l = layoutOf(c, x, scale, zp);
  if (failed(l))
    return failure();
  // Blocked and 4-bit constant weights: dequantized here (the int8
  // rewrites match per-tensor and per-axis int8 forms as they are). So are
  // constant 8-bit tensors of rank 3 and more (convolution filters) and
  // 32-bit ones (a QDQ convolution's bias at scale x_scale * w_scale): the
  // convolution then has constant f32 operands, which the CPU pipeline
  // packs (direct, Winograd kernels) instead of dequantizing every run.
  // 2-D int8 weights stay as they are for the int8 matmul rewrites.
  // Except signed 2-D filters ([F, C, KH, KW] int8, zero point 0, per
  // tensor or per output channel): kiln-cpu-select-ukernels runs the
  // convolution of a quantized input on them in int8 where the CPU takes
  // it, and folds the dequantization into an f32 filter where it does not
  // (SelectConvUkernels.cpp).
  auto xt = c.typeOf(x);
  bool int8Filter = xt.getRank() == 4 && xt.getElementType().isSignlessInteger(8) &&
                    !l->block && (l->perTensor || l->axis == 0) &&
                    zeroPointIsZero(zp);
  bool filterOrBias = (xt.getElementType().isInteger(8) && xt.getRank() >= 3 &&
                       !int8Filter) ||
                      xt.getElementType().isInteger(32);
  if (l->block || fourBitTypeOf(x) || (zp && fourBitTypeOf(zp)) || filterOrBias)
    if (auto folded = foldDequantize(c, x, scale, zp, *l)) {
      c.outputs.push_back(*folded);
      return success();
    }
  auto y = dequantize(c, x, scale, zp, *l);
  if (failed(y))
    return failure();
  c.outputs.push_back(*y);
  return success();
}

/// y, y_scale, y_zero_point of uint8 x over the whole tensor's range
/// (which is widened to include 0).
LogicalResult convertDynamicQuantizeLinear(NodeContext &c) {
  if (failed(c.requireInputs(1)))
    return failure();
  Value x = c.input(0);
  auto xt = c.typeOf(x);
  Type f = xt.getElementType();
  if (!f.isF32())
    return c.fail("input must be float32");
  Type u8 = IntegerType::get(c.ctx(), 8, IntegerType::Unsigned);
  SmallVector<int64_t> all;
  for (int64_t i = 0; i < xt.getRank(); ++i)
    all.push_back(i);
  Value zero = c.scalarLike(f, 0.0);
  FailureOr<Value> lo = x, hi = x;
  if (!all.empty()) {
    SmallVector<NamedAttribute> attrs{
        c.named("axes", c.b.getDenseI64ArrayAttr(all)),
        c.named("keepdims", c.b.getBoolAttr(false))};
    lo = c.make<k::ReduceMinOp>(x, attrs);
    hi = c.make<k::ReduceMaxOp>(x, attrs);
  }
  if (succeeded(lo))
    lo = c.make<k::MinOp>({*lo, zero});
  if (succeeded(hi))
    hi = c.make<k::MaxOp>({*hi, zero});
  if (failed(lo) || failed(hi))
    return failure();
  auto scale = c.make<k::SubOp>({*hi, *lo});
  if (succeeded(scale))
    scale = c.make<k::DivOp>({*scale, c.scalarLike(f, 255.0)});
  if (failed(scale))
    return failure();
  // zero point: saturate(round(0 - min / scale)) to [0, 255]
  auto zpf = c.make<k::DivOp>({*lo, *scale});
  if (succeeded(zpf))
    zpf = c.make<k::SubOp>({zero, *zpf});
  if (succeeded(zpf))
    zpf = c.make<k::RoundOp>(*zpf);
  if (succeeded(zpf))
    zpf = c.make<k::ClipOp>(
        {*zpf, zero, c.scalarLike(f, 255.0)},
        {c.named("operandSegmentSizes", c.b.getDenseI32ArrayAttr({1, 1, 1}))});
  if (failed(zpf))
    return failure();
  auto y = quantize(c, x, *scale, *zpf, u8);
  auto zp = castTo(c, *zpf, u8);
  if (failed(y) || failed(zp))
    return failure();
  c.outputs.append({*y, *scale, *zp});
  return success();
}

/// (a - a_zp) x (b - b_zp) in int32; a_zp may be per row of a ([M]), b_zp
/// per column of b ([N]).
FailureOr<Value> integerMatmul(NodeContext &c, Value a, Value b, Value azp,
                               Value bzp) {
  Type i32 = IntegerType::get(c.ctx(), 32);
  auto ai = castTo(c, a, i32), bi = castTo(c, b, i32);
  if (failed(ai) || failed(bi))
    return failure();
  if (azp) {
    Value z = azp;
    auto zt = c.typeOf(azp);
    if (zt.getRank() == 1 && zt.getDimSize(0) != 1 && c.typeOf(a).getRank() >= 2) {
      auto r = c.make<k::ReshapeOp>({azp, c.i64Vector({-1, 1})});
      if (failed(r))
        return failure();
      z = *r;
    }
    auto zi = castTo(c, z, i32);
    if (succeeded(zi))
      ai = c.make<k::SubOp>({*ai, *zi});
    if (failed(zi) || failed(ai))
      return failure();
  }
  // A zero point of constant zeros (ONNX Runtime's symmetric int8 weights,
  // per column or not) subtracts nothing: leaving it out keeps the weight a
  // cast of its constant, which the int8 GEMM takes.
  std::vector<char> storage;
  if (auto bytes = constantBytes(bzp, storage))
    if (llvm::all_of(*bytes, [](char ch) { return ch == 0; }))
      bzp = Value();
  if (bzp) {
    auto zi = castTo(c, bzp, i32);
    if (succeeded(zi))
      bi = c.make<k::SubOp>({*bi, *zi});
    if (failed(zi) || failed(bi))
      return failure();
  }
  return c.make<k::MatmulOp>({*ai, *bi});
}

LogicalResult convertMatMulInteger(NodeContext &c) {
  if (failed(c.requireInputs(2)))
    return failure();
  auto y = integerMatmul(c, c.input(0), c.input(1), c.input(2), c.input(3));
  if (failed(y))
    return failure();
  c.outputs.push_back(*y);
  return success();
}

/// a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp: the int32 product
/// scaled by a_scale * b_scale / y_scale and requantized.
LogicalResult convertQLinearMatMul(NodeContext &c) {
  if (failed(c.requireInputs(8)))
    return failure();
  auto acc = integerMatmul(c, c.input(0), c.input(3), c.input(2), c.input(5));
  if (failed(acc))
    return failure();
  Type f = c.typeOf(c.input(1)).getElementType();
  auto accf = castTo(c, *acc, f);
  auto mult = c.make<k::MulOp>({c.input(1), c.input(4)});
  if (succeeded(mult) && succeeded(accf))
    accf = c.make<k::MulOp>({*accf, *mult});
  if (failed(mult) || failed(accf))
    return failure();
  auto zpf = castTo(c, c.input(7), f);
  if (failed(zpf))
    return failure();
  auto y = quantize(c, *accf, c.input(6), *zpf,
                    c.typeOf(c.input(7)).getElementType());
  if (failed(y))
    return failure();
  c.outputs.push_back(*y);
  return success();
}

/// Runs the Conv converter on `x`, `w` (and `bias`) in place of the node's
/// inputs and returns its output.
FailureOr<Value> convOf(NodeContext &c, Value x, Value w, Value bias) {
  SmallVector<Value> saved = c.inputs;
  c.inputs = {x, w};
  if (bias)
    c.inputs.push_back(bias);
  LogicalResult r = convertConvNode(c);
  c.inputs = saved;
  if (failed(r))
    return failure();
  Value y = c.outputs.back();
  c.outputs.pop_back();
  return y;
}

/// x, w, x_zp, w_zp: the convolution of (x - x_zp) and (w - w_zp) (w_zp
/// per output channel) in int32, computed on exactly representable floats.
LogicalResult convertConvInteger(NodeContext &c) {
  if (failed(c.requireInputs(2)))
    return failure();
  Type f = Float32Type::get(c.ctx());
  auto one = c.scalarLike(f, 1.0);
  auto x = dequantize(c, c.input(0), one, c.input(2), 1);
  auto w = dequantize(c, c.input(1), one, c.input(3), 0);
  if (failed(x) || failed(w))
    return failure();
  auto y = convOf(c, *x, *w, Value());
  if (succeeded(y))
    y = c.make<k::RoundOp>(*y);
  if (succeeded(y))
    y = castTo(c, *y, IntegerType::get(c.ctx(), 32));
  if (failed(y))
    return failure();
  c.outputs.push_back(*y);
  return success();
}

/// x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp[, B]: dequantized
/// convolution (w per output channel, B int32 with scale x_scale * w_scale)
/// requantized.
LogicalResult convertQLinearConv(NodeContext &c) {
  if (failed(c.requireInputs(8)))
    return failure();
  auto x = dequantize(c, c.input(0), c.input(1), c.input(2), 1);
  auto w = dequantize(c, c.input(3), c.input(4), c.input(5), 0);
  if (failed(x) || failed(w))
    return failure();
  Value bias;
  if (Value b = c.input(8)) {
    auto bs = c.make<k::MulOp>({c.input(1), c.input(4)});
    if (failed(bs))
      return failure();
    auto bf = dequantize(c, b, *bs, Value(), 0);
    if (failed(bf))
      return failure();
    bias = *bf;
  }
  auto y = convOf(c, *x, *w, bias);
  if (failed(y))
    return failure();
  Type f = c.typeOf(*y).getElementType();
  auto zpf = castTo(c, c.input(7), f);
  if (failed(zpf))
    return failure();
  auto q = quantize(c, *y, c.input(6), *zpf, c.typeOf(c.input(7)).getElementType());
  if (failed(q))
    return failure();
  c.outputs.push_back(*q);
  return success();
}

} // namespace


std::optional<ArrayRef<char>>(::kiln::import::constantBytes)(Value v, std::vector<char> &storage) {
  ElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  if (auto r = dyn_cast<DenseResourceElementsAttr>(attr)) {
    if (AsmResourceBlob *blob = r.getRawHandle().getBlob())
      return blob->getData();
    return std::nullopt;
  }
  if (auto d = dyn_cast<DenseElementsAttr>(attr)) {
    if (!d.isSplat() || d.getNumElements() == 1)
      return d.getRawData();
    if (d.getElementType().isInteger(1))
      return std::nullopt;
    ArrayRef<char> one = d.getRawData();
    storage.clear();
    for (int64_t i = 0; i < d.getNumElements(); ++i)
      storage.insert(storage.end(), one.begin(), one.end());
    return ArrayRef<char>(storage);
  }
  return std::nullopt;
}

void ::kiln::import::addQuantConverters(llvm::StringMap<Converter> &m) {
  m["QuantizeLinear"] = convertQuantizeLinear;
  m["DequantizeLinear"] = convertDequantizeLinear;
  m["DynamicQuantizeLinear"] = convertDynamicQuantizeLinear;
  m["MatMulInteger"] = convertMatMulInteger;
  m["QLinearMatMul"] = convertQLinearMatMul;
  m["ConvInteger"] = convertConvInteger;
  m["QLinearConv"] = convertQLinearConv;
  m["com.microsoft:MatMulNBits"] = convertMatMulNBits;
}

/// ONNX Runtime's MatMulIntegerToFloat arithmetic, in the form the importer
/// gives QLinearMatMul's product (so kiln-cpu-select-ukernels puts a
/// dynamically quantized one on the int8 GEMM): cast<f32>((a - azp) x
/// (b - bzp)) * (as * bs) [+ bias].
FailureOr<Value>(::kiln::import::scaledIntegerMatmul)(NodeContext &c, Value a,
                                                   Value b, Value azp, Value bzp,
                                                   Value as, Value bs,
                                                   Value bias) {
  auto acc = integerMatmul(c, a, b, azp, bzp);
  if (failed(acc))
    return failure();
  auto y = castTo(c, *acc, c.typeOf(as).getElementType());
  auto mult = c.make<k::MulOp>({as, bs});
  if (failed(y) || failed(mult))
    return failure();
  y = c.make<k::MulOp>({*y, *mult});
  if (succeeded(y) && bias)
    y = c.make<k::AddOp>({*y, bias});
  return y;
}
