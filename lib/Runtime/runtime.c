/*===- runtime.c - the runtime linked into every compiled model ----------===*
 *
 * Plain C (libc, libm, libpthread only; no LLVM/MLIR). Parses the signature
 * the compiler embedded, validates inputs, passes them to the generated
 * entry as memref descriptors, and receives outputs through the
 * kiln_rt_output_<type> callbacks the generated code calls while the
 * output buffers are alive.
 *
 *===----------------------------------------------------------------------===*/

#include "kiln/runtime.h"
#include "runtime_internal.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API __attribute__((visibility("default")))

/* Provided by the generated object. */
extern void kiln_model_entry(void **inputs, void *ctx);
/* (Weak: the kernels' test programs link the runtime with an entry only.) */
extern void kiln_model_head(void **inputs, void *ctx) __attribute__((weak));

static _Thread_local char last_error[512];

kiln_status kiln_fail(kiln_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return s;
}

API const char *kiln_last_error(void) { return last_error; }

/* ---- one run ---------------------------------------------------------- */

typedef struct {
  kiln_model *model;
  kiln_tensor *outputs;
  size_t num_outputs;
  kiln_status status;
  /* Per output: bit 0 when this run allocated its buffer (freed again, and
   * data reset to NULL, if the run fails); bit 1 once a split run has
   * sized it; bit 2 when the caller's buffer is GPU memory the kernels
   * may use in place (CUDA, kiln_gpu_mark_device). */
  unsigned char *allocated;
  /* A split run (> 0): the batch, computed one image per call of the
   * entry, each call's outputs going to their image's rows. Calls may run
   * on several threads at once: `mu` guards the outputs and the status,
   * and `message` keeps the first failure's text for the caller. */
  int64_t batch;
  pthread_mutex_t mu;
  char message[512];
  /* The batch head's input (output -1 of the entry, when the model has a
   * head), in memory of the run's own, and its flags as `allocated`'s. */
  kiln_tensor cut;
  unsigned char cut_flags;
} run_ctx;

/* What the generated code's output callbacks get: the run, and the image
 * this call of the entry computes (split runs). */
typedef struct {
  run_ctx *run;
  int64_t image;
} call_ctx;

/* Records a failure (the first one wins) with this thread's message. */
static void run_failed(run_ctx *ctx, kiln_status s) {
  if (ctx->status == KILN_OK) {
    ctx->status = s;
    snprintf(ctx->message, sizeof ctx->message, "%s", last_error);
  }
}

/* The memory of output `index` for one call of the entry, whose dims are
 * `dims`: the caller's buffer, or one allocated for the caller. In a split
 * run each call gives an image (dims[0] == 1): the first sizes the output
 * for the batch, the others must agree, and each gets its image's rows.
 * NULL (with the run's status set) when the buffer is too small, memory
 * ran out or the dims are wrong. */
