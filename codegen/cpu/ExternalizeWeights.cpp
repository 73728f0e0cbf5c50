//===- ExternalizeWeights.cpp - the kiln-externalize-weights pass ---------===//
//
// Large constants leave the object file: their bytes go to a side file next
// to MODEL.so (mapped read-only at load, shared between processes), and each
// use becomes a call into the runtime that returns a view of the mapping.
// Runs after bufferization and deallocation, so the views are never freed,
// and after all tensor-level rewrites, so packed weights are what is stored.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/RuntimeCalls.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/Support/raw_ostream.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNEXTERNALIZEWEIGHTS
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

/// The bytes of a constant initializer, or nothing for splats and others.
std::optional<ArrayRef<char>> bytesOf(Attribute init) {
  if (auto r = dyn_cast<DenseResourceElementsAttr>(init)) {
    if (AsmResourceBlob *blob = r.getRawHandle().getBlob())
      return blob->getData();
    return std::nullopt;
  }
  if (auto d = dyn_cast<DenseElementsAttr>(init))
    if (!d.isSplat() && !d.getElementType().isInteger(1))
      return d.getRawData();
  return std::nullopt;
}

struct KilnExternalizeWeights final
    : mlir::kiln::impl::KilnExternalizeWeightsBase<KilnExternalizeWeights> {
  using Base::Base;
  void runOnOperation() override {
    if (weightsFile.empty())
      return;
    ModuleOp module = getOperation();
    bool any = false;
    for (auto global : module.getOps<memref::GlobalOp>())
      if (global.getConstant() && global.getInitialValue())
        if (auto bytes = bytesOf(*global.getInitialValue()))
          any |= (int64_t)bytes->size() >= minBytes;
    if (!any)
      return;
    std::error_code ec;
    llvm::raw_fd_ostream out(weightsFile, ec);
    if (ec) {
      module.emitError("cannot write '") << weightsFile << "': " << ec.message();
      return signalPassFailure();
    }
    OpBuilder b(&getContext());
    SymbolTable symbols(module);
    uint64_t offset = 0;
    SmallVector<Attribute> table;
    llvm::StringMap<int64_t> ids;
    SmallVector<memref::GlobalOp> moved;
    for (auto global : module.getOps<memref::GlobalOp>()) {
      if (!global.getConstant() || !global.getInitialValue())
        continue;
      auto bytes = bytesOf(*global.getInitialValue());
      if (!bytes || (int64_t)bytes->size() < minBytes)
        continue;
      uint64_t pad = (64 - offset % 64) % 64;
      out.write_zeros(pad);
      offset += pad;
      out.write(bytes->data(), bytes->size());
      int64_t id = table.size();
      SmallVector<Attribute> entry{b.getI64IntegerAttr(id),
                                   b.getI64IntegerAttr(offset),
                                   b.getI64IntegerAttr(bytes->size())};
      for (int64_t d : global.getType().getShape())
        entry.push_back(b.getI64IntegerAttr(d));
      table.push_back(b.getArrayAttr(entry));
      offset += bytes->size();
      ids[global.getSymName()] = id;
      moved.push_back(global);
    }
    if (moved.empty())
      return;
    auto ptrFree = [&](MemRefType t) {
      std::string s;
      llvm::raw_string_ostream os(s);
      os << "kiln_rt_weight_" << t.getElementType() << "_r" << t.getRank();
      return s;
    };
    module.walk([&](memref::GetGlobalOp get) {
      auto it = ids.find(get.getName());
      if (it == ids.end())
        return;
      auto type = get.getType();
      std::string name = ptrFree(type);
      // One declaration per element type and rank: the runtime returns a
      // dynamically shaped view, cast back to the static type here.
      auto dynType = mlir::kiln::dynamicShaped(type);
      auto decl = mlir::kiln::runtimeDecl(
          module, symbols, name,
          b.getFunctionType({b.getI64Type()}, {dynType}), get.getLoc());
      b.setInsertionPoint(get);
      Value id = arith::ConstantOp::create(b, get.getLoc(),
                                           b.getI64IntegerAttr(it->second));
      auto call = func::CallOp::create(b, get.getLoc(), decl, ValueRange{id});
      Value view = memref::CastOp::create(b, get.getLoc(), type, call.getResult(0));
      get.replaceAllUsesWith(view);
      get.erase();
    });
    for (auto g : moved)
      g.erase();
    module->setAttr("kiln.weights", b.getArrayAttr(table));
  }
};

} // namespace
