/*===- gemm_f32.c - fp32 GEMM driver: packing, threads, entry points ------===*
 *
 * The generated code replaces each fp32 linalg.matmul on buffers with a call
 * to one of the two entry points at the bottom (codegen/cpu/Ukernels.cpp):
 *   - kiln_ukernel_sgemm_packed: B is a constant weight the compiler packed
 *     into 16-column panels (gemm_f32.h);
 *   - kiln_ukernel_sgemm: B is any strided matrix, packed here per call.
 * A is packed per call into k-major row blocks of the kernel's height for
 * large products; small ones (and M = 1) read its rows in place. The tiles (column block
 * x row block) are split into contiguous, equal ranges over the run's
 * threads, column block outermost so consecutive tiles of a thread reuse
 * the same B panels from cache.
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_f32.h"
#include "../runtime_internal.h"

#include <stdio.h>

#include <math.h>
#if defined(__SSE2__)
#include <xmmintrin.h>
#endif
#include <stdlib.h>
#include <string.h>

float kiln_act_scalar(float v, int act) {
  switch (act) {
  case KILN_ACT_RELU:
    return v > 0.0f ? v : 0.0f;
  case KILN_ACT_GELU:
    return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
  case KILN_ACT_GELU_TANH:
    return 0.5f * v *
           (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
  case KILN_ACT_SILU:
    return v / (1.0f + expf(-v));
  case KILN_ACT_HARDSWISH: {
    float g = v * (1.0f / 6.0f) + 0.5f;
    return v * (g < 0.0f ? 0.0f : g > 1.0f ? 1.0f : g);
  }
  case KILN_ACT_HARDSIGMOID: {
    float g = v * (1.0f / 6.0f) + 0.5f;
    return g < 0.0f ? 0.0f : g > 1.0f ? 1.0f : g;
  }
  case KILN_ACT_RELU6:
    return v > 0.0f ? (v < 6.0f ? v : 6.0f) : 0.0f;
  default:
    return v;
  }
}

/* The epilogue on one element (generic kernels, k = 0, strided outputs). */
float kiln_epilogue_scalar(float v, const kiln_epilogue *ep, int64_t i,
                           int64_t j) {
  if (!ep)
    return v;
  if (ep->bias)
    v += ep->bias[j];
  if (ep->row_bias)
    v += ep->row_bias[i];
  if (ep->residual && ep->res_first)
    v += ep->residual[i * ep->ldr + j];
  v = kiln_act_scalar(v, ep->act);
  if (ep->residual && !ep->res_first)
    v += ep->residual[i * ep->ldr + j];
  return v;
}

void kiln_sgemm_tile_generic(int64_t mr, int64_t nc, int64_t k,
                             const float *ap, int64_t lda, const float *b0,
                             const float *b1, float *c, int64_t ldc,
                             int accumulate, const kiln_epilogue *ep,
                             const kiln_gemm_side *side) {
  kiln_gemm_side_burst(side);
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nc; ++j) {
      const float *b = j < KILN_GEMM_NR ? b0 + j : b1 + (j - KILN_GEMM_NR);
      float s = 0.0f;
      for (int64_t kk = 0; kk < k; ++kk)
        s += (lda ? ap[i * lda + kk] : ap[kk * mr + i]) * b[kk * KILN_GEMM_NR];
      c[i * ldc + j] = kiln_epilogue_scalar(accumulate ? c[i * ldc + j] + s : s, ep, i, j);
    }
}

void kiln_sgemm_pack_b(int64_t k, int64_t n, const float *b, int64_t rs,
                       int64_t cs, float *out) {
  int64_t panels = (n + KILN_GEMM_NR - 1) / KILN_GEMM_NR;
  for (int64_t p = 0; p < panels; ++p) {
    int64_t j0 = p * KILN_GEMM_NR;
    int64_t w = n - j0 < KILN_GEMM_NR ? n - j0 : KILN_GEMM_NR;
    float *dst = out + p * k * KILN_GEMM_NR;
    for (int64_t kk = 0; kk < k; ++kk) {
      const float *src = b + kk * rs + j0 * cs;
      float *d = dst + kk * KILN_GEMM_NR;
      if (cs == 1) {
        memcpy(d, src, (size_t)w * sizeof(float));
      } else {
        for (int64_t j = 0; j < w; ++j)
          d[j] = src[j * cs];
      }
      for (int64_t j = w; j < KILN_GEMM_NR; ++j)
        d[j] = 0.0f;
    }
  }
}

