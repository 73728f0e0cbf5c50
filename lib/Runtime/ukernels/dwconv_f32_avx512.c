/*===- dwconv_f32_avx512.c - depthwise convolution planes, avx512 -------------===*/
#define DW_PLANES kiln_dw_planes_avx512
#define DW_VL 16
#include "dwconv_f32_impl.h"
