//===- SelectQuantUkernels.cpp - quantized matmuls onto the int8 GEMM ------===//
//
// Part of kiln-cpu-select-ukernels (SelectUkernels.cpp): matmuls of models
// that arrive quantized, as the importer spells their ops out
// (lib/Import/ConvertQuant.cpp), become kiln.ukernel "linear_f32" on the
// int8 GEMM (lib/Runtime/ukernels/gemm_s8.c) with the model's own int8
// weights and scales:
//  - ONNX Runtime's quantize_dynamic form (DynamicQuantizeLinear +
//    MatMulInteger): activations quantized per tensor from their range at
//    run time (flags 64 | 128);
//  - the QDQ form of quantize_static (QuantizeLinear -> DequantizeLinear on
//    the activations, DequantizeLinear of int8 weights, MatMul):
//    activations quantized with the QuantizeLinear's own scale and zero
//    point (flags 64 | 128 | 512, float_params (scale, zero point)).
// Either way the int32 sums are exact and scaled once, which is the
// arithmetic the quantized graph defines.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/SelectUkernels.h"
#include "dialects/kiln/KilnDialect.h"
#include "passes/PatternUtils.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::cpu;

namespace {

/// The N per-column scales of a weight: an f32 constant holding one value
/// (per tensor) or N values with N as its last dim (per column).
std::optional<SmallVector<float>> columnScales(Value ws, int64_t n) {
  Attribute sa;
  if (!ws || !matchPattern(ws, m_Constant(&sa)))
    return std::nullopt;
  auto st = cast<RankedTensorType>(ws.getType());
  if (!st.getElementType().isF32())
    return std::nullopt;
  SmallVector<float> scales;
  // Per-column scales of a large model may be a resource blob.
  if (auto r = dyn_cast<DenseResourceElementsAttr>(sa)) {
    AsmResourceBlob *blob = r.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != (size_t)n * sizeof(float) ||
        st.getRank() < 1 || st.getShape().back() != n)
      return std::nullopt;
    scales.resize(n);
    std::memcpy(scales.data(), blob->getData().data(), n * sizeof(float));
    return scales;
  }
  auto sd = dyn_cast<DenseElementsAttr>(sa);
  if (!sd)
    return std::nullopt;
  if (sd.isSplat() || sd.getNumElements() == 1) {
    scales.assign(n, *sd.getValues<float>().begin());
    return scales;
  }
  if (sd.getNumElements() != n || st.getRank() < 1 || st.getShape().back() != n)
    return std::nullopt;
  for (float f : sd.getValues<float>())
    scales.push_back(f);
  return scales;
}

/// A reduction of all of `x`'s dims to a scalar.
template <typename OpTy>
bool reducesAll(Value v, Value x) {
  auto r = producer<OpTy>(v);
  if (!r || r.getInput() != x || r.getKeepdims())
    return false;
  auto rank = cast<RankedTensorType>(x.getType()).getRank();
  ArrayRef<int64_t> axes = r.getAxes();
  if ((int64_t)axes.size() != rank)
    return false;
  for (int64_t i = 0; i < rank; ++i)
    if (axes[i] != i)
      return false;
  return true;
}

