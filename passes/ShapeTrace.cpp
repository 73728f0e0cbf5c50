//===- ShapeTrace.cpp - symbolic extents of kiln values -------------------===//

#include "passes/ShapeTrace.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::kiln;

namespace {

constexpr int kMaxDepth = 48;

SymDim canon(Value x, int64_t d, int depth);
SymDim inferredDim(ReshapeOp r, int64_t d, int depth);
std::optional<SmallVector<std::optional<SymDim>>> trace(Value shape,
                                                        int depth);

/// The extent of broadcast result dim `d` (rank `rank`) from `operands`: the
/// first operand whose aligned extent is not statically 1 (a dynamic extent
/// that is 1 at run time is not broadcast by the lowering either).
SymDim broadcastDim(ValueRange operands, int64_t rank, int64_t d, Value x,
                    int depth) {
  for (Value v : operands) {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    if (!t)
      return {x, d};
    int64_t id = d - (rank - t.getRank());
    if (id < 0 || t.getDimSize(id) == 1)
      continue;
    return canon(v, id, depth + 1);
  }
  return SymDim::constant(1);
}

/// Result dim `d` of a reshape/expand whose shape entry is `e`.
std::optional<SymDim> entry(Value shape, int64_t d, int depth) {
  auto entries = trace(shape, depth + 1);
  if (!entries || d >= (int64_t)entries->size())
    return std::nullopt;
  return (*entries)[d]; // itself nullopt when unknown
}

/// The `-1` entry `d` of reshape `r`: the input's extents divided by the
/// other entries', when that leaves exactly one symbolic extent.
SymDim inferredDim(ReshapeOp r, int64_t d, int depth) {
  SymDim self{r.getResult(), d};
  auto entries = trace(r.getShape(), depth + 1);
  auto in = cast<RankedTensorType>(r.getInput().getType());
  if (!entries || r.getAllowzero())
    return self;
  int64_t inConst = 1, outConst = 1;
  SmallVector<SymDim> syms;
  for (int64_t i = 0; i < in.getRank(); ++i) {
    SymDim s = canon(r.getInput(), i, depth + 1);
    if (s.isConstant())
      inConst *= s.index;
    else
      syms.push_back(s);
  }
  for (auto [i, e] : llvm::enumerate(*entries)) {
    if ((int64_t)i == d)
      continue;
    if (!e)
      return self;
    SymDim s = *e;
    if (s.isConstant() && s.index == 0) // copy
      s = canon(r.getInput(), i, depth + 1);
    if (s.isConstant()) {
      if (s.index <= 0)
        return self;
      outConst *= s.index;
      continue;
    }
    auto it = llvm::find(syms, s);
    if (it == syms.end())
      return self;
    syms.erase(it);
  }
  if (syms.size() == 1 && inConst == outConst)
    return syms[0];
  if (syms.empty() && outConst > 0 && inConst % outConst == 0)
    return SymDim::constant(inConst / outConst);
  return self;
}

/// Dim `d` of a model input: the first input dim with the same name
/// (`kiln.dims`), since the runtime refuses inputs whose same-named dims
/// differ; else itself.
SymDim namedDim(BlockArgument arg, int64_t d) {
  SymDim self{arg, d};
  auto fn = dyn_cast_or_null<func::FuncOp>(arg.getOwner()->getParentOp());
  if (!fn || arg.getOwner() != &fn.getBody().front())
    return self;
  auto nameOf = [&](unsigned i, int64_t j) -> StringRef {
    auto names = fn.getArgAttrOfType<ArrayAttr>(i, "kiln.dims");
    auto t = dyn_cast<RankedTensorType>(fn.getArgument(i).getType());
    if (!names || !t || j >= (int64_t)names.size() || !t.isDynamicDim(j))
      return {};
    auto s = dyn_cast<StringAttr>(names[j]);
    return s ? s.getValue() : StringRef();
  };
  StringRef name = nameOf(arg.getArgNumber(), d);
  if (name.empty())
    return self;
  for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
    auto t = dyn_cast<RankedTensorType>(fn.getArgument(i).getType());
    for (int64_t j = 0; t && j < t.getRank(); ++j)
      if (nameOf(i, j) == name)
        return {fn.getArgument(i), j};
  }
  return self;
}

