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
extern const char *kiln_model_signature(void);

static _Thread_local char last_error[512];

kiln_status kiln_fail(kiln_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return s;
}

typedef struct {
  char *name;
  kiln_dtype dtype;
  int32_t rank;
  int64_t dims[KILN_MAX_RANK];
  char *dim_names[KILN_MAX_RANK];
} tensor_sig;

struct kiln_model {
  size_t num_inputs, num_outputs;
  tensor_sig *inputs, *outputs;
  int32_t num_threads;
  int weights_mapped;
  kiln_arena_pool workspaces; /* idle workspaces, one per concurrent run */
};

static const struct {
  const char *mlir;
  const char *name;
  kiln_dtype dtype;
  size_t size;
} kDtypes[] = {
    {"f32", "float32", KILN_F32, 4},  {"f64", "float64", KILN_F64, 8},
    {"f16", "float16", KILN_F16, 2},  {"bf16", "bfloat16", KILN_BF16, 2},
    {"i8", "int8", KILN_I8, 1},       {"i16", "int16", KILN_I16, 2},
    {"i32", "int32", KILN_I32, 4},    {"i64", "int64", KILN_I64, 8},
    {"ui8", "uint8", KILN_U8, 1},     {"ui16", "uint16", KILN_U16, 2},
    {"ui32", "uint32", KILN_U32, 4},  {"ui64", "uint64", KILN_U64, 8},
    {"i1", "bool", KILN_BOOL, 1},
};
#define NUM_DTYPES (sizeof kDtypes / sizeof kDtypes[0])

API size_t kiln_dtype_size(kiln_dtype d) {
  for (size_t i = 0; i < NUM_DTYPES; ++i)
    if (kDtypes[i].dtype == d)
      return kDtypes[i].size;
  return 0;
}

API const char *kiln_dtype_name(kiln_dtype d) {
  for (size_t i = 0; i < NUM_DTYPES; ++i)
    if (kDtypes[i].dtype == d)
      return kDtypes[i].name;
  return "unknown";
}

API const char *kiln_last_error(void) { return last_error; }
API const char *kiln_signature_text(void) { return kiln_model_signature(); }

static char *dup_range(const char *b, const char *e) {
  char *s = malloc((size_t)(e - b) + 1);
  if (!s)
    return NULL;
  memcpy(s, b, (size_t)(e - b));
  s[e - b] = 0;
  return s;
}



/* Parses "kind\tname\tdtype\tdims\n" lines ("w" lines are weights). */
static int parse_signature(kiln_model *m) {
  const char *p = kiln_model_signature();
  size_t lines = 0;
  for (const char *q = p; *q; ++q)
    lines += *q == '\n';
  m->inputs = calloc(lines + 1, sizeof(tensor_sig));
  m->outputs = calloc(lines + 1, sizeof(tensor_sig));
  if (!m->inputs || !m->outputs)
    return 0;
  while (*p) {
    if (p[0] == 'w' && p[1] == '\t') {
      while (*p && *p != '\n')
        ++p;
      if (*p)
        ++p;
      continue;
    }
    const char *f[4], *e[4];
    for (int k = 0; k < 4; ++k) {
      f[k] = p;
      while (*p && *p != (k == 3 ? '\n' : '\t'))
        ++p;
      e[k] = p;
      if (*p)
        ++p;
    }
    int isIn = strncmp(f[0], "in", (size_t)(e[0] - f[0])) == 0 && e[0] - f[0] == 2;
    tensor_sig *t = isIn ? &m->inputs[m->num_inputs++] : &m->outputs[m->num_outputs++];
    t->name = dup_range(f[1], e[1]);
    t->dtype = KILN_F32;
    for (size_t i = 0; i < NUM_DTYPES; ++i)
      if (strlen(kDtypes[i].mlir) == (size_t)(e[2] - f[2]) &&
          strncmp(kDtypes[i].mlir, f[2], (size_t)(e[2] - f[2])) == 0)
        t->dtype = kDtypes[i].dtype;
    t->rank = 0;
    const char *d = f[3];
    while (d < e[3] && t->rank < KILN_MAX_RANK) {
      const char *de = d;
      while (de < e[3] && *de != ',')
        ++de;
      if (*d == '?') {
        t->dims[t->rank] = -1;
        t->dim_names[t->rank] = dup_range(d + 1, de);
      } else {
        t->dims[t->rank] = strtoll(d, NULL, 10);
        t->dim_names[t->rank] = dup_range(d, d);
      }
      ++t->rank;
      d = de < e[3] ? de + 1 : de;
    }
  }
  return 1;
}

