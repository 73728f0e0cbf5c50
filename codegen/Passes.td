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
           "[16, F, C] (flags 4 | 64, lib/Runtime/ukernels/conv_wino_f32.h)">
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

//===----------------------------------------------------------------------===//
// NVIDIA GPU (codegen/gpu)
//===----------------------------------------------------------------------===//

def KilnGpuMapLoops : Pass<"kiln-gpu-map-loops", "mlir::func::FuncOp"> {
  let summary = "Tile each outermost scf.parallel into blocks x threads, innermost first";
  let description = [{
    Every `scf.parallel` that is not nested in another one (what
    `convert-linalg-to-parallel-loops` makes of a linalg op) is tiled so a
    tile of at most `block-size` iterations runs as one thread block: the
    threads go to the innermost dims first (up to three dims, each dim's
    share the next power of two of its static extent, a dynamic dim takes
    what is left), so neighbouring threads touch neighbouring elements. The
    inner loop has constant bounds and an `scf.if` guard for the partial
    tiles. Then both loops get `gpu` mapping attributes: the outer loop's
    innermost dim on block x, the next on y and z, the rest sequential; the
    inner loop's tiled dims on thread x, y, z. `convert-parallel-loops-to-gpu`
    turns the pair into a `gpu.launch`. Loops already mapped, and loops
    nested in another parallel loop, are left alone.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block (a power of two from 32 to 1024)">
  ];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::gpu::GPUDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::affine::AffineDialect"];
}

def KilnGpuCopiesToKernels
    : Pass<"kiln-gpu-copies-to-kernels", "mlir::func::FuncOp"> {
  let summary = "Turn host memref.copy into linalg.copy, so copies run as kernels";
  let description = [{
    Bufferization leaves `memref.copy` in host code, which would run as the
    runtime's `memrefCopy` on the CPU over managed memory: each copy of a
    tensor the GPU wrote would migrate its pages to the host and back. Every
    ranked copy becomes a `linalg.copy`, which the CUDA pipeline maps to a
    kernel like any other linalg op. Unranked copies are left alone.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def KilnGpuFuseConcats : Pass<"kiln-gpu-fuse-concats", "mlir::func::FuncOp"> {
  let summary = "A Concat's copies into one buffer as one linalg.generic (one kernel)";
  let description = [{
    On bufferized IR (CUDA pipeline, after kiln-gpu-copies-to-kernels and
    kiln-fold-transposes): two or more `linalg.copy` ops in one block whose
    targets are unit-stride subviews (each used only by its copy) of one
    `memref.alloc` become one `linalg.generic` writing the whole buffer:
    an element inside a part's subview loads that part's source (the last
    copy first, so a later copy wins where parts overlap), the others keep
    the buffer's value. It is built at the last copy, so it requires that
    nothing between the first and the last copy uses the buffer or one of
    its other views, or writes memory a source may share, and that no source
    is a view of the buffer, and not every part is one element (a shape's
    Concat: such copies fold into host code). A Concat of N inputs was N kernels (GPT-2's
    KV cache: 2 per key and value per layer), now one.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::arith::ArithDialect"];
}

def KilnGpuSelectAttention
    : Pass<"kiln-gpu-select-attention", "mlir::func::FuncOp"> {
  let summary = "kiln.attention the GPU kernel takes -> kiln.ukernel on tensors";
  let description = [{
    The CUDA pipeline's counterpart of kiln-cpu-select-ukernels, for
    attention only: an f32 `kiln.attention` with rank-3 or rank-4 operands,
    static query and value head dims of at most 128 and an optional f32 or
    i1 mask becomes `kiln.ukernel "attention_f32"` (the CPU kernel's operand
    and flag conventions), so that it bufferizes as one op and
    kiln-gpu-attention can turn it into one fused kernel. Others keep the
    generic streaming-softmax lowering.
  }];
  let dependentDialects = ["mlir::tensor::TensorDialect"];
}

def KilnGpuAttention : Pass<"kiln-gpu-attention", "mlir::ModuleOp"> {
  let summary = "kiln.ukernel \"attention_f32\" on buffers as one fused GPU kernel";
  let description = [{
    One `gpu.launch` per attention, holding two kernels picked per run by
    the query length Sq (a branch uniform over the launch; only one of them
    when Sq is static):
    - Sq > 8, the rows kernel: a block per (batch x head, tile of query
      rows), one thread per query row (64 rows, 32 when the head dim is
      above 64). The block stages its query rows in shared memory (padded
      against bank conflicts), then walks the keys 16 at a time: each step
      stages K and V in shared memory, and every thread computes its 16
      scores (scale, mask, causal exclusion, keys past the end excluded)
      and updates its running maximum, denominator and output row in
      registers (online softmax). The epilogue writes output / denominator.
    - Sq <= 8 (a decode step on a KV cache), the decode kernel: a block of
      8 warps per (batch x head, query row). Warp w takes the chunks of 32
      keys from 32 w by 256; a lane scores one key of the chunk, the warp's
      maximum (xor shuffles) rescales, and the lanes then own the output
      columns, each key's probability broadcast by an indexed shuffle. The
      warps' (maximum, denominator, output row) are merged through shared
      memory at the end. The rows kernel would give a decode step one busy
      thread per batch x head.
    Host code before the launch checks the extents the CPU kernel checks.
    With `emulate`, the same steps run as CPU loops (blocks, threads, warps
    and lanes sequential, each barrier a split between loops over the
    threads, the per-thread state and the lanes' values in buffers, the
    shuffles' reductions loops over the lanes).

    With `mma` and `precision=fp16|bf16` (`--gpu-mma-attention`), an
    attention whose head dims are multiples of 16 (up to 128) takes the
    tensor-core rows kernel instead of the rows kernel (AttentionMma.cpp):
    a block of 4 warps per (batch x head, 64 query rows), 16 rows per warp.
    Q, then per step 64 keys (16 when a head dim is above 64) of K and V
    (transposed), are staged in shared memory rounded to fp16 / bf16; the
    scores are `mma.sync` m16n8k16 products accumulated in fp32, the online
    softmax runs on their fragments (row maxima by xor shuffles within each
    lane quad; a lane keeps a partial denominator, summed at the end), and
    the probabilities, rounded, are the A fragments of the `mma.sync`s with
    V. Causal attention stops each block's key loop after its last row's
    last visible key. Emulated, the products are dot products at the
    fragments' coordinates over the same rounded tiles.
  }];
  let options = [
    Option<"emulate", "emulate", "bool", /*default=*/"false",
           "emit the kernel's steps as CPU loops instead of a gpu.launch">,
    Option<"precision", "precision", "std::string", /*default=*/"\"fp32\"",
           "fp32, fp16 or bf16: the operands' precision with `mma`">,
    Option<"mma", "mma", "bool", /*default=*/"false",
           "fp16 / bf16: the tensor-core rows kernel for head dims that are "
           "multiples of 16">,
  ];
  let dependentDialects = ["mlir::gpu::GPUDialect", "mlir::scf::SCFDialect",
                           "mlir::math::MathDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::func::FuncDialect",
                           "mlir::LLVM::LLVMDialect",
                           "mlir::NVVM::NVVMDialect",
                           "mlir::vector::VectorDialect"];
}

def KilnGpuTileMatmuls : Pass<"kiln-gpu-tile-matmuls", "mlir::ModuleOp"> {
  let summary = "f32 matmuls on buffers as shared-memory tiled kernels";
  let description = [{
    Each f32 `linalg.matmul` and `linalg.batch_matmul` with the default
    indexing maps (any strides, dynamic sizes) becomes one `gpu.launch`:
    a block of 256 threads computes a 64 x 64 tile of C, each thread a
    4 x 4 register tile (rows ty + 16 i, columns tx + 16 j); per step of
    16 along k the block stages A (k-major, padded) and B in shared memory
    (workgroup attributions), out-of-range elements as zeros, with a
    barrier after staging and after the step's products; the epilogue adds
    the tile to C under bounds guards. Other contractions keep the generic
    one-thread-per-element path.

    Fused into the epilogue: the op right before the matmul that writes all
    of a freshly allocated C without reading it, or reading it only element
    by element in place, through C or a reshape of C to its own type (an
    elementwise generic: a dense layer's bias, a residual plus bias, GPT-2's
    bias added to the residual in place; or a `linalg.fill`: a bare
    matmul's zeros), whose value the epilogue computes instead of loading
    C; and the elementwise generic after it that reads C with the identity
    map, into a fresh allocation or in place into C (an activation), which
    the epilogue applies before its store. The fused ops go.

    With `precision=fp16|bf16` the products run on tensor cores (sm_80+):
    operands rounded when staged (steps of 32 along k, both tiles
    k-contiguous with 8 values of padding), 8 warps of 16 x 32 outputs,
    `nvvm.mma.sync` m16n8k16 with fp32 accumulators.

    With `mma-tile=ROWSxCOLS` as well (64 or 128 each), the matmuls whose
    operands allow 16-byte vector loads (A f32, B f32 or of the precision,
    row-major with unit innermost stride; static K, N, row strides and
    offsets, K a multiple of 4 and N of one vector) take the pipelined
    kernel instead: 8 warps in 2 x 4 each compute a (ROWS / 2) x (COLS / 4)
    part of the tile; each thread loads its share of the next step of 32
    along k (A rounded as it is stored, B as it is or rounded) while the
    warps run the current step's `mma.sync`s from the other of two shared
    buffers, one barrier per step. The others keep the 64 x 64 kernel.
    With `mma-ldmatrix` too, the warps load their A fragments with
    `ldmatrix.x4` and their B fragments (two 8-column tiles at a time) with
    `ldmatrix.x4.trans` from the n-contiguous B buffer.
    With `split-k=S` (2 to 8) too, a pipelined matmul whose static K is at
    least 256 x S and twice its static N (deep and narrow, where the
    partials cost little next to the operands) launches S blocks per tile (grid z = batch x S), block
    s running the s-th of S equal runs of k's steps and storing its fp32
    tile into a partial buffer [batch x S, M, N] allocated before the
    launch; a second kernel (a thread per element of C) adds the S partials
    in order and finishes as the one-kernel epilogue does (prologue, fill
    or C's old value, then the fused elementwise op). For matmuls with few
    tiles and a long k (BERT-base's 3072 -> 768 projection at M = 1024:
    96 tiles of 128 x 64 for 132 SMs); the partials cost 2 x S x M x N x 4
    bytes of traffic.

    With `emulate`, the same per-thread steps are emitted as CPU loops
    (blocks and threads sequential, each barrier a split between loops
    over the threads, the register tiles in a buffer), so the tiling can
    be checked numerically without a GPU (`kiln compile --emulate-gpu`).
  }];
  let options = [
    Option<"emulate", "emulate", "bool", /*default=*/"false",
           "Emit CPU loops instead of a gpu.launch">,
    Option<"precision", "precision", "std::string", /*default=*/"\"fp32\"",
           "fp32 (CUDA cores), fp16 or bf16 (tensor cores: operands rounded "
           "when staged, fp32 accumulation)">,
    Option<"mmaTile", "mma-tile", "std::string", /*default=*/"\"\"",
           "fp16 / bf16: ROWSxCOLS (64 or 128 each) takes the pipelined "
           "tensor-core kernel for the matmuls it fits; empty: the 64 x 64 "
           "kernel for all">,
    Option<"mmaLdmatrix", "mma-ldmatrix", "bool", /*default=*/"false",
           "With mma-tile: the pipelined kernel loads its mma.sync fragments "
           "with ldmatrix (B with .trans) instead of 32- and 16-bit shared "
           "loads (not emulated: --emulate-gpu computes the same products "
           "either way)">,
    Option<"splitK", "split-k", "int64_t", /*default=*/"1",
           "With mma-tile: split k of the matmuls the pipelined kernel takes "
           "whose static K is at least 256 x this (2 to 8; 1: off) and "
           "twice N over "
           "that many blocks per tile; a second kernel adds their fp32 "
           "partial tiles and applies the epilogue">
  ];
  let dependentDialects = ["mlir::gpu::GPUDialect", "mlir::scf::SCFDialect",
                           "mlir::arith::ArithDialect", "mlir::math::MathDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::NVVM::NVVMDialect",
                           "mlir::nvgpu::NVGPUDialect",
                           "mlir::LLVM::LLVMDialect",
                           "mlir::vector::VectorDialect"];
}

def KilnGpuReduceRows : Pass<"kiln-gpu-reduce-rows", "mlir::func::FuncOp"> {
  let summary = "Innermost-loop reductions on buffers as one warp per row";
  let description = [{
    A `linalg.generic` on buffers whose last loop is its only reduction
    (f32 outputs indexed by the parallel loops in order, inputs through
    projected permutations, a pure body in which each output's argument
    feeds one combiner: addf, mulf, maximumf, minimumf, maxnumf, minnumf,
    yielded as that output) becomes one `gpu.launch`: blocks of 256
    threads, one warp per row (the parallel loops flattened). Lane l folds
    the body's values at k = l, l + 32, ... from the combiner's identity,
    the warp combines the partials by xor `gpu.shuffle`s, and lane 0
    combines the result with the output's value and stores it. The
    LayerNorm and RMSNorm sums, a softmax's max and sum and mean
    reductions take this path; any other generic keeps the one thread per
    output element path.

    An output that is a fresh allocation last written by a `linalg.fill`
    (or a `linalg.copy` from a filled buffer) starts from the fill's value
    in the kernel, and the fill or copy goes. The elementwise generic right
    after the reduction (only allocations and pure ops between) that reads
    the outputs through the row map, with the same loops, is computed in
    the same kernel: after the shuffles each lane walks the row again from
    k = lane by 32 (its row-invariant ops hoisted) and stores the generic's
    values; outputs nothing else reads are not stored. A LayerNorm or
    RMSNorm becomes one kernel.

    With `emulate`, rows and lanes run as CPU loops and the lanes' partials
    are combined in lane order, so the indexing can be checked numerically
    without a GPU.
  }];
  let options = [
    Option<"emulate", "emulate", "bool", /*default=*/"false",
           "Emit CPU loops instead of a gpu.launch">
  ];
  let dependentDialects = ["mlir::gpu::GPUDialect", "mlir::scf::SCFDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect"];
}

def KilnGpuAsyncLaunches
    : Pass<"kiln-gpu-async-launches", "mlir::ModuleOp"> {
  let summary = "Chain kernel launches on one stream; synchronize only where host code touches GPU memory";
  let description = [{
    Runs after `gpu-kernel-outlining`, on host functions. In each block,
    consecutive `gpu.launch_func` ops become asynchronous launches chained
    by tokens from one `gpu.wait async` (one stream; the runtime hands out
    one stream per thread), and a blocking `gpu.wait` is inserted only
    before a host op that may touch memory a kernel uses:
    - a load, store, dealloc, call or other op with memory effects on a
      memref whose allocation (followed through views, casts and reshapes)
      is an operand of some launch in the function, or is a function or
      block argument;
    - a `memref.reshape` whose shape buffer is such a memref;
    - any other op with unknown memory effects or with regions that are not
      effect-free (the nested blocks are handled the same way, each
      synchronizing before its terminator);
    - the block's terminator.
    Allocations, views, constants, index arithmetic, calls without memref
    operands (run-time checks) and host-only buffers (shape vectors) need no
    synchronization. Compared with `gpu-async-region`, which synchronizes
    before every allocation, this keeps the stream busy across the host's
    bookkeeping between kernels.
  }];
  let dependentDialects = ["mlir::gpu::GPUDialect"];
}

def KilnGpuNameKernels : Pass<"kiln-gpu-name-kernels", "mlir::ModuleOp"> {
  let summary = "Name each outlined kernel after the ONNX node it computes";
  let description = [{
    Runs after `gpu-kernel-outlining`, which names every kernel
    `<function>_kernel` in a module `<function>_kernel_<n>`. Each launched
    kernel and its module are renamed `k<n>_<node>`: n counts kernels in
    the order of their first launch, node is the ONNX node name of that
    launch's location
    (its first `NameLoc`) with characters other than letters, digits and
    `_` replaced, cut to 48 characters. Profiles, `--save-ptx` files and
    the runtime's CUDA errors then say which node a kernel belongs to.
  }];
  let dependentDialects = ["mlir::gpu::GPUDialect"];
}

def KilnGpuDedupKernels : Pass<"kiln-gpu-dedup-kernels", "mlir::ModuleOp"> {
  let summary = "Keep one copy of kernel modules that differ only in names";
  let description = [{
    Runs after `gpu-kernel-outlining`, which makes a kernel module per
    launch: a transformer's N layers give N copies of each kernel. Kernel
    modules holding one kernel are compared as printed, with the module's
    and the kernel's names replaced and without locations; each launch of a
    module equal to an earlier-launched one is pointed at that one, and the
    copy is erased. Modules with several kernels, never launched, or named
    by other ops are left alone. `kiln-gpu-name-kernels` runs after it, so
    a kept kernel carries the name of the first node that launches it.
  }];
  let dependentDialects = ["mlir::gpu::GPUDialect"];
}

def KilnGpuDeviceInputs : Pass<"kiln-gpu-device-inputs", "mlir::ModuleOp"> {
  let summary = "Record which inputs of @main only kernels read";
  let description = [{
    Runs on the final host code of the CUDA pipeline (after
    `kiln-gpu-async-launches`). Sets `kiln.device_inputs` on the module to
    the indices of @main's memref arguments whose only uses are kernel
    launches, `memref.dim`, `memref.extract_strided_metadata` and views
    of them (`ViewLikeOpInterface`: casts, subviews, reshapes, transposes)
    used the same way: the host never touches their memory, so the
    runtime may hand the kernels a caller's GPU buffer in place instead of
    staging a copy. Any other use (a host load or copy, a call, the output
    callback) keeps the input staged.
  }];
  let dependentDialects = ["mlir::gpu::GPUDialect"];
}

def KilnGpuDeviceGlobals : Pass<"kiln-gpu-device-globals", "mlir::ModuleOp"> {
  let summary = "Give kernels device-resident copies of constant buffers";
  let description = [{
    Runs after `gpu-kernel-outlining`. Each `memref.get_global` in host
    code (a `func.func` outside any `gpu.module`) becomes a call to
    `kiln_rt_gpu_global_<type>_r<rank>(view, id)`: the runtime copies the
    constant into GPU-accessible memory on the first run of the process and
    returns a view of that copy afterwards, so weights cross the bus once.
    An element type or rank the runtime has no entry for is an error naming
    the global.
  }];
  let dependentDialects = ["mlir::func::FuncDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect"];
}

#endif // KILN_CODEGEN_PASSES_TD
