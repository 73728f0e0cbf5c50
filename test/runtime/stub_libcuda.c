/* A stand-in libcuda.so.1 for testing the runtime's CUDA shim
 * (lib/Runtime/cuda.c) on machines without a GPU. It implements the driver
 * entry points the shim loads, checks how they are called (context current
 * on the calling thread, a cubin that is a CUDA ELF, launches on a stream it
 * created, with a parameter array), runs no kernel, and appends one line per
 * call to $KILN_STUB_CUDA_LOG. $KILN_STUB_CUDA_DEVICES sets the device count
 * (default 1); $KILN_STUB_CUDA_FAIL names one entry point that then fails
 * with CUDA_ERROR_LAUNCH_FAILED. Memory is zeroed host memory; the stub
 * remembers which blocks are "device" memory (cuMemAlloc) and "managed"
 * memory (cuMemAllocManaged), answers cuPointerGetAttribute's memory type
 * from that, and logs each copy's direction. Kernel parameters' sizes come
 * from the cubin (cuFuncGetParamInfo), so each launch, graph node and node
 * update logs a hash of its argument values. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
enum {
  OK = 0, INVALID_VALUE = 1, NO_DEVICE = 100, INVALID_IMAGE = 200,
  INVALID_CONTEXT = 201, INVALID_HANDLE = 400, LAUNCH_FAILED = 719
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int initialized;
static int context_token; /* the one context's address is the handle */
static _Thread_local void *current_ctx;
static int streams_made;

typedef struct { int sm; const unsigned char *image; } stub_module;
/* A kernel: its name and its parameters' sizes, read from the cubin. */
typedef struct {
  char name[128];
  int nparams;
  unsigned psize[512];
} stub_fn;

static void logf_(const char *fmt, ...) {
  const char *path = getenv("KILN_STUB_CUDA_LOG");
  if (!path)
    return;
  pthread_mutex_lock(&mu);
  FILE *f = fopen(path, "a");
  if (f) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fclose(f);
  }
  pthread_mutex_unlock(&mu);
}

static int fails(const char *name) {
  const char *f = getenv("KILN_STUB_CUDA_FAIL");
  return f && strcmp(f, name) == 0;
}

/* Blocks handed out by cuMemAlloc (kind 'd'), cuMemAllocManaged ('m') and
 * cuMemHostAlloc ('p', pinned host memory). */
typedef struct {
  uintptr_t base;
  size_t bytes;
  char kind;
  long serial; /* the how-many-th block: the same in every run of a test */
} stub_block;
static stub_block blocks[4096];
static int nblocks;
static long serials;

static void remember(void *p, size_t bytes, char kind) {
  pthread_mutex_lock(&mu);
  if (nblocks < (int)(sizeof blocks / sizeof blocks[0]))
    blocks[nblocks++] = (stub_block){(uintptr_t)p, bytes, kind, ++serials};
  pthread_mutex_unlock(&mu);
}

/* 'd', 'm', 'p', or 'h' (any other memory: pageable host memory). */
static char kind_of(uintptr_t p) {
  char k = 'h';
  pthread_mutex_lock(&mu);
  for (int i = 0; i < nblocks; ++i)
    if (p >= blocks[i].base && p < blocks[i].base + blocks[i].bytes)
      k = blocks[i].kind;
  pthread_mutex_unlock(&mu);
  return k;
}

CUresult cuGetErrorName(CUresult r, const char **s) {
  switch (r) {
  case NO_DEVICE: *s = "CUDA_ERROR_NO_DEVICE"; return OK;
  case INVALID_IMAGE: *s = "CUDA_ERROR_INVALID_IMAGE"; return OK;
  case INVALID_CONTEXT: *s = "CUDA_ERROR_INVALID_CONTEXT"; return OK;
  case LAUNCH_FAILED: *s = "CUDA_ERROR_LAUNCH_FAILED"; return OK;
  case INVALID_VALUE: *s = "CUDA_ERROR_INVALID_VALUE"; return OK;
  case INVALID_HANDLE: *s = "CUDA_ERROR_INVALID_HANDLE"; return OK;
  default: return INVALID_VALUE;
  }
}

