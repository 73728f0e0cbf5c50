//===- Attention.cpp - fused attention kernels for the CUDA target --------===//
//
// kiln-gpu-select-attention (on tensors) rewrites the f32 kiln.attention
// ops the kernel takes into kiln.ukernel "attention_f32" (the CPU kernel's
// operand and flag conventions, codegen/cpu/SelectUkernels.cpp), which
// bufferizes as one op; kiln-gpu-attention (on buffers) turns each into one
// gpu.launch instead of the generic lowering's key-block loop of kernels.
//
// The rows kernel (the decode kernel for Sq <= 8 is AttentionDecode.cpp):
// a block per (batch x head, tile of R query rows), one thread per
// query row (R = 64, 32 when the head dim is above 64, for the shared-memory
// budget). The block stages its query rows in shared memory, rows padded by
// one value (thread t reads row t: no bank conflicts), then walks the keys
// 16 at a time. Each step stages K and V in shared memory (every thread
// reads the same key: broadcasts), then each thread computes its 16 scores
// (scale, float mask added or bool mask filled, causal exclusion, keys past
// the end excluded) and updates its running maximum m, denominator l and
// unnormalized output row acc[Dv] in registers (the online softmax):
//   m' = max(m, max_j s_j); c = m' or 0 when m' = -inf
//   l = l * exp(m - c) + sum_j exp(s_j - c)
//   acc = acc * exp(m - c) + sum_j exp(s_j - c) * V_j
// and the epilogue writes acc / l (0 / 0 = NaN for a row with every key
// excluded, as the CPU kernel). With `emulate`, the same steps run as CPU
// loops: blocks and threads sequential, each barrier a split between loops
// over the threads, the per-thread state in a buffer.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/gpu/Attention.h"
#include "codegen/RuntimeCalls.h"
#include "codegen/cpu/SelectUkernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUSELECTATTENTION
#define GEN_PASS_DEF_KILNGPUATTENTION
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln::gpu_attention;

