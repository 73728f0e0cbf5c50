/*===- cuda_internal.h - shared by the CUDA shim's two files --------------===*
 *
 * cuda.c implements the mgpu* entry points the generated host code calls,
 * over the CUDA driver; cuda_graph.c collects a run's kernel launches and
 * issues them as one CUDA graph. This header is what the two share: the
 * driver's handle types, a looked-up kernel, one launch.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_RUNTIME_CUDA_INTERNAL_H
#define KILN_RUNTIME_CUDA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* The driver's types (cuda.h, CUDA 12/13 ABI). */
typedef int CUresult;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;

/* A kernel of a loaded module, looked up once (cuda.c). */
typedef struct {
  const char *name; /* the generated code's constant */
  CUfunction fn;
  /* Its parameters' sizes in bytes, from the driver when it is looked up
   * (cuda_graph.c); nparams is -1 when they are unknown, and then the
   * kernel is always launched directly. */
  int nparams;
  uint16_t *psize;
} kiln_gpu_kernel;

/* One kernel launch as the generated code asks for it. */
typedef struct {
  kiln_gpu_kernel *k;
  unsigned grid[3], block[3], smem;
  CUstream stream;
  void **params; /* pointers to the argument values */
  void **extra;  /* cuLaunchKernel's `extra` (never deferred) */
} kiln_gpu_launch;

/*--- cuda.c ---*/
/* 1 when `r` is a success; otherwise keeps the run's first error (the
 * call, the kernel launched last, CUDA's error name) and returns 0. */
int kiln_gpu_check(CUresult r, const char *call);
/* 1 once this thread's run has failed: later work is skipped. */
int kiln_gpu_run_failed(void);
/* The kernel an error at the next synchronize is reported against. */
void kiln_gpu_set_last_kernel(const char *name);
/* cuLaunchKernel now; 0 on failure (the run's error says why). */
int kiln_gpu_launch_now(const kiln_gpu_launch *l);

/*--- cuda_graph.c ---*/
/* Called once, when the driver is loaded: finds the graph entry points
 * (without them, or with KILN_GPU_GRAPHS=0, every launch is direct). */
void kiln_gpu_graphs_load(void *libcuda);
/* Sets k->nparams and k->psize from the driver (cuFuncGetParamInfo). */
void kiln_gpu_kernel_params(kiln_gpu_kernel *k);
/* Frees what kiln_gpu_kernel_params allocated; the kernel's module is
 * going away, so graphs holding its kernels are dropped. */
void kiln_gpu_kernel_forget(kiln_gpu_kernel *k);
/* Takes the launch (its argument values copied) to be issued at the next
 * kiln_gpu_flush: 1; or 0 when it must be launched now, directly. */
int kiln_gpu_defer(const kiln_gpu_launch *l, size_t nparams);
/* Issues the deferred launches, in order: as a CUDA graph when the same
 * sequence of kernels was launched before on this thread, else directly.
 * Called before any other work on the stream, any synchronize and any
 * free, so deferring changes no order the host code relies on. */
void kiln_gpu_flush(void);

#endif
