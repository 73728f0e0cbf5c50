/*===- runtime_internal.h - shared between the runtime's files -----------===*
 *
 * Not part of the API.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_RUNTIME_INTERNAL_H
#define KILN_RUNTIME_INTERNAL_H

#include "kiln/runtime.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Starts the pool once per library (later calls keep its size); threads <= 0
 * means one per online core. Returns the team size (workers + caller). */
int kiln_pool_start(int threads);
/* Inside a parallel region: ends the member this thread runs (out of
 * memory; its region then fails on the thread that started it). Returns
 * outside regions. */
void kiln_pool_member_fail(void);
/* Runs fn(ctx) on the calling thread alone, as its own run, from inside a
 * region member (each image of a split batch on one thread). */
void kiln_pool_solo(void (*fn)(void *), void *ctx);

/* 1 inside a parallel region, else the pool's size. */
int64_t kiln_rt_num_threads(void);

/* Runs fn(ctx, begin, end) over [0, n) split into one contiguous, near-equal
 * range per pool thread (the caller included). Inside a parallel region, or
 * with one thread, the caller runs the whole range. */
typedef void (*kiln_range_fn)(void *ctx, int64_t begin, int64_t end);
void kiln_parallel_for(int64_t n, kiln_range_fn fn, void *ctx);

/* Kernel profiling (profile.c): on when KILN_PROFILE=1 at load. A kernel
 * entry is wrapped as
 *   KILN_PROF_BEGIN();  ...  KILN_PROF_END("conv2d", flops, label_fn, desc);
 * and the time lands on the entry's call site; label_fn formats the shape
 * once per site. kiln_run times each run with kiln_prof_run. */
extern int kiln_prof_on;
typedef void (*kiln_prof_label_fn)(char *buf, size_t n, const void *arg);
uint64_t kiln_prof_now(void);
void kiln_prof_run(uint64_t t0, int split);
void kiln_prof_kernel(void *site, const char *kind, uint64_t t0, double flops,
                      kiln_prof_label_fn label, const void *arg);
/* The same with the time measured elsewhere (a GPU kernel's events). */
void kiln_prof_add(void *site, const char *kind, uint64_t ns, double flops,
                   kiln_prof_label_fn label, const void *arg);
/* Formats int64_t {batch, m, n, k} as "M x N x K" (gemm_f32.c). */
void kiln_prof_gemm_label(char *buf, size_t n, const void *arg);
/* The profiled entry point NAME of a packed-weight GEMM (the generated
 * code's kiln_ukernel_*gemm_packed signature) around CALL, the kernel. */
#define KILN_PROF_GEMM_ENTRY(NAME, KIND, CALL)                                 \
  void NAME(int64_t flags, int64_t m, int64_t n, int64_t k, intptr_t a,        \
            int64_t aoff, int64_t lda, int64_t acs, intptr_t bp,               \
            int64_t bpoff, intptr_t c, int64_t coff, int64_t ldc) {            \
    KILN_PROF_BEGIN();                                                         \
    CALL(flags, m, n, k, a, aoff, lda, acs, bp, bpoff, c, coff, ldc);          \
    int64_t shape_[4] = {1, m, n, k};                                          \
    KILN_PROF_END(KIND, 2.0 * m * n * k, kiln_prof_gemm_label, shape_);        \
  }
#define KILN_PROF_BEGIN()                                                      \
  uint64_t kiln_prof_t0_ = kiln_prof_on ? kiln_prof_now() : 0;                 \
  void *kiln_prof_site_ = __builtin_return_address(0)
#define KILN_PROF_END(kind, flops, label, arg)                                 \
  do {                                                                         \
    if (kiln_prof_on)                                                          \
      kiln_prof_kernel(kiln_prof_site_, kind, kiln_prof_t0_, flops, label,     \
                       arg);                                                   \
  } while (0)

/* The workspace (arena.c). A model owns a pool of idle arenas; a run
 * acquires one (it becomes the calling thread's current arena) and releases
 * it at the end, keeping its blocks for the next run. */
