/*===- dwconv_f32_avx2.c - depthwise convolution planes, avx2 -------------===*/
#define DW_PLANES kiln_dw_planes_avx2
#define DW_VL 8
#include "dwconv_f32_impl.h"
