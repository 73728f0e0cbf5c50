// RUN: kiln-opt %s --split-input-file --verify-diagnostics

func.func @bad_yield(%x: tensor<3x4xf32>, %y: tensor<4x4xf32>, %c: tensor<i1>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'kiln.if' op result 0 has type 'tensor<3x4xf32>', but a branch yields 'tensor<4x4xf32>'}}
  %r = kiln.if %c : tensor<i1> -> tensor<3x4xf32> {
    kiln.yield %y : tensor<4x4xf32>
  } else {
    kiln.yield %x : tensor<3x4xf32>
  }
  return %r : tensor<3x4xf32>
}

// -----

func.func @bad_count(%x: tensor<3x4xf32>, %c: tensor<i1>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'kiln.if' op a branch yields 0 values for 1 results}}
  %r = kiln.if %c : tensor<i1> -> tensor<3x4xf32> {
    kiln.yield
  } else {
    kiln.yield %x : tensor<3x4xf32>
  }
  return %r : tensor<3x4xf32>
}

// -----

func.func @bad_cond(%x: tensor<3x4xf32>, %c: tensor<2xi1>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'kiln.if' op condition must be a boolean tensor of one element, got 'tensor<2xi1>'}}
  %r = kiln.if %c : tensor<2xi1> -> tensor<3x4xf32> {
    kiln.yield %x : tensor<3x4xf32>
  } else {
    kiln.yield %x : tensor<3x4xf32>
  }
  return %r : tensor<3x4xf32>
}
