/*===- attention_f32.c - fused attention on the packed GEMM ---------------===*
 *
 * kiln.attention (f32, rank 3 or 4) on the CPU, called through kiln.ukernel
 * "attention_f32" (codegen/cpu/SelectUkernels.cpp). Work items are
 * (batch, head, block of query rows), split over the run's threads. Per
 * item: K and V of the item's key/value head (h / rep under grouped-query
 * attention) are packed into GEMM panels (kept when the thread's next item
 * reads the same head), S = Q_block . K^T runs on the GEMM tile kernel,
 * then scale, mask and causal exclusion, one exact softmax pass over all
 * keys (a block of rows holds every key: scores of one block are at most
 * ~256 KiB), and O_block = P . V, scaled by 1 / rowsum.
 *
 * With ATT_BF16 (--precision bf16) the two products of blocks of query
 * rows run on the bf16 GEMM (K, V and P rounded to bf16, fp32
 * accumulation); scores, masks and the softmax stay fp32. Decode steps
 * (few query rows) stay fp32: they stream K and V once either way. On
 * AVX512-BF16 CPUs, Q and P are rounded into row-major blocks that the
 * tile reads in place (kiln_sbgemm_rm_avx512bf16), K^T and V are packed
 * by vector code. ATT_BF16_NATIVE (--quantize int8) asks for bf16 only on
 * such CPUs: elsewhere bf16 products would be slower than fp32.
 *
 * desc (int64): isa, flags, mask rank, operand rank (3: [B*H, S, D], read
 * as B = 1; 4: [B, H, S, D]), then q, k, v, [mask,] out as (address,
 * offset, sizes, strides) each (the mask with its own rank).
 * fparams: scale, mask fill.
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_amx.h"
#include "gemm_f32.h"
#include "softmax_f32.h"
#include "view.h"
#include "../runtime_internal.h"

#include <stdio.h>

#include <math.h>
#include <string.h>

enum {
  ATT_MASK = 1,      /* a mask operand follows v */
  ATT_MASK_BOOL = 2, /* it is i1: false excludes (or takes the fill) */
  ATT_CAUSAL = 4,    /* key j > i + Sk - Sq is excluded */
  ATT_FILL = 8,      /* excluded bool-mask scores take fparams[1] */
  ATT_BF16 = 16,     /* Q.K^T and P.V in bf16 (fp32 accumulation) */
  ATT_BF16_NATIVE = 32, /* in bf16 where the CPU has AVX512-BF16 (int8) */
};

typedef struct {
  int isa;
  int64_t flags;
  view4 q, k, v, m, o;
  int64_t B, H, rep, Sq, Sk, D, Dv, qb, qblocks;
  float scale, fill;
  int failed;
} att_job;

static void rows_softmax(int isa, float *s, int64_t rows, int64_t n,
                         int64_t lds, float *inv, const kiln_softmax_pre *pre) {
  if (isa == KILN_ISA_AVX512)
    kiln_softmax_rows_avx512(s, rows, n, lds, inv, pre);
  else if (isa == KILN_ISA_AVX2)
    kiln_softmax_rows_avx2(s, rows, n, lds, inv, pre);
  else
    kiln_softmax_rows_generic(s, rows, n, lds, inv, pre);
}

void kiln_softmax_rows_generic(float *s, int64_t rows, int64_t n, int64_t lds,
                               float *inv, const kiln_softmax_pre *pre) {
  for (int64_t r = 0; r < rows; ++r) {
    float *row = s + r * lds, m = -INFINITY, sum = 0.0f;
    const float *mrow = pre && pre->mask ? pre->mask + r * pre->ldm : NULL;
    for (int64_t j = 0; j < n; ++j) {
      if (pre)
        row[j] = row[j] * pre->scale + (mrow ? mrow[j] : 0.0f);
      m = row[j] > m ? row[j] : m;
    }
    for (int64_t j = 0; j < n; ++j) {
      row[j] = expf(row[j] - m);
      sum += row[j];
    }
    inv[r] = 1.0f / sum;
  }
}

void kiln_axpy_rows_generic(float *o, const float *p, const float *v,
                            int64_t n, int64_t dv, int64_t ldv) {
  for (int64_t j = 0; j < n; ++j)
    for (int64_t e = 0; e < dv; ++e)
      o[e] += p[j] * v[j * ldv + e];
}

/* Scale, mask and causal exclusion of the first `Sk` scores of rows i0..
 * of (b, h) (rows of stride j->Sk). */
