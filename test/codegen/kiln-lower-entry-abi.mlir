// RUN: kiln-opt %s -split-input-file -kiln-lower-entry-abi -verify-diagnostics | FileCheck %s

// Two outputs of different element types: @main gets a trailing run-context
// pointer, hands each result to kiln_rt_output_<type> at its index through an
// unranked cast, and returns nothing. The runtime hooks are private, exported
// with a C interface, and only read their tensor argument.
// CHECK-DAG:   func.func private @kiln_rt_output_f32(!llvm.ptr, i64, tensor<*xf32> {bufferization.access = "read"}) attributes {llvm.emit_c_interface}
// CHECK-DAG:   func.func private @kiln_rt_output_i64(!llvm.ptr, i64, tensor<*xi64> {bufferization.access = "read"}) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x3xf32> {bufferization.writable = false}, %[[I:[^:]*]]: tensor<?xi64> {bufferization.writable = false}, %[[CTX:[^:]*]]: !llvm.ptr) attributes {llvm.emit_c_interface} {
// CHECK:         %[[UX:.*]] = tensor.cast %[[X]] : tensor<2x3xf32> to tensor<*xf32>
// CHECK:         %[[C0:.*]] = arith.constant 0 : i64
// CHECK:         call @kiln_rt_output_f32(%[[CTX]], %[[C0]], %[[UX]]) : (!llvm.ptr, i64, tensor<*xf32>) -> ()
// CHECK:         %[[UI:.*]] = tensor.cast %[[I]] : tensor<?xi64> to tensor<*xi64>
// CHECK:         %[[C1:.*]] = arith.constant 1 : i64
// CHECK:         call @kiln_rt_output_i64(%[[CTX]], %[[C1]], %[[UI]]) : (!llvm.ptr, i64, tensor<*xi64>) -> ()
// CHECK:         return{{$}}
func.func @main(%x: tensor<2x3xf32>, %i: tensor<?xi64>) -> (tensor<2x3xf32>, tensor<?xi64>) {
  return %x, %i : tensor<2x3xf32>, tensor<?xi64>
}

// -----

// The same value returned twice is handed out twice, at indices 0 and 1,
// through one shared declaration.
// CHECK:       func.func private @kiln_rt_output_f32(
// CHECK-NOT:   func.func private @kiln_rt_output_f32(
// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<4xf32> {bufferization.writable = false}, %[[CTX:[^:]*]]: !llvm.ptr) attributes {llvm.emit_c_interface} {
// CHECK:         %[[U0:.*]] = tensor.cast %[[X]] : tensor<4xf32> to tensor<*xf32>
// CHECK:         %[[C0:.*]] = arith.constant 0 : i64
// CHECK:         call @kiln_rt_output_f32(%[[CTX]], %[[C0]], %[[U0]])
// CHECK:         %[[U1:.*]] = tensor.cast %[[X]] : tensor<4xf32> to tensor<*xf32>
// CHECK:         %[[C1:.*]] = arith.constant 1 : i64
// CHECK:         call @kiln_rt_output_f32(%[[CTX]], %[[C1]], %[[U1]])
// CHECK:         return{{$}}
func.func @main(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  return %x, %x : tensor<4xf32>, tensor<4xf32>
}

// -----

// Other functions keep their signatures; only @main changes.
// CHECK-LABEL: func.func @helper(
// CHECK-SAME:    %{{.*}}: tensor<4xf32>) -> tensor<4xf32> {
// CHECK-NEXT:    return %{{.*}} : tensor<4xf32>
// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %{{.*}}: tensor<4xf32> {bufferization.writable = false}, %[[CTX:.*]]: !llvm.ptr)
// CHECK:         %[[R:.*]] = call @helper(
// CHECK:         %[[U:.*]] = tensor.cast %[[R]]
// CHECK:         call @kiln_rt_output_f32(%[[CTX]], %{{.*}}, %[[U]])
func.func @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = call @helper(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// A batch head (kiln-outline-batch-head): @main's one result, the head's
// input, goes to the runtime as index -1; @kiln_head gets the same
// convention, its results being outputs 0, 1, ...
// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x4xf32> {bufferization.writable = false}, %[[CTX:[^:]*]]: !llvm.ptr) attributes {llvm.emit_c_interface} {
// CHECK:         %[[M:.*]] = arith.constant -1 : i64
// CHECK:         call @kiln_rt_output_f32(%[[CTX]], %[[M]], %{{.*}})
// CHECK:         return{{$}}
// CHECK-LABEL: func.func @kiln_head(
// CHECK-SAME:    %[[CUT:[^:]*]]: tensor<?x4xf32> {bufferization.writable = false}, %[[HCTX:[^:]*]]: !llvm.ptr) attributes {llvm.emit_c_interface} {
// CHECK:         %[[C0:.*]] = arith.constant 0 : i64
// CHECK:         call @kiln_rt_output_f32(%[[HCTX]], %[[C0]], %{{.*}})
// CHECK:         %[[C1:.*]] = arith.constant 1 : i64
// CHECK:         call @kiln_rt_output_f32(%[[HCTX]], %[[C1]], %{{.*}})
// CHECK:         return{{$}}
func.func @main(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  return %x : tensor<?x4xf32>
}
func.func @kiln_head(%cut: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>) {
  return %cut, %cut : tensor<?x4xf32>, tensor<?x4xf32>
}

// -----

// A head must meet @main at one value.
// expected-error @+1 {{@main and @kiln_head do not meet at one value}}
func.func @main(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  return %x, %x : tensor<4xf32>, tensor<4xf32>
}
func.func @kiln_head(%cut: tensor<4xf32>) -> tensor<4xf32> {
  return %cut : tensor<4xf32>
}

// -----

// A module without @main has no entry point to lower.
// CHECK-NOT:   kiln_rt_output
// expected-error @+1 {{no @main function to lower}}
module {
  func.func @not_main(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}
