//===- Import.h - ONNX model importer ---------------------------*- C++ -*-===//
//
// The compiler's entry point for reading ONNX models (binary .onnx or the
// ONNX text format) into the kiln dialect.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_IMPORT_H
#define KILN_IMPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <map>
#include <string>
#include <vector>

namespace kiln {

struct ImportOptions {
  /// Shape overrides: an input name maps to all of its dims; a symbolic dim
  /// name (`batch`, `seq`) maps to one extent applied wherever it appears.
  std::map<std::string, std::vector<int64_t>> shapes;
  /// Parse as the ONNX text format instead of binary protobuf. When unset,
  /// files ending in .onnxtxt/.txt are text.
  std::optional<bool> textFormat;
  /// Values (by their ONNX names) the graph also returns, after its own
  /// outputs: `kiln calibrate` reads the dense layers' inputs this way.
  std::vector<std::string> extraOutputs;
};

/// Parses "name=1x128,batch=4" into `options.shapes`; false with `error` set
/// on malformed text.
bool parseShapeOverrides(llvm::StringRef text, ImportOptions &options,
                         std::string &error);

/// Imports the model at `path`. On failure returns null and sets `error` to
/// one line naming the node, its op type, domain and opset where one is at
/// fault. Weight data is referenced, not copied: the module keeps the parsed
/// model and any mapped external-data files alive through its resources.
mlir::OwningOpRef<mlir::ModuleOp> importOnnxFile(mlir::MLIRContext &context,
                                                 llvm::StringRef path,
                                                 const ImportOptions &options,
                                                 std::string &error);

} // namespace kiln

#endif // KILN_IMPORT_H
