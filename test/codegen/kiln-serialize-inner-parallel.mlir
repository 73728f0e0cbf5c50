// RUN: kiln-opt %s -split-input-file -kiln-serialize-inner-parallel | FileCheck %s

// The inner parallel loop becomes an scf.for; the outer one (65536
// iterations in all) stays parallel.
// CHECK-LABEL: func.func @nested(
// CHECK:         scf.parallel (%[[I:.*]]) =
// CHECK-NOT:     scf.parallel
// CHECK:         scf.for %[[J:.*]] =
// CHECK:           memref.store %{{.*}}, %{{.*}}[%[[I]], %[[J]]]
func.func @nested(%m: memref<1024x64xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 1024 : index
  %c8 = arith.constant 64 : index
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    scf.parallel (%j) = (%c0) to (%c8) step (%c1) {
      memref.store %v, %m[%i, %j] : memref<1024x64xf32>
      scf.reduce
    }
    scf.reduce
  }
  return
}

// -----

// An outermost parallel loop with dynamic bounds is versioned: parallel when
// the pool has more than one thread and the count is large, serial otherwise.
// CHECK-LABEL: func.func @outermost(
// CHECK:         scf.for
// CHECK:           %[[T:.*]] = func.call @kiln_rt_num_threads() : () -> i64
// CHECK:           scf.if
// CHECK:             scf.parallel
// CHECK:           } else {
// CHECK-NOT:         scf.parallel
// CHECK:             scf.for
func.func @outermost(%m: memref<4x8xf32>, %v: f32, %c8: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %i = %c0 to %c4 step %c1 {
    scf.parallel (%j) = (%c0) to (%c8) step (%c1) {
      memref.store %v, %m[%i, %j] : memref<4x8xf32>
      scf.reduce
    }
  }
  return
}

// -----

// A small nest (32 iterations) is not worth a parallel region.
// CHECK-LABEL: func.func @small(
// CHECK-NOT:     scf.parallel
// CHECK:         scf.for
func.func @small(%m: memref<4x8xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    memref.store %v, %m[%i, %j] : memref<4x8xf32>
    scf.reduce
  }
  return
}
