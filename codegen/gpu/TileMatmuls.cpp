//===- TileMatmuls.cpp - the kiln-gpu-tile-matmuls pass -------------------===//
//
// An f32 linalg.matmul / batch_matmul on buffers becomes one kernel with
// shared-memory tiles (the generic path gives every output element its own
// thread and a loop over k from global memory). A block of 256 threads
// computes a 64 x 64 tile of C, 16 outputs per thread kept in registers;
// the block stages a step of k of A and B in shared memory (zeros outside
// the operands), with a barrier after staging and after the products; the
// epilogue adds the tile to C (linalg.matmul accumulates), guarded. An
// elementwise writer of C or a linalg.fill of C right before the matmul
// (bias, zeros) and an elementwise reader of C after it (activation,
// residual; in place or not) are computed in the epilogue and go.
//   - fp32 (CUDA cores): 16 x 16 threads, thread (tx, ty) owns rows
//     ty + 16 i and columns tx + 16 j; steps of 16 along k, A staged
//     k-major with a column of padding against bank conflicts.
//   - fp16 / bf16 (tensor cores, sm_80+): operands rounded when staged
//     (steps of 32 along k, both tiles k-contiguous with 8 values of
//     padding), 8 warps of 16 x 32 outputs each, 4 mma.sync m16n8k16 per
//     16 of k (nvvm.mma.sync: nvgpu's lowering has no bf16), fp32
//     accumulation. Lane l holds the PTX ISA's fragments:
//     A rows g, g + 8 and columns 2q, 2q + 1 (+ 8), B column g and rows 2q,
//     2q + 1 (+ 8), C rows g, g + 8 and columns 2q, 2q + 1, g = l / 4,
//     q = l % 4.
// With `emulate`, the same steps run as CPU loops: blocks and threads
// sequential, each barrier a split between loops over the threads, the
// register tiles in a buffer. For fp32 each thread runs the GPU's own
// product step; for the tensor-core kernels each thread computes its 16
// outputs (the C fragments' coordinates) as dot products over the staged,
// rounded tiles: that checks the staging, the rounding, the warp tiling
// and the epilogue, but not the A/B fragment order of mma.sync itself
// (only a GPU can).
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/BufferEffects.h"
#include "codegen/cpu/WeightPacker.h"
#include "codegen/gpu/ConstantWeights.h"
#include "codegen/gpu/Gemm.h"
#include "codegen/gpu/Loops.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUTILEMATMULS
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using mlir::kiln::gpu_gemm::Gemm;

namespace {

/// An elementwise op's value at C's indices `at`: its inputs loaded
/// through their maps (C itself read as `cValue`), its body cloned.
Value applyAt(OpBuilder &b, Location loc, const Gemm &g,
              linalg::GenericOp gen, ArrayRef<Value> at, Value cValue = {}) {
  IRMapping map;
  for (OpOperand *in : gen.getDpsInputOperands()) {
    Value v = in->get();
    if (cValue && v == g.c) {
      v = cValue;
    } else if (isa<MemRefType>(v.getType())) {
      SmallVector<Value> idx;
      for (AffineExpr e : gen.getMatchingIndexingMap(in).getResults())
        idx.push_back(at[cast<AffineDimExpr>(e).getPosition()]);
      v = memref::LoadOp::create(b, loc, v, idx);
    }
    map.map(gen.getMatchingBlockArgument(in), v);
  }
  for (Operation &op : gen.getBody()->without_terminator())
    b.clone(op, map);
  auto yield = cast<linalg::YieldOp>(gen.getBody()->getTerminator());
  return map.lookupOrDefault(yield.getValues()[0]);
}

} // namespace

void mlir::kiln::gpu_gemm::accumulateAt(OpBuilder &b, const Gemm &g,
                                        ArrayRef<Value> at, Value acc) {
  Location loc = g.loc;
  Value old;
  if (g.prologue)
    old = applyAt(b, loc, g, g.prologue, at);
  else if (g.fill)
    old = linalg::FillOp(g.fill).getInputs()[0];
  else
    old = memref::LoadOp::create(b, loc, g.c, at);
  Value sum = arith::AddFOp::create(b, loc, old, acc);
  if (linalg::GenericOp epi = g.epilogue)
    memref::StoreOp::create(b, loc, applyAt(b, loc, g, epi, at, sum),
                            epi.getDpsInitOperand(0)->get(), at);
  else
    memref::StoreOp::create(b, loc, sum, g.c, at);
}

