//===- Attention.h - the fused attention kernel's builder -------*- C++ -*-===//
//
// kiln-gpu-attention turns a kiln.ukernel "attention_f32" on buffers into
// one gpu.launch (or, with `emulate`, the same steps as CPU loops). The
// launch holds up to two kernels, picked per run by the query length Sq
// (both when Sq is dynamic, one when it is static):
//   - the rows kernel (Attention.cpp), Sq > kDecodeRows: a block per
//     (batch x head, tile of query rows), a thread per query row; or, with
//     a low precision (fp16 / bf16) and head dims that are multiples of
//     16, the tensor-core rows kernel (AttentionMma.cpp): a block of 4
//     warps per (batch x head, 64 query rows), mma.sync products;
//   - the decode kernel (AttentionDecode.cpp), Sq <= kDecodeRows: a block
//     of kDecodeWarps warps per (batch x head, query row, part of the keys),
//     the part's keys split over the warps and lanes, their partial
//     softmaxes merged at the end; with more than one part (few rows, many
//     keys: flash-decoding) a second launch merges the parts.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_GPU_ATTENTION_H
#define KILN_CODEGEN_GPU_ATTENTION_H

#include "codegen/gpu/Loops.h"
#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::kiln::gpu_attention {

constexpr int64_t kMaxHeadDim = 128;
constexpr int64_t kKeys = 16; // rows kernel: keys per step
// Decode kernel: query lengths it takes, warps per block, lanes per warp.
constexpr int64_t kDecodeRows = 8;
constexpr int64_t kDecodeWarps = 8;
constexpr int64_t kWarp = 32;
// Decode kernel's key parts: a part is a multiple of a round of the
// block's warps (kWarp keys each), at most kDecodeParts of them, and rows
// are split only while there are fewer than kDecodeBlocks blocks (about
// an H100's or H200's 132 SMs).
constexpr int64_t kDecodeRound = kWarp * kDecodeWarps;
constexpr int64_t kDecodeParts = 16;
constexpr int64_t kDecodeBlocks = 128;
// Tensor-core rows kernel: query rows and threads per block (a warp per
// 16 rows), values of padding per shared row.
constexpr int64_t kMmaRows = 64;
constexpr int64_t kMmaThreads = 128;
constexpr int64_t kMmaPad = 8;
// f32 values per vector load (16 bytes) of the tensor-core kernel's
// staging; values per loop iteration when the operand allows no vectors.
constexpr int64_t kVector = 4;
constexpr int64_t kStageUnroll = 4;
// Must match lib/Runtime/ukernels/attention_f32.c.
enum : int64_t { kMask = 1, kMaskBool = 2, kCausal = 4, kFill = 8 };

/// The maximum (or sum) of x over the lanes reached by xor shuffles with
/// these offsets, in every one of them (in that order).
Value xorReduce(OpBuilder &b, Location loc, Value x, bool maximum,
                ArrayRef<int64_t> offsets);

class AttentionBuilder {
public:
  /// `lowp` (f16 / bf16, or null): the tensor-core rows kernel's operand
  /// precision, taken when the head dims are multiples of 16.
  AttentionBuilder(OpBuilder &b, kiln::UkernelOp op, Type lowp = {});