static char *claim_output(call_ctx *c, int64_t index, int64_t rank,
                          const int64_t *dims, size_t esize) {
  run_ctx *ctx = c->run;
  int64_t full[KILN_MAX_RANK];
  size_t bytes = esize;
  int bad = index < -1 || (size_t)(index + 1) > ctx->num_outputs ||
            (index == -1 && !ctx->model->has_head) || rank < 0 ||
            rank > KILN_MAX_RANK || (ctx->batch && (rank < 1 || dims[0] != 1));
  for (int64_t d = 0; d < rank && !bad; ++d) {
    full[d] = d == 0 && ctx->batch ? ctx->batch : dims[d];
    bad = full[d] < 0 || __builtin_mul_overflow(bytes, (size_t)full[d], &bytes);
  }
  if (ctx->batch)
    pthread_mutex_lock(&ctx->mu);
  char *p = NULL;
  if (ctx->status != KILN_OK) {
    /* an earlier failure */
  } else if (bad) {
    kiln_fail(KILN_INTERNAL, "output %lld: bad buffer request (rank %lld)",
              (long long)index, (long long)rank);
    run_failed(ctx, KILN_INTERNAL);
  } else {
    kiln_tensor *o = index < 0 ? &ctx->cut : &ctx->outputs[index];
    unsigned char *flags = index < 0 ? &ctx->cut_flags : &ctx->allocated[index];
    const char *name = index < 0 ? "(the batch head's input)"
                                 : ctx->model->outputs[index].name;
    int sized = ctx->batch && (*flags & 2);
    if (sized) {
      for (int64_t d = 0; d < rank && !bad; ++d)
        bad = o->dims[d] != full[d];
      if (bad || o->rank != rank) {
        kiln_fail(KILN_INTERNAL, "output '%s': the images of a split batch "
                  "disagree on its dims", name);
        run_failed(ctx, KILN_INTERNAL);
      }
    } else if (!o->data) {
      o->data = kiln_output_alloc(bytes);
      o->capacity = bytes;
      if (!o->data) {
        o->capacity = 0;
        kiln_fail(KILN_OUT_OF_MEMORY, "cannot allocate output '%s'", name);
        run_failed(ctx, KILN_OUT_OF_MEMORY);
      } else {
        *flags |= 1;
      }
    } else if (o->capacity < bytes) {
      kiln_fail(KILN_INVALID_ARGUMENT,
                "output '%s' needs %zu bytes, the buffer has %zu", name, bytes,
                o->capacity);
      run_failed(ctx, KILN_INVALID_ARGUMENT);
    }
    if (ctx->status == KILN_OK) {
      if (!sized) {
        o->rank = (int32_t)rank;
        for (int64_t d = 0; d < rank; ++d)
          o->dims[d] = full[d];
        o->dtype = index < 0 ? ctx->model->head_dtype
                             : ctx->model->outputs[index].dtype;
        if (ctx->batch)
          *flags |= 2;
      }
      p = (char *)o->data + (ctx->batch ? (size_t)c->image * (bytes / (size_t)ctx->batch) : 0);
    }
  }
  if (ctx->batch)
    pthread_mutex_unlock(&ctx->mu);
  return p;
}

/* An output the generated code computed in its own memory (or in place, in
 * the memory claim_output gave): copied to where it belongs. */
void kiln_rt_output_impl(void *vctx, int64_t index, unranked_memref *u,
                         size_t esize) {
  int64_t rank = u->rank;
  /* {allocated, aligned, offset, sizes[rank], strides[rank]} */
  char **ptrs = u->desc;
  int64_t *ints = (int64_t *)((char *)u->desc + 2 * sizeof(void *));
  const char *data = ptrs[1] + (size_t)ints[0] * esize;
  const int64_t *sizes = ints + 1, *strides = ints + 1 + rank;
  char *dst = claim_output(vctx, index, rank, sizes, esize);
  if (!dst)
    return;
  size_t count = 1;
  for (int64_t d = 0; d < rank; ++d)
    count *= (size_t)sizes[d];
  /* An output computed in place (kiln_rt_output_buffer_*) is there. */
  if (!count || data == dst)
    return;
  /* A CUDA model's dense output leaves its managed memory by DMA (to the
   * caller's host or device buffer). */
  if (kiln_is_cuda_model() && kiln_dense_from(rank, sizes, strides, 0)) {
    if (!kiln_gpu_copy_out(dst, data, count * esize))
      run_failed(((call_ctx *)vctx)->run, KILN_INTERNAL); /* CUDA's error */
    return;
  }
  /* A strided one for a device buffer is gathered on the host first. */
  if (kiln_is_cuda_model() && kiln_gpu_is_device(dst)) {
    kiln_status st =
        kiln_gpu_copy_out_strided(dst, data, rank, sizes, strides, esize);
    if (st != KILN_OK)
      run_failed(((call_ctx *)vctx)->run, st);
    return;
  }
  kiln_copy_strided(dst, data, rank, sizes, strides, esize);
}

/* Generated code checks extents that must agree before a loop uses them; a
 * mismatch ends the run at once (longjmp back to kiln_run), so no loop reads
 * out of bounds; the run's workspace takes back what it had handed out. */
static _Thread_local jmp_buf *dim_error_jump;
static _Thread_local int64_t dim_error_a, dim_error_b;
enum { RUN_DIM_MISMATCH = 1, RUN_OUT_OF_MEMORY = 2, RUN_FAILED = 3 };
void kiln_rt_check_dim(int64_t a, int64_t b) {
  if (a != b && dim_error_jump) {
    dim_error_a = a;
    dim_error_b = b;
    longjmp(*dim_error_jump, RUN_DIM_MISMATCH);
  }
}