API kiln_status kiln_open(const kiln_options *options, kiln_model **out) {
  if (!out)
    return kiln_fail(KILN_INVALID_ARGUMENT, "kiln_open: model pointer is NULL");
  kiln_model *m = calloc(1, sizeof *m);
  if (m)
    pthread_mutex_init(&m->workspaces.mu, NULL);
  if (!m || !parse_signature(m)) {
    kiln_close(m);
    return kiln_fail(KILN_OUT_OF_MEMORY, "kiln_open: out of memory");
  }
  m->num_threads = options ? options->num_threads : 0;
  kiln_status s = kiln_weights_map();
  if (s != KILN_OK) {
    kiln_close(m);
    return s;
  }
  m->weights_mapped = 1;
  *out = m;
  return KILN_OK;
}

static void free_sigs(tensor_sig *t, size_t n) {
  if (!t)
    return;
  for (size_t i = 0; i < n; ++i) {
    free(t[i].name);
    for (int32_t d = 0; d < t[i].rank; ++d)
      free(t[i].dim_names[d]);
  }
  free(t);
}

API void kiln_close(kiln_model *m) {
  if (!m)
    return;
  if (m->weights_mapped)
    kiln_weights_unmap();
  kiln_arena_pool_destroy(&m->workspaces);
  free_sigs(m->inputs, m->num_inputs);
  free_sigs(m->outputs, m->num_outputs);
  free(m);
}

API size_t kiln_num_inputs(const kiln_model *m) { return m ? m->num_inputs : 0; }
API size_t kiln_num_outputs(const kiln_model *m) { return m ? m->num_outputs : 0; }

static kiln_status info_of(const tensor_sig *t, kiln_tensor_info *info) {
  info->name = t->name;
  info->dtype = t->dtype;
  info->rank = t->rank;
  info->dims = t->dims;
  info->dim_names = (const char *const *)t->dim_names;
  return KILN_OK;
}

API kiln_status kiln_input_info(const kiln_model *m, size_t i,
                                kiln_tensor_info *info) {
  if (!m || !info || i >= m->num_inputs)
    return kiln_fail(KILN_INVALID_ARGUMENT, "kiln_input_info: no input %zu", i);
  return info_of(&m->inputs[i], info);
}

API kiln_status kiln_output_info(const kiln_model *m, size_t i,
                                 kiln_tensor_info *info) {
  if (!m || !info || i >= m->num_outputs)
    return kiln_fail(KILN_INVALID_ARGUMENT, "kiln_output_info: no output %zu", i);
  return info_of(&m->outputs[i], info);
}

/* ---- one run ---------------------------------------------------------- */

typedef struct {
  const kiln_model *model;
  kiln_tensor *outputs;
  size_t num_outputs;
  kiln_status status;
  /* Per output: 1 when this run allocated its buffer (freed again, and
   * data reset to NULL, if the run fails). */
  unsigned char *allocated;
} run_ctx;

static void output_alloc_failed(run_ctx *ctx, int64_t index);

