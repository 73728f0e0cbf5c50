/*===- conv_direct_f32_impl.h - direct convolution tiles, one body per ISA ===*
 *
 * See conv_direct_f32.h. Included by conv_direct_f32_avx512.c (16 lanes,
 * tiles of up to 14 pixels x 32 channels: 28 accumulators) and
 * conv_direct_f32_avx2.c (8 lanes, up to 6 pixels x 16 channels: 12
 * accumulators), each compiled for its ISA and defining:
 *   CD_FN          the task function's name
 *   CD_VW, CD_MR   lanes per vector; pixels per tile (<= CD_VW)
 *   cd_v           the vector type; cd_mask_t its lane mask
 *   cd_zero() cd_set1(f) cd_loadu(p) cd_fma(a, b, c) cd_add(a, b)
 *   cd_act(v, act) cd_mask(lo, hi) (lanes [lo, hi)) cd_maskload(m, p)
 *   cd_maskstore(p, m, v) cd_storen(p, v, n) (lanes [0, n), n constant)
 *   cd_transpose(r)  r[i] (lane c) -> r[c] (lane i), CD_VW x CD_VW
 * A tile holds nv (1 or 2) vectors of channels per pixel; mr, nv and the
 * pixel step are compile-time constants in each instantiation (the table
 * at the bottom), so the accumulators live in registers.
 *
 *===----------------------------------------------------------------------===*/

#include "conv_direct_f32.h"

/* channels per tile */
#define CD_CT (2 * CD_VW)
/* taps per k block (12 KiB of filter: 192 taps on AVX2 ran ResNet-18's 3 x 3
 * layers 1% faster than 256 in bench/gemm_bench.sh) and the most tiles a task may have
 * for its accumulators to wait between blocks (else one block) */
#define CD_KC (12288 / (CD_CT * 4))
#define CD_MAX_TILES KILN_CONV_MAX_TILES
/* the tile variant of channel-blocked input (kiln_conv_direct_job.c8) */
#define CD_C8 3
#define CD_C8_MAX_UNBLOCKED 2304

typedef struct {
  float *y;          /* the tile's first channel, pixel 0 of the plane */
  const float *res;  /* the same place in the residual, or NULL */
  const float *bias; /* the tile's biases, or NULL */
  int64_t plane;     /* floats between channels of y and res */
  int64_t nf;        /* valid channels of the tile (1 .. CD_CT) */
  int act;
  /* The tile's pixels as runs on output rows: lanes seg_mask[s] of a
   * transposed row go to y + seg_base[s] + lane (one run unless the tile
   * wraps around output rows, in flat mode). */
  int nseg;
  int prefix; /* one run of lanes [0, mr) */
  int64_t seg_base[CD_MR];
  cd_mask_t seg_mask[CD_MR];
} cd_out;

/* Where a tile is in the k loop: taps are run in blocks of CD_KC (the
 * filter block's CD_KC x CD_CT floats, 12 KiB, stay in L1 while every tile
 * of the task uses them, instead of each tile streaming the whole filter
 * from L2); a tile's accumulators wait in `part` between blocks. */
typedef struct {
  int64_t kp;  /* rows of a filter panel (all taps) */
  float *part; /* 2 * CD_MR vectors */
  int first, last;
  int prefetch; /* the task's first tile: fetch the next block's filter */
  const float *pf; /* that block: tap kk's lines at pf + kk * 16 and, for
                      a second panel, pf + (kp + kk) * 16 */
} cd_kblock;

/* acc[i]: pixel i's CD_VW channels from channel c0 of the tile -> rows of
 * mr pixels per channel, then bias, residual (added before the
 * activation), activation and a masked store. */
static inline __attribute__((always_inline)) void
cd_store(const int mr, const cd_v *acc, int64_t c0, const cd_out *o) {
  cd_v t[CD_VW];
#pragma GCC unroll 16
  for (int i = 0; i < CD_VW; ++i)
    t[i] = i < mr ? acc[i] : cd_zero();
  cd_transpose(t);
#pragma GCC unroll 16
  for (int c = 0; c < CD_VW; ++c) {
    if (c0 + c >= o->nf)
      break;
    cd_v v = t[c];
    if (o->bias)
      v = cd_add(v, cd_set1(o->bias[c0 + c]));
    int64_t ch = (c0 + c) * o->plane;
    if (o->res)
      for (int s = 0; s < o->nseg; ++s)
        v = cd_add(v, cd_maskload(o->seg_mask[s], o->res + ch + o->seg_base[s]));
    v = cd_act(v, o->act);
    if (o->nseg == 1 && o->prefix) /* lanes [0, mr): exact-width stores */
      cd_storen(o->y + ch + o->seg_base[0], v, mr);
    else
      for (int s = 0; s < o->nseg; ++s)
        cd_maskstore(o->y + ch + o->seg_base[s], o->seg_mask[s], v);
  }
}

