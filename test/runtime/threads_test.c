/* Runs one loaded model from 8 threads at once: 50 runs per thread, each
 * with its own inputs and dynamic size N, every result checked against a
 * reference computed here. The model (see threads.test) is
 *
 *   threads (float[N, K] X, float[K, C] W, float[C] Bias)
 *       => (float[N, C] Y, float[N, C] P)
 *   U = X @ W + Bias;  Y = Relu(U);  P = Softmax(U, axis=-1)
 *
 * with K and C read from the model's signature (at most 512 each).
 * `threads_test MODEL.so [POOL]` opens the model with POOL pool threads
 * (default: the machine's cores), so a model big enough to split its
 * kernels runs concurrent runs on one shared pool.
 *
 * Runs alternate between runtime-allocated and caller-provided outputs, and
 * every 10th run passes a bad W whose error message names the thread's own
 * value, checking that kiln_last_error is per thread. Prints `threads: ok`
 * when everything matched. */

#include "kiln/runtime.h"

#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { THREADS = 8, RUNS = 50, MAXN = 48, MAXKC = 512 };
static int K, C;

static kiln_status (*k_open)(const kiln_options *, kiln_model **);
static void (*k_close)(kiln_model *);
static kiln_status (*k_run)(kiln_model *, const kiln_tensor *, size_t,
                            kiln_tensor *, size_t);
static void (*k_free)(void *);
static const char *(*k_last_error)(void);

static kiln_model *model;
static pthread_barrier_t start;

typedef struct {
  int id;
  int errors; /* mismatches found */
  int runs;   /* successful, verified runs */
  char message[256];
} thread_result;

static uint32_t next(uint32_t *state) {
  *state = *state * 1664525u + 1013904223u;
  return *state >> 8;
}

static float uniform(uint32_t *state) {
  return (float)(next(state) % 2001) / 1000.0f - 1.0f;
}

