//===- CausalMask.cpp - masks built from index arithmetic -----------------===//

#include "passes/CausalMask.h"
#include "passes/PatternUtils.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

constexpr int kMaxDepth = 32;

/// A constant plus multiples of symbolic extents.
struct LinComb {
  int64_t c = 0;
  SmallVector<std::pair<SymDim, int64_t>> terms;

  /// Adds `k` x `d`, a concat's extent along its axis as the sum of its
  /// inputs' extents.
  void add(const SymDim &d, int64_t k, int depth = 0) {
    if (d.isConstant()) {
      c += k * d.index;
      return;
    }
    if (auto cat = d.root.getDefiningOp<ConcatOp>(); cat && depth < kMaxDepth) {
      int64_t axis = cat.getAxis();
      if (axis < 0)
        axis += cast<RankedTensorType>(d.root.getType()).getRank();
      if (axis == d.index) {
        for (Value in : cat.getInputs())
          add(canonicalDim(in, axis), k, depth + 1);
        return;
      }
    }
    for (auto &[s, n] : terms)
      if (s == d) {
        n += k;
        return;
      }
    terms.push_back({d, k});
  }
  void add(const LinComb &o, int64_t k) {
    c += k * o.c;
    for (auto &[s, n] : o.terms)
      add(s, k * n);
  }
  bool isZero() const {
    return c == 0 && llvm::all_of(terms, [](auto &t) { return t.second == 0; });
  }
  bool equals(const LinComb &o) const {
    LinComb d = *this;
    d.add(o, -1);
    return d.isZero();
  }
};

/// An integer tensor as sum over its axes a of coef[a] * index[a] +
/// offset. An axis with a nonzero coefficient has the extent `length[a]`
/// (the Range it comes from), so that broadcasting never repeats it.
struct IndexExpr {
  SmallVector<int64_t> coef;
  SmallVector<LinComb> length;
  LinComb offset;

  static IndexExpr scalar(int64_t rank) {
    IndexExpr e;
    e.coef.assign(rank, 0);
    e.length.assign(rank, LinComb());
    return e;
  }
  int64_t rank() const { return coef.size(); }
  /// Right-aligned to `rank` (leading axes added).
  IndexExpr aligned(int64_t rank) const {
    IndexExpr e = scalar(rank - this->rank());
    e.coef.append(coef);
    e.length.append(length);
    e.offset = offset;
    return e;
  }
};

int64_t rankOf(Value v) { return cast<RankedTensorType>(v.getType()).getRank(); }

bool isInt(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && isa<IntegerType>(t.getElementType()) &&
         !t.getElementType().isInteger(1);
}

/// x + k * y under broadcasting; nullopt when both vary along one axis with
/// different extents.
std::optional<IndexExpr> combine(const IndexExpr &x, const IndexExpr &y,
                                 int64_t k) {
  int64_t rank = std::max(x.rank(), y.rank());
  IndexExpr a = x.aligned(rank), b = y.aligned(rank);
  for (int64_t i = 0; i < rank; ++i) {
    if (b.coef[i] == 0)
      continue;
    if (a.coef[i] != 0 && !a.length[i].equals(b.length[i]))
      return std::nullopt;
    a.coef[i] += k * b.coef[i];
    a.length[i] = b.length[i];
  }
  a.offset.add(b.offset, k);
  return a;
}

/// `in` with unit axes inserted at `axes` (positions in the result);
/// nullopt when they do not add up to `rank`.
std::optional<IndexExpr> unsqueezed(const IndexExpr &in,
                                    ArrayRef<int64_t> axes, int64_t rank) {
  IndexExpr e = IndexExpr::scalar(0);
  int64_t next = 0;
  for (int64_t i = 0; i < rank; ++i) {
    bool inserted = llvm::is_contained(axes, i) ||
                    llvm::is_contained(axes, i - rank);
    if (!inserted && next >= in.rank())
      return std::nullopt;
    e.coef.push_back(inserted ? 0 : in.coef[next]);
    e.length.push_back(inserted ? LinComb() : in.length[next]);
    next += !inserted;
  }
  if (next != in.rank())
    return std::nullopt;
  e.offset = in.offset;
  return e;
}

std::optional<IndexExpr> evalInt(Value v, int depth);

/// A 0-D or one-element integer tensor that is an extent or a constant.
std::optional<IndexExpr> evalExtent(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  if (t.getRank() > 1 || !t.hasStaticShape() || t.getNumElements() != 1)
    return std::nullopt;
  auto entries = traceShape(v);
  if (!entries || entries->size() != 1 || !(*entries)[0])
    return std::nullopt;
  IndexExpr e = IndexExpr::scalar(t.getRank());
  e.offset.add(*(*entries)[0], 1);
  return e;
}

/// A scalar (no axis varies) integer.
std::optional<LinComb> evalScalar(Value v, int depth) {
  auto e = evalInt(v, depth + 1);
  if (!e || llvm::any_of(e->coef, [](int64_t c) { return c != 0; }))
    return std::nullopt;
  return e->offset;
}

