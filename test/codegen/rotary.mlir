// RUN: kiln-opt %s -split-input-file -convert-kiln-to-linalg | FileCheck %s
// RUN: kiln-opt %s -split-input-file -convert-kiln-to-linalg | FileCheck %s --check-prefix=NOKILN

// kiln.rotary_embedding lowers completely.
// NOKILN-NOT: kiln.

// Full width (R = D = 16), not interleaved, cos/sin [S, D] against
// [B, H, S, D]: one elementwise linalg.generic over the input. Each feature d
// reads its partner d + 8 (d < 8, negated) or d - 8 from the input with
// tensor.extract, and cos/sin at [s, min(d, 15)]:
// y = x[d] * cos[d] + (d < 8 ? -x[d + 8] : x[d - 8]) * sin[d].
// CHECK-DAG:   #[[$ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @full_width(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x4x6x16xf32>, %[[COS:[^:]*]]: tensor<6x16xf32>, %[[SIN:[^:]*]]: tensor<6x16xf32>)
// CHECK-DAG:     %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG:     %[[C15:.*]] = arith.constant 15 : index
// CHECK-DAG:     %[[C16:.*]] = arith.constant 16 : index
// CHECK-NOT:     func.call
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<2x4x6x16xf32>
// CHECK:         %[[G:.*]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME:      ins(%[[X]] : tensor<2x4x6x16xf32>) outs(%[[E]] : tensor<2x4x6x16xf32>)
// CHECK:         ^bb0(%[[IN:[^:]*]]: f32, %{{[^:]*}}: f32):
// CHECK-DAG:       %[[I0:.*]] = linalg.index 0 : index
// CHECK-DAG:       %[[I1:.*]] = linalg.index 1 : index
// CHECK-DAG:       %[[I2:.*]] = linalg.index 2 : index
// CHECK-DAG:       %[[D:.*]] = linalg.index 3 : index
// CHECK-DAG:       %[[INROT:.*]] = arith.cmpi slt, %[[D]], %[[C16]] : index
// CHECK-DAG:       %[[FIRST:.*]] = arith.cmpi slt, %[[D]], %[[C8]] : index
// CHECK-DAG:       %[[LO:.*]] = arith.subi %[[D]], %[[C8]] : index
// CHECK-DAG:       %[[HI:.*]] = arith.addi %[[D]], %[[C8]] : index
// CHECK-DAG:       %[[P0:.*]] = arith.select %[[FIRST]], %[[HI]], %[[LO]] : index
// CHECK-DAG:       %[[P:.*]] = arith.select %[[INROT]], %[[P0]], %[[D]] : index
// CHECK-DAG:       %[[DC:.*]] = arith.minsi %[[D]], %[[C15]] : index
// CHECK-DAG:       %[[XP:.*]] = tensor.extract %[[X]][%[[I0]], %[[I1]], %[[I2]], %[[P]]] : tensor<2x4x6x16xf32>
// CHECK-DAG:       %[[CV:.*]] = tensor.extract %[[COS]][%[[I2]], %[[DC]]] : tensor<6x16xf32>
// CHECK-DAG:       %[[SV:.*]] = tensor.extract %[[SIN]][%[[I2]], %[[DC]]] : tensor<6x16xf32>
// CHECK-DAG:       %[[NEG:.*]] = arith.negf %[[XP]] : f32
// CHECK-DAG:       %[[ROT:.*]] = arith.select %[[FIRST]], %[[NEG]], %[[XP]] : f32
// CHECK-DAG:       %[[RS:.*]] = arith.mulf %[[ROT]], %[[SV]] : f32
// CHECK-DAG:       %[[XC:.*]] = arith.mulf %[[IN]], %[[CV]] : f32
// CHECK-DAG:       %[[SUM:.*]] = arith.addf %[[XC]], %[[RS]] : f32
// CHECK:           %[[Y:.*]] = arith.select %[[INROT]], %[[SUM]], %[[IN]] : f32
// CHECK-NEXT:      linalg.yield %[[Y]] : f32
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[G]]
func.func @full_width(%x: tensor<2x4x6x16xf32>, %c: tensor<6x16xf32>, %s: tensor<6x16xf32>) -> tensor<2x4x6x16xf32> {
  %0 = kiln.rotary_embedding %x, %c, %s : (tensor<2x4x6x16xf32>, tensor<6x16xf32>, tensor<6x16xf32>) -> tensor<2x4x6x16xf32>
  return %0 : tensor<2x4x6x16xf32>
}

