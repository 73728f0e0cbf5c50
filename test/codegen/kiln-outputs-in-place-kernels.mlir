// RUN: kiln-opt %s --kiln-outputs-in-place=kernels-only | FileCheck %s
// RUN: kiln-opt %s --kiln-outputs-in-place | FileCheck %s --check-prefix=ANY

// The CUDA pipeline's final host code: an output buffer that only kernels
// write (launch operands, a dim query, a view passed to a kernel) is asked
// of the runtime (the caller's GPU buffer, or a workspace one); one the
// host writes (a store, a copy through a view) or that a kernel writes
// after the output call keeps its alloc and the copy. Without
// kernels-only (the CPU pass) the host-written ones qualify too.
// CHECK: module attributes {gpu.container_module, kiln.device_outputs = array<i64: 0>}
// ANY-NOT: kiln.device_outputs
module attributes {gpu.container_module} {
  func.func private @kiln_rt_output_f32(!llvm.ptr, i64, memref<*xf32>)
  // CHECK-LABEL: func.func @main
  // ANY-LABEL: func.func @main
  func.func @main(%n: index, %ctx: !llvm.ptr) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %f = arith.constant 1.0 : f32
    %i0 = arith.constant 0 : i64
    %i1 = arith.constant 1 : i64
    %i2 = arith.constant 2 : i64
    %i3 = arith.constant 3 : i64
    // CHECK: %[[A:.*]] = call @kiln_rt_output_buffer_f32_r2(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (!llvm.ptr, i64, index, index) -> memref<?x?xf32>
    // CHECK: %[[AC:.*]] = memref.cast %[[A]] : memref<?x?xf32> to memref<?x4xf32>
    // CHECK-NOT: memref.alloc(%{{.*}}) : memref<?x4xf32>
    %a = memref.alloc(%n) : memref<?x4xf32>
    %d = memref.dim %a, %c0 : memref<?x4xf32>
    %flat = memref.collapse_shape %a [[0, 1]] : memref<?x4xf32> into memref<?xf32>
    gpu.launch_func @k::@k blocks in (%d, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<?x4xf32>, %flat : memref<?xf32>)
    // The host stores into this one: it stays.
    // CHECK: %[[B:.*]] = memref.alloc() : memref<8xf32>
    // ANY: call @kiln_rt_output_buffer_f32_r1
    %b = memref.alloc() : memref<8xf32>
    memref.store %f, %b[%c0] : memref<8xf32>
    // The host copies into a view of this one: it stays.
    // CHECK: %[[C:.*]] = memref.alloc() : memref<8x4xf32>
    %c = memref.alloc() : memref<8x4xf32>
    %cv = memref.subview %c[0, 0] [4, 4] [1, 1] : memref<8x4xf32> to memref<4x4xf32, strided<[4, 1]>>
    %src = memref.alloc() : memref<4x4xf32>
    memref.copy %src, %cv : memref<4x4xf32> to memref<4x4xf32, strided<[4, 1]>>
    // A kernel writes this one after its output call: it stays (both modes).
    // CHECK: %[[E:.*]] = memref.alloc() : memref<16xf32>
    // ANY: %[[E:.*]] = memref.alloc() : memref<16xf32>
    %e = memref.alloc() : memref<16xf32>
    %ca = memref.cast %a : memref<?x4xf32> to memref<*xf32>
    func.call @kiln_rt_output_f32(%ctx, %i0, %ca) : (!llvm.ptr, i64, memref<*xf32>) -> ()
    %cb = memref.cast %b : memref<8xf32> to memref<*xf32>
    func.call @kiln_rt_output_f32(%ctx, %i1, %cb) : (!llvm.ptr, i64, memref<*xf32>) -> ()
    %cc = memref.cast %c : memref<8x4xf32> to memref<*xf32>
    func.call @kiln_rt_output_f32(%ctx, %i2, %cc) : (!llvm.ptr, i64, memref<*xf32>) -> ()
    %ce = memref.cast %e : memref<16xf32> to memref<*xf32>
    func.call @kiln_rt_output_f32(%ctx, %i3, %ce) : (!llvm.ptr, i64, memref<*xf32>) -> ()
    gpu.launch_func @k2::@k2 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%e : memref<16xf32>)
    // CHECK: call @kiln_rt_output_f32(%arg1, %{{.*}}, %{{.*}})
    // CHECK-NOT: memref.dealloc %[[AC]]
    // CHECK: memref.dealloc %[[B]]
    // CHECK: memref.dealloc %[[C]]
    memref.dealloc %a : memref<?x4xf32>
    memref.dealloc %b : memref<8xf32>
    memref.dealloc %c : memref<8x4xf32>
    memref.dealloc %src : memref<4x4xf32>
    memref.dealloc %e : memref<16xf32>
    return
  }
  gpu.module @k {
    gpu.func @k(%x: memref<?x4xf32>, %y: memref<?xf32>) kernel {
      gpu.return
    }
  }
  gpu.module @k2 {
    gpu.func @k2(%x: memref<16xf32>) kernel {
      gpu.return
    }
  }
}
