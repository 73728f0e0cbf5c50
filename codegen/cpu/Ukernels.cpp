//===- Ukernels.cpp - the kiln-cpu-ukernels pass --------------------------===//
//
// fp32 matmuls on buffers become calls into the runtime's hand-written GEMM
// microkernels (lib/Runtime/ukernels/gemm_*.c). Constant right-hand sides
// (the weights of every dense layer, the convolutions' filters) are packed
// here, once, into the kernels' layouts (WeightPacker.cpp). The packed
// constant replaces the original one, so the weights file stores weights
// packed and a run never transposes or repacks them.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/cpu/Calibration.h"
#include "codegen/cpu/ConstWeights.h"
#include "codegen/cpu/WeightPacker.h"
#include "../../lib/Runtime/ukernels/pack_f16.h"
#include "dialects/kiln/KilnDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/SaveAndRestore.h"

#include <optional>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNCPUUKERNELS
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln::cpu;

namespace {

constexpr int64_t kOverwrite = 0x100; // KILN_GEMM_OVERWRITE
constexpr int64_t kS4ZeroPoints = 0x200; // KILN_S4_ZERO_POINTS

/// Whether an int4-packed weight [P, NG, rows, 64] has the zero-point row
/// (rows = G / 8 + 2 instead of G / 8 + 1: WeightPacker::packS4).
bool hasS4ZeroPoints(memref::GlobalOp packed, int64_t groupSize) {
  auto t = cast<MemRefType>(packed.getType());
  return t.getRank() == 4 && t.getDimSize(2) == groupSize / 8 + 2;
}

/// (aligned base address, offset, strides...) of a strided memref, as index
/// values.
SmallVector<Value> viewArgs(OpBuilder &b, Location loc, Value memref) {
  auto md = memref::ExtractStridedMetadataOp::create(b, loc, memref);
  Value ptr =
      memref::ExtractAlignedPointerAsIndexOp::create(b, loc, md.getBaseBuffer());
  SmallVector<Value> args{ptr, md.getOffset()};
  for (Value s : md.getStrides())
    args.push_back(s);
  return args;
}

struct KilnCpuUkernels final
    : mlir::kiln::impl::KilnCpuUkernelsBase<KilnCpuUkernels> {
  using Base::Base;

  ModuleOp module;
  SymbolTable *symbols = nullptr;
  int64_t isaFlag = 0;
  /// How constant weights are stored and multiplied.
  WeightKind weightKind = WeightKind::F32;
  llvm::StringSet<> keep; /* --keep-fp32's node names */
  /// quantize=int8-static: (scale, zero point) of the input of each
  /// calibrated node's dense layer, and how many layers found one.
  llvm::StringMap<std::pair<float, float>> actParams;
  int64_t staticLayers = 0, dynamicLayers = 0, staticConvs = 0, dynamicConvs = 0;
  bool failedAny = false;
  std::optional<WeightPacker> packer;

  func::FuncOp declare(StringRef name, unsigned numArgs) {
    if (auto f = symbols->lookup<func::FuncOp>(name))
      return f;
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    SmallVector<Type> args(numArgs, b.getIndexType());
    auto f = func::FuncOp::create(b, module.getLoc(), name,
                                  b.getFunctionType(args, {}));
    f.setPrivate();
    symbols->insert(f);
    return f;
  }

  Value idx(OpBuilder &b, Location loc, int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v);
  }

  /// Drops a zero fill of `c` right before `op`; true when it did.
  bool dropZeroFill(Operation *op, Value c) {
    auto fill = dyn_cast_or_null<linalg::FillOp>(op->getPrevNode());
    if (!fill || !fill.hasPureBufferSemantics() ||
        fill.getDpsInitOperand(0)->get() != c)
      return false;
    auto cst = fill.getDpsInputOperand(0)->get().getDefiningOp<arith::ConstantOp>();
    auto f = cst ? dyn_cast<FloatAttr>(cst.getValue()) : FloatAttr();
    if (!f || !f.getValue().isZero() || f.getValue().isNegative())
      return false;
    fill.erase();
    return true;
  }

  /// int8-static: the calibrated (scale, zero point) of the first name in
  /// `op`'s location that has one.
  std::optional<std::pair<float, float>> calibrated(Operation *op) {
    std::optional<std::pair<float, float>> found;
    op->getLoc()->walk([&](Location l) {
      if (auto n = dyn_cast<NameLoc>(l))
        if (auto it = actParams.find(n.getName().strref());
            it != actParams.end()) {
          found = it->second;
          return WalkResult::interrupt();
        }
      return WalkResult::advance();
    });
    return found;
  }

