/*===- gemm_bf16.c - bf16 x bf16 -> fp32 GEMM driver (--precision bf16) ---===*
 *
 * Dense layers compiled with `--precision bf16` keep their weights in bf16,
 * packed at compile time (codegen/cpu/Ukernels.cpp) into panels of 16
 * columns by pairs of k: panel p, k-pair q holds the 32 bf16
 *   W[2q][16p + j], W[2q + 1][16p + j]   at  ((p * KQ + q) * 16 + j) * 2 + {0, 1}
 * (zero past K and N), which is the operand layout of AVX512-BF16's
 * vdpbf16ps. The activations are rounded to bf16 (nearest even) when A is
 * packed: row block r, k-pair q, row i at ((q * rows + i) * 2 + {0, 1}). The
 * products accumulate in fp32 and the epilogue (bias, activation, residual)
 * is fp32, as in the fp32 kernels.
 *
 * The tile kernel is kiln_sbgemm_tile_avx512bf16 (gemm_bf16_avx512.c) when
 * the model targets AVX-512 and the CPU has AVX512-BF16;
 * kiln_sbgemm_tile_avx2 (gemm_bf16_avx2.c: bf16 widened to fp32 in
 * registers, FMA) for AVX2 targets and AVX-512 CPUs without AVX512-BF16;
 * otherwise a plain C tile (same results up to summation order).
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_amx.h"
#include "gemm_bf16.h"
#include "bf16_round.h"
#include "../runtime_internal.h"

#include <string.h>

uint16_t kiln_f32_to_bf16(float f) { return kiln_bf16_round(f); }

/* The libcall LLVM emits for fptrunc float -> bfloat on CPUs without
 * AVX512-BF16 (a Cast to BFLOAT16 in a model compiled for AVX2, say);
 * compiler-rt has it, Debian 12's libgcc does not. A bfloat16 travels in
 * the low 16 bits of xmm0, as a _Float16 does: the bits are returned
 * through one. Linked into each model with the rest of the runtime. */
_Float16 __truncsfbf2(float f);
_Float16 __truncsfbf2(float f) {
  uint16_t h = kiln_f32_to_bf16(f);
  _Float16 r;
  memcpy(&r, &h, sizeof r);
  return r;
}

int kiln_sbgemm_pack_b_avx512bf16(int64_t k, int64_t kqs, int64_t n,
                                  const float *b, int64_t rs, int64_t cs,
                                  uint16_t *out);

void kiln_sbgemm_pack_b(int64_t k, int64_t n, const float *b, int64_t rs,
                        int64_t cs, uint16_t *out) {
  kiln_sbgemm_pack_b_kq(k, (k + 1) / 2, n, b, rs, cs, out);
}

void kiln_sbgemm_pack_b_kq(int64_t k, int64_t kqs, int64_t n, const float *b,
                           int64_t rs, int64_t cs, uint16_t *out) {
  /* attention's K^T and V, packed per call: vectorized where the CPU
   * rounds to bf16 itself */
  if ((rs == 1 || cs == 1) && kiln_cpu_has_avx512bf16() &&
      kiln_sbgemm_pack_b_avx512bf16(k, kqs, n, b, rs, cs, out))
    return;
  int64_t kq = (k + 1) / 2, panels = (n + KILN_GEMM_NR - 1) / KILN_GEMM_NR;
  for (int64_t p = 0; p < panels; ++p) {
    int64_t cols = n - p * KILN_GEMM_NR < KILN_GEMM_NR ? n - p * KILN_GEMM_NR
                                                       : KILN_GEMM_NR;
    const float *bp = b + p * KILN_GEMM_NR * cs;
    memset(out + (p * kqs + kq) * 2 * KILN_GEMM_NR, 0,
           (size_t)((kqs - kq) * 2 * KILN_GEMM_NR) * sizeof(uint16_t));
    for (int64_t q = 0; q < kq; ++q) {
      uint16_t *o = out + (p * kqs + q) * 2 * KILN_GEMM_NR;
      const float *r0 = bp + 2 * q * rs, *r1 = r0 + rs;
      int pair = 2 * q + 1 < k;
      if (cols == KILN_GEMM_NR && pair) {
        for (int64_t j = 0; j < KILN_GEMM_NR; ++j) {
          o[2 * j] = kiln_bf16_round(r0[j * cs]);
          o[2 * j + 1] = kiln_bf16_round(r1[j * cs]);
        }
        continue;
      }
      for (int64_t j = 0; j < KILN_GEMM_NR; ++j) {
        o[2 * j] = j < cols ? kiln_bf16_round(r0[j * cs]) : 0;
        o[2 * j + 1] = j < cols && pair ? kiln_bf16_round(r1[j * cs]) : 0;
      }
    }
  }
}

