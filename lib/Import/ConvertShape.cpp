//===- ConvertShape.cpp - shape and data-movement ONNX ops ----------------===//
//
// Constant, shape queries, reshapes, slicing, gathers/scatters, padding,
// Resize and friends. Inputs that ONNX moved from attributes to tensors
// (Squeeze/Unsqueeze axes, Split sizes, Pad pads) must be constants and
// become attributes here, so each op has one form in the IR.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "mlir/IR/Matchers.h"

using namespace ::kiln::import;
namespace k = mlir::kiln;

namespace {

LogicalResult convertConstant(NodeContext &c) {
  if (c.node.attribute_size() != 1)
    return c.fail("expects exactly one value attribute, got " +
                  Twine(c.node.attribute_size()));
  const auto &a = c.node.attribute(0);
  auto f32 = [&](ArrayRef<float> v, bool scalar) {
    auto t = RankedTensorType::get(
        scalar ? ArrayRef<int64_t>{} : ArrayRef<int64_t>{(int64_t)v.size()},
        c.b.getF32Type());
    return cast<ElementsAttr>(DenseElementsAttr::get(t, v));
  };
  auto i64 = [&](ArrayRef<int64_t> v, bool scalar) {
    auto t = RankedTensorType::get(
        scalar ? ArrayRef<int64_t>{} : ArrayRef<int64_t>{(int64_t)v.size()},
        c.b.getI64Type());
    return cast<ElementsAttr>(DenseElementsAttr::get(t, v));
  };
  ElementsAttr value;
  if (a.name() == "value" && a.type() == onnx::AttributeProto::TENSOR) {
    std::string err;
    auto v = decodeTensor(c.ctx(), c.store, a.t(), err);
    if (failed(v))
      return c.fail(err);
    Value cst = c.constant(*v);
    markFourBit(cst, a.t());
    c.outputs.push_back(cst);
    return success();
  } else if (a.name() == "value_float" && a.type() == onnx::AttributeProto::FLOAT) {
    value = f32({a.f()}, true);
  } else if (a.name() == "value_floats" && a.type() == onnx::AttributeProto::FLOATS) {
    value = f32(SmallVector<float>(a.floats().begin(), a.floats().end()), false);
  } else if (a.name() == "value_int" && a.type() == onnx::AttributeProto::INT) {
    value = i64({(int64_t)a.i()}, true);
  } else if (a.name() == "value_ints" && a.type() == onnx::AttributeProto::INTS) {
    value = i64(SmallVector<int64_t>(a.ints().begin(), a.ints().end()), false);
  } else {
    return c.fail("unsupported value attribute '" + a.name() + "' of type " +
                  onnx::AttributeProto_AttributeType_Name(a.type()));
  }
  c.outputs.push_back(c.constant(value));
  return success();
}

/// A 1-D i64 view of an integer input (casting i32 inputs).
FailureOr<Value> asI64(NodeContext &c, Value v, StringRef what) {
  auto t = c.typeOf(v);
  if (t.getElementType().isInteger(64))
    return v;
  if (!isa<IntegerType>(t.getElementType()))
    return c.fail(what + " must be an integer tensor, got " + k::typeStr(t));
  auto r = c.createTyped<k::CastOp>(v, {}, {t.clone(c.b.getI64Type())});
  if (failed(r))
    return failure();
  return (*r)[0];
}

/// Normalizes axes against `rank`, sorted; fails on duplicates.
FailureOr<SmallVector<int64_t>> normAxes(NodeContext &c,
                                         ArrayRef<int64_t> axes, int64_t rank) {
  SmallVector<int64_t> out;
  for (int64_t a : axes) {
    auto n = c.normAxis(a, rank);
    if (failed(n))
      return failure();
    out.push_back(*n);
  }
  llvm::sort(out);
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    return c.fail("axes contain a duplicate");
  return out;
}

LogicalResult convertUnsqueeze(NodeContext &c) {
  if (failed(c.requireInputs(2)))
    return failure();
  if (!c.isConstInts(1)) {
    auto y = unsqueezeAtRunTime(c, c.input(0), c.input(1));
    if (failed(y))
      return failure();
    c.outputs.push_back(*y);
    return success();
  }
  auto axes = c.constInts(1, "axes");
  if (failed(axes))
    return failure();
  int64_t outRank = c.typeOf(c.input(0)).getRank() + axes->size();
  auto norm = normAxes(c, *axes, outRank);
  if (failed(norm))
    return failure();
  return c.emit<k::UnsqueezeOp>(
      c.input(0), {c.named("axes", c.b.getDenseI64ArrayAttr(*norm))});
}

LogicalResult convertSqueeze(NodeContext &c) {
  if (failed(c.requireInputs(1)))
    return failure();
  auto t = c.typeOf(c.input(0));
  SmallVector<int64_t> axes;
  if (c.input(1) && !c.isConstInts(1)) {
    auto y = squeezeAtRunTime(c, c.input(0), c.input(1));
    if (failed(y))
      return failure();
    c.outputs.push_back(*y);
    return success();
  }
  if (c.input(1)) {
    auto v = c.constInts(1, "axes");
    if (failed(v))
      return failure();
    auto norm = normAxes(c, *v, t.getRank());
    if (failed(norm))
      return failure();
    axes = *norm;
  } else {
    for (int64_t d = 0; d < t.getRank(); ++d) {
      if (t.isDynamicDim(d))
        return c.fail("squeezing all unit dims needs static dims; dim " +
                      Twine(d) + " is dynamic");
      if (t.getDimSize(d) == 1)
        axes.push_back(d);
    }
  }
  return c.emit<k::SqueezeOp>(c.input(0),
                              {c.named("axes", c.b.getDenseI64ArrayAttr(axes))});
}

LogicalResult convertSplit(NodeContext &c) {
  auto axis = c.getInt("axis", 0);
  if (failed(c.requireInputs(1)) || failed(axis))
    return failure();
  auto t = c.typeOf(c.input(0));
  auto ax = c.normAxis(*axis, t.getRank());
  if (failed(ax))
    return failure();
  int64_t n = c.numOutputs();
  SmallVector<NamedAttribute> attrs{c.named("axis", c.b.getI64IntegerAttr(*ax))};
  SmallVector<int64_t> sizes;
  if (c.input(1) && !c.isConstInts(1))
    return splitAtRunTime(c, c.input(0), *ax, c.input(1));
  if (c.input(1)) {
    auto v = c.constInts(1, "split");
    if (failed(v))
      return failure();
    sizes = *v;
    if ((int64_t)sizes.size() != n)
      return c.fail("split has " + Twine(sizes.size()) + " sizes for " +
                    Twine(n) + " outputs");
  } else if (c.hasAttr("num_outputs")) {
    auto num = c.getInt("num_outputs", 0);
    if (failed(num))
      return failure();
    if (*num != n)
      return c.fail("num_outputs is " + Twine(*num) + " but the node has " +
                    Twine(n) + " outputs");
  }
  if (n < 1)
    return c.fail("needs at least one output");
  int64_t dim = t.getDimSize(*ax);
  SmallVector<Type> types;
  if (sizes.empty() && !ShapedType::isDynamic(dim)) {
    // Equal parts; the last one is smaller when the extent does not divide.
    int64_t each = (dim + n - 1) / n;
    for (int64_t i = 0; i < n; ++i)
      sizes.push_back(std::max<int64_t>(0, std::min(each, dim - each * i)));
  }
  if (!sizes.empty())
    attrs.push_back(c.named("sizes", c.b.getDenseI64ArrayAttr(sizes)));
  for (int64_t i = 0; i < n; ++i) {
    SmallVector<int64_t> shape(t.getShape());
    shape[*ax] = sizes.empty() ? ShapedType::kDynamic : sizes[i];
    types.push_back(t.clone(shape));
  }
  auto r = c.createTyped<k::SplitOp>(c.input(0), attrs, types);
  if (failed(r))
    return failure();
  c.outputs.append(r->begin(), r->end());
  return success();
}

LogicalResult convertSlice(NodeContext &c) {
  if (failed(c.requireInputs(3)))
    return failure();
  auto starts = asI64(c, c.input(1), "starts");
  auto ends = asI64(c, c.input(2), "ends");
  if (failed(starts) || failed(ends))
    return failure();
  auto st = c.typeOf(*starts);
  if (st.getRank() != 1 || st.isDynamicDim(0))
    return c.fail("starts must be 1-D of static length");
  int64_t n = st.getDimSize(0);
  Value axes, steps;
  if (c.input(3)) {
    auto a = asI64(c, c.input(3), "axes");
    if (failed(a))
      return failure();
    axes = *a;
  } else {
    axes = c.i64Vector(llvm::to_vector(llvm::seq<int64_t>(0, n)));
  }
  if (c.input(4)) {
    auto s = asI64(c, c.input(4), "steps");
    if (failed(s))
      return failure();
    steps = *s;
  } else {
    steps = c.i64Vector(SmallVector<int64_t>(n, 1));
  }
  return c.emit<k::SliceOp>({c.input(0), *starts, *ends, axes, steps});
}

LogicalResult convertPad(NodeContext &c) {
  auto mode = c.getString("mode", "constant");
  if (failed(c.requireInputs(2)) || failed(mode))
    return failure();
  int64_t rank = c.typeOf(c.input(0)).getRank();
  auto pads = c.constInts(1, "pads");
  if (failed(pads))
    return failure();
  SmallVector<int64_t> full(2 * rank, 0);
  if (c.input(3)) {
    auto axes = c.constInts(3, "axes");
    if (failed(axes))
      return failure();
    if (pads->size() != 2 * axes->size())
      return c.fail("pads has " + Twine(pads->size()) + " entries for " +
                    Twine(axes->size()) + " axes");
    for (auto [i, a] : llvm::enumerate(*axes)) {
      auto n = c.normAxis(a, rank);
      if (failed(n))
        return failure();
      full[*n] = (*pads)[i];
      full[*n + rank] = (*pads)[i + axes->size()];
    }
  } else {
    if ((int64_t)pads->size() != 2 * rank)
      return c.fail("pads has " + Twine(pads->size()) + " entries, expected " +
                    Twine(2 * rank));
    full = *pads;
  }
  SmallVector<Value> operands{c.input(0)};
  if (c.input(2) && c.typeOf(c.input(2)).getNumElements() != 0)
    operands.push_back(c.input(2));
  return c.emit<k::PadOp>(operands,
                          {c.named("pads", c.b.getDenseI64ArrayAttr(full)),
                           c.named("mode", c.b.getStringAttr(*mode))});
}

LogicalResult convertResize(NodeContext &c) {
  auto mode = c.getString("mode", "nearest");
  auto ctm = c.getString("coordinate_transformation_mode", "half_pixel");
  auto nearest = c.getString("nearest_mode", "round_prefer_floor");
  auto cubic = c.getFloat("cubic_coeff_a", -0.75f);
  auto excl = c.getInt("exclude_outside", 0);
  auto extrap = c.getFloat("extrapolation_value", 0.0f);
  auto antialias = c.getInt("antialias", 0);
  auto policy = c.getString("keep_aspect_ratio_policy", "stretch");
  if (failed(c.requireInputs(1)) || failed(mode) || failed(ctm) ||
      failed(nearest) || failed(cubic) || failed(excl) || failed(extrap) ||
      failed(antialias) || failed(policy))
    return failure();
  if (*antialias)
    return c.fail("antialias is not supported");
  if (c.hasAttr("axes") || *policy != "stretch")
    return c.fail("axes and keep_aspect_ratio_policy are not supported");
  if (*ctm == "tf_crop_and_resize")
    return c.fail("coordinate_transformation_mode tf_crop_and_resize is not "
                  "supported");
  SmallVector<Value> operands{c.input(0)};
  SmallVector<NamedAttribute> attrs{
      c.named("mode", c.b.getStringAttr(*mode)),
      c.named("coordinate_transformation_mode", c.b.getStringAttr(*ctm)),
      c.named("nearest_mode", c.b.getStringAttr(*nearest)),
      c.named("cubic_coeff_a", c.b.getF32FloatAttr(*cubic)),
      c.named("exclude_outside", c.b.getBoolAttr(*excl)),
      c.named("extrapolation_value", c.b.getF32FloatAttr(*extrap))};
  Value scales = c.input(2), sizes = c.input(3);
  // operands: input, [sizes], [scales read at run time]
  int32_t nSizes = 0, nScales = 0;
  if (sizes && c.typeOf(sizes).getNumElements() != 0) {
    auto s = asI64(c, sizes, "sizes");
    if (failed(s))
      return failure();
    operands.push_back(*s);
    nSizes = 1;
  } else if (scales && c.typeOf(scales).getNumElements() != 0) {
    DenseFPElementsAttr attr;
    if (!matchPattern(scales, m_Constant(&attr))) {
      if (!isa<FloatType>(c.typeOf(scales).getElementType()))
        return c.fail("scales must be a float tensor");
      Value s = scales;
      if (!c.typeOf(s).getElementType().isF32()) {
        auto r = c.createTyped<k::CastOp>(s, {},
                                          {c.typeOf(s).clone(c.b.getF32Type())});
        if (failed(r))
          return failure();
        s = (*r)[0];
      }
      operands.push_back(s);
      nScales = 1;
      attrs.push_back(c.named("operandSegmentSizes",
                              c.b.getDenseI32ArrayAttr({1, nSizes, nScales})));
      return c.emit<k::ResizeOp>(operands, attrs);
    }
    SmallVector<float> v;
    for (const APFloat &f : attr.getValues<APFloat>())
      v.push_back(f.convertToFloat());
    attrs.push_back(c.named("scales", c.b.getDenseF32ArrayAttr(v)));
  } else {
    return c.fail("needs a non-empty scales or sizes input");
  }
  attrs.push_back(c.named("operandSegmentSizes",
                          c.b.getDenseI32ArrayAttr({1, nSizes, nScales})));
  return c.emit<k::ResizeOp>(operands, attrs);
}

} // namespace

