// RUN: kiln-opt %s -split-input-file -kiln-mark-batch-split | FileCheck %s

// A CNN: conv (weights [16, 3, 3, 3] over a 16 x 16 output: 2 * 432 * 256
// FLOPs per image), ReLU, global pool, flatten, a linear layer ([16, 10]:
// one row per image, 2 * 160 FLOPs), and a broadcast bias of rank 1.
// Weights: (432 + 160) * 4 bytes.
// CHECK-LABEL: module attributes
// CHECK-SAME:    kiln.batch_split = {dim = "batch", flops = ["221504"], weight_bytes = 2368 : i64}
module {
  func.func @main(%x: tensor<?x3x16x16xf32> {kiln.name = "x", kiln.dims = ["batch", "", "", ""]}) -> (tensor<?x10xf32> {kiln.name = "y"}) {
    %w = kiln.constant dense<1.0> : tensor<16x3x3x3xf32>
    %c = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x3x16x16xf32>, tensor<16x3x3x3xf32>) -> tensor<?x16x16x16xf32>
    %r = kiln.relu %c : tensor<?x16x16x16xf32>
    %g = kiln.global_average_pool %r : (tensor<?x16x16x16xf32>) -> tensor<?x16x1x1xf32>
    %f = kiln.flatten %g : (tensor<?x16x1x1xf32>) -> tensor<?x16xf32>
    %lw = kiln.constant dense<1.0> : tensor<16x10xf32>
    %l = kiln.linear %f, %lw : (tensor<?x16xf32>, tensor<16x10xf32>) -> tensor<?x10xf32>
    %b = kiln.constant dense<1.0> : tensor<10xf32>
    %y = kiln.add %l, %b : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
    return %y : tensor<?x10xf32>
  }
}

// -----

