/*===- cuda.c - the CUDA side of a model compiled with --target cuda ------===*
 *
 * The host code that gpu-to-llvm generates calls the mgpu* functions below
 * (module load, function lookup, launch, streams). They are implemented
 * over the CUDA driver API, loaded with dlopen("libcuda.so.1") the first
 * time a model runs: a compiled model links against nothing from CUDA and
 * loads on machines without a GPU, where kiln_run fails with a clear error.
 *
 * - Kernel modules: each gpu.binary's global constructor calls
 *   mgpuModuleLoad at dlopen time; that only records the cubin. The module
 *   is loaded into the GPU's primary context on the first launch from it,
 *   and each kernel is looked up once (mgpuModuleGetFunction is called per
 *   launch).
 * - Streams: every host thread has one stream, created once. Launches are
 *   asynchronous on it; the generated code synchronizes it only before host
 *   code touches memory a kernel uses (kiln-gpu-async-launches), and every
 *   run ends with a synchronize (kiln_gpu_end_run), also a run cut short. A
 *   kernel's fault surfaces at the next synchronize and names the kernel
 *   launched last.
 * - Memory: the workspace (arena.c), the staged inputs and the constants
 *   (kiln_rt_gpu_global_*, copied once per process) are CUDA managed memory,
 *   so the host code between kernels (shape arithmetic, copies) reads and
 *   writes the same buffers. Inputs, outputs and constants move by DMA
 *   (kiln_gpu_copy_in/out), not by host memcpy: a host access migrates a
 *   managed page to the host, and the next kernel touching it faults it
 *   back (on an H200 that made a 1024x768x768 matmul take 1 ms). The
 *   workspace's block headers are host memory for the same reason, and its
 *   small blocks (the host code's shape buffers and scalars, up to
 *   KILN_GPU_HOST_BYTES, default 1024) are pinned host memory the GPU maps:
 *   on an H200 that took a BERT-base layer's kernels from 1.04 to 0.52 ms.
 * - Graphs: launches are collected and issued as one CUDA graph per run
 *   when the same kernels ran before on the thread (cuda_graph.c); every
 *   copy, synchronize and free below issues the collected launches first.
 * - Errors: the first failing driver call of a run is kept with the call and
 *   the kernel's name; later launches of that run are skipped, and kiln_run
 *   returns the message.
 *
 *===----------------------------------------------------------------------===*/

#define _GNU_SOURCE
#include "cuda_internal.h"
#include "runtime_internal.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Called only from the model's own code: not exported. */
#define API

/* The few driver types and entry points used (cuda.h, CUDA 12/13 ABI). */
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUevent_st *CUevent;
typedef unsigned long long CUdeviceptr;
enum { CUDA_SUCCESS = 0, CU_MEM_ATTACH_GLOBAL = 1, CU_STREAM_NON_BLOCKING = 1 };
enum { CU_POINTER_ATTRIBUTE_MEMORY_TYPE = 2, CU_MEMORYTYPE_DEVICE = 2 };

static struct {
  CUresult (*Init)(unsigned);
  CUresult (*DeviceGetCount)(int *);
  CUresult (*DeviceGet)(CUdevice *, int);
  CUresult (*DevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*CtxSetCurrent)(CUcontext);
  CUresult (*CtxSynchronize)(void);
  CUresult (*ModuleLoadData)(CUmodule *, const void *);
  CUresult (*ModuleUnload)(CUmodule);
  CUresult (*ModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*LaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, unsigned, CUstream, void **,
                           void **);
  CUresult (*StreamCreate)(CUstream *, unsigned);
  CUresult (*StreamSynchronize)(CUstream);
  CUresult (*MemAllocManaged)(CUdeviceptr *, size_t, unsigned);
  CUresult (*MemFree)(CUdeviceptr);
  CUresult (*MemcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*MemHostAlloc)(void **, size_t, unsigned);
  CUresult (*MemFreeHost)(void *);
  CUresult (*GetErrorName)(CUresult, const char **);
  /* Optional: without it every caller pointer is taken for host memory. */
  CUresult (*PointerGetAttribute)(void *, int, CUdeviceptr);
  /* Only with KILN_PROFILE set (see "profile" below). */
  CUresult (*EventCreate)(CUevent *, unsigned);
  CUresult (*EventRecord)(CUevent, CUstream);
  CUresult (*EventElapsedTime)(float *, CUevent, CUevent);
} cu;

