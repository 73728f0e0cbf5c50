// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// Round trip of each op family's custom assembly.

// CHECK-LABEL: func.func @elementwise(
func.func @elementwise(%a: tensor<?x4xf32>, %b: tensor<4xf32>, %c: tensor<?x4xi1>) -> tensor<?x4xf32> {
  // CHECK: kiln.add %{{.*}}, %{{.*}} : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %0 = kiln.add %a, %b : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  // CHECK: kiln.leaky_relu %{{.*}} {alpha = 2.000000e-01 : f32} : tensor<?x4xf32> -> tensor<?x4xf32>
  %1 = kiln.leaky_relu %0 {alpha = 0.2 : f32} : tensor<?x4xf32> -> tensor<?x4xf32>
  // CHECK: kiln.less %{{.*}} : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xi1>
  %2 = kiln.less %1, %b : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xi1>
  // CHECK: kiln.where
  %3 = kiln.where %2, %1, %b : (tensor<?x4xi1>, tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  // CHECK: kiln.gelu %{{.*}} {tanh_approx = true} : tensor<?x4xf32> -> tensor<?x4xf32>
  %4 = kiln.gelu %3 {tanh_approx = true} : tensor<?x4xf32> -> tensor<?x4xf32>
  // CHECK: kiln.silu %{{.*}} : tensor<?x4xf32>
  %silu = kiln.silu %4 : tensor<?x4xf32>
  // CHECK: kiln.is_nan %{{.*}} : tensor<?x4xf32> -> tensor<?x4xi1>
  %5 = kiln.is_nan %4 : tensor<?x4xf32> -> tensor<?x4xi1>
  %lo = kiln.constant dense<0.0> : tensor<f32>
  // CHECK: kiln.clip %{{.*}} min %{{.*}} : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %6 = kiln.clip %4 min %lo : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  // CHECK: kiln.cast %{{.*}} : tensor<?x4xf32> -> tensor<?x4xf16>
  %7 = kiln.cast %6 : tensor<?x4xf32> -> tensor<?x4xf16>
  return %6 : tensor<?x4xf32>
}

// CHECK-LABEL: func.func @nn(
func.func @nn(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x3x3xf32>, %bias: tensor<8xf32>) -> tensor<1x8x16x16xf32> {
  // CHECK: kiln.conv %{{.*}}, %{{.*}} bias %{{.*}} {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
  %0 = kiln.conv %x, %w bias %bias {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x3x32x32xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x32x32xf32>
  // CHECK: kiln.max_pool
  %1 = kiln.max_pool %0 {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x8x32x32xf32>) -> tensor<1x8x16x16xf32>
  // CHECK: kiln.max_pool_with_indices %{{.*}} {{{.*}}storage_order = 1 : i64{{.*}}} : (tensor<1x8x32x32xf32>) -> (tensor<1x8x16x16xf32>, tensor<1x8x16x16xi64>)
  %mi:2 = kiln.max_pool_with_indices %0 {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, storage_order = 1 : i64} : (tensor<1x8x32x32xf32>) -> (tensor<1x8x16x16xf32>, tensor<1x8x16x16xi64>)
  // CHECK: kiln.global_average_pool %{{.*}} : (tensor<1x8x16x16xf32>) -> tensor<1x8x1x1xf32>
  %2 = kiln.global_average_pool %1 : (tensor<1x8x16x16xf32>) -> tensor<1x8x1x1xf32>
  return %1 : tensor<1x8x16x16xf32>
}

// CHECK-LABEL: func.func @norms(
func.func @norms(%x: tensor<2x?x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) -> tensor<2x?x64xf32> {
  // CHECK: kiln.layer_norm %{{.*}}, %{{.*}} bias %{{.*}} {epsilon = 9.99999996E-13 : f32}
  %0 = kiln.layer_norm %x, %g bias %b {epsilon = 1.0e-12 : f32} : (tensor<2x?x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<2x?x64xf32>
  // CHECK: kiln.rms_norm
  %1 = kiln.rms_norm %0, %g : (tensor<2x?x64xf32>, tensor<64xf32>) -> tensor<2x?x64xf32>
  // CHECK: kiln.softmax %{{.*}} {axis = 1 : i64} : tensor<2x?x64xf32> -> tensor<2x?x64xf32>
  %2 = kiln.softmax %1 {axis = 1} : tensor<2x?x64xf32> -> tensor<2x?x64xf32>
  // CHECK: kiln.reduce_mean %{{.*}} {axes = array<i64: 2>} : (tensor<2x?x64xf32>) -> tensor<2x?x1xf32>
  %3 = kiln.reduce_mean %2 {axes = array<i64: 2>} : (tensor<2x?x64xf32>) -> tensor<2x?x1xf32>
  // CHECK: kiln.arg_max %{{.*}} {axis = 2 : i64, keepdims = false} : (tensor<2x?x64xf32>) -> tensor<2x?xi64>
  %4 = kiln.arg_max %2 {axis = 2, keepdims = false} : (tensor<2x?x64xf32>) -> tensor<2x?xi64>
  return %2 : tensor<2x?x64xf32>
}

// CHECK-LABEL: func.func @shapes(
func.func @shapes(%x: tensor<?x6xf32>, %i: tensor<3xi64>) -> tensor<?x3x2xf32> {
  %s = kiln.constant dense<[0, 3, 2]> : tensor<3xi64>
  // CHECK: kiln.reshape %{{.*}}, %{{.*}} : (tensor<?x6xf32>, tensor<3xi64>) -> tensor<?x3x2xf32>
  %0 = kiln.reshape %x, %s : (tensor<?x6xf32>, tensor<3xi64>) -> tensor<?x3x2xf32>
  // CHECK: kiln.transpose %{{.*}} {perm = array<i64: 0, 2, 1>} : (tensor<?x3x2xf32>) -> tensor<?x2x3xf32>
  %1 = kiln.transpose %0 {perm = array<i64: 0, 2, 1>} : (tensor<?x3x2xf32>) -> tensor<?x2x3xf32>
  // CHECK: kiln.concat %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<?x3x2xf32>, tensor<?x3x2xf32>) -> tensor<?x6x2xf32>
  %2 = kiln.concat %0, %0 {axis = 1} : (tensor<?x3x2xf32>, tensor<?x3x2xf32>) -> tensor<?x6x2xf32>
  // CHECK: kiln.split %{{.*}} {axis = 1 : i64, sizes = array<i64: 2, 4>} : (tensor<?x6x2xf32>) -> (tensor<?x2x2xf32>, tensor<?x4x2xf32>)
  %3:2 = kiln.split %2 {axis = 1, sizes = array<i64: 2, 4>} : (tensor<?x6x2xf32>) -> (tensor<?x2x2xf32>, tensor<?x4x2xf32>)
  // CHECK: kiln.gather %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<?x6xf32>, tensor<3xi64>) -> tensor<?x3xf32>
  %4 = kiln.gather %x, %i {axis = 1} : (tensor<?x6xf32>, tensor<3xi64>) -> tensor<?x3xf32>
  // CHECK: kiln.shape %{{.*}} : (tensor<?x6xf32>) -> tensor<2xi64>
  %5 = kiln.shape %x : (tensor<?x6xf32>) -> tensor<2xi64>
  // CHECK: kiln.constant_of_shape %{{.*}}, dense<1.000000e+00> : tensor<1xf32>
  %6 = kiln.constant_of_shape %5, dense<1.0> : tensor<1xf32> : (tensor<2xi64>) -> tensor<?x?xf32>
  // CHECK: kiln.pad %{{.*}} {mode = "reflect", pads = array<i64: 0, 1, 0, 1>}
  %7 = kiln.pad %x {pads = array<i64: 0, 1, 0, 1>, mode = "reflect"} : (tensor<?x6xf32>) -> tensor<?x8xf32>
  return %0 : tensor<?x3x2xf32>
}

// kiln.ukernel on tensors returns the tensor it writes (its init).
// CHECK-LABEL: func.func @ukernel_tensors(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<2x4x8x16xf32>, %[[M:[^:]*]]: tensor<8x8xi1>, %[[E:[^:]*]]: tensor<2x4x8x16xf32>)
func.func @ukernel_tensors(%q: tensor<2x4x8x16xf32>, %m: tensor<8x8xi1>, %e: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  // CHECK: %[[R:.*]] = kiln.ukernel "attention_f32"(%[[Q]], %[[Q]], %[[Q]], %[[M]]) outs(%[[E]]) {float_params = array<f32: 2.500000e-01, -1.000000e+09>, int_params = array<i64: 2, 11, 2, 4>} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<8x8xi1>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  %0 = kiln.ukernel "attention_f32"(%q, %q, %q, %m) outs(%e) {int_params = array<i64: 2, 11, 2, 4>, float_params = array<f32: 0.25, -1.0e9>} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<8x8xi1>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  // CHECK: return %[[R]]
  return %0 : tensor<2x4x8x16xf32>
}

// A kernel with two outputs: two inits, two results.
// CHECK-LABEL: func.func @ukernel_two_outputs(
// CHECK: %[[R:.*]]:2 = kiln.ukernel "dwconv2d_f32"(%{{.*}}, %{{.*}}) outs(%{{.*}}, %{{.*}}) {float_params = array<f32>, int_params = array<i64: 1, 32, 0, 1, 1, 1, 1, 1, 1>} : (tensor<1x8x7x7xf32>, tensor<8x1x3x3xf32>, tensor<1x8x7x7xf32>, tensor<1x8x1x1xf32>) -> (tensor<1x8x7x7xf32>, tensor<1x8x1x1xf32>)
// CHECK: return %[[R]]#0, %[[R]]#1
func.func @ukernel_two_outputs(%x: tensor<1x8x7x7xf32>, %w: tensor<8x1x3x3xf32>, %e: tensor<1x8x7x7xf32>, %m: tensor<1x8x1x1xf32>) -> (tensor<1x8x7x7xf32>, tensor<1x8x1x1xf32>) {
  %0:2 = kiln.ukernel "dwconv2d_f32"(%x, %w) outs(%e, %m) {int_params = array<i64: 1, 32, 0, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (tensor<1x8x7x7xf32>, tensor<8x1x3x3xf32>, tensor<1x8x7x7xf32>, tensor<1x8x1x1xf32>) -> (tensor<1x8x7x7xf32>, tensor<1x8x1x1xf32>)
  return %0#0, %0#1 : tensor<1x8x7x7xf32>, tensor<1x8x1x1xf32>
}

// kiln.ukernel on buffers has no result; empty parameter arrays are fine.
// CHECK-LABEL: func.func @ukernel_buffers(
// CHECK-SAME:    %[[A:[^:]*]]: memref<?x16xf32>, %[[O:[^:]*]]: memref<?x16xf32>)
func.func @ukernel_buffers(%a: memref<?x16xf32>, %o: memref<?x16xf32>) {
  // CHECK: kiln.ukernel "attention_f32"(%[[A]], %[[A]], %[[A]]) outs(%[[O]]) {float_params = array<f32>, int_params = array<i64>} : (memref<?x16xf32>, memref<?x16xf32>, memref<?x16xf32>, memref<?x16xf32>) -> (){{$}}
  kiln.ukernel "attention_f32"(%a, %a, %a) outs(%o) {int_params = array<i64>, float_params = array<f32>} : (memref<?x16xf32>, memref<?x16xf32>, memref<?x16xf32>, memref<?x16xf32>) -> ()
  return
}
