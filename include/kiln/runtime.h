/*===- runtime.h - the C API of a compiled kiln model ---------------------===*
 *
 * Every MODEL.so that `kiln compile` writes exports these functions. They
 * need only libc, libm and libpthread: a compiled model runs on machines
 * without the compiler. Functions return a status and never abort; the last
 * error of the calling thread is kiln_last_error().
 *
 * A model may be run from several threads at once; each concurrent run
 * uses its own workspace, which the model keeps for later runs.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_RUNTIME_H
#define KILN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_MAX_RANK 8

typedef enum {
  KILN_OK = 0,
  KILN_INVALID_ARGUMENT = 1, /* wrong count, dtype, rank or dims */
  KILN_OUT_OF_MEMORY = 2,
  KILN_INTERNAL = 3,
  KILN_DEVICE_UNAVAILABLE = 4, /* --target cuda model: no CUDA driver or GPU */
} kiln_status;

typedef enum {
  KILN_F32 = 0, KILN_F64, KILN_F16, KILN_BF16,
  KILN_I8, KILN_I16, KILN_I32, KILN_I64,
  KILN_U8, KILN_U16, KILN_U32, KILN_U64,
  KILN_BOOL,
} kiln_dtype;

/* Describes one input or output: dims[i] is -1 where dynamic, and then
 * dim_names[i] is its symbolic name ("batch") or "". */
typedef struct {
  const char *name;
  kiln_dtype dtype;
  int32_t rank;
  const int64_t *dims;
  const char *const *dim_names;
} kiln_tensor_info;

/* A tensor passed to or returned from kiln_run: dense, row-major. For an
 * output, `data` may be NULL (the runtime allocates; free with kiln_free)
 * or a caller buffer of `capacity` bytes; `rank` and `dims` are filled in.
 * For an input, `capacity` is optional: when non-zero, a buffer smaller
 * than its dims need is refused (KILN_INVALID_ARGUMENT). Outputs may be
 * computed in place in the caller's buffers while the inputs are read, so
 * an output buffer that overlaps an input's memory is refused too (a KV
 * cache cannot be "updated in place" by passing it as both).
 *
 * For a model compiled with --target cuda, `data` of an input or of a
 * caller's output buffer may also be GPU memory of CUDA device 0 (cuMemAlloc,
 * cudaMalloc, a PyTorch CUDA tensor's data_ptr(); the runtime uses the
 * device's primary context, as the CUDA runtime does). It is read and written
 * only by the GPU (copy engines, device to device, or kernels: an input that
 * only kernels read, 256-byte aligned, is read in place, not copied; `kiln
 * inspect` lists those inputs; an output only kernels write is written in
 * place into a 256-byte aligned buffer), never by the host.
 * Outputs the runtime allocates are host memory. A run given GPU memory
 * first waits for the work queued on the GPU (cuCtxSynchronize: the kernels
 * that wrote its inputs, on any stream); kiln_run returns once every output
 * is in place. */
typedef struct {
  kiln_dtype dtype;
  int32_t rank;
  int64_t dims[KILN_MAX_RANK];
  void *data;
  size_t capacity;
} kiln_tensor;

typedef struct kiln_model kiln_model;

typedef struct {
  int32_t num_threads; /* 0: the machine's cores */
} kiln_options;

kiln_status kiln_open(const kiln_options *options, kiln_model **model);
void kiln_close(kiln_model *model);

size_t kiln_num_inputs(const kiln_model *model);
size_t kiln_num_outputs(const kiln_model *model);
kiln_status kiln_input_info(const kiln_model *model, size_t i,
                            kiln_tensor_info *info);
kiln_status kiln_output_info(const kiln_model *model, size_t i,
                             kiln_tensor_info *info);

/* Validates every input against the signature (dtype, rank, static dims,
 * one extent per symbolic dim) before anything runs. Outputs may be
 * computed straight into their buffers (a caller buffer too small then
 * fails the run as soon as it is found). A failed run frees the output
 * buffers it allocated and resets their `data` to NULL; a caller buffer's
 * contents are then unspecified. */
kiln_status kiln_run(kiln_model *model, const kiln_tensor *inputs,
                     size_t num_inputs, kiln_tensor *outputs,
                     size_t num_outputs);

size_t kiln_dtype_size(kiln_dtype dtype);
const char *kiln_dtype_name(kiln_dtype dtype);
void kiln_free(void *data);
const char *kiln_last_error(void);
/* The compiled signature, one line per tensor (for `kiln inspect`). */
const char *kiln_signature_text(void);

/* Workspace memory of this library's runtime, process-wide: how many heap
 * allocations it has made so far (workspace blocks and kernel scratch) and
 * how many bytes it holds. A model keeps its workspace across runs, so a
 * run with the shapes of an earlier run adds no allocation. */
typedef struct {
  uint64_t allocations;
  uint64_t bytes_held;
} kiln_memory_stats;
void kiln_get_memory_stats(kiln_memory_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* KILN_RUNTIME_H */
