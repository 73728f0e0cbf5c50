/*===- conv_s8_tiles_impl.h - int8 convolution tiles, AVX-512 ------------===*
 *
 * Included by conv_s8_avx512vnni.c (KILN_S8_VNNI: vpdpbusd) and
 * conv_s8_avx512.c (AVX512BW only: each u8 x s8 quad product as two
 * 16-bit multiply-adds of its even and odd bytes, vpmaddwd, exact in
 * int32 as vpdpbusd is; about a quarter of its speed, for AVX-512 CPUs
 * without VNNI). The register tile: 8 filters x up to 48 flat outputs (3
 * vectors of 16), 24 int32 accumulators; per tap and channel quad, 3
 * loads of 16 quads and 24 products with the filters' quads broadcast.
 * The epilogue scales the sums (sx * sw_f, after - zx * wsum_f), adds the
 * bias, takes the output's Q -> DQ pair, the residual and the activation
 * and stores the output pixels of each vector's rows (columns past OW
 * dropped), as f32 or quantized u8. Layouts in conv_s8.h.
 *
 *===----------------------------------------------------------------------===*/

#include "conv_s8.h"
#include "conv_s8_epi.h"
#include "gemm_f32.h"
#include "vmath_avx512.h"

#include <immintrin.h>
#include <string.h>

#define MR KILN_CONV_S8_MR
#ifndef S8_AL_PF
#define S8_AL_PF 4
#endif

static inline __mmask16 s8_lanes_below(int64_t n) {
  return n >= 16 ? (__mmask16)0xffff : n <= 0 ? 0 : (__mmask16)((1u << n) - 1u);
}

#ifdef KILN_S8_VNNI
typedef __m512i s8_op;
static inline s8_op s8_prep_x(__m512i x) { return x; }
static inline s8_op s8_prep_w(__m512i w) { return w; }
static inline __m512i s8_dot(__m512i acc, s8_op x, s8_op w) {
  return _mm512_dpbusd_epi32(acc, x, w);
}
#define KILN_S8_TASKS kiln_conv_s8_tasks_avx512vnni
#else
/* even and odd bytes of each 16-bit lane, widened: u8 zero-extended
 * (inputs), s8 sign-extended (filters) */
typedef struct {
  __m512i e, o;
} s8_op;
static inline s8_op s8_prep_x(__m512i x) {
  __m512i m = _mm512_set1_epi16(0x00ff);
  s8_op r = {_mm512_and_si512(x, m), _mm512_and_si512(_mm512_srli_epi16(x, 8), m)};
  return r;
}
static inline s8_op s8_prep_w(__m512i w) {
  s8_op r = {_mm512_srai_epi16(_mm512_slli_epi16(w, 8), 8), _mm512_srai_epi16(w, 8)};
  return r;
}
static inline __m512i s8_dot(__m512i acc, s8_op x, s8_op w) {
  return _mm512_add_epi32(acc, _mm512_add_epi32(_mm512_madd_epi16(x.e, w.e),
                                                _mm512_madd_epi16(x.o, w.o)));
}
#define KILN_S8_TASKS kiln_conv_s8_tasks_avx512bw
#endif

static inline void s8_lanes_of(const kiln_conv_s8_job *j, int nv, int64_t t0,
                               s8_lanes *L) {
  int64_t wq = j->wq, ow = j->ow, oh = j->oh;
  if (wq == ow) {
    for (int v = 0; v < nv; ++v) {
      L->n[v] = 1;
      L->m[v][0] = s8_lanes_below(oh * ow - t0 - 16 * v);
      L->at[v][0] = t0 + 16 * v;
    }
    return;
  }
  int64_t oy = t0 / wq, ox = t0 % wq;
  for (int v = 0; v < nv; ++v) {
    int n = 0;
    for (int64_t l = 0; l < 16 && oy < oh;) {
      int64_t run = wq - ox < 16 - l ? wq - ox : 16 - l;
      int64_t valid = ow - ox < run ? ow - ox : run;
      if (valid > 0) {
        L->m[v][n] = (__mmask16)(s8_lanes_below(valid) << l);
        L->at[v][n++] = oy * ow + ox - l;
      }
      l += run;
      ox += run;
      if (ox == wq) {
        ox = 0;
        ++oy;
      }
    }
    L->n[v] = n;
  }
}