typedef struct {
  kiln_sgemm_tile_fn tile;
  int64_t mr, nc, m, n, k;
  const float *a;
  int64_t lda, acs;
  float *ap; /* packed A (only when acs != 1): row block r at ap + r*mr*k */
  const float *bp;
  float *c;
  int64_t ldc;
  int accumulate;
  const kiln_epilogue *ep;
  const uint16_t *bp16;     /* fp16 panels instead of bp (htile) */
  kiln_hgemm_tile_fn htile;
} gemm_job;

/* dst[kk * rows + i] = a[i * lda + kk] for i < rows, kk < k: a row block
 * of A transposed to k-major. Runs of 64 columns keep the strided writes of
 * a run (rows x 64 floats) in L1; within a run, 4 x 4 blocks are transposed
 * in SSE registers (four loads, four stores), about 5x fewer cycles per
 * element than the scalar copy, which took 6% of a ViT run. */
static void pack_rows_kmajor(const float *a, int64_t lda, int64_t rows,
                             int64_t k, float *dst) {
  for (int64_t k0 = 0; k0 < k; k0 += 64) {
    int64_t k1 = k - k0 < 64 ? k : k0 + 64;
    int64_t i = 0;
#if defined(__SSE2__)
    for (; i + 4 <= rows; i += 4) {
      const float *s0 = a + i * lda, *s1 = s0 + lda, *s2 = s1 + lda,
                  *s3 = s2 + lda;
      int64_t kk = k0;
      for (; kk + 4 <= k1; kk += 4) {
        __m128 r0 = _mm_loadu_ps(s0 + kk), r1 = _mm_loadu_ps(s1 + kk);
        __m128 r2 = _mm_loadu_ps(s2 + kk), r3 = _mm_loadu_ps(s3 + kk);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        _mm_storeu_ps(dst + kk * rows + i, r0);
        _mm_storeu_ps(dst + (kk + 1) * rows + i, r1);
        _mm_storeu_ps(dst + (kk + 2) * rows + i, r2);
        _mm_storeu_ps(dst + (kk + 3) * rows + i, r3);
      }
      for (; kk < k1; ++kk) {
        dst[kk * rows + i] = s0[kk];
        dst[kk * rows + i + 1] = s1[kk];
        dst[kk * rows + i + 2] = s2[kk];
        dst[kk * rows + i + 3] = s3[kk];
      }
    }
#endif
    for (; i < rows; ++i) {
      const float *src = a + i * lda;
      for (int64_t kk = k0; kk < k1; ++kk)
        dst[kk * rows + i] = src[kk];
    }
  }
}

static void pack_a_range(void *vjob, int64_t begin, int64_t end) {
  const gemm_job *g = vjob;
  for (int64_t r = begin; r < end; ++r) {
    int64_t i0 = r * g->mr;
    int64_t rows = g->m - i0 < g->mr ? g->m - i0 : g->mr;
    float *dst = g->ap + i0 * g->k;
    if (g->acs == 1) {
      pack_rows_kmajor(g->a + i0 * g->lda, g->lda, rows, g->k, dst);
    } else {
      for (int64_t kk = 0; kk < g->k; ++kk)
        for (int64_t i = 0; i < rows; ++i)
          dst[kk * rows + i] = g->a[(i0 + i) * g->lda + kk * g->acs];
    }
  }
}

/* Cache blocking (measured with bench/gemm_bench.sh). K is cut into
 * blocks of at most KC_MAX (equal sizes near KC_TARGET); the tiles of a
 * thread are visited a chunk of row blocks at a time, every column block
 * of the chunk before the next chunk, so the chunk's A block stays in L2
 * while every column block reads it, and a B micro-panel (kc x 32) is read
 * from L2 by the chunk's row blocks in turn. A chunk holds as many row
 * blocks as keep its A block (about 12 rows x kc values of 4 bytes per row
 * block: fp32 values, bf16 pairs, int8 quads) within A_CHUNK_BYTES
 * (gemm_tiles.c, shared with the low-precision drivers), and
 * the chunks of a product are balanced (17 row blocks: 9 + 8, not 16 + 1,
 * which streamed every weight again for one row block). Long k blocks keep
 * C in registers for longer: against kc <= 512 and chunks of 12 row
 * blocks, these sizes took BERT-base's batch-8 FFN GEMMs from 85-87% to
 * 90-95% of the FMA peak and 1024^3 from 85-88% to 91-94% (1 thread,
 * three alternating runs). Each thread owns the same tiles at every k
 * block, so the k blocks of a tile run in order on one thread with no
 * barrier. The first k block writes or accumulates as asked; later ones
 * accumulate; the epilogue runs with the last. */