/* The generic tile: C[0:mr, 0:nc] (+)= A B over kq k-pairs, then the
 * epilogue, like kiln_sgemm_tile_generic. */
static void tile_generic(int64_t mr, int64_t nc, int64_t kq, const uint16_t *ap,
                         const uint16_t *b0, const uint16_t *b1, float *c,
                         int64_t ldc, int accumulate, const kiln_epilogue *ep,
                         const kiln_gemm_side *side) {
  kiln_gemm_side_burst(side);
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nc; ++j) {
      const uint16_t *b = j < KILN_GEMM_NR ? b0 + 2 * j : b1 + 2 * (j - KILN_GEMM_NR);
      float s = 0.0f;
      for (int64_t q = 0; q < kq; ++q)
        s += kiln_bf16_widen(ap[(q * mr + i) * 2]) * kiln_bf16_widen(b[q * 32]) +
             kiln_bf16_widen(ap[(q * mr + i) * 2 + 1]) * kiln_bf16_widen(b[q * 32 + 1]);
      float v = accumulate ? c[i * ldc + j] + s : s;
      if (ep) {
        if (ep->bias)
          v += ep->bias[j];
        if (ep->row_bias)
          v += ep->row_bias[i];
        if (ep->residual && ep->res_first)
          v += ep->residual[i * ep->ldr + j];
        v = kiln_act_scalar(v, ep->act);
        if (ep->residual && !ep->res_first)
          v += ep->residual[i * ep->ldr + j];
      }
      c[i * ldc + j] = v;
    }
}

void kiln_sbgemm_tile_avx512bf16(int64_t mr, int64_t nc, int64_t kq,
                                 const uint16_t *ap, const uint16_t *b0,
                                 const uint16_t *b1, float *c, int64_t ldc,
                                 int accumulate, const kiln_epilogue *ep,
                                 const kiln_gemm_side *side);

typedef void (*tile_fn)(int64_t, int64_t, int64_t, const uint16_t *,
                        const uint16_t *, const uint16_t *, float *, int64_t, int,
                        const kiln_epilogue *, const kiln_gemm_side *);

typedef struct {
  tile_fn tile;
  int64_t mr, nc, m, n, k, kq;
  const float *a;
  int64_t lda, acs;
  uint16_t *ap;
  const uint16_t *bp;
  float *c;
  int64_t ldc;
  const kiln_epilogue *ep;
  int vector_pack; /* A rounded by the AVX512-BF16 packer */
  int accumulate;  /* C += A B instead of C = A B */
  int a_f32;       /* A packed as bf16-rounded fp32 (the AVX2 tile) */
  int amx;         /* kiln_sbgemm_tile_amx, A in its order */
  int64_t kblock;  /* k-pairs per cache block */
} job;

void kiln_sbgemm_pack_a_avx512bf16(const float *a, int64_t lda, int64_t rows,
                                   int64_t k, int64_t kq, uint16_t *dst);

/* Rows [i0, i0 + rows) of A, rounded into one row block. */
static void pack_block(void *vjob, int64_t i0, int64_t rows) {
  const job *g = vjob;
  uint16_t *dst = g->ap + i0 * g->kq * 2 * (g->a_f32 ? 2 : 1);
  if (g->a_f32) {
    float *df = (float *)dst;
    for (int64_t i = 0; i < rows; ++i) {
      const float *src = g->a + (i0 + i) * g->lda;
      for (int64_t kk = 0; kk < g->kq * 2; ++kk)
        df[((kk >> 1) * rows + i) * 2 + (kk & 1)] =
            kk < g->k ? kiln_bf16_widen(kiln_bf16_round(src[kk * g->acs])) : 0.0f;
    }
    return;
  }
  if (g->amx) {
    kiln_sbgemm_pack_a_amx(g->a + i0 * g->lda, g->lda, rows, g->k, g->kq, dst);
    return;
  }
  if (g->vector_pack && (g->acs == 1 || g->k == 1)) {
    kiln_sbgemm_pack_a_avx512bf16(g->a + i0 * g->lda, g->lda, rows, g->k,
                                  g->kq, dst);
    return;
  }
  for (int64_t i = 0; i < rows; ++i) {
    const float *src = g->a + (i0 + i) * g->lda;
    for (int64_t kk = 0; kk < g->kq * 2; ++kk)
      dst[((kk >> 1) * rows + i) * 2 + (kk & 1)] =
          kk < g->k ? kiln_f32_to_bf16(src[kk * g->acs]) : 0;
  }
}

