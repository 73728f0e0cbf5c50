// RUN: kiln-opt %s --kiln-gpu-device-inputs | FileCheck %s

// Arguments whose memory only kernels touch (launch operands, dims,
// metadata, views used the same way) are recorded; a host load, a host
// copy through a view, or the output callback keeps an input staged; the
// trailing run-context pointer is not a memref.
// CHECK: module attributes {gpu.container_module, kiln.device_inputs = array<i64: 0, 1>}
module attributes {gpu.container_module} {
  func.func private @kiln_rt_output_f32(!llvm.ptr, i64, memref<*xf32>)
  func.func @main(%a: memref<?x4xf32>, %b: memref<8x4xf32>, %c: memref<4xi64>,
                  %d: memref<8x4xf32>, %e: memref<8x4xf32>, %ctx: !llvm.ptr) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %n = memref.dim %a, %c0 : memref<?x4xf32>
    %view = memref.subview %b[0, 0] [4, 4] [1, 1] : memref<8x4xf32> to memref<4x4xf32, strided<[4, 1]>>
    %flat = memref.collapse_shape %b [[0, 1]] : memref<8x4xf32> into memref<32xf32>
    gpu.launch_func @k::@k blocks in (%n, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<?x4xf32>, %view : memref<4x4xf32, strided<[4, 1]>>, %flat : memref<32xf32>)
    %v = memref.load %c[%c0] : memref<4xi64>
    %dv = memref.subview %d[0, 0] [4, 4] [1, 1] : memref<8x4xf32> to memref<4x4xf32, strided<[4, 1]>>
    %tmp = memref.alloc() : memref<4x4xf32>
    memref.copy %dv, %tmp : memref<4x4xf32, strided<[4, 1]>> to memref<4x4xf32>
    %i = arith.constant 0 : i64
    %cast = memref.cast %e : memref<8x4xf32> to memref<*xf32>
    func.call @kiln_rt_output_f32(%ctx, %i, %cast) : (!llvm.ptr, i64, memref<*xf32>) -> ()
    return
  }
  gpu.module @k {
    gpu.func @k(%x: memref<?x4xf32>, %y: memref<4x4xf32, strided<[4, 1]>>, %z: memref<32xf32>) kernel {
      gpu.return
    }
  }
}