static pthread_once_t driver_once = PTHREAD_ONCE_INIT;
static CUcontext context;
/* Workspace blocks up to this size are pinned host memory the GPU reads
 * and writes in place (KILN_GPU_HOST_BYTES overrides; 0: none). */
static size_t host_block_bytes = 1024;
static char driver_error[384]; /* empty once the driver is ready */

static _Thread_local char run_error[512];
static _Thread_local const char *last_kernel = "";

static const char *error_name(CUresult r) {
  const char *s = NULL;
  if (cu.GetErrorName && cu.GetErrorName(r, &s) == CUDA_SUCCESS && s)
    return s;
  return "unknown CUDA error";
}

static void set_run_error(const char *fmt, ...) {
  if (run_error[0])
    return; /* keep the first */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(run_error, sizeof run_error, fmt, ap);
  va_end(ap);
}

/* Records a failed call; returns 1 when `r` is a success. */
static int check(CUresult r, const char *call) {
  if (r == CUDA_SUCCESS)
    return 1;
  set_run_error("CUDA error in %s (kernel '%s'): %s (%d)", call, last_kernel,
                error_name(r), r);
  return 0;
}

int kiln_gpu_check(CUresult r, const char *call) { return check(r, call); }
int kiln_gpu_run_failed(void) { return run_error[0] != 0; }
void kiln_gpu_set_last_kernel(const char *name) { last_kernel = name; }

static void load_driver(void) {
  const char *prefix = "this model was compiled for an NVIDIA GPU (--target "
                       "cuda) and needs the CUDA driver";
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *why = dlerror();
    snprintf(driver_error, sizeof driver_error, "%s: %s", prefix,
             why ? why : "libcuda.so.1 not found");
    return;
  }
#define KILN_CU_SYM(field, name)                                               \
  if (!(*(void **)&cu.field = dlsym(lib, name))) {                             \
    snprintf(driver_error, sizeof driver_error,                                \
             "%s: libcuda.so.1 has no %s (driver too old?)", prefix, name);    \
    return;                                                                    \
  }
  KILN_CU_SYM(GetErrorName, "cuGetErrorName")
  KILN_CU_SYM(Init, "cuInit")
  KILN_CU_SYM(DeviceGetCount, "cuDeviceGetCount")
  KILN_CU_SYM(DeviceGet, "cuDeviceGet")
  KILN_CU_SYM(DevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain")
  KILN_CU_SYM(CtxSetCurrent, "cuCtxSetCurrent")
  KILN_CU_SYM(CtxSynchronize, "cuCtxSynchronize")
  KILN_CU_SYM(ModuleLoadData, "cuModuleLoadData")
  KILN_CU_SYM(ModuleUnload, "cuModuleUnload")
  KILN_CU_SYM(ModuleGetFunction, "cuModuleGetFunction")
  KILN_CU_SYM(LaunchKernel, "cuLaunchKernel")
  KILN_CU_SYM(StreamCreate, "cuStreamCreate")
  KILN_CU_SYM(StreamSynchronize, "cuStreamSynchronize")
  KILN_CU_SYM(MemAllocManaged, "cuMemAllocManaged")
  KILN_CU_SYM(MemFree, "cuMemFree_v2")
  KILN_CU_SYM(MemcpyAsync, "cuMemcpyAsync")
  KILN_CU_SYM(MemHostAlloc, "cuMemHostAlloc")
  KILN_CU_SYM(MemFreeHost, "cuMemFreeHost")
  *(void **)&cu.PointerGetAttribute = dlsym(lib, "cuPointerGetAttribute");
  const char *small = getenv("KILN_GPU_HOST_BYTES");
  if (small && *small)
    host_block_bytes = strtoull(small, NULL, 10);
  /* Graphs replace the launches the profile times one by one. */
  if (!kiln_prof_on)
    kiln_gpu_graphs_load(lib);
  if (kiln_prof_on) {
    KILN_CU_SYM(EventCreate, "cuEventCreate")
    KILN_CU_SYM(EventRecord, "cuEventRecord")
    KILN_CU_SYM(EventElapsedTime, "cuEventElapsedTime_v2")
  }
#undef KILN_CU_SYM
  CUresult r = cu.Init(0);
  int count = 0;
  if (r == CUDA_SUCCESS)
    r = cu.DeviceGetCount(&count);
  if (r != CUDA_SUCCESS || count == 0) {
    snprintf(driver_error, sizeof driver_error, "%s: %s", prefix,
             r != CUDA_SUCCESS ? error_name(r) : "no CUDA device found");
    return;
  }
  CUdevice dev;
  if ((r = cu.DeviceGet(&dev, 0)) != CUDA_SUCCESS ||
      (r = cu.DevicePrimaryCtxRetain(&context, dev)) != CUDA_SUCCESS) {
    snprintf(driver_error, sizeof driver_error,
             "%s: cannot open device 0: %s", prefix, error_name(r));
    return;
  }
}

