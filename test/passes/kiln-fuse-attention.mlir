// RUN: kiln-opt %s -split-input-file -pass-pipeline="builtin.module(func.func(kiln-fuse-attention))" | FileCheck %s

// Basic multi-head attention as torch exports it: K transposed by a
// Transpose swapping the last two dims, scores divided by sqrt(D) = 4.
// The transpose is absorbed (the op reads K untransposed), 1/4 becomes the
// scale, and the whole chain goes away.
// CHECK-LABEL: func.func @mha_div_scale(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<2x4x8x16xf32>, %[[K:[^:]*]]: tensor<2x4x8x16xf32>, %[[V:[^:]*]]: tensor<2x4x8x16xf32>
// CHECK-NEXT:    %[[A:.*]] = kiln.attention %[[Q]], %[[K]], %[[V]] {scale = 2.500000e-01 : f32} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
// CHECK-NOT:     kiln.transpose
// CHECK-NOT:     kiln.matmul
// CHECK-NOT:     kiln.softmax
// CHECK-NEXT:    return %[[A]]
func.func @mha_div_scale(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %c = kiln.constant dense<4.0> : tensor<f32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x8x16xf32>) -> tensor<2x4x16x8xf32>
  %s = kiln.matmul %q, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %d = kiln.div %s, %c : (tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %d {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// Mul scale with the constant on the left, softmax axis spelled as rank-1,
// and a value head size (Dv = 32) different from the query's.
// CHECK-LABEL: func.func @mha_mul_scale(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<1x2x6x8xf32>, %[[K:[^:]*]]: tensor<1x2x10x8xf32>, %[[V:[^:]*]]: tensor<1x2x10x32xf32>
// CHECK-NEXT:    %[[A:.*]] = kiln.attention %[[Q]], %[[K]], %[[V]] {scale = 1.250000e-01 : f32} : (tensor<1x2x6x8xf32>, tensor<1x2x10x8xf32>, tensor<1x2x10x32xf32>) -> tensor<1x2x6x32xf32>
// CHECK-NEXT:    return %[[A]]
func.func @mha_mul_scale(%q: tensor<1x2x6x8xf32>, %k: tensor<1x2x10x8xf32>, %v: tensor<1x2x10x32xf32>) -> tensor<1x2x6x32xf32> {
  %c = kiln.constant dense<0.125> : tensor<f32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x10x8xf32>) -> tensor<1x2x8x10xf32>
  %s = kiln.matmul %q, %kt : (tensor<1x2x6x8xf32>, tensor<1x2x8x10xf32>) -> tensor<1x2x6x10xf32>
  %m = kiln.mul %c, %s : (tensor<f32>, tensor<1x2x6x10xf32>) -> tensor<1x2x6x10xf32>
  %p = kiln.softmax %m {axis = 3 : i64} : tensor<1x2x6x10xf32> -> tensor<1x2x6x10xf32>
  %o = kiln.matmul %p, %v : (tensor<1x2x6x10xf32>, tensor<1x2x10x32xf32>) -> tensor<1x2x6x32xf32>
  return %o : tensor<1x2x6x32xf32>
}

// -----

// No scale at all: scale 1.
// CHECK-LABEL: func.func @mha_unscaled(
// CHECK:         kiln.attention %{{.*}}, %{{.*}}, %{{.*}} {scale = 1.000000e+00 : f32}
// CHECK-NOT:     kiln.softmax
func.func @mha_unscaled(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x8x16xf32>) -> tensor<2x4x16x8xf32>
  %s = kiln.matmul %q, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %s {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// The scale applied to Q before the matmul (HF exports q * D^-0.5).
// CHECK-LABEL: func.func @scale_on_query(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<2x4x8x16xf32>, %[[K:[^:]*]]: tensor<2x4x8x16xf32>, %[[V:[^:]*]]: tensor<2x4x8x16xf32>
// CHECK-NEXT:    %[[A:.*]] = kiln.attention %[[Q]], %[[K]], %[[V]] {scale = 2.500000e-01 : f32}
// CHECK-NOT:     kiln.mul
// CHECK-NEXT:    return %[[A]]
func.func @scale_on_query(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %c = kiln.constant dense<0.25> : tensor<f32>
  %qs = kiln.mul %q, %c : (tensor<2x4x8x16xf32>, tensor<f32>) -> tensor<2x4x8x16xf32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x8x16xf32>) -> tensor<2x4x16x8xf32>
  %s = kiln.matmul %qs, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %s {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// Scales on Q (* 0.5), on K^T (/ 2) and on the scores (* 0.5) multiply:
// 0.5 * 0.5 * 0.5 = 0.125.
// CHECK-LABEL: func.func @scale_on_query_key_and_scores(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<2x4x8x16xf32>, %[[K:[^:]*]]: tensor<2x4x8x16xf32>, %[[V:[^:]*]]: tensor<2x4x8x16xf32>
// CHECK-NEXT:    %[[A:.*]] = kiln.attention %[[Q]], %[[K]], %[[V]] {scale = 1.250000e-01 : f32}
// CHECK-NOT:     kiln.mul
// CHECK-NOT:     kiln.div
// CHECK-NEXT:    return %[[A]]
func.func @scale_on_query_key_and_scores(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %half = kiln.constant dense<0.5> : tensor<f32>
  %two = kiln.constant dense<2.0> : tensor<f32>
  %qs = kiln.mul %q, %half : (tensor<2x4x8x16xf32>, tensor<f32>) -> tensor<2x4x8x16xf32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x8x16xf32>) -> tensor<2x4x16x8xf32>
  %kts = kiln.div %kt, %two : (tensor<2x4x16x8xf32>, tensor<f32>) -> tensor<2x4x16x8xf32>
  %s = kiln.matmul %qs, %kts : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %ss = kiln.mul %s, %half : (tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %ss {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// A non-constant scale on Q is not absorbed: Q * c stays and is the query.
// CHECK-LABEL: func.func @query_scale_not_constant(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<2x4x8x16xf32>, %[[K:[^:]*]]: tensor<2x4x8x16xf32>, %[[V:[^:]*]]: tensor<2x4x8x16xf32>, %[[C:[^:]*]]: tensor<f32>
// CHECK-NEXT:    %[[QS:.*]] = kiln.mul %[[Q]], %[[C]]
// CHECK-NEXT:    %[[A:.*]] = kiln.attention %[[QS]], %[[K]], %[[V]] {scale = 1.000000e+00 : f32}
// CHECK-NEXT:    return %[[A]]
func.func @query_scale_not_constant(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %c: tensor<f32>) -> tensor<2x4x8x16xf32> {
  %qs = kiln.mul %q, %c : (tensor<2x4x8x16xf32>, tensor<f32>) -> tensor<2x4x8x16xf32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x8x16xf32>) -> tensor<2x4x16x8xf32>
  %s = kiln.matmul %qs, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %s {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// BERT's additive float mask [B, 1, 1, Sk] after the scale.
// CHECK-LABEL: func.func @additive_mask(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<2x4x8x16xf32>, %[[K:[^:]*]]: tensor<2x4x8x16xf32>, %[[V:[^:]*]]: tensor<2x4x8x16xf32>, %[[M:[^:]*]]: tensor<2x1x1x8xf32>
// CHECK-NEXT:    %[[A:.*]] = kiln.attention %[[Q]], %[[K]], %[[V]] mask %[[M]] {scale = 2.500000e-01 : f32} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x1x1x8xf32>) -> tensor<2x4x8x16xf32>
// CHECK-NOT:     kiln.add
// CHECK-NEXT:    return %[[A]]
func.func @additive_mask(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %mask: tensor<2x1x1x8xf32>) -> tensor<2x4x8x16xf32> {
  %c = kiln.constant dense<4.0> : tensor<f32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x8x16xf32>) -> tensor<2x4x16x8xf32>
  %s = kiln.matmul %q, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %d = kiln.div %s, %c : (tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xf32>
  %a = kiln.add %d, %mask : (tensor<2x4x8x8xf32>, tensor<2x1x1x8xf32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %a {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// The mask on the left of the Add, and of lower rank ([Sq, Sk]).
// CHECK-LABEL: func.func @additive_mask_lhs(
// CHECK-SAME:    %[[M:[^:]*]]: tensor<8x8xf32>
// CHECK-NEXT:    %[[A:.*]] = kiln.attention %{{.*}}, %{{.*}}, %{{.*}} mask %[[M]] {scale = 1.000000e+00 : f32}
// CHECK-NOT:     kiln.add
func.func @additive_mask_lhs(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %mask: tensor<8x8xf32>) -> tensor<2x4x8x16xf32> {
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x8x16xf32>) -> tensor<2x4x16x8xf32>
  %s = kiln.matmul %q, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %a = kiln.add %mask, %s : (tensor<8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %a {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// A boolean mask: where(mask, scores, fill) keeps the scores where the mask
// is true; the constant fill becomes mask_fill.
// CHECK-LABEL: func.func @bool_mask_where(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<2x4x8x16xf32>, %[[K:[^:]*]]: tensor<2x4x8x16xf32>, %[[V:[^:]*]]: tensor<2x4x8x16xf32>, %[[M:[^:]*]]: tensor<1x1x8x8xi1>
// CHECK-NEXT:    %[[A:.*]] = kiln.attention %[[Q]], %[[K]], %[[V]] mask %[[M]] {mask_fill = -1.000000e+09 : f32, scale = 2.500000e-01 : f32} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<1x1x8x8xi1>) -> tensor<2x4x8x16xf32>
// CHECK-NOT:     kiln.where
// CHECK-NOT:     kiln.not
// CHECK-NEXT:    return %[[A]]
func.func @bool_mask_where(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %mask: tensor<1x1x8x8xi1>) -> tensor<2x4x8x16xf32> {
  %c = kiln.constant dense<4.0> : tensor<f32>
  %fill = kiln.constant dense<-1.0e9> : tensor<f32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x8x16xf32>) -> tensor<2x4x16x8xf32>
  %s = kiln.matmul %q, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %d = kiln.div %s, %c : (tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xf32>
  %w = kiln.where %mask, %d, %fill : (tensor<1x1x8x8xi1>, tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %w {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// The inverted form where(mask, fill, scores) (GPT-2's masked_fill of the
// future positions): the op gets not(mask).
// CHECK-LABEL: func.func @bool_mask_where_inverted(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<2x4x8x16xf32>, %[[K:[^:]*]]: tensor<2x4x8x16xf32>, %[[V:[^:]*]]: tensor<2x4x8x16xf32>, %[[M:[^:]*]]: tensor<1x1x8x8xi1>
// CHECK-NEXT:    %[[N:.*]] = kiln.not %[[M]] : tensor<1x1x8x8xi1>
// CHECK-NEXT:    %[[A:.*]] = kiln.attention %[[Q]], %[[K]], %[[V]] mask %[[N]] {mask_fill = -3.40282347E+38 : f32, scale = 2.500000e-01 : f32}
// CHECK-NOT:     kiln.where
// CHECK-NEXT:    return %[[A]]
func.func @bool_mask_where_inverted(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %mask: tensor<1x1x8x8xi1>) -> tensor<2x4x8x16xf32> {
  %c = kiln.constant dense<0.25> : tensor<f32>
  %fill = kiln.constant dense<-3.40282347e+38> : tensor<f32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x8x16xf32>) -> tensor<2x4x16x8xf32>
  %s = kiln.matmul %q, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %d = kiln.mul %s, %c : (tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xf32>
  %w = kiln.where %mask, %fill, %d : (tensor<1x1x8x8xi1>, tensor<f32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %w {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// K^T that comes in already transposed (not a kiln.transpose): the pattern
// inserts the transpose back to [B, H, Sk, D] for the op's key operand.
// CHECK-LABEL: func.func @key_not_transposed(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<2x4x8x16xf32>, %[[KT:[^:]*]]: tensor<2x4x16x10xf32>, %[[V:[^:]*]]: tensor<2x4x10x16xf32>
// CHECK-NEXT:    %[[K:.*]] = kiln.transpose %[[KT]] {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x16x10xf32>) -> tensor<2x4x10x16xf32>
// CHECK-NEXT:    %[[A:.*]] = kiln.attention %[[Q]], %[[K]], %[[V]] {scale = 2.500000e-01 : f32} : (tensor<2x4x8x16xf32>, tensor<2x4x10x16xf32>, tensor<2x4x10x16xf32>) -> tensor<2x4x8x16xf32>
// CHECK-NEXT:    return %[[A]]
func.func @key_not_transposed(%q: tensor<2x4x8x16xf32>, %kt: tensor<2x4x16x10xf32>, %v: tensor<2x4x10x16xf32>) -> tensor<2x4x8x16xf32> {
  %c = kiln.constant dense<4.0> : tensor<f32>
  %s = kiln.matmul %q, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x10xf32>) -> tensor<2x4x8x10xf32>
  %d = kiln.div %s, %c : (tensor<2x4x8x10xf32>, tensor<f32>) -> tensor<2x4x8x10xf32>
  %p = kiln.softmax %d {axis = -1 : i64} : tensor<2x4x8x10xf32> -> tensor<2x4x8x10xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x10xf32>, tensor<2x4x10x16xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// A transpose that does not swap the last two dims is K^T itself, not a way
// to undo it: it stays and a swap of the last two dims is inserted after it.
// CHECK-LABEL: func.func @key_other_transpose(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<2x4x8x16xf32>, %[[KR:[^:]*]]: tensor<2x16x4x8xf32>
// CHECK-NEXT:    %[[KT:.*]] = kiln.transpose %[[KR]] {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x16x4x8xf32>) -> tensor<2x4x16x8xf32>
// CHECK-NEXT:    %[[K:.*]] = kiln.transpose %[[KT]] {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x16x8xf32>) -> tensor<2x4x8x16xf32>
// CHECK-NEXT:    kiln.attention %[[Q]], %[[K]], %{{.*}} {scale = 1.000000e+00 : f32}
func.func @key_other_transpose(%q: tensor<2x4x8x16xf32>, %kr: tensor<2x16x4x8xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %kt = kiln.transpose %kr {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x16x4x8xf32>) -> tensor<2x4x16x8xf32>
  %s = kiln.matmul %q, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %s {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// Rank-3 attention ([N, S, D], heads folded into the batch): the dim before
// the sequence is the head dim.
// CHECK-LABEL: func.func @rank3(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<8x6x16xf32>, %[[K:[^:]*]]: tensor<8x6x16xf32>, %[[V:[^:]*]]: tensor<8x6x16xf32>
// CHECK-NEXT:    %[[A:.*]] = kiln.attention %[[Q]], %[[K]], %[[V]] {scale = 2.500000e-01 : f32} : (tensor<8x6x16xf32>, tensor<8x6x16xf32>, tensor<8x6x16xf32>) -> tensor<8x6x16xf32>
// CHECK-NEXT:    return %[[A]]
func.func @rank3(%q: tensor<8x6x16xf32>, %k: tensor<8x6x16xf32>, %v: tensor<8x6x16xf32>) -> tensor<8x6x16xf32> {
  %c = kiln.constant dense<4.0> : tensor<f32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 2, 1>} : (tensor<8x6x16xf32>) -> tensor<8x16x6xf32>
  %s = kiln.matmul %q, %kt : (tensor<8x6x16xf32>, tensor<8x16x6xf32>) -> tensor<8x6x6xf32>
  %d = kiln.div %s, %c : (tensor<8x6x6xf32>, tensor<f32>) -> tensor<8x6x6xf32>
  %p = kiln.softmax %d {axis = -1 : i64} : tensor<8x6x6xf32> -> tensor<8x6x6xf32>
  %o = kiln.matmul %p, %v : (tensor<8x6x6xf32>, tensor<8x6x16xf32>) -> tensor<8x6x16xf32>
  return %o : tensor<8x6x16xf32>
}

// -----

// Dynamic batch and sequence lengths.
// CHECK-LABEL: func.func @dynamic_dims(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<?x4x?x16xf32>, %[[K:[^:]*]]: tensor<?x4x?x16xf32>, %[[V:[^:]*]]: tensor<?x4x?x16xf32>, %[[M:[^:]*]]: tensor<?x1x1x?xf32>
// CHECK-NEXT:    %[[A:.*]] = kiln.attention %[[Q]], %[[K]], %[[V]] mask %[[M]] {scale = 2.500000e-01 : f32} : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x1x1x?xf32>) -> tensor<?x4x?x16xf32>
// CHECK-NEXT:    return %[[A]]
func.func @dynamic_dims(%q: tensor<?x4x?x16xf32>, %k: tensor<?x4x?x16xf32>, %v: tensor<?x4x?x16xf32>, %mask: tensor<?x1x1x?xf32>) -> tensor<?x4x?x16xf32> {
  %c = kiln.constant dense<4.0> : tensor<f32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %s = kiln.matmul %q, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %d = kiln.div %s, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %a = kiln.add %d, %mask : (tensor<?x4x?x?xf32>, tensor<?x1x1x?xf32>) -> tensor<?x4x?x?xf32>
  %p = kiln.softmax %a {axis = -1 : i64} : tensor<?x4x?x?xf32> -> tensor<?x4x?x?xf32>
  %o = kiln.matmul %p, %v : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// Grouped-query attention: 2 key/value heads each repeated twice for 4 query
// heads with reshape(expand(unsqueeze(kv, [2]), [1, 2, 2, 7, 16]),
// [1, 4, 7, 16]). The op reads the 2-head K and V directly and the repeat
// chains die.
// CHECK-LABEL: func.func @gqa_head_repeat(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<1x4x7x16xf32>, %[[K:[^:]*]]: tensor<1x2x7x16xf32>, %[[V:[^:]*]]: tensor<1x2x7x16xf32>
// CHECK-NEXT:    %[[A:.*]] = kiln.attention %[[Q]], %[[K]], %[[V]] {scale = 2.500000e-01 : f32} : (tensor<1x4x7x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>) -> tensor<1x4x7x16xf32>
// CHECK-NOT:     kiln.unsqueeze
// CHECK-NOT:     kiln.expand
// CHECK-NOT:     kiln.reshape
// CHECK-NEXT:    return %[[A]]
func.func @gqa_head_repeat(%q: tensor<1x4x7x16xf32>, %k: tensor<1x2x7x16xf32>, %v: tensor<1x2x7x16xf32>) -> tensor<1x4x7x16xf32> {
  %c = kiln.constant dense<4.0> : tensor<f32>
  %es = kiln.constant dense<[1, 2, 2, 7, 16]> : tensor<5xi64>
  %rs = kiln.constant dense<[1, 4, 7, 16]> : tensor<4xi64>
  %ku = kiln.unsqueeze %k {axes = array<i64: 2>} : (tensor<1x2x7x16xf32>) -> tensor<1x2x1x7x16xf32>
  %ke = kiln.expand %ku, %es : (tensor<1x2x1x7x16xf32>, tensor<5xi64>) -> tensor<1x2x2x7x16xf32>
  %kr = kiln.reshape %ke, %rs : (tensor<1x2x2x7x16xf32>, tensor<4xi64>) -> tensor<1x4x7x16xf32>
  %vu = kiln.unsqueeze %v {axes = array<i64: 2>} : (tensor<1x2x7x16xf32>) -> tensor<1x2x1x7x16xf32>
  %ve = kiln.expand %vu, %es : (tensor<1x2x1x7x16xf32>, tensor<5xi64>) -> tensor<1x2x2x7x16xf32>
  %vr = kiln.reshape %ve, %rs : (tensor<1x2x2x7x16xf32>, tensor<4xi64>) -> tensor<1x4x7x16xf32>
  %kt = kiln.transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x7x16xf32>) -> tensor<1x4x16x7xf32>
  %s = kiln.matmul %q, %kt : (tensor<1x4x7x16xf32>, tensor<1x4x16x7xf32>) -> tensor<1x4x7x7xf32>
  %d = kiln.div %s, %c : (tensor<1x4x7x7xf32>, tensor<f32>) -> tensor<1x4x7x7xf32>
  %p = kiln.softmax %d {axis = -1 : i64} : tensor<1x4x7x7xf32> -> tensor<1x4x7x7xf32>
  %o = kiln.matmul %p, %vr : (tensor<1x4x7x7xf32>, tensor<1x4x7x16xf32>) -> tensor<1x4x7x16xf32>
  return %o : tensor<1x4x7x16xf32>
}

// -----

// Only the key is head-repeated (the value already has 4 heads): the repeats
// of K and V differ, so the op keeps the repeated 4-head key.
// CHECK-LABEL: func.func @gqa_key_only(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<1x4x7x16xf32>, %[[K:[^:]*]]: tensor<1x2x7x16xf32>, %[[V:[^:]*]]: tensor<1x4x7x16xf32>
// CHECK:         %[[KR:.*]] = kiln.reshape
// CHECK-NOT:     kiln.transpose
// CHECK:         %[[A:.*]] = kiln.attention %[[Q]], %[[KR]], %[[V]] {scale = 1.000000e+00 : f32} : (tensor<1x4x7x16xf32>, tensor<1x4x7x16xf32>, tensor<1x4x7x16xf32>) -> tensor<1x4x7x16xf32>
// CHECK-NEXT:    return %[[A]]
func.func @gqa_key_only(%q: tensor<1x4x7x16xf32>, %k: tensor<1x2x7x16xf32>, %v: tensor<1x4x7x16xf32>) -> tensor<1x4x7x16xf32> {
  %es = kiln.constant dense<[1, 2, 2, 7, 16]> : tensor<5xi64>
  %rs = kiln.constant dense<[1, 4, 7, 16]> : tensor<4xi64>
  %ku = kiln.unsqueeze %k {axes = array<i64: 2>} : (tensor<1x2x7x16xf32>) -> tensor<1x2x1x7x16xf32>
  %ke = kiln.expand %ku, %es : (tensor<1x2x1x7x16xf32>, tensor<5xi64>) -> tensor<1x2x2x7x16xf32>
  %kr = kiln.reshape %ke, %rs : (tensor<1x2x2x7x16xf32>, tensor<4xi64>) -> tensor<1x4x7x16xf32>
  %kt = kiln.transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x7x16xf32>) -> tensor<1x4x16x7xf32>
  %s = kiln.matmul %q, %kt : (tensor<1x4x7x16xf32>, tensor<1x4x16x7xf32>) -> tensor<1x4x7x7xf32>
  %p = kiln.softmax %s {axis = -1 : i64} : tensor<1x4x7x7xf32> -> tensor<1x4x7x7xf32>
  %o = kiln.matmul %p, %v : (tensor<1x4x7x7xf32>, tensor<1x4x7x16xf32>) -> tensor<1x4x7x16xf32>
  return %o : tensor<1x4x7x16xf32>
}

// -----

// The heads tiled instead of interleaved (unsqueeze at axis 1: heads
// [0, 1, 0, 1]) is not the h / r head mapping of the op: it still fuses, but
// the op reads the 4-head repeated K and V and the repeat chains stay.
// CHECK-LABEL: func.func @gqa_heads_tiled(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<1x4x7x16xf32>, %[[K:[^:]*]]: tensor<1x2x7x16xf32>, %[[V:[^:]*]]: tensor<1x2x7x16xf32>
// CHECK:         %[[KU:.*]] = kiln.unsqueeze %[[K]] {axes = array<i64: 1>}
// CHECK:         %[[KE:.*]] = kiln.expand %[[KU]]
// CHECK:         %[[KR:.*]] = kiln.reshape %[[KE]]
// CHECK:         %[[VU:.*]] = kiln.unsqueeze %[[V]] {axes = array<i64: 1>}
// CHECK:         %[[VE:.*]] = kiln.expand %[[VU]]
// CHECK:         %[[VR:.*]] = kiln.reshape %[[VE]]
// CHECK-NEXT:    %[[A:.*]] = kiln.attention %[[Q]], %[[KR]], %[[VR]] {scale = 1.000000e+00 : f32} : (tensor<1x4x7x16xf32>, tensor<1x4x7x16xf32>, tensor<1x4x7x16xf32>) -> tensor<1x4x7x16xf32>
func.func @gqa_heads_tiled(%q: tensor<1x4x7x16xf32>, %k: tensor<1x2x7x16xf32>, %v: tensor<1x2x7x16xf32>) -> tensor<1x4x7x16xf32> {
  %es = kiln.constant dense<[1, 2, 2, 7, 16]> : tensor<5xi64>
  %rs = kiln.constant dense<[1, 4, 7, 16]> : tensor<4xi64>
  %ku = kiln.unsqueeze %k {axes = array<i64: 1>} : (tensor<1x2x7x16xf32>) -> tensor<1x1x2x7x16xf32>
  %ke = kiln.expand %ku, %es : (tensor<1x1x2x7x16xf32>, tensor<5xi64>) -> tensor<1x2x2x7x16xf32>
  %kr = kiln.reshape %ke, %rs : (tensor<1x2x2x7x16xf32>, tensor<4xi64>) -> tensor<1x4x7x16xf32>
  %vu = kiln.unsqueeze %v {axes = array<i64: 1>} : (tensor<1x2x7x16xf32>) -> tensor<1x1x2x7x16xf32>
  %ve = kiln.expand %vu, %es : (tensor<1x1x2x7x16xf32>, tensor<5xi64>) -> tensor<1x2x2x7x16xf32>
  %vr = kiln.reshape %ve, %rs : (tensor<1x2x2x7x16xf32>, tensor<4xi64>) -> tensor<1x4x7x16xf32>
  %kt = kiln.transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x7x16xf32>) -> tensor<1x4x16x7xf32>
  %s = kiln.matmul %q, %kt : (tensor<1x4x7x16xf32>, tensor<1x4x16x7xf32>) -> tensor<1x4x7x7xf32>
  %p = kiln.softmax %s {axis = -1 : i64} : tensor<1x4x7x7xf32> -> tensor<1x4x7x7xf32>
  %o = kiln.matmul %p, %vr : (tensor<1x4x7x7xf32>, tensor<1x4x7x16xf32>) -> tensor<1x4x7x16xf32>
  return %o : tensor<1x4x7x16xf32>
}

// -----

// Negative: softmax over the query axis (2), not over the keys.
// CHECK-LABEL: func.func @softmax_not_last_axis(
// CHECK-NOT:     kiln.attention
// CHECK:         kiln.softmax %{{.*}} {axis = 2 : i64}
// CHECK-NOT:     kiln.attention
func.func @softmax_not_last_axis(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %c = kiln.constant dense<4.0> : tensor<f32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x8x16xf32>) -> tensor<2x4x16x8xf32>
  %s = kiln.matmul %q, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %d = kiln.div %s, %c : (tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %d {axis = 2 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// Negative: rank-2 attention (no head dim) is left alone.
// CHECK-LABEL: func.func @rank2(
// CHECK-NOT:     kiln.attention
// CHECK:         kiln.softmax
func.func @rank2(%q: tensor<6x16xf32>, %k: tensor<6x16xf32>, %v: tensor<6x16xf32>) -> tensor<6x16xf32> {
  %kt = kiln.transpose %k {perm = array<i64: 1, 0>} : (tensor<6x16xf32>) -> tensor<16x6xf32>
  %s = kiln.matmul %q, %kt : (tensor<6x16xf32>, tensor<16x6xf32>) -> tensor<6x6xf32>
  %p = kiln.softmax %s {axis = -1 : i64} : tensor<6x6xf32> -> tensor<6x6xf32>
  %o = kiln.matmul %p, %v : (tensor<6x6xf32>, tensor<6x16xf32>) -> tensor<6x16xf32>
  return %o : tensor<6x16xf32>
}

// -----

// Negative: the scaled scores are also returned, so they must stay.
// CHECK-LABEL: func.func @scores_reused(
// CHECK-NOT:     kiln.attention
// CHECK:         kiln.softmax
// CHECK:         kiln.matmul
func.func @scores_reused(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> (tensor<2x4x8x16xf32>, tensor<2x4x8x8xf32>) {
  %c = kiln.constant dense<4.0> : tensor<f32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x8x16xf32>) -> tensor<2x4x16x8xf32>
  %s = kiln.matmul %q, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %d = kiln.div %s, %c : (tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %d {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o, %d : tensor<2x4x8x16xf32>, tensor<2x4x8x8xf32>
}

// -----

// Negative: the raw (unscaled) scores have a second use.
// CHECK-LABEL: func.func @raw_scores_reused(
// CHECK-NOT:     kiln.attention
// CHECK:         kiln.softmax
func.func @raw_scores_reused(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> (tensor<2x4x8x16xf32>, tensor<2x4x8x8xf32>) {
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x8x16xf32>) -> tensor<2x4x16x8xf32>
  %s = kiln.matmul %q, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %s {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o, %s : tensor<2x4x8x16xf32>, tensor<2x4x8x8xf32>
}

// -----

// Negative: the probabilities are also returned (output_attentions).
// CHECK-LABEL: func.func @probs_reused(
// CHECK-NOT:     kiln.attention
// CHECK:         %[[P:.*]] = kiln.softmax
// CHECK:         %[[O:.*]] = kiln.matmul %[[P]]
// CHECK:         return %[[O]], %[[P]]
func.func @probs_reused(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> (tensor<2x4x8x16xf32>, tensor<2x4x8x8xf32>) {
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x8x16xf32>) -> tensor<2x4x16x8xf32>
  %s = kiln.matmul %q, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %s {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o, %p : tensor<2x4x8x16xf32>, tensor<2x4x8x8xf32>
}

// -----

// Negative: a scale that is not a constant (a function argument).
// CHECK-LABEL: func.func @scale_not_constant(
// CHECK-NOT:     kiln.attention
// CHECK:         kiln.div
// CHECK:         kiln.softmax
func.func @scale_not_constant(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %c: tensor<f32>) -> tensor<2x4x8x16xf32> {
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x8x16xf32>) -> tensor<2x4x16x8xf32>
  %s = kiln.matmul %q, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %d = kiln.div %s, %c : (tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %d {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// Negative: the QK matmul broadcasts a batch-1 Q against a batch-2 K; the
// op does not broadcast Q, so the operands do not form an attention.
// CHECK-LABEL: func.func @query_batch_broadcast(
// CHECK-NOT:     kiln.attention
// CHECK:         kiln.add
// CHECK:         kiln.softmax
// CHECK-NOT:     kiln.attention
func.func @query_batch_broadcast(%q: tensor<1x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %mask: tensor<2x1x1x8xf32>) -> tensor<2x4x8x16xf32> {
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x8x16xf32>) -> tensor<2x4x16x8xf32>
  %s = kiln.matmul %q, %kt : (tensor<1x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %a = kiln.add %s, %mask : (tensor<2x4x8x8xf32>, tensor<2x1x1x8xf32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %a {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// Negative: the where fill is not a constant.
// CHECK-LABEL: func.func @where_fill_not_constant(
// CHECK-NOT:     kiln.attention
// CHECK:         kiln.where
// CHECK:         kiln.softmax
func.func @where_fill_not_constant(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %mask: tensor<1x1x8x8xi1>, %fill: tensor<f32>) -> tensor<2x4x8x16xf32> {
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x8x16xf32>) -> tensor<2x4x16x8xf32>
  %s = kiln.matmul %q, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %w = kiln.where %mask, %s, %fill : (tensor<1x1x8x8xi1>, tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %w {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// Negative: the where fill is a constant but not a scalar (a non-splat
// tensor), so it cannot be a mask_fill.
// CHECK-LABEL: func.func @where_fill_not_scalar(
// CHECK-NOT:     kiln.attention
// CHECK:         kiln.where
// CHECK:         kiln.softmax
func.func @where_fill_not_scalar(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %mask: tensor<1x1x8x8xi1>) -> tensor<2x4x8x16xf32> {
  %fill = kiln.constant dense<[-1.0e9, -2.0e9, -1.0e9, -2.0e9, -1.0e9, -2.0e9, -1.0e9, -2.0e9]> : tensor<8xf32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x8x16xf32>) -> tensor<2x4x16x8xf32>
  %s = kiln.matmul %q, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %w = kiln.where %mask, %s, %fill : (tensor<1x1x8x8xi1>, tensor<2x4x8x8xf32>, tensor<8xf32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %w {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// Negative: softmax of something that is not a matmul of Q and K^T.
// CHECK-LABEL: func.func @softmax_of_non_matmul(
// CHECK-NOT:     kiln.attention
// CHECK:         kiln.softmax
func.func @softmax_of_non_matmul(%x: tensor<2x4x8x8xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %c = kiln.constant dense<4.0> : tensor<f32>
  %d = kiln.div %x, %c : (tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %d {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// Negative, and nothing is created on the way: K^T is not a transpose (the
// pattern would need to insert one) but the query batch broadcasts, so the
// pass must leave the IR exactly as it was (no stray transpose, no loop).
// CHECK-LABEL: func.func @no_fuse_untransposed_key_batch_broadcast(
// CHECK-NOT:     kiln.transpose
// CHECK-NOT:     kiln.attention
// CHECK:         kiln.softmax
func.func @no_fuse_untransposed_key_batch_broadcast(%q: tensor<1x4x8x16xf32>, %kt: tensor<2x4x16x8xf32>, %v: tensor<2x4x8x16xf32>, %mask: tensor<2x1x1x8xf32>) -> tensor<2x4x8x16xf32> {
  %s = kiln.matmul %q, %kt : (tensor<1x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %a = kiln.add %s, %mask : (tensor<2x4x8x8xf32>, tensor<2x1x1x8xf32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %a {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// Negative, same with the inverted where (the pattern would create a
// kiln.not on the mask).
// CHECK-LABEL: func.func @no_fuse_inverted_where_batch_broadcast(
// CHECK-NOT:     kiln.not
// CHECK-NOT:     kiln.attention
// CHECK:         kiln.softmax
func.func @no_fuse_inverted_where_batch_broadcast(%q: tensor<1x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %mask: tensor<2x1x1x8xi1>) -> tensor<2x4x8x16xf32> {
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x8x16xf32>) -> tensor<2x4x16x8xf32>
  %s = kiln.matmul %q, %kt : (tensor<1x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %fill = kiln.constant dense<-1.0e+04> : tensor<f32>
  %w = kiln.where %mask, %fill, %s : (tensor<2x1x1x8xi1>, tensor<f32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %p = kiln.softmax %w {axis = -1 : i64} : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// GPT-2's causal mask: a constant lower-triangular buffer sliced to rows
// [Sk - Sq, Sk) and columns [0, Sk), Sq and Sk from the query's and key's
// shapes, applied by where(mask, scores, lowest): the causal flag, no mask.
// CHECK-LABEL: func.func @sliced_tril(
// CHECK:         kiln.attention %{{[^ ]*}}, %{{[^ ]*}}, %{{[^ ]*}} {causal = true, scale = 2.500000e-01 : f32}
// CHECK-NOT:     kiln.where
// CHECK-NOT:     kiln.softmax
func.func @sliced_tril(%q: tensor<2x4x?x16xf32>, %k: tensor<2x4x?x16xf32>, %v: tensor<2x4x?x16xf32>) -> tensor<2x4x?x16xf32> {
  %tril = kiln.constant dense<[[[[true, false, false, false], [true, true, false, false], [true, true, true, false], [true, true, true, true]]]]> : tensor<1x1x4x4xi1>
  %c = kiln.constant dense<0.25> : tensor<f32>
  %fill = kiln.constant dense<-3.40282347e+38> : tensor<f32>
  %i2 = kiln.constant dense<2> : tensor<1xi64>
  %i3 = kiln.constant dense<3> : tensor<1xi64>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %qs = kiln.shape %q : (tensor<2x4x?x16xf32>) -> tensor<4xi64>
  %ks = kiln.shape %k : (tensor<2x4x?x16xf32>) -> tensor<4xi64>
  %ql1 = kiln.slice %qs, %i2, %i3, %zero, %one : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %ql = kiln.squeeze %ql1 {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
  %kl1 = kiln.slice %ks, %i2, %i3, %zero, %one : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %kl = kiln.squeeze %kl1 {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
  %diff = kiln.sub %kl, %ql : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %start = kiln.unsqueeze %diff {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %end = kiln.unsqueeze %kl {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %rows = kiln.slice %tril, %start, %end, %i2, %one : (tensor<1x1x4x4xi1>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x1x?x4xi1>
  %mask = kiln.slice %rows, %zero, %end, %i3, %one : (tensor<1x1x?x4xi1>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x1x?x?xi1>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x?x16xf32>) -> tensor<2x4x16x?xf32>
  %s = kiln.matmul %q, %kt : (tensor<2x4x?x16xf32>, tensor<2x4x16x?xf32>) -> tensor<2x4x?x?xf32>
  %d = kiln.mul %s, %c : (tensor<2x4x?x?xf32>, tensor<f32>) -> tensor<2x4x?x?xf32>
  %w = kiln.where %mask, %d, %fill : (tensor<1x1x?x?xi1>, tensor<2x4x?x?xf32>, tensor<f32>) -> tensor<2x4x?x?xf32>
  %p = kiln.softmax %w {axis = -1 : i64} : tensor<2x4x?x?xf32> -> tensor<2x4x?x?xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x?x?xf32>, tensor<2x4x?x16xf32>) -> tensor<2x4x?x16xf32>
  return %o : tensor<2x4x?x16xf32>
}

// -----

// Masks kept: an upper-triangular constant (not causal), and rows sliced
// from 0 rather than Sk - Sq (not aligned to the last key).
// CHECK-LABEL: func.func @not_tril(
// CHECK:         kiln.attention {{.*}} mask
// CHECK-NOT:     causal
// CHECK-LABEL: func.func @rows_from_zero(
// CHECK:         kiln.attention {{.*}} mask
// CHECK-NOT:     causal
func.func @not_tril(%q: tensor<2x4x?x16xf32>, %k: tensor<2x4x?x16xf32>, %v: tensor<2x4x?x16xf32>) -> tensor<2x4x?x16xf32> {
  %triu = kiln.constant dense<[[[[true, true], [false, true]]]]> : tensor<1x1x2x2xi1>
  %c = kiln.constant dense<0.25> : tensor<f32>
  %fill = kiln.constant dense<-3.40282347e+38> : tensor<f32>
  %i2 = kiln.constant dense<2> : tensor<1xi64>
  %i3 = kiln.constant dense<3> : tensor<1xi64>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %qs = kiln.shape %q : (tensor<2x4x?x16xf32>) -> tensor<4xi64>
  %ks = kiln.shape %k : (tensor<2x4x?x16xf32>) -> tensor<4xi64>
  %ql1 = kiln.slice %qs, %i2, %i3, %zero, %one : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %ql = kiln.squeeze %ql1 {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
  %kl1 = kiln.slice %ks, %i2, %i3, %zero, %one : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %kl = kiln.squeeze %kl1 {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
  %diff = kiln.sub %kl, %ql : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %start = kiln.unsqueeze %diff {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %end = kiln.unsqueeze %kl {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %rows = kiln.slice %triu, %start, %end, %i2, %one : (tensor<1x1x2x2xi1>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x1x?x2xi1>
  %mask = kiln.slice %rows, %zero, %end, %i3, %one : (tensor<1x1x?x2xi1>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x1x?x?xi1>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x?x16xf32>) -> tensor<2x4x16x?xf32>
  %s = kiln.matmul %q, %kt : (tensor<2x4x?x16xf32>, tensor<2x4x16x?xf32>) -> tensor<2x4x?x?xf32>
  %d = kiln.mul %s, %c : (tensor<2x4x?x?xf32>, tensor<f32>) -> tensor<2x4x?x?xf32>
  %w = kiln.where %mask, %d, %fill : (tensor<1x1x?x?xi1>, tensor<2x4x?x?xf32>, tensor<f32>) -> tensor<2x4x?x?xf32>
  %p = kiln.softmax %w {axis = -1 : i64} : tensor<2x4x?x?xf32> -> tensor<2x4x?x?xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x?x?xf32>, tensor<2x4x?x16xf32>) -> tensor<2x4x?x16xf32>
  return %o : tensor<2x4x?x16xf32>
}
func.func @rows_from_zero(%q: tensor<2x4x?x16xf32>, %k: tensor<2x4x?x16xf32>, %v: tensor<2x4x?x16xf32>) -> tensor<2x4x?x16xf32> {
  %tril = kiln.constant dense<[[[[true, false], [true, true]]]]> : tensor<1x1x2x2xi1>
  %c = kiln.constant dense<0.25> : tensor<f32>
  %fill = kiln.constant dense<-3.40282347e+38> : tensor<f32>
  %i2 = kiln.constant dense<2> : tensor<1xi64>
  %i3 = kiln.constant dense<3> : tensor<1xi64>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %ks = kiln.shape %k : (tensor<2x4x?x16xf32>) -> tensor<4xi64>
  %kl1 = kiln.slice %ks, %i2, %i3, %zero, %one : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %rows = kiln.slice %tril, %zero, %kl1, %i2, %one : (tensor<1x1x2x2xi1>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x1x?x2xi1>
  %mask = kiln.slice %rows, %zero, %kl1, %i3, %one : (tensor<1x1x?x2xi1>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x1x?x?xi1>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x?x16xf32>) -> tensor<2x4x16x?xf32>
  %s = kiln.matmul %q, %kt : (tensor<2x4x?x16xf32>, tensor<2x4x16x?xf32>) -> tensor<2x4x?x?xf32>
  %d = kiln.mul %s, %c : (tensor<2x4x?x?xf32>, tensor<f32>) -> tensor<2x4x?x?xf32>
  %w = kiln.where %mask, %d, %fill : (tensor<1x1x?x?xi1>, tensor<2x4x?x?xf32>, tensor<f32>) -> tensor<2x4x?x?xf32>
  %p = kiln.softmax %w {axis = -1 : i64} : tensor<2x4x?x?xf32> -> tensor<2x4x?x?xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x?x?xf32>, tensor<2x4x?x16xf32>) -> tensor<2x4x?x16xf32>
  return %o : tensor<2x4x?x16xf32>
}

// -----

// Attention written with einsum (torchvision's MaxViT, rank 5): both
// einsums become matmuls (Q.K^T with K transposed, the transpose then
// absorbed as the key) and fuse with the
// scale and the added bias into one kiln.attention.
// CHECK-LABEL: func.func @einsum_attention(
// CHECK-NOT:     kiln.einsum
// CHECK:         kiln.attention %arg0, %arg1, %arg2 mask %arg3 {scale = 5.000000e-01 : f32}
// CHECK-NOT:     kiln.softmax
func.func @einsum_attention(%q: tensor<?x4x2x7x8xf32>, %k: tensor<?x4x2x7x8xf32>, %v: tensor<?x4x2x7x8xf32>, %bias: tensor<2x7x7xf32>) -> tensor<?x4x2x7x8xf32> {
  %c = kiln.constant dense<0.5> : tensor<f32>
  %0 = kiln.einsum %q, %k {equation = "B G H I D, B G H J D -> B G H I J"} : (tensor<?x4x2x7x8xf32>, tensor<?x4x2x7x8xf32>) -> tensor<?x4x2x7x7xf32>
  %1 = kiln.mul %0, %c : (tensor<?x4x2x7x7xf32>, tensor<f32>) -> tensor<?x4x2x7x7xf32>
  %2 = kiln.add %1, %bias : (tensor<?x4x2x7x7xf32>, tensor<2x7x7xf32>) -> tensor<?x4x2x7x7xf32>
  %3 = kiln.softmax %2 {axis = -1 : i64} : tensor<?x4x2x7x7xf32> -> tensor<?x4x2x7x7xf32>
  %4 = kiln.einsum %3, %v {equation = "bghij,bghjd->bghid"} : (tensor<?x4x2x7x7xf32>, tensor<?x4x2x7x8xf32>) -> tensor<?x4x2x7x8xf32>
  return %4 : tensor<?x4x2x7x8xf32>
}

// -----

// Einsums that are not a batched matmul of this form stay: a contraction
// over the batch letter, an ellipsis, three operands, operands whose
// prefixes differ.
// CHECK-LABEL: func.func @einsum_not_matmul(
// CHECK-COUNT-4: kiln.einsum
// CHECK-NOT:     kiln.matmul
func.func @einsum_not_matmul(%a: tensor<2x3x4xf32>, %b: tensor<2x5x4xf32>, %c: tensor<3x4xf32>) -> (tensor<3x5xf32>, tensor<2x3x5xf32>, tensor<2x3xf32>, tensor<3x2x5xf32>) {
  %0 = kiln.einsum %a, %b {equation = "bik,bjk->ij"} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>) -> tensor<3x5xf32>
  %1 = kiln.einsum %a, %b {equation = "...ik,...jk->...ij"} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>) -> tensor<2x3x5xf32>
  %2 = kiln.einsum %a, %c, %c {equation = "bik,ik,ik->bi"} : (tensor<2x3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
  %3 = kiln.einsum %a, %b {equation = "bik,bjk->ibj"} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>) -> tensor<3x2x5xf32>
  return %0, %1, %2, %3 : tensor<3x5xf32>, tensor<2x3x5xf32>, tensor<2x3xf32>, tensor<3x2x5xf32>
}
