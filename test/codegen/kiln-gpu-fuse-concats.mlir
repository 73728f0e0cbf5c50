// RUN: kiln-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(kiln-gpu-fuse-concats))' | FileCheck %s

// GPT-2's KV cache: the past keys and a strided view of the new ones
// copied into two subviews of the concat buffer along the sequence dim.
// One generic over the whole buffer: inside the second part's range its
// source, else inside the first part's its source, else the buffer's own
// value; the copies and their subviews go.
// CHECK-LABEL: func.func @kv_concat(
// CHECK-SAME:    %[[PAST:[^:]*]]: memref<?x4x?x16xf32>, %[[NEW:[^:]*]]: memref<?x4x?x16xf32, strided<[?, 16, 192, 1]>>
// CHECK:         %[[BUF:.*]] = memref.alloc
// CHECK-NOT:     linalg.copy
// CHECK-NOT:     memref.subview
// CHECK:         linalg.generic {{.*}} outs(%[[BUF]] : memref<?x4x?x16xf32>)
// CHECK:           ^bb0(%[[OUT:.*]]: f32):
// CHECK:           arith.cmpi ult
// CHECK:           scf.if
// CHECK-NEXT:        memref.load %[[NEW]]
// CHECK:           } else {
// CHECK:             scf.if
// CHECK-NEXT:          memref.load %[[PAST]]
// CHECK:             } else {
// CHECK-NEXT:          scf.yield %[[OUT]]
// CHECK-NOT:     linalg.copy
// CHECK:         return %[[BUF]]
func.func @kv_concat(%past: memref<?x4x?x16xf32>, %new: memref<?x4x?x16xf32, strided<[?, 16, 192, 1]>>) -> memref<?x4x?x16xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = memref.dim %past, %c0 : memref<?x4x?x16xf32>
  %p = memref.dim %past, %c2 : memref<?x4x?x16xf32>
  %n = memref.dim %new, %c2 : memref<?x4x?x16xf32, strided<[?, 16, 192, 1]>>
  %t = arith.addi %p, %n : index
  %buf = memref.alloc(%b, %t) : memref<?x4x?x16xf32>
  %v0 = memref.subview %buf[0, 0, 0, 0] [%b, 4, %p, 16] [1, 1, 1, 1] : memref<?x4x?x16xf32> to memref<?x4x?x16xf32, strided<[?, ?, 16, 1]>>
  linalg.copy ins(%past : memref<?x4x?x16xf32>) outs(%v0 : memref<?x4x?x16xf32, strided<[?, ?, 16, 1]>>)
  %v1 = memref.subview %buf[0, 0, %p, 0] [%b, 4, %n, 16] [1, 1, 1, 1] : memref<?x4x?x16xf32> to memref<?x4x?x16xf32, strided<[?, ?, 16, 1], offset: ?>>
  linalg.copy ins(%new : memref<?x4x?x16xf32, strided<[?, 16, 192, 1]>>) outs(%v1 : memref<?x4x?x16xf32, strided<[?, ?, 16, 1], offset: ?>>)
  return %buf : memref<?x4x?x16xf32>
}

// -----

// Three parts along the last dim: one generic, three nested branches.
// CHECK-LABEL: func.func @three(
// CHECK-NOT:     linalg.copy
// CHECK:         linalg.generic
// CHECK-COUNT-3:   scf.if
// CHECK-NOT:     linalg.copy
func.func @three(%a: memref<4x2xf32>, %b: memref<4x3xf32>, %c: memref<4x1xf32>) -> memref<4x6xf32> {
  %buf = memref.alloc() : memref<4x6xf32>
  %v0 = memref.subview %buf[0, 0] [4, 2] [1, 1] : memref<4x6xf32> to memref<4x2xf32, strided<[6, 1]>>
  linalg.copy ins(%a : memref<4x2xf32>) outs(%v0 : memref<4x2xf32, strided<[6, 1]>>)
  %v1 = memref.subview %buf[0, 2] [4, 3] [1, 1] : memref<4x6xf32> to memref<4x3xf32, strided<[6, 1], offset: 2>>
  linalg.copy ins(%b : memref<4x3xf32>) outs(%v1 : memref<4x3xf32, strided<[6, 1], offset: 2>>)
  %v2 = memref.subview %buf[0, 5] [4, 1] [1, 1] : memref<4x6xf32> to memref<4x1xf32, strided<[6, 1], offset: 5>>
  linalg.copy ins(%c : memref<4x1xf32>) outs(%v2 : memref<4x1xf32, strided<[6, 1], offset: 5>>)
  return %buf : memref<4x6xf32>
}

// -----

