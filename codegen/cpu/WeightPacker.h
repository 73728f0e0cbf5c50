//===- WeightPacker.h - constant weights packed for the CPU kernels -------===//
//
// kiln-cpu-ukernels (Ukernels.cpp) replaces each constant right-hand side
// by a copy in the runtime kernels' layout: fp32, bf16 or fp16 panels, int8
// or int4 quantized panels, a quantized model's own int8 weights, and the
// convolutions' Winograd and channel-blocked filters. The copy is a new
// private constant global next to the original, made once per global,
// orientation, K and layout.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_CPU_WEIGHTPACKER_H
#define KILN_CODEGEN_CPU_WEIGHTPACKER_H

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace mlir::kiln::cpu {

/// How constant weights are stored and multiplied: the CPU kernels' packed
/// layouts, or a plain row-major [K, N] matrix of f32, f16 or bf16 (the
/// CUDA pipeline's tiled matmuls, kiln-gpu-tile-matmuls).
enum class WeightKind { F32, Bf16, F16, S8, S4, RowF32, RowF16, RowBf16 };

/// A convolution filter's layout (conv_f32.c's flags 4, 4 | 8, 4 | 64).
enum class FilterLayout { Panels, ChannelBlocked, Winograd, Taps };

class WeightPacker {
public:
  /// isaFlag: the runtime's ISA (the int8 weights' range depends on it);
  /// groupSize: int4's values of k per scale.
  WeightPacker(SymbolTable &symbols, int64_t isaFlag, int64_t groupSize)
      : symbols(symbols), isaFlag(isaFlag), groupSize(groupSize) {}

  /// `global` (a row-major [K, N] matrix, [N, K] when transposed) packed
  /// for `kind`.
  memref::GlobalOp packedFor(memref::GlobalOp global, bool transposed,
                             int64_t k, int64_t n, WeightKind kind);

  /// An int8 weight ([K, N] row-major i8) with its `n` f32 scales, packed
  /// as is (kiln_s8_pack_quantized) for models that arrive quantized; null
  /// when either constant cannot be read.
  memref::GlobalOp packedQuantized(memref::GlobalOp wq, memref::GlobalOp scales,
                                   int64_t k, int64_t n);

  /// A QDQ convolution's int8 filter ([F, C, taps] row-major i8) with its
  /// scales (1 or F f32 values) in the int8 kernel's layout
  /// (kiln_conv_s8_pack, lib/Runtime/ukernels/conv_s8.h), a 1-D i8
  /// global; null when either constant cannot be read.
  memref::GlobalOp packedConvS8(memref::GlobalOp wq, memref::GlobalOp scales,
                                int64_t f, int64_t c, int64_t taps);

  /// A convolution's f32 filter `global` ([F, C, taps] row-major)
  /// quantized symmetrically per filter (scale max |w| / 127) and packed
  /// for the int8 kernel (kiln_conv_s8_pack), a 1-D i8 global; null when
  /// it cannot be read. --quantize int8-static's convolutions.
  memref::GlobalOp quantizedConvS8(memref::GlobalOp global, int64_t f,
                                   int64_t c, int64_t taps);

  /// A convolution's f32 filter `global` ([F, C, taps] row-major) rounded
  /// to bf16 in the runtime's bf16 convolution layout (kiln_conv_bf16_pack,
  /// lib/Runtime/ukernels/conv_s8.h), a 1-D i8 global; null when it cannot
  /// be read.
  memref::GlobalOp packedConvBf16(memref::GlobalOp global, int64_t f,
                                  int64_t c, int64_t taps);

  /// A convolution's filter `global` (stored [F, K], K = c * taps in
  /// (c, tap) order) in `layout`: fp32 panels of the [K, F] matrix, the
  /// same with K in (c / 8, tap, c % 8) order, or Winograd's [16, F, C].
  memref::GlobalOp filterFor(memref::GlobalOp global, int64_t k, int64_t f,
                             int64_t c, int64_t taps, FilterLayout layout);

  /// Erases the originals that nothing reads any more.
  void eraseUnusedOriginals(ModuleOp module);

private:
  /// A convolution filter's packed blob (1-D i8, "_TAG"), `bytes` long,
  /// written by `pack` from the filter's [F, C * taps] values; cached by
  /// the original's name, `tag`, K and `kind`.
  memref::GlobalOp
  convBlob(memref::GlobalOp global, StringRef tag, WeightKind kind, int64_t f,
           int64_t c, int64_t taps, size_t bytes,
           llvm::function_ref<void(const std::vector<float> &, int8_t *)> pack);

  template <typename T>
  memref::GlobalOp newGlobal(memref::GlobalOp near, StringRef suffix,
                             ArrayRef<int64_t> shape, Type elt,
                             ArrayRef<T> data);
  memref::GlobalOp packF32(memref::GlobalOp global, ArrayRef<float> w,
                           int64_t k, int64_t n);
  memref::GlobalOp packBf16(memref::GlobalOp global, ArrayRef<float> w,
                            int64_t k, int64_t n);
  memref::GlobalOp packF16(memref::GlobalOp global, ArrayRef<float> w,
                           int64_t k, int64_t n);
  memref::GlobalOp packS8(memref::GlobalOp global, ArrayRef<float> w,
                          int64_t k, int64_t n);
  memref::GlobalOp packS4(memref::GlobalOp global, ArrayRef<float> w,
                          int64_t k, int64_t n);
  memref::GlobalOp rowMajorGlobal(memref::GlobalOp global, ArrayRef<float> w,
                                  int64_t k, int64_t n, WeightKind kind);

  SymbolTable &symbols;
  int64_t isaFlag, groupSize;
  /// (global name + layout, transposed, k, kind) -> packed global
  std::map<std::tuple<std::string, bool, int64_t, WeightKind>, memref::GlobalOp>
      packed;
};

} // namespace mlir::kiln::cpu

#endif // KILN_CODEGEN_CPU_WEIGHTPACKER_H
