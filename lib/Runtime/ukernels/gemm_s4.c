/*===- gemm_s4.c - int4 weight-only GEMM driver (--quantize int4) ---------===*
 *
 * Layouts and arithmetic in gemm_s4.h. The driver quantizes A a row block
 * at a time (s8 per row, with each group's row sum), then runs one
 * tile per (row block, panel of 16 columns) over all of K: each group's
 * int32 sums go into fp32 accumulators with the group's scales, so there
 * is no k blocking. The tile is kiln_s4gemm_tile_avx512vnni when the model
 * targets AVX-512 and the CPU has AVX512-VNNI, kiln_s4gemm_tile_avx2 for
 * AVX2 targets and AVX-512 CPUs without VNNI, otherwise plain C (same
 * results: the int32 sums are exact and the fp32 steps the same).
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_s4.h"
#include "gemm_s8.h"
#include "../runtime_internal.h"

#include <math.h>
#include <string.h>

#define MR_AVX512 12
#define MR_GENERIC 4

static void tile_generic(int64_t mr, int64_t nc, int64_t ng, int64_t group,
                         int zp, const int8_t *ap, const uint8_t *bp,
                         const float *sa, const int32_t *rs, float *c,
                         int64_t ldc, const kiln_epilogue *ep) {
  int64_t groupBytes = (group / 8 + 1 + (zp != 0)) * 64;
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nc; ++j) {
      float f = 0.0f;
      for (int64_t g = 0; g < ng; ++g) {
        const uint8_t *blk = bp + g * groupBytes;
        int32_t s = 0;
        for (int64_t r = 0; r < group; ++r) {
          uint8_t byte = blk[(r / 8) * 64 + j * 4 + r % 4];
          int32_t nib = (r / 4) % 2 ? byte >> 4 : byte & 15;
          int64_t kk = g * group + r;
          s += nib * (int32_t)ap[((kk / 4) * mr + i) * 4 + kk % 4];
        }
        float sb;
        int32_t z = 8;
        memcpy(&sb, blk + (group / 8) * 64 + j * 4, 4);
        if (zp)
          memcpy(&z, blk + (group / 8 + 1) * 64 + j * 4, 4);
        f += (float)(s - rs[i * ng + g] * z) * (sa[i] * sb);
      }
      if (ep) {
        if (ep->bias)
          f += ep->bias[j];
        if (ep->row_bias)
          f += ep->row_bias[i];
        if (ep->residual && ep->res_first)
          f += ep->residual[i * ep->ldr + j];
        f = kiln_act_scalar(f, ep->act);
        if (ep->residual && !ep->res_first)
          f += ep->residual[i * ep->ldr + j];
      }
      c[i * ldc + j] = f;
    }
}

typedef struct {
  kiln_s4gemm_tile_fn tile;
  int64_t mr, m, n, k, group, ng, kq;
  int zp;
  const float *a;
  int64_t lda, acs;
  int8_t *ap;
  float *sa;
  int32_t *rs;
  const uint8_t *bp;
  float *c;
  int64_t ldc;
  const kiln_epilogue *ep;
} job;

/* Row block r: s8 per row (scale max|x| / 127), quads with stride rows,
 * zeros past k; each group's sum of the row's values. */
static void pack_a(void *vjob, int64_t begin, int64_t end) {
  const job *g = vjob;
  for (int64_t r = begin; r < end; ++r) {
    int64_t i0 = r * g->mr;
    int64_t rows = g->m - i0 < g->mr ? g->m - i0 : g->mr;
    int8_t *dst = g->ap + i0 * g->kq * 4;
    for (int64_t i = 0; i < rows; ++i) {
      const float *src = g->a + (i0 + i) * g->lda;
      float amax = 0.0f;
      for (int64_t kk = 0; kk < g->k; ++kk) {
        float v = fabsf(src[kk * g->acs]);
        amax = v > amax ? v : amax;
      }
      float s = amax > 0.0f && isfinite(amax) ? amax / 127.0f : 1.0f;
      float inv = 1.0f / s;
      g->sa[i0 + i] = s;
      int32_t *rs = g->rs + (i0 + i) * g->ng;
      for (int64_t gi = 0; gi < g->ng; ++gi)
        rs[gi] = 0;
      for (int64_t kk = 0; kk < g->kq * 4; ++kk) {
        int32_t q = 0;
        if (kk < g->k) {
          float v = nearbyintf(src[kk * g->acs] * inv);
          q = v != v ? 0 : v > 127.0f ? 127 : v < -127.0f ? -127 : (int32_t)v;
        }
        dst[((kk / 4) * rows + i) * 4 + kk % 4] = (int8_t)q;
        rs[kk / g->group] += q;
      }
    }
  }
}

