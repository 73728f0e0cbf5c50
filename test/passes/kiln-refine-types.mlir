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

// -----

// A kiln.cast after a refined op takes the input's new shape with its own
// element type (its verifier wants the two shapes equal; a QDQ model's
// QuantizeLinear after a reshape to [0, 0, -1] failed here).
// CHECK-LABEL: func.func @refine_cast(
// CHECK:         %[[R:.*]] = kiln.reshape {{.*}} -> tensor<?x4xf32>
// CHECK:         %[[Q:.*]] = kiln.cast %[[R]] : tensor<?x4xf32> -> tensor<?x4xui8>
// CHECK:         %[[D:.*]] = kiln.cast %[[Q]] : tensor<?x4xui8> -> tensor<?x4xf32>
// CHECK:         tensor.cast %[[D]] : tensor<?x4xf32> to tensor<?x?xf32>
func.func @refine_cast(%x: tensor<?x2x2xf32>) -> tensor<?x?xf32> {
  %s = kiln.constant dense<[-1, 4]> : tensor<2xi64>
  %r = kiln.reshape %x, %s : (tensor<?x2x2xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %q = kiln.cast %r : tensor<?x?xf32> -> tensor<?x?xui8>
  %d = kiln.cast %q : tensor<?x?xui8> -> tensor<?x?xf32>
  return %d : tensor<?x?xf32>
}
