// RUN: kiln-opt %s -split-input-file -convert-kiln-to-linalg | FileCheck %s

// kiln.check_equal: a serial reduction keeps the last (input, expected) pair
// that differ (0, 0 when none), then one kiln_rt_check_dim call ends the run
// on a mismatch; the op's result is its input.
// CHECK-LABEL: func.func @check(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?xi64>, %[[E:[^:]*]]: tensor<i64>)
// CHECK:         %[[R:.*]]:2 = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[X]], %[[E]] : tensor<?xi64>, tensor<i64>) outs(%{{.*}}, %{{.*}} : tensor<i64>, tensor<i64>)
// CHECK:           arith.cmpi ne
// CHECK:           arith.select
// CHECK:         %[[GOT:.*]] = tensor.extract %[[R]]#0[]
// CHECK:         %[[WANT:.*]] = tensor.extract %[[R]]#1[]
// CHECK:         call @kiln_rt_check_dim(
// CHECK:         return %[[X]]
func.func @check(%x: tensor<?xi64>, %e: tensor<i64>) -> tensor<?xi64> {
  %0 = kiln.check_equal %x, %e : (tensor<?xi64>, tensor<i64>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}
