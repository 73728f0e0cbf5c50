//===- Loops.cpp - ONNX Loop and Scan -------------------------------------===//
//
// Loop and Scan are unrolled at import when their iteration count is known
// then (a constant trip count and condition, a shape given by
// --input-shape; a static scan length): each iteration imports the body
// again (GraphImporter::importSubgraph) with its inputs bound to that
// iteration's values. A Loop whose count or condition is known only at run
// time becomes a kiln.loop (scf.while after lowering); such a Scan is
// refused by node.
//
//===----------------------------------------------------------------------===//

#include "GraphImporter.h"
#include "Emitter.h"

#include "mlir/IR/Matchers.h"

#include <limits>

using namespace ::kiln::import;

namespace {

/// The one-element value of a constant scalar, or failure when `v` is not a
/// constant known at import.
FailureOr<int64_t> constScalar(Value v) {
  DenseElementsAttr c;
  if (!v || !matchPattern(v, m_Constant(&c)) || c.getNumElements() != 1)
    return failure();
  if (c.getElementType().isInteger(1))
    return (int64_t)*c.getValues<bool>().begin();
  if (isa<IntegerType>(c.getElementType()))
    return (*c.getValues<APInt>().begin()).getSExtValue();
  return failure();
}

const onnx::GraphProto *bodyOf(const onnx::NodeProto &node) {
  for (const auto &a : node.attribute())
    if (a.name() == "body" && a.has_g())
      return &a.g();
  return nullptr;
}

} // namespace

/// ONNX Loop. When the trip count and the condition are known at import
/// (constants, or shape values once `--input-shape` gives the shapes), as
/// in `for i in range(N)` exports, it is unrolled (unrollLoop); a count or
/// condition known only at run time, a body whose condition is, or more
/// than kMaxUnrolledIterations iterations make it a kiln.loop
/// (buildRunTimeLoop), lowered to scf.while.
LogicalResult GraphImporter::convertLoop(const onnx::NodeProto &node,
                                         int64_t opset,
                                         const std::string &prefix,
                                         Location loc) {
  const onnx::GraphProto *body = bodyOf(node);
  if (!body)
    return fail(prefix + "Loop needs a body graph");
  SmallVector<Slot> ins;
  if (failed(nodeSlots(node, prefix, ins)))
    return failure();
  while (ins.size() < 2)
    ins.push_back(Slot());
  if (ins[0].isSeq || ins[1].isSeq)
    return fail(prefix + "the trip count and the condition must be tensors");
  Value tripIn = ins[0].tensor, condIn = ins[1].tensor;
  size_t numCarried = ins.size() - 2;
  if (body->input_size() != (int)numCarried + 2)
    return fail(prefix + "the body has " + std::to_string(body->input_size()) +
                " inputs, expected " + std::to_string(numCarried + 2) +
                " (iteration number, condition, " + std::to_string(numCarried) +
                " loop-carried values)");
  if (body->output_size() < (int)numCarried + 1)
    return fail(prefix + "the body has " + std::to_string(body->output_size()) +
                " outputs, expected at least " + std::to_string(numCarried + 1));
  size_t numScans = body->output_size() - 1 - numCarried;
  if (node.output_size() > (int)(numCarried + numScans))
    return fail(prefix + "the node lists " + std::to_string(node.output_size()) +
                " outputs, the body gives " +
                std::to_string(numCarried + numScans));
  if (!tripIn && !condIn)
    return fail(prefix + "a Loop with neither a trip count nor a condition "
                         "never ends");
  SmallVector<Slot> results;
  bool known = (!tripIn || succeeded(constScalar(tripIn))) &&
               (!condIn || succeeded(constScalar(condIn)));
  bool runTime = !known;
  if (known) {
    // Unrolled into a detached block first: if it turns out to need a
    // run-time loop, what it imported is dropped.
    auto scratch = std::make_unique<Block>();
    std::string savedError = error;
    int64_t savedNodes = unrolledNodes;
    LogicalResult unrolled = failure();
    {
      OpBuilder::InsertionGuard g(builder);
      builder.setInsertionPointToStart(scratch.get());
      unrolled = unrollLoop(node, opset, prefix, loc, *body, ins, numScans,
                            results, runTime);
    }
    if (succeeded(unrolled)) {
      builder.getInsertionBlock()->getOperations().splice(
          builder.getInsertionPoint(), scratch->getOperations());
    } else {
      if (!runTime)
        return failure();
      error = savedError;
      unrolledNodes = savedNodes;
      results.clear();
    }
    while (!scratch->empty()) {
      scratch->back().dropAllUses();
      scratch->back().erase();
    }
  }
  if (runTime && failed(buildRunTimeLoop(node, prefix, loc, *body, ins,
                                         numScans, results)))
    return failure();
  for (int i = 0; i < node.output_size(); ++i)
    if (!node.output(i).empty())
      bind(node.output(i), results[i]);
  return success();
}

