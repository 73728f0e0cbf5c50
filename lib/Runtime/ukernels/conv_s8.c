/*===- conv_s8.c - int8 convolutions of QDQ models: the driver ------------===*
 *
 * kiln.ukernel "conv2d_f32" with flag 256 (CONV_S8; layouts and the
 * arithmetic in conv_s8.h). desc: isa, flags, activation, stride h/w, pad
 * top/left, dilation h/w (1), KH, KW, then the views x [N, C, H, W] (f32),
 * the packed filter (i8, 1-D), [bias [F],] [residual [N, F, OH, OW],]
 * [input scale [N or 1, C, 1, 1] (CONV_XSCALE: x * s is quantized),]
 * y [N, F, OH, OW]; fparams: sx, zx[, sy, zy with CONV_REQUANT][, so, zo
 * with CONV_OUT_U8]. x is u8 with CONV_IN_U8, y with CONV_OUT_U8. The input is quantized into its
 * phase planes, then the tiles run over (image, filter block, run of
 * outputs): AVX512-VNNI where the CPU has it (conv_s8_avx512vnni.c), else
 * AVX512BW's 16-bit products (conv_s8_avx512.c, about a quarter of its
 * speed), else (a model compiled for x86-64-v4 run on an AVX-512 CPU
 * without BW) the plain C loops below over the same layouts.
 *
 *===----------------------------------------------------------------------===*/

#include "conv_s8.h"
#include "conv_s8_epi.h"
#include "conv_f32_internal.h"
#include "gemm_f32.h"
#include "gemm_s8.h"
#include "gemm_amx.h"
#include "bf16_round.h"

#include <limits.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#define MR KILN_CONV_S8_MR

/* Whether the CPU has AVX512BW (and VL), checked once (gemm_s8.h). */
int kiln_cpu_has_avx512bw(void) {
  static int known = -1;
  if (known < 0) {
    __builtin_cpu_init();
    known = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  }
  return known;
}

int kiln_cpu_has_avx512vbmi(void) {
  static int known = -1;
  if (known < 0) {
    __builtin_cpu_init();
    const char *e = getenv("KILN_NO_VNNI");
    known = __builtin_cpu_supports("avx512vbmi") && kiln_cpu_has_avx512bw() &&
            !(e && *e && *e != '0');
  }
  return known;
}

/* KILN_NO_VNNI=1 runs the AVX512BW tiles on a CPU with VNNI too (their
 * test, test/runtime/conv_s8.test). */
static int vnni_off(void) {
  static int off = -1;
  if (off < 0) {
    const char *e = getenv("KILN_NO_VNNI");
    off = e && *e && *e != '0';
  }
  return off;
}

/* The input's unit of channels ch of quad / pair cq: its channel and tap
 * offset (a, b) in phase (pa, pb) of the phase planes, or (im2col) its
 * value k = cq * uc + ch of the filter's (channel, kh, kw); returns 0 past
 * the channels. */
static int unit_source(const kiln_conv_s8_in *j, int64_t cq, int uc, int ch,
                       int64_t ph, int64_t *cc, int64_t *a, int64_t *b) {
  int64_t k = cq * uc + ch;
  if (j->im2col) {
    if (k >= j->c * j->kh * j->kw)
      return 0;
    *cc = k / (j->kh * j->kw);
    *a = k / j->kw % j->kh;
    *b = k % j->kw;
    return 1;
  }
  *cc = k;
  *a = ph / j->pb;
  *b = ph % j->pb;
  return k < j->c;
}

