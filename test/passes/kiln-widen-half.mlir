// RUN: kiln-opt %s -split-input-file -pass-pipeline="builtin.module(func.func(kiln-widen-half))" | FileCheck %s

// An fp16 dense layer: the argument is cast once at the entry, the weight
// becomes an f32 constant with the same values (0.1 is fp16's 0.0999755859), the ops compute in f32, the
// result is cast back before the return (the signature does not change).
// CHECK-LABEL: func.func @dense(
// CHECK-SAME:    %[[X:.*]]: tensor<?x4xf16>) -> tensor<?x2xf16>
// CHECK-DAG:     %[[XW:.*]] = kiln.cast %[[X]] : tensor<?x4xf16> -> tensor<?x4xf32>
// CHECK-DAG:     %[[W:.*]] = kiln.constant dense<{{\[}}[1.000000e+00, 5.000000e-01], [2.500000e-01, -2.000000e+00], [3.000000e+00, 0.0999755859], [0.000000e+00, 4.000000e+00]]> : tensor<4x2xf32>
// CHECK-DAG:     %[[B:.*]] = kiln.constant dense<1.500000e+00> : tensor<2xf32>
// CHECK:         %[[M:.*]] = kiln.matmul %[[XW]], %[[W]] : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
// CHECK:         %[[A:.*]] = kiln.add %[[M]], %[[B]] : (tensor<?x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
// CHECK:         %[[T:.*]] = kiln.tanh %[[A]] : tensor<?x2xf32>
// CHECK:         %[[R:.*]] = kiln.cast %[[T]] : tensor<?x2xf32> -> tensor<?x2xf16>
// CHECK:         return %[[R]] : tensor<?x2xf16>
func.func @dense(%x: tensor<?x4xf16>) -> tensor<?x2xf16> {
  %w = kiln.constant dense<[[1.0, 0.5], [0.25, -2.0], [3.0, 0.1], [0.0, 4.0]]> : tensor<4x2xf16>
  %b = kiln.constant dense<1.5> : tensor<2xf16>
  %m = kiln.matmul %x, %w : (tensor<?x4xf16>, tensor<4x2xf16>) -> tensor<?x2xf16>
  %a = kiln.add %m, %b : (tensor<?x2xf16>, tensor<2xf16>) -> tensor<?x2xf16>
  %t = kiln.tanh %a : tensor<?x2xf16>
  return %t : tensor<?x2xf16>
}

// -----

// bf16 likewise; ops that yield no half tensor (shape, comparisons) read the
// f32 values and keep their result types.
// CHECK-LABEL: func.func @bf16_shape_compare(
// CHECK:         %[[XW:.*]] = kiln.cast %{{.*}} : tensor<2x3xbf16> -> tensor<2x3xf32>
// CHECK:         kiln.shape %[[XW]] : (tensor<2x3xf32>) -> tensor<2xi64>
// CHECK:         %[[G:.*]] = kiln.greater %[[XW]], %{{.*}} : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xi1>
// CHECK:         %[[S:.*]] = kiln.where %[[G]], %[[XW]], %{{.*}} : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
// CHECK:         kiln.cast %[[S]] : tensor<2x3xf32> -> tensor<2x3xbf16>
func.func @bf16_shape_compare(%x: tensor<2x3xbf16>) -> (tensor<2xi64>, tensor<2x3xbf16>) {
  %s = kiln.shape %x : (tensor<2x3xbf16>) -> tensor<2xi64>
  %z = kiln.constant dense<0.0> : tensor<bf16>
  %g = kiln.greater %x, %z : (tensor<2x3xbf16>, tensor<bf16>) -> tensor<2x3xi1>
  %r = kiln.where %g, %x, %z : (tensor<2x3xi1>, tensor<2x3xbf16>, tensor<bf16>) -> tensor<2x3xbf16>
  return %s, %r : tensor<2xi64>, tensor<2x3xbf16>
}

// -----

