//===- Sampling.cpp - kiln ops that sample their input at computed points -===//
//
// Lowerings that read their input at (possibly fractional) coordinates
// computed per output element, or draw values: Resize (nearest, linear,
// cubic; scales or sizes), GridSample (nearest, bilinear, bicubic; zeros,
// border, reflection padding) and Random (a counter-based hash per
// element). Each is one linalg.generic over the output. Correct for every
// form the node tests use; not tuned for speed.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// kiln.resize in nearest or linear (n-linear) mode, with the coordinate
/// transformations half_pixel, pytorch_half_pixel, asymmetric,
/// tf_half_pixel_for_nn and align_corners: one linalg.generic over the output that computes, per
/// resized dim, the source coordinate x of the output index o (scale s from
/// `scales`, else O / I):
///   half_pixel (o + 0.5) / s - 0.5; pytorch_half_pixel the same, 0 when
///   O = 1; asymmetric o / s; tf_half_pixel_for_nn (o + 0.5) / s;
///   align_corners o (I - 1) / (O - 1), 0 when O = 1
/// then reads the nearest input (nearest_mode rounding, clamped) or the
/// 2^k neighbours with linear weights (taps clamped to the edge, as ONNX's
/// reference pads with edge values). Dims whose extent and scale stay 1:1
/// are read straight through. Cubic mode does not lower yet.
/// Keys' cubic convolution weights with coefficient `a` for the four taps
/// at distances 1 + t, t, 1 - t, 2 - t (t in [0, 1)): resize and grid_sample.
static SmallVector<Value> cubicWeights(OpBuilder &nb, Location l, Value t, float a) {
  auto cst = [&](float v) -> Value {
    return arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(v));
  };
  auto near = [&](Value s) -> Value { // ((a + 2) s - (a + 3)) s^2 + 1
    Value s2 = arith::MulFOp::create(nb, l, s, s);
    return arith::AddFOp::create(
        nb, l,
        arith::MulFOp::create(
            nb, l,
            arith::SubFOp::create(nb, l, arith::MulFOp::create(nb, l, cst(a + 2), s),
                                  cst(a + 3)),
            s2),
        cst(1.0f));
  };
  auto far = [&](Value s) -> Value { // ((a s - 5a) s + 8a) s - 4a
    Value p = arith::SubFOp::create(nb, l, arith::MulFOp::create(nb, l, cst(a), s),
                                    cst(5 * a));
    p = arith::AddFOp::create(nb, l, arith::MulFOp::create(nb, l, p, s), cst(8 * a));
    return arith::SubFOp::create(nb, l, arith::MulFOp::create(nb, l, p, s), cst(4 * a));
  };
  return {far(arith::AddFOp::create(nb, l, cst(1.0f), t)), near(t),
          near(arith::SubFOp::create(nb, l, cst(1.0f), t)),
          far(arith::SubFOp::create(nb, l, cst(2.0f), t))};
}

