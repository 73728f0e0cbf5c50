/*===- dwconv_s8_avx512.c - int8 depthwise convolutions, AVX-512 ---------===*
 *
 * dwconv_s8.h's tasks on AVX-512 (compiled with -mavx512f -mavx512vl
 * -mavx512bw): one channel plane per task. Its input rows quantized (x /
 * sx rounded as the division rounds, + zx, clamped) or read as u8, minus
 * zx, into f32 phase planes by column stride in this thread's scratch
 * (zeros in the padding); then pairs of output rows in register tiles of
 * up to 2 x 4 vectors, one multiply-add per tap with the tap's integer
 * broadcast, the sums of a finished pair of rows through the epilogue
 * (scale, bias, the output's Q -> DQ pair, activation, f32 or u8 store),
 * one function per combination so that none tests a flag per vector.
 *
 *===----------------------------------------------------------------------===*/

#include "dwconv_s8.h"
#include "conv_s8_epi.h"
#include "gemm_s8.h"
#include "gemm_f32.h"
#include "vmath_avx512.h"
#include "../runtime_internal.h"

#include <immintrin.h>
#include <string.h>

static inline __mmask16 lanes_below(int64_t n) {
  return n >= 16 ? (__mmask16)0xffff : n <= 0 ? 0 : (__mmask16)((1u << n) - 1u);
}

/* Row r of the input (f32 or u8) as f32 qx - zx at padded columns
 * [0, len) of dst (0 outside the image). */
static void quant_row(const kiln_dwconv_s8_job *j, const float *xr,
                      const uint8_t *xr8, float *dst, int64_t len) {
  const __m512 s = _mm512_set1_ps(j->sx), r = _mm512_set1_ps(j->rx);
  const __m512 z = _mm512_set1_ps(j->zx);
  for (int64_t c0 = 0; c0 < len; c0 += 16) {
    int64_t col = c0 - j->pl; /* image column of lane 0 */
    __mmask16 in = lanes_below(j->wd - col) & (__mmask16)~lanes_below(-col);
    __m512 q;
    if (!in) {
      q = _mm512_setzero_ps();
    } else if (xr8) {
      q = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(in, xr8 + col)));
      q = _mm512_maskz_sub_ps(in, q, z);
    } else {
      q = quant_u8_16(_mm512_maskz_loadu_ps(in, xr + col), s, r, z);
      q = _mm512_maskz_sub_ps(in, q, z);
    }
    _mm512_storeu_ps(dst + c0, q);
  }
}

/* The task's phase planes: phase b's row i, column t holds the padded
 * input's row i, column t * sw + b. */
static void build_planes(const kiln_dwconv_s8_job *j, const float *x,
                         const uint8_t *x8, float *planes, float *row) {
  int64_t sw = j->sw, ws = j->ws;
  for (int64_t i = 0; i < j->hp; ++i) {
    int64_t r = i - j->pt;
    if (r < 0 || r >= j->h) {
      for (int64_t b = 0; b < j->pb; ++b)
        memset(planes + (b * j->hp + i) * ws, 0, sizeof(float) * (size_t)ws);
      continue;
    }
    const float *xr = x ? x + r * j->wd : NULL;
    const uint8_t *xr8 = x8 ? x8 + r * j->wd : NULL;
    if (sw == 1) {
      quant_row(j, xr, xr8, planes + i * ws, ws);
      continue;
    }
    quant_row(j, xr, xr8, row, ws * sw);
    float *p0 = planes + i * ws;
    if (sw == 2) {
      const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18,
                                             20, 22, 24, 26, 28, 30);
      const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
      float *p1 = planes + (j->hp + i) * ws;
      for (int64_t t = 0; t < ws; t += 16) {
        __m512 a = _mm512_loadu_ps(row + 2 * t), b = _mm512_loadu_ps(row + 2 * t + 16);
        _mm512_storeu_ps(p0 + t, _mm512_permutex2var_ps(a, even, b));
        if (j->pb > 1)
          _mm512_storeu_ps(p1 + t, _mm512_permutex2var_ps(a, odd, b));
      }
      continue;
    }
    for (int64_t b = 0; b < j->pb; ++b)
      for (int64_t t = 0; t < ws; ++t)
        planes[(b * j->hp + i) * ws + t] = row[t * sw + b];
  }
}

