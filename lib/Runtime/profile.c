/*===- profile.c - per-call-site kernel times (KILN_PROFILE=1) ------------===*
 *
 * With KILN_PROFILE=1 in the environment, every runtime kernel entry the
 * generated code calls is timed and its time added to its call site (the
 * return address: one call site per layer), and each kiln_run is timed as a
 * whole. At exit the table goes to stderr, largest first: time per run,
 * share of the run, calls per run, GFLOP/s, the kernel and its shape. Time
 * not spent in kernels is the generated code's (elementwise ops, pooling,
 * copies). The first run is left out of the table when more followed: it
 * pays the page faults of the weights and scratch buffers (2 of ResNet-18's
 * 24 ms per run over 41 runs). KILN_PROFILE=order keeps the model's call
 * order instead of sorting. Off by default: then each entry costs one
 * load and a branch.
 *
 *===----------------------------------------------------------------------===*/

#define _GNU_SOURCE /* dladdr */

#include "runtime_internal.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int kiln_prof_on;
/* KILN_PROFILE=order: the table in the order the model first calls each
 * site (to line two runs' tables up layer by layer), not largest first. */
static int kiln_prof_in_order;

enum { MAX_SITES = 4096 };

typedef struct {
  void *site;
  const char *kind;
  char label[112];
  double flops;
  uint64_t calls, ns;
  uint64_t first_calls, first_ns; /* the first run's share */
} prof_site;

static prof_site *sites;
static int num_sites;
static uint64_t run_ns, runs, first_run_ns;
/* Runs split into images (kiln-mark-batch-split), the first one's share. */
static uint64_t split_runs, first_split;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

uint64_t kiln_prof_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int by_time(const void *a, const void *b) {
  const prof_site *x = a, *y = b;
  return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : 0;
}

static void report(void) {
  pthread_mutex_lock(&mu);
  if (!runs) {
    pthread_mutex_unlock(&mu);
    return;
  }
  int skipped = runs > 1;
  if (skipped) { /* leave out the cold first run */
    for (int i = 0; i < num_sites; ++i) {
      sites[i].ns -= sites[i].first_ns;
      sites[i].calls -= sites[i].first_calls;
    }
    run_ns -= first_run_ns;
    split_runs -= first_split;
    --runs;
  }
  if (!kiln_prof_in_order)
    qsort(sites, num_sites, sizeof *sites, by_time);
  double per_run = (double)run_ns / runs / 1e6, kernels = 0;
  for (int i = 0; i < num_sites; ++i)
    kernels += (double)sites[i].ns / runs / 1e6;
  /* the library's name: two models in one process (`kiln run --against`)
   * each print their own table */
  Dl_info info;
  const char *lib = dladdr((void *)report, &info) && info.dli_fname
                        ? info.dli_fname
                        : "";
  const char *slash = strrchr(lib, '/');
  lib = slash ? slash + 1 : lib;
  fprintf(stderr,
          "kiln profile: %llu runs%s, %.3f ms per run: "
          "kernels %.3f ms (%.1f%%), generated code %.3f ms [%s]\n",
          (unsigned long long)runs, skipped ? " after the first" : "", per_run, kernels,
          per_run > 0 ? 100 * kernels / per_run : 0, per_run - kernels, lib);
  size_t weight_bytes = 0;
  const char *placement = kiln_weights_placement(&weight_bytes);
  if (placement)
    fprintf(stderr, "kiln profile: weights %.1f MB %s\n",
            (double)weight_bytes / 1e6, placement);
  /* Split runs: kernel times add up over the threads running images. */
  if (split_runs)
    fprintf(stderr,
            "kiln profile: %llu of the runs split into images (a kernel's time "
            "sums over the threads running them)\n",
            (unsigned long long)split_runs);
  fprintf(stderr, "%10s %6s %6s %8s  %-10s %s\n", "ms/run", "%run", "calls",
          "GFLOP/s", "kernel", "shape");
  for (int i = 0; i < num_sites; ++i) {
    const prof_site *s = &sites[i];
    double ms = (double)s->ns / runs / 1e6;
    double gflops = s->ns ? s->flops * s->calls / (double)s->ns : 0;
    fprintf(stderr, "%10.3f %6.1f %6.1f %8.1f  %-10s %s\n", ms,
            per_run > 0 ? 100 * ms / per_run : 0, (double)s->calls / runs,
            gflops, s->kind, s->label);
  }
  pthread_mutex_unlock(&mu);
}

__attribute__((constructor)) static void prof_init(void) {
  const char *e = getenv("KILN_PROFILE");
  if (!e || !*e || !strcmp(e, "0"))
    return;
  sites = calloc(MAX_SITES, sizeof *sites);
  if (!sites)
    return;
  kiln_prof_on = 1;
  kiln_prof_in_order = !strcmp(e, "order");
  atexit(report);
}

void kiln_prof_run(uint64_t t0, int split) {
  uint64_t dt = kiln_prof_now() - t0;
  pthread_mutex_lock(&mu);
  run_ns += dt;
  split_runs += split != 0;
  if (++runs == 1) {
    first_run_ns = run_ns;
    first_split = split_runs;
    for (int i = 0; i < num_sites; ++i) {
      sites[i].first_ns = sites[i].ns;
      sites[i].first_calls = sites[i].calls;
    }
  }
  pthread_mutex_unlock(&mu);
}

void kiln_prof_kernel(void *site, const char *kind, uint64_t t0, double flops,
                      kiln_prof_label_fn label, const void *arg) {
  kiln_prof_add(site, kind, kiln_prof_now() - t0, flops, label, arg);
}

void kiln_prof_add(void *site, const char *kind, uint64_t dt, double flops,
                   kiln_prof_label_fn label, const void *arg) {
  pthread_mutex_lock(&mu);
  prof_site *s = NULL;
  for (int i = 0; i < num_sites; ++i)
    if (sites[i].site == site && sites[i].kind == kind) {
      s = &sites[i];
      break;
    }
  if (!s && num_sites < MAX_SITES) {
    s = &sites[num_sites++];
    s->site = site;
    s->kind = kind;
    s->flops = flops;
    if (label)
      label(s->label, sizeof s->label, arg);
  }
  if (s) {
    s->calls++;
    s->ns += dt;
  }
  pthread_mutex_unlock(&mu);
}