struct LowerResize final : OpRewritePattern<ResizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ResizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    Value input = op.getInput();
    auto in = cast<RankedTensorType>(input.getType());
    auto rt = cast<RankedTensorType>(op.getType());
    Type elt = in.getElementType();
    if (!isa<FloatType>(elt) || elt.getIntOrFloatBitWidth() > 32)
      return rewriter.notifyMatchFailure(op, "only f32/f16/bf16 resize lowers");
    StringRef mode = op.getMode(), ctm = op.getCoordinateTransformationMode(),
              nm = op.getNearestMode();
    bool linear = mode == "linear", cubic = mode == "cubic";
    if (mode != "nearest" && !linear && !cubic)
      return rewriter.notifyMatchFailure(op, "mode");
    if (ctm != "half_pixel" && ctm != "pytorch_half_pixel" &&
        ctm != "asymmetric" && ctm != "align_corners" &&
        ctm != "tf_half_pixel_for_nn")
      return rewriter.notifyMatchFailure(op, "coordinate transformation mode");
    if (mode == "nearest" && nm != "round_prefer_floor" &&
        nm != "round_prefer_ceil" && nm != "floor" && nm != "ceil")
      return rewriter.notifyMatchFailure(op, "nearest_mode");
    int64_t rank = in.getRank();
    std::optional<ArrayRef<float>> scales = op.getScales();
    Value sizes = op.getSizes(), scalesIn = op.getScalesInput();
    if (!sizes && !scalesIn && (!scales || (int64_t)scales->size() != rank))
      return rewriter.notifyMatchFailure(op, "needs sizes or one scale per dim");
    auto f32 = b.getF32Type();
    auto toF32 = [&](OpBuilder &nb, Location l, Value idx) -> Value {
      Value i = arith::IndexCastOp::create(nb, l, nb.getI64Type(), idx);
      return arith::SIToFPOp::create(nb, l, f32, i);
    };
    // The scale of each dim: the attribute's, the run-time operand's, or
    // out / in (sizes).
    SmallVector<Value> scaleAt(rank);
    SmallVector<OpFoldResult> dims;
    SmallVector<Value> inDim(rank), outDim(rank);
    SmallVector<bool> resized(rank);
    for (int64_t d = 0; d < rank; ++d) {
      inDim[d] = dimValue(b, loc, input, d);
      if (scalesIn) {
        Value s = tensor::ExtractOp::create(
            b, loc, scalesIn, ValueRange{arith::ConstantIndexOp::create(b, loc, d)});
        scaleAt[d] = s.getType() == f32 ? s : (Value)arith::TruncFOp::create(b, loc, f32, s);
      } else if (scales) {
        scaleAt[d] = arith::ConstantOp::create(b, loc, b.getF32FloatAttr((*scales)[d]));
      }
      if (!rt.isDynamicDim(d)) {
        dims.push_back(b.getIndexAttr(rt.getDimSize(d)));
      } else if (sizes) {
        dims.push_back(extractIndex(b, loc, sizes, d));
      } else {
        // floor(I * s)
        Value o = arith::MulFOp::create(b, loc, toF32(b, loc, inDim[d]), scaleAt[d]);
        o = math::FloorOp::create(b, loc, o);
        o = arith::FPToSIOp::create(b, loc, b.getI64Type(), o);
        dims.push_back((Value)arith::IndexCastOp::create(b, loc, b.getIndexType(), o));
      }
      outDim[d] = getValueOrCreateConstantIndexOp(b, loc, dims.back());
      bool sameExtent = !in.isDynamicDim(d) && !rt.isDynamicDim(d) &&
                        in.getDimSize(d) == rt.getDimSize(d);
      // Run-time scales: every dim interpolates (a scale of 1 gives the
      // input's own values).
      resized[d] = scalesIn ? true : scales ? !((*scales)[d] == 1.0f) : !sameExtent;
    }
    float a = op.getCubicCoeffA().convertToFloat();
    bool exclude = op.getExcludeOutside();
    Value init = tensor::EmptyOp::create(b, loc, dims, elt);
    auto g = linalg::GenericOp::create(
        b, loc, TypeRange{init.getType()}, ValueRange{}, ValueRange{init},
        ArrayRef<AffineMap>{b.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &nb, Location l, ValueRange) {
          auto cst = [&](float v) -> Value {
            return arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(v));
          };
          auto i64c = [&](int64_t v) -> Value {
            return arith::ConstantIntOp::create(nb, l, nb.getI64Type(), v);
          };
          auto clampIdx = [&](Value i, Value hi) -> Value {
            // i (i64) into [0, hi - 1], as index
            Value top = arith::SubIOp::create(
                nb, l, arith::IndexCastOp::create(nb, l, nb.getI64Type(), hi), i64c(1));
            i = arith::MaxSIOp::create(nb, l, i, i64c(0));
            i = arith::MinSIOp::create(nb, l, i, top);
            return arith::IndexCastOp::create(nb, l, nb.getIndexType(), i);
          };
          // Per dim: the input indices read and their weights (one index
          // and no weight where the dim is not interpolated).
          SmallVector<SmallVector<Value>> tapIdx(rank), tapW(rank);
          SmallVector<int64_t> tapDims;
          for (int64_t d = 0; d < rank; ++d) {
            Value o = linalg::IndexOp::create(nb, l, d);
            if (!resized[d]) {
              tapIdx[d] = {o};
              continue;
            }
            Value of = toF32(nb, l, o), inF = toF32(nb, l, inDim[d]),
                  outF = toF32(nb, l, outDim[d]);
            Value s = scaleAt[d] ? scaleAt[d]
                                 : (Value)arith::DivFOp::create(nb, l, outF, inF);
            // align_corners (and pytorch_half_pixel's test) use the output
            // extent, as the ONNX text, ONNX Runtime and PyTorch do; ONNX
            // 1.12's reference (the node tests' data) uses in * scale.
            Value x;
            if (ctm == "asymmetric") {
              x = arith::DivFOp::create(nb, l, of, s);
            } else if (ctm == "tf_half_pixel_for_nn") {
              x = arith::DivFOp::create(nb, l, arith::AddFOp::create(nb, l, of, cst(0.5f)), s);
            } else if (ctm == "align_corners") {
              Value den = arith::MaximumFOp::create(
                  nb, l, arith::SubFOp::create(nb, l, outF, cst(1.0f)), cst(1.0f));
              x = arith::DivFOp::create(
                  nb, l,
                  arith::MulFOp::create(nb, l, of,
                                        arith::SubFOp::create(nb, l, inF, cst(1.0f))),
                  den);
            } else {
              x = arith::SubFOp::create(
                  nb, l,
                  arith::DivFOp::create(nb, l, arith::AddFOp::create(nb, l, of, cst(0.5f)), s),
                  cst(0.5f));
              if (ctm == "pytorch_half_pixel") {
                Value big = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT,
                                                  outF, cst(1.0f));
                x = arith::SelectOp::create(nb, l, big, x, cst(0.0f));
              }
            }
            if (!linear && !cubic) {
              Value r;
              if (nm == "round_prefer_floor")
                r = math::CeilOp::create(nb, l, arith::SubFOp::create(nb, l, x, cst(0.5f)));
              else if (nm == "round_prefer_ceil")
                r = math::FloorOp::create(nb, l, arith::AddFOp::create(nb, l, x, cst(0.5f)));
              else if (nm == "floor")
                r = math::FloorOp::create(nb, l, x);
              else
                r = math::CeilOp::create(nb, l, x);
              tapIdx[d] = {clampIdx(arith::FPToSIOp::create(nb, l, nb.getI64Type(), r),
                                    inDim[d])};
              continue;
            }
            Value fl = math::FloorOp::create(nb, l, x);
            Value t = arith::SubFOp::create(nb, l, x, fl);
            Value i0 = arith::FPToSIOp::create(nb, l, nb.getI64Type(), fl);
            tapDims.push_back(d);
            if (linear) {
              tapIdx[d] = {clampIdx(i0, inDim[d]),
                           clampIdx(arith::AddIOp::create(nb, l, i0, i64c(1)), inDim[d])};
              tapW[d] = {arith::SubFOp::create(nb, l, cst(1.0f), t), t};
              continue;
            }
            // Cubic: input indices floor(x) - 1 .. floor(x) + 2 at distances
            // 1 + t, t, 1 - t, 2 - t; outside the input the edge repeats, or
            // (exclude_outside) those weights are 0 and the rest renormalized.
            SmallVector<Value> w = cubicWeights(nb, l, t, a);
            Value inI = arith::IndexCastOp::create(nb, l, nb.getI64Type(), inDim[d]);
            Value sum = cst(0.0f);
            for (int k = 0; k < 4; ++k) {
              Value ik = arith::AddIOp::create(nb, l, i0, i64c(k - 1));
              tapIdx[d].push_back(clampIdx(ik, inDim[d]));
              if (exclude) {
                Value inside = arith::AndIOp::create(
                    nb, l,
                    arith::CmpIOp::create(nb, l, arith::CmpIPredicate::sge, ik, i64c(0)),
                    arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, ik, inI));
                w[k] = arith::SelectOp::create(nb, l, inside, w[k], cst(0.0f));
                sum = arith::AddFOp::create(nb, l, sum, w[k]);
              }
            }
            for (int k = 0; k < 4; ++k)
              tapW[d].push_back(exclude ? (Value)arith::DivFOp::create(nb, l, w[k], sum)
                                        : w[k]);
          }
          Value result;
          if (tapDims.empty()) {
            SmallVector<Value> idx;
            for (int64_t d = 0; d < rank; ++d)
              idx.push_back(tapIdx[d][0]);
            result = tensor::ExtractOp::create(nb, l, input, idx);
          } else {
            // sum over every combination of taps of prod(weights) * input
            Value acc = cst(0.0f);
            int64_t combos = 1;
            for (int64_t d : tapDims)
              combos *= tapIdx[d].size();
            for (int64_t comb = 0; comb < combos; ++comb) {
              SmallVector<Value> idx;
              for (int64_t d = 0; d < rank; ++d)
                idx.push_back(tapIdx[d][0]);
              Value w = cst(1.0f);
              int64_t rest = comb;
              for (int64_t d : tapDims) {
                int64_t n = tapIdx[d].size(), k = rest % n;
                rest /= n;
                idx[d] = tapIdx[d][k];
                w = arith::MulFOp::create(nb, l, w, tapW[d][k]);
              }
              Value v = tensor::ExtractOp::create(nb, l, input, idx);
              if (v.getType() != f32)
                v = arith::ExtFOp::create(nb, l, f32, v);
              acc = arith::AddFOp::create(nb, l, acc, arith::MulFOp::create(nb, l, w, v));
            }
            result = acc.getType() == elt
                         ? acc
                         : (Value)arith::TruncFOp::create(nb, l, elt, acc);
          }
          linalg::YieldOp::create(nb, l, result);
        });
    Value r = g.getResult(0);
    if (r.getType() != rt)
      r = tensor::CastOp::create(b, loc, rt, r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// kiln.grid_sample: one linalg.generic over [N, C, Ho, Wo]. Per output
/// point the grid's (x, y) is unnormalized to input pixel coordinates,
/// moved inside the input for border / reflection padding (not bicubic),
/// then read with
/// 1 (nearest), 2 x 2 (bilinear) or 4 x 4 (bicubic) taps; a tap outside
/// the input reads 0 (zeros), the edge (border) or its reflection. The
/// same steps as ONNX's reference and ONNX Runtime.
struct LowerGridSample final : OpRewritePattern<GridSampleOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GridSampleOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    Value x = op.getInput(), grid = op.getGrid();
    auto xt = cast<RankedTensorType>(x.getType());
    auto rt = cast<RankedTensorType>(op.getType());
    Type elt = xt.getElementType();
    if (elt.getIntOrFloatBitWidth() > 32 ||
        cast<RankedTensorType>(grid.getType()).getElementType().getIntOrFloatBitWidth() > 32)
      return rewriter.notifyMatchFailure(op, "only f32/f16/bf16 grid_sample");
    StringRef mode = op.getMode(), pad = op.getPaddingMode();
    bool ac = op.getAlignCorners();
    auto f32 = b.getF32Type();
    SmallVector<OpFoldResult> dims{getDims(b, loc, x)[0], getDims(b, loc, x)[1],
                                   getDims(b, loc, grid)[1], getDims(b, loc, grid)[2]};
    Value hIn = dimValue(b, loc, x, 2), wIn = dimValue(b, loc, x, 3);
    Value init = tensor::EmptyOp::create(b, loc, dims, elt);
    auto g = linalg::GenericOp::create(
        b, loc, TypeRange{init.getType()}, ValueRange{}, ValueRange{init},
        ArrayRef<AffineMap>{b.getMultiDimIdentityMap(4)},
        SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
        [&](OpBuilder &nb, Location l, ValueRange) {
          auto cst = [&](float v) -> Value {
            return arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(v));
          };
          auto toF = [&](Value idx) -> Value {
            return arith::SIToFPOp::create(
                nb, l, f32, arith::IndexCastOp::create(nb, l, nb.getI64Type(), idx));
          };
          Value n = linalg::IndexOp::create(nb, l, 0), ch = linalg::IndexOp::create(nb, l, 1),
                oy = linalg::IndexOp::create(nb, l, 2), ox = linalg::IndexOp::create(nb, l, 3);
          auto gridAt = [&](int64_t comp) -> Value {
            Value v = tensor::ExtractOp::create(
                nb, l, grid,
                ValueRange{n, oy, ox, arith::ConstantIndexOp::create(nb, l, comp)});
            return v.getType() == f32 ? v : (Value)arith::ExtFOp::create(nb, l, f32, v);
          };
          Value wF = toF(wIn), hF = toF(hIn);
          // [-1, 1] -> pixels
          auto unnorm = [&](Value gv, Value size) -> Value {
            Value p1 = arith::AddFOp::create(nb, l, gv, cst(1.0f));
            if (ac)
              return arith::MulFOp::create(
                  nb, l, arith::MulFOp::create(nb, l, p1, cst(0.5f)),
                  arith::SubFOp::create(nb, l, size, cst(1.0f)));
            return arith::MulFOp::create(
                nb, l, arith::SubFOp::create(nb, l, arith::MulFOp::create(nb, l, p1, size),
                                             cst(1.0f)),
                cst(0.5f));
          };
          // reflect v into [lo, hi]
          auto reflect = [&](Value v, Value lo, Value hi) -> Value {
            Value range = arith::SubFOp::create(nb, l, hi, lo);
            Value below = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OLT, v, lo);
            Value above = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT, v, hi);
            Value dx = arith::SelectOp::create(nb, l, below, arith::SubFOp::create(nb, l, lo, v),
                                               arith::SubFOp::create(nb, l, v, hi));
            Value safe = arith::MaximumFOp::create(nb, l, range, cst(1e-30f));
            Value flips = math::FloorOp::create(nb, l, arith::DivFOp::create(nb, l, dx, safe));
            Value r = arith::SubFOp::create(nb, l, dx, arith::MulFOp::create(nb, l, flips, range));
            Value odd = arith::CmpFOp::create(
                nb, l, arith::CmpFPredicate::ONE,
                arith::SubFOp::create(
                    nb, l, flips,
                    arith::MulFOp::create(nb, l, cst(2.0f),
                                          math::FloorOp::create(
                                              nb, l, arith::MulFOp::create(nb, l, flips, cst(0.5f))))),
                cst(0.0f));
            // below: even -> lo + r, odd -> hi - r; above: even -> hi - r, odd -> lo + r
            Value fromLo = arith::AddFOp::create(nb, l, lo, r), fromHi = arith::SubFOp::create(nb, l, hi, r);
            Value belowV = arith::SelectOp::create(nb, l, odd, fromHi, fromLo);
            Value aboveV = arith::SelectOp::create(nb, l, odd, fromLo, fromHi);
            Value out = arith::SelectOp::create(nb, l, below, belowV, v);
            out = arith::SelectOp::create(nb, l, above, aboveV, out);
            // a degenerate range (size 1 with align_corners) maps to lo
            Value flat = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OLE, range, cst(0.0f));
            return arith::SelectOp::create(nb, l, flat, lo, out);
          };
          auto bounds = [&](Value size) -> std::pair<Value, Value> {
            if (ac)
              return {cst(0.0f), arith::SubFOp::create(nb, l, size, cst(1.0f))};
            return {cst(-0.5f), arith::SubFOp::create(nb, l, size, cst(0.5f))};
          };
          auto clampF = [&](Value v, Value size) -> Value {
            v = arith::MaximumFOp::create(nb, l, v, cst(0.0f));
            return arith::MinimumFOp::create(nb, l, v, arith::SubFOp::create(nb, l, size, cst(1.0f)));
          };
          // Bicubic pads each tap only (as PyTorch and ONNX Runtime do);
          // nearest and bilinear move the point itself first.
          auto padCoord = [&](Value v, Value size) -> Value {
            if (mode == "bicubic")
              return v;
            if (pad == "border")
              return clampF(v, size);
            if (pad == "reflection") {
              auto [lo, hi] = bounds(size);
              return clampF(reflect(v, lo, hi), size);
            }
            return v;
          };
          Value px = padCoord(unnorm(gridAt(0), wF), wF);
          Value py = padCoord(unnorm(gridAt(1), hF), hF);
          // The pixel at integer coordinates (float-valued) (r, c) with the
          // padding mode applied to the tap.
          Value zero = cst(0.0f);
          auto pixel = [&](Value r, Value c) -> Value {
            Value inside;
            if (pad == "zeros") {
              auto in = [&](Value v, Value size) {
                return arith::AndIOp::create(
                    nb, l, arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGE, v, zero),
                    arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OLE, v,
                                          arith::SubFOp::create(nb, l, size, cst(1.0f))));
              };
              inside = arith::AndIOp::create(nb, l, in(r, hF), in(c, wF));
            } else if (pad == "reflection") {
              auto [rlo, rhi] = bounds(hF);
              auto [clo, chi] = bounds(wF);
              r = reflect(r, rlo, rhi);
              c = reflect(c, clo, chi);
            }
            r = clampF(r, hF);
            c = clampF(c, wF);
            auto idx = [&](Value v) -> Value {
              return arith::IndexCastOp::create(
                  nb, l, nb.getIndexType(), arith::FPToSIOp::create(nb, l, nb.getI64Type(), v));
            };
            Value v = tensor::ExtractOp::create(nb, l, x, ValueRange{n, ch, idx(r), idx(c)});
            if (v.getType() != f32)
              v = arith::ExtFOp::create(nb, l, f32, v);
            return inside ? (Value)arith::SelectOp::create(nb, l, inside, v, zero) : v;
          };
          Value result;
          if (mode == "nearest") {
            result = pixel(math::RoundEvenOp::create(nb, l, py),
                           math::RoundEvenOp::create(nb, l, px));
          } else {
            Value fx = math::FloorOp::create(nb, l, px), fy = math::FloorOp::create(nb, l, py);
            Value tx = arith::SubFOp::create(nb, l, px, fx), ty = arith::SubFOp::create(nb, l, py, fy);
            SmallVector<Value> wx, wy;
            int64_t first;
            if (mode == "bilinear") {
              first = 0;
              wx = {arith::SubFOp::create(nb, l, cst(1.0f), tx), tx};
              wy = {arith::SubFOp::create(nb, l, cst(1.0f), ty), ty};
            } else {
              first = -1;
              // Keys' cubic kernel, A = -0.75
              wx = cubicWeights(nb, l, tx, -0.75f);
              wy = cubicWeights(nb, l, ty, -0.75f);
            }
            Value acc = zero;
            for (size_t i = 0; i < wy.size(); ++i)
              for (size_t j = 0; j < wx.size(); ++j) {
                Value r = arith::AddFOp::create(nb, l, fy, cst((float)(first + (int64_t)i)));
                Value c = arith::AddFOp::create(nb, l, fx, cst((float)(first + (int64_t)j)));
                Value w = arith::MulFOp::create(nb, l, wy[i], wx[j]);
                acc = arith::AddFOp::create(nb, l, acc,
                                            arith::MulFOp::create(nb, l, w, pixel(r, c)));
              }
            result = acc;
          }
          if (result.getType() != elt)
            result = arith::TruncFOp::create(nb, l, elt, result);
          linalg::YieldOp::create(nb, l, result);
        });
    Value r = g.getResult(0);
    if (r.getType() != rt)
      r = tensor::CastOp::create(b, loc, rt, r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// kiln.random: one linalg.generic over the result; element i (row-major
/// linear index) is splitmix64(seed + (i + 1) * golden ratio): its top 24
/// bits give a uniform u in [0, 1); normal values take two draws (2i,
/// 2i + 1) through Box-Muller.
struct LowerRandom final : OpRewritePattern<RandomOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RandomOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    auto rt = cast<RankedTensorType>(op.getType());
    Type elt = rt.getElementType();
    int64_t rank = rt.getRank();
    SmallVector<OpFoldResult> dims;
    for (int64_t d = 0; d < rank; ++d)
      dims.push_back(rt.isDynamicDim(d) ? OpFoldResult(dimValue(b, loc, op.getLike(), d))
                                        : OpFoldResult(b.getIndexAttr(rt.getDimSize(d))));
    SmallVector<Value> extent;
    for (OpFoldResult d : dims)
      extent.push_back(getValueOrCreateConstantIndexOp(b, loc, d));
    Value init = tensor::EmptyOp::create(b, loc, dims, elt);
    bool normal = op.getDistribution() == "normal";
    float pa = op.getA().convertToFloat(), pb = op.getB().convertToFloat();
    int64_t seed = op.getSeed();
    auto g = linalg::GenericOp::create(
        b, loc, TypeRange{init.getType()}, ValueRange{}, ValueRange{init},
        ArrayRef<AffineMap>{b.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &nb, Location l, ValueRange) {
          Type i64 = nb.getI64Type(), f32 = nb.getF32Type();
          auto c64 = [&](uint64_t v) -> Value {
            return arith::ConstantIntOp::create(nb, l, i64, (int64_t)v);
          };
          auto cst = [&](float v) -> Value {
            return arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(v));
          };
          Value lin = arith::ConstantIndexOp::create(nb, l, 0);
          for (int64_t d = 0; d < rank; ++d)
            lin = arith::AddIOp::create(
                nb, l, arith::MulIOp::create(nb, l, lin, extent[d]),
                linalg::IndexOp::create(nb, l, d));
          Value i = arith::IndexCastOp::create(nb, l, i64, lin);
          auto uniform = [&](Value k) -> Value {
            Value z = arith::AddIOp::create(
                nb, l, c64((uint64_t)seed),
                arith::MulIOp::create(nb, l, arith::AddIOp::create(nb, l, k, c64(1)),
                                      c64(0x9E3779B97F4A7C15ull)));
            auto mix = [&](Value v, int64_t shift, uint64_t mul) -> Value {
              Value x = arith::XOrIOp::create(
                  nb, l, v, arith::ShRUIOp::create(nb, l, v, c64(shift)));
              return mul ? (Value)arith::MulIOp::create(nb, l, x, c64(mul)) : x;
            };
            z = mix(z, 30, 0xBF58476D1CE4E5B9ull);
            z = mix(z, 27, 0x94D049BB133111EBull);
            z = mix(z, 31, 0);
            Value top = arith::ShRUIOp::create(nb, l, z, c64(40));
            return arith::MulFOp::create(nb, l, arith::UIToFPOp::create(nb, l, f32, top),
                                         cst(1.0f / 16777216.0f));
          };
          Value v;
          if (!normal) {
            v = arith::AddFOp::create(nb, l, cst(pa),
                                      arith::MulFOp::create(nb, l, cst(pb - pa), uniform(i)));
          } else {
            Value i2 = arith::MulIOp::create(nb, l, i, c64(2));
            Value u1 = uniform(i2), u2 = uniform(arith::AddIOp::create(nb, l, i2, c64(1)));
            // sqrt(-2 ln(1 - u1)) cos(2 pi u2); 1 - u1 is in (0, 1]
            Value r = math::SqrtOp::create(
                nb, l,
                arith::MulFOp::create(
                    nb, l, cst(-2.0f),
                    math::LogOp::create(nb, l, arith::SubFOp::create(nb, l, cst(1.0f), u1))));
            Value n = arith::MulFOp::create(
                nb, l, r,
                math::CosOp::create(nb, l,
                                    arith::MulFOp::create(nb, l, cst(6.283185307179586f), u2)));
            v = arith::AddFOp::create(nb, l, cst(pa), arith::MulFOp::create(nb, l, cst(pb), n));
          }
          if (elt.getIntOrFloatBitWidth() < 32)
            v = arith::TruncFOp::create(nb, l, elt, v);
          else if (elt != f32)
            v = arith::ExtFOp::create(nb, l, elt, v);
          linalg::YieldOp::create(nb, l, v);
        });
    Value r = g.getResult(0);
    if (r.getType() != rt)
      r = tensor::CastOp::create(b, loc, rt, r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

} // namespace

void lowering::populateSamplingPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerResize, LowerGridSample, LowerRandom>(patterns.getContext());
}
