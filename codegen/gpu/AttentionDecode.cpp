//===- AttentionDecode.cpp - the decode kernel of kiln-gpu-attention ------===//
//
// For few query rows (Sq <= kDecodeRows: a decode step on a KV cache, a
// short speculative chunk) the rows kernel (Attention.cpp) would give each
// batch x head one block with one busy thread, walking every key alone.
// This kernel gives each (batch x head, query row) a block of 8 warps and
// splits the keys over them:
//   - the query row is staged in shared memory;
//   - warp w takes the chunks of 32 keys starting at 32 w, 32 (w + 8), ...;
//     in a chunk, lane l computes the score of key c0 + l (its dot product
//     over the head dim; scale, mask, causal exclusion, keys past the end
//     excluded), the warp's maximum by xor shuffles updates the warp's
//     running maximum m, and each lane keeps its own share of the
//     denominator l; then lanes switch to the value columns: lane l owns
//     columns l, l + 32, ... of the warp's output row acc, and adds each
//     key's probability (broadcast by an indexed shuffle) times its value;
//   - each warp stores (m, l summed over its lanes, acc) in shared memory,
//     and after a barrier thread t < Dv merges the warps' column t:
//       M = max_w m_w, c = M or 0 when M = -inf, e_w = exp(m_w - c),
//       out = (sum_w acc_w e_w) / (sum_w l_w e_w)
//     (0 / 0 = NaN for a row with every key excluded, as the CPU kernel).
// Flash-decoding: a decode step of a few heads on a long KV cache has few
// (batch x head, row) blocks for the GPU's 132 SMs, each walking every key.
// While there are fewer than kDecodeBlocks rows, the keys are split into up
// to kDecodeParts parts of whole rounds (kDecodeRound keys: one chunk per
// warp), a block per part (grid z); each block writes its merged maximum
// M, denominator L and unnormalized row O (computed against M) to a
// partial buffer, and a second launch merges a row's parts as the warps
// were merged:
//       M* = max_p M_p, c = M* or 0, out = sum_p O_p e^(M_p - c) /
//       sum_p L_p e^(M_p - c).
// With one part (short caches, many rows) the block writes the output and
// the second launch has an empty grid (no kernel runs).
// With `emulate`, the same steps run as CPU loops: warps and lanes
// sequential, the lanes' scores, probabilities and denominators in
// buffers, the shuffles' reductions loops over the lanes.
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/Attention.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <limits>

using namespace mlir;

namespace mlir::kiln::gpu_attention {

Value xorReduce(OpBuilder &b, Location loc, Value x, bool maximum,
                ArrayRef<int64_t> offsets) {
  Value width = arith::ConstantIntOp::create(b, loc, b.getI32Type(), kWarp);
  for (int64_t offset : offsets) {
    Value off = arith::ConstantIntOp::create(b, loc, b.getI32Type(), offset);
    auto shuffle =
        gpu::ShuffleOp::create(b, loc, x, off, width, gpu::ShuffleMode::XOR);
    Value y = shuffle.getShuffleResult();
    x = maximum ? arith::MaximumFOp::create(b, loc, x, y).getResult()
                : arith::AddFOp::create(b, loc, x, y).getResult();
  }
  return x;
}

namespace {

/// The warp's maximum (or sum) of x, in every lane: xor shuffles.
Value warpReduce(OpBuilder &b, Location loc, Value x, bool maximum) {
  return xorReduce(b, loc, x, maximum, {16, 8, 4, 2, 1});
}

} // namespace

/// Query row [D]; the warps' maxima [W], denominators [W], output rows
/// [W][Dv].
SmallVector<Type> AttentionBuilder::decodeTypes(Attribute space) {
  auto f = b.getF32Type();
  auto type = [&](ArrayRef<int64_t> shape) -> Type {
    return MemRefType::get(shape, f, MemRefLayoutAttrInterface{}, space);
  };
  return {type({D}), type({kDecodeWarps}), type({kDecodeWarps}),
          type({kDecodeWarps, Dv})};
}

/// The score of key j (clamped to the last key to read it) for query row
/// i: the dot product of the staged query row with K[j].
Value AttentionBuilder::keyScore(Value qrow, const Head &hd, Value i,
                                 Value iC, Value j) {
  Value lastKey = arith::SubIOp::create(b, loc, Sk, idx(1));
  Value jC = minIdx(j, lastKey);
  Value zero = f32(0);
  auto dot = forOp(idx(D), 1, ValueRange{zero});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(dot.getBody());
    Value d = dot.getInductionVar();
    Value qd = memref::LoadOp::create(b, loc, qrow, ValueRange{d});
    Value kd = memref::LoadOp::create(b, loc, k, at(hd.b, hd.kvh, jC, d));
    Value acc = math::FmaOp::create(b, loc, qd, kd, dot.getRegionIterArgs()[0]);
    scf::YieldOp::create(b, loc, acc);
  }
  return score(dot.getResult(0), hd, i, iC, j, jC);
}

