// RUN: kiln-opt %s -split-input-file -convert-kiln-to-linalg | FileCheck %s

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
