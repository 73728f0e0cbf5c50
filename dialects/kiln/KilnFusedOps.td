//===- KilnFusedOps.td - kiln's fused transformer ops ------*- tablegen -*-===//
//
// The ops the graph passes fuse into and the transformer importers create:
// attention, rotary embedding, dense layers with epilogues, and the run-time
// check the importer uses for model-input assumptions. Included from
// KilnOps.td.
//
//===----------------------------------------------------------------------===//

def Kiln_AttentionOp : Kiln_InferOp<"attention"> {
  let summary = "scaled dot-product attention, softmax over the keys";
  let description = [{
    `query` is `[batch..., H, Sq, D]`, `key` `[batch..., Hkv, Sk, D]`,
    `value` `[batch..., Hkv, Sk, Dv]` (rank >= 3; the dim before the sequence
    is the head dim). With `H = r * Hkv` query head `h` reads key/value head
    `h / r` (grouped-query attention). The result is `[batch..., H, Sq, Dv]`:

      scores = scale * query . key^T      (over D)
      scores[i, j] excluded when `causal` and j > i + Sk - Sq
      scores = scores + mask              (float mask)
      scores = mask ? scores : mask_fill  (i1 mask; excluded without a fill)
      result = softmax(scores over j) . value

    The optional mask broadcasts (numpy-style) to `[batch..., H, Sq, Sk]`.
    Created by kiln-fuse-attention and by the importer from ONNX Attention
    and com.microsoft attention ops; lowered with a streaming softmax over
    blocks of keys, so the Sq x Sk score matrix is never materialized.
  }];
  let arguments = (ins T:$query, T:$key, T:$value, Optional<T>:$mask,
                   F32Attr:$scale, OptionalAttr<F32Attr>:$mask_fill,
                   DefaultValuedAttr<BoolAttr, "false">:$causal);
  let results = (outs T:$result);
  let assemblyFormat = "$query `,` $key `,` $value (`mask` $mask^)? attr-dict "
                       "`:` functional-type(operands, results)";
}

def Kiln_RotaryEmbeddingOp : Kiln_InferOp<"rotary_embedding"> {
  let summary = "rotary position embedding: x * cos + rotate(x) * sin";
  let description = [{
    `cos` and `sin` have last dim `R` (the rotary width, even, at most the
    input's last dim `D`) and broadcast against the input's other dims. On
    the first `R` features, `result = x * cos + rotate(x) * sin` where
    `rotate` is `[-x[R/2:R], x[0:R/2]]` (LLaMA's rotate_half) or, with
    `interleaved`, `(-x[1], x[0], -x[3], x[2], ...)`; features `R..D` pass
    through. Created by kiln-fuse-rotary from the exported rotate_half form
    and by the importer from RotaryEmbedding (opset 23 and com.microsoft),
    whose half-width caches it widens.
  }];
  let arguments = (ins T:$input, T:$cos, T:$sin,
                   DefaultValuedAttr<BoolAttr, "false">:$interleaved);
  let results = (outs T:$result);
  let assemblyFormat = "$input `,` $cos `,` $sin attr-dict `:` "
                       "functional-type(operands, results)";
}

def Kiln_CheckEqualOp : Kiln_InferOp<"check_equal"> {
  let summary = "the input, after checking it equals `expected` at run time";
  let description = [{
    Returns `input` unchanged. At run time every element of the integer
    tensor `input` must equal `expected` (broadcast to it); otherwise the run
    ends with the runtime's shape error naming the two values. The importer
    uses it where a model's input values must satisfy an assumption kiln
    relies on (GroupQueryAttention's `seqlens_k` with a past cache); uses of
    the result keep the check alive.
  }];
  let arguments = (ins T:$input, T:$expected);
  let results = (outs T:$result);
  let assemblyFormat = "$input `,` $expected attr-dict `:` "
                       "functional-type(operands, results)";
}

def Kiln_LinearOp : Kiln_InferOp<"linear", [AttrSizedOperandSegments]> {
  let summary = "dense layer: activation(input . weight + bias) + residual";
  let description = [{
    `input` is `[..., K]`, `weight` `[K, N]` (`[N, K]` with
    `transpose_weight`), the optional `bias` broadcasts to `[N]` and the
    optional `residual` has the result's shape `[..., N]`. `activation` is
    one of `none`, `relu`, `gelu`, `gelu_tanh`, `silu`; the residual is added
    after it. Created by kiln-fuse-linear; lowered to one matmul whose
    accumulator starts from the bias (and the residual when there is no
    activation), with the activation applied in one pass over the result
    (a transposed weight is transposed once per run first).
  }];
  let arguments = (ins T:$input, T:$weight, Optional<T>:$bias,
                   Optional<T>:$residual,
                   DefaultValuedAttr<BoolAttr, "false">:$transpose_weight,
                   DefaultValuedAttr<StrAttr, "\"none\"">:$activation);
  let results = (outs T:$result);
  let assemblyFormat = "$input `,` $weight (`bias` $bias^)? "
                       "(`residual` $residual^)? attr-dict `:` "
                       "functional-type(operands, results)";
}

def Kiln_UkernelOp : Op<Kiln_Dialect, "ukernel",
    [DestinationStyleOpInterface, AttrSizedOperandSegments,
     DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "a call of a runtime microkernel, on tensors or on buffers";
  let description = [{
    Runs the runtime kernel `kiln_ukernel_<kernel>` (lib/Runtime/ukernels)
    on `inputs`, writing all of each of its `inits` (which it does not
    read; one, or more for a kernel with several outputs). On tensors the
    op returns the written tensors and bufferizes in place like a linalg
    op; on buffers it has no result, and kiln-cpu-ukernels turns it into the
    call `void kiln_ukernel_<kernel>(const int64_t *desc, const float
    *fparams)`, where `desc` holds `int_params`, then for each operand
    (inputs, then inits) its aligned base address, offset, sizes and strides;
    `fparams` holds `float_params`. The kernel knows each operand's rank by
    its own convention. Created by the CPU pipeline
    (kiln-cpu-select-ukernels) for fused ops the runtime has a kernel for.
  }];
  let arguments = (ins StrAttr:$kernel, Variadic<AnyShaped>:$inputs,
                       Variadic<AnyShaped>:$inits,
                       DenseI64ArrayAttr:$int_params,
                       DenseF32ArrayAttr:$float_params);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = "$kernel `(` $inputs `)` `outs` `(` $inits `)` attr-dict "
                       "`:` functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() { return getInitsMutable(); }
    /// The first (for most kernels the only) init and result.
    ::mlir::Value getInit() { return getInits().front(); }
    ::mlir::Value getResult() {
      return getResults().empty() ? ::mlir::Value() : getResults().front();
    }
  }];
}
