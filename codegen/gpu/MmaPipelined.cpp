//===- MmaPipelined.cpp - the pipelined tensor-core matmul kernel ---------===//
//
// kiln-gpu-tile-matmuls' second tensor-core kernel (Gemm.h), for matmuls
// whose operands allow 16-byte vector loads. A block of 256 threads (8
// warps, 2 along M x 4 along N) computes a BM x BN tile of C (64 or 128
// each); warp (wm, wn) owns rows wm * BM/2 + [0, BM/2) and columns
// wn * BN/4 + [0, BN/4): FM = BM/32 tiles of 16 rows by FN = BN/32 tiles of
// 8 columns, 4 fp32 accumulators per thread each (the m16n8k16 C fragment:
// rows g, g + 8, columns 2q, 2q + 1; g = lane / 4, q = lane % 4).
//
// Steps of 32 along k through two shared buffers:
//   As[2][BM][32 + 8] (k contiguous: A's fragments are pairs along k),
//   Bs[2][32][BN + 8] (n contiguous, as B is stored; a B fragment register
//   is two values from rows 2q, 2q + 1 of one column).
// Each thread's share of a step is BM / 32 vector<4xf32> loads of A and
// BN / 64 vector<8xf16|bf16> (or BN / 32 vector<4xf32>) loads of B, rows
// clamped inside the operand and zeroed outside it. Step s:
//   load step s + 1 into registers; mma.sync over buffer s % 2 (2 k-steps
//   of 16, FM x FN each); round and store the loads into buffer
//   (s + 1) % 2; barrier.
// The loads of step s + 1 are in flight while the tensor cores run step s,
// and one barrier per step suffices: buffer (s + 1) % 2 was last read in
// step s - 1, which every warp finished before step s's barrier. The
// epilogue is the 64 x 64 kernel's (accumulateAt) for each accumulator.
//
// Split k (tile.split = S > 1; K and N static, K at least 256 S and at
// least 2 N: deep, narrow matmuls such as a transformer's FFN down
// projection, whose partials cost little next to the operands): grid z is
// batch x S; block z runs part z % S of k's steps (ceil(steps / S) each,
// the last part fewer) and stores its accumulators as they are into a
// partial buffer P [batch x S, M, N] allocated before the launch. A second
// launch, a thread per element of C, adds P's S values in order and ends
// as the one-kernel epilogue does. More blocks for a matmul with few tiles
// and a long k, for 2 x S x M x N x 4 bytes of partials.
//
// With `emulate` each thread runs the same loads, stores and buffer
// indices as CPU code, and computes its accumulators as dot products over
// the staged tiles (mma.sync's fragment order is the 64 x 64 kernel's,
// checked on a GPU by scripts/gpu_check.py).
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/Gemm.h"
#include "codegen/gpu/Loops.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::kiln::gpu_gemm;

namespace {

constexpr int64_t kStep = 32;   // k per step
constexpr int64_t kPad = 8;     // values of padding per shared row
constexpr int64_t kThreads = 256;
constexpr int64_t kWarpsN = 4;  // warps along N (2 along M)
constexpr int64_t kVecBytes = 16;
constexpr int64_t kSplitMinK = 256; // k per split part, at least

/// Values of `mem`'s element type per 16-byte vector.
int64_t vectorOf(Value mem) {
  auto t = cast<MemRefType>(mem.getType());
  return kVecBytes / (t.getElementTypeBitWidth() / 8);
}

/// Whether every `vec`-value vector load along `mem`'s rows starting at a
/// multiple of `vec` stays aligned (to `vec` values) and inside its row.
bool vectorRows(Value mem, int64_t vec) {
  auto t = cast<MemRefType>(mem.getType());
  int64_t rank = t.getRank();
  int64_t inner = t.getDimSize(rank - 1);
  if (ShapedType::isDynamic(inner) || inner == 0 || inner % vec != 0)
    return false;
  if (t.getLayout().isIdentity())
    return true; // every stride a multiple of the innermost size
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(t.getStridesAndOffset(strides, offset)) ||
      strides[rank - 1] != 1 || ShapedType::isDynamic(offset) ||
      offset % vec != 0)
    return false;
  for (int64_t i = 0; i + 1 < rank; ++i)
    if (ShapedType::isDynamic(strides[i]) || strides[i] % vec != 0)
      return false;
  return true;
}

/// One thread's vector load of a step, kept until it is stored.
struct Staged {
  Value value, inside; // the loaded vector, whether it lies in the operand
  Value row, col;      // where it goes in the step's shared tile
};