SymDim canon(Value x, int64_t d, int depth) {
  auto t = cast<RankedTensorType>(x.getType());
  if (!t.isDynamicDim(d))
    return SymDim::constant(t.getDimSize(d));
  Operation *op = x.getDefiningOp();
  SymDim self{x, d};
  if (auto arg = dyn_cast<BlockArgument>(x))
    return namedDim(arg, d);
  if (!op || depth > kMaxDepth)
    return self;
  if (op->hasTrait<OpTrait::KilnBroadcasting>())
    return broadcastDim(op->getOperands(), t.getRank(), d, x, depth);
  auto rec = [&](Value y, int64_t e) { return canon(y, e, depth + 1); };
  return llvm::TypeSwitch<Operation *, SymDim>(op)
      .Case([&](UnsqueezeOp u) {
        int64_t in = d;
        for (int64_t a : u.getAxes())
          if ((a < 0 ? a + t.getRank() : a) < d)
            --in;
        return rec(u.getInput(), in);
      })
      .Case([&](SqueezeOp s) {
        auto it = cast<RankedTensorType>(s.getInput().getType());
        SmallVector<int64_t> kept;
        for (int64_t i = 0; i < it.getRank(); ++i)
          if (!llvm::is_contained(s.getAxes(), i) &&
              !llvm::is_contained(s.getAxes(), i - it.getRank()))
            kept.push_back(i);
        return d < (int64_t)kept.size() ? rec(s.getInput(), kept[d]) : self;
      })
      .Case([&](TransposeOp tr) { return rec(tr.getInput(), tr.getPerm()[d]); })
      .Case([&](ReshapeOp r) {
        auto e = entry(r.getShape(), d, depth);
        if (!e)
          return self;
        if (e->isConstant() && e->index == 0 && !r.getAllowzero())
          return rec(r.getInput(), d);
        if (e->isConstant() && e->index < 0)
          return inferredDim(r, d, depth);
        return *e;
      })
      .Case([&](ExpandOp ex) {
        auto it = cast<RankedTensorType>(ex.getInput().getType());
        int64_t id = d - (t.getRank() - it.getRank());
        auto e = entry(ex.getShape(), d, depth);
        if (id < 0)
          return e ? *e : self;
        SymDim in = rec(ex.getInput(), id);
        if (!e)
          return in.isConstant() && in.index != 1 ? in : self;
        if (e->isConstant() && e->index == 1)
          return in;
        if (in.isConstant() && in.index == 1)
          return *e;
        if (in == *e || (in.isConstant() && in.index != 1))
          return in;
        return self;
      })
      .Case([&](MatmulOp m) {
        auto lt = cast<RankedTensorType>(m.getLhs().getType());
        auto rt = cast<RankedTensorType>(m.getRhs().getType());
        int64_t r = t.getRank();
        if (rt.getRank() >= 2 && d == r - 1)
          return rec(m.getRhs(), rt.getRank() - 1);
        if (lt.getRank() >= 2 && d == r - (rt.getRank() >= 2 ? 2 : 1))
          return rec(m.getLhs(), lt.getRank() - 2);
        return self;
      })
      .Case([&](ConcatOp c) {
        int64_t axis = (int64_t)c.getAxis();
        if (axis < 0)
          axis += t.getRank();
        return d == axis ? self : rec(c.getInputs()[0], d);
      })
      .Case([&](GatherOp g) {
        // [data dims before axis, index dims, data dims after axis]
        auto it = cast<RankedTensorType>(g.getIndices().getType());
        int64_t axis = g.getAxis();
        if (axis < 0)
          axis += cast<RankedTensorType>(g.getInput().getType()).getRank();
        if (d < axis)
          return rec(g.getInput(), d);
        if (d < axis + it.getRank())
          return rec(g.getIndices(), d - axis);
        return rec(g.getInput(), d - it.getRank() + 1);
      })
      .Case<SoftmaxOp, LogSoftmaxOp, LayerNormOp, RmsNormOp, AttentionOp,
            RotaryEmbeddingOp>(
          [&](Operation *o) {
            if (isa<AttentionOp>(o) && d == t.getRank() - 1)
              return rec(o->getOperand(2), d);
            return rec(o->getOperand(0), d);
          })
      .Default([&](Operation *) { return self; });
}

