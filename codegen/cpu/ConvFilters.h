//===- ConvFilters.h - conv2d_f32's filters for the runtime's kernels -----===//
//
// Used by kiln-cpu-ukernels (Ukernels.cpp); see ConvFilters.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_CPU_CONVFILTERS_H
#define KILN_CODEGEN_CPU_CONVFILTERS_H

#include "codegen/cpu/WeightPacker.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <optional>
#include <utility>

namespace mlir::kiln {
class UkernelOp;
} // namespace mlir::kiln

namespace mlir::kiln::cpu {

/// What the pass knows that the filter choice depends on.
struct ConvFilterContext {
  SymbolTable &symbols;
  WeightPacker &packer;
  StringRef quantize;    // none, int8, int8-static, int4
  WeightKind weightKind; // the pass's (--keep-fp32 already applied)
  bool winograd;
  /// int8-static: the calibrated (scale, zero point) of the op's node.
  llvm::function_ref<std::optional<std::pair<float, float>>(Operation *)> calibrated;
  int64_t &staticConvs, &dynamicConvs; // the int8 remark's counts
};

/// The "conv2d_f32" kiln.ukernel `u`'s constant filter packed for the
/// runtime path it takes, its params, float params and operands updated
/// (the filter replaced, flags added, KH and KW appended where the path
/// wants them). Fails, with an error on `u`, for an int8 convolution
/// (flag 256) whose filter or scales are not constants.
LogicalResult packConvFilter(mlir::kiln::UkernelOp u, OpBuilder &b,
                             SmallVectorImpl<int64_t> &params,
                             SmallVectorImpl<float> &fparams,
                             SmallVectorImpl<Value> &operands, ConvFilterContext &ctx);

} // namespace mlir::kiln::cpu

#endif