static void mask_scores(const att_job *j, float *s, int64_t rows, int64_t b,
                        int64_t h, int64_t i0, int64_t Sk) {
  for (int64_t r = 0; r < rows; ++r) {
    float *row = s + r * j->Sk;
    int64_t i = i0 + r;
    for (int64_t c = 0; c < Sk; ++c)
      row[c] *= j->scale;
    if (j->flags & ATT_MASK) {
      const char *mrow = j->m.base;
      int64_t off = b * j->m.stride[0] + h * j->m.stride[1] + i * j->m.stride[2];
      int64_t ms = j->m.stride[3];
      if (j->flags & ATT_MASK_BOOL) {
        const unsigned char *mb = (const unsigned char *)mrow + off;
        float excluded = (j->flags & ATT_FILL) ? j->fill : -INFINITY;
        for (int64_t c = 0; c < Sk; ++c)
          if (!mb[c * ms])
            row[c] = excluded;
      } else {
        const float *mf = (const float *)mrow + off;
        if (ms == 1)
          for (int64_t c = 0; c < Sk; ++c)
            row[c] += mf[c];
        else
          for (int64_t c = 0; c < Sk; ++c)
            row[c] += mf[c * ms];
      }
    }
    if (j->flags & ATT_CAUSAL)
      for (int64_t c = i + j->Sk - j->Sq + 1; c < Sk; ++c)
        if (c >= 0)
          row[c] = -INFINITY;
  }
}

/* Few query rows (decode steps): S^T = K . Q^T with K read in place as the
 * GEMM's left operand (only the few Q rows are packed), then P . V as
 * row-wise axpys over V. K and V stream from memory once; nothing of the
 * cache is copied. */
#define DECODE_ROWS 4
static int decode_item(att_job *j, int64_t b, int64_t h, int64_t kvh,
                       int64_t i0, int64_t rows, float *s, float *inv) {
  const int64_t Sk = j->Sk, D = j->D, Dv = j->Dv;
  const float *K = (const float *)(j->k.base) + b * j->k.stride[0] +
                   kvh * j->k.stride[1];
  const float *V = (const float *)(j->v.base) + b * j->v.stride[0] +
                   kvh * j->v.stride[1];
  const float *Q = (const float *)(j->q.base) + b * j->q.stride[0] +
                   h * j->q.stride[1] + i0 * j->q.stride[2];
  float *qpk = kiln_scratch(KILN_SCRATCH_ATT_Q,
                            (size_t)(D * KILN_GEMM_NR) * sizeof(float));
  if (!qpk)
    return 0;
  if (rows == 1 && j->k.stride[3] == 1 && j->isa != KILN_ISA_GENERIC) {
    /* One query row: each key's dot product with it, vectorized over the
     * head dim (the GEMM's 16-column panel held one useful column).
     * llama_8x1024_decode's attention (16 heads, 513 keys, one thread):
     * 0.20 -> 0.115 ms per layer; its decode step 1.06-1.09x faster on
     * 512 cached tokens, 1.18-1.21x on 4096. */
    for (int64_t d = 0; d < D; ++d)
      qpk[d] = Q[d * j->q.stride[3]];
    if (j->isa == KILN_ISA_AVX512)
      kiln_dot_rows_avx512(s, qpk, K, Sk, D, j->k.stride[2]);
    else
      kiln_dot_rows_avx2(s, qpk, K, Sk, D, j->k.stride[2]);
  } else {
    float *st = kiln_scratch(KILN_SCRATCH_ATT_ST,
                             (size_t)(Sk * rows) * sizeof(float));
    if (!st)
      return 0;
    kiln_sgemm_pack_b(D, rows, Q, j->q.stride[3], j->q.stride[2], qpk);
    if (!kiln_sgemm_packed_run(j->isa, 0, Sk, rows, D, K, j->k.stride[2],
                               j->k.stride[3], qpk, st, rows))
      return 0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < Sk; ++c)
        s[r * Sk + c] = st[c * rows + r];
  }
  mask_scores(j, s, rows, b, h, i0, Sk);
  rows_softmax(j->isa, s, rows, Sk, Sk, inv, NULL);
  float *O = (float *)(j->o.base) + b * j->o.stride[0] + h * j->o.stride[1] +
             i0 * j->o.stride[2];
  for (int64_t r = 0; r < rows; ++r) {
    float *o = O + r * j->o.stride[2];
    for (int64_t e = 0; e < Dv; ++e)
      o[e] = 0.0f;
    if (j->v.stride[3] == 1 && j->isa == KILN_ISA_AVX512)
      kiln_axpy_rows_avx512(o, s + r * Sk, V, Sk, Dv, j->v.stride[2]);
    else if (j->v.stride[3] == 1 && j->isa == KILN_ISA_AVX2)
      kiln_axpy_rows_avx2(o, s + r * Sk, V, Sk, Dv, j->v.stride[2]);
    else if (j->v.stride[3] == 1)
      kiln_axpy_rows_generic(o, s + r * Sk, V, Sk, Dv, j->v.stride[2]);
    else
      for (int64_t c = 0; c < Sk; ++c)
        for (int64_t e = 0; e < Dv; ++e)
          o[e] += s[r * Sk + c] * V[c * j->v.stride[2] + e * j->v.stride[3]];
    for (int64_t e = 0; e < Dv; ++e)
      o[e] *= inv[r];
  }
  return 1;
}

