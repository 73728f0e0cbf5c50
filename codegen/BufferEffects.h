//===- BufferEffects.h - which buffers an op may touch ----------*- C++ -*-===//
//
// The buffer queries of the passes that rewrite bufferized IR
// (kiln-fold-transposes, kiln-gpu-fuse-concats, the GPU kernel passes): a
// view's root buffer, and whether an op may write memory a buffer shares.
// Two buffers may share memory when they have the same root, or when
// neither root is a memref.alloc (function arguments, globals, runtime
// results may share each other).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_BUFFEREFFECTS_H
#define KILN_CODEGEN_BUFFEREFFECTS_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"

namespace mlir::kiln {

/// The buffer `v` is a view or reshape of.
Value rootBuffer(Value v);

/// Whether memrefs `a` and `b` may share memory.
bool mayAlias(Value a, Value b);

/// Whether `op` may write or free memory that `mem` may share.
bool mayWrite(Operation *op, Value mem);

} // namespace mlir::kiln

#endif // KILN_CODEGEN_BUFFEREFFECTS_H
