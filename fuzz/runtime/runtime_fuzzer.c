/*===- runtime_fuzzer.c - libFuzzer target for kiln_run's input checks ---===*
 *
 * Drives the C API of a compiled model (fuzz/runtime/model.onnxtxt, linked
 * statically with the runtime built with ASan + UBSan) with arbitrary
 * calls: input and output counts, NULL arrays and buffers, dtypes, ranks
 * (negative, above KILN_MAX_RANK), dims (0, 1, negative, huge, symbolic
 * dims that disagree), input buffers of any size (their `capacity`), and
 * output buffers too small or absent. kiln_run must return an error with a
 * message, or succeed with outputs that fit what it reports; it must never
 * read or write outside the buffers it was given, overflow, or crash.
 *
 * The bytes are read in order; when they run out, zeros follow. With
 * KILN_FUZZ_VERBOSE set, each call prints kiln_run's result to stderr.
 *
 *===----------------------------------------------------------------------===*/

#include "kiln/runtime.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_IN = 6, MAX_OUT = 4, MAX_BUFFER = 1 << 16 };

typedef struct {
  const uint8_t *p;
  size_t left;
} reader;

static uint8_t take(reader *r) {
  if (!r->left)
    return 0;
  --r->left;
  return *r->p++;
}

static uint16_t take16(reader *r) {
  uint16_t lo = take(r);
  return (uint16_t)(lo | (uint16_t)take(r) << 8);
}

/* Mostly small extents (what the model's static dims and a consistent
 * call need), sometimes the values that break arithmetic. */
static int64_t take_dim(reader *r) {
  uint8_t b = take(r);
  if (b < 200)
    return b % 20;
  static const int64_t special[] = {-1,          -2,
                                    1 << 20,     (int64_t)1 << 31,
                                    (int64_t)1 << 32, (int64_t)1 << 40,
                                    (int64_t)1 << 62, INT64_MAX,
                                    INT64_MIN,   (int64_t)3 << 61,
                                    4611686018427387904 + 1, 65536};
  return special[b % (sizeof special / sizeof special[0])];
}

static void fill(reader *r, uint8_t *buf, size_t n) {
  for (size_t i = 0; i < n; ++i)
    buf[i] = take(r);
}

static void must(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "runtime fuzzer: %s\n", what);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static kiln_model *model;
  if (!model) {
    kiln_options options = {1};
    must(kiln_open(&options, &model) == KILN_OK, "kiln_open failed");
  }
  reader r = {data, size};
  uint8_t flags = take(&r);
  size_t nin = take(&r) % (MAX_IN + 1), nout = take(&r) % (MAX_OUT + 1);
  kiln_tensor in[MAX_IN], out[MAX_OUT];
  memset(in, 0, sizeof in);
  memset(out, 0, sizeof out);
  void *caller[MAX_OUT] = {0};
  for (size_t i = 0; i < nin; ++i) {
    in[i].dtype = (kiln_dtype)(take(&r) % 16);
    in[i].rank = (int8_t)take(&r) % 11;
    for (int d = 0; d < KILN_MAX_RANK; ++d)
      in[i].dims[d] = d < in[i].rank ? take_dim(&r) : 0;
    /* Capacity 0 means "not given" in the API; a given buffer is exactly
     * as big as it says, so ASan sees any read past it. */
    uint16_t bytes = take16(&r) % MAX_BUFFER;
    if (take(&r) % 8 != 0) {
      in[i].data = malloc(bytes ? bytes : 1);
      must(in[i].data != NULL, "out of memory");
      fill(&r, in[i].data, bytes);
      in[i].capacity = bytes ? bytes : 1;
    }
  }
  for (size_t i = 0; i < nout; ++i) {
    out[i].dtype = (kiln_dtype)(take(&r) % 16);
    out[i].rank = (int8_t)take(&r) % 11;
    uint16_t bytes = take16(&r) % MAX_BUFFER;
    if (take(&r) % 2) {
      caller[i] = out[i].data = malloc(bytes ? bytes : 1);
      must(out[i].data != NULL, "out of memory");
      out[i].capacity = bytes;
    }
  }
  kiln_status s = kiln_run(model, (flags & 1) ? NULL : in, nin,
                           (flags & 2) ? NULL : out, nout);
  static int verbose = -1;
  if (verbose < 0)
    verbose = getenv("KILN_FUZZ_VERBOSE") != NULL;
  if (verbose)
    fprintf(stderr, "kiln_run: %s\n", s == KILN_OK ? "ok" : kiln_last_error());
  if (s != KILN_OK) {
    const char *e = kiln_last_error();
    must(e && *e, "an error without a message");
  } else {
    for (size_t i = 0; i < nout; ++i) {
      must(out[i].rank >= 0 && out[i].rank <= KILN_MAX_RANK, "output rank");
      size_t bytes = kiln_dtype_size(out[i].dtype);
      for (int d = 0; d < out[i].rank; ++d) {
        must(out[i].dims[d] >= 0 && out[i].dims[d] < MAX_BUFFER,
             "output dims out of range");
        bytes *= (size_t)out[i].dims[d];
      }
      must(bytes <= out[i].capacity, "output larger than its capacity");
      must(!bytes || out[i].data, "output without data");
      /* Touch every byte the run says it wrote. */
      volatile uint8_t sink = 0;
      for (size_t b = 0; b < bytes; ++b)
        sink ^= ((const uint8_t *)out[i].data)[b];
      (void)sink;
      if (out[i].data != caller[i])
        kiln_free(out[i].data);
    }
  }
  for (size_t i = 0; i < nin; ++i)
    free(in[i].data);
  for (size_t i = 0; i < nout; ++i)
    free(caller[i]);
  return 0;
}