// Kept:
//   - @read_between: the buffer is read (through another view) between
//     the copies;
//   - @source_written: an argument is written between the copies, and the
//     second copy's source is an argument (which may share its memory);
//   - @shape_concat: one-element parts (they become host code);
//   - @one_part: a single copy;
//   - @strided_target: a part's subview is not unit-stride.
// CHECK-LABEL: func.func @read_between(
// CHECK-COUNT-2: linalg.copy
// CHECK-LABEL: func.func @source_written(
// CHECK-COUNT-2: linalg.copy
// CHECK-LABEL: func.func @shape_concat(
// CHECK-COUNT-2: linalg.copy
// CHECK-LABEL: func.func @one_part(
// CHECK-COUNT-1: linalg.copy
// CHECK-LABEL: func.func @strided_target(
// CHECK-COUNT-2: linalg.copy
// CHECK-NOT:     linalg.generic
func.func @read_between(%a: memref<2x2xf32>, %b: memref<2x2xf32>, %o: memref<2x2xf32>) -> memref<2x4xf32> {
  %buf = memref.alloc() : memref<2x4xf32>
  %peek = memref.subview %buf[0, 0] [2, 2] [1, 1] : memref<2x4xf32> to memref<2x2xf32, strided<[4, 1]>>
  %v0 = memref.subview %buf[0, 0] [2, 2] [1, 1] : memref<2x4xf32> to memref<2x2xf32, strided<[4, 1]>>
  linalg.copy ins(%a : memref<2x2xf32>) outs(%v0 : memref<2x2xf32, strided<[4, 1]>>)
  linalg.copy ins(%peek : memref<2x2xf32, strided<[4, 1]>>) outs(%o : memref<2x2xf32>)
  %v1 = memref.subview %buf[0, 2] [2, 2] [1, 1] : memref<2x4xf32> to memref<2x2xf32, strided<[4, 1], offset: 2>>
  linalg.copy ins(%b : memref<2x2xf32>) outs(%v1 : memref<2x2xf32, strided<[4, 1], offset: 2>>)
  return %buf : memref<2x4xf32>
}
func.func @source_written(%a: memref<2x2xf32>, %b: memref<2x2xf32>, %o: memref<2x2xf32>) -> memref<2x4xf32> {
  %zero = arith.constant 0.0 : f32
  %buf = memref.alloc() : memref<2x4xf32>
  %v0 = memref.subview %buf[0, 0] [2, 2] [1, 1] : memref<2x4xf32> to memref<2x2xf32, strided<[4, 1]>>
  linalg.copy ins(%a : memref<2x2xf32>) outs(%v0 : memref<2x2xf32, strided<[4, 1]>>)
  linalg.fill ins(%zero : f32) outs(%o : memref<2x2xf32>)
  %v1 = memref.subview %buf[0, 2] [2, 2] [1, 1] : memref<2x4xf32> to memref<2x2xf32, strided<[4, 1], offset: 2>>
  linalg.copy ins(%b : memref<2x2xf32>) outs(%v1 : memref<2x2xf32, strided<[4, 1], offset: 2>>)
  return %buf : memref<2x4xf32>
}
func.func @shape_concat(%a: memref<1xi64>, %b: memref<1xi64>) -> memref<2xi64> {
  %buf = memref.alloc() : memref<2xi64>
  %v0 = memref.subview %buf[0] [1] [1] : memref<2xi64> to memref<1xi64, strided<[1]>>
  linalg.copy ins(%a : memref<1xi64>) outs(%v0 : memref<1xi64, strided<[1]>>)
  %v1 = memref.subview %buf[1] [1] [1] : memref<2xi64> to memref<1xi64, strided<[1], offset: 1>>
  linalg.copy ins(%b : memref<1xi64>) outs(%v1 : memref<1xi64, strided<[1], offset: 1>>)
  return %buf : memref<2xi64>
}
func.func @one_part(%a: memref<2x2xf32>) -> memref<2x4xf32> {
  %buf = memref.alloc() : memref<2x4xf32>
  %v0 = memref.subview %buf[0, 0] [2, 2] [1, 1] : memref<2x4xf32> to memref<2x2xf32, strided<[4, 1]>>
  linalg.copy ins(%a : memref<2x2xf32>) outs(%v0 : memref<2x2xf32, strided<[4, 1]>>)
  return %buf : memref<2x4xf32>
}
func.func @strided_target(%a: memref<2x2xf32>, %b: memref<2x2xf32>) -> memref<2x4xf32> {
  %buf = memref.alloc() : memref<2x4xf32>
  %v0 = memref.subview %buf[0, 0] [2, 2] [1, 2] : memref<2x4xf32> to memref<2x2xf32, strided<[4, 2]>>
  linalg.copy ins(%a : memref<2x2xf32>) outs(%v0 : memref<2x2xf32, strided<[4, 2]>>)
  %v1 = memref.subview %buf[0, 1] [2, 2] [1, 2] : memref<2x4xf32> to memref<2x2xf32, strided<[4, 2], offset: 1>>
  linalg.copy ins(%b : memref<2x2xf32>) outs(%v1 : memref<2x2xf32, strided<[4, 2], offset: 1>>)
  return %buf : memref<2x4xf32>
}
