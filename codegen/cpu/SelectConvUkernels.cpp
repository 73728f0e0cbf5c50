//===- SelectConvUkernels.cpp - CNN ops onto the runtime's kernels --------===//
//
// Part of kiln-cpu-select-ukernels (SelectUkernels.cpp): 2-D kiln.conv
// (group 1, depthwise and other grouped ones) with the bias, a residual
// block's add and the activation after it on the kernels' register tiles
// (lib/Runtime/ukernels/conv_f32.c, dwconv_f32.c), a squeeze-excite gate
// on a convolution's input, the global average pool of a depthwise
// kernel's output as its second output, and a batch norm that no
// convolution absorbed as a per-channel affine kernel (affine_f32.c).
// Poolings and Resize: SelectPoolUkernels.cpp.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/SelectUkernels.h"
#include "dialects/kiln/KilnDialect.h"
#include "passes/PatternUtils.h"

// The runtime's rule for which depthwise convolutions its row kernel takes
// (dwr_fits, plain C): PwDwToUkernel fuses exactly those.
extern "C" {
#include "lib/Runtime/ukernels/dwconv_rows_f32.h"
}

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::cpu;

namespace {

/// The runtime's activation code (KILN_ACT_*) of `o` applied to a value of
/// type `rt` that a convolution or channel-affine kernel can take into its
/// epilogue, or 0 when it takes none.
int64_t convActivation(Operation *o, Type rt) {
  if (o->getNumResults() != 1 || o->getResult(0).getType() != rt)
    return 0;
  // HardSigmoid in PyTorch's form (alpha 1/6, beta 1/2), the
  // squeeze-excite gate of MobileNetV3: the kernels' act 6
  if (auto hs = dyn_cast<HardSigmoidOp>(o))
    return std::abs(hs.getAlpha().convertToDouble() - 1.0 / 6.0) < 1e-7 &&
                   hs.getBeta().convertToDouble() == 0.5
               ? 6
               : 0;
  // Clip to [0, 6] (ReLU6: MobileNetV2's, torch's Hardtanh(0, 6)) is act
  // 7, to [0, +inf) ReLU; other bounds stay a clip.
  if (auto clip = dyn_cast<ClipOp>(o)) {
    std::optional<double> lo = splatOf(clip.getMin()),
                          hi = clip.getMax() ? splatOf(clip.getMax())
                                             : std::optional<double>(INFINITY);
    if (!lo || !hi || *lo != 0.0)
      return 0;
    return *hi == 6.0 ? 7 : std::isinf(*hi) && *hi > 0 ? 1 : 0;
  }
  // GELU (MaxViT's MBConv blocks): erf form 2, tanh form 3
  if (auto g = dyn_cast<GeluOp>(o))
    return g.getTanhApprox() ? 3 : 2;
  return isa<ReluOp>(o)        ? 1
         : isa<SiluOp>(o)      ? 4
         : isa<HardSwishOp>(o) ? 5
                               : 0;
}


/// kiln.conv in f32, 2-D, with a static [F, C, KH, KW] filter and static
/// output height and width -> kiln.ukernel "conv2d_f32" for group 1 (the
/// input's patches packed straight into the GEMM's panels, the output
/// written NCHW) or "dwconv2d_f32" for depthwise (group = C = F; rows of
/// each plane vectorized); lib/Runtime/ukernels/conv_f32.c. The ops after
/// it are taken into the kernel's epilogue when each is its producer's only
/// use: act(conv), and for group 1 conv + r and act(conv + r) (a residual
/// block's tail), with r of the convolution's own type and act ReLU (1),
/// GELU (2, 3 in its tanh form: MaxViT's), SiLU (4: EfficientNet's, as
/// kiln-fuse-activations leaves it),
/// HardSwish (5), HardSigmoid with alpha 1/6 and beta 1/2 (6) or a clip to
/// [0, 6] (7: MobileNetV2's ReLU6; to [0, +inf) is ReLU). A group-1
/// convolution of x * s, s [N or 1, C, 1, 1] (a squeeze-excite gate, the
/// product's only use), takes s as an operand after the residual (flag 16):
/// the kernel scales its own copy of the input (or, 1 x 1, its filter per
/// image) instead of a pass writing x * s.
/// Other grouped convolutions take "conv2d_f32" with flag 128 (the runtime
/// runs each group on its channels' views, no packed filter).
/// int_params (isa, flags, activation, stride h/w, pad top/left, dilation
/// h/w); flags 1 = bias, 2 = residual, 16 = input scale, 128 = groups,
/// 256 = int8 (a QDQ model's: the input's and the filter's
/// DequantizeLinear taken in, float_params the input's scale and zero
/// point; group 1 with the int8 filter, packed by kiln-cpu-ukernels, or
/// depthwise with the filter's integers as f32, dwconv_s8.h; the F scales
/// last), 512 = with 256, the output's QuantizeLinear -> DequantizeLinear
/// pair before the residual and activation (its scale and zero point
/// follow in float_params).
struct ConvToUkernel final : IsaPattern<ConvOp> {
  using IsaPattern::IsaPattern;

  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    auto xt = cast<RankedTensorType>(op.getInput().getType());
    auto wt = cast<RankedTensorType>(op.getWeight().getType());
    auto rt = op.getType();
    if (xt.getRank() != 4 || !xt.getElementType().isF32() ||
        !wt.getElementType().isF32() || !rt.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "not a 2-D f32 convolution");
    if (!wt.hasStaticShape() || rt.isDynamicDim(2) || rt.isDynamicDim(3))
      return rewriter.notifyMatchFailure(op, "filter or output extent is dynamic");
    int64_t group = static_cast<int64_t>(op.getGroup());
    // The input's channels may be dynamic (a channel shuffle's reshape):
    // the kernels check them against the filter's at run time.
    bool depthwise = group > 1 && group == wt.getDimSize(0) && wt.getDimSize(1) == 1 &&
                     (xt.isDynamicDim(1) || group == xt.getDimSize(1));
    // Other grouped convolutions (ResNeXt, RegNet) run "conv2d_f32" per
    // group (flag 128: the runtime narrows the views to each group's
    // channels) with static channels that divide into the groups.
    bool grouped = group > 1 && !depthwise;
    if (grouped && (xt.isDynamicDim(1) || wt.getDimSize(1) * group != xt.getDimSize(1) ||
                    wt.getDimSize(0) % group))
      return rewriter.notifyMatchFailure(op, "grouped convolution with channels "
                                             "that do not divide into its groups");
    if (op.getStrides().size() != 2 || op.getPads().size() != 4 ||
        op.getDilations().size() != 2)
      return rewriter.notifyMatchFailure(op, "not 2 spatial dims");
    // A QDQ model's convolution (conv(DQ(Q(x)), DQ(Wq))): in int8 on
    // AVX-512 (flag 256, lib/Runtime/ukernels/conv_s8.h: x quantized with
    // the QuantizeLinear's scale and zero point, int32 sums exact, scaled
    // once), group 1 without dilation; otherwise on the f32 kernels with
    // the filter dequantized here, once.
    std::optional<DequantFilter> dqw = matchDequantFilter(op.getWeight());
    std::optional<StaticQuant> qx;
    bool undilated =
        llvm::all_of(op.getDilations(), [](int64_t d) { return d == 1; });
    // (the kernels' exact sums: at most 16000 quads of k in int32,
    // conv_s8.c; 500 taps in f32, dwconv_s8.h)
    int64_t taps = wt.getDimSize(2) * wt.getDimSize(3);
    if (dqw && isaFlag == 2 && undilated && !xt.isDynamicDim(1) &&
        ((group == 1 && (xt.getDimSize(1) + 3) / 4 * taps <= 16000) ||
         (depthwise && taps <= 500)))
      qx = matchStaticQuantDequant(op.getInput());
    // (depthwise int8: the filter's integers as an f32 constant)
    if (dqw && (!qx || depthwise) && !dqw->wq.getDefiningOp<ConstantOp>())
      return rewriter.notifyMatchFailure(op, "int8 filter is not a kiln.constant");
    Value bias = op.getBias();
    if (bias) {
      auto bt = cast<RankedTensorType>(bias.getType());
      if (bt.getRank() != 1 || bt.getDimSize(0) != wt.getDimSize(0))
        return rewriter.notifyMatchFailure(op, "bias is not a static [F]");
    }
    // The residual block's tail: relu(conv), conv + r, relu(conv + r).
    // int8: the QDQ form requantizes each convolution's output (a
    // QuantizeLinear -> DequantizeLinear pair as its only use): the pair
    // joins the epilogue (flag 512) before the residual and activation,
    // instead of a pass over the output.
    SmallVector<Operation *> outQuant;
    std::optional<StaticQuant> qy;
    if (qx) {
      SmallVector<Operation *> walk;
      for (Operation *cur = op; walk.size() < 8 && cur->hasOneUse();) {
        cur = *cur->getUsers().begin();
        if (!isa<DivOp, RoundOp, AddOp, ClipOp, CastOp, SubOp, MulOp>(cur))
          break;
        walk.push_back(cur);
        if (auto mul = dyn_cast<MulOp>(cur))
          if ((qy = matchStaticQuantDequant(mul.getResult())) &&
              qy->x == op.getResult() && mul.getType() == rt) {
            outQuant = walk;
            break;
          }
        qy.reset();
      }
    }
    Operation *tail = outQuant.empty() ? op.getOperation() : outQuant.back();
    Operation *last = tail, *addOp = nullptr;
    Value residual;
    int64_t act = 0;
    auto actOf = [&](Operation *o) -> int64_t { return convActivation(o, rt); };
    if (tail->hasOneUse()) {
      Operation *user = *tail->getUsers().begin();
      if (auto add = dyn_cast<AddOp>(user); add && !depthwise) {
        Value other = add.getLhs() == tail->getResult(0) ? add.getRhs() : add.getLhs();
        if (add.getLhs() != add.getRhs() && other.getType() == rt &&
            add.getType() == rt) {
          residual = other;
          last = addOp = add;
        }
      } else if ((act = actOf(user))) {
        last = user;
      }
      if (residual && last->hasOneUse()) {
        Operation *next = *last->getUsers().begin();
        if ((act = actOf(next)))
          last = next;
      }
    }
    Value input = qx ? qx->x : op.getInput(), scale;
    // (int8: the gate multiplies x before its quantization, as the graph
    // does, in the kernel's quantization pass)
    MulOp gate = depthwise || grouped ? MulOp() : input.getDefiningOp<MulOp>();
    if (gate && gate->hasOneUse() && !xt.isDynamicDim(1)) {
      for (int i = 0; i < 2 && !scale; ++i) {
        Value a = gate->getOperand(i), s = gate->getOperand(1 - i);
        auto st = dyn_cast<RankedTensorType>(s.getType());
        if (a != s && a.getType() == xt && st && st.getRank() == 4 &&
            st.getElementType().isF32() && st.getDimSize(1) == xt.getDimSize(1) &&
            st.getDimSize(2) == 1 && st.getDimSize(3) == 1 &&
            (st.getDimSize(0) == 1 || st.getDimSize(0) == xt.getDimSize(0))) {
          input = a;
          scale = s;
        }
      }
    }
    // Created before `last`: the residual may be computed after the
    // convolution (torch exports a block's downsample branch there).
    rewriter.setInsertionPoint(last);
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> dims{
        tensor::getMixedSize(rewriter, loc, input, 0),
        rewriter.getIndexAttr(wt.getDimSize(0)),
        rewriter.getIndexAttr(rt.getDimSize(2)),
        rewriter.getIndexAttr(rt.getDimSize(3))};
    Value filter = !dqw              ? op.getWeight()
                   : qx && !depthwise ? dqw->wq
                                      : dequantizedFilter(rewriter, loc, *dqw,
                                                          /*integers=*/qx.has_value());
    SmallVector<Value> ins{input, filter};
    if (bias)
      ins.push_back(bias);
    if (residual)
      ins.push_back(residual);
    if (scale)
      ins.push_back(scale);
    // int8: the filter's F scales last (kiln-cpu-ukernels packs them into
    // a group-1 filter; the depthwise kernel reads them)
    if (qx)
      ins.push_back(ConstantOp::create(
          rewriter, loc,
          cast<ElementsAttr>(DenseElementsAttr::get(
              RankedTensorType::get({wt.getDimSize(0)}, rewriter.getF32Type()),
              ArrayRef<float>(dqw->scales)))));
    ArrayRef<int64_t> st = op.getStrides(), pd = op.getPads(),
                      dl = op.getDilations();
    int64_t flags = (bias ? 1 : 0) | (residual ? 2 : 0) | (scale ? 16 : 0) |
                    (grouped ? 128 : 0) | (qx ? 256 : 0) | (qy ? 512 : 0);
    SmallVector<float> fparams;
    if (qx)
      fparams = {qx->scale, qx->zp};
    if (qy)
      fparams.append({qy->scale, qy->zp});
    // With a residual, the residual is also the init: one-shot
    // bufferization then writes the output over it where nothing reads it
    // later (UkernelBufferization.cpp), as ONNX Runtime's Conv + Sum
    // fusion does. ResNet-50's block outputs are 0.2-3.2 MB: a separate
    // output cost a cache line fill per line stored, and a larger working
    // set.
    SmallVector<int64_t> params{isaFlag, flags, act, st[0], st[1], pd[0], pd[1],
                                dl[0], dl[1]};
    Value y = residual
                  ? createUkernelInto(rewriter, loc, "conv2d_f32", ins, residual,
                                      params, fparams)
                  : createUkernel(rewriter, loc,
                                  depthwise ? "dwconv2d_f32" : "conv2d_f32", ins,
                                  dims, params, fparams);
    replaceWithCast(rewriter, last, y);
    if (addOp && addOp != last)
      rewriter.eraseOp(addOp);
    for (Operation *o : llvm::reverse(outQuant))
      if (o != last)
        rewriter.eraseOp(o);
    if (last != op)
      rewriter.eraseOp(op);
    // (int8: the gate's one use is the input's QuantizeLinear, which dies
    // with the convolution)
    if (scale && !qx)
      rewriter.eraseOp(gate);
    return success();
  }
};