static void pack_a(void *vjob, int64_t begin, int64_t end) {
  const job *g = vjob;
  for (int64_t r = begin; r < end; ++r) {
    int64_t i0 = r * g->mr;
    pack_block(vjob, i0, g->m - i0 < g->mr ? g->m - i0 : g->mr);
  }
}

/* k-pairs per cache block (384 values of k: A micro-panel 12 x 384 bf16 =
 * 9 KiB, B micro-panels 2 x 384 x 16 bf16 = 24 KiB; 128-384 measured the
 * same within noise on BERT-base's shapes) */
#define KQ_BLOCK 192

/* The same tile order and cache blocking as the fp32 driver (gemm_f32.c),
 * in k-pairs. One share of the next column block's prefetch per row
 * block, spread over the tile's k loop (as in gemm_s8.c): BERT-base bf16
 * 1.02-1.03x faster at 1 and 2 threads (`kiln run --against`, both orders)
 * than bursts of 32 shares at the tile's start. */
static void tile_block(void *vjob, int64_t cb, int64_t i0, int64_t rows,
                       int64_t q0, int64_t kq, int first, int last,
                       int64_t share, int64_t shares) {
  const job *g = vjob;
  int64_t j0 = cb * g->nc;
  int64_t nc = g->n - j0 < g->nc ? g->n - j0 : g->nc;
  const uint16_t *b0 = g->bp + ((j0 / KILN_GEMM_NR) * g->kq + q0) * 32;
  const uint16_t *b1 = nc > KILN_GEMM_NR ? b0 + g->kq * 32 : b0;
  kiln_gemm_side side = {NULL, NULL, 0};
  if (j0 + g->nc < g->n) { /* the next column block's k block */
    const uint16_t *n0 = b0 + (g->nc / KILN_GEMM_NR) * g->kq * 32;
    kiln_gemm_side_share(n0, g->n - j0 - g->nc > KILN_GEMM_NR ? n0 + g->kq * 32 : NULL,
                         kq * 64, share, shares, &side);
  }
  kiln_epilogue ep, *epp = NULL;
  if (g->ep && last) {
    kiln_epilogue_at(g->ep, i0, j0, &ep);
    epp = &ep;
  }
  if (g->amx) { /* whole k (q0 = 0), panels whole (j0 % 32 == 0) */
    kiln_sbgemm_tile_amx(rows, nc, kq, g->ap + i0 * g->kq * 2, rows * 64, b0, b1,
                         g->c + i0 * g->ldc + j0, g->ldc, !first || g->accumulate,
                         epp, &side);
    return;
  }
  g->tile(rows, nc, kq, g->ap + (i0 * g->kq + q0 * rows) * 2 * (g->a_f32 ? 2 : 1),
          b0, b1,
          g->c + i0 * g->ldc + j0, g->ldc, !first || g->accumulate, epp, &side);
}

static void tile_at(void *vjob, int64_t cb, int64_t r, int64_t q0, int64_t kq,
                    int first, int last) {
  const job *g = vjob;
  int64_t i0 = r * g->mr;
  tile_block(vjob, cb, i0, g->m - i0 < g->mr ? g->m - i0 : g->mr, q0, kq, first,
             last, r, (g->m + g->mr - 1) / g->mr);
}

static void tiles(void *vjob, int64_t begin, int64_t end) {
  const job *g = vjob;
  int64_t rowBlocks = (g->m + g->mr - 1) / g->mr;
  kiln_gemm_visit_tiles(begin, end, rowBlocks, g->kq, g->kblock, tile_at, vjob);
}