CUresult cuInit(unsigned flags) {
  logf_("cuInit %u", flags);
  initialized = 1;
  return fails("cuInit") ? NO_DEVICE : OK;
}

CUresult cuDeviceGetCount(int *n) {
  const char *e = getenv("KILN_STUB_CUDA_DEVICES");
  *n = e ? atoi(e) : 1;
  logf_("cuDeviceGetCount %d", *n);
  return initialized ? OK : INVALID_CONTEXT;
}

CUresult cuDeviceGet(int *dev, int ordinal) {
  logf_("cuDeviceGet %d", ordinal);
  *dev = ordinal;
  return OK;
}

CUresult cuDevicePrimaryCtxRetain(void **ctx, int dev) {
  logf_("cuDevicePrimaryCtxRetain %d", dev);
  *ctx = &context_token;
  return OK;
}

CUresult cuCtxSynchronize(void) {
  if (current_ctx != &context_token)
    return INVALID_CONTEXT;
  logf_("cuCtxSynchronize");
  return OK;
}

CUresult cuCtxSetCurrent(void *ctx) {
  logf_("cuCtxSetCurrent %s", ctx == &context_token ? "primary" : "other");
  current_ctx = ctx;
  return OK;
}

/* A cubin is an ELF64 file for machine EM_CUDA (190); CUDA 12/13 cubins
 * (ELF ABI version 8) keep the SM version in bits 8-15 of e_flags. */
CUresult cuModuleLoadData(void **module, const void *image) {
  const unsigned char *p = image;
  if (current_ctx != &context_token)
    return INVALID_CONTEXT;
  if (!p || memcmp(p, "\177ELF", 4) != 0 || p[4] != 2) {
    logf_("cuModuleLoadData not-a-cubin");
    return INVALID_IMAGE;
  }
  uint16_t machine;
  uint32_t flags;
  memcpy(&machine, p + 18, 2);
  memcpy(&flags, p + 48, 4);
  stub_module *m = calloc(1, sizeof *m);
  m->sm = (int)((flags >> 8) & 0xff);
  m->image = p;
  logf_("cuModuleLoadData ELF machine=%u sm_%d", machine, m->sm);
  *module = m;
  return machine == 190 ? OK : INVALID_IMAGE;
}

CUresult cuModuleUnload(void *module) {
  free(module);
  return OK;
}

/* A kernel's parameters, as ptxas describes them in the cubin's section
 * ".nv.info.<kernel>": records of {format, attribute, 16-bit size} and a
 * payload; EIATTR_KPARAM_INFO (0x17) has {index 32, ordinal 16, offset 16,
 * flags 32 (the size in bytes in bits 18 and up)}. */
static void read_params(stub_fn *f, const unsigned char *elf) {
  uint64_t shoff;
  uint16_t shentsize, shnum, shstrndx;
  memcpy(&shoff, elf + 0x28, 8);
  memcpy(&shentsize, elf + 0x3a, 2);
  memcpy(&shnum, elf + 0x3c, 2);
  memcpy(&shstrndx, elf + 0x3e, 2);
  uint64_t stroff;
  memcpy(&stroff, elf + shoff + (uint64_t)shstrndx * shentsize + 24, 8);
  char want[160];
  snprintf(want, sizeof want, ".nv.info.%s", f->name);
  for (unsigned i = 0; i < shnum; ++i) {
    const unsigned char *sh = elf + shoff + (uint64_t)i * shentsize;
    uint32_t name;
    uint64_t off, size;
    memcpy(&name, sh, 4);
    memcpy(&off, sh + 24, 8);
    memcpy(&size, sh + 32, 8);
    if (strcmp((const char *)elf + stroff + name, want) != 0)
      continue;
    for (uint64_t at = 0; at + 4 <= size;) {
      const unsigned char *r = elf + off + at;
      uint16_t len;
      memcpy(&len, r + 2, 2);
      if (r[0] == 0x04 && r[1] == 0x17 && len >= 12) {
        uint16_t ordinal;
        uint32_t flags;
        memcpy(&ordinal, r + 8, 2);
        memcpy(&flags, r + 12, 4);
        if (ordinal < 512) {
          f->psize[ordinal] = flags >> 18;
          if (ordinal + 1 > f->nparams)
            f->nparams = ordinal + 1;
        }
      }
      at += r[0] == 0x04 ? 4u + len : 4u; /* EIFMT_SVAL has a payload */
    }
  }
}

