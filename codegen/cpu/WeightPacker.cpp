//===- WeightPacker.cpp - constant weights packed for the CPU kernels -----===//
//
// The layouts are the runtime's: fp32 panels (KILN_GEMM_NR columns, K rows
// of 16 contiguous floats, zero-padded past N), bf16 k-pair panels, and the
// fp16, int8 and int4 layouts of the runtime's own plain-C packers, which
// the compiler links (codegen/CMakeLists.txt), so each is defined once.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/WeightPacker.h"
#include "codegen/cpu/ConstWeights.h"
#include "../../lib/Runtime/ukernels/bf16_round.h"
#include "../../lib/Runtime/ukernels/conv_s8.h"
#include "../../lib/Runtime/ukernels/gemm_s4.h"
#include "../../lib/Runtime/ukernels/gemm_s8.h"
#include "../../lib/Runtime/ukernels/pack_f16.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::kiln::cpu;

namespace {

/// `global`'s values as a row-major [K, N] matrix (the global is [N, K]
/// when transposed).
std::vector<float> rowMajor(memref::GlobalOp global, bool transposed,
                            int64_t k, int64_t n) {
  ConstReader r = *readerOf(global);
  std::vector<float> w((size_t)(k * n));
  for (int64_t kk = 0; kk < k; ++kk)
    for (int64_t j = 0; j < n; ++j)
      w[(size_t)(kk * n + j)] = transposed ? r[j * k + kk] : r[kk * n + j];
  return w;
}

int64_t panelsOf(int64_t n) { return (n + kPanel - 1) / kPanel; }

} // namespace

/// A new private constant global next to `near`, named after it with
/// `suffix` (renamed on a clash), holding `data` as a `shape` tensor of
/// `elt`.
template <typename T>
memref::GlobalOp WeightPacker::newGlobal(memref::GlobalOp near,
                                         StringRef suffix,
                                         ArrayRef<int64_t> shape, Type elt,
                                         ArrayRef<T> data) {
  std::string name = (near.getSymName() + suffix).str();
  auto blob = HeapAsmResourceBlob::allocateAndCopyInferAlign<T>(data);
  auto init = DenseResourceElementsAttr::get(RankedTensorType::get(shape, elt),
                                             name, std::move(blob));
  OpBuilder b(near);
  auto g = memref::GlobalOp::create(
      b, near.getLoc(), name, b.getStringAttr("private"),
      MemRefType::get(shape, elt), init, /*constant=*/true,
      b.getI64IntegerAttr(64));
  symbols.insert(g);
  return g;
}

/// fp32 panels: [P, K, 16].
memref::GlobalOp WeightPacker::packF32(memref::GlobalOp global,
                                       ArrayRef<float> w, int64_t k,
                                       int64_t n) {
  std::vector<float> data =
      packPanels(k, n, [&](int64_t kk, int64_t j) { return w[kk * n + j]; });
  return newGlobal<float>(global, "_packed", {panelsOf(n), k, kPanel},
                          Float32Type::get(global.getContext()), data);
}

/// bf16 k-pair panels: [P, ceil(K/2), 32] bf16 bits as i16.
memref::GlobalOp WeightPacker::packBf16(memref::GlobalOp global,
                                        ArrayRef<float> w, int64_t k,
                                        int64_t n) {
  int64_t panels = panelsOf(n), kq = (k + 1) / 2;
  std::vector<uint16_t> data((size_t)(panels * kq * 2 * kPanel), 0);
  for (int64_t kk = 0; kk < k; ++kk)
    for (int64_t j = 0; j < n; ++j)
      data[(size_t)(((j / kPanel * kq + kk / 2) * kPanel + j % kPanel) * 2 +
                    kk % 2)] = kiln_bf16_round(w[kk * n + j]);
  return newGlobal<uint16_t>(global, "_bf16", {panels, kq, 2 * kPanel},
                             IntegerType::get(global.getContext(), 16), data);
}

