// RUN: kiln-opt %s -split-input-file -kiln-outline-batch-head | FileCheck %s

// A CNN marked for the batch split: conv, global pool, flatten, then a
// classifier (linear [64, 256] + ReLU + linear [256, 100]: 167936 bytes of
// weights). The classifier moves into @kiln_head, which takes the pooled
// features [N, 64, 1, 1] (the first value after the maps that carries
// everything after it); the weights go with it, and the split's weight
// bytes keep only the conv's.
// CHECK-LABEL: module attributes
// CHECK-SAME:    kiln.batch_split = {dim = "batch", flops = ["1"], head_input = f32, head_weight_bytes = 167936 : i64, weight_bytes = 2304 : i64}
// CHECK:       func.func @main(%{{.*}}: tensor<?x1x16x16xf32> {{.*}}) -> tensor<?x64x1x1xf32> {
// CHECK:         kiln.conv
// CHECK:         %[[G:.*]] = kiln.global_average_pool
// CHECK-NOT:     kiln.linear
// CHECK:         return %[[G]] : tensor<?x64x1x1xf32>
// CHECK:       func.func @kiln_head(%[[CUT:.*]]: tensor<?x64x1x1xf32>) -> tensor<?x100xf32> {
// CHECK-DAG:     %[[W1:.*]] = kiln.constant dense<1.000000e+00> : tensor<64x256xf32>
// CHECK-DAG:     %[[W2:.*]] = kiln.constant dense<2.000000e+00> : tensor<256x100xf32>
// CHECK:         %[[F:.*]] = kiln.flatten %[[CUT]]
// CHECK:         %[[L1:.*]] = kiln.linear %[[F]], %[[W1]]
// CHECK:         %[[R:.*]] = kiln.relu %[[L1]]
// CHECK:         %[[L2:.*]] = kiln.linear %[[R]], %[[W2]]
// CHECK:         return %[[L2]] : tensor<?x100xf32>
module attributes {kiln.batch_split = {dim = "batch", flops = ["1"], weight_bytes = 170240 : i64}} {
  func.func @main(%x: tensor<?x1x16x16xf32> {kiln.name = "x", kiln.dims = ["batch", "", "", ""]}) -> (tensor<?x100xf32> {kiln.name = "y"}) {
    %w = kiln.constant dense<1.0> : tensor<64x1x3x3xf32>
    %w1 = kiln.constant dense<1.0> : tensor<64x256xf32>
    %w2 = kiln.constant dense<2.0> : tensor<256x100xf32>
    %c = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x1x16x16xf32>, tensor<64x1x3x3xf32>) -> tensor<?x64x16x16xf32>
    %g = kiln.global_average_pool %c : (tensor<?x64x16x16xf32>) -> tensor<?x64x1x1xf32>
    %f = kiln.flatten %g : (tensor<?x64x1x1xf32>) -> tensor<?x64xf32>
    %l1 = kiln.linear %f, %w1 : (tensor<?x64xf32>, tensor<64x256xf32>) -> tensor<?x256xf32>
    %r = kiln.relu %l1 : tensor<?x256xf32>
    %l2 = kiln.linear %r, %w2 : (tensor<?x256xf32>, tensor<256x100xf32>) -> tensor<?x100xf32>
    return %l2 : tensor<?x100xf32>
  }
}

// -----

// A constant both sides read is copied into the head, not moved.
// CHECK-LABEL: module attributes
// CHECK:       func.func @main(
// CHECK:         %[[B:.*]] = kiln.constant dense<3.000000e+00> : tensor<256x1x1xf32>
// CHECK:         kiln.add %{{.*}}, %[[B]]
// CHECK:         kiln.global_average_pool
// CHECK:       func.func @kiln_head(
// CHECK:         %[[HB:.*]] = kiln.constant dense<3.000000e+00> : tensor<256x1x1xf32>
// CHECK:         kiln.add %{{.*}}, %[[HB]]
module attributes {kiln.batch_split = {dim = "batch", flops = ["1"], weight_bytes = 262144 : i64}} {
  func.func @main(%x: tensor<?x256x4x4xf32> {kiln.name = "x", kiln.dims = ["batch", "", "", ""]}) -> (tensor<?x256xf32> {kiln.name = "y"}) {
    %b = kiln.constant dense<3.0> : tensor<256x1x1xf32>
    %w = kiln.constant dense<1.0> : tensor<256x256xf32>
    %m = kiln.add %x, %b : (tensor<?x256x4x4xf32>, tensor<256x1x1xf32>) -> tensor<?x256x4x4xf32>
    %g = kiln.global_average_pool %m : (tensor<?x256x4x4xf32>) -> tensor<?x256x1x1xf32>
    %a = kiln.add %g, %b : (tensor<?x256x1x1xf32>, tensor<256x1x1xf32>) -> tensor<?x256x1x1xf32>
    %f = kiln.flatten %a : (tensor<?x256x1x1xf32>) -> tensor<?x256xf32>
    %l = kiln.linear %f, %w : (tensor<?x256xf32>, tensor<256x256xf32>) -> tensor<?x256xf32>
    return %l : tensor<?x256xf32>
  }
}

// -----

