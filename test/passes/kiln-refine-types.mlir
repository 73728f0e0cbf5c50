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

// -----

// A shape operand built from a kiln.shape: its static entries are known
// through constant slices and concats (PyTorch's interpolate writes
// Resize's sizes as Concat(Slice(Shape(x), 0, 2), [H, W])): C becomes 21,
// N stays dynamic, and a slice past the shape's end stays unknown.
// CHECK-LABEL: func.func @refine_shape_entries(
// CHECK:         kiln.resize {{.*}} -> tensor<?x21x64x64xf32>
// CHECK:         kiln.reshape {{.*}} -> tensor<21x?xf32>
func.func @refine_shape_entries(%x: tensor<?x21x33x33xf32>) -> (tensor<?x?x64x64xf32>, tensor<?x?xf32>) {
  %s = kiln.shape %x : (tensor<?x21x33x33xf32>) -> tensor<4xi64>
  %c0 = kiln.constant dense<0> : tensor<1xi64>
  %c1 = kiln.constant dense<1> : tensor<1xi64>
  %c2 = kiln.constant dense<2> : tensor<1xi64>
  %nc = kiln.slice %s, %c0, %c2, %c0, %c1 : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %hw = kiln.constant dense<64> : tensor<2xi64>
  %sz = kiln.concat %nc, %hw {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %y = kiln.resize %x sizes %sz {mode = "linear"} : (tensor<?x21x33x33xf32>, tensor<4xi64>) -> tensor<?x?x64x64xf32>
  %c = kiln.slice %s, %c1, %c2, %c0, %c1 : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %m = kiln.constant dense<-1> : tensor<1xi64>
  %rs = kiln.concat %c, %m {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %r = kiln.reshape %x, %rs : (tensor<?x21x33x33xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %y, %r : tensor<?x?x64x64xf32>, tensor<?x?xf32>
}
