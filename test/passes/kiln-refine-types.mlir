// RUN: kiln-opt %s -split-input-file -pass-pipeline="builtin.module(func.func(kiln-refine-types))" | FileCheck %s

// Once the shape operand is a constant, the reshape's `?` dims become static;
// the function keeps its signature through a tensor.cast.
// CHECK-LABEL: func.func @refine_reshape(
// CHECK:         %[[R:.*]] = kiln.reshape %{{.*}}, %{{.*}} : (tensor<2x6xf32>, tensor<2xi64>) -> tensor<3x4xf32>
// CHECK:         %[[E:.*]] = kiln.exp %[[R]] : tensor<3x4xf32>
// CHECK:         %[[C:.*]] = tensor.cast %[[E]] : tensor<3x4xf32> to tensor<?x?xf32>
// CHECK:         return %[[C]]
func.func @refine_reshape(%x: tensor<2x6xf32>) -> tensor<?x?xf32> {
  %s = kiln.constant dense<[3, 4]> : tensor<2xi64>
  %r = kiln.reshape %x, %s : (tensor<2x6xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %e = kiln.exp %r : tensor<?x?xf32>
  return %e : tensor<?x?xf32>
}

// -----

// Nothing to refine: a shape operand that is not constant keeps `?`.
// CHECK-LABEL: func.func @no_refine(
// CHECK:         kiln.reshape %{{.*}}, %{{.*}} : (tensor<2x6xf32>, tensor<2xi64>) -> tensor<?x?xf32>
// CHECK-NOT:     tensor.cast
func.func @no_refine(%x: tensor<2x6xf32>, %s: tensor<2xi64>) -> tensor<?x?xf32> {
  %r = kiln.reshape %x, %s : (tensor<2x6xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}
