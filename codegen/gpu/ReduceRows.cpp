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
// Fused with it:
//   - the outputs' initial values, when an output is an allocation whose
//     last writer before the reduction is a linalg.fill or a linalg.copy
//     from a filled buffer (bufferization's shared zeros): the kernel starts
//     from that value and the fill or copy goes;
//   - the elementwise generic right after it that reads the outputs row by
//     row (a LayerNorm's or RMSNorm's normalization, a softmax's division):
//     after the shuffles every lane holds the row's results, computes the
//     generic's row-invariant ops once (the mean, 1 / sigma), and walks the
//     row again from k = lane by 32 storing the generic's values. Outputs
//     nothing else reads are then never stored, and their buffers go.
// A whole LayerNorm is one kernel (it was five: the zeros, two copies, the
// sums, the normalization).
// With `emulate`, rows, lanes and the combine of the lanes' partials run as
// CPU loops (the partials combined lane by lane rather than by a butterfly:
// same values, another order of the additions).
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/BufferEffects.h"
#include "codegen/gpu/Loops.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

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

/// How a reduction output starts: the op that wrote it last before the
/// reduction (a linalg.fill of it, or a linalg.copy into it from a buffer
/// whose only writer is a linalg.fill: the zeros bufferization shares) and
/// that value, when the output is an allocation nothing else touches
/// before the reduction. The kernel starts from the value and the op goes.
struct Init {
  Operation *op = nullptr;
  Value value;
};

/// `user`'s ancestor in `block`, or null.
Operation *inBlock(Block *block, Operation *user) {
  return block->findAncestorOpInBlock(*user);
}

/// Whether `op` only reads `buf` (a linalg op taking it as an input only,
/// or a memref.dim).
bool readsOnly(Operation *op, Value buf) {
  if (isa<memref::DimOp>(op))
    return true;
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  return linalgOp && linalgOp.hasPureBufferSemantics() &&
         llvm::none_of(linalgOp.getDpsInits(),
                       [&](Value v) { return v == buf; });
}

/// The scalar the allocation `buf` holds at `at`: that of the one
/// linalg.fill writing it before `at` (in `at`'s block), when every other
/// use before `at` only reads it.
Value filledWith(Value buf, Operation *at) {
  if (!buf.getDefiningOp<memref::AllocOp>())
    return {};
  linalg::FillOp fill;
  for (Operation *user : buf.getUsers()) {
    Operation *a = inBlock(at->getBlock(), user);
    if (!a)
      return {};
    if (a == at || at->isBeforeInBlock(a))
      continue;
    if (auto f = dyn_cast<linalg::FillOp>(a); f && f.getOutputs()[0] == buf) {
      if (fill)
        return {};
      fill = f;
    } else if (!readsOnly(a, buf)) {
      return {};
    }
  }
  return fill ? fill.getInputs()[0] : Value();
}

/// How the reduction output `out` starts (see Init): its last writer
/// before `gen` in `gen`'s block, when that is a fill of it or a copy into
/// it from a filled buffer, and every other use before `gen` reads it.
Init initOf(Value out, linalg::GenericOp gen) {
  if (!out.getDefiningOp<memref::AllocOp>())
    return {};
  Init init;
  for (Operation *user : out.getUsers()) {
    if (user == gen.getOperation() || isa<memref::DeallocOp>(user))
      continue;
    Operation *a = inBlock(gen->getBlock(), user);
    if (!a)
      return {};
    if (gen->isBeforeInBlock(a))
      continue; // reads or writes after the kernel wrote all of it
    if (auto fill = dyn_cast<linalg::FillOp>(a);
        fill && fill.getOutputs()[0] == out) {
      if (init.op)
        return {};
      init = {fill, fill.getInputs()[0]};
    } else if (auto copy = dyn_cast<linalg::CopyOp>(a);
               copy && copy.getOutputs()[0] == out) {
      if (init.op)
        return {};
      init = {copy, filledWith(copy.getInputs()[0], copy)};
    } else if (!readsOnly(a, out)) {
      return {};
    }
    if (init.op && (!init.value || !init.value.getType().isF32()))
      return {};
  }
  return init;
}