/* The epilogue of a tile's accumulators acc[m][v] (8 filters x nv
 * vectors): y = sx sw_f (acc - zx wsum_f) + bias_f, the output's Q -> DQ
 * pair (REQ), the residual (RES), the activation (ACT: 0 none, ReLU,
 * ReLU6 inline, -1 j->act) and the store, f32 or (OUT8) quantized to u8.
 * One function per combination (s8_epilogues), so that none of them tests
 * a flag per vector. */
static inline __attribute__((always_inline)) void
s8_epilogue(const int BF, const int OUT8, const int REQ, const int RES, const int ACT,
            const kiln_conv_s8_job *j, __m512i acc[][3], int nv, int64_t mr,
            const s8_lanes *L, float *y, uint8_t *y8, const float *r,
            const float *scale, const int32_t *wsum, const float *bias) {
  int64_t plane = j->y_plane;
  const __m512 sy = _mm512_set1_ps(j->sy), zy = _mm512_set1_ps(j->zy);
  const __m512 ry = _mm512_set1_ps(j->ry), so = _mm512_set1_ps(j->so);
  const __m512 zo = _mm512_set1_ps(j->zo), ro = _mm512_set1_ps(j->ro);
  for (int64_t m = 0; m < mr; ++m) {
    __m512i corr = _mm512_set1_epi32(j->zp * wsum[m]);
    __m512 sc = _mm512_set1_ps(j->sx * scale[m]);
    __m512 bv = _mm512_set1_ps(bias ? bias[m] : 0.0f);
    for (int v = 0; v < nv; ++v) {
      /* BF: the sums are fp32 already (scale 1, no zero point) */
      __m512 o = BF ? _mm512_add_ps(_mm512_castsi512_ps(acc[m][v]), bv)
                    : _mm512_fmadd_ps(
                          _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[m][v], corr)), sc, bv);
      if (REQ) {
        o = _mm512_mul_ps(_mm512_sub_ps(quant_u8_16(o, sy, ry, zy), zy), sy);
      }
      for (int k = 0; k < L->n[v]; ++k) {
        __mmask16 mk = L->m[v][k];
        int64_t at = m * plane + L->at[v][k];
        __m512 u = o;
        if (RES)
          u = _mm512_add_ps(u, _mm512_maskz_loadu_ps(mk, r + at));
        if (ACT == KILN_ACT_RELU)
          u = _mm512_max_ps(u, _mm512_setzero_ps());
        else if (ACT == KILN_ACT_RELU6)
          u = relu6_16(u);
        else if (ACT < 0)
          u = act16_conv(u, j->act);
        if (OUT8) {
          __m128i b = _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(quant_u8_16(u, so, ro, zo)));
          if (mk == 0xffff)
            _mm_storeu_si128((__m128i *)(void *)(y8 + at), b);
          else
            _mm_mask_storeu_epi8(y8 + at, mk, b);
        } else if (mk == 0xffff) {
          _mm512_storeu_ps(y + at, u);
        } else {
          _mm512_mask_storeu_ps(y + at, mk, u);
        }
      }
    }
  }
}

#define S8_EPI(B, O, Q, R, A, NAME)                                            \
  static __attribute__((noinline)) void NAME(                                  \
      const kiln_conv_s8_job *j, __m512i acc[][3], int nv, int64_t mr,         \
      const s8_lanes *L, float *y, uint8_t *y8, const float *r,                \
      const float *scale, const int32_t *wsum, const float *bias) {            \
    s8_epilogue(B, O, Q, R, A, j, acc, nv, mr, L, y, y8, r, scale, wsum, bias); \
  }