#ifndef PACK_MIN
#define PACK_MIN 128
#endif
#define KC_MAX 1024
#define KC_TARGET 768

static int64_t k_block(int64_t k) {
  if (k <= KC_MAX)
    return k;
  int64_t blocks = (k + KC_TARGET - 1) / KC_TARGET;
  int64_t kc = (k + blocks - 1) / blocks;
  return (kc + 7) & ~(int64_t)7;
}

/* Each row block of a column block fetches its share of the next column
 * block's k block, spread over the tile's k loop (kiln_gemm_side_share,
 * gemm_tiles.c): BERT-base fp32 1.10-1.18x faster at 1 thread and
 * 1.05-1.10x at 2, the LLaMA-style 4 x 256 model 1.05-1.06x and
 * 1.04-1.05x, BERT-base with fp16 weights about 1.025x at both, the AVX2
 * tile (--cpu x86-64-v3, BERT 4 x 256) about 1.02x (`kiln run --against`,
 * both orders); as bursts at the tile's start with 8-32 shares it had
 * measured 1.02-1.06x slower. */
static void tile_at(void *vjob, int64_t cb, int64_t r, int64_t pc, int64_t kc,
                    int first, int last) {
  const gemm_job *g = vjob;
  int64_t j0 = cb * g->nc, i0 = r * g->mr;
  int64_t nc = g->n - j0 < g->nc ? g->n - j0 : g->nc;
  int64_t rows = g->m - i0 < g->mr ? g->m - i0 : g->mr;
  int64_t boff = (j0 / KILN_GEMM_NR) * g->k * KILN_GEMM_NR + pc * KILN_GEMM_NR;
  int64_t b1off = nc > KILN_GEMM_NR ? g->k * KILN_GEMM_NR : 0;
  int accumulate = first ? g->accumulate : 1;
  kiln_epilogue ep, *epp = NULL;
  if (g->ep && last) {
    kiln_epilogue_at(g->ep, i0, j0, &ep);
    epp = &ep;
  }
  /* A's block: packed k-major (lda 0) or read in place */
  const float *a = g->ap ? g->ap + i0 * g->k + pc * rows
                         : g->a + i0 * g->lda + pc * g->acs;
  int64_t lda = g->ap ? 0 : g->lda;
  /* the next column block's panels, and their bytes per k step */
  int64_t nboff = boff + (g->nc / KILN_GEMM_NR) * g->k * KILN_GEMM_NR;
  int64_t step = g->bp16 ? KILN_GEMM_NR * 2 : KILN_GEMM_NR * 4;
  const char *n0 = g->bp16 ? (const char *)(g->bp16 + nboff)
                           : (const char *)(g->bp + nboff);
  kiln_gemm_side side = {NULL, NULL, 0};
  /* Not a k block of more than 256 KiB per panel (a GEMV's whole K, M <= 4
   * being unblocked): the streamer follows this panel, and fetching all of
   * the next one alongside slowed it (AlexNet's 1 x 4096 x 9216 and a
   * 1 x 16384 x 8192 from memory, 1 thread: 10.4-10.8 -> 11.7-11.8 GB/s,
   * 86% -> 96-100% of the read bandwidth, `bench/gemm_bench.sh 1
   * bandwidth`; 1 x 131072 x 1024, 64 KiB panels, unchanged). */
  if (g->nc % KILN_GEMM_NR == 0 && j0 + g->nc < g->n && kc * step <= (256 << 10))
    kiln_gemm_side_share(n0,
                         g->n - j0 - g->nc > KILN_GEMM_NR && g->nc > KILN_GEMM_NR
                             ? n0 + g->k * step
                             : NULL,
                         kc * step, r, (g->m + g->mr - 1) / g->mr, &side);
  if (g->bp16)
    g->htile(rows, nc, kc, a, lda, g->bp16 + boff, g->bp16 + boff + b1off,
             g->c + i0 * g->ldc + j0, g->ldc, accumulate, epp, &side);
  else
    g->tile(rows, nc, kc, a, lda, g->bp + boff, g->bp + boff + b1off,
            g->c + i0 * g->ldc + j0, g->ldc, accumulate, epp, &side);
}

