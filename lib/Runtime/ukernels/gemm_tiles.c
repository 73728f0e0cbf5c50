/*===- gemm_tiles.c - the GEMM drivers' shared tile order and phases -----===*
 *
 * Shared by the fp32, bf16, fp16, int8 and int4 drivers (gemm_f32.h): the
 * order in which a thread visits its tiles (k blocks, chunks of row blocks,
 * column blocks; see gemm_f32.c for the sizes), the prefetch of the next
 * column block's packed weights, the epilogue moved to a tile, and the
 * pack-then-multiply phases over the thread pool.
 *
 *===----------------------------------------------------------------------===*/

#include "gemm_f32.h"
#include "../runtime_internal.h"

/* A chunk of row blocks keeps its A block (about 12 rows x kc values of 4
 * bytes per row block) within this many bytes. */
#define A_CHUNK_BYTES (768 * 1024)

/* Row blocks per chunk: an A block of `mr` rows of kc values of 4 bytes
 * per row block within A_CHUNK_BYTES, chunks as even as can be. */
static int64_t chunk_of(int64_t rowBlocks, int64_t mr, int64_t kc) {
  int64_t chunk = A_CHUNK_BYTES / (mr * 4 * kc);
  chunk = chunk < 4 ? 4 : chunk;
  int64_t chunks = (rowBlocks + chunk - 1) / chunk;
  return (rowBlocks + chunks - 1) / chunks;
}

void kiln_gemm_visit_tiles(int64_t begin, int64_t end, int64_t rowBlocks,
                           int64_t k, int64_t kcMax, kiln_tile_visit_fn visit,
                           void *ctx) {
  if (begin >= end)
    return;
  int64_t cbFirst = begin / rowBlocks, cbLast = (end - 1) / rowBlocks;
  int64_t chunk = chunk_of(rowBlocks, 12, k < kcMax ? k : kcMax);
  for (int64_t pc = 0; pc < k; pc += kcMax) {
    int64_t kc = k - pc < kcMax ? k - pc : kcMax;
    for (int64_t r0 = 0; r0 < rowBlocks; r0 += chunk) {
      int64_t r1 = r0 + chunk < rowBlocks ? r0 + chunk : rowBlocks;
      for (int64_t cb = cbFirst; cb <= cbLast; ++cb) {
        int64_t lo = cb * rowBlocks + r0, hi = cb * rowBlocks + r1;
        lo = lo < begin ? begin : lo;
        hi = hi > end ? end : hi;
        for (int64_t t = lo; t < hi; ++t)
          visit(ctx, cb, t - cb * rowBlocks, pc, kc, pc == 0, pc + kc >= k);
      }
    }
  }
}

/* Prefetching the next column block: the first row block of each column
 * block waited on its B panels from memory (BERT-base bf16, 1 thread: 19%
 * of the tile's samples on one panel load). Each row block of a column
 * block fetches its share of the next block's lines into L2 (in later
 * chunks the lines are mostly in cache already), one share per row block
 * so the whole next block is under way while this one runs. The tile
 * spreads its share over its k loop (kiln_gemm_side_step): issued at the
 * tile's start, the prefetches waited on the miss buffers (BERT-base int8:
 * 4.8% of the samples on them). History: the bursts measured best with 16
 * shares for int8 (11/16 of the next block) and 32 for bf16; spread, one
 * share per row block runs BERT-base int8 1.02x faster at 1 thread and
 * 1.08x at 2 than those bursts, bf16 1.02-1.03x at both (`kiln run
 * --against`, both orders). The fp32 driver measured 1.02-1.06x slower
 * with the bursts; spread, BERT-base fp32 runs 1.10-1.18x faster at 1
 * thread and 1.05-1.10x at 2 (gemm_f32.c). */
void kiln_gemm_side_share(const void *p0, const void *p1, int64_t bytes,
                          int64_t r, int64_t shares, kiln_gemm_side *out) {
  int64_t lines = (bytes + 63) / 64;
  int64_t share = (lines + shares - 1) / shares;
  int64_t l0 = r * share, l1 = l0 + share < lines ? l0 + share : lines;
  out->p0 = (const char *)p0 + l0 * 64;
  out->p1 = p1 ? (const char *)p1 + l0 * 64 : NULL;
  out->lines = r < shares && l0 < l1 ? l1 - l0 : 0;
}

