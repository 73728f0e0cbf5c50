// RUN: kiln-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kiln-fold-shapes))" | FileCheck %s

// A constant condition (here a folded shape test) inlines the taken branch;
// a sharper branch type is cast back to the result type.
// CHECK-LABEL: func.func @constant_cond
// CHECK-NOT: kiln.if
// CHECK: %[[T:.*]] = kiln.tanh %arg0 : tensor<3x4xf32>
// CHECK: %[[C:.*]] = tensor.cast %[[T]] : tensor<3x4xf32> to tensor<?x4xf32>
// CHECK: return %[[C]]
func.func @constant_cond(%x: tensor<3x4xf32>) -> tensor<?x4xf32> {
  %a = kiln.constant dense<3> : tensor<i64>
  %b = kiln.constant dense<2> : tensor<i64>
  %c = kiln.greater %a, %b : (tensor<i64>, tensor<i64>) -> tensor<i1>
  %r = kiln.if %c : tensor<i1> -> tensor<?x4xf32> {
    %t = kiln.tanh %x : tensor<3x4xf32>
    kiln.yield %t : tensor<3x4xf32>
  } else {
    %e = kiln.concat %x, %x {axis = 0 : i64} : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<6x4xf32>
    kiln.yield %e : tensor<6x4xf32>
  }
  return %r : tensor<?x4xf32>
}

// -----

// Must not fire: the condition is only known at run time.
// CHECK-LABEL: func.func @runtime_cond
// CHECK: kiln.if
func.func @runtime_cond(%x: tensor<3x4xf32>, %c: tensor<i1>) -> tensor<3x4xf32> {
  %r = kiln.if %c : tensor<i1> -> tensor<3x4xf32> {
    %t = kiln.tanh %x : tensor<3x4xf32>
    kiln.yield %t : tensor<3x4xf32>
  } else {
    kiln.yield %x : tensor<3x4xf32>
  }
  return %r : tensor<3x4xf32>
}

