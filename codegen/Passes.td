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

// A module pass: it declares the runtime's shape-check hook it calls.
def ConvertKilnToLinalg : Pass<"convert-kiln-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower kiln ops to linalg, tensor, arith and math";
  let description = [{
    Composite ops (softmax, normalizations, mean-like reductions, global
    pools) are first rewritten into primitive kiln ops; then every op lowers
    on tensors: elementwise ops to broadcasting `linalg.generic`, matmuls to
    `linalg.matmul`/`linalg.batch_matmul` (a generic contraction otherwise),
    2-D convolutions and pools to the named linalg ops, data movement to
    `tensor` ops or index-computing generics. An op left over is an error
    naming it and its location.

    Where broadcasting meets a dim known only at run time, a call to
    `kiln_rt_check_dim(a, b)` before the loop ends the run with a clear
    error when the extents disagree. Gather indices are clamped into range.

    `kiln.attention` lowers to an `scf.for` over blocks of
    `attention-key-block` keys with a streaming (online) softmax, so the full
    query x key score matrix is never materialized.
  }];
  let options = [
    Option<"attentionKeyBlock", "attention-key-block", "int64_t",
           /*default=*/"128", "Keys per block of the attention lowering">
  ];
  let dependentDialects = ["mlir::func::FuncDialect", "mlir::scf::SCFDialect",
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
    With a batch head (`kiln-outline-batch-head`), `@main`'s one result
    (the head's input) goes out as index -1 and `@kiln_head` gets the same
    convention for the model's outputs.
    Its inputs are marked `bufferization.writable = false`: they are the
    caller's memory, so an op that would accumulate into an input's buffer
    (a kiln.linear whose residual is a graph input) gets a copy instead.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect", "mlir::func::FuncDialect",
                           "mlir::tensor::TensorDialect",
                           "mlir::arith::ArithDialect"];
}

def KilnEarlyDealloc : Pass<"kiln-early-dealloc", "mlir::func::FuncOp"> {
  let summary = "Free each buffer right after its last use";
  let description = [{
    On bufferized IR (CPU pipeline, after buffer deallocation and
    kiln-outputs-in-place, before kiln-cpu-ukernels): ownership-based
    deallocation frees a function's buffers at the end of their block, so
    every intermediate buffer of a model lives for the whole run and none
    is used twice: ResNet-50's 27 activation buffers (about 20 MB) and
    BERT-base's hundreds stay distinct, and each layer writes memory that
    left the caches long ago. This pass moves each `memref.dealloc` of a
    `memref.alloc` in the same block to just after the buffer's last use
    (the last op of the block that uses the buffer or a view, cast or
    reshape of it, or holds such a use in its regions), so the runtime's
    workspace (lib/Runtime/arena.c) hands the same block to the next
    buffer of that size while it is still in cache.

    A buffer is left alone when it has more than one dealloc, when a value
    derived from it is not a memref (a pointer taken as an index), or when
    a use lies outside the block's ops (another block of a region-less
    function cannot happen here).
  }];
}

def KilnOutputsInPlace : Pass<"kiln-outputs-in-place", "mlir::ModuleOp"> {
  let summary = "Compute large outputs straight into the caller's buffers";
  let description = [{
    On bufferized IR (CPU pipeline, after buffer deallocation): an output
    passed to `kiln_rt_output_<type>` whose buffer is a `memref.alloc` of
    rank 1 to 6 in the body of `@main` (or of `@kiln_head`), with an identity layout, used by no
    other output call and by nothing after the output call but its
    `memref.dealloc`, is allocated instead by
    `kiln_rt_output_buffer_<type>_r<rank>(ctx, index, dims...)`: the
    runtime returns the caller's buffer for that output (or one it
    allocates for the caller), so the output call finds the data in place
    and copies nothing. The dealloc goes. A buffer reshaped into the
    output (`memref.reshape`, `expand_shape`, `collapse_shape`) is asked
    for in its own shape, as many bytes; the output call then sets the
    output's dims (not in modules with `kiln.batch_split`, whose images ask
    for buffers with a batch dim of 1). Other outputs (views, inputs,
    constants, buffers in loops or branches) keep the copy.

    With `kernels-only` (the CUDA pipeline, on its final host code after
    `kiln-gpu-async-launches`), only buffers that nothing but GPU kernels
    touch qualify (uses: launches, `memref.dim`,
    `memref.extract_strided_metadata`, views used the same way): the
    runtime then returns the caller's buffer when it is GPU memory aligned
    to 256 bytes (a decode step's KV cache written by the kernels where
    the caller keeps it), and otherwise a workspace buffer that the output
    call copies out as before; the module's `kiln.device_outputs` lists the
    indices of the outputs so placed (for `kiln inspect`).
  }];
  let options = [
    Option<"kernelsOnly", "kernels-only", "bool", /*default=*/"false",
           "Only buffers that GPU kernels alone touch (the CUDA pipeline)">,
  ];
  let dependentDialects = ["mlir::func::FuncDialect", "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect"];
}

