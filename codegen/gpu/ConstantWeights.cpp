//===- ConstantWeights.cpp - GPU matmul weights made at compile time ------===//
//
// See ConstantWeights.h.
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/ConstantWeights.h"
#include "codegen/cpu/ConstWeights.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include "llvm/ADT/MapVector.h"

using namespace mlir;

namespace {

/// The get_global `v` reads (through reshapes) and those reshapes, when
/// nothing else reads them, so that a replaced global can go.
void eraseDeadReads(Value v) {
  while (v && v.use_empty()) {
    Operation *def = v.getDefiningOp();
    if (!def || !isa<memref::GetGlobalOp, memref::ReshapeOp,
                     memref::CollapseShapeOp, memref::ExpandShapeOp>(def))
      return;
    v = isa<memref::GetGlobalOp>(def) ? Value() : def->getOperand(0);
    def->erase();
  }
}

} // namespace

namespace mlir::kiln::gpu_weights {

/// Constant right-hand sides in the layout and precision the kernel stages
/// them in, made at compile time: with fp16 / bf16, the weights rounded
/// once (half the bytes the kernels read); a [1, 0] transpose of a
/// constant (a Gemm's transB) transposed here, not on every run. The new
/// globals' get_globals go at the function's start, so that the ops fused
/// around the matmul stay its neighbours.
void useConstantWeights(func::FuncOp fn, Type lowp, SymbolTable &symbols,
                        kiln::cpu::WeightPacker &packer) {
  using kiln::cpu::WeightKind;
  SmallVector<linalg::MatmulOp> matmuls;
  fn.walk([&](linalg::MatmulOp mm) {
    if (!mm->getParentOfType<gpu::LaunchOp>() && mm.hasPureBufferSemantics() &&
        !mm.hasUserDefinedMaps())
      matmuls.push_back(mm);
  });
  llvm::MapVector<Operation *, kiln::cpu::TransposedConst> transposes;
  for (linalg::MatmulOp mm : matmuls) {
    Value bv = mm.getDpsInputOperand(1)->get();
    auto bt = cast<MemRefType>(bv.getType());
    auto at = cast<MemRefType>(mm.getDpsInputOperand(0)->get().getType());
    if (!bt.hasStaticShape() || !bt.getElementType().isF32() ||
        !at.getElementType().isF32())
      continue;
    memref::GlobalOp global;
    std::optional<kiln::cpu::TransposedConst> tc =
        kiln::cpu::transposedConstOf(bv, symbols);
    if (tc)
      global = tc->global;
    else if (lowp)
      global = kiln::cpu::constantGlobalOf(bv, symbols);
    if (!global || !kiln::cpu::readerOf(global))
      continue;
    WeightKind kind = !lowp ? WeightKind::RowF32
                      : lowp.isF16() ? WeightKind::RowF16
                                     : WeightKind::RowBf16;
    memref::GlobalOp packed = packer.packedFor(
        global, /*transposed=*/tc.has_value(), bt.getDimSize(0),
        bt.getDimSize(1), kind);
    OpBuilder b(&fn.getBody().front(), fn.getBody().front().begin());
    Value get = memref::GetGlobalOp::create(b, mm.getLoc(), packed.getType(),
                                            packed.getSymName());
    mm->setOperand(1, get);
    if (tc)
      transposes.insert({tc->alloc, *tc});
    eraseDeadReads(bv);
  }
  // A transposed copy nothing reads any more goes, with its buffer.
  for (auto &[alloc, tc] : transposes) {
    bool used = llvm::any_of(alloc->getUsers(), [&](Operation *u) {
      return u != tc.transpose.getOperation() && !isa<memref::DeallocOp>(u);
    });
    if (used)
      continue;
    Value source = tc.transpose.getInput();
    for (Operation *u : llvm::make_early_inc_range(alloc->getUsers()))
      u->erase();
    alloc->erase();
    eraseDeadReads(source);
  }
}

} // namespace mlir::kiln::gpu_weights
