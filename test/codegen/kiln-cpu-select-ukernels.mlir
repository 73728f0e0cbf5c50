// RUN: kiln-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kiln-cpu-select-ukernels))" | FileCheck %s
// RUN: kiln-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kiln-cpu-select-ukernels{isa=avx2}))" | FileCheck %s --check-prefix=AVX2
// RUN: kiln-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kiln-cpu-select-ukernels{isa=generic}))" | FileCheck %s --check-prefix=GENERIC
// RUN: not kiln-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kiln-cpu-select-ukernels{isa=sse}))" 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: kiln-cpu-select-ukernels: unknown isa 'sse' (expected avx512, avx2 or generic)

// Rank-4 f32 attention without a mask: kiln.ukernel "attention_f32" on
// (q, k, v) writing a fresh [B, H, Sq, Dv] tensor, int_params (isa = avx512
// = 2, flags 0, mask rank 0, operand rank 4), float_params (scale, fill 0).
// CHECK-LABEL: func.func @plain(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<2x4x8x16xf32>, %[[K:[^:]*]]: tensor<2x4x10x16xf32>, %[[V:[^:]*]]: tensor<2x4x10x32xf32>)
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<2x4x8x32xf32>
// CHECK:         %[[U:.*]] = kiln.ukernel "attention_f32"(%[[Q]], %[[K]], %[[V]]) outs(%[[E]]) {float_params = array<f32: 2.500000e-01, 0.000000e+00>, int_params = array<i64: 2, 0, 0, 4>} : (tensor<2x4x8x16xf32>, tensor<2x4x10x16xf32>, tensor<2x4x10x32xf32>, tensor<2x4x8x32xf32>) -> tensor<2x4x8x32xf32>
// CHECK-NOT:     kiln.attention
// CHECK:         return %[[U]]
// AVX2-LABEL: func.func @plain(
// AVX2:         kiln.ukernel "attention_f32"({{.*}}) outs(%{{.*}}) {float_params = array<f32: 2.500000e-01, 0.000000e+00>, int_params = array<i64: 1, 0, 0, 4>}
// GENERIC-LABEL: func.func @plain(
// GENERIC:         kiln.ukernel "attention_f32"({{.*}}) outs(%{{.*}}) {float_params = array<f32: 2.500000e-01, 0.000000e+00>, int_params = array<i64: 0, 0, 0, 4>}
func.func @plain(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x10x16xf32>, %v: tensor<2x4x10x32xf32>) -> tensor<2x4x8x32xf32> {
  %0 = kiln.attention %q, %k, %v {scale = 2.500000e-01 : f32} : (tensor<2x4x8x16xf32>, tensor<2x4x10x16xf32>, tensor<2x4x10x32xf32>) -> tensor<2x4x8x32xf32>
  return %0 : tensor<2x4x8x32xf32>
}

// -----