namespace {

struct KilnGpuSelectAttention final
    : mlir::kiln::impl::KilnGpuSelectAttentionBase<KilnGpuSelectAttention> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    kiln::cpu::populateAttentionUkernelPattern(patterns, /*isaFlag=*/0,
                                               kMaxHeadDim);
    // And the filters of QDQ convolutions, which the importer leaves as
    // DequantizeLinear of int8 constants for the CPU's int8 kernel:
    // dequantized here once, not by a kernel on every run.
    kiln::cpu::populateFilterDequantPattern(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

namespace mlir::kiln::gpu_attention {

AttentionBuilder::AttentionBuilder(OpBuilder &b, kiln::UkernelOp op, Type lowp)
    : b(b), loc(op.getLoc()), lowp(lowp) {
  ArrayRef<int64_t> p = op.getIntParams();
  flags = p[1];
  maskRank = p[2];
  rank = p[3];
  scale = op.getFloatParams()[0];
  fill = op.getFloatParams()[1];
  q = op.getInputs()[0];
  k = op.getInputs()[1];
  v = op.getInputs()[2];
  if (flags & kMask)
    mask = op.getInputs()[3];
  out = op.getInit();
  D = cast<MemRefType>(q.getType()).getDimSize(rank - 1);
  Dv = cast<MemRefType>(v.getType()).getDimSize(rank - 1);
  mma = lowp && D % 16 == 0 && Dv % 16 == 0;
  rows = mma ? kMmaRows : D <= 64 ? 64 : 32;
}

Value AttentionBuilder::shiftOf(Value m) {
  Value negInf = f32(-std::numeric_limits<double>::infinity());
  Value none =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, m, negInf);
  Value zero = f32(0);
  return arith::SelectOp::create(b, loc, none, zero, m);
}

void AttentionBuilder::check(Value a, Value c) {
  auto i64 = b.getI64Type();
  Value x = arith::IndexCastOp::create(b, loc, i64, a);
  Value y = arith::IndexCastOp::create(b, loc, i64, c);
  func::CallOp::create(b, loc, "kiln_rt_check_dim", TypeRange{},
                       ValueRange{x, y});
}

AttentionBuilder::Head AttentionBuilder::activeBlock(Value bh, Value row) {
  // Grids are at least 1 x 1: a block past an empty extent does nothing
  // (the condition is uniform over the block, so its barriers are safe).
  Value bhIn = cmp(arith::CmpIPredicate::slt, bh, BH);
  Value rowIn = cmp(arith::CmpIPredicate::slt, row, Sq);
  auto active = scf::IfOp::create(
      b, loc, arith::AndIOp::create(b, loc, bhIn, rowIn), false);
  b.setInsertionPointToStart(active.thenBlock());
  return head(bh);
}

AttentionBuilder::Head AttentionBuilder::head(Value bh) {
  Value h = arith::RemUIOp::create(b, loc, bh, H);
  Value bat = arith::DivUIOp::create(b, loc, bh, H);
  Value kvh = arith::DivUIOp::create(b, loc, h, rep);
  return {bat, h, kvh};
}

Value AttentionBuilder::rowLoad(Value mem, Value bat, Value h, Value row,
                                Value n, Value col) {
  Value last = arith::SubIOp::create(b, loc, n, idx(1));
  Value clamped = minIdx(row, last);
  Value x = memref::LoadOp::create(b, loc, mem, at(bat, h, clamped, col));
  Value in = cmp(arith::CmpIPredicate::slt, row, n);
  Value zero = f32(0);
  return arith::SelectOp::create(b, loc, in, x, zero);
}

Value AttentionBuilder::score(Value s, const Head &hd, Value i, Value iC,
                              Value j, Value jC) {
  Value sc = f32(scale);
  Value x = arith::MulFOp::create(b, loc, s, sc);
  Value negInf = f32(-std::numeric_limits<double>::infinity());
  if (mask) {
    SmallVector<Value> coords = at(hd.b, hd.h, iC, jC), mi;
    Value zero = idx(0);
    for (int64_t d = 0; d < maskRank; ++d)
      mi.push_back(arith::SelectOp::create(b, loc, maskBroadcast[d], zero,
                                           coords[d + rank - maskRank]));
    Value m = memref::LoadOp::create(b, loc, mask, mi);
    if (flags & kMaskBool) {
      Value excluded = (flags & kFill) ? f32(fill) : negInf;
      x = arith::SelectOp::create(b, loc, m, x, excluded);
    } else {
      x = arith::AddFOp::create(b, loc, x, m);
    }
  }
  Value out = cmp(arith::CmpIPredicate::sge, j, Sk);
  if (flags & kCausal) {
    // j > i + Sk - Sq, without negative intermediates.
    Value lhs = add(j, Sq), rhs = add(i, Sk);
    Value later = cmp(arith::CmpIPredicate::sgt, lhs, rhs);
    out = arith::OrIOp::create(b, loc, out, later);
  }
  return arith::SelectOp::create(b, loc, out, negInf, x);
}

void AttentionBuilder::readSizes() {
  B = rank == 4 ? dim(q, 0) : idx(1);
  H = dim(q, rank - 3);
  Sq = dim(q, rank - 2);
  Sk = dim(k, rank - 2);
  Value Hk = dim(k, rank - 3);
  if (rank == 4) {
    check(dim(k, 0), B);
    check(dim(v, 0), B);
  }
  check(dim(v, rank - 3), Hk);
  check(dim(v, rank - 2), Sk);
  check(dim(k, rank - 1), idx(D));
  check(dim(out, rank - 1), idx(Dv));
  // Query heads a multiple of key/value heads (else the check fails on
  // H against Hk, as the CPU kernel's).
  Value one = idx(1), zero = idx(0);
  Value hkSafe = arith::MaxSIOp::create(b, loc, Hk, one);
  Value rem = arith::RemUIOp::create(b, loc, H, hkSafe);
  Value divides = cmp(arith::CmpIPredicate::eq, rem, zero);
  Value positive = cmp(arith::CmpIPredicate::sgt, Hk, zero);
  Value ok = arith::AndIOp::create(b, loc, divides, positive);
  check(H, arith::SelectOp::create(b, loc, ok, H, Hk));
  rep = arith::DivUIOp::create(b, loc, H, hkSafe);
  BH = arith::MulIOp::create(b, loc, B, H);
  if (!mask)
    return;
  // A mask dim is 1 (broadcast) or the scores' extent.
  SmallVector<Value> target{H, Sq, Sk};
  if (rank == 4)
    target.insert(target.begin(), B);
  for (int64_t d = 0; d < maskRank; ++d) {
    Value n = dim(mask, d), t = target[d + rank - maskRank];
    Value isOne = cmp(arith::CmpIPredicate::eq, n, one);
    check(arith::SelectOp::create(b, loc, isOne, t, n), t);
    maskBroadcast.push_back(isOne);
  }
}

SmallVector<Type> AttentionBuilder::tileTypes(Attribute space) {
  if (mma)
    return mmaTypes(space);
  auto f = b.getF32Type();
  return {MemRefType::get({rows, D + 1}, f, MemRefLayoutAttrInterface{}, space),
          MemRefType::get({kKeys, D}, f, MemRefLayoutAttrInterface{}, space),
          MemRefType::get({kKeys, Dv}, f, MemRefLayoutAttrInterface{}, space)};
}
void AttentionBuilder::stage(Value tile, Value mem, Value t, Value bat, Value h,
                             Value first, Value n, int64_t count, int64_t width,
                             int64_t threads, bool transpose, int64_t unroll) {
  int64_t total = count * width;
  Type type = cast<MemRefType>(tile.getType()).getElementType();
  auto element = [&](Value e) {
    Value w = idx(width);
    Value row = arith::DivUIOp::create(b, loc, e, w);
    Value col = arith::RemUIOp::create(b, loc, e, w);
    Value x = rowLoad(mem, bat, h, add(first, row), n, col);
    if (type != x.getType())
      x = arith::TruncFOp::create(b, loc, type, x);
    memref::StoreOp::create(b, loc, x, tile,
                            transpose ? ValueRange{col, row}
                                      : ValueRange{row, col});
  };
  if (unroll && total % (threads * unroll) == 0) {
    auto loop = forOp(idx(total / threads), unroll);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    for (int64_t u = 0; u < unroll; ++u) {
      Value r = add(loop.getInductionVar(), u);
      element(add(t, mul(r, threads)));
    }
    return;
  }
  forShares(t, threads, total, element);
}

void AttentionBuilder::forShares(Value t, int64_t threads, int64_t total,
                                 function_ref<void(Value)> body) {
  for (int64_t r = 0; r * threads < total; ++r) {
    Value e = add(t, r * threads);
    OpBuilder::InsertionGuard guard(b);
    if ((r + 1) * threads > total) {
      Value limit = idx(total);
      Value in = cmp(arith::CmpIPredicate::slt, e, limit);
      auto guarded = scf::IfOp::create(b, loc, in, false);
      b.setInsertionPointToStart(guarded.thenBlock());
    }
    body(e);
  }
}

Value AttentionBuilder::vectorRows(Value mem, int64_t width) {
  auto type = cast<MemRefType>(mem.getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  if (width % kVector || failed(type.getStridesAndOffset(strides, offset)) ||
      strides.back() != 1)
    return {};
  // The aligned base plus the offset on 16 bytes, every other stride a
  // multiple of a vector (so is every row's start).
  auto md = memref::ExtractStridedMetadataOp::create(b, loc, mem);
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(
      b, loc, md.getBaseBuffer());
  Value start = add(base, mul(md.getOffset(), 4));
  Value bytes = idx(4 * kVector);
  Value misaligned = arith::RemUIOp::create(b, loc, start, bytes);
  for (Value stride : md.getStrides().drop_back()) {
    Value vec = idx(kVector);
    Value part = arith::RemUIOp::create(b, loc, stride, vec);
    misaligned = arith::OrIOp::create(b, loc, misaligned, part);
  }
  return cmp(arith::CmpIPredicate::eq, misaligned, idx(0));
}

void AttentionBuilder::stageBy(Value tile, Value mem, Value aligned, Value t,
                               Value bat, Value h, Value first, Value n,
                               int64_t count, int64_t width, bool transpose) {
  OpBuilder::InsertionGuard guard(b);
  if (aligned) {
    auto pick = scf::IfOp::create(b, loc, aligned, /*withElseRegion=*/true);
    b.setInsertionPointToStart(pick.thenBlock());
    stageVectors(tile, mem, t, bat, h, first, n, count, width, transpose);
    b.setInsertionPointToStart(pick.elseBlock());
  }
  stage(tile, mem, t, bat, h, first, n, count, width, kMmaThreads, transpose,
        kStageUnroll);
}

void AttentionBuilder::stageVectors(Value tile, Value mem, Value t, Value bat,
                                    Value h, Value first, Value n,
                                    int64_t count, int64_t width,
                                    bool transpose) {
  int64_t total = count * width / kVector, perRow = width / kVector;
  auto f32x4 = VectorType::get({kVector}, b.getF32Type());
  auto lowx4 = VectorType::get({kVector}, lowp);
  Value zeros = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(f32x4, b.getF32FloatAttr(0)));
  Value last = arith::SubIOp::create(b, loc, n, idx(1));
  forShares(t, kMmaThreads, total, [&](Value e) {
    Value per = idx(perRow);
    Value row = arith::DivUIOp::create(b, loc, e, per);
    Value part = arith::RemUIOp::create(b, loc, e, per);
    Value col = mul(part, kVector);
    Value gr = add(first, row);
    Value clamped = minIdx(gr, last);
    Value x = vector::LoadOp::create(
        b, loc, f32x4, mem, at(bat, h, clamped, col),
        /*nontemporal=*/false, llvm::MaybeAlign(4 * kVector));
    Value in = cmp(arith::CmpIPredicate::slt, gr, n);
    x = arith::SelectOp::create(b, loc, in, x, zeros);
    Value lx = arith::TruncFOp::create(b, loc, lowx4, x);
    if (!transpose) {
      // The padded tile's rows are a multiple of 8 values long: the
      // vector (8 bytes) is aligned to its size.
      vector::StoreOp::create(b, loc, lx, tile, ValueRange{row, col},
                              /*nontemporal=*/false,
                              llvm::MaybeAlign(2 * kVector));
      return;
    }
    for (int64_t u = 0; u < kVector; ++u) {
      Value y = vector::ExtractOp::create(b, loc, lx, ArrayRef<int64_t>{u});
      memref::StoreOp::create(b, loc, y, tile, ValueRange{add(col, u), row});
    }
  });
}

void AttentionBuilder::stageQueries(Value qs, Value t, const Head &hd,
                                    Value i0) {
  stage(qs, q, t, hd.b, hd.h, i0, Sq, rows, D, rows);
}

void AttentionBuilder::stageKeys(Value ks, Value vs, Value t, const Head &hd,
                                 Value j0) {
  // Element by element: this kernel keeps a whole output row per thread
  // in registers, and vector loads (all in flight at once) took ptxas from
  // 216 registers to 255 at a head dim of 64 and spilled 1.4 KB at 128.
  stage(ks, k, t, hd.b, hd.kvh, j0, Sk, kKeys, D, rows);
  stage(vs, v, t, hd.b, hd.kvh, j0, Sk, kKeys, Dv, rows);
}

SmallVector<Value> AttentionBuilder::initialState() {
  SmallVector<Value> s{f32(-std::numeric_limits<double>::infinity())};
  Value zero = f32(0);
  s.append(Dv + 1, zero);
  return s;
}

SmallVector<Value> AttentionBuilder::step(ValueRange tiles, Value t,
                                          const Head &hd, Value i0, Value j0,
                                          ValueRange state) {
  Value qs = tiles[0], ks = tiles[1], vs = tiles[2];
  // Scores: a loop over the head dim, 16 running sums.
  Value zero = f32(0);
  SmallVector<Value> init(kKeys, zero);
  auto dots = forOp(idx(D), 1, init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(dots.getBody());
    Value d = dots.getInductionVar();
    Value qd = memref::LoadOp::create(b, loc, qs, ValueRange{t, d});
    SmallVector<Value> next;
    for (int64_t jj = 0; jj < kKeys; ++jj) {
      Value key = idx(jj);
      Value kd = memref::LoadOp::create(b, loc, ks, ValueRange{key, d});
      next.push_back(
          math::FmaOp::create(b, loc, qd, kd, dots.getRegionIterArgs()[jj]));
    }
    scf::YieldOp::create(b, loc, next);
  }
  Value i = add(i0, t);
  Value lastRow = arith::SubIOp::create(b, loc, Sq, idx(1));
  Value iC = minIdx(i, lastRow);
  Value lastKey = arith::SubIOp::create(b, loc, Sk, idx(1));
  SmallVector<Value> s;
  Value mt = state[0];
  for (int64_t jj = 0; jj < kKeys; ++jj) {
    Value j = add(j0, jj);
    Value jC = minIdx(j, lastKey);
    s.push_back(score(dots.getResult(jj), hd, i, iC, j, jC));
    mt = arith::MaximumFOp::create(b, loc, mt, s.back());
  }
  Value c = shiftOf(mt);
  Value alphaArg = arith::SubFOp::create(b, loc, state[0], c);
  Value alpha = math::ExpOp::create(b, loc, alphaArg);
  Value l = arith::MulFOp::create(b, loc, state[1], alpha);
  SmallVector<Value> p;
  for (Value x : s) {
    Value shifted = arith::SubFOp::create(b, loc, x, c);
    p.push_back(math::ExpOp::create(b, loc, shifted));
    l = arith::AddFOp::create(b, loc, l, p.back());
  }
  SmallVector<Value> next{mt, l};
  for (int64_t e = 0; e < Dv; ++e) {
    Value col = idx(e);
    Value acc = arith::MulFOp::create(b, loc, state[2 + e], alpha);
    for (int64_t jj = 0; jj < kKeys; ++jj) {
      Value key = idx(jj);
      Value ve = memref::LoadOp::create(b, loc, vs, ValueRange{key, col});
      acc = math::FmaOp::create(b, loc, p[jj], ve, acc);
    }
    next.push_back(acc);
  }
  return next;
}

void AttentionBuilder::writeRow(Value t, const Head &hd, Value i0,
                                ValueRange state) {
  Value i = add(i0, t);
  Value in = cmp(arith::CmpIPredicate::slt, i, Sq);
  auto guard = scf::IfOp::create(b, loc, in, false);
  OpBuilder::InsertionGuard ig(b);
  b.setInsertionPointToStart(guard.thenBlock());
  for (int64_t e = 0; e < Dv; ++e) {
    Value y = arith::DivFOp::create(b, loc, state[2 + e], state[1]);
    Value col = idx(e);
    memref::StoreOp::create(b, loc, y, out, at(hd.b, hd.h, i, col));
  }
}

bool AttentionBuilder::hasRows() const {
  int64_t n = cast<MemRefType>(q.getType()).getDimSize(rank - 2);
  return ShapedType::isDynamic(n) || n > kDecodeRows;
}

bool AttentionBuilder::hasDecode() const {
  int64_t n = cast<MemRefType>(q.getType()).getDimSize(rank - 2);
  return ShapedType::isDynamic(n) || n <= kDecodeRows;
}

void AttentionBuilder::buildLaunch() {
  readSizes();
  auto shared =
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  bool rowsK = hasRows(), decodeK = hasDecode();
  Value one = idx(1);
  // Batch x heads on grid x (up to 2^31 - 1 blocks; y and z stop at
  // 65535), query tiles (rows kernel) or query rows (decode) on y.
  Value gridX = arith::MaxSIOp::create(b, loc, BH, one);
  Value qTiles = arith::CeilDivSIOp::create(b, loc, Sq, idx(rows));
  Value gridY = arith::MaxSIOp::create(b, loc, qTiles, one);
  Value threads = idx(rowThreads());
  Value decode; // per run, when the launch holds both kernels
  Value gridZ = one;
  if (decodeK) {
    Value decodeY = arith::MaxSIOp::create(b, loc, Sq, one);
    Value decodeThreads = idx(kDecodeWarps * kWarp);
    if (rowsK) {
      decode = cmp(arith::CmpIPredicate::sle, Sq, idx(kDecodeRows));
      gridY = arith::SelectOp::create(b, loc, decode, decodeY, gridY);
      threads = arith::SelectOp::create(b, loc, decode, decodeThreads, threads);
    } else {
      gridY = decodeY;
      threads = decodeThreads;
    }
    // The keys' parts on grid z (1 for the rows kernel).
    decodeParts(decode, /*release=*/true);
    gridZ = parts;
  }
  SmallVector<Type> types;
  if (rowsK)
    types = tileTypes(shared);
  size_t rowTiles = types.size();
  if (decodeK)
    llvm::append_range(types, decodeTypes(shared));
  {
    OpBuilder::InsertionGuard guard(b);
    auto launch = kiln::gpu_loops::launchAtBody(b, loc, gridX, gridY, gridZ,
                                                threads, types);
    ValueRange tiles = launch.getWorkgroupAttributions();
    Value t = launch.getThreadIds().x;
    Value bh = launch.getBlockIds().x;
    Value y = launch.getBlockIds().y;
    Value z = launch.getBlockIds().z;
    if (rowsK && decodeK) {
      // The same branch for the whole launch: its barriers are safe.
      auto pick = scf::IfOp::create(b, loc, decode, /*withElseRegion=*/true);
      b.setInsertionPointToStart(pick.thenBlock());
      decodeKernel(tiles.drop_front(rowTiles), t, bh, y, z);
      b.setInsertionPointToStart(pick.elseBlock());
      rowsKernel(tiles.take_front(rowTiles), t, bh, y);
    } else if (rowsK) {
      rowsKernel(tiles, t, bh, y);
    } else {
      decodeKernel(tiles, t, bh, y, z);
    }
  }
  if (decodeK)
    buildCombineLaunch();
}

Value AttentionBuilder::keyEnd(Value i0) {
  if (!(flags & kCausal))
    return Sk;
  // Row i sees keys j <= i + Sk - Sq: the block's last row, i0 + rows - 1,
  // keys below i0 + rows + Sk - Sq (none when that is not positive).
  Value last = add(add(i0, rows), Sk);
  Value end = arith::SubIOp::create(b, loc, last, Sq);
  return minIdx(end, Sk);
}

void AttentionBuilder::rowsKernel(ValueRange tiles, Value t, Value bh,
                                  Value tile) {
  if (mma)
    return mmaRowsKernel(tiles, t, bh, tile);
  OpBuilder::InsertionGuard guard(b);
  Value i0 = mul(tile, rows);
  Head hd = activeBlock(bh, i0);
  stageQueries(tiles[0], t, hd, i0);
  gpu::BarrierOp::create(b, loc);
  auto steps = forOp(keyEnd(i0), kKeys, initialState());
  {
    OpBuilder::InsertionGuard g2(b);
    b.setInsertionPointToStart(steps.getBody());
    Value j0 = steps.getInductionVar();
    stageKeys(tiles[1], tiles[2], t, hd, j0);
    gpu::BarrierOp::create(b, loc);
    SmallVector<Value> next =
        step(tiles, t, hd, i0, j0, steps.getRegionIterArgs());
    gpu::BarrierOp::create(b, loc);
    scf::YieldOp::create(b, loc, next);
  }
  writeRow(t, hd, i0, steps.getResults());
}

void AttentionBuilder::buildEmulation() {
  readSizes();
  if (hasRows() && hasDecode()) {
    Value decode = cmp(arith::CmpIPredicate::sle, Sq, idx(kDecodeRows));
    auto pick = scf::IfOp::create(b, loc, decode, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(pick.thenBlock());
    emulateDecode();
    b.setInsertionPointToStart(pick.elseBlock());
    emulateRows();
  } else if (hasRows()) {
    emulateRows();
  } else {
    emulateDecode();
  }
}

void AttentionBuilder::emulateRows() {
  if (mma)
    return emulateMmaRows();
  SmallVector<Value> tiles;
  for (Type type : tileTypes({}))
    tiles.push_back(memref::AllocOp::create(b, loc, cast<MemRefType>(type)));
  int64_t stateSize = Dv + 2;
  Value states = memref::AllocOp::create(
      b, loc, MemRefType::get({rows, stateSize}, b.getF32Type()));
  auto loadState = [&](Value t) {
    SmallVector<Value> s;
    for (int64_t e = 0; e < stateSize; ++e) {
      Value at = idx(e);
      s.push_back(memref::LoadOp::create(b, loc, states, ValueRange{t, at}));
    }
    return s;
  };
  auto storeState = [&](Value t, ValueRange s) {
    for (int64_t e = 0; e < stateSize; ++e) {
      Value at = idx(e);
      memref::StoreOp::create(b, loc, s[e], states, ValueRange{t, at});
    }
  };
  Value threads = idx(rows);
  Value qTiles = arith::CeilDivSIOp::create(b, loc, Sq, idx(rows));
  forLoop(BH, [&](Value bh) {
    Head hd = head(bh);
    forLoop(qTiles, [&](Value tile) {
      Value i0 = mul(tile, rows);
      forLoop(threads, [&](Value t) {
        stageQueries(tiles[0], t, hd, i0);
        storeState(t, initialState());
      });
      auto steps = forOp(keyEnd(i0), kKeys);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(steps.getBody());
        Value j0 = steps.getInductionVar();
        forLoop(threads,
                [&](Value t) { stageKeys(tiles[1], tiles[2], t, hd, j0); });
        forLoop(threads, [&](Value t) {
          storeState(t, step(tiles, t, hd, i0, j0, loadState(t)));
        });
      }
      forLoop(threads, [&](Value t) { writeRow(t, hd, i0, loadState(t)); });
    });
  });
  tiles.push_back(states);
  for (Value buf : tiles)
    memref::DeallocOp::create(b, loc, buf);
}
} // namespace mlir::kiln::gpu_attention

namespace {

struct KilnGpuAttention final
    : mlir::kiln::impl::KilnGpuAttentionBase<KilnGpuAttention> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp root = getOperation();
    SmallVector<kiln::UkernelOp> found;
    bool bad = false;
    root.walk([&](kiln::UkernelOp op) {
      if (!op.getResults().empty())
        return; // still on tensors: not this pass's input
      auto qt = dyn_cast<MemRefType>(op.getInputs().front().getType());
      auto vt = op.getInputs().size() > 2
                    ? dyn_cast<MemRefType>(op.getInputs()[2].getType())
                    : MemRefType();
      int64_t r = op.getIntParams().size() == 4 ? op.getIntParams()[3] : 0;
      auto headDimOk = [&](MemRefType t) {
        return t && t.getRank() == r && !t.isDynamicDim(r - 1) &&
               t.getDimSize(r - 1) >= 1 && t.getDimSize(r - 1) <= kMaxHeadDim;
      };
      if (op.getKernel() != "attention_f32" || (r != 3 && r != 4) ||
          op.getFloatParams().size() != 2 || !headDimOk(qt) || !headDimOk(vt)) {
        op.emitError("kiln-gpu-attention: the CUDA target has no kernel for "
                     "kiln.ukernel \"")
            << op.getKernel() << "\" with these operands";
        bad = true;
        return;
      }
      found.push_back(op);
    });
    if (bad)
      return signalPassFailure();
    if (found.empty())
      return;
    Type lowp;
    if (mma && precision == "fp16")
      lowp = Float16Type::get(&getContext());
    else if (mma && precision == "bf16")
      lowp = BFloat16Type::get(&getContext());
    else if (mma) {
      root.emitError("kiln-gpu-attention: mma needs precision fp16 or bf16, "
                     "got '")
          << precision << "'";
      return signalPassFailure();
    }
    kiln::declareCheckDim(root);
    OpBuilder b(&getContext());
    for (kiln::UkernelOp op : found) {
      b.setInsertionPoint(op);
      AttentionBuilder ab(b, op, lowp);
      if (emulate)
        ab.buildEmulation();
      else
        ab.buildLaunch();
      op->erase();
    }
  }
};

} // namespace