/// Loop unrolled at import: each iteration imports the body with iter_num
/// and cond bound to constants; loop-carried values flow from one
/// iteration's import to the next (their shapes may change); scan outputs
/// are stacked on a new axis 0. Sets `runTime` when it fails only because
/// the loop must run at run time.
LogicalResult GraphImporter::unrollLoop(const onnx::NodeProto &node,
                                        int64_t opset, const std::string &prefix,
                                        Location loc, const onnx::GraphProto &body,
                                        ArrayRef<Slot> ins, size_t numScans,
                                        SmallVector<Slot> &results,
                                        bool &runTime) {
  Value tripIn = ins[0].tensor, condIn = ins[1].tensor;
  size_t numCarried = ins.size() - 2;
  int64_t tripCount = kMaxUnrolledIterations + 1;
  if (tripIn)
    tripCount = std::max<int64_t>(*constScalar(tripIn), 0);
  bool cond = !condIn || *constScalar(condIn) != 0;
  auto i64 = RankedTensorType::get({}, builder.getI64Type());
  auto i1 = RankedTensorType::get({}, builder.getI1Type());
  SmallVector<Slot> carried(ins.begin() + 2, ins.end());
  SmallVector<SmallVector<Value>> scans(numScans);
  int64_t iter = 0;
  for (; iter < tripCount && cond; ++iter) {
    if (iter == kMaxUnrolledIterations) {
      runTime = true;
      return failure();
    }
    SmallVector<Slot> bound;
    bound.push_back(Slot::of(mlir::kiln::ConstantOp::create(
        builder, loc, DenseIntElementsAttr::get(i64, {iter}))));
    bound.push_back(Slot::of(mlir::kiln::ConstantOp::create(
        builder, loc, DenseIntElementsAttr::get(i1, {true}))));
    bound.append(carried);
    SmallVector<Slot> outs;
    ++loopDepth;
    LogicalResult imported = importSubgraph(
        body, bound, outs, prefix + "iteration " + std::to_string(iter) + ": the body");
    --loopDepth;
    if (failed(imported))
      return failure();
    // The body's condition output decides whether the loop goes on, unless
    // the node has no condition input (then the body's is ignored).
    if (condIn) {
      auto c = constScalar(outs[0].tensor);
      if (failed(c)) {
        runTime = true;
        return failure();
      }
      cond = *c != 0;
    }
    for (size_t i = 0; i < numCarried; ++i)
      carried[i] = outs[1 + i];
    for (size_t k = 0; k < numScans; ++k) {
      if (outs[1 + numCarried + k].isSeq)
        return fail(prefix + "scan output " + std::to_string(k) +
                    " is a sequence");
      scans[k].push_back(outs[1 + numCarried + k].tensor);
    }
  }
  if (!tripIn && cond) {
    runTime = true;
    return failure();
  }
  if (iter == 0 && numScans > 0)
    return fail(prefix + "the loop runs no iteration, so its scan outputs' "
                         "element shapes are unknown");
  // Scan outputs: each iteration's value gains a leading axis, then all are
  // joined on it.
  FirstError diag(ctx);
  NodeContext nc(node, opset, builder, loc, {}, store);
  KilnEmitter e(nc);
  for (size_t k = 0; k < numScans; ++k) {
    SmallVector<Value> parts;
    for (Value v : scans[k])
      parts.push_back(e.unsqueeze(v, 0));
    if (e.failed)
      break;
    nc.outputs.push_back(e.concat(parts, 0));
  }
  if (e.failed)
    return fail(prefix + "stacking the scan outputs: " +
                (diag.msg.empty() ? "the iterations' shapes differ" : diag.msg));
  results = carried;
  for (Value v : nc.outputs)
    results.push_back(Slot::of(v));
  return success();
}