static void *work(void *arg) {
  thread_result *r = arg;
  float *x = malloc(sizeof(float) * MAXN * K), *w = malloc(sizeof(float) * K * C),
        *bias = malloc(sizeof(float) * C), *y = malloc(sizeof(float) * MAXN * C),
        *p = malloc(sizeof(float) * MAXN * C),
        *ybuf = malloc(sizeof(float) * MAXN * C),
        *pbuf = malloc(sizeof(float) * MAXN * C);
  if (!x || !w || !bias || !y || !p || !ybuf || !pbuf) {
    snprintf(r->message, sizeof r->message, "out of memory");
    ++r->errors;
    return NULL;
  }
  pthread_barrier_wait(&start);
  for (int it = 0; it < RUNS; ++it) {
    uint32_t seed = (uint32_t)(r->id * 1000 + it + 1);
    int64_t n = 1 + (r->id * 13 + it * 7) % MAXN;
    for (int64_t i = 0; i < n * K; ++i)
      x[i] = uniform(&seed);
    for (int i = 0; i < K * C; ++i)
      w[i] = uniform(&seed);
    for (int i = 0; i < C; ++i)
      bias[i] = uniform(&seed);
    kiln_tensor in[3] = {
        {KILN_F32, 2, {n, K}, x, sizeof(float) * n * K},
        {KILN_F32, 2, {K, C}, w, sizeof(float) * K * C},
        {KILN_F32, 1, {C}, bias, sizeof(float) * C},
    };
    kiln_tensor out[2];
    memset(out, 0, sizeof out);

    if (it % 10 == 9) {
      /* A bad W: its second dim is the thread's id + 1, never C. */
      in[1].dims[1] = r->id + 1;
      char want[256];
      snprintf(want, sizeof want, "input 'W' dim 1 must be %d, got %d", C,
               r->id + 1);
      kiln_status s = k_run(model, in, 3, out, 2);
      if (s != KILN_INVALID_ARGUMENT || strcmp(k_last_error(), want) != 0) {
        printf("thread %d run %d: expected '%s', got status %d '%s'\n",
               r->id, it, want, (int)s, k_last_error());
        ++r->errors;
      }
      snprintf(r->message, sizeof r->message, "%s", want);
      continue;
    }

    /* The reference. */
    for (int64_t i = 0; i < n; ++i) {
      float u[MAXKC], mx = -INFINITY, sum = 0;
      for (int c = 0; c < C; ++c) {
        float acc = bias[c];
        for (int k = 0; k < K; ++k)
          acc += x[i * K + k] * w[k * C + c];
        u[c] = acc;
        y[i * C + c] = acc > 0 ? acc : 0;
        if (acc > mx)
          mx = acc;
      }
      for (int c = 0; c < C; ++c)
        sum += (p[i * C + c] = expf(u[c] - mx));
      for (int c = 0; c < C; ++c)
        p[i * C + c] /= sum;
    }

    int caller = it % 2;
    if (caller) {
      out[0].data = ybuf;
      out[0].capacity = (size_t)n * C * sizeof(float);
      out[1].data = pbuf;
      out[1].capacity = (size_t)n * C * sizeof(float);
    }
    kiln_status s = k_run(model, in, 3, out, 2);
    int ok = s == KILN_OK;
    if (!ok)
      printf("thread %d run %d: status %d: %s\n", r->id, it, (int)s,
             k_last_error());
    for (int o = 0; ok && o < 2; ++o)
      ok = out[o].dtype == KILN_F32 && out[o].rank == 2 &&
           out[o].dims[0] == n && out[o].dims[1] == C &&
           (!caller || out[o].data == (o ? (void *)pbuf : (void *)ybuf));
    for (int64_t i = 0; ok && i < n * C; ++i) {
      float gy = ((float *)out[0].data)[i], gp = ((float *)out[1].data)[i];
      if (fabsf(gy - y[i]) > 1e-4f * (1 + fabsf(y[i])) ||
          fabsf(gp - p[i]) > 1e-4f * (1 + fabsf(p[i]))) {
        printf("thread %d run %d (N=%lld): element %lld: Y %g vs %g, P %g vs "
               "%g\n",
               r->id, it, (long long)n, (long long)i, gy, y[i], gp, p[i]);
        ok = 0;
      }
    }
    if (ok)
      ++r->runs;
    else
      ++r->errors;
    if (!caller) {
      k_free(out[0].data);
      k_free(out[1].data);
    }
  }
  /* Successful runs since leave the thread's own last error in place. */
  if (strcmp(k_last_error(), r->message) != 0) {
    printf("thread %d: last error is '%s', expected '%s'\n", r->id,
           k_last_error(), r->message);
    ++r->errors;
  }
  free(x);
  free(w);
  free(bias);
  free(y);
  free(p);
  free(ybuf);
  free(pbuf);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 2 && argc != 3) {
    fprintf(stderr, "usage: threads_test MODEL.so [POOL_THREADS]\n");
    return 2;
  }
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    printf("dlopen: %s\n", dlerror());
    return 1;
  }
  *(void **)&k_open = dlsym(h, "kiln_open");
  *(void **)&k_close = dlsym(h, "kiln_close");
  *(void **)&k_run = dlsym(h, "kiln_run");
  *(void **)&k_free = dlsym(h, "kiln_free");
  *(void **)&k_last_error = dlsym(h, "kiln_last_error");
  kiln_status (*k_input_info)(const kiln_model *, size_t, kiln_tensor_info *);
  *(void **)&k_input_info = dlsym(h, "kiln_input_info");
  if (!k_open || !k_close || !k_run || !k_free || !k_last_error ||
      !k_input_info) {
    printf("missing kiln_* symbols\n");
    return 1;
  }
  kiln_options options = {argc == 3 ? atoi(argv[2]) : 0};
  if (k_open(&options, &model) != KILN_OK) {
    printf("kiln_open: %s\n", k_last_error());
    return 1;
  }
  kiln_tensor_info w_info;
  if (k_input_info(model, 1, &w_info) != KILN_OK || w_info.rank != 2 ||
      w_info.dims[0] < 1 || w_info.dims[0] > MAXKC || w_info.dims[1] < 1 ||
      w_info.dims[1] > MAXKC) {
    printf("input 1 must be a static [K, C] matrix, K and C at most %d\n",
           MAXKC);
    return 1;
  }
  K = (int)w_info.dims[0];
  C = (int)w_info.dims[1];
  pthread_t tids[THREADS];
  thread_result results[THREADS];
  pthread_barrier_init(&start, NULL, THREADS);
  for (int t = 0; t < THREADS; ++t) {
    memset(&results[t], 0, sizeof results[t]);
    results[t].id = t;
    if (pthread_create(&tids[t], NULL, work, &results[t]) != 0) {
      printf("pthread_create failed\n");
      return 1;
    }
  }
  int errors = 0, runs = 0;
  for (int t = 0; t < THREADS; ++t) {
    pthread_join(tids[t], NULL);
    errors += results[t].errors;
    runs += results[t].runs;
  }
  pthread_barrier_destroy(&start);
  k_close(model);
  printf("threads: %d threads, K=%d C=%d, %d verified runs, %d errors\n",
         THREADS, K, C, runs, errors);
  if (errors || runs != THREADS * (RUNS - RUNS / 10))
    return 1;
  printf("threads: ok\n");
  return 0;
}