/// fp16 in the fp32 panel layout, by the runtime's kiln_hgemm_pack_b:
/// [P, K, 16] of fp16 bits as i16.
memref::GlobalOp WeightPacker::packF16(memref::GlobalOp global,
                                       ArrayRef<float> w, int64_t k,
                                       int64_t n) {
  std::vector<uint16_t> data((size_t)(panelsOf(n) * k * kPanel));
  kiln_hgemm_pack_b(k, n, w.data(), n, 1, data.data());
  return newGlobal<uint16_t>(global, "_f16", {panelsOf(n), k, kPanel},
                             IntegerType::get(global.getContext(), 16), data);
}

/// int8 per column, by the runtime's kiln_s8_pack_weights:
/// [P, ceil(K/4) + 2, 64] bytes.
memref::GlobalOp WeightPacker::packS8(memref::GlobalOp global,
                                      ArrayRef<float> w, int64_t k,
                                      int64_t n) {
  std::vector<int8_t> data(kiln_s8_packed_bytes(k, n));
  kiln_s8_pack_weights(k, n, w.data(), n, 1,
                       kiln_s8_weight_qmax(static_cast<int>(isaFlag)),
                       data.data());
  return newGlobal<int8_t>(global, "_s8", {panelsOf(n), (k + 3) / 4 + 2, 64},
                           IntegerType::get(global.getContext(), 8), data);
}

/// int4 per column and group of groupSize values of k, by the runtime's
/// kiln_s4_pack_weights: [P, K / G, G / 8 + 1, 64] bytes, or G / 8 + 2 rows
/// per group with zero points (weights from an asymmetric 4-bit source;
/// the callers read which from the shape).
memref::GlobalOp WeightPacker::packS4(memref::GlobalOp global,
                                      ArrayRef<float> w, int64_t k,
                                      int64_t n) {
  int zp = kiln_s4_wants_zero_points(k, n, groupSize, w.data(), n, 1);
  std::vector<uint8_t> data(kiln_s4_packed_bytes(k, n, groupSize, zp));
  kiln_s4_pack_weights(k, n, groupSize, zp, w.data(), n, 1, data.data());
  return newGlobal<uint8_t>(global, "_s4",
                            {panelsOf(n), (k + groupSize - 1) / groupSize,
                             groupSize / 8 + 1 + zp, 64},
                            IntegerType::get(global.getContext(), 8), data);
}

memref::GlobalOp WeightPacker::packedFor(memref::GlobalOp global,
                                         bool transposed, int64_t k, int64_t n,
                                         WeightKind kind) {
  auto key = std::make_tuple(global.getSymName().str(), transposed, k, kind);
  if (auto it = packed.find(key); it != packed.end())
    return it->second;
  std::vector<float> w = rowMajor(global, transposed, k, n);
  memref::GlobalOp g;
  switch (kind) {
  case WeightKind::Bf16:
    g = packBf16(global, w, k, n);
    break;
  case WeightKind::F16:
    g = packF16(global, w, k, n);
    break;
  case WeightKind::S8:
    g = packS8(global, w, k, n);
    break;
  case WeightKind::S4:
    g = packS4(global, w, k, n);
    break;
  case WeightKind::F32:
    g = packF32(global, w, k, n);
    break;
  case WeightKind::RowF32:
  case WeightKind::RowF16:
  case WeightKind::RowBf16:
    g = rowMajorGlobal(global, w, k, n, kind);
    break;
  }
  packed[key] = g;
  return g;
}

