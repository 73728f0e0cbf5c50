// RUN: kiln-opt %s -split-input-file -convert-kiln-to-linalg | FileCheck %s

// Gather-style lowerings (one generic over the output extracting its
// source): DepthToSpace/SpaceToDepth, Hardmax, OneHot, Slice with run-time
// axes, GatherND; N-D / ceil_mode pooling and ConvTranspose as windowed
// generics; ScatterElements/ScatterND and TopK as loops carrying the
// output.

// DepthToSpace (DCR) is one gather-style generic over the output: channel
// (h % 2 * 2 + w % 2) * C' + c of pixel (h / 2, w / 2); the batch may be
// dynamic.
// CHECK-LABEL: func.func @d2s_dcr(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x8x3x4xf32>
// CHECK:         %[[E:.*]] = tensor.empty(%{{.*}}) : tensor<?x2x6x8xf32>
// CHECK:         linalg.generic {{.*}} outs(%[[E]] : tensor<?x2x6x8xf32>)
// CHECK:           arith.remui
// CHECK:           arith.divui
// CHECK:           %[[V:.*]] = tensor.extract %[[X]]
// CHECK:           linalg.yield %[[V]]
// CHECK-NOT:     kiln.depth_to_space
func.func @d2s_dcr(%x: tensor<?x8x3x4xf32>) -> tensor<?x2x6x8xf32> {
  %0 = kiln.depth_to_space %x {blocksize = 2 : i64} : (tensor<?x8x3x4xf32>) -> tensor<?x2x6x8xf32>
  return %0 : tensor<?x2x6x8xf32>
}

// -----

// SpaceToDepth is the inverse permutation.
// CHECK-LABEL: func.func @s2d(
// CHECK:         linalg.generic
// CHECK:           tensor.extract
// CHECK-NOT:     kiln.space_to_depth
func.func @s2d(%x: tensor<1x2x6x8xf32>) -> tensor<1x8x3x4xf32> {
  %0 = kiln.space_to_depth %x {blocksize = 2 : i64} : (tensor<1x2x6x8xf32>) -> tensor<1x8x3x4xf32>
  return %0 : tensor<1x8x3x4xf32>
}

// -----