/* Out of memory in generated code or a kernel: the run ends with
 * KILN_OUT_OF_MEMORY. Inside a parallel region the member stops first
 * (kiln_pool_member_fail) and the region reports it on the thread that
 * started it, once every member is done, so no thread still uses the run's
 * workspace when the run unwinds. */
void kiln_rt_fail_oom(void) {
  kiln_pool_member_fail();
  if (dim_error_jump)
    longjmp(*dim_error_jump, RUN_OUT_OF_MEMORY);
  fputs("kiln: out of memory outside a run\n", stderr);
  abort();
}

/* The buffer output `index` is computed in (kiln-outputs-in-place). Fills
 * a rank-R memref descriptor. A buffer too small, or no memory, ends the
 * run at once. */
void kiln_rt_output_buffer_impl(int64_t *desc, void *vctx, int64_t index,
                                int64_t rank, const int64_t *dims,
                                size_t esize) {
  char *p = claim_output(vctx, index, rank, dims, esize);
  if (!p)
    longjmp(*dim_error_jump, RUN_FAILED);
  /* A CUDA model's kernels write the caller's buffer only in GPU memory. */
  if (kiln_is_cuda_model()) {
    run_ctx *ctx = ((call_ctx *)vctx)->run;
    p = kiln_gpu_output_buffer(p, index >= 0 && (ctx->allocated[index] & 4),
                               rank, dims, esize);
  }
  memcpy(&desc[0], &p, sizeof p);
  memcpy(&desc[1], &p, sizeof p);
  desc[2] = 0;
  int64_t stride = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    desc[3 + d] = dims[d];
    desc[3 + rank + d] = stride;
    stride *= dims[d];
  }
}


/* ---- runs split into images (kiln-mark-batch-split) -------------------- */

#define DESC_WORDS (3 + 2 * KILN_MAX_RANK)
#define DESC_BYTES (DESC_WORDS * sizeof(int64_t))
#define NOT_SPLIT SIZE_MAX

/* A run cut short by a longjmp (`why`): its status and message. */
static void cut_failed(run_ctx *ctx, int why) {
  if (ctx->batch)
    pthread_mutex_lock(&ctx->mu);
  if (why == RUN_OUT_OF_MEMORY) {
    kiln_fail(KILN_OUT_OF_MEMORY,
              "out of memory: the run's workspace could not grow");
    run_failed(ctx, KILN_OUT_OF_MEMORY);
  } else if (why == RUN_DIM_MISMATCH) {
    kiln_fail(KILN_INVALID_ARGUMENT,
              "the inputs are inconsistent with the model: two dims that "
              "must match are %lld and %lld at run time",
              (long long)dim_error_a, (long long)dim_error_b);
    run_failed(ctx, KILN_INVALID_ARGUMENT);
  } /* (RUN_FAILED: the status and its message are set.) */
  if (ctx->batch)
    pthread_mutex_unlock(&ctx->mu);
}

/* A split pays when every image can read the dense layers' weights again
 * cheaply: when they stay in the last-level cache between images (half of
 * a Zen 4 CCD's 32 MiB L3), and each image does at least this many FLOPs
 * per weight byte. Below either (ResNet-18's 47 MB: 120 ms split against
 * 101 ms batched at batch 8; a decode step's few tokens per image), one
 * batched run reads them once. */
#define SPLIT_MIN_FLOPS_PER_BYTE 8.0
#define SPLIT_MAX_WEIGHT_BYTES (16.0 * 1024 * 1024)

/* The batch this run computes image by image, or 0 for one batched run:
 * when the model allows it, the batch is 2 or more, the weights are small
 * enough and each image does enough work per weight byte at these dims.
 * KILN_BATCH_SPLIT=0 never splits, =1 splits whenever the model allows it
 * (read by kiln_open: m->split_env). */
