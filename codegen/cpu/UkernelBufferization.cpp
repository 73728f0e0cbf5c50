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

struct UkernelBufferization final
    : DstBufferizableOpInterfaceExternalModel<UkernelBufferization,
                                              kiln::UkernelOp> {
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const AnalysisState &) const {
    return !cast<DestinationStyleOpInterface>(op).isDpsInit(&operand);
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
