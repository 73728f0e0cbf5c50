// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @transpose_bad_perm(%x: tensor<2x3xf32>) -> tensor<3x2x1x1xf32> {
  // expected-error @+1 {{'kiln.transpose' op perm has 4 entries, but input rank is 2}}
  %0 = kiln.transpose %x {perm = array<i64: 1, 0, 2, 3>} : (tensor<2x3xf32>) -> tensor<3x2x1x1xf32>
  return %0 : tensor<3x2x1x1xf32>
}

// -----

func.func @transpose_not_permutation(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{'kiln.transpose' op perm [0, 0] is not a permutation}}
  %0 = kiln.transpose %x {perm = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @add_no_broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'kiln.add' op operand shapes [2, 3] and [4] do not broadcast}}
  %0 = kiln.add %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @add_mixed_types(%a: tensor<2xf32>, %b: tensor<2xi64>) -> tensor<2xf32> {
  // expected-error @+1 {{'kiln.add' op operand element types differ: f32 vs i64}}
  %0 = kiln.add %a, %b : (tensor<2xf32>, tensor<2xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// A result type that contradicts the inferred one is rejected.
func.func @add_wrong_result(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x4xf32> {
  // expected-error @+2 {{'kiln.add' op inferred type(s) 'tensor<2x3xf32>' are incompatible with return type(s) of operation 'tensor<2x4xf32>'}}
  // expected-error @+1 {{'kiln.add' op failed to infer returned types}}
  %0 = kiln.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @matmul_contracting(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{'kiln.matmul' op contracting dims differ: lhs [2, 3], rhs [4, 5]}}
  %0 = kiln.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @where_condition_type(%c: tensor<2xf32>, %a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'kiln.where' op condition must be i1, got f32}}
  %0 = kiln.where %c, %a, %a : (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @reshape_count(%x: tensor<2x3xf32>) -> tensor<4xf32> {
  %s = kiln.constant dense<[4]> : tensor<1xi64>
  // expected-error @+1 {{'kiln.reshape' op cannot reshape [2, 3] (6 elements) into [4] (4 elements)}}
  %0 = kiln.reshape %x, %s : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @reshape_two_minus_one(%x: tensor<2x3xf32>) -> tensor<?x?xf32> {
  %s = kiln.constant dense<[-1, -1]> : tensor<2xi64>
  // expected-error @+1 {{'kiln.reshape' op shape [-1, -1] has more than one -1}}
  %0 = kiln.reshape %x, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @concat_mismatch(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{'kiln.concat' op inputs differ in dim 1: [2, 3] vs [2, 4]}}
  %0 = kiln.concat %a, %b {axis = 0} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @conv_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv' op input has 3 channels, but weight [4, 2, 3, 3] with group 1 expects 2}}
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @pool_storage_order(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{'kiln.max_pool_with_indices' op storage_order must be 0 (row major) or 1 (column major), got 2}}
  %0, %1 = kiln.max_pool_with_indices %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, storage_order = 2 : i64} : (tensor<1x3x8x8xf32>) -> (tensor<1x3x4x4xf32>, tensor<1x3x4x4xi64>)
  return %0 : tensor<1x3x4x4xf32>
}

// -----

func.func @pool_kernel_rank(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{'kiln.max_pool' op kernel_shape has 1 entries, but the input has 2 spatial dims}}
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

func.func @reduce_axes_unsorted(%x: tensor<2x3x4xf32>) -> tensor<2x1x1xf32> {
  // expected-error @+1 {{'kiln.reduce_sum' op axes must be sorted and unique}}
  %0 = kiln.reduce_sum %x {axes = array<i64: 2, 1>} : (tensor<2x3x4xf32>) -> tensor<2x1x1xf32>
  return %0 : tensor<2x1x1xf32>
}

// -----

func.func @softmax_axis(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'kiln.softmax' op axis 2 is out of range for rank 2}}
  %0 = kiln.softmax %x {axis = 2} : tensor<2x3xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @squeeze_non_unit(%x: tensor<2x3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.squeeze' op cannot squeeze dim 0 of extent 2}}
  %0 = kiln.squeeze %x {axes = array<i64: 0>} : (tensor<2x3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @split_sizes(%x: tensor<6xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'kiln.split' op sizes sum to 5, but dim 0 has extent 6}}
  %0:2 = kiln.split %x {axis = 0, sizes = array<i64: 2, 3>} : (tensor<6xf32>) -> (tensor<2xf32>, tensor<3xf32>)
  return %0#0 : tensor<2xf32>
}

// -----

func.func @cast_shape(%x: tensor<2xf32>) -> tensor<3xi64> {
  // expected-error @+1 {{'kiln.cast' op result shape [3] differs from input shape [2]}}
  %0 = kiln.cast %x : tensor<2xf32> -> tensor<3xi64>
  return %0 : tensor<3xi64>
}

// -----

func.func @layer_norm_scale(%x: tensor<2x8xf32>, %g: tensor<4xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'kiln.layer_norm' op scale/bias shape [4] does not broadcast to the normalized dims [8]}}
  %0 = kiln.layer_norm %x, %g : (tensor<2x8xf32>, tensor<4xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @gather_indices_type(%x: tensor<4x2xf32>, %i: tensor<3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'kiln.gather' op indices must be i32 or i64, got f32}}
  %0 = kiln.gather %x, %i : (tensor<4x2xf32>, tensor<3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @einsum_terms(%a: tensor<2x3xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'kiln.einsum' op equation 'ij,jk->i' has 2 operand terms, but 1 inputs were given}}
  %0 = kiln.einsum %a {equation = "ij,jk->i"} : (tensor<2x3xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @ukernel_tensor_no_result(%q: tensor<8x16xf32>, %e: tensor<8x16xf32>) {
  // expected-error @+1 {{'kiln.ukernel' op on a tensor init must return the written tensor}}
  kiln.ukernel "attention_f32"(%q) outs(%e) {int_params = array<i64>, float_params = array<f32>} : (tensor<8x16xf32>, tensor<8x16xf32>) -> ()
  return
}

// -----

func.func @ukernel_buffer_with_result(%q: memref<8x16xf32>, %o: memref<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{'kiln.ukernel' op on a buffer init has no result}}
  %0 = kiln.ukernel "attention_f32"(%q) outs(%o) {int_params = array<i64>, float_params = array<f32>} : (memref<8x16xf32>, memref<8x16xf32>) -> tensor<8x16xf32>
  return %0 : tensor<8x16xf32>
}

// -----

func.func @ukernel_result_type(%q: tensor<8x16xf32>, %e: tensor<8x16xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{'kiln.ukernel' op result type 'tensor<?x16xf32>' differs from the init's 'tensor<8x16xf32>'}}
  %0 = kiln.ukernel "attention_f32"(%q) outs(%e) {int_params = array<i64>, float_params = array<f32>} : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}

// -----

func.func @ukernel_two_inits_one_result(%q: tensor<8x16xf32>, %e: tensor<8x16xf32>, %m: tensor<8x1xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{'kiln.ukernel' op on a tensor init must return the written tensor}}
  %0 = kiln.ukernel "dwconv2d_f32"(%q) outs(%e, %m) {int_params = array<i64>, float_params = array<f32>} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x1xf32>) -> tensor<8x16xf32>
  return %0 : tensor<8x16xf32>
}

// -----

func.func @ukernel_mixed_inits(%q: tensor<8x16xf32>, %e: tensor<8x16xf32>, %m: memref<8x1xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{'kiln.ukernel' op inits must all be ranked tensors or all memrefs}}
  %0 = kiln.ukernel "dwconv2d_f32"(%q) outs(%e, %m) {int_params = array<i64>, float_params = array<f32>} : (tensor<8x16xf32>, tensor<8x16xf32>, memref<8x1xf32>) -> tensor<8x16xf32>
  return %0 : tensor<8x16xf32>
}