std::optional<IndexExpr> evalInt(Value v, int depth) {
  if (!isInt(v) || depth > kMaxDepth)
    return std::nullopt;
  if (auto e = evalExtent(v))
    return e;
  Operation *op = v.getDefiningOp();
  if (!op)
    return std::nullopt;
  int64_t rank = rankOf(v);
  auto rec = [&](Value x) { return evalInt(x, depth + 1); };
  return llvm::TypeSwitch<Operation *, std::optional<IndexExpr>>(op)
      .Case([&](ConstantOp c) -> std::optional<IndexExpr> {
        auto attr = dyn_cast<DenseIntElementsAttr>(c.getValue());
        if (!attr || !attr.isSplat())
          return std::nullopt;
        IndexExpr e = IndexExpr::scalar(rank);
        e.offset.c = attr.getSplatValue<APInt>().getSExtValue();
        return e;
      })
      .Case([&](RangeOp r) -> std::optional<IndexExpr> {
        auto start = evalScalar(r.getStart(), depth);
        auto limit = evalScalar(r.getLimit(), depth);
        auto delta = evalScalar(r.getDelta(), depth);
        if (!start || !limit || !delta || !delta->terms.empty() ||
            delta->c != 1)
          return std::nullopt;
        IndexExpr e = IndexExpr::scalar(1);
        e.coef[0] = 1;
        e.length[0] = *limit;
        e.length[0].add(*start, -1);
        e.offset = *start;
        return e;
      })
      .Case([&](AddOp a) -> std::optional<IndexExpr> {
        auto x = rec(a.getLhs()), y = rec(a.getRhs());
        return x && y ? combine(*x, *y, 1) : std::nullopt;
      })
      .Case([&](SubOp s) -> std::optional<IndexExpr> {
        auto x = rec(s.getLhs()), y = rec(s.getRhs());
        return x && y ? combine(*x, *y, -1) : std::nullopt;
      })
      .Case([&](MulOp m) -> std::optional<IndexExpr> {
        for (auto [x, y] : {std::pair(m.getLhs(), m.getRhs()),
                            std::pair(m.getRhs(), m.getLhs())}) {
          auto k = getConstantIntValues(y);
          if (!k || k->size() != 1 || rankOf(y) > rankOf(x))
            continue;
          auto e = rec(x);
          if (!e)
            return std::nullopt;
          IndexExpr out = IndexExpr::scalar(e->rank());
          return combine(out, *e, (*k)[0]);
        }
        return std::nullopt;
      })
      .Case<CastOp, IdentityOp>([&](Operation *o) { return rec(o->getOperand(0)); })
      .Case([&](UnsqueezeOp u) -> std::optional<IndexExpr> {
        auto in = rec(u.getInput());
        return in ? unsqueezed(*in, u.getAxes(), rank) : std::nullopt;
      })
      .Case([&](ExpandOp ex) -> std::optional<IndexExpr> {
        auto in = rec(ex.getInput());
        return in ? std::optional(in->aligned(rank)) : std::nullopt;
      })
      .Case<ReshapeOp, SqueezeOp>([&](Operation *o) -> std::optional<IndexExpr> {
        // Moves at most one varying axis; every other axis, before and
        // after, statically 1.
        Value input = o->getOperand(0);
        auto in = rec(input);
        if (!in)
          return std::nullopt;
        auto inType = cast<RankedTensorType>(input.getType());
        auto outType = cast<RankedTensorType>(v.getType());
        SmallVector<int64_t> from, to;
        for (int64_t i = 0; i < inType.getRank(); ++i)
          if (inType.getDimSize(i) != 1)
            from.push_back(i);
        for (int64_t i = 0; i < rank; ++i)
          if (outType.getDimSize(i) != 1)
            to.push_back(i);
        IndexExpr e = IndexExpr::scalar(rank);
        e.offset = in->offset;
        if (from.empty() && to.empty())
          return e;
        if (from.size() != 1 || to.size() != 1)
          return std::nullopt;
        e.coef[to[0]] = in->coef[from[0]];
        e.length[to[0]] = in->length[from[0]];
        return e;
      })
      .Default([](Operation *) { return std::nullopt; });
}

