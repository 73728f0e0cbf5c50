//===- TileMatmuls.cpp - the kiln-gpu-tile-matmuls pass -------------------===//
//
// An f32 linalg.matmul / batch_matmul on buffers becomes one kernel with
// shared-memory tiles (the generic path gives every output element its own
// thread and a loop over k from global memory):
//   - a block of 16 x 16 threads computes a 64 x 64 tile of C; each thread
//     keeps a 4 x 4 register tile (rows ty + 16 i, columns tx + 16 j, so
//     neighbouring threads touch neighbouring columns);
//   - per step of 16 along k the block stages A (k-major, one column of
//     padding against bank conflicts) and B in shared memory, 4 elements of
//     each per thread, out-of-range ones as zeros;
//   - the epilogue adds the tile to C (linalg.matmul accumulates), guarded.
// With `emulate`, the same per-thread steps run as CPU loops: blocks and
// threads sequential, each barrier a split between loops over the threads,
// the register tiles in a buffer. That checks the tiling numerically on a
// machine without a GPU.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUTILEMATMULS
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

constexpr int64_t kTile = 64;   // rows and columns of C per block
constexpr int64_t kStep = 16;   // k per shared-memory stage
constexpr int64_t kSide = 16;   // threads per block side
constexpr int64_t kPer = 4;     // rows and columns of C per thread
constexpr int64_t kThreads = kSide * kSide;
constexpr int64_t kAcc = kPer * kPer;

/// C (+)= A x B, optionally with a leading batch dim on all three.
struct Gemm {
  Value a, b, c;
  bool batched;
  Location loc;
};

