//===- OutputsInPlace.cpp - the kiln-outputs-in-place pass ----------------===//
//
// Outputs computed straight into the buffers the caller gets: a decode
// step's KV-cache outputs (tens of MiB) were written to the workspace and
// then copied out, doubling their memory traffic. On the CUDA pipeline
// (kernels-only) the buffer may be the caller's GPU memory, so only
// buffers that kernels alone touch qualify.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/RuntimeCalls.h"
#include "codegen/gpu/KernelUses.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNOUTPUTSINPLACE
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

/// The buffer under memref.casts.
Value rootOf(Value v) {
  while (auto cast = v.getDefiningOp<memref::CastOp>())
    v = cast.getSource();
  return v;
}

/// The buffer under casts and reshapes (an LM head's [B*S, V] logits
/// reshaped to [B, S, V]); `reshaped` says whether a reshape was crossed.
Value bufferOf(Value v, bool &reshaped) {
  reshaped = false;
  for (v = rootOf(v);; v = rootOf(v)) {
    if (auto r = v.getDefiningOp<memref::ReshapeOp>())
      v = r.getSource();
    else if (auto e = v.getDefiningOp<memref::ExpandShapeOp>())
      v = e.getSrc();
    else if (auto c = v.getDefiningOp<memref::CollapseShapeOp>())
      v = c.getSrc();
    else
      return v;
    reshaped = true;
  }
}

/// `op`'s ancestor in `block` (or null).
Operation *ancestorIn(Block *block, Operation *op) {
  return block->findAncestorOpInBlock(*op);
}

/// Whether `user` is the output call itself or a cast used by nothing else
/// (the call's own operand).
bool feedsOnly(Operation *user, func::CallOp call) {
  if (user == call.getOperation())
    return true;
  return isa<memref::CastOp>(user) &&
         llvm::all_of(user->getUsers(),
                      [&](Operation *u) { return u == call.getOperation(); });
}

/// Whether every use of `buf` (through casts) other than `call` and its
/// deallocs sits before `call` in its block; collects the deallocs.
bool onlyUsedBefore(Value buf, func::CallOp call,
                    SmallVectorImpl<memref::DeallocOp> &deallocs) {
  Block *block = call->getBlock();
  SmallVector<Value> worklist{buf};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (feedsOnly(user, call))
        continue;
      if (auto d = dyn_cast<memref::DeallocOp>(user)) {
        deallocs.push_back(d);
        continue;
      }
      // Views of the buffer (casts, subviews, reshapes) must be used before
      // the call too.
      if (isa<ViewLikeOpInterface>(user))
        for (Value r : user->getResults())
          if (isa<BaseMemRefType>(r.getType()))
            worklist.push_back(r);
      Operation *at = ancestorIn(block, user);
      if (!at || !at->isBeforeInBlock(call))
        return false;
    }
  }
  return true;
}

struct KilnOutputsInPlace final
    : mlir::kiln::impl::KilnOutputsInPlaceBase<KilnOutputsInPlace> {
  using KilnOutputsInPlaceBase::KilnOutputsInPlaceBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // The entry, and the batch head the runtime runs after it.
    for (StringRef name : {"main", "kiln_head"})
      if (auto fn = module.lookupSymbol<func::FuncOp>(name))
        placeOutputs(module, fn);
    // For `kiln inspect`: the outputs the kernels write where the caller
    // wants them (GPU memory).
    if (kernelsOnly) {
      llvm::sort(placed);
      module->setAttr("kiln.device_outputs",
                      Builder(&getContext()).getDenseI64ArrayAttr(placed));
    }
  }

  SmallVector<int64_t> placed; // output indices given the buffer call

  void placeOutputs(ModuleOp module, func::FuncOp main) {
    if (main.getBody().empty() || main.getNumArguments() == 0)
      return;
    Value runCtx = main.getArgument(main.getNumArguments() - 1);
    Block &body = main.getBody().front();
    SmallVector<func::CallOp> outputs;
    for (auto call : body.getOps<func::CallOp>())
      if (call.getCallee().starts_with("kiln_rt_output_") &&
          !call.getCallee().starts_with("kiln_rt_output_buffer_") &&
          call.getNumOperands() == 3)
        outputs.push_back(call);
    // A buffer given to two output calls (an output returned twice) keeps
    // the copies.
    llvm::DenseMap<Value, int> uses;
    SmallVector<std::pair<Value, bool>> buffers; // per call: buffer, reshaped
    for (auto call : outputs) {
      bool reshaped;
      Value buf = bufferOf(call.getOperand(2), reshaped);
      buffers.push_back({buf, reshaped});
      ++uses[buf];
    }
    // A split run asks each image's output buffer with a batch dim of 1,
    // which a reshaped buffer (batch folded into rows) does not have.
    bool split = module->hasAttr("kiln.batch_split");
    SymbolTable symbols(module);
    OpBuilder b(&getContext());
    for (size_t i = 0; i < outputs.size(); ++i) {
      func::CallOp call = outputs[i];
      // A reshaped buffer is asked for in its own shape, as many bytes as
      // the output; the output call then gives the runtime the output's
      // dims, finding the data in place.
      Value root = buffers[i].first;
      if (buffers[i].second && split)
        continue;
      auto alloc = root.getDefiningOp<memref::AllocOp>();
      if (!alloc || alloc->getBlock() != &body || uses[root] != 1)
        continue;
      MemRefType type = alloc.getType();
      if (!type.getLayout().isIdentity() || type.getRank() < 1 ||
          type.getRank() > 6 || type.getMemorySpace())
        continue;
      auto index = call.getOperand(1).getDefiningOp<arith::ConstantOp>();
      if (!index)
        continue;
      SmallVector<memref::DeallocOp> deallocs;
      if (!onlyUsedBefore(root, call, deallocs))
        continue;
      if (kernelsOnly && !mlir::kiln::onlyKernelsTouch(root, [&](OpOperand &use) {
            return feedsOnly(use.getOwner(), call) ||
                   isa<memref::DeallocOp>(use.getOwner());
          }))
        continue;
      std::string name;
      llvm::raw_string_ostream os(name);
      os << "kiln_rt_output_buffer_" << type.getElementType() << "_r"
         << type.getRank();
      SmallVector<Type> args{runCtx.getType(), b.getI64Type()};
      args.append(type.getRank(), b.getIndexType());
      MemRefType dynType = mlir::kiln::dynamicShaped(type);
      auto decl = mlir::kiln::runtimeDecl(module, symbols, name,
                                          b.getFunctionType(args, {dynType}),
                                          alloc.getLoc());
      b.setInsertionPoint(alloc);
      Location loc = alloc.getLoc();
      // The index constant may sit after the alloc: make one here.
      Value idx = arith::ConstantOp::create(b, loc, index.getValue());
      if (auto i = dyn_cast<IntegerAttr>(index.getValue()))
        placed.push_back(i.getInt());
      SmallVector<Value> operands{runCtx, idx};
      unsigned dyn = 0;
      for (int64_t d = 0; d < type.getRank(); ++d)
        operands.push_back(type.isDynamicDim(d)
                               ? alloc.getDynamicSizes()[dyn++]
                               : arith::ConstantIndexOp::create(
                                     b, loc, type.getDimSize(d))
                                     .getResult());
      auto get = func::CallOp::create(b, loc, decl, operands);
      Value view = get.getResult(0);
      if (view.getType() != type)
        view = memref::CastOp::create(b, loc, type, view);
      for (auto d : deallocs)
        d.erase();
      alloc.getResult().replaceAllUsesWith(view);
      alloc.erase();
    }
  }
};

} // namespace
