/*===- conv_s8_avx512.c - int8 convolutions: input, AVX512BW tiles --------===*
 *
 * The layouts are conv_s8.h's. The input's quantization: 16 columns of a
 * phase plane's row from each of a quad's 4 channels, x / sx rounded to
 * nearest even, + zx, clamped to [0, 255], interleaved into 16 quads (one
 * 64-byte store); an input that is already u8 (CONV_IN_U8) only
 * interleaved. Then the tiles (conv_s8_tiles_impl.h) without VNNI; the
 * VNNI ones are conv_s8_avx512vnni.c's. Compiled with -mavx512bw.
 *
 *===----------------------------------------------------------------------===*/

#include "conv_s8_tiles_impl.h"


static inline __m512i quantize16(__m512 v, __m512 s, __m512 r, __m512 z) {
  return _mm512_cvttps_epi32(quant_u8_16(v, s, r, z));
}

/* Constants of the input's quantization. */
typedef struct {
  __m512 s, r, z;
  __m512i zp, lane, even;
} codes_k;

/* 16 f32 values of one channel row: from element `at` of `row`, lane l
 * at + l * step (x * gate, as the graph computes it); col: the lanes'
 * element indices (step past 2); span0 / span1 (step 2): which of the 32
 * elements from `at` exist. Lanes outside `valid` are the caller's. */
static inline __attribute__((always_inline)) __m512
load16(const codes_k *k, const float *p, int64_t at, int64_t step, __m512i col,
       __mmask16 valid, __mmask16 span0, __mmask16 span1, const float *gate) {
  __m512 f;
  if (step == 1) {
    f = _mm512_maskz_loadu_ps(valid, p + at);
  } else if (step == 2) {
    /* elements at .. at + 31 in two loads, the even ones kept (a gather
     * per 16 columns took a quarter of ResNet's strided 1 x 1 layers) */
    __m512 lo = _mm512_maskz_loadu_ps(span0, p + at);
    __m512 hi = _mm512_maskz_loadu_ps(span1, p + at + 16);
    f = _mm512_permutex2var_ps(lo, k->even, hi);
  } else {
    f = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, col, p, 4);
  }
  if (gate) /* x * s first, then / sx, as the graph computes it */
    f = _mm512_mul_ps(f, _mm512_set1_ps(*gate));
  return f;
}

/* bf16 of 16 floats (round to nearest even; NaN stays NaN) in the low
 * halves of int32 lanes, as kiln_conv_bf16_pack rounds the filter. */
static inline __m512i bf16_bits16(__m512 f) {
  __m512i u = _mm512_castps_si512(f);
  __m512i r = _mm512_add_epi32(
      u, _mm512_add_epi32(_mm512_set1_epi32(0x7fff),
                          _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1))));
  __mmask16 nan = _mm512_cmp_ps_mask(f, f, _CMP_UNORD_Q);
  r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(u, _mm512_set1_epi32(0x400000)));
  return _mm512_srli_epi32(r, 16);
}

/* 16 values of one channel row as u8 codes in int32 lanes (BF: bf16
 * bits): f32 quantized (x / sx rounded to nearest even, + zx, clamped) or
 * rounded to bf16, u8 read as they are; lanes outside `valid` are zx
 * (BF: 0). */
static inline __attribute__((always_inline)) __m512i
codes16(const int u8, const int BF, const codes_k *k, const char *row, int64_t at,
        int64_t step, __m512i col, __mmask16 valid, __mmask16 span0,
        __mmask16 span1, const float *gate) {
  if (u8) {
    __m512i v;
    const uint8_t *p = (const uint8_t *)row;
    if (step == 1) {
      v = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(valid, p + at));
    } else { /* strided u8 columns one at a time (no byte gather) */
      int32_t tmp[16];
      for (int l = 0; l < 16; ++l)
        tmp[l] = (valid >> l) & 1 ? p[at + l * step] : 0;
      v = _mm512_loadu_si512(tmp);
    }
    return _mm512_mask_blend_epi32(valid, k->zp, v);
  }
  __m512 f = load16(k, (const float *)row, at, step, col, valid, span0, span1, gate);
  if (BF)
    return _mm512_maskz_mov_epi32(valid, bf16_bits16(f));
  if (valid == 0xffff) /* a full run: no lane to fill */
    return quantize16(f, k->s, k->r, k->z);
  return _mm512_mask_blend_epi32(valid, k->zp, quantize16(f, k->s, k->r, k->z));
}

