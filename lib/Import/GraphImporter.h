//===- GraphImporter.h - the graph importer (internal) ----------*- C++ -*-===//
//
// Shared by Importer.cpp (graphs, nodes, the module), ControlFlow.cpp (If
// and subgraphs), Loops.cpp (Loop, Scan) and Sequences.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_IMPORT_GRAPHIMPORTER_H
#define KILN_LIB_IMPORT_GRAPHIMPORTER_H

#include "ImporterImpl.h"

#include "kiln/Import.h"

#include <map>
#include <set>

namespace kiln::import {

/// Adds to `out` the names `g` (and graphs nested in it) reads from the
/// scopes around it.
void capturedNames(const onnx::GraphProto &g, std::set<std::string> &out);

/// Most iterations a Loop or Scan is unrolled to at import (and most
/// tensors SplitToSequence makes), and most nodes all unrolled bodies may
/// import together (nested loops multiply).
inline constexpr int64_t kMaxUnrolledIterations = 1024;
inline constexpr int64_t kMaxUnrolledNodes = 200000;

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

/// A value of the graph at import: a tensor, or a sequence of tensors. A
/// sequence exists at import only: a list of tensor values built by the
/// sequence ops of an unrolled Loop, or (`stacked`) the sequence a run-time
/// Loop appended one tensor to per iteration, held as those tensors stacked
/// on a new axis 0; kiln has no run-time sequence type.
struct Slot {
  Value tensor;
  SmallVector<Value> seq;
  bool isSeq = false;
  Value stacked;
  static Slot of(Value v) { return Slot{v, {}, false, Value()}; }
  static Slot sequence(SmallVector<Value> vs) {
    return Slot{Value(), std::move(vs), true, Value()};
  }
  static Slot stackedSequence(Value v) { return Slot{Value(), {}, true, v}; }
};

class GraphImporter {
public:
  GraphImporter(MLIRContext &ctx, std::shared_ptr<ModelStorage> store,
                const ::kiln::ImportOptions &options, std::string &error)
      : ctx(ctx), builder(&ctx), store(std::move(store)), options(options),
        error(error) {}

  OwningOpRef<ModuleOp> run(StringRef modelName);

private:
  LogicalResult fail(const Twine &msg) {
    if (error.empty())
      error = msg.str();
    return failure();
  }
  LogicalResult checkOpsets();
  LogicalResult upgradeOpset();
  FailureOr<RankedTensorType> inputType(const onnx::ValueInfoProto &vi,
                                        SmallVector<Attribute> &dimNames);
  FailureOr<SmallVector<int>> orderNodes();
  FailureOr<Value> lookup(const std::string &name, std::string &err);
  /// A tensor or a sequence by name (for ops that take either).
  FailureOr<Slot> lookupSlot(const std::string &name, std::string &err);
  void bind(const std::string &name, Slot s);
  LogicalResult nodeSlots(const onnx::NodeProto &node, const std::string &prefix,
                          SmallVector<Slot> &ins);
  LogicalResult convertSequenceOp(const onnx::NodeProto &node, int64_t opset,
                                  const std::string &prefix, Location loc);
  LogicalResult convertStackedSequenceOp(
      const onnx::NodeProto &node, NodeContext &nc, Value stacked,
      const std::string &prefix, llvm::function_ref<LogicalResult(Slot)> result);
  LogicalResult convertNode(const onnx::NodeProto &node, size_t index);
  LogicalResult convertIf(const onnx::NodeProto &node, const std::string &prefix,
                          Location loc);
  LogicalResult convertLoop(const onnx::NodeProto &node, int64_t opset,
                            const std::string &prefix, Location loc);
  LogicalResult unrollLoop(const onnx::NodeProto &node, int64_t opset,
                           const std::string &prefix, Location loc,
                           const onnx::GraphProto &body, ArrayRef<Slot> ins,
                           size_t numScans, SmallVector<Slot> &results,
                           bool &runTime);
  LogicalResult buildRunTimeLoop(const onnx::NodeProto &node,
                                 const std::string &prefix, Location loc,
                                 const onnx::GraphProto &body,
                                 ArrayRef<Slot> ins, size_t numScans,
                                 SmallVector<Slot> &results);
  LogicalResult convertScan(const onnx::NodeProto &node, int64_t opset,
                            const std::string &prefix, Location loc);
  LogicalResult importSubgraph(const onnx::GraphProto &g, ArrayRef<Slot> bound,
                               SmallVector<Slot> &outs, StringRef what);

  MLIRContext &ctx;
  OpBuilder builder;
  std::shared_ptr<ModelStorage> store;
  const ::kiln::ImportOptions &options;
  std::string &error;
  const onnx::GraphProto *graph = nullptr;
  llvm::StringMap<int64_t> opsets;
  llvm::StringMap<Value> values;
  llvm::StringMap<SmallVector<Value>> sequences;
  llvm::StringMap<Value> stackedSequences;
  llvm::StringMap<const onnx::TensorProto *> initializers;
  std::map<std::string, int64_t> symbolBindings;
  /// Nodes imported inside unrolled Loop/Scan bodies, all loops together
  /// (nested loops multiply), and how deep in such bodies the import is.
  int64_t unrolledNodes = 0;
  int loopDepth = 0;
  Block *entry = nullptr;
};


} // namespace kiln::import

#endif // KILN_LIB_IMPORT_GRAPHIMPORTER_H