/* 1 when the driver is loaded and this thread has the context current. */
static int driver_ready(void) {
  static _Thread_local int current;
  pthread_once(&driver_once, load_driver);
  if (driver_error[0])
    return 0;
  if (!current) {
    if (cu.CtxSetCurrent(context) != CUDA_SUCCESS)
      return 0;
    current = 1;
  }
  return 1;
}

const char *kiln_gpu_begin_run(void) {
  run_error[0] = 0;
  last_kernel = "";
  if (!driver_ready())
    return driver_error[0] ? driver_error : "cannot make the CUDA context current";
  return NULL;
}

/* (defined with the streams below) */
static void sync_thread_stream(void);
void kiln_gpu_end_run(void) { sync_thread_stream(); }

const char *kiln_gpu_run_error(void) { return run_error[0] ? run_error : NULL; }

void *kiln_gpu_alloc(size_t bytes) {
  if (!driver_ready())
    return NULL;
  CUdeviceptr p = 0;
  if (!check(cu.MemAllocManaged(&p, bytes ? bytes : 1, CU_MEM_ATTACH_GLOBAL),
             "cuMemAllocManaged"))
    return NULL;
  return (void *)(uintptr_t)p;
}

void kiln_gpu_free(void *p) {
  kiln_gpu_flush(); /* (launches that may use it go out first) */
  if (p && driver_ready())
    cu.MemFree((CUdeviceptr)(uintptr_t)p);
}

/* The workspace's blocks. The host code between kernels writes small
 * buffers every run (the shapes of reshapes, scalars): in managed memory
 * each such write migrates its page, and the neighbouring blocks the
 * driver moved with it, to the host, and the next kernel near them faults
 * them back. Small blocks are therefore pinned, device-mapped host memory
 * (the same address on both sides), which never migrates. */
void *kiln_gpu_alloc_block(size_t bytes) {
  if (!driver_ready())
    return NULL;
  if (bytes > host_block_bytes)
    return kiln_gpu_alloc(bytes);
  void *p = NULL;
  /* CU_MEMHOSTALLOC_PORTABLE | CU_MEMHOSTALLOC_DEVICEMAP */
  if (!check(cu.MemHostAlloc(&p, bytes ? bytes : 1, 1 | 2), "cuMemHostAlloc"))
    return NULL;
  return p;
}

void kiln_gpu_free_block(void *p, size_t bytes) {
  if (!p || !driver_ready())
    return;
  kiln_gpu_flush();
  if (bytes > host_block_bytes)
    kiln_gpu_free(p);
  else
    cu.MemFreeHost(p);
}

static CUstream run_stream(void); /* (defined with the streams below) */

/* dst <- src by cuMemcpyAsync on the run's stream. With unified
 * addressing the driver tells host from device pointers, so the caller's
 * device buffers are copied device to device. Nothing waits here: a copy to
 * pageable host memory returns once it is done, and every run ends with a
 * synchronize (kiln_gpu_end_run) before kiln_run returns, with no host write
 * to the workspace in between. */
static int copy_on_stream(void *dst, const void *src, size_t bytes) {
  kiln_gpu_flush();
  CUstream s = run_stream();
  return bytes == 0 ||
         (s && check(cu.MemcpyAsync((CUdeviceptr)(uintptr_t)dst,
                                    (CUdeviceptr)(uintptr_t)src, bytes, s),
                     "cuMemcpyAsync"));
}

int kiln_gpu_copy_in(void *managed, const void *host, size_t bytes) {
  return copy_on_stream(managed, host, bytes);
}

int kiln_gpu_copy_out(void *host, const void *managed, size_t bytes) {
  return copy_on_stream(host, managed, bytes);
}

int kiln_gpu_mark_device(const kiln_tensor *t, size_t n, unsigned char *marks,
                         unsigned char bit) {
  int any = 0;
  for (size_t i = 0; i < n; ++i) {
    int d = kiln_gpu_is_device(t[i].data);
    /* Kernels use a buffer in place when it is aligned as the workspace's
     * blocks are (256 bytes covers every vector access). */
    if (d && (uintptr_t)t[i].data % 256 == 0)
      marks[i] |= bit;
    any |= d;
  }
  return any;
}