/// Whether the body only appends to loop-carried sequence `k` (body input
/// 2 + k, output 1 + k): one SequenceInsert at the end reads it and makes
/// the body's output, and nothing else reads either. Then the sequence is
/// the iterations' appended tensors, as in PyTorch's scripted
/// `outs.append(h)` loops.
static bool onlyAppends(const onnx::GraphProto &body, size_t k) {
  const std::string &in = body.input(2 + k).name();
  const std::string &out = body.output(1 + k).name();
  int inserts = 0;
  for (const auto &n : body.node()) {
    std::set<std::string> reads(n.input().begin(), n.input().end());
    for (const auto &a : n.attribute())
      if (a.has_g())
        capturedNames(a.g(), reads);
    bool isAppend = n.op_type() == "SequenceInsert" && n.domain().empty() &&
                    n.input_size() >= 2 && n.input(0) == in &&
                    (n.input_size() == 2 || n.input(2).empty()) &&
                    n.output_size() == 1 && n.output(0) == out;
    if (isAppend) {
      ++inserts;
      if (n.input(1) == in)
        return false;
      continue;
    }
    if (reads.count(in) || reads.count(out))
      return false;
  }
  for (int o = 0; o < body.output_size(); ++o)
    if (o != (int)k + 1 && (body.output(o).name() == in || body.output(o).name() == out))
      return false;
  return inserts == 1;
}

