// RUN: kiln-opt %s -split-input-file -pass-pipeline="builtin.module(func.func(kiln-merge-linears))" | FileCheck %s

// Two dense layers of one input with constant weights and biases become one
// over the weights concatenated along N (row by row) and the biases end to
// end; a kiln.split of the last dim gives back the two results.
// CHECK-LABEL: func.func @two_linears(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x4xf32>
// CHECK-DAG:     %[[W:.*]] = kiln.constant dense<{{\[}}[1.000000e+00, 2.000000e+00, 9.000000e+00, 9.000000e+00, 9.000000e+00], [3.000000e+00, 4.000000e+00, 9.000000e+00, 9.000000e+00, 9.000000e+00], [5.000000e+00, 6.000000e+00, 9.000000e+00, 9.000000e+00, 9.000000e+00], [7.000000e+00, 8.000000e+00, 9.000000e+00, 9.000000e+00, 9.000000e+00]]> : tensor<4x5xf32>
// CHECK-DAG:     %[[B:.*]] = kiln.constant dense<[5.000000e-01, 2.500000e-01, 1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<5xf32>
// CHECK:         %[[L:.*]] = kiln.linear %[[X]], %[[W]] bias %[[B]] : (tensor<?x4xf32>, tensor<4x5xf32>, tensor<5xf32>) -> tensor<?x5xf32>
// CHECK-NEXT:    %[[S:.*]]:2 = kiln.split %[[L]] {axis = 1 : i64, sizes = array<i64: 2, 3>} : (tensor<?x5xf32>) -> (tensor<?x2xf32>, tensor<?x3xf32>)
// CHECK-NOT:     kiln.linear
// CHECK:         return %[[S]]#0, %[[S]]#1
func.func @two_linears(%x: tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x3xf32>) {
  %w1 = kiln.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %b1 = kiln.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %w2 = kiln.constant dense<9.0> : tensor<4x3xf32>
  %b2 = kiln.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %a = kiln.linear %x, %w1 bias %b1 : (tensor<?x4xf32>, tensor<4x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  %b = kiln.linear %x, %w2 bias %b2 : (tensor<?x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  return %a, %b : tensor<?x2xf32>, tensor<?x3xf32>
}

// -----

// Attention's Q, K and V as a [B, S, H] input projects them: one linear of
// N = 3 x 2, at the first of them, and the merged layer keeps their
// activation. A shared bias constant is read for each of them.
// CHECK-LABEL: func.func @qkv_shared_bias(
// CHECK:         %[[L:.*]] = kiln.linear %{{.*}}, %{{.*}} bias %{{.*}} {activation = "gelu"} : (tensor<1x?x2xf32>, tensor<2x6xf32>, tensor<6xf32>) -> tensor<1x?x6xf32>
// CHECK-NEXT:    %[[S:.*]]:3 = kiln.split %[[L]] {axis = 2 : i64, sizes = array<i64: 2, 2, 2>}
// CHECK-NOT:     kiln.linear
// CHECK:         return %[[S]]#0, %[[S]]#1, %[[S]]#2
func.func @qkv_shared_bias(%x: tensor<1x?x2xf32>) -> (tensor<1x?x2xf32>, tensor<1x?x2xf32>, tensor<1x?x2xf32>) {
  %wq = kiln.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %wk = kiln.constant dense<[[5.0, 6.0], [7.0, 8.0]]> : tensor<2x2xf32>
  %wv = kiln.constant dense<[[9.0, 10.0], [11.0, 12.0]]> : tensor<2x2xf32>
  %b = kiln.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %q = kiln.linear %x, %wq bias %b {activation = "gelu"} : (tensor<1x?x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<1x?x2xf32>
  %k = kiln.linear %x, %wk bias %b {activation = "gelu"} : (tensor<1x?x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<1x?x2xf32>
  %v = kiln.linear %x, %wv bias %b {activation = "gelu"} : (tensor<1x?x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<1x?x2xf32>
  return %q, %k, %v : tensor<1x?x2xf32>, tensor<1x?x2xf32>, tensor<1x?x2xf32>
}

// -----

// Transposed weights ([N, K], Gemm's transB) append row blocks.
// CHECK-LABEL: func.func @transposed(
// CHECK:         %[[W:.*]] = kiln.constant dense<{{\[}}[1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00], [5.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>
// CHECK:         kiln.linear %{{.*}}, %[[W]] {transpose_weight = true} : (tensor<?x2xf32>, tensor<3x2xf32>) -> tensor<?x3xf32>
// CHECK-NEXT:    kiln.split %{{.*}} {axis = 1 : i64, sizes = array<i64: 2, 1>}
func.func @transposed(%x: tensor<?x2xf32>) -> (tensor<?x2xf32>, tensor<?x1xf32>) {
  %w1 = kiln.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %w2 = kiln.constant dense<[[5.0, 6.0]]> : tensor<1x2xf32>
  %a = kiln.linear %x, %w1 {transpose_weight = true} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  %b = kiln.linear %x, %w2 {transpose_weight = true} : (tensor<?x2xf32>, tensor<1x2xf32>) -> tensor<?x1xf32>
  return %a, %b : tensor<?x2xf32>, tensor<?x1xf32>
}

// -----

// Plain matmuls by constants (LLaMA's bias-free projections) merge too; the
// matmul of another input and the one by a run-time weight stay.
// CHECK-LABEL: func.func @matmuls(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x?x2xf32>, %[[Y:[^:]*]]: tensor<?x?x2xf32>, %[[R:[^:]*]]: tensor<2x2xf32>
// CHECK:         %[[M:.*]] = kiln.matmul %[[X]], %{{.*}} : (tensor<?x?x2xf32>, tensor<2x4xf32>) -> tensor<?x?x4xf32>
// CHECK-NEXT:    %[[S:.*]]:2 = kiln.split %[[M]] {axis = 2 : i64, sizes = array<i64: 2, 2>}
// CHECK:         kiln.matmul %[[Y]], %{{.*}} : (tensor<?x?x2xf32>, tensor<2x2xf32>)
// CHECK:         kiln.matmul %[[X]], %[[R]] : (tensor<?x?x2xf32>, tensor<2x2xf32>)
func.func @matmuls(%x: tensor<?x?x2xf32>, %y: tensor<?x?x2xf32>, %r: tensor<2x2xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xf32>, tensor<?x?x2xf32>, tensor<?x?x2xf32>) {
  %w1 = kiln.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %w2 = kiln.constant dense<[[5.0, 6.0], [7.0, 8.0]]> : tensor<2x2xf32>
  %w3 = kiln.constant dense<[[1.5, 2.5], [3.5, 4.5]]> : tensor<2x2xf32>
  %a = kiln.matmul %x, %w1 : (tensor<?x?x2xf32>, tensor<2x2xf32>) -> tensor<?x?x2xf32>
  %b = kiln.matmul %x, %w2 : (tensor<?x?x2xf32>, tensor<2x2xf32>) -> tensor<?x?x2xf32>
  %c = kiln.matmul %y, %w3 : (tensor<?x?x2xf32>, tensor<2x2xf32>) -> tensor<?x?x2xf32>
  %d = kiln.matmul %x, %r : (tensor<?x?x2xf32>, tensor<2x2xf32>) -> tensor<?x?x2xf32>
  return %a, %b, %c, %d : tensor<?x?x2xf32>, tensor<?x?x2xf32>, tensor<?x?x2xf32>, tensor<?x?x2xf32>
}

// -----

// Must not fire: different activations (LLaMA's gate and up projections),
// a residual, one with a bias and one without, transposed and not, GELU
// by erf and by tanh, a matmul with a linear, and a weight computed at run
// time.
// CHECK-LABEL: func.func @no_merge(
// CHECK-NOT:     kiln.split
// CHECK-COUNT-8: kiln.linear
// CHECK-COUNT-2: kiln.matmul
// CHECK-NOT:     kiln.split
func.func @no_merge(%x: tensor<?x2xf32>, %res: tensor<?x2xf32>, %rw: tensor<2x2xf32>) -> (tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>) {
  %w1 = kiln.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %w2 = kiln.constant dense<[[5.0, 6.0], [7.0, 8.0]]> : tensor<2x2xf32>
  %w3 = kiln.constant dense<[[1.5, 2.5], [3.5, 4.5]]> : tensor<2x2xf32>
  %w4 = kiln.constant dense<[[5.5, 6.5], [7.5, 8.5]]> : tensor<2x2xf32>
  %w5 = kiln.constant dense<[[0.5, 1.5], [2.5, 3.5]]> : tensor<2x2xf32>
  %w6 = kiln.constant dense<[[4.5, 5.5], [6.5, 7.5]]> : tensor<2x2xf32>
  %w7 = kiln.constant dense<[[2.0, 3.0], [4.0, 5.0]]> : tensor<2x2xf32>
  %w8 = kiln.constant dense<[[6.0, 7.0], [8.0, 9.0]]> : tensor<2x2xf32>
  %bias = kiln.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %gate = kiln.linear %x, %w1 {activation = "silu"} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  %up = kiln.linear %x, %w2 bias %bias : (tensor<?x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  %withres = kiln.linear %x, %w3 bias %bias residual %res : (tensor<?x2xf32>, tensor<2x2xf32>, tensor<2xf32>, tensor<?x2xf32>) -> tensor<?x2xf32>
  %nobias = kiln.linear %x, %w4 {activation = "relu"} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  %tr = kiln.linear %x, %w5 bias %bias {activation = "relu", transpose_weight = true} : (tensor<?x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  %relu = kiln.linear %x, %w6 bias %bias {activation = "relu"} : (tensor<?x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  %gelu = kiln.linear %x, %w7 {activation = "gelu"} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  %gelut = kiln.linear %x, %w8 {activation = "gelu_tanh"} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  %mm = kiln.matmul %x, %rw : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  %w9 = kiln.constant dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>
  %mc = kiln.matmul %x, %w9 : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  return %gate, %up, %withres, %nobias, %tr, %relu, %gelu, %gelut, %mm, %mc : tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>
}

// -----

// An Inception block's 1 x 1 branches: three group-1 convolutions of one
// input, each followed only by a relu, become one convolution over the
// filters appended along F (2 + 1 + 2 filters, bias end to end), one relu
// and a kiln.split of the channels; the later uses (a 3 x 3 conv on the
// second branch, interleaved with the members) read the split results.
// CHECK-LABEL: func.func @inception_branches(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x3x5x5xf32>
// CHECK-DAG:     %[[W:.*]] = kiln.constant dense<{{\[}}{{\[}}{{\[}}[1.000000e+00]], {{\[}}[2.000000e+00]], {{\[}}[3.000000e+00]]], {{\[}}{{\[}}[1.000000e+00]], {{\[}}[2.000000e+00]], {{\[}}[3.000000e+00]]], {{\[}}{{\[}}[5.000000e-01]], {{\[}}[5.000000e-01]], {{\[}}[5.000000e-01]]], {{\[}}{{\[}}[-1.000000e+00]], {{\[}}[-1.000000e+00]], {{\[}}[-1.000000e+00]]], {{\[}}{{\[}}[-1.000000e+00]], {{\[}}[-1.000000e+00]], {{\[}}[-1.000000e+00]]]]> : tensor<5x3x1x1xf32>
// CHECK-DAG:     %[[B:.*]] = kiln.constant dense<[1.000000e-01, 2.000000e-01, 0.000000e+00, 3.000000e-01, 3.000000e-01]> : tensor<5xf32>
// CHECK:         %[[C:.*]] = kiln.conv %[[X]], %[[W]] bias %[[B]] {{.*}} -> tensor<?x5x5x5xf32>
// CHECK-NEXT:    %[[R:.*]] = kiln.relu %[[C]] : tensor<?x5x5x5xf32>
// CHECK-NEXT:    %[[S:.*]]:3 = kiln.split %[[R]] {axis = 1 : i64, sizes = array<i64: 2, 1, 2>} : (tensor<?x5x5x5xf32>) -> (tensor<?x2x5x5xf32>, tensor<?x1x5x5xf32>, tensor<?x2x5x5xf32>)
// CHECK:         kiln.conv %[[S]]#1, %{{.*}} -> tensor<?x4x5x5xf32>
// CHECK-NOT:     kiln.relu
// CHECK:         return %[[S]]#0, %{{.*}}, %[[S]]#2
func.func @inception_branches(%x: tensor<?x3x5x5xf32>) -> (tensor<?x2x5x5xf32>, tensor<?x4x5x5xf32>, tensor<?x2x5x5xf32>) {
  %w1 = kiln.constant dense<[[[[1.0]], [[2.0]], [[3.0]]], [[[1.0]], [[2.0]], [[3.0]]]]> : tensor<2x3x1x1xf32>
  %b1 = kiln.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %w2 = kiln.constant dense<0.5> : tensor<1x3x1x1xf32>
  %b2 = kiln.constant dense<0.0> : tensor<1xf32>
  %w3 = kiln.constant dense<-1.0> : tensor<2x3x1x1xf32>
  %b3 = kiln.constant dense<0.3> : tensor<2xf32>
  %w4 = kiln.constant dense<0.25> : tensor<4x1x3x3xf32>
  %c1 = kiln.conv %x, %w1 bias %b1 {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x3x5x5xf32>, tensor<2x3x1x1xf32>, tensor<2xf32>) -> tensor<?x2x5x5xf32>
  %r1 = kiln.relu %c1 : tensor<?x2x5x5xf32>
  %c2 = kiln.conv %x, %w2 bias %b2 {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x3x5x5xf32>, tensor<1x3x1x1xf32>, tensor<1xf32>) -> tensor<?x1x5x5xf32>
  %r2 = kiln.relu %c2 : tensor<?x1x5x5xf32>
  %c4 = kiln.conv %r2, %w4 {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x1x5x5xf32>, tensor<4x1x3x3xf32>) -> tensor<?x4x5x5xf32>
  %c3 = kiln.conv %x, %w3 bias %b3 {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x3x5x5xf32>, tensor<2x3x1x1xf32>, tensor<2xf32>) -> tensor<?x2x5x5xf32>
  %r3 = kiln.relu %c3 : tensor<?x2x5x5xf32>
  return %r1, %c4, %r3 : tensor<?x2x5x5xf32>, tensor<?x4x5x5xf32>, tensor<?x2x5x5xf32>
}

// -----

// Not merged: a conv whose result has no relu (ResNet's downsample, read
// by a residual add) next to one with it, convs with other strides, one
// with a bias and one without, a grouped conv, and one whose relu is not
// its only user.
// CHECK-LABEL: func.func @convs_not_merged(
// CHECK-NOT:     kiln.split
// CHECK-COUNT-7: kiln.conv
// CHECK-NOT:     kiln.split
// CHECK:         return
func.func @convs_not_merged(%x: tensor<1x4x6x6xf32>) -> (tensor<1x2x6x6xf32>, tensor<1x2x6x6xf32>, tensor<1x2x3x3xf32>, tensor<1x2x6x6xf32>, tensor<1x2x6x6xf32>, tensor<1x4x6x6xf32>, tensor<1x2x6x6xf32>, tensor<1x2x3x3xf32>) {
  %w = kiln.constant dense<0.5> : tensor<2x4x1x1xf32>
  %b = kiln.constant dense<0.1> : tensor<2xf32>
  %wg = kiln.constant dense<0.5> : tensor<4x2x1x1xf32>
  %a = kiln.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x6x6xf32>, tensor<2x4x1x1xf32>) -> tensor<1x2x6x6xf32>
  %c = kiln.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x6x6xf32>, tensor<2x4x1x1xf32>) -> tensor<1x2x6x6xf32>
  %cr = kiln.relu %c : tensor<1x2x6x6xf32>
  %s = kiln.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x4x6x6xf32>, tensor<2x4x1x1xf32>) -> tensor<1x2x3x3xf32>
  %sr = kiln.relu %s : tensor<1x2x3x3xf32>
  %d = kiln.conv %x, %w bias %b {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x4x6x6xf32>, tensor<2x4x1x1xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  %g = kiln.conv %x, %wg {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x6x6xf32>, tensor<4x2x1x1xf32>) -> tensor<1x4x6x6xf32>
  %gr = kiln.relu %g : tensor<1x4x6x6xf32>
  %e = kiln.conv %x, %w bias %b {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x6x6xf32>, tensor<2x4x1x1xf32>, tensor<2xf32>) -> tensor<1x2x6x6xf32>
  %er = kiln.relu %e : tensor<1x2x6x6xf32>
  %f = kiln.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x6x6xf32>, tensor<2x4x1x1xf32>) -> tensor<1x2x6x6xf32>
  %fr = kiln.relu %f : tensor<1x2x6x6xf32>
  %dr = kiln.relu %d : tensor<1x2x3x3xf32>
  return %a, %cr, %sr, %er, %fr, %gr, %f, %dr : tensor<1x2x6x6xf32>, tensor<1x2x6x6xf32>, tensor<1x2x3x3xf32>, tensor<1x2x6x6xf32>, tensor<1x2x6x6xf32>, tensor<1x4x6x6xf32>, tensor<1x2x6x6xf32>, tensor<1x2x3x3xf32>
}