/* FNV-1a over a launch's argument values, so the log shows that a graph's
 * nodes get the arguments the same launches got directly. A pointer into a
 * block the stub handed out counts as (the block's serial, the offset):
 * the hashes do not depend on where malloc put the blocks, and a process
 * running with graphs can be compared with one running without. */
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  for (size_t b = 0; b < n; ++b)
    h = (h ^ ((const unsigned char *)p)[b]) * 1099511628211ull;
  return h;
}

static uint64_t args_hash(const stub_fn *f, void **params) {
  uint64_t h = 1469598103934665603ull;
  for (int i = 0; i < f->nparams; ++i) {
    uint64_t v;
    long where[2] = {0, 0};
    if (f->psize[i] == 8) {
      memcpy(&v, params[i], 8);
      pthread_mutex_lock(&mu);
      for (int j = 0; j < nblocks; ++j)
        if (v >= blocks[j].base && v < blocks[j].base + blocks[j].bytes) {
          where[0] = blocks[j].serial;
          where[1] = (long)(v - blocks[j].base);
        }
      pthread_mutex_unlock(&mu);
    }
    h = where[0] ? fnv(h, where, sizeof where) : fnv(h, params[i], f->psize[i]);
  }
  return h;
}

CUresult cuFuncGetParamInfo(void *fn, size_t index, size_t *offset,
                            size_t *size) {
  stub_fn *f = fn;
  if (!f || index >= (size_t)f->nparams)
    return INVALID_VALUE;
  size_t at = 0;
  for (size_t i = 0; i < index; ++i)
    at += f->psize[i]; /* (the real offsets are aligned; unused here) */
  *offset = at;
  *size = f->psize[index];
  return OK;
}

CUresult cuModuleGetFunction(void **fn, void *module, const char *name) {
  if (current_ctx != &context_token)
    return INVALID_CONTEXT;
  if (!module)
    return INVALID_HANDLE;
  stub_fn *f = calloc(1, sizeof *f);
  snprintf(f->name, sizeof f->name, "%s", name);
  read_params(f, ((stub_module *)module)->image);
  logf_("cuModuleGetFunction %s", name);
  *fn = f;
  return OK;
}

CUresult cuStreamCreate(void **stream, unsigned flags) {
  if (current_ctx != &context_token)
    return INVALID_CONTEXT;
  pthread_mutex_lock(&mu);
  int id = ++streams_made;
  pthread_mutex_unlock(&mu);
  logf_("cuStreamCreate flags=%u", flags);
  *stream = (void *)(intptr_t)(0x1000 + id);
  return OK;
}

CUresult cuStreamSynchronize(void *stream) {
  logf_("cuStreamSynchronize");
  return stream ? OK : INVALID_HANDLE;
}

CUresult cuLaunchKernel(void *fn, unsigned gx, unsigned gy, unsigned gz,
                        unsigned bx, unsigned by, unsigned bz, unsigned smem,
                        void *stream, void **params, void **extra) {
  stub_fn *f = fn;
  if (current_ctx != &context_token)
    return INVALID_CONTEXT;
  if (!f || !stream || !params || extra || gx == 0 || gy == 0 || gz == 0 ||
      bx * by * bz == 0 || bx * by * bz > 1024)
    return INVALID_VALUE;
  logf_("cuLaunchKernel %s grid %ux%ux%u block %ux%ux%u smem %u args %016llx",
        f->name, gx, gy, gz, bx, by, bz, smem,
        (unsigned long long)args_hash(f, params));
  return fails("cuLaunchKernel") ? LAUNCH_FAILED : OK;
}

