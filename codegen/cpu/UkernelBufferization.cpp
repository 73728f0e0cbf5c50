//===- UkernelBufferization.cpp - kiln.ukernel in one-shot bufferize ------===//
//
// kiln.ukernel is destination-passing: its init is written, not read, and
// the result is the init's buffer. The op is recreated on buffers with the
// same kernel and parameters; kiln-cpu-ukernels then emits the call.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace {

/// The operand number of a "conv2d_f32" call's residual (flag 2; the
/// operands are x, w, [bias (flag 1)], residual, ...), if it has one.
std::optional<unsigned> convResidualOperand(kiln::UkernelOp u) {
  ArrayRef<int64_t> p = u.getIntParams();
  if (u.getKernel() != "conv2d_f32" || p.size() < 2 || !(p[1] & 2))
    return std::nullopt;
  return 2 + (p[1] & 1);
}

struct UkernelBufferization final
    : DstBufferizableOpInterfaceExternalModel<UkernelBufferization,
                                              kiln::UkernelOp> {
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const AnalysisState &) const {
    return !cast<DestinationStyleOpInterface>(op).isDpsInit(&operand);
  }

  /// A convolution's residual input and its init (the same tensor when
  /// kiln-cpu-select-ukernels gives the residual as the init, so that the
  /// output is written over it): every runtime path reads a residual
  /// element before it stores that output element and reads it nowhere
  /// else (conv_f32.c; the GEMM's k blocks, gemm_f32.c), so one-shot
  /// bufferization may write the output into the residual's buffer where
  /// nothing reads it later. Where something does, the init is given a
  /// fresh buffer (not read: nothing is copied), as before.
  bool bufferizesToElementwiseAccess(Operation *op, const AnalysisState &,
                                     ArrayRef<OpOperand *> operands) const {
    auto u = cast<kiln::UkernelOp>(op);
    std::optional<unsigned> res = convResidualOperand(u);
    if (!res)
      return false;
    for (OpOperand *o : operands)
      if (!u.isDpsInit(o) && o->getOperandNumber() != *res)
        return false;
    return true;
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto u = cast<kiln::UkernelOp>(op);
    SmallVector<Value> ins;
    for (Value v : u.getInputs()) {
      if (!isa<TensorType>(v.getType())) {
        ins.push_back(v);
        continue;
      }
      FailureOr<Value> b = getBuffer(rewriter, v, options, state);
      if (failed(b))
        return failure();
      ins.push_back(*b);
    }
    SmallVector<Value> outs;
    for (Value init : u.getInits()) {
      FailureOr<Value> out = getBuffer(rewriter, init, options, state);
      if (failed(out))
        return failure();
      outs.push_back(*out);
    }
    rewriter.setInsertionPoint(op);
    kiln::UkernelOp::create(rewriter, op->getLoc(), TypeRange(),
                            u.getKernelAttr(), ins, outs, u.getIntParamsAttr(),
                            u.getFloatParamsAttr());
    replaceOpWithBufferizedValues(rewriter, op, outs);
    return success();
  }
};

} // namespace

void mlir::kiln::registerUkernelBufferization(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, kiln::KilnDialect *) {
    kiln::UkernelOp::attachInterface<UkernelBufferization>(*ctx);
  });
}
