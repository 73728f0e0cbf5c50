//===- OldOpsets.cpp - upgrading opset 7-12 models to opset 13 ------------===//
//
// Converters implement the op forms in effect from opset 13. A model at an
// older opset whose nodes are not all in their opset-13 form is upgraded by
// ONNX's shape inference and C++ version converter; Softmax, LogSoftmax and
// Hardmax keep their old axis in `kiln_legacy_axis` (read by the importer's
// convertAxisOp), since ONNX's adapter for them needs annotated ranks.
// Compiled with exceptions: the converter throws.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "onnx/checker.h"

#include "onnx/defs/schema.h"
#include "onnx/shape_inference/implementation.h"
#include "onnx/version_converter/convert.h"

#include <set>

#include <map>

using namespace mlir;

/// The default-domain opset the model imports (0 when none).
static int64_t defaultOpset(const onnx::ModelProto &model) {
  for (const auto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      return o.version();
  return 0;
}

/// The first output of `g` (or of a graph nested in it) that no node, input
/// or initializer of its scopes defines, or "".
static std::string undefinedGraphOutput(const onnx::GraphProto &g,
                                        std::set<std::string> scope) {
  ::kiln::import::addDefinedNames(g, scope);
  for (const auto &o : g.output())
    if (!scope.count(o.name()))
      return o.name();
  for (const auto &n : g.node())
    for (const auto &a : n.attribute()) {
      if (a.has_g()) {
        std::string r = undefinedGraphOutput(a.g(), scope);
        if (!r.empty())
          return r;
      }
      for (const auto &sub : a.graphs()) {
        std::string r = undefinedGraphOutput(sub, scope);
        if (!r.empty())
          return r;
      }
    }
  return "";
}

LogicalResult (::kiln::import::upgradeToFormOpset)(onnx::ModelProto &model,
                                               int64_t formOpset,
                                               std::string &error) {
  auto fail = [&](const Twine &msg) {
    error = msg.str();
    return failure();
  };
  int64_t from = defaultOpset(model);
  if (from <= 0 || from >= formOpset)
    return success();
  // Only when some node's form at `from` differs from its opset-13 form:
  // the converter copies the whole model, weights included.
  const onnx::NodeProto *first = nullptr;
  for (const auto &node : model.graph().node()) {
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      continue;
    const auto *old = onnx::OpSchemaRegistry::Schema(node.op_type(), from, "");
    const auto *cur =
        onnx::OpSchemaRegistry::Schema(node.op_type(), formOpset, "");
    if (old && cur && old->since_version() != cur->since_version()) {
      first = &node;
      break;
    }
  }
  if (!first)
    return success();
  // The converter needs every node's schema (it fails with a bare
  // "unordered_map::at" otherwise): name the node it would stop at.
  int index = 0;
  for (const auto &node : model.graph().node()) {
    bool onnxDomain = node.domain().empty() || node.domain() == "ai.onnx";
    if (!onnxDomain || !onnx::OpSchemaRegistry::Schema(node.op_type(), from, "")) {
      std::string name = node.name().empty()
                             ? node.op_type() + "_" + std::to_string(index)
                             : node.name();
      return fail("node '" + name + "' (" + node.op_type() + ", domain '" +
                  node.domain() + "', opset " + Twine(from) +
                  "): " + (onnxDomain ? "unsupported operator" : "unsupported domain") +
                  " (the model's opset " + Twine(from) +
                  " must be upgraded to 13, and ONNX's version converter "
                  "knows only ai.onnx operators)");
    }
    ++index;
  }
  // ONNX's converter assumes a well-formed graph (every value defined, every
  // op known, in subgraphs too) and crashes on one that is not (found by
  // fuzz/import_fuzzer.cpp: an If whose branch names an unknown op): ONNX's
  // checker runs first and its complaint becomes the error.
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception &e) {
    std::string what = e.what();
    for (char &c : what)
      if (c == '\n')
        c = ' ';
    return fail("the model is not valid ONNX, so its opset " + Twine(from) +
                " cannot be upgraded to 13: " + what);
  }
  // ...and that every graph output is defined, which the checker does not
  // check (fuzzer again: an output whose name matches nothing).
  std::string undefined = undefinedGraphOutput(model.graph(), {});
  if (!undefined.empty())
    return fail("the model is not valid ONNX: graph output '" + undefined +
                "' is not produced by any node, input or initializer");
  if (from < 7)
    return fail("model uses default-domain opset " + Twine(from) +
                "; kiln reads opsets 7 and later (node '" + first->name() +
                "' (" + first->op_type() + ") needs an upgrade)");
  // Softmax, LogSoftmax and Hardmax before 13 coerce their input to 2-D at
  // `axis` (default 1); ONNX's adapter rewrites that only when the input's
  // rank is annotated. The importer keeps the old axis instead (read back
  // by convertAxisOp) and hands the converter axis -1, which it passes on.
  for (auto &node : *model.mutable_graph()->mutable_node()) {
    if ((!node.domain().empty() && node.domain() != "ai.onnx") ||
        (node.op_type() != "Softmax" && node.op_type() != "LogSoftmax" &&
         node.op_type() != "Hardmax"))
      continue;
    int64_t axis = 1;
    onnx::AttributeProto *axisAttr = nullptr;
    for (auto &a : *node.mutable_attribute())
      if (a.name() == "axis") {
        axis = a.i();
        axisAttr = &a;
      }
    if (!axisAttr) {
      axisAttr = node.add_attribute();
      axisAttr->set_name("axis");
      axisAttr->set_type(onnx::AttributeProto::INT);
    }
    axisAttr->set_i(-1);
    onnx::AttributeProto *legacy = node.add_attribute();
    legacy->set_name("kiln_legacy_axis");
    legacy->set_type(onnx::AttributeProto::INT);
    legacy->set_i(axis);
  }
  // The converter may rewrite the graph's own signature (Scan-8's adapter
  // drops the batch axis from the model's inputs): the upgraded model must
  // take and return tensors of the same ranks, or kiln refuses it.
  auto ranks = [](const onnx::GraphProto &g) {
    std::map<std::string, int> r;
    for (const auto *list : {&g.input(), &g.output()})
      for (const auto &vi : *list)
        if (vi.type().has_tensor_type() && vi.type().tensor_type().has_shape())
          r[vi.name()] = vi.type().tensor_type().shape().dim_size();
    return r;
  };
  std::map<std::string, int> before = ranks(model.graph());
  std::string why;
  try {
    // Some adapters need shapes: ONNX's shape inference records them in the
    // graph's value_info first (errors ignored: unknown shapes stay unknown).
    onnx::shape_inference::InferShapes(model);
    onnx::ModelProto up =
        onnx::version_conversion::ConvertVersion(model, formOpset);
    if (up.graph().node_size() == 0 && model.graph().node_size() != 0)
      why = "the converter returned an empty graph";
    else {
      for (const auto &[name, rank] : ranks(up.graph())) {
        auto it = before.find(name);
        if (it != before.end() && it->second != rank) {
          why = "it changes graph input/output '" + name + "' from rank " +
                std::to_string(it->second) + " to rank " + std::to_string(rank) +
                " (the upgraded model would not take the same tensors)";
          break;
        }
      }
      if (why.empty())
        model = std::move(up);
    }
  } catch (const std::exception &e) {
    why = e.what();
  }
  if (!why.empty()) {
    // ONNX's messages can run over many lines: keep the first.
    why = StringRef(why).split('\n').first.trim().str();
    return fail("model at opset " + Twine(from) +
                " could not be upgraded to opset " + Twine(formOpset) +
                " by ONNX's version converter: " + why);
  }
  return success();
}
