/*===- dwconv_s8.c - int8 depthwise convolutions: driver, portable C -----===*
 *
 * kiln.ukernel "dwconv2d_f32" with flag 256 (dwconv_s8.h): the operands
 * read and checked, the job set up, its (image, channel) tasks over the
 * threads; the portable tasks compute each output directly, in the order
 * and with the roundings of the AVX-512 ones (dwconv_s8_avx512.c).
 *
 *===----------------------------------------------------------------------===*/

#include "dwconv_s8.h"
#include "conv_s8_epi.h"
#include "conv_f32_internal.h"
#include "gemm_f32.h"
#include "gemm_s8.h"
#include "../runtime_internal.h"

#include <math.h>

static float quant_u8(float v, float s, float z) {
  float q = v / s;
  q = q < -512.0f ? -512.0f : q > 512.0f ? 512.0f : q;
  q = nearbyintf(q) + z;
  return q < 0.0f ? 0.0f : q > 255.0f ? 255.0f : q;
}

void kiln_dwconv_s8_generic(void *vjob, int64_t begin, int64_t end) {
  const kiln_dwconv_s8_job *j = vjob;
  int64_t taps = j->kh * j->kw;
  for (int64_t task = begin; task < end; ++task) {
    int64_t img = task / j->c, ch = task % j->c;
    int64_t xo = img * j->x_img + ch * j->x_ch, yo = img * j->y_img + ch * j->y_ch;
    const float *w = j->w + ch * taps;
    float sc = j->sx * j->scale[ch], b = j->bias ? j->bias[ch] : 0.0f;
    for (int64_t oy = 0; oy < j->oh; ++oy)
      for (int64_t ox = 0; ox < j->ow; ++ox) {
        float acc = 0.0f;
        for (int64_t a = 0; a < j->kh; ++a)
          for (int64_t e = 0; e < j->kw; ++e) {
            int64_t iy = oy * j->sh + a - j->pt, ix = ox * j->sw + e - j->pl;
            if (iy < 0 || iy >= j->h || ix < 0 || ix >= j->wd)
              continue;
            int64_t at = xo + iy * j->wd + ix;
            float q = j->x8 ? (float)j->x8[at] : quant_u8(j->x[at], j->sx, j->zx);
            acc += w[a * j->kw + e] * (q - j->zx); /* exact integers */
          }
        float v = fmaf(acc, sc, b);
        if (j->requant)
          v = (quant_u8(v, j->sy, j->zy) - j->zy) * j->sy;
        v = kiln_act_scalar(v, j->act);
        int64_t at = yo + oy * j->ow + ox;
        if (j->y8)
          j->y8[at] = (uint8_t)quant_u8(v, j->so, j->zo);
        else
          j->y[at] = v;
      }
  }
}

/* Below this many multiply-adds it runs on one thread. */
#define DWS8_PARALLEL_MIN_MACS (1 << 16)