void ::kiln::import::addShapeConverters(llvm::StringMap<Converter> &m) {
  m["Constant"] = convertConstant;
  m["ConstantOfShape"] = [](NodeContext &c) -> LogicalResult {
    if (failed(c.requireInputs(1)))
      return failure();
    ElementsAttr value;
    if (const auto *a = c.attr("value")) {
      if (a->type() != onnx::AttributeProto::TENSOR)
        return c.fail("attribute 'value' must be a tensor");
      std::string err;
      auto v = decodeTensor(c.ctx(), c.store, a->t(), err);
      if (failed(v))
        return c.fail(err);
      value = *v;
    } else {
      value = DenseElementsAttr::get(
          RankedTensorType::get({1}, c.b.getF32Type()), 0.0f);
    }
    auto shape = asI64(c, c.input(0), "shape");
    if (failed(shape))
      return failure();
    return c.emit<k::ConstantOfShapeOp>(*shape, {c.named("value", value)});
  };
  m["Shape"] = [](NodeContext &c) -> LogicalResult {
    auto start = c.getInt("start", 0);
    if (failed(c.requireInputs(1)) || failed(start))
      return failure();
    SmallVector<NamedAttribute> attrs{
        c.named("start", c.b.getI64IntegerAttr(*start))};
    if (c.hasAttr("end")) {
      auto end = c.getInt("end", 0);
      if (failed(end))
        return failure();
      attrs.push_back(c.named("end", c.b.getI64IntegerAttr(*end)));
    }
    return c.emit<k::ShapeOp>(c.input(0), attrs);
  };
  m["Size"] = [](NodeContext &c) -> LogicalResult {
    if (failed(c.requireInputs(1)))
      return failure();
    return c.emit<k::SizeOp>(c.input(0));
  };
  m["Reshape"] = [](NodeContext &c) -> LogicalResult {
    auto allowzero = c.getInt("allowzero", 0);
    if (failed(c.requireInputs(2)) || failed(allowzero))
      return failure();
    return c.emit<k::ReshapeOp>(
        {c.input(0), c.input(1)},
        {c.named("allowzero", c.b.getBoolAttr(*allowzero))});
  };
  m["Transpose"] = [](NodeContext &c) -> LogicalResult {
    if (failed(c.requireInputs(1)))
      return failure();
    int64_t rank = c.typeOf(c.input(0)).getRank();
    auto perm = c.getInts(
        "perm", llvm::to_vector(llvm::reverse(llvm::seq<int64_t>(0, rank))));
    if (failed(perm))
      return failure();
    return c.emit<k::TransposeOp>(
        c.input(0), {c.named("perm", c.b.getDenseI64ArrayAttr(*perm))});
  };
  m["Concat"] = [](NodeContext &c) -> LogicalResult {
    if (!c.hasAttr("axis"))
      return c.fail("attribute 'axis' is required");
    auto axis = c.getInt("axis", 0);
    if (c.numInputs() == 0)
      return c.fail("expects at least one input");
    if (failed(axis) || failed(c.requireInputs(c.numInputs())))
      return failure();
    return c.emit<k::ConcatOp>(c.inputs,
                               {c.named("axis", c.b.getI64IntegerAttr(*axis))});
  };
  m["Split"] = convertSplit;
  m["Slice"] = convertSlice;
  m["Unsqueeze"] = convertUnsqueeze;
  m["Squeeze"] = convertSqueeze;
  m["Flatten"] = [](NodeContext &c) -> LogicalResult {
    auto axis = c.getInt("axis", 1);
    if (failed(c.requireInputs(1)) || failed(axis))
      return failure();
    return c.emit<k::FlattenOp>(c.input(0),
                                {c.named("axis", c.b.getI64IntegerAttr(*axis))});
  };
  m["Gather"] = [](NodeContext &c) -> LogicalResult {
    auto axis = c.getInt("axis", 0);
    if (failed(c.requireInputs(2)) || failed(axis))
      return failure();
    return c.emit<k::GatherOp>({c.input(0), c.input(1)},
                               {c.named("axis", c.b.getI64IntegerAttr(*axis))});
  };
  m["GatherElements"] = [](NodeContext &c) -> LogicalResult {
    auto axis = c.getInt("axis", 0);
    if (failed(c.requireInputs(2)) || failed(axis))
      return failure();
    return c.emit<k::GatherElementsOp>(
        {c.input(0), c.input(1)}, {c.named("axis", c.b.getI64IntegerAttr(*axis))});
  };
  m["GatherND"] = [](NodeContext &c) -> LogicalResult {
    auto bd = c.getInt("batch_dims", 0);
    if (failed(c.requireInputs(2)) || failed(bd))
      return failure();
    return c.emit<k::GatherNDOp>(
        {c.input(0), c.input(1)},
        {c.named("batch_dims", c.b.getI64IntegerAttr(*bd))});
  };
  m["ScatterND"] = [](NodeContext &c) -> LogicalResult {
    auto red = c.getString("reduction", "none");
    if (failed(c.requireInputs(3)) || failed(red))
      return failure();
    return c.emit<k::ScatterNDOp>({c.input(0), c.input(1), c.input(2)},
                                  {c.named("reduction", c.b.getStringAttr(*red))});
  };
  m["ScatterElements"] = [](NodeContext &c) -> LogicalResult {
    auto axis = c.getInt("axis", 0);
    auto red = c.getString("reduction", "none");
    if (failed(c.requireInputs(3)) || failed(axis) || failed(red))
      return failure();
    return c.emit<k::ScatterElementsOp>(
        {c.input(0), c.input(1), c.input(2)},
        {c.named("axis", c.b.getI64IntegerAttr(*axis)),
         c.named("reduction", c.b.getStringAttr(*red))});
  };
  m["Expand"] = [](NodeContext &c) -> LogicalResult {
    if (failed(c.requireInputs(2)))
      return failure();
    return c.emit<k::ExpandOp>({c.input(0), c.input(1)});
  };
  m["Tile"] = [](NodeContext &c) -> LogicalResult {
    if (failed(c.requireInputs(2)))
      return failure();
    return c.emit<k::TileOp>({c.input(0), c.input(1)});
  };
  m["Pad"] = convertPad;
  m["Range"] = [](NodeContext &c) -> LogicalResult {
    if (failed(c.requireInputs(3)))
      return failure();
    return c.emit<k::RangeOp>({c.input(0), c.input(1), c.input(2)});
  };
  m["Trilu"] = [](NodeContext &c) -> LogicalResult {
    auto upper = c.getInt("upper", 1);
    if (failed(c.requireInputs(1)) || failed(upper))
      return failure();
    SmallVector<Value> operands{c.input(0)};
    if (c.input(1))
      operands.push_back(c.input(1));
    return c.emit<k::TriluOp>(operands,
                              {c.named("upper", c.b.getBoolAttr(*upper))});
  };
  m["Resize"] = convertResize;
  m["DepthToSpace"] = [](NodeContext &c) -> LogicalResult {
    auto bs = c.getInt("blocksize", 0);
    auto mode = c.getString("mode", "DCR");
    if (failed(c.requireInputs(1)) || failed(bs) || failed(mode))
      return failure();
    return c.emit<k::DepthToSpaceOp>(
        c.input(0), {c.named("blocksize", c.b.getI64IntegerAttr(*bs)),
                     c.named("mode", c.b.getStringAttr(*mode))});
  };
  m["SpaceToDepth"] = [](NodeContext &c) -> LogicalResult {
    auto bs = c.getInt("blocksize", 0);
    if (failed(c.requireInputs(1)) || failed(bs))
      return failure();
    return c.emit<k::SpaceToDepthOp>(
        c.input(0), {c.named("blocksize", c.b.getI64IntegerAttr(*bs))});
  };
  m["NonZero"] = [](NodeContext &c) -> LogicalResult {
    if (failed(c.requireInputs(1)))
      return failure();
    return c.emit<k::NonZeroOp>(c.input(0));
  };
  m["OneHot"] = [](NodeContext &c) -> LogicalResult {
    auto axis = c.getInt("axis", -1);
    if (failed(c.requireInputs(3)) || failed(axis))
      return failure();
    return c.emit<k::OneHotOp>({c.input(0), c.input(1), c.input(2)},
                               {c.named("axis", c.b.getI64IntegerAttr(*axis))});
  };
}
