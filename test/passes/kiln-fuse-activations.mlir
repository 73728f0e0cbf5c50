// RUN: kiln-opt %s -split-input-file -pass-pipeline="builtin.module(func.func(kiln-fuse-activations))" | FileCheck %s

// GELU as torch exports nn.GELU(): (x * (1 + erf(x / sqrt(2)))) * 0.5.
// CHECK-LABEL: func.func @gelu(
// CHECK-SAME:    %[[X:.*]]: tensor<2x8xf32>
// CHECK:         %[[G:.*]] = kiln.gelu %[[X]] : tensor<2x8xf32> -> tensor<2x8xf32>
// CHECK-NOT:     kiln.erf
// CHECK:         return %[[G]]
func.func @gelu(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %sqrt2 = kiln.constant dense<1.41421354> : tensor<f32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %half = kiln.constant dense<0.5> : tensor<f32>
  %d = kiln.div %x, %sqrt2 : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %e = kiln.erf %d : tensor<2x8xf32>
  %a = kiln.add %e, %one : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %m = kiln.mul %x, %a : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %y = kiln.mul %m, %half : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// The other association: (x * 0.5) * (1 + erf(x * 0.70710678)).
// CHECK-LABEL: func.func @gelu_half_first(
// CHECK:         kiln.gelu
// CHECK-NOT:     kiln.erf
func.func @gelu_half_first(%x: tensor<8xf32>) -> tensor<8xf32> {
  %c = kiln.constant dense<0.707106769> : tensor<f32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %half = kiln.constant dense<0.5> : tensor<f32>
  %s = kiln.mul %x, %c : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %e = kiln.erf %s : tensor<8xf32>
  %a = kiln.add %one, %e : (tensor<f32>, tensor<8xf32>) -> tensor<8xf32>
  %h = kiln.mul %half, %x : (tensor<f32>, tensor<8xf32>) -> tensor<8xf32>
  %y = kiln.mul %h, %a : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// Negative: a GELU whose constant is off (x / 1.5) is not a GELU.
// CHECK-LABEL: func.func @gelu_wrong_constant(
// CHECK-NOT:     kiln.gelu
// CHECK:         kiln.erf
func.func @gelu_wrong_constant(%x: tensor<8xf32>) -> tensor<8xf32> {
  %c = kiln.constant dense<1.5> : tensor<f32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %half = kiln.constant dense<0.5> : tensor<f32>
  %d = kiln.div %x, %c : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %e = kiln.erf %d : tensor<8xf32>
  %a = kiln.add %e, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %m = kiln.mul %x, %a : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %y = kiln.mul %m, %half : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// Negative: erf's input is another tensor than the one multiplied.
// CHECK-LABEL: func.func @gelu_two_inputs(
// CHECK-NOT:     kiln.gelu
func.func @gelu_two_inputs(%x: tensor<8xf32>, %z: tensor<8xf32>) -> tensor<8xf32> {
  %c = kiln.constant dense<1.41421354> : tensor<f32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %half = kiln.constant dense<0.5> : tensor<f32>
  %d = kiln.div %z, %c : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %e = kiln.erf %d : tensor<8xf32>
  %a = kiln.add %e, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %m = kiln.mul %x, %a : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %y = kiln.mul %m, %half : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}
