// RUN: kiln-opt %s -split-input-file -pass-pipeline="builtin.module(func.func(kiln-fold-shapes))" | FileCheck %s

// BERT's Shape -> Gather -> Unsqueeze -> Concat chain for the head split
// [B, S, 64] -> [B, S, 4, 16]: B and S are the input's own dims at the same
// positions, so they become 0 (copy), the shape turns constant and the chain
// (including the duplicate Shape op) dies.
// CHECK-LABEL: func.func @bert_reshape_chain(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x?x64xf32>
// CHECK-NOT:     kiln.shape
// CHECK-NOT:     kiln.gather
// CHECK-NOT:     kiln.concat
// CHECK:         %[[S:.*]] = kiln.constant dense<[0, 0, 4, 16]> : tensor<4xi64>
// CHECK-NEXT:    %[[R:.*]] = kiln.reshape %[[X]], %[[S]] : (tensor<?x?x64xf32>, tensor<4xi64>) -> tensor<?x?x4x16xf32>
// CHECK-NEXT:    return %[[R]]
func.func @bert_reshape_chain(%x: tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32> {
  %c0 = kiln.constant dense<0> : tensor<i64>
  %c1 = kiln.constant dense<1> : tensor<i64>
  %c4 = kiln.constant dense<4> : tensor<1xi64>
  %c16 = kiln.constant dense<16> : tensor<1xi64>
  %s = kiln.shape %x : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %b = kiln.gather %s, %c0 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %bu = kiln.unsqueeze %b {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %s2 = kiln.shape %x : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %n = kiln.gather %s2, %c1 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %nu = kiln.unsqueeze %n {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %shape = kiln.concat %bu, %nu, %c4, %c16 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %r = kiln.reshape %x, %shape : (tensor<?x?x64xf32>, tensor<4xi64>) -> tensor<?x?x4x16xf32>
  return %r : tensor<?x?x4x16xf32>
}

// -----

// The merge back [B, S, 4, 16] -> [B, S, 64] after the attention, with the
// dims read through a transpose and an elementwise op of the input: still
// the input's own dims, so still copies.
// CHECK-LABEL: func.func @merge_heads_through_ops(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x4x?x16xf32>, %[[Y:[^:]*]]: tensor<?x4x?x16xf32>
// CHECK-NOT:     kiln.shape
// CHECK:         %[[S:.*]] = kiln.constant dense<[0, 0, 64]> : tensor<3xi64>
// CHECK-NEXT:    %[[T:.*]] = kiln.transpose %[[X]]
// CHECK-NEXT:    %[[R:.*]] = kiln.reshape %[[T]], %[[S]] : (tensor<?x?x4x16xf32>, tensor<3xi64>) -> tensor<?x?x64xf32>
// CHECK-NOT:     kiln.shape
func.func @merge_heads_through_ops(%x: tensor<?x4x?x16xf32>, %y: tensor<?x4x?x16xf32>) -> tensor<?x?x64xf32> {
  %c0 = kiln.constant dense<0> : tensor<1xi64>
  %c1 = kiln.constant dense<1> : tensor<1xi64>
  %c64 = kiln.constant dense<64> : tensor<1xi64>
  %a = kiln.add %x, %y : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %t = kiln.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %sa = kiln.shape %a : (tensor<?x4x?x16xf32>) -> tensor<4xi64>
  %b = kiln.gather %sa, %c0 : (tensor<4xi64>, tensor<1xi64>) -> tensor<1xi64>
  %st = kiln.shape %t : (tensor<?x?x4x16xf32>) -> tensor<4xi64>
  %n = kiln.gather %st, %c1 : (tensor<4xi64>, tensor<1xi64>) -> tensor<1xi64>
  %shape = kiln.concat %b, %n, %c64 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3xi64>
  %r = kiln.reshape %t, %shape : (tensor<?x?x4x16xf32>, tensor<3xi64>) -> tensor<?x?x64xf32>
  return %r : tensor<?x?x64xf32>
}

// -----

// Split heads and merge them back: the dims of the second reshape's input
// trace back through transposes, a unary op and the first reshape (whose
// entries are copies) to the original input, and Shape with start/end gives
// both entries at once.
// CHECK-LABEL: func.func @split_merge_roundtrip(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x?x64xf32>
// CHECK-NOT:     kiln.shape
// CHECK-DAG:     %[[S2:.*]] = kiln.constant dense<[0, 0, 64]> : tensor<3xi64>
// CHECK-DAG:     %[[S1:.*]] = kiln.constant dense<[0, 0, 4, 16]> : tensor<4xi64>
// CHECK:         %[[R1:.*]] = kiln.reshape %[[X]], %[[S1]]
// CHECK:         kiln.exp
// CHECK-NEXT:    %[[T2:.*]] = kiln.transpose
// CHECK-NEXT:    %[[R2:.*]] = kiln.reshape %[[T2]], %[[S2]] : (tensor<?x?x4x16xf32>, tensor<3xi64>) -> tensor<?x?x64xf32>
// CHECK-NEXT:    return %[[R2]]
func.func @split_merge_roundtrip(%x: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %c0 = kiln.constant dense<0> : tensor<1xi64>
  %c1 = kiln.constant dense<1> : tensor<1xi64>
  %c4 = kiln.constant dense<4> : tensor<1xi64>
  %c16 = kiln.constant dense<16> : tensor<1xi64>
  %c64 = kiln.constant dense<64> : tensor<1xi64>
  %s = kiln.shape %x : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %b = kiln.gather %s, %c0 : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %n = kiln.gather %s, %c1 : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %sh1 = kiln.concat %b, %n, %c4, %c16 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %r1 = kiln.reshape %x, %sh1 : (tensor<?x?x64xf32>, tensor<4xi64>) -> tensor<?x?x4x16xf32>
  %t = kiln.transpose %r1 {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %e = kiln.exp %t : tensor<?x4x?x16xf32>
  %t2 = kiln.transpose %e {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %s2 = kiln.shape %t2 {start = 0, end = 2} : (tensor<?x?x4x16xf32>) -> tensor<2xi64>
  %sh2 = kiln.concat %s2, %c64 {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<3xi64>
  %r2 = kiln.reshape %t2, %sh2 : (tensor<?x?x4x16xf32>, tensor<3xi64>) -> tensor<?x?x64xf32>
  return %r2 : tensor<?x?x64xf32>
}

// -----

// GPT-2's scale: the head size read as the last entry of Shape(k) with a
// Slice [-1:] is a static dim (16), so the shape entry folds to a constant,
// and the float arithmetic on it (Cast, Sqrt, Div; Pow) folds in turn.
// CHECK-LABEL: func.func @gpt2_head_size_scale(
// CHECK-NEXT:    %[[R:.*]] = kiln.constant dense<2.500000e-01> : tensor<1xf32>
// CHECK-NEXT:    %[[P:.*]] = kiln.constant dense<4.000000e+00> : tensor<1xf32>
// CHECK-NEXT:    return %[[R]], %[[P]]
func.func @gpt2_head_size_scale(%k: tensor<?x4x?x16xf32>) -> (tensor<1xf32>, tensor<1xf32>) {
  %st = kiln.constant dense<-1> : tensor<1xi64>
  %en = kiln.constant dense<9223372036854775807> : tensor<1xi64>
  %ax = kiln.constant dense<0> : tensor<1xi64>
  %sp = kiln.constant dense<1> : tensor<1xi64>
  %half = kiln.constant dense<0.5> : tensor<f32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %s = kiln.shape %k : (tensor<?x4x?x16xf32>) -> tensor<4xi64>
  %d = kiln.slice %s, %st, %en, %ax, %sp : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %f = kiln.cast %d : tensor<1xi64> -> tensor<1xf32>
  %q = kiln.sqrt %f : tensor<1xf32>
  %r = kiln.div %one, %q : (tensor<f32>, tensor<1xf32>) -> tensor<1xf32>
  %p = kiln.pow %f, %half : (tensor<1xf32>, tensor<f32>) -> tensor<1xf32>
  return %r, %p : tensor<1xf32>, tensor<1xf32>
}

// -----

// A negative Gather index into a shape picks a static dim: a constant.
// CHECK-LABEL: func.func @gather_static_dim(
// CHECK-NEXT:    %[[C:.*]] = kiln.constant dense<4> : tensor<i64>
// CHECK-NEXT:    return %[[C]]
func.func @gather_static_dim(%x: tensor<?x4x?x16xf32>) -> tensor<i64> {
  %i = kiln.constant dense<-3> : tensor<i64>
  %s = kiln.shape %x : (tensor<?x4x?x16xf32>) -> tensor<4xi64>
  %d = kiln.gather %s, %i : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  return %d : tensor<i64>
}

// -----

// Negative: a slice of the shape picking a dynamic dim stays.
// CHECK-LABEL: func.func @slice_dynamic_dim(
// CHECK:         %[[S:.*]] = kiln.shape
// CHECK:         %[[D:.*]] = kiln.slice %[[S]]
// CHECK:         kiln.cast %[[D]]
func.func @slice_dynamic_dim(%x: tensor<?x4x?x16xf32>) -> tensor<1xf32> {
  %st = kiln.constant dense<-2> : tensor<1xi64>
  %en = kiln.constant dense<-1> : tensor<1xi64>
  %ax = kiln.constant dense<0> : tensor<1xi64>
  %sp = kiln.constant dense<1> : tensor<1xi64>
  %s = kiln.shape %x : (tensor<?x4x?x16xf32>) -> tensor<4xi64>
  %d = kiln.slice %s, %st, %en, %ax, %sp : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %f = kiln.cast %d : tensor<1xi64> -> tensor<1xf32>
  return %f : tensor<1xf32>
}

// -----

// Expand whose shape entries are the input's own (aligned) dims: they become
// 1 (keep), constants stay.
// CHECK-LABEL: func.func @expand_keep_dims(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x1x?xf32>
// CHECK-NOT:     kiln.shape
// CHECK:         %[[S:.*]] = kiln.constant dense<[1, 5, 1]> : tensor<3xi64>
// CHECK-NEXT:    %[[E:.*]] = kiln.expand %[[X]], %[[S]] : (tensor<?x1x?xf32>, tensor<3xi64>) -> tensor<?x5x?xf32>
// CHECK-NEXT:    return %[[E]]
func.func @expand_keep_dims(%x: tensor<?x1x?xf32>) -> tensor<?x5x?xf32> {
  %c0 = kiln.constant dense<0> : tensor<1xi64>
  %c2 = kiln.constant dense<2> : tensor<1xi64>
  %c5 = kiln.constant dense<5> : tensor<1xi64>
  %s = kiln.shape %x : (tensor<?x1x?xf32>) -> tensor<3xi64>
  %a = kiln.gather %s, %c0 : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %b = kiln.gather %s, %c2 : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %shape = kiln.concat %a, %c5, %b {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3xi64>
  %e = kiln.expand %x, %shape : (tensor<?x1x?xf32>, tensor<3xi64>) -> tensor<?x5x?xf32>
  return %e : tensor<?x5x?xf32>
}

// -----

// LLaMA's repeat_kv Expand: the target goes through
// where(equal(shape, -1), ones, shape) (ConstantOfShape + Equal + Where).
// A dim is never -1, so the dims pass through and become 1, and the whole
// subgraph folds to a constant.
// CHECK-LABEL: func.func @llama_expand_where(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x2x1x?x16xf32>
// CHECK-NOT:     kiln.where
// CHECK-NOT:     kiln.equal
// CHECK:         %[[S:.*]] = kiln.constant dense<[1, 2, 3, 1, 16]> : tensor<5xi64>
// CHECK-NEXT:    %[[E:.*]] = kiln.expand %[[X]], %[[S]] : (tensor<?x2x1x?x16xf32>, tensor<5xi64>) -> tensor<?x2x3x?x16xf32>
// CHECK-NEXT:    return %[[E]]
func.func @llama_expand_where(%x: tensor<?x2x1x?x16xf32>) -> tensor<?x2x3x?x16xf32> {
  %c0 = kiln.constant dense<0> : tensor<1xi64>
  %c3 = kiln.constant dense<3> : tensor<1xi64>
  %c2 = kiln.constant dense<2> : tensor<1xi64>
  %c16 = kiln.constant dense<16> : tensor<1xi64>
  %neg = kiln.constant dense<-1> : tensor<5xi64>
  %ones = kiln.constant dense<1> : tensor<5xi64>
  %s = kiln.shape %x : (tensor<?x2x1x?x16xf32>) -> tensor<5xi64>
  %b = kiln.gather %s, %c0 : (tensor<5xi64>, tensor<1xi64>) -> tensor<1xi64>
  %n = kiln.gather %s, %c3 : (tensor<5xi64>, tensor<1xi64>) -> tensor<1xi64>
  %shape = kiln.concat %b, %c2, %c3, %n, %c16 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5xi64>
  %eq = kiln.equal %shape, %neg : (tensor<5xi64>, tensor<5xi64>) -> tensor<5xi1>
  %w = kiln.where %eq, %ones, %shape : (tensor<5xi1>, tensor<5xi64>, tensor<5xi64>) -> tensor<5xi64>
  %e = kiln.expand %x, %w : (tensor<?x2x1x?x16xf32>, tensor<5xi64>) -> tensor<?x2x3x?x16xf32>
  return %e : tensor<?x2x3x?x16xf32>
}

// -----

// Reshape with one entry that is not the input's dim at its position (the
// input's dim 0, placed last) and every other entry a positive constant: it
// becomes -1.
// CHECK-LABEL: func.func @reshape_infer_one(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x64xf32>
// CHECK-NOT:     kiln.shape
// CHECK:         %[[S:.*]] = kiln.constant dense<[4, 16, -1]> : tensor<3xi64>
// CHECK-NEXT:    kiln.reshape %[[X]], %[[S]] : (tensor<?x64xf32>, tensor<3xi64>) -> tensor<4x16x?xf32>
func.func @reshape_infer_one(%x: tensor<?x64xf32>) -> tensor<4x16x?xf32> {
  %c0 = kiln.constant dense<0> : tensor<1xi64>
  %c4 = kiln.constant dense<4> : tensor<1xi64>
  %c16 = kiln.constant dense<16> : tensor<1xi64>
  %s = kiln.shape %x : (tensor<?x64xf32>) -> tensor<2xi64>
  %b = kiln.gather %s, %c0 : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
  %shape = kiln.concat %c4, %c16, %b {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3xi64>
  %r = kiln.reshape %x, %shape : (tensor<?x64xf32>, tensor<3xi64>) -> tensor<4x16x?xf32>
  return %r : tensor<4x16x?xf32>
}

// -----

// An entry that cannot be traced at all (a function argument) is the one
// unknown: with the others positive constants it becomes -1 too.
// CHECK-LABEL: func.func @reshape_untraced_one(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x64xf32>
// CHECK:         %[[S:.*]] = kiln.constant dense<[-1, 16]> : tensor<2xi64>
// CHECK-NEXT:    kiln.reshape %[[X]], %[[S]] : (tensor<?x64xf32>, tensor<2xi64>) -> tensor<?x16xf32>
// CHECK-NOT:     kiln.concat
func.func @reshape_untraced_one(%x: tensor<?x64xf32>, %n: tensor<1xi64>) -> tensor<?x16xf32> {
  %c16 = kiln.constant dense<16> : tensor<1xi64>
  %shape = kiln.concat %n, %c16 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %r = kiln.reshape %x, %shape : (tensor<?x64xf32>, tensor<2xi64>) -> tensor<?x16xf32>
  return %r : tensor<?x16xf32>
}

// -----

// Static result extents become constants even when the entry is unknown.
// CHECK-LABEL: func.func @reshape_static_result(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x64xf32>, %[[N:[^:]*]]: tensor<1xi64>
// CHECK:         %[[S:.*]] = kiln.constant dense<[0, 4, 16]> : tensor<3xi64>
// CHECK-NEXT:    kiln.reshape %[[X]], %[[S]]
func.func @reshape_static_result(%x: tensor<?x64xf32>, %n: tensor<1xi64>) -> tensor<?x4x16xf32> {
  %c0 = kiln.constant dense<0> : tensor<1xi64>
  %c16 = kiln.constant dense<16> : tensor<1xi64>
  %s = kiln.shape %x : (tensor<?x64xf32>) -> tensor<2xi64>
  %b = kiln.gather %s, %c0 : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
  %shape = kiln.concat %b, %n, %c16 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3xi64>
  %r = kiln.reshape %x, %shape : (tensor<?x64xf32>, tensor<3xi64>) -> tensor<?x4x16xf32>
  return %r : tensor<?x4x16xf32>
}

// -----

// Two Shape ops of one tensor (exporters emit one per use) merge into one.
// CHECK-LABEL: func.func @duplicate_shapes(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x4xf32>
// CHECK-NEXT:    %[[S:.*]] = kiln.shape %[[X]] : (tensor<?x4xf32>) -> tensor<2xi64>
// CHECK-NOT:     kiln.shape
// CHECK-NEXT:    return %[[S]], %[[S]]
func.func @duplicate_shapes(%x: tensor<?x4xf32>) -> (tensor<2xi64>, tensor<2xi64>) {
  %a = kiln.shape %x : (tensor<?x4xf32>) -> tensor<2xi64>
  %b = kiln.shape %x : (tensor<?x4xf32>) -> tensor<2xi64>
  return %a, %b : tensor<2xi64>, tensor<2xi64>
}

// -----

// Negative: the shape is a function argument: nothing to trace (two dynamic
// result extents, so not even a single -1).
// CHECK-LABEL: func.func @reshape_untraced(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x64xf32>, %[[S:[^:]*]]: tensor<2xi64>
// CHECK-NEXT:    %[[R:.*]] = kiln.reshape %[[X]], %[[S]] : (tensor<?x64xf32>, tensor<2xi64>) -> tensor<?x?xf32>
// CHECK-NEXT:    return %[[R]]
func.func @reshape_untraced(%x: tensor<?x64xf32>, %s: tensor<2xi64>) -> tensor<?x?xf32> {
  %r = kiln.reshape %x, %s : (tensor<?x64xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

// Negative: two entries built from function arguments: both unknown, so the
// concat stays.
// CHECK-LABEL: func.func @reshape_two_untraced(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x64xf32>, %[[A:[^:]*]]: tensor<1xi64>, %[[B:[^:]*]]: tensor<1xi64>
// CHECK:         %[[S:.*]] = kiln.concat %[[A]], %[[B]], %{{.*}} {axis = 0 : i64}
// CHECK-NEXT:    kiln.reshape %[[X]], %[[S]] : (tensor<?x64xf32>, tensor<3xi64>) -> tensor<?x?x16xf32>
func.func @reshape_two_untraced(%x: tensor<?x64xf32>, %a: tensor<1xi64>, %b: tensor<1xi64>) -> tensor<?x?x16xf32> {
  %c16 = kiln.constant dense<16> : tensor<1xi64>
  %shape = kiln.concat %a, %b, %c16 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3xi64>
  %r = kiln.reshape %x, %shape : (tensor<?x64xf32>, tensor<3xi64>) -> tensor<?x?x16xf32>
  return %r : tensor<?x?x16xf32>
}

// -----

// Negative: with allowzero a 0 would mean an empty dim, not a copy, so the
// reshape is left alone.
// CHECK-LABEL: func.func @reshape_allowzero(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x64xf32>
// CHECK:         %[[SH:.*]] = kiln.shape %[[X]]
// CHECK:         %[[S:.*]] = kiln.concat
// CHECK-NEXT:    kiln.reshape %[[X]], %[[S]] {allowzero = true} : (tensor<?x64xf32>, tensor<3xi64>) -> tensor<?x4x16xf32>
func.func @reshape_allowzero(%x: tensor<?x64xf32>) -> tensor<?x4x16xf32> {
  %c0 = kiln.constant dense<0> : tensor<1xi64>
  %c4 = kiln.constant dense<4> : tensor<1xi64>
  %c16 = kiln.constant dense<16> : tensor<1xi64>
  %s = kiln.shape %x : (tensor<?x64xf32>) -> tensor<2xi64>
  %b = kiln.gather %s, %c0 : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
  %shape = kiln.concat %b, %c4, %c16 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3xi64>
  %r = kiln.reshape %x, %shape {allowzero = true} : (tensor<?x64xf32>, tensor<3xi64>) -> tensor<?x4x16xf32>
  return %r : tensor<?x4x16xf32>
}

// -----

// An entry that is dim 0 of another, unrelated tensor is not a copy of the
// input's dim 0 (no 0): being the one unknown entry it becomes -1.
// CHECK-LABEL: func.func @reshape_other_tensor_dim(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x64xf32>, %[[Y:[^:]*]]: tensor<?x8xf32>
// CHECK:         %[[S:.*]] = kiln.constant dense<[-1, 4, 16]> : tensor<3xi64>
// CHECK-NEXT:    kiln.reshape %[[X]], %[[S]]
func.func @reshape_other_tensor_dim(%x: tensor<?x64xf32>, %y: tensor<?x8xf32>) -> tensor<?x4x16xf32> {
  %c0 = kiln.constant dense<0> : tensor<1xi64>
  %c4 = kiln.constant dense<4> : tensor<1xi64>
  %c16 = kiln.constant dense<16> : tensor<1xi64>
  %s = kiln.shape %y : (tensor<?x8xf32>) -> tensor<2xi64>
  %b = kiln.gather %s, %c0 : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
  %shape = kiln.concat %b, %c4, %c16 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3xi64>
  %r = kiln.reshape %x, %shape : (tensor<?x64xf32>, tensor<3xi64>) -> tensor<?x4x16xf32>
  return %r : tensor<?x4x16xf32>
}

// -----

// Negative: the same for Expand: dim 0 of an unrelated tensor is not the
// input's dim, so it does not become 1 and the shape chain stays.
// CHECK-LABEL: func.func @expand_other_tensor_dim(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x1xf32>, %[[Y:[^:]*]]: tensor<?x8xf32>
// CHECK:         kiln.shape %[[Y]]
// CHECK:         %[[S:.*]] = kiln.concat
// CHECK-NEXT:    kiln.expand %[[X]], %[[S]]
func.func @expand_other_tensor_dim(%x: tensor<?x1xf32>, %y: tensor<?x8xf32>) -> tensor<?x5xf32> {
  %c0 = kiln.constant dense<0> : tensor<1xi64>
  %c5 = kiln.constant dense<5> : tensor<1xi64>
  %s = kiln.shape %y : (tensor<?x8xf32>) -> tensor<2xi64>
  %b = kiln.gather %s, %c0 : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
  %shape = kiln.concat %b, %c5 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %e = kiln.expand %x, %shape : (tensor<?x1xf32>, tensor<2xi64>) -> tensor<?x5xf32>
  return %e : tensor<?x5xf32>
}

// -----

// Negative: [copy, unknown, 64] could be [0, -1, 64], but a -1 next to a
// copied dynamic dim is left alone: the computed shape stays.
// CHECK-LABEL: func.func @reshape_ambiguous_infer(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x?x64xf32>, %[[Y:[^:]*]]: tensor<?x8xf32>
// CHECK-DAG:     kiln.shape %[[X]]
// CHECK-DAG:     kiln.shape %[[Y]]
// CHECK:         %[[S:.*]] = kiln.concat
// CHECK-NEXT:    kiln.reshape %[[X]], %[[S]] : (tensor<?x?x64xf32>, tensor<3xi64>) -> tensor<?x?x64xf32>
func.func @reshape_ambiguous_infer(%x: tensor<?x?x64xf32>, %y: tensor<?x8xf32>) -> tensor<?x?x64xf32> {
  %c0 = kiln.constant dense<0> : tensor<1xi64>
  %c64 = kiln.constant dense<64> : tensor<1xi64>
  %sx = kiln.shape %x : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %b = kiln.gather %sx, %c0 : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %sy = kiln.shape %y : (tensor<?x8xf32>) -> tensor<2xi64>
  %n = kiln.gather %sy, %c0 : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
  %shape = kiln.concat %b, %n, %c64 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3xi64>
  %r = kiln.reshape %x, %shape : (tensor<?x?x64xf32>, tensor<3xi64>) -> tensor<?x?x64xf32>
  return %r : tensor<?x?x64xf32>
}

// -----

// Negative: a concat along a negative axis (-2, GPT-2's KV cache) changes
// that dim: its extent is not the first input's, so the reshape entry taken
// from the past keys' length is not a copy of the concatenation's dim.
// CHECK-LABEL: func.func @concat_negative_axis(
// CHECK-NOT:     dense<[0, 0, 0, 16]>
// CHECK:         kiln.reshape
func.func @concat_negative_axis(%past: tensor<1x4x?x16xf32>, %new: tensor<1x4x?x16xf32>) -> tensor<1x4x?x16xf32> {
  %c = kiln.concat %past, %new {axis = -2 : i64} : (tensor<1x4x?x16xf32>, tensor<1x4x?x16xf32>) -> tensor<1x4x?x16xf32>
  %s = kiln.shape %past : (tensor<1x4x?x16xf32>) -> tensor<4xi64>
  %r = kiln.reshape %c, %s : (tensor<1x4x?x16xf32>, tensor<4xi64>) -> tensor<1x4x?x16xf32>
  return %r : tensor<1x4x?x16xf32>
}

// -----

// LLaMA builds the head split of its Q projection from the layer input's
// shape. After kiln-merge-linears the projection is a slice of a merged
// matmul (and a linear's result keeps its input's leading dims too): B and S
// are still the input's, through the split (off its axis) and the matmul
// by a matrix, so they become 0. Splitting along the dim itself would not
// keep it (next test).
// CHECK-LABEL: func.func @reshape_of_merged_slice(
// CHECK:         %[[S:.*]] = kiln.constant dense<[0, 0, 2, 4]> : tensor<4xi64>
// CHECK:         %[[Q:.*]]:2 = kiln.split
// CHECK-NEXT:    %[[R:.*]] = kiln.reshape %[[Q]]#0, %[[S]] : (tensor<?x?x8xf32>, tensor<4xi64>) -> tensor<?x?x2x4xf32>
// CHECK:         %[[L:.*]] = kiln.linear
// CHECK-NEXT:    kiln.reshape %[[L]], %[[S]] : (tensor<?x?x8xf32>, tensor<4xi64>) -> tensor<?x?x2x4xf32>
func.func @reshape_of_merged_slice(%x: tensor<?x?x16xf32>, %w: tensor<16x12xf32>, %v: tensor<16x8xf32>) -> (tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>) {
  %c0 = kiln.constant dense<0> : tensor<i64>
  %c1 = kiln.constant dense<1> : tensor<i64>
  %c2 = kiln.constant dense<2> : tensor<1xi64>
  %c4 = kiln.constant dense<4> : tensor<1xi64>
  %s = kiln.shape %x : (tensor<?x?x16xf32>) -> tensor<3xi64>
  %b = kiln.gather %s, %c0 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %bu = kiln.unsqueeze %b {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %n = kiln.gather %s, %c1 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %nu = kiln.unsqueeze %n {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %shape = kiln.concat %bu, %nu, %c2, %c4 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %m = kiln.matmul %x, %w : (tensor<?x?x16xf32>, tensor<16x12xf32>) -> tensor<?x?x12xf32>
  %q:2 = kiln.split %m {axis = 2 : i64, sizes = array<i64: 8, 4>} : (tensor<?x?x12xf32>) -> (tensor<?x?x8xf32>, tensor<?x?x4xf32>)
  %r = kiln.reshape %q#0, %shape : (tensor<?x?x8xf32>, tensor<4xi64>) -> tensor<?x?x2x4xf32>
  %l = kiln.linear %x, %v {activation = "relu"} : (tensor<?x?x16xf32>, tensor<16x8xf32>) -> tensor<?x?x8xf32>
  %r2 = kiln.reshape %l, %shape : (tensor<?x?x8xf32>, tensor<4xi64>) -> tensor<?x?x2x4xf32>
  return %r, %r2 : tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>
}

// -----

// Must not fire: the split is along dim 1, so the slice's dim 1 is not the
// input's; the reshape keeps its traced shape (no 0 at position 1).
// CHECK-LABEL: func.func @reshape_of_split_axis(
// CHECK-NOT:     dense<[0, 0, 2, 4]>
// CHECK:         %[[C:.*]] = kiln.concat
// CHECK:         kiln.reshape %{{.*}}, %[[C]]
func.func @reshape_of_split_axis(%x: tensor<?x?x8xf32>) -> tensor<?x?x2x4xf32> {
  %c0 = kiln.constant dense<0> : tensor<i64>
  %c1 = kiln.constant dense<1> : tensor<i64>
  %c2 = kiln.constant dense<2> : tensor<1xi64>
  %c4 = kiln.constant dense<4> : tensor<1xi64>
  %s = kiln.shape %x : (tensor<?x?x8xf32>) -> tensor<3xi64>
  %b = kiln.gather %s, %c0 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %bu = kiln.unsqueeze %b {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %n = kiln.gather %s, %c1 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %nu = kiln.unsqueeze %n {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %shape = kiln.concat %bu, %nu, %c2, %c4 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %p:2 = kiln.split %x {axis = 1 : i64} : (tensor<?x?x8xf32>) -> (tensor<?x?x8xf32>, tensor<?x?x8xf32>)
  %r = kiln.reshape %p#0, %shape : (tensor<?x?x8xf32>, tensor<4xi64>) -> tensor<?x?x2x4xf32>
  return %r : tensor<?x?x2x4xf32>
}

// -----

// A constant-zero Pad of the spatial dims in front of a convolution
// (tf2onnx's SAME padding at stride 2) and in front of an average pooling
// (torch's older exports of avg_pool2d with count_include_pad, Inception)
// becomes the op's own pads; the pooling then counts its pads. The pad
// value may be given as a zero constant or left out.
// CHECK-LABEL: func.func @pads_absorbed(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x8x15x15xf32>
// CHECK-NOT:     kiln.pad
// CHECK:         kiln.conv %[[X]], %{{.*}} {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 1, 1>, strides = array<i64: 2, 2>}
// CHECK:         kiln.average_pool %[[X]] {count_include_pad = true, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
// CHECK:         kiln.average_pool %[[X]] {count_include_pad = true, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 1, 0, 2, 1>, strides = array<i64: 2, 2>}
func.func @pads_absorbed(%x: tensor<?x8x15x15xf32>, %w: tensor<4x8x3x3xf32>) -> (tensor<?x4x7x7xf32>, tensor<?x8x15x15xf32>, tensor<?x8x9x8xf32>) {
  %zero = kiln.constant dense<0.0> : tensor<f32>
  %p0 = kiln.pad %x value %zero {pads = array<i64: 0, 0, 0, 0, 0, 0, 1, 1>} : (tensor<?x8x15x15xf32>, tensor<f32>) -> tensor<?x8x16x16xf32>
  %0 = kiln.conv %p0, %w {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<?x8x16x16xf32>, tensor<4x8x3x3xf32>) -> tensor<?x4x7x7xf32>
  %p1 = kiln.pad %x {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>} : (tensor<?x8x15x15xf32>) -> tensor<?x8x17x17xf32>
  %1 = kiln.average_pool %p1 {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<?x8x17x17xf32>) -> tensor<?x8x15x15xf32>
  %p2 = kiln.pad %x {pads = array<i64: 0, 0, 1, 0, 0, 0, 1, 0>} : (tensor<?x8x15x15xf32>) -> tensor<?x8x17x15xf32>
  %2 = kiln.average_pool %p2 {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 1, 1>, dilations = array<i64: 1, 1>, count_include_pad = true} : (tensor<?x8x17x15xf32>) -> tensor<?x8x9x8xf32>
  return %0, %1, %2 : tensor<?x4x7x7xf32>, tensor<?x8x15x15xf32>, tensor<?x8x9x8xf32>
}

// -----

// Pads that stay: a nonzero value, reflect mode, a channel pad, a pad used
// twice, an average pooling whose own pads are not counted (the pad's
// zeros are), and one with ceil_mode (whether it keeps a last window
// depends on where its input ends, which the fold would move).
// CHECK-LABEL: func.func @pads_kept(
// CHECK-COUNT-6: kiln.pad
func.func @pads_kept(%x: tensor<1x8x15x15xf32>, %w: tensor<4x8x3x3xf32>, %w2: tensor<4x10x3x3xf32>) -> (tensor<1x4x14x14xf32>, tensor<1x4x14x14xf32>, tensor<1x4x14x14xf32>, tensor<1x4x14x14xf32>, tensor<1x4x7x7xf32>, tensor<1x8x17x17xf32>, tensor<1x8x9x8xf32>) {
  %one = kiln.constant dense<1.0> : tensor<f32>
  %p0 = kiln.pad %x value %one {pads = array<i64: 0, 0, 0, 0, 0, 0, 1, 1>} : (tensor<1x8x15x15xf32>, tensor<f32>) -> tensor<1x8x16x16xf32>
  %0 = kiln.conv %p0, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x8x16x16xf32>, tensor<4x8x3x3xf32>) -> tensor<1x4x14x14xf32>
  %p1 = kiln.pad %x {pads = array<i64: 0, 0, 0, 0, 0, 0, 1, 1>, mode = "reflect"} : (tensor<1x8x15x15xf32>) -> tensor<1x8x16x16xf32>
  %1 = kiln.conv %p1, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x8x16x16xf32>, tensor<4x8x3x3xf32>) -> tensor<1x4x14x14xf32>
  %p2 = kiln.pad %x {pads = array<i64: 0, 1, 0, 0, 0, 1, 1, 1>} : (tensor<1x8x15x15xf32>) -> tensor<1x10x16x16xf32>
  %2 = kiln.conv %p2, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x10x16x16xf32>, tensor<4x10x3x3xf32>) -> tensor<1x4x14x14xf32>
  %p3 = kiln.pad %x {pads = array<i64: 0, 0, 0, 0, 0, 0, 1, 1>} : (tensor<1x8x15x15xf32>) -> tensor<1x8x16x16xf32>
  %3 = kiln.conv %p3, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x8x16x16xf32>, tensor<4x8x3x3xf32>) -> tensor<1x4x14x14xf32>
  %4 = kiln.conv %p3, %w {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x8x16x16xf32>, tensor<4x8x3x3xf32>) -> tensor<1x4x7x7xf32>
  %p4 = kiln.pad %x {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>} : (tensor<1x8x15x15xf32>) -> tensor<1x8x17x17xf32>
  %5 = kiln.average_pool %p4 {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x8x17x17xf32>) -> tensor<1x8x17x17xf32>
  %p5 = kiln.pad %x {pads = array<i64: 0, 0, 1, 0, 0, 0, 1, 0>} : (tensor<1x8x15x15xf32>) -> tensor<1x8x17x15xf32>
  %6 = kiln.average_pool %p5 {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 1, 1>, dilations = array<i64: 1, 1>, count_include_pad = true, ceil_mode = true} : (tensor<1x8x17x15xf32>) -> tensor<1x8x9x8xf32>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<1x4x14x14xf32>, tensor<1x4x14x14xf32>, tensor<1x4x14x14xf32>, tensor<1x4x14x14xf32>, tensor<1x4x7x7xf32>, tensor<1x8x17x17xf32>, tensor<1x8x9x8xf32>
}