class PipelinedBuilder : public kiln::gpu_loops::IndexOps {
public:
  PipelinedBuilder(OpBuilder &b, const Gemm &g, Type lowp, MmaTile tile,
                   bool emulate)
      : IndexOps(b, g.loc), g(g), lowp(lowp), bm(tile.rows), bn(tile.cols),
        ldmatrix(tile.ldmatrix), emulate(emulate) {
    // Deep, narrow matmuls only (k at least twice n): there the partials'
    // traffic (2 S M N values) stays small next to the operands' and the
    // tiles are few for their work.
    int64_t k = cast<MemRefType>(g.a.getType()).getDimSize(g.batched ? 2 : 1);
    int64_t n = cast<MemRefType>(g.b.getType()).getDimSize(g.batched ? 2 : 1);
    if (tile.split > 1 && !ShapedType::isDynamic(k) &&
        !ShapedType::isDynamic(n) && k >= kSplitMinK * tile.split && k >= 2 * n)
      split = tile.split;
  }

  void build() { emulate ? buildEmulation() : buildLaunch(); }

private:
  const Gemm &g;
  Type lowp;
  int64_t bm, bn;
  bool ldmatrix, emulate;
  int64_t split = 1; // blocks per tile along k
  Value M, N, K, batch;
  Value partial; // split > 1: [batch x split, M, N] f32 partial tiles

  int64_t fragsM() const { return bm / 32; } // 16-row tiles per warp
  int64_t fragsN() const { return bn / 32; } // 8-column tiles per warp
  int64_t outputs() const { return fragsM() * fragsN() * 4; }

  Value both(Value x, Value y) { return arith::AndIOp::create(b, loc, x, y); }
  Value min(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value dim(Value mem, int64_t i) {
    return memref::DimOp::create(b, loc, mem, i + (g.batched ? 1 : 0));
  }
  llvm::MaybeAlign align(int64_t bytes) {
    return emulate ? llvm::MaybeAlign() : llvm::MaybeAlign(bytes);
  }
  SmallVector<Value> at(Value bat, Value r, Value c) {
    SmallVector<Value> v;
    if (g.batched)
      v.push_back(bat);
    v.append({r, c});
    return v;
  }

  void readSizes() {
    M = dim(g.c, 0);
    N = dim(g.c, 1);
    K = dim(g.a, 1);
    batch = g.batched ? memref::DimOp::create(b, loc, g.c, 0).getResult()
                      : idx(1);
  }

  MemRefType tileA(Attribute space) {
    return MemRefType::get({2, bm, kStep + kPad}, lowp,
                           MemRefLayoutAttrInterface{}, space);
  }
  MemRefType tileB(Attribute space) {
    return MemRefType::get({2, kStep, bn + kPad}, lowp,
                           MemRefLayoutAttrInterface{}, space);
  }

  /// A vector of `mem` at (r, c) with r, c clamped to the last full vector
  /// of the operand (rows < R, columns < C, C a multiple of the width).
  Staged loadVector(Value mem, Value bat, Value r, Value R, Value c, Value C,
                    int64_t width, Value row, Value col) {
    Value rc = min(r, sub(R, 1)), cc = min(c, sub(C, width));
    auto type = VectorType::get(
        {width}, cast<MemRefType>(mem.getType()).getElementType());
    Value v = vector::LoadOp::create(b, loc, type, mem, at(bat, rc, cc),
                                     /*nontemporal=*/false, align(kVecBytes));
    Value rIn = lt(r, R);
    Value cIn = lt(c, C);
    return {v, both(rIn, cIn), row, col};
  }

  /// Thread t's loads of the step at k0: A's rows then B's.
  SmallVector<Staged> loadStep(Value t, Value k0, Value bat, Value m0,
                               Value n0) {
    SmallVector<Staged> out;
    int64_t perRowA = kStep / 4;
    for (int64_t r = 0; r < bm * perRowA / kThreads; ++r) {
      Value i = add(t, r * kThreads);
      Value row = div(i, perRowA), col = mul(rem(i, perRowA), 4);
      Value gr = add(m0, row), gc = add(k0, col);
      out.push_back(loadVector(g.a, bat, gr, M, gc, K, 4, row, col));
    }
    int64_t vecB = vectorOf(g.b), perRowB = bn / vecB;
    for (int64_t r = 0; r < kStep * perRowB / kThreads; ++r) {
      Value i = add(t, r * kThreads);
      Value row = div(i, perRowB), col = mul(rem(i, perRowB), vecB);
      Value gr = add(k0, row), gc = add(n0, col);
      out.push_back(loadVector(g.b, bat, gr, K, gc, N, vecB, row, col));
    }
    return out;
  }

  /// The loads, zeroed outside the operands and rounded, into buffer `buf`.
  void storeStep(ArrayRef<Staged> staged, Value As, Value Bs, Value buf) {
    int64_t numA = bm * (kStep / 4) / kThreads;
    for (auto [i, s] : llvm::enumerate(staged)) {
      auto type = cast<VectorType>(s.value.getType());
      Value zero = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(
                      type, b.getFloatAttr(type.getElementType(), 0)));
      Value v = arith::SelectOp::create(b, loc, s.inside, s.value, zero);
      if (type.getElementType() != lowp)
        v = arith::TruncFOp::create(
            b, loc, VectorType::get(type.getShape(), lowp), v);
      int64_t bytes = type.getNumElements() * 2;
      vector::StoreOp::create(b, loc, v, (int64_t)i < numA ? As : Bs,
                              ValueRange{buf, s.row, s.col},
                              /*nontemporal=*/false, align(bytes));
    }
  }