/// [K, N] row-major: f32 as is, f16 and bf16 rounded to nearest even (the
/// rounding the GPU kernels' staging applied to f32 weights).
memref::GlobalOp WeightPacker::rowMajorGlobal(memref::GlobalOp global,
                                              ArrayRef<float> w, int64_t k,
                                              int64_t n, WeightKind kind) {
  MLIRContext *ctx = global.getContext();
  if (kind == WeightKind::RowF32)
    return newGlobal<float>(global, "_kn", {k, n}, Float32Type::get(ctx), w);
  std::vector<uint16_t> data(w.size());
  bool half = kind == WeightKind::RowF16;
  for (size_t i = 0; i < w.size(); ++i)
    data[i] = half ? kiln_f32_to_f16(w[i]) : kiln_bf16_round(w[i]);
  return newGlobal<uint16_t>(global, half ? "_kn_f16" : "_kn_bf16", {k, n},
                             half ? Type(Float16Type::get(ctx))
                                  : Type(BFloat16Type::get(ctx)),
                             data);
}

memref::GlobalOp WeightPacker::packedQuantized(memref::GlobalOp wq,
                                               memref::GlobalOp scales,
                                               int64_t k, int64_t n) {
  auto wb = rawBytesOf(wq, 1);
  auto sb = rawBytesOf(scales, 4);
  if (!wb || !sb || (int64_t)sb->size() != n * 4)
    return {};
  std::vector<int8_t> data(kiln_s8_packed_bytes(k, n));
  kiln_s8_pack_quantized(k, n, reinterpret_cast<const int8_t *>(wb->data()),
                         reinterpret_cast<const float *>(sb->data()), n,
                         data.data());
  return newGlobal<int8_t>(wq, "_s8", {panelsOf(n), (k + 3) / 4 + 2, 64},
                           IntegerType::get(wq.getContext(), 8), data);
}

memref::GlobalOp WeightPacker::packedConvS8(memref::GlobalOp wq,
                                            memref::GlobalOp scales, int64_t f,
                                            int64_t c, int64_t taps) {
  auto wb = rawBytesOf(wq, 1);
  auto sb = rawBytesOf(scales, 4);
  if (!wb || !sb || (int64_t)wb->size() != f * c * taps ||
      ((int64_t)sb->size() != f * 4 && sb->size() != 4))
    return {};
  std::vector<int8_t> data(kiln_conv_s8_packed_bytes(f, c, taps));
  kiln_conv_s8_pack(f, c, taps, reinterpret_cast<const int8_t *>(wb->data()),
                    reinterpret_cast<const float *>(sb->data()),
                    (int64_t)sb->size() / 4, data.data());
  return newGlobal<int8_t>(wq, "_cs8", {(int64_t)data.size()},
                           IntegerType::get(wq.getContext(), 8), data);
}

memref::GlobalOp WeightPacker::convBlob(
    memref::GlobalOp global, StringRef tag, WeightKind kind, int64_t f, int64_t c,
    int64_t taps, size_t bytes,
    llvm::function_ref<void(const std::vector<float> &, int8_t *)> pack) {
  auto key = std::make_tuple(global.getSymName().str() + "/" + tag.str(), true,
                             c * taps, kind);
  if (auto it = packed.find(key); it != packed.end())
    return it->second;
  if (!readerOf(global))
    return {};
  // [F, C * taps] row-major as stored: w[(o * c + ci) * taps + t]
  std::vector<float> w = rowMajor(global, false, f, c * taps);
  std::vector<int8_t> data(bytes);
  pack(w, data.data());
  memref::GlobalOp p = newGlobal<int8_t>(global, ("_" + tag).str(),
                                         {(int64_t)data.size()},
                                         IntegerType::get(global.getContext(), 8), data);
  packed[key] = p;
  return p;
}

