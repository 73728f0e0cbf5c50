/*===- dwconv_cb_f32.h - channel-blocked depthwise convolution ----------===*
 *
 * Shared by conv_f32.c (the driver) and dwconv_cb_f32_impl.h (the kernel
 * body of each ISA): how many output rows a band holds and how much
 * scratch a task needs.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_UKERNELS_DWCONV_CB_F32_H
#define KILN_UKERNELS_DWCONV_CB_F32_H

#include <stdint.h>

/* Bytes of channel-interleaved input a band aims for: it and the band's
 * output stay in L1/L2 between the transposes and the taps. */
#define DWCB_BAND_BYTES (48 * 1024)

/* Output rows per band: the band's channel-interleaved input, ((band - 1) *
 * sh + span) rows of wp pixels x lanes floats, about DWCB_BAND_BYTES (at least one
 * output row). */
static inline int64_t dwcb_band_rows(int64_t oh, int64_t wp, int64_t span,
                                     int64_t sh, int64_t lanes) {
  int64_t row_bytes = wp * lanes * (int64_t)sizeof(float);
  int64_t rows_in = DWCB_BAND_BYTES / (row_bytes > 0 ? row_bytes : 1);
  int64_t band = rows_in > span ? (rows_in - span) / sh + 1 : 1;
  return band < 1 ? 1 : band > oh ? oh : band;
}

/* Floats of scratch one task needs: the taps, a band's input and output,
 * and its pixels' input offsets (int64, 8 more for the last tile). */
static inline int64_t dwcb_scratch_floats(int64_t oh, int64_t ow, int64_t kh,
                                          int64_t kw, int64_t sh, int64_t sw,
                                          int64_t dh, int64_t dw, int64_t lanes) {
  int64_t span = (kh - 1) * dh + 1, wp = (ow - 1) * sw + (kw - 1) * dw + 1;
  int64_t band = dwcb_band_rows(oh, wp, span, sh, lanes);
  return (kh * kw + ((band - 1) * sh + span) * wp + band * ow) * lanes +
         2 * (band * ow + 8);
}

#endif /* KILN_UKERNELS_DWCONV_CB_F32_H */
