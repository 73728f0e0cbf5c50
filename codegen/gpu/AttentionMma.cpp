//===- AttentionMma.cpp - the tensor-core rows kernel of kiln-gpu-attention
//===//
//
// With a low precision (fp16 / bf16: `--gpu-mma-attention`) and head dims
// that are multiples of 16, the rows kernel's work (Sq > kDecodeRows) runs
// on tensor cores, FlashAttention-2 style. A block of 4 warps takes
// (batch x head, 64 query rows); warp w owns rows 16 w + [0, 16). Lane l
// (g = l / 4, q = l % 4) holds, per 8 columns of a 16-row product, the
// m16n8k16 C fragment: rows g, g + 8 and columns 2q, 2q + 1.
//   - Q's 64 rows are staged in shared memory rounded to fp16 / bf16
//     (rows padded by 8 values); up to a head dim of 64 each warp keeps
//     its A fragments in registers for the whole key loop (above, it
//     loads them again in each step, for registers).
//   - Per step of BK keys (64; 16 when a head dim is above 64), K's rows
//     [BK][D + 8] and V transposed [Dv][BK + 8] are staged, rounded, zeros
//     past Sk. Staging reads 16-byte vectors (4 values) when the operand
//     allows it (unit innermost stride, head dim a multiple of 4, and at
//     run time an aligned base and offset, other strides multiples of 4:
//     a branch uniform over the launch), else values one by one (4 per
//     loop iteration). The scores S = Q K^T are BK / 8 x D / 16 mma.sync (K's
//     rows are the B fragments' columns). Scale, mask, causal exclusion and
//     keys past the end are applied to the fragments (the rows kernel's score).
//   - Online softmax on the fragments: each lane's maximum of its two row
//     halves, then the quad's (xor shuffles 1 and 2; the four lanes of a
//     quad hold one row): m' = max(m, rowmax), c = m' or 0 when m' = -inf,
//     alpha = exp(m - c), p = exp(s - c); the lane keeps its own share of
//     the denominator, l = l alpha + sum p, and scales its output fragments
//     by alpha.
//   - O += P V: the C fragments of two 8-key tiles, rounded, are the A
//     fragment of one 16-key mma.sync (rows g, g + 8 and keys 2q, 2q + 1,
//     2q + 8, 2q + 9), times V's transposed rows.
//   - The epilogue sums the quad's denominators (xor shuffles) and writes
//     O / l for the rows below Sq (0 / 0 = NaN for a row with every key
//     excluded, as the CPU kernel).
// Causal attention stops a block's key loop after its last row's last
// visible key (keyEnd). With `emulate`, the same staging, masking and
// softmax run per thread as CPU loops; the two products are dot products
// at the fragments' coordinates over the same rounded tiles, the
// probabilities passed through a rounded [64][BK] tile; the quads'
// shuffles read the other lanes' values from buffers (the same maxima, and
// the sums in the shuffles' order). mma.sync's own fragment order is the
// GEMM kernels' (checked on a GPU by scripts/gpu_check.py).
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/Attention.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;