std::optional<SmallVector<std::optional<SymDim>>> trace(Value shape,
                                                        int depth) {
  using Entries = SmallVector<std::optional<SymDim>>;
  auto t = dyn_cast<RankedTensorType>(shape.getType());
  if (!t || t.getRank() > 1 || !t.hasStaticShape() ||
      !isa<IntegerType>(t.getElementType()) || depth > kMaxDepth)
    return std::nullopt;
  int64_t n = t.getNumElements();
  if (auto vals = getConstantIntValues(shape)) {
    Entries out;
    for (int64_t v : *vals)
      out.push_back(SymDim::constant(v));
    return out;
  }
  Operation *op = shape.getDefiningOp();
  if (!op)
    return Entries(n, std::nullopt);
  auto rec = [&](Value v) { return trace(v, depth + 1); };
  std::optional<Entries> res =
      llvm::TypeSwitch<Operation *, std::optional<Entries>>(op)
          .Case([&](ShapeOp s) -> std::optional<Entries> {
            auto it = cast<RankedTensorType>(s.getInput().getType());
            // ONNX clamps the range to [0, rank] after adding the rank to
            // a negative start (Shape <start = -10> of a rank-4 tensor
            // starts at 0)
            int64_t start = s.getStart();
            if (start < 0)
              start += it.getRank();
            start = std::clamp<int64_t>(start, 0, it.getRank());
            Entries out;
            for (int64_t i = 0; i < n; ++i)
              out.push_back(canon(s.getInput(), start + i, depth + 1));
            return out;
          })
          .Case([&](ConcatOp c) -> std::optional<Entries> {
            Entries out;
            for (Value in : c.getInputs()) {
              auto part = rec(in);
              if (!part)
                return std::nullopt;
              out.append(*part);
            }
            return out;
          })
          .Case<UnsqueezeOp, SqueezeOp, IdentityOp>(
              [&](Operation *o) { return rec(o->getOperand(0)); })
          .Case([&](CastOp c) -> std::optional<Entries> {
            if (!isa<IntegerType>(
                    cast<RankedTensorType>(c.getInput().getType())
                        .getElementType()))
              return std::nullopt;
            return rec(c.getInput());
          })
          .Case([&](GatherOp g) -> std::optional<Entries> {
            auto src = rec(g.getInput());
            auto idx = getConstantIntValues(g.getIndices());
            if (!src || !idx)
              return std::nullopt;
            Entries out;
            for (int64_t i : *idx) {
              if (i < 0)
                i += src->size();
              if (i < 0 || i >= (int64_t)src->size())
                return std::nullopt;
              out.push_back((*src)[i]);
            }
            return out;
          })
          .Case([&](SliceOp s) -> std::optional<Entries> {
            auto src = rec(s.getInput());
            auto starts = getConstantIntValues(s.getStarts());
            auto steps = getConstantIntValues(s.getSteps());
            if (!src || !starts || !steps || starts->size() != 1 ||
                steps->size() != 1 || (*steps)[0] != 1)
              return std::nullopt;
            int64_t b = (*starts)[0], size = src->size();
            if (b < 0)
              b = std::max<int64_t>(0, b + size);
            if (b + n > size)
              return std::nullopt;
            return Entries(src->begin() + b, src->begin() + b + n);
          })
          .Case([&](WhereOp w) -> std::optional<Entries> {
            // where(equal(s, c), a, s): dims are never negative, so a
            // negative c never matches a dim entry.
            auto eq = w.getCondition().getDefiningOp<EqualOp>();
            if (!eq)
              return std::nullopt;
            auto s = rec(eq.getLhs()), c = rec(eq.getRhs()), a = rec(w.getX()),
                 y = rec(w.getY());
            if (!s || !c || !a || !y)
              return std::nullopt;
            auto pick = [](const Entries &e, size_t i) {
              return e.size() == 1 ? e[0] : e[i];
            };
            Entries out;
            for (int64_t i = 0; i < n; ++i) {
              auto si = pick(*s, i), ci = pick(*c, i);
              if (!si || !ci)
                return std::nullopt;
              bool eqKnown = si->isConstant() && ci->isConstant();
              bool neverEq = !si->isConstant() && ci->isConstant() &&
                             ci->index < 0;
              if (!eqKnown && !neverEq)
                return std::nullopt;
              out.push_back(eqKnown && si->index == ci->index ? pick(*a, i)
                                                              : pick(*y, i));
            }
            return out;
          })
          .Default([](Operation *) { return std::nullopt; });
  if (!res || (int64_t)res->size() != n)
    return Entries(n, std::nullopt);
  return res;
}

} // namespace

SymDim mlir::kiln::canonicalDim(Value x, int64_t d) { return canon(x, d, 0); }

std::optional<SmallVector<std::optional<SymDim>>>
mlir::kiln::traceShape(Value shape) {
  return trace(shape, 0);
}