// A transformer block's pieces: FLOPs scale with the `seq` dim of the
// input (traced through the ops), a softmax and a reduction over the last
// dim, a reshape to [0, 0, 2, 4] (dim 0 copied) and a transpose keeping
// dim 0 first; the shape of dims 1.. is the same in every image.
// CHECK-LABEL: module attributes
// CHECK-SAME:    kiln.batch_split = {dim = "batch", flops = ["128*seq"], weight_bytes = 256 : i64}
module {
  func.func @main(%x: tensor<?x?x8xf32> {kiln.name = "x", kiln.dims = ["batch", "seq", ""]}) -> (tensor<?x2x?x4xf32> {kiln.name = "y"}, tensor<?x?x1xf32> {kiln.name = "m"}) {
    %w = kiln.constant dense<1.0> : tensor<8x8xf32>
    %l = kiln.linear %x, %w : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
    %s = kiln.softmax %l {axis = -1} : tensor<?x?x8xf32> -> tensor<?x?x8xf32>
    %m = kiln.reduce_mean %s {axes = array<i64: 2>} : (tensor<?x?x8xf32>) -> tensor<?x?x1xf32>
    %shape = kiln.constant dense<[0, 0, 2, 4]> : tensor<4xi64>
    %r = kiln.reshape %s, %shape : (tensor<?x?x8xf32>, tensor<4xi64>) -> tensor<?x?x2x4xf32>
    %t = kiln.transpose %r {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
    %sh = kiln.shape %x {start = 1} : (tensor<?x?x8xf32>) -> tensor<2xi64>
    return %t, %m : tensor<?x2x?x4xf32>, tensor<?x?x1xf32>
  }
}

// -----

// Negative: a reduction over dim 0 mixes the images.
// CHECK-LABEL: module attributes
// CHECK-SAME:    kiln.batch_split_blocked = "'kiln.reduce_sum' (node 'sum'): reduces dim 0 (or all dims)"
// CHECK-NOT:     kiln.batch_split =
module {
  func.func @main(%x: tensor<?x4xf32> {kiln.name = "x", kiln.dims = ["batch", ""]}) -> (tensor<1x4xf32> {kiln.name = "y"}) {
    %s = kiln.reduce_sum %x {axes = array<i64: 0>} : (tensor<?x4xf32>) -> tensor<1x4xf32> loc("sum")
    return %s : tensor<1x4xf32>
  }
}

// -----

// Negative: the batch size read by a shape op (an exporter's
// expand(batch, ...)) is not followed.
// CHECK-LABEL: module attributes
// CHECK-SAME:    kiln.batch_split_blocked = "'kiln.shape' (node 'shape'): reads the batch size"
module {
  func.func @main(%x: tensor<?x4xf32> {kiln.name = "x", kiln.dims = ["batch", ""]}) -> (tensor<?x4xf32> {kiln.name = "y"}) {
    %s = kiln.shape %x : (tensor<?x4xf32>) -> tensor<2xi64> loc("shape")
    %e = kiln.constant dense<1.0> : tensor<1x4xf32>
    %y = kiln.expand %e, %s : (tensor<1x4xf32>, tensor<2xi64>) -> tensor<?x4xf32>
    return %y : tensor<?x4xf32>
  }
}

// -----

// Negative: a Free operand with a dim 0 larger than 1 broadcasts along the
// batch (only batch 4 runs, and its images differ).
// CHECK-LABEL: module attributes
// CHECK-SAME:    kiln.batch_split_blocked = "'kiln.add' (node 'add'): an operand would broadcast along dim 0"
module {
  func.func @main(%x: tensor<?x4xf32> {kiln.name = "x", kiln.dims = ["batch", ""]}) -> (tensor<4x4xf32> {kiln.name = "y"}) {
    %c = kiln.constant dense<1.0> : tensor<4x4xf32>
    %y = kiln.add %x, %c : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> loc("add")
    return %y : tensor<4x4xf32>
  }
}

// -----

// Negative: a reshape with -1 first that merges dim 0 with dim 1
// ([b, 2, 4] -> [-1, 4]).
// CHECK-LABEL: module attributes
// CHECK-SAME:    kiln.batch_split_blocked = "'kiln.reshape' (node 'r'): may not keep dim 0"
module {
  func.func @main(%x: tensor<?x2x4xf32> {kiln.name = "x", kiln.dims = ["batch", "", ""]}) -> (tensor<?x4xf32> {kiln.name = "y"}) {
    %s = kiln.constant dense<[-1, 4]> : tensor<2xi64>
    %y = kiln.reshape %x, %s : (tensor<?x2x4xf32>, tensor<2xi64>) -> tensor<?x4xf32> loc("r")
    return %y : tensor<?x4xf32>
  }
}

// -----

// Negative: the batch name at dim 1 of a second input (its extent changes
// when the batch is split).
// CHECK-LABEL: module attributes
// CHECK-SAME:    kiln.batch_split_blocked = "input 1 has 'batch' at dim 1, not dim 0"
module {
  func.func @main(%x: tensor<?x4xf32> {kiln.name = "x", kiln.dims = ["batch", ""]}, %m: tensor<4x?xf32> {kiln.name = "m", kiln.dims = ["", "batch"]}) -> (tensor<?x4xf32> {kiln.name = "y"}) {
    %y = kiln.relu %x : tensor<?x4xf32>
    return %y : tensor<?x4xf32>
  }
}

// -----

// Negative: an output that does not depend on the images at all.
// CHECK-LABEL: module attributes
// CHECK-SAME:    kiln.batch_split_blocked = "'func.return': output 1 is not computed image by image"
module {
  func.func @main(%x: tensor<?x4xf32> {kiln.name = "x", kiln.dims = ["batch", ""]}) -> (tensor<?x4xf32> {kiln.name = "y"}, tensor<4xf32> {kiln.name = "c"}) {
    %y = kiln.relu %x : tensor<?x4xf32>
    %c = kiln.constant dense<1.0> : tensor<4xf32>
    return %y, %c : tensor<?x4xf32>, tensor<4xf32>
  }
}

// -----

// Not marked: no input has a named dynamic dim 0.
// CHECK:       module {
// CHECK-NEXT:    func.func @main(%{{.*}}: tensor<2x4xf32>
module {
  func.func @main(%x: tensor<2x4xf32> {kiln.name = "x", kiln.dims = ["", ""]}) -> (tensor<2x4xf32> {kiln.name = "y"}) {
    %y = kiln.relu %x : tensor<2x4xf32>
    return %y : tensor<2x4xf32>
  }
}
