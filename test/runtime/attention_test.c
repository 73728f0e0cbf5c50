/*===- attention_test.c - the fused attention kernel against a reference -===*
 *
 * kiln_ukernel_attention_f32 (generic C, AVX2, AVX-512 where the CPU has
 * them) on rank-4 [B, H, S, D] and rank-3 [B*H, S, D] operands: a padding
 * mask, a boolean mask, causal prefill, grouped-query heads, decode steps
 * (few query rows), keys beyond one block, Dv != D; in fp32 against double
 * precision (1e-5) and with its products in bf16 (flag 16, --precision
 * bf16) within 1e-2.
 *
 *===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "kiln/runtime.h"
#include "runtime_internal.h"
#include "ukernels/gemm_f32.h"
#include "ukernel_test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void kiln_ukernel_attention_f32(const int64_t *desc, const float *fparams);

static const char *isa_name(int isa) {
  return isa == KILN_ISA_AVX512 ? "avx512" : isa == KILN_ISA_AVX2 ? "avx2" : "generic";
}

/* Attention on [B, H, S, D] (rank 4) or [B*H, S, D] (rank 3), with an
 * optional mask of shape [B, 1, 1, Sk] (additive) or [Sq, Sk] (bool). */
static double check_attention(int isa, int rank, int64_t B, int64_t H,
                              int64_t Hk, int64_t Sq, int64_t Sk, int64_t D,
                              int64_t Dv, int maskKind, int causal, int bf16) {
  int64_t qn = B * H * Sq * D, kn = B * Hk * Sk * D, vn = B * Hk * Sk * Dv,
          on = B * H * Sq * Dv;
  float *q = malloc(sizeof(float) * (size_t)qn), *k = malloc(sizeof(float) * (size_t)kn),
        *v = malloc(sizeof(float) * (size_t)vn), *o = malloc(sizeof(float) * (size_t)on);
  float *maskf = malloc(sizeof(float) * (size_t)(B * Sk));
  unsigned char *maskb = malloc((size_t)(Sq * Sk));
  for (int64_t i = 0; i < qn; ++i)
    q[i] = frand();
  for (int64_t i = 0; i < kn; ++i)
    k[i] = frand();
  for (int64_t i = 0; i < vn; ++i)
    v[i] = frand();
  for (int64_t i = 0; i < B * Sk; ++i)
    maskf[i] = (i % 5 == 4) ? -1e9f : frand();
  for (int64_t i = 0; i < Sq * Sk; ++i)
    maskb[i] = (i % 3) != 1 || (i % Sk) == 0;
  float scale = 1.0f / sqrtf((float)D);
  int64_t desc[128], *d = desc;
  int64_t flags = (maskKind ? 1 : 0) | (maskKind == 2 ? 2 : 0) | (causal ? 4 : 0) |
                  (bf16 == 1 ? 16 : bf16 == 2 ? 32 : 0);
  *d++ = isa;
  *d++ = flags;
  *d++ = maskKind == 1 ? 4 : 2;
  *d++ = rank;
  /* dense tensors: (addr, off, sizes, strides) */
#define PUT4(ptr, s0, s1, s2, s3)                                              \
  do {                                                                         \
    int64_t sz[4] = {s0, s1, s2, s3}, st[4];                                   \
    st[3] = 1;                                                                 \
    for (int i = 2; i >= 0; --i)                                               \
      st[i] = st[i + 1] * sz[i + 1];                                           \
    *d++ = (intptr_t)(ptr);                                                    \
    *d++ = 0;                                                                  \
    if (rank == 4) {                                                           \
      for (int i = 0; i < 4; ++i) *d++ = sz[i];                                \
      for (int i = 0; i < 4; ++i) *d++ = st[i];                                \
    } else {                                                                   \
      *d++ = sz[0] * sz[1]; *d++ = sz[2]; *d++ = sz[3];                        \
      *d++ = st[1]; *d++ = st[2]; *d++ = st[3];                                \
    }                                                                          \
  } while (0)
  PUT4(q, B, H, Sq, D);
  PUT4(k, B, Hk, Sk, D);
  PUT4(v, B, Hk, Sk, Dv);
  if (maskKind == 1) { /* [B, 1, 1, Sk] */
    *d++ = (intptr_t)maskf; *d++ = 0;
    *d++ = B; *d++ = 1; *d++ = 1; *d++ = Sk;
    *d++ = Sk; *d++ = Sk; *d++ = Sk; *d++ = 1;
  } else if (maskKind == 2) { /* [Sq, Sk] */
    *d++ = (intptr_t)maskb; *d++ = 0;
    *d++ = Sq; *d++ = Sk; *d++ = Sk; *d++ = 1;
  }
  PUT4(o, B, H, Sq, Dv);
  float fp[2] = {scale, 0.0f};
  kiln_ukernel_attention_f32(desc, fp);
  double worst = 0;
  double *s = malloc(sizeof(double) * (size_t)Sk);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      int64_t kh = h / (H / Hk);
      for (int64_t i = 0; i < Sq; ++i) {
        double mx = -INFINITY;
        for (int64_t j = 0; j < Sk; ++j) {
          double acc = 0;
          for (int64_t e = 0; e < D; ++e)
            acc += (double)q[((b * H + h) * Sq + i) * D + e] *
                   k[((b * Hk + kh) * Sk + j) * D + e];
          acc *= scale;
          if (maskKind == 1)
            acc += maskf[b * Sk + j];
          if (maskKind == 2 && !maskb[i * Sk + j])
            acc = -INFINITY;
          if (causal && j > i + Sk - Sq)
            acc = -INFINITY;
          s[j] = acc;
          mx = acc > mx ? acc : mx;
        }
        double sum = 0;
        for (int64_t j = 0; j < Sk; ++j) {
          s[j] = exp(s[j] - mx);
          sum += s[j];
        }
        for (int64_t e = 0; e < Dv; ++e) {
          double acc = 0;
          for (int64_t j = 0; j < Sk; ++j)
            acc += s[j] * v[((b * Hk + kh) * Sk + j) * Dv + e];
          acc /= sum;
          double err = fabs(o[((b * H + h) * Sq + i) * Dv + e] - acc) / (1 + fabs(acc));
          worst = err > worst ? err : worst;
        }
      }
    }
  free(s);
  free(q);
  free(k);
  free(v);
  free(o);
  free(maskf);
  free(maskb);
  return worst;
}