CUresult cuMemAllocManaged(unsigned long long *p, size_t bytes, unsigned flags) {
  if (current_ctx != &context_token)
    return INVALID_CONTEXT;
  void *m = NULL;
  if (posix_memalign(&m, 256, bytes) != 0)
    return INVALID_VALUE;
  memset(m, 0, bytes);
  remember(m, bytes, 'm');
  *p = (unsigned long long)(uintptr_t)m;
  (void)flags;
  return OK;
}

static const char *kind_name(char k) {
  return k == 'd' ? "device" : k == 'm' ? "managed" : k == 'p' ? "pinned" : "host";
}

CUresult cuMemAlloc_v2(unsigned long long *p, size_t bytes) {
  if (current_ctx != &context_token)
    return INVALID_CONTEXT;
  void *m = NULL;
  if (posix_memalign(&m, 256, bytes ? bytes : 1) != 0)
    return INVALID_VALUE;
  memset(m, 0, bytes);
  remember(m, bytes ? bytes : 1, 'd');
  *p = (unsigned long long)(uintptr_t)m;
  return OK;
}

/* CU_POINTER_ATTRIBUTE_MEMORY_TYPE (2): CU_MEMORYTYPE_DEVICE (2) for device
 * and managed memory (for managed memory the driver may say device or
 * host); other memory is not the driver's (CUDA_ERROR_INVALID_VALUE). */
CUresult cuPointerGetAttribute(void *data, int attribute,
                               unsigned long long p) {
  if (attribute != 2)
    return INVALID_VALUE;
  char k = kind_of((uintptr_t)p);
  if (k == 'h')
    return INVALID_VALUE;
  *(unsigned *)data = k == 'p' ? 1 : 2; /* CU_MEMORYTYPE_HOST / _DEVICE */
  return OK;
}

CUresult cuMemFree_v2(unsigned long long p) {
  pthread_mutex_lock(&mu);
  for (int i = 0; i < nblocks; ++i)
    if (blocks[i].base == (uintptr_t)p) {
      blocks[i] = blocks[--nblocks];
      break;
    }
  pthread_mutex_unlock(&mu);
  free((void *)(uintptr_t)p);
  return OK;
}

/* Events (KILN_PROFILE=1): each is a counter; an event recorded after
 * another is 0.25 ms later. */
typedef struct {
  int recorded;
  long stamp;
} stub_event;
static long clock_ticks;

CUresult cuEventCreate(void **event, unsigned flags) {
  stub_event *e = calloc(1, sizeof *e);
  if (!e || flags)
    return INVALID_VALUE;
  *event = e;
  return OK;
}

CUresult cuEventRecord(void *event, void *stream) {
  stub_event *e = event;
  if (!e || !stream)
    return INVALID_HANDLE;
  pthread_mutex_lock(&mu);
  e->stamp = ++clock_ticks;
  pthread_mutex_unlock(&mu);
  e->recorded = 1;
  return OK;
}

CUresult cuEventElapsedTime_v2(float *ms, void *start, void *end) {
  stub_event *s = start, *e = end;
  if (!s || !e || !s->recorded || !e->recorded)
    return INVALID_HANDLE;
  logf_("cuEventElapsedTime");
  *ms = 0.25f * (float)(e->stamp - s->stamp);
  return OK;
}

