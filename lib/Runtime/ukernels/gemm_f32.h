/*===- gemm_f32.h - the fp32 GEMM microkernels (internal) -----------------===*
 *
 * B is stored in panels of KILN_GEMM_NR (16) columns: panel p holds columns
 * [16p, 16p + 16) as K rows of 16 contiguous floats, zero-padded past N.
 * The compiler packs constant weights into this layout at compile time
 * (codegen/cpu/Ukernels.cpp); other right-hand sides are packed per call.
 * The layout is the same for every ISA, so a weights file does not depend on
 * the --cpu a model was compiled for.
 *
 * A tile kernel computes C[0:mr, 0:nc] (+)= A[0:mr, 0:k] * B for up to
 * KILN_SGEMM_NC_<ISA> columns (two panels on AVX-512 unless M = 1, one
 * elsewhere). Its A block is read in place from rows of stride lda (ap[i * lda + kk], as
 * MLAS does), or, with lda == 0, packed k-major (ap[kk * mr + i] is
 * A[i, kk]), which the driver does only for A with non-unit column stride.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_GEMM_F32_H
#define KILN_UKERNELS_GEMM_F32_H

#include <stddef.h>
#include <stdint.h>
#include <math.h>

#define KILN_GEMM_NR 16

/* ISA selector passed by the generated code (the `flags` low bits). */
enum { KILN_ISA_GENERIC = 0, KILN_ISA_AVX2 = 1, KILN_ISA_AVX512 = 2 };
/* flags bit 8: C is overwritten instead of accumulated into. */
#define KILN_GEMM_OVERWRITE 0x100

/* Activations of a dense layer's epilogue (`int_params` of linear_f32). */
enum {
  KILN_ACT_NONE = 0,
  KILN_ACT_RELU = 1,
  KILN_ACT_GELU = 2,      /* erf form */
  KILN_ACT_GELU_TANH = 3,
  KILN_ACT_SILU = 4,
  KILN_ACT_HARDSWISH = 5, /* x * clamp(x / 6 + 1/2, 0, 1) */
  KILN_ACT_HARDSIGMOID = 6, /* clamp(x / 6 + 1/2, 0, 1) (PyTorch's form) */
  KILN_ACT_RELU6 = 7,       /* clamp(x, 0, 6): MobileNetV2's ReLU6 (Clip) */
};

/* Applied on the register tile before it is stored:
 *   c = act(rq(acc (+ c)) + bias[j] + row_bias[i]) + residual[i, j]
 * where rq, with `requant` (the int8 tiles only), is a QuantizeLinear ->
 * DequantizeLinear pair on u8: (clip(round(v / s) + z, 0, 255) - z) * s
 * (a QDQ model's matmul output, before its bias);
 * or, with res_first (a convolution's residual block),
 *   c = act(acc (+ c) + bias[j] + row_bias[i] + residual[i, j]).
 * bias, row_bias and residual point at the tile's first column / row /
 * element. */
typedef struct {
  const float *bias;     /* or NULL */
  const float *residual; /* or NULL; row stride ldr */
  int64_t ldr;
  int act;
  const float *row_bias; /* or NULL: one value per row of C */
  int res_first;
  const float *requant; /* or NULL: s, z, kiln_quant_rcp(s) */
} kiln_epilogue;

/* QuantizeLinear to u8 of one value, in float: clip(round(v / s) + z, 0,
 * 255) (NaN: 0, as the vector kernels' quant_u8_16). */
static inline float kiln_quant_u8_scalar(float v, float s, float z) {
  float q = nearbyintf(v / s) + z;
  q = q > 0.0f ? q : 0.0f;
  return q < 255.0f ? q : 255.0f;
}

/* The requant pair on one value (the generic tiles'). */
static inline float kiln_requant_scalar(float v, const float *rq) {
  return (kiln_quant_u8_scalar(v, rq[0], rq[1]) - rq[1]) * rq[0];
}

/* Activations the AVX2 and AVX-512 tiles apply over the stored tile
 * (act_tile, gemm_act_tile_impl.h) rather than in registers (all but ReLU,
 * ReLU6 and HardSwish): the costly ones (GELU: BERT-base int8 1.026x faster so, from a call per vector that
 * spilled the register tile). ReLU and HardSwish stay in registers: over
 * the stored tile, MobileNetV3-small at batch 8 ran 2% slower (reloading
 * what was just stored). */
