//===- Signature.h - the signature text a compiled model embeds -*- C++ -*-===//

#ifndef KILN_DRIVER_SIGNATURE_H
#define KILN_DRIVER_SIGNATURE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace kiln {

/// One line per input/output of the imported @main: "in|out <TAB> name
/// <TAB> dtype <TAB> dims", dims comma separated, a dynamic dim written
/// `?name` (or `?`).
std::string signatureOf(mlir::func::FuncOp main);

/// Appends the lines the lowered `module` calls for: "b" (a split batch),
/// "h" (its head), "t" (the kernels' GPU target, `cudaArch` unless empty),
/// "d" (GPU inputs read in place), "w" (the weights side file's table).
void appendSignatureLines(mlir::ModuleOp module, llvm::StringRef cudaArch,
                          std::string &signature);

} // namespace kiln

#endif
