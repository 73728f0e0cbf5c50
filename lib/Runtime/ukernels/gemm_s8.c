/*===- gemm_s8.c - u8 x s8 -> int32 GEMM driver (--quantize int8) --------===*
 *
 * Layouts and arithmetic in gemm_s8.h. The driver quantizes A a row block
 * at a time into quads of k (dst[(q * rows + i) * 4 + r]) with each row's
 * scale and zero point, then runs the tiles in the fp32 driver's order and
 * cache blocking (kiln_gemm_visit_tiles). A k block's int32 sums are
 * scaled to fp32 and added into C; the last k block first subtracts the
 * zero-point correction in int32, and applies the epilogue.
 *
 * The tile is kiln_qgemm_tile_avx512vnni when the model targets AVX-512 and
 * the CPU has AVX512-VNNI, kiln_qgemm_tile_avx2 (widened to 16 bits) for
 * AVX2 targets and AVX-512 CPUs without VNNI, otherwise a plain C tile
 * (same results everywhere: int32 sums are exact).
 *
 *===----------------------------------------------------------------------===*/

#define _DEFAULT_SOURCE /* syscall (-std=c11) */
#include "gemm_s8.h"
#include "view.h"
#include "../runtime_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* Row i's scale and zero point from its range (which includes 0, so 0 is
 * exact); a row of zeros gets scale 1. */
static inline void row_params(float lo, float hi, float *scale, int32_t *zp) {
  lo = lo < 0.0f ? lo : 0.0f;
  hi = hi > 0.0f ? hi : 0.0f;
  float s = (hi - lo) / 255.0f;
  if (!(s > 0.0f) || !isfinite(s)) {
    *scale = 1.0f;
    *zp = 0;
    return;
  }
  float z = nearbyintf(-lo / s);
  *scale = s;
  *zp = z < 0.0f ? 0 : z > 255.0f ? 255 : (int32_t)z;
}

void kiln_s8_dynamic_params(float lo, float hi, float *scale, int32_t *zp) {
  row_params(lo, hi, scale, zp);
}

/* The range of rows [0, rows) of A (widened to include 0). */
static void range_of(const float *a, int64_t lda, int64_t acs, int64_t rows,
                     int64_t k, float *lo, float *hi) {
  for (int64_t i = 0; i < rows; ++i) {
    const float *src = a + i * lda;
    float l = *lo, h = *hi;
    for (int64_t kk = 0; kk < k; ++kk) {
      float v = src[kk * acs];
      l = v < l ? v : l;
      h = v > h ? v : h;
    }
    *lo = l;
    *hi = h;
  }
}

/* wide: the AVX2 tile's u16 activations (dst as uint16_t). */
static void pack_a_generic(const float *a, int64_t lda, int64_t acs,
                           int64_t rows, int64_t k, int64_t kq, uint8_t *dst,
                           float *rowq, const float *fixed, int wide) {
  for (int64_t i = 0; i < rows; ++i) {
    const float *src = a + i * lda;
    float s;
    int32_t zp;
    if (fixed) {
      s = fixed[0];
      zp = (int32_t)fixed[1];
    } else {
      float lo = 0.0f, hi = 0.0f;
      range_of(src, 0, acs, 1, k, &lo, &hi);
      row_params(lo, hi, &s, &zp);
    }
    float inv = 1.0f / s;
    for (int64_t kk = 0; kk < kq * 4; ++kk) {
      int32_t q = 0;
      if (kk < k) {
        float x = src[kk * acs];
        float v = nearbyintf(fixed ? x / s : x * inv) + (float)zp;
        q = v != v ? zp : v < 0.0f ? 0 : v > 255.0f ? 255 : (int32_t)v;
      }
      int64_t at = ((kk / 4) * rows + i) * 4 + kk % 4;
      if (wide)
        ((uint16_t *)dst)[at] = (uint16_t)q;
      else
        dst[at] = (uint8_t)q;
    }
    rowq[2 * i] = s;
    rowq[2 * i + 1] = (float)zp;
  }
}

