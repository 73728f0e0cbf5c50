/*===- cuda_graph.c - a run's kernel launches replayed as CUDA graphs -----===*
 *
 * A transformer's run is tens of kernels, many of them a few microseconds
 * long on the GPU. Launched one by one, each costs the host a driver call
 * of a few microseconds and the GPU a gap before it starts, so short runs
 * (decode steps, small batches) are bound by launching rather than by the
 * kernels. A CUDA graph pays that once: the driver holds the whole sequence
 * and starts it with one call.
 *
 * The generated host code still runs every time (it computes the shapes
 * and workspace addresses the kernels get); its launches are collected
 * here (kiln_gpu_defer) instead of being issued. At the next point where
 * order matters to the host (a copy, a synchronize, a free, the end of the
 * run: kiln_gpu_flush) the collected sequence is compared with the ones
 * this thread issued before, by kernels, block sizes and shared memory:
 * - not seen before: launched directly, and remembered;
 * - seen once: made into a graph (a chain of kernel nodes), instantiated
 *   and launched;
 * - seen with a graph: the nodes whose grid or argument values differ (a
 *   longer KV cache, other workspace blocks) are updated in the
 *   instantiated graph (cuGraphExecKernelNodeSetParams), then it is
 *   launched.
 * Deferring changes no order the host relies on: launches were already
 * asynchronous, and whatever orders host and GPU flushes first. If the
 * driver refuses a graph (creation, instantiation, update), the launches
 * go out directly and graphs stay off for the process; a failing graph
 * launch is the run's error, as a failing kernel launch is.
 * KILN_GPU_GRAPHS=0 turns graphs off, and so does KILN_PROFILE=1 (which
 * times every launch with events).
 *
 *===----------------------------------------------------------------------===*/

#define _GNU_SOURCE
#include "cuda_internal.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct CUgraph_st *CUgraph;
typedef struct CUgraphExec_st *CUgraphExec;
typedef struct CUgraphNode_st *CUgraphNode;

/* CUDA_KERNEL_NODE_PARAMS_v2 (cuda.h, CUDA 12/13). */
typedef struct {
  CUfunction func;
  unsigned grid[3], block[3], smem;
  void **params, **extra;
  void *kern, *ctx;
} node_params;

static struct {
  CUresult (*FuncGetParamInfo)(CUfunction, size_t, size_t *, size_t *);
  CUresult (*GraphCreate)(CUgraph *, unsigned);
  CUresult (*GraphAddKernelNode)(CUgraphNode *, CUgraph, const CUgraphNode *,
                                 size_t, const node_params *);
  CUresult (*GraphInstantiate)(CUgraphExec *, CUgraph, unsigned long long);
  CUresult (*GraphLaunch)(CUgraphExec, CUstream);
  CUresult (*GraphExecKernelNodeSetParams)(CUgraphExec, CUgraphNode,
                                           const node_params *);
  CUresult (*GraphExecDestroy)(CUgraphExec);
  CUresult (*GraphDestroy)(CUgraph);
} g;

static atomic_int graphs_on;
/* Bumped when a module is unloaded: each thread then drops the graphs it
 * made before (they may hold that module's kernels). */
static atomic_uint modules_gone;

void kiln_gpu_graphs_load(void *lib) {
  const char *e = getenv("KILN_GPU_GRAPHS");
  if (e && strcmp(e, "0") == 0)
    return;
#define KILN_GRAPH_SYM(field, name)                                            \
  if (!(*(void **)&g.field = dlsym(lib, name)))                                \
    return;
  KILN_GRAPH_SYM(FuncGetParamInfo, "cuFuncGetParamInfo")
  KILN_GRAPH_SYM(GraphCreate, "cuGraphCreate")
  KILN_GRAPH_SYM(GraphAddKernelNode, "cuGraphAddKernelNode_v2")
  KILN_GRAPH_SYM(GraphInstantiate, "cuGraphInstantiateWithFlags")
  KILN_GRAPH_SYM(GraphLaunch, "cuGraphLaunch")
  KILN_GRAPH_SYM(GraphExecKernelNodeSetParams,
                 "cuGraphExecKernelNodeSetParams_v2")
  KILN_GRAPH_SYM(GraphExecDestroy, "cuGraphExecDestroy")
  KILN_GRAPH_SYM(GraphDestroy, "cuGraphDestroy")
#undef KILN_GRAPH_SYM
  atomic_store(&graphs_on, 1);
}

void kiln_gpu_kernel_params(kiln_gpu_kernel *k) {
  k->nparams = -1;
  k->psize = NULL;
  if (!atomic_load(&graphs_on))
    return;
  /* The driver answers CUDA_ERROR_INVALID_VALUE past the last one. */
  uint16_t sizes[4096];
  size_t n = 0, offset, size;
  for (; n < 4096 && g.FuncGetParamInfo(k->fn, n, &offset, &size) == 0; ++n) {
    if (size == 0 || size > 4096)
      return;
    sizes[n] = (uint16_t)size;
  }
  if (!(k->psize = malloc((n ? n : 1) * sizeof *sizes)))
    return;
  memcpy(k->psize, sizes, n * sizeof *sizes);
  k->nparams = (int)n;
}

