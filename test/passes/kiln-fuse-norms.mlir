// RUN: kiln-opt %s -split-input-file -pass-pipeline="builtin.module(func.func(kiln-fuse-norms))" | FileCheck %s

// The opset-13 export of LayerNorm with gamma and beta.
// CHECK-LABEL: func.func @layer_norm(
// CHECK-SAME:    %[[X:.*]]: tensor<2x4x8xf32>, %[[G:.*]]: tensor<8xf32>, %[[B:.*]]: tensor<8xf32>
// CHECK:         %[[LN:.*]] = kiln.layer_norm %[[X]], %[[G]] bias %[[B]] {axis = 2 : i64, epsilon = 9.99999996E-13 : f32}
// CHECK-NOT:     kiln.reduce_mean
// CHECK-NOT:     kiln.sqrt
// CHECK:         return %[[LN]]
func.func @layer_norm(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x4x8xf32> {
  %two = kiln.constant dense<2.0> : tensor<f32>
  %eps = kiln.constant dense<1.0e-12> : tensor<f32>
  %m = kiln.reduce_mean %x {axes = array<i64: 2>} : (tensor<2x4x8xf32>) -> tensor<2x4x1xf32>
  %d = kiln.sub %x, %m : (tensor<2x4x8xf32>, tensor<2x4x1xf32>) -> tensor<2x4x8xf32>
  %p = kiln.pow %d, %two : (tensor<2x4x8xf32>, tensor<f32>) -> tensor<2x4x8xf32>
  %v = kiln.reduce_mean %p {axes = array<i64: 2>} : (tensor<2x4x8xf32>) -> tensor<2x4x1xf32>
  %ve = kiln.add %v, %eps : (tensor<2x4x1xf32>, tensor<f32>) -> tensor<2x4x1xf32>
  %s = kiln.sqrt %ve : tensor<2x4x1xf32>
  %n = kiln.div %d, %s : (tensor<2x4x8xf32>, tensor<2x4x1xf32>) -> tensor<2x4x8xf32>
  %y = kiln.mul %n, %g : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  %z = kiln.add %y, %b : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  return %z : tensor<2x4x8xf32>
}

// -----

// Without gamma/beta (and with d*d for the square), the scale is ones.
// CHECK-LABEL: func.func @layer_norm_plain(
// CHECK:         %[[ONES:.*]] = kiln.constant dense<1.000000e+00> : tensor<8xf32>
// CHECK:         kiln.layer_norm %{{.*}}, %[[ONES]] {axis = 1 : i64} :
func.func @layer_norm_plain(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %eps = kiln.constant dense<1.0e-5> : tensor<f32>
  %m = kiln.reduce_mean %x {axes = array<i64: 1>} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %d = kiln.sub %x, %m : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %p = kiln.mul %d, %d : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %v = kiln.reduce_mean %p {axes = array<i64: 1>} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %ve = kiln.add %eps, %v : (tensor<f32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  %s = kiln.sqrt %ve : tensor<4x1xf32>
  %n = kiln.div %d, %s : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %n : tensor<4x8xf32>
}

// -----

// Negative: the mean is over the wrong (leading) axis: nothing fuses.
// CHECK-LABEL: func.func @layer_norm_wrong_axis(
// CHECK-NOT:     kiln.layer_norm
// CHECK-NOT:     kiln.rms_norm
// CHECK:         kiln.reduce_mean
func.func @layer_norm_wrong_axis(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %two = kiln.constant dense<2.0> : tensor<f32>
  %eps = kiln.constant dense<1.0e-5> : tensor<f32>
  %m = kiln.reduce_mean %x {axes = array<i64: 0>} : (tensor<4x8xf32>) -> tensor<1x8xf32>
  %d = kiln.sub %x, %m : (tensor<4x8xf32>, tensor<1x8xf32>) -> tensor<4x8xf32>
  %p = kiln.pow %d, %two : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %v = kiln.reduce_mean %p {axes = array<i64: 0>} : (tensor<4x8xf32>) -> tensor<1x8xf32>
  %ve = kiln.add %v, %eps : (tensor<1x8xf32>, tensor<f32>) -> tensor<1x8xf32>
  %s = kiln.sqrt %ve : tensor<1x8xf32>
  %n = kiln.div %d, %s : (tensor<4x8xf32>, tensor<1x8xf32>) -> tensor<4x8xf32>
  return %n : tensor<4x8xf32>
}

// -----

// Negative: the centered value is also returned, so the chain must stay.
// CHECK-LABEL: func.func @layer_norm_reused(
// CHECK-NOT:     kiln.layer_norm
func.func @layer_norm_reused(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %two = kiln.constant dense<2.0> : tensor<f32>
  %eps = kiln.constant dense<1.0e-5> : tensor<f32>
  %m = kiln.reduce_mean %x {axes = array<i64: 1>} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %d = kiln.sub %x, %m : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %p = kiln.pow %d, %two : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %v = kiln.reduce_mean %p {axes = array<i64: 1>} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %ve = kiln.add %v, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %s = kiln.sqrt %ve : tensor<4x1xf32>
  %n = kiln.div %d, %s : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %n, %d : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// RMSNorm as the LLaMA export writes it: x * (1 / sqrt(mean(x^2) + eps)) * w.
// CHECK-LABEL: func.func @rms_norm(
// CHECK-SAME:    %[[X:.*]]: tensor<1x4x8xf32>, %[[W:.*]]: tensor<8xf32>
// CHECK:         %[[R:.*]] = kiln.rms_norm %[[X]], %[[W]] {axis = 2 : i64, epsilon = 9.99999997E-7 : f32}
// CHECK-NEXT:    return %[[R]]
func.func @rms_norm(%x: tensor<1x4x8xf32>, %w: tensor<8xf32>) -> tensor<1x4x8xf32> {
  %two = kiln.constant dense<2.0> : tensor<f32>
  %eps = kiln.constant dense<1.0e-6> : tensor<f32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %p = kiln.pow %x, %two : (tensor<1x4x8xf32>, tensor<f32>) -> tensor<1x4x8xf32>
  %v = kiln.reduce_mean %p {axes = array<i64: 2>} : (tensor<1x4x8xf32>) -> tensor<1x4x1xf32>
  %ve = kiln.add %v, %eps : (tensor<1x4x1xf32>, tensor<f32>) -> tensor<1x4x1xf32>
  %s = kiln.sqrt %ve : tensor<1x4x1xf32>
  %r = kiln.div %one, %s : (tensor<f32>, tensor<1x4x1xf32>) -> tensor<1x4x1xf32>
  %n = kiln.mul %x, %r : (tensor<1x4x8xf32>, tensor<1x4x1xf32>) -> tensor<1x4x8xf32>
  %y = kiln.mul %n, %w : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  return %y : tensor<1x4x8xf32>
}

// -----

// Negative: the square is of another tensor than the one normalized.
// CHECK-LABEL: func.func @rms_norm_mismatch(
// CHECK-NOT:     kiln.rms_norm
func.func @rms_norm_mismatch(%x: tensor<4x8xf32>, %z: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %two = kiln.constant dense<2.0> : tensor<f32>
  %eps = kiln.constant dense<1.0e-6> : tensor<f32>
  %p = kiln.pow %z, %two : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %v = kiln.reduce_mean %p {axes = array<i64: 1>} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %ve = kiln.add %v, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %s = kiln.sqrt %ve : tensor<4x1xf32>
  %n = kiln.div %x, %s : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %n : tensor<4x8xf32>
}
