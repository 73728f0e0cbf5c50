//===- KilnNNShapes.cpp - inference of elementwise, linalg, NN ops --------===//
//
// Result types (and verification) of clip, cast, einsum, convolutions,
// normalizations and top_k. Shared helpers are in ShapeUtils.h.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnDialect.h"
#include "dialects/kiln/ShapeUtils.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::detail;

//===----------------------------------------------------------------------===//
// Per-op inference: elementwise, linear algebra, normalization
//===----------------------------------------------------------------------===//

LogicalResult ClipOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                       Adaptor adaptor, Types &types) {
  auto input = tensorOf(adaptor.getInput());
  for (Value bound : {adaptor.getMin(), adaptor.getMax()}) {
    if (!bound)
      continue;
    auto t = tensorOf(bound);
    if (t.getElementType() != input.getElementType() || t.getNumElements() != 1)
      return opError(getOperationName(), loc,
                     "bounds must be single-element tensors of the input "
                     "element type, got " +
                         typeStr(t));
  }
  types.push_back(input);
  return success();
}

LogicalResult CastOp::verify() {
  if (getInput().getType().getShape() != getResult().getType().getShape())
    return emitOpError("result shape ")
           << dimsToString(getResult().getType().getShape())
           << " differs from input shape "
           << dimsToString(getInput().getType().getShape());
  return success();
}

LogicalResult EinsumOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                         Adaptor adaptor, Types &types) {
  StringRef name = getOperationName();
  EinsumTerms parsed = splitEinsumEquation(adaptor.getEquation());
  const std::string &eq = parsed.text;
  StringRef rhs = parsed.output;
  bool explicitOut = parsed.explicitOut;
  SmallVector<StringRef> terms(parsed.inputs.begin(), parsed.inputs.end());
  ValueRange inputs = adaptor.getInputs();
  if (terms.size() != inputs.size())
    return opError(name, loc,
                   "equation '" + eq + "' has " + Twine(terms.size()) +
                       " operand terms, but " + Twine(inputs.size()) +
                       " inputs were given");
  llvm::DenseMap<char, int64_t> extent;
  llvm::DenseMap<char, int> count;
  SmallVector<int64_t> ellipsis;
  bool sawEllipsis = false;
  Type elt = tensorOf(inputs[0]).getElementType();
  for (auto [term, v] : llvm::zip(terms, inputs)) {
    auto t = tensorOf(v);
    if (t.getElementType() != elt)
      return opError(name, loc, "inputs have different element types");
    size_t ell = term.find("...");
    int64_t letters = term.size() - (ell == StringRef::npos ? 0 : 3);
    int64_t ellRank = t.getRank() - letters;
    if (ellRank < 0 || (ell == StringRef::npos && ellRank != 0))
      return opError(name, loc,
                     "term '" + term + "' does not match operand rank " +
                         Twine(t.getRank()));
    int64_t dim = 0;
    for (size_t i = 0; i < term.size(); ++i) {
      if (i == ell) {
        auto part = t.getShape().slice(dim, ellRank);
        auto b = broadcastShapes(ellipsis, part);
        if (failed(b))
          return opError(name, loc, "ellipsis dims do not broadcast");
        ellipsis = *b;
        sawEllipsis = true;
        dim += ellRank;
        i += 2;
        continue;
      }
      char c = term[i];
      if (!llvm::isAlpha(c))
        return opError(name, loc, "bad character '" + Twine(c) +
                                      "' in equation '" + eq + "'");
      int64_t d = t.getDimSize(dim++);
      auto it = extent.find(c);
      if (it == extent.end() || ShapedType::isDynamic(it->second) ||
          it->second == 1)
        extent[c] = (it != extent.end() && d == 1) ? it->second : d;
      else if (!ShapedType::isDynamic(d) && d != 1 && d != it->second)
        return opError(name, loc,
                       "label '" + Twine(c) + "' has extents " +
                           Twine(it->second) + " and " + Twine(d));
      ++count[c];
    }
  }
  SmallVector<int64_t> out;
  if (explicitOut) {
    for (size_t i = 0; i < rhs.size(); ++i) {
      if (rhs.substr(i, 3) == "...") {
        out.append(ellipsis);
        i += 2;
        continue;
      }
      auto it = extent.find(rhs[i]);
      if (it == extent.end())
        return opError(name, loc, "output label '" + Twine(rhs[i]) +
                                      "' does not appear in any input");
      out.push_back(it->second);
    }
  } else {
    if (sawEllipsis)
      out.append(ellipsis);
    SmallVector<char> labels;
    for (auto &kv : count)
      if (kv.second == 1)
        labels.push_back(kv.first);
    llvm::sort(labels);
    for (char c : labels)
      out.push_back(extent[c]);
  }
  types.push_back(RankedTensorType::get(out, elt));
  return success();
}

