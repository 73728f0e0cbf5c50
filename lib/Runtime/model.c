/*===- model.c - opening a compiled model: its signature and weights -----===*
 *
 * The signature the compiler embedded (kiln_model_signature) is parsed
 * once per kiln_open: one line per input and output, the weights side
 * file's table, and whether a batch may run image by image.
 *
 *===----------------------------------------------------------------------===*/

#include "kiln/runtime.h"
#include "runtime_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define API __attribute__((visibility("default")))

/* Provided by the generated object. */
extern const char *kiln_model_signature(void);

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

API const char *kiln_signature_text(void) { return kiln_model_signature(); }

static char *dup_range(const char *b, const char *e) {
  char *s = malloc((size_t)(e - b) + 1);
  if (!s)
    return NULL;
  memcpy(s, b, (size_t)(e - b));
  s[e - b] = 0;
  return s;
}



/* "b <TAB> dim <TAB> weight bytes <TAB> COEF*name*...;..." (see
 * kiln-mark-batch-split): the model may run a batch image by image. */
static int parse_split(kiln_model *m, const char *p) {
  const char *e = p;
  while (*e && *e != '\t' && *e != '\n')
    ++e;
  m->split_dim = dup_range(p, e);
  if (!m->split_dim || *e != '\t')
    return m->split_dim != NULL;
  char *after;
  m->split_weight_bytes = strtod(e + 1, &after);
  if (*after != '\t')
    return 1;
  e = after + 1;
  const char *end = e;
  while (*end && *end != '\n')
    ++end;
  m->split_flops = dup_range(e, end);
  return m->split_flops != NULL;
}

/* The dtype of an MLIR element type name (f32 when unknown). */
static kiln_dtype dtype_of(const char *name, size_t len) {
  for (size_t i = 0; i < NUM_DTYPES; ++i)
    if (strlen(kDtypes[i].mlir) == len && strncmp(kDtypes[i].mlir, name, len) == 0)
      return kDtypes[i].dtype;
  return KILN_F32;
}

/* Parses "kind\tname\tdtype\tdims\n" lines ("w" lines are weights, a "b"
 * line the batch split, an "h" line the batch head). */
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
    if (p[0] == 'b' && p[1] == '\t') {
      if (!parse_split(m, p + 2))
        return 0;
    }
    if (p[0] == 'h' && p[1] == '\t') {
      m->has_head = 1;
      m->head_dtype = dtype_of(p + 2, strcspn(p + 2, "\t\n"));
    }
    if (p[0] == 'd' && p[1] == '\t') {
      /* after the tensor lines: indices of inputs */
      for (const char *q = p + 2; *q && *q != '\n';) {
        char *end;
        long long i = strtoll(q, &end, 10);
        if (end == q)
          break;
        if (i >= 0 && (size_t)i < m->num_inputs)
          m->inputs[i].device_in_place = 1;
        q = *end == ',' ? end + 1 : end;
      }
    }
    if ((p[0] == 'w' || p[0] == 'b' || p[0] == 'h' || p[0] == 't' ||
         p[0] == 'd' || p[0] == 'o') &&
        p[1] == '\t') {
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
    t->dtype = dtype_of(f[2], (size_t)(e[2] - f[2]));
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
  const char *split = getenv("KILN_BATCH_SPLIT");
  m->split_env = !split || !*split ? -1 : !strcmp(split, "0") ? 0
                 : !strcmp(split, "1") ? 1 : -1;
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
  free(m->split_dim);
  free(m->split_flops);
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