/* R output rows from oy, V vectors from ox0: sums into rows (R x ws). */
static inline __attribute__((always_inline)) void
tile(const int R, const int V, const kiln_dwconv_s8_job *j, const float *planes,
     const float *w, int64_t oy, int64_t ox0, float *rows) {
  __m512 acc[2][4];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v)
      acc[r][v] = _mm512_setzero_ps();
  const float *base = planes + oy * j->sh * j->ws + ox0;
  int64_t rstep = j->sh * j->ws, taps = j->kh * j->kw;
  for (int64_t t = 0; t < taps; ++t) {
    __m512 wv = _mm512_set1_ps(w[t]);
    const float *src = base + j->toff[t];
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < V; ++v)
        acc[r][v] = _mm512_fmadd_ps(_mm512_loadu_ps(src + r * rstep + 16 * v), wv,
                                    acc[r][v]);
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v)
      _mm512_storeu_ps(rows + r * j->ws + ox0 + 16 * v, acc[r][v]);
}

#define DW_TILES(R)                                                            \
  static void tiles##R(const kiln_dwconv_s8_job *j, const float *planes,       \
                       const float *w, int64_t oy, float *rows) {             \
    for (int64_t ox0 = 0; ox0 < j->ow;) {                                      \
      int64_t left = j->ow - ox0;                                              \
      if (left > 48) {                                                         \
        tile(R, 4, j, planes, w, oy, ox0, rows);                               \
        ox0 += 64;                                                             \
      } else if (left > 32) {                                                  \
        tile(R, 3, j, planes, w, oy, ox0, rows);                               \
        ox0 += 48;                                                             \
      } else if (left > 16) {                                                  \
        tile(R, 2, j, planes, w, oy, ox0, rows);                               \
        ox0 += 32;                                                             \
      } else {                                                                 \
        tile(R, 1, j, planes, w, oy, ox0, rows);                               \
        ox0 += 16;                                                             \
      }                                                                        \
    }                                                                          \
  }
DW_TILES(1)
DW_TILES(2)
#undef DW_TILES

/* The epilogue of `nr` finished rows: sums (rows ws apart) -> y (f32) or
 * y8 (OUT8), rows ow apart. */
typedef void (*dw_epi_fn)(const kiln_dwconv_s8_job *j, const float *sums,
                          int nr, float sc, float b, float *y, uint8_t *y8);

typedef struct {
  __m512 sc, b, sy, ry, zy, so, ro, zo;
} dw_epi_k;

/* One vector of 16 sums, the stores masked to m. */
static inline __attribute__((always_inline)) void
epi16(const int OUT8, const int REQ, const int ACT, const kiln_dwconv_s8_job *j,
      const dw_epi_k *k, __m512 s, __mmask16 m, float *y, uint8_t *y8) {
  __m512 v = _mm512_fmadd_ps(s, k->sc, k->b);
  if (REQ)
    v = _mm512_mul_ps(_mm512_sub_ps(quant_u8_16(v, k->sy, k->ry, k->zy), k->zy), k->sy);
  if (ACT == KILN_ACT_RELU6)
    v = relu6_16(v);
  else if (ACT < 0)
    v = act16_conv(v, j->act);
  if (OUT8) {
    __m128i b8 = _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(quant_u8_16(v, k->so, k->ro, k->zo)));
    if (m == 0xffff)
      _mm_storeu_si128((__m128i *)(void *)y8, b8);
    else
      _mm_mask_storeu_epi8(y8, m, b8);
  } else if (m == 0xffff) {
    _mm512_storeu_ps(y, v);
  } else {
    _mm512_mask_storeu_ps(y, m, v);
  }
}