memref::GlobalOp WeightPacker::quantizedConvS8(memref::GlobalOp global,
                                               int64_t f, int64_t c,
                                               int64_t taps) {
  int64_t k = c * taps;
  return convBlob(global, "qcs8", WeightKind::S8, f, c, taps,
                  kiln_conv_s8_packed_bytes(f, c, taps),
                  [&](const std::vector<float> &w, int8_t *out) {
                    std::vector<float> scales((size_t)f);
                    std::vector<int8_t> wq((size_t)(f * k));
                    for (int64_t o = 0; o < f; ++o) {
                      float amax = 0.0f; // NaN compares false: it sets no scale
                      for (int64_t i = 0; i < k; ++i)
                        amax = std::fabs(w[o * k + i]) > amax ? std::fabs(w[o * k + i]) : amax;
                      float scale = amax > 0.0f && std::isfinite(amax) ? amax / 127.0f : 0.0f;
                      scales[o] = scale;
                      for (int64_t i = 0; i < k; ++i) {
                        float v = scale > 0.0f ? w[o * k + i] / scale : 0.0f;
                        wq[o * k + i] =
                            v != v ? 0 : (int8_t)std::lrint(std::clamp(v, -127.0f, 127.0f));
                      }
                    }
                    kiln_conv_s8_pack(f, c, taps, wq.data(), scales.data(), f, out);
                  });
}

memref::GlobalOp WeightPacker::packedConvBf16(memref::GlobalOp global,
                                              int64_t f, int64_t c,
                                              int64_t taps) {
  return convBlob(global, "cbf16", WeightKind::Bf16, f, c, taps,
                  kiln_conv_bf16_packed_bytes(f, c, taps),
                  [&](const std::vector<float> &w, int8_t *out) {
                    kiln_conv_bf16_pack(f, c, taps, w.data(), out);
                  });
}

memref::GlobalOp WeightPacker::filterFor(memref::GlobalOp global, int64_t k,
                                         int64_t f, int64_t c, int64_t taps,
                                         FilterLayout layout) {
  const char *tag = layout == FilterLayout::Winograd         ? "/wino"
                    : layout == FilterLayout::ChannelBlocked ? "/c8"
                    : layout == FilterLayout::Taps           ? "/taps"
                                                             : "";
  auto key = std::make_tuple(global.getSymName().str() + tag, true, k,
                             WeightKind::F32);
  if (auto it = packed.find(key); it != packed.end())
    return it->second;
  std::vector<float> w = rowMajor(global, true, k, f);
  memref::GlobalOp p;
  switch (layout) {
  case FilterLayout::Winograd:
    p = newGlobal<float>(global, "_wino", {16, f, c},
                         Float32Type::get(global.getContext()),
                         ArrayRef<float>(winogradFilter(w, c, f)));
    break;
  case FilterLayout::ChannelBlocked:
    p = packF32(global, channelBlockedFilter(w, c, taps, f), k, f);
    break;
  case FilterLayout::Panels:
    p = packF32(global, w, k, f);
    break;
  case FilterLayout::Taps: {
    // [taps, F, C]: each tap's [F, C] slice row-major (conv_taps_f32.c)
    std::vector<float> t(w.size());
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t tap = 0; tap < taps; ++tap)
        for (int64_t fo = 0; fo < f; ++fo)
          t[(size_t)((tap * f + fo) * c + ci)] = w[(size_t)((ci * taps + tap) * f + fo)];
    p = newGlobal<float>(global, "_taps", {taps, f, c},
                         Float32Type::get(global.getContext()), ArrayRef<float>(t));
    break;
  }
  }
  packed[key] = p;
  return p;
}

void WeightPacker::eraseUnusedOriginals(ModuleOp module) {
  // Several packings may share one original: SymbolTable::erase also drops
  // the name, so a later lookup finds nothing rather than the erased op
  // (found by the ASan build, scripts/sanitize.sh). Filter layouts' keys
  // carry a suffix ("/wino", "/c8", "/qcs8", "/cbf16") after the original's name.
  for (auto &kv : packed) {
    StringRef name = StringRef(std::get<0>(kv.first)).split('/').first;
    auto g = symbols.lookup<memref::GlobalOp>(name);
    if (g && SymbolTable::symbolKnownUseEmpty(g, module))
      symbols.erase(g);
  }
}