/// kiln.batch_norm in f32 on [N, C, H, W] with constant scale, bias, mean
/// and variance [C] (one that no convolution before it absorbed: DenseNet's
/// norm -> ReLU -> conv) -> kiln.ukernel "channel_affine_f32"
/// (lib/Runtime/ukernels/affine_f32.c): y = act(x * s + t), s = scale /
/// sqrt(var + eps) and t = bias - mean * s folded here, and the activation
/// after it (as a convolution takes it) when the norm is its only input.
/// int_params (isa, act).
struct BatchNormToUkernel final : IsaPattern<BatchNormOp> {
  using IsaPattern::IsaPattern;

  LogicalResult matchAndRewrite(BatchNormOp op,
                                PatternRewriter &rewriter) const override {
    auto xt = cast<RankedTensorType>(op.getInput().getType());
    auto rt = op.getType();
    if (xt.getRank() != 4 || !xt.getElementType().isF32() ||
        !rt.getElementType().isF32() || xt.isDynamicDim(1))
      return rewriter.notifyMatchFailure(op, "not f32 [N, C, H, W] with static C");
    int64_t c = xt.getDimSize(1);
    SmallVector<std::vector<double>, 4> params;
    for (Value v : {op.getScale(), op.getBias(), op.getMean(), op.getVariance()}) {
      // f32 [C] (or one value): inline or resource (the importer's form)
      auto k = v.getDefiningOp<ConstantOp>();
      auto kt = k ? dyn_cast<RankedTensorType>(k.getType()) : RankedTensorType();
      std::vector<char> storage;
      std::optional<ArrayRef<char>> bytes;
      if (kt && kt.getElementType().isF32() && kt.hasStaticShape() &&
          (kt.getNumElements() == c || kt.getNumElements() == 1))
        bytes = bytesOf(k, storage);
      if (!bytes)
        return rewriter.notifyMatchFailure(op, "a parameter is not a constant f32 [C]");
      const float *f = reinterpret_cast<const float *>(bytes->data());
      std::vector<double> p;
      for (int64_t i = 0; i < c; ++i)
        p.push_back(f[kt.getNumElements() == 1 ? 0 : i]);
      params.push_back(std::move(p));
    }
    double eps = op.getEpsilon().convertToDouble();
    std::vector<float> s(c), t(c);
    for (int64_t i = 0; i < c; ++i) {
      double k = params[0][i] / std::sqrt(params[3][i] + eps);
      s[i] = static_cast<float>(k);
      t[i] = static_cast<float>(params[1][i] - params[2][i] * k);
    }
    Operation *last = op;
    int64_t act = 0;
    if (op->hasOneUse())
      if ((act = convActivation(*op->getUsers().begin(), rt)))
        last = *op->getUsers().begin();
    rewriter.setInsertionPoint(last);
    Location loc = op.getLoc();
    auto vt = RankedTensorType::get({c}, rewriter.getF32Type());
    Value sv = ConstantOp::create(rewriter, loc,
                                  DenseElementsAttr::get(vt, ArrayRef<float>(s)));
    Value tv = ConstantOp::create(rewriter, loc,
                                  DenseElementsAttr::get(vt, ArrayRef<float>(t)));
    SmallVector<OpFoldResult> dims;
    for (int64_t i = 0; i < 4; ++i)
      dims.push_back(tensor::getMixedSize(rewriter, loc, op.getInput(), i));
    Value y = createUkernel(rewriter, loc, "channel_affine_f32",
                            {op.getInput(), sv, tv}, dims, {isaFlag, act}, {});
    replaceWithCast(rewriter, last, y);
    if (last != op)
      rewriter.eraseOp(op);
    return success();
  }
};

