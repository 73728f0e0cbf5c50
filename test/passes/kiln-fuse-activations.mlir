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

// -----

// GPT-2's tanh GELU: (x * 0.5) * (1 + tanh(0.79788 * (x + x^3 * 0.044715))).
// CHECK-LABEL: func.func @gelu_tanh(
// CHECK-SAME:    %[[X:.*]]: tensor<4x16xf32>
// CHECK:         %[[G:.*]] = kiln.gelu %[[X]] {tanh_approx = true}
// CHECK-NOT:     kiln.tanh
// CHECK:         return %[[G]]
func.func @gelu_tanh(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %half = kiln.constant dense<0.5> : tensor<f32>
  %three = kiln.constant dense<3.0> : tensor<f32>
  %k = kiln.constant dense<0.044715> : tensor<f32>
  %c = kiln.constant dense<0.797884583> : tensor<f32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %h = kiln.mul %x, %half : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %p = kiln.pow %x, %three : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %pk = kiln.mul %p, %k : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %s = kiln.add %x, %pk : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %sc = kiln.mul %s, %c : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %t = kiln.tanh %sc : tensor<4x16xf32>
  %a = kiln.add %t, %one : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %y = kiln.mul %h, %a : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// Negative: the cubic coefficient is off (0.05), so this is not a GELU.
// CHECK-LABEL: func.func @gelu_tanh_off(
// CHECK-NOT:     kiln.gelu
// CHECK:         kiln.tanh
func.func @gelu_tanh_off(%x: tensor<16xf32>) -> tensor<16xf32> {
  %half = kiln.constant dense<0.5> : tensor<f32>
  %three = kiln.constant dense<3.0> : tensor<f32>
  %k = kiln.constant dense<0.05> : tensor<f32>
  %c = kiln.constant dense<0.797884583> : tensor<f32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %h = kiln.mul %x, %half : (tensor<16xf32>, tensor<f32>) -> tensor<16xf32>
  %p = kiln.pow %x, %three : (tensor<16xf32>, tensor<f32>) -> tensor<16xf32>
  %pk = kiln.mul %p, %k : (tensor<16xf32>, tensor<f32>) -> tensor<16xf32>
  %s = kiln.add %x, %pk : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  %sc = kiln.mul %s, %c : (tensor<16xf32>, tensor<f32>) -> tensor<16xf32>
  %t = kiln.tanh %sc : tensor<16xf32>
  %a = kiln.add %t, %one : (tensor<16xf32>, tensor<f32>) -> tensor<16xf32>
  %y = kiln.mul %h, %a : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  return %y : tensor<16xf32>
}

// -----

// SiLU: x * sigmoid(x) on its own (scaled afterwards, not a gate).
// CHECK-LABEL: func.func @silu(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x8xf32>
// CHECK:         %[[S:.*]] = kiln.silu %[[X]] : tensor<2x8xf32>
// CHECK:         kiln.mul %[[S]], %{{.*}} : (tensor<2x8xf32>, tensor<f32>)
func.func @silu(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %s = kiln.sigmoid %x : tensor<2x8xf32>
  %m = kiln.mul %x, %s : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %c = kiln.constant dense<2.0> : tensor<f32>
  %g = kiln.mul %m, %c : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  return %g : tensor<2x8xf32>
}

// -----

// Negative: a sigmoid gate of another tensor (a squeeze-excite gate) stays.
// CHECK-LABEL: func.func @sigmoid_gate(
// CHECK-NOT:     kiln.silu
// CHECK:         kiln.sigmoid
func.func @sigmoid_gate(%x: tensor<8xf32>, %z: tensor<8xf32>) -> tensor<8xf32> {
  %s = kiln.sigmoid %z : tensor<8xf32>
  %m = kiln.mul %x, %s : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %m : tensor<8xf32>
}

// -----

// HardSwish as opset-13 exports write it: x * hard_sigmoid(x, 1/6, 1/2).
// CHECK-LABEL: func.func @hard_swish(
// CHECK-SAME:    %[[X:.*]]: tensor<8xf32>
// CHECK:         %[[H:.*]] = kiln.hard_swish %[[X]] : tensor<8xf32>
// CHECK-NEXT:    return %[[H]]
func.func @hard_swish(%x: tensor<8xf32>) -> tensor<8xf32> {
  %h = kiln.hard_sigmoid %x {alpha = 0.166666672 : f32, beta = 5.000000e-01 : f32} : tensor<8xf32> -> tensor<8xf32>
  %m = kiln.mul %x, %h : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %m : tensor<8xf32>
}

// -----

// Negative: ONNX's default hard_sigmoid (alpha 0.2) is not HardSwish's.
// CHECK-LABEL: func.func @hard_sigmoid_default(
// CHECK-NOT:     kiln.hard_swish
// CHECK:         kiln.hard_sigmoid
func.func @hard_sigmoid_default(%x: tensor<8xf32>) -> tensor<8xf32> {
  %h = kiln.hard_sigmoid %x : tensor<8xf32> -> tensor<8xf32>
  %m = kiln.mul %x, %h : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %m : tensor<8xf32>
}

// -----

// SwiGLU as LLaMA exports it: x * sigmoid(x) on the gate projection (first
// fused to kiln.silu), times the up projection -> kiln.swiglu(gate, up).
// CHECK-LABEL: func.func @swiglu(
// CHECK-SAME:    %[[G:[^:]*]]: tensor<2x8xf32>, %[[U:[^:]*]]: tensor<2x8xf32>)
// CHECK-NEXT:    %[[R:.*]] = kiln.swiglu %[[G]], %[[U]] : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
// CHECK-NEXT:    return %[[R]]
func.func @swiglu(%g: tensor<2x8xf32>, %u: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %s = kiln.sigmoid %g : tensor<2x8xf32>
  %silu = kiln.mul %g, %s : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %r = kiln.mul %u, %silu : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %r : tensor<2x8xf32>
}

// -----

// Negative: the gate's silu is also returned, so the multiply stays and only
// the silu fuses.
// CHECK-LABEL: func.func @swiglu_silu_reused(
// CHECK-NOT:     kiln.swiglu
// CHECK:         %[[S:.*]] = kiln.silu
// CHECK:         kiln.mul
func.func @swiglu_silu_reused(%g: tensor<2x8xf32>, %u: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %s = kiln.sigmoid %g : tensor<2x8xf32>
  %silu = kiln.mul %g, %s : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %r = kiln.mul %silu, %u : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %r, %silu : tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

// Negative: the up operand broadcasts against the gate (not a gating
// product of equal shapes).
// CHECK-LABEL: func.func @swiglu_broadcast(
// CHECK-NOT:     kiln.swiglu
// CHECK:         kiln.silu
// CHECK:         kiln.mul
func.func @swiglu_broadcast(%g: tensor<2x8xf32>, %u: tensor<8xf32>) -> tensor<2x8xf32> {
  %s = kiln.sigmoid %g : tensor<2x8xf32>
  %silu = kiln.mul %g, %s : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %r = kiln.mul %silu, %u : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %r : tensor<2x8xf32>
}