namespace {

constexpr int64_t kTile = 64;     // rows and columns of C per block
constexpr int64_t kThreads = 256; // per block
constexpr int64_t kOut = 16;      // outputs of C per thread
constexpr int64_t kSide = 16;     // fp32: threads per block side
constexpr int64_t kPad = 8;       // tensor cores: padding of a tile row

class KernelBuilder : public kiln::gpu_loops::IndexOps {
public:
  /// lowp: null for the fp32 kernel, else f16 or bf16 (tensor cores).
  KernelBuilder(OpBuilder &b, const Gemm &g, Type lowp)
      : IndexOps(b, g.loc), g(g), lowp(lowp) {}

  Value dim(Value mem, int64_t i) {
    return memref::DimOp::create(b, loc, mem, i + (g.batched ? 1 : 0));
  }
  Value f32Zero() {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  }

  int64_t stepK() const { return lowp ? 32 : 16; }

  scf::ForOp forOp(Value ub, int64_t step, ValueRange iterArgs = {}) {
    return kiln::gpu_loops::forFromZero(b, loc, ub, step, iterArgs);
  }

  /// Sizes, read once before the kernel (or the emulating loops).
  void readSizes() {
    M = dim(g.c, 0);
    N = dim(g.c, 1);
    K = dim(g.a, 1);
    batch = g.batched ? memref::DimOp::create(b, loc, g.c, 0).getResult()
                      : idx(1);
  }

  Value ceilTiles(Value n) {
    return arith::CeilDivSIOp::create(b, loc, n, idx(kTile));
  }

  /// The shared tiles: fp32 A [k][m + 1], B [k][n]; tensor cores A [m][k],
  /// B [n][k] (k contiguous, as the fragments read them), padded rows.
  MemRefType tileType(bool isA, Attribute space) {
    if (!lowp)
      return MemRefType::get({stepK(), kTile + (isA ? 1 : 0)}, b.getF32Type(),
                             MemRefLayoutAttrInterface{}, space);
    return MemRefType::get({kTile, stepK() + kPad}, lowp,
                           MemRefLayoutAttrInterface{}, space);
  }

  /// A[bat, min(r, R-1), min(c, C-1)], or 0 when (r, c) is outside.
  Value guardedLoad(Value mem, Value bat, Value r, Value R, Value c,
                    Value C) {
    Value one = idx(1);
    Value rc = arith::MinSIOp::create(b, loc, r,
                                      arith::SubIOp::create(b, loc, R, one));
    Value cc = arith::MinSIOp::create(b, loc, c,
                                      arith::SubIOp::create(b, loc, C, one));
    SmallVector<Value> at;
    if (g.batched)
      at.push_back(bat);
    at.append({rc, cc});
    Value v = memref::LoadOp::create(b, loc, mem, at);
    Value rIn = lt(r, R), cIn = lt(c, C);
    Value in = arith::AndIOp::create(b, loc, rIn, cIn);
    // Weights stored in fp16 / bf16 are staged as they are.
    Type elt = v.getType();
    Value zero = arith::ConstantOp::create(b, loc, b.getFloatAttr(elt, 0));
    v = arith::SelectOp::create(b, loc, in, v, zero);
    return lowp && elt != lowp ? arith::TruncFOp::create(b, loc, lowp, v).getResult()
                               : v;
  }

  /// Thread t's share of staging the k0 step of A and B.
  void loadTiles(Value As, Value Bs, Value t, Value k0, Value bat, Value m0,
                 Value n0) {
    for (int64_t r = 0; r < kTile * stepK() / kThreads; ++r) {
      Value i = add(t, r * kThreads);
      // A: 64 rows x stepK, k fastest in memory.
      Value row = div(i, stepK()), kk = rem(i, stepK());
      Value ra = add(m0, row), ca = add(k0, kk);
      Value va = guardedLoad(g.a, bat, ra, M, ca, K);
      memref::StoreOp::create(b, loc, va, As,
                              lowp ? ValueRange{row, kk} : ValueRange{kk, row});
      // B: stepK x 64 columns, columns fastest.
      Value kb = div(i, kTile), col = rem(i, kTile);
      Value rb = add(k0, kb), cb = add(n0, col);
      Value vb = guardedLoad(g.b, bat, rb, K, cb, N);
      memref::StoreOp::create(b, loc, vb, Bs,
                              lowp ? ValueRange{col, kb} : ValueRange{kb, col});
    }
  }