/// The global average pool of a depthwise convolution's output (the
/// squeeze-excite block after each of MobileNetV3's): kiln.ukernel
/// "global_avgpool_f32" of a "dwconv2d_f32" result becomes that kernel's
/// second output (flag 32, init [N, C, 1, 1]), summed on its register tiles
/// instead of a pass reading the output back. The convolution keeps its
/// other uses.
struct DwConvMeanToUkernel final : OpRewritePattern<UkernelOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(UkernelOp gap,
                                PatternRewriter &rewriter) const override {
    if (gap.getKernel() != "global_avgpool_f32" || gap.getInputs().size() != 1 ||
        gap.getResults().size() != 1)
      return failure();
    auto dw = gap.getInputs()[0].getDefiningOp<UkernelOp>();
    if (!dw || dw.getKernel() != "dwconv2d_f32" || dw.getResults().size() != 1 ||
        dw.getIntParams().size() < 2 || (dw.getIntParams()[1] & (32 | 256)))
      return rewriter.notifyMatchFailure(gap, "not of a depthwise kernel's output");
    auto yt = cast<RankedTensorType>(dw.getResult().getType());
    auto mt = cast<RankedTensorType>(gap.getResult().getType());
    if (yt.getRank() != 4 || yt.isDynamicDim(1))
      return rewriter.notifyMatchFailure(gap, "channels are dynamic");
    rewriter.setInsertionPoint(dw);
    Location loc = gap.getLoc();
    SmallVector<OpFoldResult> dims{
        tensor::getMixedSize(rewriter, loc, dw.getInputs()[0], 0),
        rewriter.getIndexAttr(yt.getDimSize(1)), rewriter.getIndexAttr(1),
        rewriter.getIndexAttr(1)};
    Value meanInit =
        tensor::EmptyOp::create(rewriter, loc, dims, rewriter.getF32Type());
    SmallVector<int64_t> params(dw.getIntParams());
    params[1] |= 32;
    auto fused = UkernelOp::create(
        rewriter, dw.getLoc(), TypeRange{yt, meanInit.getType()},
        dw.getKernelAttr(), dw.getInputs(), ValueRange{dw.getInit(), meanInit},
        rewriter.getDenseI64ArrayAttr(params), dw.getFloatParamsAttr());
    Value mean = fused.getResults()[1];
    if (mean.getType() != mt)
      mean = tensor::CastOp::create(rewriter, loc, mt, mean);
    rewriter.replaceOp(gap, mean);
    rewriter.replaceOp(dw, fused.getResults()[0]);
    return success();
  }
};