/* A quad of channels' codes, interleaved: byte ch of lane l is channel
 * ch's (one 64-byte store of 16 quads). */
static inline __m512i interleave4(__m512i q0, __m512i q1, __m512i q2, __m512i q3) {
  return _mm512_or_si512(
      _mm512_or_si512(q0, _mm512_slli_epi32(q1, 8)),
      _mm512_or_si512(_mm512_slli_epi32(q2, 16), _mm512_slli_epi32(q3, 24)));
}

/* A pair of channels' bf16, interleaved: channel 0 in the low half. */
static inline __m512i interleave2(__m512i b0, __m512i b1) {
  return _mm512_or_si512(b0, _mm512_slli_epi32(b1, 16));
}

/* Units [begin, end) of (image, channel quad, phase) of f32 input, or u8
 * (CONV_IN_U8); BF: of (image, channel pair, phase), rounded to bf16 (a
 * pair past the channels, BF's padding to 16 pairs, is zeros). */
static inline __attribute__((always_inline)) void
quantize_units(const kiln_conv_s8_in *j, int64_t begin, int64_t end, const int u8,
               const int BF) {
  const int uc = BF ? 2 : 4; /* channels per unit */
  const int64_t phases = j->pa * j->pb;
  const size_t es = u8 ? 1 : 4; /* bytes per input element */
  const char *x = j->x8 ? (const char *)j->x8 : (const char *)j->x;
  codes_k k;
  k.s = _mm512_set1_ps(j->scale);
  k.r = _mm512_set1_ps(j->rcp);
  k.zp = _mm512_set1_epi32(j->zp);
  k.z = _mm512_set1_ps((float)j->zp);
  k.lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  k.even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                             28, 30);
  if (BF)
    k.zp = _mm512_setzero_si512();
  const __m512i zq = BF ? _mm512_setzero_si512() : _mm512_set1_epi32(j->zp * 0x01010101);
  const __m512i wv = _mm512_set1_epi32((int32_t)j->w);
  for (int64_t u = begin; u < end; ++u) {
    int64_t img = u / (j->c4p * phases), rest = u % (j->c4p * phases);
    int64_t cq = rest / phases, ph = rest % phases;
    int64_t a = ph / j->pb, b = ph % j->pb;
    uint8_t *dst = j->xq + (((img * j->c4p + cq) * phases + ph) * j->pl_len) * 4;
    const char *xi = x + (size_t)(img * j->xs[0]) * es;
    const float *gate = j->gate ? j->gate + img * j->gate_img : NULL;
    if (cq >= j->c4) { /* BF's padding pairs */
      memset(dst, 0, (size_t)j->pl_len * 4);
      continue;
    }
    if (j->flat_in && cq * uc + uc - 1 < j->c) {
      /* the plane is the image's dense plane: one run over it (rows of 7
       * or 14 columns each took a vector of their own) */
      const char *x0 = xi + (size_t)(cq * uc * j->xs[1]) * es;
      size_t cs = (size_t)j->xs[1] * es;
      int64_t n = j->hq * j->wq;
      for (int64_t t = 0; t < n; t += 16) {
        __mmask16 m = s8_lanes_below(n - t);
        __m512i q[4];
        for (int ch = 0; ch < uc; ++ch)
          q[ch] = codes16(u8, BF, &k, x0 + ch * cs, t, 1, k.lane, m, 0, 0,
                          gate ? gate + cq * uc + ch : NULL);
        _mm512_storeu_si512(dst + t * 4, BF ? interleave2(q[0], q[1])
                                            : interleave4(q[0], q[1], q[2], q[3]));
      }
    } else {
      for (int64_t i = 0; i < j->hq; ++i) {
        uint8_t *row = dst + i * j->wq * 4;
        int64_t r = i * j->sh + a - j->pt;
        if (r < 0 || r >= j->h) {
          for (int64_t j0 = 0; j0 < j->wq; j0 += 16)
            _mm512_storeu_si512(row + j0 * 4, zq);
          continue;
        }
        for (int64_t j0 = 0; j0 < j->wq; j0 += 16) {
          /* input columns (j0 + l) * sw + b - pl */
          int64_t c0 = j0 * j->sw + b - j->pl;
          __m512i col = _mm512_add_epi32(
              _mm512_set1_epi32((int32_t)c0),
              _mm512_mullo_epi32(k.lane, _mm512_set1_epi32((int32_t)j->sw)));
          __mmask16 valid = s8_lanes_below(j->wq - j0) &
                            _mm512_cmpge_epi32_mask(col, _mm512_setzero_si512()) &
                            _mm512_cmplt_epi32_mask(col, wv);
          /* sw 2: which of columns c0 .. c0 + 31 are in the image */
          __m512i span = _mm512_add_epi32(_mm512_set1_epi32((int32_t)c0), k.lane);
          __mmask16 span0 = _mm512_cmpge_epi32_mask(span, _mm512_setzero_si512()) &
                            _mm512_cmplt_epi32_mask(span, wv);
          span = _mm512_add_epi32(span, _mm512_set1_epi32(16));
          __mmask16 span1 = _mm512_cmpge_epi32_mask(span, _mm512_setzero_si512()) &
                            _mm512_cmplt_epi32_mask(span, wv);
          __m512i q[4];
          for (int64_t ch = 0; ch < uc; ++ch) {
            int64_t cc = cq * uc + ch;
            q[ch] = k.zp;
            if (cc < j->c && valid)
              q[ch] = codes16(u8, BF, &k,
                              xi + (size_t)(cc * j->xs[1] + r * j->xs[2]) * es,
                              c0, j->sw, col, valid, span0, span1,
                              gate ? gate + cc : NULL);
          }
          _mm512_storeu_si512(row + j0 * 4, BF ? interleave2(q[0], q[1])
                                               : interleave4(q[0], q[1], q[2], q[3]));
        }
      }
    }
    /* the slack after the plane: read by the tiles' last vectors, whose
     * outputs are dropped */
    for (int64_t t = j->hq * j->wq; t < j->pl_len; t += 16)
      _mm512_mask_storeu_epi32(dst + t * 4, s8_lanes_below(j->pl_len - t), zq);
  }
}

