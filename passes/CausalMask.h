//===- CausalMask.h - masks built from index arithmetic ---------*- C++ -*-===//
//
// kiln-fuse-attention replaces a mask by kiln.attention's causal flag when
// it provably keeps, for query row i (of Sq) and key j (of Sk), exactly the
// keys j <= i + Sk - Sq. Exporters build such masks at run time from index
// arithmetic, e.g. Hugging Face's LLaMA:
//   mask = full((S, S), min).masked_fill(arange(S) < (arange(S) + 1)
//                                        .view(S, 1), 0)
// and with a KV cache of P tokens:
//   zeros(S, P + S).masked_fill(arange(P + S).view(1, -1) >
//                               (arange(S) + P).view(S, 1), min)
// The mask is evaluated symbolically: each integer tensor as
//   sum over its axes a of coef[a] * index[a] + offset,
// the offset a constant plus multiples of symbolic extents (ShapeTrace's
// SymDim, concats of extents expanded into sums); a comparison of two such
// tensors as "E <= 0". Causal means E is j - i + (Sq - Sk) on the mask's
// last two axes (or a positive multiple of it), nothing on the others.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_CAUSALMASK_H
#define KILN_PASSES_CAUSALMASK_H

#include "passes/ShapeTrace.h"

namespace mlir::kiln {

/// Whether the boolean `cond` (broadcast to the scores [.., Sq, Sk])
/// keeps exactly the causal keys: where it is true when `keepWhenTrue`,
/// else where it is false.
bool isCausalCondition(Value cond, bool keepWhenTrue, const SymDim &sq,
                       const SymDim &sk);

/// Whether the float `mask` added to the scores is 0 on the causal keys
/// and at most -1e4 elsewhere (a where() of a causal condition between a
/// 0 and such a fill, through unsqueezes, expands and casts).
bool isCausalAdditiveMask(Value mask, const SymDim &sq, const SymDim &sk);

/// Whether `fill`, written over the excluded scores, removes them from the
/// softmax as the causal flag does (at most -1e4: exp underflows to 0).
inline bool excludesKeys(double fill) { return fill <= -1e4; }

} // namespace mlir::kiln

#endif // KILN_PASSES_CAUSALMASK_H