// A cast to f32 of a widened value goes; an explicit cast to f16 keeps its
// rounding: the ops after it read it cast back to f32. A cast to an integer
// type reads the f32 value.
// CHECK-LABEL: func.func @casts(
// CHECK:         %[[XW:.*]] = kiln.cast %{{.*}} : tensor<4xf16> -> tensor<4xf32>
// CHECK:         %[[E:.*]] = kiln.exp %[[XW]] : tensor<4xf32>
// CHECK:         %[[N:.*]] = kiln.cast %[[E]] : tensor<4xf32> -> tensor<4xf16>
// CHECK:         %[[NW:.*]] = kiln.cast %[[N]] : tensor<4xf16> -> tensor<4xf32>
// CHECK:         %[[L:.*]] = kiln.log %[[NW]] : tensor<4xf32>
// CHECK:         %[[I:.*]] = kiln.cast %[[L]] : tensor<4xf32> -> tensor<4xi64>
// CHECK:         %[[SUM:.*]] = kiln.add %[[E]], %[[L]] : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK:         return %[[SUM]], %[[I]] : tensor<4xf32>, tensor<4xi64>
func.func @casts(%x: tensor<4xf16>) -> (tensor<4xf32>, tensor<4xi64>) {
  %e = kiln.exp %x : tensor<4xf16>
  %n = kiln.cast %e : tensor<4xf16> -> tensor<4xf16>
  %l = kiln.log %n : tensor<4xf16>
  %i = kiln.cast %l : tensor<4xf16> -> tensor<4xi64>
  %ef = kiln.cast %e : tensor<4xf16> -> tensor<4xf32>
  %lf = kiln.cast %l : tensor<4xf16> -> tensor<4xf32>
  %sum = kiln.add %ef, %lf : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %sum, %i : tensor<4xf32>, tensor<4xi64>
}

// -----

// Must not widen: a result type fixed by an attribute (constant_of_shape's
// f16 value) stays f16 and its f32 users read a cast; an op with regions
// keeps its half operands, and so does a user nested in a region, each
// through a cast back of the widened value.
// CHECK-LABEL: func.func @kept(
// CHECK:         %[[XW:.*]] = kiln.cast %{{.*}} : tensor<2x3xf16> -> tensor<2x3xf32>
// CHECK:         %[[E:.*]] = kiln.exp %[[XW]] : tensor<2x3xf32>
// CHECK:         %[[EN:.*]] = kiln.cast %[[E]] : tensor<2x3xf32> -> tensor<2x3xf16>
// CHECK:         %[[F:.*]] = kiln.constant_of_shape %{{.*}}, dense<2.000000e+00> : tensor<1xf16> : (tensor<2xi64>) -> tensor<2x3xf16>
// CHECK:         %[[FW:.*]] = kiln.cast %[[F]] : tensor<2x3xf16> -> tensor<2x3xf32>
// CHECK:         kiln.mul %[[E]], %[[FW]] : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK:         kiln.if %{{.*}} : tensor<i1> -> tensor<2x3xf16> {
// CHECK:           kiln.neg %[[EN]] : tensor<2x3xf16>
// CHECK:           kiln.yield %[[EN]] : tensor<2x3xf16>
func.func @kept(%x: tensor<2x3xf16>, %c: tensor<i1>) -> (tensor<2x3xf16>, tensor<2x3xf16>) {
  %e = kiln.exp %x : tensor<2x3xf16>
  %s = kiln.constant dense<[2, 3]> : tensor<2xi64>
  %f = kiln.constant_of_shape %s, dense<2.0> : tensor<1xf16> : (tensor<2xi64>) -> tensor<2x3xf16>
  %m = kiln.mul %e, %f : (tensor<2x3xf16>, tensor<2x3xf16>) -> tensor<2x3xf16>
  %r = kiln.if %c : tensor<i1> -> tensor<2x3xf16> {
    %n = kiln.neg %e : tensor<2x3xf16>
    kiln.yield %n : tensor<2x3xf16>
  } else {
    kiln.yield %e : tensor<2x3xf16>
  }
  return %m, %r : tensor<2x3xf16>, tensor<2x3xf16>
}

