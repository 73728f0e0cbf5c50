// RUN: kiln-opt %s -split-input-file -convert-kiln-to-linalg -verify-diagnostics

// Ops (or forms of ops) without a CPU lowering are reported by name, with
// their operand and result types, at their location.

// A transposed convolution with dynamic spatial extents does not lower yet.
func.func @conv_transpose(%x: tensor<1x4x?x?xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x2x?x?xf32> {
  // expected-error @+1 {{'kiln.conv_transpose' does not lower to the CPU code generator yet (unsupported form: 'tensor<1x4x?x?xf32>', 'tensor<4x2x3x3xf32>' -> 'tensor<1x2x?x?xf32>')}}
  %0 = kiln.conv_transpose %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>} : (tensor<1x4x?x?xf32>, tensor<4x2x3x3xf32>) -> tensor<1x2x?x?xf32>
  return %0 : tensor<1x2x?x?xf32>
}

// -----


// Integer TopK does not lower yet.
func.func @top_k(%x: tensor<2x8xi32>) -> (tensor<2x3xi32>, tensor<2x3xi64>) {
  %k = kiln.constant dense<3> : tensor<1xi64>
  // expected-error @+1 {{'kiln.top_k' does not lower to the CPU code generator yet (unsupported form: 'tensor<2x8xi32>', 'tensor<1xi64>' -> 'tensor<2x3xi32>', 'tensor<2x3xi64>')}}
  %0:2 = kiln.top_k %x, %k : (tensor<2x8xi32>, tensor<1xi64>) -> (tensor<2x3xi32>, tensor<2x3xi64>)
  return %0#0, %0#1 : tensor<2x3xi32>, tensor<2x3xi64>
}

// -----

// Only constant padding lowers yet.
func.func @pad_reflect(%x: tensor<?x6xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'kiln.pad' does not lower to the CPU code generator yet (unsupported form: 'tensor<?x6xf32>' -> 'tensor<?x8xf32>')}}
  %0 = kiln.pad %x {pads = array<i64: 0, 1, 0, 1>, mode = "reflect"} : (tensor<?x6xf32>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// Only 2-D convolution lowers yet.
func.func @conv_1d(%x: tensor<1x3x8xf32>, %w: tensor<4x3x3xf32>) -> tensor<1x4x6xf32> {
  // expected-error @+1 {{'kiln.conv' does not lower to the CPU code generator yet (unsupported form: 'tensor<1x3x8xf32>', 'tensor<4x3x3xf32>' -> 'tensor<1x4x6xf32>')}}
  %0 = kiln.conv %x, %w {strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<1x3x8xf32>, tensor<4x3x3xf32>) -> tensor<1x4x6xf32>
  return %0 : tensor<1x4x6xf32>
}

// -----

// A grouped convolution needs its filter's extents static (to split the
// channels into groups); the pattern must fail without leaving IR behind,
// so the leftover op is reported.
func.func @grouped_conv_dynamic_filter(%x: tensor<1x4x8x8xf32>, %w: tensor<?x2x3x3xf32>) -> tensor<1x?x6x6xf32> {
  // expected-error @+1 {{'kiln.conv' does not lower to the CPU code generator yet (unsupported form: 'tensor<1x4x8x8xf32>', 'tensor<?x2x3x3xf32>' -> 'tensor<1x?x6x6xf32>')}}
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 2} : (tensor<1x4x8x8xf32>, tensor<?x2x3x3xf32>) -> tensor<1x?x6x6xf32>
  return %0 : tensor<1x?x6x6xf32>
}

// -----

// Only float convolution lowers yet.
func.func @conv_int(%x: tensor<1x3x8x8xi8>, %w: tensor<4x3x3x3xi8>) -> tensor<1x4x6x6xi8> {
  // expected-error @+1 {{'kiln.conv' does not lower to the CPU code generator yet (unsupported form: 'tensor<1x3x8x8xi8>', 'tensor<4x3x3x3xi8>' -> 'tensor<1x4x6x6xi8>')}}
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xi8>, tensor<4x3x3x3xi8>) -> tensor<1x4x6x6xi8>
  return %0 : tensor<1x4x6x6xi8>
}

