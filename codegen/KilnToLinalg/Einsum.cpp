//===- Einsum.cpp - kiln.einsum as one linalg.generic ---------------------===//
//
// Every label of the equation is a loop: the output's labels are parallel,
// the others reductions; each operand is read through the map its term
// spells (a repeated label reads a diagonal), and the body multiplies the
// operands and adds into the zero-initialized output. Ellipsis dims are
// right-aligned across operands; a static size-1 dim broadcasts against a
// larger extent of the same label. Covers outer products (`i,j->ij`, how
// torch exports `torch.outer`), contractions, transposes, traces and sums.
//
//===----------------------------------------------------------------------===//

#include "Common.h"
#include "dialects/kiln/ShapeUtils.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// A loop of the einsum: a letter, or the i-th ellipsis dim (right-aligned).
struct Label {
  char letter = 0;
  int64_t ell = -1;
  bool operator==(const Label &o) const {
    return letter == o.letter && ell == o.ell;
  }
};

struct LowerEinsum final : OpRewritePattern<EinsumOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(EinsumOp op,
                                PatternRewriter &rewriter) const override {
    kiln::detail::EinsumTerms parsed =
        kiln::detail::splitEinsumEquation(op.getEquation());
    StringRef rhs = parsed.output;
    bool explicitOut = parsed.explicitOut;
    SmallVector<StringRef> terms(parsed.inputs.begin(), parsed.inputs.end());
    ValueRange inputs = op.getInputs();
    if (terms.size() != inputs.size())
      return rewriter.notifyMatchFailure(op, "term count differs from inputs");

    // Ellipsis rank: the largest over the operands.
    int64_t ellRank = 0;
    for (auto [term, v] : llvm::zip(terms, inputs)) {
      size_t at = term.find("...");
      if (at != StringRef::npos)
        ellRank = std::max<int64_t>(
            ellRank, cast<RankedTensorType>(v.getType()).getRank() -
                         (int64_t)(term.size() - 3));
    }

    // Labels of each operand, dim by dim.
    SmallVector<SmallVector<Label>> opLabels;
    SmallVector<Label> loops;
    auto loopOf = [&](Label l) {
      for (auto [i, x] : llvm::enumerate(loops))
        if (x == l)
          return (int64_t)i;
      loops.push_back(l);
      return (int64_t)loops.size() - 1;
    };
    llvm::DenseMap<char, int> letterCount;
    for (auto [term, v] : llvm::zip(terms, inputs)) {
      int64_t rank = cast<RankedTensorType>(v.getType()).getRank();
      SmallVector<Label> ls;
      for (size_t i = 0; i < term.size(); ++i) {
        if (term.substr(i, 3) == "...") {
          int64_t here = rank - (int64_t)(term.size() - 3);
          for (int64_t e = 0; e < here; ++e)
            ls.push_back({0, ellRank - here + e});
          i += 2;
          continue;
        }
        ls.push_back({term[i], -1});
        ++letterCount[term[i]];
      }
      if ((int64_t)ls.size() != rank)
        return rewriter.notifyMatchFailure(op, "term does not match rank");
      opLabels.push_back(ls);
    }

    // Output labels (implicit: ellipsis, then letters seen once, sorted).
    SmallVector<Label> outLabels;
    if (explicitOut) {
      for (size_t i = 0; i < rhs.size(); ++i) {
        if (rhs.substr(i, 3) == "...") {
          for (int64_t e = 0; e < ellRank; ++e)
            outLabels.push_back({0, e});
          i += 2;
          continue;
        }
        Label l{rhs[i], -1};
        if (llvm::is_contained(outLabels, l))
          return rewriter.notifyMatchFailure(op, "repeated output label");
        outLabels.push_back(l);
      }
    } else {
      for (int64_t e = 0; e < ellRank; ++e)
        outLabels.push_back({0, e});
      SmallVector<char> once;
      for (auto &kv : letterCount)
        if (kv.second == 1)
          once.push_back(kv.first);
      llvm::sort(once);
      for (char c : once)
        outLabels.push_back({c, -1});
    }
    // Output loops first (parallel), then the reduced ones.
    for (Label l : outLabels)
      loopOf(l);
    for (auto &ls : opLabels)
      for (Label l : ls)
        loopOf(l);

    // Extent of each loop: from an operand dim that is not a static 1.
    Location loc = op.getLoc();
    SmallVector<std::pair<Value, int64_t>> source(loops.size(), {Value(), -1});
    for (auto [v, ls] : llvm::zip(inputs, opLabels)) {
      auto t = cast<RankedTensorType>(v.getType());
      for (auto [d, l] : llvm::enumerate(ls)) {
        auto &src = source[loopOf(l)];
        if (!src.first || (t.getDimSize(d) != 1 &&
                           cast<RankedTensorType>(src.first.getType())
                                   .getDimSize(src.second) == 1))
          src = {v, (int64_t)d};
      }
    }
    MLIRContext *ctx = op.getContext();
    SmallVector<AffineMap> maps;
    for (auto [v, ls] : llvm::zip(inputs, opLabels)) {
      auto t = cast<RankedTensorType>(v.getType());
      SmallVector<AffineExpr> exprs;
      for (auto [d, l] : llvm::enumerate(ls)) {
        int64_t loop = loopOf(l);
        auto &src = source[loop];
        bool broadcast =
            t.getDimSize(d) == 1 &&
            cast<RankedTensorType>(src.first.getType()).getDimSize(src.second) != 1;
        exprs.push_back(broadcast ? getAffineConstantExpr(0, ctx)
                                  : getAffineDimExpr(loop, ctx));
      }
      maps.push_back(AffineMap::get(loops.size(), 0, exprs, ctx));
    }
    SmallVector<AffineExpr> outExprs;
    SmallVector<OpFoldResult> outDims;
    for (Label l : outLabels) {
      int64_t loop = loopOf(l);
      outExprs.push_back(getAffineDimExpr(loop, ctx));
      outDims.push_back(tensor::getMixedSize(rewriter, loc, source[loop].first,
                                             source[loop].second));
    }
    maps.push_back(AffineMap::get(loops.size(), 0, outExprs, ctx));
    SmallVector<utils::IteratorType> iters;
    for (size_t i = 0; i < loops.size(); ++i)
      iters.push_back(i < outLabels.size() ? utils::IteratorType::parallel
                                           : utils::IteratorType::reduction);

    Type elt = op.getType().getElementType();
    bool isFloat = isa<FloatType>(elt);
    if (!isFloat && !isa<IntegerType>(elt))
      return rewriter.notifyMatchFailure(op, "element type is not numeric");
    Value init = filledTensor(rewriter, loc, outDims, scalarConst(rewriter, loc, elt, 0));
    Value result =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{init.getType()}, inputs, ValueRange{init},
            maps, iters,
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value prod = args[0];
              for (Value a : args.drop_front().drop_back())
                prod = isFloat ? arith::MulFOp::create(b, l, prod, a).getResult()
                               : arith::MulIOp::create(b, l, prod, a).getResult();
              Value acc = args.back();
              Value sum = isFloat ? arith::AddFOp::create(b, l, acc, prod).getResult()
                                  : arith::AddIOp::create(b, l, acc, prod).getResult();
              linalg::YieldOp::create(b, l, sum);
            })
            .getResult(0);
    if (result.getType() != op.getType())
      result = tensor::CastOp::create(rewriter, loc, op.getType(), result);
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void lowering::populateEinsumPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerEinsum>(patterns.getContext());
}