static void output(void *vctx, int64_t index, unranked_memref *u, size_t esize) {
  run_ctx *ctx = vctx;
  if (ctx->status != KILN_OK || index < 0 || (size_t)index >= ctx->num_outputs)
    return;
  kiln_tensor *o = &ctx->outputs[index];
  int64_t rank = u->rank;
  /* {allocated, aligned, offset, sizes[rank], strides[rank]} */
  char **ptrs = u->desc;
  int64_t *ints = (int64_t *)((char *)u->desc + 2 * sizeof(void *));
  const char *data = ptrs[1] + (size_t)ints[0] * esize;
  const int64_t *sizes = ints + 1, *strides = ints + 1 + rank;
  if (rank > KILN_MAX_RANK) {
    ctx->status = kiln_fail(KILN_INTERNAL, "output %lld has rank %lld > %d",
                       (long long)index, (long long)rank, KILN_MAX_RANK);
    return;
  }
  size_t count = 1;
  for (int64_t d = 0; d < rank; ++d)
    count *= (size_t)sizes[d];
  size_t bytes = count * esize;
  o->rank = (int32_t)rank;
  for (int64_t d = 0; d < rank; ++d)
    o->dims[d] = sizes[d];
  o->dtype = ctx->model->outputs[index].dtype;
  if (!o->data) {
    o->data = kiln_output_alloc(bytes);
    o->capacity = bytes;
    if (!o->data) {
      output_alloc_failed(ctx, index);
      return;
    }
    ctx->allocated[index] = 1;
  } else if (o->capacity < bytes) {
    ctx->status = kiln_fail(KILN_INVALID_ARGUMENT,
                       "output '%s' needs %zu bytes, the buffer has %zu",
                       ctx->model->outputs[index].name, bytes, o->capacity);
    return;
  }
  /* An output computed in place (kiln_rt_output_buffer_*) is there. */
  if (count && data != (const char *)o->data)
    kiln_copy_strided(o->data, data, rank, sizes, strides, esize);
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

static void output_alloc_failed(run_ctx *ctx, int64_t index) {
  ctx->outputs[index].data = NULL;
  ctx->outputs[index].capacity = 0;
  ctx->status = kiln_fail(KILN_OUT_OF_MEMORY, "cannot allocate output '%s'",
                     ctx->model->outputs[index].name);
}

/* The buffer output `index` is computed in (kiln-outputs-in-place): the
 * caller's, or one allocated for the caller. Fills a rank-R memref
 * descriptor. A buffer too small, or no memory, ends the run at once. */
static void output_buffer(int64_t *desc, void *vctx, int64_t index,
                          int64_t rank, const int64_t *dims, size_t esize) {
  run_ctx *ctx = vctx;
  size_t bytes = esize;
  int bad = ctx->status != KILN_OK || index < 0 ||
            (size_t)index >= ctx->num_outputs;
  for (int64_t d = 0; d < rank && !bad; ++d)
    bad = dims[d] < 0 || __builtin_mul_overflow(bytes, (size_t)dims[d], &bytes);
  if (bad) {
    if (ctx->status == KILN_OK)
      ctx->status = kiln_fail(KILN_INTERNAL, "output %lld: bad buffer request",
                         (long long)index);
    longjmp(*dim_error_jump, RUN_FAILED);
  }
  kiln_tensor *o = &ctx->outputs[index];
  if (!o->data) {
    o->data = kiln_output_alloc(bytes);
    o->capacity = bytes;
    if (!o->data) {
      output_alloc_failed(ctx, index);
      longjmp(*dim_error_jump, RUN_FAILED);
    }
    ctx->allocated[index] = 1;
  } else if (o->capacity < bytes) {
    ctx->status = kiln_fail(KILN_INVALID_ARGUMENT,
                       "output '%s' needs %zu bytes, the buffer has %zu",
                       ctx->model->outputs[index].name, bytes, o->capacity);
    longjmp(*dim_error_jump, RUN_FAILED);
  }
  void *p = o->data;
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

/* One entry point per element type and rank 1-6 (PARAMS: the dims). */
#define KILN_OUTBUF_FN(T, R, SIZE, PARAMS, ...)                                \
  void _mlir_ciface_kiln_rt_output_buffer_##T##_r##R(                          \
      int64_t *desc, void *ctx, int64_t i, KILN_UNPAREN PARAMS) {              \
    const int64_t dims[R] = {__VA_ARGS__};                                     \
    output_buffer(desc, ctx, i, R, dims, SIZE);                                \
  }
#define KILN_UNPAREN(...) __VA_ARGS__
#define KILN_OUTBUF_FNS(T, SIZE)                                               \
  KILN_OUTBUF_FN(T, 1, SIZE, (int64_t a), a)                                   \
  KILN_OUTBUF_FN(T, 2, SIZE, (int64_t a, int64_t b), a, b)                     \
  KILN_OUTBUF_FN(T, 3, SIZE, (int64_t a, int64_t b, int64_t c), a, b, c)       \
  KILN_OUTBUF_FN(T, 4, SIZE, (int64_t a, int64_t b, int64_t c, int64_t d), a,  \
                 b, c, d)                                                      \
  KILN_OUTBUF_FN(T, 5, SIZE,                                                   \
                 (int64_t a, int64_t b, int64_t c, int64_t d, int64_t e), a,   \
                 b, c, d, e)                                                   \
  KILN_OUTBUF_FN(T, 6, SIZE,                                                   \
                 (int64_t a, int64_t b, int64_t c, int64_t d, int64_t e,       \
                  int64_t f),                                                  \
                 a, b, c, d, e, f)
KILN_OUTBUF_FNS(f32, 4)
KILN_OUTBUF_FNS(f64, 8)
KILN_OUTBUF_FNS(f16, 2)
KILN_OUTBUF_FNS(bf16, 2)
KILN_OUTBUF_FNS(i1, 1)
KILN_OUTBUF_FNS(i8, 1)
KILN_OUTBUF_FNS(i16, 2)
KILN_OUTBUF_FNS(i32, 4)
KILN_OUTBUF_FNS(i64, 8)
KILN_OUTBUF_FNS(ui8, 1)
KILN_OUTBUF_FNS(ui16, 2)
KILN_OUTBUF_FNS(ui32, 4)
KILN_OUTBUF_FNS(ui64, 8)

#define KILN_OUTPUT_FN(T, SIZE)                                                \
  void _mlir_ciface_kiln_rt_output_##T(void *ctx, int64_t i,                   \
                                       unranked_memref *u) {                   \
    output(ctx, i, u, SIZE);                                                   \
  }