def KilnFoldTransposes : Pass<"kiln-fold-transposes", "mlir::ModuleOp"> {
  let summary = "Give kernels that take strided views their transposed operands as views";
  let description = [{
    On bufferized IR (CPU and CUDA pipelines), for a `kiln.ukernel` whose
    kernel reads and writes any strides with a unit innermost stride (today
    "attention_f32": the CPU runtime kernel, and the CUDA pipeline's
    kiln-gpu-attention kernel, which loads and stores through any layout): an input that is a `memref.alloc` filled by one
    `linalg.transpose` keeping the innermost dim, and used by nothing else
    but deallocs, becomes a `memref.transpose` view of the transpose's
    source when nothing between the copy and the kernel writes or frees
    memory; an init read afterwards only by one such `linalg.transpose`
    becomes a view of the transpose's destination (by the inverse
    permutation; its alloc moves up to the kernel when its sizes allow).
    The copies, allocs and deallocs go. A transformer's Q, K, V and
    attention output were four full copies per layer. A transposed copy's
    buffer may be written again after its reads (bufferization reuses Q's
    copy as the attention output); only ops that may write memory sharing
    the copy's source (by root buffer: a function argument or global may
    share any other) between the copy and its last read stop the fold.
    With `generic-readers` (the CUDA pipeline, whose kernels all load and
    store through any view), the copy's readers may also be linalg.generic
    ops (inputs, and loads in their bodies: LLaMA's rotary embedding),
    linalg.copy and linalg.transpose (GPT-2's KV-cache concat).
  }];
  let options = [
    Option<"genericReaders", "generic-readers", "bool", /*default=*/"false",
           "also give views to linalg.generic, linalg.copy and "
           "linalg.transpose readers">,
  ];
  let dependentDialects = ["mlir::memref::MemRefDialect"];
}

def KilnExternalizeWeights
    : Pass<"kiln-externalize-weights", "mlir::ModuleOp"> {
  let summary = "Move large constant buffers into a side file read at load";
  let description = [{
    Runs on bufferized IR, after deallocation is decided. Every
    `memref.global` constant of at least `min-bytes` bytes is appended
    (64-byte aligned) to `weights-file`, and each `memref.get_global` of it
    becomes a call to `kiln_rt_weight_<type>_r<rank>(id)`, which the runtime
    answers with a view into the file mapped at load. The table of
    (id, offset, bytes) is recorded in the module attribute
    `kiln.weights`. Without `weights-file` the pass only reports nothing to
    do, so kiln-opt can run it for tests with a path of its choosing.
  }];
  let options = [
    Option<"weightsFile", "weights-file", "std::string", "\"\"",
           "Path of the side file to write">,
    Option<"minBytes", "min-bytes", "int64_t", "1 << 20",
           "Constants at least this large move to the side file">,
  ];
  let dependentDialects = ["mlir::func::FuncDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect"];
}