/// `q` (ui8) is DynamicQuantizeLinear's y of an f32 `x` as the importer
/// spells it out (lib/Import/ConvertQuant.cpp): x's range widened to 0,
/// scale = range / 255, zp = clip(round(0 - min / scale), 0, 255),
/// q = cast(clip(round(x / scale) + zp, 0, 255)). Returns x, scale and the
/// zero point as f32.
struct DynamicQuant {
  Value x, scale, zpf;
};
std::optional<DynamicQuant> matchDynamicQuant(Value q) {
  auto qc = producer<CastOp>(q);
  auto clip = qc ? producer<ClipOp>(qc.getInput()) : ClipOp();
  if (!clip || splatOf(clip.getMin()) != 0.0 || splatOf(clip.getMax()) != 255.0)
    return std::nullopt;
  auto add = producer<AddOp>(clip.getInput());
  auto round = add ? producer<RoundOp>(add.getLhs()) : RoundOp();
  auto div = round ? producer<DivOp>(round.getInput()) : DivOp();
  if (!div)
    return std::nullopt;
  DynamicQuant d{div.getLhs(), div.getRhs(), add.getRhs()};
  auto xt = dyn_cast<RankedTensorType>(d.x.getType());
  if (!xt || !xt.getElementType().isF32())
    return std::nullopt;
  // scale = (max(reduce_max(x), 0) - min(reduce_min(x), 0)) / 255
  auto sdiv = producer<DivOp>(d.scale);
  auto range = sdiv ? producer<SubOp>(sdiv.getLhs()) : SubOp();
  if (!range || splatOf(sdiv.getRhs()) != 255.0)
    return std::nullopt;
  auto hi = producer<MaxOp>(range.getLhs());
  auto lo = producer<MinOp>(range.getRhs());
  if (!hi || !lo || splatOf(hi.getRhs()) != 0.0 || splatOf(lo.getRhs()) != 0.0 ||
      !reducesAll<ReduceMaxOp>(hi.getLhs(), d.x) ||
      !reducesAll<ReduceMinOp>(lo.getLhs(), d.x))
    return std::nullopt;
  // zp = clip(round(0 - min / scale), 0, 255)
  auto zclip = producer<ClipOp>(d.zpf);
  auto zround = zclip ? producer<RoundOp>(zclip.getInput()) : RoundOp();
  auto zsub = zround ? producer<SubOp>(zround.getInput()) : SubOp();
  auto zdiv = zsub ? producer<DivOp>(zsub.getRhs()) : DivOp();
  if (!zdiv || splatOf(zclip.getMin()) != 0.0 ||
      splatOf(zclip.getMax()) != 255.0 || splatOf(zsub.getLhs()) != 0.0 ||
      zdiv.getLhs() != lo.getResult() || zdiv.getRhs() != d.scale)
    return std::nullopt;
  return d;
}

/// ONNX Runtime's dynamically quantized matmul (what its quantize_dynamic
/// writes), as imported:
///   q, s, z = DynamicQuantizeLinear(x)            (spelled out)
///   acc = matmul(cast<i32>(q) - cast<i32>(z), W)  (W [K, N]: cast<i32> of
///                                                  an i8 constant, or an
///                                                  i32 constant of int8
///                                                  values)
///   y = cast<f32>(acc) * (s * ws)                 (ws: f32 constant, one
///                                                  value or one per column)
///   [y = y + bias]                                (bias: f32 constant [N])
/// -> kiln.ukernel "linear_f32"(x, W as i8, ws as [N] f32[, bias]) with
/// flags 64 (int8 weights and scales, packed by kiln-cpu-ukernels) and 128
/// (x quantized per tensor), so it runs on the int8 GEMM with the model's
/// own weights, scales and quantization of x.
struct DynamicQuantMatmulToUkernel final : IsaPattern<MulOp> {
  using IsaPattern::IsaPattern;