// -----

func.func @ukernel_no_name(%q: memref<8x16xf32>, %o: memref<8x16xf32>) {
  // expected-error @+1 {{'kiln.ukernel' op needs a kernel name}}
  kiln.ukernel ""(%q) outs(%o) {int_params = array<i64>, float_params = array<f32>} : (memref<8x16xf32>, memref<8x16xf32>) -> ()
  return
}

// -----

func.func @ukernel_vector_input(%v: vector<4xf32>, %o: memref<4xf32>) {
  // expected-error @+1 {{input #0 is 'vector<4xf32>', but the init is a ranked memref: operands must all be ranked tensors or all memrefs}}
  kiln.ukernel "x"(%v) outs(%o) {int_params = array<i64>, float_params = array<f32>} : (vector<4xf32>, memref<4xf32>) -> ()
  return
}

// -----

func.func @ukernel_tensor_input_buffer_init(%t: tensor<4xf32>, %o: memref<4xf32>) {
  // expected-error @+1 {{input #0 is 'tensor<4xf32>', but the init is a ranked memref}}
  kiln.ukernel "x"(%t) outs(%o) {int_params = array<i64>, float_params = array<f32>} : (tensor<4xf32>, memref<4xf32>) -> ()
  return
}

// -----

func.func @grid_sample_bad_grid(%x: tensor<1x2x4x4xf32>, %g: tensor<1x3x5x3xf32>) {
  // expected-error @+1 {{'kiln.grid_sample' op the grid's last dim must be 2}}
  %0 = kiln.grid_sample %x, %g : (tensor<1x2x4x4xf32>, tensor<1x3x5x3xf32>) -> tensor<1x2x3x5xf32>
  return
}