/* CONV_IM2COL: units [begin, end) of (image, unit) whose uc values k =
 * (channel, kh, kw) each fill their lane of the oh x ow plane from input
 * row oy * sh + kh - pt, columns ox * sw + kw - pl (zx, BF 0, outside). */
static inline __attribute__((always_inline)) void
im2col_units(const kiln_conv_s8_in *j, int64_t begin, int64_t end, const int u8,
             const int BF) {
  const int uc = BF ? 2 : 4;
  const size_t es = u8 ? 1 : 4;
  const char *x = j->x8 ? (const char *)j->x8 : (const char *)j->x;
  codes_k k;
  k.s = _mm512_set1_ps(j->scale);
  k.r = _mm512_set1_ps(j->rcp);
  k.zp = BF ? _mm512_setzero_si512() : _mm512_set1_epi32(j->zp);
  k.z = _mm512_set1_ps((float)j->zp);
  k.lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  k.even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                             28, 30);
  const __m512i wv = _mm512_set1_epi32((int32_t)j->w), zero = _mm512_setzero_si512();
  const int64_t kk = j->c * j->kh * j->kw;
  for (int64_t u = begin; u < end; ++u) {
    int64_t img = u / j->c4p, cq = u % j->c4p;
    uint8_t *dst = j->xq + (img * j->c4p + cq) * j->pl_len * 4;
    const char *xi = x + (size_t)(img * j->xs[0]) * es;
    const float *gate = j->gate ? j->gate + img * j->gate_img : NULL;
    int64_t cc[4], a[4], b[4];
    int live[4];
    for (int ch = 0; ch < uc; ++ch) {
      int64_t v = cq * uc + ch;
      live[ch] = v < kk;
      cc[ch] = live[ch] ? v / (j->kh * j->kw) : 0;
      a[ch] = live[ch] ? v / j->kw % j->kh : 0;
      b[ch] = live[ch] ? v % j->kw : 0;
    }
    /* columns outer: a column block's lane masks per value, worked out
     * once for all its rows */
    for (int64_t j0 = 0; j0 < j->wq; j0 += 16) {
      __m512i col[4];
      __mmask16 valid[4], span0[4], span1[4];
      int64_t c0[4];
      for (int ch = 0; ch < uc; ++ch) {
        c0[ch] = j0 * j->sw + b[ch] - j->pl;
        col[ch] = _mm512_add_epi32(
            _mm512_set1_epi32((int32_t)c0[ch]),
            _mm512_mullo_epi32(k.lane, _mm512_set1_epi32((int32_t)j->sw)));
        valid[ch] = s8_lanes_below(j->wq - j0) &
                    _mm512_cmpge_epi32_mask(col[ch], zero) &
                    _mm512_cmplt_epi32_mask(col[ch], wv);
        __m512i span = _mm512_add_epi32(_mm512_set1_epi32((int32_t)c0[ch]), k.lane);
        span0[ch] = _mm512_cmpge_epi32_mask(span, zero) & _mm512_cmplt_epi32_mask(span, wv);
        span = _mm512_add_epi32(span, _mm512_set1_epi32(16));
        span1[ch] = _mm512_cmpge_epi32_mask(span, zero) & _mm512_cmplt_epi32_mask(span, wv);
      }
      __mmask16 store = s8_lanes_below(j->wq - j0);
      for (int64_t i = 0; i < j->hq; ++i) {
        __m512i q[4];
        for (int ch = 0; ch < uc; ++ch) {
          int64_t r = i * j->sh + a[ch] - j->pt;
          q[ch] = k.zp;
          if (live[ch] && r >= 0 && r < j->h && valid[ch])
            q[ch] = codes16(u8, BF, &k,
                            xi + (size_t)(cc[ch] * j->xs[1] + r * j->xs[2]) * es, c0[ch],
                            j->sw, col[ch], valid[ch], span0[ch], span1[ch],
                            gate ? gate + cc[ch] : NULL);
        }
        uint8_t *row = dst + i * j->wq * 4;
        if (BF)
          _mm512_mask_storeu_epi32(row + j0 * 4, store, interleave2(q[0], q[1]));
        else
          _mm512_mask_storeu_epi32(row + j0 * 4, store, interleave4(q[0], q[1], q[2], q[3]));
      }
    }
    const __m512i zq = BF ? zero : _mm512_set1_epi32(j->zp * 0x01010101);
    for (int64_t t = j->hq * j->wq; t < j->pl_len; t += 16)
      _mm512_mask_storeu_epi32(dst + t * 4, s8_lanes_below(j->pl_len - t), zq);
  }
}

