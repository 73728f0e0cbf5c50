//===- Passes.td - kiln passes -----------------------------*- tablegen -*-===//
//
// Every kiln pass. Each is runnable alone from kiln-opt with its flag and has
// a lit test named after the flag in test/passes/.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_TD
#define KILN_PASSES_TD

include "mlir/Pass/PassBase.td"

def KilnWidenHalf
    : InterfacePass<"kiln-widen-half", "mlir::FunctionOpInterface"> {
  let summary = "Compute an fp16/bf16 model in fp32 between its inputs and outputs";
  let description = [{
    Every kiln op whose result types follow from its operands
    (InferTypeOpInterface) and that reads or yields f16/bf16 tensors is
    retyped to f32; half constants become f32 constants (exact), half
    function arguments are cast to f32 once at the entry and half results
    cast back before the return, so the signature does not change. A
    `kiln.cast` to f32 of a widened value disappears; an explicit cast to a
    half type keeps its rounding (the ops after it read it cast back to
    f32). Ops that cannot compute in f32 keep their half operands through a
    cast back: a result type fixed by an attribute (`constant_of_shape`,
    `random`), ops with regions (`if`, `loop`) and their nested users, ops
    of other dialects, and any op whose verifier rejects the f32 form. A
    concat with a half operand that is not a constant (a KV cache passed in)
    stays half, its widened operands rounded back: the cache is copied at 2
    bytes a value into the output and widened once for its readers. Runs
    first in the graph pipeline, so the fusions and kernels, all f32, see an
    f32 graph: ONNX Runtime's CPU provider likewise runs fp16 models through
    fp32 kernels with casts around them.
  }];
}

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

def KilnFoldShapes
    : InterfacePass<"kiln-fold-shapes", "mlir::FunctionOpInterface"> {
  let summary = "Collapse shape-computation chains; fold constants; CSE";
  let description = [{
    Exporters compute every Reshape/Expand target with a chain such as
    `Shape -> Gather -> Unsqueeze -> Concat`. This pass traces each entry of
    such a shape tensor to a constant or a symbolic dim (followed back
    through unsqueeze, transpose, elementwise ops, matmul, expand and
    reshape), and rewrites:
    - a shape tensor whose entries are all constant into a constant;
    - a Reshape entry that equals the input's dim at that position into `0`
      (copy), a static result extent into that constant, and a single
      remaining unknown entry into `-1` when every other entry is a positive
      constant;
    - an Expand entry that equals the input's aligned dim into `1`.
    The dead chains are then erased. Small constant subgraphs (integer and
    float elementwise ops, shape ops) fold through the kiln folders, which
    materialize at most 16384 elements (splats at any size), so no weight-
    sized tensor is ever computed at compile time. Identity, Dropout and
    no-op Cast/Reshape/Transpose disappear through the kiln
    canonicalizations, and a final CSE merges duplicates.
  }];
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
  let summary = "Fuse decomposed GELU, SiLU, SwiGLU and HardSwish";
  let description = [{
    The erf form `0.5 * x * (1 + erf(x / sqrt(2)))` (or `x * 0.7071...`) and
    the tanh form `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))`
    (GPT-2's), with the 0.5 on either product, become `kiln.gelu` (with
    `tanh_approx` for the second). Constants must match to 1e-4 relative; a
    GELU whose constant is off does not fuse. `x * sigmoid(x)` becomes
    `kiln.silu`, then `silu(gate) * up` (same shapes, the silu used only
    there) becomes `kiln.swiglu(gate, up)`, and `x * hard_sigmoid(x)`
    with alpha 1/6, beta 1/2 (opset-13 exports of HardSwish) becomes
    `kiln.hard_swish`.
  }];
}

def KilnFuseAttention
    : InterfacePass<"kiln-fuse-attention", "mlir::FunctionOpInterface"> {
  let summary = "Fuse scaled dot-product attention into kiln.attention";
  let description = [{
    Matches `softmax(scores) . V` over the last dim where `scores` is
    `Q . K^T` with constant scalar scales (Mul or Div, on the scores, on Q or
    on K^T, before or after the matmul), optionally masked by an additive
    mask (`scores + mask`) or a boolean one (`where(mask, scores, fill)` or
    `where(mask, fill, scores)`, fill a constant). The K transpose is
    absorbed (or a transpose is inserted when K^T comes in untransposed), and
    key/value heads repeated for grouped-query attention
    (`reshape(expand(unsqueeze(kv)))`) are read directly by head index
    instead. A KV cache's Concat of past and new keys stays outside the op,
    so present keys/values are still returned. Does not fire when an
    intermediate (scores, probabilities) has other uses, when the softmax is
    not over the keys, when a scale or fill is not constant, or when the mask
    does not broadcast to the scores.
  }];
}

def KilnFuseRotary
    : InterfacePass<"kiln-fuse-rotary", "mlir::FunctionOpInterface"> {
  let summary = "Fuse rotary position embeddings into kiln.rotary_embedding";
  let description = [{
    `x * cos + rotate_half(x) * sin` (operands of the add and of each mul in
    either order), where `rotate_half(x)` is exported as
    `concat(-slice(x, D/2:D), slice(x, 0:D/2))` along the last dim (D
    static), becomes `kiln.rotary_embedding(x, cos, sin)` when cos and sin
    are full width (last dim D) and broadcast to x. Does not fire when the
    halves are swapped or sliced elsewhere, when an intermediate has other
    uses, or when cos/sin are half width.
  }];
}

