//===- ControlFlow.cpp - ONNX If and its subgraphs ------------------------===//
//
// An If whose condition is known at import imports its taken branch in
// place; otherwise both branches become the regions of a kiln.if. Branches
// see the enclosing scope's values; their own names do not leak out.
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

/// Imports the nodes of an If branch at the builder's insertion point, with
/// the enclosing scope's values visible and the branch's own names dropped
/// afterwards; `outs` are the branch's outputs.
LogicalResult GraphImporter::importBranch(const onnx::GraphProto &branch,
                                          SmallVector<Value> &outs) {
  if (branch.input_size() != 0)
    return fail("an If branch must not have inputs");
  const onnx::GraphProto *savedGraph = graph;
  llvm::StringMap<Value> savedValues = values;
  llvm::StringMap<const onnx::TensorProto *> savedInits = initializers;
  llvm::scope_exit restore([&] {
    graph = savedGraph;
    values = std::move(savedValues);
    initializers = std::move(savedInits);
  });
  graph = &branch;
  for (const auto &init : branch.initializer())
    initializers[init.name()] = &init;
  auto order = orderNodes();
  if (failed(order))
    return failure();
  for (int i : *order)
    if (failed(convertNode(branch.node(i), i)))
      return failure();
  for (const auto &o : branch.output()) {
    std::string err;
    auto v = lookup(o.name(), err);
    if (failed(v))
      return fail(err.empty() ? "an If branch output '" + o.name() +
                                    "' is undefined"
                              : err);
    outs.push_back(*v);
  }
  return success();
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
  auto mapOutputs = [&](ArrayRef<Value> outs) -> LogicalResult {
    if ((int)outs.size() < node.output_size())
      return fail(prefix + "the branches produce " + std::to_string(outs.size()) +
                  " values for " + std::to_string(node.output_size()) +
                  " outputs");
    for (int i = 0; i < node.output_size(); ++i)
      if (!node.output(i).empty())
        values[node.output(i)] = outs[i];
    return success();
  };
  DenseElementsAttr constant;
  if (matchPattern(*cond, m_Constant(&constant)) && constant.getNumElements() == 1) {
    SmallVector<Value> outs;
    if (failed(importBranch(*constant.getValues<bool>().begin() ? *thenG : *elseG,
                            outs)))
      return failure();
    return mapOutputs(outs);
  }
  auto thenBlock = std::make_unique<Block>(), elseBlock = std::make_unique<Block>();
  SmallVector<Value> thenOuts, elseOuts;
  {
    OpBuilder::InsertionGuard g(builder);
    builder.setInsertionPointToStart(thenBlock.get());
    if (failed(importBranch(*thenG, thenOuts)))
      return failure();
    builder.setInsertionPointToStart(elseBlock.get());
    if (failed(importBranch(*elseG, elseOuts)))
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
  return mapOutputs(SmallVector<Value>(ifOp.getResults()));
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