static inline __attribute__((always_inline)) void
epilogue(const int OUT8, const int REQ, const int ACT, const kiln_dwconv_s8_job *j,
         const float *sums, int nr, float sc, float b, float *y, uint8_t *y8) {
  dw_epi_k k = {_mm512_set1_ps(sc),    _mm512_set1_ps(b),    _mm512_set1_ps(j->sy),
                _mm512_set1_ps(j->ry), _mm512_set1_ps(j->zy), _mm512_set1_ps(j->so),
                _mm512_set1_ps(j->ro), _mm512_set1_ps(j->zo)};
  int64_t ow = j->ow;
  for (int r = 0; r < nr; ++r)
    for (int64_t o0 = 0; o0 < ow; o0 += 16)
      epi16(OUT8, REQ, ACT, j, &k, _mm512_loadu_ps(sums + r * j->ws + o0),
            lanes_below(ow - o0), y ? y + r * ow + o0 : NULL, y8 ? y8 + r * ow + o0 : NULL);
}

/* f32 output after the pair by the float table (gather): the pair's
 * rounding, then act((q - zy) sy) looked up. */
static __attribute__((noinline)) void dw_epi_fq_table(const kiln_dwconv_s8_job *j,
                                                      const float *sums, int nr,
                                                      float sc, float b, float *y,
                                                      uint8_t *y8) {
  (void)y8;
  const __m512 scv = _mm512_set1_ps(sc), bv = _mm512_set1_ps(b);
  const __m512 sy = _mm512_set1_ps(j->sy), ry = _mm512_set1_ps(j->ry);
  const __m512 zy = _mm512_set1_ps(j->zy);
  for (int r = 0; r < nr; ++r)
    for (int64_t o0 = 0; o0 < j->ow; o0 += 16) {
      __m512 v = _mm512_fmadd_ps(_mm512_loadu_ps(sums + r * j->ws + o0), scv, bv);
      v = _mm512_i32gather_ps(_mm512_cvttps_epi32(quant_u8_16(v, sy, ry, zy)), j->lutf, 4);
      _mm512_mask_storeu_ps(y + r * j->ow + o0, lanes_below(j->ow - o0), v);
    }
}

void kiln_s8_act_table(float t[256], float sy, float zy, int act) {
  const __m512 syv = _mm512_set1_ps(sy), zyv = _mm512_set1_ps(zy);
  for (int q0 = 0; q0 < 256; q0 += 16) {
    __m512 q = _mm512_cvtepi32_ps(_mm512_add_epi32(
        _mm512_set1_epi32(q0),
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)));
    _mm512_storeu_ps(t + q0, act16_conv(_mm512_mul_ps(_mm512_sub_ps(q, zyv), syv), act));
  }
}

#define DW_EPI(O, Q, A, NAME)                                                  \
  static __attribute__((noinline)) void NAME(const kiln_dwconv_s8_job *j,      \
                                             const float *sums, int nr,        \
                                             float sc, float b, float *y,      \
                                             uint8_t *y8) {                    \
    epilogue(O, Q, A, j, sums, nr, sc, b, y, y8);                              \
  }
