//===- Precompiled.h - codegen's common headers, compiled once ------------===//
//
// The MLIR and LLVM headers codegen/'s files include, precompiled once for
// the KilnCodegen library (KILN_PCH in CMakeLists.txt) and
// force-included before each of its C++ files. Parsing and instantiating
// them took most of a file's compile time: with gcc -O3, gpu/Attention.cpp
// took 46 s of CPU without it and 17 s with it, gpu/NameKernels.cpp (90
// lines) 41 s and 9 s.
//
// Nothing here may depend on a macro a file defines before its includes:
// a pass's GEN_PASS_DEF_* and the like stay in the files that use them.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_PRECOMPILED_H
#define KILN_CODEGEN_PRECOMPILED_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include "dialects/kiln/KilnDialect.h"

#endif // KILN_CODEGEN_PRECOMPILED_H
