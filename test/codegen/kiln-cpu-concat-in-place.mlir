// RUN: kiln-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kiln-cpu-concat-in-place))" | FileCheck %s
// RUN: kiln-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kiln-cpu-concat-in-place),convert-kiln-to-linalg,canonicalize,cse,one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},cse,canonicalize)" | FileCheck %s --check-prefix=BUF

// SqueezeNet's fire module: two convolution kernels (batch dynamic), then
// their channel concat. Each kernel writes its slice of one tensor made
// before the first; no kiln.concat is left, and after bufferization (with
// the cse and canonicalize the CPU pipeline runs after it, which drop the
// self-copies one-shot leaves for each insert_slice) both
// kernels write subviews of one buffer with no copy.
// CHECK-LABEL: func.func @fire(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x16x55x55xf32>
// CHECK:         %[[C0:.*]] = arith.constant 0 : index
// CHECK:         %[[N:.*]] = tensor.dim %[[X]], %[[C0]]
// CHECK:         %[[E:.*]] = tensor.empty(%[[N]]) : tensor<?x128x55x55xf32>
// CHECK:         %[[S0:.*]] = tensor.extract_slice %[[E]][0, 0, 0, 0] [%[[N]], 64, 55, 55] [1, 1, 1, 1]
// CHECK:         %[[A:.*]] = kiln.ukernel "conv2d_f32"(%[[X]], %{{.*}}) outs(%[[S0]])
// CHECK:         %[[I0:.*]] = tensor.insert_slice %[[A]] into %[[E]][0, 0, 0, 0] [%[[N]], 64, 55, 55] [1, 1, 1, 1]
// CHECK:         %[[S1:.*]] = tensor.extract_slice %[[I0]][0, 64, 0, 0] [%[[N]], 64, 55, 55] [1, 1, 1, 1]
// CHECK:         %[[B:.*]] = kiln.ukernel "conv2d_f32"(%[[X]], %{{.*}}) outs(%[[S1]])
// CHECK:         %[[I1:.*]] = tensor.insert_slice %[[B]] into %[[I0]][0, 64, 0, 0]
// CHECK-NOT:     kiln.concat
// CHECK:         return %[[I1]]
// BUF-LABEL: func.func @fire(
// BUF:         %[[M:.*]] = memref.alloc(%{{.*}}) {{.*}} : memref<?x128x55x55xf32>
// BUF:         %[[V0:.*]] = memref.subview %[[M]][0, 0, 0, 0]
// BUF:         kiln.ukernel "conv2d_f32"(%{{.*}}, %{{.*}}) outs(%[[V0]]
// BUF:         %[[V1:.*]] = memref.subview %[[M]][0, 64, 0, 0]
// BUF:         kiln.ukernel "conv2d_f32"(%{{.*}}, %{{.*}}) outs(%[[V1]]
// BUF-NOT:     memref.copy
// BUF:         return %[[M]]
func.func @fire(%x: tensor<?x16x55x55xf32>, %w0: tensor<4x16x16xf32>, %w1: tensor<4x144x16xf32>) -> tensor<?x128x55x55xf32> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x16x55x55xf32>
  %e0 = tensor.empty(%n) : tensor<?x64x55x55xf32>
  %a = kiln.ukernel "conv2d_f32"(%x, %w0) outs(%e0) {float_params = array<f32>, int_params = array<i64: 2, 1, 1>} : (tensor<?x16x55x55xf32>, tensor<4x16x16xf32>, tensor<?x64x55x55xf32>) -> tensor<?x64x55x55xf32>
  %e1 = tensor.empty(%n) : tensor<?x64x55x55xf32>
  %b = kiln.ukernel "conv2d_f32"(%x, %w1) outs(%e1) {float_params = array<f32>, int_params = array<i64: 2, 1, 1>} : (tensor<?x16x55x55xf32>, tensor<4x144x16xf32>, tensor<?x64x55x55xf32>) -> tensor<?x64x55x55xf32>
  %c = kiln.concat %a, %b {axis = 1 : i64} : (tensor<?x64x55x55xf32>, tensor<?x64x55x55xf32>) -> tensor<?x128x55x55xf32>
  return %c : tensor<?x128x55x55xf32>
}

// -----