  /// The tile coordinates (row, column) of thread t's e-th output.
  std::pair<Value, Value> outputAt(Value t, int64_t e) {
    if (!lowp) {
      Value tx = rem(t, kSide), ty = div(t, kSide);
      return {add(ty, kSide * (e / 4)), add(tx, kSide * (e % 4))};
    }
    // e = 4 j + 2 reg + elem: tile j's C fragment register (reg, elem).
    Value lane = rem(t, 32), w = div(t, 32);
    Value gid = div(lane, 4), q = rem(lane, 4);
    int64_t j = e / 4, reg = (e / 2) % 2, elem = e % 2;
    Value row = add(add(mul(div(w, 2), 16), gid), 8 * reg);
    Value col = add(add(mul(rem(w, 2), 32), mul(q, 2)), 8 * j + elem);
    return {row, col};
  }

  /// fp32: thread t's register tile after one staged step (GPU and
  /// emulation alike).
  SmallVector<Value> computeSimt(Value As, Value Bs, Value t, ValueRange acc) {
    Value tx = rem(t, kSide), ty = div(t, kSide);
    auto loop = forOp(idx(stepK()), 1, acc);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value kk = loop.getInductionVar();
    SmallVector<Value> av, bv, out;
    for (int64_t i = 0; i < 4; ++i) {
      av.push_back(memref::LoadOp::create(b, loc, As,
                                          ValueRange{kk, add(ty, kSide * i)}));
      bv.push_back(memref::LoadOp::create(b, loc, Bs,
                                          ValueRange{kk, add(tx, kSide * i)}));
    }
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 4; ++j)
        out.push_back(math::FmaOp::create(b, loc, av[i], bv[j],
                                          loop.getRegionIterArgs()[i * 4 + j]));
    scf::YieldOp::create(b, loc, out);
    return SmallVector<Value>(loop.getResults());
  }

  /// Two consecutive values of a tile row, for a fragment register.
  Value pair(Value tile, Value row, Value col) {
    return vector::LoadOp::create(b, loc, VectorType::get({2}, lowp), tile,
                                  ValueRange{row, col});
  }

  /// A fragment register of two values: vector<2xf16> for f16; bf16 pairs
  /// go to mma.sync as i32.
  Value fragment(Value tile, Value row, Value col) {
    Value v = pair(tile, row, col);
    if (lowp.isF16())
      return v;
    auto asInt = vector::BitCastOp::create(
        b, loc, VectorType::get({1}, b.getI32Type()), v);
    return vector::ExtractOp::create(b, loc, asInt, ArrayRef<int64_t>{0});
  }

