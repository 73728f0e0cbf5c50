//===- Sequences.cpp - ONNX sequence ops on import-time sequences ---------===//
//
// A sequence exists at import only, as a list of tensor values (a Slot):
// enough for the sequences an unrolled Loop builds and concatenates, as
// PyTorch's scripted loops do. A sequence never reaches run time.
//
//===----------------------------------------------------------------------===//

#include "GraphImporter.h"
#include "Emitter.h"

using namespace ::kiln::import;

/// ConcatFromSequence's `axis` normalized for tensors of rank `elemRank`
/// (one more with `new_axis`), and `new_axis`; failure names the problem.
static FailureOr<std::pair<int64_t, bool>>
concatAxis(NodeContext &nc, int64_t elemRank, std::string &why) {
  auto axisAttr = nc.getInt("axis", INT64_MAX);
  auto newAxis = nc.getInt("new_axis", 0);
  if (failed(axisAttr) || failed(newAxis))
    return failure();
  if (*axisAttr == INT64_MAX) {
    why = "ConcatFromSequence needs an axis";
    return failure();
  }
  auto axis = nc.normAxis(*axisAttr, elemRank + (*newAxis ? 1 : 0));
  if (failed(axis))
    return failure();
  return std::make_pair(*axis, *newAxis != 0);
}

/// A sequence op reading a sequence a run-time Loop built (`stacked`: its
/// tensors stacked on axis 0, their count known at run time only):
/// SequenceLength is that axis's extent, SequenceAt a Gather along it (the
/// position may be a run-time value), ConcatFromSequence moves it to `axis`
/// (new_axis = 1, torch.stack) or merges it into `axis` (new_axis = 0,
/// torch.cat; the dims after the axis must be static).
LogicalResult GraphImporter::convertStackedSequenceOp(
    const onnx::NodeProto &node, NodeContext &nc, Value stacked,
    const std::string &prefix,
    llvm::function_ref<LogicalResult(Slot)> result) {
  const std::string &op = node.op_type();
  FirstError diag(ctx);
  KilnEmitter e(nc);
  auto failNode = [&](const std::string &msg) {
    return fail(prefix + (diag.msg.empty() ? msg : diag.msg));
  };
  auto type = nc.typeOf(stacked);
  if (op == "SequenceLength") {
    Value shape = e.op<mlir::kiln::ShapeOp>(
        stacked, {nc.named("start", nc.b.getI64IntegerAttr(0)),
                  nc.named("end", nc.b.getI64IntegerAttr(1))});
    Value n = e.op<mlir::kiln::ReshapeOp>({shape, nc.i64Vector({})});
    if (e.failed)
      return failNode("the sequence's length");
    return result(Slot::of(n));
  }
  if (op == "SequenceAt") {
    if (!nc.input(1))
      return failNode("SequenceAt needs a position");
    Value v = e.op<mlir::kiln::GatherOp>(
        {stacked, nc.input(1)}, {nc.named("axis", nc.b.getI64IntegerAttr(0))});
    if (e.failed)
      return failNode("the position must be an integer scalar");
    return result(Slot::of(v));
  }
  if (op == "ConcatFromSequence") {
    int64_t elemRank = type.getRank() - 1;
    std::string why;
    auto parsed = concatAxis(nc, elemRank, why);
    if (failed(parsed))
      return failNode(why);
    int64_t *axis = &parsed->first;
    bool *newAxis = &parsed->second;
    // Axis 0 (the sequence's) moves to position `axis`.
    SmallVector<int64_t> perm;
    for (int64_t d = 1; d <= *axis; ++d)
      perm.push_back(d);
    perm.push_back(0);
    for (int64_t d = *axis + 1; d <= elemRank; ++d)
      perm.push_back(d);
    Value moved = *axis == 0 ? stacked : e.transpose(stacked, perm);
    if (*newAxis) {
      if (e.failed)
        return failNode("stacking the sequence");
      return result(Slot::of(moved));
    }
    if (elemRank == 0)
      return failNode("concatenating a sequence of scalars");
    // Merge dims `axis` (the count) and `axis + 1`: the others are copied
    // (0) before the axis and must be static after it.
    SmallVector<int64_t> shape;
    for (int64_t d = 0; d < *axis; ++d)
      shape.push_back(0);
    shape.push_back(-1);
    for (int64_t d = *axis + 2; d <= elemRank; ++d) {
      int64_t ext = nc.typeOf(moved).getDimSize(d);
      if (ShapedType::isDynamic(ext))
        return failNode("concatenating a run-time Loop's sequence along axis " +
                        std::to_string(*axis) +
                        " needs the dims after it known at import");
      shape.push_back(ext);
    }
    Value r = e.op<mlir::kiln::ReshapeOp>({moved, nc.i64Vector(shape)});
    if (e.failed)
      return failNode("concatenating the sequence");
    return result(Slot::of(r));
  }
  return failNode("input 0 is a sequence a run-time Loop built, which only "
                  "ConcatFromSequence, SequenceAt and SequenceLength read");
}