// An Inception block's parts in another order than the concat's: a max
// pool (written second), a function argument (inserted at the concat) and
// an average pool seen through a tensor.cast (written first); offsets are
// the concat's.
// CHECK-LABEL: func.func @mixed(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<1x8x7x7xf32>, %[[Y:[^:]*]]: tensor<1x4x7x7xf32>
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<1x20x7x7xf32>
// CHECK:         %[[S0:.*]] = tensor.extract_slice %[[E]][0, 12, 0, 0] [1, 8, 7, 7] [1, 1, 1, 1]
// CHECK:         %[[P:.*]] = kiln.ukernel "avgpool2d_f32"(%[[X]]) outs(%[[S0]])
// CHECK:         %[[I0:.*]] = tensor.insert_slice %[[P]] into %[[E]][0, 12, 0, 0]
// CHECK:         %[[S1:.*]] = tensor.extract_slice %[[I0]][0, 0, 0, 0] [1, 8, 7, 7]
// CHECK:         %[[M:.*]] = kiln.ukernel "maxpool2d_f32"(%[[X]]) outs(%[[S1]])
// CHECK:         %[[I1:.*]] = tensor.insert_slice %[[M]] into %[[I0]][0, 0, 0, 0]
// CHECK:         %[[I2:.*]] = tensor.insert_slice %[[Y]] into %[[I1]][0, 8, 0, 0] [1, 4, 7, 7]
// CHECK-NOT:     kiln.concat
// CHECK-NOT:     tensor.cast
// CHECK:         return %[[I2]]
func.func @mixed(%x: tensor<1x8x7x7xf32>, %y: tensor<1x4x7x7xf32>) -> tensor<1x20x7x7xf32> {
  %e1 = tensor.empty() : tensor<1x8x7x7xf32>
  %p = kiln.ukernel "avgpool2d_f32"(%x) outs(%e1) {float_params = array<f32>, int_params = array<i64: 2, 3, 3, 1, 1, 1, 1, 1, 1, 0>} : (tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>) -> tensor<1x8x7x7xf32>
  %pc = tensor.cast %p : tensor<1x8x7x7xf32> to tensor<?x8x7x7xf32>
  %e0 = tensor.empty() : tensor<1x8x7x7xf32>
  %m = kiln.ukernel "maxpool2d_f32"(%x) outs(%e0) {float_params = array<f32>, int_params = array<i64: 2, 3, 3, 1, 1, 1, 1>} : (tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>) -> tensor<1x8x7x7xf32>
  %c = kiln.concat %m, %y, %pc {axis = 1 : i64} : (tensor<1x8x7x7xf32>, tensor<1x4x7x7xf32>, tensor<?x8x7x7xf32>) -> tensor<1x20x7x7xf32>
  return %c : tensor<1x20x7x7xf32>
}

// -----

// Left as they are: a part the function also returns, a depthwise
// kernel (it needs a dense output), a concat along the height, and a
// part whose init is shared.
// CHECK-LABEL: func.func @not_in_place(
// CHECK-NOT:     tensor.extract_slice
// CHECK-COUNT-4: kiln.concat
func.func @not_in_place(%x: tensor<1x8x7x7xf32>, %w: tensor<8x1x3x3xf32>) -> (tensor<1x16x7x7xf32>, tensor<1x8x7x7xf32>, tensor<1x16x7x7xf32>, tensor<1x8x14x7xf32>, tensor<1x16x7x7xf32>) {
  %e0 = tensor.empty() : tensor<1x8x7x7xf32>
  %m = kiln.ukernel "maxpool2d_f32"(%x) outs(%e0) {float_params = array<f32>, int_params = array<i64: 2, 3, 3, 1, 1, 1, 1>} : (tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>) -> tensor<1x8x7x7xf32>
  %c0 = kiln.concat %m, %x {axis = 1 : i64} : (tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>) -> tensor<1x16x7x7xf32>
  %e1 = tensor.empty() : tensor<1x8x7x7xf32>
  %d = kiln.ukernel "dwconv2d_f32"(%x, %w) outs(%e1) {float_params = array<f32>, int_params = array<i64: 2, 0, 0>} : (tensor<1x8x7x7xf32>, tensor<8x1x3x3xf32>, tensor<1x8x7x7xf32>) -> tensor<1x8x7x7xf32>
  %c1 = kiln.concat %d, %x {axis = 1 : i64} : (tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>) -> tensor<1x16x7x7xf32>
  %e2 = tensor.empty() : tensor<1x8x7x7xf32>
  %a = kiln.ukernel "avgpool2d_f32"(%x) outs(%e2) {float_params = array<f32>, int_params = array<i64: 2, 3, 3, 1, 1, 1, 1, 1, 1, 0>} : (tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>) -> tensor<1x8x7x7xf32>
  %c2 = kiln.concat %a, %x {axis = 2 : i64} : (tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>) -> tensor<1x8x14x7xf32>
  %e3 = tensor.empty() : tensor<1x8x7x7xf32>
  %b = kiln.ukernel "maxpool2d_f32"(%x) outs(%e3) {float_params = array<f32>, int_params = array<i64: 2, 3, 3, 1, 1, 1, 1>} : (tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>) -> tensor<1x8x7x7xf32>
  %b2 = kiln.ukernel "maxpool2d_f32"(%x) outs(%e3) {float_params = array<f32>, int_params = array<i64: 2, 3, 3, 1, 1, 1, 1>} : (tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>) -> tensor<1x8x7x7xf32>
  %c3 = kiln.concat %b, %b2 {axis = 1 : i64} : (tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>) -> tensor<1x16x7x7xf32>
  return %c0, %m, %c1, %c2, %c3 : tensor<1x16x7x7xf32>, tensor<1x8x7x7xf32>, tensor<1x16x7x7xf32>, tensor<1x8x14x7xf32>, tensor<1x16x7x7xf32>
}