/// Whether every use of `buf` other than `init`, deallocs, dims and the
/// kernel (the op right before `after`) is at or after `after`: nothing between
/// `init` and the kernel reads what `init` wrote.
bool usedOnlyAfter(Value buf, Operation *init, Operation *after) {
  Operation *kernel = after->getPrevNode();
  for (Operation *user : buf.getUsers()) {
    if (user == init || isa<memref::DeallocOp, memref::DimOp>(user))
      continue;
    Operation *a = inBlock(init->getBlock(), user);
    if (!a || (a != kernel && a != after && !after->isBeforeInBlock(a)))
      return false;
  }
  return true;
}

/// Whether reading `v` through `map` inside the row kernel cannot see the
/// row kernel's writes to `out` from another row or before the read: `v`
/// in another buffer, or `out` itself read at the element being written.
bool rowLocal(Value v, AffineMap map, Value out) {
  return kiln::rootBuffer(v) != kiln::rootBuffer(out) || (v == out && map.isIdentity());
}

/// The elementwise generic after `gen` (only allocations and pure ops
/// between) that the row kernel computes too, from the row's results
/// while the row is at hand: all loops parallel and as many as `gen`'s,
/// one output through the identity map (into an allocation) whose value it
/// does not read, a pure body, `gen`'s outputs read through the row map,
/// other inputs through projected permutations; no buffer written by one of
/// the two read by the other except row-locally.
linalg::GenericOp consumerOf(linalg::GenericOp gen) {
  Operation *next = gen->getNextNode();
  while (next && next->getNumRegions() == 0 &&
         (isMemoryEffectFree(next) || isa<memref::AllocOp>(next)))
    next = next->getNextNode();
  auto use = dyn_cast_or_null<linalg::GenericOp>(next);
  unsigned n = gen.getNumLoops();
  if (!use || !use.hasPureBufferSemantics() || use.getNumLoops() != n ||
      use.getNumParallelLoops() != n || use.getNumDpsInits() != 1 ||
      !use.getMatchingIndexingMap(use.getDpsInitOperand(0)).isIdentity() ||
      !use.getRegionOutputArgs()[0].use_empty())
    return {};
  Value out = use.getDpsInitOperand(0)->get();
  if (!isa<MemRefType>(out.getType()) ||
      !kiln::rootBuffer(out).getDefiningOp<memref::AllocOp>())
    return {};
  for (Operation &op : use.getBody()->without_terminator())
    if (!isMemoryEffectFree(&op) || op.getNumRegions() != 0 ||
        isa<linalg::IndexOp>(op))
      return {};
  SmallVector<Value> reduced;
  for (OpOperand &init : gen.getDpsInitsMutable())
    reduced.push_back(init.get());
  AffineMap rows = gen.getMatchingIndexingMap(gen.getDpsInitOperand(0));
  for (OpOperand *in : use.getDpsInputOperands()) {
    Value v = in->get();
    if (!isa<MemRefType>(v.getType()))
      continue;
    AffineMap map = use.getMatchingIndexingMap(in);
    bool isReduced = llvm::is_contained(reduced, v);
    if (isReduced ? map != rows
                  : !map.isProjectedPermutation() || !rowLocal(v, map, out))
      return {};
    for (Value r : reduced)
      if (!isReduced && kiln::rootBuffer(v) == kiln::rootBuffer(r))
        return {};
  }
  for (OpOperand *in : gen.getDpsInputOperands())
    if (!rowLocal(in->get(), gen.getMatchingIndexingMap(in), out))
      return {};
  for (Value r : reduced)
    if (kiln::rootBuffer(r) == kiln::rootBuffer(out))
      return {};
  return use;
}

/// Whether the reduction output `out` may be read after `gen` by another op
/// than its fused consumer `use`: else the kernel never stores it.
bool readAfter(Value out, linalg::GenericOp gen, linalg::GenericOp use) {
  if (!use)
    return true;
  for (Operation *user : out.getUsers()) {
    if (user == gen.getOperation() || user == use.getOperation() ||
        isa<memref::DeallocOp>(user))
      continue;
    Operation *a = inBlock(gen->getBlock(), user);
    if (!a || gen->isBeforeInBlock(a))
      return true;
  }
  return false;
}