static void tiles_range(void *vjob, int64_t begin, int64_t end) {
  const gemm_job *g = vjob;
  int64_t rowBlocks = (g->m + g->mr - 1) / g->mr;
  /* M = 1..4 (decode) streams each B panel once whatever the blocking: one
   * pass over K keeps the stream contiguous and C in registers. */
  int64_t kcMax = g->m <= 4 ? g->k : k_block(g->k);
  kiln_gemm_visit_tiles(begin, end, rowBlocks, g->k, kcMax, tile_at, vjob);
}

int kiln_sgemm_packed_run(int isa, int accumulate, int64_t m, int64_t n,
                          int64_t k, const float *a, int64_t lda, int64_t acs,
                          const float *bp, float *c, int64_t ldc) {
  return kiln_sgemm_packed_run_ep(isa, accumulate, m, n, k, a, lda, acs, bp, c,
                                  ldc, NULL);
}

/* fp32 (bp) or fp16 (bp16) panels. */
static int gemm_run(int isa, int accumulate, int64_t m, int64_t n, int64_t k,
                    const float *a, int64_t lda, int64_t acs, const float *bp,
                    const uint16_t *bp16, float *c, int64_t ldc,
                    const kiln_epilogue *ep);

int kiln_sgemm_packed_run_ep(int isa, int accumulate, int64_t m, int64_t n,
                             int64_t k, const float *a, int64_t lda,
                             int64_t acs, const float *bp, float *c,
                             int64_t ldc, const kiln_epilogue *ep) {
  return gemm_run(isa, accumulate, m, n, k, a, lda, acs, bp, NULL, c, ldc, ep);
}

int kiln_hgemm_run(int isa, int accumulate, int64_t m, int64_t n, int64_t k,
                   const float *a, int64_t lda, int64_t acs, const uint16_t *bp,
                   float *c, int64_t ldc, const kiln_epilogue *ep) {
  return gemm_run(isa, accumulate, m, n, k, a, lda, acs, NULL, bp, c, ldc, ep);
}