  LogicalResult matchAndRewrite(MulOp op,
                                PatternRewriter &rewriter) const override {
    CastOp toF32;
    Value sc;
    for (int i = 0; i < 2 && !toF32; ++i) {
      toF32 = producer<CastOp>(op->getOperand(i));
      sc = op->getOperand(1 - i);
    }
    auto mm = toF32 ? producer<MatmulOp>(toF32.getInput()) : MatmulOp();
    if (!mm || !op.getType().getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "not cast<f32>(matmul) * scale");
    // A = cast<i32>(q) - cast<i32>(cast<ui8>(zp))
    auto sub = producer<SubOp>(mm.getLhs());
    auto qi = sub ? producer<CastOp>(sub.getLhs()) : CastOp();
    auto zi = sub ? producer<CastOp>(sub.getRhs()) : CastOp();
    auto zu = zi ? producer<CastOp>(zi.getInput()) : CastOp();
    if (!qi || !zu)
      return rewriter.notifyMatchFailure(op, "lhs is not q - zp");
    std::optional<DynamicQuant> dq = matchDynamicQuant(qi.getInput());
    if (!dq || zu.getInput() != dq->zpf)
      return rewriter.notifyMatchFailure(op, "lhs is not DynamicQuantizeLinear's");
    // W: an i8 constant cast to i32 (large weights), or an i32 constant of
    // int8 values (small ones, folded)
    auto wt = cast<RankedTensorType>(mm.getRhs().getType());
    if (wt.getRank() != 2 || !wt.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "weight is not a static 2-D tensor");
    int64_t k = wt.getDimSize(0), n = wt.getDimSize(1);
    auto xt = cast<RankedTensorType>(dq->x.getType());
    if (xt.getRank() < 2 || xt.getDimSize(xt.getRank() - 1) != k)
      return rewriter.notifyMatchFailure(op, "x is not [..., K]");
    Value wq;
    SmallVector<int8_t> w8;
    if (auto wc = producer<CastOp>(mm.getRhs())) {
      auto it = cast<RankedTensorType>(wc.getInput().getType());
      if (it.getElementType().isSignlessInteger(8) &&
          matchPattern(wc.getInput(), m_Constant()))
        wq = wc.getInput();
    } else {
      Attribute wa;
      auto wd = matchPattern(mm.getRhs(), m_Constant(&wa))
                    ? dyn_cast<DenseElementsAttr>(wa)
                    : DenseElementsAttr();
      if (wd && wt.getElementType().isInteger(32)) {
        w8.reserve(k * n);
        for (const APInt &v : wd.getValues<APInt>()) {
          int64_t iv = v.getSExtValue();
          if (iv < -128 || iv > 127)
            return rewriter.notifyMatchFailure(op, "weight values exceed int8");
          w8.push_back((int8_t)iv);
        }
      }
    }
    if (!wq && w8.empty())
      return rewriter.notifyMatchFailure(op, "weight is not an int8 constant");
    // scale = s * ws (either order), ws one value or [N] / [1, N]
    auto smul = producer<MulOp>(sc);
    if (!smul)
      return rewriter.notifyMatchFailure(op, "scale is not s * ws");
    Value ws = smul.getLhs() == dq->scale ? smul.getRhs()
               : smul.getRhs() == dq->scale ? smul.getLhs()
                                              : Value();
    std::optional<SmallVector<float>> cs = columnScales(ws, n);
    if (!cs)
      return rewriter.notifyMatchFailure(
          op, "weight scale is not a constant of one value or [N]");
    SmallVector<float> scales = std::move(*cs);
    // A following bias add joins the epilogue.
    Operation *root = op;
    Value bias;
    if (op->hasOneUse()) {
      if (auto add = dyn_cast<AddOp>(*op->user_begin())) {
        Value other = add.getLhs() == op.getResult() ? add.getRhs() : add.getLhs();
        auto bt = cast<RankedTensorType>(other.getType());
        if (matchPattern(other, m_Constant()) && bt.getRank() == 1 &&
            bt.getDimSize(0) == n && bt.getElementType().isF32() &&
            add.getType() == op.getType()) {
          root = add;
          bias = other;
        }
      }
    }
    Location loc = op.getLoc();
    rewriter.setInsertionPoint(root);
    if (!wq)
      wq = ConstantOp::create(
          rewriter, loc,
          DenseElementsAttr::get(
              RankedTensorType::get({k, n}, rewriter.getIntegerType(8)),
              ArrayRef<int8_t>(w8)));
    Value sv = ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(RankedTensorType::get({n}, rewriter.getF32Type()),
                               ArrayRef<float>(scales)));
    int64_t flags = 64 | 128 | (bias ? 2 : 0);
    Value y = linearUkernel(rewriter, loc, dq->x, wq, false, {sv}, bias, Value(),
                            {isaFlag, flags, 0});
    replaceWithCast(rewriter, root, y);
    return success();
  }
};

} // namespace

/// A QuantizeLinear -> DequantizeLinear pair on an f32 activation, per
/// tensor, as the importer spells it out:
///   q = cast<ui8>(clip(round(x / s) [+ z], 0, 255))
///   v = (cast<f32>(q) [- z]) * s
/// with s and z splat constants (z integral in [0, 255]; absent: 0).
std::optional<StaticQuant> mlir::kiln::cpu::matchStaticQuantDequant(Value v) {
  auto mul = producer<MulOp>(v);
  if (!mul)
    return std::nullopt;
  std::optional<double> s = splatOf(mul.getRhs());
  Value deq = mul.getLhs();
  auto sub = producer<SubOp>(deq);
  std::optional<double> z = 0.0;
  if (sub) {
    z = splatOf(sub.getRhs());
    deq = sub.getLhs();
  }
  auto toF32 = producer<CastOp>(deq);
  auto toU8 = toF32 ? producer<CastOp>(toF32.getInput()) : CastOp();
  if (!s || !z || !toU8 ||
      !cast<RankedTensorType>(toU8.getType()).getElementType().isUnsignedInteger(8))
    return std::nullopt;
  auto clip = producer<ClipOp>(toU8.getInput());
  if (!clip || splatOf(clip.getMin()) != 0.0 || splatOf(clip.getMax()) != 255.0)
    return std::nullopt;
  Value r = clip.getInput();
  std::optional<double> zq = 0.0;
  if (auto add = producer<AddOp>(r)) {
    zq = splatOf(add.getRhs());
    r = add.getLhs();
  }
  auto round = producer<RoundOp>(r);
  auto div = round ? producer<DivOp>(round.getInput()) : DivOp();
  if (!div || zq != z || splatOf(div.getRhs()) != s)
    return std::nullopt;
  auto xt = dyn_cast<RankedTensorType>(div.getLhs().getType());
  if (!xt || !xt.getElementType().isF32() || !(*s > 0.0) || !std::isfinite(*s) ||
      *z < 0.0 || *z > 255.0 || *z != std::nearbyint(*z))
    return std::nullopt;
  return StaticQuant{div.getLhs(), static_cast<float>(*s), static_cast<float>(*z)};
}