def KilnCpuSelectUkernels
    : InterfacePass<"kiln-cpu-select-ukernels", "mlir::FunctionOpInterface"> {
  let summary = "Turn fused ops the CPU runtime has kernels for into kiln.ukernel";
  let description = [{
    Runs on kiln IR before convert-kiln-to-linalg. `kiln.attention` with
    f32 query, key, value and result all of rank 4 (`[B, H, S, D]`) or all
    of rank 3 (`[B*H, S, D]`), and no mask or an additive f32 or boolean
    mask of rank <= 4, becomes `kiln.ukernel "attention_f32"` writing a
    fresh result tensor; its `int_params` are (isa, flags, mask rank,
    operand rank) with flags 1 = mask, 2 = boolean mask,
    4 = causal, 8 = mask fill, its `float_params` (scale, fill). Other
    attention forms keep the generic streaming-softmax lowering.

    `kiln.layer_norm` and `kiln.rms_norm` of an f32 input of rank 1 to 4
    over its last dim, with a `[N]` scale (and bias), become
    `kiln.ukernel "norm_f32"` with `int_params` (isa, flags, rank), flags
    1 = RMS norm, 2 = bias, and `float_params` (epsilon).

    `kiln.linear` in f32 with a 2-D weight and a static `[N]` bias (if any)
    becomes `kiln.ukernel "linear_f32"` on the input reshaped to `[M, K]`
    (and the residual to `[M, N]`), reshaped back after; `int_params` are
    (isa, flags, activation) with flags 1 = transposed weight, 2 = bias,
    4 = residual and activations 0 none, 1 relu, 2 gelu, 3 gelu_tanh,
    4 silu. The kernel applies them on the GEMM register tile.
  }];
  let options = [
    Option<"isaName", "isa", "std::string", /*default=*/"\"avx512\"",
           "Kernel variant: avx512, avx2 or generic (portable C)">
  ];
  let dependentDialects = ["mlir::tensor::TensorDialect"];
}