static int gemm_run(int isa, int accumulate, int64_t m, int64_t n, int64_t k,
                    const float *a, int64_t lda, int64_t acs, const float *bp,
                    const uint16_t *bp16, float *c, int64_t ldc,
                    const kiln_epilogue *ep) {
  if (m <= 0 || n <= 0)
    return 1;
  if (k <= 0) {
    /* No products: C is (C +) 0, then the epilogue. */
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        c[i * ldc + j] = kiln_epilogue_scalar(accumulate ? c[i * ldc + j] : 0.0f, ep, i, j);
    return 1;
  }
  gemm_job g = {kiln_sgemm_tile_generic, KILN_SGEMM_MR_GENERIC,
                KILN_SGEMM_NC_GENERIC, m, n, k, a, lda, acs, NULL, bp, c, ldc,
                accumulate, ep, bp16, kiln_hgemm_tile_generic};
  if (isa == KILN_ISA_AVX512) {
    g.tile = kiln_sgemm_tile_avx512;
    g.htile = kiln_hgemm_tile_avx512;
    g.mr = KILN_SGEMM_MR_AVX512;
    /* A one-row product (a decode step's GEMV, bound by streaming B from
     * memory) takes one panel per tile: one weight stream and one side
     * prefetch stream instead of two of each. A 1 x 131072 x 1024 GEMV
     * from memory streamed at 16.5-18 GB/s with two panels, 25-28 with
     * one (one thread; 36 -> 40-45 at two); LLaMA 8 x 1024 decode steps
     * 1.05-1.11x faster. Two to four rows stay on two panels (one panel
     * ran batch 2 and 4 steps 10-17% slower), and so does the bf16 tile
     * (one panel: 13% slower). */
    g.nc = m == 1 ? KILN_GEMM_NR : KILN_SGEMM_NC_AVX512;
  } else if (isa == KILN_ISA_AVX2) {
    g.tile = kiln_sgemm_tile_avx2;
    g.htile = kiln_hgemm_tile_avx2;
    g.mr = KILN_SGEMM_MR_AVX2;
    g.nc = KILN_SGEMM_NC_AVX2;
  }
  int64_t rowBlocks = (m + g.mr - 1) / g.mr;
  int64_t colBlocks = (n + g.nc - 1) / g.nc;
  /* A is packed (k-major row blocks: contiguous broadcasts) when it is
   * strided, or when enough column blocks reuse it: measured on
   * 128x768x3072, packed A runs at 97-109 GFLOP/s against 70-100 read in
   * place (12 row streams). Small products (attention's P.V, decode
   * steps, narrow layers) read rows in place and skip the copy. */
  if (acs != 1 || lda == 0 || (n >= PACK_MIN && k >= PACK_MIN && m > 1)) {
    g.ap = kiln_scratch(KILN_SCRATCH_GEMM_A, (size_t)(m * k) * sizeof(float));
    if (!g.ap)
      return 0;
  }
  /* The residual in C itself (a convolution written over its residual
   * block's input: UkernelBufferization.cpp): one k block reads each
   * residual element in the epilogue before storing it, but the first of
   * several would overwrite C before the last one's epilogue. So C starts
   * as the residual (the first block accumulates onto it) where the
   * residual is added before the activation, or there is none; otherwise
   * the residual is copied aside. */
  kiln_epilogue epc;
  if (ep && ep->residual == c && ep->ldr == ldc && m > 4 && k > k_block(k)) {
    epc = *ep;
    if (!accumulate && (ep->res_first || ep->act == KILN_ACT_NONE)) {
      epc.residual = NULL;
      g.accumulate = 1;
    } else {
      float *r = kiln_scratch(KILN_SCRATCH_GEMM_R, (size_t)(m * n) * sizeof(float));
      if (!r)
        return 0;
      for (int64_t i = 0; i < m; ++i)
        memcpy(r + i * n, c + i * ldc, (size_t)n * sizeof(float));
      epc.residual = r;
      epc.ldr = n;
    }
    g.ep = &epc;
  }
  kiln_gemm_run_phases(&g, m * n * k, rowBlocks, rowBlocks * colBlocks,
                       g.ap ? pack_a_range : NULL, tiles_range);
  return 1;
}

/* ---- entry points of the generated code -------------------------------- *
 * Memrefs arrive as (aligned base address, offset in elements, strides);
 * the low byte of `flags` is the ISA, KILN_GEMM_OVERWRITE says C is not
 * read. Out of memory ends the run with an error (kiln_rt_fail). */

static void sgemm_packed_call(int64_t flags, int64_t m, int64_t n, int64_t k,
                               intptr_t a, int64_t aoff, int64_t lda,
                               int64_t acs, intptr_t bp, int64_t bpoff,
                               intptr_t c, int64_t coff, int64_t ldc) {
  if (!kiln_sgemm_packed_run((int)(flags & 0xff),
                             !(flags & KILN_GEMM_OVERWRITE), m, n, k,
                             (const float *)a + aoff, lda, acs,
                             (const float *)bp + bpoff, (float *)c + coff, ldc))
    kiln_rt_fail_oom();
}

static void sgemm_call(int64_t flags, int64_t m, int64_t n, int64_t k,
                        intptr_t a, int64_t aoff, int64_t lda, int64_t acs,
                        intptr_t b, int64_t boff, int64_t ldb, int64_t bcs,
                        intptr_t c, int64_t coff, int64_t ldc) {
  int64_t panels = (n + KILN_GEMM_NR - 1) / KILN_GEMM_NR;
  float *bp = kiln_scratch(KILN_SCRATCH_GEMM_B,
                           (size_t)(panels * k * KILN_GEMM_NR) * sizeof(float));
  if (!bp && panels * k > 0)
    kiln_rt_fail_oom();
  kiln_sgemm_pack_b(k, n, (const float *)b + boff, ldb, bcs, bp);
  if (!kiln_sgemm_packed_run((int)(flags & 0xff),
                             !(flags & KILN_GEMM_OVERWRITE), m, n, k,
                             (const float *)a + aoff, lda, acs, bp,
                             (float *)c + coff, ldc))
    kiln_rt_fail_oom();
}

typedef struct {
  int isa, accumulate;
  int64_t m, n, k;
  const float *a, *b;
  float *c;
  int64_t abs_, lda, acs, bbs, ldb, bcs, cbs, ldc;
  int failed;
} batch_job;

