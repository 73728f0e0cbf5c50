// RUN: kiln-opt %s -split-input-file -verify-diagnostics

// Valid: LLaMA's layout, x [B, H, S, D] with cos/sin [1, 1, S, D] (full
// width), and the same interleaved.
func.func @valid_full_width(%x: tensor<?x4x?x16xf32>, %c: tensor<1x1x?x16xf32>, %s: tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %0 = kiln.rotary_embedding %x, %c, %s : (tensor<?x4x?x16xf32>, tensor<1x1x?x16xf32>, tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %1 = kiln.rotary_embedding %0, %c, %s {interleaved = true} : (tensor<?x4x?x16xf32>, tensor<1x1x?x16xf32>, tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %1 : tensor<?x4x?x16xf32>
}

// -----

// Valid: a partial rotation (width 8 of D = 16), cos/sin of lower rank than
// the input ([S, R] against [B, S, H, D]: rank 1 up to the input's rank), a
// width equal to a static D against a dynamic one, and f16.
func.func @valid_partial_ranks(%x: tensor<2x6x4x16xf32>, %c: tensor<6x1x8xf32>, %s: tensor<6x1x8xf32>, %c1: tensor<16xf32>, %y: tensor<3x?xf32>, %h: tensor<2x5x8xf16>, %ch: tensor<2x5x8xf16>) -> tensor<2x6x4x16xf32> {
  %0 = kiln.rotary_embedding %x, %c, %s : (tensor<2x6x4x16xf32>, tensor<6x1x8xf32>, tensor<6x1x8xf32>) -> tensor<2x6x4x16xf32>
  %1 = kiln.rotary_embedding %x, %c1, %c1 : (tensor<2x6x4x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x6x4x16xf32>
  %2 = kiln.rotary_embedding %y, %c1, %c1 : (tensor<3x?xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<3x?xf32>
  %3 = kiln.rotary_embedding %h, %ch, %ch {interleaved = true} : (tensor<2x5x8xf16>, tensor<2x5x8xf16>, tensor<2x5x8xf16>) -> tensor<2x5x8xf16>
  return %0 : tensor<2x6x4x16xf32>
}

// -----

// Valid: dynamic cos/sin extents are left to run time (the lowering checks
// them against the input's).
func.func @valid_dynamic(%x: tensor<?x?x?x?xf32>, %c: tensor<?x?x?x8xf32>, %s: tensor<?x?x?x8xf32>) -> tensor<?x?x?x?xf32> {
  %0 = kiln.rotary_embedding %x, %c, %s : (tensor<?x?x?x?xf32>, tensor<?x?x?x8xf32>, tensor<?x?x?x8xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @odd_width(%x: tensor<2x4x6x16xf32>, %c: tensor<6x7xf32>) -> tensor<2x4x6x16xf32> {
  // expected-error @+1 {{'kiln.rotary_embedding' op the rotary width (cos/sin last dim) must be static, even and at most the input's last dim, got 7}}
  %0 = kiln.rotary_embedding %x, %c, %c : (tensor<2x4x6x16xf32>, tensor<6x7xf32>, tensor<6x7xf32>) -> tensor<2x4x6x16xf32>
  return %0 : tensor<2x4x6x16xf32>
}

// -----

func.func @width_over_head(%x: tensor<2x4x6x16xf32>, %c: tensor<6x18xf32>) -> tensor<2x4x6x16xf32> {
  // expected-error @+1 {{'kiln.rotary_embedding' op the rotary width (cos/sin last dim) must be static, even and at most the input's last dim, got 18}}
  %0 = kiln.rotary_embedding %x, %c, %c : (tensor<2x4x6x16xf32>, tensor<6x18xf32>, tensor<6x18xf32>) -> tensor<2x4x6x16xf32>
  return %0 : tensor<2x4x6x16xf32>
}

// -----

func.func @dynamic_width(%x: tensor<2x4x6x16xf32>, %c: tensor<6x?xf32>) -> tensor<2x4x6x16xf32> {
  // expected-error @+1 {{'kiln.rotary_embedding' op the rotary width (cos/sin last dim) must be static, even and at most the input's last dim, got -1}}
  %0 = kiln.rotary_embedding %x, %c, %c : (tensor<2x4x6x16xf32>, tensor<6x?xf32>, tensor<6x?xf32>) -> tensor<2x4x6x16xf32>
  return %0 : tensor<2x4x6x16xf32>
}

// -----

func.func @cos_sin_shapes_differ(%x: tensor<2x4x6x16xf32>, %c: tensor<6x16xf32>, %s: tensor<1x16xf32>) -> tensor<2x4x6x16xf32> {
  // expected-error @+1 {{'kiln.rotary_embedding' op input must be a float tensor and cos/sin of one type with its element type, got tensor<2x4x6x16xf32>, tensor<6x16xf32>, tensor<1x16xf32>}}
  %0 = kiln.rotary_embedding %x, %c, %s : (tensor<2x4x6x16xf32>, tensor<6x16xf32>, tensor<1x16xf32>) -> tensor<2x4x6x16xf32>
  return %0 : tensor<2x4x6x16xf32>
}

// -----

func.func @cos_sin_elements_differ(%x: tensor<2x4x6x16xf32>, %c: tensor<6x16xf32>, %s: tensor<6x16xf16>) -> tensor<2x4x6x16xf32> {
  // expected-error @+1 {{'kiln.rotary_embedding' op input must be a float tensor and cos/sin of one type with its element type, got tensor<2x4x6x16xf32>, tensor<6x16xf32>, tensor<6x16xf16>}}
  %0 = kiln.rotary_embedding %x, %c, %s : (tensor<2x4x6x16xf32>, tensor<6x16xf32>, tensor<6x16xf16>) -> tensor<2x4x6x16xf32>
  return %0 : tensor<2x4x6x16xf32>
}

// -----

func.func @cache_element_type(%x: tensor<2x4x6x16xf32>, %c: tensor<6x16xf16>) -> tensor<2x4x6x16xf32> {
  // expected-error @+1 {{'kiln.rotary_embedding' op input must be a float tensor and cos/sin of one type with its element type, got tensor<2x4x6x16xf32>, tensor<6x16xf16>, tensor<6x16xf16>}}
  %0 = kiln.rotary_embedding %x, %c, %c : (tensor<2x4x6x16xf32>, tensor<6x16xf16>, tensor<6x16xf16>) -> tensor<2x4x6x16xf32>
  return %0 : tensor<2x4x6x16xf32>
}

// -----

func.func @integer_input(%x: tensor<2x4x6x16xi32>, %c: tensor<6x16xi32>) -> tensor<2x4x6x16xi32> {
  // expected-error @+1 {{'kiln.rotary_embedding' op input must be a float tensor and cos/sin of one type with its element type, got tensor<2x4x6x16xi32>, tensor<6x16xi32>, tensor<6x16xi32>}}
  %0 = kiln.rotary_embedding %x, %c, %c : (tensor<2x4x6x16xi32>, tensor<6x16xi32>, tensor<6x16xi32>) -> tensor<2x4x6x16xi32>
  return %0 : tensor<2x4x6x16xi32>
}

// -----

// cos/sin [7, 16] against the input's sequence extent 6.
func.func @not_broadcasting(%x: tensor<2x4x6x16xf32>, %c: tensor<7x16xf32>) -> tensor<2x4x6x16xf32> {
  // expected-error @+1 {{'kiln.rotary_embedding' op cos/sin [7, 16] do not broadcast to the input [2, 4, 6, 16]}}
  %0 = kiln.rotary_embedding %x, %c, %c : (tensor<2x4x6x16xf32>, tensor<7x16xf32>, tensor<7x16xf32>) -> tensor<2x4x6x16xf32>
  return %0 : tensor<2x4x6x16xf32>
}

// -----

// cos/sin may broadcast to the input, not the input to them: [2, 16] over
// an input [1, 16] would grow the result.
func.func @broadcasts_input(%x: tensor<1x16xf32>, %c: tensor<2x16xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{'kiln.rotary_embedding' op cos/sin [2, 16] do not broadcast to the input [1, 16]}}
  %0 = kiln.rotary_embedding %x, %c, %c : (tensor<1x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<1x16xf32>
  return %0 : tensor<1x16xf32>
}

// -----

func.func @cos_rank_0(%x: tensor<2x4x6x16xf32>, %c: tensor<f32>) -> tensor<2x4x6x16xf32> {
  // expected-error @+1 {{'kiln.rotary_embedding' op cos/sin rank must be in [1, input rank]}}
  %0 = kiln.rotary_embedding %x, %c, %c : (tensor<2x4x6x16xf32>, tensor<f32>, tensor<f32>) -> tensor<2x4x6x16xf32>
  return %0 : tensor<2x4x6x16xf32>
}

// -----

func.func @cos_rank_too_large(%x: tensor<6x16xf32>, %c: tensor<1x6x16xf32>) -> tensor<6x16xf32> {
  // expected-error @+1 {{'kiln.rotary_embedding' op cos/sin rank must be in [1, input rank]}}
  %0 = kiln.rotary_embedding %x, %c, %c : (tensor<6x16xf32>, tensor<1x6x16xf32>, tensor<1x6x16xf32>) -> tensor<6x16xf32>
  return %0 : tensor<6x16xf32>
}

// -----

func.func @input_rank_0(%x: tensor<f32>, %c: tensor<2xf32>) -> tensor<f32> {
  // expected-error @+1 {{'kiln.rotary_embedding' op input must be a float tensor and cos/sin of one type with its element type, got tensor<f32>, tensor<2xf32>, tensor<2xf32>}}
  %0 = kiln.rotary_embedding %x, %c, %c : (tensor<f32>, tensor<2xf32>, tensor<2xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// The result has the input's type.
func.func @result_type(%x: tensor<2x4x6x16xf32>, %c: tensor<6x16xf32>) -> tensor<2x4x6x8xf32> {
  // expected-error @+2 {{'kiln.rotary_embedding' op inferred type(s) 'tensor<2x4x6x16xf32>' are incompatible with return type(s) of operation 'tensor<2x4x6x8xf32>'}}
  // expected-error @+1 {{'kiln.rotary_embedding' op failed to infer returned types}}
  %0 = kiln.rotary_embedding %x, %c, %c : (tensor<2x4x6x16xf32>, tensor<6x16xf32>, tensor<6x16xf32>) -> tensor<2x4x6x8xf32>
  return %0 : tensor<2x4x6x8xf32>
}

// -----

func.func @check_equal_float(%x: tensor<4xf32>, %e: tensor<f32>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.check_equal' op input and expected must share an integer type}}
  %0 = kiln.check_equal %x, %e : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @check_equal_bcast(%x: tensor<4xi64>, %e: tensor<3xi64>) -> tensor<4xi64> {
  // expected-error @+1 {{'kiln.check_equal' op expected [3] does not broadcast to the input [4]}}
  %0 = kiln.check_equal %x, %e : (tensor<4xi64>, tensor<3xi64>) -> tensor<4xi64>
  return %0 : tensor<4xi64>
}
