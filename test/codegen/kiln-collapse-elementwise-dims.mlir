// RUN: kiln-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kiln-collapse-elementwise-dims))" | FileCheck %s

// An elementwise loop nest over dense [N, C, H, W] buffers: H and W merge
// into one loop of 3136 (N and C stay loops of their own).
// CHECK-LABEL: func.func @planes(
// CHECK-DAG:     %[[A:.*]] = memref.collapse_shape %arg0 {{\[}}[0], [1], [2, 3]] : memref<?x64x56x56xf32> into memref<?x64x3136xf32>
// CHECK-DAG:     %[[B:.*]] = memref.collapse_shape %arg1 {{\[}}[0], [1], [2, 3]] : memref<?x64x56x56xf32> into memref<?x64x3136xf32>
// CHECK:         linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[A]] : memref<?x64x3136xf32>) outs(%[[B]] : memref<?x64x3136xf32>)
// CHECK:           arith.maximumf
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @planes(%a: memref<?x64x56x56xf32>, %b: memref<?x64x56x56xf32>) {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%a : memref<?x64x56x56xf32>) outs(%b : memref<?x64x56x56xf32>) {
  ^bb0(%x: f32, %y: f32):
    %c = arith.constant 0.0 : f32
    %m = arith.maximumf %x, %c : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// Rank 5: the shortest suffix from dim 2 with 256+ iterations, [3, 4]
// (16 x 16).
// CHECK-LABEL: func.func @rank5(
// CHECK:         memref.collapse_shape %arg0 {{\[}}[0], [1], [2], [3, 4]] : memref<2x3x4x16x16xf32> into memref<2x3x4x256xf32>
#id5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
func.func @rank5(%a: memref<2x3x4x16x16xf32>, %b: memref<2x3x4x16x16xf32>) {
  linalg.generic {indexing_maps = [#id5, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%a : memref<2x3x4x16x16xf32>) outs(%b : memref<2x3x4x16x16xf32>) {
  ^bb0(%x: f32, %y: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  }
  return
}

// -----

// Not merged: a broadcast operand (a per-channel bias), a strided buffer,
// a reduction, a dynamic inner dim, rank 3.
// CHECK-LABEL: func.func @kept(
// CHECK-NOT:     memref.collapse_shape
// CHECK-COUNT-5: linalg.generic
// CHECK-NOT:     memref.collapse_shape
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d1)>
#red = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @kept(%a: memref<1x8x16x16xf32>, %bias: memref<8xf32>, %b: memref<1x8x16x16xf32>,
                %s: memref<1x8x16x16xf32, strided<[4096, 512, 32, 1]>>, %r: memref<1x8x16xf32>,
                %d: memref<1x8x16x?xf32>, %t: memref<4x16x16xf32>) {
  linalg.generic {indexing_maps = [#id4, #ch, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%a, %bias : memref<1x8x16x16xf32>, memref<8xf32>) outs(%b : memref<1x8x16x16xf32>) {
  ^bb0(%x: f32, %c: f32, %y: f32):
    %v = arith.addf %x, %c : f32
    linalg.yield %v : f32
  }
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : memref<1x8x16x16xf32, strided<[4096, 512, 32, 1]>>) outs(%b : memref<1x8x16x16xf32>) {
  ^bb0(%x: f32, %y: f32):
    linalg.yield %x : f32
  }
  linalg.generic {indexing_maps = [#id4, #red], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%a : memref<1x8x16x16xf32>) outs(%r : memref<1x8x16xf32>) {
  ^bb0(%x: f32, %y: f32):
    %v = arith.addf %x, %y : f32
    linalg.yield %v : f32
  }
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%d : memref<1x8x16x?xf32>) outs(%d : memref<1x8x16x?xf32>) {
  ^bb0(%x: f32, %y: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  }
  linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t : memref<4x16x16xf32>) outs(%t : memref<4x16x16xf32>) {
  ^bb0(%x: f32, %y: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  }
  return
}
