/*===- pack_f16.h - fp16 weights (--precision fp16) -----------------------===*
 *
 * Dense layers compiled with `--precision fp16` keep their weights in IEEE
 * fp16 (half the bytes of fp32, 10 mantissa bits where bf16 has 7), packed
 * at compile time by kiln_hgemm_pack_b (pack_f16.c, which the compiler
 * links too) into the fp32 GEMM's panel layout (gemm_f32.h): panel p holds
 * columns [16p, 16p + 16) as K rows of 16 fp16 values, zero past N. The
 * tiles widen them to fp32 in registers (F16C / AVX512F vcvtph2ps, exact)
 * and multiply fp32 activations with fp32 accumulation, so the only error
 * is the weights' rounding to fp16.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_PACK_F16_H
#define KILN_UKERNELS_PACK_F16_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* fp32 -> fp16 bits, round to nearest even (overflow to infinity, NaN
 * stays NaN); fp16 bits -> fp32 (exact). */
uint16_t kiln_f32_to_f16(float f);
float kiln_f16_to_f32(uint16_t h);

/* B (element (kk, j) at b[kk * rs + j * cs]) rounded to fp16 into panels at
 * `out`: ceil(n / 16) * k * 16 values. */
void kiln_hgemm_pack_b(int64_t k, int64_t n, const float *b, int64_t rs,
                       int64_t cs, uint16_t *out);

#ifdef __cplusplus
}
#endif

#endif