void kiln_conv_s8_quantize_avx512(void *vjob, int64_t begin, int64_t end) {
  const kiln_conv_s8_in *j = vjob;
  if (j->im2col) {
    if (j->bf16)
      im2col_units(j, begin, end, 0, 1);
    else if (j->x8)
      im2col_units(j, begin, end, 1, 0);
    else
      im2col_units(j, begin, end, 0, 0);
    return;
  }
  if (j->bf16)
    quantize_units(j, begin, end, 0, 1);
  else if (j->x8)
    quantize_units(j, begin, end, 1, 0);
  else
    quantize_units(j, begin, end, 0, 0);
}

/* The range of x [n, c, h, w] (strides xs, unit column stride), widened
 * by the running lo / hi: rows of w columns, or the whole tensor in one
 * run when it is dense. */
void kiln_conv_s8_range_avx512(const float *x, const int64_t *xs, int64_t n,
                               int64_t c, int64_t h, int64_t w, float *lo,
                               float *hi) {
  __m512 l = _mm512_set1_ps(*lo), u = _mm512_set1_ps(*hi);
  int dense = (xs[2] == w || h == 1) && (xs[1] == h * w || c == 1) &&
              (xs[0] == c * h * w || n == 1);
  int64_t rows = dense ? 1 : n * c * h, len = dense ? n * c * h * w : w;
  for (int64_t r = 0; r < rows; ++r) {
    const float *p = dense ? x : x + r / (c * h) * xs[0] + r / h % c * xs[1] + r % h * xs[2];
    int64_t i = 0;
    for (; i + 16 <= len; i += 16) {
      __m512 v = _mm512_loadu_ps(p + i);
      l = _mm512_min_ps(l, v);
      u = _mm512_max_ps(u, v);
    }
    if (i < len) {
      __mmask16 m = s8_lanes_below(len - i);
      __m512 v = _mm512_maskz_loadu_ps(m, p + i);
      l = _mm512_mask_min_ps(l, m, l, v);
      u = _mm512_mask_max_ps(u, m, u, v);
    }
  }
  *lo = _mm512_reduce_min_ps(l);
  *hi = _mm512_reduce_max_ps(u);
}

