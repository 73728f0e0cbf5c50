//===- Conv.cpp - convolution, transposed convolution and pooling ---------===//
//
// Group-1 2-D convolutions with a static filter become im2col + one matmul
// (the CPU pipeline packs the filter at compile time); depthwise and other
// grouped ones linalg's named ops. (The CPU pipeline replaces most 2-D
// convolutions by runtime kernels before this lowering:
// kiln-cpu-select-ukernels.) Transposed convolutions, 1-D/3-D pooling and
// ceil_mode pooling are windowed linalg.generic ops.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// Pads the spatial dims of an NC... tensor with `value`.
Value padSpatial(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> pads,
                 Value value) {
  int64_t spatial = pads.size() / 2;
  if (llvm::all_of(pads, [](int64_t p) { return p == 0; }))
    return x;
  auto t = cast<RankedTensorType>(x.getType());
  SmallVector<OpFoldResult> low(2, b.getIndexAttr(0)), high(2, b.getIndexAttr(0));
  SmallVector<int64_t> shape(t.getShape().take_front(2));
  for (int64_t i = 0; i < spatial; ++i) {
    low.push_back(b.getIndexAttr(pads[i]));
    high.push_back(b.getIndexAttr(pads[i + spatial]));
    int64_t d = t.getDimSize(i + 2);
    shape.push_back(ShapedType::isDynamic(d) ? d : d + pads[i] + pads[i + spatial]);
  }
  return tensor::PadOp::create(b, loc, RankedTensorType::get(shape, t.getElementType()),
                               x, low, high, value);
}

/// Adds a per-channel bias [C] to an NC... tensor. Both are inputs of the
/// generic (its init is a fresh tensor, bufferized in place anyway): an
/// init read by the payload is not elementwise to linalg's fusion, which
/// fused such an add into a consumer reading through a non-permutation map
/// (the next convolution's im2col) and kept its result as an output
/// written through that map: the bias was added once per window overlap.
Value addChannelBias(OpBuilder &b, Location loc, Value y, Value bias) {
  auto t = cast<RankedTensorType>(y.getType());
  int64_t rank = t.getRank();
  SmallVector<AffineMap> maps{
      b.getMultiDimIdentityMap(rank),
      AffineMap::get(rank, 0, {b.getAffineDimExpr(1)}, b.getContext()),
      b.getMultiDimIdentityMap(rank)};
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, y);
  Value init = tensor::EmptyOp::create(b, loc, sizes, t.getElementType());
  auto g = linalg::GenericOp::create(
      b, loc, TypeRange{t}, ValueRange{y, bias}, ValueRange{init}, maps,
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange a) {
        linalg::YieldOp::create(nb, l, arith::AddFOp::create(nb, l, a[0], a[1]).getResult());
      });
  return g.getResult(0);
}

