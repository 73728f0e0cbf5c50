// RUN: kiln-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kiln-approximate-math))" | FileCheck %s

// exp, erf, tanh and log on f32 scalars become polynomials in arith and
// math.fma: no transcendental math op is left.
// CHECK-LABEL: func.func @scalars(
// CHECK-SAME:    %[[X:[^:]*]]: f32)
// CHECK-NOT:     math.exp
// CHECK-NOT:     math.erf
// CHECK-NOT:     math.tanh
// CHECK-NOT:     math.log
// CHECK:         math.fma
// CHECK-NOT:     math.exp
// CHECK-NOT:     math.erf
// CHECK-NOT:     math.tanh
// CHECK-NOT:     math.log
// CHECK:         return %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : f32, f32, f32, f32
func.func @scalars(%x: f32) -> (f32, f32, f32, f32) {
  %0 = math.exp %x : f32
  %1 = math.erf %x : f32
  %2 = math.tanh %x : f32
  %3 = math.log %x : f32
  return %0, %1, %2, %3 : f32, f32, f32, f32
}

// -----

// The same on vector<16xf32>: the polynomial stays in vector form, so the
// loops it sits in vectorize.
// CHECK-LABEL: func.func @vectors(
// CHECK-SAME:    %[[V:[^:]*]]: vector<16xf32>)
// CHECK-NOT:     math.exp
// CHECK-NOT:     math.erf
// CHECK-NOT:     math.tanh
// CHECK:         math.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK:         arith.mulf %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK-NOT:     math.exp
// CHECK-NOT:     math.erf
// CHECK-NOT:     math.tanh
// CHECK:         return %{{.*}}, %{{.*}}, %{{.*}} : vector<16xf32>, vector<16xf32>, vector<16xf32>
func.func @vectors(%v: vector<16xf32>) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>) {
  %0 = math.exp %v : vector<16xf32>
  %1 = math.erf %v : vector<16xf32>
  %2 = math.tanh %v : vector<16xf32>
  return %0, %1, %2 : vector<16xf32>, vector<16xf32>, vector<16xf32>
}

// -----

// One op alone: exp expands into its polynomial (fma steps) and an
// exponent built with bit operations.
// CHECK-LABEL: func.func @exp_only(
// CHECK-NOT:     math.exp
// CHECK:         math.fma
// CHECK:         arith.bitcast
// CHECK:         return
func.func @exp_only(%x: f32) -> f32 {
  %0 = math.exp %x : f32
  return %0 : f32
}

// -----

// Negative: sqrt is not approximated (it is one hardware instruction), and
// f64 exp has no approximation: both stay.
// CHECK-LABEL: func.func @not_approximated(
// CHECK-SAME:    %[[X:[^:]*]]: f32, %[[D:[^:]*]]: f64)
// CHECK-NEXT:    %[[S:.*]] = math.sqrt %[[X]] : f32
// CHECK-NEXT:    %[[E:.*]] = math.exp %[[D]] : f64
// CHECK-NEXT:    return %[[S]], %[[E]]
func.func @not_approximated(%x: f32, %d: f64) -> (f32, f64) {
  %0 = math.sqrt %x : f32
  %1 = math.exp %d : f64
  return %0, %1 : f32, f64
}