/// V[key, col] (col clamped to the last column), 0 for a key past the end.
Value AttentionBuilder::valueAt(const Head &hd, Value key, Value col) {
  Value colC = minIdx(col, idx(Dv - 1));
  return rowLoad(v, hd.b, hd.kvh, key, Sk, colC);
}

SmallVector<Value> AttentionBuilder::mergedColumn(ValueRange tiles, Value col) {
  Value ms = tiles[1], ls = tiles[2], accs = tiles[3];
  Value top = f32(-std::numeric_limits<double>::infinity());
  SmallVector<Value> m;
  for (int64_t w = 0; w < kDecodeWarps; ++w) {
    Value at = idx(w);
    m.push_back(memref::LoadOp::create(b, loc, ms, ValueRange{at}));
    top = arith::MaximumFOp::create(b, loc, top, m.back());
  }
  Value c = shiftOf(top);
  Value l = f32(0), o = f32(0);
  for (int64_t w = 0; w < kDecodeWarps; ++w) {
    Value at = idx(w);
    Value shifted = arith::SubFOp::create(b, loc, m[w], c);
    Value e = math::ExpOp::create(b, loc, shifted);
    Value lw = memref::LoadOp::create(b, loc, ls, ValueRange{at});
    Value ow = memref::LoadOp::create(b, loc, accs, ValueRange{at, col});
    l = math::FmaOp::create(b, loc, lw, e, l);
    o = math::FmaOp::create(b, loc, ow, e, o);
  }
  return {top, l, o};
}

std::pair<Value, Value> AttentionBuilder::partKeys(Value part) {
  // Whole rounds, so a warp's chunk never reaches the next part.
  Value start = arith::MulIOp::create(b, loc, part, partLen);
  Value end = minIdx(add(start, partLen), Sk);
  return {start, end};
}

Value AttentionBuilder::split() {
  return cmp(arith::CmpIPredicate::sgt, parts, idx(1));
}

Value AttentionBuilder::partialRow(Value bh, Value i, Value part) {
  Value row = add(arith::MulIOp::create(b, loc, bh, Sq), i);
  return add(arith::MulIOp::create(b, loc, row, parts), part);
}

void AttentionBuilder::finishColumn(ValueRange tiles, const Head &hd, Value bh,
                                    Value i, Value part, Value col) {
  OpBuilder::InsertionGuard guard(b);
  SmallVector<Value> merged = mergedColumn(tiles, col);
  auto pick = scf::IfOp::create(b, loc, split(), /*withElseRegion=*/true);
  b.setInsertionPointToStart(pick.elseBlock());
  Value y = arith::DivFOp::create(b, loc, merged[2], merged[1]);
  memref::StoreOp::create(b, loc, y, out, at(hd.b, hd.h, i, col));
  b.setInsertionPointToStart(pick.thenBlock());
  Value row = partialRow(bh, i, part);
  Value oCol = add(col, 2);
  memref::StoreOp::create(b, loc, merged[2], partial, ValueRange{row, oCol});
  auto first =
      scf::IfOp::create(b, loc, cmp(arith::CmpIPredicate::eq, col, idx(0)),
                        /*withElseRegion=*/false);
  b.setInsertionPointToStart(first.thenBlock());
  Value zero = idx(0), one = idx(1);
  memref::StoreOp::create(b, loc, merged[0], partial, ValueRange{row, zero});
  memref::StoreOp::create(b, loc, merged[1], partial, ValueRange{row, one});
}