/// A group-1 2-D convolution as im2col + one matmul whose right-hand side
/// is the [C*KH*KW, F] transposed filter (a constant the CPU pipeline packs
/// at compile time for its GEMM kernel):
///   col[n*OH*OW + p, (c, kh, kw)] = x[n, c, oh*s + kh*d, ow*s + kw*d]
///   out[n*OH*OW + p, f] = col . W^T;  y = out as [N, OH, OW, F] -> NCHW
/// `x` is already padded; `dims` are the output's [N, F, OH, OW].
Value im2colConv(OpBuilder &b, Location loc, Value x, Value w,
                 ArrayRef<OpFoldResult> dims, ArrayRef<int64_t> strides,
                 ArrayRef<int64_t> dil) {
  auto wt = cast<RankedTensorType>(w.getType());
  Type elt = wt.getElementType();
  int64_t f = wt.getDimSize(0), c = wt.getDimSize(1), kh = wt.getDimSize(2),
          kw = wt.getDimSize(3);
  MLIRContext *ctx = b.getContext();
  AffineExpr n, oh, ow, ci, i, j;
  bindDims(ctx, n, oh, ow, ci, i, j);
  auto inMap = AffineMap::get(6, 0,
                              {n, ci, oh * strides[0] + i * dil[0],
                               ow * strides[1] + j * dil[1]},
                              ctx);
  SmallVector<OpFoldResult> colDims{dims[0], dims[2], dims[3],
                                    b.getIndexAttr(c), b.getIndexAttr(kh),
                                    b.getIndexAttr(kw)};
  Value col6 = tensor::EmptyOp::create(b, loc, colDims, elt);
  col6 = linalg::GenericOp::create(
             b, loc, TypeRange{col6.getType()}, ValueRange{x}, ValueRange{col6},
             ArrayRef<AffineMap>{inMap, b.getMultiDimIdentityMap(6)},
             SmallVector<utils::IteratorType>(6, utils::IteratorType::parallel),
             [](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(nb, nl, args[0]);
             })
             .getResult(0);
  // tensor.reshape, not collapse/expand_shape: elementwise fusion would
  // fold those into the matmul and turn it into a 7-D generic contraction.
  int64_t k = c * kh * kw;
  auto col6t = cast<RankedTensorType>(col6.getType());
  auto rowsOf = [&](int64_t a, int64_t b2, int64_t c2) {
    return ShapedType::isDynamic(a) || ShapedType::isDynamic(b2) ||
                   ShapedType::isDynamic(c2)
               ? ShapedType::kDynamic
               : a * b2 * c2;
  };
  int64_t rowsStatic =
      rowsOf(col6t.getDimSize(0), col6t.getDimSize(1), col6t.getDimSize(2));
  Value rowsV = arith::MulIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, getValueOrCreateConstantIndexOp(b, loc, dims[0]),
                            getValueOrCreateConstantIndexOp(b, loc, dims[2])),
      getValueOrCreateConstantIndexOp(b, loc, dims[3]));
  OpFoldResult rows = ShapedType::isDynamic(rowsStatic)
                          ? OpFoldResult(rowsV)
                          : OpFoldResult(b.getIndexAttr(rowsStatic));
  Value col = reshapeTo(b, loc, col6, RankedTensorType::get({rowsStatic, k}, elt),
                        {rows, b.getIndexAttr(k)});
  Value w2 = reshapeTo(b, loc, w, RankedTensorType::get({f, k}, elt),
                       {b.getIndexAttr(f), b.getIndexAttr(k)});
  Value wT = linalg::TransposeOp::create(
                 b, loc, w2,
                 tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{k, f}, elt),
                 ArrayRef<int64_t>{1, 0})
                 .getResult()[0];
  Value acc = filledTensor(b, loc, {rows, b.getIndexAttr(f)}, scalarConst(b, loc, elt, 0));
  Value out = linalg::MatmulOp::create(b, loc, TypeRange{acc.getType()},
                                       ValueRange{col, wT}, ValueRange{acc})
                  .getResult(0);
  auto nhwc = RankedTensorType::get({col6t.getDimSize(0), col6t.getDimSize(1),
                                     col6t.getDimSize(2), f},
                                    elt);
  Value y4 = reshapeTo(b, loc, out, nhwc,
                       {dims[0], dims[2], dims[3], b.getIndexAttr(f)});
  Value nchw = tensor::EmptyOp::create(b, loc, dims, elt);
  return linalg::TransposeOp::create(b, loc, y4, nchw,
                                     ArrayRef<int64_t>{0, 3, 1, 2})
      .getResult()[0];
}