/* The epilogue of a tile of M pixels, out of line (one copy per width
 * instead of one inlined into each of the CD_MR x 8 tile variants, which
 * took the AVX-512 file 2-14 minutes to compile, 14 under ASan): the
 * accumulators come from `part` (pixel i's first vector at i * CD_VW, its
 * second at (CD_MR + i) * CD_VW), where the tile has just stored them. */
typedef void (*cd_epilogue_fn)(const float *, int, const cd_out *);
#define CD_EPILOGUE_FN(M)                                                      \
  static __attribute__((noinline)) void cd_epilogue_##M(                      \
      const float *part, int nv, const cd_out *o) {                            \
    cd_v acc[CD_MR];                                                           \
    for (int v = 0; v < nv; ++v) {                                             \
      _Pragma("GCC unroll 16") for (int i = 0; i < M; ++i) acc[i] =            \
          cd_loadu(part + (v * CD_MR + i) * CD_VW);                            \
      cd_store(M, acc, v * CD_VW, o);                                          \
    }                                                                          \
  }
CD_EPILOGUE_FN(1)
CD_EPILOGUE_FN(2)
CD_EPILOGUE_FN(3)
CD_EPILOGUE_FN(4)
CD_EPILOGUE_FN(5)
CD_EPILOGUE_FN(6)
#if CD_MR > 6
CD_EPILOGUE_FN(7)
CD_EPILOGUE_FN(8)
CD_EPILOGUE_FN(9)
CD_EPILOGUE_FN(10)
CD_EPILOGUE_FN(11)
CD_EPILOGUE_FN(12)
CD_EPILOGUE_FN(13)
CD_EPILOGUE_FN(14)
#endif
static const cd_epilogue_fn cd_epilogues[CD_MR] = {
    cd_epilogue_1, cd_epilogue_2, cd_epilogue_3, cd_epilogue_4,
    cd_epilogue_5, cd_epilogue_6,
#if CD_MR > 6
    cd_epilogue_7, cd_epilogue_8, cd_epilogue_9, cd_epilogue_10,
    cd_epilogue_11, cd_epilogue_12, cd_epilogue_13, cd_epilogue_14,
#endif
};

/* Vector v of the tile's channels is panel (v * CD_VW) / 16 of the
 * filter, lanes from (v * CD_VW) % 16: at w0 (+ kp * 16 for the next,
 * kp: the panel's rows). The tile runs taps [0, k) of koff and w (a k
 * block); `part` holds its accumulators between k blocks: read unless
 * `first`, always written; after the `last` block the epilogue reads them
 * back from there. */