/// Erase the allocation `buf` (with its deallocs and, when `fills`, the
/// linalg.fills writing it) when nothing else uses it.
void eraseIfDead(Value buf, bool fills) {
  auto alloc = buf.getDefiningOp<memref::AllocOp>();
  if (!alloc)
    return;
  for (Operation *user : buf.getUsers())
    if (!isa<memref::DeallocOp>(user) &&
        !(fills && isa<linalg::FillOp>(user)))
      return;
  for (Operation *user : llvm::make_early_inc_range(buf.getUsers()))
    user->erase();
  alloc->erase();
}

class RowReduction {
public:
  RowReduction(linalg::GenericOp gen, bool emulate)
      : gen(gen), b(gen), loc(gen.getLoc()), emulate(emulate) {}

  void build() {
    use = consumerOf(gen);
    // The kernel goes where the consumer's output exists.
    if (use)
      b.setInsertionPoint(use);
    for (unsigned i = 0; i < gen.getNumDpsInits(); ++i) {
      combiners.push_back(combinerOf(gen, i));
      identities.push_back(arith::ConstantOp::create(
          b, loc, identityOf(combiners.back(), b.getF32Type())));
      Value out = gen.getDpsInitOperand(i)->get();
      inits.push_back(initOf(out, gen));
      stored.push_back(readAfter(out, gen, use));
    }
    // Loop sizes: the parallel ones from the first output (the consumer's,
    // which is written whole, when there is one), the reduced one from an
    // input that reads it.
    Value out0 = use ? use.getDpsInitOperand(0)->get()
                     : gen.getDpsInitOperand(0)->get();
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
    if (use)
      useK = memref::DimOp::create(b, loc, use.getDpsInitOperand(0)->get(),
                                   n - 1);
    // The first op after the kernel: the init ops go when nothing between
    // them and the kernel reads what they wrote.
    Operation *after = (use ? use.getOperation() : gen.getOperation())
                           ->getNextNode();
    emulate ? buildLoops() : buildLaunch();
    SmallVector<Value> outs;
    for (OpOperand &init : gen.getDpsInitsMutable())
      outs.push_back(init.get());
    gen.erase();
    if (use)
      use.erase();
    SmallVector<bool> dead;
    for (unsigned i = 0; i < outs.size(); ++i)
      dead.push_back(inits[i].op &&
                     usedOnlyAfter(outs[i], inits[i].op, after));
    for (unsigned i = 0; i < outs.size(); ++i) {
      if (!dead[i])
        continue;
      Operation *initOp = inits[i].op;
      Value source =
          isa<linalg::CopyOp>(initOp) ? initOp->getOperand(0) : Value();
      initOp->erase();
      if (source)
        eraseIfDead(source, /*fills=*/true);
      eraseIfDead(outs[i], /*fills=*/false);
    }
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

  /// The outputs' values before the kernel: their init's value, or loaded
  /// (before any lane stores).
  SmallVector<Value> starts(ArrayRef<Value> at) {
    SmallVector<Value> v;
    for (unsigned i = 0; i < inits.size(); ++i)
      v.push_back(inits[i].op ? inits[i].value
                              : memref::LoadOp::create(
                                    b, loc, gen.getDpsInitOperand(i)->get(),
                                    at).getResult());
    return v;
  }

  /// The rows' results combine(start_i, total_i).
  SmallVector<Value> results(ArrayRef<Value> start, ArrayRef<Value> totals) {
    SmallVector<Value> r;
    for (unsigned i = 0; i < totals.size(); ++i)
      r.push_back(combine(i, start[i], totals[i]));
    return r;
  }

  /// out_i[at] = result_i for the outputs still read elsewhere.
  void store(ArrayRef<Value> at, ArrayRef<Value> result) {
    for (unsigned i = 0; i < result.size(); ++i)
      if (stored[i])
        memref::StoreOp::create(b, loc, result[i],
                                gen.getDpsInitOperand(i)->get(), at);
  }

  /// The consumer's values of the row at `at`, k = first, first + step,
  /// ...: its inputs loaded (the reduced outputs are the row's results),
  /// its body cloned, stored into its output.
  void consume(ArrayRef<Value> at, ArrayRef<Value> result, Value first,
               int64_t step) {
    // The body's ops that depend only on the row's results and scalars
    // (a LayerNorm's mean and 1 / sigma) are computed once, before the loop.
    IRMapping map;
    llvm::SmallPtrSet<Operation *, 8> hoisted;
    for (OpOperand *in : use.getDpsInputOperands()) {
      Value v = in->get();
      for (unsigned i = 0; i < result.size(); ++i)
        if (v == gen.getDpsInitOperand(i)->get())
          v = result[i];
      if (!isa<MemRefType>(v.getType()))
        map.map(use.getMatchingBlockArgument(in), v);
    }
    for (Operation &op : use.getBody()->without_terminator()) {
      if (llvm::all_of(op.getOperands(), [&](Value x) {
            auto arg = dyn_cast<BlockArgument>(x);
            if (arg && arg.getOwner() == use.getBody())
              return map.contains(x);
            Operation *def = x.getDefiningOp();
            return !def || !use->isAncestor(def) || hoisted.contains(def);
          })) {
        b.clone(op, map);
        hoisted.insert(&op);
      }
    }
    auto loop = scf::ForOp::create(b, loc, first, useK, idx(step));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    SmallVector<Value> point(at.begin(), at.end());
    point.push_back(loop.getInductionVar());
    for (OpOperand *in : use.getDpsInputOperands()) {
      Value v = in->get();
      if (map.contains(use.getMatchingBlockArgument(in)))
        continue;
      SmallVector<Value> ix;
      for (AffineExpr e : use.getMatchingIndexingMap(in).getResults())
        ix.push_back(point[cast<AffineDimExpr>(e).getPosition()]);
      map.map(use.getMatchingBlockArgument(in),
              memref::LoadOp::create(b, loc, v, ix));
    }
    for (Operation &op : use.getBody()->without_terminator())
      if (!hoisted.contains(&op))
        b.clone(op, map);
    auto yield = cast<linalg::YieldOp>(use.getBody()->getTerminator());
    memref::StoreOp::create(b, loc, map.lookupOrDefault(yield.getValues()[0]),
                            use.getDpsInitOperand(0)->get(), point);
  }

  void buildLaunch() {
    Value one = idx(1);
    Value rowsPer = idx(kRowsPerBlock);
    Value grid = arith::CeilDivUIOp::create(b, loc, rowCount, rowsPer);
    Value threads = idx(kRowsPerBlock * kWarp);
    OpBuilder::InsertionGuard guard(b);
    auto launch =
        kiln::gpu_loops::launchAtBody(b, loc, grid, one, one, threads);
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
    SmallVector<Value> start = starts(at);
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
    // Every lane holds the totals after the butterfly.
    SmallVector<Value> result = results(start, acc);
    if (use)
      consume(at, result, lane, kWarp);
    if (llvm::none_of(stored, [](bool s) { return s; }))
      return;
    Value zero = idx(0);
    Value lead = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane,
                                       zero);
    auto ifLead = scf::IfOp::create(b, loc, lead, /*withElse=*/false);
    b.setInsertionPointToStart(ifLead.thenBlock());
    store(at, result);
  }

  void buildLoops() {
    OpBuilder::InsertionGuard guard(b);
    kiln::gpu_loops::forEach(b, loc, rowCount, [&](Value row) {
      SmallVector<Value> at = rowIndices(row);
      SmallVector<Value> start = starts(at);
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
      SmallVector<Value> result = results(start, SmallVector<Value>(lanes.getResults()));
      if (use)
        consume(at, result, idx(0), 1);
      store(at, result);
    });
  }

  linalg::GenericOp gen;
  OpBuilder b;
  Location loc;
  bool emulate;
  linalg::GenericOp use; // the fused consumer, if any
  SmallVector<Operation *> combiners;
  SmallVector<Init> inits;
  SmallVector<bool> stored; // per output: still read after the kernel
  SmallVector<Value> identities, sizes;
  Value rowCount, K, useK;
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
