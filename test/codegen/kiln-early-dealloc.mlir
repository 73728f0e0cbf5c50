// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kiln-early-dealloc))' | FileCheck %s

// Each buffer is freed right after its last use: %a after the copy into
// %b (its last reader), %b after the copy out of its expanded view.
// CHECK-LABEL: func.func @chain
// CHECK: %[[A:.*]] = memref.alloc() : memref<8xf32>
// CHECK-NEXT: memref.copy %arg0, %[[A]]
// CHECK-NEXT: %[[B:.*]] = memref.alloc() : memref<8xf32>
// CHECK-NEXT: memref.copy %[[A]], %[[B]]
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK-NEXT: %[[V:.*]] = memref.expand_shape %[[B]]
// CHECK-NEXT: memref.copy %[[V]], %arg1
// CHECK-NEXT: memref.dealloc %[[B]]
// CHECK-NEXT: %[[C:.*]] = memref.alloc() : memref<8xf32>
// CHECK-NEXT: memref.copy %arg0, %[[C]]
// CHECK-NEXT: memref.copy %[[C]], %arg2
// CHECK-NEXT: memref.dealloc %[[C]]
// CHECK-NEXT: return
func.func @chain(%x: memref<8xf32>, %y: memref<2x4xf32>, %z: memref<8xf32>) {
  %a = memref.alloc() : memref<8xf32>
  memref.copy %x, %a : memref<8xf32> to memref<8xf32>
  %b = memref.alloc() : memref<8xf32>
  memref.copy %a, %b : memref<8xf32> to memref<8xf32>
  %v = memref.expand_shape %b [[0, 1]] output_shape [2, 4] : memref<8xf32> into memref<2x4xf32>
  memref.copy %v, %y : memref<2x4xf32> to memref<2x4xf32>
  %c = memref.alloc() : memref<8xf32>
  memref.copy %x, %c : memref<8xf32> to memref<8xf32>
  memref.copy %c, %z : memref<8xf32> to memref<8xf32>
  memref.dealloc %a : memref<8xf32>
  memref.dealloc %b : memref<8xf32>
  memref.dealloc %c : memref<8xf32>
  return
}

// -----

// A use inside a loop's body keeps the buffer until after the loop; a
// scalar loaded from it (a value, not the buffer) does not.
// CHECK-LABEL: func.func @region
// CHECK: %[[A:.*]] = memref.alloc() : memref<8xf32>
// CHECK: scf.for
// CHECK: memref.load %[[A]]
// CHECK: }
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK-NEXT: arith.constant
// CHECK-NEXT: memref.store
// CHECK-NEXT: return
func.func @region(%x: memref<8xf32>, %s: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %a = memref.alloc() : memref<8xf32>
  memref.copy %x, %a : memref<8xf32> to memref<8xf32>
  %sum = scf.for %i = %c0 to %c8 step %c1 iter_args(%acc = %x) -> (memref<8xf32>) {
    %e = memref.load %a[%i] : memref<8xf32>
    memref.store %e, %acc[%i] : memref<8xf32>
    scf.yield %acc : memref<8xf32>
  }
  %f = arith.constant 1.0 : f32
  memref.store %f, %s[] : memref<f32>
  memref.dealloc %a : memref<8xf32>
  return
}

// -----

// Not moved: a buffer whose address is taken as an index (its uses cannot
// be followed), a buffer with a dealloc in a nested block.
// CHECK-LABEL: func.func @negative
// CHECK: %[[A:.*]] = memref.alloc() : memref<8xf32>
// CHECK: %[[B:.*]] = memref.alloc() : memref<8xf32>
// CHECK: memref.extract_aligned_pointer_as_index %[[A]]
// CHECK: scf.if
// CHECK-NEXT: memref.dealloc %[[B]]
// CHECK: memref.copy %arg0, %arg0
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK-NEXT: return
func.func @negative(%x: memref<8xf32>, %c: i1) -> index {
  %a = memref.alloc() : memref<8xf32>
  %b = memref.alloc() : memref<8xf32>
  memref.copy %x, %a : memref<8xf32> to memref<8xf32>
  %p = memref.extract_aligned_pointer_as_index %a : memref<8xf32> -> index
  memref.copy %x, %b : memref<8xf32> to memref<8xf32>
  scf.if %c {
    memref.dealloc %b : memref<8xf32>
  }
  memref.copy %x, %x : memref<8xf32> to memref<8xf32>
  memref.dealloc %a : memref<8xf32>
  return %p : index
}