/// Shared checks of conv and conv_transpose; returns the spatial rank.
static FailureOr<int64_t> checkConv(StringRef name, OptLoc loc,
                                    RankedTensorType input,
                                    RankedTensorType weight, Value bias,
                                    ArrayRef<int64_t> strides,
                                    ArrayRef<int64_t> pads,
                                    ArrayRef<int64_t> dilations, int64_t group) {
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1)
    return opError(name, loc,
                   "input must have rank >= 3 (N, C, spatial...), got rank " +
                       Twine(input.getRank()));
  if (weight.getRank() != input.getRank())
    return opError(name, loc,
                   "weight rank " + Twine(weight.getRank()) +
                       " differs from input rank " + Twine(input.getRank()));
  if (weight.getElementType() != input.getElementType())
    return opError(name, loc, "weight element type differs from the input's");
  if (group < 1)
    return opError(name, loc, "group must be >= 1, got " + Twine(group));
  if (bias) {
    auto b = tensorOf(bias);
    if (b.getRank() != 1 || b.getElementType() != input.getElementType())
      return opError(name, loc,
                     "bias must be 1-D of the input element type, got " +
                         typeStr(b));
  }
  if (failed(checkWindowAttrs(name, loc, spatial, strides, pads, dilations)))
    return failure();
  return spatial;
}

LogicalResult ConvOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                       Adaptor adaptor, Types &types) {
  StringRef name = getOperationName();
  auto input = tensorOf(adaptor.getInput()),
       weight = tensorOf(adaptor.getWeight());
  int64_t group = adaptor.getGroup();
  auto strides = adaptor.getStrides(), pads = adaptor.getPads(),
       dilations = adaptor.getDilations();
  auto spatial = checkConv(name, loc, input, weight, adaptor.getBias(), strides,
                           pads, dilations, group);
  if (failed(spatial))
    return failure();
  int64_t c = input.getDimSize(1), wc = weight.getDimSize(1),
          m = weight.getDimSize(0);
  if (!ShapedType::isDynamic(c) && !ShapedType::isDynamic(wc) && c != wc * group)
    return opError(name, loc,
                   "input has " + Twine(c) + " channels, but weight " +
                       dimsToString(weight.getShape()) + " with group " +
                       Twine(group) + " expects " + Twine(wc * group));
  if (!ShapedType::isDynamic(m) && m % group != 0)
    return opError(name, loc, "output channels " + Twine(m) +
                                  " are not divisible by group " + Twine(group));
  SmallVector<int64_t> out{input.getDimSize(0), m};
  for (int64_t i = 0; i < *spatial; ++i) {
    int64_t k = weight.getDimSize(i + 2);
    int64_t e = ShapedType::isDynamic(k)
                    ? kDyn
                    : windowExtent(input.getDimSize(i + 2), k, strides[i],
                                   pads[i], pads[i + *spatial], dilations[i],
                                   false);
    if (e < 0 && !ShapedType::isDynamic(e))
      return opError(name, loc,
                     "kernel " + dimsToString(weight.getShape()) +
                         " is larger than the padded input " +
                         dimsToString(input.getShape()));
    out.push_back(e);
  }
  types.push_back(RankedTensorType::get(out, input.getElementType()));
  return success();
}