  /// Sizes and the CPU kernel's extent checks, before the kernel.
  void readSizes();
  /// The kernel: one gpu.launch, the tiles as workgroup attributions.
  void buildLaunch();
  /// The same steps as CPU loops (--emulate-gpu).
  void buildEmulation();

private:
  /// Batch, query head and key/value head of a (batch x head) index.
  struct Head {
    Value b, h, kvh;
  };

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f32(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value dim(Value mem, int64_t i) {
    return memref::DimOp::create(b, loc, mem, i);
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t y) {
    if (!y)
      return x;
    Value c = idx(y);
    return add(x, c);
  }
  Value mul(Value x, int64_t y) {
    Value c = idx(y);
    return arith::MulIOp::create(b, loc, x, c);
  }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  Value minIdx(Value x, Value y) {
    return arith::MinSIOp::create(b, loc, x, y);
  }
  scf::ForOp forOp(Value ub, int64_t step, ValueRange iterArgs = {}) {
    return kiln::gpu_loops::forFromZero(b, loc, ub, step, iterArgs);
  }
  void forLoop(Value n, function_ref<void(Value)> body) {
    kiln::gpu_loops::forEach(b, loc, n, body);
  }
  /// Indices of [b, h, row, col] in an operand of the op's rank.
  SmallVector<Value> at(Value bat, Value h, Value row, Value col) {
    if (rank == 4)
      return {bat, h, row, col};
    return {h, row, col};
  }

  void check(Value a, Value c);
  Head head(Value bh);
  /// The block's work, inside `bh < B*H and row < Sq` (the insertion point
  /// is left there): the head of `bh`.
  Head activeBlock(Value bh, Value row);
  /// mem[b, h, min(row, n - 1), col], or 0 when row >= n.
  Value rowLoad(Value mem, Value bat, Value h, Value row, Value n, Value col);
  /// The masked, scaled score of key j for query row i (clamped indices
  /// iC, jC read the mask), -inf when excluded.
  Value score(Value s, const Head &hd, Value i, Value iC, Value j, Value jC);
  /// c = m, or 0 when m = -inf (every score so far excluded): what the
  /// online softmax subtracts.
  Value shiftOf(Value m);

  // The rows kernel (Attention.cpp).
  bool hasRows() const;
  SmallVector<Type> tileTypes(Attribute space);
  void rowsKernel(ValueRange tiles, Value t, Value bh, Value tile);
  /// Thread t's share (of `threads`) of staging `count` rows of `width`
  /// values of `mem` (rows from `first`, zeros past `n`) into `tile`,
  /// row-major or (`transpose`) column-major, rounded to its type; with
  /// `unroll`, as a loop of that many elements per iteration (fewer loads
  /// in flight, fewer registers) when they divide the thread's share.
  void stage(Value tile, Value mem, Value t, Value bat, Value h, Value first,
             Value n, int64_t count, int64_t width, int64_t threads,
             bool transpose = false, int64_t unroll = 0);
  /// Whether `mem`'s rows of `width` values can be staged by 16-byte vector
  /// loads: null when its type rules them out (innermost stride not 1,
  /// width not a multiple of 4), else the run-time condition (an i1):
  /// aligned base and offset, every other stride a multiple of 4.
  Value vectorRows(Value mem, int64_t width);
  /// The tensor-core kernel's `stage` (its threads, rounded tiles): by
  /// vectors (4 values per thread and round) when `aligned` (null: never)
  /// holds at run time, else value by value, kStageUnroll per iteration.
  void stageBy(Value tile, Value mem, Value aligned, Value t, Value bat,
               Value h, Value first, Value n, int64_t count, int64_t width,
               bool transpose);
  void stageVectors(Value tile, Value mem, Value t, Value bat, Value h,
                    Value first, Value n, int64_t count, int64_t width,
                    bool transpose);
  /// body(t + r * threads) for each r with r * threads < total, the last
  /// partial round inside a guard (< total).
  void forShares(Value t, int64_t threads, int64_t total,
                 function_ref<void(Value)> body);
  /// Threads per block of the rows kernel.
  int64_t rowThreads() const { return mma ? kMmaThreads : rows; }
  /// The end of the keys a block of query rows from i0 scores: Sk, or with
  /// causal attention the last visible key of its last row, plus one.
  Value keyEnd(Value i0);
  void stageQueries(Value qs, Value t, const Head &hd, Value i0);
  void stageKeys(Value ks, Value vs, Value t, const Head &hd, Value j0);
  SmallVector<Value> initialState();
  SmallVector<Value> step(ValueRange tiles, Value t, const Head &hd, Value i0,
                          Value j0, ValueRange state);
  void writeRow(Value t, const Head &hd, Value i0, ValueRange state);
  void emulateRows();

  // The tensor-core rows kernel (AttentionMma.cpp).
  struct MmaLane {
    Value lane, g, q2, row0; // row0: the warp's first row in the tile
  };
  int64_t mmaKeys() const;
  MmaLane mmaLane(Value t);
  SmallVector<Type> mmaTypes(Attribute space);
  void mmaRowsKernel(ValueRange tiles, Value t, Value bh, Value tile);
  void emulateMmaRows();
  /// Tile row and key (or value column) of C fragment value e = 4 n + r.
  std::pair<Value, Value> fragmentAt(const MmaLane &l, int64_t e);
  SmallVector<Value> mmaScores(const MmaLane &l, const Head &hd, Value i0,
                               Value j0, ArrayRef<Value> raw);
  SmallVector<Value> rowMaxima(ArrayRef<Value> scores);
  /// The state (m, l per row half, O) after a step with these scores and
  /// quad maxima; `probs` gets the probabilities.
  SmallVector<Value> softmaxUpdate(ValueRange state, ArrayRef<Value> scores,
                                   ArrayRef<Value> maxima,
                                   SmallVectorImpl<Value> &probs);
  void writeMma(const MmaLane &l, const Head &hd, Value i0, ValueRange state,
                ArrayRef<Value> sums);
  Value mmaFragment(Value pair);
  /// The emulation's products: acc[e] + sum_i x[row][i] y[col][i] over
  /// i < n, (row, col) the fragment coordinates of e.
  SmallVector<Value> fragmentDots(Value x, Value y, int64_t n, const MmaLane &l,
                                  ValueRange acc);
  SmallVector<Value> mmaSync(ArrayRef<Value> a, ArrayRef<Value> bf,
                             ArrayRef<Value> c);

  // The decode kernel (AttentionDecode.cpp).
  bool hasDecode() const;
  SmallVector<Type> decodeTypes(Attribute space);
  /// Host side, before the kernel: the key parts per query row (`parts`,
  /// 1 unless `decode`, null: always) and their length (`partLen`); with
  /// more than one, the partial buffer [B*H*Sq*parts, 2 + Dv] (each part's
  /// maximum, denominator and unnormalized output row), freed at the end
  /// of the block (`release`) or by the caller.
  void decodeParts(Value decode, bool release);
  void decodeKernel(ValueRange tiles, Value t, Value bh, Value i, Value part);
  /// The second launch: a block per (batch x head, query row), a thread
  /// per output column merging the parts (an empty grid with one part).
  void buildCombineLaunch();
  void emulateDecode();
  Value keyScore(Value qrow, const Head &hd, Value i, Value iC, Value j);
  Value valueAt(const Head &hd, Value key, Value col);
  /// The warps' merged (maximum, denominator, unnormalized column `col`).
  SmallVector<Value> mergedColumn(ValueRange tiles, Value col);
  /// Column `col` of the row once the warps are merged: the output, or
  /// with more than one part the part's partial row.
  void finishColumn(ValueRange tiles, const Head &hd, Value bh, Value i,
                    Value part, Value col);
  /// The keys [start, end) of key part `part`.
  std::pair<Value, Value> partKeys(Value part);
  /// parts > 1 (an i1): the rows' parts are merged by the second launch.
  Value split();
  Value partialRow(Value bh, Value i, Value part);
  /// Output column `col` of row i merged from its parts' partial rows.
  Value combinedColumn(Value bh, Value i, Value col);

  OpBuilder &b;
  Location loc;
  int64_t flags, maskRank, rank, D, Dv, rows;
  Type lowp;
  bool mma = false;
  float scale, fill;
  Value q, k, v, mask, out;
  Value B, H, Sq, Sk, rep, BH;
  Value parts, partLen, partial; // decode kernel: decodeParts
  SmallVector<Value> maskBroadcast;
};

} // namespace mlir::kiln::gpu_attention

#endif // KILN_CODEGEN_GPU_ATTENTION_H