int kiln_cpu_has_avx512bf16(void) {
  static int known = -1;
  if (known < 0) {
    __builtin_cpu_init();
    known = __builtin_cpu_supports("avx512bf16") ? 1 : 0;
  }
  return known;
}

int kiln_sbgemm_run(int isa, int accumulate, int64_t m, int64_t n, int64_t k,
                    const float *a, int64_t lda, int64_t acs, const uint16_t *bp,
                    float *c, int64_t ldc, const kiln_epilogue *ep) {
  if (m <= 0 || n <= 0)
    return 1;
  if (k <= 0) /* no products: the fp32 driver writes the epilogue of 0 */
    return kiln_sgemm_packed_run_ep(isa, accumulate, m, n, 0, a, lda, acs, NULL,
                                    c, ldc, ep);
  job g = {tile_generic, KILN_SGEMM_MR_GENERIC, KILN_SGEMM_NC_GENERIC,
           m, n, k, (k + 1) / 2, a, lda, acs, NULL, bp, c, ldc, ep, 0,
           accumulate, 0, 0, 0};
  /* decode-sized products (M <= 4) stream each panel once in one pass */
  g.kblock = m <= 4 ? g.kq : KQ_BLOCK;
  if (isa == KILN_ISA_AVX512 && k % 32 == 0 && m >= KILN_SBGEMM_AMX_MIN_M &&
      (acs == 1 || k == 1) && kiln_cpu_has_amx_bf16()) {
    /* AMX: 32 x 32 tiles over the whole k, A in their order */
    g.amx = 1;
    g.mr = KILN_SBGEMM_MR_AMX;
    g.nc = 32;
    g.kblock = g.kq;
  } else if (isa == KILN_ISA_AVX512 && kiln_cpu_has_avx512bf16()) {
    g.tile = kiln_sbgemm_tile_avx512bf16;
    g.vector_pack = 1;
    g.mr = KILN_SGEMM_MR_AVX512;
    g.nc = KILN_SGEMM_NC_AVX512;
  } else if (isa == KILN_ISA_AVX2 || isa == KILN_ISA_AVX512) {
    g.tile = kiln_sbgemm_tile_avx2;
    g.a_f32 = 1;
    g.mr = KILN_SBGEMM_MR_AVX2;
    g.nc = KILN_GEMM_NR;
  }
  int64_t rowBlocks = (m + g.mr - 1) / g.mr;
  int64_t colBlocks = (n + g.nc - 1) / g.nc;
  g.ap = kiln_scratch(KILN_SCRATCH_GEMM_A, (size_t)(rowBlocks * g.mr * g.kq * 2) *
                                               (g.a_f32 ? sizeof(float) : sizeof(uint16_t)));
  if (!g.ap)
    return 0;
  /* Not split by rows (kiln_gemm_run_rows): BERT-base bf16 at 2 threads
   * ran 6-10% slower so (`kiln run --against`); each thread then streams
   * all of the weights, twice int8's bytes per product */
  kiln_gemm_run_phases(&g, m * n * k, rowBlocks, rowBlocks * colBlocks, pack_a,
                       tiles);
  return 1;
}

/* Entry point of the generated code for a linalg.matmul whose constant
 * right-hand side kiln-cpu-ukernels packed in bf16 (--precision bf16); the
 * arguments are kiln_ukernel_sgemm_packed's (gemm_f32.c). */
static void sbgemm_packed_call(int64_t flags, int64_t m, int64_t n, int64_t k,
                                intptr_t a, int64_t aoff, int64_t lda,
                                int64_t acs, intptr_t bp, int64_t bpoff,
                                intptr_t c, int64_t coff, int64_t ldc) {
  if (!kiln_sbgemm_run((int)(flags & 0xff), !(flags & KILN_GEMM_OVERWRITE), m, n,
                       k, (const float *)a + aoff, lda, acs,
                       (const uint16_t *)bp + bpoff, (float *)c + coff, ldc, NULL))
    kiln_rt_fail_oom();
}

/* Profiled entry point (KILN_PROFILE=1, profile.c). */
KILN_PROF_GEMM_ENTRY(kiln_ukernel_sbgemm_packed, "gemm-bf16", sbgemm_packed_call)
