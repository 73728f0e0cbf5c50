// RUN: kiln-opt %s --split-input-file --kiln-gpu-copies-to-kernels | FileCheck %s

// Ranked copies, strided ones included, become linalg.copy; an unranked
// copy keeps the runtime call.
// CHECK-LABEL: func.func @copies
// CHECK: linalg.copy ins(%{{.*}} : memref<?x4xf32>) outs(%{{.*}} : memref<?x4xf32>)
// CHECK: linalg.copy ins(%{{.*}} : memref<2x2xf32, strided<[4, 1], offset: 1>>) outs(%{{.*}} : memref<2x2xf32>)
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<*xf32> to memref<*xf32>
// CHECK-NOT: memref.copy
func.func @copies(%a: memref<?x4xf32>, %b: memref<?x4xf32>, %c: memref<2x2xf32>,
                  %u: memref<*xf32>, %v: memref<*xf32>) {
  memref.copy %a, %b : memref<?x4xf32> to memref<?x4xf32>
  %s = memref.subview %a[0, 1] [2, 2] [1, 1] : memref<?x4xf32> to memref<2x2xf32, strided<[4, 1], offset: 1>>
  memref.copy %s, %c : memref<2x2xf32, strided<[4, 1], offset: 1>> to memref<2x2xf32>
  memref.copy %u, %v : memref<*xf32> to memref<*xf32>
  return
}
