//===- ControlFlow.cpp - ONNX If, Loop, Scan and their subgraphs ----------===//
//
// An If whose condition is known at import imports its taken branch in
// place; otherwise both branches become the regions of a kiln.if. Branches
// see the enclosing scope's values; their own names do not leak out.
// Loop and Scan are unrolled at import when their iteration count is known
// then (a constant trip count and condition; a static scan length): each
// iteration imports the body again with its inputs bound to that
// iteration's values. A count known only at run time is refused by node.
//
//===----------------------------------------------------------------------===//

#include "GraphImporter.h"
#include "Emitter.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/ScopeExit.h"

using namespace ::kiln::import;

/// Most iterations a Loop or Scan is unrolled to at import, and most nodes
/// all unrolled bodies may import together (nested loops multiply).
static constexpr int64_t kMaxUnrolledIterations = 1024;
static constexpr int64_t kMaxUnrolledNodes = 200000;

void ::kiln::import::addDefinedNames(const onnx::GraphProto &g,
                                     std::set<std::string> &names) {
  for (const auto &i : g.input())
    names.insert(i.name());
  for (const auto &i : g.initializer())
    names.insert(i.name());
  for (const auto &n : g.node())
    for (const auto &o : n.output())
      names.insert(o);
}

void ::kiln::import::capturedNames(const onnx::GraphProto &g, std::set<std::string> &out) {
  std::set<std::string> local;
  addDefinedNames(g, local);
  std::set<std::string> reads;
  for (const auto &n : g.node()) {
    reads.insert(n.input().begin(), n.input().end());
    for (const auto &a : n.attribute())
      if (a.has_g())
        capturedNames(a.g(), reads);
  }
  for (const auto &o : g.output())
    reads.insert(o.name());
  for (const auto &r : reads)
    if (!r.empty() && !local.count(r))
      out.insert(r);
}

/// Imports the nodes of a subgraph (an If branch, a Loop or Scan body) at
/// the builder's insertion point, with its inputs bound to `bound`, the
/// enclosing scope's values visible and the subgraph's own names dropped
/// afterwards; `outs` are its outputs. `what` names the subgraph in errors.
LogicalResult GraphImporter::importSubgraph(const onnx::GraphProto &g,
                                            ArrayRef<Slot> bound,
                                            SmallVector<Slot> &outs,
                                            StringRef what) {
  if (g.input_size() != (int)bound.size())
    return fail(what + " has " + std::to_string(g.input_size()) +
                " inputs, expected " + std::to_string(bound.size()));
  const onnx::GraphProto *savedGraph = graph;
  llvm::StringMap<Value> savedValues = values;
  llvm::StringMap<SmallVector<Value>> savedSeqs = sequences;
  llvm::StringMap<const onnx::TensorProto *> savedInits = initializers;
  llvm::scope_exit restore([&] {
    graph = savedGraph;
    values = std::move(savedValues);
    sequences = std::move(savedSeqs);
    initializers = std::move(savedInits);
  });
  graph = &g;
  for (auto [in, v] : llvm::zip(g.input(), bound)) {
    if (in.name().empty())
      return fail(what + " has an input without a name");
    initializers.erase(in.name());
    bind(in.name(), v);
  }
  for (const auto &init : g.initializer())
    initializers[init.name()] = &init;
  auto order = orderNodes();
  if (failed(order))
    return failure();
  if (loopDepth > 0) {
    unrolledNodes += g.node_size();
    if (unrolledNodes > kMaxUnrolledNodes)
      return fail(what + ": unrolling the model's loops would import more "
                         "than " + std::to_string(kMaxUnrolledNodes) +
                  " nodes");
  }
  for (int i : *order)
    if (failed(convertNode(g.node(i), i)))
      return failure();
  for (const auto &o : g.output()) {
    std::string err;
    auto v = lookupSlot(o.name(), err);
    if (failed(v))
      return fail(err.empty() ? what + " output '" + o.name() + "' is undefined"
                              : err);
    outs.push_back(*v);
  }
  return success();
}

