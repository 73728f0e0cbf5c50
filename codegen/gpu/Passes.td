//===- Passes.td - kiln's NVIDIA GPU code-generation passes -*- tablegen -*-===//
//
// Included by codegen/Passes.td (one pass registry, KilnCodegen). The
// passes that tile, map and launch kernels for --target cuda; each runs
// alone from kiln-opt and has a lit test in test/codegen/ named after its
// flag.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_GPU_PASSES_TD
#define KILN_CODEGEN_GPU_PASSES_TD

include "mlir/Pass/PassBase.td"

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

#endif // KILN_CODEGEN_GPU_PASSES_TD
