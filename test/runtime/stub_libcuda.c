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
 * from that, and logs each copy's direction. */
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

typedef struct { char name[128]; } stub_fn;
typedef struct { int sm; } stub_module;

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
typedef struct { uintptr_t base; size_t bytes; char kind; } stub_block;
static stub_block blocks[4096];
static int nblocks;

static void remember(void *p, size_t bytes, char kind) {
  pthread_mutex_lock(&mu);
  if (nblocks < (int)(sizeof blocks / sizeof blocks[0]))
    blocks[nblocks++] = (stub_block){(uintptr_t)p, bytes, kind};
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
  logf_("cuModuleLoadData ELF machine=%u sm_%d", machine, m->sm);
  *module = m;
  return machine == 190 ? OK : INVALID_IMAGE;
}

CUresult cuModuleUnload(void *module) {
  free(module);
  return OK;
}

CUresult cuModuleGetFunction(void **fn, void *module, const char *name) {
  if (current_ctx != &context_token)
    return INVALID_CONTEXT;
  if (!module)
    return INVALID_HANDLE;
  stub_fn *f = calloc(1, sizeof *f);
  snprintf(f->name, sizeof f->name, "%s", name);
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
  logf_("cuLaunchKernel %s grid %ux%ux%u block %ux%ux%u smem %u", f->name, gx,
        gy, gz, bx, by, bz, smem);
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
