//===- FuseAttention.cpp - the kiln-fuse-attention pass -------------------===//
//
// softmax(scale * Q.K^T [+ mask | where(mask, ., fill)]) . V into
// kiln.attention, absorbing the K transpose, constant scales on the scores,
// Q or K, the head repeat of grouped-query attention, and a causal mask
// (sliced from a constant lower-triangular buffer, GPT-2's `bias`, or built
// from index arithmetic, CausalMask.h) as the causal flag. Einsums that are
// batched matmuls become kiln.matmul first.
//
//===----------------------------------------------------------------------===//

#include "passes/CausalMask.h"
#include "passes/Passes.h"
#include "passes/PatternReport.h"
#include "passes/PatternUtils.h"
#include "passes/ShapeTrace.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/SmallSet.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNFUSEATTENTION
#include "passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

int64_t rankOf(Value v) { return cast<RankedTensorType>(v.getType()).getRank(); }

/// Strips `x * c`, `c * x` and `x / c` (c a constant scalar, x of the
/// result's type) off `v`, multiplying `scale`; the stripped ops go to
/// `chain`. Only single-use ops are stripped unless `v` itself is the root.
Value peelScale(Value v, double &scale, SmallVectorImpl<Operation *> &chain) {
  while (Operation *op = v.getDefiningOp()) {
    Value x;
    std::optional<double> c;
    if (auto mul = dyn_cast<MulOp>(op)) {
      if ((c = scalarValue(mul.getRhs())))
        x = mul.getLhs();
      else if ((c = scalarValue(mul.getLhs())))
        x = mul.getRhs();
    } else if (auto div = dyn_cast<DivOp>(op)) {
      if ((c = scalarValue(div.getRhs())) && *c != 0.0) {
        x = div.getLhs();
        c = 1.0 / *c;
      }
    }
    if (!x || x.getType() != v.getType() || !op->hasOneUse())
      return v;
    scale *= *c;
    chain.push_back(op);
    v = x;
  }
  return v;
}

/// True when `perm` swaps the last two dims and keeps the others.
bool swapsLastTwo(ArrayRef<int64_t> perm) {
  int64_t r = perm.size();
  for (int64_t i = 0; i < r; ++i)
    if (perm[i] != (i == r - 2 ? r - 1 : i == r - 1 ? r - 2 : i))
      return false;
  return r >= 2;
}

/// `v` = reshape(expand(unsqueeze(x, [r-2]), [..., Hkv, rep, S, D]),
/// [..., Hkv*rep, S, D]), each key/value head repeated `rep` times in place
/// (repeat_interleave, as exports of grouped-query attention do): returns x
/// and sets `rep`; otherwise returns `v` with `rep` 1.
Value unwrapHeadRepeat(Value v, int64_t &rep) {
  rep = 1;
  auto rs = v.getDefiningOp<ReshapeOp>();
  auto ex = rs ? rs.getInput().getDefiningOp<ExpandOp>() : ExpandOp();
  auto un = ex ? ex.getInput().getDefiningOp<UnsqueezeOp>() : UnsqueezeOp();
  if (!un)
    return v;
  Value x = un.getInput();
  int64_t r = rankOf(x);
  auto vt = cast<RankedTensorType>(v.getType());
  auto xt = cast<RankedTensorType>(x.getType());
  auto et = cast<RankedTensorType>(ex.getType());
  if (r < 3 || vt.getRank() != r || un.getAxes().size() != 1 ||
      un.getAxes()[0] != r - 2 || et.getRank() != r + 1)
    return v;
  int64_t n = et.getDimSize(r - 2), hkv = xt.getDimSize(r - 3);
  if (ShapedType::isDynamic(n) || ShapedType::isDynamic(hkv) || n < 1 ||
      vt.getDimSize(r - 3) != hkv * n)
    return v;
  // Every other extent is kept by the expand and by the reshape.
  for (int64_t i = 0; i <= r; ++i) {
    if (i == r - 2)
      continue;
    if (!(canonicalDim(ex, i) == canonicalDim(un, i)))
      return v;
  }
  for (int64_t i = 0; i < r; ++i) {
    if (i == r - 3)
      continue;
    if (!(canonicalDim(v, i) == canonicalDim(x, i)))
      return v;
  }
  rep = n;
  return x;
}