// -----

// A partial rotation (R = 8 of D = 16) on [B, S, H, D] with cos/sin
// [B, S, 1, R]: partners d +- 4, cos/sin read at [b, s, 0, min(d, 7)] (the
// size-1 head dim at index 0), and features d >= 8 pass the input through
// (the select on d < 8).
// CHECK-LABEL: func.func @partial(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x6x4x16xf32>, %[[COS:[^:]*]]: tensor<2x6x1x8xf32>, %[[SIN:[^:]*]]: tensor<2x6x1x8xf32>)
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG:     %[[C7:.*]] = arith.constant 7 : index
// CHECK-DAG:     %[[C8:.*]] = arith.constant 8 : index
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%[[X]] : tensor<2x6x4x16xf32>)
// CHECK:         ^bb0(%[[IN:[^:]*]]: f32, %{{[^:]*}}: f32):
// CHECK-DAG:       %[[I0:.*]] = linalg.index 0 : index
// CHECK-DAG:       %[[I1:.*]] = linalg.index 1 : index
// CHECK-DAG:       %[[I2:.*]] = linalg.index 2 : index
// CHECK-DAG:       %[[D:.*]] = linalg.index 3 : index
// CHECK-DAG:       %[[INROT:.*]] = arith.cmpi slt, %[[D]], %[[C8]] : index
// CHECK-DAG:       %[[FIRST:.*]] = arith.cmpi slt, %[[D]], %[[C4]] : index
// CHECK-DAG:       %[[LO:.*]] = arith.subi %[[D]], %[[C4]] : index
// CHECK-DAG:       %[[HI:.*]] = arith.addi %[[D]], %[[C4]] : index
// CHECK-DAG:       %[[P0:.*]] = arith.select %[[FIRST]], %[[HI]], %[[LO]] : index
// CHECK-DAG:       %[[P:.*]] = arith.select %[[INROT]], %[[P0]], %[[D]] : index
// CHECK-DAG:       %[[DC:.*]] = arith.minsi %[[D]], %[[C7]] : index
// CHECK-DAG:       tensor.extract %[[X]][%[[I0]], %[[I1]], %[[I2]], %[[P]]] : tensor<2x6x4x16xf32>
// CHECK-DAG:       %[[CV:.*]] = tensor.extract %[[COS]][%[[I0]], %[[I1]], %[[C0]], %[[DC]]] : tensor<2x6x1x8xf32>
// CHECK-DAG:       tensor.extract %[[SIN]][%[[I0]], %[[I1]], %[[C0]], %[[DC]]] : tensor<2x6x1x8xf32>
// CHECK-DAG:       %[[XC:.*]] = arith.mulf %[[IN]], %[[CV]] : f32
// CHECK-DAG:       %[[SUM:.*]] = arith.addf %[[XC]], %{{.*}} : f32
// CHECK:           %[[Y:.*]] = arith.select %[[INROT]], %[[SUM]], %[[IN]] : f32
// CHECK-NEXT:      linalg.yield %[[Y]] : f32
func.func @partial(%x: tensor<2x6x4x16xf32>, %c: tensor<2x6x1x8xf32>, %s: tensor<2x6x1x8xf32>) -> tensor<2x6x4x16xf32> {
  %0 = kiln.rotary_embedding %x, %c, %s : (tensor<2x6x4x16xf32>, tensor<2x6x1x8xf32>, tensor<2x6x1x8xf32>) -> tensor<2x6x4x16xf32>
  return %0 : tensor<2x6x4x16xf32>
}

// -----