typedef struct kiln_arena kiln_arena;
typedef struct {
  pthread_mutex_t mu;
  kiln_arena *idle;
} kiln_arena_pool;
kiln_arena *kiln_arena_acquire(kiln_arena_pool *pool);
void kiln_arena_release(kiln_arena_pool *pool, kiln_arena *arena);
void kiln_arena_pool_destroy(kiln_arena_pool *pool);
kiln_arena *kiln_arena_get(void);
void kiln_arena_set(kiln_arena *arena);

/* A compiled model (model.c): its inputs and outputs as the signature
 * gives them. */
typedef struct {
  char *name;
  kiln_dtype dtype;
  int32_t rank;
  int64_t dims[KILN_MAX_RANK];
  char *dim_names[KILN_MAX_RANK];
  int device_in_place; /* an input only kernels read (CUDA, "d" line) */
} tensor_sig;

struct kiln_model {
  size_t num_inputs, num_outputs;
  tensor_sig *inputs, *outputs;
  int32_t num_threads;
  int weights_mapped;
  kiln_arena_pool workspaces; /* idle workspaces, one per concurrent run */
  /* kiln-mark-batch-split: the dim a batch may be run image by image over
   * (NULL: never), the dense layers' weight bytes each image reads, and
   * the FLOPs per image of the ops reading them ("COEF*name*...;..."). */
  char *split_dim;
  double split_weight_bytes;
  char *split_flops;
  int split_env; /* KILN_BATCH_SPLIT at kiln_open: 0 never, 1 always, -1 unset */
  /* kiln-outline-batch-head: the entry's one result (output -1, of this
   * type) is the input of kiln_model_head, run once on the whole batch. */
  int has_head;
  kiln_dtype head_dtype;
};

/* Per-thread scratch buffers of the kernels, kept and grown across runs. */
enum {
  KILN_SCRATCH_GEMM_A,
  KILN_SCRATCH_GEMM_B,
  KILN_SCRATCH_ATT_K,
  KILN_SCRATCH_ATT_V,
  KILN_SCRATCH_ATT_S,
  KILN_SCRATCH_ATT_Q,
  KILN_SCRATCH_ATT_ST,
  KILN_SCRATCH_DW,
  KILN_SCRATCH_CONV_X,
  KILN_SCRATCH_CONV_K,
  KILN_SCRATCH_CONV_S,
  KILN_SCRATCH_WINO_V,
  KILN_SCRATCH_WINO_M,
  KILN_SCRATCH_WINO_EO,
  KILN_SCRATCH_PWDW,
  KILN_SCRATCH_GEMM_R,
  KILN_SCRATCH_SLOTS
};
void *kiln_scratch(int slot, size_t bytes);

/* A buffer of at least `bytes` for an output the runtime allocates
 * (outputs.c; freed, and recycled, by kiln_free), or NULL. */
void *kiln_output_alloc(size_t bytes);

/* MLIR's unranked memref descriptor and the ranked one it points to. */
typedef struct {
  int64_t rank;
  void *desc;
} unranked_memref;

/* The generated code's output callbacks (entry points in outputs.c, one per
 * type and rank; the work in runtime.c): output `index` computed in the
 * generated code's memory is copied to where it belongs; the buffer an
 * output is computed in (kiln-outputs-in-place) into a rank-`rank` memref
 * descriptor. */
void kiln_rt_output_impl(void *ctx, int64_t index, unranked_memref *u,
                         size_t esize);
void kiln_rt_output_buffer_impl(int64_t *desc, void *ctx, int64_t index,
                                int64_t rank, const int64_t *dims,
                                size_t esize);

/* Copies a strided tensor (sizes, strides in elements of `esize` bytes)
 * into dense memory at dst (copy.c). */
/* 1 when dims [dim, rank) of a strided view are one dense row-major run
 * (a dim of size 1 may have any stride). */
int kiln_dense_from(int64_t rank, const int64_t *sizes, const int64_t *strides,
                    int64_t dim);
void kiln_copy_strided(char *dst, const char *src, int64_t rank,
                       const int64_t *sizes, const int64_t *strides,
                       size_t esize);

/* Ends the run with a shape error when a != b (runtime.c). */
void kiln_rt_check_dim(int64_t a, int64_t b);

/* The workspace allocator of the generated code (arena.c). */
void *_mlir_memref_to_llvm_alloc(uint64_t size);
void _mlir_memref_to_llvm_free(void *p);