static inline int kiln_act_deferred(int act) {
  return act != KILN_ACT_NONE && act != KILN_ACT_RELU &&
         act != KILN_ACT_HARDSWISH && act != KILN_ACT_RELU6;
}

/* A tile's share of the next column block's prefetch (kiln_gemm_side_share
 * below): `lines` lines of 64 bytes from p0 and, unless NULL, p1. */
typedef struct {
  const char *p0, *p1;
  int64_t lines;
} kiln_gemm_side;

typedef void (*kiln_sgemm_tile_fn)(int64_t mr, int64_t nc, int64_t k,
                                   const float *ap, int64_t lda,
                                   const float *b0, const float *b1,
                                   float *c, int64_t ldc,
                                   int accumulate, const kiln_epilogue *ep,
                                   const kiln_gemm_side *side);

/* Rows per tile of each kernel (the generic kernel takes any mr). */
#define KILN_SGEMM_MR_AVX512 12
#define KILN_SGEMM_MR_AVX2 6
#define KILN_SGEMM_MR_GENERIC 4
#define KILN_SGEMM_NC_AVX512 32
#define KILN_SGEMM_NC_AVX2 16
#define KILN_SGEMM_NC_GENERIC 16

void kiln_sgemm_tile_generic(int64_t mr, int64_t nc, int64_t k,
                             const float *ap, int64_t lda, const float *b0,
                             const float *b1, float *c, int64_t ldc,
                             int accumulate, const kiln_epilogue *ep,
                             const kiln_gemm_side *side);
void kiln_sgemm_tile_avx2(int64_t mr, int64_t nc, int64_t k, const float *ap,
                          int64_t lda, const float *b0, const float *b1,
                          float *c, int64_t ldc, int accumulate,
                          const kiln_epilogue *ep, const kiln_gemm_side *side);
void kiln_sgemm_tile_avx512(int64_t mr, int64_t nc, int64_t k,
                            const float *ap, int64_t lda, const float *b0,
                            const float *b1, float *c, int64_t ldc,
                            int accumulate, const kiln_epilogue *ep,
                            const kiln_gemm_side *side);

/* Packs B (element (kk, j) at b[kk * rs + j * cs]) into panels at `out`,
 * which holds ceil(n / 16) * k * 16 floats. */
void kiln_sgemm_pack_b(int64_t k, int64_t n, const float *b, int64_t rs,
                       int64_t cs, float *out);

/* C = (C +) A * Bpacked over the run's threads; A[i, kk] is
 * a[i * lda + kk * acs]. Returns 0 when its scratch memory cannot be had. */
int kiln_sgemm_packed_run(int isa, int accumulate, int64_t m, int64_t n,
                          int64_t k, const float *a, int64_t lda, int64_t acs,
                          const float *bp, float *c, int64_t ldc);
/* The same with an epilogue on every tile (ep's pointers at C[0, 0]). */
int kiln_sgemm_packed_run_ep(int isa, int accumulate, int64_t m, int64_t n,
                             int64_t k, const float *a, int64_t lda,
                             int64_t acs, const float *bp, float *c,
                             int64_t ldc, const kiln_epilogue *ep);
/* A GEMM driver's two phases on `job`: pack_a over [0, rowBlocks) (when
 * not NULL), then run over [0, tiles), each split over the run's threads
 * when the product has at least KILN_GEMM_PARALLEL_MIN_MACS multiply-adds
 * (below that on the calling thread alone). Shared by the fp32, bf16, int8
 * and int4 drivers. */
#define KILN_GEMM_PARALLEL_MIN_MACS (1 << 18)
typedef void (*kiln_gemm_range_fn)(void *job, int64_t begin, int64_t end);
void kiln_gemm_run_phases(void *job, int64_t macs, int64_t rowBlocks,
                          int64_t tiles, kiln_gemm_range_fn pack_a,
                          kiln_gemm_range_fn run);
/* Split by rows (gemm_tiles.c): with T >= 2 threads and at least 4 tile
 * heights of rows per thread, thread p takes rows [m p / T, m (p + 1) / T)
 * in blocks of at most mr rows (as even as can be), packs them (`pack`,
 * unless NULL) and runs their tiles of every column block in the order of
 * kiln_gemm_visit_tiles, all in one parallel region. `tile` gets the
 * block's first row and height, the k block, and its share of
 * kiln_gemm_side_share (the block's index among the thread's `shares`
 * blocks). Returns 0 (and runs nothing) where the caller should split by
 * tiles instead. */
