//===- WidenHalf.cpp - compute fp16/bf16 models in fp32 -------------------===//
//
// Implements -kiln-widen-half: a model exported in fp16 or bf16 (weights,
// activations, inputs and outputs) computes in fp32 between its inputs and
// outputs, as ONNX Runtime's CPU provider does with the casts it inserts
// around the kernels it has only in fp32. kiln's kernels (GEMM,
// convolution, attention, norms; on the CPU and the GPU) are fp32: without
// this pass an fp16 model ran on the generic loops at 5-77x ONNX Runtime's
// time. Half constants become fp32 constants (exact), half arguments are
// cast once at the entry, results are cast back before the return, and
// every kiln op whose result types its operands decide (InferTypeOpInterface)
// is retyped in place. An explicit cast to a half type in the model keeps
// its rounding (its result is cast back to fp32 for the ops after it); ops
// that cannot compute in fp32 (a result type fixed by an attribute, ops with
// regions, other dialects) keep their half operands through casts.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/PatternUtils.h"

#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/SetVector.h"

#include <cstring>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNWIDENHALF
#include "passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

bool isHalf(Type t) {
  auto r = dyn_cast<RankedTensorType>(t);
  return r && (r.getElementType().isF16() || r.getElementType().isBF16());
}

RankedTensorType widened(Type t) {
  auto r = cast<RankedTensorType>(t);
  return r.clone(Float32Type::get(t.getContext()));
}

/// The fp32 values of half constant `c` (exact), or nullopt (a resource
/// without its blob, a dynamic shape).
std::optional<std::vector<float>> widenedValues(ConstantOp c) {
  std::vector<char> storage;
  std::optional<ArrayRef<char>> raw = bytesOf(c, storage);
  if (!raw)
    return std::nullopt;
  bool bf16 = cast<RankedTensorType>(c.getType()).getElementType().isBF16();
  // fp16 bits -> fp32 through a table made once (APFloat per element took
  // 6.8 s of a 420 MB model's compile).
  static const std::vector<float> f16Table = [] {
    std::vector<float> t(65536);
    for (uint32_t bits = 0; bits < 65536; ++bits)
      t[bits] = llvm::APFloat(llvm::APFloat::IEEEhalf(), llvm::APInt(16, bits))
                    .convertToFloat();
    return t;
  }();
  std::vector<float> out(raw->size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    uint16_t bits;
    std::memcpy(&bits, raw->data() + 2 * i, sizeof bits);
    if (!bf16) {
      out[i] = f16Table[bits];
      continue;
    }
    uint32_t w = static_cast<uint32_t>(bits) << 16;
    std::memcpy(&out[i], &w, sizeof w);
  }
  return out;
}

struct Widener {
  OpBuilder b;
  /// half value -> its fp32 version (a cast, or a widened constant)
  DenseMap<Value, Value> wide;
  /// values retyped in place from half to fp32 -> their half type
  DenseMap<Value, Type> original;
  /// widened value -> a cast back to its half type
  DenseMap<Value, Value> narrow;
  /// casts and constants f32Of made
  llvm::SetVector<Operation *> created;

  explicit Widener(MLIRContext *ctx) : b(ctx) {}

  void setInsertionAfterDef(Value v) {
    if (Operation *def = v.getDefiningOp())
      b.setInsertionPointAfter(def);
    else
      b.setInsertionPointToStart(cast<BlockArgument>(v).getOwner());
  }

  /// The fp32 version of half value `v`.
  Value f32Of(Value v) {
    if (original.count(v))
      return v;
    if (Value w = wide.lookup(v))
      return w;
    setInsertionAfterDef(v);
    Value w;
    if (auto c = v.getDefiningOp<ConstantOp>()) {
      if (auto vals = widenedValues(c)) {
        RankedTensorType t = widened(v.getType());
        ElementsAttr attr;
        if (t.getNumElements() <= kInlineElements)
          attr = DenseElementsAttr::get(t, ArrayRef<float>(*vals));
        else
          attr = DenseResourceElementsAttr::get(
              t, "widened",
              HeapAsmResourceBlob::allocateAndCopyInferAlign<float>(*vals));
        w = ConstantOp::create(b, c.getLoc(), t, attr).getResult();
      }
    }
    if (!w)
      w = CastOp::create(b, v.getLoc(), widened(v.getType()), v).getResult();
    created.insert(w.getDefiningOp());
    wide[v] = w;
    return w;
  }

  /// `v` as its users before the pass saw it: a widened value cast back.
  Value halfOf(Value v) {
    auto it = original.find(v);
    if (it == original.end())
      return v;
    if (Value n = narrow.lookup(v))
      return n;
    setInsertionAfterDef(v);
    Value n = CastOp::create(b, v.getLoc(), it->second, v).getResult();
    narrow[v] = n;
    return n;
  }

  /// A cast: an fp32 input makes a cast to fp32 an identity; others keep
  /// their result type (an explicit cast to a half type keeps its rounding).
  void widenCast(CastOp c) {
    Value in = c.getInput();
    Value w = original.count(in) ? in : wide.lookup(in);
    if (!w)
      return;
    if (c.getType().getElementType().isF32() &&
        c.getType() == cast<RankedTensorType>(w.getType())) {
      c.getResult().replaceAllUsesWith(w);
      c.erase();
      return;
    }
    c.getInputMutable().assign(w);
  }