/// The scores operand of a mask op: the side that reaches a matmul through
/// constant scales.
bool reachesMatmul(Value v) {
  double s = 1;
  SmallVector<Operation *> chain;
  return peelScale(v, s, chain).getDefiningOp<MatmulOp>() != nullptr;
}

/// The constant 1-D i64 entries of `v`.
std::optional<SmallVector<int64_t>> constInts(Value v) {
  DenseIntElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  return llvm::to_vector(llvm::map_range(
      attr.getValues<APInt>(), [](const APInt &x) { return x.getSExtValue(); }));
}

/// Whether the 0-D or 1-D integer `v` is the one extent `d`.
bool isExtent(Value v, const SymDim &d) {
  auto entries = traceShape(v);
  return entries && entries->size() == 1 && (*entries)[0] && *(*entries)[0] == d;
}

/// Whether `mask` (bool, true = keep) is a causal mask aligned to the last
/// key: a constant lower-triangular [.., N, N] (c <= r) sliced to rows
/// [Sk - Sq, Sk) and columns [0, Sk), with Sq and Sk the extents `sq` and
/// `sk` (GPT-2's `bias[:, :, k_len - q_len : k_len, :k_len]`). Its rows are
/// then j <= i + Sk - Sq: kiln.attention's causal exclusion. (Valid while
/// Sq <= Sk <= N; beyond, the sliced mask would not match the scores and
/// the original model fails, or a start below zero counts from the end.)
bool isSlicedTril(Value mask, const SymDim &sq, const SymDim &sk) {
  auto type = cast<RankedTensorType>(mask.getType());
  int64_t rank = type.getRank();
  if (!type.getElementType().isInteger(1) || rank < 2)
    return false;
  // Up to two slices: axis -> (start, end).
  llvm::SmallDenseMap<int64_t, std::pair<Value, Value>> ranges;
  Value v = mask;
  for (int n = 0; n < 2; ++n) {
    auto slice = v.getDefiningOp<SliceOp>();
    if (!slice)
      break;
    auto axes = constInts(slice.getAxes());
    auto steps = constInts(slice.getSteps());
    if (!axes || !steps || axes->size() != steps->size())
      return false;
    for (auto [i, a] : llvm::enumerate(*axes)) {
      int64_t axis = a < 0 ? a + rank : a;
      if ((*steps)[i] != 1 || (axis != rank - 1 && axis != rank - 2) ||
          ranges.count(axis))
        return false;
      if (axes->size() != 1)
        return false; // one axis per slice (the exporters' form)
      ranges[axis] = {slice.getStarts(), slice.getEnds()};
    }
    v = slice.getInput();
  }
  if (!ranges.count(rank - 1) || !ranges.count(rank - 2))
    return false;
  DenseElementsAttr tril;
  auto ct = dyn_cast<RankedTensorType>(v.getType());
  if (!matchPattern(v, m_Constant(&tril)) || !ct || ct.getRank() != rank ||
      !ct.hasStaticShape() || ct.getDimSize(rank - 1) != ct.getDimSize(rank - 2))
    return false;
  int64_t n = ct.getDimSize(rank - 1);
  if (tril.getNumElements() != n * n && !tril.isSplat())
    return false;
  auto bits = llvm::to_vector(tril.getValues<bool>());
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < n; ++c)
      if (bits[tril.isSplat() ? 0 : r * n + c] != (c <= r))
        return false;
  // Columns [0, Sk); rows [Sk - Sq, Sk).
  auto [colStart, colEnd] = ranges[rank - 1];
  auto [rowStart, rowEnd] = ranges[rank - 2];
  auto zero = constInts(colStart);
  if (!zero || zero->size() != 1 || (*zero)[0] != 0 || !isExtent(colEnd, sk) ||
      !isExtent(rowEnd, sk))
    return false;
  Value start = rowStart;
  while (auto u = start.getDefiningOp<UnsqueezeOp>())
    start = u.getInput();
  auto sub = start.getDefiningOp<SubOp>();
  return sub && isExtent(sub.getLhs(), sk) && isExtent(sub.getRhs(), sq);
}

