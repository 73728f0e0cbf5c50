/*===- norm_f32_avx2.c - layer/RMS norm rows, AVX2 + FMA -----------------===*/
#define NORM_ROWS kiln_norm_rows_avx2
#include "norm_f32_impl.h"
