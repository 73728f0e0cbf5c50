// RUN: kiln-opt %s -split-input-file -canonicalize | FileCheck %s

// Shape arithmetic on static dims folds to constants.
// CHECK-LABEL: func.func @shape_chain(
// CHECK-SAME:    %[[X:.*]]: tensor<2x3x8xf32>
// CHECK-NOT:     kiln.shape
// CHECK-NOT:     kiln.gather
// CHECK-NOT:     kiln.concat
// CHECK:         %[[S:.*]] = kiln.constant dense<[2, 3, 2, 4]> : tensor<4xi64>
// CHECK:         %[[R:.*]] = kiln.reshape %[[X]], %[[S]]
// CHECK:         return %[[R]]
func.func @shape_chain(%x: tensor<2x3x8xf32>) -> tensor<?x?x?x?xf32> {
  %s = kiln.shape %x : (tensor<2x3x8xf32>) -> tensor<3xi64>
  %i0 = kiln.constant dense<0> : tensor<i64>
  %i1 = kiln.constant dense<1> : tensor<i64>
  %d0 = kiln.gather %s, %i0 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %d1 = kiln.gather %s, %i1 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %u0 = kiln.unsqueeze %d0 {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %u1 = kiln.unsqueeze %d1 {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %tail = kiln.constant dense<[2, 4]> : tensor<2xi64>
  %shape = kiln.concat %u0, %u1, %tail {axis = 0} : (tensor<1xi64>, tensor<1xi64>, tensor<2xi64>) -> tensor<4xi64>
  %r = kiln.reshape %x, %shape : (tensor<2x3x8xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
  return %r : tensor<?x?x?x?xf32>
}

// -----

// With a dynamic dim the shape op stays; nothing is folded wrongly.
// CHECK-LABEL: func.func @shape_dynamic(
// CHECK:         kiln.shape
func.func @shape_dynamic(%x: tensor<?x8xf32>) -> tensor<2xi64> {
  %s = kiln.shape %x : (tensor<?x8xf32>) -> tensor<2xi64>
  return %s : tensor<2xi64>
}

// -----

// transpose(transpose(x)) with inverse perms cancels.
// CHECK-LABEL: func.func @transposes_cancel(
// CHECK-SAME:    %[[X:.*]]: tensor<2x3x4xf32>
// CHECK-NOT:     kiln.transpose
// CHECK:         return %[[X]]
func.func @transposes_cancel(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = kiln.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  %1 = kiln.transpose %0 {perm = array<i64: 1, 2, 0>} : (tensor<4x2x3xf32>) -> tensor<2x3x4xf32>
  return %1 : tensor<2x3x4xf32>
}

// -----

// Two transposes that do not cancel compose into one.
// CHECK-LABEL: func.func @transposes_compose(
// CHECK:         %[[T:.*]] = kiln.transpose %{{.*}} {perm = array<i64: 1, 0, 2>}
// CHECK-NOT:     kiln.transpose
// CHECK:         return %[[T]]
func.func @transposes_compose(%x: tensor<2x3x4xf32>) -> tensor<3x2x4xf32> {
  %0 = kiln.transpose %x {perm = array<i64: 0, 2, 1>} : (tensor<2x3x4xf32>) -> tensor<2x4x3xf32>
  %1 = kiln.transpose %0 {perm = array<i64: 2, 0, 1>} : (tensor<2x4x3xf32>) -> tensor<3x2x4xf32>
  return %1 : tensor<3x2x4xf32>
}

// -----

// reshape(reshape(x)) becomes one reshape.
// CHECK-LABEL: func.func @reshapes_compose(
// CHECK-SAME:    %[[X:.*]]: tensor<2x3x4xf32>
// CHECK:         %[[R:.*]] = kiln.reshape %[[X]], %{{.*}} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<4x6xf32>
// CHECK-NEXT:    return %[[R]]
func.func @reshapes_compose(%x: tensor<2x3x4xf32>) -> tensor<4x6xf32> {
  %s1 = kiln.constant dense<[6, 4]> : tensor<2xi64>
  %s2 = kiln.constant dense<[4, 6]> : tensor<2xi64>
  %0 = kiln.reshape %x, %s1 : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  %1 = kiln.reshape %0, %s2 : (tensor<6x4xf32>, tensor<2xi64>) -> tensor<4x6xf32>
  return %1 : tensor<4x6xf32>
}

// -----

// A reshape whose target copies a dim of the intermediate (0) must not compose.
// CHECK-LABEL: func.func @reshapes_copy_dim(
// CHECK-COUNT-2: kiln.reshape
func.func @reshapes_copy_dim(%x: tensor<?x12xf32>) -> tensor<?x4x3xf32> {
  %s1 = kiln.constant dense<[0, 4, 3]> : tensor<3xi64>
  %s2 = kiln.constant dense<[0, 4, 3]> : tensor<3xi64>
  %0 = kiln.reshape %x, %s1 : (tensor<?x12xf32>, tensor<3xi64>) -> tensor<?x4x3xf32>
  %e = kiln.exp %0 : tensor<?x4x3xf32>
  %1 = kiln.reshape %e, %s2 : (tensor<?x4x3xf32>, tensor<3xi64>) -> tensor<?x4x3xf32>
  return %1 : tensor<?x4x3xf32>
}

// -----

// Identity, same-type cast and no-op reshape fold away.
// CHECK-LABEL: func.func @noops(
// CHECK-SAME:    %[[X:.*]]: tensor<2x3xf32>
// CHECK-NEXT:    return %[[X]]
func.func @noops(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = kiln.identity %x : tensor<2x3xf32>
  %1 = kiln.cast %0 : tensor<2x3xf32> -> tensor<2x3xf32>
  %s = kiln.constant dense<[2, 3]> : tensor<2xi64>
  %2 = kiln.reshape %1, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  %p = kiln.transpose %2 {perm = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %p : tensor<2x3xf32>
}

// -----

// Integer shape arithmetic, Range, Equal/Where and ConstantOfShape on
// constants fold; float arithmetic is left to the graph passes.
// CHECK-LABEL: func.func @int_arith(
// CHECK-DAG:     kiln.constant dense<[5, 0]> : tensor<2xi64>
// CHECK-DAG:     kiln.constant dense<[0, 2, 4]> : tensor<3xi64>
// CHECK-DAG:     kiln.constant dense<7.000000e+00> : tensor<2x3xf32>
// CHECK-DAG:     kiln.constant dense<[4, 2]> : tensor<2xi64>
// CHECK:         kiln.add %{{.*}}, %{{.*}} : (tensor<2xf32>, tensor<2xf32>)
func.func @int_arith(%f: tensor<2xf32>) -> (tensor<2xi64>, tensor<3xi64>, tensor<2x3xf32>, tensor<2xi64>, tensor<2xf32>) {
  %a = kiln.constant dense<[2, 3]> : tensor<2xi64>
  %b = kiln.constant dense<[3, -2]> : tensor<2xi64>
  %m = kiln.mul %a, %b : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %c4 = kiln.constant dense<-5> : tensor<i64>
  %s = kiln.sub %m, %c4 : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
  %d = kiln.div %s, %a : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %start = kiln.constant dense<0> : tensor<i64>
  %limit = kiln.constant dense<5> : tensor<i64>
  %step = kiln.constant dense<2> : tensor<i64>
  %r = kiln.range %start, %limit, %step : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<3xi64>
  %cs = kiln.constant_of_shape %a, dense<7.0> : tensor<1xf32> : (tensor<2xi64>) -> tensor<2x3xf32>
  %neg = kiln.constant dense<[-1, 2]> : tensor<2xi64>
  %m1 = kiln.constant dense<-1> : tensor<i64>
  %eq = kiln.equal %neg, %m1 : (tensor<2xi64>, tensor<i64>) -> tensor<2xi1>
  %four = kiln.constant dense<4> : tensor<i64>
  %w = kiln.where %eq, %four, %neg : (tensor<2xi1>, tensor<i64>, tensor<2xi64>) -> tensor<2xi64>
  %fa = kiln.add %f, %f : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %d, %r, %cs, %w, %fa : tensor<2xi64>, tensor<3xi64>, tensor<2x3xf32>, tensor<2xi64>, tensor<2xf32>
}

// -----

// Casts of integer constants fold with sign extension and truncation.
// CHECK-LABEL: func.func @cast_fold(
// CHECK-DAG:     kiln.constant dense<[-1, 300]> : tensor<2xi64>
// CHECK-DAG:     kiln.constant dense<[-1.000000e+00, 3.000000e+02]> : tensor<2xf32>
func.func @cast_fold() -> (tensor<2xi64>, tensor<2xf32>) {
  %a = kiln.constant dense<[-1, 300]> : tensor<2xi32>
  %0 = kiln.cast %a : tensor<2xi32> -> tensor<2xi64>
  %1 = kiln.cast %a : tensor<2xi32> -> tensor<2xf32>
  return %0, %1 : tensor<2xi64>, tensor<2xf32>
}

// -----

// ViT's fused Q/K/V: [B, S, 3, H, D] permuted [2, 0, 3, 1, 4], then q, k, v
// picked at 0, 1, 2. Each pick moves before the permute (along dim 2 of
// the input) and the rest of the permute follows it, [0, 2, 1, 3]: the
// whole-projection transpose disappears.
// CHECK-LABEL: func.func @gather_of_transpose(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x5x3x2x4xf32>
// CHECK-NOT:     perm = array<i64: 2, 0, 3, 1, 4>
// CHECK:         %[[Q:.*]] = kiln.gather %[[X]], %{{.*}} {axis = 2 : i64} : (tensor<?x5x3x2x4xf32>, tensor<i64>) -> tensor<?x5x2x4xf32>
// CHECK:         kiln.transpose %[[Q]] {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x5x2x4xf32>) -> tensor<?x2x5x4xf32>
// CHECK:         %[[V:.*]] = kiln.gather %[[X]], %{{.*}} {axis = 2 : i64}
// CHECK:         kiln.transpose %[[V]] {perm = array<i64: 0, 2, 1, 3>}
func.func @gather_of_transpose(%x: tensor<?x5x3x2x4xf32>) -> (tensor<?x2x5x4xf32>, tensor<?x2x5x4xf32>) {
  %c0 = kiln.constant dense<0> : tensor<i64>
  %c2 = kiln.constant dense<2> : tensor<i64>
  %t = kiln.transpose %x {perm = array<i64: 2, 0, 3, 1, 4>} : (tensor<?x5x3x2x4xf32>) -> tensor<3x?x2x5x4xf32>
  %q = kiln.gather %t, %c0 : (tensor<3x?x2x5x4xf32>, tensor<i64>) -> tensor<?x2x5x4xf32>
  %v = kiln.gather %t, %c2 : (tensor<3x?x2x5x4xf32>, tensor<i64>) -> tensor<?x2x5x4xf32>
  return %q, %v : tensor<?x2x5x4xf32>, tensor<?x2x5x4xf32>
}

// -----

// Must not fire: the permuted tensor is also used whole, or picked with a
// run-time index (the transpose would then be computed twice over).
// CHECK-LABEL: func.func @gather_of_transpose_kept(
// CHECK:         %[[T:.*]] = kiln.transpose %{{.*}} {perm = array<i64: 2, 0, 1>}
// CHECK:         kiln.gather %[[T]]
// CHECK-LABEL: func.func @gather_of_transpose_dynamic(
// CHECK:         %[[T:.*]] = kiln.transpose %{{.*}} {perm = array<i64: 2, 0, 1>}
// CHECK:         kiln.gather %[[T]], %{{.*}} : (tensor<3x4x5xf32>, tensor<i64>)
// CHECK:         kiln.gather %[[T]], %{{.*}} : (tensor<3x4x5xf32>, tensor<i64>)
func.func @gather_of_transpose_kept(%x: tensor<4x5x3xf32>) -> (tensor<4x5xf32>, tensor<3x4x5xf32>) {
  %c0 = kiln.constant dense<0> : tensor<i64>
  %t = kiln.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<4x5x3xf32>) -> tensor<3x4x5xf32>
  %q = kiln.gather %t, %c0 : (tensor<3x4x5xf32>, tensor<i64>) -> tensor<4x5xf32>
  return %q, %t : tensor<4x5xf32>, tensor<3x4x5xf32>
}
func.func @gather_of_transpose_dynamic(%x: tensor<4x5x3xf32>, %i: tensor<i64>) -> (tensor<4x5xf32>, tensor<4x5xf32>) {
  %c0 = kiln.constant dense<0> : tensor<i64>
  %t = kiln.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<4x5x3xf32>) -> tensor<3x4x5xf32>
  %q = kiln.gather %t, %c0 : (tensor<3x4x5xf32>, tensor<i64>) -> tensor<4x5xf32>
  %k = kiln.gather %t, %i : (tensor<3x4x5xf32>, tensor<i64>) -> tensor<4x5xf32>
  return %q, %k : tensor<4x5xf32>, tensor<4x5xf32>
}

// -----

// Shape arithmetic on constants folds through Mod (Python's sign for
// fmod = 0, C's for fmod = 1), a 2-D Slice with a negative step (rows
// reversed) and a Transpose: Swin's window padding,
// (7 - 56 % 7) % 7 and its ONNX pads reordered by torch's exporter.
// CHECK-LABEL: func.func @fold_shape_arithmetic(
// CHECK-DAG:     %[[M:.*]] = kiln.constant dense<[0, 2, 1, -1, 6]> : tensor<5xi64>
// CHECK-DAG:     %[[F:.*]] = kiln.constant dense<[0, -2, 2, -2, 2]> : tensor<5xi64>
// CHECK-DAG:     %[[P:.*]] = kiln.constant dense<{{\[}}[6, 4, 2], [7, 5, 3]]> : tensor<2x3xi64>
// CHECK-NOT:     kiln.mod
// CHECK-NOT:     kiln.slice
// CHECK-NOT:     kiln.transpose
// CHECK:         return %[[M]], %[[F]], %[[P]]
func.func @fold_shape_arithmetic() -> (tensor<5xi64>, tensor<5xi64>, tensor<2x3xi64>) {
  %a = kiln.constant dense<[56, 5, -5, 5, -8]> : tensor<5xi64>
  %b = kiln.constant dense<[7, 3, 3, -3, 7]> : tensor<5xi64>
  %m = kiln.mod %a, %b : (tensor<5xi64>, tensor<5xi64>) -> tensor<5xi64>
  %c = kiln.constant dense<[-7, -5, 5, -5, 9]> : tensor<5xi64>
  %f = kiln.mod %c, %b {fmod = true} : (tensor<5xi64>, tensor<5xi64>) -> tensor<5xi64>
  %g = kiln.constant dense<[[0, 1], [2, 3], [4, 5], [6, 7]]> : tensor<4x2xi64>
  %starts = kiln.constant dense<-1> : tensor<1xi64>
  %ends = kiln.constant dense<-9223372036854775807> : tensor<1xi64>
  %axes = kiln.constant dense<0> : tensor<1xi64>
  %steps = kiln.constant dense<-1> : tensor<1xi64>
  %r = kiln.slice %g, %starts, %ends, %axes, %steps : (tensor<4x2xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x2xi64>
  %s1 = kiln.constant dense<0> : tensor<1xi64>
  %e1 = kiln.constant dense<3> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %r3 = kiln.slice %r, %s1, %e1, %axes, %one : (tensor<4x2xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3x2xi64>
  %t = kiln.transpose %r3 {perm = array<i64: 1, 0>} : (tensor<3x2xi64>) -> tensor<2x3xi64>
  return %m, %f, %t : tensor<5xi64>, tensor<5xi64>, tensor<2x3xi64>
}

// -----

// Mod by zero does not fold (the run-time op decides).
// CHECK-LABEL: func.func @mod_by_zero(
// CHECK:         kiln.mod
func.func @mod_by_zero() -> tensor<2xi64> {
  %a = kiln.constant dense<[5, 6]> : tensor<2xi64>
  %b = kiln.constant dense<[1, 0]> : tensor<2xi64>
  %m = kiln.mod %a, %b : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %m : tensor<2xi64>
}