struct FuseAttention final : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp pv,
                                PatternRewriter &rewriter) const override {
    auto sm = pv.getLhs().getDefiningOp<SoftmaxOp>();
    if (!sm)
      return rewriter.notifyMatchFailure(pv, "lhs is not a softmax");
    int64_t rank = sm.getType().getRank();
    int64_t axis = (int64_t)sm.getAxis();
    if (rank < 3 || (axis != -1 && axis != rank - 1))
      return rewriter.notifyMatchFailure(pv, "softmax is not over the last dim");
    SmallVector<Operation *> chain{sm};
    Value x = sm.getInput(), mask;
    std::optional<double> fill;
    bool invertMask = false;
    if (auto add = x.getDefiningOp<AddOp>()) {
      for (Value s : {add.getLhs(), add.getRhs()}) {
        if (s.getType() == add.getType() && reachesMatmul(s)) {
          mask = otherOperand(add, s);
          x = s;
          chain.push_back(add);
          break;
        }
      }
    } else if (auto w = x.getDefiningOp<WhereOp>()) {
      if (w.getX().getType() == w.getType() && reachesMatmul(w.getX())) {
        fill = scalarValue(w.getY());
        x = w.getX();
      } else if (w.getY().getType() == w.getType() && reachesMatmul(w.getY())) {
        fill = scalarValue(w.getX());
        x = w.getY();
        invertMask = true;
      }
      if (!fill)
        return rewriter.notifyMatchFailure(pv, "where fill is not a constant");
      mask = w.getCondition();
      chain.push_back(w);
    }
    double scale = 1.0;
    x = peelScale(x, scale, chain);
    auto qk = x.getDefiningOp<MatmulOp>();
    if (!qk)
      return rewriter.notifyMatchFailure(pv, "scores are not a matmul");
    chain.push_back(qk);
    Value q = peelScale(qk.getLhs(), scale, chain);
    Value kt = peelScale(qk.getRhs(), scale, chain);
    for (Operation *op : chain)
      if (!op->hasOneUse())
        return rewriter.notifyMatchFailure(pv, "an intermediate has other uses");
    if (rankOf(q) != rank || rankOf(kt) != rank || rankOf(pv.getRhs()) != rank)
      return rewriter.notifyMatchFailure(pv, "operand ranks differ");
    auto elt = cast<RankedTensorType>(q.getType()).getElementType();
    if (!isa<FloatType>(elt))
      return rewriter.notifyMatchFailure(pv, "not a float attention");

    // Decide everything from types before creating any op.
    auto tr = kt.getDefiningOp<TransposeOp>();
    bool haveKey = tr && swapsLastTwo(tr.getPerm());
    auto ktType = cast<RankedTensorType>(kt.getType());
    SmallVector<int64_t> keyShape(ktType.getShape());
    std::swap(keyShape[rank - 1], keyShape[rank - 2]);
    Value keyVal = haveKey ? tr.getInput() : Value();
    int64_t repK = 1, repV = 1;
    Value keyBase = keyVal ? unwrapHeadRepeat(keyVal, repK) : Value();
    Value valBase = unwrapHeadRepeat(pv.getRhs(), repV);
    if (!keyVal || repK != repV) {
      keyBase = keyVal;
      valBase = pv.getRhs();
    }
    auto keyType = keyBase ? cast<RankedTensorType>(keyBase.getType())
                           : RankedTensorType::get(keyShape, elt);
    SmallVector<Type> inferred;
    if (failed(inferAttention(
            AttentionOp::getOperationName(), std::nullopt,
            cast<RankedTensorType>(q.getType()), keyType,
            cast<RankedTensorType>(valBase.getType()),
            mask ? cast<RankedTensorType>(mask.getType()) : RankedTensorType(),
            inferred)) ||
        !areCompatibleTensorTypes(inferred, TypeRange{pv.getType()}))
      return rewriter.notifyMatchFailure(
          pv, "operands do not form an attention (shapes or mask)");

    rewriter.setInsertionPoint(pv);
    Location loc = pv.getLoc();
    if (!keyBase) {
      SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, rank));
      std::swap(perm[rank - 1], perm[rank - 2]);
      keyBase = TransposeOp::create(rewriter, loc, kt, perm);
    }
    // A causal mask is the causal flag: a sliced lower-triangular constant
    // (GPT-2), or one built from index arithmetic (CausalMask.h), written
    // over the scores with a fill that removes them from the softmax or
    // added to them.
    SymDim sq = canonicalDim(q, rank - 2), sk = canonicalDim(kt, rank - 1);
    bool causal = false;
    if (mask && fill)
      causal = excludesKeys(*fill) &&
               ((!invertMask && isSlicedTril(mask, sq, sk)) ||
                isCausalCondition(mask, !invertMask, sq, sk));
    else if (mask)
      causal = isCausalAdditiveMask(mask, sq, sk);
    if (causal) {
      mask = Value();
      fill.reset();
    }
    SmallVector<Value> operands{q, keyBase, valBase};
    if (mask) {
      if (invertMask)
        mask = NotOp::create(rewriter, loc, mask);
      operands.push_back(mask);
    }
    auto op = AttentionOp::create(
        rewriter, loc, TypeRange{pv.getType()}, operands,
        {rewriter.getNamedAttr("scale", rewriter.getF32FloatAttr(scale))});
    if (fill)
      op.setMaskFillAttr(rewriter.getF32FloatAttr(*fill));
    if (causal)
      op.setCausal(true);
    rewriter.replaceOp(pv, op.getResult());
    return success();
  }
};