static void tiles(void *vjob, int64_t begin, int64_t end) {
  const job *g = vjob;
  int64_t rowBlocks = (g->m + g->mr - 1) / g->mr;
  int64_t panelBytes = g->ng * (g->group / 8 + 1 + (g->zp != 0)) * 64;
  for (int64_t t = begin; t < end; ++t) {
    int64_t p = t / rowBlocks, r = t % rowBlocks;
    int64_t i0 = r * g->mr, j0 = p * 16;
    int64_t rows = g->m - i0 < g->mr ? g->m - i0 : g->mr;
    int64_t nc = g->n - j0 < 16 ? g->n - j0 : 16;
    kiln_epilogue ep, *epp = NULL;
    if (g->ep) {
      kiln_epilogue_at(g->ep, i0, j0, &ep);
      epp = &ep;
    }
    g->tile(rows, nc, g->ng, g->group, g->zp, g->ap + i0 * g->kq * 4,
            g->bp + p * panelBytes, g->sa + i0, g->rs + i0 * g->ng,
            g->c + i0 * g->ldc + j0, g->ldc, epp);
  }
}

int kiln_s4gemm_run(int isa, int64_t m, int64_t n, int64_t k, int64_t group,
                    int zp, const float *a, int64_t lda, int64_t acs,
                    const uint8_t *bp, float *c, int64_t ldc,
                    const kiln_epilogue *ep) {
  if (m <= 0 || n <= 0)
    return 1;
  if (k <= 0)
    return kiln_sgemm_packed_run_ep(isa, 0, m, n, 0, a, lda, acs, NULL, c, ldc, ep);
  int64_t ng = (k + group - 1) / group;
  job g = {tile_generic, MR_GENERIC, m, n, k, group, ng, ng * group / 4,
           zp != 0, a, lda, acs, NULL, NULL, NULL, bp, c, ldc, ep};
  if (isa == KILN_ISA_AVX512 && kiln_cpu_has_avx512vnni()) {
    g.tile = kiln_s4gemm_tile_avx512vnni;
    g.mr = MR_AVX512;
  } else if (isa == KILN_ISA_AVX2 || isa == KILN_ISA_AVX512) {
    g.tile = kiln_s4gemm_tile_avx2;
    g.mr = KILN_S4GEMM_MR_AVX2;
  }
  int64_t rowBlocks = (m + g.mr - 1) / g.mr, panels = (n + 15) / 16;
  size_t rowsPad = (size_t)(rowBlocks * g.mr);
  size_t apBytes = (rowsPad * (size_t)g.kq * 4 + 63) & ~(size_t)63;
  char *scratch = kiln_scratch(KILN_SCRATCH_GEMM_A,
                               apBytes + rowsPad * sizeof(float) +
                                   rowsPad * (size_t)ng * sizeof(int32_t));
  if (!scratch)
    return 0;
  g.ap = (int8_t *)scratch;
  g.sa = (float *)(scratch + apBytes);
  g.rs = (int32_t *)(g.sa + rowsPad);
  kiln_gemm_run_phases(&g, m * n * k, rowBlocks, rowBlocks * panels, pack_a, tiles);
  return 1;
}

/* Entry point of the generated code for a linalg.matmul whose constant
 * right-hand side kiln-cpu-ukernels quantized to int4 (--quantize int4);
 * the arguments are kiln_ukernel_sgemm_packed's (gemm_f32.c), bp in bytes,
 * the group size in flags bits 16 and up and KILN_S4_ZERO_POINTS when the
 * weight has them. C is overwritten. */
static void s4gemm_packed_call(int64_t flags, int64_t m, int64_t n, int64_t k,
                                intptr_t a, int64_t aoff, int64_t lda,
                                int64_t acs, intptr_t bp, int64_t bpoff,
                                intptr_t c, int64_t coff, int64_t ldc) {
  float *cp = (float *)c + coff;
  int64_t group = flags >> 16;
  int zp = (flags & KILN_S4_ZERO_POINTS) != 0;
  if (!(flags & KILN_GEMM_OVERWRITE)) {
    /* C += A W: the product into scratch rows first */
    float *t = kiln_scratch(KILN_SCRATCH_GEMM_B, (size_t)(m * n) * sizeof(float));
    if (!t || !kiln_s4gemm_run((int)(flags & 0xff), m, n, k, group, zp,
                               (const float *)a + aoff, lda, acs,
                               (const uint8_t *)bp + bpoff, t, n, NULL))
      kiln_rt_fail_oom();
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        cp[i * ldc + j] += t[i * n + j];
    return;
  }
  if (!kiln_s4gemm_run((int)(flags & 0xff), m, n, k, group, zp,
                       (const float *)a + aoff, lda, acs,
                       (const uint8_t *)bp + bpoff, cp, ldc, NULL))
    kiln_rt_fail_oom();
}

/* Profiled entry point (KILN_PROFILE=1, profile.c). */
KILN_PROF_GEMM_ENTRY(kiln_ukernel_s4gemm_packed, "gemm-s4", s4gemm_packed_call)
