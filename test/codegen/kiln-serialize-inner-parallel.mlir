// RUN: kiln-opt %s -split-input-file -pass-pipeline="builtin.module(func.func(kiln-serialize-inner-parallel))" | FileCheck %s

// The inner parallel loop becomes an scf.for; the outer one stays parallel.
// CHECK-LABEL: func.func @nested(
// CHECK:         scf.parallel (%[[I:.*]]) =
// CHECK-NOT:     scf.parallel
// CHECK:         scf.for %[[J:.*]] =
// CHECK:           memref.store %{{.*}}, %{{.*}}[%[[I]], %[[J]]]
func.func @nested(%m: memref<4x8xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    scf.parallel (%j) = (%c0) to (%c8) step (%c1) {
      memref.store %v, %m[%i, %j] : memref<4x8xf32>
      scf.reduce
    }
    scf.reduce
  }
  return
}

// -----

// An outermost parallel loop is left alone, even inside a sequential loop.
// CHECK-LABEL: func.func @outermost(
// CHECK:         scf.for
// CHECK:           scf.parallel
func.func @outermost(%m: memref<4x8xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  scf.for %i = %c0 to %c4 step %c1 {
    scf.parallel (%j) = (%c0) to (%c8) step (%c1) {
      memref.store %v, %m[%i, %j] : memref<4x8xf32>
      scf.reduce
    }
  }
  return
}
