// RUN: kiln-opt %s --convert-kiln-to-linalg | FileCheck %s
//
// kiln.loop -> scf.while: the trip test and the condition in the before region,
// the body in the after region with the scan value inserted as row i, the
// scan buffer (max(trip, 0) rows) cut to the rows the iterations wrote.

func.func @walk(%m: tensor<i64>, %c: tensor<i1>, %v: tensor<4xf32>) -> (tensor<4xf32>, tensor<?x4xf32>) {
  %r:2 = kiln.loop(%m, %c, %v) : (tensor<i64>, tensor<i1>, tensor<4xf32>) -> (tensor<4xf32>, tensor<?x4xf32>) {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %vi: tensor<4xf32>):
    %n = kiln.add %vi, %vi : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    kiln.yield %ci, %n, %n : tensor<i1>, tensor<4xf32>, tensor<4xf32>
  }
  return %r#0, %r#1 : tensor<4xf32>, tensor<?x4xf32>
}

// CHECK-LABEL: func.func @walk
// CHECK: %[[TRIP:.*]] = tensor.extract %arg0[] : tensor<i64>
// CHECK: %[[C0:.*]] = tensor.extract %arg1[] : tensor<i1>
// CHECK: %[[ROWS64:.*]] = arith.maxsi %[[TRIP]]
// CHECK: %[[ROWS:.*]] = arith.index_cast %[[ROWS64]] : i64 to index
// CHECK: %[[BUF:.*]] = tensor.empty(%[[ROWS]]) : tensor<?x4xf32>
// CHECK: %[[W:.*]]:4 = scf.while (%[[I:.*]] = %{{.*}}, %[[C:.*]] = %[[C0]], %{{.*}} = %arg2, %{{.*}} = %[[BUF]])
// CHECK:   %[[LT:.*]] = arith.cmpi slt, %[[I]], %[[TRIP]] : i64
// CHECK:   %[[GO:.*]] = arith.andi %[[LT]], %[[C]] : i1
// CHECK:   scf.condition(%[[GO]])
// CHECK: } do {
// CHECK: ^bb0(%[[AI:.*]]: i64, %[[AC:.*]]: i1, %[[AV:.*]]: tensor<4xf32>, %[[AS:.*]]: tensor<?x4xf32>):
// CHECK:   %[[N:.*]] = linalg.generic
// CHECK:   %[[NEXT:.*]] = arith.addi %[[AI]]
// CHECK:   %[[ROW:.*]] = arith.index_cast %[[AI]] : i64 to index
// CHECK:   %[[INS:.*]] = tensor.insert_slice %[[N]] into %[[AS]][%[[ROW]], 0] [1, 4] [1, 1]
// CHECK:   scf.yield %[[NEXT]], %[[AC]], %[[N]], %[[INS]]
// CHECK: %[[COUNT:.*]] = arith.index_cast %[[W]]#0 : i64 to index
// CHECK: %[[OUT:.*]] = tensor.extract_slice %[[W]]#3[0, 0] [%[[COUNT]], 4] [1, 1]
// CHECK: return %[[W]]#2, %[[OUT]]

// A scan value whose extent is dynamic: the buffer starts with 0 columns,
// iteration 0 allocates it with the value's extent, and every iteration's
// extent is checked against it (kiln_rt_check_dim) before the insert.
func.func @dynamic_scan(%m: tensor<i64>, %c: tensor<i1>, %v: tensor<?xf32>) -> tensor<?x?xf32> {
  %r = kiln.loop(%m, %c) : (tensor<i64>, tensor<i1>) -> tensor<?x?xf32> {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>):
    kiln.yield %ci, %v : tensor<i1>, tensor<?xf32>
  }
  return %r : tensor<?x?xf32>
}

// CHECK-LABEL: func.func @dynamic_scan
// CHECK: %[[ROWS:.*]] = arith.index_cast
// CHECK: %[[EMPTY:.*]] = tensor.empty(%[[ROWS]], %c0) : tensor<?x?xf32>
// CHECK: scf.while (%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %[[EMPTY]])
// CHECK: } do {
// CHECK: ^bb0(%[[I:.*]]: i64, %{{.*}}: i1, %[[BUF:.*]]: tensor<?x?xf32>):
// CHECK:   %[[FIRST:.*]] = arith.cmpi eq, %[[I]]
// CHECK:   %[[B:.*]] = scf.if %[[FIRST]] -> (tensor<?x?xf32>) {
// CHECK:     tensor.empty(%[[ROWS]], %{{.*}}) : tensor<?x?xf32>
// CHECK:   } else {
// CHECK:     scf.yield %[[BUF]]
// CHECK:   call @kiln_rt_check_dim
// CHECK:   tensor.insert_slice %arg2 into %[[B]]