/// The node's inputs as slots (an empty name gives an empty slot), or a
/// failure naming the undefined one.
LogicalResult GraphImporter::nodeSlots(const onnx::NodeProto &node,
                                       const std::string &prefix,
                                       SmallVector<Slot> &ins) {
  for (const auto &in : node.input()) {
    if (in.empty()) {
      ins.push_back(Slot());
      continue;
    }
    std::string err;
    auto v = lookupSlot(in, err);
    if (failed(v))
      return fail(prefix + (err.empty() ? "input '" + in + "' is undefined" : err));
    ins.push_back(*v);
  }
  return success();
}

FailureOr<Slot> GraphImporter::lookupSlot(const std::string &name,
                                          std::string &err) {
  auto s = sequences.find(name);
  if (s != sequences.end())
    return Slot::sequence(s->second);
  auto v = lookup(name, err);
  if (failed(v))
    return failure();
  return Slot::of(*v);
}

void GraphImporter::bind(const std::string &name, Slot s) {
  if (s.isSeq) {
    values.erase(name);
    sequences[name] = std::move(s.seq);
  } else {
    sequences.erase(name);
    values[name] = s.tensor;
  }
}

/// ONNX If. A condition known at import time imports the taken branch in
/// place; otherwise both branches become the regions of a kiln.if, whose
/// result types join the branches' (a dim the branches disagree on is `?`).
LogicalResult GraphImporter::convertIf(const onnx::NodeProto &node,
                                       const std::string &prefix, Location loc) {
  if (node.input_size() < 1 || node.input(0).empty())
    return fail(prefix + "If needs a condition");
  std::string err;
  auto cond = lookup(node.input(0), err);
  if (failed(cond))
    return fail(prefix + (err.empty() ? "condition is undefined" : err));
  const onnx::GraphProto *thenG = nullptr, *elseG = nullptr;
  for (const auto &a : node.attribute()) {
    if (a.name() == "then_branch" && a.has_g())
      thenG = &a.g();
    if (a.name() == "else_branch" && a.has_g())
      elseG = &a.g();
  }
  if (!thenG || !elseG)
    return fail(prefix + "If needs then_branch and else_branch graphs");
  auto condType = dyn_cast<RankedTensorType>(cond->getType());
  if (!condType || !condType.getElementType().isInteger(1) ||
      (condType.hasStaticShape() && condType.getNumElements() != 1))
    return fail(prefix + "the condition must be a bool tensor of one element");
  auto mapOutputs = [&](ArrayRef<Slot> outs) -> LogicalResult {
    if ((int)outs.size() < node.output_size())
      return fail(prefix + "the branches produce " + std::to_string(outs.size()) +
                  " values for " + std::to_string(node.output_size()) +
                  " outputs");
    for (int i = 0; i < node.output_size(); ++i)
      if (!node.output(i).empty())
        bind(node.output(i), outs[i]);
    return success();
  };
  DenseElementsAttr constant;
  if (matchPattern(*cond, m_Constant(&constant)) && constant.getNumElements() == 1) {
    SmallVector<Slot> outs;
    if (failed(importSubgraph(*constant.getValues<bool>().begin() ? *thenG : *elseG,
                              {}, outs, prefix + "the taken branch")))
      return failure();
    return mapOutputs(outs);
  }
  auto thenBlock = std::make_unique<Block>(), elseBlock = std::make_unique<Block>();
  SmallVector<Value> thenOuts, elseOuts;
  {
    OpBuilder::InsertionGuard g(builder);
    auto branch = [&](const onnx::GraphProto &br, SmallVector<Value> &outs,
                      const std::string &what) -> LogicalResult {
      SmallVector<Slot> slots;
      if (failed(importSubgraph(br, {}, slots, what)))
        return failure();
      for (const Slot &s : slots) {
        if (s.isSeq)
          return fail(what + " returns a sequence, which a run-time If cannot");
        outs.push_back(s.tensor);
      }
      return success();
    };
    builder.setInsertionPointToStart(thenBlock.get());
    if (failed(branch(*thenG, thenOuts, prefix + "then_branch")))
      return failure();
    builder.setInsertionPointToStart(elseBlock.get());
    if (failed(branch(*elseG, elseOuts, prefix + "else_branch")))
      return failure();
  }
  if (thenOuts.size() != elseOuts.size())
    return fail(prefix + "the branches produce " + std::to_string(thenOuts.size()) +
                " and " + std::to_string(elseOuts.size()) + " values");
  SmallVector<Type> types;
  for (auto [i, pair] : llvm::enumerate(llvm::zip(thenOuts, elseOuts))) {
    auto a = cast<RankedTensorType>(std::get<0>(pair).getType());
    auto b = cast<RankedTensorType>(std::get<1>(pair).getType());
    if (a.getElementType() != b.getElementType() || a.getRank() != b.getRank())
      return fail(prefix + "output " + std::to_string(i) +
                  ": the branches produce different element types or ranks, "
                  "which is not supported");
    SmallVector<int64_t> dims;
    for (int64_t d = 0; d < a.getRank(); ++d)
      dims.push_back(a.getDimSize(d) == b.getDimSize(d) ? a.getDimSize(d)
                                                         : ShapedType::kDynamic);
    types.push_back(RankedTensorType::get(dims, a.getElementType()));
  }
  {
    OpBuilder::InsertionGuard g(builder);
    builder.setInsertionPointToEnd(thenBlock.get());
    mlir::kiln::YieldOp::create(builder, loc, thenOuts);
    builder.setInsertionPointToEnd(elseBlock.get());
    mlir::kiln::YieldOp::create(builder, loc, elseOuts);
  }
  auto ifOp = mlir::kiln::IfOp::create(builder, loc, types, *cond);
  ifOp.getThenBranch().push_back(thenBlock.release());
  ifOp.getElseBranch().push_back(elseBlock.release());
  // The op's own checks only: a nested If sits in a block not yet attached,
  // where dominance cannot be checked (the module is verified at the end).
  if (failed(ifOp.verify()))
    return fail(prefix + "the If does not verify");
  SmallVector<Slot> results;
  for (Value r : ifOp.getResults())
    results.push_back(Slot::of(r));
  return mapOutputs(results);
}


