/*===- conv_s8_avx512vnni.c - int8 convolution tiles, AVX512-VNNI ---------===*
 *
 * conv_s8_tiles_impl.h with vpdpbusd (64 u8 x s8 multiply-adds per
 * instruction). Compiled with -mavx512vnni; only called when the CPU has
 * it.
 *
 *===----------------------------------------------------------------------===*/

#define KILN_S8_VNNI 1
#include "conv_s8_tiles_impl.h"