/// Loop as a kiln.loop. The body is imported once into the op's block,
/// with the loop-carried values typed as their initial values; where the
/// body yields a different extent, it is imported again with that dim
/// dynamic. A loop-carried sequence that starts empty and that the body
/// only appends to becomes one more scan output, read after the loop as a
/// stacked sequence (convertStackedSequenceOp); other sequences are
/// refused. Scan outputs need a trip count.
LogicalResult GraphImporter::buildRunTimeLoop(const onnx::NodeProto &node,
                                              const std::string &prefix,
                                              Location loc,
                                              const onnx::GraphProto &body,
                                              ArrayRef<Slot> ins,
                                              size_t numScans,
                                              SmallVector<Slot> &results) {
  Value tripIn = ins[0].tensor, condIn = ins[1].tensor;
  size_t numCarried = ins.size() - 2;
  auto i64 = RankedTensorType::get({}, builder.getI64Type());
  auto i1 = RankedTensorType::get({}, builder.getI1Type());
  auto scalarOf = [&](Value v, Type elem, const char *what) -> FailureOr<Value> {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    if (!t || t.getElementType() != elem || !t.hasStaticShape() ||
        t.getNumElements() != 1) {
      (void)fail(prefix + "the " + what + " must be a tensor of one element");
      return failure();
    }
    return v;
  };
  // Which carried values are tensors (kiln.loop operands) and which are
  // appended-to sequences (extra scan outputs).
  SmallVector<size_t> tensorCarried, seqCarried;
  for (size_t i = 0; i < numCarried; ++i) {
    const Slot &s = ins[2 + i];
    if (!s.isSeq) {
      if (!s.tensor)
        return fail(prefix + "loop-carried value " + std::to_string(i) +
                    " is missing");
      tensorCarried.push_back(i);
      continue;
    }
    if (s.stacked || !s.seq.empty() || !onlyAppends(body, i))
      return fail(prefix + "loop-carried value " + std::to_string(i) +
                  " is a sequence; a run-time Loop carries only sequences "
                  "that start empty and that its body only appends to");
    seqCarried.push_back(i);
  }
  size_t allScans = numScans + seqCarried.size();
  Value trip, cond;
  if (tripIn) {
    auto t = scalarOf(tripIn, builder.getI64Type(), "trip count");
    if (failed(t))
      return failure();
    trip = *t;
  } else {
    if (allScans)
      return fail(prefix + "a Loop without a trip count cannot have scan "
                           "outputs or build sequences at run time (kiln "
                           "preallocates them)");
    trip = mlir::kiln::ConstantOp::create(
        builder, loc,
        DenseIntElementsAttr::get(i64, {std::numeric_limits<int64_t>::max()}));
  }
  if (condIn) {
    auto c = scalarOf(condIn, builder.getI1Type(), "condition");
    if (failed(c))
      return failure();
    cond = *c;
  } else {
    cond = mlir::kiln::ConstantOp::create(builder, loc,
                                          DenseIntElementsAttr::get(i1, {true}));
  }
  SmallVector<Value> inits;
  SmallVector<Type> carriedTypes;
  for (size_t i : tensorCarried) {
    inits.push_back(ins[2 + i].tensor);
    carriedTypes.push_back(inits.back().getType());
  }
  // Import the body; if a carried value's yielded type does not fit its
  // type, widen the dims that differ and import again.
  std::unique_ptr<Block> block;
  SmallVector<Value> yielded; // condition, tensor carried, scans, appended
  for (int round = 0;; ++round) {
    block = std::make_unique<Block>();
    block->addArgument(i64, loc);
    block->addArgument(i1, loc);
    SmallVector<Slot> bound{Slot::of(block->getArgument(0)),
                            Slot::of(block->getArgument(1))};
    for (size_t i = 0, t = 0; i < numCarried; ++i) {
      if (ins[2 + i].isSeq) {
        bound.push_back(Slot::sequence({}));
        continue;
      }
      bound.push_back(Slot::of(block->addArgument(carriedTypes[t++], loc)));
    }
    SmallVector<Slot> outs;
    {
      OpBuilder::InsertionGuard g(builder);
      builder.setInsertionPointToStart(block.get());
      if (failed(importSubgraph(body, bound, outs, prefix + "the body")))
        return failure();
    }
    auto tensorOut = [&](size_t o) -> FailureOr<Value> {
      if (outs[o].isSeq || !outs[o].tensor) {
        (void)fail(prefix + "body output " + std::to_string(o) +
                   " must be a tensor");
        return failure();
      }
      return outs[o].tensor;
    };
    yielded.clear();
    auto c = tensorOut(0);
    if (failed(c))
      return failure();
    yielded.push_back(*c);
    for (size_t i : tensorCarried) {
      auto v = tensorOut(1 + i);
      if (failed(v))
        return failure();
      yielded.push_back(*v);
    }
    for (size_t k = 0; k < numScans; ++k) {
      auto v = tensorOut(1 + numCarried + k);
      if (failed(v))
        return failure();
      yielded.push_back(*v);
    }
    for (size_t i : seqCarried) {
      const Slot &appended = outs[1 + i];
      if (!appended.isSeq || appended.stacked || appended.seq.size() != 1)
        return fail(prefix + "loop-carried sequence " + std::to_string(i) +
                    ": the body must append one tensor per iteration");
      yielded.push_back(appended.seq[0]);
    }
    bool widened = false;
    for (size_t t = 0; t < tensorCarried.size(); ++t) {
      auto want = cast<RankedTensorType>(carriedTypes[t]);
      auto got = cast<RankedTensorType>(yielded[1 + t].getType());
      if (got.getElementType() != want.getElementType() ||
          got.getRank() != want.getRank())
        return fail(prefix + "loop-carried value " +
                    std::to_string(tensorCarried[t]) +
                    " changes element type or rank between iterations");
      SmallVector<int64_t> dims(want.getShape());
      for (int64_t d = 0; d < want.getRank(); ++d)
        if (!want.isDynamicDim(d) && got.getDimSize(d) != want.getDimSize(d)) {
          dims[d] = ShapedType::kDynamic;
          widened = true;
        }
      carriedTypes[t] = RankedTensorType::get(dims, want.getElementType());
    }
    if (!widened)
      break;
    if (round == 8)
      return fail(prefix + "the loop-carried values' types do not settle");
    block->dropAllDefinedValueUses();
  }
  if (!condIn) // ONNX: without a condition input the body's is ignored
    yielded[0] = mlir::kiln::ConstantOp::create(
        builder, loc, DenseIntElementsAttr::get(i1, {true}));
  else if (failed(scalarOf(yielded[0], builder.getI1Type(), "body's condition")))
    return failure();
  SmallVector<Type> resultTypes(carriedTypes);
  for (size_t k = 0; k < allScans; ++k) {
    auto elem = cast<RankedTensorType>(
        yielded[1 + tensorCarried.size() + k].getType());
    SmallVector<int64_t> dims{ShapedType::kDynamic};
    llvm::append_range(dims, elem.getShape());
    resultTypes.push_back(RankedTensorType::get(dims, elem.getElementType()));
  }
  {
    OpBuilder::InsertionGuard g(builder);
    builder.setInsertionPointToEnd(block.get());
    mlir::kiln::YieldOp::create(builder, loc, yielded);
  }
  auto loop = mlir::kiln::LoopOp::create(builder, loc, resultTypes, trip, cond,
                                         inits);
  loop.getBody().push_back(block.release());
  if (failed(loop.verify()))
    return fail(prefix + "the run-time Loop does not verify");
  // Node outputs: carried values (tensors, or stacked sequences), then the
  // scan outputs.
  results.assign(numCarried + numScans, Slot());
  size_t r = 0;
  for (size_t i : tensorCarried)
    results[i] = Slot::of(loop.getResult(r++));
  for (size_t k = 0; k < numScans; ++k)
    results[numCarried + k] = Slot::of(loop.getResult(r++));
  for (size_t i : seqCarried)
    results[i] = Slot::stackedSequence(loop.getResult(r++));
  return success();
}

