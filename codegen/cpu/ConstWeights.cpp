//===- ConstWeights.cpp - constant weights seen by the CPU ukernel pass ---===//
//
// See ConstWeights.h.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/ConstWeights.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <algorithm>

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

std::vector<float> winogradFilter(const std::vector<float> &w, int64_t c,
                                  int64_t f) {
  static const double G[4][3] = {{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}};
  std::vector<float> u((size_t)(16 * f * c));
  for (int64_t fo = 0; fo < f; ++fo) {
    int64_t f0 = fo - fo % 12, rows = std::min<int64_t>(12, f - f0);
    for (int64_t ci = 0; ci < c; ++ci) {
      double t[4][3] = {}; // G g
      for (int i = 0; i < 4; ++i)
        for (int b = 0; b < 3; ++b)
          for (int a = 0; a < 3; ++a)
            t[i][b] += G[i][a] * w[(size_t)((ci * 9 + a * 3 + b) * f + fo)];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) {
          double s = 0;
          for (int b = 0; b < 3; ++b)
            s += t[i][b] * G[j][b];
          u[(size_t)((i * 4 + j) * f * c + f0 * c + ci * rows + fo - f0)] =
              (float)s;
        }
    }
  }
  return u;
}

std::vector<float> channelBlockedFilter(const std::vector<float> &w, int64_t c,
                                        int64_t taps, int64_t f) {
  std::vector<float> r(w.size());
  for (int64_t ci = 0; ci < c; ++ci)
    for (int64_t t = 0; t < taps; ++t) {
      int64_t from = ci * taps + t;
      int64_t to = ((ci / 8) * taps + t) * 8 + ci % 8;
      std::copy_n(w.begin() + from * f, f, r.begin() + to * f);
    }
  return r;
}

} // namespace mlir::kiln::cpu
