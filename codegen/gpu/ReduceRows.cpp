//===- ReduceRows.cpp - the kiln-gpu-reduce-rows pass ---------------------===//
//
// A linalg.generic on buffers that reduces its innermost loop (the sums of a
// LayerNorm or RMSNorm, a softmax's max and sum, a mean) becomes one kernel
// with a warp per row: the generic path gives each row one thread, which
// walks the row alone with every thread's loads a row apart (uncoalesced),
// and maps only a few blocks (on an H200, BERT-base's LayerNorm sums took
// 85-400 us for 1024 rows of 768).
//
// Block of 256 threads = 8 rows. Lane l of a row's warp folds the values at
// k = l, l + 32, ... (neighbouring lanes read neighbouring elements) with the
// body's combiner, from the combiner's identity; the warp then combines its
// 32 partials by xor shuffles (offsets 16 ... 1), and lane 0 combines the
// result with the output's current value and stores it. A generic with
// several outputs (sum and sum of squares) keeps one partial per output.
//
// Matched: f32 outputs; the last loop a reduction, every other loop
// parallel; outputs indexed by the parallel loops in order; inputs through
// projected permutations; a pure body without linalg.index, where each
// output's block argument has one use, a combiner (addf, mulf, maximumf,
// minimumf, maxnumf, minnumf) whose result is that output's yielded value.
// With `emulate`, rows, lanes and the combine of the lanes' partials run as
// CPU loops (the partials combined lane by lane rather than by a butterfly:
// same values, another order of the additions).
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/gpu/Loops.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUREDUCEROWS
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

constexpr int64_t kWarp = 32;
constexpr int64_t kRowsPerBlock = 8; // warps of a 256-thread block

/// The combiner folding output `i`'s value into its block argument, or
/// null when the body does not have that form.
Operation *combinerOf(linalg::GenericOp gen, unsigned i) {
  BlockArgument out = gen.getRegionOutputArgs()[i];
  auto yield = cast<linalg::YieldOp>(gen.getBody()->getTerminator());
  Operation *op = yield.getValues()[i].getDefiningOp();
  if (!op || !out.hasOneUse() || out.getUses().begin()->getOwner() != op ||
      !op->hasOneUse() || op->getNumOperands() != 2 ||
      op->getOperand(0) == op->getOperand(1) ||
      !isa<arith::AddFOp, arith::MulFOp, arith::MaximumFOp, arith::MinimumFOp,
           arith::MaxNumFOp, arith::MinNumFOp>(op))
    return nullptr;
  return op;
}

/// The value `x` with `combine(identity, x) == x`.
TypedAttr identityOf(Operation *combiner, FloatType t) {
  const llvm::fltSemantics &sem = t.getFloatSemantics();
  if (isa<arith::AddFOp>(combiner))
    return FloatAttr::get(t, APFloat::getZero(sem));
  if (isa<arith::MulFOp>(combiner))
    return FloatAttr::get(t, APFloat::getOne(sem));
  bool max = isa<arith::MaximumFOp, arith::MaxNumFOp>(combiner);
  return FloatAttr::get(t, APFloat::getInf(sem, /*Negative=*/max));
}

bool matches(linalg::GenericOp gen) {
  unsigned n = gen.getNumLoops();
  if (!gen.hasPureBufferSemantics() || n < 2 || gen.getNumDpsInits() == 0 ||
      gen.getNumReductionLoops() != 1 ||
      gen.getIteratorTypesArray()[n - 1] != utils::IteratorType::reduction)
    return false;
  bool spanned = false; // some input gives the reduced loop's extent
  for (OpOperand *in : gen.getDpsInputOperands())
    spanned |= gen.getMatchingIndexingMap(in).getResultPosition(
                   getAffineDimExpr(n - 1, gen.getContext())).has_value();
  if (!spanned)
    return false;
  AffineMap rows = AffineMap::getMultiDimIdentityMap(n, gen.getContext())
                       .getMajorSubMap(n - 1);
  for (OpOperand &init : gen.getDpsInitsMutable()) {
    auto t = dyn_cast<MemRefType>(init.get().getType());
    if (!t || !t.getElementType().isF32() ||
        gen.getMatchingIndexingMap(&init) != rows)
      return false;
  }
  for (OpOperand *in : gen.getDpsInputOperands())
    if (!isa<MemRefType>(in->get().getType()) ||
        !gen.getMatchingIndexingMap(in).isProjectedPermutation())
      return false;
  for (Operation &op : gen.getBody()->without_terminator())
    if (!isMemoryEffectFree(&op) || op.getNumRegions() != 0 ||
        isa<linalg::IndexOp>(op))
      return false;
  for (unsigned i = 0; i < gen.getNumDpsInits(); ++i)
    if (!combinerOf(gen, i))
      return false;
  return true;
}