LogicalResult ConvTransposeOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                                Adaptor adaptor, Types &types) {
  StringRef name = getOperationName();
  auto input = tensorOf(adaptor.getInput()),
       weight = tensorOf(adaptor.getWeight());
  int64_t group = adaptor.getGroup();
  auto strides = adaptor.getStrides(), pads = adaptor.getPads(),
       dilations = adaptor.getDilations(),
       outPad = adaptor.getOutputPadding();
  auto spatial = checkConv(name, loc, input, weight, adaptor.getBias(), strides,
                           pads, dilations, group);
  if (failed(spatial))
    return failure();
  if ((int64_t)outPad.size() != *spatial)
    return opError(name, loc, "output_padding must have " + Twine(*spatial) +
                                  " entries, got " + Twine(outPad.size()));
  int64_t c = input.getDimSize(1), wc = weight.getDimSize(0);
  if (!ShapedType::isDynamic(c) && !ShapedType::isDynamic(wc) && c != wc)
    return opError(name, loc,
                   "input has " + Twine(c) + " channels, but weight " +
                       dimsToString(weight.getShape()) + " expects " +
                       Twine(wc));
  int64_t m = weight.getDimSize(1);
  SmallVector<int64_t> out{input.getDimSize(0),
                           ShapedType::isDynamic(m) ? kDyn : m * group};
  for (int64_t i = 0; i < *spatial; ++i) {
    int64_t in = input.getDimSize(i + 2), k = weight.getDimSize(i + 2);
    if (ShapedType::isDynamic(in) || ShapedType::isDynamic(k)) {
      out.push_back(kDyn);
      continue;
    }
    int64_t e = strides[i] * (in - 1) + outPad[i] + (k - 1) * dilations[i] + 1 -
                pads[i] - pads[i + *spatial];
    if (e < 1)
      return opError(name, loc, "output spatial dim " + Twine(i) +
                                    " would be " + Twine(e));
    out.push_back(e);
  }
  types.push_back(RankedTensorType::get(out, input.getElementType()));
  return success();
}

/// `param` must be 1-D with the extent of `dim` of `input` (or dynamic).
static LogicalResult checkPerChannel(StringRef name, OptLoc loc,
                                     StringRef what, RankedTensorType input,
                                     Value param, int64_t dim) {
  auto t = tensorOf(param);
  if (t.getElementType() != input.getElementType())
    return opError(name, loc, what + " element type differs from the input's");
  int64_t c = input.getDimSize(dim);
  if (t.getRank() != 1 || (!ShapedType::isDynamic(c) &&
                           !ShapedType::isDynamic(t.getDimSize(0)) &&
                           t.getDimSize(0) != c))
    return opError(name, loc,
                   what + " must be 1-D with " + Twine(c) + " entries, got " +
                       dimsToString(t.getShape()));
  return success();
}

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                            Adaptor adaptor, Types &types) {
  auto input = tensorOf(adaptor.getInput());
  if (input.getRank() < 2)
    return opError(getOperationName(), loc, "input must have rank >= 2");
  const char *names[] = {"scale", "bias", "mean", "variance"};
  for (auto [n, v] : llvm::zip(names, adaptor.getOperands().drop_front()))
    if (failed(checkPerChannel(getOperationName(), loc, n, input, v, 1)))
      return failure();
  types.push_back(input);
  return success();
}

LogicalResult InstanceNormOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                               Adaptor adaptor, Types &types) {
  auto input = tensorOf(adaptor.getInput());
  if (input.getRank() < 3)
    return opError(getOperationName(), loc, "input must have rank >= 3");
  if (failed(checkPerChannel(getOperationName(), loc, "scale", input,
                             adaptor.getScale(), 1)) ||
      failed(checkPerChannel(getOperationName(), loc, "bias", input,
                             adaptor.getBias(), 1)))
    return failure();
  types.push_back(input);
  return success();
}