  /// Thread t's warp coordinates: (first row, first column) of its part of
  /// the tile, and its lane's g and q.
  struct Lane {
    Value row0, col0, g, q, lane;
  };
  Lane laneOf(Value t) {
    Value lane = rem(t, 32), w = div(t, 32);
    return {mul(div(w, kWarpsN), bm / 2), mul(rem(w, kWarpsN), bn / kWarpsN),
            div(lane, 4), rem(lane, 4), lane};
  }

  /// The tile coordinates of thread t's accumulator e = 4 (fm FN + fn) +
  /// 2 reg + elem.
  std::pair<Value, Value> outputAt(const Lane &l, int64_t e) {
    int64_t f = e / 4, fm = f / fragsN(), fn = f % fragsN();
    int64_t reg = (e / 2) % 2, elem = e % 2;
    Value row = add(add(l.row0, l.g), fm * 16 + 8 * reg);
    Value col = add(add(l.col0, mul(l.q, 2)), fn * 8 + elem);
    return {row, col};
  }

  /// A fragment register: two values (vector<2xf16>, or for bf16 an i32).
  Value fragment(Value pair) {
    if (lowp.isF16())
      return pair;
    auto asInt = vector::BitCastOp::create(
        b, loc, VectorType::get({1}, b.getI32Type()), pair);
    return vector::ExtractOp::create(b, loc, asInt, ArrayRef<int64_t>{0});
  }

  /// ldmatrix.x4 of `tile` (buffer `buf`): lane l gives the address of
  /// row l % 8 of matrix l / 8, matrix m at (row0 + 8 (m % 2), col0 +
  /// 8 (m / 2)); the four registers of the result, as fragments.
  SmallVector<Value> ldmatrix4(Value tile, Value buf, Value row0, Value col0,
                               const Lane &l, bool transpose) {
    Value m = div(l.lane, 8);
    Value inMatrix = add(row0, rem(l.lane, 8));
    Value row = add(inMatrix, mul(rem(m, 2), 8));
    Value col = add(col0, mul(div(m, 2), 8));
    auto type = VectorType::get({4, 2}, lowp);
    Value v = nvgpu::LdMatrixOp::create(b, loc, type, tile,
                                        ValueRange{buf, row, col}, transpose,
                                        /*numTiles=*/4);
    SmallVector<Value> regs;
    for (int64_t r = 0; r < 4; ++r)
      regs.push_back(fragment(
          vector::ExtractOp::create(b, loc, v, ArrayRef<int64_t>{r})));
    return regs;
  }