class KernelBuilder {
public:
  KernelBuilder(OpBuilder &b, const Gemm &g) : b(b), g(g), loc(g.loc) {}

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value dim(Value mem, int64_t i) {
    return memref::DimOp::create(b, loc, mem, i + (g.batched ? 1 : 0));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t y) {
    return arith::MulIOp::create(b, loc, x, idx(y));
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
    Value in = arith::AndIOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, r, R),
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, c, C));
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    return arith::SelectOp::create(b, loc, in, v, zero);
  }

  /// Thread t's share of staging the k0 step of A and B.
  void loadTiles(Value As, Value Bs, Value t, Value k0, Value bat, Value m0,
                 Value n0) {
    for (int64_t r = 0; r < kTile * kStep / kThreads; ++r) {
      Value i = add(t, idx(r * kThreads));
      // A: 64 rows x 16 k, k fastest in memory.
      Value row = arith::DivUIOp::create(b, loc, i, idx(kStep));
      Value kk = arith::RemUIOp::create(b, loc, i, idx(kStep));
      Value va = guardedLoad(g.a, bat, add(m0, row), M, add(k0, kk), K);
      memref::StoreOp::create(b, loc, va, As, ValueRange{kk, row});
      // B: 16 k x 64 columns, columns fastest.
      Value kb = arith::DivUIOp::create(b, loc, i, idx(kTile));
      Value col = arith::RemUIOp::create(b, loc, i, idx(kTile));
      Value vb = guardedLoad(g.b, bat, add(k0, kb), K, add(n0, col), N);
      memref::StoreOp::create(b, loc, vb, Bs, ValueRange{kb, col});
    }
  }

  /// Thread t's register tile after one staged step.
  SmallVector<Value> compute(Value As, Value Bs, Value t, ValueRange acc) {
    Value tx = arith::RemUIOp::create(b, loc, t, idx(kSide));
    Value ty = arith::DivUIOp::create(b, loc, t, idx(kSide));
    auto loop = scf::ForOp::create(b, loc, idx(0), idx(kStep), idx(1), acc);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value kk = loop.getInductionVar();
    SmallVector<Value> av, bv, out;
    for (int64_t i = 0; i < kPer; ++i) {
      av.push_back(memref::LoadOp::create(b, loc, As,
                                          ValueRange{kk, add(ty, idx(kSide * i))}));
      bv.push_back(memref::LoadOp::create(b, loc, Bs,
                                          ValueRange{kk, add(tx, idx(kSide * i))}));
    }
    for (int64_t i = 0; i < kPer; ++i)
      for (int64_t j = 0; j < kPer; ++j)
        out.push_back(math::FmaOp::create(b, loc, av[i], bv[j],
                                          loop.getRegionIterArgs()[i * kPer + j]));
    scf::YieldOp::create(b, loc, out);
    return SmallVector<Value>(loop.getResults());
  }

  /// C[bat, m, n] += acc for thread t's outputs inside C.
  void store(Value t, Value bat, Value m0, Value n0, ValueRange acc) {
    Value tx = arith::RemUIOp::create(b, loc, t, idx(kSide));
    Value ty = arith::DivUIOp::create(b, loc, t, idx(kSide));
    for (int64_t i = 0; i < kPer; ++i)
      for (int64_t j = 0; j < kPer; ++j) {
        Value m = add(add(m0, ty), idx(kSide * i));
        Value n = add(add(n0, tx), idx(kSide * j));
        Value in = arith::AndIOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, m, M),
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, n, N));
        auto guard = scf::IfOp::create(b, loc, in, /*withElse=*/false);
        OpBuilder::InsertionGuard ig(b);
        b.setInsertionPointToStart(guard.thenBlock());
        SmallVector<Value> at;
        if (g.batched)
          at.push_back(bat);
        at.append({m, n});
        Value old = memref::LoadOp::create(b, loc, g.c, at);
        Value sum = arith::AddFOp::create(b, loc, old, acc[i * kPer + j]);
        memref::StoreOp::create(b, loc, sum, g.c, at);
      }
  }

  SmallVector<Value> zeros() {
    Value z = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    return SmallVector<Value>(kAcc, z);
  }

  /// The kernel: one gpu.launch, shared tiles as workgroup attributions.
  void buildLaunch() {
    readSizes();
    MLIRContext *ctx = b.getContext();
    auto shared = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
    auto tileA = MemRefType::get({kStep, kTile + 1}, b.getF32Type(),
                                 MemRefLayoutAttrInterface{}, shared);
    auto tileB = MemRefType::get({kStep, kTile}, b.getF32Type(),
                                 MemRefLayoutAttrInterface{}, shared);
    Value one = idx(1);
    auto launch = gpu::LaunchOp::create(
        b, loc, ceilTiles(N), ceilTiles(M), batch, idx(kThreads), one, one,
        /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
        /*asyncDependencies=*/{}, TypeRange{tileA, tileB});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(&launch.getBody().front());
    gpu::TerminatorOp::create(b, loc);
    b.setInsertionPointToStart(&launch.getBody().front());
    Value As = launch.getWorkgroupAttributions()[0];
    Value Bs = launch.getWorkgroupAttributions()[1];
    gpu::KernelDim3 block = launch.getBlockIds();
    Value t = launch.getThreadIds().x;
    Value m0 = mul(block.y, kTile), n0 = mul(block.x, kTile), bat = block.z;
    auto steps = scf::ForOp::create(b, loc, idx(0), K, idx(kStep), zeros());
    {
      OpBuilder::InsertionGuard g2(b);
      b.setInsertionPointToStart(steps.getBody());
      loadTiles(As, Bs, t, steps.getInductionVar(), bat, m0, n0);
      gpu::BarrierOp::create(b, loc);
      SmallVector<Value> acc = compute(As, Bs, t, steps.getRegionIterArgs());
      gpu::BarrierOp::create(b, loc);
      scf::YieldOp::create(b, loc, acc);
    }
    store(t, bat, m0, n0, steps.getResults());
  }

  /// A loop `for v in [0, n)` whose body `body(v)` builds at its start.
  void forLoop(Value n, function_ref<void(Value)> body) {
    auto loop = scf::ForOp::create(b, loc, idx(0), n, idx(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    body(loop.getInductionVar());
  }

  /// The same steps as CPU loops (--emulate-gpu).
  void buildEmulation() {
    readSizes();
    auto f32 = b.getF32Type();
    Value As = memref::AllocOp::create(
        b, loc, MemRefType::get({kStep, kTile + 1}, f32));
    Value Bs = memref::AllocOp::create(b, loc, MemRefType::get({kStep, kTile}, f32));
    Value accs =
        memref::AllocOp::create(b, loc, MemRefType::get({kThreads, kAcc}, f32));
    auto loadAcc = [&](Value t) {
      SmallVector<Value> acc;
      for (int64_t e = 0; e < kAcc; ++e)
        acc.push_back(memref::LoadOp::create(b, loc, accs, ValueRange{t, idx(e)}));
      return acc;
    };
    auto storeAcc = [&](Value t, ValueRange acc) {
      for (int64_t e = 0; e < kAcc; ++e)
        memref::StoreOp::create(b, loc, acc[e], accs, ValueRange{t, idx(e)});
    };
    Value threads = idx(kThreads);
    forLoop(batch, [&](Value bat) {
      forLoop(ceilTiles(M), [&](Value by) {
        forLoop(ceilTiles(N), [&](Value bx) {
          Value m0 = mul(by, kTile), n0 = mul(bx, kTile);
          forLoop(threads, [&](Value t) { storeAcc(t, zeros()); });
          auto steps = scf::ForOp::create(b, loc, idx(0), K, idx(kStep));
          {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPointToStart(steps.getBody());
            Value k0 = steps.getInductionVar();
            forLoop(threads, [&](Value t) {
              loadTiles(As, Bs, t, k0, bat, m0, n0);
            });
            forLoop(threads, [&](Value t) {
              storeAcc(t, compute(As, Bs, t, loadAcc(t)));
            });
          }
          forLoop(threads, [&](Value t) { store(t, bat, m0, n0, loadAcc(t)); });
        });
      });
    });
    for (Value v : {As, Bs, accs})
      memref::DeallocOp::create(b, loc, v);
  }

private:
  OpBuilder &b;
  const Gemm &g;
  Location loc;
  Value M, N, K, batch;
};

bool isF32Buffer(Value v) {
  auto t = dyn_cast<MemRefType>(v.getType());
  return t && t.getElementType().isF32();
}

/// The matmuls this kernel computes: f32 buffers, the default maps.
std::optional<Gemm> match(Operation *op) {
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
  if (!isF32Buffer(a) || !isF32Buffer(b) || !isF32Buffer(c))
    return std::nullopt;
  return Gemm{a, b, c, batched, op->getLoc()};
}

struct KilnGpuTileMatmuls final
    : mlir::kiln::impl::KilnGpuTileMatmulsBase<KilnGpuTileMatmuls> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<std::pair<Operation *, Gemm>> found;
    getOperation().walk([&](Operation *op) {
      if (op->getParentOfType<gpu::LaunchOp>())
        return;
      if (auto g = match(op))
        found.push_back({op, *g});
    });
    OpBuilder b(&getContext());
    for (auto &[op, g] : found) {
      b.setInsertionPoint(op);
      KernelBuilder kb(b, g);
      if (emulate)
        kb.buildEmulation();
      else
        kb.buildLaunch();
      op->erase();
    }
  }
};

} // namespace