/// kiln.conv_transpose (1-3 spatial dims, groups, strides, dilations,
/// pads, output_padding and output_shape resolved into the result type at
/// import): one generic over the output with the group's input channels
/// and the filter taps as reductions. Output o takes tap k from input
///   i = (o + pad_begin - k * dilation) / stride
/// when that divides exactly and lands inside the input:
///   y[n, g*Fg + f, o] = sum_{c, k} x[n, g*Cg + c, i] * w[g*Cg + c, f, k].
/// A direct (gather) formulation: correct for every form, not tuned.
struct LowerConvTranspose final : OpRewritePattern<ConvTransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvTransposeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    Value x = op.getInput(), w = op.getWeight();
    auto xt = cast<RankedTensorType>(x.getType());
    auto wt = cast<RankedTensorType>(w.getType());
    auto rt = cast<RankedTensorType>(op.getType());
    int64_t rank = xt.getRank(), sp = rank - 2;
    if (sp < 1 || sp > 3 || !isa<FloatType>(xt.getElementType()))
      return rewriter.notifyMatchFailure(op, "only 1-D to 3-D float conv_transpose");
    if (!wt.hasStaticShape() || xt.isDynamicDim(1) ||
        llvm::any_of(rt.getShape().drop_front(2), ShapedType::isDynamic) ||
        llvm::any_of(xt.getShape().drop_front(2), ShapedType::isDynamic))
      return rewriter.notifyMatchFailure(op, "dynamic channel, filter or spatial extents");
    int64_t group = (int64_t)op.getGroup();
    int64_t cIn = xt.getDimSize(1), cg = cIn / group, fg = wt.getDimSize(1);
    auto st = op.getStrides();
    auto dl = op.getDilations();
    auto pads = op.getPads();
    Type elt = rt.getElementType();
    SmallVector<OpFoldResult> dims{tensor::getMixedSize(b, loc, x, 0),
                                   b.getIndexAttr(group * fg)};
    for (int64_t i = 0; i < sp; ++i)
      dims.push_back(b.getIndexAttr(rt.getDimSize(i + 2)));
    Value init = filledTensor(b, loc, dims, scalarConst(b, loc, elt, 0.0));
    SmallVector<int64_t> redShape{cg};
    for (int64_t i = 0; i < sp; ++i)
      redShape.push_back(wt.getDimSize(i + 2));
    Value red = tensor::EmptyOp::create(b, loc, redShape, elt);
    int64_t nd = rank + 1 + sp; // n, f, o..., c, k...
    SmallVector<AffineExpr> outE, redE;
    for (int64_t d = 0; d < rank; ++d)
      outE.push_back(b.getAffineDimExpr(d));
    for (int64_t d = 0; d < 1 + sp; ++d)
      redE.push_back(b.getAffineDimExpr(rank + d));
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    iters.append(1 + sp, utils::IteratorType::reduction);
    auto ctx = b.getContext();
    Value y = linalg::GenericOp::create(
                  b, loc, TypeRange{init.getType()}, ValueRange{red}, ValueRange{init},
                  ArrayRef<AffineMap>{AffineMap::get(nd, 0, redE, ctx),
                                      AffineMap::get(nd, 0, outE, ctx)},
                  iters,
                  [&](OpBuilder &nb, Location l, ValueRange a) {
                    auto cidx = [&](int64_t v) -> Value {
                      return arith::ConstantIndexOp::create(nb, l, v);
                    };
                    Value n = linalg::IndexOp::create(nb, l, 0);
                    Value f = linalg::IndexOp::create(nb, l, 1);
                    Value c = linalg::IndexOp::create(nb, l, rank);
                    Value g = arith::DivUIOp::create(nb, l, f, cidx(fg));
                    Value fl = arith::RemUIOp::create(nb, l, f, cidx(fg));
                    Value cAll = arith::AddIOp::create(
                        nb, l, arith::MulIOp::create(nb, l, g, cidx(cg)), c);
                    Value valid = arith::ConstantIntOp::create(nb, l, nb.getI1Type(), 1);
                    SmallVector<Value> xi{n, cAll}, wi{cAll, fl};
                    for (int64_t i = 0; i < sp; ++i) {
                      Value o = linalg::IndexOp::create(nb, l, 2 + i);
                      Value k = linalg::IndexOp::create(nb, l, rank + 1 + i);
                      // t = o + pad - k*d (may be negative: signed math)
                      Value t = arith::SubIOp::create(
                          nb, l, arith::AddIOp::create(nb, l, o, cidx(pads[i])),
                          arith::MulIOp::create(nb, l, k, cidx(dl[i])));
                      Value q = arith::DivSIOp::create(nb, l, t, cidx(st[i]));
                      Value exact = arith::CmpIOp::create(
                          nb, l, arith::CmpIPredicate::eq,
                          arith::MulIOp::create(nb, l, q, cidx(st[i])), t);
                      Value inside = arith::AndIOp::create(
                          nb, l,
                          arith::CmpIOp::create(nb, l, arith::CmpIPredicate::sge, t, cidx(0)),
                          arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, q,
                                                cidx(xt.getDimSize(2 + i))));
                      valid = arith::AndIOp::create(nb, l, valid,
                                                    arith::AndIOp::create(nb, l, exact, inside));
                      // clamp the index so the (discarded) read stays in bounds
                      Value qc = arith::MinSIOp::create(
                          nb, l, arith::MaxSIOp::create(nb, l, q, cidx(0)),
                          cidx(xt.getDimSize(2 + i) - 1));
                      xi.push_back(qc);
                      wi.push_back(k);
                    }
                    Value xv = tensor::ExtractOp::create(nb, l, x, xi);
                    Value wv = tensor::ExtractOp::create(nb, l, w, wi);
                    Value prod = arith::MulFOp::create(nb, l, xv, wv);
                    prod = arith::SelectOp::create(nb, l, valid, prod,
                                                   scalarConst(nb, l, elt, 0.0));
                    linalg::YieldOp::create(nb, l, arith::AddFOp::create(nb, l, a[1], prod).getResult());
                  })
                  .getResult(0);
    if (op.getBias())
      y = addChannelBias(b, loc, y, op.getBias());
    if (y.getType() != rt)
      y = tensor::CastOp::create(b, loc, rt, y);
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// `x` [N, ?, H, W] as [N, c, H, W] (its channels checked at run time
/// first); `x` itself when they are static.
Value castChannels(OpBuilder &b, Location loc, Value x, int64_t c) {
  auto t = cast<RankedTensorType>(x.getType());
  if (!t.isDynamicDim(1))
    return x;
  SmallVector<int64_t> shape(t.getShape());
  shape[1] = c;
  return tensor::CastOp::create(b, loc, RankedTensorType::get(shape, t.getElementType()), x);
}

