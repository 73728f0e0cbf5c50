/*===- conv_s8.h - int8 convolutions of statically quantized models -------===*
 *
 * A QDQ model's convolution, conv(DQ(Q(x)), DQ(Wq)) with x quantized per
 * tensor to u8 (scale sx, zero point zx) and an int8 filter with zero
 * point 0 per tensor or per output channel (scales sw_f), runs as
 * kiln.ukernel "conv2d_f32" with flag 256 (CONV_S8,
 * codegen/cpu/SelectConvUkernels.cpp):
 *
 *   y[f, p] = sx * sw_f * (sum_k qw[f, k] qx[k, p] - zx * wsum_f) + bias_f
 *
 * (padding reads zx, the quantized 0, so the correction takes the whole
 * filter's sum wsum_f), then with flag 512 (CONV_REQUANT) the output's
 * QuantizeLinear -> DequantizeLinear pair (scale sy, zero point zy), in
 * float as the graph computes it: (clip(round(y / sy) + zy, 0, 255) - zy)
 * * sy, then the residual and activation as conv2d_f32's epilogue.
 *
 * Between two int8 convolutions the tensor may stay quantized: with flag
 * 1024 (CONV_OUT_U8) a convolution stores its output as the next one's
 * QuantizeLinear makes it, u8 clip(round(y / so) + zo, 0, 255) (so, zo
 * the next one's sx, zx), and with flag 2048 (CONV_IN_U8) that one reads
 * u8 input as its quantized x: a quarter of the bytes each way, and no
 * division per input value. The sums are exact in int32: the arithmetic the quantized
 * graph defines, at AVX512-VNNI's four multiply-adds per lane.
 *
 * Filter packed at compile time (kiln_conv_s8_pack, pack_s8.c), for F
 * filters, C channels, T = KH * KW taps, C4 = ceil(C / 4) channel quads,
 * FB = ceil(F / 8) blocks of 8 filters:
 *   float   scale[FB * 8]       sw_f (0 past F)
 *   int32_t wsum[FB * 8]        sum over c and taps of qw[f, c, tap]
 *   int8_t  w[FB][T][C4][8][4]  byte r of filter 8b + m at [b][t][q][m][r]
 *                               = qw[8b + m, 4q + r, t] (0 past F and C)
 * (each quad of a filter is the 32-bit broadcast operand of vpdpbusd).
 * When C is a multiple of 64, or 96+ with at most a quarter of
 * ceil(C / 64) * 64 padding, the blocks are in AMX's layout instead
 * (FB32 = ceil(F / 32), C64 = ceil(C / 64), zeros past C):
 *   int8_t  w[FB32][T][C64][32][64]  qw[32b + m, 64k + i, t] at [b][t][k][m][i]
 * two 16-row A tiles of _tile_dpbsud per tap and 64 channels, the B tile
 * 16 channel quads x 16 outputs of the input's quad planes as they are
 * (conv_s8_avx512vnni.c). The VNNI, AVX512BW and generic tiles read that
 * layout too: 8 filters' quads 64 bytes apart, 16 quads of a filter in a
 * row (kiln_conv_s8_job.wa).
 *
 * The input is quantized per run (conv_s8.c) into u8 planes of quads
 * ([C4][P][PL] x 4 bytes per image): with strides (sh, sw), P = min(sh,
 * KH) x min(sw, KW) phase planes, phase (a, b) holding the padded input's
 * rows i * sh + a and columns j * sw + b at (i, j) of an Hq x Wq plane
 * (Hq = OH + (KH - 1) / sh, Wq = OW + (KW - 1) / sw), zx outside the
 * image. Tap (kh, kw) then reads phase (kh % sh, kw % sw) at offset
 * (kh / sh) * Wq + kw / sw from output pixel (oy, ox)'s flat index
 * oy * Wq + ox, so a run of 16 flat outputs is one 64-byte load per tap
 * and channel quad at any stride; the columns ox >= OW are computed and
 * dropped.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_CONV_S8_H
#define KILN_UKERNELS_CONV_S8_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Filters per block of the packed layout (the register tile's rows). */
#define KILN_CONV_S8_MR 8
/* The AMX section's blocks: 32 filters (two A tiles of 16 rows) x 64
 * channels (a tile row's 64 bytes) per tap. */
#define KILN_CONV_S8_AMX_MR 32
#define KILN_CONV_S8_AMX_KC 64

/* Bytes of a packed filter of f filters, c channels and `taps` taps. */
size_t kiln_conv_s8_packed_bytes(int64_t f, int64_t c, int64_t taps);

/* bf16 convolutions (--precision bf16; CONV_S8 | CONV_BF16) run on the
 * same machinery with channel pairs for quads: the input converted to
 * bf16 (round to nearest even) into pair planes ([C2p][P][PL] x 2 bf16,
 * C2p = ceil(C / 2) rounded up to 16, zeros past C), the filter packed in
 * the AMX layout with pairs: after a head of scales 1 and sums 0,
 *   uint16_t w[FB32][T][C2p / 16][32][16][2]  bf16 of w[32b + m, 2u + r, t]
 *                                            at [b][t][u / 16][m][u % 16][r]
 * (zeros past F and C), summed in fp32 by _tile_dpbf16ps (AMX-BF16) or
 * vdpbf16ps (AVX512-BF16), else plain C. */
size_t kiln_conv_bf16_packed_bytes(int64_t f, int64_t c, int64_t taps);
void kiln_conv_bf16_pack(int64_t f, int64_t c, int64_t taps, const float *w,
                         int8_t *out);

/* Where the blocks in AMX's layout start in the packed filter (bytes), or
 * 0 when the blocks are in the 8-filter layout (see above). */
