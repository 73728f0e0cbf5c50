//===- ConstWeights.h - constant weights seen by the CPU ukernel pass -----===//
//
// kiln-cpu-ukernels (Ukernels.cpp) packs constant right-hand sides: these
// find a matmul operand's constant global (through reshapes, or behind a
// [1, 0] transpose), read its elements or bytes, and lay a [K, N] matrix
// out in the GEMM's 16-column panels (KILN_GEMM_NR).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_CPU_CONSTWEIGHTS_H
#define KILN_CODEGEN_CPU_CONSTWEIGHTS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"

#include <cstring>
#include <optional>
#include <vector>

namespace mlir::kiln::cpu {

inline constexpr int64_t kPanel = 16; // KILN_GEMM_NR

/// Reads the f32 elements of a constant initializer in row-major order.
struct ConstReader {
  const char *raw = nullptr;
  float splat = 0.0f;
  bool isSplat = false;
  float operator[](int64_t i) const {
    if (isSplat)
      return splat;
    float v;
    std::memcpy(&v, raw + i * sizeof(float), sizeof v);
    return v;
  }
};

/// A reader of an f32 constant global's elements, or nullopt.
std::optional<ConstReader> readerOf(memref::GlobalOp global);

/// The raw row-major bytes of a constant global whose elements take
/// `elemBytes` each (a splat expanded), or nullopt.
std::optional<std::vector<char>> rawBytesOf(memref::GlobalOp global,
                                            int64_t elemBytes);

/// The constant global `v` reads, when it is a get_global of one, possibly
/// reshaped (a reshape of a contiguous global keeps its row-major order).
/// With `anyType`, of any element type; otherwise f32 only.
memref::GlobalOp constantGlobalOf(Value v, SymbolTable &symbols,
                                  bool anyType = false);

/// `v` is an f32 memref of rank `rank`.
bool isF32Rank(Value v, int64_t rank);

/// Rows of `v` are contiguous: its last stride is statically 1.
bool hasUnitInnerStride(Value v);

/// A buffer written only by a [1, 0] transpose of a constant, and otherwise
/// only read as the right-hand side of 2-D f32 matmuls or deallocated.
struct TransposedConst {
  memref::AllocOp alloc;
  linalg::TransposeOp transpose;
  memref::GlobalOp global;
};

std::optional<TransposedConst> transposedConstOf(Value b,
                                                 SymbolTable &symbols);

/// A 3 x 3 convolution's filter, given as the row-major [K, F] matrix `w`
/// (K = c * 9 in (c, kh, kw) order), transformed for Winograd F(2x2, 3x3):
/// U[xi] = G g G^T per (f, c), computed in double, as [16, F, C] with each
/// U[xi] in blocks of 12 rows (the AVX-512 GEMM tile's), each block k-major
/// (element (f, c) of the block from row f0 at f0 * C + c * rows + f - f0):
/// lib/Runtime/ukernels/conv_wino_f32.h.
std::vector<float> winogradFilter(const std::vector<float> &w, int64_t c,
                                  int64_t f);

/// The [K, F] filter matrix `w` (K in (c, tap) order, `taps` per channel)
/// with K reordered to (c / 8, tap, c % 8): the AVX2 direct kernel's
/// channel-blocked mode (c a multiple of 8).
std::vector<float> channelBlockedFilter(const std::vector<float> &w, int64_t c,
                                        int64_t taps, int64_t f);

/// Packs the [K, N] matrix whose element (kk, j) is src(kk, j).
template <typename Fn>
std::vector<float> packPanels(int64_t k, int64_t n, Fn src) {
  int64_t panels = (n + kPanel - 1) / kPanel;
  std::vector<float> out((size_t)(panels * k * kPanel), 0.0f);
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t kk = 0; kk < k; ++kk)
      for (int64_t j = 0; j < kPanel && p * kPanel + j < n; ++j)
        out[(size_t)((p * k + kk) * kPanel + j)] = src(kk, p * kPanel + j);
  return out;
}

} // namespace mlir::kiln::cpu

#endif // KILN_CODEGEN_CPU_CONSTWEIGHTS_H