Value AttentionBuilder::combinedColumn(Value bh, Value i, Value col) {
  Value first = partialRow(bh, i, idx(0));
  Value zero = idx(0), one = idx(1);
  auto top = forOp(parts, 1,
                   ValueRange{f32(-std::numeric_limits<double>::infinity())});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(top.getBody());
    Value row = add(first, top.getInductionVar());
    Value m = memref::LoadOp::create(b, loc, partial, ValueRange{row, zero});
    Value y = arith::MaximumFOp::create(b, loc, top.getRegionIterArgs()[0], m);
    scf::YieldOp::create(b, loc, y);
  }
  Value c = shiftOf(top.getResult(0));
  Value init = f32(0);
  auto sums = forOp(parts, 1, ValueRange{init, init});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(sums.getBody());
    Value row = add(first, sums.getInductionVar());
    Value oCol = add(col, 2);
    Value m = memref::LoadOp::create(b, loc, partial, ValueRange{row, zero});
    Value lp = memref::LoadOp::create(b, loc, partial, ValueRange{row, one});
    Value op = memref::LoadOp::create(b, loc, partial, ValueRange{row, oCol});
    Value shifted = arith::SubFOp::create(b, loc, m, c);
    Value e = math::ExpOp::create(b, loc, shifted);
    ValueRange acc = sums.getRegionIterArgs();
    Value l = math::FmaOp::create(b, loc, lp, e, acc[0]);
    Value o = math::FmaOp::create(b, loc, op, e, acc[1]);
    scf::YieldOp::create(b, loc, ValueRange{l, o});
  }
  return arith::DivFOp::create(b, loc, sums.getResult(1), sums.getResult(0));
}

void AttentionBuilder::decodeParts(Value decode, bool release) {
  Value one = idx(1);
  Value rowsNow = arith::MulIOp::create(b, loc, BH, Sq);
  Value rounds = arith::CeilDivSIOp::create(b, loc, Sk, idx(kDecodeRound));
  Value fill = arith::CeilDivSIOp::create(
      b, loc, idx(kDecodeBlocks), arith::MaxSIOp::create(b, loc, rowsNow, one));
  Value want = minIdx(minIdx(rounds, fill), idx(kDecodeParts));
  want = arith::MaxSIOp::create(b, loc, want, one);
  // Whole rounds per part; then as many parts as that length needs, so
  // that none is empty.
  Value perPart = arith::CeilDivSIOp::create(b, loc, rounds, want);
  perPart = arith::MaxSIOp::create(b, loc, perPart, one);
  partLen = mul(perPart, kDecodeRound);
  Value keys = arith::MaxSIOp::create(b, loc, Sk, one);
  parts = arith::CeilDivSIOp::create(b, loc, keys, partLen);
  if (decode)
    parts = arith::SelectOp::create(b, loc, decode, parts, one);
  Value isSplit = split();
  Value partRows = arith::MulIOp::create(b, loc, rowsNow, parts);
  partRows = arith::SelectOp::create(b, loc, isSplit, partRows, idx(0));
  auto type = MemRefType::get({ShapedType::kDynamic, 2 + Dv}, b.getF32Type());
  partial = memref::AllocOp::create(b, loc, type, ValueRange{partRows});
  if (release) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(b.getInsertionBlock()->getTerminator());
    memref::DeallocOp::create(b, loc, partial);
  }
}