#define DW_EPI_ACTS(O, Q, P)                                                   \
  DW_EPI(O, Q, 0, P##_none)                                                    \
  DW_EPI(O, Q, KILN_ACT_RELU6, P##_relu6)                                      \
  DW_EPI(O, Q, -1, P##_any)
DW_EPI_ACTS(0, 0, dw_epi_f)
DW_EPI_ACTS(0, 1, dw_epi_fq)
DW_EPI_ACTS(1, 0, dw_epi_u)
DW_EPI_ACTS(1, 1, dw_epi_uq)
#undef DW_EPI_ACTS
#undef DW_EPI

static dw_epi_fn epilogue_of(const kiln_dwconv_s8_job *j) {
  if (j->lut)
    return kiln_dwconv_s8_epi_lut_vbmi;
  if (j->lutf)
    return dw_epi_fq_table;
#define DW_PICK(P)                                                             \
  return j->act == 0 ? P##_none : j->act == KILN_ACT_RELU6 ? P##_relu6 : P##_any;
  if (j->y8) {
    if (j->requant)
      DW_PICK(dw_epi_uq)
    DW_PICK(dw_epi_u)
  }
  if (j->requant)
    DW_PICK(dw_epi_fq)
  DW_PICK(dw_epi_f)
#undef DW_PICK
}

/* ---- AVX512-VNNI + VBMI: u8 rows, four taps per vpdpbusd ------------ *
 * The plane padded with zx as u8 rows (ws8 bytes apart); for 16 outputs
 * of a row and a filter row's taps 4g .. 4g + 3, one 64-byte load, a
 * vpermb that gives lane l the 4 bytes from l * sw + 4g, and one vpdpbusd
 * with the taps' int8 quad broadcast: exact int32 sums, minus zx * wsum_c
 * (the padding's zx included), as f32 into the same epilogue. */

#define DW_VNNI __attribute__((target("avx512vbmi,avx512vnni")))

/* Output rows whose sums go through one epilogue call: an even number,
 * at least 2, at most 16 KiB of sums (small planes: all of them, one call
 * per plane instead of one per pair of rows). */
static inline int64_t dw8_batch_rows(const kiln_dwconv_s8_job *j) {
  int64_t b = (16384 / (int64_t)sizeof(float) / j->ws) & ~(int64_t)1;
  return b < 2 ? 2 : b;
}

/* Bytes between the u8 rows, and their count. */
static inline int64_t dw8_row_bytes(const kiln_dwconv_s8_job *j) {
  int64_t g = (j->kw + 3) / 4;
  return ((j->ow + 16) * j->sw + 4 * g + 64 + 63) / 64 * 64;
}

/* The plane as u8 rows padded with zx: quantized from f32 (x / sx
 * rounded as the division rounds) or copied; each row first filled with
 * zx a vector at a time (ws8 is a multiple of 64). */
static DW_VNNI void build_u8(const kiln_dwconv_s8_job *j, const float *x,
                             const uint8_t *x8, uint8_t *p, int64_t ws8) {
  int64_t lo = j->pl < 0 ? 0 : j->pl < ws8 ? j->pl : ws8;
  int64_t skip = j->pl < 0 ? -j->pl : 0; /* image columns cut by a negative pad */
  int64_t n = j->wd - skip < ws8 - lo ? j->wd - skip : ws8 - lo;
  const __m512i zv = _mm512_set1_epi8((char)(uint8_t)j->zx);
  const __m512 s = _mm512_set1_ps(j->sx), r = _mm512_set1_ps(j->rx);
  const __m512 z = _mm512_set1_ps(j->zx);
  for (int64_t i = 0; i < j->hp; ++i) {
    uint8_t *d = p + i * ws8;
    for (int64_t o = 0; o < ws8; o += 64)
      _mm512_storeu_si512(d + o, zv);
    int64_t row = i - j->pt;
    if (row < 0 || row >= j->h || n <= 0)
      continue;
    if (x8) {
      const uint8_t *src = x8 + row * j->wd + skip;
      for (int64_t c0 = 0; c0 < n; c0 += 64) {
        __mmask64 m = n - c0 >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (n - c0)) - 1);
        _mm512_mask_storeu_epi8(d + lo + c0, m, _mm512_maskz_loadu_epi8(m, src + c0));
      }
      continue;
    }
    const float *xr = x + row * j->wd + skip;
    for (int64_t c0 = 0; c0 < n; c0 += 16) {
      __mmask16 m = lanes_below(n - c0);
      __m512 q = quant_u8_16(_mm512_maskz_loadu_ps(m, xr + c0), s, r, z);
      _mm_mask_storeu_epi8(d + lo + c0, m, _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(q)));
    }
  }
}