  /// The GPU's step: FM x FN mma.sync per 16 of k, over buffer `buf`.
  SmallVector<Value> computeMma(Value As, Value Bs, Value buf, const Lane &l,
                                ValueRange acc) {
    auto f32 = b.getF32Type();
    auto result = LLVM::LLVMStructType::getLiteral(b.getContext(),
                                                   {f32, f32, f32, f32});
    NVVM::MMATypes type =
        lowp.isF16() ? NVVM::MMATypes::f16 : NVVM::MMATypes::bf16;
    auto pairType = VectorType::get({2}, lowp);
    Value q2 = mul(l.q, 2);
    SmallVector<Value> out(acc);
    for (int64_t ks = 0; ks < kStep; ks += 16) {
      // A: (row g, k 2q), (g + 8, 2q), (g, 2q + 8), (g + 8, 2q + 8).
      SmallVector<SmallVector<Value>> a(fragsM());
      SmallVector<SmallVector<Value>> bf(fragsN());
      if (ldmatrix) {
        // A's four 8 x 8 matrices in that order; B's (k 0-7 | 8-15) x
        // (n 0-7 | 8-15) transposed: b0, b1 of two 8-column tiles.
        for (int64_t fm = 0; fm < fragsM(); ++fm) {
          Value row0 = add(l.row0, fm * 16);
          a[fm] = ldmatrix4(As, buf, row0, idx(ks), l, false);
        }
        for (int64_t fn = 0; fn < fragsN(); fn += 2) {
          Value k0 = idx(ks);
          auto regs = ldmatrix4(Bs, buf, k0, add(l.col0, fn * 8), l, true);
          bf[fn] = {regs[0], regs[1]};
          bf[fn + 1] = {regs[2], regs[3]};
        }
      }
      for (int64_t fm = 0; fm < fragsM() && !ldmatrix; ++fm) {
        Value r0 = add(add(l.row0, l.g), fm * 16);
        for (int64_t r = 0; r < 4; ++r) {
          Value pair = vector::LoadOp::create(
              b, loc, pairType, As,
              ValueRange{buf, add(r0, 8 * (r % 2)), add(q2, ks + 8 * (r / 2))});
          a[fm].push_back(fragment(pair));
        }
      }
      // B: column g, rows (2q, 2q + 1) and (2q + 8, 2q + 9).
      for (int64_t fn = 0; fn < fragsN() && !ldmatrix; ++fn) {
        Value n = add(add(l.col0, l.g), fn * 8);
        for (int64_t half = 0; half < 2; ++half) {
          Value k = add(q2, ks + 8 * half);
          Value x = memref::LoadOp::create(b, loc, Bs, ValueRange{buf, k, n});
          Value y = memref::LoadOp::create(b, loc, Bs,
                                           ValueRange{buf, add(k, 1), n});
          bf[fn].push_back(fragment(
              vector::FromElementsOp::create(b, loc, pairType, ValueRange{x, y})));
        }
      }
      for (int64_t fm = 0; fm < fragsM(); ++fm)
        for (int64_t fn = 0; fn < fragsN(); ++fn) {
          int64_t f = 4 * (fm * fragsN() + fn);
          auto mma = NVVM::MmaOp::create(
              b, loc, result, a[fm], bf[fn], ArrayRef<Value>(out).slice(f, 4),
              ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
              std::array<NVVM::MMATypes, 2>{type, type},
              std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                             NVVM::MMALayout::col});
          for (int64_t r = 0; r < 4; ++r)
            out[f + r] = LLVM::ExtractValueOp::create(
                b, loc, mma.getResult(), ArrayRef<int64_t>{r});
        }
    }
    return out;
  }

  /// The emulation's step: each accumulator's dot product over buffer
  /// `buf`'s (rounded) values.
  SmallVector<Value> computeDots(Value As, Value Bs, Value buf, const Lane &l,
                                 ValueRange acc) {
    SmallVector<Value> out;
    auto f32 = b.getF32Type();
    for (int64_t e = 0; e < outputs(); ++e) {
      auto [row, col] = outputAt(l, e);
      auto loop = kiln::gpu_loops::forFromZero(b, loc, idx(kStep), 1,
                                               ValueRange{acc[e]});
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value kk = loop.getInductionVar();
      Value x = memref::LoadOp::create(b, loc, As, ValueRange{buf, row, kk});
      Value y = memref::LoadOp::create(b, loc, Bs, ValueRange{buf, kk, col});
      x = arith::ExtFOp::create(b, loc, f32, x);
      y = arith::ExtFOp::create(b, loc, f32, y);
      Value sum = math::FmaOp::create(b, loc, x, y, loop.getRegionIterArgs()[0]);
      scf::YieldOp::create(b, loc, ValueRange{sum});
      out.push_back(loop.getResult(0));
    }
    return out;
  }

  /// The end of a block's run, for each accumulator inside C: C (+)= it
  /// through the epilogue, or (split) it as it is into block z's partial
  /// tile.
  void finish(const Lane &l, Value z, Value bat, Value m0, Value n0,
              ValueRange acc) {
    for (int64_t e = 0; e < outputs(); ++e) {
      auto [row, col] = outputAt(l, e);
      Value m = add(m0, row), n = add(n0, col);
      Value mIn = lt(m, M);
      Value nIn = lt(n, N);
      auto guard = scf::IfOp::create(b, loc, both(mIn, nIn),
                                     /*withElse=*/false);
      OpBuilder::InsertionGuard ig(b);
      b.setInsertionPointToStart(guard.thenBlock());
      if (split > 1)
        memref::StoreOp::create(b, loc, acc[e], partial, ValueRange{z, m, n});
      else
        accumulateAt(b, g, at(bat, m, n), acc[e]);
    }
  }

  /// C[bat, m, n] from the partial tiles: their sum in order, through the
  /// one-kernel epilogue.
  void addPartials(Value bat, Value m, Value n) {
    Value sum;
    for (int64_t p = 0; p < split; ++p) {
      Value z = add(mul(bat, split), p);
      Value v = memref::LoadOp::create(b, loc, partial, ValueRange{z, m, n});
      sum = sum ? arith::AddFOp::create(b, loc, sum, v).getResult() : v;
    }
    accumulateAt(b, g, at(bat, m, n), sum);
  }

  /// Grid z (batch x split) as the batch index and the split part.
  std::pair<Value, Value> batchAndPart(Value z) {
    if (split == 1)
      return {z, idx(0)};
    return {div(z, split), rem(z, split)};
  }

  /// Part `part`'s steps: the first and how many.
  std::pair<Value, Value> stepsOf(Value part) {
    if (split == 1)
      return {idx(0), steps()};
    Value all = steps();
    Value per = arith::CeilDivSIOp::create(b, loc, all, idx(split));
    Value first = arith::MulIOp::create(b, loc, part, per);
    Value left = arith::SubIOp::create(b, loc, all, first);
    Value count = arith::MaxSIOp::create(b, loc, min(per, left), idx(0));
    return {first, count};
  }

  /// Grid z (batch x split); with split > 1 the partial buffer, allocated
  /// here, before the launch, and freed at the end of the block (after the
  /// run's last synchronization, where the buffers of the function's other
  /// launches are freed; the emulation frees it after its adding loops).
  Value gridZWithPartials() {
    if (split == 1)
      return batch;
    Value gridZ = mul(batch, split);
    auto type = MemRefType::get(
        {ShapedType::kDynamic, ShapedType::kDynamic, ShapedType::kDynamic},
        b.getF32Type());
    partial = memref::AllocOp::create(b, loc, type,
                                      ValueRange{gridZ, M, N});
    if (!emulate) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(b.getInsertionBlock()->getTerminator());
      memref::DeallocOp::create(b, loc, partial);
    }
    return gridZ;
  }

  /// split > 1: the second kernel, a thread per element of C.
  void buildAddLaunch() {
    Value total = arith::MulIOp::create(b, loc, M, N);
    Value blocks = tiles(total, kThreads), one = idx(1);
    OpBuilder::InsertionGuard guard(b);
    auto launch = kiln::gpu_loops::launchAtBody(b, loc, blocks, one, batch,
                                                idx(kThreads));
    Value i = add(mul(launch.getBlockIds().x, kThreads),
                  launch.getThreadIds().x);
    auto inside = scf::IfOp::create(b, loc, lt(i, total), /*withElse=*/false);
    b.setInsertionPointToStart(inside.thenBlock());
    Value m = arith::DivUIOp::create(b, loc, i, N);
    Value n = arith::RemUIOp::create(b, loc, i, N);
    addPartials(launch.getBlockIds().z, m, n);
  }

  Value steps() {
    return arith::CeilDivSIOp::create(b, loc, K, idx(kStep));
  }
  Value tiles(Value n, int64_t size) {
    return arith::CeilDivSIOp::create(b, loc, n, idx(size));
  }
  Value f32Zero() {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  }

  void buildLaunch() {
    readSizes();
    auto shared = gpu::AddressSpaceAttr::get(b.getContext(),
                                             gpu::AddressSpace::Workgroup);
    Value gridZ = gridZWithPartials();
    Value gridX = tiles(N, bn);
    Value gridY = tiles(M, bm);
    Value threads = idx(kThreads);
    {
      OpBuilder::InsertionGuard guard(b);
      auto launch = kiln::gpu_loops::launchAtBody(
          b, loc, gridX, gridY, gridZ, threads,
          TypeRange{tileA(shared), tileB(shared)});
      Value As = launch.getWorkgroupAttributions()[0];
      Value Bs = launch.getWorkgroupAttributions()[1];
      gpu::KernelDim3 block = launch.getBlockIds();
      Value t = launch.getThreadIds().x;
      Value m0 = mul(block.y, bm), n0 = mul(block.x, bn);
      auto [bat, part] = batchAndPart(block.z);
      auto [first, count] = stepsOf(part);
      Lane l = laneOf(t);
      Value zero = idx(0);
      storeStep(loadStep(t, mul(first, kStep), bat, m0, n0), As, Bs, zero);
      gpu::BarrierOp::create(b, loc);
      SmallVector<Value> init(outputs(), f32Zero());
      auto loop = kiln::gpu_loops::forFromZero(b, loc, count, 1, init);
      {
        OpBuilder::InsertionGuard g2(b);
        b.setInsertionPointToStart(loop.getBody());
        Value s = loop.getInductionVar();
        Value buf = rem(s, 2), other = rem(add(s, 1), 2);
        SmallVector<Staged> next =
            loadStep(t, mul(add(add(first, s), 1), kStep), bat, m0, n0);
        SmallVector<Value> acc =
            computeMma(As, Bs, buf, l, loop.getRegionIterArgs());
        storeStep(next, As, Bs, other);
        gpu::BarrierOp::create(b, loc);
        scf::YieldOp::create(b, loc, acc);
      }
      finish(l, block.z, bat, m0, n0, loop.getResults());
    }
    if (split > 1)
      buildAddLaunch();
  }

  void forEach(Value n, function_ref<void(Value)> body) {
    kiln::gpu_loops::forEach(b, loc, n, body);
  }

  void buildEmulation() {
    readSizes();
    Value gridZ = gridZWithPartials();
    Value As = memref::AllocOp::create(b, loc, tileA({}));
    Value Bs = memref::AllocOp::create(b, loc, tileB({}));
    kiln::gpu_loops::EmulatedRegisters accs(b, loc, kThreads, outputs());
    Value threads = idx(kThreads);
    forEach(gridZ, [&](Value z) {
      auto [bat, part] = batchAndPart(z);
      auto [first, count] = stepsOf(part);
      forEach(tiles(M, bm), [&](Value by) {
        forEach(tiles(N, bn), [&](Value bx) {
          Value m0 = mul(by, bm), n0 = mul(bx, bn);
          forEach(threads, [&](Value t) {
            accs.store(t, SmallVector<Value>(outputs(), f32Zero()));
            Value zero = idx(0);
            storeStep(loadStep(t, mul(first, kStep), bat, m0, n0), As, Bs,
                      zero);
          });
          forEach(count, [&](Value s) {
            Value buf = rem(s, 2), other = rem(add(s, 1), 2);
            // Thread by thread: a thread's stores go to the buffer no
            // thread reads in this step.
            forEach(threads, [&](Value t) {
              SmallVector<Staged> next = loadStep(
                  t, mul(add(add(first, s), 1), kStep), bat, m0, n0);
              Lane l = laneOf(t);
              SmallVector<Value> acc = accs.load(t);
              accs.store(t, computeDots(As, Bs, buf, l, acc));
              storeStep(next, As, Bs, other);
            });
          });
          forEach(threads, [&](Value t) {
            Lane l = laneOf(t);
            finish(l, z, bat, m0, n0, accs.load(t));
          });
        });
      });
    });
    for (Value v : {As, Bs})
      memref::DeallocOp::create(b, loc, v);
    accs.release();
    if (split == 1)
      return;
    forEach(batch, [&](Value bat) {
      forEach(M, [&](Value m) {
        forEach(N, [&](Value n) { addPartials(bat, m, n); });
      });
    });
    memref::DeallocOp::create(b, loc, partial);
  }
};

} // namespace

bool mlir::kiln::gpu_gemm::pipelinedFits(const Gemm &g, Type lowp) {
  Type bt = cast<MemRefType>(g.b.getType()).getElementType();
  return lowp && (bt.isF32() || bt == lowp) && vectorRows(g.a, 4) &&
         vectorRows(g.b, vectorOf(g.b));
}

void mlir::kiln::gpu_gemm::buildPipelined(OpBuilder &b, const Gemm &g,
                                          Type lowp, MmaTile tile,
                                          bool emulate) {
  PipelinedBuilder(b, g, lowp, tile, emulate).build();
}