// Hardmax: the first maximum's index along the axis (kiln.arg_max, lowered
// to a two-output reduction), then 1 where the element's index equals it.
// CHECK-LABEL: func.func @hardmax(
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK:         linalg.generic
// CHECK:           %[[I:.*]] = linalg.index 1 : index
// CHECK:           %[[I64:.*]] = arith.index_cast %[[I]] : index to i64
// CHECK:           %[[HIT:.*]] = arith.cmpi eq, %[[I64]], %{{.*}} : i64
// CHECK:           arith.select %[[HIT]]
// CHECK-NOT:     kiln.hardmax
// CHECK-NOT:     kiln.arg_max
func.func @hardmax(%x: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %0 = kiln.hardmax %x {axis = 1 : i64} : tensor<3x5xf32> -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

// OneHot with a run-time depth (the new dim's extent) and a negative
// index counting from depth: values[1] where the wrapped index equals the
// position along axis 1, values[0] elsewhere.
// CHECK-LABEL: func.func @one_hot(
// CHECK-SAME:    %[[I:[^:]*]]: tensor<3xi64>, %[[D:[^:]*]]: tensor<f32>, %[[V:[^:]*]]: tensor<2xf32>)
// CHECK:         %[[DV:.*]] = tensor.extract %[[D]][] : tensor<f32>
// CHECK:         %[[DI:.*]] = arith.fptosi %[[DV]] : f32 to i64
// CHECK:         %[[E:.*]] = tensor.empty(%{{.*}}) : tensor<3x?xf32>
// CHECK:         linalg.generic {{.*}} ins(%[[I]] : tensor<3xi64>) outs(%[[E]] : tensor<3x?xf32>)
// CHECK:           arith.cmpi slt
// CHECK:           arith.addi %{{.*}}, %[[DI]] : i64
// CHECK:           linalg.index 1 : index
// CHECK:           arith.cmpi eq
// CHECK:           arith.select
// CHECK-NOT:     kiln.one_hot
func.func @one_hot(%i: tensor<3xi64>, %d: tensor<f32>, %v: tensor<2xf32>) -> tensor<3x?xf32> {
  %0 = kiln.one_hot %i, %d, %v {axis = 1 : i64} : (tensor<3xi64>, tensor<f32>, tensor<2xf32>) -> tensor<3x?xf32>
  return %0 : tensor<3x?xf32>
}

// -----

// Slice whose axes arrive at run time (a graph input with a static count):
// each dim takes the entry whose axis names it (negatives from the rank),
// else the identity slice.
// CHECK-LABEL: func.func @slice_runtime_axes(
// CHECK-COUNT-2: arith.cmpi eq
// CHECK:         linalg.generic
// CHECK:           tensor.extract
// CHECK-NOT:     kiln.slice
func.func @slice_runtime_axes(%x: tensor<20x10xf32>, %s: tensor<1xi64>, %e: tensor<1xi64>, %a: tensor<1xi64>, %st: tensor<1xi64>) -> tensor<?x?xf32> {
  %0 = kiln.slice %x, %s, %e, %a, %st : (tensor<20x10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// ceil_mode pooling: the last window passes the input's end, so the input
// gets one more end pad (-inf for max); the window dims are reductions of
// one generic.
// CHECK-LABEL: func.func @max_pool_ceil(
// CHECK:         tensor.pad %{{.*}} low[0, 0, 0, 0] high[0, 0, 1, 1]
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]
// CHECK:           arith.maximumf
func.func @max_pool_ceil(%x: tensor<1x1x5x5xf32>) -> tensor<1x1x3x3xf32> {
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = true} : (tensor<1x1x5x5xf32>) -> tensor<1x1x3x3xf32>
  return %0 : tensor<1x1x3x3xf32>
}

// -----

// 1-D average pooling with padding, count_include_pad false: the divisor
// per output counts only the window's elements inside the input
// (2, 3, 3, 2 for a 3-wide window over 4 elements padded by 1).
// CHECK-LABEL: func.func @avg_pool_1d(
// CHECK:         %[[CNT:.*]] = arith.constant dense<[2.000000e+00, 3.000000e+00, 3.000000e+00, 2.000000e+00]> : tensor<4xf32>
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK:           arith.addf
// CHECK:         linalg.generic {{.*}} ins(%{{.*}}, %[[CNT]] :
// CHECK:           arith.divf
func.func @avg_pool_1d(%x: tensor<1x2x4xf32>) -> tensor<1x2x4xf32> {
  %0 = kiln.average_pool %x {kernel_shape = array<i64: 3>, strides = array<i64: 1>, pads = array<i64: 1, 1>, dilations = array<i64: 1>} : (tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
  return %0 : tensor<1x2x4xf32>
}

// -----

// ConvTranspose, stride 2: the input channels and filter taps are the
// reductions of one generic; a tap contributes where (o + pad - k) divides
// by the stride and lands inside the input.
// CHECK-LABEL: func.func @conv_transpose(
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]
// CHECK:           arith.divsi
// CHECK:           arith.cmpi eq
// CHECK:           tensor.extract %{{.*}} : tensor<1x4x3x3xf32>
// CHECK:           tensor.extract %{{.*}} : tensor<4x2x3x3xf32>
// CHECK:           arith.select
// CHECK-NOT:     kiln.conv_transpose
func.func @conv_transpose(%x: tensor<1x4x3x3xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x2x7x7xf32> {
  %0 = kiln.conv_transpose %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>} : (tensor<1x4x3x3xf32>, tensor<4x2x3x3xf32>) -> tensor<1x2x7x7xf32>
  return %0 : tensor<1x2x7x7xf32>
}

// -----

// GatherND, batch_dims 0, index depth 2: each output row reads the row of
// data named by its two indices (negatives wrapped, out of range clamped).
// CHECK-LABEL: func.func @gather_nd(
// CHECK:         linalg.generic
// CHECK-COUNT-2:   tensor.extract %{{.*}} : tensor<3x2xi64>
// CHECK:           tensor.extract %{{.*}} : tensor<4x5x6xf32>
// CHECK-NOT:     kiln.gather_nd
func.func @gather_nd(%d: tensor<4x5x6xf32>, %i: tensor<3x2xi64>) -> tensor<3x6xf32> {
  %0 = kiln.gather_nd %d, %i : (tensor<4x5x6xf32>, tensor<3x2xi64>) -> tensor<3x6xf32>
  return %0 : tensor<3x6xf32>
}

// -----

// ScatterElements with reduction add: a loop nest over the indices carrying
// the output tensor, each step adding into the addressed element in order
// (duplicates accumulate).
// CHECK-LABEL: func.func @scatter_elements_add(
// CHECK:         scf.for
// CHECK:           scf.for
// CHECK:             tensor.extract %{{.*}} : tensor<2x3xi64>
// CHECK:             arith.addf
// CHECK:             tensor.insert
// CHECK-NOT:     kiln.scatter_elements
func.func @scatter_elements_add(%d: tensor<3x3xf32>, %i: tensor<2x3xi64>, %u: tensor<2x3xf32>) -> tensor<3x3xf32> {
  %0 = kiln.scatter_elements %d, %i, %u {axis = 0 : i64, reduction = "add"} : (tensor<3x3xf32>, tensor<2x3xi64>, tensor<2x3xf32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

// Dynamic extents are checked at run time: updates against the indices in
// every dim, the indices within the data off the axis (min(i, d) == i).
// CHECK-LABEL: func.func @scatter_elements_dynamic(
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[C1:.*]] = arith.constant 1 : index
// CHECK:         tensor.dim %arg2, %[[C0]]
// CHECK:         tensor.dim %arg1, %[[C0]]
// CHECK:         call @kiln_rt_check_dim
// CHECK:         tensor.dim %arg2, %[[C1]]
// CHECK:         tensor.dim %arg1, %[[C1]]
// CHECK:         call @kiln_rt_check_dim
// CHECK:         %[[I1:.*]] = tensor.dim %arg1, %[[C1]]
// CHECK:         %[[D1:.*]] = tensor.dim %arg0, %[[C1]]
// CHECK:         %[[M:.*]] = arith.minui %[[I1]], %[[D1]]
// CHECK:         %[[A:.*]] = arith.index_cast %[[I1]]
// CHECK:         %[[B:.*]] = arith.index_cast %[[M]]
// CHECK:         call @kiln_rt_check_dim(%[[A]], %[[B]])
// CHECK:         scf.for
func.func @scatter_elements_dynamic(%d: tensor<?x?xf32>, %i: tensor<?x?xi64>, %u: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %0 = kiln.scatter_elements %d, %i, %u {axis = 0 : i64} : (tensor<?x?xf32>, tensor<?x?xi64>, tensor<?x?xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// ScatterND replaces whole slices: loops over the index prefix and the
// trailing dims.
// CHECK-LABEL: func.func @scatter_nd(
// CHECK-COUNT-3: scf.for
// CHECK:           tensor.insert
// CHECK-NOT:     kiln.scatter_nd
func.func @scatter_nd(%d: tensor<4x4x4xf32>, %i: tensor<2x1xi64>, %u: tensor<2x4x4xf32>) -> tensor<4x4x4xf32> {
  %0 = kiln.scatter_nd %d, %i, %u : (tensor<4x4x4xf32>, tensor<2x1xi64>, tensor<2x4x4xf32>) -> tensor<4x4x4xf32>
  return %0 : tensor<4x4x4xf32>
}

// -----

// TopK with a run-time k: per row, k passes, each scanning the row for the
// best element ranked after the previous pick (value, then lower index).
// CHECK-LABEL: func.func @top_k(
// CHECK:         scf.for
// CHECK:           scf.for
// CHECK:             scf.for
// CHECK:               arith.cmpf ogt
// CHECK:           tensor.insert
// CHECK:           tensor.insert
// CHECK-NOT:     kiln.top_k
func.func @top_k(%x: tensor<3x4xf32>, %k: tensor<1xi64>) -> (tensor<3x?xf32>, tensor<3x?xi64>) {
  %0:2 = kiln.top_k %x, %k {axis = 1 : i64} : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<3x?xf32>, tensor<3x?xi64>)
  return %0#0, %0#1 : tensor<3x?xf32>, tensor<3x?xi64>
}

// -----

// cum_sum: a loop over the other dims, then one pass along the axis
// carrying the running sum (reverse walks it backwards, exclusive stores
// the sum before the add).
// CHECK-LABEL: func.func @cum_sum_reverse_exclusive(
// CHECK: scf.for
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}, %[[S:.*]] = %{{.*}})
// CHECK: arith.subi
// CHECK: %[[V:.*]] = tensor.extract
// CHECK: %[[N:.*]] = arith.addi %[[S]], %[[V]] : i64
// CHECK: tensor.insert %[[S]]
// CHECK: scf.yield %{{.*}}, %[[N]]
func.func @cum_sum_reverse_exclusive(%x: tensor<2x?xi64>) -> tensor<2x?xi64> {
  %0 = kiln.cum_sum %x {axis = 1 : i64, exclusive = true, reverse = true} : tensor<2x?xi64> -> tensor<2x?xi64>
  return %0 : tensor<2x?xi64>
}

// -----

// CHECK-LABEL: func.func @cum_sum_f32(
// CHECK: scf.for
// CHECK: tensor.extract
// CHECK: %[[N:.*]] = arith.addf
// CHECK: tensor.insert %[[N]]
func.func @cum_sum_f32(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %0 = kiln.cum_sum %x {axis = 0 : i64} : tensor<4x3xf32> -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// random: the row-major index hashed with the seed (splitmix64), the top
// 24 bits scaled into [a, b).
// CHECK-LABEL: func.func @random_uniform(
// CHECK: linalg.generic
// CHECK: arith.muli {{.*}} : index
// CHECK: arith.muli %{{.*}}, %c-7046029254386353131_i64 : i64
// CHECK: arith.addi %{{.*}}, %c42_i64 : i64
// CHECK: arith.shrui
// CHECK: arith.uitofp
// CHECK: linalg.yield
func.func @random_uniform(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = kiln.random %x {distribution = "uniform", a = 0.0 : f32, b = 1.0 : f32, seed = 42 : i64} : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}
