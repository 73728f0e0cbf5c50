//===- KilnShapes.cpp - result type inference for kiln ops ----------------===//
//
// Each kiln op infers its result type here, and the same code is its
// verifier: a failure names the op and the values seen. Elementwise, linear
// algebra, convolution, normalization and reduction ops live in this file;
// shape and data-movement ops in KilnShapeOps.cpp.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnDialect.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::kiln;

static constexpr int64_t kDyn = ShapedType::kDynamic;

static std::string dimsToString(ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "[";
  llvm::interleave(
      shape, os,
      [&](int64_t d) {
        if (ShapedType::isDynamic(d))
          os << "?";
        else
          os << d;
      },
      ", ");
  os << "]";
  return s;
}

static RankedTensorType tensorOf(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}

std::string mlir::kiln::typeStr(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << type;
  return s;
}

bool mlir::kiln::areCompatibleTensorTypes(TypeRange lhs, TypeRange rhs) {
  if (lhs.size() != rhs.size())
    return false;
  for (auto [l, r] : llvm::zip(lhs, rhs)) {
    auto lt = dyn_cast<RankedTensorType>(l), rt = dyn_cast<RankedTensorType>(r);
    if (!lt || !rt) {
      if (l != r)
        return false;
      continue;
    }
    if (lt.getElementType() != rt.getElementType() ||
        lt.getRank() != rt.getRank())
      return false;
    for (auto [a, b] : llvm::zip(lt.getShape(), rt.getShape()))
      if (!ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b)
        return false;
  }
  return true;
}

LogicalResult mlir::kiln::verifyResultExtents(Operation *op,
                                              TypeRange inferred) {
  constexpr int64_t kMaxExtent = int64_t(1) << 40;
  for (Type t : llvm::concat<const Type>(inferred, op->getResultTypes()))
    if (auto rt = dyn_cast<RankedTensorType>(t))
      for (int64_t d : rt.getShape())
        if (!ShapedType::isDynamic(d) && (d < 0 || d > kMaxExtent))
          return op->emitOpError("result dim ")
                 << d << " is negative or larger than 2^40";
  return success();
}

LogicalResult mlir::kiln::opError(StringRef opName, OptLoc loc,
                                  const Twine &msg) {
  return emitOptionalError(loc, "'", opName, "' op ", msg.str());
}

std::optional<SmallVector<int64_t>> mlir::kiln::getConstantIntValues(Value v) {
  DenseIntElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  if (attr.getType().getRank() > 1)
    return std::nullopt;
  SmallVector<int64_t> out;
  bool isUnsigned = attr.getElementType().isUnsignedInteger();
  for (const APInt &x : attr.getValues<APInt>())
    out.push_back(isUnsigned || x.getBitWidth() == 1 ? (int64_t)x.getZExtValue()
                                                     : x.getSExtValue());
  return out;
}

FailureOr<SmallVector<int64_t>> mlir::kiln::broadcastShapes(ArrayRef<int64_t> a,
                                                            ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t x = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t y = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (x == 1)
      out[i] = y;
    else if (y == 1)
      out[i] = x;
    else if (ShapedType::isDynamic(x))
      out[i] = y;
    else if (ShapedType::isDynamic(y) || x == y)
      out[i] = x;
    else
      return failure();
  }
  return out;
}

LogicalResult mlir::kiln::inferSameType(StringRef opName, OptLoc loc,
                                        Value input, Types &types) {
  types.push_back(input.getType());
  return success();
}

LogicalResult mlir::kiln::inferSameShape(StringRef opName, OptLoc loc,
                                         Value input, Type elementType,
                                         Types &types) {
  types.push_back(tensorOf(input).clone(elementType));
  return success();
}

LogicalResult mlir::kiln::inferBroadcast(StringRef opName, OptLoc loc,
                                         ValueRange operands, int kind,
                                         Types &types) {
  auto lhs = tensorOf(operands[0]), rhs = tensorOf(operands[1]);
  if (kind != 2 && lhs.getElementType() != rhs.getElementType())
    return opError(opName, loc,
                   "operand element types differ: " +
                       typeStr(lhs.getElementType()) + " vs " +
                       typeStr(rhs.getElementType()));
  auto shape = broadcastShapes(lhs.getShape(), rhs.getShape());
  if (failed(shape))
    return opError(opName, loc,
                   "operand shapes " + dimsToString(lhs.getShape()) + " and " +
                       dimsToString(rhs.getShape()) + " do not broadcast");
  Type elt = kind == 1 ? IntegerType::get(lhs.getContext(), 1)
                       : lhs.getElementType();
  types.push_back(RankedTensorType::get(*shape, elt));
  return success();
}