  /// Retypes `op` to compute in fp32 when its inference allows; else its
  /// widened operands are cast back.
  void widenOp(Operation *op) {
    bool anyHalf = false;
    for (Value v : op->getOperands())
      anyHalf |= isHalf(v.getType()) || original.count(v);
    for (Type t : op->getResultTypes())
      anyHalf |= isHalf(t);
    if (!anyHalf)
      return;
    auto infer = dyn_cast<InferTypeOpInterface>(op);
    if (infer && isa<KilnDialect>(op->getDialect()) &&
        op->getNumRegions() == 0 && tryWiden(infer))
      return;
    for (OpOperand &use : op->getOpOperands())
      if (original.count(use.get()))
        use.set(halfOf(use.get()));
  }

  bool tryWiden(InferTypeOpInterface op) {
    SmallVector<Value> oldOperands(op->getOperands());
    SmallVector<Value> operands;
    for (Value v : oldOperands)
      operands.push_back(isHalf(v.getType()) ? f32Of(v) : v);
    SmallVector<Type> inferred;
    if (failed(op.inferReturnTypes(op->getContext(), op->getLoc(), operands,
                                   op->getRawDictionaryAttrs(),
                                   op->getPropertiesStorage(), op->getRegions(),
                                   inferred)) ||
        inferred.size() != op->getNumResults())
      return false;
    SmallVector<Type> types;
    for (auto [result, type] : llvm::zip(op->getResults(), inferred)) {
      Type old = result.getType();
      auto t = dyn_cast<ShapedType>(type);
      if (isHalf(old)) {
        if (!t || !t.getElementType().isF32())
          return false;
        types.push_back(widened(old));
      } else {
        auto o = dyn_cast<ShapedType>(old);
        if (o && (!t || t.getElementType() != o.getElementType()))
          return false;
        types.push_back(old);
      }
    }
    SmallVector<Type> oldTypes(op->getResultTypes());
    op->setOperands(operands);
    for (auto [result, type] : llvm::zip(op->getResults(), types))
      result.setType(type);
    // Attributes the inference does not read (e.g. a float attribute typed
    // like the input) are checked by the verifier: undo on failure.
    bool ok;
    {
      ScopedDiagnosticHandler quiet(op->getContext(),
                                    [](Diagnostic &) { return success(); });
      ok = succeeded(verify(op, /*verifyRecursively=*/false));
    }
    if (!ok) {
      op->setOperands(oldOperands);
      for (auto [result, type] : llvm::zip(op->getResults(), oldTypes))
        result.setType(type);
      return false;
    }
    for (auto [result, old] : llvm::zip(op->getResults(), oldTypes))
      if (isHalf(old))
        original[result] = old;
    return true;
  }

  /// A concat of a half input (a KV cache passed in) stays half, its
  /// widened operands (the step's new keys) rounded back as the fp16 model
  /// rounds them: the cache is copied at 2 bytes a value into the output
  /// and widened once for the ops that read it, instead of widened, copied
  /// at 4 bytes and rounded again for the output (an fp16 LLaMA 8 x 1024
  /// decode step: 40 MB of cache traffic -> 20 MB).
  bool keepHalfConcat(ConcatOp c) {
    if (!llvm::any_of(c->getOperands(), [&](Value v) {
          return isHalf(v.getType()) && !v.getDefiningOp<ConstantOp>();
        }))
      return false;
    for (OpOperand &use : c->getOpOperands())
      if (original.count(use.get()))
        use.set(halfOf(use.get()));
    return true;
  }

  void run(func::FuncOp f) {
    if (f.isExternal())
      return;
    Block &entry = f.getBody().front();
    for (BlockArgument a : entry.getArguments())
      if (isHalf(a.getType()))
        f32Of(a);
    for (Operation &op : llvm::make_early_inc_range(entry)) {
      if (created.contains(&op))
        continue;
      if (auto c = dyn_cast<CastOp>(op)) {
        widenCast(c);
        continue;
      }
      if (auto c = dyn_cast<ConstantOp>(op); c && isHalf(c.getType()))
        continue; // widened by its first fp32 user (f32Of)
      if (auto c = dyn_cast<ConcatOp>(op); c && keepHalfConcat(c))
        continue;
      widenOp(&op);
    }
    // Users nested in regions (an If's branches) see the values they saw.
    for (auto [v, type] : original)
      for (OpOperand &use : llvm::make_early_inc_range(v.getUses()))
        if (use.getOwner()->getBlock() != &entry)
          use.set(halfOf(v));
    // Casts and constants made for users that then kept half operands.
    for (Operation *op : llvm::reverse(created))
      if (op->use_empty())
        op->erase();
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(entry)))
      if (auto c = dyn_cast<ConstantOp>(op);
          c && c->use_empty() && isHalf(c.getType()))
        c.erase();
  }
};

struct KilnWidenHalf final : mlir::kiln::impl::KilnWidenHalfBase<KilnWidenHalf> {
  void runOnOperation() override {
    auto f = dyn_cast<func::FuncOp>(getOperation().getOperation());
    if (!f)
      return;
    Widener w(f.getContext());
    w.run(f);
  }
};

} // namespace
