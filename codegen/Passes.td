//===- Passes.td - kiln code-generation passes -------------*- tablegen -*-===//
//
// Conversions out of the kiln dialect and the passes that shape the compiled
// entry point. Each runs alone from kiln-opt and has a lit test in
// test/codegen/ named after its flag.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_PASSES_TD
#define KILN_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertKilnToLinalg
    : InterfacePass<"convert-kiln-to-linalg", "mlir::FunctionOpInterface"> {
  let summary = "Lower kiln ops to linalg, tensor, arith and math";
  let description = [{
    Composite ops (softmax, normalizations, mean-like reductions, global
    pools) are first rewritten into primitive kiln ops; then every op lowers
    on tensors: elementwise ops to broadcasting `linalg.generic`, matmuls to
    `linalg.matmul`/`linalg.batch_matmul` (a generic contraction otherwise),
    2-D convolutions and pools to the named linalg ops, data movement to
    `tensor` ops or index-computing generics. An op left over is an error
    naming it and its location.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect",
    "mlir::math::MathDialect", "mlir::tensor::TensorDialect"
  ];
}

def KilnLowerEntryAbi : Pass<"kiln-lower-entry-abi", "mlir::ModuleOp"> {
  let summary = "Give @main the compiled model's calling convention";
  let description = [{
    Appends a `!llvm.ptr` run-context argument to `@main` and replaces its
    results with calls to `kiln_rt_output_<type>(ctx, index, tensor<*xT>)`,
    through which the runtime copies each output out while it is alive.
    `@main` then returns nothing and is marked `llvm.emit_c_interface`.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect", "mlir::func::FuncDialect",
                           "mlir::tensor::TensorDialect",
                           "mlir::arith::ArithDialect"];
}

#endif // KILN_CODEGEN_PASSES_TD