  /// Globals whose every value is an fp16 value (checked once each).
  llvm::DenseMap<Operation *, bool> f16Exact;

  /// How `global`'s weights are stored: as asked, except that under
  /// precision=fp32 (not --keep-fp32 layers of another precision) weights
  /// whose every value is an fp16 value (a model exported in fp16, widened
  /// by kiln-widen-half) are stored in fp16 on the AVX2/AVX-512 tiles: the
  /// same values in half the bytes. Measured on an fp16 export (`kiln run
  /// --against`, outputs identical): LLaMA 8 x 1024 decode steps 1.31-1.33x
  /// faster, BERT-base prefill at seq 128 0.99-1.01x.
  WeightKind kindFor(memref::GlobalOp global) {
    if (!exactFp16 || precision != "fp32" || quantize != "none" ||
        weightKind != WeightKind::F32 || !global || isaFlag == 0)
      return weightKind;
    auto [it, fresh] = f16Exact.try_emplace(global.getOperation(), false);
    if (fresh) {
      std::optional<ConstReader> r = readerOf(global);
      int64_t count = global.getType().getNumElements();
      bool exact = r.has_value() && count > 0;
      for (int64_t i = 0; exact && i < count; ++i) {
        float v = (*r)[i], back = kiln_f16_to_f32(kiln_f32_to_f16(v));
        exact = std::memcmp(&v, &back, sizeof v) == 0;
      }
      it->second = exact;
    }
    return it->second ? WeightKind::F16 : weightKind;
  }

  /// --keep-fp32: whether a name in `op`'s location is listed.
  bool keptFp32(Operation *op) {
    if (keep.empty())
      return false;
    bool found = false;
    op->getLoc()->walk([&](Location l) {
      if (auto n = dyn_cast<NameLoc>(l); n && keep.contains(n.getName().strref()))
        found = true;
      return WalkResult::advance();
    });
    return found;
  }

  void rewriteMatmul(linalg::MatmulOp mm) {
    llvm::SaveAndRestore<WeightKind> kind(
        weightKind, keptFp32(mm) ? WeightKind::F32 : weightKind);
    Value a = mm.getDpsInputOperand(0)->get(), bv = mm.getDpsInputOperand(1)->get(),
          c = mm.getDpsInitOperand(0)->get();
    Location loc = mm.getLoc();
    // Packing at compile time needs the weight's extents.
    auto bt = cast<MemRefType>(bv.getType());
    memref::GlobalOp global;
    std::optional<TransposedConst> tc;
    if (bt.hasStaticShape()) {
      global = constantGlobalOf(bv, *symbols);
      if (!global)
        tc = transposedConstOf(bv, *symbols);
    }
    llvm::SaveAndRestore<WeightKind> exact(
        weightKind, kindFor(global ? global : tc ? tc->global : memref::GlobalOp()));
    int64_t flags = isaFlag | (dropZeroFill(mm, c) ? kOverwrite : 0);
    if (weightKind == WeightKind::S4 && (global || tc))
      flags |= groupSize << 16; // kiln_ukernel_s4gemm_packed's group size
    // int8-static: a plain matmul's entry point takes no activation
    // parameters, so its input is quantized per row
    if (weightKind == WeightKind::S8 && quantize == "int8-static" && (global || tc))
      ++dynamicLayers;
    OpBuilder b(mm);
    Value m = memref::DimOp::create(b, loc, a, 0);
    Value k = memref::DimOp::create(b, loc, a, 1);
    Value n = memref::DimOp::create(b, loc, c, 1);
    SmallVector<Value> args{idx(b, loc, flags), m, n, k};
    SmallVector<Value> av = viewArgs(b, loc, a), cv = viewArgs(b, loc, c);
    args.append(av.begin(), av.end()); // ptr, off, lda, acs
    if (global || tc) {
      // A transposed constant [N, K] (tc) is read as [K, N] through its
      // transpose: bt is [K, N] either way.
      memref::GlobalOp src = global ? global : tc->global;
      int64_t kk = bt.getDimSize(0), nn = bt.getDimSize(1);
      memref::GlobalOp p = packer->packedFor(src, !global, kk, nn, weightKind);
      if (weightKind == WeightKind::S4 && hasS4ZeroPoints(p, groupSize))
        args[0] = idx(b, loc, flags | kS4ZeroPoints);
      Value get = memref::GetGlobalOp::create(b, loc, p.getType(), p.getSymName());
      SmallVector<Value> pv = viewArgs(b, loc, get);
      args.append({pv[0], pv[1]});
      args.append({cv[0], cv[1], cv[2]});
      func::CallOp::create(
          b, loc,
          declare(weightKind == WeightKind::Bf16 ? "kiln_ukernel_sbgemm_packed"
                  : weightKind == WeightKind::F16 ? "kiln_ukernel_hgemm_packed"
                  : weightKind == WeightKind::S8 ? "kiln_ukernel_qgemm_packed"
                  : weightKind == WeightKind::S4 ? "kiln_ukernel_s4gemm_packed"
                                                 : "kiln_ukernel_sgemm_packed",
                  13),
          args);
    } else {
      SmallVector<Value> bvw = viewArgs(b, loc, bv);
      args.append(bvw.begin(), bvw.end());
      args.append({cv[0], cv[1], cv[2]});
      func::CallOp::create(b, loc, declare("kiln_ukernel_sgemm", 15), args);
    }
    mm.erase();
    if (tc && llvm::all_of(tc->alloc->getUsers(), [&](Operation *u) {
          return u == tc->transpose || isa<memref::DeallocOp>(u);
        })) {
      for (Operation *u : llvm::make_early_inc_range(tc->alloc->getUsers()))
        u->erase();
      tc->alloc.erase();
    }
  }