static int64_t split_batch(const kiln_model *m, const char *const *names,
                           const int64_t *values, size_t n) {
  if (!m->split_dim)
    return 0;
  int64_t batch = 0;
  for (size_t k = 0; k < n; ++k)
    if (!strcmp(names[k], m->split_dim))
      batch = values[k];
  if (batch < 2 || m->split_env == 0)
    return 0;
  if (m->split_env == 1)
    return batch;
  if (m->split_weight_bytes > SPLIT_MAX_WEIGHT_BYTES)
    return 0;
  /* "COEF*name*...;...": names not bound count as 1 */
  double flops = 0;
  for (const char *p = m->split_flops ? m->split_flops : ""; *p;) {
    char *e;
    double term = strtod(p, &e);
    p = e;
    while (*p == '*') {
      const char *q = ++p;
      while (*p && *p != '*' && *p != ';')
        ++p;
      for (size_t k = 0; k < n; ++k)
        if (strlen(names[k]) == (size_t)(p - q) && !strncmp(names[k], q, (size_t)(p - q)))
          term *= (double)values[k];
    }
    flops += term;
    if (*p == ';')
      ++p;
    else if (*p)
      return 0; /* malformed: do not split */
  }
  return flops >= SPLIT_MIN_FLOPS_PER_BYTE * m->split_weight_bytes ? batch : 0;
}

typedef struct {
  run_ctx *ctx;
  const kiln_tensor *inputs;
  const int64_t *descs; /* the whole batch's */
  size_t *row_bytes;    /* per input: an image's bytes, NOT_SPLIT if whole */
  int64_t together;     /* images [0, together) run one per thread at once */
  int64_t begin, end;   /* run_images_solo's range */
} split_job;

/* Runs images [begin, end) one after the other on this thread, in a
 * workspace of their own. */
static void run_images(const split_job *j, int64_t begin, int64_t end) {
  run_ctx *ctx = j->ctx;
  kiln_model *m = ctx->model;
  size_t n = m->num_inputs;
  int64_t *descs = malloc(n ? n * DESC_BYTES : 1);
  void **args = calloc(n ? n : 1, sizeof(void *));
  kiln_arena *arena =
      descs && args ? kiln_arena_acquire(&m->workspaces) : NULL;
  if (!arena) {
    pthread_mutex_lock(&ctx->mu);
    kiln_fail(KILN_OUT_OF_MEMORY, "kiln_run: out of memory");
    run_failed(ctx, KILN_OUT_OF_MEMORY);
    pthread_mutex_unlock(&ctx->mu);
    free(descs);
    free(args);
    return;
  }
  memcpy(descs, j->descs, n * DESC_BYTES);
  for (size_t i = 0; i < n; ++i) {
    args[i] = descs + i * DESC_WORDS;
    if (j->row_bytes[i] != NOT_SPLIT)
      descs[i * DESC_WORDS + 3] = 1; /* dim 0: one image */
  }
  jmp_buf jump;
  jmp_buf *volatile outer = dim_error_jump;
  volatile int64_t image = begin;
  int why = setjmp(jump);
  if (why == 0) {
    dim_error_jump = &jump;
    for (; image < end && !__atomic_load_n(&ctx->status, __ATOMIC_RELAXED);
         ++image) {
      for (size_t i = 0; i < n; ++i)
        if (j->row_bytes[i] != NOT_SPLIT) {
          char *p = (char *)j->inputs[i].data + (size_t)image * j->row_bytes[i];
          memcpy(&descs[i * DESC_WORDS], &p, sizeof p);
          memcpy(&descs[i * DESC_WORDS + 1], &p, sizeof p);
        }
      call_ctx call = {ctx, image};
      kiln_model_entry(args, &call);
    }
  }
  dim_error_jump = outer;
  if (why)
    cut_failed(ctx, why);
  kiln_arena_release(&m->workspaces, arena);
  free(descs);
  free(args);
}

static void run_images_solo(void *vj) {
  const split_job *j = vj;
  run_images(j, j->begin, j->end);
}

/* This pool thread's share [begin, end) of the images run together, each
 * on this thread alone. */
static void split_range(void *vj, int64_t begin, int64_t end) {
  split_job mine = *(const split_job *)vj;
  mine.begin = begin;
  mine.end = end;
  kiln_pool_solo(run_images_solo, &mine);
}

/* A split run on T threads: T images at a time, one per thread, as long as
 * T are left; the rest one by one, each on all threads. */