namespace mlir::kiln::gpu_attention {


int64_t AttentionBuilder::mmaKeys() const {
  return std::max(D, Dv) <= 64 ? 64 : 16;
}

/// Q [64][D + 8], K [BK][D + 8], V transposed [Dv][BK + 8].
SmallVector<Type> AttentionBuilder::mmaTypes(Attribute space) {
  int64_t bk = mmaKeys();
  return {MemRefType::get({kMmaRows, D + kMmaPad}, lowp,
                          MemRefLayoutAttrInterface{}, space),
          MemRefType::get({bk, D + kMmaPad}, lowp, MemRefLayoutAttrInterface{},
                          space),
          MemRefType::get({Dv, bk + kMmaPad}, lowp, MemRefLayoutAttrInterface{},
                          space)};
}

AttentionBuilder::MmaLane AttentionBuilder::mmaLane(Value t) {
  Value w = idx(kWarp);
  Value lane = arith::RemUIOp::create(b, loc, t, w);
  Value warp = arith::DivUIOp::create(b, loc, t, w);
  Value four = idx(4);
  Value g = arith::DivUIOp::create(b, loc, lane, four);
  Value q = arith::RemUIOp::create(b, loc, lane, four);
  return {lane, g, mul(q, 2), mul(warp, 16)};
}

std::pair<Value, Value> AttentionBuilder::fragmentAt(const MmaLane &l,
                                                     int64_t e) {
  int64_t n = e / 4, r = e % 4;
  Value row = add(add(l.row0, l.g), 8 * (r / 2));
  Value col = add(l.q2, 8 * n + r % 2);
  return {row, col};
}

/// A fragment register: two values (vector<2xf16>, or for bf16 an i32).
Value AttentionBuilder::mmaFragment(Value pair) {
  if (lowp.isF16())
    return pair;
  auto asInt = vector::BitCastOp::create(
      b, loc, VectorType::get({1}, b.getI32Type()), pair);
  return vector::ExtractOp::create(b, loc, asInt, ArrayRef<int64_t>{0});
}

SmallVector<Value> AttentionBuilder::mmaSync(ArrayRef<Value> a,
                                             ArrayRef<Value> bf,
                                             ArrayRef<Value> c) {
  auto f = b.getF32Type();
  auto result = LLVM::LLVMStructType::getLiteral(b.getContext(), {f, f, f, f});
  NVVM::MMATypes type =
      lowp.isF16() ? NVVM::MMATypes::f16 : NVVM::MMATypes::bf16;
  auto mma = NVVM::MmaOp::create(
      b, loc, result, a, bf, c, ArrayRef<int64_t>{16, 8, 16}, std::nullopt,
      std::nullopt, std::array<NVVM::MMATypes, 2>{type, type},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  SmallVector<Value> out;
  for (int64_t r = 0; r < 4; ++r)
    out.push_back(LLVM::ExtractValueOp::create(b, loc, mma.getResult(),
                                               ArrayRef<int64_t>{r}));
  return out;
}

SmallVector<Value> AttentionBuilder::mmaScores(const MmaLane &l, const Head &hd,
                                               Value i0, Value j0,
                                               ArrayRef<Value> raw) {
  Value lastRow = arith::SubIOp::create(b, loc, Sq, idx(1));
  Value lastKey = arith::SubIOp::create(b, loc, Sk, idx(1));
  SmallVector<Value> s;
  for (auto [e, x] : llvm::enumerate(raw)) {
    auto [row, key] = fragmentAt(l, e);
    Value i = add(i0, row), j = add(j0, key);
    Value iC = minIdx(i, lastRow);
    Value jC = minIdx(j, lastKey);
    s.push_back(score(x, hd, i, iC, j, jC));
  }
  return s;
}

SmallVector<Value> AttentionBuilder::rowMaxima(ArrayRef<Value> scores) {
  Value negInf = f32(-std::numeric_limits<double>::infinity());
  SmallVector<Value> m{negInf, negInf};
  for (auto [e, x] : llvm::enumerate(scores)) {
    Value &h = m[(e % 4) / 2];
    h = arith::MaximumFOp::create(b, loc, h, x);
  }
  return m;
}

SmallVector<Value>
AttentionBuilder::softmaxUpdate(ValueRange state, ArrayRef<Value> scores,
                                ArrayRef<Value> maxima,
                                SmallVectorImpl<Value> &probs) {
  // state: m (2), l (2), O (4 per 8 value columns).
  SmallVector<Value> next(state.begin(), state.end()), c, alpha;
  for (int64_t h = 0; h < 2; ++h) {
    Value m = arith::MaximumFOp::create(b, loc, state[h], maxima[h]);
    c.push_back(shiftOf(m));
    Value arg = arith::SubFOp::create(b, loc, state[h], c[h]);
    alpha.push_back(math::ExpOp::create(b, loc, arg));
    next[h] = m;
    next[2 + h] = arith::MulFOp::create(b, loc, state[2 + h], alpha[h]);
  }
  for (auto [e, x] : llvm::enumerate(scores)) {
    int64_t h = (e % 4) / 2;
    Value shifted = arith::SubFOp::create(b, loc, x, c[h]);
    probs.push_back(math::ExpOp::create(b, loc, shifted));
    next[2 + h] = arith::AddFOp::create(b, loc, next[2 + h], probs.back());
  }
  for (int64_t e = 0; e < Dv / 2; ++e)
    next[4 + e] =
        arith::MulFOp::create(b, loc, state[4 + e], alpha[(e % 4) / 2]);
  return next;
}

void AttentionBuilder::writeMma(const MmaLane &l, const Head &hd, Value i0,
                                ValueRange state, ArrayRef<Value> sums) {
  for (int64_t e = 0; e < Dv / 2; ++e) {
    auto [row, col] = fragmentAt(l, e);
    Value i = add(i0, row);
    Value in = cmp(arith::CmpIPredicate::slt, i, Sq);
    auto guard = scf::IfOp::create(b, loc, in, false);
    OpBuilder::InsertionGuard ig(b);
    b.setInsertionPointToStart(guard.thenBlock());
    Value y = arith::DivFOp::create(b, loc, state[4 + e], sums[(e % 4) / 2]);
    memref::StoreOp::create(b, loc, y, out, at(hd.b, hd.h, i, col));
  }
}

void AttentionBuilder::mmaRowsKernel(ValueRange tiles, Value t, Value bh,
                                     Value tile) {
  OpBuilder::InsertionGuard guard(b);
  Value qs = tiles[0], ks = tiles[1], vt = tiles[2];
  int64_t bk = mmaKeys();
  Value i0 = mul(tile, kMmaRows);
  Head hd = activeBlock(bh, i0);
  Value qVec = vectorRows(q, D), kVec = vectorRows(k, D);
  Value vVec = vectorRows(v, Dv);
  stageBy(qs, q, qVec, t, hd.b, hd.h, i0, Sq, kMmaRows, D, false);
  gpu::BarrierOp::create(b, loc);
  MmaLane l = mmaLane(t);
  auto pairType = VectorType::get({2}, lowp);
  auto pairAt = [&](Value mem, Value row, Value col) {
    Value v =
        vector::LoadOp::create(b, loc, pairType, mem, ValueRange{row, col});
    return mmaFragment(v);
  };
  // Q's A fragments per 16 of the head dim: (row g, d 2q), (g + 8, 2q),
  // (g, 2q + 8), (g + 8, 2q + 8). Kept in registers over the key loop up to
  // a head dim of 64; above, loaded from shared memory in each step (32
  // registers fewer: the kernel stays within 255 without spilling).
  Value rowG = add(l.row0, l.g);
  Value rowG8 = add(rowG, 8);
  auto queryFragment = [&](int64_t ks0) -> SmallVector<Value> {
    Value c0 = add(l.q2, ks0);
    Value c8 = add(l.q2, ks0 + 8);
    return {pairAt(qs, rowG, c0), pairAt(qs, rowG8, c0), pairAt(qs, rowG, c8),
            pairAt(qs, rowG8, c8)};
  };
  bool keepQuery = true;
  SmallVector<SmallVector<Value>> qa;
  for (int64_t ks0 = 0; ks0 < D && keepQuery; ks0 += 16)
    qa.push_back(queryFragment(ks0));
  Value negInf = f32(-std::numeric_limits<double>::infinity());
  Value zero = f32(0);
  SmallVector<Value> init{negInf, negInf, zero, zero};
  init.append(Dv / 2, zero);
  auto steps = forOp(keyEnd(i0), bk, init);
  {
    OpBuilder::InsertionGuard g2(b);
    b.setInsertionPointToStart(steps.getBody());
    Value j0 = steps.getInductionVar();
    ValueRange state = steps.getRegionIterArgs();
    stageBy(ks, k, kVec, t, hd.b, hd.kvh, j0, Sk, bk, D, false);
    stageBy(vt, v, vVec, t, hd.b, hd.kvh, j0, Sk, bk, Dv, /*transpose=*/true);
    gpu::BarrierOp::create(b, loc);
    // S = Q K^T: key tile n's B fragment is K's row 8 n + g, d 2q (+ 8).
    SmallVector<Value> raw(bk / 2, zero);
    for (int64_t ks0 = 0; ks0 < D; ks0 += 16) {
      SmallVector<Value> a = keepQuery ? qa[ks0 / 16] : queryFragment(ks0);
      Value c0 = add(l.q2, ks0);
      Value c8 = add(l.q2, ks0 + 8);
      for (int64_t n = 0; n < bk / 8; ++n) {
        Value key = add(l.g, 8 * n);
        SmallVector<Value> bf{pairAt(ks, key, c0), pairAt(ks, key, c8)};
        auto acc = mmaSync(a, bf, ArrayRef<Value>(raw).slice(4 * n, 4));
        llvm::copy(acc, raw.begin() + 4 * n);
      }
    }
    SmallVector<Value> s = mmaScores(l, hd, i0, j0, raw);
    SmallVector<Value> maxima = rowMaxima(s);
    for (Value &m : maxima)
      m = xorReduce(b, loc, m, /*maximum=*/true, {1, 2});
    SmallVector<Value> p;
    SmallVector<Value> next = softmaxUpdate(state, s, maxima, p);
    // O += P V per 16 keys: P's A fragment from key tiles 2 kk and
    // 2 kk + 1; V's B fragment is V^T's row 8 n + g, keys 2q (+ 8).
    auto pack = [&](Value x, Value y) {
      Value lx = arith::TruncFOp::create(b, loc, lowp, x);
      Value ly = arith::TruncFOp::create(b, loc, lowp, y);
      Value v =
          vector::FromElementsOp::create(b, loc, pairType, ValueRange{lx, ly});
      return mmaFragment(v);
    };
    for (int64_t kk = 0; kk < bk / 16; ++kk) {
      int64_t lo = 8 * kk, hi = 8 * kk + 4;
      SmallVector<Value> a{pack(p[lo], p[lo + 1]), pack(p[lo + 2], p[lo + 3]),
                           pack(p[hi], p[hi + 1]), pack(p[hi + 2], p[hi + 3])};
      Value c0 = add(l.q2, 16 * kk);
      Value c8 = add(l.q2, 16 * kk + 8);
      for (int64_t n = 0; n < Dv / 8; ++n) {
        Value col = add(l.g, 8 * n);
        SmallVector<Value> bf{pairAt(vt, col, c0), pairAt(vt, col, c8)};
        auto acc = mmaSync(a, bf, ArrayRef<Value>(next).slice(4 + 4 * n, 4));
        llvm::copy(acc, next.begin() + 4 + 4 * n);
      }
    }
    gpu::BarrierOp::create(b, loc);
    scf::YieldOp::create(b, loc, next);
  }
  ValueRange done = steps.getResults();
  // The quads' denominators (lanes 4 (l / 4) + [0, 4) hold one row).
  SmallVector<Value> sums{
      xorReduce(b, loc, done[2], /*maximum=*/false, {1, 2}),
      xorReduce(b, loc, done[3], /*maximum=*/false, {1, 2})};
  writeMma(l, hd, i0, done, sums);
}

SmallVector<Value> AttentionBuilder::fragmentDots(Value x, Value y, int64_t n,
                                                  const MmaLane &l,
                                                  ValueRange acc) {
  auto f = b.getF32Type();
  auto dots = forOp(idx(n), 1, acc);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(dots.getBody());
  Value i = dots.getInductionVar();
  SmallVector<Value> next;
  for (int64_t e = 0; e < (int64_t)acc.size(); ++e) {
    auto [row, col] = fragmentAt(l, e);
    Value xv = memref::LoadOp::create(b, loc, x, ValueRange{row, i});
    Value yv = memref::LoadOp::create(b, loc, y, ValueRange{col, i});
    Value wx = arith::ExtFOp::create(b, loc, f, xv);
    Value wy = arith::ExtFOp::create(b, loc, f, yv);
    next.push_back(
        math::FmaOp::create(b, loc, wx, wy, dots.getRegionIterArgs()[e]));
  }
  scf::YieldOp::create(b, loc, next);
  return SmallVector<Value>(dots.getResults());
}

void AttentionBuilder::emulateMmaRows() {
  OpBuilder::InsertionGuard guard(b);
  int64_t bk = mmaKeys();
  SmallVector<Value> tiles;
  for (Type type : mmaTypes({}))
    tiles.push_back(memref::AllocOp::create(b, loc, cast<MemRefType>(type)));
  Value qs = tiles[0], ks = tiles[1], vt = tiles[2];
  // The probabilities, rounded, as the P V products read them.
  Value ps =
      memref::AllocOp::create(b, loc, MemRefType::get({kMmaRows, bk}, lowp));
  gpu_loops::EmulatedRegisters state(b, loc, kMmaThreads, 4 + Dv / 2);
  gpu_loops::EmulatedRegisters scores(b, loc, kMmaThreads, bk / 2);
  gpu_loops::EmulatedRegisters halves(b, loc, kMmaThreads, 2);
  Value threads = idx(kMmaThreads);
  Value qTiles = arith::CeilDivSIOp::create(b, loc, Sq, idx(kMmaRows));
  // Lane t ^ x of t's quad (x < 4).
  auto quadLane = [&](Value t, int64_t x) {
    Value c = idx(x);
    return arith::XOrIOp::create(b, loc, t, c).getResult();
  };
  Value negInf = f32(-std::numeric_limits<double>::infinity());
  Value zero = f32(0);
  SmallVector<Value> init{negInf, negInf, zero, zero};
  init.append(Dv / 2, zero);
  Value qVec = vectorRows(q, D), kVec = vectorRows(k, D);
  Value vVec = vectorRows(v, Dv);
  forLoop(BH, [&](Value bh) {
    Head hd = head(bh);
    forLoop(qTiles, [&](Value tile) {
      Value i0 = mul(tile, kMmaRows);
      forLoop(threads, [&](Value t) {
        stageBy(qs, q, qVec, t, hd.b, hd.h, i0, Sq, kMmaRows, D, false);
        state.store(t, init);
      });
      auto steps = forOp(keyEnd(i0), bk);
      OpBuilder::InsertionGuard g2(b);
      b.setInsertionPointToStart(steps.getBody());
      Value j0 = steps.getInductionVar();
      forLoop(threads, [&](Value t) {
        stageBy(ks, k, kVec, t, hd.b, hd.kvh, j0, Sk, bk, D, false);
        stageBy(vt, v, vVec, t, hd.b, hd.kvh, j0, Sk, bk, Dv,
                /*transpose=*/true);
      });
      // S at the fragments' coordinates, masked; the lanes' maxima.
      forLoop(threads, [&](Value t) {
        MmaLane l = mmaLane(t);
        SmallVector<Value> raw =
            fragmentDots(qs, ks, D, l, SmallVector<Value>(bk / 2, zero));
        SmallVector<Value> s = mmaScores(l, hd, i0, j0, raw);
        scores.store(t, s);
        halves.store(t, rowMaxima(s));
      });
      // The quads' maxima; the softmax update; P, rounded, into its tile.
      forLoop(threads, [&](Value t) {
        MmaLane l = mmaLane(t);
        SmallVector<Value> maxima = halves.load(t);
        for (int64_t x = 1; x < 4; ++x) {
          SmallVector<Value> other = halves.load(quadLane(t, x));
          for (int64_t h = 0; h < 2; ++h)
            maxima[h] = arith::MaximumFOp::create(b, loc, maxima[h], other[h]);
        }
        SmallVector<Value> p;
        SmallVector<Value> next =
            softmaxUpdate(state.load(t), scores.load(t), maxima, p);
        state.store(t, next);
        for (auto [e, x] : llvm::enumerate(p)) {
          auto [row, key] = fragmentAt(l, e);
          Value rounded = arith::TruncFOp::create(b, loc, lowp, x);
          memref::StoreOp::create(b, loc, rounded, ps, ValueRange{row, key});
        }
      });
      // O += P V at the output fragments' coordinates.
      forLoop(threads, [&](Value t) {
        MmaLane l = mmaLane(t);
        SmallVector<Value> st = state.load(t);
        SmallVector<Value> o =
            fragmentDots(ps, vt, bk, l, ArrayRef<Value>(st).drop_front(4));
        llvm::copy(o, st.begin() + 4);
        state.store(t, st);
      });
      b.setInsertionPointAfter(steps);
      // The quads' denominators, summed in the shuffles' order.
      forLoop(threads, [&](Value t) {
        SmallVector<Value> st = state.load(t);
        halves.store(t, {st[2], st[3]});
      });
      forLoop(threads, [&](Value t) {
        SmallVector<Value> own = halves.load(t);
        SmallVector<Value> x1 = halves.load(quadLane(t, 1));
        SmallVector<Value> x2 = halves.load(quadLane(t, 2));
        SmallVector<Value> x3 = halves.load(quadLane(t, 3));
        SmallVector<Value> sums;
        for (int64_t h = 0; h < 2; ++h) {
          Value mine = arith::AddFOp::create(b, loc, own[h], x1[h]);
          Value theirs = arith::AddFOp::create(b, loc, x2[h], x3[h]);
          sums.push_back(arith::AddFOp::create(b, loc, mine, theirs));
        }
        writeMma(mmaLane(t), hd, i0, state.load(t), sums);
      });
    });
  });
  tiles.push_back(ps);
  for (Value buf : tiles)
    memref::DeallocOp::create(b, loc, buf);
  for (auto *regs : {&state, &scores, &halves})
    regs->release();
}

} // namespace mlir::kiln::gpu_attention
