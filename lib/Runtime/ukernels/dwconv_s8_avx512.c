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
  const __m512 z = _mm512_set1_ps(j->zx), top = _mm512_set1_ps(255.0f);
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
      q = round_div16(_mm512_maskz_loadu_ps(in, xr + col), s, r);
      q = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(q, z), _mm512_setzero_ps()), top);
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

/* One row's epilogue: sums (n of them) -> y (f32) or y8 (OUT8). */
typedef void (*dw_epi_fn)(const kiln_dwconv_s8_job *j, const float *sums,
                          float sc, float b, float *y, uint8_t *y8);

static inline __attribute__((always_inline)) void
epilogue(const int OUT8, const int REQ, const int ACT, const kiln_dwconv_s8_job *j,
         const float *sums, float sc, float b, float *y, uint8_t *y8) {
  const __m512 scv = _mm512_set1_ps(sc), bv = _mm512_set1_ps(b);
  const __m512 sy = _mm512_set1_ps(j->sy), ry = _mm512_set1_ps(j->ry);
  const __m512 zy = _mm512_set1_ps(j->zy), so = _mm512_set1_ps(j->so);
  const __m512 ro = _mm512_set1_ps(j->ro), zo = _mm512_set1_ps(j->zo);
  const __m512 top = _mm512_set1_ps(255.0f);
  for (int64_t o0 = 0; o0 < j->ow; o0 += 16) {
    __mmask16 m = lanes_below(j->ow - o0);
    __m512 v = _mm512_fmadd_ps(_mm512_loadu_ps(sums + o0), scv, bv);
    if (REQ) {
      __m512 q = round_div16(v, sy, ry);
      q = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(q, zy), _mm512_setzero_ps()), top);
      v = _mm512_mul_ps(_mm512_sub_ps(q, zy), sy);
    }
    if (ACT == KILN_ACT_RELU6)
      v = relu6_16(v);
    else if (ACT < 0)
      v = act16_conv(v, j->act);
    if (OUT8) {
      __m512 q = round_div16(v, so, ro);
      q = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(q, zo), _mm512_setzero_ps()), top);
      __m128i b8 = _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(q));
      if (m == 0xffff)
        _mm_storeu_si128((__m128i *)(void *)(y8 + o0), b8);
      else
        _mm_mask_storeu_epi8(y8 + o0, m, b8);
    } else if (m == 0xffff) {
      _mm512_storeu_ps(y + o0, v);
    } else {
      _mm512_mask_storeu_ps(y + o0, m, v);
    }
  }
}

#define DW_EPI(O, Q, A, NAME)                                                  \
  static __attribute__((noinline)) void NAME(const kiln_dwconv_s8_job *j,      \
                                             const float *sums, float sc,      \
                                             float b, float *y, uint8_t *y8) { \
    epilogue(O, Q, A, j, sums, sc, b, y, y8);                                  \
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

void kiln_dwconv_s8_avx512(void *vjob, int64_t begin, int64_t end) {
  kiln_dwconv_s8_job *j = vjob;
  float *scratch = kiln_scratch(KILN_SCRATCH_DW,
                                (size_t)kiln_dwconv_s8_scratch(j) * sizeof(float));
  if (!scratch) {
    __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
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
      for (int r = 0; r <= two; ++r) {
        int64_t at = yo + (oy + r) * j->ow;
        epi(j, rows + r * j->ws, sc, b, j->y ? j->y + at : NULL,
            j->y8 ? j->y8 + at : NULL);
      }
    }
  }
}
