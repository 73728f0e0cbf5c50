// RUN: kiln-opt %s --kiln-gpu-name-kernels | FileCheck %s

// Each launched kernel (and its module) is named k<n>_<ONNX node>, n in
// launch order; a module launched twice keeps its first name; a location
// without a name gives k<n>; a module never launched is left alone.
// CHECK-LABEL: func.func @main
// CHECK: gpu.launch_func {{ *}}@k0_encoder_layer_0_MatMul::@k0_encoder_layer_0_MatMul
// CHECK: gpu.launch_func {{ *}}@k1::@k1
// CHECK: gpu.launch_func {{ *}}@k0_encoder_layer_0_MatMul::@k0_encoder_layer_0_MatMul
// CHECK: gpu.module @k0_encoder_layer_0_MatMul
// CHECK: gpu.func @k0_encoder_layer_0_MatMul
// CHECK: gpu.module @k1
// CHECK: gpu.func @k1
// CHECK: gpu.module @main_kernel_2
// CHECK: gpu.func @main_kernel
module attributes {gpu.container_module} {
  func.func @main() {
    %c1 = arith.constant 1 : index
    gpu.launch_func @main_kernel::@main_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) loc("/encoder/layer.0/MatMul")
    gpu.launch_func @main_kernel_1::@main_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    gpu.launch_func @main_kernel::@main_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    return
  }
  gpu.module @main_kernel {
    gpu.func @main_kernel() kernel { gpu.return }
  }
  gpu.module @main_kernel_1 {
    gpu.func @main_kernel() kernel { gpu.return }
  }
  gpu.module @main_kernel_2 {
    gpu.func @main_kernel() kernel { gpu.return }
  }
}