class RowReduction {
public:
  RowReduction(linalg::GenericOp gen, bool emulate)
      : gen(gen), b(gen), loc(gen.getLoc()), emulate(emulate) {}

  void build() {
    for (unsigned i = 0; i < gen.getNumDpsInits(); ++i) {
      combiners.push_back(combinerOf(gen, i));
      identities.push_back(arith::ConstantOp::create(
          b, loc, identityOf(combiners.back(), b.getF32Type())));
    }
    // Loop sizes: the parallel ones from the first output, the reduced one
    // from an input that reads it.
    Value out0 = gen.getDpsInitOperand(0)->get();
    unsigned n = gen.getNumLoops();
    for (unsigned d = 0; d + 1 < n; ++d) {
      Value dim = memref::DimOp::create(b, loc, out0, d);
      sizes.push_back(dim);
      rowCount = rowCount ? arith::MulIOp::create(b, loc, rowCount, dim)
                                .getResult()
                          : dim;
    }
    for (OpOperand *in : gen.getDpsInputOperands()) {
      AffineMap map = gen.getMatchingIndexingMap(in);
      if (auto pos = map.getResultPosition(b.getAffineDimExpr(n - 1))) {
        K = memref::DimOp::create(b, loc, in->get(), *pos);
        break;
      }
    }
    emulate ? buildLoops() : buildLaunch();
    gen.erase();
  }

private:
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

  /// The parallel loops' indices of row `row` (row-major).
  SmallVector<Value> rowIndices(Value row) {
    SmallVector<Value> at(sizes.size());
    for (unsigned d = sizes.size(); d-- > 0;) {
      if (d == 0) {
        at[d] = row;
        break;
      }
      at[d] = arith::RemUIOp::create(b, loc, row, sizes[d]);
      row = arith::DivUIOp::create(b, loc, row, sizes[d]);
    }
    return at;
  }

  Value combine(unsigned i, Value acc, Value v) {
    IRMapping map;
    Operation *c = combiners[i];
    BlockArgument out = gen.getRegionOutputArgs()[i];
    map.map(c->getOperand(0), c->getOperand(0) == out ? acc : v);
    map.map(c->getOperand(1), c->getOperand(1) == out ? acc : v);
    return b.clone(*c, map)->getResult(0);
  }

  /// Lane `lane`'s partials of the row at `at`: the body's values at
  /// k = lane, lane + 32, ... folded from the identities.
  SmallVector<Value> lanePartials(ArrayRef<Value> at, Value lane) {
    Value step = idx(kWarp);
    auto loop = scf::ForOp::create(b, loc, lane, K, step, identities);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    SmallVector<Value> point(at.begin(), at.end());
    point.push_back(loop.getInductionVar());
    IRMapping map;
    for (OpOperand *in : gen.getDpsInputOperands()) {
      SmallVector<Value> ix;
      for (AffineExpr e : gen.getMatchingIndexingMap(in).getResults())
        ix.push_back(point[cast<AffineDimExpr>(e).getPosition()]);
      map.map(gen.getMatchingBlockArgument(in),
              memref::LoadOp::create(b, loc, in->get(), ix));
    }
    for (Operation &op : gen.getBody()->without_terminator())
      if (!llvm::is_contained(combiners, &op))
        b.clone(op, map);
    SmallVector<Value> next;
    for (unsigned i = 0; i < combiners.size(); ++i) {
      Operation *c = combiners[i];
      BlockArgument out = gen.getRegionOutputArgs()[i];
      Value v = c->getOperand(0) == out ? c->getOperand(1) : c->getOperand(0);
      next.push_back(combine(i, loop.getRegionIterArgs()[i],
                             map.lookupOrDefault(v)));
    }
    scf::YieldOp::create(b, loc, next);
    return SmallVector<Value>(loop.getResults());
  }