kiln_status kiln_gpu_copy_out_strided(void *dst, const void *src,
                                      int64_t rank, const int64_t *sizes,
                                      const int64_t *strides, size_t esize) {
  size_t bytes = esize;
  for (int64_t d = 0; d < rank; ++d)
    bytes *= (size_t)sizes[d];
  char *staged = malloc(bytes ? bytes : 1);
  if (!staged)
    return kiln_fail(KILN_OUT_OF_MEMORY, "cannot stage a strided output of "
                     "%zu bytes", bytes);
  kiln_copy_strided(staged, src, rank, sizes, strides, esize);
  int ok = copy_on_stream(dst, staged, bytes);
  free(staged); /* (a copy from pageable memory returns once it is read) */
  return ok ? KILN_OK : KILN_INTERNAL; /* (CUDA's error) */
}

void *kiln_gpu_output_buffer(void *p, int in_place, int64_t rank,
                             const int64_t *dims, size_t esize) {
  /* The caller's buffer when kiln_gpu_mark_device marked it; otherwise a
   * workspace block, which the output call copies out. */
  if (in_place)
    return p;
  size_t bytes = esize;
  for (int64_t d = 0; d < rank; ++d)
    bytes *= (size_t)dims[d];
  return _mlir_memref_to_llvm_alloc(bytes ? bytes : 1);
}

int kiln_gpu_sync_device(void) {
  kiln_gpu_flush();
  return check(cu.CtxSynchronize(), "cuCtxSynchronize");
}

int kiln_gpu_is_device(const void *p) {
  unsigned type = 0;
  return p && driver_ready() && cu.PointerGetAttribute &&
         cu.PointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
                                (CUdeviceptr)(uintptr_t)p) == CUDA_SUCCESS &&
         type == CU_MEMORYTYPE_DEVICE;
}

/*--- kernel modules --------------------------------------------------------*/

typedef kiln_gpu_kernel kernel;

typedef struct {
  const void *image;
  size_t size;
  pthread_mutex_t mu;
  CUmodule module; /* NULL until the first launch */
  int nkernels;
  kernel kernels[8];
} lazy_module;

/* Called by a global constructor when the library is loaded: no CUDA. */
API void *mgpuModuleLoad(void *data, uint64_t size) {
  lazy_module *m = calloc(1, sizeof *m);
  if (!m)
    return NULL;
  m->image = data;
  m->size = size;
  pthread_mutex_init(&m->mu, NULL);
  return m;
}

API void mgpuModuleUnload(void *module) {
  lazy_module *m = module;
  if (!m)
    return;
  /* At exit the driver may be torn down already; unload only while a
   * context exists, and never report. */
  if (m->module && !driver_error[0] && context)
    cu.ModuleUnload(m->module);
  for (int i = 0; i < m->nkernels; ++i)
    kiln_gpu_kernel_forget(&m->kernels[i]);
  pthread_mutex_destroy(&m->mu);
  free(m);
}

API void *mgpuModuleGetFunction(void *module, const char *name) {
  lazy_module *m = module;
  last_kernel = name;
  if (!m || run_error[0] || !driver_ready()) {
    set_run_error("%s", driver_error[0] ? driver_error
                                        : "a kernel module failed to register");
    return NULL;
  }
  pthread_mutex_lock(&m->mu);
  kernel *found = NULL;
  for (int i = 0; i < m->nkernels && !found; ++i)
    if (m->kernels[i].name == name || strcmp(m->kernels[i].name, name) == 0)
      found = &m->kernels[i];
  if (!found && (m->module ||
                 check(cu.ModuleLoadData(&m->module, m->image), "cuModuleLoadData"))) {
    CUfunction fn;
    if (m->nkernels < (int)(sizeof m->kernels / sizeof m->kernels[0]) &&
        check(cu.ModuleGetFunction(&fn, m->module, name), "cuModuleGetFunction")) {
      found = &m->kernels[m->nkernels++];
      found->name = name;
      found->fn = fn;
      kiln_gpu_kernel_params(found);
    }
  }
  pthread_mutex_unlock(&m->mu);
  if (!found)
    set_run_error("kernel '%s': cannot be looked up (more than %d kernels in "
                  "one module)", name, (int)(sizeof m->kernels / sizeof m->kernels[0]));
  return found;
}

/*--- profile ---------------------------------------------------------------*/

