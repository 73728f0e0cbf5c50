/* Drives the C API of a compiled model (kiln/runtime.h) through dlopen, with
 * no link-time dependency on it. The model (see c_api.test) is
 *
 *   capi (float[N, 4] X, float[N, 4] B, float[4, 3] W)
 *       => (float[N, 3] Y, float[N, 4] S)
 *   S = X + B;  Y = Relu(S @ W)
 *
 * Prints one line per check for FileCheck; exits 1 if a result is wrong. */

#include "kiln/runtime.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
  kiln_status (*open)(const kiln_options *, kiln_model **);
  void (*close)(kiln_model *);
  size_t (*num_inputs)(const kiln_model *);
  size_t (*num_outputs)(const kiln_model *);
  kiln_status (*input_info)(const kiln_model *, size_t, kiln_tensor_info *);
  kiln_status (*output_info)(const kiln_model *, size_t, kiln_tensor_info *);
  kiln_status (*run)(kiln_model *, const kiln_tensor *, size_t, kiln_tensor *,
                     size_t);
  size_t (*dtype_size)(kiln_dtype);
  const char *(*dtype_name)(kiln_dtype);
  void (*free)(void *);
  const char *(*last_error)(void);
  const char *(*signature_text)(void);
} api;

static int failures;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      printf("FAILED: %s:%d: ", __FILE__, __LINE__);                           \
      printf(__VA_ARGS__);                                                     \
      printf("\n");                                                            \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

static void *sym(void *h, const char *name) {
  void *p = dlsym(h, name);
  if (!p) {
    printf("FAILED: no symbol %s\n", name);
    exit(1);
  }
  return p;
}

static void load(const char *path) {
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    printf("FAILED: dlopen: %s\n", dlerror());
    exit(1);
  }
  *(void **)&api.open = sym(h, "kiln_open");
  *(void **)&api.close = sym(h, "kiln_close");
  *(void **)&api.num_inputs = sym(h, "kiln_num_inputs");
  *(void **)&api.num_outputs = sym(h, "kiln_num_outputs");
  *(void **)&api.input_info = sym(h, "kiln_input_info");
  *(void **)&api.output_info = sym(h, "kiln_output_info");
  *(void **)&api.run = sym(h, "kiln_run");
  *(void **)&api.dtype_size = sym(h, "kiln_dtype_size");
  *(void **)&api.dtype_name = sym(h, "kiln_dtype_name");
  *(void **)&api.free = sym(h, "kiln_free");
  *(void **)&api.last_error = sym(h, "kiln_last_error");
  *(void **)&api.signature_text = sym(h, "kiln_signature_text");
}

static void print_info(const char *what, size_t i, const kiln_tensor_info *t) {
  printf("%s %zu: %s %s rank %d dims [", what, i, t->name,
         api.dtype_name(t->dtype), t->rank);
  for (int d = 0; d < t->rank; ++d)
    printf("%s%lld '%s'", d ? ", " : "", (long long)t->dims[d],
           t->dim_names[d]);
  printf("]\n");
}

/* ---- inputs and the reference --------------------------------------- */

enum { MAXN = 8 };

typedef struct {
  int64_t n;
  float x[MAXN * 4], b[MAXN * 4], w[4 * 3];
  float y[MAXN * 3], s[MAXN * 4]; /* reference outputs */
  kiln_tensor in[3];
} problem;

static void make_problem(problem *p, int64_t n, int seed) {
  p->n = n;
  for (int64_t i = 0; i < n * 4; ++i) {
    p->x[i] = (float)((i * 7 + seed) % 11) * 0.25f - 1.0f;
    p->b[i] = (float)((i * 3 + seed) % 5) * 0.5f - 1.0f;
  }
  for (int i = 0; i < 12; ++i)
    p->w[i] = (float)((i * 5 + seed) % 9) * 0.125f - 0.5f;
  for (int64_t r = 0; r < n; ++r) {
    for (int k = 0; k < 4; ++k)
      p->s[r * 4 + k] = p->x[r * 4 + k] + p->b[r * 4 + k];
    for (int c = 0; c < 3; ++c) {
      float acc = 0;
      for (int k = 0; k < 4; ++k)
        acc += p->s[r * 4 + k] * p->w[k * 3 + c];
      p->y[r * 3 + c] = acc > 0 ? acc : 0;
    }
  }
  kiln_tensor x = {KILN_F32, 2, {n, 4}, p->x, sizeof p->x};
  kiln_tensor b = {KILN_F32, 2, {n, 4}, p->b, sizeof p->b};
  kiln_tensor w = {KILN_F32, 2, {4, 3}, p->w, sizeof p->w};
  p->in[0] = x;
  p->in[1] = b;
  p->in[2] = w;
}