/* rows x k of x (strides ld, cs) rounded to bf16, rows of kpad values,
 * zero past k. */
static void bf16_rows(const float *x, int64_t ld, int64_t cs, int64_t rows,
                      int64_t k, int64_t kpad, uint16_t *dst) {
  if (cs == 1 || k == 1) {
    kiln_bf16_rows_avx512bf16(x, ld, rows, k, kpad, dst, kpad);
    return;
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < kpad; ++c)
      dst[r * kpad + c] = c < k ? kiln_f32_to_bf16(x[r * ld + c * cs]) : 0;
}

static void att_range(void *vjob, int64_t begin, int64_t end) {
  att_job *j = vjob;
  const int64_t Sk = j->Sk, D = j->D, Dv = j->Dv;
  int64_t kpanels = (Sk + KILN_GEMM_NR - 1) / KILN_GEMM_NR;
  int64_t vpanels = (Dv + KILN_GEMM_NR - 1) / KILN_GEMM_NR;
  /* fp32 panels, or bf16 k-pair panels (half the bytes of as many values,
   * k rounded up to pairs) */
  int bf16 = (j->flags & ATT_BF16) != 0;
  int rm = bf16 && j->isa == KILN_ISA_AVX512 && kiln_cpu_has_avx512bf16();
  /* the products' pairs of k (bf16): with AMX-BF16 rounded up to 16, the
   * tiles' step, with zeros (its tiles run where there are at least 8
   * rows; ViT's 197 keys: 99 -> 112 pairs) */
  int64_t dq = (D + 1) / 2, sq = (Sk + 1) / 2;
  if (rm && kiln_cpu_has_amx_bf16()) {
    dq = (dq + 15) / 16 * 16;
    sq = (sq + 15) / 16 * 16;
  }
  size_t kbytes = bf16 ? (size_t)(kpanels * dq * 32) * sizeof(uint16_t)
                       : (size_t)(kpanels * D * KILN_GEMM_NR) * sizeof(float);
  size_t vbytes = bf16 ? (size_t)(vpanels * sq * 32) * sizeof(uint16_t)
                       : (size_t)(vpanels * Sk * KILN_GEMM_NR) * sizeof(float);
  void *kp = kiln_scratch(KILN_SCRATCH_ATT_K, kbytes);
  void *vp = kiln_scratch(KILN_SCRATCH_ATT_V, vbytes);
  float *s = kiln_scratch(KILN_SCRATCH_ATT_S,
                          (size_t)(j->qb * (Sk + 1)) * sizeof(float));
  if (!kp || !vp || !s) {
    j->failed = 1;
    return;
  }
  float *inv = s + j->qb * Sk;
  int64_t packed_b = -1, packed_kv = -1;
  for (int64_t item = begin; item < end; ++item) {
    int64_t qblk = item % j->qblocks, bh = item / j->qblocks;
    int64_t h = bh % j->H, b = bh / j->H, kvh = h / j->rep;
    int64_t i0 = qblk * j->qb;
    int64_t rows = j->Sq - i0 < j->qb ? j->Sq - i0 : j->qb;
    if (rows <= DECODE_ROWS) {
      if (!decode_item(j, b, h, kvh, i0, rows, s, inv)) {
        j->failed = 1;
        return;
      }
      continue;
    }
    const float *K = (const float *)(j->k.base) +
                     b * j->k.stride[0] + kvh * j->k.stride[1];
    const float *V = (const float *)(j->v.base) +
                     b * j->v.stride[0] + kvh * j->v.stride[1];
    if (packed_b != b || packed_kv != kvh) {
      /* S = Q K^T: B[d][key] = K[key][d]; O = P V: B[key][e] = V[key][e]. */
      if (bf16) {
        kiln_sbgemm_pack_b_kq(D, dq, Sk, K, j->k.stride[3], j->k.stride[2], kp);
        kiln_sbgemm_pack_b_kq(Sk, sq, Dv, V, j->v.stride[2], j->v.stride[3], vp);
      } else {
        kiln_sgemm_pack_b(D, Sk, K, j->k.stride[3], j->k.stride[2], kp);
        kiln_sgemm_pack_b(Sk, Dv, V, j->v.stride[2], j->v.stride[3], vp);
      }
      packed_b = b;
      packed_kv = kvh;
    }
    const float *Q = (const float *)(j->q.base) + b * j->q.stride[0] +
                     h * j->q.stride[1] + i0 * j->q.stride[2];
    /* Causal: the block's last row sees keys up to i0 + rows - 1 + Sk - Sq;
     * later keys are excluded for every row of the block, so their scores
     * are not computed (their probabilities are 0). */
    int64_t kend = Sk;
    if ((j->flags & ATT_CAUSAL) && i0 + rows + Sk - j->Sq < Sk &&
        i0 + rows + Sk - j->Sq > 0)
      kend = i0 + rows + Sk - j->Sq;
    /* bf16 on AVX512-BF16: Q and P rounded into row-major blocks the tile
     * reads in place (no k-pair packing) */
    uint16_t *q16 = NULL, *p16 = NULL;
    if (rm) {
      q16 = kiln_scratch(KILN_SCRATCH_ATT_Q, (size_t)(rows * 2 * dq) * sizeof(uint16_t));
      p16 = kiln_scratch(KILN_SCRATCH_ATT_ST, (size_t)(rows * 2 * sq) * sizeof(uint16_t));
      if (!q16 || !p16) {
        j->failed = 1;
        return;
      }
      bf16_rows(Q, j->q.stride[2], j->q.stride[3], rows, D, 2 * dq, q16);
      kiln_sbgemm_rm_avx512bf16(rows, kend, dq, q16, 2 * dq, kp, s, Sk);
    } else if (!(bf16 ? kiln_sbgemm_run(j->isa, 0, rows, kend, D, Q, j->q.stride[2],
                                 j->q.stride[3], kp, s, Sk, NULL)
               : kiln_sgemm_packed_run(j->isa, 0, rows, kend, D, Q,
                                       j->q.stride[2], j->q.stride[3], kp, s,
                                       Sk))) {
      j->failed = 1;
      return;
    }
    /* The scale and an additive mask read with unit stride go into the
     * softmax's first pass (BERT's padding mask); others take their own. */
    kiln_softmax_pre pre = {j->scale, NULL, 0};
    int fused = !(j->flags & (ATT_CAUSAL | ATT_MASK_BOOL)) &&
                (!(j->flags & ATT_MASK) || j->m.stride[3] == 1);
    if (fused && (j->flags & ATT_MASK)) {
      pre.mask = (const float *)j->m.base + b * j->m.stride[0] +
                 h * j->m.stride[1] + i0 * j->m.stride[2];
      pre.ldm = j->m.stride[2];
    }
    if (!fused)
      mask_scores(j, s, rows, b, h, i0, kend);
    rows_softmax(j->isa, s, rows, kend, Sk, inv, fused ? &pre : NULL);
    if (kend < Sk && !rm) /* (the bf16 rows are zero past kend already) */
      for (int64_t r = 0; r < rows; ++r)
        memset(s + r * Sk + kend, 0, (size_t)(Sk - kend) * sizeof(float));
    float *O = (float *)(j->o.base) + b * j->o.stride[0] + h * j->o.stride[1] +
               i0 * j->o.stride[2];
    if (rm) {
      bf16_rows(s, Sk, 1, rows, kend, 2 * sq, p16);
      kiln_sbgemm_rm_avx512bf16(rows, Dv, sq, p16, 2 * sq, vp, O, j->o.stride[2]);
    } else if (!(bf16 ? kiln_sbgemm_run(j->isa, 0, rows, Dv, Sk, s, Sk, 1, vp, O,
                                 j->o.stride[2], NULL)
               : kiln_sgemm_packed_run(j->isa, 0, rows, Dv, Sk, s, Sk, 1, vp, O,
                                       j->o.stride[2]))) {
      j->failed = 1;
      return;
    }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t e = 0; e < Dv; ++e)
        O[r * j->o.stride[2] + e] *= inv[r];
  }
}