/// Two-operand einsums that are batched matmuls, "P i d, P j d -> P i j"
/// and "P i j, P j d -> P i d" (P the same batch letters, in the same
/// order, in all three terms; no ellipsis, no repeated letter), as
/// kiln.matmul, with the second operand's last two dims transposed in the
/// first form: attention written with einsum (torchvision's MaxViT) then
/// fuses like attention written with matmul, and either product runs on the
/// matmul kernels instead of the generic contraction.
struct EinsumToMatmul final : OpRewritePattern<EinsumOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(EinsumOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getInputs().size() != 2)
      return rewriter.notifyMatchFailure(op, "not two operands");
    std::string eq;
    for (char c : op.getEquation())
      if (c != ' ')
        eq += c;
    size_t comma = eq.find(','), arrow = eq.find("->");
    if (comma == std::string::npos || arrow == std::string::npos || comma > arrow ||
        eq.find('.') != std::string::npos)
      return rewriter.notifyMatchFailure(op, "not 'a, b -> out' without ellipsis");
    std::string a = eq.substr(0, comma), b = eq.substr(comma + 1, arrow - comma - 1),
                o = eq.substr(arrow + 2);
    size_t r = a.size();
    if (r < 2 || b.size() != r || o.size() != r ||
        b.compare(0, r - 2, a, 0, r - 2) != 0 || o.compare(0, r - 2, a, 0, r - 2) != 0)
      return rewriter.notifyMatchFailure(op, "terms do not share a batch prefix");
    llvm::SmallSet<char, 8> letters;
    for (char c : a.substr(0, r - 2))
      if (!letters.insert(c).second)
        return rewriter.notifyMatchFailure(op, "a repeated batch letter");
    char i = a[r - 2], k = a[r - 1], b0 = b[r - 2], b1 = b[r - 1];
    bool distinct = i != k && !letters.contains(i) && !letters.contains(k);
    // P i k, P j k -> P i j: A . B^T; P i k, P k j -> ... is the second form
    bool transposed = distinct && b1 == k && b0 != i && b0 != k &&
                      !letters.contains(b0) && o[r - 2] == i && o[r - 1] == b0;
    bool plain = distinct && b0 == k && b1 != i && b1 != k && !letters.contains(b1) &&
                 o[r - 2] == i && o[r - 1] == b1;
    if (!transposed && !plain)
      return rewriter.notifyMatchFailure(op, "not a batched matmul");
    Value lhs = op.getInputs()[0], rhs = op.getInputs()[1];
    if (rankOf(lhs) != (int64_t)r || rankOf(rhs) != (int64_t)r)
      return rewriter.notifyMatchFailure(op, "operand ranks differ from the equation");
    Location loc = op.getLoc();
    if (transposed) {
      SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, r));
      std::swap(perm[r - 1], perm[r - 2]);
      rhs = TransposeOp::create(rewriter, loc, rhs, perm);
    }
    rewriter.replaceOpWithNewOp<MatmulOp>(op, TypeRange{op.getType()}, lhs, rhs);
    return success();
  }
};

struct KilnFuseAttention final
    : mlir::kiln::impl::KilnFuseAttentionBase<KilnFuseAttention> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAttention, EinsumToMatmul>(&getContext());
    if (failed(applyAndRecord(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