  /// Tensor cores on the GPU: thread t's accumulators (e = 4 j + 2 reg +
  /// elem: register 2 reg + elem of its warp's C fragment j) after one
  /// staged step, two mma.sync k-steps of 16.
  SmallVector<Value> computeMma(Value As, Value Bs, Value t, ValueRange acc) {
    Value lane = rem(t, 32), w = div(t, 32);
    Value gid = div(lane, 4), q2 = mul(rem(lane, 4), 2);
    Value rowA = add(mul(div(w, 2), 16), gid);
    Value colB = add(mul(rem(w, 2), 32), gid);
    auto f32 = b.getF32Type();
    auto result = LLVM::LLVMStructType::getLiteral(b.getContext(),
                                                   {f32, f32, f32, f32});
    NVVM::MMATypes type =
        lowp.isF16() ? NVVM::MMATypes::f16 : NVVM::MMATypes::bf16;
    SmallVector<Value> out(acc);
    for (int64_t ks = 0; ks < stepK(); ks += 16) {
      Value c0 = add(q2, ks), c1 = add(q2, ks + 8);
      Value rows[2] = {rowA, add(rowA, 8)};
      Value cols[2] = {c0, c1};
      // a0..a3: (row g, k 2q), (g + 8, 2q), (g, 2q + 8), (g + 8, 2q + 8).
      SmallVector<Value> a;
      for (int64_t r = 0; r < 4; ++r)
        a.push_back(fragment(As, rows[r % 2], cols[r / 2]));
      for (int64_t j = 0; j < 4; ++j) {
        // b0, b1: column g of the n8 tile, k 2q and 2q + 8.
        Value n = add(colB, 8 * j);
        Value bv[2] = {fragment(Bs, n, cols[0]), fragment(Bs, n, cols[1])};
        auto mma = NVVM::MmaOp::create(
            b, loc, result, a, ValueRange{bv[0], bv[1]},
            ArrayRef<Value>(out).slice(4 * j, 4), ArrayRef<int64_t>{16, 8, 16},
            std::nullopt, std::nullopt,
            std::array<NVVM::MMATypes, 2>{type, type},
            std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                           NVVM::MMALayout::col});
        for (int64_t r = 0; r < 4; ++r)
          out[4 * j + r] = LLVM::ExtractValueOp::create(b, loc, mma.getResult(),
                                                        ArrayRef<int64_t>{r});
      }
    }
    return out;
  }

  /// Tensor cores, emulated: thread t's 16 outputs as dot products over the
  /// staged (rounded) tiles.
  SmallVector<Value> computeDots(Value As, Value Bs, Value t, ValueRange acc) {
    SmallVector<Value> out;
    for (int64_t e = 0; e < kOut; ++e) {
      auto [row, col] = outputAt(t, e);
      auto loop = forOp(idx(stepK()), 1, ValueRange{acc[e]});
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value kk = loop.getInductionVar();
      auto f32 = b.getF32Type();
      Value x = memref::LoadOp::create(b, loc, As, ValueRange{row, kk});
      Value y = memref::LoadOp::create(b, loc, Bs, ValueRange{col, kk});
      x = arith::ExtFOp::create(b, loc, f32, x);
      y = arith::ExtFOp::create(b, loc, f32, y);
      scf::YieldOp::create(
          b, loc,
          ValueRange{math::FmaOp::create(b, loc, x, y,
                                         loop.getRegionIterArgs()[0])});
      out.push_back(loop.getResult(0));
    }
    return out;
  }

  /// C[bat, m, n] += acc[e] for thread t's outputs inside C.
  void store(Value t, Value bat, Value m0, Value n0, ValueRange acc) {
    for (int64_t e = 0; e < kOut; ++e) {
      auto [row, col] = outputAt(t, e);
      Value m = add(m0, row), n = add(n0, col);
      Value mIn = lt(m, M), nIn = lt(n, N);
      Value in = arith::AndIOp::create(b, loc, mIn, nIn);
      auto guard = scf::IfOp::create(b, loc, in, /*withElse=*/false);
      OpBuilder::InsertionGuard ig(b);
      b.setInsertionPointToStart(guard.thenBlock());
      SmallVector<Value> at;
      if (g.batched)
        at.push_back(bat);
      at.append({m, n});
      kiln::gpu_gemm::accumulateAt(b, g, at, acc[e]);
    }
  }

  /// The kernel: one gpu.launch, shared tiles as workgroup attributions.
  void buildLaunch() {
    readSizes();
    auto shared = gpu::AddressSpaceAttr::get(b.getContext(),
                                             gpu::AddressSpace::Workgroup);
    Value gridX = ceilTiles(N), gridY = ceilTiles(M), threads = idx(kThreads);
    OpBuilder::InsertionGuard guard(b);
    auto launch = kiln::gpu_loops::launchAtBody(
        b, loc, gridX, gridY, batch, threads,
        TypeRange{tileType(true, shared), tileType(false, shared)});
    Value As = launch.getWorkgroupAttributions()[0];
    Value Bs = launch.getWorkgroupAttributions()[1];
    gpu::KernelDim3 block = launch.getBlockIds();
    Value t = launch.getThreadIds().x;
    Value m0 = mul(block.y, kTile), n0 = mul(block.x, kTile), bat = block.z;
    SmallVector<Value> init(kOut, f32Zero());
    auto steps = forOp(K, stepK(), init);
    {
      OpBuilder::InsertionGuard g2(b);
      b.setInsertionPointToStart(steps.getBody());
      loadTiles(As, Bs, t, steps.getInductionVar(), bat, m0, n0);
      gpu::BarrierOp::create(b, loc);
      ValueRange acc = steps.getRegionIterArgs();
      SmallVector<Value> next = lowp ? computeMma(As, Bs, t, acc)
                                     : computeSimt(As, Bs, t, acc);
      gpu::BarrierOp::create(b, loc);
      scf::YieldOp::create(b, loc, next);
    }
    store(t, bat, m0, n0, steps.getResults());
  }

  void forLoop(Value n, function_ref<void(Value)> body) {
    kiln::gpu_loops::forEach(b, loc, n, body);
  }

  /// The same steps as CPU loops (--emulate-gpu).
  void buildEmulation() {
    readSizes();
    Value As = memref::AllocOp::create(b, loc, tileType(true, {}));
    Value Bs = memref::AllocOp::create(b, loc, tileType(false, {}));
    kiln::gpu_loops::EmulatedRegisters accs(b, loc, kThreads, kOut);
    Value threads = idx(kThreads);
    forLoop(batch, [&](Value bat) {
      forLoop(ceilTiles(M), [&](Value by) {
        forLoop(ceilTiles(N), [&](Value bx) {
          Value m0 = mul(by, kTile), n0 = mul(bx, kTile);
          forLoop(threads, [&](Value t) {
            accs.store(t, SmallVector<Value>(kOut, f32Zero()));
          });
          auto steps = forOp(K, stepK());
          {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPointToStart(steps.getBody());
            Value k0 = steps.getInductionVar();
            forLoop(threads, [&](Value t) {
              loadTiles(As, Bs, t, k0, bat, m0, n0);
            });
            forLoop(threads, [&](Value t) {
              SmallVector<Value> acc = accs.load(t);
              accs.store(t, lowp ? computeDots(As, Bs, t, acc)
                                 : computeSimt(As, Bs, t, acc));
            });
          }
          forLoop(threads, [&](Value t) { store(t, bat, m0, n0, accs.load(t)); });
        });
      });
    });
    for (Value v : {As, Bs})
      memref::DeallocOp::create(b, loc, v);
    accs.release();
  }