void kiln_gpu_kernel_forget(kiln_gpu_kernel *k) {
  free(k->psize);
  k->psize = NULL;
  k->nparams = -1;
  atomic_fetch_add(&modules_gone, 1);
}

/*--- launch sequences ------------------------------------------------------*/

typedef struct {
  kiln_gpu_kernel *k;
  unsigned grid[3], block[3], smem;
  size_t at; /* its argument values start at bytes[at] */
} rec;

typedef struct {
  rec *recs;
  int n, cap;
  unsigned char *bytes;
  size_t len, room;
} seq;

static int seq_add(seq *s, const kiln_gpu_launch *l) {
  const kiln_gpu_kernel *k = l->k;
  size_t need = 0;
  for (int i = 0; i < k->nparams; ++i)
    need += k->psize[i];
  if (s->n == s->cap) {
    int cap = s->cap ? 2 * s->cap : 64;
    rec *grown = realloc(s->recs, (size_t)cap * sizeof *grown);
    if (!grown)
      return 0;
    s->recs = grown;
    s->cap = cap;
  }
  if (s->len + need > s->room) {
    size_t room = s->room ? 2 * s->room : 4096;
    while (room < s->len + need)
      room *= 2;
    unsigned char *grown = realloc(s->bytes, room);
    if (!grown)
      return 0;
    s->bytes = grown;
    s->room = room;
  }
  rec *r = &s->recs[s->n++];
  r->k = l->k;
  memcpy(r->grid, l->grid, sizeof r->grid);
  memcpy(r->block, l->block, sizeof r->block);
  r->smem = l->smem;
  r->at = s->len;
  for (int i = 0; i < k->nparams; ++i) {
    memcpy(s->bytes + s->len, l->params[i], k->psize[i]);
    s->len += k->psize[i];
  }
  return 1;
}

static size_t rec_bytes(const seq *s, int i) {
  return (i + 1 < s->n ? s->recs[i + 1].at : s->len) - s->recs[i].at;
}

/* The same kernels with the same blocks: one graph serves both. */
static int same_kernels(const seq *a, const seq *b) {
  if (a->n != b->n || a->len != b->len)
    return 0;
  for (int i = 0; i < a->n; ++i) {
    const rec *x = &a->recs[i], *y = &b->recs[i];
    if (x->k != y->k || x->smem != y->smem ||
        memcmp(x->block, y->block, sizeof x->block) != 0)
      return 0;
  }
  return 1;
}

static int same_launch(const seq *a, const seq *b, int i) {
  const rec *x = &a->recs[i], *y = &b->recs[i];
  return memcmp(x->grid, y->grid, sizeof x->grid) == 0 &&
         memcmp(a->bytes + x->at, b->bytes + y->at, rec_bytes(a, i)) == 0;
}

/* Pointers to launch i's argument values, as the driver takes them (it
 * copies the values during the call). */
static _Thread_local void **argv_;
static _Thread_local int argv_cap;

static void **args_of(const seq *s, int i) {
  static void *none[1]; /* (a kernel without parameters) */
  const rec *r = &s->recs[i];
  int n = r->k->nparams;
  if (n == 0)
    return none;
  if (n > argv_cap) {
    void **grown = realloc(argv_, (size_t)n * sizeof *grown);
    if (!grown)
      return NULL;
    argv_ = grown;
    argv_cap = n;
  }
  size_t at = r->at;
  for (int j = 0; j < n; ++j) {
    argv_[j] = s->bytes + at;
    at += r->k->psize[j];
  }
  return argv_;
}

static void launch_all(const seq *s, CUstream stream) {
  for (int i = 0; i < s->n; ++i) {
    const rec *r = &s->recs[i];
    kiln_gpu_launch l = {r->k, {0}, {0}, r->smem, stream, args_of(s, i), NULL};
    memcpy(l.grid, r->grid, sizeof l.grid);
    memcpy(l.block, r->block, sizeof l.block);
    if (!l.params) {
      kiln_gpu_check(2 /* CUDA_ERROR_OUT_OF_MEMORY */, "kernel arguments");
      return;
    }
    if (!kiln_gpu_launch_now(&l))
      return;
  }
}

static int node_of(const seq *s, int i, node_params *np) {
  const rec *r = &s->recs[i];
  memset(np, 0, sizeof *np);
  np->func = r->k->fn;
  memcpy(np->grid, r->grid, sizeof np->grid);
  memcpy(np->block, r->block, sizeof np->block);
  np->smem = r->smem;
  np->params = args_of(s, i);
  return np->params != NULL;
}

/*--- this thread's graphs --------------------------------------------------*/

enum { CACHED = 8 };

typedef struct {
  seq s; /* the launches the graph holds now */
  CUgraph graph;
  CUgraphExec exec; /* NULL: seen once, no graph yet */
  CUgraphNode *nodes;
  uint64_t used;
} entry;