/// An inverted residual block's expansion and depthwise convolutions
/// (MobileNetV2/V3, EfficientNet, MNASNet): kiln.ukernel "conv2d_f32", a
/// 1 x 1 at stride 1 without padding, bias and activation only, whose one
/// use is a "dwconv2d_f32" that the runtime's row kernel takes (AVX-512,
/// square 3 x 3 / 5 x 5 / 7 x 7, stride 1 or 2 both ways, no dilation,
/// output rows of 16+ columns that fill 3/4 of their vectors: dwr_fits in
/// lib/Runtime/ukernels/dwconv_rows_f32.h, included above) -> one "pwdw_f32"
/// (lib/Runtime/ukernels/pwdw_f32.c), which computes the expanded tensor a
/// band of rows and a few channels at a time into a buffer that stays in
/// L2, instead of writing it to memory and reading it back. int_params
/// (isa, flags: 1 expansion bias, 2 depthwise bias; the two activations,
/// stride, pad top, pad left); flag 4: the depthwise kernel's mean output
/// (flag 32, a squeeze-excite block's pool) as the fused kernel's.
struct PwDwToUkernel final : OpRewritePattern<UkernelOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(UkernelOp dw,
                                PatternRewriter &rewriter) const override {
    if (dw.getKernel() != "dwconv2d_f32")
      return failure();
    ArrayRef<int64_t> dp = dw.getIntParams();
    bool mean = dp.size() == 9 && (dp[1] & 32);
    if (dp.size() != 9 || dp[0] != 2 || (dp[1] & ~int64_t(1 | 32)) || dp[3] != dp[4] ||
        dp[7] != 1 || dp[8] != 1 || dw.getResults().size() != (mean ? 2u : 1u))
      return rewriter.notifyMatchFailure(dw, "not an AVX-512 depthwise kernel "
                                             "with equal strides, no dilation");
    // A global pool of the output becomes the depthwise kernel's mean
    // (DwConvMeanToUkernel) first, then the fused kernel's (flag 4).
    for (Operation *user : dw.getResults()[0].getUsers())
      if (auto u = dyn_cast<UkernelOp>(user); u && u.getKernel() == "global_avgpool_f32")
        return rewriter.notifyMatchFailure(dw, "its output feeds a global pool");
    Value dwIn = dw.getInputs()[0];
    auto castOp = dwIn.getDefiningOp<tensor::CastOp>();
    auto pw = (castOp ? castOp.getSource() : dwIn).getDefiningOp<UkernelOp>();
    if (!pw || pw.getKernel() != "conv2d_f32" || pw.getResults().size() != 1 ||
        (castOp && !castOp->hasOneUse()))
      return rewriter.notifyMatchFailure(dw, "input is not a convolution's only use");
    // Besides the depthwise convolution, the expansion's result may only
    // give its batch extent (a dynamic batch: the depthwise output's
    // tensor.empty), which is the input's.
    SmallVector<tensor::DimOp> batchDims;
    for (Operation *user : pw.getResult().getUsers()) {
      if (user == (castOp ? castOp.getOperation() : dw.getOperation()))
        continue;
      auto dim = dyn_cast<tensor::DimOp>(user);
      std::optional<int64_t> at = dim ? dim.getConstantIndex() : std::nullopt;
      if (!at || *at != 0)
        return rewriter.notifyMatchFailure(dw, "the expansion has other uses");
      batchDims.push_back(dim);
    }
    if (!castOp && llvm::count(dw->getOperands(), pw.getResult()) != 1)
      return rewriter.notifyMatchFailure(dw, "the expansion has other uses");
    ArrayRef<int64_t> pp = pw.getIntParams();
    if (pp.size() != 9 || pp[0] != 2 || (pp[1] & ~int64_t(1)) || pp[3] != 1 ||
        pp[4] != 1 || pp[5] != 0 || pp[6] != 0)
      return rewriter.notifyMatchFailure(dw, "input is not a 1 x 1 at stride 1 "
                                             "without padding, residual or scale");
    Value x = pw.getInputs()[0], w1 = pw.getInputs()[1], w2 = dw.getInputs()[1];
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    auto w1t = cast<RankedTensorType>(w1.getType());
    auto w2t = cast<RankedTensorType>(w2.getType());
    auto tt = cast<RankedTensorType>(pw.getResult().getType());
    auto yt = cast<RankedTensorType>(dw.getResults()[0].getType());
    if (!xt || xt.getRank() != 4 || w1t.getRank() != 4 || w2t.getRank() != 4 ||
        yt.getRank() != 4 || tt.getRank() != 4 || !w1t.hasStaticShape() ||
        !w2t.hasStaticShape() || xt.isDynamicDim(1) || xt.isDynamicDim(2) ||
        xt.isDynamicDim(3) || yt.isDynamicDim(3) || yt.isDynamicDim(2) ||
        w1t.getDimSize(2) != 1 || w1t.getDimSize(3) != 1 ||
        w2t.getDimSize(0) != w1t.getDimSize(0) || w2t.getDimSize(1) != 1 ||
        w2t.getDimSize(2) != w2t.getDimSize(3) || tt.getDimSize(2) != xt.getDimSize(2) ||
        tt.getDimSize(3) != xt.getDimSize(3))
      return rewriter.notifyMatchFailure(dw, "shapes are not static where needed");
    int64_t k = w2t.getDimSize(2);
    if (!dwr_fits(k, k, dp[3], dp[4], dp[7], dp[8], yt.getDimSize(3)))
      return rewriter.notifyMatchFailure(dw, "not a shape of the row kernel");
    bool b1 = pp[1] & 1, b2 = dp[1] & 1;
    SmallVector<Value> ins{x, w1};
    if (b1)
      ins.push_back(pw.getInputs()[2]);
    ins.push_back(w2);
    if (b2)
      ins.push_back(dw.getInputs()[2]);
    for (tensor::DimOp dim : batchDims)
      rewriter.modifyOpInPlace(dim, [&] { dim.getSourceMutable().assign(x); });
    rewriter.setInsertionPoint(dw);
    auto fused = UkernelOp::create(
        rewriter, dw.getLoc(), dw.getResultTypes(), rewriter.getStringAttr("pwdw_f32"),
        ins, dw.getInits(),
        rewriter.getDenseI64ArrayAttr({2, (b1 ? 1 : 0) | (b2 ? 2 : 0) | (mean ? 4 : 0),
                                       pp[2], dp[2], dp[3], dp[5], dp[6]}),
        rewriter.getDenseF32ArrayAttr({}));
    rewriter.replaceOp(dw, fused.getResults());
    if (castOp)
      rewriter.eraseOp(castOp);
    rewriter.eraseOp(pw);
    return success();
  }
};

} // namespace