struct LowerConv final : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto w = cast<RankedTensorType>(op.getWeight().getType());
    if (in.getRank() != 4)
      return rewriter.notifyMatchFailure(op, "only 2-D convolution lowers yet");
    if (!isa<FloatType>(in.getElementType()))
      return rewriter.notifyMatchFailure(op, "only float convolution lowers yet");
    Type elt = in.getElementType();
    int64_t group = op.getGroup();
    // The input's channels are group x the filter's (the verifier checks
    // static ones; a dynamic one, e.g. after a channel shuffle's reshape,
    // is checked at run time below).
    int64_t cg = w.getDimSize(1), f = w.getDimSize(0);
    // Decide before creating any IR: a failed match must leave none behind.
    bool depthwise = group > 1 && f == group && cg == 1;
    if (group > 1 && !depthwise &&
        (ShapedType::isDynamic(cg) || ShapedType::isDynamic(f) || f % group))
      return rewriter.notifyMatchFailure(op, "a grouped convolution's filter "
                                             "extents must be static");
    // The output extents below need the kernel's (a dynamic one overflowed
    // the arithmetic: found by fuzz/import_fuzzer.cpp).
    if (w.isDynamicDim(2) || w.isDynamicDim(3))
      return rewriter.notifyMatchFailure(op, "the kernel's spatial extents "
                                             "must be static");
    if (in.isDynamicDim(1) && !ShapedType::isDynamic(cg))
      checkDims(b, loc, dimValue(b, loc, op.getInput(), 1),
                arith::ConstantIndexOp::create(b, loc, group * cg));
    Value x = padSpatial(b, loc, op.getInput(), op.getPads(),
                         scalarConst(b, loc, elt, 0));
    auto rt = op.getType();
    SmallVector<OpFoldResult> dims{tensor::getMixedSize(b, loc, op.getInput(), 0),
                                   tensor::getMixedSize(b, loc, op.getWeight(), 0)};
    for (int64_t i = 2; i < 4; ++i) {
      if (!rt.isDynamicDim(i)) {
        dims.push_back(b.getIndexAttr(rt.getDimSize(i)));
        continue;
      }
      // (in + pads - dil*(k-1) - 1) / stride + 1
      int64_t s = op.getStrides()[i - 2], d = op.getDilations()[i - 2];
      Value e = dimValue(b, loc, x, i);
      e = arith::SubIOp::create(b, loc, e, arith::ConstantIndexOp::create(b, loc, d * (w.getDimSize(i) - 1) + 1));
      e = arith::DivUIOp::create(b, loc, e, arith::ConstantIndexOp::create(b, loc, s));
      dims.push_back((Value)arith::AddIOp::create(b, loc, e, arith::ConstantIndexOp::create(b, loc, 1)));
    }
    auto strides = b.getI64TensorAttr(op.getStrides());
    auto dil = b.getI64TensorAttr(op.getDilations());
    Value y;
    if (group == 1 && elt.isF32() && w.hasStaticShape()) {
      y = im2colConv(b, loc, x, op.getWeight(), dims, op.getStrides(),
                     op.getDilations());
    } else if (group == 1) {
      Value init = filledTensor(b, loc, dims, scalarConst(b, loc, elt, 0));
      y = linalg::Conv2DNchwFchwOp::create(b, loc, TypeRange{init.getType()},
                                           ValueRange{x, op.getWeight()},
                                           ValueRange{init}, strides, dil)
              .getResult(0);
    } else if (depthwise) {
      // Depthwise: weights [C, 1, kh, kw] -> [C, kh, kw].
      int64_t c = group;
      x = castChannels(b, loc, x, c);
      auto w3 = RankedTensorType::get({c, w.getDimSize(2), w.getDimSize(3)}, elt);
      Value wd = reshapeTo(b, loc, op.getWeight(), w3,
                           {b.getIndexAttr(c), b.getIndexAttr(w.getDimSize(2)),
                            b.getIndexAttr(w.getDimSize(3))});
      Value init = filledTensor(b, loc, dims, scalarConst(b, loc, elt, 0));
      y = linalg::DepthwiseConv2DNchwChwOp::create(b, loc, TypeRange{init.getType()},
                                                   ValueRange{x, wd}, ValueRange{init},
                                                   strides, dil)
              .getResult(0);
    } else {
      // Grouped: x [N, G*Cg, H, W] -> [N, G, Cg, H, W], the filter
      // [G*Fg, Cg, kh, kw] -> [G, Fg, Cg, kh, kw], the result [N, G, Fg,
      // OH, OW] -> [N, G*Fg, OH, OW].
      int64_t fg = f / group, kh = w.getDimSize(2), kw = w.getDimSize(3);
      auto xt = cast<RankedTensorType>(x.getType());
      OpFoldResult n = dims[0];
      OpFoldResult hp = tensor::getMixedSize(b, loc, x, 2),
                   wp = tensor::getMixedSize(b, loc, x, 3);
      Value x5 = reshapeTo(
          b, loc, x,
          RankedTensorType::get({xt.getDimSize(0), group, cg, xt.getDimSize(2),
                                 xt.getDimSize(3)},
                                elt),
          {n, b.getIndexAttr(group), b.getIndexAttr(cg), hp, wp});
      Value w5 = reshapeTo(b, loc, op.getWeight(),
                           RankedTensorType::get({group, fg, cg, kh, kw}, elt),
                           {b.getIndexAttr(group), b.getIndexAttr(fg),
                            b.getIndexAttr(cg), b.getIndexAttr(kh), b.getIndexAttr(kw)});
      SmallVector<OpFoldResult> dims5{n, b.getIndexAttr(group), b.getIndexAttr(fg),
                                      dims[2], dims[3]};
      Value init = filledTensor(b, loc, dims5, scalarConst(b, loc, elt, 0));
      Value y5 = linalg::Conv2DNgchwGfchwOp::create(b, loc, TypeRange{init.getType()},
                                                    ValueRange{x5, w5}, ValueRange{init},
                                                    strides, dil)
                     .getResult(0);
      auto y5t = cast<RankedTensorType>(y5.getType());
      y = reshapeTo(b, loc, y5,
                    RankedTensorType::get({y5t.getDimSize(0), f, y5t.getDimSize(3),
                                           y5t.getDimSize(4)},
                                          elt),
                    {n, b.getIndexAttr(f), dims[2], dims[3]});
    }
    if (op.getBias())
      y = addChannelBias(b, loc, y, op.getBias());
    if (y.getType() != rt)
      y = tensor::CastOp::create(b, loc, rt, y);
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// The pads of a window op, with the end padding that ceil_mode's last
/// windows need past the explicit pads.
SmallVector<int64_t> windowPads(RankedTensorType in, RankedTensorType out,
                                ArrayRef<int64_t> kernel, ArrayRef<int64_t> st,
                                ArrayRef<int64_t> dl, ArrayRef<int64_t> pads) {
  int64_t sp = in.getRank() - 2;
  SmallVector<int64_t> full(pads);
  for (int64_t i = 0; i < sp; ++i) {
    int64_t need = (out.getDimSize(i + 2) - 1) * st[i] + (kernel[i] - 1) * dl[i] + 1;
    int64_t have = in.getDimSize(i + 2) + pads[i] + pads[i + sp];
    if (need > have)
      full[i + sp] += need - have;
  }
  return full;
}

