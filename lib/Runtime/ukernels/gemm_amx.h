/*===- gemm_amx.h - what the AMX tiles share (int8 and bf16) --------------===*
 *
 * The int8 (gemm_s8_avx512.c) and bf16 (gemm_bf16_avx512.c) AMX tiles use
 * one tile configuration: tmm0-1 A (rows r0, r1 of 64 bytes), tmm2-3 B (16
 * rows of 64 bytes: 16 quads or pairs of k of a packed panel), tmm4-5 C of
 * the first 16 rows, tmm6-7 of the next r1, loaded per thread when it
 * changes (one record of the loaded one per thread, so the two kinds of
 * tile see each other's loads). Compiled into files built with
 * -mamx-tile.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_GEMM_AMX_H
#define KILN_UKERNELS_GEMM_AMX_H

#include "gemm_f32.h"

/* Whether this CPU has AMX-TILE and AMX-INT8 (AMX-BF16) and the kernel
 * lets this process use them (Linux: arch_prctl ARCH_REQ_XCOMP_PERM,
 * asked once; gemm_s8.c); KILN_NO_AMX=1 says no. */
int kiln_cpu_has_amx_int8(void);
int kiln_cpu_has_amx_bf16(void);

/* Loads the configuration for A / C tile rows r0 (1..16) and r1 (0..16)
 * unless this thread has it loaded (gemm_s8_avx512.c). */
void kiln_amx_configure(int r0, int r1);

/* After _tile_stored: GCC 12's tile load and store intrinsics are asm
 * statements without memory operands, so the compiler must be told that
 * the buffer the tiles were stored to has changed. */
#define KILN_AMX_STORED() __asm__ volatile("" ::: "memory")

/* A tile's share of the next column block's panels (kiln_gemm_side),
 * fetched into L2 over its k loop of kq units in steps of 16. */
typedef struct {
  const char *p0, *p1;
  int64_t left, per;
} kiln_amx_side;

static inline kiln_amx_side kiln_amx_side_begin(const kiln_gemm_side *side,
                                                int64_t kq) {
  kiln_amx_side s = {side ? side->p0 : NULL, side ? side->p1 : NULL,
                     side ? side->lines : 0, 0};
  s.per = s.left > 0 ? (s.left * 16 + kq - 1) / kq : 0;
  return s;
}

static inline __attribute__((always_inline)) void
kiln_amx_side_step(kiln_amx_side *s) {
  for (int64_t l = 0; l < s->per && s->left > 0; ++l, --s->left) {
    __builtin_prefetch(s->p0, 0, 2);
    s->p0 += 64;
    if (s->p1) {
      __builtin_prefetch(s->p1, 0, 2);
      s->p1 += 64;
    }
  }
}

/* The B tiles 4 KiB ahead of the ones a k step loads (b0, and b1 unless
 * NULL): weights are read once per product, mostly from memory. BERT-base
 * --quantize int8 at 1 thread 1.15x faster (`kiln run --against`, both
 * orders) than with only the next column block's share; 2 KiB 0.97x, 8
 * KiB 1.00x of 4. */
static inline __attribute__((always_inline)) void
kiln_amx_prefetch_b(const void *b0, const void *b1) {
  for (int l = 0; l < 1024; l += 64) {
    __builtin_prefetch((const char *)b0 + 4096 + l, 0, 3);
    if (b1)
      __builtin_prefetch((const char *)b1 + 4096 + l, 0, 3);
  }
}

/* Defines NAME(tworow, twocol, kq, ap, achunk, arow, b0, b1, buf, side):
 * C tiles tmm4 (rows 0-15, panel b0), tmm5 (panel b1), tmm6-7 (rows
 * 16-31) over kq units of k (quads or pairs, 16 per step) by DP
 * (_tile_dpbusd or _tile_dpbf16ps), A chunk c at ap + c * achunk with
 * rows arow bytes apart, B panels as packed (64 bytes per unit), then
 * stored to buf (32 x 32 values of 4 bytes). Only the tiles `tworow` and
 * `twocol` say are used. The int8 and bf16 tiles' one loop. */
#define KILN_AMX_SUMS(NAME, DP)                                                \
  static inline __attribute__((always_inline)) void NAME(                      \
      const int tworow, const int twocol, int64_t kq, const void *ap,         \
      int64_t achunk, int64_t arow, const void *b0v, const void *b1v,          \
      void *bufv, const kiln_gemm_side *side) {                                \
    const char *b0 = (const char *)b0v, *b1 = (const char *)b1v;               \
    char *buf = (char *)bufv;                                                  \
    kiln_amx_side sd = kiln_amx_side_begin(side, kq);                          \
    _tile_zero(4);                                                             \
    if (twocol)                                                                \
      _tile_zero(5);                                                           \
    if (tworow)                                                                \
      _tile_zero(6);                                                           \
    if (tworow && twocol)                                                      \
      _tile_zero(7);                                                           \
    for (int64_t q = 0; q < kq; q += 16) {                                     \
      kiln_amx_side_step(&sd);                                                 \
      kiln_amx_prefetch_b(b0 + q * 64, twocol ? b1 + q * 64 : NULL);           \
      _tile_loadd(2, b0 + q * 64, 64);                                         \
      if (twocol)                                                              \
        _tile_loadd(3, b1 + q * 64, 64);                                       \
      const char *a0 = (const char *)ap + (q / 16) * achunk;                   \
      _tile_loadd(0, a0, arow);                                                \
      if (tworow)                                                              \
        _tile_loadd(1, a0 + 16 * arow, arow);                                  \
      DP(4, 0, 2);                                                             \
      if (twocol)                                                              \
        DP(5, 0, 3);                                                           \
      if (tworow)                                                              \
        DP(6, 1, 2);                                                           \
      if (tworow && twocol)                                                    \
        DP(7, 1, 3);                                                           \
    }                                                                          \
    _tile_stored(4, buf, 128);                                                 \
    if (twocol)                                                                \
      _tile_stored(5, buf + 64, 128);                                          \
    if (tworow)                                                                \
      _tile_stored(6, buf + 16 * 128, 128);                                    \
    if (tworow && twocol)                                                      \
      _tile_stored(7, buf + 16 * 128 + 64, 128);                               \
    KILN_AMX_STORED();                                                         \
  }

/* NAME(...) for rows mr (1..32) and columns nc (1..32): the configuration
 * loaded and the variant of SUMS for them. */
#define KILN_AMX_RUN(SUMS, mr, nc, ...)                                        \
  do {                                                                         \
    int r0_ = (mr) < 16 ? (int)(mr) : 16, r1_ = (int)(mr) - r0_;               \
    kiln_amx_configure(r0_, r1_);                                              \
    if (r1_ && (nc) > 16)                                                      \
      SUMS(1, 1, __VA_ARGS__);                                                 \
    else if (r1_)                                                              \
      SUMS(1, 0, __VA_ARGS__);                                                 \
    else if ((nc) > 16)                                                        \
      SUMS(0, 1, __VA_ARGS__);                                                 \
    else                                                                       \
      SUMS(0, 0, __VA_ARGS__);                                                 \
  } while (0)

#endif