static void attention_f32_call(const int64_t *desc, const float *fparams) {
  att_job j;
  memset(&j, 0, sizeof j);
  j.isa = (int)desc[0];
  j.flags = desc[1];
  if ((j.flags & ATT_BF16_NATIVE) && j.isa == KILN_ISA_AVX512 &&
      kiln_cpu_has_avx512bf16())
    j.flags |= ATT_BF16;
  int64_t mrank = desc[2], rank = desc[3];
  const int64_t *d = desc + 4;
  d = kiln_read_view(d, rank, 4, &j.q);
  d = kiln_read_view(d, rank, 4, &j.k);
  d = kiln_read_view(d, rank, 4, &j.v);
  if (j.flags & ATT_MASK)
    d = kiln_read_view(d, mrank, (j.flags & ATT_MASK_BOOL) ? 1 : 4, &j.m);
  kiln_read_view(d, rank, 4, &j.o);
  j.scale = fparams[0];
  j.fill = fparams[1];
  /* Reading the sizes as 4-D views made broadcast strides 0; the model's
   * extents must still agree (a mismatch ends the run with an error). */
  j.B = j.q.size[0];
  j.H = j.q.size[1];
  j.Sq = j.q.size[2];
  j.D = j.q.size[3];
  j.Sk = j.k.size[2];
  j.Dv = j.v.size[3];
  int64_t Hk = j.k.size[1];
  kiln_rt_check_dim(j.k.size[0], j.B);
  kiln_rt_check_dim(j.v.size[0], j.B);
  kiln_rt_check_dim(j.v.size[1], Hk);
  kiln_rt_check_dim(j.v.size[2], j.Sk);
  kiln_rt_check_dim(j.k.size[3], j.D);
  kiln_rt_check_dim(j.o.size[3], j.Dv);
  if (Hk <= 0 || j.H % Hk != 0)
    kiln_rt_check_dim(j.H, Hk);
  j.rep = Hk > 0 ? j.H / Hk : 1;
  if (j.flags & ATT_MASK) {
    const int64_t target[4] = {j.B, j.H, j.Sq, j.Sk};
    for (int i = 0; i < 4; ++i)
      if (j.m.size[i] != 1)
        kiln_rt_check_dim(j.m.size[i], target[i]);
  }
  if (j.B == 0 || j.H == 0 || j.Sq == 0 || j.Dv == 0)
    return;
  if (j.Sk == 0) {
    /* softmax over no keys: 0 / 0 */
    for (int64_t b = 0; b < j.B; ++b)
      for (int64_t h = 0; h < j.H; ++h)
        for (int64_t i = 0; i < j.Sq; ++i)
          for (int64_t e = 0; e < j.Dv; ++e)
            ((float *)j.o.base)[b * j.o.stride[0] + h * j.o.stride[1] +
                                i * j.o.stride[2] + e] = NAN;
    return;
  }
  /* Query rows per item: a multiple of the AVX-512 tile height, scores of
   * one block within ~256 KiB. */
  int64_t qb = 65536 / j.Sk;
  qb = qb < 12 ? 12 : qb > 192 ? 192 : qb - qb % 12;
  int64_t items_bh = j.B * j.H;
  int64_t threads = kiln_rt_num_threads();
  /* Enough items for every thread: split the query rows further. */
  while (qb > 12 && items_bh * ((j.Sq + qb - 1) / qb) < 2 * threads)
    qb -= 12;
  j.qb = qb < j.Sq ? qb : j.Sq;
  j.qblocks = (j.Sq + j.qb - 1) / j.qb;
  kiln_parallel_for(items_bh * j.qblocks, att_range, &j);
  if (j.failed)
    kiln_rt_fail_oom();
}

/* Profiled entry point (KILN_PROFILE=1, profile.c): q [B, H, Sq, D] and
 * k [B, H, Sk, D] give the label and the FLOPs of QK^T and PV. */
static void attention_label(char *buf, size_t n, const void *arg) {
  const int64_t *s = arg;
  snprintf(buf, n, "%lld x %lld heads, q %lld x k %lld, d %lld", (long long)s[0],
           (long long)s[1], (long long)s[2], (long long)s[3], (long long)s[4]);
}

void kiln_ukernel_attention_f32(const int64_t *desc, const float *fparams) {
  KILN_PROF_BEGIN();
  attention_f32_call(desc, fparams);
  if (kiln_prof_on) {
    view4 q, k;
    int64_t rank = desc[3];
    const int64_t *d = kiln_read_view(desc + 4, rank, 4, &q);
    kiln_read_view(d, rank, 4, &k);
    int64_t s[5] = {q.size[0], q.size[1], q.size[2], k.size[2], q.size[3]};
    KILN_PROF_END("attention", 4.0 * s[0] * s[1] * s[2] * s[3] * s[4],
                  attention_label, s);
  }
}