private:
  const Gemm &g;
  Type lowp;
  Value M, N, K, batch;
};

bool isF32Buffer(Value v) {
  auto t = dyn_cast<MemRefType>(v.getType());
  return t && t.getElementType().isF32();
}

/// Whether `gen` is elementwise over C's loops, writing all of its one
/// output (identity map) without reading it, with a pure body.
bool isElementwiseWriter(linalg::GenericOp gen, int64_t rank) {
  if (!gen || !gen.hasPureBufferSemantics() || gen.getNumDpsInits() != 1 ||
      gen.getNumLoops() != rank ||
      gen.getNumParallelLoops() != gen.getNumLoops() ||
      !gen.getMatchingIndexingMap(gen.getDpsInitOperand(0)).isIdentity() ||
      !gen.getRegionOutputArgs()[0].use_empty())
    return false;
  for (Operation &bodyOp : gen.getBody()->without_terminator())
    if (!isMemoryEffectFree(&bodyOp) || bodyOp.getNumRegions() != 0 ||
        isa<linalg::IndexOp>(bodyOp))
      return false;
  return true;
}

/// Whether `v` reads C's elements at C's indices: C itself, or a
/// memref.reshape of C to C's own type (identity layout).
bool sameElementsAsC(Value v, Value c) {
  if (v == c)
    return true;
  auto reshape = v.getDefiningOp<memref::ReshapeOp>();
  auto type = cast<MemRefType>(c.getType());
  return reshape && reshape.getSource() == c && v.getType() == type &&
         type.getLayout().isIdentity();
}