static void quantize_generic(void *vjob, int64_t begin, int64_t end) {
  const kiln_conv_s8_in *j = vjob;
  const int64_t phases = j->pa * j->pb;
  for (int64_t u = begin; u < end; ++u) {
    int64_t img = u / (j->c4p * phases), rest = u % (j->c4p * phases);
    int64_t cq = rest / phases, ph = rest % phases;
    uint8_t *dst = j->xq + (((img * j->c4p + cq) * phases + ph) * j->pl_len) * 4;
    memset(dst, j->bf16 ? 0 : j->zp, (size_t)j->pl_len * 4);
    if (cq >= j->c4) /* the padding units */
      continue;
    const int uc = j->bf16 ? 2 : 4;
    const float *xi = j->x ? j->x + img * j->xs[0] : NULL;
    for (int ch = 0; ch < uc; ++ch) {
      int64_t cc, a, b;
      if (!unit_source(j, cq, uc, ch, ph, &cc, &a, &b))
        continue;
      for (int64_t i = 0; i < j->hq; ++i) {
        int64_t r = i * j->sh + a - j->pt;
        if (r < 0 || r >= j->h)
          continue;
        for (int64_t jj = 0; jj < j->wq; ++jj) {
          int64_t col = jj * j->sw + b - j->pl;
          if (col < 0 || col >= j->w)
            continue;
          int64_t at = cc * j->xs[1] + r * j->xs[2] + col;
          if (j->x8) {
            dst[(i * j->wq + jj) * 4 + ch] = j->x8[img * j->xs[0] + at];
            continue;
          }
          float v = xi[at];
          if (j->gate)
            v *= j->gate[img * j->gate_img + cc];
          if (j->bf16) {
            uint16_t h = kiln_bf16_round(v);
            memcpy(dst + (i * j->wq + jj) * 4 + ch * 2, &h, 2);
            continue;
          }
          v /= j->scale;
          v = v < -512.0f ? -512.0f : v > 512.0f ? 512.0f : v;
          int32_t q = (int32_t)nearbyintf(v) + j->zp;
          dst[(i * j->wq + jj) * 4 + ch] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
        }
      }
    }
  }
}

static void tasks_generic(void *vjob, int64_t begin, int64_t end) {
  const kiln_conv_s8_job *j = vjob;
  int64_t plane = j->y_plane, block_bytes = j->taps * j->c4 * MR * 4;
  const int8_t *blocks = j->wp + j->fb * MR * 8;
  for (int64_t task = begin; task < end; ++task) {
    int64_t img = task / (j->fb * j->chunks), rest = task % (j->fb * j->chunks);
    int64_t b = rest / j->chunks, ch = rest % j->chunks;
    const uint8_t *x = j->xq + img * j->xq_img;
    int64_t t_end = (ch + 1) * j->chunk < j->flat ? (ch + 1) * j->chunk : j->flat;
    for (int64_t m = 0; m < MR && b * MR + m < j->f; ++m) {
      int64_t o = b * MR + m;
      float sc;
      int32_t ws;
      memcpy(&sc, j->wp + o * 4, 4);
      memcpy(&ws, j->wp + j->fb * MR * 4 + o * 4, 4);
      const int8_t *wb = blocks + b * block_bytes;
      for (int64_t t = ch * j->chunk; t < t_end; ++t) {
        int64_t oy = t / j->wq, ox = t % j->wq;
        if (ox >= j->ow)
          continue;
        int32_t acc = 0;
        float facc = 0.0f; /* bf16: fp32 sums of the pairs' products */
        for (int64_t k = 0; k < j->taps; ++k)
          for (int64_t q = 0; q < j->c4; ++q) {
            const uint8_t *xv = x + q * j->cq_bytes + (j->koff[k] + t) * 4;
            const int8_t *wv =
                j->wa ? j->wa + ((((o / 32) * j->taps + k) * (j->c4p / 16) + q / 16) * 32 +
                                 o % 32) * 64 + (q % 16) * 4
                      : wb + ((k * j->c4 + q) * MR + m) * 4;
            if (j->bf16) {
              for (int r = 0; r < 2; ++r) {
                uint16_t xh, wh;
                memcpy(&xh, xv + 2 * r, 2);
                memcpy(&wh, wv + 2 * r, 2);
                facc += kiln_bf16_widen(xh) * kiln_bf16_widen(wh);
              }
              continue;
            }
            for (int r = 0; r < 4; ++r)
              acc += (int32_t)xv[r] * wv[r];
          }
        float v = j->bf16 ? facc + (j->bias ? j->bias[o] : 0.0f)
                          : (float)(acc - j->zp * ws) * (j->sx * sc) +
                                (j->bias ? j->bias[o] : 0.0f);
        if (j->requant)
          v = (kiln_quant_u8_scalar(v, j->sy, j->zy) - j->zy) * j->sy;
        int64_t at = img * j->y_img + o * plane + oy * j->ow + ox;
        if (j->res)
          v += j->res[img * j->res_img + o * plane + oy * j->ow + ox];
        v = kiln_act_scalar(v, j->act);
        if (j->y8) {
          j->y8[at] = (uint8_t)kiln_quant_u8_scalar(v, j->so, j->zo);
        } else {
          j->y[at] = v;
        }
      }
    }
  }
}