/// Two int8 convolutions in a row, group 1 or depthwise (a QDQ model's conv
/// -> Q/DQ -> ReLU -> Q/DQ -> conv, both pairs already in the kernels;
/// MobileNet's expansion -> depthwise -> projection): the first one's
/// output, when the second is its only reader, is stored quantized as the
/// second's QuantizeLinear makes it (flag 1024, u8 in an i8 tensor, the
/// second's scale and zero point appended to its float_params) and the
/// second reads it as its quantized input (flag 2048). Not for an output
/// with a residual (flag 2) or another reader, nor for a reader that
/// scales its input by a gate before quantizing it (flag 16): those need
/// the f32 values.
void mlir::kiln::cpu::chainInt8Convs(Operation *root) {
  auto isInt8Conv = [](UkernelOp u) {
    return u && (u.getKernel() == "conv2d_f32" || u.getKernel() == "dwconv2d_f32") &&
           u.getIntParams().size() == 9 &&
           (u.getIntParams()[1] & 256) && u.getResults().size() == 1;
  };
  SmallVector<UkernelOp> consumers;
  root->walk([&](UkernelOp u) {
    if (isInt8Conv(u) && !(u.getIntParams()[1] & (16 | 2048)) &&
        u.getFloatParams().size() >= 2)
      consumers.push_back(u);
  });
  for (UkernelOp consumer : consumers) {
    Value x = consumer.getInputs()[0];
    auto castOp = x.getDefiningOp<tensor::CastOp>();
    Value produced = castOp ? castOp.getSource() : x;
    auto producer = produced.getDefiningOp<UkernelOp>();
    // (besides the reader, the result may give extents: a dynamic batch's
    // tensor.dim, which then reads the u8 result)
    SmallVector<tensor::DimOp> dims;
    int64_t readers = 0;
    for (Operation *user : produced.getUsers()) {
      if (auto dim = dyn_cast<tensor::DimOp>(user))
        dims.push_back(dim);
      else
        ++readers;
    }
    if (!isInt8Conv(producer) || (producer.getIntParams()[1] & (2 | 1024)) ||
        readers != 1 || (castOp && !castOp->hasOneUse()) ||
        llvm::count(consumer->getOperands(), x) != 1)
      continue;
    auto init = producer.getInit().getDefiningOp<tensor::EmptyOp>();
    if (!init || !init->hasOneUse())
      continue;
    OpBuilder b(producer);
    Type i8 = b.getIntegerType(8);
    auto y8 = tensor::EmptyOp::create(b, init.getLoc(), init.getMixedSizes(), i8);
    SmallVector<int64_t> pp(producer.getIntParams());
    pp[1] |= 1024;
    SmallVector<float> pf(producer.getFloatParams());
    pf.append({consumer.getFloatParams()[0], consumer.getFloatParams()[1]});
    auto chained = UkernelOp::create(
        b, producer.getLoc(), TypeRange{y8.getType()}, producer.getKernelAttr(),
        producer.getInputs(), ValueRange{y8}, b.getDenseI64ArrayAttr(pp),
        b.getDenseF32ArrayAttr(pf));
    Value nx = chained.getResult();
    for (tensor::DimOp dim : dims)
      dim.getSourceMutable().assign(nx);
    if (castOp) {
      b.setInsertionPoint(castOp);
      auto ct = cast<RankedTensorType>(castOp.getType());
      nx = tensor::CastOp::create(b, castOp.getLoc(),
                                  RankedTensorType::get(ct.getShape(), i8), nx);
    }
    SmallVector<int64_t> cp(consumer.getIntParams());
    cp[1] |= 2048;
    consumer->setOperand(0, nx);
    consumer.setIntParamsAttr(b.getDenseI64ArrayAttr(cp));
    if (castOp)
      castOp.erase();
    producer.erase();
    init.erase();
  }
}