// -----

// Nothing to do in an f32 function.
// CHECK-LABEL: func.func @f32_only(
// CHECK-NOT:     kiln.cast
// CHECK:         kiln.exp %{{.*}} : tensor<4xf32>
// CHECK-NOT:     kiln.cast
func.func @f32_only(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = kiln.exp %x : tensor<4xf32>
  return %e : tensor<4xf32>
}

// -----

// A weight held as a resource blob (as the importer keeps large ones) is
// read from its fp16 bits.
// CHECK-LABEL: func.func @resource(
// CHECK:         kiln.constant dense<[1.000000e+00, -2.000000e+00]> : tensor<2xf32>
func.func @resource(%x: tensor<2xf16>) -> tensor<2xf16> {
  %w = kiln.constant dense_resource<w> : tensor<2xf16>
  %m = kiln.mul %x, %w : (tensor<2xf16>, tensor<2xf16>) -> tensor<2xf16>
  return %m : tensor<2xf16>
}

{-#
  dialect_resources: {
    builtin: {
      w: "0x02000000003C00C0"
    }
  }
#-}

// -----

// A concat of a half input (a KV cache passed in) stays f16: the step's new
// rows, computed in f32, are rounded back (as the fp16 model rounds them),
// the output is the f16 concat and the ops after it read it widened once.
// A concat of computed values only is widened like any op.
// CHECK-LABEL: func.func @kv_concat(
// CHECK-SAME:    %[[PAST:[^:]*]]: tensor<1x4x?x8xf16>, %[[X:[^:]*]]: tensor<1x4x1x8xf16>)
// CHECK:         %[[XW:.*]] = kiln.cast %[[X]] : tensor<1x4x1x8xf16> -> tensor<1x4x1x8xf32>
// CHECK:         %[[NEW:.*]] = kiln.exp %[[XW]] : tensor<1x4x1x8xf32>
// CHECK:         %[[NEWH:.*]] = kiln.cast %[[NEW]] : tensor<1x4x1x8xf32> -> tensor<1x4x1x8xf16>
// CHECK:         %[[CAT:.*]] = kiln.concat %[[PAST]], %[[NEWH]] {axis = 2 : i64} : (tensor<1x4x?x8xf16>, tensor<1x4x1x8xf16>) -> tensor<1x4x?x8xf16>
// CHECK:         %[[CATW:.*]] = kiln.cast %[[CAT]] : tensor<1x4x?x8xf16> -> tensor<1x4x?x8xf32>
// CHECK:         kiln.neg %[[CATW]] : tensor<1x4x?x8xf32>
// CHECK:         kiln.concat %[[NEW]], %[[NEW]] {axis = 2 : i64} : (tensor<1x4x1x8xf32>, tensor<1x4x1x8xf32>) -> tensor<1x4x2x8xf32>
// CHECK:         return %[[CAT]],
func.func @kv_concat(%past: tensor<1x4x?x8xf16>, %x: tensor<1x4x1x8xf16>) -> (tensor<1x4x?x8xf16>, tensor<1x4x?x8xf16>, tensor<1x4x2x8xf16>) {
  %new = kiln.exp %x : tensor<1x4x1x8xf16>
  %cat = kiln.concat %past, %new {axis = 2 : i64} : (tensor<1x4x?x8xf16>, tensor<1x4x1x8xf16>) -> tensor<1x4x?x8xf16>
  %n = kiln.neg %cat : tensor<1x4x?x8xf16>
  %two = kiln.concat %new, %new {axis = 2 : i64} : (tensor<1x4x1x8xf16>, tensor<1x4x1x8xf16>) -> tensor<1x4x2x8xf16>
  return %cat, %n, %two : tensor<1x4x?x8xf16>, tensor<1x4x?x8xf16>, tensor<1x4x2x8xf16>
}