def KilnFuseLinear
    : InterfacePass<"kiln-fuse-linear", "mlir::FunctionOpInterface"> {
  let summary = "Fuse matmul epilogues (bias, activation, residual) into kiln.linear";
  let description = [{
    A `kiln.matmul` of `[..., K]` by a 2-D float weight becomes
    `kiln.linear` together with what follows it: an add of a 1-D `[N]` bias
    (either operand order), a GELU (erf or tanh), ReLU or SiLU, and an add of
    a residual of the result's shape. A weight that is a `kiln.transpose`
    (Gemm's transB) becomes the op's `transpose_weight` flag. Each step is absorbed only when the previous result has no other
    use; a matmul with nothing to absorb is left alone. Runs after
    kiln-fuse-attention so attention's matmuls are already gone. A linear
    between a reshape that flattens the leading dims of its input and a
    reshape that restores them (GPT-2's Conv1D) is applied to the unflattened
    input instead, so an activation after it fuses as well.
  }];
}

def KilnMergeLinears
    : InterfacePass<"kiln-merge-linears", "mlir::FunctionOpInterface"> {
  let summary = "Merge dense layers (and convolutions) that read the same input into one";
  let description = [{
    Two or more `kiln.linear` (without residual) or `kiln.matmul` ops that
    read the same `[..., K]` input with constant 2-D float weights (and, for
    linears, the same activation and transpose flag, and each a constant
    `[N]` bias or none) become one op over the weights, and biases,
    concatenated along N in block order, followed by a `kiln.split` of its
    last dim into the original results. Attention's Q, K and V projections
    are the common case: the input is then read (and, with `--quantize
    int8`, quantized and packed) once instead of three times, and the GEMM
    has three times the column blocks to share among threads. The merged
    layer is placed at the first one; its location fuses all of theirs, so
    `--keep-fp32` of any of them keeps all of them fp32. Runs after
    kiln-fuse-linear.

    Likewise two or more group-1 `kiln.conv` ops that read the same input
    with constant 4-D weights of the same `[C, KH, KW]`, the same strides,
    pads and dilations, each a constant bias or none, and each result read
    only by a `kiln.relu` (an Inception or GoogLeNet block's 1 x 1
    branches) become one convolution over the filters appended along F and
    one relu, then a `kiln.split` of the channels. Convolutions without
    the relu are left alone: a residual add of one would no longer reach
    the kernel's epilogue.
  }];
}

def KilnMarkBatchSplit : Pass<"kiln-mark-batch-split", "mlir::ModuleOp"> {
  let summary = "Mark a model whose batch the runtime may run image by image";
  let description = [{
    Proves that `@main` computes image `i` (index `i` of the dynamic dim 0
    named like the first input's, e.g. `batch`) of every output from image
    `i` of the inputs alone, and records it as the module attribute
    `kiln.batch_split = {dim, weight_bytes, flops}`. The runtime may then
    run a batch of B as B runs of one image each (T at once on T threads),
    so each image's activations stay in a core's cache. `weight_bytes` are
    the dense layers' weights, which each image reads again, and `flops`
    the FLOPs per image of the ops reading them, as terms `COEF*dim*...`
    over the inputs' dim names: the runtime splits only when there are
    enough FLOPs per weight byte at the run's dims.

    The proof walks the ops in order, each value being Free (from constants
    and unsplit inputs), per image, or neither. Elementwise ops may
    broadcast a Free operand only where it has no dim 0 or a static 1 there;
    convolutions, pools and norms take per-image data and Free weights;
    matmuls and attention keep dim 0 as a batch dim; softmax, reductions,
    concat, split, slice and gather must not run along dim 0; reshape must
    keep it (a constant target starting `0`, or `-1` with the other dims'
    product unchanged), transpose must not move it, flatten must use axis 1;
    `kiln.shape` of dims after the first is Free. Anything else, the batch
    size read by a shape op, the batch name at another dim of an input, an
    op with regions, random ops or an output not per image stop it; the
    reason is left in `kiln.batch_split_blocked`.
  }];
}

def KilnOutlineBatchHead : Pass<"kiln-outline-batch-head", "mlir::ModuleOp"> {
  let summary = "Move a split model's classifier head into a function run on the whole batch";
  let description = [{
    On a module marked by `kiln-mark-batch-split`, finds the earliest point
    of `@main` where one non-constant value (the cut) carries everything
    the rest computes, every value after it holds at most 64 KiB per image,
    and the rest reads at least 64 KiB of constant matrices (a classifier
    head: pooled features -> dense layers). That rest moves into
    `@kiln_head(cut) -> outputs`; `@main` returns the cut. The runtime runs
    `@main` image by image (or on the whole batch), gathers the cut's rows
    and runs `@kiln_head` once, so the head's weights are read once per
    batch, not once per image. `kiln.batch_split` gets `head_weight_bytes`
    and `head_input` (the cut's element type),
    and its `weight_bytes` keep only the weights read per image. Without the
    mark, or without such a point, the module is left as it is.
  }];
  let dependentDialects = ["mlir::func::FuncDialect"];
}

#endif // KILN_PASSES_TD
