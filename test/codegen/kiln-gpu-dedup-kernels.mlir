// RUN: kiln-opt %s --kiln-gpu-dedup-kernels | FileCheck %s
// RUN: kiln-opt %s --kiln-gpu-dedup-kernels --kiln-gpu-name-kernels | FileCheck %s --check-prefix=NAMED

// Kernel modules that differ only in their names and locations are kept
// once (the first launched); every launch of a copy calls the one kept.
// Modules that differ in one constant, in an argument's type, or that hold
// two kernels stay; a module never launched is left alone.
// CHECK-LABEL: func.func @main
// CHECK-NEXT: arith.constant
// CHECK-NEXT: gpu.launch_func {{ *}}@main_kernel::@main_kernel
// CHECK-NEXT: gpu.launch_func {{ *}}@main_kernel::@main_kernel
// CHECK-NEXT: gpu.launch_func {{ *}}@main_kernel_2::@main_kernel
// CHECK-NEXT: gpu.launch_func {{ *}}@main_kernel_3::@main_kernel
// CHECK-NEXT: gpu.launch_func {{ *}}@main_kernel::@main_kernel
// CHECK-NEXT: gpu.launch_func {{ *}}@two::@a
// CHECK-NEXT: gpu.launch_func {{ *}}@two_copy::@a
// CHECK: gpu.module @main_kernel {
// CHECK-NOT: gpu.module @main_kernel_1
// CHECK: gpu.module @main_kernel_2 {
// CHECK: arith.constant 2.000000e+00 : f32
// CHECK: gpu.module @main_kernel_3 {
// CHECK-NOT: gpu.module @main_kernel_4
// CHECK: gpu.module @two {
// CHECK: gpu.module @two_copy {
// CHECK: gpu.module @unused {
// CHECK: gpu.module @unused_copy {

// The kept kernel takes the first launching node's name; numbers count
// kernels, not launches.
// NAMED: gpu.launch_func {{ *}}@k0_layer_0_Mul::@k0_layer_0_Mul
// NAMED-NEXT: gpu.launch_func {{ *}}@k0_layer_0_Mul::@k0_layer_0_Mul
// NAMED-NEXT: gpu.launch_func {{ *}}@k1_layer_1_Add::@k1_layer_1_Add
module attributes {gpu.container_module} {
  func.func @main(%a: memref<64xf32>, %b: memref<64xi32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @main_kernel::@main_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<64xf32>) loc("/layer.0/Mul")
    gpu.launch_func @main_kernel_1::@main_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<64xf32>) loc("/layer.1/Mul")
    gpu.launch_func @main_kernel_2::@main_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<64xf32>) loc("/layer.1/Add")
    gpu.launch_func @main_kernel_3::@main_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%b : memref<64xi32>)
    gpu.launch_func @main_kernel_4::@other_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<64xf32>)
    gpu.launch_func @two::@a blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    gpu.launch_func @two_copy::@a blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    return
  }
  gpu.module @main_kernel {
    gpu.func @main_kernel(%x: memref<64xf32>) kernel {
      %i = gpu.thread_id x
      %c = arith.constant 3.0 : f32
      %v = memref.load %x[%i] : memref<64xf32>
      %m = arith.mulf %v, %c : f32
      memref.store %m, %x[%i] : memref<64xf32>
      gpu.return
    } loc("/layer.0/Mul")
  }
  gpu.module @main_kernel_1 {
    gpu.func @main_kernel(%x: memref<64xf32>) kernel {
      %i = gpu.thread_id x
      %c = arith.constant 3.0 : f32
      %v = memref.load %x[%i] : memref<64xf32>
      %m = arith.mulf %v, %c : f32
      memref.store %m, %x[%i] : memref<64xf32>
      gpu.return
    } loc("/layer.1/Mul")
  }
  gpu.module @main_kernel_2 {
    gpu.func @main_kernel(%x: memref<64xf32>) kernel {
      %i = gpu.thread_id x
      %c = arith.constant 2.0 : f32
      %v = memref.load %x[%i] : memref<64xf32>
      %m = arith.mulf %v, %c : f32
      memref.store %m, %x[%i] : memref<64xf32>
      gpu.return
    }
  }
  gpu.module @main_kernel_3 {
    gpu.func @main_kernel(%x: memref<64xi32>) kernel {
      gpu.return
    }
  }
  // The same as main_kernel, with another kernel name.
  gpu.module @main_kernel_4 {
    gpu.func @other_kernel(%x: memref<64xf32>) kernel {
      %i = gpu.thread_id x
      %c = arith.constant 3.0 : f32
      %v = memref.load %x[%i] : memref<64xf32>
      %m = arith.mulf %v, %c : f32
      memref.store %m, %x[%i] : memref<64xf32>
      gpu.return
    }
  }
  gpu.module @two {
    gpu.func @a() kernel { gpu.return }
    gpu.func @b() kernel { gpu.return }
  }
  gpu.module @two_copy {
    gpu.func @a() kernel { gpu.return }
    gpu.func @b() kernel { gpu.return }
  }
  gpu.module @unused {
    gpu.func @main_kernel() kernel { gpu.return }
  }
  gpu.module @unused_copy {
    gpu.func @main_kernel() kernel { gpu.return }
  }
}