// Interleaved, partial (R = 8 of D = 16), with dynamic batch and sequence:
// the partner is d xor 1, the negated one the even feature ((d and 1) == 0);
// the dynamic cos/sin extents are checked against the input's at run time
// (kiln_rt_check_dim, two per cos/sin), the size-1 head dim reads index 0.
// CHECK-LABEL: func.func @interleaved_dynamic(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x4x?x16xf32>, %[[COS:[^:]*]]: tensor<?x1x?x8xf32>, %[[SIN:[^:]*]]: tensor<?x1x?x8xf32>)
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG:     %[[C7:.*]] = arith.constant 7 : index
// CHECK-DAG:     %[[C8:.*]] = arith.constant 8 : index
// CHECK-COUNT-4: call @kiln_rt_check_dim
// CHECK-NOT:     call @kiln_rt_check_dim
// CHECK:         %[[G:.*]] = linalg.generic
// CHECK-SAME:      ins(%[[X]] : tensor<?x4x?x16xf32>)
// CHECK:         ^bb0(%[[IN:[^:]*]]: f32, %{{[^:]*}}: f32):
// CHECK-DAG:       %[[I0:.*]] = linalg.index 0 : index
// CHECK-DAG:       %[[I1:.*]] = linalg.index 1 : index
// CHECK-DAG:       %[[I2:.*]] = linalg.index 2 : index
// CHECK-DAG:       %[[D:.*]] = linalg.index 3 : index
// CHECK-DAG:       %[[INROT:.*]] = arith.cmpi slt, %[[D]], %[[C8]] : index
// CHECK-DAG:       %[[BIT:.*]] = arith.andi %[[D]], %[[C1]] : index
// CHECK-DAG:       %[[EVEN:.*]] = arith.cmpi eq, %[[BIT]], %[[C0]] : index
// CHECK-DAG:       %[[XOR:.*]] = arith.xori %[[D]], %[[C1]] : index
// CHECK-DAG:       %[[P:.*]] = arith.select %[[INROT]], %[[XOR]], %[[D]] : index
// CHECK-DAG:       %[[DC:.*]] = arith.minsi %[[D]], %[[C7]] : index
// CHECK-DAG:       %[[XP:.*]] = tensor.extract %[[X]][%[[I0]], %[[I1]], %[[I2]], %[[P]]] : tensor<?x4x?x16xf32>
// CHECK-DAG:       tensor.extract %[[COS]][%[[I0]], %[[C0]], %[[I2]], %[[DC]]] : tensor<?x1x?x8xf32>
// CHECK-DAG:       tensor.extract %[[SIN]][%[[I0]], %[[C0]], %[[I2]], %[[DC]]] : tensor<?x1x?x8xf32>
// CHECK-DAG:       %[[NEG:.*]] = arith.negf %[[XP]] : f32
// CHECK-DAG:       arith.select %[[EVEN]], %[[NEG]], %[[XP]] : f32
// CHECK:           %[[Y:.*]] = arith.select %[[INROT]], %{{.*}}, %[[IN]] : f32
// CHECK-NEXT:      linalg.yield %[[Y]] : f32
// CHECK:         return %[[G]]
func.func @interleaved_dynamic(%x: tensor<?x4x?x16xf32>, %c: tensor<?x1x?x8xf32>, %s: tensor<?x1x?x8xf32>) -> tensor<?x4x?x16xf32> {
  %0 = kiln.rotary_embedding %x, %c, %s {interleaved = true} : (tensor<?x4x?x16xf32>, tensor<?x1x?x8xf32>, tensor<?x1x?x8xf32>) -> tensor<?x4x?x16xf32>
  return %0 : tensor<?x4x?x16xf32>
}

// -----

// A dynamic head size: the lowering checks at run time that it is at least
// the rotary width (max(D, 8) == D).
// CHECK-LABEL: func.func @dynamic_head(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<3x?xf32>, %[[C:[^:]*]]: tensor<8xf32>)
// CHECK-DAG:     %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG:     %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG:     %[[D:.*]] = tensor.dim %[[X]], %[[C1]] : tensor<3x?xf32>
// CHECK-DAG:     %[[MAX:.*]] = arith.maxsi %{{.*}}, %[[C8]] : index
// CHECK-DAG:     %[[MAXI:.*]] = arith.index_cast %[[MAX]] : index to i64
// CHECK:         call @kiln_rt_check_dim(%[[MAXI]], %{{.*}}) : (i64, i64) -> ()
// CHECK:         linalg.generic
// CHECK:           tensor.extract %[[X]]
// CHECK:           tensor.extract %[[C]]
// CHECK:           tensor.extract %[[C]]
// CHECK:           linalg.yield
func.func @dynamic_head(%x: tensor<3x?xf32>, %c: tensor<8xf32>) -> tensor<3x?xf32> {
  %0 = kiln.rotary_embedding %x, %c, %c : (tensor<3x?xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<3x?xf32>
  return %0 : tensor<3x?xf32>
}