static void tile_generic(int64_t mr, int64_t nc, int64_t kq,
                         const uint8_t *ap, const int8_t *b0, const int8_t *b1,
                         const float *sb0, const float *sb1, const float *rowq,
                         float *c, int64_t ldc, int accumulate, int last,
                         const kiln_epilogue *ep, const kiln_gemm_side *side) {
  kiln_gemm_side_burst(side);
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nc; ++j) {
      const int8_t *b = j < 16 ? b0 + 4 * j : b1 + 4 * (j - 16);
      const float *sb = j < 16 ? sb0 + j : sb1 + (j - 16);
      int32_t s = 0;
      for (int64_t q = 0; q < kq; ++q)
        for (int r = 0; r < 4; ++r)
          s += (int32_t)ap[(q * mr + i) * 4 + r] * (int32_t)b[q * 64 + r];
      int32_t colsum;
      memcpy(&colsum, sb + 16, 4);
      if (last)
        s -= (int32_t)rowq[2 * i + 1] * colsum;
      float v = (float)s * (rowq[2 * i] * sb[0]);
      if (accumulate)
        v += c[i * ldc + j];
      if (last) {
        if (ep) {
          if (ep->requant)
            v = kiln_requant_scalar(v, ep->requant);
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
      }
      c[i * ldc + j] = v;
    }
}

typedef struct {
  kiln_qgemm_tile_fn tile;
  int64_t mr, nc, m, n, k, kq;
  const float *a;
  int64_t lda, acs;
  uint8_t *ap;
  float *rowq;
  const int8_t *bp;
  float *c;
  int64_t ldc;
  const kiln_epilogue *ep;
  int vector_pack, accumulate; /* vector_pack: 2 AVX-512, 1 AVX2 */
  int abytes; /* bytes per packed activation: 1, or 2 (AVX2 tile: u16) */
  const float *fixed; /* per-tensor (scale, zero point), or NULL: per row */
  int amx;            /* kiln_qgemm_tile_amx on row-major activations */
  int64_t kblock;     /* quads per cache block */
} job;

/* Rows [i0, i0 + rows) of A, quantized into one row block. */
static void pack_block(void *vjob, int64_t i0, int64_t rows) {
  const job *g = vjob;
  const float *src = g->a + i0 * g->lda;
  uint8_t *dst = g->ap + i0 * g->kq * 4 * g->abytes;
  if (g->vector_pack == 2 && (g->acs == 1 || g->k == 1))
    kiln_qgemm_pack_a_avx512(src, g->lda, rows, g->k, g->kq, dst,
                             g->rowq + 2 * i0, g->fixed, g->amx);
  else if (g->vector_pack == 1 && (g->acs == 1 || g->k == 1))
    kiln_qgemm_pack_a_avx2(src, g->lda, rows, g->k, g->kq, dst,
                           g->rowq + 2 * i0, g->fixed, g->abytes == 2);
  else
    pack_a_generic(src, g->lda, g->acs, rows, g->k, g->kq, dst,
                   g->rowq + 2 * i0, g->fixed, g->abytes == 2);
}

static void pack_a(void *vjob, int64_t begin, int64_t end) {
  const job *g = vjob;
  for (int64_t r = begin; r < end; ++r) {
    int64_t i0 = r * g->mr;
    pack_block(vjob, i0, g->m - i0 < g->mr ? g->m - i0 : g->mr);
  }
}

/* Quads per cache block: 1536 values of k (A micro-panel 12 x 1536 bytes =
 * 18 KiB, B micro-panels 2 x 1536 x 16 bytes = 48 KiB, as large as the fp32
 * kernel's in bytes). Each block ends in a dequantizing store of the tile,
 * so fewer blocks cost less: BERT-base at 1 thread ran 76 ms with 96 quads,
 * 71-72 with 192 and 69-70 with 384 or unblocked (bench/run_bench.py). */
#define KQ_BLOCK 384

/* The tile of rows [i0, i0 + rows) (one packed row block) and column
 * block cb over quads [q0, q0 + kq); `share` of `shares` of the next
 * column block's prefetch, which the tile spreads over its k loop. One
 * share per row block, so the whole next block is fetched while this one
 * runs: BERT-base int8 1.02x faster at 1 thread and 1.08x at 2 (`kiln run
 * --against`, both orders) than bursts of 16 shares at the tile's start
 * (gemm_tiles.c); 16 spread shares measured 1.007x at 1 thread, 8 1.022x,
 * 24 1.000x, 11 (BERT's row blocks) 1.032x. */