/* R rows from oy, V vectors from ox0: sums - corr as f32 into rows. */
static inline __attribute__((always_inline)) DW_VNNI void
tile8(const int R, const int V, const kiln_dwconv_s8_job *j, const uint8_t *p,
      int64_t ws8, const int32_t *wq, int64_t groups, __m512i idx, int32_t corr,
      int64_t oy, int64_t ox0, float *rows) {
  __m512i acc[2][4];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v)
      acc[r][v] = _mm512_setzero_si512();
  for (int64_t a = 0; a < j->kh; ++a)
    for (int64_t g = 0; g < groups; ++g) {
      __m512i w = _mm512_set1_epi32(wq[a * groups + g]);
      const uint8_t *src = p + (oy * j->sh + a) * ws8 + ox0 * j->sw + 4 * g;
      for (int r = 0; r < R; ++r)
        for (int v = 0; v < V; ++v) {
          __m512i b = _mm512_loadu_si512(src + r * j->sh * ws8 + 16 * v * j->sw);
          acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], _mm512_permutexvar_epi8(idx, b), w);
        }
    }
  __m512i cv = _mm512_set1_epi32(corr);
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v)
      _mm512_storeu_ps(rows + r * j->ws + ox0 + 16 * v,
                       _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][v], cv)));
}

#define DW8_TILES(R)                                                           \
  static DW_VNNI void tiles8_##R(const kiln_dwconv_s8_job *j, const uint8_t *p, \
                                 int64_t ws8, const int32_t *wq, int64_t groups, \
                                 __m512i idx, int32_t corr, int64_t oy,        \
                                 float *rows) {                                \
    for (int64_t ox0 = 0; ox0 < j->ow;) {                                      \
      int64_t left = j->ow - ox0;                                              \
      if (left > 48) {                                                         \
        tile8(R, 4, j, p, ws8, wq, groups, idx, corr, oy, ox0, rows);          \
        ox0 += 64;                                                             \
      } else if (left > 32) {                                                  \
        tile8(R, 3, j, p, ws8, wq, groups, idx, corr, oy, ox0, rows);          \
        ox0 += 48;                                                             \
      } else if (left > 16) {                                                  \
        tile8(R, 2, j, p, ws8, wq, groups, idx, corr, oy, ox0, rows);          \
        ox0 += 32;                                                             \
      } else {                                                                 \
        tile8(R, 1, j, p, ws8, wq, groups, idx, corr, oy, ox0, rows);          \
        ox0 += 16;                                                             \
      }                                                                        \
    }                                                                          \
  }
DW8_TILES(1)
DW8_TILES(2)
#undef DW8_TILES