namespace {

/// kiln.conv of a filter that is a DequantizeLinear of a constant int8
/// filter (what the importer leaves for kiln-cpu-select-ukernels' int8
/// convolutions) -> the same convolution of that filter dequantized into an
/// f32 constant, once: for pipelines without the int8 kernel (CUDA).
struct FoldFilterDequantize final : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<DequantFilter> d = matchDequantFilter(op.getWeight());
    if (!d)
      return rewriter.notifyMatchFailure(op, "filter is not a DequantizeLinear "
                                             "of a constant int8 filter");
    rewriter.setInsertionPoint(op);
    Value w = dequantizedFilter(rewriter, op.getLoc(), *d);
    rewriter.modifyOpInPlace(op, [&] { op.getWeightMutable().assign(w); });
    return success();
  }
};

} // namespace

void mlir::kiln::cpu::populateFilterDequantPattern(RewritePatternSet &patterns) {
  patterns.add<FoldFilterDequantize>(patterns.getContext());
}

void mlir::kiln::cpu::populateConvUkernelPatterns(RewritePatternSet &patterns,
                                                 int64_t isaFlag) {
  patterns.add<ConvToUkernel, BatchNormToUkernel>(patterns.getContext(), isaFlag);
  patterns.add<DwConvMeanToUkernel, PwDwToUkernel>(patterns.getContext());
}
