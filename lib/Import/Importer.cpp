//===- Importer.cpp - ONNX graph to kiln dialect --------------------------===//
//
// Loads a model (binary or text), checks its opsets, orders its nodes
// (rejecting dangling names and cycles), builds `func.func @main` with the
// graph inputs as arguments (symbolic dim names kept as `kiln.dims`), and
// converts each node through its converter. Every diagnostic raised while a
// node converts is rewritten to name the node, its op type, domain and opset.
//
//===----------------------------------------------------------------------===//

#include "GraphImporter.h"

#include <set>
#include "kiln/Import.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "onnx/defs/parser.h"
#include "onnx/defs/schema.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>

using namespace ::kiln::import;

// Converters implement the op forms in effect from opset 13 through 21. An
// older model (opset 7-12) whose nodes are not all in their opset-13 form
// (checked against ONNX's schema registry per node) is first upgraded to
// opset 13 by ONNX's own version converter (upgradeOpset); a node the
// converter cannot adapt is reported by name.
static constexpr int64_t kFormOpset = 13, kMaxOpset = 23;

//===----------------------------------------------------------------------===//
// Shape overrides
//===----------------------------------------------------------------------===//

bool ::kiln::parseShapeOverrides(llvm::StringRef text, ImportOptions &options,
                               std::string &error) {
  SmallVector<StringRef> items;
  text.split(items, ',', -1, false);
  for (StringRef item : items) {
    auto [name, dims] = item.split('=');
    name = name.trim();
    if (name.empty() || dims.empty()) {
      error = "bad shape override '" + item.str() + "': expected name=AxBxC";
      return false;
    }
    std::vector<int64_t> out;
    SmallVector<StringRef> parts;
    dims.split(parts, 'x');
    for (StringRef p : parts) {
      int64_t d;
      if (p.trim().getAsInteger(10, d) || d < 0) {
        error = "bad dim '" + p.str() + "' in shape override '" + item.str() +
                "'";
        return false;
      }
      out.push_back(d);
    }
    options.shapes[name.str()] = out;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// The graph importer
//===----------------------------------------------------------------------===//


LogicalResult GraphImporter::upgradeOpset() {
  std::string why;
  if (failed(::kiln::import::upgradeToFormOpset(store->model, kFormOpset, why)))
    return fail(why);
  return success();
}

LogicalResult GraphImporter::checkOpsets() {
  for (const auto &o : store->model.opset_import()) {
    std::string domain = o.domain() == "ai.onnx" ? "" : o.domain();
    opsets[domain] = o.version();
  }
  auto it = opsets.find("");
  if (it == opsets.end()) {
    std::string others;
    for (const auto &o : store->model.opset_import())
      others += (others.empty() ? "" : ", ") + o.domain() + " v" +
                std::to_string(o.version());
    return fail("model imports no default-domain (ai.onnx) opset" +
                (others.empty() ? std::string()
                                : "; it imports only " + others));
  }
  if (it->second < 1 || it->second > kMaxOpset)
    return fail("model uses default-domain opset " + Twine(it->second) +
                "; kiln supports opsets up to " + Twine(kMaxOpset));
  return success();
}

FailureOr<RankedTensorType>
GraphImporter::inputType(const onnx::ValueInfoProto &vi,
                         SmallVector<Attribute> &dimNames) {
  std::string what = "graph input '" + vi.name() + "'";
  if (!vi.type().has_tensor_type())
    return (void)fail(what + " is not a tensor (sequences, maps and optionals are "
                       "not supported)"),
           failure();
  const auto &tt = vi.type().tensor_type();
  Type elt = onnxElementType(&ctx, tt.elem_type());
  if (!elt)
    return (void)fail(what + " has unsupported element type " +
                onnxTypeName(tt.elem_type())),
           failure();
  if (!tt.has_shape())
    return (void)fail(what + " has no shape (rank must be known)"), failure();
  SmallVector<int64_t> dims;
  for (const auto &d : tt.shape().dim()) {
    std::string sym = d.has_dim_param() ? d.dim_param() : "";
    int64_t extent = ShapedType::kDynamic;
    if (d.has_dim_value()) {
      if (d.dim_value() < 0)
        return (void)fail(what + " has a negative dim " +
                    Twine((int64_t)d.dim_value())),
               failure();
      extent = d.dim_value();
    } else if (!sym.empty()) {
      auto b = symbolBindings.find(sym);
      if (b != symbolBindings.end())
        extent = b->second;
    }
    dims.push_back(extent);
    dimNames.push_back(builder.getStringAttr(sym));
  }
  auto ov = options.shapes.find(vi.name());
  if (ov != options.shapes.end()) {
    if (ov->second.size() != dims.size())
      return (void)fail("shape override for input '" + vi.name() + "' has " +
                  Twine(ov->second.size()) + " dims, but the input has rank " +
                  Twine(dims.size())),
             failure();
    for (size_t i = 0; i < dims.size(); ++i) {
      if (!ShapedType::isDynamic(dims[i]) && dims[i] != ov->second[i])
        return (void)fail("shape override for input '" + vi.name() + "' sets dim " +
                    Twine(i) + " to " + Twine(ov->second[i]) +
                    ", but it is fixed at " + Twine(dims[i])),
               failure();
      dims[i] = ov->second[i];
    }
  }
  return RankedTensorType::get(dims, elt);
}

FailureOr<SmallVector<int>> GraphImporter::orderNodes() {
  // Kahn's algorithm over value names, keeping the file order among ready
  // nodes so that well-formed models import in their own order.
  auto nodeRef = [&](int i) {
    const auto &nd = graph->node(i);
    return "node '" + (nd.name().empty() ? nd.op_type() + "_" + std::to_string(i)
                                         : nd.name()) +
           "' (" + nd.op_type() + ")";
  };
  llvm::StringMap<int> producer;
  for (int i = 0; i < graph->node_size(); ++i)
    for (const auto &out : graph->node(i).output())
      if (!out.empty()) {
        if (values.count(out) || sequences.count(out) ||
            stackedSequences.count(out) || initializers.count(out) ||
            !producer.try_emplace(out, i).second)
          return (void)fail(nodeRef(i) + " redefines value '" + out + "'"),
                 failure();
      }
  int n = graph->node_size();
  std::vector<int> pending(n, 0);
  std::vector<std::vector<int>> users(n);
  for (int i = 0; i < n; ++i) {
    // An If also depends on the outer values its branches read.
    std::set<std::string> deps(graph->node(i).input().begin(),
                               graph->node(i).input().end());
    for (const auto &a : graph->node(i).attribute())
      if (a.has_g())
        capturedNames(a.g(), deps);
    for (const auto &in : deps) {
      if (in.empty() || values.count(in) || sequences.count(in) ||
          stackedSequences.count(in) || initializers.count(in))
        continue;
      auto p = producer.find(in);
      if (p == producer.end())
        return (void)fail(nodeRef(i) + " uses undefined value '" + in + "'"),
               failure();
      ++pending[i];
      users[p->second].push_back(i);
    }
  }
  std::vector<int> ready;
  for (int i = n - 1; i >= 0; --i)
    if (pending[i] == 0)
      ready.push_back(i);
  SmallVector<int> order;
  std::vector<bool> done(n, false);
  // A min-heap would keep file order exactly; a stack of ready nodes seeded
  // in reverse keeps it for the common already-sorted case.
  while (!ready.empty()) {
    int i = ready.back();
    ready.pop_back();
    done[i] = true;
    order.push_back(i);
    for (int u : llvm::reverse(users[i]))
      if (--pending[u] == 0)
        ready.push_back(u);
  }
  if ((int)order.size() != n) {
    // Walk from an unsorted node through unsorted producers until a node
    // repeats: that node is on a cycle (the start may only be downstream).
    int i = 0;
    while (done[i])
      ++i;
    std::vector<bool> seen(n, false);
    while (!seen[i]) {
      seen[i] = true;
      for (const auto &in : graph->node(i).input()) {
        auto p = producer.find(in);
        if (!in.empty() && p != producer.end() && !done[p->second]) {
          i = p->second;
          break;
        }
      }
    }
    return (void)fail(nodeRef(i) + " is part of a cycle in the graph"),
           failure();
  }
  return order;
}

FailureOr<Value> GraphImporter::lookup(const std::string &name,
                                       std::string &err) {
  auto it = values.find(name);
  if (it != values.end())
    return it->second;
  auto init = initializers.find(name);
  if (init == initializers.end()) {
    if (sequences.count(name) || stackedSequences.count(name))
      err = "value '" + name + "' is a sequence: kiln keeps sequences at "
            "import only, for sequence ops and Loop bodies";
    return failure();
  }
  auto attr = decodeTensor(&ctx, store, *init->second, err);
  if (failed(attr))
    return failure();
  OpBuilder::InsertionGuard g(builder);
  builder.setInsertionPointToStart(entry);
  Value v = mlir::kiln::ConstantOp::create(
      builder, NameLoc::get(builder.getStringAttr(name)), *attr);
  markFourBit(v, *init->second);
  values[name] = v;
  return v;
}

LogicalResult GraphImporter::convertNode(const onnx::NodeProto &node,
                                         size_t index) {
  std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
  std::string nodeName =
      node.name().empty() ? node.op_type() + "_" + std::to_string(index)
                          : node.name();
  auto opsetIt = opsets.find(domain);
  int64_t opset = opsetIt == opsets.end() ? -1 : opsetIt->second;
  std::string prefix = "node '" + nodeName + "' (" + node.op_type() +
                       ", domain '" + domain + "', opset " +
                       std::to_string(opset) + "): ";
  if (opset < 0)
    return fail(prefix + "the model imports no opset for this domain");
  if (!domain.empty() && domain != "com.microsoft")
    return fail(prefix + "unsupported domain");
  if (domain.empty() && opset < kFormOpset) {
    const auto *old = onnx::OpSchemaRegistry::Schema(node.op_type(), opset, "");
    const auto *cur =
        onnx::OpSchemaRegistry::Schema(node.op_type(), kFormOpset, "");
    if (old && cur && old->since_version() != cur->since_version())
      return fail(prefix + "this op's opset-" +
                  std::to_string(old->since_version()) +
                  " form changed in opset " +
                  std::to_string(cur->since_version()) +
                  "; kiln reads the forms in effect from opset " +
                  std::to_string(kFormOpset) + " (re-export at opset " +
                  std::to_string(kFormOpset) + " or later)");
  }
  Location loc = NameLoc::get(builder.getStringAttr(nodeName));
  if (domain.empty() && node.op_type() == "If")
    return convertIf(node, prefix, loc);
  if (domain.empty() && node.op_type() == "Loop")
    return convertLoop(node, opset, prefix, loc);
  if (domain.empty() && node.op_type() == "Scan")
    return convertScan(node, opset, prefix, loc);
  if (domain.empty() &&
      (StringRef(node.op_type()).starts_with("Sequence") ||
       node.op_type() == "ConcatFromSequence" ||
       node.op_type() == "SplitToSequence"))
    return convertSequenceOp(node, opset, prefix, loc);
  const auto &converters = getConverters();
  auto conv = converters.find(domain.empty() ? node.op_type()
                                             : domain + ":" + node.op_type());
  if (conv == converters.end())
    return fail(prefix + "unsupported operator");

  SmallVector<Value> inputs;
  for (const auto &in : node.input()) {
    if (in.empty()) {
      inputs.push_back(Value());
      continue;
    }
    std::string err;
    auto v = lookup(in, err);
    if (failed(v))
      return fail(err.empty() ? prefix + "input '" + in + "' is undefined"
                              : prefix + err);
    inputs.push_back(*v);
  }

  // Rewrite whatever this node's conversion reports into one line with the
  // node's identity in front.
  FirstError diag(ctx);
  NodeContext nc(node, opset, builder, loc, std::move(inputs), store);
  if (failed(conv->second(nc)))
    return fail(prefix + (diag.msg.empty() ? "conversion failed" : diag.msg));
  // Trailing optional outputs may be left off the node.
  if (node.output_size() > 0 && nc.outputs.size() > (size_t)node.output_size())
    nc.outputs.resize(node.output_size());
  if (nc.outputs.size() > (size_t)node.output_size())
    return fail(prefix + "the node lists " + std::to_string(node.output_size()) +
                " outputs, but the op produces " +
                std::to_string(nc.outputs.size()));
  for (size_t i = 0; i < nc.outputs.size(); ++i)
    if (!node.output(i).empty())
      values[node.output(i)] = nc.outputs[i];
  for (int i = nc.outputs.size(); i < node.output_size(); ++i)
    if (!node.output(i).empty())
      return fail(prefix + "output " + std::to_string(i) + " ('" +
                  node.output(i) + "') is not supported");
  return success();
}

OwningOpRef<ModuleOp> GraphImporter::run(StringRef modelName) {
  if (!store->model.has_graph())
    return (void)fail("model has no graph"), nullptr;
  if (failed(upgradeOpset()))
    return nullptr;
  graph = &store->model.graph();
  if (failed(checkOpsets()))
    return nullptr;

  for (const auto &init : graph->initializer()) {
    if (init.name().empty())
      return (void)fail("an initializer has no name"), nullptr;
    if (!initializers.try_emplace(init.name(), &init).second)
      return (void)fail("initializer '" + init.name() + "' is defined twice"),
             nullptr;
  }
  if (graph->sparse_initializer_size())
    return (void)fail("sparse initializers are not supported"), nullptr;

  // Bind symbolic dims from whole-input overrides and direct dim overrides.
  for (const auto &[name, dims] : options.shapes) {
    bool isInput = false;
    for (const auto &vi : graph->input())
      if (vi.name() == name) {
        isInput = true;
        if (!vi.type().tensor_type().has_shape())
          break;
        const auto &shape = vi.type().tensor_type().shape();
        for (int i = 0; i < shape.dim_size() && i < (int)dims.size(); ++i)
          if (shape.dim(i).has_dim_param())
            symbolBindings[shape.dim(i).dim_param()] = dims[i];
      }
    if (!isInput) {
      bool isSymbol = false;
      for (const auto &vi : graph->input())
        for (const auto &d : vi.type().tensor_type().shape().dim())
          isSymbol |= d.has_dim_param() && d.dim_param() == name;
      if (!isSymbol)
        return (void)fail("shape override '" + name +
                    "' names no graph input and no symbolic dim"),
               nullptr;
      if (dims.size() != 1)
        return (void)fail("shape override '" + name +
                    "' names no graph input; a symbolic dim takes one "
                    "extent"),
               nullptr;
      symbolBindings[name] = dims[0];
    }
  }

  // Graph inputs that are also initializers are defaults ONNX lets a caller
  // override; kiln compiles for inference and takes the initializer as a
  // constant, so they are not arguments.
  SmallVector<Type> argTypes;
  SmallVector<DictionaryAttr> argAttrs;
  SmallVector<const onnx::ValueInfoProto *> args;
  llvm::StringSet<llvm::MallocAllocator> seenInputs;
  for (const auto &vi : graph->input()) {
    if (!seenInputs.insert(vi.name()).second)
      return (void)fail("graph input '" + vi.name() + "' is listed twice"), nullptr;
    if (initializers.count(vi.name()))
      continue;
    SmallVector<Attribute> dimNames;
    auto t = inputType(vi, dimNames);
    if (failed(t))
      return nullptr;
    argTypes.push_back(*t);
    argAttrs.push_back(builder.getDictionaryAttr(
        {builder.getNamedAttr("kiln.name", builder.getStringAttr(vi.name())),
         builder.getNamedAttr("kiln.dims", builder.getArrayAttr(dimNames))}));
    args.push_back(&vi);
  }
  for (const auto &[name, dims] : options.shapes)
    if (dims.size() != 1 && !seenInputs.contains(name))
      return (void)fail("shape override names unknown input '" + name + "'"),
             nullptr;

  auto loc = FileLineColLoc::get(&ctx, modelName, 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  if (!graph->name().empty())
    (*module)->setAttr("kiln.graph_name", builder.getStringAttr(graph->name()));
  builder.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(builder, loc, "main",
                                   builder.getFunctionType(argTypes, {}));
  entry = func.addEntryBlock();
  for (auto [i, a] : llvm::enumerate(argAttrs)) {
    func.setArgAttrs(i, a);
    values[args[i]->name()] = entry->getArgument(i);
  }
  builder.setInsertionPointToEnd(entry);

  auto order = orderNodes();
  if (failed(order))
    return nullptr;
  for (int i : *order)
    if (failed(convertNode(graph->node(i), i)))
      return nullptr;

  SmallVector<Value> results;
  SmallVector<DictionaryAttr> resultAttrs;
  // The graph's outputs, then the extra values asked for (declared
  // nowhere: any type) that are not outputs already.
  std::vector<onnx::ValueInfoProto> outputs(graph->output().begin(),
                                            graph->output().end());
  for (const std::string &name : options.extraOutputs)
    if (llvm::none_of(outputs, [&](auto &o) { return o.name() == name; }))
      outputs.emplace_back().set_name(name);
  for (const auto &out : outputs) {
    std::string err;
    auto v = lookup(out.name(), err);
    if (failed(v))
      return (void)fail(err.empty() ? "graph output '" + out.name() +
                                    "' is never produced"
                              : err),
             nullptr;
    SmallVector<Attribute> dimNames;
    auto rt = cast<RankedTensorType>(v->getType());
    const auto &tt = out.type().tensor_type();
    if (out.type().has_tensor_type() && isFourBitType(tt.elem_type()))
      return (void)fail("graph output '" + out.name() + "' is declared " +
                        onnxTypeName(tt.elem_type()) +
                        ": 4-bit graph outputs are not supported"),
             nullptr;
    if (out.type().has_tensor_type() && tt.elem_type() != 0) {
      Type want = onnxElementType(&ctx, tt.elem_type());
      if (want && want != rt.getElementType())
        return (void)fail("graph output '" + out.name() + "' is declared " +
                    onnxTypeName(tt.elem_type()) + " but computes " +
                    mlir::kiln::typeStr(rt.getElementType())),
               nullptr;
    }
    if (out.type().has_tensor_type() && tt.has_shape()) {
      if (tt.shape().dim_size() != rt.getRank())
        return (void)fail("graph output '" + out.name() + "' is declared with rank " +
                    Twine(tt.shape().dim_size()) + " but computes " +
                    mlir::kiln::typeStr(rt)),
               nullptr;
      for (int i = 0; i < tt.shape().dim_size(); ++i) {
        const auto &d = tt.shape().dim(i);
        dimNames.push_back(builder.getStringAttr(
            d.has_dim_param() ? d.dim_param() : ""));
        if (d.has_dim_value() && !rt.isDynamicDim(i) &&
            rt.getDimSize(i) != d.dim_value())
          return (void)fail("graph output '" + out.name() + "' is declared with dim " +
                      Twine(i) + " = " + Twine((int64_t)d.dim_value()) +
                      " but computes " + mlir::kiln::typeStr(rt)),
                 nullptr;
      }
    } else {
      dimNames.assign(rt.getRank(), builder.getStringAttr(""));
    }
    results.push_back(*v);
    resultAttrs.push_back(builder.getDictionaryAttr(
        {builder.getNamedAttr("kiln.name", builder.getStringAttr(out.name())),
         builder.getNamedAttr("kiln.dims", builder.getArrayAttr(dimNames))}));
  }
  func::ReturnOp::create(builder, loc, results);
  // Folding at import leaves the constants it consumed behind; drop them.
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*entry)))
    if (isOpTriviallyDead(&op))
      op.erase();
  func.setType(builder.getFunctionType(argTypes, TypeRange(ValueRange(results))));
  for (auto [i, a] : llvm::enumerate(resultAttrs))
    func.setResultAttrs(i, a);

  std::string diag;
  {
    ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
      if (diag.empty())
        diag = d.str();
      return success();
    });
    if (failed(mlir::verify(*module)))
      return (void)fail("the imported module does not verify: " + diag), nullptr;
  }
  return module;
}