/// The sequence ops on import-time sequences (lists of tensor values):
/// SequenceEmpty, SequenceConstruct, SequenceInsert, SequenceAt,
/// SequenceErase, SequenceLength, ConcatFromSequence and SplitToSequence.
/// Positions must be known at import; a sequence never reaches run time.
LogicalResult GraphImporter::convertSequenceOp(const onnx::NodeProto &node,
                                               int64_t opset,
                                               const std::string &prefix,
                                               Location loc) {
  const std::string &op = node.op_type();
  SmallVector<Slot> ins;
  if (failed(nodeSlots(node, prefix, ins)))
    return failure();
  SmallVector<Value> tensors;
  for (const Slot &s : ins)
    tensors.push_back(s.tensor);
  FirstError diag(ctx);
  NodeContext nc(node, opset, builder, loc, tensors, store);
  KilnEmitter e(nc);
  auto failNode = [&](const std::string &msg) {
    return fail(prefix + (diag.msg.empty() ? msg : diag.msg));
  };
  auto seqInput = [&](size_t i) -> FailureOr<SmallVector<Value>> {
    if (i >= ins.size() || !ins[i].isSeq) {
      (void)failNode("input " + std::to_string(i) + " must be a sequence");
      return failure();
    }
    if (ins[i].stacked) {
      (void)failNode("input " + std::to_string(i) +
                     " is a sequence a run-time Loop built, which only "
                     "ConcatFromSequence, SequenceAt and SequenceLength read");
      return failure();
    }
    return ins[i].seq;
  };
  auto tensorInput = [&](size_t i) -> Value {
    if (i >= ins.size() || ins[i].isSeq || !ins[i].tensor) {
      (void)failNode("input " + std::to_string(i) + " must be a tensor");
      return Value();
    }
    return ins[i].tensor;
  };
  // A constant position in [-n, n + extra), normalized to [0, n + extra).
  auto position = [&](size_t i, int64_t n, int64_t extra,
                      int64_t dflt) -> FailureOr<int64_t> {
    if (i >= ins.size() || !ins[i].tensor)
      return dflt;
    auto p = nc.constInts(i, "the position");
    if (failed(p) || p->size() != 1) {
      (void)failNode("the position must be one integer known at import");
      return failure();
    }
    int64_t v = (*p)[0];
    if (v < -n || v >= n + extra) {
      (void)failNode("position " + std::to_string(v) +
                     " is out of range for a sequence of " + std::to_string(n));
      return failure();
    }
    return v < 0 ? v + n : v;
  };
  auto result = [&](Slot s) -> LogicalResult {
    if (node.output_size() < 1)
      return failNode("the node has no output");
    if (!node.output(0).empty())
      bind(node.output(0), std::move(s));
    return success();
  };

  if (op == "SequenceEmpty")
    return result(Slot::sequence({}));
  if (!ins.empty() && ins[0].stacked)
    return convertStackedSequenceOp(node, nc, ins[0].stacked, prefix,
                                    result);
  if (op == "SequenceConstruct") {
    SmallVector<Value> vs;
    for (size_t i = 0; i < ins.size(); ++i) {
      Value v = tensorInput(i);
      if (!v)
        return failure();
      vs.push_back(v);
    }
    return result(Slot::sequence(vs));
  }
  if (op == "SequenceLength") {
    auto seq = seqInput(0);
    if (failed(seq))
      return failure();
    return result(Slot::of(nc.i64Scalar(seq->size())));
  }
  if (op == "SequenceInsert" || op == "SequenceAt" || op == "SequenceErase") {
    auto seq = seqInput(0);
    if (failed(seq))
      return failure();
    int64_t n = seq->size();
    if (op == "SequenceInsert") {
      Value v = tensorInput(1);
      if (!v)
        return failure();
      auto p = position(2, n, 1, n);
      if (failed(p))
        return failure();
      seq->insert(seq->begin() + *p, v);
      return result(Slot::sequence(*seq));
    }
    if (n == 0)
      return failNode("the sequence is empty");
    auto p = position(1, n, 0, n - 1);
    if (failed(p))
      return failure();
    if (op == "SequenceAt")
      return result(Slot::of((*seq)[*p]));
    seq->erase(seq->begin() + *p);
    return result(Slot::sequence(*seq));
  }
  if (op == "ConcatFromSequence") {
    auto seq = seqInput(0);
    if (failed(seq))
      return failure();
    if (seq->empty())
      return failNode("the sequence is empty");
    std::string why;
    auto parsed = concatAxis(nc, nc.typeOf((*seq)[0]).getRank(), why);
    if (failed(parsed))
      return failNode(why);
    int64_t *axis = &parsed->first;
    bool *newAxis = &parsed->second;
    SmallVector<Value> parts;
    for (Value v : *seq)
      parts.push_back(*newAxis ? e.unsqueeze(v, *axis) : v);
    Value r = e.concat(parts, *axis);
    if (e.failed)
      return failNode("the sequence's tensors do not concatenate");
    return result(Slot::of(r));
  }
  if (op == "SplitToSequence") {
    Value x = tensorInput(0);
    if (!x)
      return failure();
    auto axisAttr = nc.getInt("axis", 0);
    auto keepdims = nc.getInt("keepdims", 1);
    if (failed(axisAttr) || failed(keepdims))
      return failNode("");
    auto t = nc.typeOf(x);
    auto axis = nc.normAxis(*axisAttr, t.getRank());
    if (failed(axis))
      return failNode("");
    int64_t len = t.getDimSize(*axis);
    if (ShapedType::isDynamic(len))
      return failNode("the split axis has a dynamic length (give it with "
                      "--input-shape)");
    SmallVector<Value> parts;
    if (ins.size() < 2 || !ins[1].tensor) {
      if (len > kMaxUnrolledIterations)
        return failNode("splitting into more than " +
                        std::to_string(kMaxUnrolledIterations) + " tensors");
      for (int64_t i = 0; i < len; ++i)
        parts.push_back(*keepdims ? e.slice(x, i, i + 1, *axis)
                                  : e.at(x, i, *axis));
    } else {
      auto split = nc.constInts(1, "split");
      if (failed(split))
        return failNode("split must be known at import");
      SmallVector<int64_t> sizes;
      if (nc.typeOf(ins[1].tensor).getRank() == 0) {
        int64_t chunk = (*split)[0];
        if (chunk <= 0)
          return failNode("split must be positive");
        for (int64_t lo = 0; lo < len; lo += chunk)
          sizes.push_back(std::min(chunk, len - lo));
      } else {
        sizes.assign(split->begin(), split->end());
      }
      int64_t lo = 0;
      for (int64_t sz : sizes) {
        if (sz < 0 || lo + sz > len)
          return failNode("the split sizes do not add up to the axis length " +
                          std::to_string(len));
        parts.push_back(e.slice(x, lo, lo + sz, *axis));
        lo += sz;
      }
      if (lo != len)
        return failNode("the split sizes do not add up to the axis length " +
                        std::to_string(len));
    }
    if (e.failed)
      return failNode("splitting failed");
    return result(Slot::sequence(parts));
  }
  return fail(prefix + "unsupported operator (of the sequence ops, kiln "
                       "imports SequenceEmpty, SequenceConstruct, "
                       "SequenceInsert, SequenceAt, SequenceErase, "
                       "SequenceLength, ConcatFromSequence, SplitToSequence)");
}
