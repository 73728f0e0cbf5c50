//===- ConvFilters.cpp - conv2d_f32's filters for the runtime's kernels ---===//
//
// Part of kiln-cpu-ukernels (Ukernels.cpp): a kiln.ukernel "conv2d_f32" on
// buffers gets its constant filter packed here, once, for the runtime path
// it will take (lib/Runtime/ukernels/conv_f32.c dispatches on the flags):
// a QDQ model's int8 filter for the int8 kernel; the int8 / bf16
// convolutions of --quantize and --precision; 3-channel stems on gathered
// patches; the fp32 direct kernel's panels, Winograd's U, the convolution
// by taps and the channel-blocked order; grouped convolutions' panels.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/ConvFilters.h"
#include "codegen/cpu/ConstWeights.h"
#include "dialects/kiln/KilnDialect.h"

#include "mlir/IR/Builders.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::kiln::cpu;

LogicalResult mlir::kiln::cpu::packConvFilter(mlir::kiln::UkernelOp u, OpBuilder &b,
                                              SmallVectorImpl<int64_t> &params,
                                              SmallVectorImpl<float> &fparams,
                                              SmallVectorImpl<Value> &operands,
                                              ConvFilterContext &ctx) {
  Location loc = u.getLoc();
  // conv2d_f32 in int8 (flag 256, a QDQ model's convolution,
  // SelectConvUkernels.cpp): the int8 filter [F, C, KH, KW] and its F
  // scales (the last operand) packed together for the runtime's int8
  // kernel (lib/Runtime/ukernels/conv_s8.h), the kernel's height and
  // width appended.
  if (u.getKernel() == "conv2d_f32" && params.size() == 9 && (params[1] & 256)) {
    auto wt = cast<MemRefType>(operands[1].getType());
    memref::GlobalOp wq = constantGlobalOf(operands[1], ctx.symbols, true);
    memref::GlobalOp sc = constantGlobalOf(operands.back(), ctx.symbols, true);
    memref::GlobalOp p =
        wq && sc && wt.getRank() == 4 && wt.hasStaticShape()
            ? ctx.packer.packedConvS8(wq, sc, wt.getDimSize(0), wt.getDimSize(1),
                                   wt.getDimSize(2) * wt.getDimSize(3))
            : memref::GlobalOp();
    if (!p) {
      u.emitError("kiln-cpu-ukernels: an int8 conv2d_f32 needs a constant "
                  "int8 filter and scales");
      return failure();
    }
    operands[1] = memref::GetGlobalOp::create(b, loc, p.getType(), p.getSymName());
    operands.pop_back();
    params.append({wt.getDimSize(2), wt.getDimSize(3)});
  }
  // The low-precision convolutions on AVX-512 (the runtime's int8
  // machinery, lib/Runtime/ukernels/conv_s8.h): a group-1, undilated
  // conv2d_f32 with a constant f32 filter, with the kernel's height and
  // width appended. In bf16, one under 16 input channels (a stem) has its
  // filter packed as a 1 x 1 one over its C * KH * KW values and the
  // runtime gathers the input into those values' planes, in bands of
  // output rows (flag 16384): ResNet-50's 3-channel 7 x 7 stem took 2.55
  // ms on AMX as the other convolutions (its 2 channel pairs per tap
  // padded to 16; 3.5 on vdpbf16ps), 1.6 in fp32, 1.0 so (the model
  // 1.03-1.05x faster than with it in fp32). In int8 the direct VNNI
  // tiles run it in 0.87-0.92 ms against 1.27-1.30 so.
  //  - --quantize int8-static, where the ONNX node has a calibrated input
  //    range: flag 256, the filter quantized per output channel
  //    (symmetric, max |w| / 127) and packed, the input quantized per run
  //    with the range's scale and zero point (fparams), f32 output;
  //  - --quantize int8 (and int8-static without a range), no input scale:
  //    the same with flag 8192, the input's scale and zero point from its
  //    whole range per call (DynamicQuantizeLinear's);
  //  - --precision bf16: flags 256 | 4096, the filter rounded to bf16 and
  //    packed for AMX-BF16 / AVX512-BF16 tiles, the input rounded per
  //    run, sums in fp32.
  if (u.getKernel() == "conv2d_f32" && params.size() == 9 && params[0] == 2 &&
      (ctx.quantize == "int8-static" || ctx.quantize == "int8" ||
       ctx.weightKind == WeightKind::Bf16) &&
      !(params[1] & (4 | 128 | 256)) && params[7] == 1 && params[8] == 1 &&
      operands.size() >= 2) {
    auto wt = cast<MemRefType>(operands[1].getType());
    memref::GlobalOp g = wt.getRank() == 4 && wt.hasStaticShape() &&
                                 wt.getElementType().isF32()
                             ? constantGlobalOf(operands[1], ctx.symbols)
                             : memref::GlobalOp();
    int64_t f = g ? wt.getDimSize(0) : 0, c = g ? wt.getDimSize(1) : 0;
    int64_t taps = g ? wt.getDimSize(2) * wt.getDimSize(3) : 0;
    // Under 16 channels (a stem) with at most 1024 filter values per
    // output: the filter packed as a 1 x 1 one over its C * KH * KW
    // values, which the runtime gathers into planes (flag 16384)
    bool int8 = ctx.quantize == "int8" || ctx.quantize == "int8-static";
    bool im2col = g && !int8 && c < 16 && c * taps <= 1024 && taps > 1;
    if (g && !int8 && c < 16 && !im2col)
      g = memref::GlobalOp();
    if (im2col) {
      c *= taps;
      taps = 1;
    }
    std::optional<std::pair<float, float>> sz;
    if (g && ctx.quantize == "int8-static")
      sz = ctx.calibrated(u);
    // (a dynamic range takes no input scale: x * s would need its own
    // range pass)
    bool dynamic = int8 && !sz;
    memref::GlobalOp p;
    if (g && int8 && !(dynamic && (params[1] & 16)))
      p = ctx.packer.quantizedConvS8(g, f, c, taps);
    else if (g && !int8)
      p = ctx.packer.packedConvBf16(g, f, c, taps);
    if (p) {
      operands[1] = memref::GetGlobalOp::create(b, loc, p.getType(), p.getSymName());
      params[1] |= (!int8 ? 256 | 4096 : dynamic ? 256 | 8192 : 256) |
                   (im2col ? 16384 : 0);
      params.append({wt.getDimSize(2), wt.getDimSize(3)});
      if (sz)
        fparams.assign({sz->first, sz->second});
      if (int8)
        ++(sz ? ctx.staticConvs : ctx.dynamicConvs);
    }
  }
  // An fp32 stem (under 16 input channels, more than one tap, K = C *
  // KH * KW <= 32 values per output: MobileNet's and EfficientNet's 3 x 3
  // / 2 over 3 channels) for AVX2 or AVX-512 with a constant filter: flag
  // 16384, the filter left as it is ([F, K] rows for the pointwise
  // tiles), the runtime gathering each band of output rows' K planes
  // (lib/Runtime/ukernels/conv_im2col_f32.c). MobileNetV2 and
  // MobileNetV3-small 1.013-1.023x faster at 1 and 2 threads,
  // EfficientNet-B0 within 1.3% (`kiln run --against`, both orders).
  // Not the 7 x 7 stems (K = 147): there the direct kernel ran ResNet-50's
  // in 1.72-1.74 ms against 1.85 so (the tiles 1.3 ms, the gather 0.3).
  if (u.getKernel() == "conv2d_f32" && params.size() == 9 &&
      !(params[1] & (4 | 16 | 128 | 256)) && (params[0] == 1 || params[0] == 2) &&
      operands.size() >= 2) {
    auto wt = cast<MemRefType>(operands[1].getType());
    if (wt.getRank() == 4 && wt.hasStaticShape() && wt.getElementType().isF32() &&
        wt.getDimSize(1) < 16 && wt.getDimSize(2) * wt.getDimSize(3) > 1 &&
        wt.getDimSize(1) * wt.getDimSize(2) * wt.getDimSize(3) <= 32 &&
        constantGlobalOf(operands[1], ctx.symbols))
      params[1] |= 16384;
  }
  // conv2d_f32 (int_params isa, flags, activation, stride h/w, pad
  // top/left, dilation h/w) with a constant filter larger than 1 x 1,
  // called for AVX2 or AVX-512 (its own isa
  // param, which the runtime dispatches on): the filter is packed
  // here into the GEMM's fp32 panels ([F, K] read as the transposed [K, F]
  // weight) for the runtime's direct kernel (flag 4,
  // lib/Runtime/ukernels/conv_direct_f32.h), with the kernel's height
  // and width appended. A 1 x 1 convolution stays unpacked (the
  // runtime's pointwise kernel, conv_pw_f32_impl.h, filter rows read in
  // place, strided inputs subsampled into dense planes first) unless it
  // has 128+ input channels and an output plane of at most 8 x 8
  // (bench/gemm_bench.sh, AVX2, GFLOP/s pointwise against direct:
  // 16 -> 72 at 56 x 56 78 / 33, 64 -> 256 at 56 x 56 90 / 66,
  // 240 -> 40 at 14 x 14 86 / 65, 64 -> 128 at stride 2 from 56 x 56
  // 80 / 61; at 7 x 7 outputs 576 -> 96 68 / 79, 256 -> 512 at stride 2
  // from 14 x 14 64 / 85; 96 -> 576 73 / 70-76, and in MobileNetV3 at
  // batch 8 (`kiln run --profile`, 1 thread) 67-70 / 59-65, so from 128
  // channels), or 1 x 1 input and output planes (the runtime's GEMM over
  // the batch).
  // (Not a grouped one, flag 128: packed below for its own kernel.)
  if (u.getKernel() == "conv2d_f32" && params.size() == 9 &&
      !(params[1] & (4 | 128 | 16384)) && (params[0] == 1 || params[0] == 2) &&
      operands.size() >= 2) {
    auto xt = cast<MemRefType>(operands[0].getType());
    auto wt = cast<MemRefType>(operands[1].getType());
    auto yt = cast<MemRefType>(u.getInit().getType());
    bool shapes = xt.getRank() == 4 && wt.getRank() == 4 && yt.getRank() == 4 &&
                  wt.hasStaticShape() && wt.getElementType().isF32() &&
                  !xt.isDynamicDim(1) && !xt.isDynamicDim(2) &&
                  !xt.isDynamicDim(3) && !yt.isDynamicDim(2) &&
                  !yt.isDynamicDim(3);
    bool pointwise = wt.getDimSize(2) * wt.getDimSize(3) == 1;
    bool smallPlane = shapes && yt.getDimSize(2) * yt.getDimSize(3) <= 64;
    // 1 x 1 planes (squeeze-excite FC layers): the runtime runs the
    // packed filter as a GEMM over the batch
    bool onePixel = shapes && yt.getDimSize(2) * yt.getDimSize(3) == 1 &&
                    xt.getDimSize(2) * xt.getDimSize(3) == 1;
    // AVX-512, a strided 1 x 1 (ResNet's downsample branch): direct,
    // whose row tiles read the strided input in place, where the unpacked
    // path copies it first (ResNet-18 1 and 2 threads 0.97-0.99x the
    // time with it, `kiln run --against`). Not every AVX-512 1 x 1:
    // MobileNetV3-small then ran 1.06x slower. Only with a filter of at
    // most 256 KiB: a larger one makes the direct kernel's tasks channel
    // blocks over all rows (conv_f32.c, rows_outer), each reading the
    // strided input again from L3 (ResNet-50's 256 -> 512 from 56 x 56
    // in the model, 1 thread: 1.53 ms direct, 1.28 copied first).
    bool stridedAvx512 = params[0] == 2 && (params[3] > 1 || params[4] > 1) &&
                         wt.getDimSize(0) * wt.getDimSize(1) * 4 <= (256 << 10);
    if (shapes &&
        (!pointwise || stridedAvx512 ||
         (wt.getDimSize(1) >= 128 && smallPlane) || onePixel)) {
      int64_t c = xt.getDimSize(1), h = xt.getDimSize(2), w = xt.getDimSize(3);
      int64_t kh = wt.getDimSize(2), kw = wt.getDimSize(3);
      int64_t oh = yt.getDimSize(2), ow = yt.getDimSize(3);
      // the input plane the kernel steps through: the image or its
      // zero-padded copy; every offset within one image fits an int32
      int64_t hp = (oh - 1) * params[3] + (kh - 1) * params[7] + 1;
      int64_t wp = (ow - 1) * params[4] + (kw - 1) * params[8] + 1;
      int64_t plane = std::max(h * w, hp * wp);
      memref::GlobalOp g =
          oh > 0 && ow > 0 && c > 0 && c * plane < (int64_t(1) << 31)
              ? constantGlobalOf(operands[1], ctx.symbols)
              : memref::GlobalOp();
      int64_t f = wt.getDimSize(0), k = c * kh * kw;
      // AVX-512, 3 x 3 at stride 1 and dilation 1 (ResNet's convolutions
      // but the stem and the three downsampling ones): Winograd
      // F(2x2, 3x3), U = G g G^T (winogradFilter, ConstWeights.h), flag
      // 64 (lib/Runtime/ukernels/conv_wino_f32.h).
      // Not with an input scale (flag 16), nor with fewer than 8 input or
      // output channels, where the transforms outweigh the saving, nor on
      // output planes under 14 x 14 unless they are 7 x 7 or more with
      // 256+ input channels: there U, 16/9 of the filter's bytes, is read
      // from memory for few tiles, which only the runtime's order for
      // 256+ channels (each U[xi] read once per group) pays for
      // (ResNet-18's 512-channel 7 x 7 layers: 0.80-0.84x the direct
      // kernel's speed at batch 1 in the block-of-12 order; in that order
      // the whole model ran 1.0-1.02x faster at batch 1 and 1.08-1.13x at
      // batch 8 than with them direct; 1.5x faster at 14 x 14 to 56 x 56,
      // `kiln run --against`).
      bool wino = g && ctx.winograd && params[0] == 2 && kh == 3 && kw == 3 &&
                  params[3] == 1 && params[4] == 1 && params[7] == 1 &&
                  params[8] == 1 && !(params[1] & 16) && c >= 8 && f >= 8 &&
                  (oh * ow >= 14 * 14 || (c >= 256 && oh * ow >= 7 * 7));
      // Stride 1, 16+ input channels, taps that read mostly zero padding
      // (DeepLabV3's ASPP: 3 x 3 at dilations 12-36 on 33 x 33 maps,
      // 57% / 26% / 11% of the direct form's products inside the
      // input), one tap inside the input at every output: the sum of
      // each tap's 1 x 1 convolution over its valid outputs (flag 32768,
      // the filter as [KH * KW, F, C]; lib/Runtime/ukernels/conv_taps_f32.c).
      // The direct kernel runs every tap over a zero-padded copy (the
      // dilation-36 one over a 105 x 105 copy of 960 channels).
      bool taps = false;
      if (g && !wino && (params[0] == 1 || params[0] == 2) && kh * kw > 1 &&
          params[3] == 1 && params[4] == 1 && !(params[1] & 16) && c >= 16) {
        // per dim: outputs summed over taps whose input is inside, and
        // whether some tap is inside at every output
        auto inside = [](int64_t out, int64_t in, int64_t k, int64_t pad,
                         int64_t dil, bool &full) {
          int64_t n = 0;
          full = false;
          for (int64_t t = 0; t < k; ++t) {
            int64_t d = t * dil - pad;
            int64_t lo = std::max<int64_t>(0, -d), hi = std::min(out, in - d);
            n += std::max<int64_t>(0, hi - lo);
            full |= lo == 0 && hi == out;
          }
          return n;
        };
        bool fullH, fullW;
        double frac =
            double(inside(oh, h, kh, params[5], params[7], fullH)) / double(kh * oh) *
            double(inside(ow, w, kw, params[6], params[8], fullW)) / double(kw * ow);
        // dilated, or mostly padding (a 3 x 3 on a 2 x 2 map); not
        // undilated 3 x 3s on 4 x 4 maps (69% inside), left direct
        taps = fullH && fullW &&
               (frac <= 0.5 || (frac <= 0.75 && (params[7] > 1 || params[8] > 1)));
      }
      if (g) {
        // AVX2 (and AVX-512 for filters past 1 x 1, below) with input
        // channels in multiples of 8: K reordered to
        // (c / 8, kh, kw, c % 8) for the kernel's channel-blocked mode
        // (flag 8; the runtime lays the input out as NCHW8c), where each
        // tap's broadcast is at a fixed offset from one table entry per
        // 8 taps instead of a table entry per tap.
        // AVX-512 takes it for every filter larger than 1 x 1 that
        // stays on the direct kernel: its gather tiles then broadcast 8
        // channels of a pixel from one 32-byte run instead of 8 planes,
        // and run over the output plane with no padding columns (the
        // flat tiles computed a 1 x 7's 6 padding columns of every 23).
        // ResNet-50's 3 x 3 / 2 layers 2.1 -> 1.8 ms (the model
        // 1.012-1.023x faster at 1 and 2 threads); Inception-v3's 1 x 7
        // 11.8 -> 8.9 ms, 5 x 5 3.6 -> 3.1, 1 x 3 2.0 -> 1.7 (the model
        // 1.04x faster); GoogLeNet's 3 x 3 on 7 x 7 0.41 -> 0.37 and 0.58
        // -> 0.52 ms (the model within 1%), AlexNet's 5 x 5 and 3 x 3
        // within 3% (`kiln run --against` both orders, `--profile`).
        bool c8 = !wino && !taps && c % 8 == 0 &&
                  (params[0] == 1 || (params[0] == 2 && kh * kw > 1));
        memref::GlobalOp p = ctx.packer.filterFor(
            g, k, f, c, kh * kw,
            wino   ? FilterLayout::Winograd
            : taps ? FilterLayout::Taps
            : c8   ? FilterLayout::ChannelBlocked
                   : FilterLayout::Panels);
        operands[1] = memref::GetGlobalOp::create(b, loc, p.getType(), p.getSymName());
        params[1] |= wino ? 4 | 64 : taps ? 4 | 32768 : c8 ? 4 | 8 : 4;
        params.append({kh, kw});
      }
    }
  }
  // A grouped conv2d_f32 (flag 128) for AVX2 or AVX-512 whose groups
  // have a multiple of 16 filters (ResNeXt-50's last two stages), at
  // most 64 taps and a column stride of 1 or 2: the filter as panels of 16 filters over K = Cg * KH *
  // KW (flag 4, KH and KW appended), which the runtime's channel-vector
  // tiles read in place (conv_grouped_f32_impl.h; unpacked, they repack
  // each group's filters on every run).
  if (u.getKernel() == "conv2d_f32" && params.size() == 9 &&
      (params[1] & 128) && !(params[1] & 4) &&
      (params[0] == 1 || params[0] == 2) && operands.size() >= 2) {
    auto xt = cast<MemRefType>(operands[0].getType());
    auto wt = cast<MemRefType>(operands[1].getType());
    if (xt.getRank() == 4 && wt.getRank() == 4 && wt.hasStaticShape() &&
        wt.getElementType().isF32() && !xt.isDynamicDim(1)) {
      int64_t c = xt.getDimSize(1), f = wt.getDimSize(0), cg = wt.getDimSize(1);
      int64_t taps = wt.getDimSize(2) * wt.getDimSize(3);
      int64_t groups = cg > 0 && c % cg == 0 ? c / cg : 0;
      if (groups > 0 && f % groups == 0 && (f / groups) % 16 == 0 &&
          taps >= 1 && taps <= 64 && (params[4] == 1 || params[4] == 2)) {
        if (memref::GlobalOp g = constantGlobalOf(operands[1], ctx.symbols)) {
          memref::GlobalOp p =
              ctx.packer.filterFor(g, cg * taps, f, cg, taps, FilterLayout::Panels);
          operands[1] =
              memref::GetGlobalOp::create(b, loc, p.getType(), p.getSymName());
          params[1] |= 4;
          params.append({wt.getDimSize(2), wt.getDimSize(3)});
        }
      }
    }
  }
  return success();
}
