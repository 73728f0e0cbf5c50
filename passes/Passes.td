//===- Passes.td - kiln passes -----------------------------*- tablegen -*-===//
//
// Every kiln pass. Each is runnable alone from kiln-opt with its flag and has
// a lit test named after the flag in test/passes/.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_TD
#define KILN_PASSES_TD

include "mlir/Pass/PassBase.td"

def KilnRefineTypes
    : InterfacePass<"kiln-refine-types", "mlir::FunctionOpInterface"> {
  let summary = "Re-infer kiln result types after folding made them more static";
  let description = [{
    Folding a shape chain to a constant makes the ops that consume it (reshape,
    expand, constant_of_shape, ...) able to infer a more static result type
    than the one they were built with. This pass re-runs inference on every
    kiln op in order and adopts the refined type. Uses by non-kiln ops (such
    as `func.return`) keep their old type through a `tensor.cast`, so function
    signatures do not change.
  }];
  let dependentDialects = ["mlir::tensor::TensorDialect"];
}

#endif // KILN_PASSES_TD