static int close_to(const float *got, const float *want, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    if (fabsf(got[i] - want[i]) > 1e-5f * (1 + fabsf(want[i])))
      return 0;
  return 1;
}

static void check_outputs(const problem *p, const kiln_tensor *out,
                          const char *what) {
  int ok = out[0].dtype == KILN_F32 && out[0].rank == 2 &&
           out[0].dims[0] == p->n && out[0].dims[1] == 3 &&
           out[1].dtype == KILN_F32 && out[1].rank == 2 &&
           out[1].dims[0] == p->n && out[1].dims[1] == 4;
  CHECK(ok, "%s: output dtypes/shapes", what);
  ok = ok && close_to(out[0].data, p->y, p->n * 3) &&
       close_to(out[1].data, p->s, p->n * 4);
  CHECK(ok, "%s: output values", what);
  printf("%s: Y [%lld, %lld] S [%lld, %lld] %s\n", what,
         (long long)out[0].dims[0], (long long)out[0].dims[1],
         (long long)out[1].dims[0], (long long)out[1].dims[1],
         ok ? "ok" : "WRONG");
}

/* Runs with `in` (expecting a failure) and prints the status and message. */
static void expect_error(kiln_model *m, const char *what, const kiln_tensor *in,
                         size_t nin, size_t nout) {
  kiln_tensor out[2];
  memset(out, 0, sizeof out);
  kiln_status s = api.run(m, in, nin, out, nout);
  CHECK(s != KILN_OK, "%s: expected an error", what);
  CHECK(out[0].data == NULL && out[1].data == NULL,
        "%s: outputs allocated on a validation error", what);
  printf("%s: status %d: %s\n", what, (int)s, api.last_error());
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: c_api_test MODEL.so\n");
    return 2;
  }
  load(argv[1]);

  /* ---- dtype helpers ---- */
  printf("dtype: %s %zu, %s %zu, %s %zu\n", api.dtype_name(KILN_F32),
         api.dtype_size(KILN_F32), api.dtype_name(KILN_I64),
         api.dtype_size(KILN_I64), api.dtype_name(KILN_BOOL),
         api.dtype_size(KILN_BOOL));

  /* ---- open and metadata ---- */
  kiln_status s = api.open(NULL, NULL);
  printf("open(NULL model ptr): status %d: %s\n", (int)s, api.last_error());

  kiln_options opts = {2};
  kiln_model *m = NULL;
  s = api.open(&opts, &m);
  CHECK(s == KILN_OK && m, "kiln_open: %s", api.last_error());
  if (!m)
    return 1;
  printf("inputs: %zu outputs: %zu\n", api.num_inputs(m), api.num_outputs(m));
  for (size_t i = 0; i < api.num_inputs(m); ++i) {
    kiln_tensor_info info;
    CHECK(api.input_info(m, i, &info) == KILN_OK, "input_info %zu", i);
    print_info("input", i, &info);
  }
  for (size_t i = 0; i < api.num_outputs(m); ++i) {
    kiln_tensor_info info;
    CHECK(api.output_info(m, i, &info) == KILN_OK, "output_info %zu", i);
    print_info("output", i, &info);
  }
  kiln_tensor_info info;
  s = api.input_info(m, 3, &info);
  printf("input_info(3): status %d: %s\n", (int)s, api.last_error());
  s = api.output_info(m, 2, &info);
  printf("output_info(2): status %d: %s\n", (int)s, api.last_error());
  printf("signature:\n%s", api.signature_text());

  /* ---- runs at two dynamic sizes, runtime-allocated outputs ---- */
  static problem p1, p5;
  make_problem(&p1, 1, 1);
  make_problem(&p5, 5, 2);
  for (int k = 0; k < 2; ++k) {
    problem *p = k ? &p5 : &p1;
    kiln_tensor out[2];
    memset(out, 0, sizeof out);
    s = api.run(m, p->in, 3, out, 2);
    CHECK(s == KILN_OK, "run: %s", api.last_error());
    char what[64];
    snprintf(what, sizeof what, "alloc N=%lld", (long long)p->n);
    check_outputs(p, out, what);
    CHECK(out[0].capacity >= (size_t)p->n * 3 * 4, "capacity of Y");
    api.free(out[0].data);
    api.free(out[1].data);
  }

  /* An empty batch (N=0, data still non-NULL) runs and gives empty outputs. */
  {
    static problem p0;
    make_problem(&p0, 0, 3);
    kiln_tensor out[2];
    memset(out, 0, sizeof out);
    s = api.run(m, p0.in, 3, out, 2);
    CHECK(s == KILN_OK, "run: %s", api.last_error());
    check_outputs(&p0, out, "alloc N=0");
    api.free(out[0].data);
    api.free(out[1].data);
  }

  /* ---- caller-provided outputs ---- */
  {
    float ybuf[MAXN * 3], sbuf[MAXN * 4];
    kiln_tensor out[2];
    memset(out, 0, sizeof out);
    out[0].data = ybuf;
    out[0].capacity = 5 * 3 * sizeof(float); /* exactly enough */
    out[1].data = sbuf;
    out[1].capacity = sizeof sbuf; /* more than enough */
    s = api.run(m, p5.in, 3, out, 2);
    CHECK(s == KILN_OK, "run: %s", api.last_error());
    CHECK(out[0].data == ybuf && out[1].data == sbuf,
          "caller buffers replaced");
    check_outputs(&p5, out, "caller N=5");
  }

  /* A caller buffer one element short: Y needs 5*3*4 = 60 bytes. */
  {
    float ybuf[MAXN * 3];
    kiln_tensor out[2];
    memset(out, 0, sizeof out);
    out[0].data = ybuf;
    out[0].capacity = 56;
    s = api.run(m, p5.in, 3, out, 2);
    printf("small buffer: status %d: %s\n", (int)s, api.last_error());
    CHECK(out[0].data == ybuf, "caller buffer replaced");
    /* A failed run hands back no buffer it allocated (S, had the runtime
     * produced it before Y). */
    CHECK(out[1].data == NULL && out[1].capacity == 0,
          "a failed run left a runtime-allocated output");
  }

  /* A runtime-allocated buffer can be passed back in with its capacity. */
  {
    kiln_tensor out[2];
    memset(out, 0, sizeof out);
    s = api.run(m, p5.in, 3, out, 2);
    CHECK(s == KILN_OK, "run: %s", api.last_error());
    void *y = out[0].data, *sd = out[1].data;
    s = api.run(m, p1.in, 3, out, 2);
    CHECK(s == KILN_OK, "run: %s", api.last_error());
    CHECK(out[0].data == y && out[1].data == sd, "reused buffers replaced");
    check_outputs(&p1, out, "reuse N=1");
    api.free(y);
    api.free(sd);
  }

  /* ---- input validation ---- */
  kiln_tensor in[3];

  memcpy(in, p5.in, sizeof in);
  in[0].dtype = KILN_F64;
  expect_error(m, "wrong dtype", in, 3, 2);

  memcpy(in, p5.in, sizeof in);
  in[1].dtype = KILN_I32;
  expect_error(m, "wrong dtype B", in, 3, 2);

  memcpy(in, p5.in, sizeof in);
  in[0].rank = 3;
  in[0].dims[2] = 1;
  expect_error(m, "wrong rank", in, 3, 2);

  memcpy(in, p5.in, sizeof in);
  in[2].rank = 1;
  expect_error(m, "wrong rank W", in, 3, 2);

  memcpy(in, p5.in, sizeof in);
  in[2].dims[1] = 2;
  expect_error(m, "wrong static dim", in, 3, 2);

  memcpy(in, p5.in, sizeof in);
  in[0].dims[1] = 3;
  expect_error(m, "wrong static dim X", in, 3, 2);

  memcpy(in, p5.in, sizeof in);
  in[1].dims[0] = 3;
  expect_error(m, "inconsistent N", in, 3, 2);

  memcpy(in, p5.in, sizeof in);
  in[0].dims[0] = -2;
  expect_error(m, "negative dim", in, 3, 2);

  memcpy(in, p5.in, sizeof in);
  expect_error(m, "two inputs", in, 2, 2);
  expect_error(m, "four inputs", in, 4, 2);
  expect_error(m, "one output", in, 3, 1);

  memcpy(in, p5.in, sizeof in);
  in[1].data = NULL;
  expect_error(m, "null data", in, 3, 2);

  /* An input's optional capacity must cover its dims (here one element
   * short); capacity 0 means not given. */
  memcpy(in, p5.in, sizeof in);
  in[0].capacity = 5 * 4 * sizeof(float) - sizeof(float);
  expect_error(m, "short input buffer", in, 3, 2);

  /* Dims whose byte count overflows are refused before anything runs. */
  memcpy(in, p5.in, sizeof in);
  in[0].dims[0] = in[1].dims[0] = (int64_t)1 << 62;
  expect_error(m, "overflowing dims", in, 3, 2);

  {
    kiln_tensor out[2];
    memset(out, 0, sizeof out);
    s = api.run(NULL, p5.in, 3, out, 2);
    printf("null model: status %d: %s\n", (int)s, api.last_error());
  }

  /* The model still works after all those errors. */
  {
    kiln_tensor out[2];
    memset(out, 0, sizeof out);
    s = api.run(m, p5.in, 3, out, 2);
    CHECK(s == KILN_OK, "run: %s", api.last_error());
    check_outputs(&p5, out, "after errors N=5");
    api.free(out[0].data);
    api.free(out[1].data);
  }

  api.close(m);
  api.close(NULL);
  printf("failures: %d\n", failures);
  return failures ? 1 : 0;
}