static void batch_range(void *vjob, int64_t begin, int64_t end) {
  batch_job *j = vjob;
  int64_t panels = (j->n + KILN_GEMM_NR - 1) / KILN_GEMM_NR;
  float *bp = kiln_scratch(KILN_SCRATCH_GEMM_B,
                           (size_t)(panels * j->k * KILN_GEMM_NR) * sizeof(float));
  if (!bp) {
    j->failed = 1;
    return;
  }
  for (int64_t i = begin; i < end; ++i) {
    kiln_sgemm_pack_b(j->k, j->n, j->b + i * j->bbs, j->ldb, j->bcs, bp);
    if (!kiln_sgemm_packed_run(j->isa, j->accumulate, j->m, j->n, j->k,
                               j->a + i * j->abs_, j->lda, j->acs, bp,
                               j->c + i * j->cbs, j->ldc))
      j->failed = 1;
  }
}

/* C[i] (+)= A[i] * B[i] for i < batch: the batch is split over the threads
 * when it has at least one matrix per thread, each GEMM otherwise. */
static void sgemm_batched_call(int64_t flags, int64_t batch, int64_t m,
                                int64_t n, int64_t k, intptr_t a, int64_t aoff,
                                int64_t abs_, int64_t lda, int64_t acs,
                                intptr_t b, int64_t boff, int64_t bbs,
                                int64_t ldb, int64_t bcs, intptr_t c,
                                int64_t coff, int64_t cbs, int64_t ldc) {
  batch_job j = {(int)(flags & 0xff), !(flags & KILN_GEMM_OVERWRITE), m, n, k,
                 (const float *)a + aoff, (const float *)b + boff,
                 (float *)c + coff, abs_, lda, acs, bbs, ldb, bcs, cbs, ldc, 0};
  if (batch <= 0 || m <= 0 || n <= 0)
    return;
  if (batch >= kiln_rt_num_threads() && batch > 1)
    kiln_parallel_for(batch, batch_range, &j);
  else
    batch_range(&j, 0, batch);
  if (j.failed)
    kiln_rt_fail_oom();
}

/* ---- profiled entry points (KILN_PROFILE=1, profile.c) ----------------- */

void kiln_prof_gemm_label(char *buf, size_t n, const void *arg) {
  const int64_t *d = arg;
  if (d[0] > 1)
    snprintf(buf, n, "%lld x %lld x %lld x %lld", (long long)d[0],
             (long long)d[1], (long long)d[2], (long long)d[3]);
  else
    snprintf(buf, n, "%lld x %lld x %lld", (long long)d[1], (long long)d[2],
             (long long)d[3]);
}

KILN_PROF_GEMM_ENTRY(kiln_ukernel_sgemm_packed, "gemm", sgemm_packed_call)

void kiln_ukernel_sgemm(int64_t flags, int64_t m, int64_t n, int64_t k,
                        intptr_t a, int64_t aoff, int64_t lda, int64_t acs,
                        intptr_t b, int64_t boff, int64_t ldb, int64_t bcs,
                        intptr_t c, int64_t coff, int64_t ldc) {
  KILN_PROF_BEGIN();
  sgemm_call(flags, m, n, k, a, aoff, lda, acs, b, boff, ldb, bcs, c, coff, ldc);
  int64_t shape[4] = {1, m, n, k};
  KILN_PROF_END("gemm", 2.0 * m * n * k, kiln_prof_gemm_label, shape);
}

void kiln_ukernel_sgemm_batched(int64_t flags, int64_t batch, int64_t m,
                                int64_t n, int64_t k, intptr_t a, int64_t aoff,
                                int64_t abs_, int64_t lda, int64_t acs,
                                intptr_t b, int64_t boff, int64_t bbs,
                                int64_t ldb, int64_t bcs, intptr_t c,
                                int64_t coff, int64_t cbs, int64_t ldc) {
  KILN_PROF_BEGIN();
  sgemm_batched_call(flags, batch, m, n, k, a, aoff, abs_, lda, acs, b, boff,
                     bbs, ldb, bcs, c, coff, cbs, ldc);
  int64_t shape[4] = {batch, m, n, k};
  KILN_PROF_END("gemm", 2.0 * batch * m * n * k, kiln_prof_gemm_label, shape);
}