static void tile_block(void *vjob, int64_t cb, int64_t i0, int64_t rows,
                       int64_t q0, int64_t kq, int first, int last,
                       int64_t share, int64_t shares) {
  const job *g = vjob;
  int64_t j0 = cb * g->nc;
  int64_t nc = g->n - j0 < g->nc ? g->n - j0 : g->nc;
  int64_t panelBytes = (g->kq + 2) * 64;
  /* a tile may start inside a panel (the AVX2 tile is 8 columns wide):
   * its first column's bytes and scale are `lane` places in */
  int64_t lane = j0 % 16;
  const int8_t *p0 = g->bp + (j0 / 16) * panelBytes + lane * 4;
  const int8_t *p1 = nc > 16 ? p0 + panelBytes : p0;
  kiln_gemm_side side = {NULL, NULL, 0};
  if (g->nc % 16 == 0 && j0 + g->nc < g->n) { /* the next column block */
    const int8_t *n0 = p0 + (g->nc / 16) * panelBytes + q0 * 64;
    kiln_gemm_side_share(n0, g->n - j0 - g->nc > 16 ? n0 + panelBytes : NULL,
                         kq * 64, share, shares, &side);
  }
  kiln_epilogue ep, *epp = NULL;
  if (g->ep && last) {
    kiln_epilogue_at(g->ep, i0, j0, &ep);
    epp = &ep;
  }
  if (last)
    kiln_gemm_prefetch_c(g->c + i0 * g->ldc + j0, g->ldc, rows, nc);
  if (g->amx) { /* whole k (q0 = 0), panels whole (j0 % 32 == 0) */
    kiln_qgemm_tile_amx(rows, nc, kq, g->ap + i0 * g->kq * 4, rows * 64,
                        p0 + q0 * 64, p1 + q0 * 64,
                        (const float *)(p0 + g->kq * 64),
                        (const float *)(p1 + g->kq * 64), g->rowq + 2 * i0,
                        g->c + i0 * g->ldc + j0, g->ldc, !first || g->accumulate,
                        last, epp, &side);
    return;
  }
  g->tile(rows, nc, kq, g->ap + (i0 * g->kq + q0 * rows) * 4 * g->abytes, p0 + q0 * 64,
          p1 + q0 * 64, (const float *)(p0 - lane * 4 + g->kq * 64) + lane,
          (const float *)(p1 - lane * 4 + g->kq * 64) + lane, g->rowq + 2 * i0,
          g->c + i0 * g->ldc + j0, g->ldc, !first || g->accumulate, last, epp,
          &side);
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

/* AMX with tile data the OS enables (XCR0 bits 17 and 18) and, on Linux,
 * lets this process use (arch_prctl ARCH_REQ_XCOMP_PERM for
 * XFEATURE_XTILEDATA, asked once); `bit`: the feature's CPUID leaf 7 EDX
 * bit besides AMX-TILE's (24). KILN_NO_AMX=1: no. */
static int amx_usable(unsigned bit) {
  static int allowed = -1;
#if defined(__x86_64__) && defined(__linux__)
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 24)) ||
      !(d & (1u << bit)))
    return 0;
  if (allowed < 0) {
    const char *off = getenv("KILN_NO_AMX");
    int ok = 0;
    if (!(off && *off && strcmp(off, "0") != 0) && __get_cpuid(1, &a, &b, &c, &d) &&
        (c & (1u << 27))) {
      unsigned lo, hi;
      __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
      if ((lo & (3u << 17)) == (3u << 17))
        ok = syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */,
                     18 /* XFEATURE_XTILEDATA */) == 0;
    }
    allowed = ok;
  }
  return allowed;
#else
  (void)bit;
  (void)allowed;
  return 0;
#endif
}

int kiln_cpu_has_amx_int8(void) {
  static int known = -1;
  if (known < 0)
    known = amx_usable(25);
  return known;
}

int kiln_cpu_has_amx_bf16(void) {
  static int known = -1;
  if (known < 0)
    known = amx_usable(22);
  return known;
}

int kiln_cpu_has_avx512vnni(void) {
  static int known = -1;
  if (known < 0) {
    __builtin_cpu_init();
    known = __builtin_cpu_supports("avx512vnni") &&
                    __builtin_cpu_supports("avx512bw")
                ? 1
                : 0;
  }
  return known;
}

int kiln_qgemm_run(int isa, int accumulate, int64_t m, int64_t n, int64_t k,
                   const float *a, int64_t lda, int64_t acs, const int8_t *bp,
                   float *c, int64_t ldc, const kiln_epilogue *ep) {
  return kiln_qgemm_run_mode(isa, accumulate, 0, NULL, m, n, k, a, lda, acs,
                             bp, c, ldc, ep);
}

