// RUN: kiln-opt %s -split-input-file -verify-diagnostics

// A valid dense layer on [B, S, K] with everything: a transposed [N, K]
// weight, an [N] bias, an activation and a residual of the result's shape.
func.func @valid_full(%x: tensor<2x4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>, %r: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
  %0 = kiln.linear %x, %w bias %b residual %r {transpose_weight = true, activation = "gelu_tanh"} : (tensor<2x4x8xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %0 : tensor<2x4x16xf32>
}

// -----

// Valid: a rank-1 input, a one-element bias that broadcasts over N, every
// activation name.
func.func @valid_rank1_activations(%x: tensor<8xf16>, %w: tensor<8x16xf16>, %b: tensor<1xf16>) -> tensor<16xf16> {
  %0 = kiln.linear %x, %w bias %b : (tensor<8xf16>, tensor<8x16xf16>, tensor<1xf16>) -> tensor<16xf16>
  %1 = kiln.linear %x, %w {activation = "none"} : (tensor<8xf16>, tensor<8x16xf16>) -> tensor<16xf16>
  %2 = kiln.linear %x, %w {activation = "relu"} : (tensor<8xf16>, tensor<8x16xf16>) -> tensor<16xf16>
  %3 = kiln.linear %x, %w {activation = "gelu"} : (tensor<8xf16>, tensor<8x16xf16>) -> tensor<16xf16>
  %4 = kiln.linear %x, %w {activation = "silu"} : (tensor<8xf16>, tensor<8x16xf16>) -> tensor<16xf16>
  return %0 : tensor<16xf16>
}

// -----

// Valid: dynamic dims are not checked against each other (the contracting
// dims and the bias length are left to run time).
func.func @valid_dynamic(%x: tensor<?x?xf32>, %w: tensor<?x?xf32>, %b: tensor<?xf32>, %r: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %0 = kiln.linear %x, %w bias %b residual %r : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @weight_rank_3(%x: tensor<4x8xf32>, %w: tensor<2x8x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'kiln.linear' op input must have rank >= 1 and weight rank 2, got tensor<4x8xf32> and tensor<2x8x16xf32>}}
  %0 = kiln.linear %x, %w : (tensor<4x8xf32>, tensor<2x8x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @weight_rank_1(%x: tensor<4x8xf32>, %w: tensor<8xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.linear' op input must have rank >= 1 and weight rank 2, got tensor<4x8xf32> and tensor<8xf32>}}
  %0 = kiln.linear %x, %w : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @input_rank_0(%x: tensor<f32>, %w: tensor<8x16xf32>) -> tensor<16xf32> {
  // expected-error @+1 {{'kiln.linear' op input must have rank >= 1 and weight rank 2, got tensor<f32> and tensor<8x16xf32>}}
  %0 = kiln.linear %x, %w : (tensor<f32>, tensor<8x16xf32>) -> tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

func.func @element_types_differ(%x: tensor<4x8xf32>, %w: tensor<8x16xf16>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'kiln.linear' op input and weight must share a float type}}
  %0 = kiln.linear %x, %w : (tensor<4x8xf32>, tensor<8x16xf16>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @integer_elements(%x: tensor<4x8xi32>, %w: tensor<8x16xi32>) -> tensor<4x16xi32> {
  // expected-error @+1 {{'kiln.linear' op input and weight must share a float type}}
  %0 = kiln.linear %x, %w : (tensor<4x8xi32>, tensor<8x16xi32>) -> tensor<4x16xi32>
  return %0 : tensor<4x16xi32>
}

// -----

func.func @contracting_dims_differ(%x: tensor<4x8xf32>, %w: tensor<10x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'kiln.linear' op contracting dims differ: input tensor<4x8xf32>, weight tensor<10x16xf32>}}
  %0 = kiln.linear %x, %w : (tensor<4x8xf32>, tensor<10x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// With transpose_weight the weight is [N, K]: an untransposed [K, N] weight
// contracts over the wrong dim.
func.func @contracting_dims_transposed(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'kiln.linear' op contracting dims differ: input tensor<4x8xf32>, weight tensor<8x16xf32>}}
  %0 = kiln.linear %x, %w {transpose_weight = true} : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @bias_2d(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<1x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'kiln.linear' op bias must be 1-D [N] of the input type, got tensor<1x16xf32>}}
  %0 = kiln.linear %x, %w bias %b : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<1x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @bias_wrong_length(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<8xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'kiln.linear' op bias must be 1-D [N] of the input type, got tensor<8xf32>}}
  %0 = kiln.linear %x, %w bias %b : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// N of a transposed weight is its first dim (16), not its last (8).
func.func @bias_wrong_length_transposed(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<8xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'kiln.linear' op bias must be 1-D [N] of the input type, got tensor<8xf32>}}
  %0 = kiln.linear %x, %w bias %b {transpose_weight = true} : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<8xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @bias_element_type(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf16>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'kiln.linear' op bias must be 1-D [N] of the input type, got tensor<16xf16>}}
  %0 = kiln.linear %x, %w bias %b : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xf16>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// The residual is added to the result as is: it must have the result's
// shape, not one that broadcasts to it.
func.func @residual_broadcasts(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>, %r: tensor<1x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'kiln.linear' op residual tensor<1x16xf32> does not have the result type tensor<4x16xf32>}}
  %0 = kiln.linear %x, %w residual %r : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<1x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @residual_element_type(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>, %r: tensor<4x16xf16>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'kiln.linear' op residual tensor<4x16xf16> does not have the result type tensor<4x16xf32>}}
  %0 = kiln.linear %x, %w residual %r : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf16>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @unknown_activation(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'kiln.linear' op unknown activation 'tanh'}}
  %0 = kiln.linear %x, %w {activation = "tanh"} : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// The result is [..., N]: a result with K instead of N is rejected.
func.func @wrong_result_type(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>) -> tensor<4x8xf32> {
  // expected-error @+2 {{'kiln.linear' op inferred type(s) 'tensor<4x16xf32>' are incompatible with return type(s) of operation 'tensor<4x8xf32>'}}
  // expected-error @+1 {{'kiln.linear' op failed to infer returned types}}
  %0 = kiln.linear %x, %w : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}
