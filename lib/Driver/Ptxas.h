//===- Ptxas.h - PTX to cubins for the CUDA target --------------*- C++ -*-===//
#ifndef KILN_DRIVER_PTXAS_H
#define KILN_DRIVER_PTXAS_H

#include "mlir/IR/BuiltinOps.h"

#include "llvm/Support/raw_ostream.h"

#include <string>

namespace kiln {

struct PtxasStats {
  int kernels = 0;        // gpu.module objects assembled
  int64_t spillBytes = 0; // spill stores + loads over all kernels
  int spilling = 0;       // kernels with any spill
};

/// Runs `<toolkit>/bin/ptxas -arch=<arch> -O3 -v` on the PTX of every
/// gpu.binary object and replaces it with the cubin, so every kernel is
/// validated by NVIDIA's assembler at compile time. With `saveDir`, writes
/// `<module>.ptx` and `<module>.ptxas.log` there.
bool assembleWithPtxas(mlir::ModuleOp module, llvm::StringRef toolkit,
                       llvm::StringRef arch, llvm::StringRef saveDir,
                       PtxasStats &stats, std::string &error);

} // namespace kiln

#endif // KILN_DRIVER_PTXAS_H
