//===- KilnControlFlowOps.td - kiln.if, kiln.loop, kiln.yield -*- tablegen -*-===//
//
// ONNX If and run-time Loop as ops with regions, and their terminator.
// Verifiers and the constant-condition canonicalization are in
// KilnControlFlow.cpp. Included from KilnOps.td.
//
//===----------------------------------------------------------------------===//

def Kiln_IfOp : Op<Kiln_Dialect, "if", [RecursiveMemoryEffects,
    RecursivelySpeculatable, NoRegionArguments]> {
  let summary = "ONNX If: one of two single-block regions, chosen at run time";
  let description = [{
    `cond` is a boolean tensor of one element. Each region ends in
    `kiln.yield` with as many values as the op has results; a yielded type
    may be more static than the result type (same element type and rank,
    a result dim is `?` where the branches disagree). Values of the
    enclosing function are used directly inside the regions (ONNX's outer
    scope). With a constant `cond` it canonicalizes to the taken branch.
  }];
  let arguments = (ins T:$cond);
  let results = (outs Variadic<T>:$results);
  let regions = (region SizedRegion<1>:$then_branch, SizedRegion<1>:$else_branch);
  let assemblyFormat = "$cond `:` type($cond) (`->` type($results)^)? "
                       "$then_branch `else` $else_branch attr-dict";
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def Kiln_LoopOp : Op<Kiln_Dialect, "loop", [RecursiveMemoryEffects]> {
  let summary = "ONNX Loop whose iterations are decided at run time";
  let description = [{
    Runs its body while `iter < max_trip` and the condition holds
    (`max_trip`: an i64 tensor of one element; `cond`: an i1 tensor of one
    element, the condition before the first iteration). The body is one
    block with arguments (iter: tensor<i64>, cond: tensor<i1>, then one per
    loop-carried value, of the carried results' types) and ends in
    `kiln.yield` of (the next condition, the next carried values, then one
    value per scan output). Results: the carried values after the last
    iteration, then each scan output: the iterations' values stacked on a
    new axis 0. A yielded carried value may be more static than its result
    type; every iteration's scan value has the same extents. Values of
    the enclosing function are used directly in the body. Loops whose
    iteration count is known at import are unrolled instead.
  }];
  let arguments = (ins T:$max_trip, T:$cond, Variadic<T>:$inits);
  let results = (outs Variadic<T>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "`(` $max_trip `,` $cond (`,` $inits^)? `)` `:` "
                       "functional-type(operands, results) $body attr-dict";
  let hasVerifier = 1;
}

def Kiln_YieldOp : Kiln_Op<"yield", [Terminator, ReturnLike,
    ParentOneOf<["IfOp", "LoopOp"]>]> {
  let summary = "the values of a kiln.if branch or a kiln.loop iteration";
  let arguments = (ins Variadic<T>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}
