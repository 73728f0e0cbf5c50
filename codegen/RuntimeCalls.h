//===- RuntimeCalls.h - declarations of runtime entry points ----*- C++ -*-===//
//
// Shared by the passes that replace IR with calls into the compiled model's
// runtime (kiln-externalize-weights, kiln-gpu-device-globals) or check
// extents at run time (convert-kiln-to-linalg, kiln-gpu-attention).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_RUNTIMECALLS_H
#define KILN_CODEGEN_RUNTIMECALLS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::kiln {

/// `t` with every dim dynamic: runtime entry points take and return one
/// view type per element type and rank.
inline MemRefType dynamicShaped(MemRefType t) {
  return MemRefType::get(SmallVector<int64_t>(t.getRank(), ShapedType::kDynamic),
                         t.getElementType());
}

/// The private, C-interface declaration `name` of type `type` at the top of
/// `module`, created on first use.
inline func::FuncOp runtimeDecl(ModuleOp module, SymbolTable &symbols,
                                StringRef name, FunctionType type, Location loc) {
  if (auto decl = symbols.lookup<func::FuncOp>(name))
    return decl;
  OpBuilder mb = OpBuilder::atBlockBegin(module.getBody());
  auto decl = func::FuncOp::create(mb, loc, name, type);
  decl.setPrivate();
  decl->setAttr("llvm.emit_c_interface", mb.getUnitAttr());
  symbols.insert(decl);
  return decl;
}

/// The private declaration of `void kiln_rt_check_dim(i64, i64)`, the
/// run-time extent check, at the top of `module`, created on first use.
inline void declareCheckDim(ModuleOp module) {
  if (module.lookupSymbol("kiln_rt_check_dim"))
    return;
  OpBuilder mb = OpBuilder::atBlockBegin(module.getBody());
  auto i64 = mb.getI64Type();
  auto decl = func::FuncOp::create(mb, module.getLoc(), "kiln_rt_check_dim",
                                   mb.getFunctionType({i64, i64}, {}));
  decl.setPrivate();
}

} // namespace mlir::kiln

#endif // KILN_CODEGEN_RUNTIMECALLS_H