static inline __attribute__((always_inline)) void
cd_tile(const int mr, const int nv, const int step, const float *xb,
        const int64_t *po, const int32_t *koff, int64_t k, const float *w,
        const cd_out *o, const cd_kblock *kb) {
  const float *w0 = w, *w1 = w + (CD_VW == 16 ? kb->kp * 16 : CD_VW);
  /* pixel i's input at xb + off[i]: i * step, or po[i] (step 0). With
   * per-pixel offsets each pixel gets its own base pointer, so a tap's
   * broadcast is one addressing mode (xp[i] + koff[kk] * 4) instead of an
   * add per pixel and tap. */
  int64_t off[CD_MR];
  const float *xp[CD_MR];
#pragma GCC unroll 16
  for (int i = 0; i < mr; ++i) {
    off[i] = step && step != CD_C8 ? i * step : po[i];
    xp[i] = xb + off[i];
  }
  cd_v a0[CD_MR], a1[CD_MR];
#pragma GCC unroll 16
  for (int i = 0; i < mr; ++i) {
    a0[i] = kb->first ? cd_zero() : cd_loadu(kb->part + i * CD_VW);
    a1[i] = kb->first || nv < 2 ? cd_zero()
                                : cd_loadu(kb->part + (CD_MR + i) * CD_VW);
  }
#ifdef CD_C8_GROUPS
  /* (from K = 512 in one pass: the accumulators' trip through memory
   * around the assembly cost more than it gained on shorter k loops, e.g.
   * 5% on MobileNetV3's 96 -> 576 1 x 1 in bench/gemm_bench.sh; in k
   * blocks they go through memory anyway: ResNet-18's layer 4, 0.8%) */
  if (step == CD_C8 && (mr == 6 || mr == 5) && nv == 2 && !kb->prefetch &&
      (k >= 512 || !kb->first || !kb->last)) {
    CD_C8_GROUPS(mr)(xp, koff, k / 8, w0, a0, a1);
  } else
#endif
  if (step == CD_C8) {
    /* groups of 8 taps: input channels 8g' .. 8g' + 7 of one (kh, kw),
     * at koff[g] + 0 .. 7 of each pixel's NCHW8c input */
    for (int64_t g = 0; g < k / 8; ++g) {
      const int64_t ko = koff[g];
      const float *wg0 = w0 + g * 128, *wg1 = w1 + g * 128;
      if (kb->prefetch) {
#pragma GCC unroll 8
        for (int ci = 0; ci < 8; ++ci) {
          __builtin_prefetch(wg0 + (k + ci) * 16);
          if (nv > 1 && CD_VW == 16)
            __builtin_prefetch(wg1 + (k + ci) * 16);
        }
      }
#pragma GCC unroll 8
      for (int ci = 0; ci < 8; ++ci) {
        cd_v v0 = cd_loadu(wg0 + ci * 16);
        cd_v v1 = nv > 1 ? cd_loadu(wg1 + ci * 16) : cd_zero();
#pragma GCC unroll 16
        for (int i = 0; i < mr; ++i) {
          cd_v b = cd_set1(xp[i][ko + ci]);
          a0[i] = cd_fma(b, v0, a0[i]);
          if (nv > 1)
            a1[i] = cd_fma(b, v1, a1[i]);
        }
      }
    }
  } else {
  #pragma GCC unroll 2
    for (int64_t kk = 0; kk < k; ++kk) {
      if (kb->prefetch) { /* one line of each panel's next block per tap */
        __builtin_prefetch(kb->pf + kk * 16);
        if (nv > 1 && CD_VW == 16)
          __builtin_prefetch(kb->pf + (kb->kp + kk) * 16);
      }
      const int64_t ko = koff[kk];
      const float *xk = xb + ko;
      cd_v v0 = cd_loadu(w0 + kk * 16);
      cd_v v1 = nv > 1 ? cd_loadu(w1 + kk * 16) : cd_zero();
  #pragma GCC unroll 16
      for (int i = 0; i < mr; ++i) {
          cd_v b = cd_set1(step ? xk[off[i]] : xp[i][ko]);
        a0[i] = cd_fma(b, v0, a0[i]);
        if (nv > 1)
          a1[i] = cd_fma(b, v1, a1[i]);
      }
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < mr; ++i) {
    cd_storeu(kb->part + i * CD_VW, a0[i]);
    if (nv > 1)
      cd_storeu(kb->part + (CD_MR + i) * CD_VW, a1[i]);
  }
  if (kb->last)
    cd_epilogues[mr - 1](kb->part, nv, o);
}

typedef void (*cd_tile_fn)(const float *, const int64_t *, const int32_t *,
                           int64_t, const float *, const cd_out *,
                           const cd_kblock *);

#define CD_TILE_FN(M, NV, S)                                                   \
  static void cd_tile_##M##_##NV##_##S(const float *xb, const int64_t *po,     \
                                       const int32_t *koff, int64_t k,         \
                                       const float *w, const cd_out *o,        \
                                       const cd_kblock *kb) {                  \
    cd_tile(M, NV, S, xb, po, koff, k, w, o, kb);                              \
  }
#define CD_TILE_FNS(M)                                                         \
  CD_TILE_FN(M, 1, 0) CD_TILE_FN(M, 2, 0) CD_TILE_FN(M, 1, 1)                  \
  CD_TILE_FN(M, 2, 1) CD_TILE_FN(M, 1, 2) CD_TILE_FN(M, 2, 2)                  \
  CD_TILE_FN(M, 1, 3) CD_TILE_FN(M, 2, 3)
/* [mr - 1][nv - 1][step]; step 0: per-pixel offsets, CD_C8: the same on
 * channel-blocked input */
