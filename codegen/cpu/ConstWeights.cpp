//===- ConstWeights.cpp - constant weights seen by the CPU ukernel pass ---===//
//
// See ConstWeights.h.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/ConstWeights.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace mlir::kiln::cpu {

std::optional<ConstReader> readerOf(memref::GlobalOp global) {
  if (!global.getConstant() || !global.getInitialValue())
    return std::nullopt;
  Attribute init = *global.getInitialValue();
  int64_t count = global.getType().getNumElements();
  ConstReader r;
  if (auto res = dyn_cast<DenseResourceElementsAttr>(init)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob || (int64_t)blob->getData().size() != count * 4)
      return std::nullopt;
    r.raw = blob->getData().data();
    return r;
  }
  auto dense = dyn_cast<DenseElementsAttr>(init);
  if (!dense || !dense.getElementType().isF32())
    return std::nullopt;
  if (dense.isSplat()) {
    r.isSplat = true;
    r.splat = dense.getSplatValue<float>();
    return r;
  }
  if ((int64_t)dense.getRawData().size() != count * 4)
    return std::nullopt;
  r.raw = dense.getRawData().data();
  return r;
}

std::optional<std::vector<char>> rawBytesOf(memref::GlobalOp global,
                                            int64_t elemBytes) {
  if (!global.getConstant() || !global.getInitialValue())
    return std::nullopt;
  Attribute init = *global.getInitialValue();
  int64_t count = global.getType().getNumElements();
  if (auto res = dyn_cast<DenseResourceElementsAttr>(init)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob || (int64_t)blob->getData().size() != count * elemBytes)
      return std::nullopt;
    return std::vector<char>(blob->getData().begin(), blob->getData().end());
  }
  auto dense = dyn_cast<DenseElementsAttr>(init);
  if (!dense)
    return std::nullopt;
  ArrayRef<char> raw = dense.getRawData();
  if (dense.isSplat() && (int64_t)raw.size() == elemBytes) {
    std::vector<char> out;
    for (int64_t i = 0; i < count; ++i)
      out.insert(out.end(), raw.begin(), raw.end());
    return out;
  }
  if ((int64_t)raw.size() != count * elemBytes)
    return std::nullopt;
  return std::vector<char>(raw.begin(), raw.end());
}

memref::GlobalOp constantGlobalOf(Value v, SymbolTable &symbols,
                                  bool anyType) {
  for (;;) {
    if (auto c = v.getDefiningOp<memref::CollapseShapeOp>())
      v = c.getSrc();
    else if (auto e = v.getDefiningOp<memref::ExpandShapeOp>())
      v = e.getSrc();
    else if (auto r = v.getDefiningOp<memref::ReshapeOp>())
      v = r.getSource();
    else
      break;
  }
  auto get = v.getDefiningOp<memref::GetGlobalOp>();
  if (!get)
    return {};
  auto global = symbols.lookup<memref::GlobalOp>(get.getName());
  if (!global || !global.getConstant() || !global.getInitialValue() ||
      (!anyType && !readerOf(global)))
    return {};
  return global;
}

bool isF32Rank(Value v, int64_t rank) {
  auto t = dyn_cast<MemRefType>(v.getType());
  return t && t.getRank() == rank && t.getElementType().isF32();
}

bool hasUnitInnerStride(Value v) {
  auto t = cast<MemRefType>(v.getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(t.getStridesAndOffset(strides, offset)))
    return false;
  return !strides.empty() && strides.back() == 1;
}

std::optional<TransposedConst> transposedConstOf(Value b,
                                                 SymbolTable &symbols) {
  auto alloc = b.getDefiningOp<memref::AllocOp>();
  if (!alloc)
    return std::nullopt;
  TransposedConst tc{alloc, {}, {}};
  for (Operation *user : alloc->getUsers()) {
    if (isa<memref::DeallocOp>(user))
      continue;
    if (auto t = dyn_cast<linalg::TransposeOp>(user)) {
      if (tc.transpose || t.getInit() != b ||
          t.getPermutation() != ArrayRef<int64_t>{1, 0})
        return std::nullopt;
      tc.transpose = t;
      continue;
    }
    auto mm = dyn_cast<linalg::MatmulOp>(user);
    if (!mm || mm.hasUserDefinedMaps() ||
        mm.getDpsInputOperand(1)->get() != b ||
        mm.getDpsInputOperand(0)->get() == b || mm.getDpsInitOperand(0)->get() == b)
      return std::nullopt;
  }
  if (!tc.transpose)
    return std::nullopt;
  tc.global = constantGlobalOf(tc.transpose.getInput(), symbols);
  if (!tc.global)
    return std::nullopt;
  return tc;
}

} // namespace mlir::kiln::cpu
