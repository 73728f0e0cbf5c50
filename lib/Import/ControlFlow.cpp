//===- ControlFlow.cpp - ONNX If and the import of subgraphs --------------===//
//
// An If whose condition is known at import imports its taken branch in
// place; otherwise both branches become the regions of a kiln.if. Branches
// see the enclosing scope's values; their own names do not leak out.
// importSubgraph is shared with Loop and Scan (Loops.cpp); slots (tensors
// or import-time sequences) are looked up and bound here.
//
//===----------------------------------------------------------------------===//

#include "GraphImporter.h"
#include "Emitter.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/ScopeExit.h"

using namespace ::kiln::import;


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
  llvm::StringMap<Value> savedStacked = stackedSequences;
  llvm::StringMap<const onnx::TensorProto *> savedInits = initializers;
  llvm::scope_exit restore([&] {
    graph = savedGraph;
    values = std::move(savedValues);
    sequences = std::move(savedSeqs);
    stackedSequences = std::move(savedStacked);
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
  auto st = stackedSequences.find(name);
  if (st != stackedSequences.end())
    return Slot::stackedSequence(st->second);
  auto v = lookup(name, err);
  if (failed(v))
    return failure();
  return Slot::of(*v);
}

void GraphImporter::bind(const std::string &name, Slot s) {
  values.erase(name);
  sequences.erase(name);
  stackedSequences.erase(name);
  if (s.stacked)
    stackedSequences[name] = s.stacked;
  else if (s.isSeq)
    sequences[name] = std::move(s.seq);
  else
    values[name] = s.tensor;
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