// -----

// DenseNet's block: each layer's input is the concat of the features so
// far (a prefix of the block's output concat). One tensor holds the
// family: the new features' kernels write their slices, the block input
// (an argument) is copied in once, and the layer's concat is the leading
// channels, read by its batch norm (channel_affine_f32) and by the
// tensor.dim that sizes the norm's output (dynamic batch); after
// bufferization one buffer, the layer input a subview of it.
// CHECK-LABEL: func.func @dense(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x8x7x7xf32>
// CHECK:         %[[E:.*]] = tensor.empty(%{{.*}}) : tensor<?x16x7x7xf32>
// CHECK:         %[[S0:.*]] = tensor.extract_slice %[[E]][0, 8, 0, 0]
// CHECK:         %[[F0:.*]] = kiln.ukernel "conv2d_f32"(%[[X]], %{{.*}}) outs(%[[S0]])
// CHECK:         %[[I0:.*]] = tensor.insert_slice %[[F0]] into %[[E]][0, 8, 0, 0]
// CHECK:         %[[I1:.*]] = tensor.insert_slice %[[X]] into %[[I0]][0, 0, 0, 0]
// CHECK:         %[[P:.*]] = tensor.extract_slice %[[I1]][0, 0, 0, 0] [%{{.*}}, 12, 7, 7]
// CHECK:         %[[A:.*]] = kiln.ukernel "channel_affine_f32"(%[[P]],
// CHECK:         %[[S1:.*]] = tensor.extract_slice %[[I1]][0, 12, 0, 0]
// CHECK:         %[[F1:.*]] = kiln.ukernel "conv2d_f32"(%[[A]], %{{.*}}) outs(%[[S1]])
// CHECK:         %[[I2:.*]] = tensor.insert_slice %[[F1]] into %[[I1]][0, 12, 0, 0]
// CHECK-NOT:     kiln.concat
// CHECK:         return %[[I2]]
// BUF-LABEL: func.func @dense(
// BUF:         %[[M:.*]] = memref.alloc(%{{.*}}) {{.*}} : memref<?x16x7x7xf32>
// BUF:         kiln.ukernel "conv2d_f32"
// BUF:         memref.copy %{{.*}}, %{{.*}} : memref<?x8x7x7xf32> to memref<?x8x7x7xf32, strided<[784, 49, 7, 1]>>
// BUF:         %[[V:.*]] = memref.subview %[[M]][0, 0, 0, 0] [%{{.*}}, 12, 7, 7]
// BUF:         kiln.ukernel "channel_affine_f32"(%[[V]],
// BUF:         kiln.ukernel "conv2d_f32"
// BUF-NOT:     memref.copy
// BUF:         return %[[M]]
func.func @dense(%x: tensor<?x8x7x7xf32>, %w0: tensor<1x72x16xf32>, %w1: tensor<1x108x16xf32>, %s: tensor<12xf32>, %t: tensor<12xf32>) -> tensor<?x16x7x7xf32> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x8x7x7xf32>
  %e0 = tensor.empty(%n) : tensor<?x4x7x7xf32>
  %f0 = kiln.ukernel "conv2d_f32"(%x, %w0) outs(%e0) {float_params = array<f32>, int_params = array<i64: 2, 1, 1>} : (tensor<?x8x7x7xf32>, tensor<1x72x16xf32>, tensor<?x4x7x7xf32>) -> tensor<?x4x7x7xf32>
  %c1 = kiln.concat %x, %f0 {axis = 1 : i64} : (tensor<?x8x7x7xf32>, tensor<?x4x7x7xf32>) -> tensor<?x12x7x7xf32>
  %n1 = tensor.dim %c1, %c0 : tensor<?x12x7x7xf32>
  %e1 = tensor.empty(%n1) : tensor<?x12x7x7xf32>
  %a1 = kiln.ukernel "channel_affine_f32"(%c1, %s, %t) outs(%e1) {float_params = array<f32>, int_params = array<i64: 2, 1>} : (tensor<?x12x7x7xf32>, tensor<12xf32>, tensor<12xf32>, tensor<?x12x7x7xf32>) -> tensor<?x12x7x7xf32>
  %e2 = tensor.empty(%n) : tensor<?x4x7x7xf32>
  %f1 = kiln.ukernel "conv2d_f32"(%a1, %w1) outs(%e2) {float_params = array<f32>, int_params = array<i64: 2, 1, 1>} : (tensor<?x12x7x7xf32>, tensor<1x108x16xf32>, tensor<?x4x7x7xf32>) -> tensor<?x4x7x7xf32>
  %c2 = kiln.concat %x, %f0, %f1 {axis = 1 : i64} : (tensor<?x8x7x7xf32>, tensor<?x4x7x7xf32>, tensor<?x4x7x7xf32>) -> tensor<?x16x7x7xf32>
  return %c2 : tensor<?x16x7x7xf32>
}