KILN_OUTPUT_FN(f32, 4)
KILN_OUTPUT_FN(f64, 8)
KILN_OUTPUT_FN(f16, 2)
KILN_OUTPUT_FN(bf16, 2)
KILN_OUTPUT_FN(i1, 1)
KILN_OUTPUT_FN(i8, 1)
KILN_OUTPUT_FN(i16, 2)
KILN_OUTPUT_FN(i32, 4)
KILN_OUTPUT_FN(i64, 8)
KILN_OUTPUT_FN(ui8, 1)
KILN_OUTPUT_FN(ui16, 2)
KILN_OUTPUT_FN(ui32, 4)
KILN_OUTPUT_FN(ui64, 8)

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
        if (nsym < sizeof sym_values / sizeof sym_values[0]) {
          sym_names[nsym] = sym;
          sym_values[nsym++] = t->dims[d];
        }
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
  }
  /* Memref descriptors: {allocated, aligned, offset, sizes, strides}. */
  int64_t *descs = calloc(num_inputs ? num_inputs : 1,
                          (3 + 2 * KILN_MAX_RANK) * sizeof(int64_t));
  void **args = calloc(num_inputs ? num_inputs : 1, sizeof(void *));
  if (!descs || !args) {
    free(descs);
    free(args);
    return kiln_fail(KILN_OUT_OF_MEMORY, "kiln_run: out of memory");
  }
  for (size_t i = 0; i < num_inputs; ++i) {
    int64_t *d = descs + i * (3 + 2 * KILN_MAX_RANK);
    const kiln_tensor *t = &inputs[i];
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
    args[i] = d;
  }
  const int cuda = kiln_is_cuda_model();
  if (cuda) {
    const char *why = kiln_gpu_begin_run();
    if (why) {
      free(descs);
      free(args);
      return kiln_fail(KILN_DEVICE_UNAVAILABLE, "%s", why);
    }
  }
  kiln_pool_start(m->num_threads);
  unsigned char *allocated = calloc(num_outputs ? num_outputs : 1, 1);
  run_ctx ctx = {m, outputs, num_outputs, KILN_OK, allocated};
  jmp_buf jump;
  volatile int cut = 0;
  kiln_arena *volatile arena =
      allocated ? kiln_arena_acquire(&m->workspaces) : NULL;
  if (!arena) {
    free(allocated);
    free(descs);
    free(args);
    return kiln_fail(KILN_OUT_OF_MEMORY, "kiln_run: out of memory");
  }
  jmp_buf *volatile outer = dim_error_jump; /* a run inside a run's callback */
  int why = setjmp(jump);
  if (why == 0) {
    dim_error_jump = &jump;
    if (cuda) /* the kernels read the inputs from managed memory */
      for (size_t i = 0; i < num_inputs; ++i) {
        int64_t *d = descs + i * (3 + 2 * KILN_MAX_RANK);
        size_t bytes = kiln_dtype_size(inputs[i].dtype);
        for (int32_t k = 0; k < inputs[i].rank; ++k)
          bytes *= (size_t)inputs[i].dims[k];
        void *staged = _mlir_memref_to_llvm_alloc(bytes);
        if (bytes)
          memcpy(staged, inputs[i].data, bytes);
        memcpy(&d[0], &staged, sizeof staged);
        memcpy(&d[1], &staged, sizeof staged);
      }
    uint64_t t0 = kiln_prof_on ? kiln_prof_now() : 0;
    kiln_model_entry(args, &ctx);
    if (kiln_prof_on)
      kiln_prof_run(t0);
  } else {
    cut = why;
  }
  dim_error_jump = outer;
  kiln_arena_release(&m->workspaces, arena);
  free(descs);
  free(args);
  kiln_status status = ctx.status;
  /* A failed CUDA call comes first: what followed it saw no results. */
  if (cuda && kiln_gpu_run_error())
    status = kiln_fail(KILN_INTERNAL, "%s", kiln_gpu_run_error());
  else if (cut == RUN_OUT_OF_MEMORY)
    status = kiln_fail(KILN_OUT_OF_MEMORY,
                  "out of memory: the run's workspace could not grow");
  else if (cut == RUN_DIM_MISMATCH)
    status = kiln_fail(KILN_INVALID_ARGUMENT,
                  "the inputs are inconsistent with the model: two dims that "
                  "must match are %lld and %lld at run time",
                  (long long)dim_error_a, (long long)dim_error_b);
  /* (RUN_FAILED: ctx.status and its message are set.) A failed run hands
   * back no buffer it allocated. */
  if (status != KILN_OK)
    for (size_t i = 0; i < num_outputs; ++i)
      if (allocated[i]) {
        kiln_free(outputs[i].data);
        outputs[i].data = NULL;
        outputs[i].capacity = 0;
      }
  free(allocated);
  return status;
}
