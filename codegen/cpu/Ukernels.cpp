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
#include "codegen/cpu/ConvFilters.h"
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
    // conv2d_f32's constant filter packed for the runtime path it takes
    // (ConvFilters.cpp)
    if (u.getKernel() == "conv2d_f32") {
      // (a named lambda: the context's function_ref must not outlive it)
      auto range = [&](Operation *op) { return calibrated(op); };
      ConvFilterContext cctx{*symbols,  *packer,     quantize,    weightKind,
                             winograd,  range,       staticConvs, dynamicConvs};
      if (failed(packConvFilter(u, b, params, fparams, operands, cctx))) {
        failedAny = true;
        return;
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