static void run_split(run_ctx *ctx, const kiln_tensor *inputs,
                      const int64_t *descs) {
  const kiln_model *m = ctx->model;
  size_t row_bytes[64], *rows = m->num_inputs <= 64
                                    ? row_bytes
                                    : calloc(m->num_inputs, sizeof *rows);
  if (!rows) {
    kiln_fail(KILN_OUT_OF_MEMORY, "kiln_run: out of memory");
    run_failed(ctx, KILN_OUT_OF_MEMORY);
    return;
  }
  for (size_t i = 0; i < m->num_inputs; ++i) {
    const tensor_sig *s = &m->inputs[i];
    rows[i] = NOT_SPLIT;
    if (s->rank < 1 || s->dims[0] >= 0 || !s->dim_names[0] ||
        strcmp(s->dim_names[0], m->split_dim) != 0)
      continue;
    rows[i] = kiln_dtype_size(inputs[i].dtype);
    for (int32_t d = 1; d < inputs[i].rank; ++d)
      rows[i] *= (size_t)inputs[i].dims[d];
  }
  int64_t threads = kiln_rt_num_threads();
  split_job j = {ctx, inputs, descs, rows, 0, 0, 0};
  j.together = threads > 1 ? ctx->batch / threads * threads : 0;
  if (j.together)
    kiln_parallel_for(j.together, split_range, &j);
  if (j.together < ctx->batch)
    run_images(&j, j.together, ctx->batch);
  if (rows != row_bytes)
    free(rows);
}

/* The memref descriptor {allocated, aligned, offset, sizes, strides} of a
 * dense tensor. */
static void fill_desc(int64_t *d, const kiln_tensor *t) {
  void *data = t->data;
  memcpy(&d[0], &data, sizeof data);
  memcpy(&d[1], &data, sizeof data);
  d[2] = 0;
  int64_t stride = 1;
  for (int32_t k = t->rank - 1; k >= 0; --k) {
    d[3 + k] = t->dims[k];
    d[3 + t->rank + k] = stride;
    stride *= t->dims[k];
  }
}

/* Runs `fn` (the entry on the whole batch, or the batch head) on this
 * thread, in a workspace. A CUDA model's kernels read `staged` inputs (the
 * entry's, given for a CUDA model) from managed memory, except those in GPU
 * memory they may read in place (`on_device`, kiln_gpu_mark_device). */
static void call_entry(run_ctx *ctx, void (*fn)(void **, void *), void **args,
                       const kiln_tensor *staged,
                       const unsigned char *on_device) {
  kiln_model *m = ctx->model;
  kiln_arena *volatile arena = kiln_arena_acquire(&m->workspaces);
  if (!arena) {
    kiln_fail(KILN_OUT_OF_MEMORY, "kiln_run: out of memory");
    run_failed(ctx, KILN_OUT_OF_MEMORY);
    return;
  }
  jmp_buf jump;
  jmp_buf *volatile outer = dim_error_jump; /* a run inside a run's callback */
  call_ctx call = {ctx, 0};
  int why = setjmp(jump);
  if (why == 0) {
    dim_error_jump = &jump;
    for (size_t i = 0; staged && i < m->num_inputs; ++i) {
      int64_t *d = args[i];
      /* An input only kernels read, in GPU memory they may use in place
       * (kiln_gpu_mark_device): the kernels read it where it is. */
      if (m->inputs[i].device_in_place && on_device[i])
        continue;
      size_t bytes = kiln_dtype_size(staged[i].dtype);
      for (int32_t k = 0; k < staged[i].rank; ++k)
        bytes *= (size_t)staged[i].dims[k];
      void *copy = _mlir_memref_to_llvm_alloc(bytes);
      if (!kiln_gpu_copy_in(copy, staged[i].data, bytes))
        longjmp(jump, RUN_FAILED);
      memcpy(&d[0], &copy, sizeof copy);
      memcpy(&d[1], &copy, sizeof copy);
    }
    fn(args, &call);
  }
  dim_error_jump = outer;
  /* Launches are asynchronous: a run cut short by a failed check may leave
   * kernels running on the workspace the next caller takes. */
  if (kiln_is_cuda_model())
    kiln_gpu_end_run();
  if (why)
    cut_failed(ctx, why);
  kiln_arena_release(&m->workspaces, arena);
}