static DW_VNNI void tasks_vnni(kiln_dwconv_s8_job *j, int64_t begin, int64_t end,
                               uint8_t *p, float *rows) {
  int64_t ws8 = dw8_row_bytes(j), groups = (j->kw + 3) / 4, taps = j->kh * j->kw;
  int64_t batch = dw8_batch_rows(j);
  int8_t idx_b[64];
  for (int l = 0; l < 64; ++l)
    idx_b[l] = (int8_t)((l / 4) * j->sw + l % 4);
  __m512i idx = _mm512_loadu_si512(idx_b);
  dw_epi_fn epi = epilogue_of(j);
  int32_t wq[4 * 64];
  for (int64_t task = begin; task < end; ++task) {
    int64_t img = task / j->c, ch = task % j->c;
    int64_t xo = img * j->x_img + ch * j->x_ch, yo = img * j->y_img + ch * j->y_ch;
    build_u8(j, j->x ? j->x + xo : NULL, j->x8 ? j->x8 + xo : NULL, p, ws8);
    const float *w = j->w + ch * taps;
    int32_t wsum = 0;
    for (int64_t a = 0; a < j->kh; ++a)
      for (int64_t g = 0; g < groups; ++g) {
        uint32_t quad = 0;
        for (int64_t e = 4 * g; e < 4 * g + 4 && e < j->kw; ++e) {
          int32_t v = (int32_t)w[a * j->kw + e];
          wsum += v;
          quad |= (uint32_t)(uint8_t)(int8_t)v << (8 * (e - 4 * g));
        }
        wq[a * groups + g] = (int32_t)quad;
      }
    int32_t corr = (int32_t)j->zx * wsum;
    float sc = j->sx * j->scale[ch], b = j->bias ? j->bias[ch] : 0.0f;
    for (int64_t oy0 = 0; oy0 < j->oh; oy0 += batch) {
      int64_t nr = j->oh - oy0 < batch ? j->oh - oy0 : batch;
      for (int64_t r = 0; r < nr; r += 2) {
        float *dst = rows + r * j->ws;
        if (r + 1 < nr)
          tiles8_2(j, p, ws8, wq, groups, idx, corr, oy0 + r, dst);
        else
          tiles8_1(j, p, ws8, wq, groups, idx, corr, oy0 + r, dst);
      }
      int64_t at = yo + oy0 * j->ow;
      epi(j, rows, (int)nr, sc, b, j->y ? j->y + at : NULL, j->y8 ? j->y8 + at : NULL);
    }
  }
}

/* Whether the VNNI path takes the job: the CPU has AVX512-VNNI and VBMI
 * (KILN_NO_VNNI=1 says no), the filter at most 256 quads, stride at most
 * 4 (a vector's bytes within 64). The filter's integers are int8 (the
 * model's, dwconv_s8.h). */
static int vnni_takes(const kiln_dwconv_s8_job *j) {
  return kiln_cpu_has_avx512vnni() && kiln_cpu_has_avx512vbmi() && j->sw <= 4 &&
         j->kh * ((j->kw + 3) / 4) <= 4 * 64;
}

void kiln_dwconv_s8_avx512(void *vjob, int64_t begin, int64_t end) {
  kiln_dwconv_s8_job *j = vjob;
  int vnni = vnni_takes(j);
  int64_t sums = vnni ? dw8_batch_rows(j) * j->ws + 16 : 0;
  size_t bytes = vnni ? (size_t)(j->hp * dw8_row_bytes(j)) + sizeof(float) * (size_t)sums
                      : (size_t)kiln_dwconv_s8_scratch(j) * sizeof(float);
  float *scratch = kiln_scratch(KILN_SCRATCH_DW, bytes);
  if (!scratch) {
    __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
    return;
  }
  if (vnni) {
    float *rows = scratch; /* then the u8 rows */
    tasks_vnni(j, begin, end, (uint8_t *)(rows + sums), rows);
    return;
  }
  float *planes = scratch, *row = planes + j->pb * j->hp * j->ws;
  float *rows = row + j->ws * j->sw + 32;
  dw_epi_fn epi = epilogue_of(j);
  int64_t taps = j->kh * j->kw;
  for (int64_t task = begin; task < end; ++task) {
    int64_t img = task / j->c, ch = task % j->c;
    int64_t xo = img * j->x_img + ch * j->x_ch, yo = img * j->y_img + ch * j->y_ch;
    build_planes(j, j->x ? j->x + xo : NULL, j->x8 ? j->x8 + xo : NULL, planes, row);
    const float *w = j->w + ch * taps;
    float sc = j->sx * j->scale[ch], b = j->bias ? j->bias[ch] : 0.0f;
    for (int64_t oy = 0; oy < j->oh; oy += 2) {
      int two = oy + 1 < j->oh;
      if (two)
        tiles2(j, planes, w, oy, rows);
      else
        tiles1(j, planes, w, oy, rows);
      int64_t at = yo + oy * j->ow;
      epi(j, rows, 1 + two, sc, b, j->y ? j->y + at : NULL, j->y8 ? j->y8 + at : NULL);
    }
  }
}
