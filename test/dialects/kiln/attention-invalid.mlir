// RUN: kiln-opt %s -split-input-file -verify-diagnostics

// A valid grouped-query attention (4 query heads over 2 key/value heads)
// with a broadcast i1 mask, a fill, causal and a Dv different from D: parses
// and verifies.
func.func @valid_gqa(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x10x16xf32>, %v: tensor<2x2x10x32xf32>, %m: tensor<2x1x1x10xi1>) -> tensor<2x4x8x32xf32> {
  %0 = kiln.attention %q, %k, %v mask %m {scale = 2.500000e-01 : f32, mask_fill = -1.0e9 : f32, causal = true} : (tensor<2x4x8x16xf32>, tensor<2x2x10x16xf32>, tensor<2x2x10x32xf32>, tensor<2x1x1x10xi1>) -> tensor<2x4x8x32xf32>
  return %0 : tensor<2x4x8x32xf32>
}

// -----

// Valid: rank 3, a float mask of lower rank, dynamic dims.
func.func @valid_rank3_dynamic(%q: tensor<?x?x16xf16>, %k: tensor<?x?x16xf16>, %v: tensor<?x?x8xf16>, %m: tensor<?x?xf16>) -> tensor<?x?x8xf16> {
  %0 = kiln.attention %q, %k, %v mask %m {scale = 1.0 : f32} : (tensor<?x?x16xf16>, tensor<?x?x16xf16>, tensor<?x?x8xf16>, tensor<?x?xf16>) -> tensor<?x?x8xf16>
  return %0 : tensor<?x?x8xf16>
}

// -----

func.func @rank_too_low(%q: tensor<8x16xf32>, %k: tensor<8x16xf32>, %v: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{'kiln.attention' op query, key and value must have one rank >= 3, got 2, 2 and 2}}
  %0 = kiln.attention %q, %k, %v {scale = 1.0 : f32} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return %0 : tensor<8x16xf32>
}

// -----

func.func @rank_mismatch(%q: tensor<2x4x8x16xf32>, %k: tensor<8x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'kiln.attention' op query, key and value must have one rank >= 3, got 4, 3 and 4}}
  %0 = kiln.attention %q, %k, %v {scale = 1.0 : f32} : (tensor<2x4x8x16xf32>, tensor<8x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

func.func @element_types_differ(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf16>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'kiln.attention' op query, key and value must share one float element type}}
  %0 = kiln.attention %q, %k, %v {scale = 1.0 : f32} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf16>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

func.func @integer_elements(%q: tensor<2x4x8x16xi32>, %k: tensor<2x4x8x16xi32>, %v: tensor<2x4x8x16xi32>) -> tensor<2x4x8x16xi32> {
  // expected-error @+1 {{'kiln.attention' op query, key and value must share one float element type}}
  %0 = kiln.attention %q, %k, %v {scale = 1.0 : f32} : (tensor<2x4x8x16xi32>, tensor<2x4x8x16xi32>, tensor<2x4x8x16xi32>) -> tensor<2x4x8x16xi32>
  return %0 : tensor<2x4x8x16xi32>
}

// -----

func.func @batch_dims_differ(%q: tensor<2x4x8x16xf32>, %k: tensor<3x4x8x16xf32>, %v: tensor<3x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'kiln.attention' op batch dims differ in [2, 4, 8, 16], [3, 4, 8, 16] and [3, 4, 8, 16]}}
  %0 = kiln.attention %q, %k, %v {scale = 1.0 : f32} : (tensor<2x4x8x16xf32>, tensor<3x4x8x16xf32>, tensor<3x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

func.func @batch_dims_differ_key_value(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<5x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'kiln.attention' op batch dims differ in [2, 4, 8, 16], [2, 4, 8, 16] and [5, 4, 8, 16]}}
  %0 = kiln.attention %q, %k, %v {scale = 1.0 : f32} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<5x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

