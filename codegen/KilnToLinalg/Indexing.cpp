//===- Indexing.cpp - kiln ops that move elements by computed indices -----===//
//
// Lowerings whose output element is read from (or written to) a position
// computed per element: Resize, DepthToSpace/SpaceToDepth, OneHot, GatherND
// (one generic over the output extracting its source), ScatterElements,
// ScatterND and TopK (scf.for nests carrying the output tensor, so updates
// apply in ONNX's order). Correct for every form the node tests use; not
// tuned for speed.
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

/// kiln.depth_to_space / kiln.space_to_depth on [N, C, H, W]: a pure
/// permutation, one linalg.generic over the output extracting the source
/// element (b = blocksize, C' = C / b^2 for depth_to_space):
///   depth_to_space DCR: out[n, c, h*b + i, w*b + j] = in[n, (i*b + j)*C' + c, h, w]
///   depth_to_space CRD: out[n, c, h*b + i, w*b + j] = in[n, c*b*b + i*b + j, h, w]
///   space_to_depth:     out[n, (i*b + j)*C + c, h, w] = in[n, c, h*b + i, w*b + j]
template <typename OpTy>
struct LowerBlockShuffle final : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    constexpr bool toSpace = std::is_same_v<OpTy, DepthToSpaceOp>;
    Location loc = op.getLoc();
    auto &b = rewriter;
    Value input = op.getInput();
    auto in = cast<RankedTensorType>(input.getType());
    auto rt = cast<RankedTensorType>(op.getType());
    if (in.getRank() != 4)
      return rewriter.notifyMatchFailure(op, "not [N, C, H, W]");
    int64_t bs = (int64_t)op.getBlocksize();
    bool crd = false;
    if constexpr (toSpace)
      crd = op.getMode() == "CRD";
    SmallVector<OpFoldResult> dims;
    for (int64_t d = 0; d < 4; ++d) {
      if (!rt.isDynamicDim(d)) {
        dims.push_back(b.getIndexAttr(rt.getDimSize(d)));
        continue;
      }
      Value e = dimValue(b, loc, input, d);
      Value k = arith::ConstantIndexOp::create(b, loc, d == 1 ? bs * bs : bs);
      bool grows = (d == 1) != toSpace; // channels grow in space_to_depth
      dims.push_back((Value)(grows ? (Value)arith::MulIOp::create(b, loc, e, k)
                                   : (Value)arith::DivUIOp::create(b, loc, e, k)));
    }
    // channels of the smaller side: C' (depth_to_space output) or C
    // (space_to_depth input)
    Value cSmall = toSpace ? getValueOrCreateConstantIndexOp(b, loc, dims[1])
                           : dimValue(b, loc, input, 1);
    Value init = tensor::EmptyOp::create(b, loc, dims, rt.getElementType());
    auto g = linalg::GenericOp::create(
        b, loc, TypeRange{init.getType()}, ValueRange{}, ValueRange{init},
        ArrayRef<AffineMap>{b.getMultiDimIdentityMap(4)},
        SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
        [&](OpBuilder &nb, Location l, ValueRange) {
          Value n = linalg::IndexOp::create(nb, l, 0), c = linalg::IndexOp::create(nb, l, 1),
                h = linalg::IndexOp::create(nb, l, 2), w = linalg::IndexOp::create(nb, l, 3);
          Value B = arith::ConstantIndexOp::create(nb, l, bs);
          auto mul = [&](Value x, Value y) -> Value { return arith::MulIOp::create(nb, l, x, y); };
          auto add = [&](Value x, Value y) -> Value { return arith::AddIOp::create(nb, l, x, y); };
          auto div = [&](Value x, Value y) -> Value { return arith::DivUIOp::create(nb, l, x, y); };
          auto rem = [&](Value x, Value y) -> Value { return arith::RemUIOp::create(nb, l, x, y); };
          SmallVector<Value> idx;
          if (toSpace) {
            Value i = rem(h, B), j = rem(w, B);
            Value ij = add(mul(i, B), j);
            Value ch = crd ? add(mul(c, mul(B, B)), ij) : add(mul(ij, cSmall), c);
            idx = {n, ch, div(h, B), div(w, B)};
          } else {
            // out channel o = (i*b + j)*C + c
            Value ij = div(c, cSmall), ci = rem(c, cSmall);
            Value i = div(ij, B), j = rem(ij, B);
            idx = {n, ci, add(mul(h, B), i), add(mul(w, B), j)};
          }
          linalg::YieldOp::create(nb, l, tensor::ExtractOp::create(nb, l, input, idx).getResult());
        });
    Value r = g.getResult(0);
    if (r.getType() != rt)
      r = tensor::CastOp::create(b, loc, rt, r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// kiln.one_hot: out[..., k, ...] (k at `axis`) = values[1] where the
/// index (negative counts from depth) equals k, values[0] elsewhere; depth
/// (any numeric 0-D/1-element tensor) gives the new dim's extent.
struct LowerOneHot final : OpRewritePattern<OneHotOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(OneHotOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    Value ind = op.getIndices(), depthT = op.getDepth(), vals = op.getValues();
    auto rt = cast<RankedTensorType>(op.getType());
    auto dt = cast<RankedTensorType>(depthT.getType());
    auto vt = cast<RankedTensorType>(vals.getType());
    if (dt.getNumElements() != 1 || vt.getRank() != 1 || vt.getDimSize(0) != 2)
      return rewriter.notifyMatchFailure(op, "depth is not one value or values not [2]");
    int64_t rank = rt.getRank(), axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    // depth as i64 (floats truncate, as ONNX casts it)
    SmallVector<Value> zeros(dt.getRank(), arith::ConstantIndexOp::create(b, loc, 0));
    Value depth = tensor::ExtractOp::create(b, loc, depthT, zeros);
    depth = castScalar(b, loc, depth, b.getI64Type());
    Value depthIdx = arith::IndexCastOp::create(b, loc, b.getIndexType(), depth);
    SmallVector<OpFoldResult> dims;
    for (int64_t d = 0, k = 0; d < rank; ++d) {
      if (d == axis) {
        dims.push_back(rt.isDynamicDim(d) ? OpFoldResult(depthIdx)
                                          : OpFoldResult(b.getIndexAttr(rt.getDimSize(d))));
        continue;
      }
      dims.push_back(tensor::getMixedSize(b, loc, ind, k++));
    }
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0),
          c1 = arith::ConstantIndexOp::create(b, loc, 1);
    Value off = tensor::ExtractOp::create(b, loc, vals, ValueRange{c0});
    Value on = tensor::ExtractOp::create(b, loc, vals, ValueRange{c1});
    SmallVector<AffineExpr> inE;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis)
        inE.push_back(b.getAffineDimExpr(d));
    Value init = tensor::EmptyOp::create(b, loc, dims, rt.getElementType());
    auto g = linalg::GenericOp::create(
        b, loc, TypeRange{init.getType()}, ValueRange{ind}, ValueRange{init},
        ArrayRef<AffineMap>{AffineMap::get(rank, 0, inE, b.getContext()),
                            b.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &nb, Location l, ValueRange a) {
          Value i = castScalar(nb, l, a[0], nb.getI64Type());
          Value neg = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, i,
                                            arith::ConstantIntOp::create(nb, l, nb.getI64Type(), 0));
          i = arith::SelectOp::create(nb, l, neg, arith::AddIOp::create(nb, l, i, depth), i);
          Value k = arith::IndexCastOp::create(nb, l, nb.getI64Type(),
                                               linalg::IndexOp::create(nb, l, axis));
          Value hit = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, i, k);
          linalg::YieldOp::create(nb, l, arith::SelectOp::create(nb, l, hit, on, off).getResult());
        });
    Value r = g.getResult(0);
    if (r.getType() != rt)
      r = tensor::CastOp::create(b, loc, rt, r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// kiln.gather_nd: out[p..., r...] = data[p[0:b]..., idx[p..., 0:k]..., r...]
/// with b = batch_dims, k = the indices' last extent (static), negative
/// indices counted from the dim and out-of-range ones clamped.
struct LowerGatherND final : OpRewritePattern<GatherNDOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherNDOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    Value data = op.getInput(), ind = op.getIndices();
    auto dt = cast<RankedTensorType>(data.getType());
    auto it = cast<RankedTensorType>(ind.getType());
    auto rt = cast<RankedTensorType>(op.getType());
    int64_t q = it.getRank(), bd = (int64_t)op.getBatchDims();
    if (q < 1 || it.isDynamicDim(q - 1))
      return rewriter.notifyMatchFailure(op, "indices' last extent is dynamic");
    int64_t k = it.getDimSize(q - 1), prefix = q - 1, rank = rt.getRank();
    SmallVector<OpFoldResult> dims;
    for (int64_t d = 0; d < prefix; ++d)
      dims.push_back(tensor::getMixedSize(b, loc, ind, d));
    for (int64_t d = bd + k; d < dt.getRank(); ++d)
      dims.push_back(tensor::getMixedSize(b, loc, data, d));
    SmallVector<Value> dataDims;
    for (int64_t d = 0; d < dt.getRank(); ++d)
      dataDims.push_back(dimValue(b, loc, data, d));
    Value init = tensor::EmptyOp::create(b, loc, dims, rt.getElementType());
    auto g = linalg::GenericOp::create(
        b, loc, TypeRange{init.getType()}, ValueRange{}, ValueRange{init},
        ArrayRef<AffineMap>{b.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &nb, Location l, ValueRange) {
          SmallVector<Value> iv;
          for (int64_t d = 0; d < rank; ++d)
            iv.push_back(linalg::IndexOp::create(nb, l, d));
          SmallVector<Value> di(iv.begin(), iv.begin() + bd);
          for (int64_t j = 0; j < k; ++j) {
            SmallVector<Value> ii(iv.begin(), iv.begin() + prefix);
            ii.push_back(arith::ConstantIndexOp::create(nb, l, j));
            Value v = tensor::ExtractOp::create(nb, l, ind, ii);
            di.push_back(wrapIndex(nb, l, v, dataDims[bd + j]));
          }
          di.append(iv.begin() + prefix, iv.end());
          linalg::YieldOp::create(nb, l, tensor::ExtractOp::create(nb, l, data, di).getResult());
        });
    Value r = g.getResult(0);
    if (r.getType() != rt)
      r = tensor::CastOp::create(b, loc, rt, r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// A nest of scf.for loops over [0, ubs[i]) carrying one tensor; `body`
/// gets the induction variables and the carried tensor and returns its
/// next value.
static Value loopNest(OpBuilder &b, Location loc, ArrayRef<Value> ubs, Value init,
                      function_ref<Value(OpBuilder &, Location, ValueRange, Value)> body,
                      SmallVector<Value> ivs = {}) {
  if (ivs.size() == ubs.size())
    return body(b, loc, ivs, init);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto loop = scf::ForOp::create(
      b, loc, zero, ubs[ivs.size()], one, ValueRange{init},
      [&](OpBuilder &nb, Location l, Value iv, ValueRange args) {
        SmallVector<Value> next(ivs);
        next.push_back(iv);
        Value r = loopNest(nb, l, ubs, args[0], body, next);
        scf::YieldOp::create(nb, l, r);
      });
  return loop.getResult(0);
}

/// old (reduction) new, for ScatterElements/ScatterND's `reduction`.
static Value scatterCombine(OpBuilder &b, Location loc, StringRef red, Value old,
                            Value v) {
  bool f = isa<FloatType>(v.getType());
  if (red == "add")
    return f ? (Value)arith::AddFOp::create(b, loc, old, v)
             : (Value)arith::AddIOp::create(b, loc, old, v);
  if (red == "mul")
    return f ? (Value)arith::MulFOp::create(b, loc, old, v)
             : (Value)arith::MulIOp::create(b, loc, old, v);
  if (red == "max")
    return f ? (Value)arith::MaximumFOp::create(b, loc, old, v)
             : (Value)arith::MaxSIOp::create(b, loc, old, v);
  if (red == "min")
    return f ? (Value)arith::MinimumFOp::create(b, loc, old, v)
             : (Value)arith::MinSIOp::create(b, loc, old, v);
  return v;
}

/// acc with updates value v applied at `target` under `red`.
static Value scatterStep(OpBuilder &b, Location loc, StringRef red, Value acc,
                         ArrayRef<Value> target, Value v) {
  if (red != "none")
    v = scatterCombine(b, loc, red, tensor::ExtractOp::create(b, loc, acc, target), v);
  return tensor::InsertOp::create(b, loc, v, acc, target);
}

/// Scatter into unsigned elements would need the unsigned max/min.
static bool scatterSupported(StringRef red, Type elt) {
  auto it = dyn_cast<IntegerType>(elt);
  return (red == "none" || red == "add" || red == "mul" || red == "max" ||
          red == "min") &&
         !(it && it.isUnsigned());
}


/// kiln.scatter_elements: a copy of data, then, in order, for every index
/// position p: out[p with p[axis] = idx[p]] (reduction)= updates[p]. Loops
/// (scf.for) with in-place tensor updates: sequential, as ONNX specifies.
struct LowerScatterElements final : OpRewritePattern<ScatterElementsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScatterElementsOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    Value data = op.getInput(), ind = op.getIndices(), upd = op.getUpdates();
    auto dt = cast<RankedTensorType>(data.getType());
    if (!scatterSupported(op.getReduction(), dt.getElementType()))
      return rewriter.notifyMatchFailure(op, "reduction or element type");
    int64_t rank = dt.getRank(), axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    SmallVector<Value> ubs;
    for (int64_t d = 0; d < rank; ++d)
      ubs.push_back(dimValue(b, loc, ind, d));
    Value axisDim = dimValue(b, loc, data, axis);
    StringRef red = op.getReduction();
    Value r = loopNest(b, loc, ubs, data,
                       [&](OpBuilder &nb, Location l, ValueRange iv, Value acc) -> Value {
                         SmallVector<Value> t(iv.begin(), iv.end());
                         t[axis] = wrapIndex(nb, l, tensor::ExtractOp::create(nb, l, ind, iv),
                                             axisDim);
                         return scatterStep(nb, l, red, acc, t,
                                            tensor::ExtractOp::create(nb, l, upd, iv));
                       });
    if (r.getType() != op.getType())
      r = tensor::CastOp::create(b, loc, op.getType(), r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// kiln.scatter_nd: a copy of data, then for every index prefix p (the
/// indices' dims but the last, of extent k) and every trailing position r:
/// out[idx[p, 0:k]..., r...] (reduction)= updates[p..., r...].
struct LowerScatterND final : OpRewritePattern<ScatterNDOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScatterNDOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    Value data = op.getInput(), ind = op.getIndices(), upd = op.getUpdates();
    auto dt = cast<RankedTensorType>(data.getType());
    auto it = cast<RankedTensorType>(ind.getType());
    int64_t q = it.getRank();
    if (!scatterSupported(op.getReduction(), dt.getElementType()) || q < 1 ||
        it.isDynamicDim(q - 1))
      return rewriter.notifyMatchFailure(op, "reduction, element type or index depth");
    int64_t k = it.getDimSize(q - 1), rank = dt.getRank();
    SmallVector<Value> ubs, dataDims;
    for (int64_t d = 0; d + 1 < q; ++d)
      ubs.push_back(dimValue(b, loc, ind, d));
    for (int64_t d = 0; d < rank; ++d)
      dataDims.push_back(dimValue(b, loc, data, d));
    for (int64_t d = k; d < rank; ++d)
      ubs.push_back(dataDims[d]);
    StringRef red = op.getReduction();
    Value r = loopNest(b, loc, ubs, data,
                       [&](OpBuilder &nb, Location l, ValueRange iv, Value acc) -> Value {
                         SmallVector<Value> t;
                         for (int64_t j = 0; j < k; ++j) {
                           SmallVector<Value> ii(iv.begin(), iv.begin() + (q - 1));
                           ii.push_back(arith::ConstantIndexOp::create(nb, l, j));
                           t.push_back(wrapIndex(nb, l, tensor::ExtractOp::create(nb, l, ind, ii),
                                                 dataDims[j]));
                         }
                         t.append(iv.begin() + (q - 1), iv.end());
                         return scatterStep(nb, l, red, acc, t,
                                            tensor::ExtractOp::create(nb, l, upd, iv));
                       });
    if (r.getType() != op.getType())
      r = tensor::CastOp::create(b, loc, op.getType(), r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// kiln.top_k (float input): for every position outside `axis`, the k
/// best elements in order (largest: higher value first, equal values by
/// lower index; smallest: the reverse order of values), found by k passes
/// that each pick the best element ranked after the previous pick, so no
/// scratch is needed (O(n k) per row; sorted output either way).
struct LowerTopK final : OpRewritePattern<TopKOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TopKOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    Value x = op.getInput();
    auto xt = cast<RankedTensorType>(x.getType());
    auto vt = cast<RankedTensorType>(op.getValues().getType());
    auto it = cast<RankedTensorType>(op.getIndices().getType());
    Type elt = xt.getElementType();
    if (!isa<FloatType>(elt) || !it.getElementType().isInteger(64))
      return rewriter.notifyMatchFailure(op, "only float top_k with i64 indices");
    int64_t rank = xt.getRank(), axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    bool largest = op.getLargest();
    Value kv = extractIndex(b, loc, op.getK(), 0);
    SmallVector<OpFoldResult> dims = getDims(b, loc, x);
    dims[axis] = vt.isDynamicDim(axis) ? OpFoldResult(kv)
                                       : OpFoldResult(b.getIndexAttr(vt.getDimSize(axis)));
    Value vals = tensor::EmptyOp::create(b, loc, dims, elt);
    Value idxs = tensor::EmptyOp::create(b, loc, dims, b.getI64Type());
    Value n = dimValue(b, loc, x, axis);
    Value kUb = getValueOrCreateConstantIndexOp(b, loc, dims[axis]);
    SmallVector<Value> ubs;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis)
        ubs.push_back(dimValue(b, loc, x, d));
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    // better(a, b): a ranks before b
    auto better = [&](OpBuilder &nb, Location l, Value av, Value ai, Value bv,
                      Value bi) -> Value {
      Value strict = arith::CmpFOp::create(
          nb, l, largest ? arith::CmpFPredicate::OGT : arith::CmpFPredicate::OLT, av, bv);
      Value eq = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, av, bv);
      Value lower = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, ai, bi);
      return arith::OrIOp::create(nb, l, strict, arith::AndIOp::create(nb, l, eq, lower));
    };
    std::function<SmallVector<Value>(OpBuilder &, Location, SmallVector<Value>, Value,
                                     Value)>
        outer = [&](OpBuilder &ob, Location ol, SmallVector<Value> ivs, Value v0,
                    Value i0) -> SmallVector<Value> {
      if (ivs.size() < ubs.size()) {
        auto loop = scf::ForOp::create(
            ob, ol, zero, ubs[ivs.size()], one, ValueRange{v0, i0},
            [&](OpBuilder &nb, Location l, Value iv, ValueRange args) {
              SmallVector<Value> next(ivs);
              next.push_back(iv);
              scf::YieldOp::create(nb, l, outer(nb, l, next, args[0], args[1]));
            });
        return {loop.getResult(0), loop.getResult(1)};
      }
      auto at = [&](Value a) {
        SmallVector<Value> full;
        for (int64_t d = 0, o = 0; d < rank; ++d)
          full.push_back(d == axis ? a : ivs[o++]);
        return full;
      };
      Value none = arith::ConstantIntOp::create(ob, ol, ob.getI64Type(), -1);
      Value fz = scalarConst(ob, ol, elt, 0.0);
      // j-th pick: the best element ranked after the previous pick (pv, pi)
      auto picks = scf::ForOp::create(
          ob, ol, zero, kUb, one, ValueRange{v0, i0, fz, none},
          [&](OpBuilder &jb, Location jl, Value j, ValueRange st) {
            Value pv = st[2], pi = st[3];
            Value first = arith::CmpIOp::create(jb, jl, arith::CmpIPredicate::eq, pi, none);
            auto scan = scf::ForOp::create(
                jb, jl, zero, n, one, ValueRange{fz, none},
                [&](OpBuilder &tb, Location tl, Value t, ValueRange cur) {
                  Value v = tensor::ExtractOp::create(tb, tl, x, at(t));
                  Value ti = arith::IndexCastOp::create(tb, tl, tb.getI64Type(), t);
                  Value after = arith::OrIOp::create(tb, tl, first,
                                                     better(tb, tl, pv, pi, v, ti));
                  Value noneYet = arith::CmpIOp::create(tb, tl, arith::CmpIPredicate::eq,
                                                        cur[1], none);
                  Value beats = arith::OrIOp::create(
                      tb, tl, noneYet, better(tb, tl, v, ti, cur[0], cur[1]));
                  Value take = arith::AndIOp::create(tb, tl, after, beats);
                  scf::YieldOp::create(
                      tb, tl,
                      ValueRange{arith::SelectOp::create(tb, tl, take, v, cur[0]).getResult(),
                                 arith::SelectOp::create(tb, tl, take, ti, cur[1]).getResult()});
                });
            Value bv = scan.getResult(0), bi = scan.getResult(1);
            Value nv = tensor::InsertOp::create(jb, jl, bv, st[0], at(j));
            Value ni = tensor::InsertOp::create(jb, jl, bi, st[1], at(j));
            scf::YieldOp::create(jb, jl, ValueRange{nv, ni, bv, bi});
          });
      return {picks.getResult(0), picks.getResult(1)};
    };
    SmallVector<Value> r = outer(b, loc, {}, vals, idxs);
    Value rv = r[0], ri = r[1];
    if (rv.getType() != vt)
      rv = tensor::CastOp::create(b, loc, vt, rv);
    if (ri.getType() != it)
      ri = tensor::CastOp::create(b, loc, it, ri);
    rewriter.replaceOp(op, ValueRange{rv, ri});
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

/// kiln.cum_sum: loops over the other dims, then one pass along the axis
/// (backwards with `reverse`) carrying the running sum; `exclusive` stores
/// the sum before adding the element. Any float or integer type.
struct LowerCumSum final : OpRewritePattern<CumSumOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CumSumOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto &b = rewriter;
    Value x = op.getInput();
    auto xt = cast<RankedTensorType>(x.getType());
    auto rt = cast<RankedTensorType>(op.getResult().getType());
    Type elt = xt.getElementType();
    bool isFloat = isa<FloatType>(elt);
    if (!isFloat && !isa<IntegerType>(elt))
      return rewriter.notifyMatchFailure(op, "only float and integer cum_sum");
    int64_t rank = xt.getRank(), axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    if (axis < 0 || axis >= rank)
      return rewriter.notifyMatchFailure(op, "axis out of range");
    bool reverse = op.getReverse(), exclusive = op.getExclusive();
    Value init = tensor::EmptyOp::create(b, loc, getDims(b, loc, x), elt);
    Value n = dimValue(b, loc, x, axis);
    SmallVector<Value> ubs;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis)
        ubs.push_back(dimValue(b, loc, x, d));
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    std::function<Value(OpBuilder &, Location, SmallVector<Value>, Value)> outer =
        [&](OpBuilder &ob, Location ol, SmallVector<Value> ivs, Value acc) -> Value {
      if (ivs.size() < ubs.size()) {
        auto loop = scf::ForOp::create(
            ob, ol, zero, ubs[ivs.size()], one, ValueRange{acc},
            [&](OpBuilder &nb, Location l, Value iv, ValueRange args) {
              SmallVector<Value> next(ivs);
              next.push_back(iv);
              scf::YieldOp::create(nb, l, outer(nb, l, next, args[0]));
            });
        return loop.getResult(0);
      }
      Value sum0 = scalarConst(ob, ol, elt, 0.0);
      Value last = arith::SubIOp::create(ob, ol, n, one);
      auto scan = scf::ForOp::create(
          ob, ol, zero, n, one, ValueRange{acc, sum0},
          [&](OpBuilder &tb, Location tl, Value t, ValueRange st) {
            Value i = reverse ? arith::SubIOp::create(tb, tl, last, t).getResult() : t;
            SmallVector<Value> at;
            for (int64_t d = 0, o = 0; d < rank; ++d)
              at.push_back(d == axis ? i : ivs[o++]);
            Value v = tensor::ExtractOp::create(tb, tl, x, at);
            Value next = isFloat ? arith::AddFOp::create(tb, tl, st[1], v).getResult()
                                 : arith::AddIOp::create(tb, tl, st[1], v).getResult();
            Value out = tensor::InsertOp::create(tb, tl, exclusive ? st[1] : next,
                                                 st[0], at);
            scf::YieldOp::create(tb, tl, ValueRange{out, next});
          });
      return scan.getResult(0);
    };
    Value r = outer(b, loc, {}, init);
    if (r.getType() != rt)
      r = tensor::CastOp::create(b, loc, rt, r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

} // namespace

void lowering::populateIndexingPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerResize, LowerBlockShuffle<DepthToSpaceOp>,
               LowerBlockShuffle<SpaceToDepthOp>, LowerOneHot, LowerGatherND,
               LowerScatterElements, LowerScatterND, LowerTopK, LowerCumSum,
               LowerGridSample, LowerRandom>(
      patterns.getContext());
}