/// The lowest value of `elt` (an unsigned integer's 0 as a signless
/// constant cast to it: arith takes no unsigned types).
Value lowestValue(OpBuilder &b, Location loc, Type elt) {
  if (!elt.isUnsignedInteger())
    return arith::ConstantOp::create(b, loc, extremeAttr(elt, true));
  Type sl = b.getIntegerType(elt.getIntOrFloatBitWidth());
  Value zero = arith::ConstantOp::create(b, loc, b.getIntegerAttr(sl, 0));
  return UnrealizedConversionCastOp::create(b, loc, elt, zero).getResult(0);
}

/// The maps of a pooling generic over (n, c, outputs..., window...): the
/// padded input at o * stride + k * dilation, the window, the output.
SmallVector<AffineMap> windowMaps(OpBuilder &b, int64_t sp, ArrayRef<int64_t> st,
                                  ArrayRef<int64_t> dl) {
  int64_t nd = 2 + 2 * sp;
  SmallVector<AffineExpr> inE{b.getAffineDimExpr(0), b.getAffineDimExpr(1)}, outE = inE,
      winE;
  for (int64_t i = 0; i < sp; ++i) {
    AffineExpr o = b.getAffineDimExpr(2 + i), k = b.getAffineDimExpr(2 + sp + i);
    inE.push_back(o * st[i] + k * dl[i]);
    outE.push_back(o);
    winE.push_back(k);
  }
  auto ctx = b.getContext();
  return {AffineMap::get(nd, 0, inE, ctx), AffineMap::get(nd, 0, winE, ctx),
          AffineMap::get(nd, 0, outE, ctx)};
}

