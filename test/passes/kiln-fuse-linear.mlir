// RUN: kiln-opt %s -split-input-file -pass-pipeline="builtin.module(func.func(kiln-fuse-linear))" | FileCheck %s

// A dense layer as torch exports nn.Linear on [B, S, K]: a matmul by the
// [K, N] weight, then an add of the [N] bias. Both become one kiln.linear
// with no activation (the default "none" is not printed).
// CHECK-LABEL: func.func @bias(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[B:[^:]*]]: tensor<16xf32>
// CHECK-NEXT:    %[[L:.*]] = kiln.linear %[[X]], %[[W]] bias %[[B]] : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
// CHECK-NOT:     kiln.matmul
// CHECK-NOT:     kiln.add
// CHECK-NEXT:    return %[[L]]
func.func @bias(%x: tensor<2x4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>) -> tensor<2x4x16xf32> {
  %m = kiln.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  %y = kiln.add %m, %b : (tensor<2x4x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
  return %y : tensor<2x4x16xf32>
}

// -----

// The bias on the left of the add.
// CHECK-LABEL: func.func @bias_lhs(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[B:[^:]*]]: tensor<16xf32>
// CHECK-NEXT:    %[[L:.*]] = kiln.linear %[[X]], %[[W]] bias %[[B]] : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
// CHECK-NEXT:    return %[[L]]
func.func @bias_lhs(%x: tensor<2x4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>) -> tensor<2x4x16xf32> {
  %m = kiln.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  %y = kiln.add %b, %m : (tensor<16xf32>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %y : tensor<2x4x16xf32>
}

// -----

// A one-element bias broadcasts over N and is absorbed too.
// CHECK-LABEL: func.func @bias_one_element(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[B:[^:]*]]: tensor<1xf32>
// CHECK-NEXT:    %[[L:.*]] = kiln.linear %[[X]], %[[W]] bias %[[B]] : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<1xf32>) -> tensor<2x4x16xf32>
// CHECK-NEXT:    return %[[L]]
func.func @bias_one_element(%x: tensor<2x4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<1xf32>) -> tensor<2x4x16xf32> {
  %m = kiln.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  %y = kiln.add %m, %b : (tensor<2x4x16xf32>, tensor<1xf32>) -> tensor<2x4x16xf32>
  return %y : tensor<2x4x16xf32>
}

// -----

// Bias, then the erf GELU (BERT's intermediate layer).
// CHECK-LABEL: func.func @bias_gelu(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[B:[^:]*]]: tensor<16xf32>
// CHECK-NEXT:    %[[L:.*]] = kiln.linear %[[X]], %[[W]] bias %[[B]] {activation = "gelu"} : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
// CHECK-NOT:     kiln.gelu
// CHECK-NEXT:    return %[[L]]
func.func @bias_gelu(%x: tensor<2x4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>) -> tensor<2x4x16xf32> {
  %m = kiln.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  %y = kiln.add %m, %b : (tensor<2x4x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
  %g = kiln.gelu %y : tensor<2x4x16xf32> -> tensor<2x4x16xf32>
  return %g : tensor<2x4x16xf32>
}

// -----

// The tanh-approximated GELU (GPT-2's MLP) is "gelu_tanh".
// CHECK-LABEL: func.func @bias_gelu_tanh(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[B:[^:]*]]: tensor<16xf32>
// CHECK-NEXT:    %[[L:.*]] = kiln.linear %[[X]], %[[W]] bias %[[B]] {activation = "gelu_tanh"} : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
// CHECK-NOT:     kiln.gelu
// CHECK-NEXT:    return %[[L]]
func.func @bias_gelu_tanh(%x: tensor<2x4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>) -> tensor<2x4x16xf32> {
  %m = kiln.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  %y = kiln.add %m, %b : (tensor<2x4x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
  %g = kiln.gelu %y {tanh_approx = true} : tensor<2x4x16xf32> -> tensor<2x4x16xf32>
  return %g : tensor<2x4x16xf32>
}

// -----

// Bias, then ReLU.
// CHECK-LABEL: func.func @bias_relu(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[B:[^:]*]]: tensor<16xf32>
// CHECK-NEXT:    %[[L:.*]] = kiln.linear %[[X]], %[[W]] bias %[[B]] {activation = "relu"} : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
// CHECK-NOT:     kiln.relu
// CHECK-NEXT:    return %[[L]]
func.func @bias_relu(%x: tensor<2x4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>) -> tensor<2x4x16xf32> {
  %m = kiln.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  %y = kiln.add %m, %b : (tensor<2x4x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
  %g = kiln.relu %y : tensor<2x4x16xf32>
  return %g : tensor<2x4x16xf32>
}

// -----

// Bias, then SiLU.
// CHECK-LABEL: func.func @bias_silu(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[B:[^:]*]]: tensor<16xf32>
// CHECK-NEXT:    %[[L:.*]] = kiln.linear %[[X]], %[[W]] bias %[[B]] {activation = "silu"} : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
// CHECK-NOT:     kiln.silu
// CHECK-NEXT:    return %[[L]]
func.func @bias_silu(%x: tensor<2x4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>) -> tensor<2x4x16xf32> {
  %m = kiln.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  %y = kiln.add %m, %b : (tensor<2x4x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
  %g = kiln.silu %y : tensor<2x4x16xf32>
  return %g : tensor<2x4x16xf32>
}

// -----

// An activation right after the matmul (no bias) is absorbed on its own.
// CHECK-LABEL: func.func @relu_no_bias(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>
// CHECK-NEXT:    %[[L:.*]] = kiln.linear %[[X]], %[[W]] {activation = "relu"} : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
// CHECK-NEXT:    return %[[L]]
func.func @relu_no_bias(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %m = kiln.matmul %x, %w : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %r = kiln.relu %m : tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

// Bias, then a residual of the result's shape (the attention output
// projection + skip connection); the residual is on the left here.
// CHECK-LABEL: func.func @bias_residual(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[B:[^:]*]]: tensor<16xf32>, %[[R:[^:]*]]: tensor<2x4x16xf32>
// CHECK-NEXT:    %[[L:.*]] = kiln.linear %[[X]], %[[W]] bias %[[B]] residual %[[R]] : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
// CHECK-NOT:     kiln.add
// CHECK-NEXT:    return %[[L]]
func.func @bias_residual(%x: tensor<2x4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>, %r: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
  %m = kiln.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  %y = kiln.add %m, %b : (tensor<2x4x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
  %z = kiln.add %r, %y : (tensor<2x4x16xf32>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %z : tensor<2x4x16xf32>
}

// -----

// A residual straight after the matmul (no bias): an add of a full-shape
// tensor is the residual, not a bias.
// CHECK-LABEL: func.func @residual_no_bias(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[R:[^:]*]]: tensor<2x4x16xf32>
// CHECK-NEXT:    %[[L:.*]] = kiln.linear %[[X]], %[[W]] residual %[[R]] : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
// CHECK-NEXT:    return %[[L]]
func.func @residual_no_bias(%x: tensor<2x4x8xf32>, %w: tensor<8x16xf32>, %r: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
  %m = kiln.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  %z = kiln.add %m, %r : (tensor<2x4x16xf32>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %z : tensor<2x4x16xf32>
}

// -----

// The whole epilogue: bias, GELU, then the residual (added after the
// activation).
// CHECK-LABEL: func.func @bias_gelu_residual(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[B:[^:]*]]: tensor<16xf32>, %[[R:[^:]*]]: tensor<2x4x16xf32>
// CHECK-NEXT:    %[[L:.*]] = kiln.linear %[[X]], %[[W]] bias %[[B]] residual %[[R]] {activation = "gelu"} : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
// CHECK-NOT:     kiln.gelu
// CHECK-NOT:     kiln.add
// CHECK-NEXT:    return %[[L]]
func.func @bias_gelu_residual(%x: tensor<2x4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>, %r: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
  %m = kiln.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  %y = kiln.add %m, %b : (tensor<2x4x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
  %g = kiln.gelu %y : tensor<2x4x16xf32> -> tensor<2x4x16xf32>
  %z = kiln.add %g, %r : (tensor<2x4x16xf32>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %z : tensor<2x4x16xf32>
}

// -----

// Gemm's transB / torch's weight.T: the transpose of the [N, K] weight is
// not materialized; kiln.linear reads %w directly with transpose_weight.
// CHECK-LABEL: func.func @transposed_weight_bias(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x4x8xf32>, %[[W:[^:]*]]: tensor<16x8xf32>, %[[B:[^:]*]]: tensor<16xf32>
// CHECK-NEXT:    %[[L:.*]] = kiln.linear %[[X]], %[[W]] bias %[[B]] {transpose_weight = true} : (tensor<2x4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
// CHECK-NOT:     kiln.transpose
// CHECK-NEXT:    return %[[L]]
func.func @transposed_weight_bias(%x: tensor<2x4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>) -> tensor<2x4x16xf32> {
  %wt = kiln.transpose %w {perm = array<i64: 1, 0>} : (tensor<16x8xf32>) -> tensor<8x16xf32>
  %m = kiln.matmul %x, %wt : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  %y = kiln.add %m, %b : (tensor<2x4x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
  return %y : tensor<2x4x16xf32>
}

// -----

// A transposed weight alone is worth fusing: no epilogue, but the run-time
// transpose goes away.
// CHECK-LABEL: func.func @transposed_weight_only(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<4x8xf32>, %[[W:[^:]*]]: tensor<16x8xf32>
// CHECK-NEXT:    %[[L:.*]] = kiln.linear %[[X]], %[[W]] {transpose_weight = true} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
// CHECK-NOT:     kiln.transpose
// CHECK-NOT:     kiln.matmul
// CHECK-NEXT:    return %[[L]]
func.func @transposed_weight_only(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x16xf32> {
  %wt = kiln.transpose %w {perm = array<i64: 1, 0>} : (tensor<16x8xf32>) -> tensor<8x16xf32>
  %m = kiln.matmul %x, %wt : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  return %m : tensor<4x16xf32>
}

// -----

// The transposed weight has another use: the transpose stays for it, the
// linear still reads %w directly.
// CHECK-LABEL: func.func @transposed_weight_reused(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<4x8xf32>, %[[W:[^:]*]]: tensor<16x8xf32>
// CHECK-NEXT:    %[[WT:.*]] = kiln.transpose %[[W]] {perm = array<i64: 1, 0>}
// CHECK-NEXT:    %[[L:.*]] = kiln.linear %[[X]], %[[W]] {transpose_weight = true} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
// CHECK-NEXT:    return %[[L]], %[[WT]]
func.func @transposed_weight_reused(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> (tensor<4x16xf32>, tensor<8x16xf32>) {
  %wt = kiln.transpose %w {perm = array<i64: 1, 0>} : (tensor<16x8xf32>) -> tensor<8x16xf32>
  %m = kiln.matmul %x, %wt : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  return %m, %wt : tensor<4x16xf32>, tensor<8x16xf32>
}

// -----

// Negative: a plain matmul with nothing to absorb stays a matmul.
// CHECK-LABEL: func.func @no_epilogue(
// CHECK-NOT:     kiln.linear
// CHECK:         kiln.matmul
func.func @no_epilogue(%x: tensor<2x4x8xf32>, %w: tensor<8x16xf32>) -> tensor<2x4x16xf32> {
  %m = kiln.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  return %m : tensor<2x4x16xf32>
}

// -----

// Negative: the matmul result is also returned, so the bias add cannot be
// folded into it: matmul and add both stay.
// CHECK-LABEL: func.func @matmul_reused(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[B:[^:]*]]: tensor<16xf32>
// CHECK-NOT:     kiln.linear
// CHECK-NEXT:    %[[M:.*]] = kiln.matmul %[[X]], %[[W]]
// CHECK-NEXT:    %[[Y:.*]] = kiln.add %[[M]], %[[B]]
// CHECK-NEXT:    return %[[Y]], %[[M]]
func.func @matmul_reused(%x: tensor<2x4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>) -> (tensor<2x4x16xf32>, tensor<2x4x16xf32>) {
  %m = kiln.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  %y = kiln.add %m, %b : (tensor<2x4x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
  return %y, %m : tensor<2x4x16xf32>, tensor<2x4x16xf32>
}

// -----

// Negative: a 2-D addend [S, N] is neither a bias nor a residual of the
// result's shape.
// CHECK-LABEL: func.func @bias_2d(
// CHECK-NOT:     kiln.linear
// CHECK:         kiln.matmul
// CHECK-NEXT:    kiln.add
func.func @bias_2d(%x: tensor<2x4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<4x16xf32>) -> tensor<2x4x16xf32> {
  %m = kiln.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  %y = kiln.add %m, %b : (tensor<2x4x16xf32>, tensor<4x16xf32>) -> tensor<2x4x16xf32>
  return %y : tensor<2x4x16xf32>
}

// -----

// Negative: the same with a [1, N] bias (rank 2, even if it broadcasts like
// a bias).
// CHECK-LABEL: func.func @bias_1xn(
// CHECK-NOT:     kiln.linear
// CHECK:         kiln.matmul
// CHECK-NEXT:    kiln.add
func.func @bias_1xn(%x: tensor<2x4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<1x16xf32>) -> tensor<2x4x16xf32> {
  %m = kiln.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  %y = kiln.add %m, %b : (tensor<2x4x16xf32>, tensor<1x16xf32>) -> tensor<2x4x16xf32>
  return %y : tensor<2x4x16xf32>
}

// -----

// Negative: a 1-D addend of the wrong length: 16 is not N = 1, and the add
// broadcasts the [4, 1] matmul result up to [4, 16], which a linear cannot
// produce.
// CHECK-LABEL: func.func @bias_wrong_length(
// CHECK-NOT:     kiln.linear
// CHECK:         kiln.matmul
// CHECK-NEXT:    kiln.add
func.func @bias_wrong_length(%x: tensor<4x8xf32>, %w: tensor<8x1xf32>, %b: tensor<16xf32>) -> tensor<4x16xf32> {
  %m = kiln.matmul %x, %w : (tensor<4x8xf32>, tensor<8x1xf32>) -> tensor<4x1xf32>
  %y = kiln.add %m, %b : (tensor<4x1xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// Negative: a batched matmul by a 3-D right operand (attention's scores,
// Q . K^T) is not a dense layer.
// CHECK-LABEL: func.func @batched_weight(
// CHECK-NOT:     kiln.linear
// CHECK:         kiln.matmul
// CHECK-NEXT:    kiln.add
func.func @batched_weight(%q: tensor<4x8x16xf32>, %kt: tensor<4x16x8xf32>, %b: tensor<8xf32>) -> tensor<4x8x8xf32> {
  %m = kiln.matmul %q, %kt : (tensor<4x8x16xf32>, tensor<4x16x8xf32>) -> tensor<4x8x8xf32>
  %y = kiln.add %m, %b : (tensor<4x8x8xf32>, tensor<8xf32>) -> tensor<4x8x8xf32>
  return %y : tensor<4x8x8xf32>
}

// -----

// Negative: kiln.linear is float only; an integer matmul and its bias stay.
// CHECK-LABEL: func.func @integer_matmul(
// CHECK-NOT:     kiln.linear
// CHECK:         kiln.matmul
// CHECK-NEXT:    kiln.add
func.func @integer_matmul(%x: tensor<4x8xi32>, %w: tensor<8x16xi32>, %b: tensor<16xi32>) -> tensor<4x16xi32> {
  %m = kiln.matmul %x, %w : (tensor<4x8xi32>, tensor<8x16xi32>) -> tensor<4x16xi32>
  %y = kiln.add %m, %b : (tensor<4x16xi32>, tensor<16xi32>) -> tensor<4x16xi32>
  return %y : tensor<4x16xi32>
}

// -----

// The pre-activation value is also returned: the chain stops at the bias.
// The linear (bias only) feeds both the GELU, which stays, and the return.
// CHECK-LABEL: func.func @activation_input_reused(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[B:[^:]*]]: tensor<16xf32>
// CHECK-NEXT:    %[[L:.*]] = kiln.linear %[[X]], %[[W]] bias %[[B]] : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
// CHECK-NEXT:    %[[G:.*]] = kiln.gelu %[[L]] : tensor<2x4x16xf32> -> tensor<2x4x16xf32>
// CHECK-NEXT:    return %[[G]], %[[L]]
func.func @activation_input_reused(%x: tensor<2x4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>) -> (tensor<2x4x16xf32>, tensor<2x4x16xf32>) {
  %m = kiln.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  %y = kiln.add %m, %b : (tensor<2x4x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
  %g = kiln.gelu %y : tensor<2x4x16xf32> -> tensor<2x4x16xf32>
  return %g, %y : tensor<2x4x16xf32>, tensor<2x4x16xf32>
}

// -----

// A second add after the bias that broadcasts ([S, N], not the result's
// shape) is not a residual: the linear takes the bias, the add stays.
// CHECK-LABEL: func.func @residual_broadcasts(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[B:[^:]*]]: tensor<16xf32>, %[[R:[^:]*]]: tensor<4x16xf32>
// CHECK-NEXT:    %[[L:.*]] = kiln.linear %[[X]], %[[W]] bias %[[B]] : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
// CHECK-NEXT:    %[[Z:.*]] = kiln.add %[[L]], %[[R]]
// CHECK-NEXT:    return %[[Z]]
func.func @residual_broadcasts(%x: tensor<2x4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>, %r: tensor<4x16xf32>) -> tensor<2x4x16xf32> {
  %m = kiln.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  %y = kiln.add %m, %b : (tensor<2x4x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
  %z = kiln.add %y, %r : (tensor<2x4x16xf32>, tensor<4x16xf32>) -> tensor<2x4x16xf32>
  return %z : tensor<2x4x16xf32>
}

// -----

// Negative: a transpose that is not [1, 0] (here the identity, which only a
// standalone run of this pass sees) is not a transposed weight; the square
// weight would make a wrong transpose_weight silently valid.
// CHECK-LABEL: func.func @identity_transpose_not_absorbed(
// CHECK-NOT:     kiln.linear
// CHECK:         kiln.matmul %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<8x8xf32>)
// CHECK-NOT:     kiln.linear
func.func @identity_transpose_not_absorbed(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> tensor<4x8xf32> {
  %wt = kiln.transpose %w {perm = array<i64: 0, 1>} : (tensor<8x8xf32>) -> tensor<8x8xf32>
  %m = kiln.matmul %x, %wt : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  return %m : tensor<4x8xf32>
}

// -----

// GPT-2's Conv1D: the input's leading dims are flattened around the addmm
// and restored after it (from Shape/Gather/Concat). The linear applies to
// the unflattened input, so the GELU after the restoring reshape fuses too.
// CHECK-LABEL: func.func @conv1d_unflatten(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x?x64xf32>
// CHECK-NOT:     kiln.reshape
// CHECK:         %[[L:.*]] = kiln.linear %[[X]], %{{.*}} bias %{{.*}} {activation = "gelu_tanh"} : (tensor<?x?x64xf32>, tensor<64x256xf32>, tensor<256xf32>) -> tensor<?x?x256xf32>
// CHECK-NEXT:    return %[[L]]
func.func @conv1d_unflatten(%x: tensor<?x?x64xf32>, %w: tensor<64x256xf32>, %b: tensor<256xf32>) -> tensor<?x?x256xf32> {
  %flat_shape = kiln.constant dense<[-1, 64]> : tensor<2xi64>
  %flat = kiln.reshape %x, %flat_shape : (tensor<?x?x64xf32>, tensor<2xi64>) -> tensor<?x64xf32>
  %mm = kiln.matmul %flat, %w : (tensor<?x64xf32>, tensor<64x256xf32>) -> tensor<?x256xf32>
  %add = kiln.add %b, %mm : (tensor<256xf32>, tensor<?x256xf32>) -> tensor<?x256xf32>
  %s = kiln.shape %x {end = 2 : i64} : (tensor<?x?x64xf32>) -> tensor<2xi64>
  %n = kiln.constant dense<256> : tensor<1xi64>
  %shape = kiln.concat %s, %n {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<3xi64>
  %y = kiln.reshape %add, %shape : (tensor<?x256xf32>, tensor<3xi64>) -> tensor<?x?x256xf32>
  %g = kiln.gelu %y {tanh_approx = true} : tensor<?x?x256xf32> -> tensor<?x?x256xf32>
  return %g : tensor<?x?x256xf32>
}

// -----

// Negative: the restoring reshape takes its leading dims from another tensor
// (not provably the input's), so the flatten stays.
// CHECK-LABEL: func.func @conv1d_other_dims(
// CHECK:         kiln.reshape
// CHECK:         kiln.linear %{{.*}}, %{{.*}} bias %{{.*}} : (tensor<?x64xf32>
// CHECK:         kiln.reshape
func.func @conv1d_other_dims(%x: tensor<?x?x64xf32>, %other: tensor<?x?x8xf32>, %w: tensor<64x256xf32>, %b: tensor<256xf32>) -> tensor<?x?x256xf32> {
  %flat_shape = kiln.constant dense<[-1, 64]> : tensor<2xi64>
  %flat = kiln.reshape %x, %flat_shape : (tensor<?x?x64xf32>, tensor<2xi64>) -> tensor<?x64xf32>
  %mm = kiln.matmul %flat, %w : (tensor<?x64xf32>, tensor<64x256xf32>) -> tensor<?x256xf32>
  %add = kiln.add %b, %mm : (tensor<256xf32>, tensor<?x256xf32>) -> tensor<?x256xf32>
  %s = kiln.shape %other {end = 2 : i64} : (tensor<?x?x8xf32>) -> tensor<2xi64>
  %n = kiln.constant dense<256> : tensor<1xi64>
  %shape = kiln.concat %s, %n {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<3xi64>
  %y = kiln.reshape %add, %shape : (tensor<?x256xf32>, tensor<3xi64>) -> tensor<?x?x256xf32>
  return %y : tensor<?x?x256xf32>
}

// -----

// An existing kiln.linear absorbs a following activation, then a residual
// add (ExtendLinear).
// CHECK-LABEL: func.func @extend_linear(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[B:[^:]*]]: tensor<16xf32>, %[[R:[^:]*]]: tensor<4x16xf32>)
// CHECK-NEXT:    %[[L:.*]] = kiln.linear %[[X]], %[[W]] bias %[[B]] residual %[[R]] {activation = "relu"}
// CHECK-NEXT:    return %[[L]]
func.func @extend_linear(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>, %r: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %l = kiln.linear %x, %w bias %b : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %a = kiln.relu %l : tensor<4x16xf32>
  %y = kiln.add %a, %r : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// Negative (ExtendLinear): the linear's result is also returned, so the
// activation stays a separate op.
// CHECK-LABEL: func.func @extend_linear_other_use(
// CHECK:         %[[L:.*]] = kiln.linear
// CHECK-NOT:     activation
// CHECK:         kiln.relu %[[L]]
func.func @extend_linear_other_use(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %l = kiln.linear %x, %w bias %b : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %a = kiln.relu %l : tensor<4x16xf32>
  return %a, %l : tensor<4x16xf32>, tensor<4x16xf32>
}
