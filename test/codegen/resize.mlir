// RUN: kiln-opt %s -split-input-file -convert-kiln-to-linalg | FileCheck %s

// Nearest, asymmetric, floor (ONNX Upsample's form) with scales [1, 1, 2, 2]:
// one generic over the output; the batch and channel dims are read
// straight through, H and W from floor(o / 2) clamped to [0, I - 1].
// CHECK-LABEL: func.func @nearest_asymmetric(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x3x4x5xf32>
// CHECK:         %[[E:.*]] = tensor.empty(%{{.*}}) : tensor<?x3x8x10xf32>
// CHECK:         linalg.generic {{.*}} outs(%[[E]] : tensor<?x3x8x10xf32>)
// CHECK:           %[[N:.*]] = linalg.index 0 : index
// CHECK:           %[[C:.*]] = linalg.index 1 : index
// CHECK:           arith.divf
// CHECK:           math.floor
// CHECK:           arith.maxsi
// CHECK:           arith.minsi
// CHECK:           math.floor
// CHECK:           %[[V:.*]] = tensor.extract %[[X]][%[[N]], %[[C]], %{{.*}}, %{{.*}}] : tensor<?x3x4x5xf32>
// CHECK:           linalg.yield %[[V]]
// CHECK-NOT:     kiln.resize
func.func @nearest_asymmetric(%x: tensor<?x3x4x5xf32>) -> tensor<?x3x8x10xf32> {
  %0 = kiln.resize %x {scales = array<f32: 1.0, 1.0, 2.0, 2.0>, mode = "nearest", coordinate_transformation_mode = "asymmetric", nearest_mode = "floor"} : (tensor<?x3x4x5xf32>) -> tensor<?x3x8x10xf32>
  return %0 : tensor<?x3x8x10xf32>
}

// -----

// Bilinear, half_pixel, from sizes: the 4 corners of each output point are
// read and weighted (taps clamped to the edges).
// CHECK-LABEL: func.func @bilinear_sizes(
// CHECK:         linalg.generic
// CHECK-COUNT-4:   tensor.extract %{{.*}} : tensor<1x2x4x4xf32>
// CHECK:           linalg.yield
func.func @bilinear_sizes(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x3x6xf32> {
  %s = arith.constant dense<[1, 2, 3, 6]> : tensor<4xi64>
  %0 = kiln.resize %x sizes %s {mode = "linear", coordinate_transformation_mode = "half_pixel"} : (tensor<1x2x4x4xf32>, tensor<4xi64>) -> tensor<1x2x3x6xf32>
  return %0 : tensor<1x2x3x6xf32>
}

// -----

// Cubic: four taps per resized dim (16 reads for H and W), Keys' kernel
// with cubic_coeff_a; exclude_outside zeroes the weights of taps outside
// the input and renormalizes.
// CHECK-LABEL: func.func @cubic_exclude_outside(
// CHECK: linalg.generic
// CHECK-COUNT-16: tensor.extract %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : tensor<1x1x4x4xf32>
// CHECK-NOT: tensor.extract
// CHECK: linalg.yield
func.func @cubic_exclude_outside(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x8x8xf32> {
  %0 = kiln.resize %x {scales = array<f32: 1.0, 1.0, 2.0, 2.0>, mode = "cubic", cubic_coeff_a = -0.5 : f32, exclude_outside = true} : (tensor<1x1x4x4xf32>) -> tensor<1x1x8x8xf32>
  return %0 : tensor<1x1x8x8xf32>
}

// -----

// Scales read at run time: each output dim is floor(in * scale) and every
// dim interpolates with its scale (2^4 corners for linear on rank 4).
// CHECK-LABEL: func.func @linear_runtime_scales(
// CHECK: %[[S0:.*]] = tensor.extract %arg1[%{{.*}}] : tensor<4xf32>
// CHECK: math.floor
// CHECK: tensor.empty(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : tensor<?x?x?x?xf32>
// CHECK: linalg.generic
// CHECK-COUNT-16: tensor.extract %arg0
// CHECK: linalg.yield
func.func @linear_runtime_scales(%x: tensor<1x1x2x4xf32>, %s: tensor<4xf32>) -> tensor<?x?x?x?xf32> {
  %0 = kiln.resize %x scales %s {mode = "linear"} : (tensor<1x1x2x4xf32>, tensor<4xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

// grid_sample bilinear with zeros padding: the grid's two components, four
// taps, each masked to 0 outside the input.
// CHECK-LABEL: func.func @grid_sample_bilinear(
// CHECK: linalg.generic
// CHECK-COUNT-2: tensor.extract %arg1
// CHECK-COUNT-4: tensor.extract %arg0
// CHECK-NOT: tensor.extract
// CHECK: linalg.yield
func.func @grid_sample_bilinear(%x: tensor<1x2x4x4xf32>, %g: tensor<1x3x5x2xf32>) -> tensor<1x2x3x5xf32> {
  %0 = kiln.grid_sample %x, %g : (tensor<1x2x4x4xf32>, tensor<1x3x5x2xf32>) -> tensor<1x2x3x5xf32>
  return %0 : tensor<1x2x3x5xf32>
}

// -----

// CHECK-LABEL: func.func @grid_sample_bicubic(
// CHECK-COUNT-16: tensor.extract %arg0
func.func @grid_sample_bicubic(%x: tensor<1x2x4x4xf32>, %g: tensor<1x3x5x2xf32>) -> tensor<1x2x3x5xf32> {
  %0 = kiln.grid_sample %x, %g {mode = "bicubic", padding_mode = "border"} : (tensor<1x2x4x4xf32>, tensor<1x3x5x2xf32>) -> tensor<1x2x3x5xf32>
  return %0 : tensor<1x2x3x5xf32>
}
