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

def KilnFuseNorms
    : InterfacePass<"kiln-fuse-norms", "mlir::FunctionOpInterface"> {
  let summary = "Fuse decomposed LayerNorm and RMSNorm into kiln ops";
  let description = [{
    Recognizes the forms exporters emit and replaces them with one op:
    - `kiln.layer_norm`: `d = x - mean(x)`, `var = mean(d^2)` (Pow by 2 or
      d*d), `d / sqrt(var + eps)`, then an optional `* gamma` and `+ beta`;
    - `kiln.rms_norm`: `x * (1 / sqrt(mean(x^2) + eps))` or
      `x / sqrt(mean(x^2) + eps)`, then an optional `* weight`.
    The reduction axes must be the trailing dims, eps a constant scalar, and
    every intermediate used only inside the pattern; otherwise nothing fuses.
    Without a gamma/weight the scale is a constant one.
  }];
}

def KilnFuseActivations
    : InterfacePass<"kiln-fuse-activations", "mlir::FunctionOpInterface"> {
  let summary = "Fuse decomposed GELU into kiln.gelu";
  let description = [{
    The erf form `0.5 * x * (1 + erf(x / sqrt(2)))` (or `x * 0.7071...`) and
    the tanh form `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))`
    (GPT-2's), with the 0.5 on either product, become `kiln.gelu` (with
    `tanh_approx` for the second). Constants must match to 1e-4 relative; a
    GELU whose constant is off does not fuse. `x * sigmoid(x)` becomes
    `kiln.silu` (so SwiGLU is `silu(gate) * up`), and `x * hard_sigmoid(x)`
    with alpha 1/6, beta 1/2 (opset-13 exports of HardSwish) becomes
    `kiln.hard_swish`.
  }];
}

#endif // KILN_PASSES_TD