static _Thread_local seq pending;
static _Thread_local CUstream pending_stream;
static _Thread_local entry cache[CACHED];
static _Thread_local uint64_t ticks;
static _Thread_local unsigned modules_gone_seen;

static void drop(entry *e) {
  if (e->exec)
    g.GraphExecDestroy(e->exec);
  if (e->graph)
    g.GraphDestroy(e->graph);
  free(e->nodes);
  e->exec = NULL;
  e->graph = NULL;
  e->nodes = NULL;
  e->s.n = 0;
  e->s.len = 0;
  e->used = 0;
}

static void swap(seq *a, seq *b) {
  seq t = *a;
  *a = *b;
  *b = t;
}

static int build(entry *e, const seq *s) {
  CUgraph graph = NULL;
  CUgraphExec exec = NULL;
  CUgraphNode *nodes = malloc((size_t)s->n * sizeof *nodes);
  if (!nodes || g.GraphCreate(&graph, 0) != 0) {
    free(nodes);
    return 0;
  }
  for (int i = 0; i < s->n; ++i) {
    node_params np;
    if (!node_of(s, i, &np) ||
        g.GraphAddKernelNode(&nodes[i], graph, i ? &nodes[i - 1] : NULL,
                             i ? 1 : 0, &np) != 0)
      goto fail;
  }
  if (g.GraphInstantiate(&exec, graph, 0) != 0)
    goto fail;
  e->graph = graph;
  e->exec = exec;
  e->nodes = nodes;
  return 1;
fail:
  g.GraphDestroy(graph);
  free(nodes);
  return 0;
}

static int update(entry *e, const seq *s) {
  for (int i = 0; i < s->n; ++i) {
    node_params np;
    if (same_launch(&e->s, s, i))
      continue;
    if (!node_of(s, i, &np) ||
        g.GraphExecKernelNodeSetParams(e->exec, e->nodes[i], &np) != 0)
      return 0;
  }
  return 1;
}

static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
static _Thread_local int exit_key_set;

/* At thread exit: the thread's graphs and buffers. */
static void thread_gone(void *unused) {
  (void)unused;
  for (int i = 0; i < CACHED; ++i) {
    drop(&cache[i]);
    free(cache[i].s.recs);
    free(cache[i].s.bytes);
    memset(&cache[i].s, 0, sizeof cache[i].s);
  }
  free(pending.recs);
  free(pending.bytes);
  memset(&pending, 0, sizeof pending);
  free(argv_);
  argv_ = NULL;
  argv_cap = 0;
}

static void make_exit_key(void) {
  if (pthread_key_create(&exit_key, thread_gone) != 0)
    atomic_store(&graphs_on, 0);
}

int kiln_gpu_defer(const kiln_gpu_launch *l, size_t nparams) {
  if (!atomic_load(&graphs_on) || l->extra || l->k->nparams < 0 ||
      (size_t)l->k->nparams != nparams)
    return 0;
  if (!exit_key_set) {
    pthread_once(&exit_key_once, make_exit_key);
    if (!atomic_load(&graphs_on))
      return 0;
    pthread_setspecific(exit_key, &exit_key_set);
    exit_key_set = 1;
  }
  if (pending.n && l->stream != pending_stream)
    kiln_gpu_flush();
  pending_stream = l->stream;
  return seq_add(&pending, l);
}

void kiln_gpu_flush(void) {
  seq *p = &pending;
  if (p->n == 0)
    return;
  CUstream stream = pending_stream;
  if (kiln_gpu_run_failed())
    goto done;
  unsigned gone = atomic_load(&modules_gone);
  if (gone != modules_gone_seen) {
    for (int i = 0; i < CACHED; ++i)
      drop(&cache[i]);
    modules_gone_seen = gone;
  }
  if (p->n < 2 || !atomic_load(&graphs_on)) {
    launch_all(p, stream);
    goto done;
  }
  entry *e = NULL, *victim = &cache[0];
  for (int i = 0; i < CACHED; ++i) {
    entry *c = &cache[i];
    if (c->s.n && same_kernels(&c->s, p) && (!e || c->used > e->used))
      e = c;
    if (c->used < victim->used)
      victim = c;
  }
  ++ticks;
  if (!e) {
    /* Not seen before: launched directly, remembered. */
    drop(victim);
    swap(&victim->s, p);
    victim->used = ticks;
    launch_all(&victim->s, stream);
    goto done;
  }
  e->used = ticks;
  if (!(e->exec ? update(e, p) : build(e, p))) {
    /* The driver refused: direct launches from now on. */
    atomic_store(&graphs_on, 0);
    drop(e);
    launch_all(p, stream);
    goto done;
  }
  swap(&e->s, p);
  kiln_gpu_set_last_kernel(e->s.recs[e->s.n - 1].k->name);
  kiln_gpu_check(g.GraphLaunch(e->exec, stream), "cuGraphLaunch");
done:
  p->n = 0;
  p->len = 0;
}