namespace kiln::import {

Value KilnEmitter::ifElse(Value cond, llvm::function_ref<Value()> thenFn,
                          llvm::function_ref<Value()> elseFn) {
  if (failed || !cond)
    return fail();
  OpBuilder &b = c.b;
  auto thenBlock = std::make_unique<Block>(), elseBlock = std::make_unique<Block>();
  Value thenV, elseV;
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(thenBlock.get());
    thenV = thenFn();
    if (thenV)
      mlir::kiln::YieldOp::create(b, c.loc, thenV);
    b.setInsertionPointToStart(elseBlock.get());
    elseV = elseFn();
    if (elseV)
      mlir::kiln::YieldOp::create(b, c.loc, elseV);
  }
  if (failed || !thenV || !elseV)
    return fail();
  auto a = c.typeOf(thenV), o = c.typeOf(elseV);
  if (a.getElementType() != o.getElementType() || a.getRank() != o.getRank()) {
    (void)c.fail("internal: the two branches differ in element type or rank");
    return fail();
  }
  SmallVector<int64_t> dims;
  for (int64_t d = 0; d < a.getRank(); ++d)
    dims.push_back(a.getDimSize(d) == o.getDimSize(d) ? a.getDimSize(d)
                                                       : ShapedType::kDynamic);
  auto ifOp = mlir::kiln::IfOp::create(
      b, c.loc, TypeRange{RankedTensorType::get(dims, a.getElementType())},
      cond);
  ifOp.getThenBranch().push_back(thenBlock.release());
  ifOp.getElseBranch().push_back(elseBlock.release());
  if (mlir::failed(ifOp.verify())) {
    (void)c.fail("internal: the If does not verify");
    return fail();
  }
  return ifOp.getResult(0);
}

} // namespace kiln::import

