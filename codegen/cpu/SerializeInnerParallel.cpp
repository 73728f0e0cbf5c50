//===- SerializeInnerParallel.cpp - the kiln-serialize-inner-parallel pass ===//
//
// Nested scf.parallel loops become scf.for nests; outermost ones stay
// parallel and run on the runtime's pool.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNSERIALIZEINNERPARALLEL
#include "codegen/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

/// Static trip count of a loop's dims, or -1 when any bound is dynamic.
int64_t tripCount(ValueRange lbs, ValueRange ubs, ValueRange steps) {
  int64_t n = 1;
  for (auto [l, u, s] : llvm::zip(lbs, ubs, steps)) {
    auto lc = getConstantIntValue(l), uc = getConstantIntValue(u),
         sc = getConstantIntValue(s);
    if (!lc || !uc || !sc || *sc <= 0)
      return -1;
    n *= std::max<int64_t>(0, (*uc - *lc + *sc - 1) / *sc);
  }
  return n;
}

/// Iterations of the whole nest under `op`, or -1 when not static.
int64_t nestWork(Operation *op) {
  int64_t work = 1;
  bool dynamic = false;
  op->walk([&](Operation *inner) {
    int64_t n = 0;
    if (auto p = dyn_cast<scf::ParallelOp>(inner))
      n = tripCount(p.getLowerBound(), p.getUpperBound(), p.getStep());
    else if (auto f = dyn_cast<scf::ForOp>(inner))
      n = tripCount(f.getLowerBound(), f.getUpperBound(), f.getStep());
    else
      return;
    if (n < 0)
      dynamic = true;
    else
      work *= std::max<int64_t>(n, 1);
  });
  return dynamic ? -1 : work;
}

/// Below this many iterations a loop nest runs serially: a parallel region
/// costs more than it saves.
constexpr int64_t kMinParallelWork = 1 << 15;

/// Replaces `p` by a serial nest of scf.for with the same body.
void serialize(scf::ParallelOp p) {
  OpBuilder b(p);
  scf::buildLoopNest(b, p.getLoc(), p.getLowerBound(), p.getUpperBound(),
                     p.getStep(), [&](OpBuilder &nb, Location, ValueRange ivs) {
                       IRMapping map;
                       map.map(p.getInductionVars(), ivs);
                       for (Operation &op : p.getBody()->without_terminator())
                         nb.clone(op, map);
                     });
  p.erase();
}

/// Moves the innermost dim of a multi-dim parallel loop into an scf.for in
/// its body. The OpenMP lowering collapses every dim of a loop into one
/// iteration space and recovers each index with a division; an inner dim
/// left there keeps LLVM from vectorizing the body. The outer dims still
/// give the pool its chunks.
void serializeInnermostDim(scf::ParallelOp p) {
  if (p.getNumLoops() < 2)
    return;
  OpBuilder b(p);
  Location loc = p.getLoc();
  auto lbs = p.getLowerBound(), ubs = p.getUpperBound(), steps = p.getStep();
  scf::ParallelOp::create(
      b, loc, lbs.drop_back(), ubs.drop_back(), steps.drop_back(),
      [&](OpBuilder &ob, Location l, ValueRange ivs) {
        scf::ForOp::create(
            ob, l, lbs.back(), ubs.back(), steps.back(), ValueRange{},
            [&](OpBuilder &fb, Location fl, Value iv, ValueRange) {
              IRMapping map;
              SmallVector<Value> old = p.getInductionVars();
              map.map(ArrayRef<Value>(old).drop_back(), ivs);
              map.map(old.back(), iv);
              for (Operation &op : p.getBody()->without_terminator())
                fb.clone(op, map);
              scf::YieldOp::create(fb, fl);
            });
      });
  p.erase();
}

/// The run-time iteration count of `p`'s own dims, as an index value.
Value runtimeTrips(OpBuilder &b, scf::ParallelOp p) {
  Location loc = p.getLoc();
  Value n = arith::ConstantIndexOp::create(b, loc, 1);
  for (auto [l, u, s] :
       llvm::zip(p.getLowerBound(), p.getUpperBound(), p.getStep())) {
    Value d = arith::CeilDivUIOp::create(
        b, loc, arith::SubIOp::create(b, loc, u, l), s);
    n = arith::MulIOp::create(b, loc, n, d);
  }
  return n;
}

struct KilnSerializeInnerParallel final
    : mlir::kiln::impl::KilnSerializeInnerParallelBase<
          KilnSerializeInnerParallel> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Inner parallel loops first (post-order walk), then outermost ones.
    SmallVector<scf::ParallelOp> inner, outer;
    module.walk([&](scf::ParallelOp p) {
      if (p.getNumReductions() != 0)
        return;
      (p->getParentOfType<scf::ParallelOp>() ? inner : outer).push_back(p);
    });
    for (scf::ParallelOp p : inner)
      serialize(p);
    for (scf::ParallelOp p : outer) {
      int64_t work = nestWork(p);
      if (work >= 0) {
        if (work < kMinParallelWork)
          serialize(p);
        else
          serializeInnermostDim(p);
        continue;
      }
      // Unknown at compile time: choose at run time.
      if (!module.lookupSymbol("kiln_rt_num_threads")) {
        OpBuilder mb = OpBuilder::atBlockBegin(module.getBody());
        auto decl = func::FuncOp::create(
            mb, module.getLoc(), "kiln_rt_num_threads",
            mb.getFunctionType({}, {mb.getI64Type()}));
        decl.setPrivate();
      }
      OpBuilder b(p);
      Location loc = p.getLoc();
      // Static extents of the inner loops scale the outer count.
      int64_t innerWork = 1;
      p.getBody()->walk([&](scf::ForOp f) {
        int64_t n = tripCount(f.getLowerBound(), f.getUpperBound(), f.getStep());
        if (n > 0)
          innerWork *= n;
      });
      Value trips = runtimeTrips(b, p);
      Value runWork = arith::MulIOp::create(
          b, loc, trips, arith::ConstantIndexOp::create(b, loc, innerWork));
      Value big = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::uge, runWork,
          arith::ConstantIndexOp::create(b, loc, kMinParallelWork));
      Value threads = func::CallOp::create(b, loc, "kiln_rt_num_threads",
                                           TypeRange{b.getI64Type()},
                                           ValueRange{})
                          .getResult(0);
      Value many = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::sgt, threads,
          arith::ConstantIntOp::create(b, loc, 1, 64));
      Value cond = arith::AndIOp::create(b, loc, big, many);
      auto ifOp = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/true);
      // Then: the parallel loop; else: a serial copy.
      OpBuilder tb = ifOp.getThenBodyBuilder();
      auto par = cast<scf::ParallelOp>(tb.clone(*p));
      OpBuilder eb = ifOp.getElseBodyBuilder();
      auto copy = cast<scf::ParallelOp>(eb.clone(*p));
      p.erase();
      serialize(copy);
      serializeInnermostDim(par);
    }
  }
};

} // namespace
