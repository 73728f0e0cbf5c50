//===- Signature.cpp - the signature text a compiled model embeds ---------===//
//
// kiln_model_signature() returns it; the runtime parses it (model.c) and
// `kiln inspect` prints it. One line per input and output, then lines for
// what the runtime needs to know of the compiled code: a split batch and
// its head, the kernels' GPU target, the GPU inputs read in place, and the
// weights side file's table.
//
//===----------------------------------------------------------------------===//

#include "Signature.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;

static std::string dtypeName(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

/// One line per input/output: "in|out <TAB> name <TAB> dtype <TAB> dims",
/// dims comma separated, a dynamic dim written `?name` (or `?`).
std::string kiln::signatureOf(func::FuncOp main) {
  std::string sig;
  auto emit = [&](const char *kind, Type type, DictionaryAttr attrs) {
    auto t = cast<RankedTensorType>(type);
    auto name = attrs ? dyn_cast_or_null<StringAttr>(attrs.get("kiln.name"))
                      : StringAttr();
    auto dims = attrs ? dyn_cast_or_null<ArrayAttr>(attrs.get("kiln.dims"))
                      : ArrayAttr();
    sig += std::string(kind) + "\t" + (name ? name.str() : "") + "\t" +
           dtypeName(t.getElementType()) + "\t";
    for (int64_t i = 0; i < t.getRank(); ++i) {
      if (i)
        sig += ",";
      if (!t.isDynamicDim(i)) {
        sig += std::to_string(t.getDimSize(i));
        continue;
      }
      sig += "?";
      if (dims && i < (int64_t)dims.size())
        sig += cast<StringAttr>(dims[i]).str();
    }
    sig += "\n";
  };
  for (unsigned i = 0; i < main.getNumArguments(); ++i)
    emit("in", main.getArgument(i).getType(), main.getArgAttrDict(i));
  for (unsigned i = 0; i < main.getNumResults(); ++i)
    emit("out", main.getResultTypes()[i], main.getResultAttrDict(i));
  return sig;
}

void kiln::appendSignatureLines(ModuleOp module, llvm::StringRef cudaArch,
                                std::string &signature) {
  // A batch the runtime may run image by image (kiln-mark-batch-split):
  // "b <TAB> dim <TAB> weight bytes <TAB> FLOPs per image as COEF*dim...;...".
  if (auto split = module->getAttrOfType<DictionaryAttr>("kiln.batch_split")) {
    auto dim = split.getAs<StringAttr>("dim");
    auto bytes = split.getAs<IntegerAttr>("weight_bytes");
    auto flops = split.getAs<ArrayAttr>("flops");
    if (dim && bytes && flops) {
      signature += "b\t" + dim.str() + "\t" + std::to_string(bytes.getInt()) + "\t";
      for (auto [i, f] : llvm::enumerate(flops))
        signature += (i ? ";" : "") + cast<StringAttr>(f).str();
      signature += "\n";
    }
    // "h <TAB> dtype <TAB> weight bytes": @main's result is the input of
    // the batch head (kiln-outline-batch-head).
    auto head = split.getAs<TypeAttr>("head_input");
    auto headBytes = split.getAs<IntegerAttr>("head_weight_bytes");
    if (head && headBytes)
      signature += "h\t" + dtypeName(head.getValue()) + "\t" +
                   std::to_string(headBytes.getInt()) + "\n";
  }
  // "t <TAB> cuda <TAB> sm_XX": the kernels' target, for `kiln inspect`.
  if (!cudaArch.empty())
    signature += "t\tcuda\t" + cudaArch.str() + "\n";
  // "d <TAB> i,j,...": the inputs only kernels read (kiln-gpu-device-inputs),
  // which the runtime reads in place when the caller's buffer is GPU memory.
  // "o <TAB> i,j,...": the outputs only kernels write
  // (kiln-outputs-in-place{kernels-only}), written in place into a
  // caller's GPU buffer (informational: the generated code asks the
  // runtime for their buffers).
  for (auto [attr, tag] : {std::pair{"kiln.device_inputs", "d"},
                           std::pair{"kiln.device_outputs", "o"}})
    if (auto ids = module->getAttrOfType<DenseI64ArrayAttr>(attr)) {
      signature += std::string(tag) + "\t";
      for (auto [i, v] : llvm::enumerate(ids.asArrayRef()))
        signature += (i ? "," : "") + std::to_string(v);
      signature += "\n";
    }
  // The side-file table: "w <TAB> id <TAB> offset <TAB> bytes <TAB> dims".
  if (auto table = module->getAttrOfType<ArrayAttr>("kiln.weights")) {
    for (Attribute e : table) {
      auto entry = cast<ArrayAttr>(e);
      signature += "w";
      for (auto [i, v] : llvm::enumerate(entry))
        signature += (i == 3 ? "\t" : i < 3 ? "\t" : ",") +
                     std::to_string(cast<IntegerAttr>(v).getInt());
      if (entry.size() == 3)
        signature += "\t";
      signature += "\n";
    }
  }
}