/// The kiln.constant under reshapes (and, with `casts`, casts) of `v`.
static ConstantOp constantUnder(Value v, bool casts) {
  while (v) {
    if (auto k = producer<ConstantOp>(v))
      return k;
    if (auto r = producer<ReshapeOp>(v))
      v = r.getInput();
    else if (auto c = casts ? producer<CastOp>(v) : CastOp())
      v = c.getInput();
    else
      return ConstantOp();
  }
  return ConstantOp();
}

/// The DequantizeLinear of a constant int8 tensor of rank `rank`, as the
/// importer spells it out: cast<f32>(wq) [- z] * s. Returns wq, s and z
/// (null when there is no subtraction); the callers check z and read s.
struct Int8Dequant {
  Value wq, scale, zp;
};
static std::optional<Int8Dequant> matchInt8Dequant(Value w, int64_t rank) {
  auto mul = producer<MulOp>(w);
  if (!mul || !cast<RankedTensorType>(w.getType()).getElementType().isF32())
    return std::nullopt;
  Int8Dequant d{Value(), mul.getRhs(), Value()};
  Value deq = mul.getLhs();
  if (auto sub = producer<SubOp>(deq)) {
    d.zp = sub.getRhs();
    deq = sub.getLhs();
  }
  auto toF32 = producer<CastOp>(deq);
  if (!toF32)
    return std::nullopt;
  d.wq = toF32.getInput();
  auto wt = cast<RankedTensorType>(d.wq.getType());
  if (wt.getRank() != rank || !wt.hasStaticShape() ||
      !wt.getElementType().isSignlessInteger(8) ||
      !matchPattern(d.wq, m_Constant()))
    return std::nullopt;
  return d;
}

/// cast<f32>(wq) [- z] * s with wq a constant int8 [F, C, KH, KW], z
/// zeros, and s an f32 constant of one value or F ([F] or [F, 1, 1, 1]);
/// z and s possibly reshaped (and z cast) from [F] constants, which
/// kiln-fold-shapes leaves as they are past 256 values.
std::optional<DequantFilter> mlir::kiln::cpu::matchDequantFilter(Value w) {
  std::optional<Int8Dequant> d8 = matchInt8Dequant(w, 4);
  if (!d8)
    return std::nullopt;
  if (d8->zp) {
    std::vector<char> zstorage;
    ConstantOp zk = constantUnder(d8->zp, true);
    std::optional<ArrayRef<char>> zb = zk ? bytesOf(zk, zstorage) : std::nullopt;
    if (!zb || !llvm::all_of(*zb, [](char c) { return c == 0; }))
      return std::nullopt;
  }
  Value wq = d8->wq;
  auto wt = cast<RankedTensorType>(wq.getType());
  int64_t f = wt.getDimSize(0);
  ConstantOp sk = constantUnder(d8->scale, false);
  auto st = sk ? cast<RankedTensorType>(sk.getType()) : RankedTensorType();
  if (!st || !st.getElementType().isF32() || !st.hasStaticShape())
    return std::nullopt;
  int64_t count = st.getNumElements();
  bool perFilter = count == f && (st.getRank() == 1 ||
                                  (st.getRank() == 4 && st.getDimSize(0) == f));
  if (count != 1 && !perFilter)
    return std::nullopt;
  std::vector<char> storage;
  std::optional<ArrayRef<char>> bytes = bytesOf(sk, storage);
  if (!bytes)
    return std::nullopt;
  // the filter's own bytes readable (not an elided resource): the f32
  // fallback dequantizes them
  std::vector<char> wstorage;
  auto wk = wq.getDefiningOp<ConstantOp>();
  if (!wk || !bytesOf(wk, wstorage))
    return std::nullopt;
  DequantFilter d{wq, {}};
  const float *sp = reinterpret_cast<const float *>(bytes->data());
  for (int64_t i = 0; i < f; ++i)
    d.scales.push_back(sp[count == 1 ? 0 : i]);
  return d;
}