func.func @heads_not_multiple(%q: tensor<2x4x8x16xf32>, %k: tensor<2x3x8x16xf32>, %v: tensor<2x3x8x16xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'kiln.attention' op query heads must be a multiple of key/value heads in [2, 4, 8, 16], [2, 3, 8, 16] and [2, 3, 8, 16]}}
  %0 = kiln.attention %q, %k, %v {scale = 1.0 : f32} : (tensor<2x4x8x16xf32>, tensor<2x3x8x16xf32>, tensor<2x3x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

func.func @key_value_heads_differ(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'kiln.attention' op query heads must be a multiple of key/value heads in [2, 4, 8, 16], [2, 2, 8, 16] and [2, 4, 8, 16]}}
  %0 = kiln.attention %q, %k, %v {scale = 1.0 : f32} : (tensor<2x4x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

func.func @zero_key_heads(%q: tensor<2x4x8x16xf32>, %k: tensor<2x0x8x16xf32>, %v: tensor<2x0x8x16xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'kiln.attention' op query heads must be a multiple of key/value heads in [2, 4, 8, 16], [2, 0, 8, 16] and [2, 0, 8, 16]}}
  %0 = kiln.attention %q, %k, %v {scale = 1.0 : f32} : (tensor<2x4x8x16xf32>, tensor<2x0x8x16xf32>, tensor<2x0x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

func.func @head_sizes_differ(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x32xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'kiln.attention' op head sizes or key lengths differ in [2, 4, 8, 16], [2, 4, 8, 32] and [2, 4, 8, 16]}}
  %0 = kiln.attention %q, %k, %v {scale = 1.0 : f32} : (tensor<2x4x8x16xf32>, tensor<2x4x8x32xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

func.func @key_lengths_differ(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x10x16xf32>, %v: tensor<2x4x12x16xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'kiln.attention' op head sizes or key lengths differ in [2, 4, 8, 16], [2, 4, 10, 16] and [2, 4, 12, 16]}}
  %0 = kiln.attention %q, %k, %v {scale = 1.0 : f32} : (tensor<2x4x8x16xf32>, tensor<2x4x10x16xf32>, tensor<2x4x12x16xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

func.func @mask_not_broadcasting(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x10x16xf32>, %v: tensor<2x4x10x16xf32>, %m: tensor<3x1x1x10xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'kiln.attention' op mask [3, 1, 1, 10] does not broadcast to the scores [2, 4, 8, 10]}}
  %0 = kiln.attention %q, %k, %v mask %m {scale = 1.0 : f32} : (tensor<2x4x8x16xf32>, tensor<2x4x10x16xf32>, tensor<2x4x10x16xf32>, tensor<3x1x1x10xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

// The mask's last dim is the key length (10), not the query length.
func.func @mask_wrong_key_length(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x10x16xf32>, %v: tensor<2x4x10x16xf32>, %m: tensor<8x8xi1>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'kiln.attention' op mask [8, 8] does not broadcast to the scores [2, 4, 8, 10]}}
  %0 = kiln.attention %q, %k, %v mask %m {scale = 1.0 : f32, mask_fill = 0.0 : f32} : (tensor<2x4x8x16xf32>, tensor<2x4x10x16xf32>, tensor<2x4x10x16xf32>, tensor<8x8xi1>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

// A mask of higher rank than the scores (it would broadcast them up).
func.func @mask_rank_too_high(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %m: tensor<1x2x4x8x8xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'kiln.attention' op mask [1, 2, 4, 8, 8] does not broadcast to the scores [2, 4, 8, 8]}}
  %0 = kiln.attention %q, %k, %v mask %m {scale = 1.0 : f32} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<1x2x4x8x8xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

func.func @mask_element_type(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %m: tensor<2x1x1x8xf16>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'kiln.attention' op mask must be i1 or the query element type}}
  %0 = kiln.attention %q, %k, %v mask %m {scale = 1.0 : f32} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x1x1x8xf16>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

func.func @mask_integer(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %m: tensor<2x1x1x8xi64>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'kiln.attention' op mask must be i1 or the query element type}}
  %0 = kiln.attention %q, %k, %v mask %m {scale = 1.0 : f32} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x1x1x8xi64>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

// The result is [batch..., H, Sq, Dv]: a result with D instead of Dv is
// rejected.
func.func @wrong_result_type(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x32xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+2 {{'kiln.attention' op inferred type(s) 'tensor<2x4x8x32xf32>' are incompatible with return type(s) of operation 'tensor<2x4x8x16xf32>'}}
  // expected-error @+1 {{'kiln.attention' op failed to infer returned types}}
  %0 = kiln.attention %q, %k, %v {scale = 1.0 : f32} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x32xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

func.func @missing_scale(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  // expected-error @+1 {{'kiln.attention' op requires attribute 'scale'}}
  %0 = kiln.attention %q, %k, %v : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}