def KilnCpuConcatInPlace
    : InterfacePass<"kiln-cpu-concat-in-place", "mlir::FunctionOpInterface"> {
  let summary = "Let kernels write their parts of a channel concat in place";
  let description = [{
    Runs on kiln IR after kiln-cpu-select-ukernels. For a rank-4
    `kiln.concat` along dim 1 with static channel counts, each part that is
    the one result of a `kiln.ukernel` whose kernel writes any image stride
    ("conv2d_f32", "maxpool2d_f32", "avgpool2d_f32",
    "channel_affine_f32"), used by nothing but the concat (through at most
    a `tensor.cast`), with a `tensor.empty` init of its own, in the
    concat's block, gets as init a `tensor.extract_slice` of the concat's
    tensor (a `tensor.empty` made before the first such kernel, its sizes
    from that kernel's init) and is put back with `tensor.insert_slice`;
    the other parts are inserted where the concat was. One-shot
    bufferization then writes those parts through subviews of one buffer
    and copies nothing for them. A concat whose parts are the first parts
    of one larger concat (DenseNet's layer inputs inside a block), and
    whose users are all kernels that read strided images
    (channel_affine_f32, the poolings) or shape reads (`tensor.dim`: with
    a dynamic batch), joins the larger one's family: it
    becomes an extract_slice of the leading channels of the shared tensor,
    its parts written (or copied) once; a part in place may then be used
    by any of the family's concats.
  }];
  let dependentDialects = ["mlir::tensor::TensorDialect",
                           "mlir::arith::ArithDialect"];
}

def KilnCpuUkernels : Pass<"kiln-cpu-ukernels", "mlir::ModuleOp"> {
  let summary = "Run fp32 matmuls on buffers through the runtime's GEMM microkernels";
  let description = [{
    Runs after bufferization. Each `linalg.matmul` (default indexing maps)
    and `linalg.batch_matmul` on f32 memrefs whose output rows are
    contiguous becomes a call into the runtime's packed GEMM
    (lib/Runtime/ukernels): hand-written register-tile kernels for AVX-512
    (12 x 32) or AVX2 (6 x 16), chosen by `isa`, threaded over the run's
    pool.

    A right-hand side that is a constant (a `memref.get_global` of a
    constant global, or a `[1, 0]` `linalg.transpose` of one into a buffer
    used by nothing else) is packed here, at compile time, into the
    kernels' 16-column panel layout and stored as a new constant global
    (the original goes away when nothing else reads it); the call is then
    `kiln_ukernel_sgemm_packed`. Any other right-hand side is passed with
    its strides to `kiln_ukernel_sgemm`, which packs it per call. A
    `linalg.fill` of zeros directly before the matmul on the same buffer is
    dropped: the kernel then overwrites the output instead of adding to it.
    Matmuls of other element types, user-defined indexing maps, or outputs
    whose rows are not contiguous are left alone.

    Each `kiln.ukernel` on buffers becomes the call
    `kiln_ukernel_<kernel>(desc, fparams)` with both arrays on the stack;
    for `linear_f32`, a constant weight operand is first replaced by its
    packed copy and flag 8 (packed) is set; with `precision=bf16`, by a
    bf16 copy packed in k-pair panels ([P, ceil(K/2), 32] of bf16 bits as
    i16, lib/Runtime/ukernels/gemm_bf16.c) and flag 16, and `attention_f32`
    gets flag 16 (its Q.K^T and P.V in bf16); with `precision=fp16`, by an
    fp16 copy in the fp32 panel layout ([P, K, 16] of fp16 bits as i16,
    lib/Runtime/ukernels/pack_f16.h) and flag 2048 (matmuls:
    `kiln_ukernel_hgemm_packed`), attention staying fp32; with
    `quantize=int8`, by an int8 copy quantized per output column and packed
    in k-quad panels with each panel's scales and int32 column sums
    ([P, ceil(K/4) + 2, 64] of i8, lib/Runtime/ukernels/gemm_s8.h) and flag
    32. Matmuls with such a constant right-hand side then call
    `kiln_ukernel_qgemm_packed` (bf16: `kiln_ukernel_sbgemm_packed`). With
    `quantize=int4`, weights are quantized to 4 bits per group of
    `group-size` values of k per column and packed as
    [P, K / G, G / 8 + 1, 64] bytes (lib/Runtime/ukernels/gemm_s4.h), flag
    256; matmuls call `kiln_ukernel_s4gemm_packed` with the group size in
    flags bits 16 and up.
  }];
  let options = [
    Option<"isaName", "isa", "std::string", /*default=*/"\"avx512\"",
           "Kernel variant: avx512, avx2 or generic (portable C)">,
    Option<"precision", "precision", "std::string", /*default=*/"\"fp32\"",
           "fp32, or bf16: linear_f32's constant weights are packed in bf16 "
           "k-pair panels (flag 16) and multiplied in bf16 with fp32 "
           "accumulation; or fp16: packed in fp16 in the fp32 panel layout "
           "(flag 2048), widened to fp32 in registers">,
    Option<"quantize", "quantize", "std::string", /*default=*/"\"none\"",
           "none, or int8: constant weights of linear_f32 and of matmuls are "
           "quantized to int8 per output column (symmetric) and multiplied "
           "with the activations quantized per row to u8 at run time "
           "(flag 32); or int8-static: the same weights, activations "
           "quantized per tensor with calibrated ranges (`calibration`); or "
           "int4: weight-only, 4 bits per group of "
           "`group-size` values of k per column (flag 256)">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"128",
           "Values of k per int4 scale (quantize=int4): a multiple of 8">,
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "quantize=int8-static: a JSON file of activation ranges by ONNX "
           "node name (kiln calibrate's); linear_f32 ops of a listed node "
           "quantize their input with that range's scale and zero point "
           "(flags 32 | 128 | 512 | 1024), the rest per row">,
    ListOption<"keepFp32", "keep-fp32", "std::string",
               "ONNX node names whose ops keep fp32 weights (and fp32 "
               "attention products) whatever precision and quantize say: an "
               "op is kept when a name in its location is listed">,
    Option<"winograd", "winograd", "bool", /*default=*/"true",
           "conv2d_f32 3 x 3 at stride 1 and dilation 1 with a constant "
           "filter, 8+ input and output channels, for AVX-512: the filter "
           "transformed here to Winograd F(2x2, 3x3)'s U = G g G^T, stored "
           "[16, F, C] (flags 4 | 64, lib/Runtime/ukernels/conv_wino_f32.h)">,
    Option<"exactFp16", "exact-fp16", "bool", /*default=*/"true",
           "precision=fp32 on avx512/avx2: a constant weight whose every "
           "value is an fp16 value (a model exported in fp16) is packed in "
           "fp16 as with precision=fp16 (flag 2048, hgemm): the same values "
           "in half the bytes">
  ];
  let dependentDialects = ["mlir::func::FuncDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::scf::SCFDialect"];
}

def KilnApproximateMath
    : InterfacePass<"kiln-approximate-math", "mlir::FunctionOpInterface"> {
  let summary = "Replace transcendental math ops by inline polynomials";
  let description = [{
    Rewrites `math.exp`, `math.erf`, `math.tanh`, `math.log` and the other
    functions upstream MLIR approximates (populateMathPolynomialApproximation
    Patterns) into arithmetic, so the loops of GELU, softmax, SiLU and
    normalizations contain no libm call and LLVM vectorizes them. The
    relative error against double precision is measured by
    test/runtime/math_accuracy.test (exp, erf, tanh, sigmoid).
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::math::MathDialect",
                           "mlir::vector::VectorDialect"];
}

def KilnTileMatmuls
    : InterfacePass<"kiln-tile-matmuls", "mlir::FunctionOpInterface"> {
  let summary = "Tile 2-D matmuls over column and reduction blocks";
  let description = [{
    Each `linalg.matmul` (on buffers in the CPU pipeline, where it runs
    after bufferization; on tensors too) whose weight is bigger than one
    `tile-k x tile-n` block becomes an `scf.forall` over blocks of `tile-n`
    columns (independent, so the thread pool takes them in parallel) and,
    inside, an `scf.for` over `tile-k` reduction steps around a matmul on the
    slices (the accumulator carried through the reduction loop). The weight
    block then stays in L2 while every row of the left operand passes it,
    instead of the whole weight streaming from memory once per row.

    On buffers, with `register-tiles`, each block is further tiled into
    8x32 output tiles stepping one k at a time; the row and column loops are
    peeled so the main loops see full tiles, which are vectorized into
    `vector.contract` (lowered to outer-product FMAs), and the output tile is
    read once before the k loop, carried in registers and written once after
    it. The peeled edges stay scalar.
  }];
  let options = [
    Option<"tileN", "tile-n", "int64_t", /*default=*/"128",
           "Columns per block">,
    Option<"tileK", "tile-k", "int64_t", /*default=*/"256",
           "Reduction steps per block">,
    Option<"registerTiles", "register-tiles", "bool", /*default=*/"true",
           "On buffers, vectorize 8x32 register tiles of each block">
  ];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::affine::AffineDialect",
                           "mlir::vector::VectorDialect"];
}

def KilnInterchangeReductions
    : InterfacePass<"kiln-interchange-reductions", "mlir::FunctionOpInterface"> {
  let summary = "Order loops of reductions so the innermost loop is parallel";
  let description = [{
    For each `linalg.generic` with reduction iterators (matmul, batch
    matmul, convolution, pooling once generalized), permutes the loops to
    (parallel dims but the last, reduction dims, last parallel dim). The
    innermost loop then walks the output and the streamed operand with unit
    stride, which LLVM vectorizes, instead of a strided dot product. A
    stop-gap until tiling and vectorization in the CPU pipeline replace it.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def KilnCollapseElementwiseDims
    : InterfacePass<"kiln-collapse-elementwise-dims", "mlir::FunctionOpInterface"> {
  let summary = "Merge an elementwise loop nest's inner dims into one loop";
  let description = [{
    On buffers, before the linalg ops become loops: a `linalg.generic` of
    rank 4 or more with only parallel iterators, identity indexing maps on
    every operand, no `linalg.index` and operands whose layouts are the
    identity (dense, row-major) gets its innermost dims merged into one:
    the shortest suffix of static dims from dim 2 on holding at least 256
    iterations (or all of them; dims 0 and 1, the batch and the channels,
    stay loops for the threads to share). Its innermost loop then runs
    over whole planes instead of one row: LLVM vectorizes loops of 16 x 4
    floats per step, and rows of 7-56 values (a CNN's activations) ran its
    scalar remainder loop only (a QDQ ResNet-50's Q/DQ loops).
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::memref::MemRefDialect"];
}

// A module pass: it declares the runtime's thread-count query it calls.
def KilnSerializeInnerParallel
    : Pass<"kiln-serialize-inner-parallel", "mlir::ModuleOp"> {
  let summary = "Keep only big outermost scf.parallel loops parallel";
  let description = [{
    Rewrites every `scf.parallel` (without reductions) nested in another
    `scf.parallel`, and every outermost one whose whole loop nest has a
    static count below 32768 iterations, into a nest of `scf.for`. An
    outermost loop whose count is only known at run time is versioned: it
    runs in parallel when `kiln_rt_num_threads()` is above 1 and its count
    reaches the threshold, serially otherwise. Serial code keeps LLVM's
    vectorization and avoids the cost of a parallel region.
  }];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::func::FuncDialect",
                           "mlir::arith::ArithDialect"];
}

// The NVIDIA GPU passes (codegen/gpu), in their own file.
include "gpu/Passes.td"

#endif // KILN_CODEGEN_PASSES_TD