// Negative: no kiln.batch_split mark (the batch is never run image by
// image, so the head would run batched anyway).
// CHECK-LABEL: module {
// CHECK-NOT:   @kiln_head
module {
  func.func @main(%x: tensor<?x64x1x1xf32> {kiln.name = "x", kiln.dims = ["batch", "", "", ""]}) -> (tensor<?x256xf32> {kiln.name = "y"}) {
    %w1 = kiln.constant dense<1.0> : tensor<64x256xf32>
    %r = kiln.relu %x : tensor<?x64x1x1xf32>
    %f = kiln.flatten %r : (tensor<?x64x1x1xf32>) -> tensor<?x64xf32>
    %l1 = kiln.linear %f, %w1 : (tensor<?x64xf32>, tensor<64x256xf32>) -> tensor<?x256xf32>
    return %l1 : tensor<?x256xf32>
  }
}

// -----

// Negative: the classifier's weights (16 x 10) are too few to be worth a
// batch head.
// CHECK-LABEL: module attributes
// CHECK-NOT:   head_weight_bytes
// CHECK-NOT:   @kiln_head
module attributes {kiln.batch_split = {dim = "batch", flops = ["1"], weight_bytes = 640 : i64}} {
  func.func @main(%x: tensor<?x16x8x8xf32> {kiln.name = "x", kiln.dims = ["batch", "", "", ""]}) -> (tensor<?x10xf32> {kiln.name = "y"}) {
    %w = kiln.constant dense<1.0> : tensor<16x10xf32>
    %g = kiln.global_average_pool %x : (tensor<?x16x8x8xf32>) -> tensor<?x16x1x1xf32>
    %f = kiln.flatten %g : (tensor<?x16x1x1xf32>) -> tensor<?x16xf32>
    %l = kiln.linear %f, %w : (tensor<?x16xf32>, tensor<16x10xf32>) -> tensor<?x10xf32>
    return %l : tensor<?x10xf32>
  }
}

// -----

// Negative: two values carry the images into the last op (the dense
// layer's result and a second input), and the one point before the dense
// layer has both the pooled features and that input crossing it.
// CHECK-LABEL: module attributes
// CHECK-NOT:   @kiln_head
module attributes {kiln.batch_split = {dim = "batch", flops = ["1"], weight_bytes = 65536 : i64}} {
  func.func @main(%x: tensor<?x128x4x4xf32> {kiln.name = "x", kiln.dims = ["batch", "", "", ""]}, %z: tensor<?x128xf32> {kiln.name = "z", kiln.dims = ["batch", ""]}) -> (tensor<?x128xf32> {kiln.name = "y"}) {
    %w = kiln.constant dense<1.0> : tensor<128x128xf32>
    %g = kiln.global_average_pool %x : (tensor<?x128x4x4xf32>) -> tensor<?x128x1x1xf32>
    %f = kiln.flatten %g : (tensor<?x128x1x1xf32>) -> tensor<?x128xf32>
    %l = kiln.linear %f, %w : (tensor<?x128xf32>, tensor<128x128xf32>) -> tensor<?x128xf32>
    %a = kiln.add %l, %z : (tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x128xf32>
    return %a : tensor<?x128xf32>
  }
}

// -----

// Negative: the dense layer reads per-token rows ([N, T, C], a weight each
// image reuses T times): it stays in the per-image runs.
// CHECK-LABEL: module attributes
// CHECK-NOT:   @kiln_head
module attributes {kiln.batch_split = {dim = "batch", flops = ["1"], weight_bytes = 65536 : i64}} {
  func.func @main(%x: tensor<?x8x128xf32> {kiln.name = "x", kiln.dims = ["batch", "", ""]}) -> (tensor<?x8x128xf32> {kiln.name = "y"}) {
    %w = kiln.constant dense<1.0> : tensor<128x128xf32>
    %r = kiln.relu %x : tensor<?x8x128xf32>
    %l = kiln.linear %r, %w : (tensor<?x8x128xf32>, tensor<128x128xf32>) -> tensor<?x8x128xf32>
    return %l : tensor<?x8x128xf32>
  }
}

// -----

// Negative: an MLP on vectors has no per-image maps for @main to keep (its
// one single-value cut would be the input itself, the head everything).
// CHECK-LABEL: module attributes
// CHECK-NOT:   @kiln_head
module attributes {kiln.batch_split = {dim = "batch", flops = ["1"], weight_bytes = 131072 : i64}} {
  func.func @main(%x: tensor<?x128xf32> {kiln.name = "x", kiln.dims = ["batch", ""]}) -> (tensor<?x128xf32> {kiln.name = "y"}) {
    %w = kiln.constant dense<1.0> : tensor<128x128xf32>
    %l = kiln.linear %x, %w : (tensor<?x128xf32>, tensor<128x128xf32>) -> tensor<?x128xf32>
    %r = kiln.relu %l : tensor<?x128xf32>
    %m = kiln.linear %r, %w : (tensor<?x128xf32>, tensor<128x128xf32>) -> tensor<?x128xf32>
    %y = kiln.add %m, %x : (tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x128xf32>
    return %y : tensor<?x128xf32>
  }
}