#define S8_EPI_ACTS(B, O, Q, R, P)                                             \
  S8_EPI(B, O, Q, R, 0, P##_none)                                              \
  S8_EPI(B, O, Q, R, KILN_ACT_RELU, P##_relu)                                  \
  S8_EPI(B, O, Q, R, KILN_ACT_RELU6, P##_relu6)                                \
  S8_EPI(B, O, Q, R, -1, P##_any)
S8_EPI_ACTS(0, 0, 0, 0, s8_epi_f)
S8_EPI_ACTS(0, 0, 0, 1, s8_epi_fr)
S8_EPI_ACTS(0, 0, 1, 0, s8_epi_fq)
S8_EPI_ACTS(0, 0, 1, 1, s8_epi_fqr)
S8_EPI_ACTS(0, 1, 0, 0, s8_epi_u)
S8_EPI_ACTS(0, 1, 1, 0, s8_epi_uq)
S8_EPI_ACTS(1, 0, 0, 0, s8_epi_b)
S8_EPI_ACTS(1, 0, 0, 1, s8_epi_br)
#undef S8_EPI_ACTS
#undef S8_EPI

/* The job's epilogue (a u8 output takes no residual: kiln_conv2d_s8
 * checks). */
static s8_epilogue_fn s8_epilogue_of(const kiln_conv_s8_job *j) {
  if (j->lut)
    return kiln_conv_s8_epi_lut_vbmi;
#define S8_PICK(P)                                                             \
  return j->act == 0                ? P##_none                                 \
         : j->act == KILN_ACT_RELU  ? P##_relu                                 \
         : j->act == KILN_ACT_RELU6 ? P##_relu6                                \
                                    : P##_any;
  if (j->bf16) {
    if (j->res)
      S8_PICK(s8_epi_br)
    S8_PICK(s8_epi_b)
  }
  if (j->y8) {
    if (j->requant)
      S8_PICK(s8_epi_uq)
    S8_PICK(s8_epi_u)
  }
  if (j->requant) {
    if (j->res)
      S8_PICK(s8_epi_fqr)
    S8_PICK(s8_epi_fq)
  }
  if (j->res)
    S8_PICK(s8_epi_fr)
  S8_PICK(s8_epi_f)
#undef S8_PICK
}

/* wb: the block's filters; with AL (the AMX layout, conv_s8.h) the 8
 * filters' rows of 64 channels, 64 bytes apart, of tap 0's first chunk. */
static inline __attribute__((always_inline)) void
tile(const int nv, const int AL, const int BF, const kiln_conv_s8_job *j, s8_epilogue_fn epi,
     const uint8_t *x, const int8_t *wb, int64_t t0, int64_t mr, float *y,
     uint8_t *y8, const float *r, const float *scale, const int32_t *wsum,
     const float *bias) {
  __m512i acc[MR][3];
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 3
    for (int v = 0; v < nv; ++v)
      acc[m][v] = _mm512_setzero_si512();
  /* AL: 16 quads of a chunk (per filter, a row of 64 bytes; 8 filters'
   * rows 64 bytes apart), then the next chunk 32 rows on */
  const int64_t qrun = AL ? 16 : j->c4, wq_step = AL ? 4 : MR * 4;
  /* BF: acc holds fp32 sums (vdpbf16ps of bf16 pairs) */
  const int64_t wm = AL ? 64 : 4, run_step = AL ? KILN_CONV_S8_AMX_MR * 64 : 0;
  const int8_t *wr = wb;
  for (int64_t t = 0; t < j->taps; ++t) {
    const uint8_t *xp = x + (j->koff[t] + t0) * 4;
    for (int64_t q0 = 0; q0 < j->c4; q0 += qrun, wr += run_step) {
      const int8_t *w = wr;
      /* (BF's last chunk may hold fewer than 16 pairs) */
      const int64_t qn = j->c4 - q0 < qrun ? j->c4 - q0 : qrun;
      if (AL) /* the 8 rows a few chunks on: a block's rows are 512-byte
                 runs 2 KiB apart, a pattern the prefetchers follow late */
#pragma GCC unroll 8
        for (int m = 0; m < MR; ++m)
          __builtin_prefetch(wr + S8_AL_PF * run_step + m * 64, 0, 3);
      for (int64_t q = 0; q < qn; ++q, xp += j->cq_bytes, w += wq_step) {
#ifdef KILN_S8_VNNI
        if (BF) {
          __m512i xb[3];
#pragma GCC unroll 3
          for (int v = 0; v < nv; ++v)
            xb[v] = _mm512_loadu_si512(xp + v * 64);
#pragma GCC unroll 8
          for (int m = 0; m < MR; ++m) {
            int32_t wq;
            memcpy(&wq, w + m * wm, 4);
            __m512bh wv = (__m512bh)_mm512_set1_epi32(wq);
#pragma GCC unroll 3
            for (int v = 0; v < nv; ++v)
              acc[m][v] = _mm512_castps_si512(_mm512_dpbf16_ps(
                  _mm512_castsi512_ps(acc[m][v]), (__m512bh)xb[v], wv));
          }
          continue;
        }
#endif
        s8_op xv[3];
#pragma GCC unroll 3
        for (int v = 0; v < nv; ++v)
          xv[v] = s8_prep_x(_mm512_loadu_si512(xp + v * 64));
#pragma GCC unroll 8
        for (int m = 0; m < MR; ++m) {
          int32_t wq;
          memcpy(&wq, w + m * wm, 4);
          s8_op wv = s8_prep_w(_mm512_set1_epi32(wq));
#pragma GCC unroll 3
          for (int v = 0; v < nv; ++v)
            acc[m][v] = s8_dot(acc[m][v], xv[v], wv);
        }
      }
      if (!AL)
        wr = w;
    }
  }
  /* a copy: acc itself must not escape, or it lives in memory */
  __m512i out[MR][3];
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 3
    for (int v = 0; v < nv; ++v)
      out[m][v] = acc[m][v];
  s8_lanes L;
  s8_lanes_of(j, nv, t0, &L);
  epi(j, out, nv, mr, &L, y, y8, r, scale, wsum, bias);
}

/* The tasks (image, block of 8 filters, chunk), on 8-filter blocks or
 * (AL) the AMX layout, int8 or (BF) bf16 pairs. */
static inline __attribute__((always_inline)) void
s8_tasks(const int AL, const int BF, const kiln_conv_s8_job *j, int64_t begin,
         int64_t end) {
  const float *scales = (const float *)(const void *)j->wp;
  const int32_t *sums = (const int32_t *)(const void *)(j->wp + j->fb * MR * 4);
  const int8_t *blocks = j->wp + j->fb * MR * 8;
  int64_t block_bytes = j->taps * j->c4 * MR * 4;
  int64_t amx_block_bytes = j->taps * j->c4p * KILN_CONV_S8_AMX_MR * 4;
  int64_t plane = j->y_plane;
  s8_epilogue_fn epi = s8_epilogue_of(j);
  for (int64_t task = begin; task < end; ++task) {
    int64_t img = task / (j->fb * j->chunks), rest = task % (j->fb * j->chunks);
    int64_t b = rest / j->chunks, ch = rest % j->chunks;
    int64_t mr = j->f - b * MR < MR ? j->f - b * MR : MR;
    const uint8_t *x = j->xq + img * j->xq_img;
    float *y = j->y ? j->y + img * j->y_img + b * MR * plane : NULL;
    uint8_t *y8 = j->y8 ? j->y8 + img * j->y_img + b * MR * plane : NULL;
    const float *r = j->res ? j->res + img * j->res_img + b * MR * plane : NULL;
    float sc[MR];
    int32_t ws[MR];
    memcpy(sc, scales + b * MR, sizeof sc);
    memcpy(ws, sums + b * MR, sizeof ws);
    const float *bias = j->bias ? j->bias + b * MR : NULL;
    /* AMX layout: block b is rows 8 (b % 4) .. of 32-filter block b / 4 */
    const int8_t *wb = AL ? j->wa + b / 4 * amx_block_bytes + b % 4 * MR * 64
                          : blocks + b * block_bytes;
    int64_t t_end = (ch + 1) * j->chunk < j->flat ? (ch + 1) * j->chunk : j->flat;
    for (int64_t t0 = ch * j->chunk; t0 < t_end; t0 += 48) {
      int64_t left = t_end - t0;
      if (left > 32)
        tile(3, AL, BF, j, epi, x, wb, t0, mr, y, y8, r, sc, ws, bias);
      else if (left > 16)
        tile(2, AL, BF, j, epi, x, wb, t0, mr, y, y8, r, sc, ws, bias);
      else
        tile(1, AL, BF, j, epi, x, wb, t0, mr, y, y8, r, sc, ws, bias);
    }
  }
}

void KILN_S8_TASKS(void *vjob, int64_t begin, int64_t end) {
  const kiln_conv_s8_job *j = vjob;
  if (j->wa)
    s8_tasks(1, 0, j, begin, end);
  else
    s8_tasks(0, 0, j, begin, end);
}

#ifdef KILN_S8_VNNI
#include "gemm_amx.h"

/* AMX: tasks (image, block of 32 filters, chunk of flat outputs), 32
 * outputs at a time. C tiles tmm4-7 (filters 0-15 / 16-31 x outputs 0-15
 * / 16-31) sum, per tap and 64 channels, _tile_dpbsud of A = 16 filters'
 * 64 signed bytes (the AMX section, rows 64 bytes apart) and B = 16
 * channel quads x 16 outputs' unsigned quads of the input planes (rows
 * cq_bytes apart): exactly the VNNI tile's sums. They go through a
 * buffer to the same epilogue, 8 filters at a time. */
void kiln_conv_bf16_tasks_avx512bf16(void *vjob, int64_t begin, int64_t end) {
  s8_tasks(1, 1, (const kiln_conv_s8_job *)vjob, begin, end);
}

/* C tile c += A tile a . B tile b: bf16 pairs (fp32 sums) or s8 x u8 */
#define AMX_DOT(c, a, b)                                                       \
  do {                                                                         \
    if (BF)                                                                    \
      _tile_dpbf16ps(c, a, b);                                                 \
    else                                                                       \
      _tile_dpbsud(c, a, b);                                                   \
  } while (0)
static inline __attribute__((always_inline)) void
amx_tasks(const int BF, const kiln_conv_s8_job *j, int64_t begin, int64_t end) {
  const float *scales = (const float *)(const void *)j->wp;
  const int32_t *sums = (const int32_t *)(const void *)(j->wp + j->fb * MR * 4);
  const int64_t am = KILN_CONV_S8_AMX_MR, kcs = j->c4p / 16;
  const int64_t block_bytes = j->taps * kcs * am * 64;
  int64_t plane = j->y_plane;
  s8_epilogue_fn epi = s8_epilogue_of(j);
  _Alignas(64) int32_t buf[32 * 32];
  for (int64_t task = begin; task < end; ++task) {
    int64_t img = task / (j->fb32 * j->chunks), rest = task % (j->fb32 * j->chunks);
    int64_t b = rest / j->chunks, ch = rest % j->chunks;
    int64_t nf = j->f - b * am < am ? j->f - b * am : am;
    const int two_f = nf > 16;
    kiln_amx_configure(16, two_f ? 16 : 0);
    const uint8_t *x = j->xq + img * j->xq_img;
    const int8_t *wb = j->wa + b * block_bytes;
    int64_t t_end = (ch + 1) * j->chunk < j->flat ? (ch + 1) * j->chunk : j->flat;
    for (int64_t t0 = ch * j->chunk; t0 < t_end; t0 += 32) {
      const int two_p = t_end - t0 > 16;
      _tile_zero(4);
      _tile_zero(5);
      if (two_f) { /* rows 16-31 are configured only then */
        _tile_zero(6);
        _tile_zero(7);
      }
      const int8_t *w = wb;
      for (int64_t t = 0; t < j->taps; ++t) {
        const uint8_t *xp = x + (j->koff[t] + t0) * 4;
        for (int64_t k = 0; k < kcs; ++k, w += am * 64, xp += 16 * j->cq_bytes) {
          _tile_loadd(0, w, 64);
          _tile_loadd(2, xp, j->cq_bytes);
          if (two_p)
            _tile_loadd(3, xp + 64, j->cq_bytes);
          AMX_DOT(4, 0, 2);
          if (two_p)
            AMX_DOT(5, 0, 3);
          if (two_f) {
            _tile_loadd(1, w + 16 * 64, 64);
            AMX_DOT(6, 1, 2);
            if (two_p)
              AMX_DOT(7, 1, 3);
          }
        }
      }
      _tile_stored(4, buf, 128);
      _tile_stored(5, buf + 16, 128);
      if (two_f) {
        _tile_stored(6, buf + 16 * 32, 128);
        _tile_stored(7, buf + 16 * 32 + 16, 128);
      }
      KILN_AMX_STORED();
      int nv = two_p ? 2 : 1;
      s8_lanes L;
      s8_lanes_of(j, nv, t0, &L);
      for (int64_t m0 = 0; m0 < nf; m0 += MR) {
        int64_t o = b * am + m0, mr = nf - m0 < MR ? nf - m0 : MR;
        __m512i out[MR][3];
        for (int m = 0; m < MR; ++m)
          for (int v = 0; v < 2; ++v)
            out[m][v] = _mm512_load_si512(buf + (m0 + m) * 32 + 16 * v);
        float sc[MR];
        int32_t ws[MR];
        memcpy(sc, scales + o, sizeof sc);
        memcpy(ws, sums + o, sizeof ws);
        epi(j, out, nv, mr, &L, j->y ? j->y + img * j->y_img + o * plane : NULL,
            j->y8 ? j->y8 + img * j->y_img + o * plane : NULL,
            j->res ? j->res + img * j->res_img + o * plane : NULL, sc, ws,
            j->bias ? j->bias + o : NULL);
      }
    }
  }
}

#undef AMX_DOT

void kiln_conv_s8_tasks_amx(void *vjob, int64_t begin, int64_t end) {
  amx_tasks(0, (const kiln_conv_s8_job *)vjob, begin, end);
}

void kiln_conv_bf16_tasks_amx(void *vjob, int64_t begin, int64_t end) {
  amx_tasks(1, (const kiln_conv_s8_job *)vjob, begin, end);
}
#endif