/// ONNX Scan (opset 9 and later), unrolled at import over the scan inputs'
/// static length: each iteration binds the states and one slice of each
/// scan input (forward or reverse, along its axis), imports the body, and
/// the scan outputs are stacked along their axes in their directions.
LogicalResult GraphImporter::convertScan(const onnx::NodeProto &node,
                                         int64_t opset,
                                         const std::string &prefix,
                                         Location loc) {
  const onnx::GraphProto *body = bodyOf(node);
  if (!body)
    return fail(prefix + "Scan needs a body graph");
  SmallVector<Slot> slots;
  if (failed(nodeSlots(node, prefix, slots)))
    return failure();
  SmallVector<Value> ins;
  for (const auto &[i, s] : llvm::enumerate(slots)) {
    if (s.isSeq || !s.tensor)
      return fail(prefix + "input " + std::to_string(i) +
                  " must be a tensor");
    ins.push_back(s.tensor);
  }
  FirstError diag(ctx);
  NodeContext nc(node, opset, builder, loc, ins, store);
  auto failNode = [&](const std::string &msg) {
    return fail(prefix + (diag.msg.empty() ? msg : diag.msg));
  };
  auto numScanInputs = nc.getInt("num_scan_inputs", -1);
  if (failed(numScanInputs))
    return failNode("");
  int64_t m = *numScanInputs;
  if (m < 1 || m > (int64_t)ins.size())
    return failNode("num_scan_inputs must be between 1 and the number of "
                    "inputs (" + std::to_string(ins.size()) + ")");
  int64_t n = ins.size() - m;
  if (body->input_size() != (int)ins.size())
    return failNode("the body has " + std::to_string(body->input_size()) +
                    " inputs, expected " + std::to_string(ins.size()));
  if (body->output_size() < n)
    return failNode("the body has fewer outputs than the " + std::to_string(n) +
                    " states");
  int64_t k = body->output_size() - n;
  auto inAxes = nc.getInts("scan_input_axes", SmallVector<int64_t>(m, 0));
  auto inDirs = nc.getInts("scan_input_directions", SmallVector<int64_t>(m, 0));
  auto outAxes = nc.getInts("scan_output_axes", SmallVector<int64_t>(k, 0));
  auto outDirs = nc.getInts("scan_output_directions", SmallVector<int64_t>(k, 0));
  if (failed(inAxes) || failed(inDirs) || failed(outAxes) || failed(outDirs))
    return failNode("");
  if ((int64_t)inAxes->size() != m || (int64_t)inDirs->size() != m ||
      (int64_t)outAxes->size() != k || (int64_t)outDirs->size() != k)
    return failNode("scan_input_axes/directions need " + std::to_string(m) +
                    " entries and scan_output_axes/directions " +
                    std::to_string(k));
  int64_t length = -1;
  for (int64_t j = 0; j < m; ++j) {
    auto t = nc.typeOf(ins[n + j]);
    auto axis = nc.normAxis((*inAxes)[j], t.getRank());
    if (failed(axis))
      return failNode("");
    (*inAxes)[j] = *axis;
    int64_t d = t.getDimSize(*axis);
    if (ShapedType::isDynamic(d))
      return failNode("scan input " + std::to_string(j) +
                      " has a dynamic length; kiln unrolls Scan at import "
                      "(give the dim with --input-shape)");
    if (length >= 0 && d != length)
      return failNode("the scan inputs' lengths differ (" +
                      std::to_string(length) + " and " + std::to_string(d) + ")");
    length = d;
  }
  if (length > kMaxUnrolledIterations)
    return failNode("the scan length " + std::to_string(length) +
                    " is above the " + std::to_string(kMaxUnrolledIterations) +
                    " iterations kiln unrolls at import");
  if (length == 0 && k > 0)
    return failNode("the scan inputs are empty, so the scan outputs' element "
                    "shapes are unknown");
  KilnEmitter e(nc);
  SmallVector<Value> states(ins.begin(), ins.begin() + n);
  SmallVector<SmallVector<Value>> scans(k);
  for (int64_t t = 0; t < length; ++t) {
    SmallVector<Slot> bound;
    for (Value st : states)
      bound.push_back(Slot::of(st));
    for (int64_t j = 0; j < m; ++j)
      bound.push_back(Slot::of(e.at(
          ins[n + j], (*inDirs)[j] ? length - 1 - t : t, (*inAxes)[j])));
    if (e.failed)
      return failNode("slicing the scan inputs failed");
    SmallVector<Slot> outs;
    ++loopDepth;
    LogicalResult imported = importSubgraph(
        *body, bound, outs, prefix + "iteration " + std::to_string(t) + ": the body");
    --loopDepth;
    if (failed(imported))
      return failure();
    for (const Slot &o : outs)
      if (o.isSeq)
        return failNode("the body returns a sequence");
    for (int64_t i = 0; i < n; ++i)
      states[i] = outs[i].tensor;
    for (int64_t j = 0; j < k; ++j)
      scans[j].push_back(outs[n + j].tensor);
  }
  SmallVector<Value> results(states);
  for (int64_t j = 0; j < k; ++j) {
    auto axis = nc.normAxis((*outAxes)[j], nc.typeOf(scans[j][0]).getRank() + 1);
    if (failed(axis))
      return failNode("");
    if ((*outDirs)[j])
      std::reverse(scans[j].begin(), scans[j].end());
    SmallVector<Value> parts;
    for (Value v : scans[j])
      parts.push_back(e.unsqueeze(v, *axis));
    results.push_back(e.concat(parts, *axis));
  }
  if (e.failed)
    return failNode("stacking the scan outputs failed");
  if (node.output_size() > (int)results.size())
    return failNode("the node lists " + std::to_string(node.output_size()) +
                    " outputs, the body gives " + std::to_string(results.size()));
  for (int i = 0; i < node.output_size(); ++i)
    if (!node.output(i).empty())
      values[node.output(i)] = results[i];
  return success();
}