auto ::kiln::importOnnxFile(MLIRContext &context, llvm::StringRef path,
                            const ImportOptions &options, std::string &error)
    -> OwningOpRef<ModuleOp> {
  context.loadDialect<mlir::kiln::KilnDialect, func::FuncDialect>();
  auto store = std::make_shared<ModelStorage>();
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/true);
  if (!buf) {
    error = "cannot read '" + path.str() + "': " + buf.getError().message();
    return nullptr;
  }
  bool text = options.textFormat.value_or(path.ends_with(".onnxtxt") ||
                                          path.ends_with(".txt"));
  if (text) {
    // ONNX's parser reports most errors as a status but throws on numeric
    // overflow (std::stol/stof); this file is built with exceptions for it.
    std::string parseError;
    try {
      auto status = onnx::OnnxParser::Parse(store->model,
                                            (*buf)->getBufferStart());
      if (!status.IsOK())
        parseError = status.ErrorMessage();
    } catch (const std::exception &e) {
      parseError = std::string("number out of range (") + e.what() + ")";
    }
    if (!parseError.empty()) {
      std::replace(parseError.begin(), parseError.end(), '\n', ' ');
      error = "cannot parse '" + path.str() + "' as ONNX text: " + parseError;
      return nullptr;
    }
  } else {
    google::protobuf::io::CodedInputStream in(
        (const uint8_t *)(*buf)->getBufferStart(), (*buf)->getBufferSize());
    in.SetTotalBytesLimit(INT32_MAX);
    if (!store->model.ParseFromCodedStream(&in) ||
        !in.ConsumedEntireMessage()) {
      error = "cannot parse '" + path.str() +
              "': not a valid ONNX model (truncated or not protobuf)";
      return nullptr;
    }
  }
  SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  char real[PATH_MAX];
  if (!realpath(dir.c_str(), real)) {
    error = "cannot resolve the folder of '" + path.str() + "'";
    return nullptr;
  }
  store->modelDir = real;
  GraphImporter importer(context, store, options, error);
  auto module = importer.run(llvm::sys::path::filename(path));
  if (!module && error.empty())
    error = "import failed";
  return module;
}

//===----------------------------------------------------------------------===//
// Converter registry
//===----------------------------------------------------------------------===//

auto ::kiln::import::getConverters() -> const llvm::StringMap<Converter> & {
  static const llvm::StringMap<Converter> map = [] {
    llvm::StringMap<Converter> m;
    addElementwiseConverters(m);
    addNNConverters(m);
    addLossConverters(m);
    addShapeConverters(m);
    addTransformerConverters(m);
    addOrtContribConverters(m);
    addQuantConverters(m);
    addRecurrentConverters(m);
    addMiscConverters(m);
    return m;
  }();
  return map;
}