/* Copies between host and managed memory (both plain memory here). */
CUresult cuMemcpyAsync(unsigned long long dst, unsigned long long src,
                       size_t bytes, void *stream) {
  if (current_ctx != &context_token)
    return INVALID_CONTEXT;
  if (!stream || !dst || !src)
    return INVALID_VALUE;
  logf_("cuMemcpyAsync %zu bytes %s <- %s", bytes,
        kind_name(kind_of((uintptr_t)dst)), kind_name(kind_of((uintptr_t)src)));
  memcpy((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, bytes);
  return fails("cuMemcpyAsync") ? INVALID_VALUE : OK;
}

/* Pinned host memory (the workspace's small blocks). */
CUresult cuMemHostAlloc(void **p, size_t bytes, unsigned flags) {
  if (current_ctx != &context_token)
    return INVALID_CONTEXT;
  if (posix_memalign(p, 256, bytes) != 0)
    return INVALID_VALUE;
  remember(*p, bytes, 'p');
  (void)flags;
  return OK;
}

CUresult cuMemFreeHost(void *p) {
  return cuMemFree_v2((unsigned long long)(uintptr_t)p);
}

/* Graphs: a graph is a list of kernel nodes, each depending on the one
 * before (the only form the shim makes); instantiating copies it. */
typedef struct {
  stub_fn *func;
  unsigned grid[3], block[3], smem;
  void **params, **extra;
  void *kern, *ctx;
} stub_node_params; /* CUDA_KERNEL_NODE_PARAMS_v2 */

typedef struct {
  int n; /* nodes; node i's handle is i + 1 */
} stub_graph;

CUresult cuGraphCreate(void **graph, unsigned flags) {
  stub_graph *gr = calloc(1, sizeof *gr);
  if (!gr || flags)
    return INVALID_VALUE;
  logf_("cuGraphCreate");
  *graph = gr;
  return fails("cuGraphCreate") ? INVALID_VALUE : OK;
}

static CUresult check_node(const stub_node_params *p) {
  if (!p || !p->func || !p->params || p->extra || p->kern || p->ctx ||
      !p->grid[0] || !p->grid[1] || !p->grid[2] ||
      p->block[0] * p->block[1] * p->block[2] == 0 ||
      p->block[0] * p->block[1] * p->block[2] > 1024)
    return INVALID_VALUE;
  return OK;
}

CUresult cuGraphAddKernelNode_v2(void **node, void *graph, void *const *deps,
                                 size_t ndeps, const stub_node_params *p) {
  stub_graph *gr = graph;
  if (!gr || check_node(p) != OK || gr->n >= 4096)
    return INVALID_VALUE;
  /* A chain: each node after the first depends on the one before it. */
  if (gr->n ? ndeps != 1 || (intptr_t)deps[0] != gr->n : ndeps != 0)
    return INVALID_VALUE;
  *node = (void *)(intptr_t)(++gr->n);
  logf_("cuGraphAddKernelNode %s grid %ux%ux%u block %ux%ux%u smem %u args "
        "%016llx",
        p->func->name, p->grid[0], p->grid[1], p->grid[2], p->block[0],
        p->block[1], p->block[2], p->smem,
        (unsigned long long)args_hash(p->func, p->params));
  return OK;
}

CUresult cuGraphInstantiateWithFlags(void **exec, void *graph,
                                     unsigned long long flags) {
  stub_graph *gr = graph;
  if (!gr || flags)
    return INVALID_VALUE;
  stub_graph *copy = malloc(sizeof *copy);
  if (!copy)
    return INVALID_VALUE;
  *copy = *gr;
  logf_("cuGraphInstantiate %d nodes", gr->n);
  *exec = copy;
  return fails("cuGraphInstantiate") ? INVALID_VALUE : OK;
}

CUresult cuGraphExecKernelNodeSetParams_v2(void *exec, void *node,
                                           const stub_node_params *p) {
  stub_graph *ex = exec;
  intptr_t i = (intptr_t)node;
  if (!ex || i < 1 || i > ex->n || check_node(p) != OK)
    return INVALID_VALUE;
  logf_("cuGraphExecKernelNodeSetParams node %ld %s grid %ux%ux%u args %016llx",
        (long)i, p->func->name, p->grid[0], p->grid[1], p->grid[2],
        (unsigned long long)args_hash(p->func, p->params));
  return fails("cuGraphExecKernelNodeSetParams") ? INVALID_VALUE : OK;
}

CUresult cuGraphLaunch(void *exec, void *stream) {
  stub_graph *ex = exec;
  if (current_ctx != &context_token)
    return INVALID_CONTEXT;
  if (!ex || !stream)
    return INVALID_HANDLE;
  logf_("cuGraphLaunch %d nodes", ex->n);
  return fails("cuGraphLaunch") ? LAUNCH_FAILED : OK;
}

CUresult cuGraphExecDestroy(void *exec) {
  free(exec);
  return OK;
}

CUresult cuGraphDestroy(void *graph) {
  free(graph);
  return OK;
}