Value mlir::kiln::cpu::dequantizedFilter(PatternRewriter &rewriter, Location loc,
                                         const DequantFilter &d, bool integers) {
  auto wt = cast<RankedTensorType>(d.wq.getType());
  std::vector<char> storage;
  std::optional<ArrayRef<char>> bytes =
      bytesOf(d.wq.getDefiningOp<ConstantOp>(), storage);
  if (!bytes)
    return Value();
  int64_t numel = wt.getNumElements(), per = numel / wt.getDimSize(0);
  std::vector<float> out(numel);
  for (int64_t i = 0; i < numel; ++i)
    out[i] = (float)(int8_t)(*bytes)[i] * (integers ? 1.0f : d.scales[i / per]);
  auto type = RankedTensorType::get(wt.getShape(), rewriter.getF32Type());
  if (numel <= kInlineElements)
    return ConstantOp::create(rewriter, loc,
                              cast<ElementsAttr>(DenseElementsAttr::get(
                                  type, ArrayRef<float>(out))));
  auto blob = HeapAsmResourceBlob::allocateAndCopyInferAlign<float>(out);
  return ConstantOp::create(
      rewriter, loc,
      cast<ElementsAttr>(
          DenseResourceElementsAttr::get(type, integers ? "filter_integers" : "dequantized",
                                         std::move(blob))));
}

