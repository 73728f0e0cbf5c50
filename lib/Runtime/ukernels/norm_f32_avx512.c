/*===- norm_f32_avx512.c - layer/RMS norm rows, AVX-512 ------------------===*/
#define NORM_ROWS kiln_norm_rows_avx512
#include "norm_f32_impl.h"
