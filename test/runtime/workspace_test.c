/* The model's workspace is kept across runs: after a first run at a shape,
 * further runs at that shape make no heap allocation in the runtime
 * (kiln_get_memory_stats) and take no page faults run after run (getrusage
 * minor faults over 200 runs), with caller-provided outputs. A larger shape
 * grows the workspace once; going back to the first shape allocates
 * nothing; outputs the runtime allocates are reused after kiln_free. The model (see workspace.test) has intermediates of 256 KiB and
 * more, above glibc's mmap threshold, which a malloc/free arena would map
 * and unmap on every run.
 *
 * usage: workspace_test MODEL.so */

#include "kiln/runtime.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

static kiln_status (*k_open)(const kiln_options *, kiln_model **);
static kiln_status (*k_run)(kiln_model *, const kiln_tensor *, size_t,
                            kiln_tensor *, size_t);
static void (*k_stats)(kiln_memory_stats *);
static const char *(*k_last_error)(void);
static void (*k_free)(void *);

enum { K = 256, N = 512, MAXROWS = 512 };
static float x[MAXROWS * K], y[MAXROWS * K];

static long minor_faults(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

static int run(kiln_model *m, int64_t rows) {
  kiln_tensor in = {KILN_F32, 2, {rows, K}, x, 0};
  kiln_tensor out = {KILN_F32, 2, {0}, y, sizeof y};
  if (k_run(m, &in, 1, &out, 1) != KILN_OK) {
    printf("run failed: %s\n", k_last_error());
    return 0;
  }
  return 1;
}

int main(int argc, char **argv) {
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    printf("dlopen: %s\n", dlerror());
    return 1;
  }
  k_open = (kiln_status(*)(const kiln_options *, kiln_model **))dlsym(h, "kiln_open");
  k_run = (kiln_status(*)(kiln_model *, const kiln_tensor *, size_t,
                          kiln_tensor *, size_t))dlsym(h, "kiln_run");
  k_stats = (void (*)(kiln_memory_stats *))dlsym(h, "kiln_get_memory_stats");
  k_last_error = (const char *(*)(void))dlsym(h, "kiln_last_error");
  k_free = (void (*)(void *))dlsym(h, "kiln_free");
  kiln_options opts = {2};
  kiln_model *m;
  if (k_open(&opts, &m) != KILN_OK)
    return 1;
  for (int i = 0; i < MAXROWS * K; ++i)
    x[i] = (float)(i % 17) * 0.01f;
  /* First runs at 128 rows (the second one lets the pool threads settle). */
  if (!run(m, 128) || !run(m, 128))
    return 1;
  kiln_memory_stats s0, s1, s2, s3;
  k_stats(&s0);
  long f0 = minor_faults();
  for (int i = 0; i < 200; ++i)
    if (!run(m, 128))
      return 1;
  long f1 = minor_faults();
  k_stats(&s1);
  /* A handful of faults happen once (a pool thread's stack or malloc
   * arena reaching a new page); a workspace that were freed and mapped
   * again would fault on every run, 200+ times here. */
  printf("steady state: 200 runs, %llu allocations, %s\n",
         (unsigned long long)(s1.allocations - s0.allocations),
         f1 - f0 < 10 ? "fewer than 10 page faults" : "page faults on every run");
  fprintf(stderr, "page faults in 200 runs: %ld\n", f1 - f0);
  printf("workspace held: %s\n", s1.bytes_held >= 256 * 1024 ? ">= 256 KiB" : "small");
  /* A larger shape grows the workspace; back at 128 rows nothing new. */
  if (!run(m, 512))
    return 1;
  k_stats(&s2);
  printf("larger shape: %s\n", s2.allocations > s1.allocations ? "grew" : "did not grow");
  for (int i = 0; i < 5; ++i)
    if (!run(m, 128))
      return 1;
  k_stats(&s3);
  printf("back to the first shape: %llu allocations\n",
         (unsigned long long)(s3.allocations - s2.allocations));
  /* Outputs the runtime allocates (data == NULL) go back to it through
   * kiln_free and are handed out again: no fresh pages per run. */
  void *first = NULL;
  int same = 1;
  for (int i = 0; i < 50; ++i) {
    kiln_tensor in = {KILN_F32, 2, {512, K}, x, 0};
    kiln_tensor out = {KILN_F32, 0, {0}, NULL, 0};
    if (k_run(m, &in, 1, &out, 1) != KILN_OK || !out.data) {
      printf("run failed: %s\n", k_last_error());
      return 1;
    }
    if (!first)
      first = out.data;
    same &= out.data == first;
    k_free(out.data);
  }
  printf("runtime-allocated outputs: %s\n",
         same ? "reused after kiln_free" : "a new buffer every run");
  return 0;
}