/// scale (and bias) must broadcast to the normalized dims [axis, rank).
static LogicalResult checkNormParams(StringRef name, OptLoc loc,
                                     RankedTensorType input, int64_t axis,
                                     ValueRange params) {
  int64_t rank = input.getRank();
  if (failed(checkAxis(name, loc, axis, rank)))
    return failure();
  if (axis < 0)
    axis += rank;
  auto normShape = input.getShape().drop_front(axis);
  for (Value p : params) {
    if (!p)
      continue;
    auto t = tensorOf(p);
    if (t.getElementType() != input.getElementType())
      return opError(name, loc, "scale/bias element type differs from the input's");
    auto b = broadcastShapes(normShape, t.getShape());
    if (t.getRank() > (int64_t)normShape.size() || failed(b) ||
        !areCompatibleTensorTypes(
            TypeRange{RankedTensorType::get(*b, t.getElementType())},
            TypeRange{RankedTensorType::get(normShape, t.getElementType())}))
      return opError(name, loc,
                     "scale/bias shape " + dimsToString(t.getShape()) +
                         " does not broadcast to the normalized dims " +
                         dimsToString(normShape));
  }
  return success();
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                            Adaptor adaptor, Types &types) {
  auto input = tensorOf(adaptor.getInput());
  if (failed(checkNormParams(getOperationName(), loc, input,
                             (int64_t)adaptor.getAxis(),
                             {adaptor.getScale(), adaptor.getBias()})))
    return failure();
  types.push_back(input);
  return success();
}

LogicalResult RmsNormOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                          Adaptor adaptor, Types &types) {
  auto input = tensorOf(adaptor.getInput());
  if (failed(checkNormParams(getOperationName(), loc, input,
                             (int64_t)adaptor.getAxis(), {adaptor.getScale()})))
    return failure();
  types.push_back(input);
  return success();
}

LogicalResult TopKOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                       Adaptor adaptor, Types &types) {
  auto input = tensorOf(adaptor.getInput());
  int64_t rank = input.getRank(), axis = adaptor.getAxis();
  if (failed(checkAxis(getOperationName(), loc, axis, rank)))
    return failure();
  if (axis < 0)
    axis += rank;
  auto kT = tensorOf(adaptor.getK());
  if (!kT.getElementType().isInteger(64) || kT.getNumElements() != 1)
    return opError(getOperationName(), loc,
                   "k must be a single-element i64 tensor, got " +
                       typeStr(kT));
  SmallVector<int64_t> shape(input.getShape());
  shape[axis] = kDyn;
  if (auto k = getConstantIntValues(adaptor.getK())) {
    int64_t n = input.getDimSize(axis);
    if ((*k)[0] < 0 || (!ShapedType::isDynamic(n) && (*k)[0] > n))
      return opError(getOperationName(), loc,
                     "k = " + Twine((*k)[0]) + " is out of range for a dim of " +
                         Twine(n));
    shape[axis] = (*k)[0];
  }
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  types.push_back(
      RankedTensorType::get(shape, IntegerType::get(input.getContext(), 64)));
  return success();
}

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                            Adaptor adaptor, Types &types) {
  Value m = adaptor.getMask();
  return inferAttention(getOperationName(), loc, tensorOf(adaptor.getQuery()),
                        tensorOf(adaptor.getKey()),
                        tensorOf(adaptor.getValue()),
                        m ? tensorOf(m) : RankedTensorType(), types);
}

LogicalResult mlir::kiln::inferAttention(StringRef name, OptLoc loc,
                                         RankedTensorType q, RankedTensorType k,
                                         RankedTensorType v,
                                         RankedTensorType mt, Types &types) {
  int64_t r = q.getRank();
  if (r < 3 || k.getRank() != r || v.getRank() != r)
    return opError(name, loc,
                   "query, key and value must have one rank >= 3, got " +
                       Twine(r) + ", " + Twine(k.getRank()) + " and " +
                       Twine(v.getRank()));
  Type elt = q.getElementType();
  if (!isa<FloatType>(elt) || k.getElementType() != elt ||
      v.getElementType() != elt)
    return opError(name, loc,
                   "query, key and value must share one float element type");
  auto clash = [](int64_t a, int64_t b) {
    return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b;
  };
  auto shapes = [&] {
    return dimsToString(q.getShape()) + ", " + dimsToString(k.getShape()) +
           " and " + dimsToString(v.getShape());
  };
  for (int64_t d = 0; d < r - 3; ++d)
    if (clash(q.getDimSize(d), k.getDimSize(d)) ||
        clash(k.getDimSize(d), v.getDimSize(d)))
      return opError(name, loc, "batch dims differ in " + shapes());
  int64_t hq = q.getDimSize(r - 3), hk = k.getDimSize(r - 3);
  if (clash(hk, v.getDimSize(r - 3)) ||
      (!ShapedType::isDynamic(hq) && !ShapedType::isDynamic(hk) &&
       (hk == 0 || hq % hk != 0)))
    return opError(name, loc,
                   "query heads must be a multiple of key/value heads in " +
                       shapes());
  if (clash(q.getDimSize(r - 1), k.getDimSize(r - 1)) ||
      clash(k.getDimSize(r - 2), v.getDimSize(r - 2)))
    return opError(name, loc,
                   "head sizes or key lengths differ in " + shapes());
  SmallVector<int64_t> out(q.getShape());
  out.back() = v.getDimSize(r - 1);
  if (mt) {
    SmallVector<int64_t> scores(q.getShape().drop_back());
    scores.push_back(k.getDimSize(r - 2));
    auto b = broadcastShapes(mt.getShape(), scores);
    bool fits = succeeded(b) && mt.getRank() <= r;
    for (int64_t d = 0; fits && d < r; ++d)
      fits = !clash((*b)[d], scores[d]);
    if (!fits)
      return opError(name, loc,
                     "mask " + dimsToString(mt.getShape()) +
                         " does not broadcast to the scores " +
                         dimsToString(scores));
    if (!mt.getElementType().isInteger(1) && mt.getElementType() != elt)
      return opError(name, loc, "mask must be i1 or the query element type");
  }
  types.push_back(RankedTensorType::get(out, elt));
  return success();
}