namespace {

/// A DequantizeLinear of a constant int8 [K, N] weight with zero point 0,
/// per tensor or per column: cast<f32>(wq) [- 0] * ws, ws a splat or N
/// values (shape [N] or [1, N]). Returns wq and the N scales.
struct DequantWeight {
  Value wq;
  SmallVector<float> scales;
};
std::optional<DequantWeight> matchDequantWeight(Value w) {
  std::optional<Int8Dequant> d8 = matchInt8Dequant(w, 2);
  if (!d8 || (d8->zp && splatOf(d8->zp) != 0.0))
    return std::nullopt;
  Value wq = d8->wq;
  int64_t n = cast<RankedTensorType>(wq.getType()).getDimSize(1);
  std::optional<SmallVector<float>> scales = columnScales(d8->scale, n);
  if (!scales)
    return std::nullopt;
  return DequantWeight{wq, std::move(*scales)};
}

/// What follows a QDQ matmul that its epilogue takes: the output's
/// QuantizeLinear -> DequantizeLinear pair, then a bias (a constant [N]),
/// GELU or ReLU, and a residual, each the single user of the value before.
struct QdqEpilogue {
  std::optional<StaticQuant> pair;
  Value bias, residual;
  int64_t act = 0;
  Operation *last = nullptr;           // the op whose result the kernel's replaces
  SmallVector<Operation *> absorbed;   // the ops it replaces, in order
};

/// The single user of `v`, or null.
static Operation *soleUser(Value v) {
  return v.hasOneUse() ? *v.getUsers().begin() : nullptr;
}

static QdqEpilogue matchQdqEpilogue(Value y, int64_t n) {
  QdqEpilogue e;
  Value cur = y;
  auto take = [&](Operation *op) {
    e.absorbed.push_back(op);
    e.last = op;
    cur = op->getResult(0);
  };
  // the pair: div, round, [add], clip, cast, cast, [sub], mul on y alone
  SmallVector<Operation *> chain;
  Value at = y;
  for (int i = 0; i < 8; ++i) {
    Operation *u = soleUser(at);
    if (!u || !isa<DivOp, RoundOp, AddOp, ClipOp, CastOp, SubOp, MulOp>(u) ||
        u->getOperand(0) != at)
      break;
    chain.push_back(u);
    at = u->getResult(0);
    if (isa<MulOp>(u)) {
      std::optional<StaticQuant> q = matchStaticQuantDequant(at);
      if (q && q->x == y) {
        e.pair = q;
        for (Operation *op : chain)
          take(op);
      }
      break;
    }
  }
  auto sameType = [&](Operation *op) {
    return op->getResult(0).getType() == cur.getType();
  };
  auto otherOperand = [&](AddOp add) {
    return add.getLhs() == cur ? add.getRhs() : add.getLhs();
  };
  if (auto add = dyn_cast_or_null<AddOp>(soleUser(cur)); add && sameType(add)) {
    auto k = producer<ConstantOp>(otherOperand(add));
    auto kt = k ? dyn_cast<RankedTensorType>(k.getType()) : RankedTensorType();
    if (kt && kt.getElementType().isF32() && kt.getRank() == 1 &&
        kt.getDimSize(0) == n) {
      e.bias = otherOperand(add);
      take(add);
    }
  }
  Operation *u = soleUser(cur);
  if (auto g = dyn_cast_or_null<GeluOp>(u); g && sameType(g)) {
    e.act = g.getTanhApprox() ? 3 : 2;
    take(g);
  } else if (auto r = dyn_cast_or_null<ReluOp>(u); r && sameType(r)) {
    e.act = 1;
    take(r);
  }
  if (auto add = dyn_cast_or_null<AddOp>(soleUser(cur)); add && sameType(add)) {
    Value r = otherOperand(add);
    if (r != cur && r.getType() == cur.getType() && !producer<ConstantOp>(r)) {
      e.residual = r;
      take(add);
    }
  }
  return e;
}

/// matmul(DQ(Q(x)), DQ(Wq)) of a QDQ model -> kiln.ukernel "linear_f32"(x,
/// Wq, scales) with flags 64 | 128 | 512: x quantized per tensor with the
/// QuantizeLinear's scale and zero point (float_params), products exact in
/// int32, scaled once by s * ws_j. The matmul's own output QDQ pair (flag
/// 8192, its scale and zero point the float_params' third and fourth),
/// then a bias, GELU or ReLU and a residual, each the only user of the
/// value before, are the kernel's epilogue (matchQdqEpilogue): the
/// operations the graph defines, in its order, on the register tile.
struct QdqMatmulToUkernel final : IsaPattern<MatmulOp> {
  using IsaPattern::IsaPattern;

  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getType().getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "not an f32 matmul");
    std::optional<StaticQuant> q = matchStaticQuantDequant(op.getLhs());
    if (!q)
      return rewriter.notifyMatchFailure(
          op, "lhs is not a per-tensor u8 QuantizeLinear -> DequantizeLinear");
    std::optional<DequantWeight> w = matchDequantWeight(op.getRhs());
    if (!w)
      return rewriter.notifyMatchFailure(
          op, "rhs is not a DequantizeLinear of constant int8 [K, N] weights");
    auto wt = cast<RankedTensorType>(w->wq.getType());
    auto xt = cast<RankedTensorType>(q->x.getType());
    int64_t n = wt.getDimSize(1);
    if (xt.getRank() < 2 || xt.getDimSize(xt.getRank() - 1) != wt.getDimSize(0))
      return rewriter.notifyMatchFailure(op, "x is not [..., K]");
    Location loc = op.getLoc();
    QdqEpilogue e = matchQdqEpilogue(op.getResult(), n);
    Operation *last = e.last ? e.last : op.getOperation();
    rewriter.setInsertionPoint(last);
    int64_t flags = 64 | 128 | 512 | (e.bias ? 2 : 0) | (e.residual ? 4 : 0) |
                    (e.pair ? 8192 : 0);
    SmallVector<float> fparams{q->scale, q->zp};
    if (e.pair)
      fparams.append({e.pair->scale, e.pair->zp});
    Value sv = ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(RankedTensorType::get({n}, rewriter.getF32Type()),
                               ArrayRef<float>(w->scales)));
    Value y = linearUkernel(rewriter, loc, q->x, w->wq, false, {sv}, e.bias,
                            e.residual, {isaFlag, flags, e.act}, fparams);
    replaceWithCast(rewriter, last, y);
    for (Operation *dead : llvm::reverse(e.absorbed))
      if (dead != last && dead->use_empty())
        rewriter.eraseOp(dead);
    if (last != op.getOperation() && op->use_empty())
      rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void mlir::kiln::cpu::populateQuantUkernelPatterns(RewritePatternSet &patterns,
                                                   int64_t isaFlag) {
  patterns.add<DynamicQuantMatmulToUkernel, QdqMatmulToUkernel>(
      patterns.getContext(), isaFlag);
}