void AttentionBuilder::buildCombineLaunch() {
  Value one = idx(1);
  Value isSplit = split();
  Value rowsX = arith::MaxSIOp::create(b, loc, BH, one);
  Value gridX = arith::SelectOp::create(b, loc, isSplit, rowsX, idx(0));
  Value gridY = arith::MaxSIOp::create(b, loc, Sq, one);
  OpBuilder::InsertionGuard guard(b);
  auto launch = kiln::gpu_loops::launchAtBody(b, loc, gridX, gridY, one,
                                              idx(Dv), TypeRange{});
  Value bh = launch.getBlockIds().x, i = launch.getBlockIds().y;
  Value t = launch.getThreadIds().x;
  Head hd = activeBlock(bh, i);
  Value y = combinedColumn(bh, i, t);
  memref::StoreOp::create(b, loc, y, out, at(hd.b, hd.h, i, t));
}

void AttentionBuilder::decodeKernel(ValueRange tiles, Value t, Value bh,
                                    Value i, Value part) {
  OpBuilder::InsertionGuard guard(b);
  Value qrow = tiles[0], ms = tiles[1], ls = tiles[2], accs = tiles[3];
  Head hd = activeBlock(bh, i);
  Value warpSize = idx(kWarp);
  Value warp = arith::DivUIOp::create(b, loc, t, warpSize);
  Value lane = arith::RemUIOp::create(b, loc, t, warpSize);
  // The query row (D <= 128, fewer than the block's threads).
  {
    OpBuilder::InsertionGuard g2(b);
    auto in = scf::IfOp::create(b, loc, cmp(arith::CmpIPredicate::slt, t,
                                            idx(D)),
                                false);
    b.setInsertionPointToStart(in.thenBlock());
    Value x = memref::LoadOp::create(b, loc, q, at(hd.b, hd.h, i, t));
    memref::StoreOp::create(b, loc, x, qrow, ValueRange{t});
  }
  gpu::BarrierOp::create(b, loc);
  int64_t cols = (Dv + kWarp - 1) / kWarp; // output columns per lane
  SmallVector<Value> init{f32(-std::numeric_limits<double>::infinity())};
  Value zero = f32(0);
  init.append(cols + 1, zero);
  auto [start, end] = partKeys(part);
  Value first = add(start, mul(warp, kWarp));
  Value stride = idx(kDecodeRound);
  auto chunks = scf::ForOp::create(b, loc, first, end, stride, init);
  {
    OpBuilder::InsertionGuard g2(b);
    b.setInsertionPointToStart(chunks.getBody());
    Value c0 = chunks.getInductionVar();
    ValueRange state = chunks.getRegionIterArgs();
    Value s = keyScore(qrow, hd, i, i, add(c0, lane));
    Value top = warpReduce(b, loc, s, /*maximum=*/true);
    Value m = arith::MaximumFOp::create(b, loc, state[0], top);
    Value c = shiftOf(m);
    Value alphaArg = arith::SubFOp::create(b, loc, state[0], c);
    Value alpha = math::ExpOp::create(b, loc, alphaArg);
    Value shifted = arith::SubFOp::create(b, loc, s, c);
    Value p = math::ExpOp::create(b, loc, shifted);
    Value l = math::FmaOp::create(b, loc, state[1], alpha, p);
    SmallVector<Value> acc;
    for (int64_t r = 0; r < cols; ++r)
      acc.push_back(arith::MulFOp::create(b, loc, state[2 + r], alpha));
    // Lanes over the value columns, the 32 keys' probabilities broadcast.
    auto keys = forOp(idx(kWarp), 1, acc);
    {
      OpBuilder::InsertionGuard g3(b);
      b.setInsertionPointToStart(keys.getBody());
      Value jj = keys.getInductionVar();
      Value src =
          arith::IndexCastOp::create(b, loc, b.getI32Type(), jj).getResult();
      Value width =
          arith::ConstantIntOp::create(b, loc, b.getI32Type(), kWarp);
      Value pj = gpu::ShuffleOp::create(b, loc, p, src, width,
                                        gpu::ShuffleMode::IDX)
                     .getShuffleResult();
      Value key = add(c0, jj);
      SmallVector<Value> next;
      for (int64_t r = 0; r < cols; ++r) {
        Value x = valueAt(hd, key, add(lane, r * kWarp));
        next.push_back(
            math::FmaOp::create(b, loc, pj, x, keys.getRegionIterArgs()[r]));
      }
      scf::YieldOp::create(b, loc, next);
    }
    SmallVector<Value> next{m, l};
    llvm::append_range(next, keys.getResults());
    scf::YieldOp::create(b, loc, next);
  }
  Value l = warpReduce(b, loc, chunks.getResult(1), /*maximum=*/false);
  {
    OpBuilder::InsertionGuard g2(b);
    Value lead = cmp(arith::CmpIPredicate::eq, lane, idx(0));
    auto ifLead = scf::IfOp::create(b, loc, lead, false);
    b.setInsertionPointToStart(ifLead.thenBlock());
    memref::StoreOp::create(b, loc, chunks.getResult(0), ms, ValueRange{warp});
    memref::StoreOp::create(b, loc, l, ls, ValueRange{warp});
  }
  for (int64_t r = 0; r < cols; ++r) {
    OpBuilder::InsertionGuard g2(b);
    Value col = add(lane, r * kWarp);
    if ((r + 1) * kWarp > Dv) {
      auto in = scf::IfOp::create(
          b, loc, cmp(arith::CmpIPredicate::slt, col, idx(Dv)), false);
      b.setInsertionPointToStart(in.thenBlock());
    }
    memref::StoreOp::create(b, loc, chunks.getResult(2 + r), accs,
                            ValueRange{warp, col});
  }
  gpu::BarrierOp::create(b, loc);
  // Thread t merges column t (Dv <= 128, fewer than the block's threads).
  auto in = scf::IfOp::create(
      b, loc, cmp(arith::CmpIPredicate::slt, t, idx(Dv)), false);
  b.setInsertionPointToStart(in.thenBlock());
  finishColumn(tiles, hd, bh, i, part, t);
}