LogicalResult mlir::kiln::inferWhere(StringRef opName, OptLoc loc,
                                     ValueRange operands, Types &types) {
  auto cond = tensorOf(operands[0]), x = tensorOf(operands[1]),
       y = tensorOf(operands[2]);
  if (!cond.getElementType().isInteger(1))
    return opError(opName, loc,
                   "condition must be i1, got " +
                       typeStr(cond.getElementType()));
  if (x.getElementType() != y.getElementType())
    return opError(opName, loc,
                   "x and y element types differ: " +
                       typeStr(x.getElementType()) + " vs " +
                       typeStr(y.getElementType()));
  auto s1 = broadcastShapes(cond.getShape(), x.getShape());
  FailureOr<SmallVector<int64_t>> s2 = failure();
  if (succeeded(s1))
    s2 = broadcastShapes(*s1, y.getShape());
  if (failed(s2))
    return opError(opName, loc,
                   "operand shapes " + dimsToString(cond.getShape()) + ", " +
                       dimsToString(x.getShape()) + " and " +
                       dimsToString(y.getShape()) + " do not broadcast");
  types.push_back(RankedTensorType::get(*s2, x.getElementType()));
  return success();
}

LogicalResult mlir::kiln::inferMatmul(StringRef opName, OptLoc loc, Value lhsV,
                                      Value rhsV, Types &types) {
  auto lhs = tensorOf(lhsV), rhs = tensorOf(rhsV);
  if (lhs.getElementType() != rhs.getElementType())
    return opError(opName, loc,
                   "operand element types differ: " +
                       typeStr(lhs.getElementType()) + " vs " +
                       typeStr(rhs.getElementType()));
  if (lhs.getRank() == 0 || rhs.getRank() == 0)
    return opError(opName, loc, "operands must have rank >= 1");
  SmallVector<int64_t> a(lhs.getShape()), b(rhs.getShape());
  bool lhsVec = a.size() == 1, rhsVec = b.size() == 1;
  if (lhsVec)
    a.insert(a.begin(), 1);
  if (rhsVec)
    b.push_back(1);
  int64_t k1 = a.back(), k2 = b[b.size() - 2];
  if (!ShapedType::isDynamic(k1) && !ShapedType::isDynamic(k2) && k1 != k2)
    return opError(opName, loc,
                   "contracting dims differ: lhs " + dimsToString(lhs.getShape()) +
                       ", rhs " + dimsToString(rhs.getShape()));
  auto batch = broadcastShapes(ArrayRef<int64_t>(a).drop_back(2),
                               ArrayRef<int64_t>(b).drop_back(2));
  if (failed(batch))
    return opError(opName, loc,
                   "batch dims of " + dimsToString(lhs.getShape()) + " and " +
                       dimsToString(rhs.getShape()) + " do not broadcast");
  SmallVector<int64_t> out = *batch;
  if (!lhsVec)
    out.push_back(a[a.size() - 2]);
  if (!rhsVec)
    out.push_back(b.back());
  types.push_back(RankedTensorType::get(out, lhs.getElementType()));
  return success();
}

/// Output extent of a sliding window; kDyn when the input extent is dynamic.
static int64_t windowExtent(int64_t in, int64_t k, int64_t s, int64_t padBegin,
                            int64_t padEnd, int64_t d, bool ceilMode) {
  if (ShapedType::isDynamic(in))
    return kDyn;
  int64_t span = in + padBegin + padEnd - d * (k - 1) - 1;
  if (span < 0)
    return -1;
  int64_t out = (ceilMode ? (span + s - 1) / s : span / s) + 1;
  // With ceil mode a window that would start in the end padding is dropped.
  if (ceilMode && (out - 1) * s >= in + padBegin)
    --out;
  return out;
}

static LogicalResult checkWindowAttrs(StringRef opName, OptLoc loc,
                                      int64_t spatial, ArrayRef<int64_t> strides,
                                      ArrayRef<int64_t> pads,
                                      ArrayRef<int64_t> dilations) {
  if ((int64_t)strides.size() != spatial || (int64_t)dilations.size() != spatial ||
      (int64_t)pads.size() != 2 * spatial)
    return opError(opName, loc,
                   "expected " + Twine(spatial) + " strides and dilations and " +
                       Twine(2 * spatial) + " pads, got " +
                       Twine(strides.size()) + ", " + Twine(dilations.size()) +
                       " and " + Twine(pads.size()));
  for (int64_t s : strides)
    if (s < 1)
      return opError(opName, loc, "strides must be >= 1, got " + Twine(s));
  for (int64_t d : dilations)
    if (d < 1)
      return opError(opName, loc, "dilations must be >= 1, got " + Twine(d));
  for (int64_t p : pads)
    if (p < 0)
      return opError(opName, loc, "pads must be >= 0, got " + Twine(p));
  return success();
}