/// A boolean tensor as "E <= 0" (E integer, same axes as the tensor).
std::optional<IndexExpr> evalCondition(Value v, int depth = 0) {
  Operation *op = v.getDefiningOp();
  if (!op || depth > kMaxDepth)
    return std::nullopt;
  // lhs - rhs + bias <= 0, or the negation.
  auto compare = [&](Value lhs, Value rhs, int64_t sign,
                     int64_t bias) -> std::optional<IndexExpr> {
    auto x = evalInt(lhs, depth + 1), y = evalInt(rhs, depth + 1);
    if (!x || !y)
      return std::nullopt;
    auto d = combine(*x, *y, -1);
    if (!d)
      return std::nullopt;
    IndexExpr e = IndexExpr::scalar(d->rank());
    auto out = combine(e, *d, sign);
    if (out)
      out->offset.c += bias;
    return out;
  };
  return llvm::TypeSwitch<Operation *, std::optional<IndexExpr>>(op)
      .Case([&](LessOp o) { return compare(o.getLhs(), o.getRhs(), 1, 1); })
      .Case([&](LessEqualOp o) { return compare(o.getLhs(), o.getRhs(), 1, 0); })
      .Case([&](GreaterOp o) { return compare(o.getLhs(), o.getRhs(), -1, 1); })
      .Case([&](GreaterEqualOp o) {
        return compare(o.getLhs(), o.getRhs(), -1, 0);
      })
      .Case([&](NotOp n) -> std::optional<IndexExpr> {
        // not (E <= 0)  <=>  E >= 1  <=>  1 - E <= 0 (integers)
        auto e = evalCondition(n.getInput(), depth + 1);
        if (!e)
          return std::nullopt;
        auto out = combine(IndexExpr::scalar(e->rank()), *e, -1);
        if (out)
          out->offset.c += 1;
        return out;
      })
      .Case([&](UnsqueezeOp u) -> std::optional<IndexExpr> {
        auto e = evalCondition(u.getInput(), depth + 1);
        return e ? unsqueezed(*e, u.getAxes(), rankOf(u)) : std::nullopt;
      })
      .Case([&](ExpandOp ex) -> std::optional<IndexExpr> {
        auto e = evalCondition(ex.getInput(), depth + 1);
        return e ? std::optional(e->aligned(rankOf(ex))) : std::nullopt;
      })
      .Default([](Operation *) { return std::nullopt; });
}

/// The value of a float tensor whose elements are all one constant: a
/// splat constant or constant_of_shape, through unsqueeze/expand/cast.
std::optional<double> splatValue(Value v) {
  for (int depth = 0; depth < kMaxDepth; ++depth) {
    if (auto s = scalarValue(v))
      return s;
    Operation *op = v.getDefiningOp();
    if (auto cos = dyn_cast_or_null<ConstantOfShapeOp>(op)) {
      auto attr = dyn_cast<DenseFPElementsAttr>(cos.getValue());
      if (!attr || !attr.isSplat())
        return std::nullopt;
      return attr.getSplatValue<APFloat>().convertToDouble();
    }
    if (!isa_and_nonnull<UnsqueezeOp, ExpandOp, CastOp, IdentityOp>(op))
      return std::nullopt;
    v = op->getOperand(0);
  }
  return std::nullopt;
}

} // namespace

bool mlir::kiln::isCausalCondition(Value cond, bool keepWhenTrue,
                                   const SymDim &sq, const SymDim &sk) {
  auto e = evalCondition(cond);
  if (!e || e->rank() < 2)
    return false;
  if (!keepWhenTrue) {
    // keep where not (E <= 0): 1 - E <= 0
    e = combine(IndexExpr::scalar(e->rank()), *e, -1);
    if (!e)
      return false;
    e->offset.c += 1;
  }
  // keep <=> k (j - i + Sq - Sk) <= 0, k > 0, nothing on the other axes.
  int64_t r = e->rank(), k = e->coef[r - 1];
  if (k <= 0 || e->coef[r - 2] != -k)
    return false;
  for (int64_t i = 0; i + 2 < r; ++i)
    if (e->coef[i] != 0)
      return false;
  LinComb lenQ, lenK, off;
  lenQ.add(sq, 1);
  lenK.add(sk, 1);
  off.add(sq, k);
  off.add(sk, -k);
  return e->length[r - 2].equals(lenQ) && e->length[r - 1].equals(lenK) &&
         e->offset.equals(off);
}

bool mlir::kiln::isCausalAdditiveMask(Value mask, const SymDim &sq,
                                      const SymDim &sk) {
  for (int depth = 0; depth < kMaxDepth; ++depth) {
    Operation *op = mask.getDefiningOp();
    if (auto w = dyn_cast_or_null<WhereOp>(op)) {
      auto x = splatValue(w.getX()), y = splatValue(w.getY());
      if (!x || !y)
        return false;
      if (*x == 0.0 && excludesKeys(*y))
        return isCausalCondition(w.getCondition(), true, sq, sk);
      if (excludesKeys(*x) && *y == 0.0)
        return isCausalCondition(w.getCondition(), false, sq, sk);
      return false;
    }
    // Unit axes inserted before the last two, broadcasts and casts keep
    // the values of the last two axes.
    if (auto u = dyn_cast_or_null<UnsqueezeOp>(op)) {
      int64_t rank = rankOf(u.getResult());
      for (int64_t a : u.getAxes())
        if ((a < 0 ? a + rank : a) >= rank - 2)
          return false;
    } else if (!isa_and_nonnull<ExpandOp, CastOp, IdentityOp>(op)) {
      return false;
    }
    mask = op->getOperand(0);
  }
  return false;
}