// -----

// A prefix concat read by a kernel that needs dense images (a depthwise
// convolution) stays a concat of its own; the part it shares with the
// larger concat is then copied by both, not written in place.
// CHECK-LABEL: func.func @prefix_kept(
// CHECK:         kiln.ukernel "conv2d_f32"(%{{.*}}) outs(%{{.*}}) {{.*}} -> tensor<1x4x7x7xf32>
// CHECK:         kiln.concat %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<1x8x7x7xf32>, tensor<1x4x7x7xf32>) -> tensor<1x12x7x7xf32>
// CHECK:         kiln.ukernel "dwconv2d_f32"
// CHECK:         kiln.concat %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64}
func.func @prefix_kept(%x: tensor<1x8x7x7xf32>, %w0: tensor<1x72x16xf32>, %wd: tensor<12x1x3x3xf32>, %y: tensor<1x4x7x7xf32>) -> (tensor<1x12x7x7xf32>, tensor<1x16x7x7xf32>) {
  %e0 = tensor.empty() : tensor<1x4x7x7xf32>
  %f0 = kiln.ukernel "conv2d_f32"(%x, %w0) outs(%e0) {float_params = array<f32>, int_params = array<i64: 2, 1, 1>} : (tensor<1x8x7x7xf32>, tensor<1x72x16xf32>, tensor<1x4x7x7xf32>) -> tensor<1x4x7x7xf32>
  %c1 = kiln.concat %x, %f0 {axis = 1 : i64} : (tensor<1x8x7x7xf32>, tensor<1x4x7x7xf32>) -> tensor<1x12x7x7xf32>
  %e1 = tensor.empty() : tensor<1x12x7x7xf32>
  %d = kiln.ukernel "dwconv2d_f32"(%c1, %wd) outs(%e1) {float_params = array<f32>, int_params = array<i64: 2, 0, 0>} : (tensor<1x12x7x7xf32>, tensor<12x1x3x3xf32>, tensor<1x12x7x7xf32>) -> tensor<1x12x7x7xf32>
  %c2 = kiln.concat %x, %f0, %y {axis = 1 : i64} : (tensor<1x8x7x7xf32>, tensor<1x4x7x7xf32>, tensor<1x4x7x7xf32>) -> tensor<1x16x7x7xf32>
  return %d, %c2 : tensor<1x12x7x7xf32>, tensor<1x16x7x7xf32>
}