  void rewriteBatchMatmul(linalg::BatchMatmulOp mm) {
    Value a = mm.getDpsInputOperand(0)->get(), bv = mm.getDpsInputOperand(1)->get(),
          c = mm.getDpsInitOperand(0)->get();
    Location loc = mm.getLoc();
    int64_t flags = isaFlag | (dropZeroFill(mm, c) ? kOverwrite : 0);
    OpBuilder b(mm);
    SmallVector<Value> args{idx(b, loc, flags),
                            memref::DimOp::create(b, loc, a, 0),
                            memref::DimOp::create(b, loc, a, 1),
                            memref::DimOp::create(b, loc, c, 2),
                            memref::DimOp::create(b, loc, a, 2)};
    for (Value v : {a, bv, c}) {
      SmallVector<Value> w = viewArgs(b, loc, v); // ptr, off, s0, s1, s2
      args.append(w.begin(), w.end());
    }
    // c's inner stride is 1 (checked): drop it.
    args.pop_back();
    func::CallOp::create(b, loc, declare("kiln_ukernel_sgemm_batched", 19), args);
    mm.erase();
  }

  /// kiln.ukernel on buffers -> kiln_ukernel_<kernel>(desc, fparams).
  void rewriteUkernel(mlir::kiln::UkernelOp u) {
    llvm::SaveAndRestore<WeightKind> kind(
        weightKind, keptFp32(u) ? WeightKind::F32 : weightKind);
    Location loc = u.getLoc();
    OpBuilder b(u);
    SmallVector<int64_t> params(u.getIntParams());
    SmallVector<float> fparams(u.getFloatParams());
    SmallVector<Value> operands(u.getInputs());
    // Attention's products in bf16 (attention_f32.c): flag 16 under
    // --precision bf16, 32 (where the CPU has AVX512-BF16) under int8.
    if (u.getKernel() == "attention_f32" && params.size() >= 2)
      params[1] |= weightKind == WeightKind::Bf16 ? 16
                   : weightKind == WeightKind::S8 ? 32 : 0;
    // linear_f32 with int8 weights and their scales (flag 64, from a model
    // that arrives quantized): packed as they are, the scales move into the
    // panels (flag 32).
    if (u.getKernel() == "linear_f32" && params.size() == 3 && (params[1] & 64)) {
      auto wt = cast<MemRefType>(operands[1].getType());
      memref::GlobalOp wq = constantGlobalOf(operands[1], *symbols, true);
      memref::GlobalOp sc = constantGlobalOf(operands[2], *symbols, true);
      memref::GlobalOp p =
          wq && sc && wt.getRank() == 2 && wt.hasStaticShape()
              ? packer->packedQuantized(wq, sc, wt.getDimSize(0), wt.getDimSize(1))
              : memref::GlobalOp();
      if (!p) {
        u.emitError("kiln-cpu-ukernels: linear_f32 with int8 weights needs "
                    "constant weights and scales");
        failedAny = true;
        return;
      }
      operands[1] = memref::GetGlobalOp::create(b, loc, p.getType(), p.getSymName());
      operands.erase(operands.begin() + 2);
      params[1] = (params[1] & ~int64_t(64)) | 32;
    }
    // linear_f32 with a constant weight: packed here, once (flag 8); its
    // int_params are (isa, flags, activation), flag 1 = transposed.
    if (u.getKernel() == "linear_f32" && operands.size() >= 2 &&
        params.size() == 3 && !(params[1] & (8 | 16 | 32 | 256 | 2048))) {
      auto wt = cast<MemRefType>(operands[1].getType());
      if (memref::GlobalOp g = wt.hasStaticShape() && wt.getRank() == 2 &&
                                       wt.getElementType().isF32()
                                   ? constantGlobalOf(operands[1], *symbols)
                                   : memref::GlobalOp()) {
        llvm::SaveAndRestore<WeightKind> exact(weightKind, kindFor(g));
        bool tw = params[1] & 1;
        int64_t k = wt.getDimSize(tw ? 1 : 0), n = wt.getDimSize(tw ? 0 : 1);
        memref::GlobalOp p = packer->packedFor(g, tw, k, n, weightKind);
        operands[1] =
            memref::GetGlobalOp::create(b, loc, p.getType(), p.getSymName());
        params[1] |= weightKind == WeightKind::Bf16 ? 16
                     : weightKind == WeightKind::F16 ? 2048
                     : weightKind == WeightKind::S8 ? 32
                     : weightKind == WeightKind::S4 ? 256
                                                    : 8;
        if (weightKind == WeightKind::S4 && hasS4ZeroPoints(p, groupSize))
          params[1] |= 4096; // LINEAR_S4_ZERO_POINTS
        // int8-static: the input quantized per tensor with its calibrated
        // scale and zero point (flags 128 | 512, float_params), on weights
        // kiln quantized (1024: the AVX2 7-bit tile may run).
        if (weightKind == WeightKind::S8 && quantize == "int8-static") {
          if (auto sz = calibrated(u)) {
            params[1] |= 128 | 512 | 1024;
            fparams.assign({sz->first, sz->second});
            ++staticLayers;
          } else {
            ++dynamicLayers;
          }
        }
      }
    }
    // conv2d_f32 in int8 (flag 256, a QDQ model's convolution,
    // SelectConvUkernels.cpp): the int8 filter [F, C, KH, KW] and its F
    // scales (the last operand) packed together for the runtime's int8
    // kernel (lib/Runtime/ukernels/conv_s8.h), the kernel's height and
    // width appended.
    if (u.getKernel() == "conv2d_f32" && params.size() == 9 && (params[1] & 256)) {
      auto wt = cast<MemRefType>(operands[1].getType());
      memref::GlobalOp wq = constantGlobalOf(operands[1], *symbols, true);
      memref::GlobalOp sc = constantGlobalOf(operands.back(), *symbols, true);
      memref::GlobalOp p =
          wq && sc && wt.getRank() == 4 && wt.hasStaticShape()
              ? packer->packedConvS8(wq, sc, wt.getDimSize(0), wt.getDimSize(1),
                                     wt.getDimSize(2) * wt.getDimSize(3))
              : memref::GlobalOp();
      if (!p) {
        u.emitError("kiln-cpu-ukernels: an int8 conv2d_f32 needs a constant "
                    "int8 filter and scales");
        failedAny = true;
        return;
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
        (quantize == "int8-static" || quantize == "int8" ||
         weightKind == WeightKind::Bf16) &&
        !(params[1] & (4 | 128 | 256)) && params[7] == 1 && params[8] == 1 &&
        operands.size() >= 2) {
      auto wt = cast<MemRefType>(operands[1].getType());
      memref::GlobalOp g = wt.getRank() == 4 && wt.hasStaticShape() &&
                                   wt.getElementType().isF32()
                               ? constantGlobalOf(operands[1], *symbols)
                               : memref::GlobalOp();
      int64_t f = g ? wt.getDimSize(0) : 0, c = g ? wt.getDimSize(1) : 0;
      int64_t taps = g ? wt.getDimSize(2) * wt.getDimSize(3) : 0;
      // Under 16 channels (a stem) with at most 1024 filter values per
      // output: the filter packed as a 1 x 1 one over its C * KH * KW
      // values, which the runtime gathers into planes (flag 16384)
      bool int8 = quantize == "int8" || quantize == "int8-static";
      bool im2col = g && !int8 && c < 16 && c * taps <= 1024 && taps > 1;
      if (g && !int8 && c < 16 && !im2col)
        g = memref::GlobalOp();
      if (im2col) {
        c *= taps;
        taps = 1;
      }
      std::optional<std::pair<float, float>> sz;
      if (g && quantize == "int8-static")
        sz = calibrated(u);
      // (a dynamic range takes no input scale: x * s would need its own
      // range pass)
      bool dynamic = int8 && !sz;
      memref::GlobalOp p;
      if (g && int8 && !(dynamic && (params[1] & 16)))
        p = packer->quantizedConvS8(g, f, c, taps);
      else if (g && !int8)
        p = packer->packedConvBf16(g, f, c, taps);
      if (p) {
        operands[1] = memref::GetGlobalOp::create(b, loc, p.getType(), p.getSymName());
        params[1] |= (!int8 ? 256 | 4096 : dynamic ? 256 | 8192 : 256) |
                     (im2col ? 16384 : 0);
        params.append({wt.getDimSize(2), wt.getDimSize(3)});
        if (sz)
          fparams.assign({sz->first, sz->second});
        if (int8)
          ++(sz ? staticConvs : dynamicConvs);
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
          constantGlobalOf(operands[1], *symbols))
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
                ? constantGlobalOf(operands[1], *symbols)
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
        bool wino = g && winograd && params[0] == 2 && kh == 3 && kw == 3 &&
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
          memref::GlobalOp p = packer->filterFor(
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
          if (memref::GlobalOp g = constantGlobalOf(operands[1], *symbols)) {
            memref::GlobalOp p =
                packer->filterFor(g, cg * taps, f, cg, taps, FilterLayout::Panels);
            operands[1] =
                memref::GetGlobalOp::create(b, loc, p.getType(), p.getSymName());
            params[1] |= 4;
            params.append({wt.getDimSize(2), wt.getDimSize(3)});
          }
        }
      }
    }
    SmallVector<Value> desc;
    for (int64_t p : params)
      desc.push_back(idx(b, loc, p));
    operands.append(u.getInits().begin(), u.getInits().end());
    for (Value v : operands) {
      auto md = memref::ExtractStridedMetadataOp::create(b, loc, v);
      desc.push_back(memref::ExtractAlignedPointerAsIndexOp::create(
          b, loc, md.getBaseBuffer()));
      desc.push_back(md.getOffset());
      desc.append(md.getSizes().begin(), md.getSizes().end());
      desc.append(md.getStrides().begin(), md.getStrides().end());
    }
    auto descType = MemRefType::get({(int64_t)desc.size()}, b.getIndexType());
    Value descBuf = memref::AllocaOp::create(b, loc, descType);
    for (auto [i, v] : llvm::enumerate(desc))
      memref::StoreOp::create(b, loc, v, descBuf, ValueRange{idx(b, loc, i)});
    ArrayRef<float> fp = fparams;
    auto fType = MemRefType::get({std::max<int64_t>(1, fp.size())}, b.getF32Type());
    Value fBuf = memref::AllocaOp::create(b, loc, fType);
    for (auto [i, f] : llvm::enumerate(fp))
      memref::StoreOp::create(
          b, loc, arith::ConstantOp::create(b, loc, b.getF32FloatAttr(f)), fBuf,
          ValueRange{idx(b, loc, i)});
    Value dp = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, descBuf);
    Value fpp = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, fBuf);
    func::CallOp::create(b, loc, declare(("kiln_ukernel_" + u.getKernel()).str(), 2),
                         ValueRange{dp, fpp});
    u.erase();
  }

  void runOnOperation() override {
    if (isaName == "avx512")
      isaFlag = 2;
    else if (isaName == "avx2")
      isaFlag = 1;
    else if (isaName == "generic")
      isaFlag = 0;
    else {
      getOperation().emitError("kiln-cpu-ukernels: unknown isa '")
          << isaName << "' (expected avx512, avx2 or generic)";
      return signalPassFailure();
    }
    if (precision != "fp32" && precision != "bf16" && precision != "fp16") {
      getOperation().emitError("kiln-cpu-ukernels: unknown precision '")
          << precision << "' (expected fp32, bf16 or fp16)";
      return signalPassFailure();
    }
    if (quantize != "none" && quantize != "int8" && quantize != "int8-static" &&
        quantize != "int4") {
      getOperation().emitError("kiln-cpu-ukernels: unknown quantize '")
          << quantize << "' (expected none, int8, int8-static or int4)";
      return signalPassFailure();
    }
    actParams.clear();
    staticLayers = dynamicLayers = staticConvs = dynamicConvs = 0;
    if (quantize == "int8-static") {
      ::kiln::Calibration cal;
      std::string error;
      if (calibration.empty()) {
        getOperation().emitError("kiln-cpu-ukernels: quantize=int8-static "
                                 "needs calibration=FILE");
        return signalPassFailure();
      }
      if (!::kiln::readCalibration(calibration, cal, error)) {
        getOperation().emitError("kiln-cpu-ukernels: ") << error;
        return signalPassFailure();
      }
      for (const auto &[node, r] : cal.nodes)
        actParams[node] = ::kiln::u8QuantParams(r.lo, r.hi);
    }
    if (quantize != "none" && precision != "fp32") {
      getOperation().emitError("kiln-cpu-ukernels: quantize=")
          << quantize << " needs precision=fp32, got '" << precision << "'";
      return signalPassFailure();
    }
    if (groupSize < 8 || groupSize > 4096 || groupSize % 8) {
      getOperation().emitError("kiln-cpu-ukernels: group-size must be a "
                               "multiple of 8 from 8 to 4096, got ")
          << static_cast<int64_t>(groupSize);
      return signalPassFailure();
    }
    weightKind = quantize == "int4"    ? WeightKind::S4
                 : quantize == "int8" || quantize == "int8-static"
                     ? WeightKind::S8
                 : precision == "bf16" ? WeightKind::Bf16
                 : precision == "fp16" ? WeightKind::F16
                                       : WeightKind::F32;
    keep.clear();
    for (const std::string &name : keepFp32)
      keep.insert(name);
    module = getOperation();
    SymbolTable table(module);
    symbols = &table;
    packer.emplace(table, isaFlag, groupSize);
    SmallVector<Operation *> work;
    module.walk([&](Operation *op) {
      if (!isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op))
        return;
      auto l = cast<linalg::LinalgOp>(op);
      int64_t rank = isa<linalg::MatmulOp>(op) ? 2 : 3;
      if (!l.hasPureBufferSemantics() || l.hasUserDefinedMaps())
        return;
      Value a = l.getDpsInputOperand(0)->get(), bv = l.getDpsInputOperand(1)->get(),
            c = l.getDpsInitOperand(0)->get();
      if (!isF32Rank(a, rank) || !isF32Rank(bv, rank) || !isF32Rank(c, rank) ||
          !hasUnitInnerStride(c) || c == a || c == bv)
        return;
      work.push_back(op);
    });
    SmallVector<mlir::kiln::UkernelOp> calls;
    module.walk([&](mlir::kiln::UkernelOp u) {
      if (!u.getResult())
        calls.push_back(u);
    });
    for (auto u : calls)
      rewriteUkernel(u);
    if (failedAny)
      return signalPassFailure();
    for (Operation *op : work) {
      if (auto mm = dyn_cast<linalg::MatmulOp>(op))
        rewriteMatmul(mm);
      else
        rewriteBatchMatmul(cast<linalg::BatchMatmulOp>(op));
    }
    if (quantize == "int8-static") {
      auto d = module.emitRemark("int8-static: ");
      d << staticLayers << " dense layer(s) with calibrated input ranges, "
        << dynamicLayers << " quantized per row at run time (no range)";
      if (staticConvs)
        d << ", " << staticConvs << " convolution(s) in int8";
      if (dynamicConvs)
        d << ", " << dynamicConvs << " convolution(s) in int8 per call (no range)";
    } else if (quantize == "int8" && dynamicConvs) {
      module.emitRemark("int8: ")
          << dynamicConvs << " convolution(s) in int8, each input's range per call";
    }
    // Originals that only fed packing are gone from the program: drop their
    // reads (and reshapes of them), then the globals, so they are neither
    // embedded nor written to the weights file.
    for (bool erased = true; erased;) {
      erased = false;
      module.walk([&](Operation *op) {
        if (isa<memref::GetGlobalOp, memref::CollapseShapeOp,
                memref::ExpandShapeOp, memref::ReshapeOp>(op) &&
            op->use_empty()) {
          op->erase();
          erased = true;
        }
      });
    }
    packer->eraseUnusedOriginals(module);
  }
};

} // namespace