/// `op`'s previous op when it is an elementwise linalg.generic writing all
/// of C (identity map, parallel loops) without reading it (other than
/// element by element through C's own indices), with pure body
/// ops, inputs read through projected permutations, and no input in C's
/// buffer (C a fresh allocation).
linalg::GenericOp prologueOf(Operation *op, Value c) {
  auto gen = dyn_cast_or_null<linalg::GenericOp>(op->getPrevNode());
  if (!isElementwiseWriter(gen, cast<MemRefType>(c.getType()).getRank()) ||
      gen.getDpsInitOperand(0)->get() != c)
    return {};
  Value root = kiln::rootBuffer(c);
  if (!root.getDefiningOp<memref::AllocOp>())
    return {};
  for (OpOperand *in : gen.getDpsInputOperands()) {
    if (!isa<MemRefType>(in->get().getType()))
      continue;
    AffineMap map = gen.getMatchingIndexingMap(in);
    if (map.isIdentity() && sameElementsAsC(in->get(), c))
      continue; // C updated in place (a residual plus bias)
    if (!map.isProjectedPermutation() || kiln::rootBuffer(in->get()) == root)
      return {};
  }
  return gen;
}

/// `op`'s previous op when it is a linalg.fill of all of C (C a fresh
/// allocation) with an f32 scalar.
linalg::FillOp fillOf(Operation *op, Value c) {
  auto fill = dyn_cast_or_null<linalg::FillOp>(op->getPrevNode());
  if (!fill || !fill.hasPureBufferSemantics() ||
      fill.getOutputs()[0] != c || !fill.getInputs()[0].getType().isF32() ||
      !kiln::rootBuffer(c).getDefiningOp<memref::AllocOp>())
    return {};
  return fill;
}

/// `op`'s next op that touches memory, when it is an elementwise generic
/// reading C once with the identity map into a fresh allocation or into C
/// itself (in place: the same value, the identity map), C (an allocation)
/// read by nothing else, its other inputs in other buffers.
linalg::GenericOp epilogueOf(Operation *op, Value c, Operation *prologue) {
  if (!c.getDefiningOp<memref::AllocOp>())
    return {};
  Operation *next = op->getNextNode();
  while (next && next->getNumRegions() == 0 &&
         (isMemoryEffectFree(next) || isa<memref::AllocOp>(next)))
    next = next->getNextNode();
  auto gen = dyn_cast_or_null<linalg::GenericOp>(next);
  if (!isElementwiseWriter(gen, cast<MemRefType>(c.getType()).getRank()))
    return {};
  Value out = gen.getDpsInitOperand(0)->get();
  Value outRoot = kiln::rootBuffer(out);
  if (!outRoot.getDefiningOp<memref::AllocOp>() ||
      (outRoot == c && out != c))
    return {};
  int64_t readsC = 0;
  for (OpOperand *in : gen.getDpsInputOperands()) {
    Value v = in->get();
    if (!isa<MemRefType>(v.getType()))
      continue;
    AffineMap map = gen.getMatchingIndexingMap(in);
    if (v == c) {
      if (!map.isIdentity())
        return {};
      ++readsC;
      continue;
    }
    Value root = kiln::rootBuffer(v);
    if (!map.isProjectedPermutation() || root == c || root == outRoot)
      return {};
  }
  if (readsC != 1)
    return {};
  // In place, C ends with the epilogue's values, as the fused kernel leaves
  // it: later readers see the same. Else nothing else may read C.
  if (out == c)
    return gen;
  for (Operation *user : c.getUsers())
    if (user != op && user != gen.getOperation() &&
        user != prologue &&
        !isa<memref::DeallocOp>(user))
      return {};
  return gen;
}