LogicalResult mlir::kiln::inferPool(StringRef opName, OptLoc loc, Value inputV,
                                    ArrayRef<int64_t> kernel,
                                    ArrayRef<int64_t> strides,
                                    ArrayRef<int64_t> pads,
                                    ArrayRef<int64_t> dilations, bool ceilMode,
                                    Types &types) {
  auto input = tensorOf(inputV);
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1)
    return opError(opName, loc,
                   "input must have rank >= 3 (N, C, spatial...), got rank " +
                       Twine(input.getRank()));
  if ((int64_t)kernel.size() != spatial)
    return opError(opName, loc,
                   "kernel_shape has " + Twine(kernel.size()) +
                       " entries, but the input has " + Twine(spatial) +
                       " spatial dims");
  if (failed(checkWindowAttrs(opName, loc, spatial, strides, pads, dilations)))
    return failure();
  SmallVector<int64_t> out(input.getShape().take_front(2));
  for (int64_t i = 0; i < spatial; ++i) {
    if (kernel[i] < 1)
      return opError(opName, loc, "kernel_shape must be >= 1, got " +
                                      Twine(kernel[i]));
    int64_t e = windowExtent(input.getDimSize(i + 2), kernel[i], strides[i],
                             pads[i], pads[i + spatial], dilations[i], ceilMode);
    if (e < 0 && !ShapedType::isDynamic(e))
      return opError(opName, loc,
                     "window of spatial dim " + Twine(i) +
                         " is larger than the padded input " +
                         dimsToString(input.getShape()));
    out.push_back(e);
  }
  types.push_back(RankedTensorType::get(out, input.getElementType()));
  return success();
}

LogicalResult mlir::kiln::inferGlobalPool(StringRef opName, OptLoc loc,
                                          Value inputV, Types &types) {
  auto input = tensorOf(inputV);
  if (input.getRank() < 3)
    return opError(opName, loc,
                   "input must have rank >= 3, got rank " +
                       Twine(input.getRank()));
  SmallVector<int64_t> out(input.getShape());
  std::fill(out.begin() + 2, out.end(), 1);
  types.push_back(RankedTensorType::get(out, input.getElementType()));
  return success();
}

static LogicalResult checkAxis(StringRef opName, OptLoc loc, int64_t axis,
                               int64_t rank) {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    return opError(opName, loc,
                   "axis " + Twine(axis) + " is out of range for rank " +
                       Twine(rank));
  return success();
}

LogicalResult mlir::kiln::inferSameTypeWithAxis(StringRef opName, OptLoc loc,
                                                Value input, int64_t axis,
                                                Types &types) {
  if (failed(checkAxis(opName, loc, axis, tensorOf(input).getRank())))
    return failure();
  types.push_back(input.getType());
  return success();
}

LogicalResult mlir::kiln::inferReduce(StringRef opName, OptLoc loc,
                                      Value inputV, ArrayRef<int64_t> axes,
                                      bool keepdims, Type elementType,
                                      Types &types) {
  auto input = tensorOf(inputV);
  int64_t rank = input.getRank();
  for (auto [i, a] : llvm::enumerate(axes)) {
    if (a < 0 || a >= rank)
      return opError(opName, loc,
                     "axis " + Twine(a) + " is out of range for rank " +
                         Twine(rank));
    if (i > 0 && a <= axes[i - 1])
      return opError(opName, loc, "axes must be sorted and unique");
  }
  SmallVector<int64_t> out;
  for (int64_t d = 0; d < rank; ++d) {
    if (llvm::is_contained(axes, d)) {
      if (keepdims)
        out.push_back(1);
    } else {
      out.push_back(input.getDimSize(d));
    }
  }
  types.push_back(RankedTensorType::get(
      out, elementType ? elementType : input.getElementType()));
  return success();
}

LogicalResult mlir::kiln::inferArgReduce(StringRef opName, OptLoc loc,
                                         Value input, int64_t axis,
                                         bool keepdims, Types &types) {
  int64_t rank = tensorOf(input).getRank();
  if (failed(checkAxis(opName, loc, axis, rank)))
    return failure();
  if (axis < 0)
    axis += rank;
  return inferReduce(opName, loc, input, {axis}, keepdims,
                     IntegerType::get(input.getContext(), 64), types);
}

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
  std::string eq;
  for (char c : adaptor.getEquation())
    if (c != ' ')
      eq.push_back(c);
  StringRef lhs = eq, rhs;
  bool explicitOut = false;
  if (size_t arrow = StringRef(eq).find("->"); arrow != StringRef::npos) {
    lhs = StringRef(eq).take_front(arrow);
    rhs = StringRef(eq).drop_front(arrow + 2);
    explicitOut = true;
  }
  SmallVector<StringRef> terms;
  lhs.split(terms, ',');
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