typedef void (*kiln_gemm_block_pack_fn)(void *job, int64_t i0, int64_t rows);
typedef void (*kiln_gemm_block_tile_fn)(void *job, int64_t cb, int64_t i0,
                                        int64_t rows, int64_t k0, int64_t kc,
                                        int first, int last, int64_t share,
                                        int64_t shares);
typedef struct {
  int64_t m, mr, colBlocks, k, kcMax;
  kiln_gemm_block_pack_fn pack;
  kiln_gemm_block_tile_fn tile;
} kiln_gemm_rows;
int kiln_gemm_run_rows(void *job, int64_t macs, const kiln_gemm_rows *d);
/* The order in which a thread runs its tiles [begin, end) (numbered column
 * block major, rowBlocks per column block): k block by k block of at most
 * kcMax, a chunk of row blocks at a time with every column block of the
 * chunk (gemm_tiles.c). visit(ctx, cb, r, k0, kc, first, last): first/last
 * say whether [k0, k0 + kc) is the first / last k block. */
typedef void (*kiln_tile_visit_fn)(void *ctx, int64_t cb, int64_t r, int64_t k0,
                                   int64_t kc, int first, int last);
/* Row block r's share (of `shares`) of the prefetch of the next column
 * block's packed B (`bytes` from p0 and, unless NULL, from p1): `lines`
 * lines of 64 bytes from p0 and p1, which the tile fetches into L2 over its
 * k loop (kiln_gemm_side_step; kiln_gemm_side_burst at once, in the tiles
 * without the loop), so that the weights, which come from memory once per
 * run, are in L2 before the next column block's first tile needs them
 * (gemm_tiles.c). */
void kiln_gemm_side_share(const void *p0, const void *p1, int64_t bytes,
                          int64_t r, int64_t shares, kiln_gemm_side *out);
void kiln_gemm_side_burst(const kiln_gemm_side *side);
/* A tile's side prefetch over its k loop of kq steps: BEGIN before the
 * loop declares the walk's scalars, STEP(q) at each step q. */
#define KILN_GEMM_SIDE_BEGIN(side, kq)                                         \
  const char *side_p0_ = (side)->p0, *side_p1_ = (side)->p1;                   \
  int64_t side_left_ = (side)->lines, side_next_ = 0;                          \
  const int64_t side_every_ =                                                  \
      side_left_ > 0 && (kq) / side_left_ > 1 ? (kq) / side_left_ : 1
#define KILN_GEMM_SIDE_STEP(q)                                                 \
  kiln_gemm_side_step(&side_p0_, &side_p1_, &side_left_, &side_next_,          \
                      side_every_, (q))
/* In a tile's k loop over kq >= lines steps: step q's line of each side
 * panel, one every `every` = kq / lines steps (*next: the next step to
 * fetch at; starts at 0). Scalars rather than a struct: a struct walk
 * spilled in the bf16 tile and ran BERT-base bf16 4-5% slower than the
 * bursts. The drivers' shares hold at most kq lines (one 64-byte line per
 * k step of a panel), so every line is issued in the loop. */
static inline __attribute__((always_inline)) void
kiln_gemm_side_step(const char **p0, const char **p1, int64_t *left,
                    int64_t *next, int64_t every, int64_t q) {
  if (*left > 0 && q == *next) {
    __builtin_prefetch(*p0, 0, 2);
    if (*p1)
      __builtin_prefetch(*p1, 0, 2);
    *p0 += 64;
    *p1 = *p1 ? *p1 + 64 : NULL;
    --*left;
    *next += every;
  }
}
void kiln_gemm_visit_tiles(int64_t begin, int64_t end, int64_t rowBlocks,
                           int64_t k, int64_t kcMax, kiln_tile_visit_fn visit,
                           void *ctx);
/* Prefetch with intent to write the lines of the rows x nc floats at c (row
 * stride ldc) that a tile's last k block stores (gemm_tiles.c). */
void kiln_gemm_prefetch_c(const float *c, int64_t ldc, int64_t rows,
                          int64_t nc);
/* `ep` moved to the tile at row i0, column j0. */
void kiln_epilogue_at(const kiln_epilogue *ep, int64_t i0, int64_t j0,
                      kiln_epilogue *out);

/* bf16 weights (--precision bf16, gemm_bf16.c): C = act(A Bbf16 + ...) with
 * A rounded to bf16 and fp32 accumulation; bp packed in k-pair panels. */
int kiln_sbgemm_run(int isa, int accumulate, int64_t m, int64_t n, int64_t k,
                    const float *a, int64_t lda, int64_t acs, const uint16_t *bp,
                    float *c, int64_t ldc, const kiln_epilogue *ep);
