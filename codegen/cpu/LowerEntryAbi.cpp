//===- LowerEntryAbi.cpp - the kiln-lower-entry-abi pass ------------------===//
//
// Gives @main the calling convention the runtime expects: inputs as memref
// descriptors, a trailing run-context pointer, and outputs handed to
// kiln_rt_output_<type>(ctx, index, unranked tensor) instead of returned, so
// the runtime copies them while they are alive and deallocation stays local.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNLOWERENTRYABI
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

std::string typeName(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

/// Gives `fn` the entry convention: a trailing run-context argument, and
/// result `i` handed to kiln_rt_output_<type>(ctx, firstIndex + i, tensor).
LogicalResult lowerEntry(ModuleOp module, func::FuncOp fn, int64_t firstIndex) {
  MLIRContext *ctx = module.getContext();
  OpBuilder b(ctx);
  auto ptrTy = LLVM::LLVMPointerType::get(ctx);
  unsigned nargs = fn.getNumArguments();
  // Inputs are the caller's memory: bufferization must never write them
  // (an op that accumulates into an input's buffer copies it first).
  for (unsigned i = 0; i < nargs; ++i)
    fn.setArgAttr(i, "bufferization.writable", b.getBoolAttr(false));
  if (failed(fn.insertArgument(nargs, ptrTy, {}, fn.getLoc())))
    return failure();
  Value runCtx = fn.getArgument(nargs);
  SymbolTable symbols(module);
  auto ret = cast<func::ReturnOp>(fn.getBody().back().getTerminator());
  b.setInsertionPoint(ret);
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    auto t = cast<RankedTensorType>(v.getType());
    Type elt = t.getElementType();
    std::string name = "kiln_rt_output_" + typeName(elt);
    auto unranked = UnrankedTensorType::get(elt);
    auto fnTy = b.getFunctionType({ptrTy, b.getI64Type(), unranked}, {});
    auto decl = symbols.lookup<func::FuncOp>(name);
    if (!decl) {
      OpBuilder mb = OpBuilder::atBlockBegin(module.getBody());
      decl = func::FuncOp::create(mb, fn.getLoc(), name, fnTy);
      decl.setPrivate();
      decl->setAttr("llvm.emit_c_interface", mb.getUnitAttr());
      // The runtime only reads the tensor: bufferization may then pass
      // one buffer to several calls (an output returned twice).
      decl.setArgAttr(2, "bufferization.access", mb.getStringAttr("read"));
      symbols.insert(decl);
    }
    Value u = tensor::CastOp::create(b, ret.getLoc(), unranked, v);
    Value index = arith::ConstantOp::create(
        b, ret.getLoc(), b.getI64IntegerAttr(firstIndex + (int64_t)i));
    func::CallOp::create(b, ret.getLoc(), decl, ValueRange{runCtx, index, u});
  }
  func::ReturnOp::create(b, ret.getLoc());
  ret.erase();
  fn.setType(b.getFunctionType(fn.getArgumentTypes(), {}));
  fn.setAllResultAttrs(ArrayRef<DictionaryAttr>{});
  fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  return success();
}

struct KilnLowerEntryAbi final
    : mlir::kiln::impl::KilnLowerEntryAbiBase<KilnLowerEntryAbi> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main) {
      module.emitError("no @main function to lower");
      return signalPassFailure();
    }
    // With a batch head (kiln-outline-batch-head), @main's one result is
    // the head's input, output -1 to the runtime; the head's results are
    // the model's outputs.
    auto head = module.lookupSymbol<func::FuncOp>("kiln_head");
    if (head && (main.getNumResults() != 1 || head.getNumArguments() != 1)) {
      main.emitError("@main and @kiln_head do not meet at one value");
      return signalPassFailure();
    }
    if (failed(lowerEntry(module, main, head ? -1 : 0)) ||
        (head && failed(lowerEntry(module, head, 0))))
      return signalPassFailure();
  }
};

} // namespace