void kiln_dwconv2d_s8(const int64_t *desc, const float *fparams) {
  int isa = (int)desc[0];
  int64_t flags = desc[1];
  int in_u8 = (flags & CONV_IN_U8) != 0, out_u8 = (flags & CONV_OUT_U8) != 0;
  kiln_rt_check_dim(!(flags & (CONV_RESIDUAL | CONV_XSCALE | CONV_MEAN | CONV_GROUPS)), 1);
  kiln_rt_check_dim(desc[7] == 1 && desc[8] == 1 && desc[3] >= 1 && desc[4] >= 1, 1);
  view4 x, w, bias = {0}, sc, y;
  const int64_t *d = kiln_read_view(desc + 9, 4, in_u8 ? 1 : 4, &x);
  d = kiln_read_view(d, 4, 4, &w);
  if (flags & CONV_BIAS)
    d = kiln_read_view(d, 1, 4, &bias);
  d = kiln_read_view(d, 1, 4, &sc);
  kiln_read_view(d, 4, out_u8 ? 1 : 4, &y);
  kiln_dwconv_s8_job j;
  int64_t n = x.size[0];
  j.c = x.size[1];
  j.h = x.size[2];
  j.wd = x.size[3];
  j.kh = w.size[2];
  j.kw = w.size[3];
  j.oh = y.size[2];
  j.ow = y.size[3];
  kiln_rt_check_dim(w.size[0], j.c);
  kiln_rt_check_dim(w.size[1], 1);
  kiln_rt_check_dim(sc.size[3], j.c);
  kiln_rt_check_dim(y.size[0], n);
  kiln_rt_check_dim(y.size[1], j.c);
  if (flags & CONV_BIAS)
    kiln_rt_check_dim(bias.size[3], j.c);
  /* the f32 sums stay exact integers (dwconv_s8.h) */
  kiln_rt_check_dim(j.kh * j.kw <= 500, 1);
  kiln_rt_check_dim(dense_from(&x, 2) && dense_from(&w, 0) && dense_from(&y, 2) &&
                        (sc.stride[3] == 1 || j.c == 1) &&
                        (!(flags & CONV_BIAS) || bias.stride[3] == 1 || j.c == 1),
                    1);
  j.sh = desc[3];
  j.sw = desc[4];
  j.pt = desc[5];
  j.pl = desc[6];
  j.act = (int)desc[2];
  j.x = in_u8 ? NULL : (const float *)x.base;
  j.x8 = in_u8 ? (const uint8_t *)x.base : NULL;
  j.x_img = x.stride[0];
  j.x_ch = x.stride[1];
  j.w = (const float *)w.base;
  j.bias = (flags & CONV_BIAS) ? (const float *)bias.base : NULL;
  j.scale = (const float *)sc.base;
  j.y = out_u8 ? NULL : (float *)y.base;
  j.y8 = out_u8 ? (uint8_t *)y.base : NULL;
  j.y_img = y.stride[0];
  j.y_ch = y.stride[1];
  j.sx = fparams[0];
  j.zx = fparams[1];
  j.rx = kiln_quant_rcp(j.sx);
  j.requant = (flags & CONV_REQUANT) != 0;
  j.sy = j.requant ? fparams[2] : 1.0f;
  j.zy = j.requant ? fparams[3] : 0.0f;
  j.ry = kiln_quant_rcp(j.sy);
  j.so = out_u8 ? fparams[j.requant ? 4 : 2] : 1.0f;
  j.zo = out_u8 ? fparams[j.requant ? 5 : 3] : 0.0f;
  j.ro = kiln_quant_rcp(j.so);
  uint8_t lut[256];
  int avx512 = isa == KILN_ISA_AVX512 && kiln_cpu_has_avx512bw();
  j.lut = NULL;
  if (out_u8 && j.requant && avx512 && kiln_cpu_has_avx512vbmi()) {
    kiln_s8_requant_lut(lut, j.sy, j.zy, j.act, j.so, j.zo);
    j.lut = lut;
  }
  j.pb = j.sw < j.kw ? j.sw : j.kw;
  j.hp = j.oh <= 0 ? 0 : (j.oh - 1) * j.sh + j.kh;
  j.wq = j.ow + (j.kw - 1) / j.sw;
  /* the last vector of a row reads up to 15 past the row's outputs */
  j.ws = (j.wq + 16 + 15) / 16 * 16;
  j.failed = 0;
  int64_t tasks = n * j.c;
  if (tasks == 0 || j.oh <= 0 || j.ow <= 0)
    return;
  int64_t *toff = kiln_scratch(KILN_SCRATCH_CONV_K, (size_t)(j.kh * j.kw) * sizeof(int64_t));
  if (!toff)
    kiln_rt_fail_oom();
  for (int64_t a = 0; a < j.kh; ++a)
    for (int64_t e = 0; e < j.kw; ++e)
      toff[a * j.kw + e] = ((e % j.sw) * j.hp + a) * j.ws + e / j.sw;
  j.toff = toff;
  float lutf[256];
  j.lutf = NULL;
  if (!out_u8 && j.requant && avx512 && j.act != KILN_ACT_NONE &&
      j.act != KILN_ACT_RELU && j.act != KILN_ACT_RELU6) {
    kiln_s8_act_table(lutf, j.sy, j.zy, j.act);
    j.lutf = lutf;
  }
  kiln_range_fn fn = avx512 ? kiln_dwconv_s8_avx512 : kiln_dwconv_s8_generic;
  if (tasks * j.oh * j.ow * j.kh * j.kw >= DWS8_PARALLEL_MIN_MACS && tasks > 1)
    kiln_parallel_for(tasks, fn, &j);
  else
    fn(&j, 0, tasks);
  if (j.failed)
    kiln_rt_fail_oom();
}