/* CONV_DYNAMIC's range: parts [begin, end) of the input's n * c planes,
 * each part's range (widened to include 0) into lo[part], hi[part]. */
#define RANGE_PARTS 64
#define RANGE_PARALLEL_MIN (1 << 16)
typedef struct {
  const float *x;
  int64_t xs[3];
  int64_t n, c, h, w;
  int avx512;
  int64_t parts;
  float lo[RANGE_PARTS], hi[RANGE_PARTS];
} range_job;

static void range_parts(void *vjob, int64_t begin, int64_t end) {
  range_job *j = vjob;
  int64_t planes = j->n * j->c;
  for (int64_t t = begin; t < end; ++t) {
    float lo = 0.0f, hi = 0.0f;
    for (int64_t pl = planes * t / j->parts; pl < planes * (t + 1) / j->parts; ++pl) {
      const float *p = j->x + pl / j->c * j->xs[0] + pl % j->c * j->xs[1];
      if (j->avx512) {
        int64_t xs[4] = {0, 0, j->xs[2], 1};
        kiln_conv_s8_range_avx512(p, xs, 1, 1, j->h, j->w, &lo, &hi);
        continue;
      }
      for (int64_t r = 0; r < j->h; ++r)
        for (int64_t q = 0; q < j->w; ++q) {
          float v = p[r * j->xs[2] + q];
          lo = v < lo ? v : lo;
          hi = v > hi ? v : hi;
        }
    }
    j->lo[t] = lo;
    j->hi[t] = hi;
  }
}