void kiln_gemm_side_burst(const kiln_gemm_side *side) {
  for (int64_t l = 0; l < side->lines; ++l) {
    __builtin_prefetch(side->p0 + l * 64, 0, 2);
    if (side->p1)
      __builtin_prefetch(side->p1 + l * 64, 0, 2);
  }
}

void kiln_gemm_prefetch_c(const float *c, int64_t ldc, int64_t rows,
                          int64_t nc) {
  for (int64_t i = 0; i < rows; ++i) {
    uintptr_t a = (uintptr_t)(c + i * ldc), e = a + (uintptr_t)nc * 4 - 1;
    for (a &= ~(uintptr_t)63; a <= e; a += 64)
      __builtin_prefetch((const void *)a, 1, 3);
  }
}

void kiln_epilogue_at(const kiln_epilogue *ep, int64_t i0, int64_t j0,
                      kiln_epilogue *out) {
  *out = *ep;
  if (out->bias)
    out->bias += j0;
  if (out->row_bias)
    out->row_bias += i0;
  if (out->residual)
    out->residual += i0 * out->ldr + j0;
}

void kiln_gemm_run_phases(void *job, int64_t macs, int64_t rowBlocks,
                          int64_t tiles, kiln_gemm_range_fn pack_a,
                          kiln_gemm_range_fn run) {
  int parallel = macs >= KILN_GEMM_PARALLEL_MIN_MACS;
  if (pack_a) {
    if (parallel && rowBlocks > 1)
      kiln_parallel_for(rowBlocks, pack_a, job);
    else
      pack_a(job, 0, rowBlocks);
  }
  if (parallel)
    kiln_parallel_for(tiles, run, job);
  else
    run(job, 0, tiles);
}

typedef struct {
  void *job;
  const kiln_gemm_rows *d;
  int64_t parts;
} rows_ctx;

/* Thread p's rows: pack them, then their tiles (see kiln_gemm_run_rows). */
static void rows_part(void *vctx, int64_t begin, int64_t end) {
  const rows_ctx *x = vctx;
  const kiln_gemm_rows *d = x->d;
  for (int64_t p = begin; p < end; ++p) {
    int64_t r0 = d->m * p / x->parts, r1 = d->m * (p + 1) / x->parts;
    int64_t nb = (r1 - r0 + d->mr - 1) / d->mr;
    if (nb <= 0)
      continue;
    int64_t mr = (r1 - r0 + nb - 1) / nb;
    if (d->pack)
      for (int64_t b = 0; b < nb; ++b) {
        int64_t i0 = r0 + b * mr;
        d->pack(x->job, i0, r1 - i0 < mr ? r1 - i0 : mr);
      }
    int64_t chunk = chunk_of(nb, mr, d->k < d->kcMax ? d->k : d->kcMax);
    for (int64_t pc = 0; pc < d->k; pc += d->kcMax) {
      int64_t kc = d->k - pc < d->kcMax ? d->k - pc : d->kcMax;
      for (int64_t b0 = 0; b0 < nb; b0 += chunk) {
        int64_t b1 = b0 + chunk < nb ? b0 + chunk : nb;
        for (int64_t cb = 0; cb < d->colBlocks; ++cb)
          for (int64_t b = b0; b < b1; ++b) {
            int64_t i0 = r0 + b * mr;
            d->tile(x->job, cb, i0, r1 - i0 < mr ? r1 - i0 : mr, pc, kc,
                    pc == 0, pc + kc >= d->k, b, nb);
          }
      }
    }
  }
}

/* Why rows: split by tiles (column blocks), each thread packed half of A's
 * row blocks and then read all of them, A's rows having been written by
 * both threads (the previous GEMM's column halves): BERT-base bf16 at 2
 * threads spent 6.6% of its time packing A against 3.3% at 1, and the
 * barrier between packing and tiles waited on 11 row blocks split 6 / 5.
 * Split by rows, a thread packs and reads only its rows, which its share
 * of the previous op (norms and row-split GEMMs: the same halves) wrote,
 * with no barrier between; both threads stream every weight panel, once
 * from memory and once from the shared L3. */
int kiln_gemm_run_rows(void *job, int64_t macs, const kiln_gemm_rows *d) {
  int64_t threads = kiln_rt_num_threads();
  if (threads < 2 || macs < KILN_GEMM_PARALLEL_MIN_MACS ||
      d->m < threads * 4 * d->mr)
    return 0;
  rows_ctx x = {job, d, threads};
  kiln_parallel_for(threads, rows_part, &x);
  return 1;
}
