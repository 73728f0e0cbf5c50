// RUN: kiln-opt %s --split-input-file --kiln-gpu-async-launches | FileCheck %s

// Launches chain on one stream. Host bookkeeping between them (allocations,
// a store into a host-only shape buffer, a reshape reading it, a run-time
// check without memref operands) does not synchronize; a load from a buffer
// a kernel wrote does, and so does the return.
// CHECK-LABEL: func.func @chain
// CHECK: %[[T0:.*]] = gpu.wait async
// CHECK-NEXT: %[[T1:.*]] = gpu.launch_func async [%[[T0]]] @k::@k
// CHECK-NOT: gpu.wait
// CHECK: memref.store
// CHECK-NOT: gpu.wait
// CHECK: memref.reshape
// CHECK-NOT: gpu.wait
// CHECK: call @check
// CHECK-NOT: gpu.wait
// CHECK: %[[T2:.*]] = gpu.launch_func async [%[[T1]]] @k::@k
// CHECK-NEXT: gpu.wait [%[[T2]]]
// CHECK-NEXT: memref.load %[[A:.*]][
// CHECK: %[[T3:.*]] = gpu.wait async
// CHECK-NEXT: %[[T4:.*]] = gpu.launch_func async [%[[T3]]] @k::@d
// CHECK-NEXT: gpu.wait [%[[T4]]]
// CHECK-NEXT: return
module attributes {gpu.container_module} {
  func.func private @check(index)
  func.func @chain(%n: index) -> memref<?xf32> {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : i64
    %a = memref.alloc() : memref<4xf32>
    gpu.launch_func @k::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4xf32>)
    %shape = memref.alloc() : memref<1xi64>
    memref.store %c4, %shape[%c0] : memref<1xi64>
    %r = memref.reshape %a(%shape) : (memref<4xf32>, memref<1xi64>) -> memref<?xf32>
    func.call @check(%n) : (index) -> ()
    gpu.launch_func @k::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4xf32>)
    %x = memref.load %r[%c0] : memref<?xf32>
    gpu.launch_func @k::@d blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%r : memref<?xf32>)
    return %r : memref<?xf32>
  }
  gpu.module @k {
    gpu.func @k(%a: memref<4xf32>) kernel {
      gpu.return
    }
    gpu.func @d(%a: memref<?xf32>) kernel {
      gpu.return
    }
  }
}

// -----

// A shape buffer a kernel wrote is synchronized before a reshape reads it;
// freeing a buffer a kernel uses waits for it, freeing a host-only one does
// not; a loop with launches synchronizes before it starts and at the end
// of each iteration.
// CHECK-LABEL: func.func @shapes_and_loops
// CHECK: gpu.launch_func async
// CHECK-NEXT: gpu.wait [
// CHECK-NEXT: memref.reshape
// CHECK: gpu.launch_func async
// CHECK-NEXT: memref.dealloc %[[HOST:.*]] : memref<2xi64>
// CHECK-NEXT: gpu.wait [
// CHECK-NEXT: memref.dealloc %{{.*}} : memref<?xf32>
// CHECK: gpu.launch_func async
// CHECK-NEXT: gpu.wait [
// CHECK-NEXT: scf.for
// CHECK-NEXT: gpu.wait async
// CHECK-NEXT: gpu.launch_func async
// CHECK-NEXT: gpu.wait [
// CHECK-NEXT: }
// CHECK-NEXT: return
module attributes {gpu.container_module} {
  func.func @shapes_and_loops(%n: index) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : i64
    %s = memref.alloc() : memref<1xi64>
    %a = memref.alloc() : memref<8xf32>
    gpu.launch_func @k::@s blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%s : memref<1xi64>)
    %r = memref.reshape %a(%s) : (memref<8xf32>, memref<1xi64>) -> memref<?xf32>
    %h = memref.alloc() : memref<2xi64>
    memref.store %c2, %h[%c0] : memref<2xi64>
    gpu.launch_func @k::@f blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%r : memref<?xf32>)
    memref.dealloc %h : memref<2xi64>
    memref.dealloc %r : memref<?xf32>
    gpu.launch_func @k::@s blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%s : memref<1xi64>)
    scf.for %i = %c0 to %n step %c1 {
      gpu.launch_func @k::@s blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%s : memref<1xi64>)
    }
    return
  }
  gpu.module @k {
    gpu.func @s(%a: memref<1xi64>) kernel {
      gpu.return
    }
    gpu.func @f(%a: memref<?xf32>) kernel {
      gpu.return
    }
  }
}

// -----

// A function without launches is left as it is.
// CHECK-LABEL: func.func @host_only
// CHECK-NOT: gpu.wait
// CHECK: return
module attributes {gpu.container_module} {
  func.func @host_only(%a: memref<4xf32>) -> f32 {
    %c0 = arith.constant 0 : index
    %x = memref.load %a[%c0] : memref<4xf32>
    return %x : f32
  }
}