template <typename OpTy>
struct LowerPool final : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    constexpr bool isMax = std::is_same_v<OpTy, MaxPoolOp>;
    Location loc = op.getLoc();
    auto &b = rewriter;
    auto in = cast<RankedTensorType>(op.getInput().getType());
    Type elt = in.getElementType();
    bool intMax = isMax && isa<IntegerType>(elt) && elt.getIntOrFloatBitWidth() > 1;
    if (in.getRank() < 3 || in.getRank() > 5 || !(isa<FloatType>(elt) || intMax))
      return rewriter.notifyMatchFailure(
          op, "only 1-D to 3-D float pooling (and integer max pooling) lowers");
    auto rt = cast<RankedTensorType>(op.getType());
    if (llvm::any_of(rt.getShape().drop_front(2), ShapedType::isDynamic) ||
        llvm::any_of(in.getShape().drop_front(2), ShapedType::isDynamic))
      return rewriter.notifyMatchFailure(op, "dynamic spatial dims");
    if (in.getRank() != 4 || op.getCeilMode() || intMax)
      return lowerGeneric(op, rewriter);
    Value padValue = isMax ? lowestValue(b, loc, elt) : scalarConst(b, loc, elt, 0);
    Value x = padSpatial(b, loc, op.getInput(), op.getPads(), padValue);
    SmallVector<OpFoldResult> dims{tensor::getMixedSize(b, loc, op.getInput(), 0),
                                   tensor::getMixedSize(b, loc, op.getInput(), 1),
                                   b.getIndexAttr(rt.getDimSize(2)),
                                   b.getIndexAttr(rt.getDimSize(3))};
    Value empty = tensor::EmptyOp::create(b, loc, dims, elt);
    Value init = linalg::FillOp::create(b, loc, padValue, empty).getResult(0);
    Value window = tensor::EmptyOp::create(b, loc, op.getKernelShape(), elt);
    auto strides = b.getI64TensorAttr(op.getStrides());
    auto dil = b.getI64TensorAttr(op.getDilations());
    Value y;
    if constexpr (isMax) {
      y = linalg::PoolingNchwMaxOp::create(b, loc, TypeRange{init.getType()},
                                           ValueRange{x, window}, ValueRange{init},
                                           strides, dil)
              .getResult(0);
    } else {
      y = linalg::PoolingNchwSumOp::create(b, loc, TypeRange{init.getType()},
                                           ValueRange{x, window}, ValueRange{init},
                                           strides, dil)
              .getResult(0);
      // Divide by the window size, or by the number of non-pad elements.
      auto kernel = op.getKernelShape();
      bool anyPad = llvm::any_of(op.getPads(), [](int64_t p) { return p != 0; });
      if (op.getCountIncludePad() || !anyPad) {
        Value n = scalarConst(b, loc, elt, (double)(kernel[0] * kernel[1]));
        y = buildElementwise(b, loc, cast<RankedTensorType>(y.getType()), y,
                             [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
                               return arith::DivFOp::create(nb, l, a[0], n);
                             });
      } else {
        int64_t H = in.getDimSize(2), W = in.getDimSize(3);
        if (ShapedType::isDynamic(H) || ShapedType::isDynamic(W))
          return rewriter.notifyMatchFailure(op, "dynamic spatial dims");
        auto pads = op.getPads();
        auto st = op.getStrides();
        auto count = [&](int64_t o, int64_t s, int64_t k, int64_t pb, int64_t n) {
          int64_t start = o * s - pb, end = std::min(start + k, n);
          return end - std::max<int64_t>(start, 0);
        };
        SmallVector<APFloat> counts;
        for (int64_t i = 0; i < rt.getDimSize(2); ++i)
          for (int64_t j = 0; j < rt.getDimSize(3); ++j) {
            APFloat f((double)(count(i, st[0], kernel[0], pads[0], H) *
                               count(j, st[1], kernel[1], pads[1], W)));
            bool lost;
            f.convert(cast<FloatType>(elt).getFloatSemantics(),
                      APFloat::rmNearestTiesToEven, &lost);
            counts.push_back(f);
          }
        auto ct = RankedTensorType::get({rt.getDimSize(2), rt.getDimSize(3)}, elt);
        Value c = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(ct, counts));
        y = buildElementwise(b, loc, cast<RankedTensorType>(y.getType()), {y, c},
                             [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
                               return arith::DivFOp::create(nb, l, a[0], a[1]);
                             });
      }
    }
    if (y.getType() != rt)
      y = tensor::CastOp::create(b, loc, rt, y);
    rewriter.replaceOp(op, y);
    return success();
  }

  /// 1-D and 3-D pooling, and ceil_mode: one generic with the window dims
  /// as reductions over the padded input. With ceil_mode the last windows
  /// may pass the padded end: the input gets that much more end padding,
  /// which the average's divisor never counts (it counts the elements
  /// inside the input, or inside the explicit pads with count_include_pad).
  LogicalResult lowerGeneric(OpTy op, PatternRewriter &rewriter) const {
    constexpr bool isMax = std::is_same_v<OpTy, MaxPoolOp>;
    Location loc = op.getLoc();
    auto &b = rewriter;
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto rt = cast<RankedTensorType>(op.getType());
    Type elt = in.getElementType();
    int64_t sp = in.getRank() - 2;
    auto kernel = op.getKernelShape();
    auto st = op.getStrides();
    auto dl = op.getDilations();
    auto pads = op.getPads();
    SmallVector<int64_t> full = windowPads(in, rt, kernel, st, dl, pads);
    // An integer max starts from the type's lowest value (unsigned: the
    // body's max unsigned).
    bool isUnsigned = elt.isUnsignedInteger();
    Value padValue = isMax ? lowestValue(b, loc, elt) : scalarConst(b, loc, elt, 0);
    Value x = padSpatial(b, loc, op.getInput(), full, padValue);
    SmallVector<OpFoldResult> dims{tensor::getMixedSize(b, loc, op.getInput(), 0),
                                   tensor::getMixedSize(b, loc, op.getInput(), 1)};
    for (int64_t i = 0; i < sp; ++i)
      dims.push_back(b.getIndexAttr(rt.getDimSize(i + 2)));
    Value empty = tensor::EmptyOp::create(b, loc, dims, elt);
    Value init = linalg::FillOp::create(b, loc, padValue, empty).getResult(0);
    Value window = tensor::EmptyOp::create(b, loc, kernel, elt);
    SmallVector<utils::IteratorType> iters(2 + sp, utils::IteratorType::parallel);
    iters.append(sp, utils::IteratorType::reduction);
    Value y = linalg::GenericOp::create(
                  b, loc, TypeRange{init.getType()}, ValueRange{x, window}, ValueRange{init},
                  windowMaps(b, sp, st, dl), iters,
                  [&](OpBuilder &nb, Location l, ValueRange a) {
                    Value r;
                    if (isa<FloatType>(elt)) {
                      r = isMax ? (Value)arith::MaximumFOp::create(nb, l, a[2], a[0])
                                : (Value)arith::AddFOp::create(nb, l, a[2], a[0]);
                    } else {
                      Value acc = toSignless(nb, l, a[2]), v = toSignless(nb, l, a[0]);
                      r = isUnsigned ? (Value)arith::MaxUIOp::create(nb, l, acc, v)
                                     : (Value)arith::MaxSIOp::create(nb, l, acc, v);
                      if (r.getType() != elt)
                        r = UnrealizedConversionCastOp::create(nb, l, elt, r).getResult(0);
                    }
                    linalg::YieldOp::create(nb, l, r);
                  })
                  .getResult(0);
    if constexpr (!isMax) {
      // divisor per output position: the window's elements inside the
      // input (or inside input + explicit pads with count_include_pad)
      bool includePad = op.getCountIncludePad();
      SmallVector<int64_t> oShape(rt.getShape().drop_front(2));
      int64_t total = 1;
      for (int64_t o : oShape)
        total *= o;
      SmallVector<APFloat> counts;
      for (int64_t flat = 0; flat < total; ++flat) {
        int64_t rem = flat, cnt = 1;
        for (int64_t i = sp - 1; i >= 0; --i) {
          int64_t o = rem % oShape[i];
          rem /= oShape[i];
          int64_t lo = includePad ? -pads[i] : 0;
          int64_t hi = in.getDimSize(i + 2) + (includePad ? pads[i + sp] : 0);
          int64_t c = 0;
          for (int64_t k = 0; k < kernel[i]; ++k) {
            int64_t pos = o * st[i] + k * dl[i] - pads[i];
            c += pos >= lo && pos < hi;
          }
          cnt *= std::max<int64_t>(c, 1);
        }
        APFloat f((double)cnt);
        bool lost;
        f.convert(cast<FloatType>(elt).getFloatSemantics(), APFloat::rmNearestTiesToEven,
                  &lost);
        counts.push_back(f);
      }
      Value c = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(RankedTensorType::get(oShape, elt), counts));
      y = buildElementwise(b, loc, cast<RankedTensorType>(y.getType()), {y, c},
                           [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
                             return arith::DivFOp::create(nb, l, a[0], a[1]);
                           });
    }
    if (y.getType() != rt)
      y = tensor::CastOp::create(b, loc, rt, y);
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// MaxPool with Indices: one generic over (n, c, outputs..., window...)
/// keeping the maximum and its flat input index; a later element replaces
/// them only when strictly greater, so the first maximum in window order
/// wins, and the padding (the lowest value) never does.
struct LowerMaxPoolWithIndices final : OpRewritePattern<MaxPoolWithIndicesOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MaxPoolWithIndicesOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    auto in = cast<RankedTensorType>(op.getInput().getType());
    Type elt = in.getElementType();
    if (!isa<FloatType>(elt) && !(isa<IntegerType>(elt) && elt.getIntOrFloatBitWidth() > 1))
      return rewriter.notifyMatchFailure(op, "only float and integer elements");
    auto rt = cast<RankedTensorType>(op.getResult().getType());
    auto it = cast<RankedTensorType>(op.getIndices().getType());
    if (llvm::any_of(rt.getShape().drop_front(2), ShapedType::isDynamic) ||
        llvm::any_of(in.getShape().drop_front(2), ShapedType::isDynamic))
      return rewriter.notifyMatchFailure(op, "dynamic spatial dims");
    int64_t sp = in.getRank() - 2;
    auto kernel = op.getKernelShape();
    auto st = op.getStrides();
    auto dl = op.getDilations();
    auto pads = op.getPads();
    SmallVector<int64_t> full = windowPads(in, rt, kernel, st, dl, pads);
    bool isUnsigned = elt.isUnsignedInteger();
    Value lowest = lowestValue(b, loc, elt);
    Value x = padSpatial(b, loc, op.getInput(), full, lowest);
    SmallVector<OpFoldResult> dims{tensor::getMixedSize(b, loc, op.getInput(), 0),
                                   tensor::getMixedSize(b, loc, op.getInput(), 1)};
    for (int64_t i = 0; i < sp; ++i)
      dims.push_back(b.getIndexAttr(rt.getDimSize(i + 2)));
    Value init = filledTensor(b, loc, dims, lowest);
    Value zero = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(0));
    Value initIdx = filledTensor(b, loc, dims, zero);
    Value window = tensor::EmptyOp::create(b, loc, kernel, elt);
    Value channels = tensor::DimOp::create(b, loc, op.getInput(), 1);
    SmallVector<utils::IteratorType> iters(2 + sp, utils::IteratorType::parallel);
    iters.append(sp, utils::IteratorType::reduction);
    SmallVector<AffineMap> maps = windowMaps(b, sp, st, dl);
    maps.push_back(maps.back()); // the indices: as the output
    bool colMajor = op.getStorageOrder() == 1;
    auto generic = linalg::GenericOp::create(
        b, loc, TypeRange{init.getType(), initIdx.getType()}, ValueRange{x, window},
        ValueRange{init, initIdx}, maps, iters, [&](OpBuilder &nb, Location l, ValueRange a) {
          auto cidx = [&](int64_t v) -> Value {
            return arith::ConstantIndexOp::create(nb, l, v);
          };
          // The element's position in the unpadded input, flattened.
          Value plane = cidx(1), spatial = cidx(0);
          for (int64_t q = 0; q < sp; ++q) {
            int64_t i = colMajor ? sp - 1 - q : q; // outermost first
            Value o = linalg::IndexOp::create(nb, l, 2 + i);
            Value k = linalg::IndexOp::create(nb, l, 2 + sp + i);
            Value h = arith::AddIOp::create(
                nb, l, arith::MulIOp::create(nb, l, o, cidx(st[i])),
                arith::MulIOp::create(nb, l, k, cidx(dl[i])));
            h = arith::SubIOp::create(nb, l, h, cidx(pads[i]));
            int64_t extent = in.getDimSize(i + 2);
            spatial = arith::AddIOp::create(
                nb, l, arith::MulIOp::create(nb, l, spatial, cidx(extent)), h);
            plane = arith::MulIOp::create(nb, l, plane, cidx(extent));
          }
          Value n = linalg::IndexOp::create(nb, l, 0), c = linalg::IndexOp::create(nb, l, 1);
          Value nc = arith::AddIOp::create(nb, l, arith::MulIOp::create(nb, l, n, channels), c);
          Value flat = arith::AddIOp::create(nb, l, arith::MulIOp::create(nb, l, nc, plane),
                                             spatial);
          flat = arith::IndexCastOp::create(nb, l, nb.getI64Type(), flat);
          Value gt;
          if (isa<FloatType>(elt)) {
            gt = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT, a[0], a[2]);
          } else {
            gt = arith::CmpIOp::create(
                nb, l, isUnsigned ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt,
                toSignless(nb, l, a[0]), toSignless(nb, l, a[2]));
          }
          Value v = arith::SelectOp::create(nb, l, gt, a[0], a[2]);
          Value idx = arith::SelectOp::create(nb, l, gt, flat, a[3]);
          linalg::YieldOp::create(nb, l, ValueRange{v, idx});
        });
    Value y = generic.getResult(0), idx = generic.getResult(1);
    if (y.getType() != rt)
      y = tensor::CastOp::create(b, loc, rt, y);
    if (idx.getType() != it)
      idx = tensor::CastOp::create(b, loc, it, idx);
    rewriter.replaceOp(op, {y, idx});
    return success();
  }
};

} // namespace

void lowering::populateConvPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerConv, LowerConvTranspose, LowerPool<MaxPoolOp>,
               LowerPool<AveragePoolOp>, LowerMaxPoolWithIndices>(patterns.getContext());
}
