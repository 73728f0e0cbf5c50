// RUN: kiln-opt %s -split-input-file -convert-kiln-to-linalg | FileCheck %s
// RUN: kiln-opt %s -split-input-file -convert-kiln-to-linalg | FileCheck %s --check-prefix=NOKILN

// Every case lowers completely: no kiln op is left anywhere in the output
// (the decomposed softmax and layer_norm included).
// NOKILN-NOT: kiln.

// Elementwise with broadcasting: the rank-1 operand is read through a map
// that drops the leading dim; the dynamic extent comes from the operand
// that has it. Static extents need no run-time check. The pass declares
// the runtime's shape-check hook once per module.
// CHECK-DAG:   #[[$ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG:   #[[$ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK:       func.func private @kiln_rt_check_dim(i64, i64)
// CHECK-LABEL: func.func @add_broadcast(
// CHECK-SAME:    %[[A:.*]]: tensor<?x4xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK:         %[[C0:.*]] = arith.constant 0 : index
// CHECK:         %[[D0:.*]] = tensor.dim %[[A]], %[[C0]] : tensor<?x4xf32>
// CHECK:         %[[E:.*]] = tensor.empty(%[[D0]]) : tensor<?x4xf32>
// CHECK-NOT:     kiln_rt_check_dim
// CHECK:         %[[R:.*]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ROW]], #[[$ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME:      ins(%[[A]], %[[B]] : tensor<?x4xf32>, tensor<4xf32>) outs(%[[E]] : tensor<?x4xf32>)
// CHECK:         ^bb0(%[[X:[^:]*]]: f32, %[[Y:[^:]*]]: f32, %{{[^:]*}}: f32):
// CHECK:           %[[S:.*]] = arith.addf %[[X]], %[[Y]] : f32
// CHECK:           linalg.yield %[[S]] : f32
// CHECK:         return %[[R]] : tensor<?x4xf32>
func.func @add_broadcast(%a: tensor<?x4xf32>, %b: tensor<4xf32>) -> tensor<?x4xf32> {
  %0 = kiln.add %a, %b : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// Two dims known only at run time must agree: the runtime hook checks them
// before the loop runs.
// CHECK:       func.func private @kiln_rt_check_dim(i64, i64)
// CHECK-LABEL: func.func @add_dynamic(
// CHECK-SAME:    %[[A:.*]]: tensor<?xf32>, %[[B:.*]]: tensor<?xf32>)
// CHECK-DAG:     %[[DA:.*]] = tensor.dim %[[A]], %{{.*}} : tensor<?xf32>
// CHECK-DAG:     %[[DB:.*]] = tensor.dim %[[B]], %{{.*}} : tensor<?xf32>
// CHECK-DAG:     %[[IA:.*]] = arith.index_cast %[[DA]] : index to i64
// CHECK-DAG:     %[[IB:.*]] = arith.index_cast %[[DB]] : index to i64
// CHECK:         call @kiln_rt_check_dim(%[[IA]], %[[IB]]) : (i64, i64) -> ()
// CHECK:         %[[E:.*]] = tensor.empty(%{{.*}}) : tensor<?xf32>
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%[[A]], %[[B]] : tensor<?xf32>, tensor<?xf32>) outs(%[[E]] : tensor<?xf32>)
// CHECK:           arith.addf
func.func @add_dynamic(%a: tensor<?xf32>, %b: tensor<?xf32>) -> tensor<?xf32> {
  %0 = kiln.add %a, %b : (tensor<?xf32>, tensor<?xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// A comparison yields i1; a static unit dim broadcasts through a constant 0
// in its map. Signed integers compare with a signed predicate.
// CHECK-DAG:   #[[$ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG:   #[[$BC:.*]] = affine_map<(d0, d1) -> (0, d1)>
// CHECK-LABEL: func.func @less(
// CHECK-SAME:    %[[A:.*]]: tensor<2x4xi64>, %[[B:.*]]: tensor<1x4xi64>)
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<2x4xi1>
// CHECK:         %[[R:.*]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$BC]], #[[$ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME:      ins(%[[A]], %[[B]] : tensor<2x4xi64>, tensor<1x4xi64>) outs(%[[E]] : tensor<2x4xi1>)
// CHECK:         ^bb0(%[[X:[^:]*]]: i64, %[[Y:[^:]*]]: i64, %{{[^:]*}}: i1):
// CHECK:           %[[LT:.*]] = arith.cmpi slt, %[[X]], %[[Y]] : i64
// CHECK:           linalg.yield %[[LT]] : i1
// CHECK:         } -> tensor<2x4xi1>
// CHECK:         return %[[R]]
func.func @less(%a: tensor<2x4xi64>, %b: tensor<1x4xi64>) -> tensor<2x4xi1> {
  %0 = kiln.less %a, %b : (tensor<2x4xi64>, tensor<1x4xi64>) -> tensor<2x4xi1>
  return %0 : tensor<2x4xi1>
}

// -----

// A unary op with an attribute: leaky_relu's alpha becomes a scalar
// constant used in the body.
// CHECK-LABEL: func.func @leaky_relu(
// CHECK-SAME:    %[[A:.*]]: tensor<8xf32>)
// CHECK-DAG:     %[[ALPHA:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%[[A]] : tensor<8xf32>)
// CHECK:         ^bb0(%[[X:[^:]*]]: f32, %{{[^:]*}}: f32):
// CHECK:           %[[NEG:.*]] = arith.cmpf olt, %[[X]], %[[ZERO]] : f32
// CHECK:           %[[SC:.*]] = arith.mulf %[[X]], %[[ALPHA]] : f32
// CHECK:           %[[SEL:.*]] = arith.select %[[NEG]], %[[SC]], %[[X]] : f32
// CHECK:           linalg.yield %[[SEL]] : f32
func.func @leaky_relu(%a: tensor<8xf32>) -> tensor<8xf32> {
  %0 = kiln.leaky_relu %a {alpha = 0.25 : f32} : tensor<8xf32> -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// Cast f32 -> i64 truncates toward zero.
// CHECK-LABEL: func.func @cast(
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<3xi64>
// CHECK:         linalg.generic
// CHECK-SAME:      outs(%[[E]] : tensor<3xi64>)
// CHECK:         ^bb0(%[[X:[^:]*]]: f32, %{{[^:]*}}: i64):
// CHECK:           %[[I:.*]] = arith.fptosi %[[X]] : f32 to i64
// CHECK:           linalg.yield %[[I]] : i64
func.func @cast(%a: tensor<3xf32>) -> tensor<3xi64> {
  %0 = kiln.cast %a : tensor<3xf32> -> tensor<3xi64>
  return %0 : tensor<3xi64>
}

// -----

// 2-D matmul: linalg.matmul into a zero-filled init whose dynamic M comes
// from the lhs.
// CHECK-LABEL: func.func @matmul_2d(
// CHECK-SAME:    %[[A:.*]]: tensor<?x8xf32>, %[[B:.*]]: tensor<8x16xf32>)
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK:         %[[M:.*]] = tensor.dim %[[A]], %[[C0]] : tensor<?x8xf32>
// CHECK:         %[[E:.*]] = tensor.empty(%[[M]]) : tensor<?x16xf32>
// CHECK:         %[[F:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[E]] : tensor<?x16xf32>) -> tensor<?x16xf32>
// CHECK:         %[[R:.*]] = linalg.matmul ins(%[[A]], %[[B]] : tensor<?x8xf32>, tensor<8x16xf32>) outs(%[[F]] : tensor<?x16xf32>) -> tensor<?x16xf32>
// CHECK:         return %[[R]]
func.func @matmul_2d(%a: tensor<?x8xf32>, %b: tensor<8x16xf32>) -> tensor<?x16xf32> {
  %0 = kiln.matmul %a, %b : (tensor<?x8xf32>, tensor<8x16xf32>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}

// -----

// [B, M, K] x [K, N]: the leading dims fold into M around one linalg.matmul.
// CHECK-LABEL: func.func @matmul_3d_2d(
// CHECK-SAME:    %[[A:.*]]: tensor<2x3x8xf32>, %[[B:.*]]: tensor<8x16xf32>)
// CHECK-DAG:     %[[OUT_SHAPE:.*]] = arith.constant dense<[2, 3, 16]> : tensor<3xi64>
// CHECK-DAG:     %[[IN_SHAPE:.*]] = arith.constant dense<[6, 8]> : tensor<2xi64>
// CHECK:         %[[A2:.*]] = tensor.reshape %[[A]](%[[IN_SHAPE]]) : (tensor<2x3x8xf32>, tensor<2xi64>) -> tensor<6x8xf32>
// CHECK:         %[[F:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<6x16xf32>) -> tensor<6x16xf32>
// CHECK:         %[[M:.*]] = linalg.matmul ins(%[[A2]], %[[B]] : tensor<6x8xf32>, tensor<8x16xf32>) outs(%[[F]] : tensor<6x16xf32>) -> tensor<6x16xf32>
// CHECK:         %[[R:.*]] = tensor.reshape %[[M]](%[[OUT_SHAPE]]) : (tensor<6x16xf32>, tensor<3xi64>) -> tensor<2x3x16xf32>
// CHECK:         return %[[R]]
func.func @matmul_3d_2d(%a: tensor<2x3x8xf32>, %b: tensor<8x16xf32>) -> tensor<2x3x16xf32> {
  %0 = kiln.matmul %a, %b : (tensor<2x3x8xf32>, tensor<8x16xf32>) -> tensor<2x3x16xf32>
  return %0 : tensor<2x3x16xf32>
}

// -----

// 4-D with the same batch dims on both sides: linalg.batch_matmul over the
// flattened batch (2 * 3 = 6), reshaped back.
// CHECK-LABEL: func.func @batch_matmul(
// CHECK-SAME:    %[[A:.*]]: tensor<2x3x4x8xf32>, %[[B:.*]]: tensor<2x3x8x5xf32>)
// CHECK-DAG:     %[[OUT_SHAPE:.*]] = arith.constant dense<[2, 3, 4, 5]> : tensor<4xi64>
// CHECK-DAG:     %[[B_SHAPE:.*]] = arith.constant dense<[6, 8, 5]> : tensor<3xi64>
// CHECK-DAG:     %[[A_SHAPE:.*]] = arith.constant dense<[6, 4, 8]> : tensor<3xi64>
// CHECK-DAG:     %[[A3:.*]] = tensor.reshape %[[A]](%[[A_SHAPE]]) : (tensor<2x3x4x8xf32>, tensor<3xi64>) -> tensor<6x4x8xf32>
// CHECK-DAG:     %[[B3:.*]] = tensor.reshape %[[B]](%[[B_SHAPE]]) : (tensor<2x3x8x5xf32>, tensor<3xi64>) -> tensor<6x8x5xf32>
// CHECK:         linalg.fill
// CHECK:         %[[M:.*]] = linalg.batch_matmul ins(%[[A3]], %[[B3]] : tensor<6x4x8xf32>, tensor<6x8x5xf32>) outs(%{{.*}} : tensor<6x4x5xf32>) -> tensor<6x4x5xf32>
// CHECK:         %[[R:.*]] = tensor.reshape %[[M]](%[[OUT_SHAPE]]) : (tensor<6x4x5xf32>, tensor<4xi64>) -> tensor<2x3x4x5xf32>
// CHECK:         return %[[R]]
func.func @batch_matmul(%a: tensor<2x3x4x8xf32>, %b: tensor<2x3x8x5xf32>) -> tensor<2x3x4x5xf32> {
  %0 = kiln.matmul %a, %b : (tensor<2x3x4x8xf32>, tensor<2x3x8x5xf32>) -> tensor<2x3x4x5xf32>
  return %0 : tensor<2x3x4x5xf32>
}

// -----

// Reshape to a static type: tensor.reshape with the constant shape.
// CHECK-LABEL: func.func @reshape(
// CHECK-SAME:    %[[X:.*]]: tensor<2x6xf32>)
// CHECK:         %[[S:.*]] = arith.constant dense<[3, 4]> : tensor<2xi64>
// CHECK:         %[[R:.*]] = tensor.reshape %[[X]](%[[S]]) : (tensor<2x6xf32>, tensor<2xi64>) -> tensor<3x4xf32>
// CHECK:         return %[[R]]
func.func @reshape(%x: tensor<2x6xf32>) -> tensor<3x4xf32> {
  %s = kiln.constant dense<[3, 4]> : tensor<2xi64>
  %0 = kiln.reshape %x, %s : (tensor<2x6xf32>, tensor<2xi64>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

// A reshape that copies (0) the leading dims and splits the static last
// one (attention's [B, S, H * D] -> [B, S, H, D]) is a tensor.expand_shape:
// a view of a strided buffer too (a column slice of merged Q/K/V).
// CHECK-LABEL: func.func @reshape_split_heads(
// CHECK-SAME:    %[[X:.*]]: tensor<?x?x256xf32>)
// CHECK-DAG:     %[[B:.*]] = tensor.dim %[[X]], %c0
// CHECK-DAG:     %[[S:.*]] = tensor.dim %[[X]], %c1
// CHECK:         %[[E:.*]] = tensor.expand_shape %[[X]] {{\[}}[0], [1], [2, 3]] output_shape [%[[B]], %[[S]], 4, 64] : tensor<?x?x256xf32> into tensor<?x?x4x64xf32>
// CHECK-NOT:     tensor.reshape
// CHECK:         return %[[E]]
func.func @reshape_split_heads(%x: tensor<?x?x256xf32>) -> tensor<?x?x4x64xf32> {
  %s = kiln.constant dense<[0, 0, 4, 64]> : tensor<4xi64>
  %0 = kiln.reshape %x, %s : (tensor<?x?x256xf32>, tensor<4xi64>) -> tensor<?x?x4x64xf32>
  return %0 : tensor<?x?x4x64xf32>
}

// -----

// Trailing unit dims join the last group.
// CHECK-LABEL: func.func @reshape_split_unit(
// CHECK:         tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2, 3]] output_shape [%{{.*}}, 2, 3, 1] : tensor<?x6xf32> into tensor<?x2x3x1xf32>
func.func @reshape_split_unit(%x: tensor<?x6xf32>) -> tensor<?x2x3x1xf32> {
  %s = kiln.constant dense<[0, 2, 3, 1]> : tensor<4xi64>
  %0 = kiln.reshape %x, %s : (tensor<?x6xf32>, tensor<4xi64>) -> tensor<?x2x3x1xf32>
  return %0 : tensor<?x2x3x1xf32>
}

// -----

// Not provably a split: -1 (inferred) where the dim is dynamic, a
// dynamic dim split, and products that do not match stay tensor.reshape.
// CHECK-LABEL: func.func @reshape_not_split(
// CHECK-NOT:     tensor.expand_shape
// CHECK-COUNT-2: tensor.reshape
// CHECK-NOT:     tensor.expand_shape
func.func @reshape_not_split(%x: tensor<?x?x256xf32>, %y: tensor<?x6xf32>) -> (tensor<?x?x4x?xf32>, tensor<?x4x3xf32>) {
  %s = kiln.constant dense<[0, 0, 4, -1]> : tensor<4xi64>
  %0 = kiln.reshape %x, %s : (tensor<?x?x256xf32>, tensor<4xi64>) -> tensor<?x?x4x?xf32>
  %t = kiln.constant dense<[-1, 4, 3]> : tensor<3xi64>
  %1 = kiln.reshape %y, %t : (tensor<?x6xf32>, tensor<3xi64>) -> tensor<?x4x3xf32>
  return %0, %1 : tensor<?x?x4x?xf32>, tensor<?x4x3xf32>
}

// -----

// Transpose: linalg.transpose into an init with the permuted extents.
// CHECK-LABEL: func.func @transpose(
// CHECK-SAME:    %[[X:.*]]: tensor<?x3x2xf32>)
// CHECK:         %[[D0:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x3x2xf32>
// CHECK:         %[[E:.*]] = tensor.empty(%[[D0]]) : tensor<?x2x3xf32>
// CHECK:         %[[T:.*]] = linalg.transpose ins(%[[X]] : tensor<?x3x2xf32>) outs(%[[E]] : tensor<?x2x3xf32>) permutation = [0, 2, 1]
// CHECK:         return %[[T]]
func.func @transpose(%x: tensor<?x3x2xf32>) -> tensor<?x2x3xf32> {
  %0 = kiln.transpose %x {perm = array<i64: 0, 2, 1>} : (tensor<?x3x2xf32>) -> tensor<?x2x3xf32>
  return %0 : tensor<?x2x3xf32>
}

// -----

// Concat: each input is inserted at its running offset along the axis.
// CHECK-LABEL: func.func @concat(
// CHECK-SAME:    %[[A:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<2x5xf32>)
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[C3:.*]] = arith.constant 3 : index
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<2x8xf32>
// CHECK:         %[[I0:.*]] = tensor.insert_slice %[[A]] into %[[E]][0, %[[C0]]] [2, 3] [1, 1] : tensor<2x3xf32> into tensor<2x8xf32>
// CHECK:         %[[I1:.*]] = tensor.insert_slice %[[B]] into %[[I0]][0, %[[C3]]] [2, 5] [1, 1] : tensor<2x5xf32> into tensor<2x8xf32>
// CHECK:         return %[[I1]]
func.func @concat(%a: tensor<2x3xf32>, %b: tensor<2x5xf32>) -> tensor<2x8xf32> {
  %0 = kiln.concat %a, %b {axis = 1} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// Slice with constant starts/ends/steps: a generic with no inputs reads
// x[1 + 2 * i, j] through tensor.extract.
// CHECK-DAG:   #[[$ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @slice(
// CHECK-SAME:    %[[X:.*]]: tensor<8x6xf32>)
// CHECK-DAG:     %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG:     %[[C2:.*]] = arith.constant 2 : index
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<3x6xf32>
// CHECK:         %[[R:.*]] = linalg.generic {indexing_maps = [#[[$ID]]], iterator_types = ["parallel", "parallel"]} outs(%[[E]] : tensor<3x6xf32>)
// CHECK:           %[[I:.*]] = linalg.index 0 : index
// CHECK:           %[[IS:.*]] = arith.muli %[[I]], %[[C2]] : index
// CHECK:           %[[II:.*]] = arith.addi %[[IS]], %[[C1]] : index
// CHECK:           %[[J:.*]] = linalg.index 1 : index
// CHECK:           %[[V:.*]] = tensor.extract %[[X]][%[[II]], %[[J]]] : tensor<8x6xf32>
// CHECK:           linalg.yield %[[V]] : f32
// CHECK:         return %[[R]]
func.func @slice(%x: tensor<8x6xf32>) -> tensor<3x6xf32> {
  %starts = kiln.constant dense<[1]> : tensor<1xi64>
  %ends = kiln.constant dense<[7]> : tensor<1xi64>
  %axes = kiln.constant dense<[0]> : tensor<1xi64>
  %steps = kiln.constant dense<[2]> : tensor<1xi64>
  %0 = kiln.slice %x, %starts, %ends, %axes, %steps : (tensor<8x6xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3x6xf32>
  return %0 : tensor<3x6xf32>
}

// -----

// Gather along axis 1: the generic walks the indices; each index wraps if
// negative, is clamped into [0, 5], and is read with tensor.extract.
// CHECK-DAG:   #[[$IND:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG:   #[[$ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @gather(
// CHECK-SAME:    %[[X:.*]]: tensor<?x6xf32>, %[[IDX:.*]]: tensor<3xi64>)
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[C5:.*]] = arith.constant 5 : index
// CHECK-DAG:     %[[C6:.*]] = arith.constant 6 : index
// CHECK:         %[[D0:.*]] = tensor.dim %[[X]], %[[C0]] : tensor<?x6xf32>
// CHECK:         %[[E:.*]] = tensor.empty(%[[D0]]) : tensor<?x3xf32>
// CHECK:         %[[R:.*]] = linalg.generic {indexing_maps = [#[[$IND]], #[[$ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME:      ins(%[[IDX]] : tensor<3xi64>) outs(%[[E]] : tensor<?x3xf32>)
// CHECK:         ^bb0(%[[IN:[^:]*]]: i64, %{{[^:]*}}: f32):
// CHECK:           %[[I:.*]] = linalg.index 0 : index
// CHECK:           %[[K:.*]] = arith.index_cast %[[IN]] : i64 to index
// CHECK:           %[[NEG:.*]] = arith.cmpi slt, %[[K]], %[[C0]] : index
// CHECK:           %[[WR:.*]] = arith.addi %[[K]], %[[C6]] : index
// CHECK:           %[[W:.*]] = arith.select %[[NEG]], %[[WR]], %[[K]] : index
// CHECK:           %[[HI:.*]] = arith.minsi %[[W]], %[[C5]] : index
// CHECK:           %[[LO:.*]] = arith.maxsi %[[HI]], %[[C0]] : index
// CHECK:           %[[V:.*]] = tensor.extract %[[X]][%[[I]], %[[LO]]] : tensor<?x6xf32>
// CHECK:           linalg.yield %[[V]] : f32
// CHECK:         return %[[R]]
func.func @gather(%x: tensor<?x6xf32>, %i: tensor<3xi64>) -> tensor<?x3xf32> {
  %0 = kiln.gather %x, %i {axis = 1} : (tensor<?x6xf32>, tensor<3xi64>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

// -----

// reduce_sum with keepdims: a zero-filled reduction generic over the
// dropped dim, then a reshape that re-inserts the unit dim.
// CHECK-DAG:   #[[$IN:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG:   #[[$OUT:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @reduce_sum_keepdims(
// CHECK-SAME:    %[[X:.*]]: tensor<2x?x4xf32>)
// CHECK-DAG:     %[[SHAPE:.*]] = arith.constant dense<[2, 1, 4]> : tensor<3xi64>
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<2x4xf32>
// CHECK:         %[[F:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[E]] : tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK:         %[[S:.*]] = linalg.generic {indexing_maps = [#[[$IN]], #[[$OUT]]], iterator_types = ["parallel", "reduction", "parallel"]}
// CHECK-SAME:      ins(%[[X]] : tensor<2x?x4xf32>) outs(%[[F]] : tensor<2x4xf32>)
// CHECK:         ^bb0(%[[V:[^:]*]]: f32, %[[ACC:[^:]*]]: f32):
// CHECK:           %[[SUM:.*]] = arith.addf %[[V]], %[[ACC]] : f32
// CHECK:           linalg.yield %[[SUM]] : f32
// CHECK:         %[[R:.*]] = tensor.reshape %[[S]](%[[SHAPE]]) : (tensor<2x4xf32>, tensor<3xi64>) -> tensor<2x1x4xf32>
// CHECK:         return %[[R]]
func.func @reduce_sum_keepdims(%x: tensor<2x?x4xf32>) -> tensor<2x1x4xf32> {
  %0 = kiln.reduce_sum %x {axes = array<i64: 1>} : (tensor<2x?x4xf32>) -> tensor<2x1x4xf32>
  return %0 : tensor<2x1x4xf32>
}

// -----

// Softmax decomposes into max-reduce, sub, exp, sum-reduce, div; nothing
// of kiln is left.
// CHECK-LABEL: func.func @softmax(
// CHECK-SAME:    %[[X:.*]]: tensor<2x8xf32>)
// CHECK-DAG:     %[[NINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[MI:.*]] = linalg.fill ins(%[[NINF]] : f32) outs(%{{.*}} : tensor<2xf32>)
// CHECK:         %[[MAX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<2x8xf32>) outs(%[[MI]] : tensor<2xf32>)
// CHECK:           arith.maximumf %{{.*}} : f32
// CHECK:         %[[MAXK:.*]] = tensor.reshape %[[MAX]]({{.*}}) : (tensor<2xf32>, tensor<2xi64>) -> tensor<2x1xf32>
// CHECK:         %[[D:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[MAXK]] : tensor<2x8xf32>, tensor<2x1xf32>)
// CHECK:           arith.subf
// CHECK:         %[[EXP:.*]] = linalg.generic {{.*}} ins(%[[D]] : tensor<2x8xf32>)
// CHECK:           math.exp %{{.*}} : f32
// CHECK:         %[[SI:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<2xf32>)
// CHECK:         %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[EXP]] : tensor<2x8xf32>) outs(%[[SI]] : tensor<2xf32>)
// CHECK:           arith.addf
// CHECK:         %[[SUMK:.*]] = tensor.reshape %[[SUM]]({{.*}}) : (tensor<2xf32>, tensor<2xi64>) -> tensor<2x1xf32>
// CHECK:         %[[R:.*]] = linalg.generic {{.*}} ins(%[[EXP]], %[[SUMK]] : tensor<2x8xf32>, tensor<2x1xf32>)
// CHECK:           arith.divf
// CHECK:         return %[[R]]
func.func @softmax(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %0 = kiln.softmax %x {axis = -1} : tensor<2x8xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// Layer norm is one statistics pass (sum and sum of squares per row, as
// ONNX Runtime's kernel) and one normalize pass that applies mean,
// rsqrt(var + eps), scale and bias.
// CHECK-LABEL: func.func @layer_norm(
// CHECK-SAME:    %[[X:.*]]: tensor<2x8xf32>, %[[G:.*]]: tensor<8xf32>, %[[B:.*]]: tensor<8xf32>)
// CHECK-DAG:     %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK-DAG:     %[[N:.*]] = arith.constant 8.000000e+00 : f32
// CHECK:         %[[ST:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<2x8xf32>) outs(%{{.*}}, %{{.*}} : tensor<2xf32>, tensor<2xf32>)
// CHECK:           arith.mulf %{{.*}}, %{{.*}} fastmath<reassoc,contract>
// CHECK:           arith.addf
// CHECK:           arith.addf
// CHECK:         %[[Y:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[ST]]#0, %[[ST]]#1, %[[G]], %[[B]] : tensor<2x8xf32>, tensor<2xf32>, tensor<2xf32>, tensor<8xf32>, tensor<8xf32>)
// CHECK:           %[[MEAN:.*]] = arith.divf %{{.*}}, %[[N]]
// CHECK:           arith.maximumf
// CHECK:           %[[VE:.*]] = arith.addf %{{.*}}, %[[EPS]]
// CHECK:           math.rsqrt %[[VE]]
// CHECK:           arith.subf %{{.*}}, %[[MEAN]]
// CHECK:         return %[[Y]]
func.func @layer_norm(%x: tensor<2x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x8xf32> {
  %0 = kiln.layer_norm %x, %g bias %b {epsilon = 1.0e-5 : f32} : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// RMS norm with a dynamic row count: one sum-of-squares pass, then
// x * rsqrt(sumsq / n + eps) * scale.
// CHECK-LABEL: func.func @rms_norm(
// CHECK-SAME:    %[[X:.*]]: tensor<?x8xf32>, %[[G:.*]]: tensor<8xf32>)
// CHECK:         %[[SS:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<?x8xf32>) outs(%{{.*}} : tensor<?xf32>)
// CHECK:         %[[Y:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[SS]], %[[G]] : tensor<?x8xf32>, tensor<?xf32>, tensor<8xf32>)
// CHECK:           math.rsqrt
// CHECK:         return %[[Y]]
func.func @rms_norm(%x: tensor<?x8xf32>, %g: tensor<8xf32>) -> tensor<?x8xf32> {
  %0 = kiln.rms_norm %x, %g {epsilon = 1.0e-6 : f32} : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// 2-D f32 convolution with static filters: explicit pads become a zero
// tensor.pad, then im2col: a generic gathers the [N, OH, OW, C, KH, KW]
// patches (affine input map oh*s + kh*d), reshaped to [N*OH*OW, C*KH*KW];
// the filter reshaped to [F, C*KH*KW] is transposed, one linalg.matmul
// computes [N*OH*OW, F], which is reshaped to NHWC and transposed to NCHW;
// the bias is added per channel, both operands inputs of the generic (an
// init read by the payload let linalg's elementwise fusion fold the add
// into the next convolution's im2col and write it back through the patch
// map, once per overlap).
// CHECK-DAG:   #[[$CH:.*]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-DAG:   #[[$ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG:   #[[$PATCH:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d3, d1 + d4, d2 + d5)>
// CHECK-LABEL: func.func @conv(
// CHECK-SAME:    %[[X:.*]]: tensor<1x3x8x8xf32>, %[[W:.*]]: tensor<4x3x3x3xf32>, %[[BIAS:.*]]: tensor<4xf32>)
// CHECK:         %[[P:.*]] = tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK:         } : tensor<1x3x8x8xf32> to tensor<1x3x10x10xf32>
// CHECK:         %[[COL6:.*]] = linalg.generic {indexing_maps = [#[[$PATCH]], {{.*}}]
// CHECK-SAME:      ins(%[[P]] : tensor<1x3x10x10xf32>) outs(%{{.*}} : tensor<1x8x8x3x3x3xf32>)
// CHECK:         %[[COL:.*]] = tensor.reshape %[[COL6]]({{.*}}) -> tensor<64x27xf32>
// CHECK:         %[[W2:.*]] = tensor.reshape %[[W]]({{.*}}) -> tensor<4x27xf32>
// CHECK:         %[[WT:.*]] = linalg.transpose ins(%[[W2]] : tensor<4x27xf32>) outs(%{{.*}} : tensor<27x4xf32>) permutation = [1, 0]
// CHECK:         %[[MM:.*]] = linalg.matmul ins(%[[COL]], %[[WT]] : tensor<64x27xf32>, tensor<27x4xf32>)
// CHECK:         %[[Y4:.*]] = tensor.reshape %[[MM]]({{.*}}) -> tensor<1x8x8x4xf32>
// CHECK:         %[[Y:.*]] = linalg.transpose ins(%[[Y4]] : tensor<1x8x8x4xf32>) outs(%{{.*}} : tensor<1x4x8x8xf32>) permutation = [0, 3, 1, 2]
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<1x4x8x8xf32>
// CHECK:         %[[R:.*]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$CH]], #[[$ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME:      ins(%[[Y]], %[[BIAS]] : tensor<1x4x8x8xf32>, tensor<4xf32>) outs(%[[E]] : tensor<1x4x8x8xf32>)
// CHECK:           arith.addf
// CHECK:         return %[[R]]
func.func @conv(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %bias: tensor<4xf32>) -> tensor<1x4x8x8xf32> {
  %0 = kiln.conv %x, %w bias %bias {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

// Strides and dilations enter the patch map; the output extent follows.
// CHECK-DAG:   #[[$SPATCH:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d3, d1 * 2 + d4 * 2, d2 * 2 + d5 * 2)>
// CHECK-LABEL: func.func @conv_strided_dilated(
// CHECK:         linalg.generic {indexing_maps = [#[[$SPATCH]], {{.*}}]
// CHECK-SAME:      outs(%{{.*}} : tensor<1x3x3x2x3x3xf32>)
// CHECK:         linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<9x18xf32>, tensor<18x4xf32>)
func.func @conv_strided_dilated(%x: tensor<1x2x10x10xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x3x3xf32> {
  %0 = kiln.conv %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 2>} : (tensor<1x2x10x10xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x3x3xf32>
  return %0 : tensor<1x4x3x3xf32>
}

// -----

// Other element types keep the named convolution: linalg.conv_2d_nchw_fchw
// into a zero-filled init.
// CHECK-LABEL: func.func @conv_f64(
// CHECK-NOT:     linalg.matmul
// CHECK:         %[[F:.*]] = linalg.fill ins(%{{.*}} : f64) outs(%{{.*}} : tensor<1x4x6x6xf64>)
// CHECK:         linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
// CHECK-SAME:      outs(%[[F]] : tensor<1x4x6x6xf64>)
func.func @conv_f64(%x: tensor<1x3x8x8xf64>, %w: tensor<4x3x3x3xf64>) -> tensor<1x4x6x6xf64> {
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf64>, tensor<4x3x3x3xf64>) -> tensor<1x4x6x6xf64>
  return %0 : tensor<1x4x6x6xf64>
}

// -----

// Depthwise convolution (group == C, one input channel per group): the
// [C, 1, kh, kw] weights are reshaped to [C, kh, kw] for
// linalg.depthwise_conv_2d_nchw_chw. No pads: no tensor.pad.
// CHECK-LABEL: func.func @depthwise_conv(
// CHECK-SAME:    %[[X:.*]]: tensor<1x4x8x8xf32>, %[[W:.*]]: tensor<4x1x3x3xf32>)
// CHECK-NOT:     tensor.pad
// CHECK:         %[[W3:.*]] = tensor.reshape %[[W]](%{{.*}}) : (tensor<4x1x3x3xf32>, tensor<3xi64>) -> tensor<4x3x3xf32>
// CHECK:         %[[F:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x4x6x6xf32>)
// CHECK:         %[[R:.*]] = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
// CHECK-SAME:      ins(%[[X]], %[[W3]] : tensor<1x4x8x8xf32>, tensor<4x3x3xf32>) outs(%[[F]] : tensor<1x4x6x6xf32>)
// CHECK:         return %[[R]]
func.func @depthwise_conv(%x: tensor<1x4x8x8xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32> {
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 4} : (tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Depthwise with the input's channels dynamic (after a channel shuffle's
// reshape): they are checked against the filter's 4 at run time and the
// input cast to them.
// CHECK-LABEL: func.func @depthwise_conv_dynamic_channels(
// CHECK-SAME:    %[[X:.*]]: tensor<?x?x8x8xf32>, %[[W:.*]]: tensor<4x1x3x3xf32>)
// CHECK:         %[[C:.*]] = tensor.dim %[[X]], %c1
// CHECK:         call @kiln_rt_check_dim(%{{.*}}, %{{.*}})
// CHECK:         %[[XC:.*]] = tensor.cast %[[X]] : tensor<?x?x8x8xf32> to tensor<?x4x8x8xf32>
// CHECK:         linalg.depthwise_conv_2d_nchw_chw
// CHECK-SAME:      ins(%[[XC]], %{{.*}} : tensor<?x4x8x8xf32>, tensor<4x3x3xf32>)
func.func @depthwise_conv_dynamic_channels(%x: tensor<?x?x8x8xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<?x4x6x6xf32> {
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 4} : (tensor<?x?x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<?x4x6x6xf32>
  return %0 : tensor<?x4x6x6xf32>
}

// -----

// Grouped convolution (ResNeXt, RegNet: 2 groups of 3 input and 2 output
// channels here): x [N, 6, H, W] as [N, 2, 3, H, W], the filter [4, 3,
// kh, kw] as [2, 2, 3, kh, kw], linalg.conv_2d_ngchw_gfchw, and its
// [N, 2, 2, OH, OW] result as [N, 4, OH, OW]; the bias after.
// CHECK-LABEL: func.func @grouped_conv(
// CHECK-SAME:    %[[X:.*]]: tensor<?x6x8x8xf32>, %[[W:.*]]: tensor<4x3x3x3xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK:         %[[P:.*]] = tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK:         %[[X5:.*]] = tensor.reshape %[[P]](%{{.*}}) : (tensor<?x6x10x10xf32>, tensor<5xi64>) -> tensor<?x2x3x10x10xf32>
// CHECK:         %[[W5:.*]] = tensor.reshape %[[W]](%{{.*}}) : (tensor<4x3x3x3xf32>, tensor<5xi64>) -> tensor<2x2x3x3x3xf32>
// CHECK:         %[[Y5:.*]] = linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
// CHECK-SAME:      ins(%[[X5]], %[[W5]] : tensor<?x2x3x10x10xf32>, tensor<2x2x3x3x3xf32>) outs(%{{.*}} : tensor<?x2x2x8x8xf32>)
// CHECK:         %[[Y:.*]] = tensor.reshape %[[Y5]](%{{.*}}) : (tensor<?x2x2x8x8xf32>, tensor<4xi64>) -> tensor<?x4x8x8xf32>
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%[[Y]], %[[B]] : tensor<?x4x8x8xf32>, tensor<4xf32>)
func.func @grouped_conv(%x: tensor<?x6x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<?x4x8x8xf32> {
  %0 = kiln.conv %x, %w bias %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2} : (tensor<?x6x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<?x4x8x8xf32>
  return %0 : tensor<?x4x8x8xf32>
}

// -----

// A depthwise multiplier (2 output channels per input channel, group = C)
// is a grouped convolution of one input channel per group.
// CHECK-LABEL: func.func @depthwise_multiplier(
// CHECK:         linalg.conv_2d_ngchw_gfchw
// CHECK-SAME:      ins(%{{.*}}, %{{.*}} : tensor<1x3x1x8x8xf32>, tensor<3x2x1x3x3xf32>) outs(%{{.*}} : tensor<1x3x2x6x6xf32>)
// CHECK-NOT:     linalg.depthwise_conv_2d_nchw_chw
func.func @depthwise_multiplier(%x: tensor<1x3x8x8xf32>, %w: tensor<6x1x3x3xf32>) -> tensor<1x6x6x6xf32> {
  %0 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 3} : (tensor<1x3x8x8xf32>, tensor<6x1x3x3xf32>) -> tensor<1x6x6x6xf32>
  return %0 : tensor<1x6x6x6xf32>
}

// -----

// Max pool: linalg.pooling_nchw_max over a window tensor of the kernel
// shape, into an init filled with -inf.
// CHECK-LABEL: func.func @max_pool(
// CHECK-SAME:    %[[X:.*]]: tensor<1x8x32x32xf32>)
// CHECK:         %[[NINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<1x8x16x16xf32>
// CHECK:         %[[F:.*]] = linalg.fill ins(%[[NINF]] : f32) outs(%[[E]] : tensor<1x8x16x16xf32>)
// CHECK:         %[[WIN:.*]] = tensor.empty() : tensor<2x2xf32>
// CHECK:         %[[R:.*]] = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
// CHECK-SAME:      ins(%[[X]], %[[WIN]] : tensor<1x8x32x32xf32>, tensor<2x2xf32>) outs(%[[F]] : tensor<1x8x16x16xf32>)
// CHECK:         return %[[R]]
func.func @max_pool(%x: tensor<1x8x32x32xf32>) -> tensor<1x8x16x16xf32> {
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x8x32x32xf32>) -> tensor<1x8x16x16xf32>
  return %0 : tensor<1x8x16x16xf32>
}

// -----

// Unsigned max pool: a generic over the window; the padding and the init
// are 0 (an i8 constant cast to ui8), the body's max is unsigned on the
// signless stand-ins.
// CHECK-LABEL: func.func @max_pool_u8(
// CHECK:         %[[Z:.*]] = arith.constant 0 : i8
// CHECK:         %[[ZU:.*]] = builtin.unrealized_conversion_cast %[[Z]] : i8 to ui8
// CHECK:         tensor.pad
// CHECK:           tensor.yield %[[ZU]] : ui8
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]
// CHECK:           arith.maxui %{{.*}}, %{{.*}} : i8
func.func @max_pool_u8(%x: tensor<1x1x5x5xui8>) -> tensor<1x1x5x5xui8> {
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x1x5x5xui8>) -> tensor<1x1x5x5xui8>
  return %0 : tensor<1x1x5x5xui8>
}

// -----

// Max pool with indices: one generic with two outputs (the maximum, its
// flat index in the unpadded input), replacing both only when strictly
// greater.
// CHECK-LABEL: func.func @max_pool_with_indices(
// CHECK:         %[[R:.*]]:2 = linalg.generic
// CHECK-SAME:      outs(%{{.*}}, %{{.*}} : tensor<1x2x4x4xf32>, tensor<1x2x4x4xi64>)
// CHECK:           %[[GT:.*]] = arith.cmpf ogt
// CHECK:           %[[V:.*]] = arith.select %[[GT]], %{{.*}}, %{{.*}} : f32
// CHECK:           %[[I:.*]] = arith.select %[[GT]], %{{.*}}, %{{.*}} : i64
// CHECK:           linalg.yield %[[V]], %[[I]] : f32, i64
// CHECK:         return %[[R]]#0, %[[R]]#1
func.func @max_pool_with_indices(%x: tensor<1x2x8x8xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xi64>) {
  %0, %1 = kiln.max_pool_with_indices %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, storage_order = 1 : i64} : (tensor<1x2x8x8xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xi64>)
  return %0, %1 : tensor<1x2x4x4xf32>, tensor<1x2x4x4xi64>
}

// -----

// Constant: arith.constant of the same dense value.
// CHECK-LABEL: func.func @constant(
// CHECK:         %[[C:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK:         return %[[C]] : tensor<2xf32>
func.func @constant() -> tensor<2xf32> {
  %0 = kiln.constant dense<[1.0, 2.0]> : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// A constant scalar index into a static dim (negative counts from the end)
// is a rank-reducing tensor.extract_slice: a view, no copy.
// CHECK-LABEL: func.func @gather_constant_pick(
// CHECK-SAME:    %[[X:.*]]: tensor<?x3x4xf32>)
// CHECK:         tensor.extract_slice %[[X]][0, 2, 0] [%{{.*}}, 1, 4] [1, 1, 1] : tensor<?x3x4xf32> to tensor<?x4xf32>
// CHECK-NOT:     linalg.generic
func.func @gather_constant_pick(%x: tensor<?x3x4xf32>) -> tensor<?x4xf32> {
  %c = kiln.constant dense<-1> : tensor<i64>
  %0 = kiln.gather %x, %c {axis = 1 : i64} : (tensor<?x3x4xf32>, tensor<i64>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// A pick along a dynamic dim stays a generic (its index wraps at run time).
// CHECK-LABEL: func.func @gather_pick_dynamic_dim(
// CHECK-NOT:     tensor.extract_slice
// CHECK:         linalg.generic
func.func @gather_pick_dynamic_dim(%x: tensor<?x4xf32>) -> tensor<4xf32> {
  %c = kiln.constant dense<1> : tensor<i64>
  %0 = kiln.gather %x, %c : (tensor<?x4xf32>, tensor<i64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