int kiln_qgemm_run_mode(int isa, int accumulate, int mode,
                        const float *given, int64_t m, int64_t n, int64_t k,
                        const float *a, int64_t lda, int64_t acs,
                        const int8_t *bp, float *c, int64_t ldc,
                        const kiln_epilogue *ep) {
  if (m <= 0 || n <= 0)
    return 1;
  if (k <= 0)
    return kiln_sgemm_packed_run_ep(isa, accumulate, m, n, 0, a, lda, acs, NULL,
                                    c, ldc, ep);
  job g = {tile_generic, KILN_SGEMM_MR_GENERIC, 32, m, n, k, (k + 3) / 4,
           a, lda, acs, NULL, NULL, bp, c, ldc, ep, 0, accumulate, 1, NULL,
           0, 0};
  g.kblock = m <= 4 ? g.kq : KQ_BLOCK;
  int per_tensor = (mode & KILN_QGEMM_PER_TENSOR) != 0;
  /* weights within 7 bits: the compiler's own (kiln_s8_weight_qmax) */
  int w7 = !per_tensor || (mode & KILN_QGEMM_KILN_WEIGHTS);
  /* DynamicQuantizeLinear's parameters: the whole tensor's range */
  float fixed[2];
  if (per_tensor && given) {
    fixed[0] = given[0];
    fixed[1] = given[1];
    g.fixed = fixed;
  } else if (per_tensor) {
    float lo = 0.0f, hi = 0.0f;
    int32_t zp;
    range_of(a, lda, acs, m, k, &lo, &hi);
    row_params(lo, hi, &fixed[0], &zp);
    fixed[1] = (float)zp;
    g.fixed = fixed;
  }
  if (isa == KILN_ISA_AVX512 && k % 64 == 0 && m >= KILN_QGEMM_AMX_MIN_M &&
      (acs == 1 || k == 1) && kiln_cpu_has_amx_int8()) {
    /* AMX: 32 x 32 tiles over the whole k (exact int32 sums, one
     * epilogue); its A operand row-major */
    g.amx = 1;
    g.vector_pack = 2;
    g.mr = KILN_QGEMM_MR_AMX;
    g.kblock = g.kq;
  } else if (isa == KILN_ISA_AVX512 && kiln_cpu_has_avx512vnni()) {
    g.tile = kiln_qgemm_tile_avx512vnni;
    g.vector_pack = 2;
    g.mr = KILN_SGEMM_MR_AVX512;
  } else if (isa == KILN_ISA_AVX2 && w7) {
    /* x86-64-v3 with weights the compiler packed to 7 bits
     * (kiln_s8_weight_qmax): vpmaddubsw cannot saturate */
    g.tile = kiln_qgemm_tile_avx2_s7;
    g.vector_pack = 1;
    g.mr = KILN_QGEMM_MR_AVX2_S7;
    g.nc = 16;
  } else if (isa == KILN_ISA_AVX2 || isa == KILN_ISA_AVX512) {
    /* a quantized model's own 8-bit weights on x86-64-v3, or AVX-512
     * without VNNI: the exact 16-bit tile */
    g.tile = kiln_qgemm_tile_avx2;
    g.vector_pack = 1;
    g.mr = KILN_QGEMM_MR_AVX2;
    g.nc = 8;
    g.abytes = 2;
  }
  int64_t rowBlocks = (m + g.mr - 1) / g.mr;
  int64_t colBlocks = (n + g.nc - 1) / g.nc;
  size_t apBytes = ((size_t)(rowBlocks * g.mr * g.kq * 4 * g.abytes) + 63) & ~(size_t)63;
  char *scratch = kiln_scratch(KILN_SCRATCH_GEMM_A,
                               apBytes + (size_t)(2 * rowBlocks * g.mr) * sizeof(float));
  if (!scratch)
    return 0;
  g.ap = (uint8_t *)scratch;
  g.rowq = (float *)(scratch + apBytes);
  kiln_gemm_rows rows = {m, g.mr, colBlocks, g.kq, g.kblock, pack_block,
                        tile_block};
  if (!kiln_gemm_run_rows(&g, m * n * k, &rows))
    kiln_gemm_run_phases(&g, m * n * k, rowBlocks, rowBlocks * colBlocks, pack_a,
                         tiles);
  return 1;
}

/* Entry point of the generated code for a linalg.matmul whose constant
 * right-hand side kiln-cpu-ukernels quantized and packed (--quantize int8);
 * the arguments are kiln_ukernel_sgemm_packed's (gemm_f32.c), bp in bytes. */
static void qgemm_packed_call(int64_t flags, int64_t m, int64_t n, int64_t k,
                               intptr_t a, int64_t aoff, int64_t lda,
                               int64_t acs, intptr_t bp, int64_t bpoff,
                               intptr_t c, int64_t coff, int64_t ldc) {
  if (!kiln_qgemm_run((int)(flags & 0xff), !(flags & KILN_GEMM_OVERWRITE), m, n,
                      k, (const float *)a + aoff, lda, acs,
                      (const int8_t *)bp + bpoff, (float *)c + coff, ldc, NULL))
    kiln_rt_fail_oom();
}

/* Profiled entry point (KILN_PROFILE=1, profile.c). */
KILN_PROF_GEMM_ENTRY(kiln_ukernel_qgemm_packed, "gemm-s8", qgemm_packed_call)
