// RUN: kiln-opt %s -split-input-file -convert-kiln-to-linalg | FileCheck %s

// kiln.einsum lowers to one linalg.generic: output labels are parallel
// loops, the others reductions; the body multiplies the operands and adds
// into a zero-filled output.

// Outer product (torch.outer exports 'i,j->ij'), with a dynamic extent.
// CHECK-DAG:   #[[$I:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG:   #[[$J:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG:   #[[$IJ:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @outer(
// CHECK-SAME:    %[[A:.*]]: tensor<?xf32>, %[[B:.*]]: tensor<16xf32>)
// CHECK:         %[[D:.*]] = tensor.dim %[[A]], %{{.*}} : tensor<?xf32>
// CHECK:         %[[Z:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<?x16xf32>)
// CHECK:         %[[R:.*]] = linalg.generic {indexing_maps = [#[[$I]], #[[$J]], #[[$IJ]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME:      ins(%[[A]], %[[B]] : tensor<?xf32>, tensor<16xf32>) outs(%[[Z]] : tensor<?x16xf32>)
// CHECK:           %[[P:.*]] = arith.mulf
// CHECK:           arith.addf %{{.*}}, %[[P]]
// CHECK:         return %[[R]]
func.func @outer(%a: tensor<?xf32>, %b: tensor<16xf32>) -> tensor<?x16xf32> {
  %0 = kiln.einsum %a, %b {equation = "i,j->ij"} : (tensor<?xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}

// -----

// Batched contraction with an ellipsis: 'k' is a reduction loop (last).
// CHECK-DAG:   #[[$A:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG:   #[[$B:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-DAG:   #[[$O:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @bmm(
// CHECK:         linalg.generic {indexing_maps = [#[[$A]], #[[$B]], #[[$O]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
func.func @bmm(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) -> tensor<2x3x5xf32> {
  %0 = kiln.einsum %a, %b {equation = "...ik,...kj->...ij"} : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

// Implicit output (labels seen once, sorted) and a trace (repeated label
// reads the diagonal): 'ii' -> scalar.
// CHECK-DAG:   #[[$DIAG:.*]] = affine_map<(d0) -> (d0, d0)>
// CHECK-DAG:   #[[$S:.*]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func.func @trace(
// CHECK:         linalg.generic {indexing_maps = [#[[$DIAG]], #[[$S]]], iterator_types = ["reduction"]}
func.func @trace(%a: tensor<4x4xf32>) -> tensor<f32> {
  %0 = kiln.einsum %a {equation = "ii"} : (tensor<4x4xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Integer einsum: muli/addi. A static size-1 dim broadcasts (constant 0 in
// its map) against the other operand's extent of the same label.
// CHECK-DAG:   #[[$BC:.*]] = affine_map<(d0, d1) -> (0, d1)>
// CHECK-LABEL: func.func @int_broadcast(
// CHECK:         linalg.generic {indexing_maps = [#[[$BC]], {{.*}}]
// CHECK:           arith.muli
// CHECK:           arith.addi
func.func @int_broadcast(%a: tensor<1x3xi32>, %b: tensor<5x3xi32>) -> tensor<5x3xi32> {
  %0 = kiln.einsum %a, %b {equation = "ij,ij->ij"} : (tensor<1x3xi32>, tensor<5x3xi32>) -> tensor<5x3xi32>
  return %0 : tensor<5x3xi32>
}