// -----

// Integer average pooling does not lower yet (integer max pooling does).
func.func @average_pool_u8(%x: tensor<1x1x5x5xui8>) -> tensor<1x1x2x2xui8> {
  // expected-error @+1 {{'kiln.average_pool' does not lower to the CPU code generator yet (unsupported form: 'tensor<1x1x5x5xui8>' -> 'tensor<1x1x2x2xui8>')}}
  %0 = kiln.average_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x1x5x5xui8>) -> tensor<1x1x2x2xui8>
  return %0 : tensor<1x1x2x2xui8>
}

// -----

// Every leftover op is reported, not only the first.
func.func @two_left(%x: tensor<1x3x4x4xf32>, %y: tensor<2x8xi32>) -> (tensor<1x3x8x8xf32>, tensor<2x3xi32>) {
  // expected-error @+1 {{'kiln.resize' does not lower to the CPU code generator yet}}
  %0 = kiln.resize %x {scales = array<f32: 1.0, 1.0, 2.0, 2.0>, coordinate_transformation_mode = "tf_crop_and_resize"} : (tensor<1x3x4x4xf32>) -> tensor<1x3x8x8xf32>
  %k = kiln.constant dense<3> : tensor<1xi64>
  // expected-error @+1 {{'kiln.top_k' does not lower to the CPU code generator yet}}
  %1:2 = kiln.top_k %y, %k : (tensor<2x8xi32>, tensor<1xi64>) -> (tensor<2x3xi32>, tensor<2x3xi64>)
  return %0, %1#0 : tensor<1x3x8x8xf32>, tensor<2x3xi32>
}

// -----

// f64 resize has no lowering yet (the taps accumulate in f32).
func.func @resize_f64(%x: tensor<1x1x4x4xf64>) -> tensor<1x1x8x8xf64> {
  // expected-error @+1 {{'kiln.resize' does not lower to the CPU code generator yet (unsupported form: 'tensor<1x1x4x4xf64>' -> 'tensor<1x1x8x8xf64>')}}
  %0 = kiln.resize %x {scales = array<f32: 1.0, 1.0, 2.0, 2.0>, mode = "cubic"} : (tensor<1x1x4x4xf64>) -> tensor<1x1x8x8xf64>
  return %0 : tensor<1x1x8x8xf64>
}

// -----

// A convolution whose kernel has a dynamic spatial extent (found by the
// importer fuzzer: the output-extent arithmetic overflowed) is refused.
func.func @conv_dynamic_kernel(%x: tensor<1x1x7x7xf32>, %w: tensor<1x1x1x?xf32>) -> tensor<1x1x7x?xf32> {
  // expected-error @+1 {{'kiln.conv' does not lower to the CPU code generator yet (unsupported form: 'tensor<1x1x7x7xf32>', 'tensor<1x1x1x?xf32>' -> 'tensor<1x1x7x?xf32>')}}
  %0 = kiln.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x7x7xf32>, tensor<1x1x1x?xf32>) -> tensor<1x1x7x?xf32>
  return %0 : tensor<1x1x7x?xf32>
}

// -----

// IsInf of an integer tensor (found by the importer fuzzer: it crashed the
// lowering) is refused, not lowered.
func.func @is_inf_int(%x: tensor<6xi8>) -> tensor<6xi1> {
  // expected-error @+1 {{'kiln.is_inf' does not lower to the CPU code generator yet (unsupported form: 'tensor<6xi8>' -> 'tensor<6xi1>')}}
  %0 = kiln.is_inf %x {detect_negative = false} : tensor<6xi8> -> tensor<6xi1>
  return %0 : tensor<6xi1>
}