/* With KILN_PROFILE=1 (profile.c) each launch is bracketed by two events on
 * the run's stream; at the end of the run (after its synchronize) each
 * kernel's device time is added to the profile under the kernel's name, so
 * `KILN_PROFILE=1 kiln run m.so` prints where the GPU time goes. The events
 * are made once per thread and reused by later runs. */
typedef struct {
  kernel *k;
  CUevent start, end;
  long grid[3], threads;
} timed_launch;

static _Thread_local timed_launch *timed;
static _Thread_local int num_timed, num_events;

static timed_launch *time_launch(kernel *k, intptr_t gx, intptr_t gy,
                                 intptr_t gz, intptr_t threads) {
  if (num_timed == num_events) {
    int n = num_events ? 2 * num_events : 256;
    timed_launch *grown = realloc(timed, n * sizeof *grown);
    if (!grown)
      return NULL;
    timed = grown;
    for (int i = num_events; i < n; ++i) {
      if (!check(cu.EventCreate(&timed[i].start, 0), "cuEventCreate") ||
          !check(cu.EventCreate(&timed[i].end, 0), "cuEventCreate"))
        return NULL;
      num_events = i + 1;
    }
  }
  timed_launch *t = &timed[num_timed++];
  t->k = k;
  t->grid[0] = (long)gx;
  t->grid[1] = (long)gy;
  t->grid[2] = (long)gz;
  t->threads = (long)threads;
  return t;
}

static void launch_label(char *buf, size_t n, const void *arg) {
  const timed_launch *t = arg;
  snprintf(buf, n, "%s [%ld x %ld x %ld blocks of %ld]", t->k->name,
           t->grid[0], t->grid[1], t->grid[2], t->threads);
}

static void report_launches(void) {
  for (int i = 0; i < num_timed && !run_error[0]; ++i) {
    float ms = 0;
    if (check(cu.EventElapsedTime(&ms, timed[i].start, timed[i].end),
              "cuEventElapsedTime"))
      kiln_prof_add(timed[i].k, "gpu", (uint64_t)(ms * 1e6), 0, launch_label,
                    &timed[i]);
  }
  num_timed = 0;
}

static _Thread_local CUstream thread_stream;
static _Thread_local int thread_stream_made;

API void *mgpuStreamCreate(void) {
  if (!thread_stream_made && driver_ready()) {
    if (check(cu.StreamCreate(&thread_stream, CU_STREAM_NON_BLOCKING),
              "cuStreamCreate"))
      thread_stream_made = 1;
  }
  return thread_stream;
}

static void sync_thread_stream(void) {
  kiln_gpu_flush();
  if (thread_stream_made && !run_error[0])
    check(cu.StreamSynchronize(thread_stream), "cuStreamSynchronize");
  report_launches();
}

/* The thread's stream, NULL (and the run's error set) if it cannot be made. */
static CUstream run_stream(void) {
  if (run_error[0])
    return NULL;
  mgpuStreamCreate();
  if (!thread_stream_made) {
    set_run_error("%s", driver_error[0] ? driver_error : "no CUDA stream");
    return NULL;
  }
  return thread_stream;
}

/* The thread's stream lives as long as the thread. */
API void mgpuStreamDestroy(void *stream) { (void)stream; }

API void mgpuStreamSynchronize(void *stream) {
  kiln_gpu_flush();
  if (!run_error[0] && thread_stream_made)
    check(cu.StreamSynchronize((CUstream)stream), "cuStreamSynchronize");
}

int kiln_gpu_launch_now(const kiln_gpu_launch *l) {
  last_kernel = l->k->name;
  return check(cu.LaunchKernel(l->k->fn, l->grid[0], l->grid[1], l->grid[2],
                               l->block[0], l->block[1], l->block[2], l->smem,
                               l->stream, l->params, l->extra),
               "cuLaunchKernel");
}