int64_t kiln_conv_s8_amx_offset(int64_t f, int64_t c, int64_t taps);

/* Packs w ([F, C, taps] row-major int8) with its scales (`scales` values:
 * 1 for the whole filter or F, one per filter) into `out`
 * (kiln_conv_s8_packed_bytes bytes). */
void kiln_conv_s8_pack(int64_t f, int64_t c, int64_t taps, const int8_t *w,
                       const float *scale, int64_t scales, int8_t *out);

#ifdef __cplusplus
}
#endif

#ifndef __cplusplus
/* The input's quantization and the convolution over it, per run (one
 * image's planes at x; conv_s8.c sets it up). */
typedef struct {
  const float *x;        /* input image 0 (f32) */
  const uint8_t *x8;     /* or (CONV_IN_U8) already quantized, u8 */
  const float *gate;     /* CONV_XSCALE: x * gate[image, channel] is
                            quantized (a squeeze-excite gate), or NULL */
  int64_t gate_img;      /* floats between images' gates (0: shared) */
  int64_t xs[3];         /* strides of image, channel, row (floats) */
  int64_t c, h, w;
  int64_t sh, sw, pt, pl, pa, pb; /* pa x pb phases */
  int64_t hq, wq, pl_len;         /* phase plane extent and length (quads) */
  float scale;                    /* sx */
  float rcp;                      /* kiln_quant_rcp(sx) */
  int32_t zp;                     /* zx */
  uint8_t *xq;                    /* packed input of image 0 */
  int64_t c4, n;
  int flat_in; /* the one phase plane is each channel's dense plane */
  int bf16;    /* units are channel pairs of bf16 (CONV_BF16) */
  int im2col;  /* CONV_IM2COL: unit values k of (channel, kh, kw) of a
                  kh x kw filter, each one plane of the oh x ow outputs'
                  input values (the phase geometry is 1 x 1's) */
  int64_t kh, kw;
  int64_t c4p; /* unit planes per image (c4, or bf16's C2p: the padding
                  planes are zeros) */
} kiln_conv_s8_in;

typedef struct {
  const uint8_t *xq;   /* packed input of image 0 */
  int64_t xq_img;      /* bytes between images' packed inputs */
  int64_t cq_bytes;    /* bytes between channel quads' phase groups */
  const int32_t *koff; /* per tap: offset in quads within a phase group */
  int64_t taps, c4;
  const int8_t *wp;    /* packed filter (scales, sums, blocks) */
  int64_t f, fb;
  float sx;
  int32_t zp;
  int requant;         /* CONV_REQUANT: the output's Q -> DQ pair */
  float sy, zy;        /* its scale and zero point */
  float ry, ro;        /* kiln_quant_rcp of sy and so (vmath_avx512.h) */
  const float *bias;   /* [f] or NULL */
  const float *res;    /* [n, f, oh, ow] or NULL */
  float *y;            /* [n, f, oh, ow] */
  uint8_t *y8;         /* or (CONV_OUT_U8) quantized, u8 */
  float so, zo;        /* y8's scale and zero point */
  const uint8_t *lut;  /* with requant and y8: y8 of each requantized
                          value (conv_s8_epi.h), or NULL */
  int64_t y_img, res_img;
  int64_t oh, ow, wq;
  int64_t flat;        /* oh * wq outputs per plane, flat */
  int64_t chunk;       /* flat outputs per task */
  int64_t chunks;
  int act;
  const int8_t *wa;    /* the blocks when in AMX's layout, or NULL */
  int64_t fb32;        /* ceil(f / 32): tasks_amx's filter blocks */
  int bf16;            /* CONV_BF16: units are bf16 pairs, sums fp32 */
  int64_t y_plane;     /* floats between output channels' planes (oh * ow
                          but in an im2col band of oh rows) */
  int64_t c4p;         /* units per filter row in the AMX layout (c4 or
                          bf16's C2p) */
} kiln_conv_s8_job;

/* AVX-512 (AVX512BW, conv_s8_avx512.c): the quantization of units
 * [begin, end) of (image, channel quad, phase); the convolution's tasks
 * [begin, end) of (image, filter block, chunk) with VNNI
 * (conv_s8_avx512vnni.c) and without (16-bit products). */
void kiln_conv_s8_quantize_avx512(void *job, int64_t begin, int64_t end);
void kiln_conv_s8_tasks_avx512vnni(void *job, int64_t begin, int64_t end);
void kiln_conv_s8_tasks_avx512bw(void *job, int64_t begin, int64_t end);
/* The same tasks of (image, block of 32 filters, chunk) on AMX-INT8 tiles
 * (conv_s8_avx512vnni.c): C = 32 x 32 outputs from the filter's AMX
 * section and the input's quad planes, then the VNNI tiles' epilogues. */
void kiln_conv_s8_tasks_amx(void *job, int64_t begin, int64_t end);
/* CONV_DYNAMIC: the input's range (conv_s8_avx512.c), widening *lo, *hi */
void kiln_conv_s8_range_avx512(const float *x, const int64_t *xs, int64_t n,
                               int64_t c, int64_t h, int64_t w, float *lo,
                               float *hi);
/* bf16 (CONV_BF16): AMX-BF16 tiles, and AVX512-BF16 ones (vdpbf16ps) */
void kiln_conv_bf16_tasks_amx(void *job, int64_t begin, int64_t end);
void kiln_conv_bf16_tasks_avx512bf16(void *job, int64_t begin, int64_t end);

/* kiln.ukernel "conv2d_f32" with CONV_S8 (conv_f32.c dispatches). */
void kiln_conv2d_s8(const int64_t *desc, const float *fparams);
#endif

#endif