static void test_attention(int isa, int bf16) {
  struct { int rank; int64_t B, H, Hk, Sq, Sk, D, Dv; int mask, causal; } cs[] = {
      {4, 1, 4, 4, 128, 128, 64, 64, 1, 0},  /* BERT-style padding mask */
      {4, 2, 8, 2, 17, 17, 16, 16, 0, 1},    /* GQA, causal prefill */
      {4, 1, 4, 4, 1, 129, 32, 32, 0, 1},    /* decode step on a cache */
      {4, 2, 4, 2, 1, 77, 20, 12, 1, 0},     /* one row, GQA, head dim 20 (a tail) */
      {4, 2, 2, 2, 5, 300, 8, 24, 2, 0},     /* bool mask, many keys, Dv != D */
      {3, 2, 3, 3, 50, 50, 32, 32, 0, 0},    /* rank 3 [B*H, S, D] */
      {4, 1, 2, 1, 40, 600, 16, 16, 1, 1},   /* keys beyond one block */
      {4, 1, 4, 2, 3, 70, 16, 16, 2, 1},     /* few rows (decode path): GQA, bool mask, causal */
      {4, 2, 2, 2, 2, 33, 8, 8, 1, 0},       /* decode path, padding mask */
      {4, 2, 3, 3, 21, 37, 16, 16, 1, 0},    /* padding mask, keys not a multiple of 16 */
      /* AMX-BF16 products where the CPU has them (pairs of k a multiple
       * of 16): 32 + 13 rows, causal (keys cut per block), Dv 48 */
      {4, 1, 2, 2, 45, 96, 32, 48, 1, 1},
  };
  double worst = 0;
  /* bf16 == 2: flag 32 (--quantize int8), bf16 on AVX512-BF16 CPUs only */
  int native = bf16 == 2 && isa == KILN_ISA_AVX512 && kiln_cpu_has_avx512bf16();
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; ++i) {
    double e = check_attention(isa, cs[i].rank, cs[i].B, cs[i].H, cs[i].Hk,
                               cs[i].Sq, cs[i].Sk, cs[i].D, cs[i].Dv,
                               cs[i].mask, cs[i].causal, bf16);
    /* bf16 (--precision bf16): Q, K, P and V rounded to 8-bit mantissas */
    double limit = bf16 == 1 || native ? 1e-2 : 1e-5;
    if (e > limit) {
      printf("FAIL attention%s %s case %zu: error %g\n", bf16 ? " bf16" : "",
             isa_name(isa), i, e);
      ++failures;
    }
    /* flag 32 takes bf16 exactly where the CPU has it (the few-rows decode
     * path stays fp32) */
    if (bf16 == 2 && native && cs[i].Sq > 4 && e < 1e-5) {
      printf("FAIL attention bf16-native %s case %zu: fp32 error %g\n",
             isa_name(isa), i, e);
      ++failures;
    }
    worst = e > worst ? e : worst;
  }
  if (bf16 == 2)
    printf("attention bf16-native %s: %zu cases, %s products, max error %s\n",
           isa_name(isa), sizeof cs / sizeof cs[0], native ? "bf16" : "fp32",
           worst < (native ? 1e-2 : 1e-5) ? (native ? "< 1e-2" : "< 1e-5")
                                          : "TOO LARGE");
  else if (bf16)
    printf("attention bf16 %s: %zu cases, max error %s\n", isa_name(isa),
           sizeof cs / sizeof cs[0], worst < 1e-2 ? "< 1e-2" : "TOO LARGE");
  else
    printf("attention %s: %zu cases, max error %s\n", isa_name(isa),
           sizeof cs / sizeof cs[0], worst < 1e-5 ? "< 1e-5" : "TOO LARGE");
}

int main(void) {
  kiln_pool_start(2);
  int isas[3], n = test_isas(isas);
  for (int i = 0; i < n; ++i) {
    test_attention(isas[i], 0);
    test_attention(isas[i], 1);
    test_attention(isas[i], 2);
  }
  printf("attention: %s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
