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
// Not covered: blocked quantization (block_size, opset 21), int4/uint4 and
// float8 types; those fail with an error naming the node.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

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

/// The range of a quantized element type, or failure naming it.
FailureOr<std::pair<double, double>> rangeOf(NodeContext &c, Type elt) {
  auto it = dyn_cast<IntegerType>(elt);
  if (!it || (it.getWidth() != 8 && it.getWidth() != 16))
    return c.fail("quantized type must be int8, uint8, int16 or uint16");
  double span = std::ldexp(1.0, it.getWidth());
  if (it.isUnsigned())
    return std::make_pair(0.0, span - 1);
  return std::make_pair(-span / 2, span / 2 - 1);
}

/// A per-axis scale or zero point (1-D, of the axis's extent) reshaped to
/// broadcast along `axis` of a rank-`rank` tensor; scalars and 1-element
/// vectors as they are.
FailureOr<Value> alongAxis(NodeContext &c, Value v, int64_t rank, int64_t axis) {
  auto t = c.typeOf(v);
  if (t.getRank() == 0 || (t.getRank() == 1 && t.getDimSize(0) == 1))
    return v;
  if (t.getRank() != 1)
    return c.fail("scale and zero point must be scalars or 1-D (per axis); "
                  "blocked quantization is not supported");
  auto a = c.normAxis(axis, rank);
  if (failed(a))
    return failure();
  SmallVector<int64_t> shape(rank, 1);
  shape[*a] = -1;
  return c.make<k::ReshapeOp>({v, c.i64Vector(shape)});
}

/// Rejects opset 21's blocked form.
LogicalResult noBlocks(NodeContext &c) {
  auto block = c.getInt("block_size", 0);
  if (failed(block))
    return failure();
  if (*block != 0)
    return c.fail("blocked quantization (block_size " + Twine(*block) +
                  ") is not supported");
  return success();
}

/// saturate(round(x / scale) + zp) as `elt` (x, scale: float; zp: float or
/// null).
FailureOr<Value> quantize(NodeContext &c, Value x, Value scale, Value zpf,
                          Type elt) {
  auto range = rangeOf(c, elt);
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

/// (x - zp) * scale in scale's float type, scale/zp along `axis`.
FailureOr<Value> dequantize(NodeContext &c, Value x, Value scale, Value zp,
                            int64_t axis) {
  int64_t rank = c.typeOf(x).getRank();
  Type f = c.typeOf(scale).getElementType();
  auto s = alongAxis(c, scale, rank, axis);
  auto v = castTo(c, x, f);
  if (failed(s) || failed(v))
    return failure();
  if (zp) {
    auto z = alongAxis(c, zp, rank, axis);
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

LogicalResult convertQuantizeLinear(NodeContext &c) {
  if (failed(c.requireInputs(2)) || failed(noBlocks(c)))
    return failure();
  auto axis = c.getInt("axis", 1);
  auto dtype = c.getInt("output_dtype", 0);
  if (failed(axis) || failed(dtype))
    return failure();
  Value x = c.input(0), zp = c.input(2);
  int64_t rank = c.typeOf(x).getRank();
  Type elt = zp ? c.typeOf(zp).getElementType()
                : *dtype ? onnxElementType(c.ctx(), *dtype)
                         : IntegerType::get(c.ctx(), 8, IntegerType::Unsigned);
  if (!elt)
    return c.fail("unknown output_dtype " + Twine(*dtype));
  Type f = c.typeOf(x).getElementType();
  if (!isa<FloatType>(f))
    return c.fail("input must be a float tensor");
  auto s = alongAxis(c, c.input(1), rank, *axis);
  if (succeeded(s))
    s = castTo(c, *s, f);
  if (failed(s))
    return failure();
  Value zpf;
  if (zp) {
    auto z = alongAxis(c, zp, rank, *axis);
    if (succeeded(z))
      z = castTo(c, *z, f);
    if (failed(z))
      return failure();
    zpf = *z;
  }
  auto y = quantize(c, x, *s, zpf, elt);
  if (failed(y))
    return failure();
  c.outputs.push_back(*y);
  return success();
}

LogicalResult convertDequantizeLinear(NodeContext &c) {
  if (failed(c.requireInputs(2)) || failed(noBlocks(c)))
    return failure();
  auto axis = c.getInt("axis", 1);
  if (failed(axis))
    return failure();
  auto y = dequantize(c, c.input(0), c.input(1), c.input(2), *axis);
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

void ::kiln::import::addQuantConverters(llvm::StringMap<Converter> &m) {
  m["QuantizeLinear"] = convertQuantizeLinear;
  m["DequantizeLinear"] = convertDequantizeLinear;
  m["DynamicQuantizeLinear"] = convertDynamicQuantizeLinear;
  m["MatMulInteger"] = convertMatMulInteger;
  m["QLinearMatMul"] = convertQLinearMatMul;
  m["ConvInteger"] = convertConvInteger;
  m["QLinearConv"] = convertQLinearConv;
}