API void mgpuLaunchKernel(void *function, intptr_t gx, intptr_t gy, intptr_t gz,
                          intptr_t bx, intptr_t by, intptr_t bz, int32_t smem,
                          void *stream, void **params, void **extra,
                          size_t nparams) {
  kernel *k = function;
  if (!k || run_error[0])
    return;
  last_kernel = k->name;
  if (gx <= 0 || gy <= 0 || gz <= 0)
    return; /* an empty tensor: nothing to do */
  if (gx > 0x7fffffff || gy > 65535 || gz > 65535 || bx * by * bz > 1024) {
    set_run_error("kernel '%s': launch of %ld x %ld x %ld blocks of %ld x %ld "
                  "x %ld threads exceeds the GPU's limits",
                  k->name, (long)gx, (long)gy, (long)gz, (long)bx, (long)by,
                  (long)bz);
    return;
  }
  kiln_gpu_launch l = {k,
                       {(unsigned)gx, (unsigned)gy, (unsigned)gz},
                       {(unsigned)bx, (unsigned)by, (unsigned)bz},
                       (unsigned)smem,
                       (CUstream)stream,
                       params,
                       extra};
  if (kiln_gpu_defer(&l, nparams))
    return; /* issued at the next flush (cuda_graph.c) */
  kiln_gpu_flush();
  timed_launch *t = kiln_prof_on ? time_launch(k, gx, gy, gz, bx * by * bz) : NULL;
  if (t)
    check(cu.EventRecord(t->start, (CUstream)stream), "cuEventRecord");
  kiln_gpu_launch_now(&l);
  if (t)
    check(cu.EventRecord(t->end, (CUstream)stream), "cuEventRecord");
}

/*--- constants -------------------------------------------------------------*/

/* Device-resident copies of the model's constants, by id, made on first use
 * and kept for the life of the process. */
static pthread_mutex_t globals_mu = PTHREAD_MUTEX_INITIALIZER;
static void **globals;
static int64_t nglobals;

static void *resident(int64_t id, const void *host, size_t bytes) {
  pthread_mutex_lock(&globals_mu);
  if (id >= nglobals) {
    int64_t n = id + 1 > 2 * nglobals ? id + 1 : 2 * nglobals;
    void **grown = realloc(globals, n * sizeof *grown);
    if (!grown) {
      pthread_mutex_unlock(&globals_mu);
      kiln_rt_fail_oom();
    }
    memset(grown + nglobals, 0, (n - nglobals) * sizeof *grown);
    globals = grown;
    nglobals = n;
  }
  void *p = globals[id];
  if (!p) {
    p = kiln_gpu_alloc(bytes);
    /* Waited for: another thread's run may use the constant next, on its
     * own stream. */
    if (p && copy_on_stream(p, host, bytes) &&
        check(cu.StreamSynchronize(run_stream()), "cuStreamSynchronize"))
      globals[id] = p;
    else if (p) {
      kiln_gpu_free(p);
      p = NULL;
    }
  }
  pthread_mutex_unlock(&globals_mu);
  if (!p)
    kiln_rt_fail_oom();
  return p;
}

/* desc: {allocated, aligned, offset, sizes[R], strides[R]} (dense). */
static void global_view(int64_t *out, const int64_t *in, int rank,
                        size_t esize, int64_t id) {
  size_t count = 1;
  for (int i = 0; i < rank; ++i)
    count *= (size_t)in[3 + i];
  const char *host = (const char *)(uintptr_t)in[1] + in[2] * (int64_t)esize;
  void *p = resident(id, host, count * esize);
  memcpy(out, in, (3 + 2 * (size_t)rank) * sizeof *out);
  out[0] = out[1] = (int64_t)(uintptr_t)p;
  out[2] = 0;
}

#define KILN_GLOBAL_FN(T, S, R)                                                \
  API void _mlir_ciface_kiln_rt_gpu_global_##T##_r##R(int64_t *out,           \
                                                       const int64_t *in,      \
                                                       int64_t id) {           \
    global_view(out, in, R, S, id);                                            \
  }
#define KILN_GLOBAL_FNS(T, S)                                                  \
  KILN_GLOBAL_FN(T, S, 0) KILN_GLOBAL_FN(T, S, 1) KILN_GLOBAL_FN(T, S, 2)      \
  KILN_GLOBAL_FN(T, S, 3) KILN_GLOBAL_FN(T, S, 4) KILN_GLOBAL_FN(T, S, 5)      \
  KILN_GLOBAL_FN(T, S, 6)
KILN_GLOBAL_FNS(f32, 4)
KILN_GLOBAL_FNS(f64, 8)
KILN_GLOBAL_FNS(f16, 2)
KILN_GLOBAL_FNS(bf16, 2)
KILN_GLOBAL_FNS(i1, 1)
KILN_GLOBAL_FNS(i8, 1)
KILN_GLOBAL_FNS(i16, 2)
KILN_GLOBAL_FNS(i32, 4)
KILN_GLOBAL_FNS(i64, 8)
KILN_GLOBAL_FNS(ui8, 1)
KILN_GLOBAL_FNS(ui16, 2)
KILN_GLOBAL_FNS(ui32, 4)
KILN_GLOBAL_FNS(ui64, 8)