// An additive f32 mask of rank 2 is the fourth input: flags 1, mask rank 2.
// CHECK-LABEL: func.func @float_mask_rank2(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<2x4x8x16xf32>, %[[K:[^:]*]]: tensor<2x4x8x16xf32>, %[[V:[^:]*]]: tensor<2x4x8x16xf32>, %[[M:[^:]*]]: tensor<8x8xf32>)
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<2x4x8x16xf32>
// CHECK:         %[[U:.*]] = kiln.ukernel "attention_f32"(%[[Q]], %[[K]], %[[V]], %[[M]]) outs(%[[E]]) {float_params = array<f32: 1.250000e-01, 0.000000e+00>, int_params = array<i64: 2, 1, 2, 4>} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
// CHECK:         return %[[U]]
func.func @float_mask_rank2(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %m: tensor<8x8xf32>) -> tensor<2x4x8x16xf32> {
  %0 = kiln.attention %q, %k, %v mask %m {scale = 0.125 : f32} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<8x8xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

// A broadcast rank-4 f32 mask: mask rank 4.
// CHECK-LABEL: func.func @float_mask_rank4(
// CHECK:         %[[U:.*]] = kiln.ukernel "attention_f32"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) outs(%{{.*}}) {float_params = array<f32: 1.250000e-01, 0.000000e+00>, int_params = array<i64: 2, 1, 4, 4>} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x1x1x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
// CHECK-NOT:     kiln.attention
// CHECK:         return %[[U]]
func.func @float_mask_rank4(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %m: tensor<2x1x1x8xf32>) -> tensor<2x4x8x16xf32> {
  %0 = kiln.attention %q, %k, %v mask %m {scale = 0.125 : f32} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x1x1x8xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

// A boolean mask with a fill: flags 1 | 2 | 8 = 11, the fill is the second
// float param. Grouped-query (4 query heads over 2 key/value heads) is
// handled by the kernel.
// CHECK-LABEL: func.func @bool_mask_fill(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<2x4x8x16xf32>, %[[K:[^:]*]]: tensor<2x2x10x16xf32>, %[[V:[^:]*]]: tensor<2x2x10x16xf32>, %[[M:[^:]*]]: tensor<2x1x1x10xi1>)
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<2x4x8x16xf32>
// CHECK:         %[[U:.*]] = kiln.ukernel "attention_f32"(%[[Q]], %[[K]], %[[V]], %[[M]]) outs(%[[E]]) {float_params = array<f32: 2.500000e-01, -1.000000e+09>, int_params = array<i64: 2, 11, 4, 4>}
// CHECK:         return %[[U]]
func.func @bool_mask_fill(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x10x16xf32>, %v: tensor<2x2x10x16xf32>, %m: tensor<2x1x1x10xi1>) -> tensor<2x4x8x16xf32> {
  %0 = kiln.attention %q, %k, %v mask %m {scale = 0.25 : f32, mask_fill = -1.0e9 : f32} : (tensor<2x4x8x16xf32>, tensor<2x2x10x16xf32>, tensor<2x2x10x16xf32>, tensor<2x1x1x10xi1>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

// A boolean mask without a fill (excluded scores): flags 1 | 2 = 3.
// CHECK-LABEL: func.func @bool_mask(
// CHECK:         kiln.ukernel "attention_f32"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) outs(%{{.*}}) {float_params = array<f32: 2.500000e-01, 0.000000e+00>, int_params = array<i64: 2, 3, 2, 4>}
// CHECK-NOT:     kiln.attention
func.func @bool_mask(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %m: tensor<8x8xi1>) -> tensor<2x4x8x16xf32> {
  %0 = kiln.attention %q, %k, %v mask %m {scale = 0.25 : f32} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<8x8xi1>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

// Causal: flags 4; with a float mask as well, 4 | 1 = 5.
// CHECK-LABEL: func.func @causal(
// CHECK:         kiln.ukernel "attention_f32"(%{{.*}}, %{{.*}}, %{{.*}}) outs(%{{.*}}) {float_params = array<f32: 2.500000e-01, 0.000000e+00>, int_params = array<i64: 2, 4, 0, 4>}
// CHECK:         kiln.ukernel "attention_f32"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) outs(%{{.*}}) {float_params = array<f32: 2.500000e-01, 0.000000e+00>, int_params = array<i64: 2, 5, 2, 4>}
// CHECK-NOT:     kiln.attention
func.func @causal(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %m: tensor<8x8xf32>) -> (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) {
  %0 = kiln.attention %q, %k, %v {scale = 0.25 : f32, causal = true} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  %1 = kiln.attention %q, %k, %v mask %m {scale = 0.25 : f32, causal = true} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<8x8xf32>) -> tensor<2x4x8x16xf32>
  return %0, %1 : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>
}

// -----

// Rank-3 operands ([B*H, S, D]) with dynamic dims: operand rank 3, the
// result tensor takes its leading dims from the query and its last from
// the value; a causal boolean mask with fill: 1 | 2 | 4 | 8 = 15.
// CHECK-LABEL: func.func @rank3_dynamic(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<?x?x16xf32>, %[[K:[^:]*]]: tensor<?x?x16xf32>, %[[V:[^:]*]]: tensor<?x?x8xf32>, %[[M:[^:]*]]: tensor<?x?xi1>)
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[C1:.*]] = arith.constant 1 : index
// CHECK:         %[[D0:.*]] = tensor.dim %[[Q]], %[[C0]] : tensor<?x?x16xf32>
// CHECK:         %[[D1:.*]] = tensor.dim %[[Q]], %[[C1]] : tensor<?x?x16xf32>
// CHECK:         %[[E:.*]] = tensor.empty(%[[D0]], %[[D1]]) : tensor<?x?x8xf32>
// CHECK:         %[[U:.*]] = kiln.ukernel "attention_f32"(%[[Q]], %[[K]], %[[V]], %[[M]]) outs(%[[E]]) {float_params = array<f32: 1.000000e+00, -1.000000e+09>, int_params = array<i64: 2, 15, 2, 3>} : (tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?x8xf32>, tensor<?x?xi1>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
// CHECK:         return %[[U]]
// AVX2-LABEL: func.func @rank3_dynamic(
// AVX2:         int_params = array<i64: 1, 15, 2, 3>
func.func @rank3_dynamic(%q: tensor<?x?x16xf32>, %k: tensor<?x?x16xf32>, %v: tensor<?x?x8xf32>, %m: tensor<?x?xi1>) -> tensor<?x?x8xf32> {
  %0 = kiln.attention %q, %k, %v mask %m {scale = 1.0 : f32, mask_fill = -1.0e9 : f32, causal = true} : (tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?x8xf32>, tensor<?x?xi1>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

// A result type less static than the shapes imply: the kernel writes the
// static tensor and a tensor.cast gives back the op's type.
// CHECK-LABEL: func.func @cast_result(
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<2x4x8x16xf32>
// CHECK:         %[[U:.*]] = kiln.ukernel "attention_f32"(%{{.*}}, %{{.*}}, %{{.*}}) outs(%[[E]]) {{.*}} -> tensor<2x4x8x16xf32>
// CHECK:         %[[C:.*]] = tensor.cast %[[U]] : tensor<2x4x8x16xf32> to tensor<?x4x8x16xf32>
// CHECK:         return %[[C]]
func.func @cast_result(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<?x4x8x16xf32> {
  %0 = kiln.attention %q, %k, %v {scale = 2.500000e-01 : f32} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<?x4x8x16xf32>
  return %0 : tensor<?x4x8x16xf32>
}

// -----

// Negative: f16 attention (with its f16 mask) keeps the generic lowering.
// CHECK-LABEL: func.func @f16(
// CHECK-NOT:     kiln.ukernel
// CHECK:         %[[A:.*]] = kiln.attention
// CHECK-NOT:     kiln.ukernel
// CHECK:         return %[[A]]
func.func @f16(%q: tensor<2x4x8x16xf16>, %k: tensor<2x4x8x16xf16>, %v: tensor<2x4x8x16xf16>, %m: tensor<8x8xf16>) -> tensor<2x4x8x16xf16> {
  %0 = kiln.attention %q, %k, %v mask %m {scale = 0.25 : f32} : (tensor<2x4x8x16xf16>, tensor<2x4x8x16xf16>, tensor<2x4x8x16xf16>, tensor<8x8xf16>) -> tensor<2x4x8x16xf16>
  return %0 : tensor<2x4x8x16xf16>
}

// -----

// Rank-5 operands ([B, G, H, S, D]) run the rank-4 kernel on their batch
// dims collapsed (more in @attention_rank5 below); with two dynamic batch
// dims they keep the generic lowering.
// CHECK-LABEL: func.func @rank5(
// CHECK:         tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2], [3], [4]] : tensor<1x2x4x8x16xf32> into tensor<2x4x8x16xf32>
// CHECK:         kiln.ukernel "attention_f32"
// CHECK:         %[[A:.*]] = kiln.attention
// CHECK:         return %{{.*}}, %[[A]]
func.func @rank5(%q: tensor<1x2x4x8x16xf32>, %k: tensor<1x2x4x8x16xf32>, %v: tensor<1x2x4x8x16xf32>, %d: tensor<?x?x4x8x16xf32>) -> (tensor<1x2x4x8x16xf32>, tensor<?x?x4x8x16xf32>) {
  %0 = kiln.attention %q, %k, %v {scale = 0.25 : f32} : (tensor<1x2x4x8x16xf32>, tensor<1x2x4x8x16xf32>, tensor<1x2x4x8x16xf32>) -> tensor<1x2x4x8x16xf32>
  %1 = kiln.attention %d, %d, %d {scale = 0.25 : f32} : (tensor<?x?x4x8x16xf32>, tensor<?x?x4x8x16xf32>, tensor<?x?x4x8x16xf32>) -> tensor<?x?x4x8x16xf32>
  return %0, %1 : tensor<1x2x4x8x16xf32>, tensor<?x?x4x8x16xf32>
}

// -----

// Layer norm over the last dim with a [N] scale and bias: kiln.ukernel
// "norm_f32" on (x, scale, bias), int_params (isa, flags 2 = bias, rank 3),
// float_params (epsilon).
// CHECK-LABEL: func.func @layer_norm(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x128x256xf32>, %[[G:[^:]*]]: tensor<256xf32>, %[[B:[^:]*]]: tensor<256xf32>)
// CHECK:         %[[D:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x128x256xf32>
// CHECK:         %[[E:.*]] = tensor.empty(%[[D]]) : tensor<?x128x256xf32>
// CHECK:         %[[U:.*]] = kiln.ukernel "norm_f32"(%[[X]], %[[G]], %[[B]]) outs(%[[E]]) {float_params = array<f32: 9.99999996E-13>, int_params = array<i64: 2, 2, 3>}
// CHECK-NOT:     kiln.layer_norm
// CHECK:         return %[[U]]
// AVX2-LABEL: func.func @layer_norm(
// AVX2:         int_params = array<i64: 1, 2, 3>
func.func @layer_norm(%x: tensor<?x128x256xf32>, %g: tensor<256xf32>, %b: tensor<256xf32>) -> tensor<?x128x256xf32> {
  %0 = kiln.layer_norm %x, %g bias %b {axis = -1 : i64, epsilon = 9.99999996E-13 : f32} : (tensor<?x128x256xf32>, tensor<256xf32>, tensor<256xf32>) -> tensor<?x128x256xf32>
  return %0 : tensor<?x128x256xf32>
}

// -----

// RMS norm: flags 1, no bias operand.
// CHECK-LABEL: func.func @rms_norm(
// CHECK:         kiln.ukernel "norm_f32"(%{{[^,]*}}, %{{[^)]*}}) outs(%{{.*}}) {float_params = array<f32: 9.99999997E-7>, int_params = array<i64: 2, 1, 2>}
// CHECK-NOT:     kiln.rms_norm
func.func @rms_norm(%x: tensor<16x64xf32>, %g: tensor<64xf32>) -> tensor<16x64xf32> {
  %0 = kiln.rms_norm %x, %g {axis = -1 : i64, epsilon = 9.99999997E-7 : f32} : (tensor<16x64xf32>, tensor<64xf32>) -> tensor<16x64xf32>
  return %0 : tensor<16x64xf32>
}

// -----

// Not over the last dim only (axis 1 of a rank-3 input), f16, or rank 5:
// the norm stays for the generic lowering.
// CHECK-LABEL: func.func @norm_not_selected(
// CHECK-NOT:     kiln.ukernel
// CHECK:         kiln.layer_norm
// CHECK:         kiln.layer_norm
// CHECK:         kiln.rms_norm
func.func @norm_not_selected(%x: tensor<2x4x8xf32>, %g2: tensor<4x8xf32>, %h: tensor<4x8xf16>, %gh: tensor<8xf16>, %x5: tensor<1x2x2x4x8xf32>, %g: tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<4x8xf16>, tensor<1x2x2x4x8xf32>) {
  %0 = kiln.layer_norm %x, %g2 {axis = 1 : i64, epsilon = 1.0E-5 : f32} : (tensor<2x4x8xf32>, tensor<4x8xf32>) -> tensor<2x4x8xf32>
  %1 = kiln.layer_norm %h, %gh {axis = -1 : i64, epsilon = 1.0E-5 : f32} : (tensor<4x8xf16>, tensor<8xf16>) -> tensor<4x8xf16>
  %2 = kiln.rms_norm %x5, %g {axis = -1 : i64, epsilon = 1.0E-5 : f32} : (tensor<1x2x2x4x8xf32>, tensor<8xf32>) -> tensor<1x2x2x4x8xf32>
  return %0, %1, %2 : tensor<2x4x8xf32>, tensor<4x8xf16>, tensor<1x2x2x4x8xf32>
}

// -----

// kiln.linear with a transposed weight, bias, GELU and residual: the input
// is reshaped to [M, K] (tensor.reshape), kiln.ukernel "linear_f32" writes
// [M, N] with int_params (isa, flags 1|2|4 = 7, activation 2 = gelu), and
// the result is reshaped back.
// CHECK-LABEL: func.func @linear(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x128x256xf32>, %[[W:[^:]*]]: tensor<512x256xf32>, %[[B:[^:]*]]: tensor<512xf32>, %[[R:[^:]*]]: tensor<?x128x512xf32>)
// CHECK:         %[[X2:.*]] = tensor.reshape %[[X]](%{{.*}}) : (tensor<?x128x256xf32>, tensor<2xi64>) -> tensor<?x256xf32>
// CHECK:         %[[R2:.*]] = tensor.reshape %[[R]](%{{.*}}) : (tensor<?x128x512xf32>, tensor<2xi64>) -> tensor<?x512xf32>
// CHECK:         %[[U:.*]] = kiln.ukernel "linear_f32"(%[[X2]], %[[W]], %[[B]], %[[R2]]) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 7, 2>}
// CHECK:         %[[Y:.*]] = tensor.reshape %[[U]](%{{.*}}) : (tensor<?x512xf32>, tensor<3xi64>) -> tensor<?x128x512xf32>
// CHECK-NOT:     kiln.linear
// CHECK:         return %[[Y]]
func.func @linear(%x: tensor<?x128x256xf32>, %w: tensor<512x256xf32>, %b: tensor<512xf32>, %r: tensor<?x128x512xf32>) -> tensor<?x128x512xf32> {
  %0 = kiln.linear %x, %w bias %b residual %r {transpose_weight = true, activation = "gelu"} : (tensor<?x128x256xf32>, tensor<512x256xf32>, tensor<512xf32>, tensor<?x128x512xf32>) -> tensor<?x128x512xf32>
  return %0 : tensor<?x128x512xf32>
}

// -----

// A 2-D input needs no reshape; SiLU is activation 4; no bias: flags 0.
// CHECK-LABEL: func.func @linear_2d(
// CHECK-NOT:     tensor.reshape
// CHECK:         kiln.ukernel "linear_f32"(%{{[^,]*}}, %{{[^)]*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 0, 4>}
func.func @linear_2d(%x: tensor<8x64xf32>, %w: tensor<64x32xf32>) -> tensor<8x32xf32> {
  %0 = kiln.linear %x, %w {activation = "silu"} : (tensor<8x64xf32>, tensor<64x32xf32>) -> tensor<8x32xf32>
  return %0 : tensor<8x32xf32>
}

// -----

// f16, or a bias that is not a static [N]: kiln.linear stays.
// CHECK-LABEL: func.func @linear_not_selected(
// CHECK-NOT:     kiln.ukernel
// CHECK:         kiln.linear
// CHECK:         kiln.linear
func.func @linear_not_selected(%x: tensor<8x64xf16>, %w: tensor<64x32xf16>, %xf: tensor<8x64xf32>, %wf: tensor<64x32xf32>, %bd: tensor<?xf32>) -> (tensor<8x32xf16>, tensor<8x32xf32>) {
  %0 = kiln.linear %x, %w : (tensor<8x64xf16>, tensor<64x32xf16>) -> tensor<8x32xf16>
  %1 = kiln.linear %xf, %wf bias %bd : (tensor<8x64xf32>, tensor<64x32xf32>, tensor<?xf32>) -> tensor<8x32xf32>
  return %0, %1 : tensor<8x32xf16>, tensor<8x32xf32>
}

// -----

// A 2-D f32 convolution with a bias: kiln.ukernel "conv2d_f32" on (x, w,
// bias) writing [N, F, OH, OW]; int_params (isa, flags 1 = bias, act 0,
// strides 2 2, pads top/left 1 1, dilations 1 1). The batch stays dynamic.
// CHECK-LABEL: func.func @conv_bias(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x3x9x9xf32>, %[[W:[^:]*]]: tensor<8x3x3x3xf32>, %[[B:[^:]*]]: tensor<8xf32>)
// CHECK:         %[[C0:.*]] = arith.constant 0 : index
// CHECK:         %[[N:.*]] = tensor.dim %[[X]], %[[C0]]
// CHECK:         %[[E:.*]] = tensor.empty(%[[N]]) : tensor<?x8x5x5xf32>
// CHECK:         %[[U:.*]] = kiln.ukernel "conv2d_f32"(%[[X]], %[[W]], %[[B]]) outs(%[[E]]) {float_params = array<f32>, int_params = array<i64: 2, 1, 0, 2, 2, 1, 1, 1, 1>}
// CHECK-NOT:     kiln.conv
// CHECK:         return %[[U]]
func.func @conv_bias(%x: tensor<?x3x9x9xf32>, %w: tensor<8x3x3x3xf32>, %b: tensor<8xf32>) -> tensor<?x8x5x5xf32> {
  %0 = kiln.conv %x, %w bias %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x3x9x9xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<?x8x5x5xf32>
  return %0 : tensor<?x8x5x5xf32>
}

// -----

// A residual block's tail relu(conv(x) + r) is the kernel's epilogue: r is
// an input (flags 2), act 1; the add and the relu are gone. The kernel is
// created where the relu was: r is computed after the convolution. r is
// the init too (no tensor.empty): bufferization writes the output over it
// where nothing reads it later.
// CHECK-LABEL: func.func @conv_residual_relu(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<1x4x6x6xf32>, %[[W:[^:]*]]: tensor<4x4x3x3xf32>, %[[R0:[^:]*]]: tensor<1x4x6x6xf32>)
// CHECK-NOT:     tensor.empty
// CHECK:         %[[R:.*]] = kiln.neg %[[R0]]
// CHECK-NOT:     tensor.empty
// CHECK:         %[[U:.*]] = kiln.ukernel "conv2d_f32"(%[[X]], %[[W]], %[[R]]) outs(%[[R]]) {float_params = array<f32>, int_params = array<i64: 2, 2, 1, 1, 1, 1, 1, 1, 1>}
// CHECK-NOT:     kiln.add
// CHECK-NOT:     kiln.relu
// CHECK:         return %[[U]]
func.func @conv_residual_relu(%x: tensor<1x4x6x6xf32>, %w: tensor<4x4x3x3xf32>, %r0: tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32> {
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32>
  %r = kiln.neg %r0 : tensor<1x4x6x6xf32>
  %1 = kiln.add %r, %0 : (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %2 = kiln.relu %1 : tensor<1x4x6x6xf32>
  return %2 : tensor<1x4x6x6xf32>
}

// -----

// relu(conv(x)) without a residual: act 1, flags 0.
// CHECK-LABEL: func.func @conv_relu(
// CHECK:         kiln.ukernel "conv2d_f32"(%{{[^,]*}}, %{{[^)]*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 0, 1, 1, 1, 0, 0, 1, 1>}
// CHECK-NOT:     kiln.relu
func.func @conv_relu(%x: tensor<1x4x6x6xf32>, %w: tensor<2x4x1x1xf32>) -> tensor<1x2x6x6xf32> {
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x6x6xf32>, tensor<2x4x1x1xf32>) -> tensor<1x2x6x6xf32>
  %1 = kiln.relu %0 : tensor<1x2x6x6xf32>
  return %1 : tensor<1x2x6x6xf32>
}

// -----

// Not fused: the convolution has a second use (its value is needed before
// the add), and the add broadcasts a [4, 1, 1] operand (not a residual).
// CHECK-LABEL: func.func @conv_no_fusion(
// CHECK:         %[[U:.*]] = kiln.ukernel "conv2d_f32"(%{{[^,]*}}, %{{[^)]*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 0, 0, 1, 1, 1, 1, 1, 1>}
// CHECK:         kiln.add %[[U]], %{{.*}}
// CHECK:         %[[U2:.*]] = kiln.ukernel "conv2d_f32"(%{{[^,]*}}, %{{[^)]*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 0, 0, 1, 1, 1, 1, 1, 1>}
// CHECK:         kiln.add %[[U2]], %{{.*}} : (tensor<1x4x6x6xf32>, tensor<4x1x1xf32>)
func.func @conv_no_fusion(%x: tensor<1x4x6x6xf32>, %w: tensor<4x4x3x3xf32>, %c: tensor<4x1x1xf32>) -> (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) {
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32>
  %1 = kiln.add %0, %x : (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %2 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32>
  %3 = kiln.add %2, %c : (tensor<1x4x6x6xf32>, tensor<4x1x1xf32>) -> tensor<1x4x6x6xf32>
  return %0, %1, %3 : tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>
}

// -----

// A squeeze-excite gate on the input, conv(x * s) with s [N, C, 1, 1] (the
// product's only use; either operand order): s is the kernel's operand after
// the residual, flag 16, and no kiln.mul is left.
// CHECK-LABEL: func.func @conv_input_scale(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x8x7x7xf32>, %[[W:[^:]*]]: tensor<16x8x1x1xf32>, %[[B:[^:]*]]: tensor<16xf32>, %[[S:[^:]*]]: tensor<?x8x1x1xf32>, %[[R:[^:]*]]: tensor<?x16x7x7xf32>)
// CHECK-NOT:     kiln.mul
// CHECK:         kiln.ukernel "conv2d_f32"(%[[X]], %[[W]], %[[B]], %[[R]], %[[S]]) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 19, 0, 1, 1, 0, 0, 1, 1>}
// CHECK-NOT:     kiln.mul
func.func @conv_input_scale(%x: tensor<?x8x7x7xf32>, %w: tensor<16x8x1x1xf32>, %b: tensor<16xf32>, %s: tensor<?x8x1x1xf32>, %r: tensor<?x16x7x7xf32>) -> tensor<?x16x7x7xf32> {
  %0 = kiln.mul %s, %x : (tensor<?x8x1x1xf32>, tensor<?x8x7x7xf32>) -> tensor<?x8x7x7xf32>
  %1 = kiln.conv %0, %w bias %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<?x8x7x7xf32>, tensor<16x8x1x1xf32>, tensor<16xf32>) -> tensor<?x16x7x7xf32>
  %2 = kiln.add %1, %r : (tensor<?x16x7x7xf32>, tensor<?x16x7x7xf32>) -> tensor<?x16x7x7xf32>
  return %2 : tensor<?x16x7x7xf32>
}

// -----

// Not taken into the kernel: the product has a second use; the scale is not
// per channel ([1, 1, 7, 7]); a depthwise convolution's input scale stays a
// kiln.mul (only group-1 convolutions take it).
// CHECK-LABEL: func.func @conv_input_scale_not_taken(
// CHECK:         kiln.mul
// CHECK:         kiln.ukernel "conv2d_f32"(%{{[^,]*}}, %{{[^)]*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 0, 0, 1, 1, 0, 0, 1, 1>}
// CHECK:         kiln.mul
// CHECK:         kiln.ukernel "conv2d_f32"(%{{[^,]*}}, %{{[^)]*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 0, 0, 1, 1, 0, 0, 1, 1>}
// CHECK:         kiln.mul
// CHECK:         kiln.ukernel "dwconv2d_f32"(%{{[^,]*}}, %{{[^)]*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 0, 0, 1, 1, 1, 1, 1, 1>}
func.func @conv_input_scale_not_taken(%x: tensor<1x8x7x7xf32>, %w: tensor<16x8x1x1xf32>, %s: tensor<1x8x1x1xf32>, %p: tensor<1x1x7x7xf32>, %wd: tensor<8x1x3x3xf32>) -> (tensor<1x16x7x7xf32>, tensor<1x8x7x7xf32>, tensor<1x16x7x7xf32>, tensor<1x8x7x7xf32>) {
  %0 = kiln.mul %x, %s : (tensor<1x8x7x7xf32>, tensor<1x8x1x1xf32>) -> tensor<1x8x7x7xf32>
  %1 = kiln.conv %0, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x8x7x7xf32>, tensor<16x8x1x1xf32>) -> tensor<1x16x7x7xf32>
  %2 = kiln.mul %x, %p : (tensor<1x8x7x7xf32>, tensor<1x1x7x7xf32>) -> tensor<1x8x7x7xf32>
  %3 = kiln.conv %2, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x8x7x7xf32>, tensor<16x8x1x1xf32>) -> tensor<1x16x7x7xf32>
  %4 = kiln.mul %x, %s : (tensor<1x8x7x7xf32>, tensor<1x8x1x1xf32>) -> tensor<1x8x7x7xf32>
  %5 = kiln.conv %4, %wd {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 8 : i64} : (tensor<1x8x7x7xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x7x7xf32>
  return %1, %0, %3, %5 : tensor<1x16x7x7xf32>, tensor<1x8x7x7xf32>, tensor<1x16x7x7xf32>, tensor<1x8x7x7xf32>
}

// -----

// The global average pool of a depthwise convolution's output (a
// squeeze-excite block) is the depthwise kernel's second output (flag 32);
// the output keeps its other use. The pool of a group-1 convolution's
// output stays its own kernel.
// CHECK-LABEL: func.func @dwconv_mean(
// CHECK:         %[[U:.*]]:2 = kiln.ukernel "dwconv2d_f32"(%{{[^)]*}}) outs(%{{.*}}, %{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 33, 1, 1, 1, 1, 1, 1, 1>} : ({{.*}}) -> (tensor<?x8x14x14xf32>, tensor<?x8x1x1xf32>)
// CHECK-NOT:     "global_avgpool_f32"(%[[U]]
// CHECK:         %[[C:.*]] = kiln.ukernel "conv2d_f32"
// CHECK:         %[[G:.*]] = kiln.ukernel "global_avgpool_f32"(%[[C]])
// CHECK:         return %[[U]]#0, %[[U]]#1, %[[G]]
func.func @dwconv_mean(%x: tensor<?x8x14x14xf32>, %w: tensor<8x1x3x3xf32>, %b: tensor<8xf32>, %w2: tensor<8x8x1x1xf32>) -> (tensor<?x8x14x14xf32>, tensor<?x8x1x1xf32>, tensor<?x8x1x1xf32>) {
  %0 = kiln.conv %x, %w bias %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 8 : i64} : (tensor<?x8x14x14xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>) -> tensor<?x8x14x14xf32>
  %1 = kiln.relu %0 : tensor<?x8x14x14xf32>
  %2 = kiln.global_average_pool %1 : (tensor<?x8x14x14xf32>) -> tensor<?x8x1x1xf32>
  %3 = kiln.conv %x, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<?x8x14x14xf32>, tensor<8x8x1x1xf32>) -> tensor<?x8x14x14xf32>
  %4 = kiln.global_average_pool %3 : (tensor<?x8x14x14xf32>) -> tensor<?x8x1x1xf32>
  return %1, %2, %4 : tensor<?x8x14x14xf32>, tensor<?x8x1x1xf32>, tensor<?x8x1x1xf32>
}

// -----

// A grouped convolution that is not depthwise (ResNeXt, RegNet): "conv2d_f32"
// with flag 128 (the runtime runs each group on its channels), its ReLU
// taken into the epilogue.
// CHECK-LABEL: func.func @conv_grouped(
// CHECK:         %[[U:.*]] = kiln.ukernel "conv2d_f32"(%{{[^,]*}}, %{{[^,]*}}, %{{[^)]*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 129, 1, 1, 1, 1, 1, 1, 1>} : (tensor<?x8x6x6xf32>, tensor<6x4x3x3xf32>, tensor<6xf32>, tensor<?x6x6x6xf32>) -> tensor<?x6x6x6xf32>
// CHECK-NOT:     kiln.relu
// CHECK:         return %[[U]]
func.func @conv_grouped(%x: tensor<?x8x6x6xf32>, %w: tensor<6x4x3x3xf32>, %b: tensor<6xf32>) -> tensor<?x6x6x6xf32> {
  %0 = kiln.conv %x, %w bias %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<?x8x6x6xf32>, tensor<6x4x3x3xf32>, tensor<6xf32>) -> tensor<?x6x6x6xf32>
  %1 = kiln.relu %0 : tensor<?x6x6x6xf32>
  return %1 : tensor<?x6x6x6xf32>
}

// -----

// Not selected: a grouped convolution whose input channels are dynamic
// (not depthwise: the runtime could not split them into groups), and a
// 1-D one (they keep the generic lowering).
// CHECK-LABEL: func.func @conv_not_selected(
// CHECK-NOT:     kiln.ukernel
// CHECK:         kiln.conv
// CHECK:         kiln.conv
func.func @conv_not_selected(%x: tensor<1x?x6x6xf32>, %w: tensor<4x2x3x3xf32>, %x1: tensor<1x3x8xf32>, %w1: tensor<4x3x3xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x4x6xf32>) {
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x?x6x6xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x4x4xf32>
  %1 = kiln.conv %x1, %w1 {strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<1x3x8xf32>, tensor<4x3x3xf32>) -> tensor<1x4x6xf32>
  return %0, %1 : tensor<1x4x4x4xf32>, tensor<1x4x6xf32>
}

// -----

// A depthwise convolution (group = C = F, filter [C, 1, KH, KW]) with a
// bias, followed by HardSwish: kiln.ukernel "dwconv2d_f32", act 5.
// CHECK-LABEL: func.func @dwconv_hardswish(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x8x14x14xf32>, %[[W:[^:]*]]: tensor<8x1x5x5xf32>, %[[B:[^:]*]]: tensor<8xf32>)
// CHECK:         %[[U:.*]] = kiln.ukernel "dwconv2d_f32"(%[[X]], %[[W]], %[[B]]) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 1, 5, 2, 2, 2, 2, 1, 1>} : (tensor<?x8x14x14xf32>, tensor<8x1x5x5xf32>, tensor<8xf32>, tensor<?x8x7x7xf32>) -> tensor<?x8x7x7xf32>
// CHECK-NOT:     kiln.hard_swish
// CHECK:         return %[[U]]
func.func @dwconv_hardswish(%x: tensor<?x8x14x14xf32>, %w: tensor<8x1x5x5xf32>, %b: tensor<8xf32>) -> tensor<?x8x7x7xf32> {
  %0 = kiln.conv %x, %w bias %b {strides = array<i64: 2, 2>, pads = array<i64: 2, 2, 2, 2>, dilations = array<i64: 1, 1>, group = 8 : i64} : (tensor<?x8x14x14xf32>, tensor<8x1x5x5xf32>, tensor<8xf32>) -> tensor<?x8x7x7xf32>
  %1 = kiln.hard_swish %0 : tensor<?x8x7x7xf32>
  return %1 : tensor<?x8x7x7xf32>
}

// -----

// A depthwise convolution whose input channels are dynamic (ShuffleNet's
// channel shuffle reshapes to [N, -1, H, W]) is selected too: the kernel
// checks them against the filter's at run time.
// CHECK-LABEL: func.func @dwconv_dynamic_channels(
// CHECK:         kiln.ukernel "dwconv2d_f32"(%{{.*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 0, 0, 2, 2, 1, 1, 1, 1>} : (tensor<?x?x14x14xf32>, tensor<8x1x3x3xf32>, tensor<?x8x7x7xf32>) -> tensor<?x8x7x7xf32>
// GENERIC-LABEL: func.func @dwconv_dynamic_channels(
// GENERIC:         kiln.ukernel "dwconv2d_f32"
func.func @dwconv_dynamic_channels(%x: tensor<?x?x14x14xf32>, %w: tensor<8x1x3x3xf32>) -> tensor<?x8x7x7xf32> {
  %0 = kiln.conv %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 8 : i64} : (tensor<?x?x14x14xf32>, tensor<8x1x3x3xf32>) -> tensor<?x8x7x7xf32>
  return %0 : tensor<?x8x7x7xf32>
}

// -----

// A depthwise convolution does not take a residual add (its kernel has no
// residual epilogue): the add stays.
// CHECK-LABEL: func.func @dwconv_no_residual(
// CHECK:         %[[U:.*]] = kiln.ukernel "dwconv2d_f32"
// CHECK:         kiln.add %[[U]]
func.func @dwconv_no_residual(%x: tensor<1x8x7x7xf32>, %w: tensor<8x1x3x3xf32>) -> tensor<1x8x7x7xf32> {
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 8 : i64} : (tensor<1x8x7x7xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x7x7xf32>
  %1 = kiln.add %0, %x : (tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>) -> tensor<1x8x7x7xf32>
  return %1 : tensor<1x8x7x7xf32>
}

// -----

// ONNX Runtime's dynamically quantized matmul as the importer spells it
// out (DynamicQuantizeLinear, then MatMulInteger with an int8 weight cast
// to i32, Cast and Mul by s * ws, then the bias Add) becomes one
// linear_f32 on x with the int8 weight, its scales as [N] and the bias:
// flags 2 (bias) | 64 (int8 weights + scales) | 128 (x per tensor) = 194.
// CHECK-LABEL: func.func @dynamic_quant_matmul(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x4xf32>
// CHECK-DAG:     %[[W:.*]] = kiln.constant dense<{{.*}}> : tensor<4x3xi8>
// CHECK-DAG:     %[[B:.*]] = kiln.constant dense<{{.*}}> : tensor<3xf32>
// CHECK-DAG:     %[[S:.*]] = kiln.constant dense<2.000000e-02> : tensor<3xf32>
// CHECK:         kiln.ukernel "linear_f32"(%[[X]], %[[W]], %[[S]], %[[B]]) {{.*}}int_params = array<i64: 2, 194, 0>
// CHECK-NOT:     kiln.matmul
// CHECK-NOT:     kiln.reduce_min
func.func @dynamic_quant_matmul(%x: tensor<?x4xf32>) -> tensor<?x3xf32> {
  %ws = kiln.constant dense<2.000000e-02> : tensor<f32>
  %w8 = kiln.constant dense<[[1, -2, 3], [4, 5, -6], [7, 8, 9], [10, 11, 12]]> : tensor<4x3xi8>
  %bias = kiln.constant dense<[0.5, 1.5, 2.5]> : tensor<3xf32>
  %c255 = kiln.constant dense<2.550000e+02> : tensor<f32>
  %c0 = kiln.constant dense<0.000000e+00> : tensor<f32>
  %mn = kiln.reduce_min %x {axes = array<i64: 0, 1>, keepdims = false} : (tensor<?x4xf32>) -> tensor<f32>
  %mx = kiln.reduce_max %x {axes = array<i64: 0, 1>, keepdims = false} : (tensor<?x4xf32>) -> tensor<f32>
  %lo = kiln.min %mn, %c0 : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %hi = kiln.max %mx, %c0 : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %range = kiln.sub %hi, %lo : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %s = kiln.div %range, %c255 : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %ls = kiln.div %lo, %s : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %nz = kiln.sub %c0, %ls : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %rz = kiln.round %nz : tensor<f32>
  %zpf = kiln.clip %rz min %c0 max %c255 : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<f32>
  %xs = kiln.div %x, %s : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %xr = kiln.round %xs : tensor<?x4xf32>
  %xz = kiln.add %xr, %zpf : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %xc = kiln.clip %xz min %c0 max %c255 : (tensor<?x4xf32>, tensor<f32>, tensor<f32>) -> tensor<?x4xf32>
  %q = kiln.cast %xc : tensor<?x4xf32> -> tensor<?x4xui8>
  %z = kiln.cast %zpf : tensor<f32> -> tensor<ui8>
  %qi = kiln.cast %q : tensor<?x4xui8> -> tensor<?x4xi32>
  %wi = kiln.cast %w8 : tensor<4x3xi8> -> tensor<4x3xi32>
  %zi = kiln.cast %z : tensor<ui8> -> tensor<i32>
  %a = kiln.sub %qi, %zi : (tensor<?x4xi32>, tensor<i32>) -> tensor<?x4xi32>
  %acc = kiln.matmul %a, %wi : (tensor<?x4xi32>, tensor<4x3xi32>) -> tensor<?x3xi32>
  %f = kiln.cast %acc : tensor<?x3xi32> -> tensor<?x3xf32>
  %sc = kiln.mul %s, %ws : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %y = kiln.mul %f, %sc : (tensor<?x3xf32>, tensor<f32>) -> tensor<?x3xf32>
  %yb = kiln.add %bias, %y : (tensor<3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
  return %yb : tensor<?x3xf32>
}

// -----

// Negative: the same chain where the quantizer's scale is not the
// tensor's range / 255 (here / 127) is not DynamicQuantizeLinear: nothing
// fires and the i32 matmul stays.
// CHECK-LABEL: func.func @not_dynamic_quant(
// CHECK-NOT:     kiln.ukernel
// CHECK:         kiln.matmul
func.func @not_dynamic_quant(%x: tensor<?x4xf32>) -> tensor<?x3xf32> {
  %ws = kiln.constant dense<2.000000e-02> : tensor<f32>
  %w8 = kiln.constant dense<[[1, -2, 3], [4, 5, -6], [7, 8, 9], [10, 11, 12]]> : tensor<4x3xi8>
  %c255 = kiln.constant dense<2.550000e+02> : tensor<f32>
  %c127 = kiln.constant dense<1.270000e+02> : tensor<f32>
  %c0 = kiln.constant dense<0.000000e+00> : tensor<f32>
  %mn = kiln.reduce_min %x {axes = array<i64: 0, 1>, keepdims = false} : (tensor<?x4xf32>) -> tensor<f32>
  %mx = kiln.reduce_max %x {axes = array<i64: 0, 1>, keepdims = false} : (tensor<?x4xf32>) -> tensor<f32>
  %lo = kiln.min %mn, %c0 : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %hi = kiln.max %mx, %c0 : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %range = kiln.sub %hi, %lo : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %s = kiln.div %range, %c127 : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %ls = kiln.div %lo, %s : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %nz = kiln.sub %c0, %ls : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %rz = kiln.round %nz : tensor<f32>
  %zpf = kiln.clip %rz min %c0 max %c255 : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<f32>
  %xs = kiln.div %x, %s : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %xr = kiln.round %xs : tensor<?x4xf32>
  %xz = kiln.add %xr, %zpf : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %xc = kiln.clip %xz min %c0 max %c255 : (tensor<?x4xf32>, tensor<f32>, tensor<f32>) -> tensor<?x4xf32>
  %q = kiln.cast %xc : tensor<?x4xf32> -> tensor<?x4xui8>
  %z = kiln.cast %zpf : tensor<f32> -> tensor<ui8>
  %qi = kiln.cast %q : tensor<?x4xui8> -> tensor<?x4xi32>
  %wi = kiln.cast %w8 : tensor<4x3xi8> -> tensor<4x3xi32>
  %zi = kiln.cast %z : tensor<ui8> -> tensor<i32>
  %a = kiln.sub %qi, %zi : (tensor<?x4xi32>, tensor<i32>) -> tensor<?x4xi32>
  %acc = kiln.matmul %a, %wi : (tensor<?x4xi32>, tensor<4x3xi32>) -> tensor<?x3xi32>
  %f = kiln.cast %acc : tensor<?x3xi32> -> tensor<?x3xf32>
  %sc = kiln.mul %s, %ws : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %y = kiln.mul %f, %sc : (tensor<?x3xf32>, tensor<f32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

// A statically quantized (QDQ) matmul as the importer spells it out:
// QuantizeLinear -> DequantizeLinear on x (scale 0.05, zero point 3), a
// DequantizeLinear of an int8 weight per column (zero point 0), MatMul.
// It becomes one linear_f32 on x with the int8 weight and its [N] scales,
// x quantized with the QuantizeLinear's own scale and zero point:
// flags 64 | 128 | 512 = 704, float_params (0.05, 3).
// CHECK-LABEL: func.func @qdq_matmul(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x?x4xf32>
// CHECK:         %[[W:.*]] = kiln.constant dense<{{.*}}> : tensor<4x3xi8>
// CHECK:         %[[S:.*]] = kiln.constant dense<[1.000000e-01, 2.000000e-01, 3.000000e-01]> : tensor<3xf32>
// CHECK:         kiln.ukernel "linear_f32"(%{{.*}}, %[[W]], %[[S]]) {{.*}}float_params = array<f32: 5.000000e-02, 3.000000e+00>, int_params = array<i64: 2, 704, 0>
// CHECK-NOT:     kiln.matmul
// CHECK-NOT:     kiln.round
// AVX2-LABEL: func.func @qdq_matmul(
// AVX2:         int_params = array<i64: 1, 704, 0>
func.func @qdq_matmul(%x: tensor<?x?x4xf32>) -> tensor<?x?x3xf32> {
  %s = kiln.constant dense<5.000000e-02> : tensor<f32>
  %z = kiln.constant dense<3.000000e+00> : tensor<f32>
  %c0 = kiln.constant dense<0.000000e+00> : tensor<f32>
  %c255 = kiln.constant dense<2.550000e+02> : tensor<f32>
  %w8 = kiln.constant dense<[[1, -2, 3], [4, 5, -6], [7, 8, 9], [10, 11, 12]]> : tensor<4x3xi8>
  %ws = kiln.constant dense<[[0.1, 0.2, 0.3]]> : tensor<1x3xf32>
  %xs = kiln.div %x, %s : (tensor<?x?x4xf32>, tensor<f32>) -> tensor<?x?x4xf32>
  %xr = kiln.round %xs : tensor<?x?x4xf32>
  %xz = kiln.add %xr, %z : (tensor<?x?x4xf32>, tensor<f32>) -> tensor<?x?x4xf32>
  %xc = kiln.clip %xz min %c0 max %c255 : (tensor<?x?x4xf32>, tensor<f32>, tensor<f32>) -> tensor<?x?x4xf32>
  %q = kiln.cast %xc : tensor<?x?x4xf32> -> tensor<?x?x4xui8>
  %qf = kiln.cast %q : tensor<?x?x4xui8> -> tensor<?x?x4xf32>
  %qs = kiln.sub %qf, %z : (tensor<?x?x4xf32>, tensor<f32>) -> tensor<?x?x4xf32>
  %xd = kiln.mul %qs, %s : (tensor<?x?x4xf32>, tensor<f32>) -> tensor<?x?x4xf32>
  %wf = kiln.cast %w8 : tensor<4x3xi8> -> tensor<4x3xf32>
  %wz = kiln.sub %wf, %c0 : (tensor<4x3xf32>, tensor<f32>) -> tensor<4x3xf32>
  %wd = kiln.mul %wz, %ws : (tensor<4x3xf32>, tensor<1x3xf32>) -> tensor<4x3xf32>
  %y = kiln.matmul %xd, %wd : (tensor<?x?x4xf32>, tensor<4x3xf32>) -> tensor<?x?x3xf32>
  return %y : tensor<?x?x3xf32>
}

// The same matmul with its output's QDQ pair (scale 0.25, zero point 128),
// a bias [3] added before it (bias first, as PyTorch's Linear exports),
// GELU and a residual: all the kernel's epilogue, in the graph's order:
// flags 704 | 2 | 4 | 8192 = 8902, activation 2, float_params (0.05, 3,
// 0.25, 128); nothing of the chain left.
// CHECK-LABEL: func.func @qdq_matmul_epilogue(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x?x4xf32>, %[[R:[^:]*]]: tensor<?x?x3xf32>
// CHECK:         %[[B:.*]] = kiln.constant dense<[5.000000e-01, 1.500000e+00, 2.500000e+00]> : tensor<3xf32>
// CHECK:         kiln.ukernel "linear_f32"(%{{.*}}, %{{.*}}, %{{.*}}, %[[B]], %{{.*}}) {{.*}}float_params = array<f32: 5.000000e-02, 3.000000e+00, 2.500000e-01, 1.280000e+02>, int_params = array<i64: 2, 8902, 2>
// CHECK-NOT:     kiln.round
// CHECK-NOT:     kiln.gelu
// CHECK-NOT:     kiln.add
// AVX2-LABEL: func.func @qdq_matmul_epilogue(
// AVX2:         int_params = array<i64: 1, 8902, 2>
func.func @qdq_matmul_epilogue(%x: tensor<?x?x4xf32>, %r: tensor<?x?x3xf32>) -> tensor<?x?x3xf32> {
  %s = kiln.constant dense<5.000000e-02> : tensor<f32>
  %z = kiln.constant dense<3.000000e+00> : tensor<f32>
  %sy = kiln.constant dense<2.500000e-01> : tensor<f32>
  %zy = kiln.constant dense<1.280000e+02> : tensor<f32>
  %c0 = kiln.constant dense<0.000000e+00> : tensor<f32>
  %c255 = kiln.constant dense<2.550000e+02> : tensor<f32>
  %bias = kiln.constant dense<[0.5, 1.5, 2.5]> : tensor<3xf32>
  %w8 = kiln.constant dense<[[1, -2, 3], [4, 5, -6], [7, 8, 9], [10, 11, 12]]> : tensor<4x3xi8>
  %ws = kiln.constant dense<[[0.1, 0.2, 0.3]]> : tensor<1x3xf32>
  %xs = kiln.div %x, %s : (tensor<?x?x4xf32>, tensor<f32>) -> tensor<?x?x4xf32>
  %xr = kiln.round %xs : tensor<?x?x4xf32>
  %xz = kiln.add %xr, %z : (tensor<?x?x4xf32>, tensor<f32>) -> tensor<?x?x4xf32>
  %xc = kiln.clip %xz min %c0 max %c255 : (tensor<?x?x4xf32>, tensor<f32>, tensor<f32>) -> tensor<?x?x4xf32>
  %q = kiln.cast %xc : tensor<?x?x4xf32> -> tensor<?x?x4xui8>
  %qf = kiln.cast %q : tensor<?x?x4xui8> -> tensor<?x?x4xf32>
  %qs = kiln.sub %qf, %z : (tensor<?x?x4xf32>, tensor<f32>) -> tensor<?x?x4xf32>
  %xd = kiln.mul %qs, %s : (tensor<?x?x4xf32>, tensor<f32>) -> tensor<?x?x4xf32>
  %wf = kiln.cast %w8 : tensor<4x3xi8> -> tensor<4x3xf32>
  %wd = kiln.mul %wf, %ws : (tensor<4x3xf32>, tensor<1x3xf32>) -> tensor<4x3xf32>
  %y = kiln.matmul %xd, %wd : (tensor<?x?x4xf32>, tensor<4x3xf32>) -> tensor<?x?x3xf32>
  %ys = kiln.div %y, %sy : (tensor<?x?x3xf32>, tensor<f32>) -> tensor<?x?x3xf32>
  %yr = kiln.round %ys : tensor<?x?x3xf32>
  %yz = kiln.add %yr, %zy : (tensor<?x?x3xf32>, tensor<f32>) -> tensor<?x?x3xf32>
  %yc = kiln.clip %yz min %c0 max %c255 : (tensor<?x?x3xf32>, tensor<f32>, tensor<f32>) -> tensor<?x?x3xf32>
  %yq = kiln.cast %yc : tensor<?x?x3xf32> -> tensor<?x?x3xui8>
  %yqf = kiln.cast %yq : tensor<?x?x3xui8> -> tensor<?x?x3xf32>
  %ysub = kiln.sub %yqf, %zy : (tensor<?x?x3xf32>, tensor<f32>) -> tensor<?x?x3xf32>
  %yd = kiln.mul %ysub, %sy : (tensor<?x?x3xf32>, tensor<f32>) -> tensor<?x?x3xf32>
  %yb = kiln.add %bias, %yd : (tensor<3xf32>, tensor<?x?x3xf32>) -> tensor<?x?x3xf32>
  %yg = kiln.gelu %yb : tensor<?x?x3xf32> -> tensor<?x?x3xf32>
  %out = kiln.add %yg, %r : (tensor<?x?x3xf32>, tensor<?x?x3xf32>) -> tensor<?x?x3xf32>
  return %out : tensor<?x?x3xf32>
}

// -----

// Negatives for the epilogue. A value inside the output pair (its
// rounding) is also returned: the pair and what follows stay, the matmul
// alone is the kernel's (flags 704).
// CHECK-LABEL: func.func @qdq_matmul_pair_shared(
// CHECK:         kiln.ukernel "linear_f32"{{.*}}int_params = array<i64: 2, 704, 0>
// CHECK:         kiln.round
// CHECK:         kiln.add
func.func @qdq_matmul_pair_shared(%x: tensor<?x4xf32>) -> (tensor<?x3xf32>, tensor<?x3xf32>) {
  %s = kiln.constant dense<5.000000e-02> : tensor<f32>
  %z = kiln.constant dense<3.000000e+00> : tensor<f32>
  %sy = kiln.constant dense<2.500000e-01> : tensor<f32>
  %zy = kiln.constant dense<1.280000e+02> : tensor<f32>
  %c0 = kiln.constant dense<0.000000e+00> : tensor<f32>
  %c255 = kiln.constant dense<2.550000e+02> : tensor<f32>
  %bias = kiln.constant dense<[0.5, 1.5, 2.5]> : tensor<3xf32>
  %w8 = kiln.constant dense<[[1, -2, 3], [4, 5, -6], [7, 8, 9], [10, 11, 12]]> : tensor<4x3xi8>
  %ws = kiln.constant dense<[[0.1, 0.2, 0.3]]> : tensor<1x3xf32>
  %xs = kiln.div %x, %s : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %xr = kiln.round %xs : tensor<?x4xf32>
  %xz = kiln.add %xr, %z : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %xc = kiln.clip %xz min %c0 max %c255 : (tensor<?x4xf32>, tensor<f32>, tensor<f32>) -> tensor<?x4xf32>
  %q = kiln.cast %xc : tensor<?x4xf32> -> tensor<?x4xui8>
  %qf = kiln.cast %q : tensor<?x4xui8> -> tensor<?x4xf32>
  %qs = kiln.sub %qf, %z : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %xd = kiln.mul %qs, %s : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %wf = kiln.cast %w8 : tensor<4x3xi8> -> tensor<4x3xf32>
  %wd = kiln.mul %wf, %ws : (tensor<4x3xf32>, tensor<1x3xf32>) -> tensor<4x3xf32>
  %y = kiln.matmul %xd, %wd : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %ys = kiln.div %y, %sy : (tensor<?x3xf32>, tensor<f32>) -> tensor<?x3xf32>
  %yr = kiln.round %ys : tensor<?x3xf32>
  %yz = kiln.add %yr, %zy : (tensor<?x3xf32>, tensor<f32>) -> tensor<?x3xf32>
  %yc = kiln.clip %yz min %c0 max %c255 : (tensor<?x3xf32>, tensor<f32>, tensor<f32>) -> tensor<?x3xf32>
  %yq = kiln.cast %yc : tensor<?x3xf32> -> tensor<?x3xui8>
  %yqf = kiln.cast %yq : tensor<?x3xui8> -> tensor<?x3xf32>
  %ysub = kiln.sub %yqf, %zy : (tensor<?x3xf32>, tensor<f32>) -> tensor<?x3xf32>
  %yd = kiln.mul %ysub, %sy : (tensor<?x3xf32>, tensor<f32>) -> tensor<?x3xf32>
  %yb = kiln.add %bias, %yd : (tensor<3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
  return %yb, %yr : tensor<?x3xf32>, tensor<?x3xf32>
}

// -----

// The pair's output is also returned: the pair is the kernel's (704 | 8192
// = 8896), the bias add after it, whose input is still needed, stays.
// CHECK-LABEL: func.func @qdq_matmul_output_shared(
// CHECK:         kiln.ukernel "linear_f32"{{.*}}int_params = array<i64: 2, 8896, 0>
// CHECK-NOT:     kiln.round
// CHECK:         kiln.add
func.func @qdq_matmul_output_shared(%x: tensor<?x4xf32>) -> (tensor<?x3xf32>, tensor<?x3xf32>) {
  %s = kiln.constant dense<5.000000e-02> : tensor<f32>
  %z = kiln.constant dense<3.000000e+00> : tensor<f32>
  %sy = kiln.constant dense<2.500000e-01> : tensor<f32>
  %zy = kiln.constant dense<1.280000e+02> : tensor<f32>
  %c0 = kiln.constant dense<0.000000e+00> : tensor<f32>
  %c255 = kiln.constant dense<2.550000e+02> : tensor<f32>
  %bias = kiln.constant dense<[0.5, 1.5, 2.5]> : tensor<3xf32>
  %w8 = kiln.constant dense<[[1, -2, 3], [4, 5, -6], [7, 8, 9], [10, 11, 12]]> : tensor<4x3xi8>
  %ws = kiln.constant dense<[[0.1, 0.2, 0.3]]> : tensor<1x3xf32>
  %xs = kiln.div %x, %s : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %xr = kiln.round %xs : tensor<?x4xf32>
  %xz = kiln.add %xr, %z : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %xc = kiln.clip %xz min %c0 max %c255 : (tensor<?x4xf32>, tensor<f32>, tensor<f32>) -> tensor<?x4xf32>
  %q = kiln.cast %xc : tensor<?x4xf32> -> tensor<?x4xui8>
  %qf = kiln.cast %q : tensor<?x4xui8> -> tensor<?x4xf32>
  %qs = kiln.sub %qf, %z : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %xd = kiln.mul %qs, %s : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %wf = kiln.cast %w8 : tensor<4x3xi8> -> tensor<4x3xf32>
  %wd = kiln.mul %wf, %ws : (tensor<4x3xf32>, tensor<1x3xf32>) -> tensor<4x3xf32>
  %y = kiln.matmul %xd, %wd : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %ys = kiln.div %y, %sy : (tensor<?x3xf32>, tensor<f32>) -> tensor<?x3xf32>
  %yr = kiln.round %ys : tensor<?x3xf32>
  %yz = kiln.add %yr, %zy : (tensor<?x3xf32>, tensor<f32>) -> tensor<?x3xf32>
  %yc = kiln.clip %yz min %c0 max %c255 : (tensor<?x3xf32>, tensor<f32>, tensor<f32>) -> tensor<?x3xf32>
  %yq = kiln.cast %yc : tensor<?x3xf32> -> tensor<?x3xui8>
  %yqf = kiln.cast %yq : tensor<?x3xui8> -> tensor<?x3xf32>
  %ysub = kiln.sub %yqf, %zy : (tensor<?x3xf32>, tensor<f32>) -> tensor<?x3xf32>
  %yd = kiln.mul %ysub, %sy : (tensor<?x3xf32>, tensor<f32>) -> tensor<?x3xf32>
  %yb = kiln.add %bias, %yd : (tensor<3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
  return %yb, %yd : tensor<?x3xf32>, tensor<?x3xf32>
}

// -----

// Negative: the DequantizeLinear's scale (0.04) is not the
// QuantizeLinear's (0.05), so x is not a QDQ pair: the f32 matmul stays.
// CHECK-LABEL: func.func @qdq_scale_mismatch(
// CHECK-NOT:     kiln.ukernel
// CHECK:         kiln.matmul
func.func @qdq_scale_mismatch(%x: tensor<?x4xf32>) -> tensor<?x3xf32> {
  %s = kiln.constant dense<5.000000e-02> : tensor<f32>
  %s2 = kiln.constant dense<4.000000e-02> : tensor<f32>
  %c0 = kiln.constant dense<0.000000e+00> : tensor<f32>
  %c255 = kiln.constant dense<2.550000e+02> : tensor<f32>
  %w8 = kiln.constant dense<[[1, -2, 3], [4, 5, -6], [7, 8, 9], [10, 11, 12]]> : tensor<4x3xi8>
  %ws = kiln.constant dense<1.000000e-01> : tensor<f32>
  %xs = kiln.div %x, %s : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %xr = kiln.round %xs : tensor<?x4xf32>
  %xc = kiln.clip %xr min %c0 max %c255 : (tensor<?x4xf32>, tensor<f32>, tensor<f32>) -> tensor<?x4xf32>
  %q = kiln.cast %xc : tensor<?x4xf32> -> tensor<?x4xui8>
  %qf = kiln.cast %q : tensor<?x4xui8> -> tensor<?x4xf32>
  %xd = kiln.mul %qf, %s2 : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %wf = kiln.cast %w8 : tensor<4x3xi8> -> tensor<4x3xf32>
  %wd = kiln.mul %wf, %ws : (tensor<4x3xf32>, tensor<f32>) -> tensor<4x3xf32>
  %y = kiln.matmul %xd, %wd : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

// Negative: a weight with a non-zero zero point (asymmetric weights) is
// not what the int8 GEMM's column sums correct for: the matmul stays.
// CHECK-LABEL: func.func @qdq_weight_zero_point(
// CHECK-NOT:     kiln.ukernel
// CHECK:         kiln.matmul
func.func @qdq_weight_zero_point(%x: tensor<?x4xf32>) -> tensor<?x3xf32> {
  %s = kiln.constant dense<5.000000e-02> : tensor<f32>
  %c0 = kiln.constant dense<0.000000e+00> : tensor<f32>
  %c2 = kiln.constant dense<2.000000e+00> : tensor<f32>
  %c255 = kiln.constant dense<2.550000e+02> : tensor<f32>
  %w8 = kiln.constant dense<[[1, -2, 3], [4, 5, -6], [7, 8, 9], [10, 11, 12]]> : tensor<4x3xi8>
  %ws = kiln.constant dense<1.000000e-01> : tensor<f32>
  %xs = kiln.div %x, %s : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %xr = kiln.round %xs : tensor<?x4xf32>
  %xc = kiln.clip %xr min %c0 max %c255 : (tensor<?x4xf32>, tensor<f32>, tensor<f32>) -> tensor<?x4xf32>
  %q = kiln.cast %xc : tensor<?x4xf32> -> tensor<?x4xui8>
  %qf = kiln.cast %q : tensor<?x4xui8> -> tensor<?x4xf32>
  %xd = kiln.mul %qf, %s : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %wf = kiln.cast %w8 : tensor<4x3xi8> -> tensor<4x3xf32>
  %wz = kiln.sub %wf, %c2 : (tensor<4x3xf32>, tensor<f32>) -> tensor<4x3xf32>
  %wd = kiln.mul %wz, %ws : (tensor<4x3xf32>, tensor<f32>) -> tensor<4x3xf32>
  %y = kiln.matmul %xd, %wd : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

// A QDQ convolution as the importer leaves it: QuantizeLinear ->
// DequantizeLinear on x (scale 0.05, zero point 3), a DequantizeLinear of
// an int8 filter per output channel (zero point 0 and scales reshaped to
// [F, 1, 1, 1]), Conv with a bias. On AVX-512 it becomes conv2d_f32 in
// int8 (flags 256 | 1 = 257) on x itself with the int8 filter, the bias
// and the filter's F scales last, float_params (0.05, 3): no Q/DQ pass and
// no f32 filter left. For AVX2 the same convolution runs in f32 on the
// filter dequantized here into a constant (0.1 and 0.2 per filter).
// CHECK-LABEL: func.func @qdq_conv(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x3x8x8xf32>
// CHECK-DAG:     %[[W:.*]] = kiln.constant dense<{{.*}}> : tensor<2x3x3x3xi8>
// CHECK-DAG:     %[[B:.*]] = kiln.constant dense<[5.000000e-01, -5.000000e-01]> : tensor<2xf32>
// CHECK-DAG:     %[[S:.*]] = kiln.constant dense<[1.000000e-01, 2.000000e-01]> : tensor<2xf32>
// CHECK:         kiln.ukernel "conv2d_f32"(%[[X]], %[[W]], %[[B]], %[[S]]) outs(%{{.*}}) {float_params = array<f32: 5.000000e-02, 3.000000e+00>, int_params = array<i64: 2, 257, 0, 1, 1, 1, 1, 1, 1>}
// CHECK-NOT:     kiln.round
// CHECK-NOT:     kiln.conv
// AVX2-LABEL: func.func @qdq_conv(
// AVX2:         %[[WF:.*]] = kiln.constant dense<{{\[\[\[\[}}1.000000e-01, {{.*}}2.000000e-01]]]]> : tensor<2x3x3x3xf32>
// AVX2:         kiln.ukernel "conv2d_f32"(%{{.*}}, %[[WF]], %{{.*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 1, 1, 0, 1, 1, 1, 1, 1, 1>}
// AVX2-NOT:     tensor<2x3x3x3xi8> -> tensor<2x3x3x3xf32>
func.func @qdq_conv(%x: tensor<?x3x8x8xf32>) -> tensor<?x2x8x8xf32> {
  %s = kiln.constant dense<5.000000e-02> : tensor<f32>
  %z = kiln.constant dense<3.000000e+00> : tensor<f32>
  %c0 = kiln.constant dense<0.000000e+00> : tensor<f32>
  %c255 = kiln.constant dense<2.550000e+02> : tensor<f32>
  %w8 = kiln.constant dense<1> : tensor<2x3x3x3xi8>
  %wz = kiln.constant dense<0.000000e+00> : tensor<2x1x1x1xf32>
  %ws = kiln.constant dense<[1.000000e-01, 2.000000e-01]> : tensor<2xf32>
  %shape = kiln.constant dense<[2, 1, 1, 1]> : tensor<4xi64>
  %b = kiln.constant dense<[5.000000e-01, -5.000000e-01]> : tensor<2xf32>
  %xs = kiln.div %x, %s : (tensor<?x3x8x8xf32>, tensor<f32>) -> tensor<?x3x8x8xf32>
  %xr = kiln.round %xs : tensor<?x3x8x8xf32>
  %xz = kiln.add %xr, %z : (tensor<?x3x8x8xf32>, tensor<f32>) -> tensor<?x3x8x8xf32>
  %xc = kiln.clip %xz min %c0 max %c255 : (tensor<?x3x8x8xf32>, tensor<f32>, tensor<f32>) -> tensor<?x3x8x8xf32>
  %q = kiln.cast %xc : tensor<?x3x8x8xf32> -> tensor<?x3x8x8xui8>
  %qf = kiln.cast %q : tensor<?x3x8x8xui8> -> tensor<?x3x8x8xf32>
  %qs = kiln.sub %qf, %z : (tensor<?x3x8x8xf32>, tensor<f32>) -> tensor<?x3x8x8xf32>
  %xd = kiln.mul %qs, %s : (tensor<?x3x8x8xf32>, tensor<f32>) -> tensor<?x3x8x8xf32>
  %wsr = kiln.reshape %ws, %shape : (tensor<2xf32>, tensor<4xi64>) -> tensor<2x1x1x1xf32>
  %wf = kiln.cast %w8 : tensor<2x3x3x3xi8> -> tensor<2x3x3x3xf32>
  %wzs = kiln.sub %wf, %wz : (tensor<2x3x3x3xf32>, tensor<2x1x1x1xf32>) -> tensor<2x3x3x3xf32>
  %wd = kiln.mul %wzs, %wsr : (tensor<2x3x3x3xf32>, tensor<2x1x1x1xf32>) -> tensor<2x3x3x3xf32>
  %y = kiln.conv %xd, %wd bias %b {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x3x8x8xf32>, tensor<2x3x3x3xf32>, tensor<2xf32>) -> tensor<?x2x8x8xf32>
  return %y : tensor<?x2x8x8xf32>
}

// -----

// The int8 convolution's own output QuantizeLinear -> DequantizeLinear
// pair (scale 0.1, zero point 7), then ReLU: both join its epilogue (flags
// 256 | 512 = 768, activation 1), float_params (x's scale and zero point,
// then y's); no pass over the output is left. In @qdq_conv_requant_used
// the pair's quantized value has another use: the pair stays and only the
// convolution is taken (flags 256).
// CHECK-LABEL: func.func @qdq_conv_requant(
// CHECK:         kiln.ukernel "conv2d_f32"(%{{.*}}) outs(%{{.*}}) {float_params = array<f32: 5.000000e-02, 3.000000e+00, 1.000000e-01, 7.000000e+00>, int_params = array<i64: 2, 768, 1, 1, 1, 0, 0, 1, 1>}
// CHECK-NOT:     kiln.round
// CHECK-NOT:     kiln.relu
// CHECK:         return
// CHECK-LABEL: func.func @qdq_conv_requant_used(
// CHECK:         kiln.ukernel "conv2d_f32"(%{{.*}}) outs(%{{.*}}) {float_params = array<f32: 5.000000e-02, 3.000000e+00>, int_params = array<i64: 2, 256, 0, 1, 1, 0, 0, 1, 1>}
// CHECK:         kiln.round
func.func @qdq_conv_requant(%x: tensor<1x4x6x6xf32>) -> tensor<1x2x6x6xf32> {
  %s = kiln.constant dense<5.000000e-02> : tensor<f32>
  %z = kiln.constant dense<3.000000e+00> : tensor<f32>
  %sy = kiln.constant dense<1.000000e-01> : tensor<f32>
  %zy = kiln.constant dense<7.000000e+00> : tensor<f32>
  %c0 = kiln.constant dense<0.000000e+00> : tensor<f32>
  %c255 = kiln.constant dense<2.550000e+02> : tensor<f32>
  %w8 = kiln.constant dense<2> : tensor<2x4x1x1xi8>
  %ws = kiln.constant dense<5.000000e-01> : tensor<f32>
  %xs = kiln.div %x, %s : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %xr = kiln.round %xs : tensor<1x4x6x6xf32>
  %xz = kiln.add %xr, %z : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %xc = kiln.clip %xz min %c0 max %c255 : (tensor<1x4x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %q = kiln.cast %xc : tensor<1x4x6x6xf32> -> tensor<1x4x6x6xui8>
  %qf = kiln.cast %q : tensor<1x4x6x6xui8> -> tensor<1x4x6x6xf32>
  %qs = kiln.sub %qf, %z : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %xd = kiln.mul %qs, %s : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %wf = kiln.cast %w8 : tensor<2x4x1x1xi8> -> tensor<2x4x1x1xf32>
  %wd = kiln.mul %wf, %ws : (tensor<2x4x1x1xf32>, tensor<f32>) -> tensor<2x4x1x1xf32>
  %y = kiln.conv %xd, %wd {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x6x6xf32>, tensor<2x4x1x1xf32>) -> tensor<1x2x6x6xf32>
  %ys = kiln.div %y, %sy : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %yr = kiln.round %ys : tensor<1x2x6x6xf32>
  %yz = kiln.add %yr, %zy : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %yc = kiln.clip %yz min %c0 max %c255 : (tensor<1x2x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %yq = kiln.cast %yc : tensor<1x2x6x6xf32> -> tensor<1x2x6x6xui8>
  %yqf = kiln.cast %yq : tensor<1x2x6x6xui8> -> tensor<1x2x6x6xf32>
  %yqs = kiln.sub %yqf, %zy : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %yd = kiln.mul %yqs, %sy : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %r = kiln.relu %yd : tensor<1x2x6x6xf32>
  return %r : tensor<1x2x6x6xf32>
}
func.func @qdq_conv_requant_used(%x: tensor<1x4x6x6xf32>) -> (tensor<1x2x6x6xf32>, tensor<1x2x6x6xui8>) {
  %s = kiln.constant dense<5.000000e-02> : tensor<f32>
  %z = kiln.constant dense<3.000000e+00> : tensor<f32>
  %sy = kiln.constant dense<1.000000e-01> : tensor<f32>
  %zy = kiln.constant dense<7.000000e+00> : tensor<f32>
  %c0 = kiln.constant dense<0.000000e+00> : tensor<f32>
  %c255 = kiln.constant dense<2.550000e+02> : tensor<f32>
  %w8 = kiln.constant dense<2> : tensor<2x4x1x1xi8>
  %ws = kiln.constant dense<5.000000e-01> : tensor<f32>
  %xs = kiln.div %x, %s : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %xr = kiln.round %xs : tensor<1x4x6x6xf32>
  %xz = kiln.add %xr, %z : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %xc = kiln.clip %xz min %c0 max %c255 : (tensor<1x4x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %q = kiln.cast %xc : tensor<1x4x6x6xf32> -> tensor<1x4x6x6xui8>
  %qf = kiln.cast %q : tensor<1x4x6x6xui8> -> tensor<1x4x6x6xf32>
  %qs = kiln.sub %qf, %z : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %xd = kiln.mul %qs, %s : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %wf = kiln.cast %w8 : tensor<2x4x1x1xi8> -> tensor<2x4x1x1xf32>
  %wd = kiln.mul %wf, %ws : (tensor<2x4x1x1xf32>, tensor<f32>) -> tensor<2x4x1x1xf32>
  %y = kiln.conv %xd, %wd {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x6x6xf32>, tensor<2x4x1x1xf32>) -> tensor<1x2x6x6xf32>
  %ys = kiln.div %y, %sy : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %yr = kiln.round %ys : tensor<1x2x6x6xf32>
  %yz = kiln.add %yr, %zy : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %yc = kiln.clip %yz min %c0 max %c255 : (tensor<1x2x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %yq = kiln.cast %yc : tensor<1x2x6x6xf32> -> tensor<1x2x6x6xui8>
  %yqf = kiln.cast %yq : tensor<1x2x6x6xui8> -> tensor<1x2x6x6xf32>
  %yqs = kiln.sub %yqf, %zy : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %yd = kiln.mul %yqs, %sy : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  return %yd, %yq : tensor<1x2x6x6xf32>, tensor<1x2x6x6xui8>
}

// -----

// Two int8 convolutions in a row (conv -> Q/DQ -> ReLU -> Q/DQ -> conv):
// the first stores its output quantized with the second's scale and zero
// point (flags 256 | 512 | 1024 = 1792, float_params x's, its own y's,
// then the second's (0.025, 9)) into an i8 tensor, which the second reads
// as its quantized input (flags 256 | 2048 = 2304). Where the first's
// output has another reader (@qdq_conv_chain_used, which returns the
// ReLU's output too), both stay f32.
// CHECK-LABEL: func.func @qdq_conv_chain(
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<1x2x6x6xi8>
// CHECK:         %[[Y:.*]] = kiln.ukernel "conv2d_f32"(%{{.*}}) outs(%[[E]]) {float_params = array<f32: 5.000000e-02, 3.000000e+00, 1.000000e-01, 7.000000e+00, 2.500000e-02, 9.000000e+00>, int_params = array<i64: 2, 1792, 1, 1, 1, 0, 0, 1, 1>}
// CHECK:         kiln.ukernel "conv2d_f32"(%[[Y]], {{.*}} {float_params = array<f32: 2.500000e-02, 9.000000e+00>, int_params = array<i64: 2, 2304, 0, 1, 1, 1, 1, 1, 1>}
// CHECK-LABEL: func.func @qdq_conv_chain_used(
// CHECK-NOT:     tensor<1x2x6x6xi8>
// CHECK:         int_params = array<i64: 2, 768, 1,
// CHECK:         int_params = array<i64: 2, 256, 0,
func.func @qdq_conv_chain(%x: tensor<1x4x6x6xf32>) -> tensor<1x2x6x6xf32> {
  %s = kiln.constant dense<5.000000e-02> : tensor<f32>
  %z = kiln.constant dense<3.000000e+00> : tensor<f32>
  %sy = kiln.constant dense<1.000000e-01> : tensor<f32>
  %zy = kiln.constant dense<7.000000e+00> : tensor<f32>
  %s2 = kiln.constant dense<2.500000e-02> : tensor<f32>
  %z2 = kiln.constant dense<9.000000e+00> : tensor<f32>
  %c0 = kiln.constant dense<0.000000e+00> : tensor<f32>
  %c255 = kiln.constant dense<2.550000e+02> : tensor<f32>
  %w8 = kiln.constant dense<2> : tensor<2x4x1x1xi8>
  %v8 = kiln.constant dense<3> : tensor<2x2x3x3xi8>
  %ws = kiln.constant dense<5.000000e-01> : tensor<f32>
  %xs = kiln.div %x, %s : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %xr = kiln.round %xs : tensor<1x4x6x6xf32>
  %xz = kiln.add %xr, %z : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %xc = kiln.clip %xz min %c0 max %c255 : (tensor<1x4x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %q = kiln.cast %xc : tensor<1x4x6x6xf32> -> tensor<1x4x6x6xui8>
  %qf = kiln.cast %q : tensor<1x4x6x6xui8> -> tensor<1x4x6x6xf32>
  %qs = kiln.sub %qf, %z : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %xd = kiln.mul %qs, %s : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %wf = kiln.cast %w8 : tensor<2x4x1x1xi8> -> tensor<2x4x1x1xf32>
  %wd = kiln.mul %wf, %ws : (tensor<2x4x1x1xf32>, tensor<f32>) -> tensor<2x4x1x1xf32>
  %y = kiln.conv %xd, %wd {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x6x6xf32>, tensor<2x4x1x1xf32>) -> tensor<1x2x6x6xf32>
  %ys = kiln.div %y, %sy : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %yr = kiln.round %ys : tensor<1x2x6x6xf32>
  %yz = kiln.add %yr, %zy : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %yc = kiln.clip %yz min %c0 max %c255 : (tensor<1x2x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %yq = kiln.cast %yc : tensor<1x2x6x6xf32> -> tensor<1x2x6x6xui8>
  %yqf = kiln.cast %yq : tensor<1x2x6x6xui8> -> tensor<1x2x6x6xf32>
  %yqs = kiln.sub %yqf, %zy : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %yd = kiln.mul %yqs, %sy : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %r = kiln.relu %yd : tensor<1x2x6x6xf32>
  %rs = kiln.div %r, %s2 : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %rr = kiln.round %rs : tensor<1x2x6x6xf32>
  %rz = kiln.add %rr, %z2 : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %rc = kiln.clip %rz min %c0 max %c255 : (tensor<1x2x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %rq = kiln.cast %rc : tensor<1x2x6x6xf32> -> tensor<1x2x6x6xui8>
  %rqf = kiln.cast %rq : tensor<1x2x6x6xui8> -> tensor<1x2x6x6xf32>
  %rqs = kiln.sub %rqf, %z2 : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %rd = kiln.mul %rqs, %s2 : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %vf = kiln.cast %v8 : tensor<2x2x3x3xi8> -> tensor<2x2x3x3xf32>
  %vd = kiln.mul %vf, %ws : (tensor<2x2x3x3xf32>, tensor<f32>) -> tensor<2x2x3x3xf32>
  %o = kiln.conv %rd, %vd {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x2x6x6xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x6x6xf32>
  return %o : tensor<1x2x6x6xf32>
}
func.func @qdq_conv_chain_used(%x: tensor<1x4x6x6xf32>) -> (tensor<1x2x6x6xf32>, tensor<1x2x6x6xf32>) {
  %s = kiln.constant dense<5.000000e-02> : tensor<f32>
  %z = kiln.constant dense<3.000000e+00> : tensor<f32>
  %sy = kiln.constant dense<1.000000e-01> : tensor<f32>
  %zy = kiln.constant dense<7.000000e+00> : tensor<f32>
  %s2 = kiln.constant dense<2.500000e-02> : tensor<f32>
  %z2 = kiln.constant dense<9.000000e+00> : tensor<f32>
  %c0 = kiln.constant dense<0.000000e+00> : tensor<f32>
  %c255 = kiln.constant dense<2.550000e+02> : tensor<f32>
  %w8 = kiln.constant dense<2> : tensor<2x4x1x1xi8>
  %v8 = kiln.constant dense<3> : tensor<2x2x3x3xi8>
  %ws = kiln.constant dense<5.000000e-01> : tensor<f32>
  %xs = kiln.div %x, %s : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %xr = kiln.round %xs : tensor<1x4x6x6xf32>
  %xz = kiln.add %xr, %z : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %xc = kiln.clip %xz min %c0 max %c255 : (tensor<1x4x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %q = kiln.cast %xc : tensor<1x4x6x6xf32> -> tensor<1x4x6x6xui8>
  %qf = kiln.cast %q : tensor<1x4x6x6xui8> -> tensor<1x4x6x6xf32>
  %qs = kiln.sub %qf, %z : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %xd = kiln.mul %qs, %s : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %wf = kiln.cast %w8 : tensor<2x4x1x1xi8> -> tensor<2x4x1x1xf32>
  %wd = kiln.mul %wf, %ws : (tensor<2x4x1x1xf32>, tensor<f32>) -> tensor<2x4x1x1xf32>
  %y = kiln.conv %xd, %wd {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x6x6xf32>, tensor<2x4x1x1xf32>) -> tensor<1x2x6x6xf32>
  %ys = kiln.div %y, %sy : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %yr = kiln.round %ys : tensor<1x2x6x6xf32>
  %yz = kiln.add %yr, %zy : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %yc = kiln.clip %yz min %c0 max %c255 : (tensor<1x2x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %yq = kiln.cast %yc : tensor<1x2x6x6xf32> -> tensor<1x2x6x6xui8>
  %yqf = kiln.cast %yq : tensor<1x2x6x6xui8> -> tensor<1x2x6x6xf32>
  %yqs = kiln.sub %yqf, %zy : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %yd = kiln.mul %yqs, %sy : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %r = kiln.relu %yd : tensor<1x2x6x6xf32>
  %rs = kiln.div %r, %s2 : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %rr = kiln.round %rs : tensor<1x2x6x6xf32>
  %rz = kiln.add %rr, %z2 : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %rc = kiln.clip %rz min %c0 max %c255 : (tensor<1x2x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %rq = kiln.cast %rc : tensor<1x2x6x6xf32> -> tensor<1x2x6x6xui8>
  %rqf = kiln.cast %rq : tensor<1x2x6x6xui8> -> tensor<1x2x6x6xf32>
  %rqs = kiln.sub %rqf, %z2 : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %rd = kiln.mul %rqs, %s2 : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %vf = kiln.cast %v8 : tensor<2x2x3x3xi8> -> tensor<2x2x3x3xf32>
  %vd = kiln.mul %vf, %ws : (tensor<2x2x3x3xf32>, tensor<f32>) -> tensor<2x2x3x3xf32>
  %o = kiln.conv %rd, %vd {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x2x6x6xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x6x6xf32>
  return %o, %r : tensor<1x2x6x6xf32>, tensor<1x2x6x6xf32>
}
// Negative: the second convolution scales its input by a gate before
// quantizing it (x * g, flag 16): it needs the first one's f32 output, so
// nothing is chained.
// CHECK-LABEL: func.func @qdq_conv_chain_gate(
// CHECK-NOT:     tensor<1x2x6x6xi8>
// CHECK:         int_params = array<i64: 2, 768, 1,
// CHECK:         int_params = array<i64: 2, 272, 0,
func.func @qdq_conv_chain_gate(%x: tensor<1x4x6x6xf32>, %g: tensor<1x2x1x1xf32>) -> tensor<1x2x6x6xf32> {
  %s = kiln.constant dense<5.000000e-02> : tensor<f32>
  %z = kiln.constant dense<3.000000e+00> : tensor<f32>
  %sy = kiln.constant dense<1.000000e-01> : tensor<f32>
  %zy = kiln.constant dense<7.000000e+00> : tensor<f32>
  %s2 = kiln.constant dense<2.500000e-02> : tensor<f32>
  %z2 = kiln.constant dense<9.000000e+00> : tensor<f32>
  %c0 = kiln.constant dense<0.000000e+00> : tensor<f32>
  %c255 = kiln.constant dense<2.550000e+02> : tensor<f32>
  %w8 = kiln.constant dense<2> : tensor<2x4x1x1xi8>
  %v8 = kiln.constant dense<3> : tensor<2x2x3x3xi8>
  %ws = kiln.constant dense<5.000000e-01> : tensor<f32>
  %xs = kiln.div %x, %s : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %xr = kiln.round %xs : tensor<1x4x6x6xf32>
  %xz = kiln.add %xr, %z : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %xc = kiln.clip %xz min %c0 max %c255 : (tensor<1x4x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %q = kiln.cast %xc : tensor<1x4x6x6xf32> -> tensor<1x4x6x6xui8>
  %qf = kiln.cast %q : tensor<1x4x6x6xui8> -> tensor<1x4x6x6xf32>
  %qs = kiln.sub %qf, %z : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %xd = kiln.mul %qs, %s : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %wf = kiln.cast %w8 : tensor<2x4x1x1xi8> -> tensor<2x4x1x1xf32>
  %wd = kiln.mul %wf, %ws : (tensor<2x4x1x1xf32>, tensor<f32>) -> tensor<2x4x1x1xf32>
  %y = kiln.conv %xd, %wd {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x6x6xf32>, tensor<2x4x1x1xf32>) -> tensor<1x2x6x6xf32>
  %ys = kiln.div %y, %sy : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %yr = kiln.round %ys : tensor<1x2x6x6xf32>
  %yz = kiln.add %yr, %zy : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %yc = kiln.clip %yz min %c0 max %c255 : (tensor<1x2x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %yq = kiln.cast %yc : tensor<1x2x6x6xf32> -> tensor<1x2x6x6xui8>
  %yqf = kiln.cast %yq : tensor<1x2x6x6xui8> -> tensor<1x2x6x6xf32>
  %yqs = kiln.sub %yqf, %zy : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %yd = kiln.mul %yqs, %sy : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %r = kiln.relu %yd : tensor<1x2x6x6xf32>
  %rg = kiln.mul %r, %g : (tensor<1x2x6x6xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x6x6xf32>
  %rs = kiln.div %rg, %s2 : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %rr = kiln.round %rs : tensor<1x2x6x6xf32>
  %rz = kiln.add %rr, %z2 : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %rc = kiln.clip %rz min %c0 max %c255 : (tensor<1x2x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %rq = kiln.cast %rc : tensor<1x2x6x6xf32> -> tensor<1x2x6x6xui8>
  %rqf = kiln.cast %rq : tensor<1x2x6x6xui8> -> tensor<1x2x6x6xf32>
  %rqs = kiln.sub %rqf, %z2 : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %rd = kiln.mul %rqs, %s2 : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %vf = kiln.cast %v8 : tensor<2x2x3x3xi8> -> tensor<2x2x3x3xf32>
  %vd = kiln.mul %vf, %ws : (tensor<2x2x3x3xf32>, tensor<f32>) -> tensor<2x2x3x3xf32>
  %o = kiln.conv %rd, %vd {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x2x6x6xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x6x6xf32>
  return %o : tensor<1x2x6x6xf32>
}

// -----

// A squeeze-excite gate before the QuantizeLinear of an int8 convolution's
// input (x * s, s [1, C, 1, 1]): the gate becomes the kernel's input
// scale (flags 256 | 16 = 272, s after the filter's operands and before
// its scales), multiplied in before x is quantized; the product's pass
// goes with the QuantizeLinear it fed.
// CHECK-LABEL: func.func @qdq_conv_gate(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<1x4x6x6xf32>, %[[G:[^:]*]]: tensor<1x4x1x1xf32>
// CHECK:         kiln.ukernel "conv2d_f32"(%[[X]], %{{.*}}, %[[G]], %{{.*}}) outs(%{{.*}}) {float_params = array<f32: 5.000000e-02, 3.000000e+00>, int_params = array<i64: 2, 272, 0, 1, 1, 0, 0, 1, 1>}
// CHECK-NOT:     kiln.mul
func.func @qdq_conv_gate(%x0: tensor<1x4x6x6xf32>, %g: tensor<1x4x1x1xf32>) -> tensor<1x2x6x6xf32> {
  %s = kiln.constant dense<5.000000e-02> : tensor<f32>
  %z = kiln.constant dense<3.000000e+00> : tensor<f32>
  %c0 = kiln.constant dense<0.000000e+00> : tensor<f32>
  %c255 = kiln.constant dense<2.550000e+02> : tensor<f32>
  %w8 = kiln.constant dense<2> : tensor<2x4x1x1xi8>
  %ws = kiln.constant dense<5.000000e-01> : tensor<f32>
  %x = kiln.mul %x0, %g : (tensor<1x4x6x6xf32>, tensor<1x4x1x1xf32>) -> tensor<1x4x6x6xf32>
  %xs = kiln.div %x, %s : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %xr = kiln.round %xs : tensor<1x4x6x6xf32>
  %xz = kiln.add %xr, %z : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %xc = kiln.clip %xz min %c0 max %c255 : (tensor<1x4x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %q = kiln.cast %xc : tensor<1x4x6x6xf32> -> tensor<1x4x6x6xui8>
  %qf = kiln.cast %q : tensor<1x4x6x6xui8> -> tensor<1x4x6x6xf32>
  %qs = kiln.sub %qf, %z : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %xd = kiln.mul %qs, %s : (tensor<1x4x6x6xf32>, tensor<f32>) -> tensor<1x4x6x6xf32>
  %wf = kiln.cast %w8 : tensor<2x4x1x1xi8> -> tensor<2x4x1x1xf32>
  %wd = kiln.mul %wf, %ws : (tensor<2x4x1x1xf32>, tensor<f32>) -> tensor<2x4x1x1xf32>
  %y = kiln.conv %xd, %wd {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x6x6xf32>, tensor<2x4x1x1xf32>) -> tensor<1x2x6x6xf32>
  return %y : tensor<1x2x6x6xf32>
}

// -----

// Negative: a dilated QDQ convolution is not one the int8 kernel takes:
// on AVX-512 too it runs in f32, its filter dequantized into a constant
// here (one scale for the filter: per tensor), its input's Q/DQ pair left.
// CHECK-LABEL: func.func @qdq_conv_dilated(
// CHECK:         %[[WF:.*]] = kiln.constant dense<2.500000e-01> : tensor<2x3x3x3xf32>
// CHECK:         kiln.ukernel "conv2d_f32"(%{{.*}}, %[[WF]]) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 0, 0, 1, 1, 2, 2, 2, 2>}
// CHECK-NOT:     xi8> -> tensor<2x3x3x3xf32>
func.func @qdq_conv_dilated(%x: tensor<1x3x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %s = kiln.constant dense<5.000000e-02> : tensor<f32>
  %c0 = kiln.constant dense<0.000000e+00> : tensor<f32>
  %c255 = kiln.constant dense<2.550000e+02> : tensor<f32>
  %w8 = kiln.constant dense<5> : tensor<2x3x3x3xi8>
  %ws = kiln.constant dense<5.000000e-02> : tensor<f32>
  %xs = kiln.div %x, %s : (tensor<1x3x8x8xf32>, tensor<f32>) -> tensor<1x3x8x8xf32>
  %xr = kiln.round %xs : tensor<1x3x8x8xf32>
  %xc = kiln.clip %xr min %c0 max %c255 : (tensor<1x3x8x8xf32>, tensor<f32>, tensor<f32>) -> tensor<1x3x8x8xf32>
  %q = kiln.cast %xc : tensor<1x3x8x8xf32> -> tensor<1x3x8x8xui8>
  %qf = kiln.cast %q : tensor<1x3x8x8xui8> -> tensor<1x3x8x8xf32>
  %xd = kiln.mul %qf, %s : (tensor<1x3x8x8xf32>, tensor<f32>) -> tensor<1x3x8x8xf32>
  %wf = kiln.cast %w8 : tensor<2x3x3x3xi8> -> tensor<2x3x3x3xf32>
  %wd = kiln.mul %wf, %ws : (tensor<2x3x3x3xf32>, tensor<f32>) -> tensor<2x3x3x3xf32>
  %y = kiln.conv %xd, %wd {dilations = array<i64: 2, 2>, pads = array<i64: 2, 2, 2, 2>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<2x3x3x3xf32>) -> tensor<1x2x8x8xf32>
  return %y : tensor<1x2x8x8xf32>
}

// -----

// Negative: a filter with a non-zero zero point (asymmetric) is not taken
// in int8: the convolution runs in f32 on the dequantized values (here
// folded by the ops' folders: (5 - 2) * 0.05), its input's Q/DQ pair left.
// CHECK-LABEL: func.func @qdq_conv_weight_zero_point(
// CHECK:         %[[WF:.*]] = kiln.constant dense<1.500000e-01> : tensor<2x3x3x3xf32>
// CHECK:         kiln.round
// CHECK:         kiln.ukernel "conv2d_f32"(%{{.*}}, %[[WF]]) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 0, 0,
func.func @qdq_conv_weight_zero_point(%x: tensor<1x3x8x8xf32>) -> tensor<1x2x6x6xf32> {
  %s = kiln.constant dense<5.000000e-02> : tensor<f32>
  %c0 = kiln.constant dense<0.000000e+00> : tensor<f32>
  %c2 = kiln.constant dense<2.000000e+00> : tensor<f32>
  %c255 = kiln.constant dense<2.550000e+02> : tensor<f32>
  %w8 = kiln.constant dense<5> : tensor<2x3x3x3xi8>
  %ws = kiln.constant dense<5.000000e-02> : tensor<f32>
  %xs = kiln.div %x, %s : (tensor<1x3x8x8xf32>, tensor<f32>) -> tensor<1x3x8x8xf32>
  %xr = kiln.round %xs : tensor<1x3x8x8xf32>
  %xc = kiln.clip %xr min %c0 max %c255 : (tensor<1x3x8x8xf32>, tensor<f32>, tensor<f32>) -> tensor<1x3x8x8xf32>
  %q = kiln.cast %xc : tensor<1x3x8x8xf32> -> tensor<1x3x8x8xui8>
  %qf = kiln.cast %q : tensor<1x3x8x8xui8> -> tensor<1x3x8x8xf32>
  %xd = kiln.mul %qf, %s : (tensor<1x3x8x8xf32>, tensor<f32>) -> tensor<1x3x8x8xf32>
  %wf = kiln.cast %w8 : tensor<2x3x3x3xi8> -> tensor<2x3x3x3xf32>
  %wz = kiln.sub %wf, %c2 : (tensor<2x3x3x3xf32>, tensor<f32>) -> tensor<2x3x3x3xf32>
  %wd = kiln.mul %wz, %ws : (tensor<2x3x3x3xf32>, tensor<f32>) -> tensor<2x3x3x3xf32>
  %y = kiln.conv %xd, %wd {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<2x3x3x3xf32>) -> tensor<1x2x6x6xf32>
  return %y : tensor<1x2x6x6xf32>
}

// -----

// 2-D f32 max pooling (ResNet's 3 x 3 / 2 with pad 1, batch dynamic):
// kiln.ukernel "maxpool2d_f32", int_params (isa, kernel h/w, stride h/w,
// pad top/left); the same for the generic isa (0).
// CHECK-LABEL: func.func @maxpool(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x64x112x112xf32>)
// CHECK:         %[[U:.*]] = kiln.ukernel "maxpool2d_f32"(%[[X]]) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 3, 3, 2, 2, 1, 1>} : (tensor<?x64x112x112xf32>, tensor<?x64x56x56xf32>) -> tensor<?x64x56x56xf32>
// CHECK-NOT:     kiln.max_pool
// CHECK:         return %[[U]]
// GENERIC-LABEL: func.func @maxpool(
// GENERIC:         kiln.ukernel "maxpool2d_f32"(%{{.*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 0, 3, 3, 2, 2, 1, 1>}
func.func @maxpool(%x: tensor<?x64x112x112xf32>) -> tensor<?x64x56x56xf32> {
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x64x112x112xf32>) -> tensor<?x64x56x56xf32>
  return %0 : tensor<?x64x56x56xf32>
}

// -----

// Not selected (left to the linalg lowering): a dilated window, 1-D
// pooling, an f16 input.
// CHECK-LABEL: func.func @maxpool_not_selected(
// CHECK-NOT:     kiln.ukernel
// CHECK-COUNT-3: kiln.max_pool
func.func @maxpool_not_selected(%x: tensor<1x8x16x16xf32>, %y: tensor<1x8x16xf32>, %z: tensor<1x8x16x16xf16>) -> (tensor<1x8x6x6xf32>, tensor<1x8x8xf32>, tensor<1x8x8x8xf16>) {
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 2>} : (tensor<1x8x16x16xf32>) -> tensor<1x8x6x6xf32>
  %1 = kiln.max_pool %y {kernel_shape = array<i64: 2>, strides = array<i64: 2>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<1x8x16xf32>) -> tensor<1x8x8xf32>
  %2 = kiln.max_pool %z {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x8x16x16xf16>) -> tensor<1x8x8x8xf16>
  return %0, %1, %2 : tensor<1x8x6x6xf32>, tensor<1x8x8xf32>, tensor<1x8x8x8xf16>
}

// -----

// 2-D f32 average pooling: kiln.ukernel "avgpool2d_f32", int_params (isa,
// kernel h/w, stride h/w, pad top/left, pad bottom/right,
// count_include_pad): Inception's 3 x 3 / 1 with pad 1 counting the pads,
// and a 2 x 2 / 2 ceil_mode window (pads 0 0 1 1) that does not.
// CHECK-LABEL: func.func @avgpool(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x192x35x35xf32>, %[[Y:[^:]*]]: tensor<1x8x15x15xf32>)
// CHECK:         %[[U:.*]] = kiln.ukernel "avgpool2d_f32"(%[[X]]) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 3, 3, 1, 1, 1, 1, 1, 1, 1>} : (tensor<?x192x35x35xf32>, tensor<?x192x35x35xf32>) -> tensor<?x192x35x35xf32>
// CHECK:         %[[V:.*]] = kiln.ukernel "avgpool2d_f32"(%[[Y]]) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 2, 2, 2, 2, 0, 0, 1, 1, 0>} : (tensor<1x8x15x15xf32>, tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
// CHECK-NOT:     kiln.average_pool
// CHECK:         return %[[U]], %[[V]]
// GENERIC-LABEL: func.func @avgpool(
// GENERIC:         kiln.ukernel "avgpool2d_f32"(%{{.*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 0, 3, 3, 1, 1, 1, 1, 1, 1, 1>}
func.func @avgpool(%x: tensor<?x192x35x35xf32>, %y: tensor<1x8x15x15xf32>) -> (tensor<?x192x35x35xf32>, tensor<1x8x8x8xf32>) {
  %0 = kiln.average_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, count_include_pad = true} : (tensor<?x192x35x35xf32>) -> tensor<?x192x35x35xf32>
  %1 = kiln.average_pool %y {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 1, 1>, dilations = array<i64: 1, 1>, ceil_mode = true} : (tensor<1x8x15x15xf32>) -> tensor<1x8x8x8xf32>
  return %0, %1 : tensor<?x192x35x35xf32>, tensor<1x8x8x8xf32>
}

// -----

// Average pooling not selected: a dilated window, 1-D and 3-D pooling.
// CHECK-LABEL: func.func @avgpool_not_selected(
// CHECK-NOT:     kiln.ukernel
// CHECK-COUNT-3: kiln.average_pool
func.func @avgpool_not_selected(%x: tensor<1x8x16x16xf32>, %y: tensor<1x8x16xf32>, %z: tensor<1x8x8x8x8xf32>) -> (tensor<1x8x6x6xf32>, tensor<1x8x8xf32>, tensor<1x8x4x4x4xf32>) {
  %0 = kiln.average_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 2>} : (tensor<1x8x16x16xf32>) -> tensor<1x8x6x6xf32>
  %1 = kiln.average_pool %y {kernel_shape = array<i64: 2>, strides = array<i64: 2>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<1x8x16xf32>) -> tensor<1x8x8xf32>
  %2 = kiln.average_pool %z {kernel_shape = array<i64: 2, 2, 2>, strides = array<i64: 2, 2, 2>, pads = array<i64: 0, 0, 0, 0, 0, 0>, dilations = array<i64: 1, 1, 1>} : (tensor<1x8x8x8x8xf32>) -> tensor<1x8x4x4x4xf32>
  return %0, %1, %2 : tensor<1x8x6x6xf32>, tensor<1x8x8xf32>, tensor<1x8x4x4x4xf32>
}

// -----

// 2-D f32 global average pooling (batch and channels dynamic):
// kiln.ukernel "global_avgpool_f32", int_params (isa). Not selected: a
// 1-D pooling, an f16 input.
// CHECK-LABEL: func.func @global_avgpool(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x?x7x7xf32>
// CHECK:         %[[U:.*]] = kiln.ukernel "global_avgpool_f32"(%[[X]]) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2>} : (tensor<?x?x7x7xf32>, tensor<?x?x1x1xf32>) -> tensor<?x?x1x1xf32>
// CHECK-COUNT-2: kiln.global_average_pool
// CHECK:         return %[[U]]
// GENERIC-LABEL: func.func @global_avgpool(
// GENERIC:         kiln.ukernel "global_avgpool_f32"(%{{.*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 0>}
func.func @global_avgpool(%x: tensor<?x?x7x7xf32>, %y: tensor<1x8x16xf32>, %z: tensor<1x8x4x4xf16>) -> (tensor<?x?x1x1xf32>, tensor<1x8x1xf32>, tensor<1x8x1x1xf16>) {
  %0 = kiln.global_average_pool %x : (tensor<?x?x7x7xf32>) -> tensor<?x?x1x1xf32>
  %1 = kiln.global_average_pool %y : (tensor<1x8x16xf32>) -> tensor<1x8x1xf32>
  %2 = kiln.global_average_pool %z : (tensor<1x8x4x4xf16>) -> tensor<1x8x1x1xf16>
  return %0, %1, %2 : tensor<?x?x1x1xf32>, tensor<1x8x1xf32>, tensor<1x8x1x1xf16>
}

// -----

// A squeeze-excite gate: a 1 x 1 convolution followed by HardSigmoid in
// PyTorch's form (alpha 1/6, beta 1/2) takes it as act 6; with ONNX's
// default alpha (0.2) the HardSigmoid stays.
// CHECK-LABEL: func.func @conv_hard_sigmoid(
// CHECK:         %[[U:.*]] = kiln.ukernel "conv2d_f32"(%{{.*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 1, 6, 1, 1, 0, 0, 1, 1>}
// CHECK-NOT:     kiln.hard_sigmoid
// CHECK:         %[[V:.*]] = kiln.ukernel "conv2d_f32"(%{{.*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 1, 0, 1, 1, 0, 0, 1, 1>}
// CHECK:         kiln.hard_sigmoid %[[V]]
func.func @conv_hard_sigmoid(%x: tensor<?x16x1x1xf32>, %w: tensor<16x16x1x1xf32>, %b: tensor<16xf32>) -> (tensor<?x16x1x1xf32>, tensor<?x16x1x1xf32>) {
  %0 = kiln.conv %x, %w bias %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<?x16x1x1xf32>, tensor<16x16x1x1xf32>, tensor<16xf32>) -> tensor<?x16x1x1xf32>
  %1 = kiln.hard_sigmoid %0 {alpha = 0.166666672 : f32, beta = 5.000000e-01 : f32} : tensor<?x16x1x1xf32> -> tensor<?x16x1x1xf32>
  %2 = kiln.conv %x, %w bias %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<?x16x1x1xf32>, tensor<16x16x1x1xf32>, tensor<16xf32>) -> tensor<?x16x1x1xf32>
  %3 = kiln.hard_sigmoid %2 : tensor<?x16x1x1xf32> -> tensor<?x16x1x1xf32>
  return %1, %3 : tensor<?x16x1x1xf32>, tensor<?x16x1x1xf32>
}

// -----

// SiLU (EfficientNet's, as kiln-fuse-activations writes x * sigmoid(x))
// after a depthwise and after a 1 x 1 convolution: act 4 in both kernels,
// and the depthwise result's global average pool (the squeeze-excite
// input) becomes its second output. A SiLU whose convolution has another
// use stays.
// CHECK-LABEL: func.func @conv_silu(
// CHECK:         %[[D:.*]]:2 = kiln.ukernel "dwconv2d_f32"(%{{.*}}) outs(%{{.*}}, %{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 33, 4, 1, 1, 1, 1, 1, 1>}
// CHECK:         kiln.ukernel "conv2d_f32"(%[[D]]#0, %{{.*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 1, 4, 1, 1, 0, 0, 1, 1>}
// CHECK:         %[[K:.*]] = kiln.ukernel "conv2d_f32"(%[[D]]#0, %{{.*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 1, 0, 1, 1, 0, 0, 1, 1>}
// CHECK:         kiln.silu %[[K]]
func.func @conv_silu(%x: tensor<1x16x7x7xf32>, %wd: tensor<16x1x3x3xf32>, %bd: tensor<16xf32>, %w: tensor<8x16x1x1xf32>, %b: tensor<8xf32>) -> (tensor<1x16x1x1xf32>, tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>) {
  %0 = kiln.conv %x, %wd bias %bd {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 16 : i64} : (tensor<1x16x7x7xf32>, tensor<16x1x3x3xf32>, tensor<16xf32>) -> tensor<1x16x7x7xf32>
  %1 = kiln.silu %0 : tensor<1x16x7x7xf32>
  %2 = kiln.global_average_pool %1 : (tensor<1x16x7x7xf32>) -> tensor<1x16x1x1xf32>
  %3 = kiln.conv %1, %w bias %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x16x7x7xf32>, tensor<8x16x1x1xf32>, tensor<8xf32>) -> tensor<1x8x7x7xf32>
  %4 = kiln.silu %3 : tensor<1x8x7x7xf32>
  %5 = kiln.conv %1, %w bias %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x16x7x7xf32>, tensor<8x16x1x1xf32>, tensor<8xf32>) -> tensor<1x8x7x7xf32>
  %6 = kiln.silu %5 : tensor<1x8x7x7xf32>
  return %2, %4, %5, %6 : tensor<1x16x1x1xf32>, tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>
}

// -----

// Clip after a convolution: to [0, 6] (MobileNetV2's ReLU6) is act 7, to
// [0, +inf) (no max) ReLU (1), both in a depthwise and a 1 x 1 kernel; a
// clip to [0, 4] and one with a bound that is not a constant stay clips.
// CHECK-LABEL: func.func @conv_clip(
// CHECK:         %[[D:.*]] = kiln.ukernel "dwconv2d_f32"(%{{.*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 0, 7, 1, 1, 1, 1, 1, 1>}
// CHECK:         kiln.ukernel "conv2d_f32"(%[[D]], %{{.*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 0, 1, 1, 1, 0, 0, 1, 1>}
// CHECK:         %[[A:.*]] = kiln.ukernel "conv2d_f32"(%[[D]], %{{.*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 0, 0, 1, 1, 0, 0, 1, 1>}
// CHECK:         kiln.clip %[[A]]
// CHECK:         %[[B:.*]] = kiln.ukernel "conv2d_f32"(%[[D]], %{{.*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 0, 0, 1, 1, 0, 0, 1, 1>}
// CHECK:         kiln.clip %[[B]]
func.func @conv_clip(%x: tensor<1x16x7x7xf32>, %wd: tensor<16x1x3x3xf32>, %w: tensor<8x16x1x1xf32>, %hi: tensor<f32>) -> (tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>) {
  %zero = kiln.constant dense<0.0> : tensor<f32>
  %six = kiln.constant dense<6.0> : tensor<f32>
  %four = kiln.constant dense<4.0> : tensor<f32>
  %0 = kiln.conv %x, %wd {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 16 : i64} : (tensor<1x16x7x7xf32>, tensor<16x1x3x3xf32>) -> tensor<1x16x7x7xf32>
  %1 = kiln.clip %0 min %zero max %six : (tensor<1x16x7x7xf32>, tensor<f32>, tensor<f32>) -> tensor<1x16x7x7xf32>
  %2 = kiln.conv %1, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x16x7x7xf32>, tensor<8x16x1x1xf32>) -> tensor<1x8x7x7xf32>
  %3 = kiln.clip %2 min %zero : (tensor<1x8x7x7xf32>, tensor<f32>) -> tensor<1x8x7x7xf32>
  %4 = kiln.conv %1, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x16x7x7xf32>, tensor<8x16x1x1xf32>) -> tensor<1x8x7x7xf32>
  %5 = kiln.clip %4 min %zero max %four : (tensor<1x8x7x7xf32>, tensor<f32>, tensor<f32>) -> tensor<1x8x7x7xf32>
  %6 = kiln.conv %1, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x16x7x7xf32>, tensor<8x16x1x1xf32>) -> tensor<1x8x7x7xf32>
  %7 = kiln.clip %6 min %zero max %hi : (tensor<1x8x7x7xf32>, tensor<f32>, tensor<f32>) -> tensor<1x8x7x7xf32>
  return %3, %5, %7 : tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>
}

// -----

// A batch normalization with constant parameters that no convolution
// absorbed (DenseNet's norm -> ReLU -> conv) becomes "channel_affine_f32"
// with s = scale / sqrt(var + eps) and t = bias - mean * s folded: here
// scale 2, var 3 (eps 1) and mean 1, bias 0.5 give s = 1, t = -0.5; its
// ReLU is act 1. Parameters that are not constants stay a batch_norm.
// CHECK-LABEL: func.func @batch_norm_affine(
// CHECK-DAG:     %[[S:.*]] = kiln.constant dense<1.000000e+00> : tensor<4xf32>
// CHECK-DAG:     %[[T:.*]] = kiln.constant dense<-5.000000e-01> : tensor<4xf32>
// CHECK:         %[[A:.*]] = kiln.ukernel "channel_affine_f32"(%{{.*}}, %[[S]], %[[T]]) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 1>}
// CHECK-NOT:     kiln.relu
// CHECK:         kiln.batch_norm
// CHECK:         return %[[A]]
func.func @batch_norm_affine(%x: tensor<?x4x5x5xf32>, %m: tensor<4xf32>) -> (tensor<?x4x5x5xf32>, tensor<?x4x5x5xf32>) {
  %scale = kiln.constant dense<2.0> : tensor<4xf32>
  %bias = kiln.constant dense<0.5> : tensor<4xf32>
  %mean = kiln.constant dense<1.0> : tensor<4xf32>
  %var = kiln.constant dense<3.0> : tensor<4xf32>
  %0 = kiln.batch_norm %x, %scale, %bias, %mean, %var {epsilon = 1.0 : f32} : (tensor<?x4x5x5xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x4x5x5xf32>
  %1 = kiln.relu %0 : tensor<?x4x5x5xf32>
  %2 = kiln.batch_norm %x, %scale, %bias, %m, %var : (tensor<?x4x5x5xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x4x5x5xf32>
  return %1, %2 : tensor<?x4x5x5xf32>, tensor<?x4x5x5xf32>
}

// -----

// Rank-5 attention (MaxViT's [B, G, H, S, D] windows): the batch dims
// before the heads collapse into one, the kernel runs rank 4 (its last
// param), the result expands back; the [H, S, S] bias stays as the mask.
// A rank-4 mask with a leading dim other than 1 would span the collapsed
// dims: that attention is not selected.
// CHECK-LABEL: func.func @attention_rank5(
// CHECK:         %[[Q:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2], [3], [4]] : tensor<?x4x2x7x8xf32> into tensor<?x2x7x8xf32>
// CHECK:         %[[U:.*]] = kiln.ukernel "attention_f32"(%[[Q]], %{{.*}}, %{{.*}}, %{{.*}}) outs(%{{.*}}) {float_params = array<f32: 5.000000e-01, 0.000000e+00>, int_params = array<i64: 2, 1, 3, 4>}
// CHECK:         tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2], [3], [4]] output_shape [%{{.*}}, 4, 2, 7, 8] : tensor<?x2x7x8xf32> into tensor<?x4x2x7x8xf32>
// CHECK:         kiln.attention
func.func @attention_rank5(%q: tensor<?x4x2x7x8xf32>, %k: tensor<?x4x2x7x8xf32>, %v: tensor<?x4x2x7x8xf32>, %bias: tensor<2x7x7xf32>, %m4: tensor<4x2x7x7xf32>) -> (tensor<?x4x2x7x8xf32>, tensor<?x4x2x7x8xf32>) {
  %0 = kiln.attention %q, %k, %v mask %bias {scale = 5.000000e-01 : f32} : (tensor<?x4x2x7x8xf32>, tensor<?x4x2x7x8xf32>, tensor<?x4x2x7x8xf32>, tensor<2x7x7xf32>) -> tensor<?x4x2x7x8xf32>
  %1 = kiln.attention %q, %k, %v mask %m4 {scale = 5.000000e-01 : f32} : (tensor<?x4x2x7x8xf32>, tensor<?x4x2x7x8xf32>, tensor<?x4x2x7x8xf32>, tensor<4x2x7x7xf32>) -> tensor<?x4x2x7x8xf32>
  return %0, %1 : tensor<?x4x2x7x8xf32>, tensor<?x4x2x7x8xf32>
}

// -----

// GELU after a convolution (MaxViT's MBConv blocks): the erf form is act
// 2, the tanh form act 3.
// CHECK-LABEL: func.func @conv_gelu(
// CHECK:         kiln.ukernel "dwconv2d_f32"(%{{.*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 0, 2, 1, 1, 1, 1, 1, 1>}
// CHECK:         kiln.ukernel "conv2d_f32"(%{{.*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 0, 3, 1, 1, 0, 0, 1, 1>}
// CHECK-NOT:     kiln.gelu
func.func @conv_gelu(%x: tensor<1x16x7x7xf32>, %wd: tensor<16x1x3x3xf32>, %w: tensor<8x16x1x1xf32>) -> tensor<1x8x7x7xf32> {
  %0 = kiln.conv %x, %wd {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 16 : i64} : (tensor<1x16x7x7xf32>, tensor<16x1x3x3xf32>) -> tensor<1x16x7x7xf32>
  %1 = kiln.gelu %0 : tensor<1x16x7x7xf32> -> tensor<1x16x7x7xf32>
  %2 = kiln.conv %1, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x16x7x7xf32>, tensor<8x16x1x1xf32>) -> tensor<1x8x7x7xf32>
  %3 = kiln.gelu %2 {tanh_approx = true} : tensor<1x8x7x7xf32> -> tensor<1x8x7x7xf32>
  return %3 : tensor<1x8x7x7xf32>
}

// -----

// An inverted residual block's expansion (1 x 1, stride 1, no padding,
// bias, ReLU) whose only use is a depthwise convolution the AVX-512 row
// kernel takes (3 x 3 here at stride 1, rows of 56 columns; bias, ReLU):
// one kiln.ukernel "pwdw_f32", int_params (isa, flags 1 | 2 for the two
// biases, act1, act2, stride, pad top, pad left); the expanded tensor is
// never materialized. At stride 2 with a dynamic batch and no biases as
// well. AVX2 keeps the two kernels.
// CHECK-LABEL: func.func @pwdw(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<1x16x56x56xf32>, %[[W1:[^:]*]]: tensor<96x16x1x1xf32>, %[[B1:[^:]*]]: tensor<96xf32>, %[[W2:[^:]*]]: tensor<96x1x3x3xf32>, %[[B2:[^:]*]]: tensor<96xf32>,
// CHECK:         %[[Y:.*]] = kiln.ukernel "pwdw_f32"(%[[X]], %[[W1]], %[[B1]], %[[W2]], %[[B2]]) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 3, 1, 1, 1, 1, 1>}
// CHECK-NOT:     "conv2d_f32"
// CHECK-NOT:     "dwconv2d_f32"
// CHECK:         %[[Z:.*]] = kiln.ukernel "pwdw_f32"(%{{[^,]*}}, %{{[^,]*}}, %{{[^)]*}}) outs(%{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 0, 0, 0, 2, 1, 1>} : (tensor<?x16x112x112xf32>, tensor<96x16x1x1xf32>, tensor<96x1x3x3xf32>, tensor<?x96x56x56xf32>) -> tensor<?x96x56x56xf32>
// CHECK:         return %[[Y]], %[[Z]]
// AVX2-LABEL: func.func @pwdw(
// AVX2-NOT:      "pwdw_f32"
// AVX2:          kiln.ukernel "conv2d_f32"
// AVX2:          kiln.ukernel "dwconv2d_f32"
func.func @pwdw(%x: tensor<1x16x56x56xf32>, %w1: tensor<96x16x1x1xf32>, %b1: tensor<96xf32>, %w2: tensor<96x1x3x3xf32>, %b2: tensor<96xf32>, %xb: tensor<?x16x112x112xf32>) -> (tensor<1x96x56x56xf32>, tensor<?x96x56x56xf32>) {
  %0 = kiln.conv %x, %w1 bias %b1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x16x56x56xf32>, tensor<96x16x1x1xf32>, tensor<96xf32>) -> tensor<1x96x56x56xf32>
  %1 = kiln.relu %0 : tensor<1x96x56x56xf32>
  %2 = kiln.conv %1, %w2 bias %b2 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 96 : i64} : (tensor<1x96x56x56xf32>, tensor<96x1x3x3xf32>, tensor<96xf32>) -> tensor<1x96x56x56xf32>
  %3 = kiln.relu %2 : tensor<1x96x56x56xf32>
  %4 = kiln.conv %xb, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<?x16x112x112xf32>, tensor<96x16x1x1xf32>) -> tensor<?x96x112x112xf32>
  %5 = kiln.conv %4, %w2 {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 96 : i64} : (tensor<?x96x112x112xf32>, tensor<96x1x3x3xf32>) -> tensor<?x96x56x56xf32>
  return %3, %5 : tensor<1x96x56x56xf32>, tensor<?x96x56x56xf32>
}

// -----

// Not fused: an expansion with another use (here returned), a depthwise
// convolution on 14-column rows (the channel-blocked kernel's), one with
// dilation 2, and an expansion at stride 2.
// CHECK-LABEL: func.func @pwdw_not_fused(
// CHECK-NOT:     "pwdw_f32"
// CHECK:         return
func.func @pwdw_not_fused(%x: tensor<1x16x56x56xf32>, %w1: tensor<96x16x1x1xf32>, %w2: tensor<96x1x3x3xf32>, %xs: tensor<1x16x14x14xf32>, %xt: tensor<1x16x112x112xf32>) -> (tensor<1x96x56x56xf32>, tensor<1x96x56x56xf32>, tensor<1x96x14x14xf32>, tensor<1x96x56x56xf32>, tensor<1x96x28x28xf32>) {
  %0 = kiln.conv %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x16x56x56xf32>, tensor<96x16x1x1xf32>) -> tensor<1x96x56x56xf32>
  %1 = kiln.conv %0, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 96 : i64} : (tensor<1x96x56x56xf32>, tensor<96x1x3x3xf32>) -> tensor<1x96x56x56xf32>
  %2 = kiln.conv %xs, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x16x14x14xf32>, tensor<96x16x1x1xf32>) -> tensor<1x96x14x14xf32>
  %3 = kiln.conv %2, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 96 : i64} : (tensor<1x96x14x14xf32>, tensor<96x1x3x3xf32>) -> tensor<1x96x14x14xf32>
  %4 = kiln.conv %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x16x56x56xf32>, tensor<96x16x1x1xf32>) -> tensor<1x96x56x56xf32>
  %5 = kiln.conv %4, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>, dilations = array<i64: 2, 2>, group = 96 : i64} : (tensor<1x96x56x56xf32>, tensor<96x1x3x3xf32>) -> tensor<1x96x56x56xf32>
  %9 = kiln.conv %xt, %w1 {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x16x112x112xf32>, tensor<96x16x1x1xf32>) -> tensor<1x96x56x56xf32>
  %10 = kiln.conv %9, %w2 {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 96 : i64} : (tensor<1x96x56x56xf32>, tensor<96x1x3x3xf32>) -> tensor<1x96x28x28xf32>
  return %0, %1, %3, %5, %10 : tensor<1x96x56x56xf32>, tensor<1x96x56x56xf32>, tensor<1x96x14x14xf32>, tensor<1x96x56x56xf32>, tensor<1x96x28x28xf32>
}

// -----

// A squeeze-excite block's global average pool after the depthwise
// convolution (EfficientNet's blocks): the depthwise kernel takes it as
// its mean (flag 32), then the fused kernel as its own second output
// (flag 4); SiLU (activation 4) after both convolutions.
// CHECK-LABEL: func.func @pwdw_mean(
// CHECK:         %[[F:.*]]:2 = kiln.ukernel "pwdw_f32"(%{{[^)]*}}) outs(%{{.*}}, %{{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 4, 4, 4, 1, 1, 1>}
// CHECK-NOT:     "global_avgpool_f32"
// CHECK:         return %[[F]]#0, %[[F]]#1
func.func @pwdw_mean(%x: tensor<?x16x56x56xf32>, %w1: tensor<96x16x1x1xf32>, %w2: tensor<96x1x3x3xf32>) -> (tensor<?x96x56x56xf32>, tensor<?x96x1x1xf32>) {
  %0 = kiln.conv %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<?x16x56x56xf32>, tensor<96x16x1x1xf32>) -> tensor<?x96x56x56xf32>
  %2 = kiln.silu %0 : tensor<?x96x56x56xf32>
  %3 = kiln.conv %2, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 96 : i64} : (tensor<?x96x56x56xf32>, tensor<96x1x3x3xf32>) -> tensor<?x96x56x56xf32>
  %5 = kiln.silu %3 : tensor<?x96x56x56xf32>
  %6 = kiln.global_average_pool %5 : (tensor<?x96x56x56xf32>) -> tensor<?x96x1x1xf32>
  return %5, %6 : tensor<?x96x56x56xf32>, tensor<?x96x1x1xf32>
}

// -----

// After the int8 rewrites (which match these casts), a QuantizeLinear ->
// DequantizeLinear pair left: clip(round(x / s) + zp, 0, 255) cast to u8
// and back to f32 is the clipped value itself (integral, within u8's
// range), so the casts go and the pair stays in float (its loop
// vectorizes).
// CHECK-LABEL: func.func @qdq_cast_pair(
// CHECK:         %[[C:.*]] = kiln.clip
// CHECK-NOT:     kiln.cast
// CHECK:         kiln.sub %[[C]]
func.func @qdq_cast_pair(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %s = kiln.constant dense<0.5> : tensor<f32>
  %zp = kiln.constant dense<3.0> : tensor<f32>
  %lo = kiln.constant dense<0.0> : tensor<f32>
  %hi = kiln.constant dense<255.0> : tensor<f32>
  %0 = kiln.div %x, %s : (tensor<?x8xf32>, tensor<f32>) -> tensor<?x8xf32>
  %1 = kiln.round %0 : tensor<?x8xf32>
  %2 = kiln.add %1, %zp : (tensor<?x8xf32>, tensor<f32>) -> tensor<?x8xf32>
  %3 = kiln.clip %2 min %lo max %hi : (tensor<?x8xf32>, tensor<f32>, tensor<f32>) -> tensor<?x8xf32>
  %4 = kiln.cast %3 : tensor<?x8xf32> -> tensor<?x8xui8>
  %5 = kiln.cast %4 : tensor<?x8xui8> -> tensor<?x8xf32>
  %6 = kiln.sub %5, %zp : (tensor<?x8xf32>, tensor<f32>) -> tensor<?x8xf32>
  return %6 : tensor<?x8xf32>
}

// -----

// Not folded: bounds past the integer type's range (the cast would wrap),
// a value not known to be integral (the cast truncates), and a cast to a
// float type other than the original's.
// CHECK-LABEL: func.func @cast_pair_kept(
// CHECK-COUNT-6: kiln.cast
func.func @cast_pair_kept(%x: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf16>) {
  %lo = kiln.constant dense<0.0> : tensor<f32>
  %hi = kiln.constant dense<300.0> : tensor<f32>
  %hi2 = kiln.constant dense<255.0> : tensor<f32>
  %r = kiln.round %x : tensor<8xf32>
  %a = kiln.clip %r min %lo max %hi : (tensor<8xf32>, tensor<f32>, tensor<f32>) -> tensor<8xf32>
  %a1 = kiln.cast %a : tensor<8xf32> -> tensor<8xui8>
  %a2 = kiln.cast %a1 : tensor<8xui8> -> tensor<8xf32>
  %b = kiln.clip %x min %lo max %hi2 : (tensor<8xf32>, tensor<f32>, tensor<f32>) -> tensor<8xf32>
  %b1 = kiln.cast %b : tensor<8xf32> -> tensor<8xui8>
  %b2 = kiln.cast %b1 : tensor<8xui8> -> tensor<8xf32>
  %c = kiln.clip %r min %lo max %hi2 : (tensor<8xf32>, tensor<f32>, tensor<f32>) -> tensor<8xf32>
  %c1 = kiln.cast %c : tensor<8xf32> -> tensor<8xui8>
  %c2 = kiln.cast %c1 : tensor<8xui8> -> tensor<8xf16>
  return %a2, %b2, %c2 : tensor<8xf32>, tensor<8xf32>, tensor<8xf16>
}

// -----
// An inverted residual block in QDQ form (MobileNetV2's): 1 x 1 expansion
// -> Q/DQ -> ReLU6 -> Q/DQ -> depthwise 3 x 3 (int8 filter, per-channel
// scales) -> Q/DQ -> 1 x 1 projection, with a dynamic batch (whose
// tensor.dim of each output must not block the chain). The depthwise
// convolution runs in int8 (flag 256: its input's Q/DQ taken in; 512 its
// output's pair), its filter's integers as f32 and its scales last; u8
// tensors between the three (1024 out, 2048 in). For AVX2 the depthwise
// filter is dequantized once and nothing is int8.
// CHECK-LABEL: func.func @qdq_dwconv_chain(
// CHECK-DAG:     %[[WI:.*]] = kiln.constant dense<{{\[\[\[\[}}1.000000e+00, -2.000000e+00, 3.000000e+00], {{.*}}> : tensor<4x1x3x3xf32>
// CHECK-DAG:     %[[WS:.*]] = kiln.constant dense<[1.000000e-01, 2.000000e-01, 3.000000e-01, 4.000000e-01]> : tensor<4xf32>
// CHECK:         %[[E:.*]] = kiln.ukernel "conv2d_f32"({{.*}}) outs(%{{.*}}) {float_params = array<f32: 5.000000e-02, 3.000000e+00, 1.000000e-01, 7.000000e+00, 2.500000e-02, 9.000000e+00>, int_params = array<i64: 2, 1792, 7, 1, 1, 0, 0, 1, 1>} : {{.*}} -> tensor<?x4x6x6xi8>
// CHECK:         %[[D:.*]] = kiln.ukernel "dwconv2d_f32"(%[[E]], %[[WI]], %[[WS]]) outs(%{{.*}}) {float_params = array<f32: 2.500000e-02, 9.000000e+00, 1.250000e-01, 4.000000e+00, 6.250000e-02, 2.000000e+00>, int_params = array<i64: 2, 3840, 0, 1, 1, 1, 1, 1, 1>} : {{.*}} -> tensor<?x4x6x6xi8>
// CHECK:         kiln.ukernel "conv2d_f32"(%[[D]], {{.*}} {float_params = array<f32: 6.250000e-02, 2.000000e+00>, int_params = array<i64: 2, 2304, 0, 1, 1, 0, 0, 1, 1>}
// CHECK-NOT:     kiln.round
// AVX2-LABEL: func.func @qdq_dwconv_chain(
// AVX2:         kiln.constant dense<{{\[\[\[\[}}1.000000e-01, -2.000000e-01, 3.000000e-01], {{.*}}> : tensor<4x1x3x3xf32>
// AVX2:         kiln.ukernel "dwconv2d_f32"({{.*}}) {float_params = array<f32>, int_params = array<i64: 1, 0, 0, 1, 1, 1, 1, 1, 1>}
// AVX2-NOT:     tensor<?x4x6x6xi8>
func.func @qdq_dwconv_chain(%x: tensor<?x4x6x6xf32>) -> tensor<?x2x6x6xf32> {
  %s = kiln.constant dense<5.000000e-02> : tensor<f32>
  %z = kiln.constant dense<3.000000e+00> : tensor<f32>
  %sy = kiln.constant dense<1.000000e-01> : tensor<f32>
  %zy = kiln.constant dense<7.000000e+00> : tensor<f32>
  %s2 = kiln.constant dense<2.500000e-02> : tensor<f32>
  %z2 = kiln.constant dense<9.000000e+00> : tensor<f32>
  %sd = kiln.constant dense<1.250000e-01> : tensor<f32>
  %zd = kiln.constant dense<4.000000e+00> : tensor<f32>
  %s3 = kiln.constant dense<6.250000e-02> : tensor<f32>
  %z3 = kiln.constant dense<2.000000e+00> : tensor<f32>
  %c0 = kiln.constant dense<0.000000e+00> : tensor<f32>
  %c6 = kiln.constant dense<6.000000e+00> : tensor<f32>
  %c255 = kiln.constant dense<2.550000e+02> : tensor<f32>
  %w8 = kiln.constant dense<2> : tensor<4x4x1x1xi8>
  %d8 = kiln.constant dense<[[[[1, -2, 3], [4, 5, 6], [7, 8, 9]]], [[[1, 1, 1], [1, 1, 1], [1, 1, 1]]], [[[2, 2, 2], [2, 2, 2], [2, 2, 2]]], [[[-128, 127, 0], [0, 0, 0], [0, 0, 0]]]]> : tensor<4x1x3x3xi8>
  %dsv = kiln.constant dense<[1.000000e-01, 2.000000e-01, 3.000000e-01, 4.000000e-01]> : tensor<4xf32>
  %dshape = kiln.constant dense<[4, 1, 1, 1]> : tensor<4xi64>
  %v8 = kiln.constant dense<3> : tensor<2x4x1x1xi8>
  %ws = kiln.constant dense<5.000000e-01> : tensor<f32>
  %xs = kiln.div %x, %s : (tensor<?x4x6x6xf32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %xr = kiln.round %xs : tensor<?x4x6x6xf32>
  %xz = kiln.add %xr, %z : (tensor<?x4x6x6xf32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %xc = kiln.clip %xz min %c0 max %c255 : (tensor<?x4x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %q = kiln.cast %xc : tensor<?x4x6x6xf32> -> tensor<?x4x6x6xui8>
  %qf = kiln.cast %q : tensor<?x4x6x6xui8> -> tensor<?x4x6x6xf32>
  %qs = kiln.sub %qf, %z : (tensor<?x4x6x6xf32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %xd = kiln.mul %qs, %s : (tensor<?x4x6x6xf32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %wf = kiln.cast %w8 : tensor<4x4x1x1xi8> -> tensor<4x4x1x1xf32>
  %wd = kiln.mul %wf, %ws : (tensor<4x4x1x1xf32>, tensor<f32>) -> tensor<4x4x1x1xf32>
  %y = kiln.conv %xd, %wd {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x4x6x6xf32>, tensor<4x4x1x1xf32>) -> tensor<?x4x6x6xf32>
  %ys = kiln.div %y, %sy : (tensor<?x4x6x6xf32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %yr = kiln.round %ys : tensor<?x4x6x6xf32>
  %yz = kiln.add %yr, %zy : (tensor<?x4x6x6xf32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %yc = kiln.clip %yz min %c0 max %c255 : (tensor<?x4x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %yq = kiln.cast %yc : tensor<?x4x6x6xf32> -> tensor<?x4x6x6xui8>
  %yqf = kiln.cast %yq : tensor<?x4x6x6xui8> -> tensor<?x4x6x6xf32>
  %yqs = kiln.sub %yqf, %zy : (tensor<?x4x6x6xf32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %yd = kiln.mul %yqs, %sy : (tensor<?x4x6x6xf32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %r = kiln.clip %yd min %c0 max %c6 : (tensor<?x4x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %rs = kiln.div %r, %s2 : (tensor<?x4x6x6xf32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %rr = kiln.round %rs : tensor<?x4x6x6xf32>
  %rz = kiln.add %rr, %z2 : (tensor<?x4x6x6xf32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %rc = kiln.clip %rz min %c0 max %c255 : (tensor<?x4x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %rq = kiln.cast %rc : tensor<?x4x6x6xf32> -> tensor<?x4x6x6xui8>
  %rqf = kiln.cast %rq : tensor<?x4x6x6xui8> -> tensor<?x4x6x6xf32>
  %rqs = kiln.sub %rqf, %z2 : (tensor<?x4x6x6xf32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %rd = kiln.mul %rqs, %s2 : (tensor<?x4x6x6xf32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %dsr = kiln.reshape %dsv, %dshape : (tensor<4xf32>, tensor<4xi64>) -> tensor<4x1x1x1xf32>
  %df = kiln.cast %d8 : tensor<4x1x3x3xi8> -> tensor<4x1x3x3xf32>
  %dd = kiln.mul %df, %dsr : (tensor<4x1x3x3xf32>, tensor<4x1x1x1xf32>) -> tensor<4x1x3x3xf32>
  %g = kiln.conv %rd, %dd {dilations = array<i64: 1, 1>, group = 4 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x4x6x6xf32>, tensor<4x1x3x3xf32>) -> tensor<?x4x6x6xf32>
  %gs = kiln.div %g, %sd : (tensor<?x4x6x6xf32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %gr = kiln.round %gs : tensor<?x4x6x6xf32>
  %gz = kiln.add %gr, %zd : (tensor<?x4x6x6xf32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %gc = kiln.clip %gz min %c0 max %c255 : (tensor<?x4x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %gq = kiln.cast %gc : tensor<?x4x6x6xf32> -> tensor<?x4x6x6xui8>
  %gqf = kiln.cast %gq : tensor<?x4x6x6xui8> -> tensor<?x4x6x6xf32>
  %gqs = kiln.sub %gqf, %zd : (tensor<?x4x6x6xf32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %gd = kiln.mul %gqs, %sd : (tensor<?x4x6x6xf32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %hs = kiln.div %gd, %s3 : (tensor<?x4x6x6xf32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %hr = kiln.round %hs : tensor<?x4x6x6xf32>
  %hz = kiln.add %hr, %z3 : (tensor<?x4x6x6xf32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %hc = kiln.clip %hz min %c0 max %c255 : (tensor<?x4x6x6xf32>, tensor<f32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %hq = kiln.cast %hc : tensor<?x4x6x6xf32> -> tensor<?x4x6x6xui8>
  %hqf = kiln.cast %hq : tensor<?x4x6x6xui8> -> tensor<?x4x6x6xf32>
  %hqs = kiln.sub %hqf, %z3 : (tensor<?x4x6x6xf32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %hd = kiln.mul %hqs, %s3 : (tensor<?x4x6x6xf32>, tensor<f32>) -> tensor<?x4x6x6xf32>
  %vf = kiln.cast %v8 : tensor<2x4x1x1xi8> -> tensor<2x4x1x1xf32>
  %vd = kiln.mul %vf, %ws : (tensor<2x4x1x1xf32>, tensor<f32>) -> tensor<2x4x1x1xf32>
  %o = kiln.conv %hd, %vd {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x4x6x6xf32>, tensor<2x4x1x1xf32>) -> tensor<?x2x6x6xf32>
  return %o : tensor<?x2x6x6xf32>
}

// -----
// Negative: a dilated depthwise convolution of a QDQ model stays f32 (its
// filter dequantized once).
// CHECK-LABEL: func.func @qdq_dwconv_dilated(
// CHECK:         kiln.ukernel "dwconv2d_f32"({{.*}}) {float_params = array<f32>, int_params = array<i64: 2, 0, 0, 1, 1, 2, 2, 2, 2>}
func.func @qdq_dwconv_dilated(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %s = kiln.constant dense<5.000000e-02> : tensor<f32>
  %z = kiln.constant dense<3.000000e+00> : tensor<f32>
  %c0 = kiln.constant dense<0.000000e+00> : tensor<f32>
  %c255 = kiln.constant dense<2.550000e+02> : tensor<f32>
  %d8 = kiln.constant dense<1> : tensor<4x1x3x3xi8>
  %ds = kiln.constant dense<5.000000e-01> : tensor<f32>
  %xs = kiln.div %x, %s : (tensor<1x4x8x8xf32>, tensor<f32>) -> tensor<1x4x8x8xf32>
  %xr = kiln.round %xs : tensor<1x4x8x8xf32>
  %xz = kiln.add %xr, %z : (tensor<1x4x8x8xf32>, tensor<f32>) -> tensor<1x4x8x8xf32>
  %xc = kiln.clip %xz min %c0 max %c255 : (tensor<1x4x8x8xf32>, tensor<f32>, tensor<f32>) -> tensor<1x4x8x8xf32>
  %q = kiln.cast %xc : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xui8>
  %qf = kiln.cast %q : tensor<1x4x8x8xui8> -> tensor<1x4x8x8xf32>
  %qs = kiln.sub %qf, %z : (tensor<1x4x8x8xf32>, tensor<f32>) -> tensor<1x4x8x8xf32>
  %xd = kiln.mul %qs, %s : (tensor<1x4x8x8xf32>, tensor<f32>) -> tensor<1x4x8x8xf32>
  %df = kiln.cast %d8 : tensor<4x1x3x3xi8> -> tensor<4x1x3x3xf32>
  %dd = kiln.mul %df, %ds : (tensor<4x1x3x3xf32>, tensor<f32>) -> tensor<4x1x3x3xf32>
  %g = kiln.conv %xd, %dd {dilations = array<i64: 2, 2>, group = 4 : i64, pads = array<i64: 2, 2, 2, 2>, strides = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x8x8xf32>
  return %g : tensor<1x4x8x8xf32>
}

// -----

// Resize of H and W in linear or nearest mode with static output extents
// -> kiln.ukernel "resize2d_f32", int_params (isa, mode, coordinate
// transformation, nearest mode), float_params (the scales of H and W; 0
// for out / in). PyTorch's sizes form: Concat(Slice(Shape(x), 0, 2),
// [H, W]), N and C taken from x's own shape (the result's C is refined to
// 21 through the shape); scales [1, 1, 2, 2] with align_corners, nearest
// asymmetric floor.
// CHECK-LABEL: func.func @resize(
// CHECK:         kiln.ukernel "resize2d_f32"(%{{.*}}) outs(%{{.*}}) {float_params = array<f32: 0.000000e+00, 0.000000e+00>, int_params = array<i64: 2, 1, 0, 0>} : (tensor<?x21x33x33xf32>, tensor<?x21x520x520xf32>)
// CHECK:         kiln.ukernel "resize2d_f32"(%{{.*}}) outs(%{{.*}}) {float_params = array<f32: 2.000000e+00, 2.000000e+00>, int_params = array<i64: 2, 1, 4, 0>}
// CHECK:         kiln.ukernel "resize2d_f32"(%{{.*}}) outs(%{{.*}}) {float_params = array<f32: 5.000000e-01, 5.000000e-01>, int_params = array<i64: 2, 0, 2, 2>}
// CHECK-NOT:     kiln.resize
// GENERIC-LABEL: func.func @resize(
// GENERIC:         kiln.ukernel "resize2d_f32"(%{{.*}}) outs(%{{.*}}) {float_params = array<f32: 0.000000e+00, 0.000000e+00>, int_params = array<i64: 0, 1, 0, 0>}
func.func @resize(%x: tensor<?x21x33x33xf32>, %z: tensor<?x8x10x10xf32>) -> (tensor<?x?x520x520xf32>, tensor<?x8x20x20xf32>, tensor<?x8x5x5xf32>) {
  %s = kiln.shape %x : (tensor<?x21x33x33xf32>) -> tensor<4xi64>
  %c0 = kiln.constant dense<0> : tensor<1xi64>
  %c2 = kiln.constant dense<2> : tensor<1xi64>
  %c1 = kiln.constant dense<1> : tensor<1xi64>
  %nc = kiln.slice %s, %c0, %c2, %c0, %c1 : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %hw = kiln.constant dense<520> : tensor<2xi64>
  %sz = kiln.concat %nc, %hw {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %y = kiln.resize %x sizes %sz {mode = "linear"} : (tensor<?x21x33x33xf32>, tensor<4xi64>) -> tensor<?x?x520x520xf32>
  %u = kiln.resize %z {mode = "linear", coordinate_transformation_mode = "align_corners", scales = array<f32: 1.0, 1.0, 2.0, 2.0>} : (tensor<?x8x10x10xf32>) -> tensor<?x8x20x20xf32>
  %d = kiln.resize %z {mode = "nearest", coordinate_transformation_mode = "asymmetric", nearest_mode = "floor", scales = array<f32: 1.0, 1.0, 0.5, 0.5>} : (tensor<?x8x10x10xf32>) -> tensor<?x8x5x5xf32>
  return %y, %u, %d : tensor<?x?x520x520xf32>, tensor<?x8x20x20xf32>, tensor<?x8x5x5xf32>
}

// -----

// Not the resize kernel: cubic mode, C resized (scales), sizes whose N is
// not x's (a constant), scales read at run time, a dynamic output extent,
// a rank-3 input.
// CHECK-LABEL: func.func @resize_generic(
// CHECK-NOT:     resize2d_f32
// CHECK-COUNT-6: kiln.resize
// CHECK:         return
func.func @resize_generic(%z: tensor<?x8x10x10xf32>, %w: tensor<2x8x10x10xf32>, %sc: tensor<4xf32>, %r3: tensor<2x8x10xf32>) -> (tensor<?x8x20x20xf32>, tensor<?x16x20x20xf32>, tensor<3x8x20x20xf32>, tensor<?x?x?x?xf32>, tensor<?x8x?x20xf32>, tensor<2x8x20xf32>) {
  %a = kiln.resize %z {mode = "cubic", scales = array<f32: 1.0, 1.0, 2.0, 2.0>} : (tensor<?x8x10x10xf32>) -> tensor<?x8x20x20xf32>
  %b = kiln.resize %z {mode = "linear", scales = array<f32: 1.0, 2.0, 2.0, 2.0>} : (tensor<?x8x10x10xf32>) -> tensor<?x16x20x20xf32>
  %sz = kiln.constant dense<[3, 8, 20, 20]> : tensor<4xi64>
  %c = kiln.resize %w sizes %sz {mode = "linear"} : (tensor<2x8x10x10xf32>, tensor<4xi64>) -> tensor<3x8x20x20xf32>
  %d = kiln.resize %z scales %sc {mode = "linear"} : (tensor<?x8x10x10xf32>, tensor<4xf32>) -> tensor<?x?x?x?xf32>
  %e = kiln.resize %z {mode = "linear", scales = array<f32: 1.0, 1.0, 2.0, 2.0>} : (tensor<?x8x10x10xf32>) -> tensor<?x8x?x20xf32>
  %f = kiln.resize %r3 {mode = "linear", scales = array<f32: 1.0, 1.0, 2.0>} : (tensor<2x8x10xf32>) -> tensor<2x8x20xf32>
  return %a, %b, %c, %d, %e, %f : tensor<?x8x20x20xf32>, tensor<?x16x20x20xf32>, tensor<3x8x20x20xf32>, tensor<?x?x?x?xf32>, tensor<?x8x?x20xf32>, tensor<2x8x20xf32>
}