LogicalResult LinearOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                         Adaptor adaptor, Types &types) {
  StringRef name = getOperationName();
  auto x = tensorOf(adaptor.getInput()), w = tensorOf(adaptor.getWeight());
  if (x.getRank() < 1 || w.getRank() != 2)
    return opError(name, loc,
                   "input must have rank >= 1 and weight rank 2, got " +
                       typeStr(x) + " and " + typeStr(w));
  if (x.getElementType() != w.getElementType() ||
      !isa<FloatType>(x.getElementType()))
    return opError(name, loc, "input and weight must share a float type");
  bool tw = adaptor.getTransposeWeight();
  int64_t k = w.getDimSize(tw ? 1 : 0), n = w.getDimSize(tw ? 0 : 1);
  int64_t xk = x.getShape().back();
  if (!ShapedType::isDynamic(k) && !ShapedType::isDynamic(xk) && k != xk)
    return opError(name, loc,
                   "contracting dims differ: input " + typeStr(x) +
                       ", weight " + typeStr(w));
  SmallVector<int64_t> out(x.getShape());
  out.back() = n;
  auto result = RankedTensorType::get(out, x.getElementType());
  if (Value b = adaptor.getBias()) {
    auto bt = tensorOf(b);
    int64_t bn = bt.getRank() == 1 ? bt.getDimSize(0) : -2;
    if (bt.getElementType() != x.getElementType() || bn == -2 ||
        (bn != 1 && !ShapedType::isDynamic(bn) && !ShapedType::isDynamic(n) &&
         bn != n))
      return opError(name, loc,
                     "bias must be 1-D [N] of the input type, got " +
                         typeStr(bt));
  }
  if (Value r = adaptor.getResidual())
    if (!areCompatibleTensorTypes(TypeRange{r.getType()}, TypeRange{result}))
      return opError(name, loc,
                     "residual " + typeStr(r.getType()) +
                         " does not have the result type " + typeStr(result));
  StringRef act = adaptor.getActivation();
  if (!llvm::is_contained({"none", "relu", "gelu", "gelu_tanh", "silu"}, act))
    return opError(name, loc, "unknown activation '" + act + "'");
  types.push_back(result);
  return success();
}