#define CD_ROW(M)                                                              \
  {{cd_tile_##M##_1_0, cd_tile_##M##_1_1, cd_tile_##M##_1_2, cd_tile_##M##_1_3}, \
   {cd_tile_##M##_2_0, cd_tile_##M##_2_1, cd_tile_##M##_2_2, cd_tile_##M##_2_3}},

CD_TILE_FNS(1)
CD_TILE_FNS(2)
CD_TILE_FNS(3)
CD_TILE_FNS(4)
CD_TILE_FNS(5)
CD_TILE_FNS(6)
#if CD_MR > 6
CD_TILE_FNS(7)
CD_TILE_FNS(8)
CD_TILE_FNS(9)
CD_TILE_FNS(10)
CD_TILE_FNS(11)
CD_TILE_FNS(12)
CD_TILE_FNS(13)
CD_TILE_FNS(14)
#endif
#if CD_MR != 6 && CD_MR != 14
#error "conv_direct_f32_impl.h: CD_MR must be 6 or 14"
#endif

static const cd_tile_fn cd_tiles[CD_MR][2][4] = {
    CD_ROW(1) CD_ROW(2) CD_ROW(3) CD_ROW(4) CD_ROW(5) CD_ROW(6)
#if CD_MR > 6
    CD_ROW(7) CD_ROW(8) CD_ROW(9) CD_ROW(10) CD_ROW(11) CD_ROW(12) CD_ROW(13)
    CD_ROW(14)
#endif
};

/* Tile setup for the mr pixels from q: the output runs in `o` and, in
 * gather mode, each pixel's input offset in po. Returns 0 for a tile of
 * only columns past the output's (flat mode), which is skipped. */
static int cd_setup(const kiln_conv_direct_job *j, int64_t q, int mr,
                    cd_out *o, int64_t *po) {
  if (j->gather) {
    int64_t pr = q / j->ow, pc = q % j->ow;
    for (int i = 0; i < mr; ++i) {
      po[i] = pr * j->sh * j->pitch + pc * j->step;
      if (++pc == j->ow) {
        pc = 0;
        ++pr;
      }
    }
  }
  if (j->gather || !j->flat) {
    o->nseg = 1;
    o->prefix = 1;
    o->seg_base[0] = q;
    o->seg_mask[0] = cd_mask(0, mr);
    return 1;
  }
  o->prefix = 0;
  /* runs of lanes [s, e) on virtual row vr from column vc */
  int64_t vr = q / j->pitch, vc = q % j->pitch;
  o->nseg = 0;
  for (int s = 0; s < mr; ++vr, vc = 0) {
    int e = j->pitch - vc < mr - s ? s + (int)(j->pitch - vc) : mr;
    int ve = j->ow - vc < e - s ? s + (int)(j->ow - vc) : e;
    if (ve > s) {
      o->seg_base[o->nseg] = vr * j->ow + vc - s;
      o->seg_mask[o->nseg++] = cd_mask(s, ve);
    }
    s = e;
  }
  return o->nseg > 0;
}

void CD_FN(void *vjob, int64_t begin, int64_t end) {
  const kiln_conv_direct_job *j = vjob;
  float part[CD_MAX_TILES * 2 * CD_MR * CD_VW] __attribute__((aligned(64)));
  int64_t plane = j->oh * j->ow, per_img = j->fblocks * j->rows;
  for (int64_t t = begin; t < end; ++t) {
    int64_t img = t / per_img, fb, r;
    if (j->rows_outer) {
      r = t / j->fblocks % j->rows;
      fb = t % j->fblocks;
    } else {
      fb = t / j->rows % j->fblocks;
      r = t % j->rows;
    }
    int64_t f0 = fb * CD_CT, nf = j->f - f0 < CD_CT ? j->f - f0 : CD_CT;
    int nv = nf > CD_VW ? 2 : 1;
    /* channel f0 is panel f0 / 16, lane f0 % 16 */
    const float *w = j->wp + f0 / 16 * j->k * 16 + f0 % 16;
    const float *x = j->x + img * j->x_img;
    float *y = j->y + img * j->y_img + f0 * plane;
    const float *res = j->res ? j->res + img * j->res_img + f0 * plane : NULL;
    cd_out o;
    o.y = y;
    o.res = res;
    o.bias = j->bias ? j->bias + f0 : NULL;
    o.plane = plane;
    o.nf = nf;
    o.act = j->act;
    /* pixels [q0, q1) of the plane, or in flat mode of the virtual plane
     * whose rows are `pitch` wide (the columns from ow on are not output);
     * their inputs from xrow */
    int64_t q0, q1;
    const float *xrow;
    /* (gather, flat) the plane split evenly over the rows tasks, so that
     * no task is left a sliver */
    if (j->gather) {
      q0 = plane * r / j->rows;
      q1 = plane * (r + 1) / j->rows;
      xrow = x;
    } else if (j->flat) {
      int64_t vplane = (j->oh - 1) * j->pitch + j->ow;
      q0 = vplane * r / j->rows;
      q1 = vplane * (r + 1) / j->rows;
      xrow = x + q0;
    } else {
      q0 = r * j->ow;
      q1 = q0 + j->ow;
      xrow = x + r * j->sh * j->pitch;
    }
    /* ceil((q1 - q0) / CD_MR) tiles of (nearly) equal width: a tile of
     * one or two pixels has too few accumulators to hide the FMA latency */
    int64_t ntiles = (q1 - q0 + CD_MR - 1) / CD_MR;
    int64_t base = ntiles ? (q1 - q0) / ntiles : 0, wide = (q1 - q0) - base * ntiles;
    /* k blocks (j->kblocks) when the task's tiles' accumulators fit the
     * buffer: in the gather mode (AVX2), ResNet-18's 3 x 3 layers went from
     * 80-88 to 84-90 GFLOP/s in the model */
    int64_t kc = j->kblocks && ntiles <= CD_MAX_TILES ? CD_KC : j->k;
    /* channel-blocked input: one pass over k unless the filter panel is
     * large (ResNet-18's 3 x 3 layers at 64-256 channels ran 1-5% faster
     * unblocked in bench/gemm_bench.sh; at 512, K = 4608, blocked) */
    if (j->c8 && j->k <= CD_C8_MAX_UNBLOCKED)
      kc = j->k;
    cd_kblock kb;
    kb.kp = j->k;
    /* the gather tile variant and taps per koff entry */
    const int gv = j->c8 ? CD_C8 : 0, kg = j->c8 ? 8 : 1;
    if (kc < j->k) {
      /* k blocks: each tile's outputs and pixel offsets are worked out
       * once for all blocks (an idiv and a store per pixel, 2.5% of
       * ResNet-18 when redone per block) */
      cd_out os[CD_MAX_TILES];
      int64_t pos[CD_MAX_TILES][CD_MR], qs[CD_MAX_TILES];
      int mrs[CD_MAX_TILES], live[CD_MAX_TILES];
      for (int64_t ti = 0, q = q0; ti < ntiles; ++ti) {
        mrs[ti] = (int)(base + (ti < wide ? 1 : 0));
        os[ti] = o;
        live[ti] = cd_setup(j, q, mrs[ti], &os[ti], pos[ti]);
        qs[ti] = q;
        q += mrs[ti];
      }
      for (int64_t k0 = 0; k0 < j->k; k0 += kc) {
        int64_t kn = j->k - k0 < kc ? j->k - k0 : kc;
        kb.first = k0 == 0;
        kb.last = k0 + kn == j->k;
        for (int64_t ti = 0; ti < ntiles; ++ti) {
          kb.part = part + ti * 2 * CD_MR * CD_VW;
          kb.prefetch = ti == 0 && !kb.last;
          kb.pf = w + (k0 + kn) * 16;
          if (j->gather)
            cd_tiles[mrs[ti] - 1][nv - 1][gv](xrow, pos[ti], j->koff + k0 / kg,
                                             kn, w + k0 * 16, &os[ti], &kb);
          else if (live[ti]) /* row, flat: the pixels' inputs step by step */
            cd_tiles[mrs[ti] - 1][nv - 1][j->step](
                xrow + (qs[ti] - q0) * j->step, pos[ti], j->koff + k0, kn,
                w + k0 * 16, &os[ti], &kb);
        }
      }
      continue;
    }
    kb.first = kb.last = 1;
    /* one pass over the taps: the task's first tile fetches the filter
     * panels of the next task's channel block, which otherwise come from
     * memory at the pace of its first tile (1 x 1 convolutions on 7 x 7
     * planes: a few tiles per block, every block a new filter panel) */
    kb.prefetch = 0;
    if (t + 1 < end && !j->c8) {
      int64_t nfb = j->rows_outer ? (t + 1) % j->fblocks : (t + 1) / j->rows % j->fblocks;
      kb.prefetch = nfb != fb;
      kb.pf = j->wp + nfb * CD_CT / 16 * j->k * 16 + nfb * CD_CT % 16;
    }
    kb.part = part;
    for (int64_t ti = 0, q = q0; ti < ntiles; ++ti) {
      int mr = (int)(base + (ti < wide ? 1 : 0));
      int64_t po[CD_MR];
      if (cd_setup(j, q, mr, &o, po)) {
        if (j->gather)
          cd_tiles[mr - 1][nv - 1][gv](xrow, po, j->koff, j->k, w, &o, &kb);
        else
          cd_tiles[mr - 1][nv - 1][j->step](xrow + (q - q0) * j->step, po,
                                            j->koff, j->k, w, &o, &kb);
        kb.prefetch = 0;
      }
      q += mr;
    }
  }
}
