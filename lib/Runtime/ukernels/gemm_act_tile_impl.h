/*===- gemm_act_tile_impl.h - act_tile and tile_done for one ISA --------===*
 *
 * Included by gemm_store_avx512.h and gemm_store_avx2.h after they define
 * KILN_ACT_TILE_LOOP(ACT): the loop over a stored tile's rows that applies
 * the activation ACT (a constant, so it is inlined) and adds the residual
 * after it, then returns.
 *
 *===----------------------------------------------------------------------===*/

/* The activation of `ep` (already moved to the tile), and the residual when
 * it comes after it, over the rows x nc values a tile stored at c whose
 * first column is `col` of the tile: called once per tile after the store
 * loop (tile_done), for the activations kiln_act_deferred names. Applying them
 * in the store loop called the out-of-line act16 once per vector with the
 * whole register tile live, so every call spilled it: BERT-base int8 spent
 * 5% of its time there. */
static __attribute__((noinline, unused)) void
act_tile(float *c, int64_t ldc, int64_t rows, int64_t nc, int64_t col,
         const kiln_epilogue *ep) {
  const float *after =
      ep->residual && !ep->res_first ? ep->residual + col : NULL;
  switch (ep->act) {
  case KILN_ACT_GELU:
    KILN_ACT_TILE_LOOP(KILN_ACT_GELU)
  case KILN_ACT_GELU_TANH:
    KILN_ACT_TILE_LOOP(KILN_ACT_GELU_TANH)
  case KILN_ACT_SILU:
    KILN_ACT_TILE_LOOP(KILN_ACT_SILU)
  case KILN_ACT_HARDSIGMOID:
    KILN_ACT_TILE_LOOP(KILN_ACT_HARDSIGMOID)
  default:
    return;
  }
}
#undef KILN_ACT_TILE_LOOP

/* After a tile's stores: the activation, if it is one act_tile applies. */
static inline __attribute__((always_inline)) void
tile_done(float *c, int64_t ldc, int64_t rows, int64_t nc, int64_t col,
          const kiln_epilogue *ep) {
  if (ep && kiln_act_deferred(ep->act))
    act_tile(c, ldc, rows, nc, col, ep);
}