API kiln_status kiln_run(kiln_model *m, const kiln_tensor *inputs,
                         size_t num_inputs, kiln_tensor *outputs,
                         size_t num_outputs) {
  if (!m)
    return kiln_fail(KILN_INVALID_ARGUMENT, "kiln_run: model is NULL");
  if (num_inputs != m->num_inputs)
    return kiln_fail(KILN_INVALID_ARGUMENT, "the model takes %zu inputs, got %zu",
                m->num_inputs, num_inputs);
  if (num_inputs && !inputs)
    return kiln_fail(KILN_INVALID_ARGUMENT, "the inputs array is NULL");
  if (num_outputs != m->num_outputs)
    return kiln_fail(KILN_INVALID_ARGUMENT, "the model has %zu outputs, got %zu",
                m->num_outputs, num_outputs);
  if (num_outputs && !outputs)
    return kiln_fail(KILN_INVALID_ARGUMENT, "the outputs array is NULL");
  /* Symbolic dims bound so far: name -> extent. */
  const char *sym_names[KILN_MAX_RANK * 16];
  int64_t sym_values[KILN_MAX_RANK * 16];
  size_t nsym = 0;
  for (size_t i = 0; i < num_inputs; ++i) {
    const tensor_sig *s = &m->inputs[i];
    const kiln_tensor *t = &inputs[i];
    if (t->dtype != s->dtype)
      return kiln_fail(KILN_INVALID_ARGUMENT, "input '%s' must be %s, got %s",
                  s->name, kiln_dtype_name(s->dtype), kiln_dtype_name(t->dtype));
    if (t->rank != s->rank)
      return kiln_fail(KILN_INVALID_ARGUMENT, "input '%s' must have rank %d, got %d",
                  s->name, s->rank, t->rank);
    for (int32_t d = 0; d < s->rank; ++d) {
      if (t->dims[d] < 0)
        return kiln_fail(KILN_INVALID_ARGUMENT, "input '%s' dim %d is negative",
                    s->name, d);
      if (s->dims[d] >= 0 && t->dims[d] != s->dims[d])
        return kiln_fail(KILN_INVALID_ARGUMENT,
                    "input '%s' dim %d must be %lld, got %lld", s->name, d,
                    (long long)s->dims[d], (long long)t->dims[d]);
      const char *sym = s->dim_names[d];
      if (s->dims[d] >= 0 || !sym || !*sym)
        continue;
      size_t k = 0;
      while (k < nsym && strcmp(sym_names[k], sym) != 0)
        ++k;
      if (k == nsym) {
        /* The compiler takes same-named dims as equal (ShapeTrace): every
         * name is checked, or the run refused. */
        if (nsym == sizeof sym_values / sizeof sym_values[0])
          return kiln_fail(KILN_INVALID_ARGUMENT,
                           "input '%s' dim %d ('%s'): the inputs name more "
                           "than %zu different dims", s->name, d, sym, nsym);
        sym_names[nsym] = sym;
        sym_values[nsym++] = t->dims[d];
      } else if (sym_values[k] != t->dims[d]) {
        return kiln_fail(KILN_INVALID_ARGUMENT,
                    "input '%s' dim %d ('%s') is %lld, but '%s' is %lld "
                    "elsewhere",
                    s->name, d, sym, (long long)t->dims[d], sym,
                    (long long)sym_values[k]);
      }
    }
    /* The bytes the dims cover, without overflow; a buffer that says how
     * big it is (capacity, optional for inputs) must hold them. */
    size_t bytes = kiln_dtype_size(t->dtype);
    for (int32_t d = 0; d < s->rank; ++d)
      if (__builtin_mul_overflow(bytes, (size_t)t->dims[d], &bytes) ||
          bytes > (size_t)PTRDIFF_MAX)
        return kiln_fail(KILN_INVALID_ARGUMENT,
                    "input '%s' is too large: its dims overflow the address "
                    "space", s->name);
    if (!t->data && bytes != 0)
      return kiln_fail(KILN_INVALID_ARGUMENT, "input '%s' has no data", s->name);
    if (t->capacity && t->capacity < bytes)
      return kiln_fail(KILN_INVALID_ARGUMENT,
                  "input '%s' needs %zu bytes, its buffer holds %zu", s->name,
                  bytes, t->capacity);
    /* Outputs may be computed in place while the inputs are still read. */
    size_t j = kiln_output_overlapping(t->data, bytes, outputs, num_outputs);
    if (j < num_outputs)
      return kiln_fail(KILN_INVALID_ARGUMENT,
                       "the buffer of output '%s' overlaps input '%s': "
                       "give each output memory of its own",
                       m->outputs[j].name, s->name);
  }
  /* Memref descriptors: {allocated, aligned, offset, sizes, strides}. */
  int64_t *descs = calloc(num_inputs ? num_inputs : 1, DESC_BYTES);
  /* The entry's arguments, then a byte per input: in GPU memory (CUDA). */
  void **args = calloc(num_inputs ? num_inputs : 1, sizeof(void *) + 1);
  if (!descs || !args) {
    free(descs);
    free(args);
    return kiln_fail(KILN_OUT_OF_MEMORY, "kiln_run: out of memory");
  }
  unsigned char *on_device = (unsigned char *)(args + num_inputs);
  for (size_t i = 0; i < num_inputs; ++i) {
    fill_desc(descs + i * DESC_WORDS, &inputs[i]);
    args[i] = descs + i * DESC_WORDS;
  }
  unsigned char *allocated = calloc(num_outputs ? num_outputs : 1, 1);
  if (!allocated) {
    free(descs);
    free(args);
    return kiln_fail(KILN_OUT_OF_MEMORY, "kiln_run: out of memory");
  }
  const int cuda = kiln_is_cuda_model();
  if (cuda) {
    const char *why = kiln_gpu_begin_run();
    if (why) {
      free(descs);
      free(args);
      free(allocated);
      return kiln_fail(KILN_DEVICE_UNAVAILABLE, "%s", why);
    }
    /* GPU inputs and output buffers may still be in use by the caller's
     * kernels on streams the run's stream does not wait for: the run
     * starts once the GPU has finished them. */
    int device = kiln_gpu_mark_device(inputs, num_inputs, on_device, 1);
    device |= kiln_gpu_mark_device(outputs, num_outputs, allocated, 4);
    if (device && !kiln_gpu_sync_device()) {
      free(descs);
      free(args);
      free(allocated);
      return kiln_fail(KILN_INTERNAL, "%s", kiln_gpu_run_error());
    }
  }
  kiln_pool_start(m->num_threads);
  run_ctx ctx = {m, outputs, num_outputs, KILN_OK, allocated, 0,
                 PTHREAD_MUTEX_INITIALIZER, "", {0}, 0};
  ctx.batch = cuda ? 0 : split_batch(m, sym_names, sym_values, nsym);
  uint64_t t0 = kiln_prof_on ? kiln_prof_now() : 0;
  int64_t split = ctx.batch;
  if (split)
    run_split(&ctx, inputs, descs);
  else
    call_entry(&ctx, kiln_model_entry, args, cuda ? inputs : NULL, on_device);
  /* The batch head, once on the whole batch, after every image. */
  if (m->has_head) {
    if (ctx.status == KILN_OK && !kiln_model_head) {
      kiln_fail(KILN_INTERNAL, "the signature names a batch head, the "
                               "library has none");
      run_failed(&ctx, KILN_INTERNAL);
    } else if (ctx.status == KILN_OK) {
      int64_t cut_desc[DESC_WORDS];
      void *cut_args[1] = {cut_desc};
      ctx.batch = 0;
      fill_desc(cut_desc, &ctx.cut);
      call_entry(&ctx, kiln_model_head, cut_args, NULL, NULL);
    }
    kiln_free(ctx.cut.data);
  }
  if (kiln_prof_on)
    kiln_prof_run(t0, split != 0);
  free(descs);
  free(args);
  kiln_status status = ctx.status;
  /* A failed CUDA call comes first: what followed it saw no results. */
  if (cuda && kiln_gpu_run_error())
    status = kiln_fail(KILN_INTERNAL, "%s", kiln_gpu_run_error());
  else if (status != KILN_OK) /* (the message may come from another thread) */
    kiln_fail(status, "%s", ctx.message);
  /* A failed run hands back no buffer it allocated. */
  if (status != KILN_OK)
    for (size_t i = 0; i < num_outputs; ++i)
      if (allocated[i] & 1) {
        kiln_free(outputs[i].data);
        outputs[i].data = NULL;
        outputs[i].capacity = 0;
      }
  free(allocated);
  return status;
}