  /// out_i[at] = combine(out_i[at], total_i).
  void store(ArrayRef<Value> at, ArrayRef<Value> totals) {
    for (unsigned i = 0; i < totals.size(); ++i) {
      Value out = gen.getDpsInitOperand(i)->get();
      Value old = memref::LoadOp::create(b, loc, out, at);
      Value v = combine(i, old, totals[i]);
      memref::StoreOp::create(b, loc, v, out, at);
    }
  }

  void buildLaunch() {
    Value one = idx(1);
    Value rowsPer = idx(kRowsPerBlock);
    Value grid = arith::CeilDivUIOp::create(b, loc, rowCount, rowsPer);
    Value threads = idx(kRowsPerBlock * kWarp);
    auto launch = gpu::LaunchOp::create(b, loc, grid, one, one, threads, one,
                                        one);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(&launch.getBody().front());
    gpu::TerminatorOp::create(b, loc);
    b.setInsertionPointToStart(&launch.getBody().front());
    Value t = launch.getThreadIds().x;
    Value warpSize = idx(kWarp);
    Value warp = arith::DivUIOp::create(b, loc, t, warpSize);
    Value lane = arith::RemUIOp::create(b, loc, t, warpSize);
    Value first = arith::MulIOp::create(b, loc, launch.getBlockIds().x, rowsPer);
    Value row = arith::AddIOp::create(b, loc, first, warp);
    // The whole warp takes the same branch: its shuffles see every lane.
    Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                         row, rowCount);
    auto ifRow = scf::IfOp::create(b, loc, inside, /*withElse=*/false);
    b.setInsertionPointToStart(ifRow.thenBlock());
    SmallVector<Value> at = rowIndices(row);
    SmallVector<Value> acc = lanePartials(at, lane);
    Value width = arith::ConstantIntOp::create(b, loc, b.getI32Type(), kWarp);
    for (int64_t offset = kWarp / 2; offset >= 1; offset /= 2) {
      Value off = arith::ConstantIntOp::create(b, loc, b.getI32Type(), offset);
      for (unsigned i = 0; i < acc.size(); ++i) {
        auto shuffle = gpu::ShuffleOp::create(b, loc, acc[i], off, width,
                                              gpu::ShuffleMode::XOR);
        acc[i] = combine(i, acc[i], shuffle.getShuffleResult());
      }
    }
    Value zero = idx(0);
    Value lead = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane,
                                       zero);
    auto ifLead = scf::IfOp::create(b, loc, lead, /*withElse=*/false);
    b.setInsertionPointToStart(ifLead.thenBlock());
    store(at, acc);
  }

  void buildLoops() {
    OpBuilder::InsertionGuard guard(b);
    kiln::gpu_loops::forEach(b, loc, rowCount, [&](Value row) {
      SmallVector<Value> at = rowIndices(row);
      auto lanes = kiln::gpu_loops::forFromZero(b, loc, idx(kWarp), 1, identities);
      {
        OpBuilder::InsertionGuard g2(b);
        b.setInsertionPointToStart(lanes.getBody());
        SmallVector<Value> part = lanePartials(at, lanes.getInductionVar());
        SmallVector<Value> next;
        for (unsigned i = 0; i < part.size(); ++i)
          next.push_back(combine(i, lanes.getRegionIterArgs()[i], part[i]));
        scf::YieldOp::create(b, loc, next);
      }
      store(at, SmallVector<Value>(lanes.getResults()));
    });
  }

  linalg::GenericOp gen;
  OpBuilder b;
  Location loc;
  bool emulate;
  SmallVector<Operation *> combiners;
  SmallVector<Value> identities, sizes;
  Value rowCount, K;
};

struct KilnGpuReduceRows final
    : mlir::kiln::impl::KilnGpuReduceRowsBase<KilnGpuReduceRows> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> found;
    getOperation().walk([&](linalg::GenericOp gen) {
      if (matches(gen))
        found.push_back(gen);
    });
    for (linalg::GenericOp gen : found)
      RowReduction(gen, emulate).build();
  }
};

} // namespace