void AttentionBuilder::emulateDecode() {
  OpBuilder::InsertionGuard guard(b);
  auto f = b.getF32Type();
  SmallVector<Value> tiles, buffers;
  for (Type type : decodeTypes({}))
    tiles.push_back(memref::AllocOp::create(b, loc, cast<MemRefType>(type)));
  // The lanes' scores (then probabilities) and denominators, the warp's
  // output row.
  Value sbuf = memref::AllocOp::create(b, loc, MemRefType::get({kWarp}, f));
  Value lbuf = memref::AllocOp::create(b, loc, MemRefType::get({kWarp}, f));
  Value abuf = memref::AllocOp::create(b, loc, MemRefType::get({Dv}, f));
  Value qrow = tiles[0], ms = tiles[1], ls = tiles[2], accs = tiles[3];
  Value lanes = idx(kWarp), dv = idx(Dv);
  auto load = [&](Value mem, ValueRange at) {
    return memref::LoadOp::create(b, loc, mem, at).getResult();
  };
  auto store = [&](Value x, Value mem, ValueRange at) {
    memref::StoreOp::create(b, loc, x, mem, at);
  };
  // The lanes' maximum or sum of `buf` (the shuffles' reduction).
  auto reduceLanes = [&](Value buf, bool maximum) {
    double first =
        maximum ? -std::numeric_limits<double>::infinity() : 0.0;
    Value init = f32(first);
    auto loop = forOp(lanes, 1, ValueRange{init});
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(loop.getBody());
    Value x = load(buf, loop.getInductionVar());
    Value acc = loop.getRegionIterArgs()[0];
    Value y = maximum ? arith::MaximumFOp::create(b, loc, acc, x).getResult()
                      : arith::AddFOp::create(b, loc, acc, x).getResult();
    scf::YieldOp::create(b, loc, y);
    return loop.getResult(0);
  };
  decodeParts(/*decode=*/{}, /*release=*/false);
  forLoop(BH, [&](Value bh) {
    Head hd = head(bh);
    forLoop(Sq, [&](Value i) {
      forLoop(idx(D), [&](Value d) {
        store(load(q, at(hd.b, hd.h, i, d)), qrow, d);
      });
      forLoop(parts, [&](Value part) {
        auto [start, end] = partKeys(part);
        forLoop(idx(kDecodeWarps), [&](Value w) {
          Value zero = f32(0);
          forLoop(lanes, [&](Value lane) { store(zero, lbuf, lane); });
          forLoop(dv, [&](Value e) { store(zero, abuf, e); });
          Value negInf = f32(-std::numeric_limits<double>::infinity());
          Value first = add(start, mul(w, kWarp));
          Value stride = idx(kDecodeRound);
          auto chunks = scf::ForOp::create(b, loc, first, end, stride,
                                           ValueRange{negInf});
          {
            OpBuilder::InsertionGuard g2(b);
            b.setInsertionPointToStart(chunks.getBody());
            Value c0 = chunks.getInductionVar();
            Value mOld = chunks.getRegionIterArgs()[0];
            forLoop(lanes, [&](Value lane) {
              store(keyScore(qrow, hd, i, i, add(c0, lane)), sbuf, lane);
            });
            Value top = reduceLanes(sbuf, /*maximum=*/true);
            Value m = arith::MaximumFOp::create(b, loc, mOld, top);
            Value c = shiftOf(m);
            Value alphaArg = arith::SubFOp::create(b, loc, mOld, c);
            Value alpha = math::ExpOp::create(b, loc, alphaArg);
            forLoop(lanes, [&](Value lane) {
              Value shifted =
                  arith::SubFOp::create(b, loc, load(sbuf, lane), c);
              Value p = math::ExpOp::create(b, loc, shifted);
              store(p, sbuf, lane);
              store(math::FmaOp::create(b, loc, load(lbuf, lane), alpha, p),
                    lbuf, lane);
            });
            forLoop(dv, [&](Value e) {
              Value a0 = arith::MulFOp::create(b, loc, load(abuf, e), alpha);
              auto keys = forOp(lanes, 1, ValueRange{a0});
              {
                OpBuilder::InsertionGuard g3(b);
                b.setInsertionPointToStart(keys.getBody());
                Value jj = keys.getInductionVar();
                Value x = valueAt(hd, add(c0, jj), e);
                scf::YieldOp::create(b, loc,
                                     ValueRange{math::FmaOp::create(
                                         b, loc, load(sbuf, jj), x,
                                         keys.getRegionIterArgs()[0])});
              }
              store(keys.getResult(0), abuf, e);
            });
            scf::YieldOp::create(b, loc, ValueRange{m});
          }
          store(chunks.getResult(0), ms, w);
          store(reduceLanes(lbuf, /*maximum=*/false), ls, w);
          forLoop(dv, [&](Value e) { store(load(abuf, e), accs, {w, e}); });
        });
        forLoop(dv, [&](Value e) { finishColumn(tiles, hd, bh, i, part, e); });
      });
    });
  });
  // The second launch's work (no rows with one part).
  Value isSplit = split();
  Value rowsX = arith::SelectOp::create(b, loc, isSplit, BH, idx(0));
  forLoop(rowsX, [&](Value bh) {
    Head hd = head(bh);
    forLoop(Sq, [&](Value i) {
      forLoop(dv, [&](Value e) {
        store(combinedColumn(bh, i, e), out, at(hd.b, hd.h, i, e));
      });
    });
  });
  llvm::append_range(buffers, tiles);
  buffers.append({sbuf, lbuf, abuf, partial});
  for (Value buf : buffers)
    memref::DeallocOp::create(b, loc, buf);
}

} // namespace mlir::kiln::gpu_attention