void kiln_conv2d_s8(const int64_t *desc, const float *fparams) {
  int isa = (int)desc[0];
  int64_t flags = desc[1];
  int64_t sh = desc[3], sw = desc[4], pt = desc[5], pl = desc[6];
  int64_t kh = desc[9], kw = desc[10];
  kiln_rt_check_dim(desc[7] == 1 && desc[8] == 1 && sh >= 1 && sw >= 1, 1);
  kiln_rt_check_dim(!(flags & (CONV_GROUPS | CONV_MEAN)), 1);
  view4 x, wv, bias = {0}, res = {0}, y;
  int in_u8 = (flags & CONV_IN_U8) != 0, out_u8 = (flags & CONV_OUT_U8) != 0;
  int bf = (flags & CONV_BF16) != 0, dyn = (flags & CONV_DYNAMIC) != 0;
  kiln_rt_check_dim(!(bf && (flags & (CONV_IN_U8 | CONV_OUT_U8 | CONV_REQUANT))), 1);
  kiln_rt_check_dim(!(dyn && (flags & (CONV_BF16 | CONV_IN_U8 | CONV_XSCALE))), 1);
  /* a quantized output takes no residual (the compiler chains only those) */
  kiln_rt_check_dim(!(out_u8 && (flags & CONV_RESIDUAL)), 1);
  const int64_t *d = kiln_read_view(desc + 11, 4, in_u8 ? 1 : 4, &x);
  d = kiln_read_view(d, 1, 1, &wv);
  if (flags & CONV_BIAS)
    d = kiln_read_view(d, 1, 4, &bias);
  if (flags & CONV_RESIDUAL)
    d = kiln_read_view(d, 4, 4, &res);
  view4 scv = {0};
  if (flags & CONV_XSCALE)
    d = kiln_read_view(d, 4, 4, &scv);
  kiln_read_view(d, 4, out_u8 ? 1 : 4, &y);
  int64_t n = x.size[0], c = x.size[1], h = x.size[2], w = x.size[3];
  int64_t f = y.size[1], oh = y.size[2], ow = y.size[3];
  /* CONV_IM2COL: the tiles run a 1 x 1 convolution over the C * KH * KW
   * values (vc channels, vtaps 1) */
  int i2c = (flags & CONV_IM2COL) != 0;
  int64_t vc = i2c ? c * kh * kw : c, vtaps = i2c ? 1 : kh * kw;
  /* units of the input's planes: quads of u8, or bf16 pairs padded to 16 */
  int64_t taps = vtaps, c4 = bf ? (vc + 1) / 2 : (vc + 3) / 4, fb = (f + MR - 1) / MR;
  /* (int8 in the AMX layout: its channel quads padded to 16 as well) */
  int64_t c4p = bf || kiln_conv_s8_amx_offset(f, vc, taps) > 0 ? (c4 + 15) / 16 * 16 : c4;
  kiln_rt_check_dim(y.size[0], n);
  kiln_rt_check_dim(wv.size[3], (int64_t)(bf ? kiln_conv_bf16_packed_bytes(f, vc, taps)
                                             : kiln_conv_s8_packed_bytes(f, vc, taps)));
  kiln_rt_check_dim(dense_from(&y, 1) && (x.stride[3] == 1 || w == 1), 1);
  check_epilogue_views(flags, &bias, &res, n, f, oh, ow);
  /* the int32 sums cannot overflow: 255 * 128 * 4 * C4 * taps < 2^31 */
  kiln_rt_check_dim(bf || c4 * taps <= 16000, 1);
  if (n == 0 || f == 0 || oh == 0 || ow == 0)
    return;
  float sx = bf || dyn ? 1.0f : fparams[0];
  int32_t zp = bf || dyn ? 0 : (int32_t)fparams[1];
  if (dyn) { /* DynamicQuantizeLinear's: the whole input's range */
    range_job rj = {(const float *)x.base, {x.stride[0], x.stride[1], x.stride[2]},
                    n, c, h, w, isa == KILN_ISA_AVX512 && kiln_cpu_has_avx512bw(),
                    1, {0}, {0}};
    int64_t threads = kiln_rt_num_threads();
    if (n * c * h * w >= RANGE_PARALLEL_MIN && threads > 1) {
      rj.parts = 4 * threads < RANGE_PARTS ? 4 * threads : RANGE_PARTS;
      rj.parts = rj.parts < n * c ? rj.parts : n * c;
      kiln_parallel_for(rj.parts, range_parts, &rj);
    } else {
      range_parts(&rj, 0, 1);
    }
    float lo = 0.0f, hi = 0.0f;
    for (int64_t t = 0; t < rj.parts; ++t) {
      lo = rj.lo[t] < lo ? rj.lo[t] : lo;
      hi = rj.hi[t] > hi ? rj.hi[t] : hi;
    }
    kiln_s8_dynamic_params(lo, hi, &sx, &zp);
  }
  kiln_conv_s8_in in;
  in.x = in_u8 ? NULL : (const float *)x.base;
  in.x8 = in_u8 ? (const uint8_t *)x.base : NULL;
  kiln_rt_check_dim(!(in_u8 && (flags & CONV_XSCALE)), 1);
  in.gate = conv_xscale(flags, &scv, n, c, &in.gate_img);
  in.xs[0] = x.stride[0];
  in.xs[1] = x.stride[1];
  in.xs[2] = x.stride[2];
  in.c = c;
  in.h = h;
  in.w = w;
  in.sh = sh;
  in.sw = sw;
  in.pt = pt;
  in.pl = pl;
  in.im2col = i2c;
  in.kh = kh;
  in.kw = kw;
  /* im2col: one plane per unit, the outputs' own, in bands of output rows
   * whose planes take at most 512 KiB (a 224 x 224 stem's 147 values of
   * 112 x 112 outputs are 4 MiB: the tiles read them from L2, not L3) */
  int64_t band = oh;
  if (i2c) {
    band = (512 << 10) / (c4p * ow * 4);
    band = band < 1 ? 1 : band > oh ? oh : band;
  }
  in.pa = i2c ? 1 : sh < kh ? sh : kh;
  in.pb = i2c ? 1 : sw < kw ? sw : kw;
  in.hq = i2c ? band : oh + (kh - 1) / sh;
  in.wq = i2c ? ow : ow + (kw - 1) / sw;
  /* the tiles' last vectors read up to 48 quads past the plane, plus the
   * largest tap offset's column part */
  in.pl_len = (in.hq * in.wq + 48 + (i2c ? 0 : (kw - 1) / sw) + 16 + 15) / 16 * 16;
  in.scale = sx;
  in.rcp = kiln_quant_rcp(sx);
  in.zp = zp;
  in.c4 = c4;
  in.c4p = c4p;
  in.bf16 = bf;
  in.n = n;
  in.flat_in = !i2c && sh == 1 && sw == 1 && pt == 0 && pl == 0 && in.hq == h &&
               in.wq == w && (x.stride[2] == w || h == 1) && x.stride[3] == 1;
  int64_t phases = in.pa * in.pb;
  int64_t img_quads = c4p * phases * in.pl_len;
  kiln_rt_check_dim(img_quads <= INT32_MAX / 4, 1);
  /* Images a group at a time, quantized then convolved, so that a group's
   * planes (at most 512 KiB, or one image) are still in L2 when the tiles
   * read them once per filter block (ResNet-18 at batch 8 quantized whole
   * took 1.2 ms per image on the 64-channel 3 x 3 layers, 0.45 at batch
   * 1). */
  int64_t group = (512 << 10) / (img_quads * 4);
  group = group < 1 ? 1 : group > n ? n : group;
  in.xq = kiln_scratch(KILN_SCRATCH_CONV_X, (size_t)(group * img_quads) * 4);
  int32_t *koff = kiln_scratch(KILN_SCRATCH_CONV_K, (size_t)taps * sizeof(int32_t));
  if (!in.xq || !koff)
    kiln_rt_fail_oom();
  if (i2c)
    koff[0] = 0;
  else
    for (int64_t a = 0; a < kh; ++a)
      for (int64_t b = 0; b < kw; ++b)
        koff[a * kw + b] = (int32_t)(((a % sh) * in.pb + b % sw) * in.pl_len +
                                     (a / sh) * in.wq + b / sw);
  int vnni = isa == KILN_ISA_AVX512 && kiln_cpu_has_avx512vnni() && !vnni_off();
  int bw = isa == KILN_ISA_AVX512 && kiln_cpu_has_avx512bw();
  int64_t macs = n * f * oh * ow * vc * taps;
  int parallel = macs >= DIRECT_PARALLEL_MIN_MACS;
  kiln_range_fn qfn = bw ? kiln_conv_s8_quantize_avx512 : quantize_generic;
  kiln_conv_s8_job j;
  j.xq = in.xq;
  j.xq_img = img_quads * 4;
  j.cq_bytes = phases * in.pl_len * 4;
  j.koff = koff;
  j.taps = taps;
  j.c4 = c4;
  j.c4p = c4p;
  j.bf16 = bf;
  j.wp = (const int8_t *)wv.base;
  j.f = f;
  j.fb = fb;
  j.sx = sx;
  j.zp = zp;
  j.requant = (flags & CONV_REQUANT) != 0;
  j.sy = j.requant ? fparams[2] : 1.0f;
  j.zy = j.requant ? fparams[3] : 0.0f;
  j.ry = kiln_quant_rcp(j.sy);
  j.bias = (flags & CONV_BIAS) ? (const float *)bias.base : NULL;
  j.res = (flags & CONV_RESIDUAL) ? (const float *)res.base : NULL;
  j.res_img = res.stride[0];
  j.y = out_u8 ? NULL : (float *)y.base;
  j.y8 = out_u8 ? (uint8_t *)y.base : NULL;
  j.so = out_u8 ? fparams[j.requant ? 4 : 2] : 1.0f;
  j.zo = out_u8 ? fparams[j.requant ? 5 : 3] : 0.0f;
  j.ro = kiln_quant_rcp(j.so);
  uint8_t lut[256];
  j.lut = NULL;
  if (out_u8 && j.requant && bw && kiln_cpu_has_avx512vbmi()) {
    kiln_s8_requant_lut(lut, j.sy, j.zy, (int)desc[2], j.so, j.zo);
    j.lut = lut;
  }
  j.y_img = y.stride[0];
  j.y_plane = oh * ow;
  j.oh = oh;
  j.ow = ow;
  j.wq = in.wq;
  j.flat = oh * in.wq;
  j.act = (int)desc[2];
  /* AMX-INT8 where the filter has its AMX section (C a multiple of 64)
   * and the CPU the tiles (KILN_NO_AMX=1: not) */
  int64_t amx_at = bf ? fb * MR * 8 : kiln_conv_s8_amx_offset(f, vc, taps);
  /* bf16: AMX-BF16, else AVX512-BF16's vdpbf16ps, else plain C */
  int bf_dot = bf && bw && kiln_cpu_has_avx512bf16();
  int amx = bf ? bf_dot && kiln_cpu_has_amx_bf16()
               : vnni && amx_at > 0 && kiln_cpu_has_amx_int8();
  j.wa = amx_at > 0 ? j.wp + amx_at : NULL;
  j.fb32 = (f + KILN_CONV_S8_AMX_MR - 1) / KILN_CONV_S8_AMX_MR;
  /* runs of whole tiles (48 outputs, AMX 32); about 4 tasks per thread at
   * least */
  int64_t tw = amx ? 32 : 48, blocks = amx ? j.fb32 : fb;
  int64_t threads = parallel ? kiln_rt_num_threads() : 1;
  kiln_range_fn fn = bf     ? (amx ? kiln_conv_bf16_tasks_amx
                                : bf_dot ? kiln_conv_bf16_tasks_avx512bf16
                                         : tasks_generic)
                     : amx  ? kiln_conv_s8_tasks_amx
                     : vnni ? kiln_conv_s8_tasks_avx512vnni
                     : bw   ? kiln_conv_s8_tasks_avx512bw
                            : tasks_generic;
  const float *x0 = in.x, *g0 = in.gate;
  const uint8_t *x80 = in.x8;
  float *y0 = j.y;
  uint8_t *y80 = j.y8;
  const float *r0 = j.res;
  for (int64_t i0 = 0; i0 < n; i0 += group) {
    int64_t g = n - i0 < group ? n - i0 : group;
    in.x = x0 ? x0 + i0 * x.stride[0] : NULL;
    in.gate = g0 ? g0 + i0 * in.gate_img : NULL;
    in.x8 = x80 ? x80 + i0 * x.stride[0] : NULL;
    j.y = y0 ? y0 + i0 * j.y_img : NULL;
    j.y8 = y80 ? y80 + i0 * j.y_img : NULL;
    j.res = r0 ? r0 + i0 * j.res_img : NULL;
    /* (one band of all the output rows but in im2col) */
    for (int64_t b0 = 0; b0 < oh; b0 += band) {
      int64_t rows = oh - b0 < band ? oh - b0 : band;
      if (i2c) {
        in.hq = rows;
        in.pt = pt - b0 * sh;
        j.oh = rows;
        j.flat = rows * in.wq;
      }
      /* runs of whole tiles; about 4 tasks per thread at least */
      int64_t tiles = (j.flat + tw - 1) / tw, per = tiles;
      while (per > 1 && g * blocks * ((tiles + per - 1) / per) < 4 * threads)
        per = (per + 1) / 2;
      if (per > 8)
        per = 8;
      j.chunk = per * tw;
      j.chunks = (j.flat + j.chunk - 1) / j.chunk;
      if (parallel)
        kiln_parallel_for(g * c4p * phases, qfn, &in);
      else
        qfn(&in, 0, g * c4p * phases);
      int64_t tasks = g * blocks * j.chunks;
      if (parallel)
        kiln_parallel_for(tasks, fn, &j);
      else
        fn(&j, 0, tasks);
      if (j.y)
        j.y += rows * ow;
      if (j.y8)
        j.y8 += rows * ow;
      if (j.res)
        j.res += rows * ow;
    }
  }
}
