// RUN: kiln-opt %s --split-input-file --verify-diagnostics

// A valid loop parses, verifies and prints back.
func.func @ok(%m: tensor<i64>, %c: tensor<i1>, %v: tensor<4xf32>) -> (tensor<4xf32>, tensor<?x4xf32>) {
  %r:2 = kiln.loop(%m, %c, %v) : (tensor<i64>, tensor<i1>, tensor<4xf32>) -> (tensor<4xf32>, tensor<?x4xf32>) {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %vi: tensor<4xf32>):
    %n = kiln.add %vi, %vi : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    kiln.yield %ci, %n, %n : tensor<i1>, tensor<4xf32>, tensor<4xf32>
  }
  return %r#0, %r#1 : tensor<4xf32>, tensor<?x4xf32>
}

// -----

func.func @bad_trip(%m: tensor<2xi64>, %c: tensor<i1>, %v: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.loop' op max_trip must be an i64 tensor of one element, got 'tensor<2xi64>'}}
  %r = kiln.loop(%m, %c, %v) : (tensor<2xi64>, tensor<i1>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %vi: tensor<4xf32>):
    kiln.yield %ci, %vi : tensor<i1>, tensor<4xf32>
  }
  return %r : tensor<4xf32>
}

// -----

func.func @bad_cond(%m: tensor<i64>, %c: tensor<f32>, %v: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.loop' op cond must be an i1 tensor of one element, got 'tensor<f32>'}}
  %r = kiln.loop(%m, %c, %v) : (tensor<i64>, tensor<f32>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %vi: tensor<4xf32>):
    kiln.yield %ci, %vi : tensor<i1>, tensor<4xf32>
  }
  return %r : tensor<4xf32>
}

// -----

func.func @bad_arg(%m: tensor<i64>, %c: tensor<i1>, %v: tensor<4xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{'kiln.loop' op body argument 2 has type 'tensor<4xf32>', expected the result type 'tensor<?xf32>'}}
  %r = kiln.loop(%m, %c, %v) : (tensor<i64>, tensor<i1>, tensor<4xf32>) -> tensor<?xf32> {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %vi: tensor<4xf32>):
    kiln.yield %ci, %vi : tensor<i1>, tensor<4xf32>
  }
  return %r : tensor<?xf32>
}

// -----

func.func @bad_carried(%m: tensor<i64>, %c: tensor<i1>, %v: tensor<4xf32>, %w: tensor<5xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.loop' op the body yields 'tensor<5xf32>' for loop-carried result 0 of type 'tensor<4xf32>'}}
  %r = kiln.loop(%m, %c, %v) : (tensor<i64>, tensor<i1>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %vi: tensor<4xf32>):
    kiln.yield %ci, %w : tensor<i1>, tensor<5xf32>
  }
  return %r : tensor<4xf32>
}

// -----

func.func @bad_count(%m: tensor<i64>, %c: tensor<i1>, %v: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.loop' op the body yields 1 values, expected 2 (condition, then one per result)}}
  %r = kiln.loop(%m, %c, %v) : (tensor<i64>, tensor<i1>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %vi: tensor<4xf32>):
    kiln.yield %ci : tensor<i1>
  }
  return %r : tensor<4xf32>
}

// -----

func.func @bad_scan(%m: tensor<i64>, %c: tensor<i1>, %v: tensor<4xf32>) -> tensor<?x5xf32> {
  // expected-error @+1 {{'kiln.loop' op scan result 0 has type 'tensor<?x5xf32>', which is not the body's 'tensor<4xf32>' stacked on a new axis 0}}
  %r = kiln.loop(%m, %c) : (tensor<i64>, tensor<i1>) -> tensor<?x5xf32> {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>):
    kiln.yield %ci, %v : tensor<i1>, tensor<4xf32>
  }
  return %r : tensor<?x5xf32>
}