LogicalResult RotaryEmbeddingOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                                  Adaptor adaptor,
                                                  Types &types) {
  StringRef name = getOperationName();
  auto x = tensorOf(adaptor.getInput()), c = tensorOf(adaptor.getCos()),
       s = tensorOf(adaptor.getSin());
  if (x.getRank() < 1 || !isa<FloatType>(x.getElementType()) ||
      c.getElementType() != x.getElementType() || c != s)
    return opError(name, loc,
                   "input must be a float tensor and cos/sin of one type with "
                   "its element type, got " +
                       typeStr(x) + ", " + typeStr(c) + ", " + typeStr(s));
  if (c.getRank() < 1 || c.getRank() > x.getRank())
    return opError(name, loc, "cos/sin rank must be in [1, input rank]");
  int64_t r = c.getShape().back(), d = x.getShape().back();
  if (ShapedType::isDynamic(r) || r % 2 != 0 ||
      (!ShapedType::isDynamic(d) && r > d))
    return opError(name, loc,
                   "the rotary width (cos/sin last dim) must be static, even "
                   "and at most the input's last dim, got " +
                       Twine(ShapedType::isDynamic(r) ? -1 : r));
  auto b = broadcastShapes(c.getShape().drop_back(), x.getShape().drop_back());
  bool fits = succeeded(b);
  for (size_t i = 0; fits && i < b->size(); ++i) {
    int64_t want = x.getShape()[i];
    fits = ShapedType::isDynamic((*b)[i]) || ShapedType::isDynamic(want) ||
           (*b)[i] == want;
  }
  if (!fits)
    return opError(name, loc,
                   "cos/sin " + dimsToString(c.getShape()) +
                       " do not broadcast to the input " +
                       dimsToString(x.getShape()));
  types.push_back(x);
  return success();
}

LogicalResult CheckEqualOp::inferReturnTypes(MLIRContext *, OptLoc loc,
                                             Adaptor adaptor, Types &types) {
  auto x = tensorOf(adaptor.getInput()), e = tensorOf(adaptor.getExpected());
  if (!isa<IntegerType>(x.getElementType()) ||
      x.getElementType() != e.getElementType())
    return opError(getOperationName(), loc,
                   "input and expected must share an integer type, got " +
                       typeStr(x) + " and " + typeStr(e));
  auto b = broadcastShapes(e.getShape(), x.getShape());
  if (failed(b) || e.getRank() > x.getRank() ||
      !areCompatibleTensorTypes(TypeRange{RankedTensorType::get(*b, x.getElementType())},
                                TypeRange{x}))
    return opError(getOperationName(), loc,
                   "expected " + dimsToString(e.getShape()) +
                       " does not broadcast to the input " +
                       dimsToString(x.getShape()));
  types.push_back(x);
  return success();
}

LogicalResult UkernelOp::verify() {
  if (getInits().empty())
    return emitOpError("needs an init");
  bool onTensors = isa<RankedTensorType>(getInit().getType());
  for (Value init : getInits())
    if (isa<RankedTensorType>(init.getType()) != onTensors)
      return emitOpError("inits must all be ranked tensors or all memrefs");
  if (onTensors && getResults().size() != getInits().size())
    return emitOpError("on a tensor init must return the written tensor");
  if (!onTensors && !getResults().empty())
    return emitOpError("on a buffer init has no result");
  for (auto [r, init] : llvm::zip(getResults(), getInits()))
    if (r.getType() != init.getType())
      return emitOpError("result type ")
             << r.getType() << " differs from the init's " << init.getType();
  if (getKernel().empty())
    return emitOpError("needs a kernel name");
  // The call passes each operand's address, sizes and strides: every
  // operand is ranked and of the init's kind (all tensors or all buffers).
  for (auto [i, v] : llvm::enumerate(getInputs())) {
    bool ok = onTensors ? isa<RankedTensorType>(v.getType())
                        : isa<MemRefType>(v.getType());
    if (!ok)
      return emitOpError("input #")
             << i << " is " << v.getType() << ", but the init is a "
             << (onTensors ? "ranked tensor" : "ranked memref")
             << ": operands must all be ranked tensors or all memrefs";
  }
  for (Value init : getInits())
    if (!isa<RankedTensorType, MemRefType>(init.getType()))
      return emitOpError("init must be a ranked tensor or a memref, got ")
             << init.getType();
  return success();
}

/// Reads its buffer inputs, writes its buffer init; on tensors, no effect.
void UkernelOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  for (OpOperand &o : getInputsMutable())
    if (isa<MemRefType>(o.get().getType()))
      effects.emplace_back(MemoryEffects::Read::get(), &o,
                           SideEffects::DefaultResource::get());
  for (OpOperand &o : getInitsMutable())
    if (isa<MemRefType>(o.get().getType()))
      effects.emplace_back(MemoryEffects::Write::get(), &o,
                           SideEffects::DefaultResource::get());
}