/* Packs B (element (kk, j) at b[kk * rs + j * cs]) rounded to bf16 into
 * k-pair panels at `out`: ceil(n / 16) * ceil(k / 2) * 32 values. */
void kiln_sbgemm_pack_b(int64_t k, int64_t n, const float *b, int64_t rs,
                        int64_t cs, uint16_t *out);
/* The same with panels of kqs >= ceil(k / 2) pairs, zero past k (AMX
 * tiles take 16 pairs at a time): ceil(n / 16) * kqs * 32 values. */
void kiln_sbgemm_pack_b_kq(int64_t k, int64_t kqs, int64_t n, const float *b,
                           int64_t rs, int64_t cs, uint16_t *out);
/* Whether the CPU has AVX512-BF16 (the two kernels below need it). */
int kiln_cpu_has_avx512bf16(void);
/* C[m x n] = A B on the calling thread, A row-major bf16 (lda values per
 * row, zero past k up to kq pairs), B from kiln_sbgemm_pack_b over kq
 * pairs; no epilogue (gemm_bf16_avx512.c). */
void kiln_sbgemm_rm_avx512bf16(int64_t m, int64_t n, int64_t kq,
                               const uint16_t *a, int64_t lda,
                               const uint16_t *bp, float *c, int64_t ldc);
/* rows x k floats (row stride lds, unit column stride) rounded to bf16 into
 * rows of ldd values; columns k .. kpad - 1 become 0. */
void kiln_bf16_rows_avx512bf16(const float *src, int64_t lds, int64_t rows,
                               int64_t k, int64_t kpad, uint16_t *dst,
                               int64_t ldd);
/* fp16 weights (--precision fp16): the fp32 panel layout above holding
 * fp16 values, widened to fp32 in registers; A, the accumulation and C are
 * fp32 (gemm_f16_avx2.c, gemm_f16_avx512.c, gemm_f16.c). */
typedef void (*kiln_hgemm_tile_fn)(int64_t mr, int64_t nc, int64_t k,
                                   const float *ap, int64_t lda,
                                   const uint16_t *b0, const uint16_t *b1,
                                   float *c, int64_t ldc, int accumulate,
                                   const kiln_epilogue *ep,
                                   const kiln_gemm_side *side);
void kiln_hgemm_tile_generic(int64_t mr, int64_t nc, int64_t k,
                             const float *ap, int64_t lda, const uint16_t *b0,
                             const uint16_t *b1, float *c, int64_t ldc,
                             int accumulate, const kiln_epilogue *ep,
                             const kiln_gemm_side *side);
void kiln_hgemm_tile_avx2(int64_t mr, int64_t nc, int64_t k, const float *ap,
                          int64_t lda, const uint16_t *b0, const uint16_t *b1,
                          float *c, int64_t ldc, int accumulate,
                          const kiln_epilogue *ep, const kiln_gemm_side *side);
void kiln_hgemm_tile_avx512(int64_t mr, int64_t nc, int64_t k,
                            const float *ap, int64_t lda, const uint16_t *b0,
                            const uint16_t *b1, float *c, int64_t ldc,
                            int accumulate, const kiln_epilogue *ep,
                            const kiln_gemm_side *side);
/* C = (C +) act(A Bf16 + ...) over the run's threads (bp: fp16 panels,
 * pack_f16.h); the fp32 driver with the fp16 tiles. */
int kiln_hgemm_run(int isa, int accumulate, int64_t m, int64_t n, int64_t k,
                   const float *a, int64_t lda, int64_t acs, const uint16_t *bp,
                   float *c, int64_t ldc, const kiln_epilogue *ep);
/* fp32 -> bf16, round to nearest even. */
uint16_t kiln_f32_to_bf16(float f);
/* The epilogue on C[i, j] (ep's pointers at the tile's first element; NULL:
 * none), for the generic tiles. */
float kiln_epilogue_scalar(float v, const kiln_epilogue *ep, int64_t i,
                           int64_t j);
/* Scalar activation (the generic kernel's and the references'). */
float kiln_act_scalar(float v, int act);

/* The r of round_div16 (vmath_avx512.h): 1 / s, or NaN (every lane then
 * divides) where s or its reciprocal is not a normal float. */
static inline __attribute__((unused)) float kiln_quant_rcp(float s) {
  float r = 1.0f / s;
  return isnormal(s) && isnormal(r) ? r : NAN;
}

#endif
