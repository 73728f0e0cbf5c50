// RUN: kiln-opt %s --split-input-file --kiln-gpu-device-globals --verify-diagnostics | FileCheck %s

// Each host use of a global goes through the runtime's device-resident copy
// (one id per global); kernels receive the copy. Code inside gpu.module is
// not touched.
// CHECK-DAG: func.func private @kiln_rt_gpu_global_f32_r2(memref<?x?xf32>, i64) -> memref<?x?xf32> attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @kiln_rt_gpu_global_i64_r0(memref<i64>, i64) -> memref<i64> attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @main
// CHECK: %[[W:.*]] = memref.get_global @w : memref<4x8xf32>
// CHECK: %[[WD:.*]] = memref.cast %[[W]] : memref<4x8xf32> to memref<?x?xf32>
// CHECK: %[[ID0:.*]] = arith.constant 0 : i64
// CHECK: %[[R:.*]] = call @kiln_rt_gpu_global_f32_r2(%[[WD]], %[[ID0]])
// CHECK: %[[V:.*]] = memref.cast %[[R]] : memref<?x?xf32> to memref<4x8xf32>
// CHECK: %[[S:.*]] = memref.get_global @s : memref<i64>
// CHECK: %[[ID1:.*]] = arith.constant 1 : i64
// CHECK: call @kiln_rt_gpu_global_i64_r0(%[[S]], %[[ID1]])
// CHECK: gpu.launch_func {{ *}}@k::@k blocks in ({{.*}}) threads in ({{.*}}) {{ *}}args(%[[V]] : memref<4x8xf32>)
// CHECK: %[[W2:.*]] = memref.get_global @w : memref<4x8xf32>
// CHECK: %[[ID0B:.*]] = arith.constant 0 : i64
// CHECK: call @kiln_rt_gpu_global_f32_r2(%{{.*}}, %[[ID0B]])
// CHECK: gpu.module @k
// CHECK: memref.get_global @w
// CHECK-NOT: kiln_rt_gpu_global
module attributes {gpu.container_module} {
  memref.global "private" constant @w : memref<4x8xf32> = dense<1.0>
  memref.global "private" constant @s : memref<i64> = dense<3>
  func.func @main() -> memref<4x8xf32> {
    %c1 = arith.constant 1 : index
    %w = memref.get_global @w : memref<4x8xf32>
    %s = memref.get_global @s : memref<i64>
    gpu.launch_func @k::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%w : memref<4x8xf32>)
    %w2 = memref.get_global @w : memref<4x8xf32>
    return %w2 : memref<4x8xf32>
  }
  gpu.module @k {
    memref.global "private" constant @w : memref<4x8xf32> = dense<1.0>
    gpu.func @k(%a: memref<4x8xf32>) kernel {
      %g = memref.get_global @w : memref<4x8xf32>
      gpu.return
    }
  }
}

// -----

// Must not fire: an element type the runtime has no copy function for.
module {
  memref.global "private" constant @t : memref<2xindex> = dense<1>
  func.func @main() {
    // expected-error @+1 {{kiln-gpu-device-globals: no device copy for global @t of type 'memref<2xindex>'}}
    %t = memref.get_global @t : memref<2xindex>
    return
  }
}