// -----

func.func @grid_sample_bad_mode(%x: tensor<1x2x4x4xf32>, %g: tensor<1x3x5x2xf32>) {
  // expected-error @+1 {{'kiln.grid_sample' op unknown padding_mode 'wrap'}}
  %0 = kiln.grid_sample %x, %g {padding_mode = "wrap"} : (tensor<1x2x4x4xf32>, tensor<1x3x5x2xf32>) -> tensor<1x2x3x5xf32>
  return
}

// -----

func.func @random_dynamic_without_like() {
  // expected-error @+1 {{'kiln.random' op without `like` the result shape must be static}}
  %0 = kiln.random {distribution = "uniform", a = 0.0 : f32, b = 1.0 : f32, seed = 1 : i64} : () -> tensor<?xf32>
  return
}

// -----

// The importer fuzzer's case: legacy Scatter with 0-D indices.
func.func @scatter_elements_rank(%d: tensor<3x3xf32>, %i: tensor<i64>, %u: tensor<2x3xf32>) -> tensor<3x3xf32> {
  // expected-error @+1 {{'kiln.scatter_elements' op indices rank 0 differs from input rank 2}}
  %0 = kiln.scatter_elements %d, %i, %u : (tensor<3x3xf32>, tensor<i64>, tensor<2x3xf32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

func.func @scatter_elements_updates(%d: tensor<3x3xf32>, %i: tensor<2x3xi64>, %u: tensor<2x2xf32>) -> tensor<3x3xf32> {
  // expected-error @+1 {{'kiln.scatter_elements' op updates extent 2 differs from the indices' 3 in dim 1}}
  %0 = kiln.scatter_elements %d, %i, %u : (tensor<3x3xf32>, tensor<2x3xi64>, tensor<2x2xf32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

// Off the axis the indices may not reach past the input.
func.func @scatter_elements_extent(%d: tensor<3x3xf32>, %i: tensor<2x4xi64>, %u: tensor<2x4xf32>) -> tensor<3x3xf32> {
  // expected-error @+1 {{'kiln.scatter_elements' op indices extent 4 exceeds the input's 3 in dim 1}}
  %0 = kiln.scatter_elements %d, %i, %u {axis = 0 : i64} : (tensor<3x3xf32>, tensor<2x4xi64>, tensor<2x4xf32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

func.func @gather_elements_extent(%d: tensor<3x3xf32>, %i: tensor<4x2xi64>) -> tensor<4x2xf32> {
  // expected-error @+1 {{'kiln.gather_elements' op indices extent 4 exceeds the input's 3 in dim 0}}
  %0 = kiln.gather_elements %d, %i {axis = 1 : i64} : (tensor<3x3xf32>, tensor<4x2xi64>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

func.func @scatter_nd_updates(%d: tensor<4x5xf32>, %i: tensor<2x1xi64>, %u: tensor<2x4xf32>) -> tensor<4x5xf32> {
  // expected-error @+1 {{'kiln.scatter_nd' op updates extent 4 in dim 1, expected 5}}
  %0 = kiln.scatter_nd %d, %i, %u : (tensor<4x5xf32>, tensor<2x1xi64>, tensor<2x4xf32>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}