namespace {

/// Keeps the first error reported while it lives (what the emitter's ops
/// and NodeContext's getters say), for the node's one-line message.
struct FirstError {
  std::string msg;
  ScopedDiagnosticHandler handler;
  explicit FirstError(MLIRContext &ctx)
      : handler(&ctx, [this](Diagnostic &d) {
          if (d.getSeverity() == DiagnosticSeverity::Error && msg.empty())
            msg = d.str();
          return success();
        }) {}
};

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

/// ONNX Loop, unrolled at import: the trip count and the condition must be
/// known at import (constants, or shape values once `--input-shape` gives
/// the shapes), as in `for i in range(N)` exports. Each iteration imports
/// the body with iter_num and cond bound to constants; loop-carried values
/// flow from one iteration's import to the next (their shapes may change);
/// scan outputs are stacked on a new axis 0.
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
  const std::string unrolled =
      " (kiln unrolls Loop at import: the trip count and the condition must "
      "be known then; give dynamic dims with --input-shape)";
  int64_t tripCount = kMaxUnrolledIterations + 1;
  if (tripIn) {
    auto m = constScalar(tripIn);
    if (failed(m))
      return fail(prefix + "the trip count is only known at run time" + unrolled);
    tripCount = std::max<int64_t>(*m, 0);
  }
  bool cond = true;
  if (condIn) {
    auto c = constScalar(condIn);
    if (failed(c))
      return fail(prefix + "the condition is only known at run time" + unrolled);
    cond = *c != 0;
  }
  if (!tripIn && !condIn)
    return fail(prefix + "a Loop with neither a trip count nor a condition "
                         "never ends");
  auto i64 = RankedTensorType::get({}, builder.getI64Type());
  auto i1 = RankedTensorType::get({}, builder.getI1Type());
  SmallVector<Slot> carried(ins.begin() + 2, ins.end());
  SmallVector<SmallVector<Value>> scans(numScans);
  int64_t iter = 0;
  for (; iter < tripCount && cond; ++iter) {
    if (iter == kMaxUnrolledIterations)
      return fail(prefix + "the loop runs more than " +
                  std::to_string(kMaxUnrolledIterations) + " iterations" +
                  unrolled);
    SmallVector<Slot> bound;
    bound.push_back(Slot::of(mlir::kiln::ConstantOp::create(
        builder, loc, DenseIntElementsAttr::get(i64, {iter}))));
    bound.push_back(Slot::of(mlir::kiln::ConstantOp::create(
        builder, loc, DenseIntElementsAttr::get(i1, {true}))));
    bound.append(carried);
    SmallVector<Slot> outs;
    ++loopDepth;
    LogicalResult imported = importSubgraph(
        *body, bound, outs, prefix + "iteration " + std::to_string(iter) + ": the body");
    --loopDepth;
    if (failed(imported))
      return failure();
    // The body's condition output decides whether the loop goes on, unless
    // the node has no condition input (then the body's is ignored).
    if (condIn) {
      auto c = constScalar(outs[0].tensor);
      if (failed(c))
        return fail(prefix + "iteration " + std::to_string(iter) +
                    ": the body's condition is only known at run time" +
                    unrolled);
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
  if (!tripIn && cond)
    return fail(prefix + "the loop runs more than " +
                std::to_string(kMaxUnrolledIterations) + " iterations" + unrolled);
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
  for (int i = 0; i < node.output_size(); ++i)
    if (!node.output(i).empty())
      bind(node.output(i), (size_t)i < numCarried
                               ? carried[i]
                               : Slot::of(nc.outputs[i - numCarried]));
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
    auto axisAttr = nc.getInt("axis", INT64_MAX);
    auto newAxis = nc.getInt("new_axis", 0);
    if (failed(axisAttr) || failed(newAxis))
      return failNode("");
    if (*axisAttr == INT64_MAX)
      return failNode("ConcatFromSequence needs an axis");
    int64_t rank = nc.typeOf((*seq)[0]).getRank() + (*newAxis ? 1 : 0);
    auto axis = nc.normAxis(*axisAttr, rank);
    if (failed(axis))
      return failNode("");
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