/* Sets this thread's last error (kiln_last_error) and returns `s`
 * (runtime.c). */
kiln_status kiln_fail(kiln_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The weights side file (weights.c): mapped by the first kiln_open of the
 * process, unmapped by the last kiln_close; kiln_weights_map fails when
 * the file is missing, short or cannot be mapped. */
kiln_status kiln_weights_map(void);
void kiln_weights_unmap(void);
/* How the side file's weights are held (for the profile), their bytes in
 * *bytes; NULL when the model has none. */
const char *kiln_weights_placement(size_t *bytes);

/* Ends the current run with KILN_OUT_OF_MEMORY (runtime.c). */
void kiln_rt_fail_oom(void);

/* Set (to 1) by models compiled with --target cuda (cuda.c). */
extern const int32_t kiln_model_cuda __attribute__((weak));
static inline int kiln_is_cuda_model(void) {
  return &kiln_model_cuda != NULL && kiln_model_cuda != 0;
}
/* Loads the driver once and makes the context current on this thread;
 * NULL when ready, else why not. Clears the run's CUDA error. */
const char *kiln_gpu_begin_run(void);
/* Waits for the kernels this thread launched (its stream), so the run's
 * workspace can be handed to another caller. */
void kiln_gpu_end_run(void);
/* The first CUDA failure of this thread's run, or NULL. */
const char *kiln_gpu_run_error(void);
/* CUDA managed memory (host and device), NULL on failure. */
void *kiln_gpu_alloc(size_t bytes);
void kiln_gpu_free(void *p);
/* A workspace block of `bytes`: managed memory, or pinned host memory the
 * GPU maps when small (cuda.c). Freed with the same size. */
void *kiln_gpu_alloc_block(size_t bytes);
void kiln_gpu_free_block(void *p, size_t bytes);
/* Copies `bytes` between the caller's memory (host, or device memory of
 * the model's GPU) and managed memory on the thread's stream by DMA
 * (cuMemcpyAsync), so managed pages stay where the kernels use them
 * instead of migrating to the host page by page and back on the next
 * launch. Both are ordered after the kernels launched before them; the
 * run's closing synchronize (kiln_gpu_end_run) waits for them. 0 on
 * failure (the run's error says why). */
int kiln_gpu_copy_in(void *managed, const void *host, size_t bytes);
int kiln_gpu_copy_out(void *host, const void *managed, size_t bytes);
/* 1 when the driver says `p` is device memory of the model's GPU
 * (cudaMalloc, cuMemAlloc: the host must not touch it); 0 for host memory.
 * Managed memory may give either. */
int kiln_gpu_is_device(const void *p);
/* The buffer a CUDA model's kernels compute an output in: `p` (the
 * caller's) when kiln_gpu_mark_device marked it usable in place
 * (`in_place`), else a workspace block of the output's bytes. */
void *kiln_gpu_output_buffer(void *p, int in_place, int64_t rank,
                             const int64_t *dims, size_t esize);
/* The first of the n outputs whose caller buffer overlaps [data, data +
 * bytes), or n (outputs.c). */
size_t kiln_output_overlapping(const void *data, size_t bytes,
                               const kiln_tensor *outputs, size_t n);
/* Waits for all work queued on the GPU (cuCtxSynchronize), e.g. the
 * caller's kernels that write a device input on their own stream. */
int kiln_gpu_sync_device(void);
/* 1 when any of the n tensors' data is GPU memory (kiln_gpu_is_device);
 * sets `bit` in marks[i] for those the kernels may use in place (GPU
 * memory aligned to 256 bytes, as the workspace's blocks). */
int kiln_gpu_mark_device(const kiln_tensor *t, size_t n, unsigned char *marks,
                         unsigned char bit);
/* A strided output into a caller's GPU buffer: gathered densely on the
 * host, then copied. KILN_OUT_OF_MEMORY (its message set) or
 * KILN_INTERNAL (the run's CUDA error says why) on failure. */
kiln_status kiln_gpu_copy_out_strided(void *dst, const void *src,
                                      int64_t rank, const int64_t *sizes,
                                      const int64_t *strides, size_t esize);

#endif