/// The matmuls this kernel computes: f32 buffers, the default maps.
std::optional<Gemm> match(Operation *op, Type lowp,
                          llvm::SmallPtrSetImpl<Operation *> &claimed) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || !linalgOp.hasPureBufferSemantics())
    return std::nullopt;
  bool batched = isa<linalg::BatchMatmulOp>(op);
  if (!batched && !isa<linalg::MatmulOp>(op))
    return std::nullopt;
  SmallVector<AffineMap> defaults =
      batched ? linalg::BatchMatmulOp::getDefaultIndexingMaps(op->getContext())
              : linalg::MatmulOp::getDefaultIndexingMaps(op->getContext());
  if (linalgOp.getIndexingMapsArray() != defaults)
    return std::nullopt;
  Value a = op->getOperand(0), b = op->getOperand(1), c = op->getOperand(2);
  auto bt = dyn_cast<MemRefType>(b.getType());
  if (!isF32Buffer(a) || !isF32Buffer(c) || !bt ||
      !(bt.getElementType().isF32() || bt.getElementType() == lowp))
    return std::nullopt;
  // An op is one matmul's epilogue or another's prologue, not both.
  linalg::GenericOp prologue = prologueOf(op, c);
  if (prologue && !claimed.insert(prologue).second)
    prologue = {};
  linalg::FillOp fill = prologue ? linalg::FillOp() : fillOf(op, c);
  Operation *before =
      prologue ? prologue.getOperation() : fill.getOperation();
  linalg::GenericOp epilogue = epilogueOf(op, c, before);
  if (epilogue)
    claimed.insert(epilogue);
  return Gemm{a, b, c, batched, op->getLoc(), prologue, fill, epilogue};
}

struct KilnGpuTileMatmuls final
    : mlir::kiln::impl::KilnGpuTileMatmulsBase<KilnGpuTileMatmuls> {
  using Base::Base;
  void runOnOperation() override {
    OpBuilder b(&getContext());
    Type lowp;
    if (precision == "fp16")
      lowp = b.getF16Type();
    else if (precision == "bf16")
      lowp = b.getBF16Type();
    else if (precision != "fp32") {
      getOperation().emitError("kiln-gpu-tile-matmuls: precision must be "
                               "fp32, fp16 or bf16, got '")
          << precision << "'";
      return signalPassFailure();
    }
    kiln::gpu_gemm::MmaTile tile;
    tile.ldmatrix = mmaLdmatrix;
    if (!mmaTile.empty()) {
      auto [rows, cols] = StringRef(mmaTile).split('x');
      if (!lowp || rows.getAsInteger(10, tile.rows) ||
          cols.getAsInteger(10, tile.cols) ||
          !llvm::is_contained({64, 128}, tile.rows) ||
          !llvm::is_contained({64, 128}, tile.cols)) {
        getOperation().emitError("kiln-gpu-tile-matmuls: mma-tile must be "
                                 "ROWSxCOLS with 64 or 128 each, with "
                                 "precision fp16 or bf16; got '")
            << mmaTile << "' with precision " << precision;
        return signalPassFailure();
      }
    }
    if (splitK < 1 || splitK > 8 || (splitK > 1 && !tile)) {
      getOperation().emitError("kiln-gpu-tile-matmuls: split-k must be 1 "
                               "to 8, above 1 only with mma-tile; got ")
          << static_cast<int64_t>(splitK);
      return signalPassFailure();
    }
    tile.split = splitK;
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    kiln::cpu::WeightPacker packer(symbols, /*isaFlag=*/0, /*groupSize=*/0);
    for (func::FuncOp fn : module.getOps<func::FuncOp>())
      kiln::gpu_weights::useConstantWeights(fn, lowp, symbols, packer);
    packer.eraseUnusedOriginals(module);
    SmallVector<std::pair<Operation *, Gemm>> found;
    llvm::SmallPtrSet<Operation *, 8> claimed;
    module.walk([&](Operation *op) {
      if (op->getParentOfType<gpu::LaunchOp>())
        return;
      if (auto g = match(op, lowp, claimed))
        found.push_back({op, *g});
    });
    for (auto &[op, g] : found) {
      // After the matmul only allocations and pure ops come before the
      // epilogue: the kernel goes there, where its output exists.
      b.setInsertionPoint(g.epilogue ? g.epilogue.getOperation() : op);
      if (tile && kiln::gpu_gemm::pipelinedFits(g, lowp)) {
        kiln::gpu_gemm::buildPipelined(b, g, lowp, tile, emulate);
      } else {
        KernelBuilder kb(b, g, lowp);
        if (emulate)
          kb.buildEmulation();
        else
          kb.buildLaunch();
      }
      op->erase();
      for (Operation *fused : {g.prologue.getOperation(), g.fill.getOperation(),
                               g.epilogue.getOperation()})
        if (fused)
          fused->erase();
    }
  }
};

} // namespace
