// RUN: kiln-opt %s -split-input-file -convert-kiln-to-linalg | FileCheck %s
// RUN: kiln-opt %s -split-input-file -convert-kiln-to-linalg | FileCheck %s --check-prefix=NOKILN

// kiln.linear lowers completely: the activation and the residual add it
// creates are lowered too.
// NOKILN-NOT: kiln.

// The accumulator starts from the bias broadcast over the rows (a generic
// that only copies the bias), and linalg.matmul adds the products onto it:
// no zero fill, no add after the matmul.
// CHECK-DAG:   #[[$ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG:   #[[$ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @bias(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[B:[^:]*]]: tensor<16xf32>)
// CHECK-NOT:     linalg.fill
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<4x16xf32>
// CHECK:         %[[INIT:.*]] = linalg.generic {indexing_maps = [#[[$ROW]], #[[$ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME:      ins(%[[B]] : tensor<16xf32>) outs(%[[E]] : tensor<4x16xf32>)
// CHECK:         ^bb0(%[[IN:[^:]*]]: f32, %{{[^:]*}}: f32):
// CHECK-NEXT:      linalg.yield %[[IN]] : f32
// CHECK:         %[[MM:.*]] = linalg.matmul ins(%[[X]], %[[W]] : tensor<4x8xf32>, tensor<8x16xf32>) outs(%[[INIT]] : tensor<4x16xf32>) -> tensor<4x16xf32>
// CHECK-NEXT:    return %[[MM]]
func.func @bias(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>) -> tensor<4x16xf32> {
  %0 = kiln.linear %x, %w bias %b : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// A transposed [N, K] weight is transposed once (linalg.transpose) so the
// product is a plain linalg.matmul, which the CPU pipeline tiles and
// vectorizes; the accumulator starts from the bias.
// CHECK-LABEL: func.func @transposed_weight(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<4x8xf32>, %[[W:[^:]*]]: tensor<16x8xf32>, %[[B:[^:]*]]: tensor<16xf32>)
// CHECK:         %[[INIT:.*]] = linalg.generic
// CHECK-SAME:      ins(%[[B]] : tensor<16xf32>)
// CHECK:         %[[WT:.*]] = linalg.transpose ins(%[[W]] : tensor<16x8xf32>) outs(%{{.*}} : tensor<8x16xf32>) permutation = [1, 0]
// CHECK:         %[[C:.*]] = linalg.matmul ins(%[[X]], %[[WT]] : tensor<4x8xf32>, tensor<8x16xf32>) outs(%[[INIT]] : tensor<4x16xf32>)
// CHECK:         return %[[C]]
func.func @transposed_weight(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>) -> tensor<4x16xf32> {
  %0 = kiln.linear %x, %w bias %b {transpose_weight = true} : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// With an activation the residual cannot start the accumulator (it is added
// after the activation): the init is the bias alone, the matmul result goes
// through the ReLU (maximumf with 0), then the residual is added.
// CHECK-LABEL: func.func @relu_residual(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[B:[^:]*]]: tensor<16xf32>, %[[R:[^:]*]]: tensor<4x16xf32>)
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[INIT:.*]] = linalg.generic
// CHECK-SAME:      ins(%[[B]] : tensor<16xf32>)
// CHECK:         %[[MM:.*]] = linalg.matmul ins(%[[X]], %[[W]] : tensor<4x8xf32>, tensor<8x16xf32>) outs(%[[INIT]] : tensor<4x16xf32>)
// CHECK:         %[[ACT:.*]] = linalg.generic
// CHECK-SAME:      ins(%[[MM]] : tensor<4x16xf32>)
// CHECK:         ^bb0(%[[V:[^:]*]]: f32, %{{[^:]*}}: f32):
// CHECK-NEXT:      %[[MX:.*]] = arith.maximumf %[[V]], %[[ZERO]] : f32
// CHECK-NEXT:      linalg.yield %[[MX]] : f32
// CHECK:         %[[SUM:.*]] = linalg.generic
// CHECK-SAME:      ins(%[[ACT]], %[[R]] : tensor<4x16xf32>, tensor<4x16xf32>)
// CHECK:           arith.addf
// CHECK:         return %[[SUM]]
func.func @relu_residual(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>, %r: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %0 = kiln.linear %x, %w bias %b residual %r {activation = "relu"} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// Without an activation the residual goes into the init with the bias
// (residual + broadcast bias), and the matmul result is the op's result:
// nothing runs after the matmul.
// CHECK-DAG:   #[[$ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG:   #[[$ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @bias_residual(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[B:[^:]*]]: tensor<16xf32>, %[[R:[^:]*]]: tensor<4x16xf32>)
// CHECK:         %[[INIT:.*]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ROW]], #[[$ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME:      ins(%[[R]], %[[B]] : tensor<4x16xf32>, tensor<16xf32>)
// CHECK:         ^bb0(%[[RV:[^:]*]]: f32, %[[BV:[^:]*]]: f32, %{{[^:]*}}: f32):
// CHECK-NEXT:      %[[S:.*]] = arith.addf %[[RV]], %[[BV]] : f32
// CHECK-NEXT:      linalg.yield %[[S]] : f32
// CHECK:         %[[MM:.*]] = linalg.matmul ins(%[[X]], %[[W]] : tensor<4x8xf32>, tensor<8x16xf32>) outs(%[[INIT]] : tensor<4x16xf32>) -> tensor<4x16xf32>
// CHECK-NEXT:    return %[[MM]]
func.func @bias_residual(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>, %r: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %0 = kiln.linear %x, %w bias %b residual %r : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// A residual alone (no bias) is copied into a fresh init by a generic, so
// the matmul never accumulates into the residual operand itself.
// CHECK-LABEL: func.func @residual_only(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[R:[^:]*]]: tensor<4x16xf32>)
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<4x16xf32>
// CHECK:         %[[INIT:.*]] = linalg.generic
// CHECK-SAME:      ins(%[[R]] : tensor<4x16xf32>) outs(%[[E]] : tensor<4x16xf32>)
// CHECK:         ^bb0(%[[IN:[^:]*]]: f32, %{{[^:]*}}: f32):
// CHECK-NEXT:      linalg.yield %[[IN]] : f32
// CHECK:         %[[MM:.*]] = linalg.matmul ins(%[[X]], %[[W]] : tensor<4x8xf32>, tensor<8x16xf32>) outs(%[[INIT]] : tensor<4x16xf32>)
// CHECK-NEXT:    return %[[MM]]
func.func @residual_only(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>, %r: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %0 = kiln.linear %x, %w residual %r : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// A 3-D input [2, 4, 8] is collapsed to [8, 8] for the matmul and the
// [8, 16] result reshaped back to [2, 4, 16]; with no bias nor residual the
// accumulator is zero-filled; the GELU (erf) runs on the [8, 16] result
// before the reshape back (so the CUDA pipeline can apply it in the matmul
// kernel's epilogue).
// CHECK-LABEL: func.func @rank3_gelu(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>)
// CHECK-DAG:     %[[OUT_SHAPE:.*]] = arith.constant dense<[2, 4, 16]> : tensor<3xi64>
// CHECK-DAG:     %[[IN_SHAPE:.*]] = arith.constant dense<8> : tensor<2xi64>
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[X2:.*]] = tensor.reshape %[[X]](%[[IN_SHAPE]]) : (tensor<2x4x8xf32>, tensor<2xi64>) -> tensor<8x8xf32>
// CHECK:         %[[F:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<8x16xf32>) -> tensor<8x16xf32>
// CHECK:         %[[MM:.*]] = linalg.matmul ins(%[[X2]], %[[W]] : tensor<8x8xf32>, tensor<8x16xf32>) outs(%[[F]] : tensor<8x16xf32>) -> tensor<8x16xf32>
// CHECK:         %[[G:.*]] = linalg.generic
// CHECK-SAME:      ins(%[[MM]] : tensor<8x16xf32>)
// CHECK:           math.erf
// CHECK:         %[[Y:.*]] = tensor.reshape %[[G]](%[[OUT_SHAPE]]) : (tensor<8x16xf32>, tensor<3xi64>) -> tensor<2x4x16xf32>
// CHECK:         return %[[Y]]
func.func @rank3_gelu(%x: tensor<2x4x8xf32>, %w: tensor<8x16xf32>) -> tensor<2x4x16xf32> {
  %0 = kiln.linear %x, %w {activation = "gelu"} : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  return %0 : tensor<2x4x16xf32>
}

// -----

// Rank 3 with a residual and no activation: the residual is collapsed to
// [M, N] like the input and goes into the init.
// CHECK-LABEL: func.func @rank3_bias_residual(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[B:[^:]*]]: tensor<16xf32>, %[[R:[^:]*]]: tensor<2x4x16xf32>)
// CHECK-DAG:     %[[OUT_SHAPE:.*]] = arith.constant dense<[2, 4, 16]> : tensor<3xi64>
// CHECK-DAG:     %[[RES_SHAPE:.*]] = arith.constant dense<[8, 16]> : tensor<2xi64>
// CHECK-DAG:     %[[X2:.*]] = tensor.reshape %[[X]](%{{.*}}) : (tensor<2x4x8xf32>, tensor<2xi64>) -> tensor<8x8xf32>
// CHECK-DAG:     %[[R2:.*]] = tensor.reshape %[[R]](%[[RES_SHAPE]]) : (tensor<2x4x16xf32>, tensor<2xi64>) -> tensor<8x16xf32>
// CHECK:         %[[INIT:.*]] = linalg.generic
// CHECK-SAME:      ins(%[[R2]], %[[B]] : tensor<8x16xf32>, tensor<16xf32>)
// CHECK:         %[[MM:.*]] = linalg.matmul ins(%[[X2]], %[[W]] : tensor<8x8xf32>, tensor<8x16xf32>) outs(%[[INIT]] : tensor<8x16xf32>)
// CHECK:         %[[Y:.*]] = tensor.reshape %[[MM]](%[[OUT_SHAPE]]) : (tensor<8x16xf32>, tensor<3xi64>) -> tensor<2x4x16xf32>
// CHECK-NEXT:    return %[[Y]]
func.func @rank3_bias_residual(%x: tensor<2x4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>, %r: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
  %0 = kiln.linear %x, %w bias %b residual %r : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %0 : tensor<2x4x16xf32>
}

// -----

// Dynamic leading dims: M is their product at run time; a one-element bias
// is read through a constant-0 map; SiLU is x / (1 + exp(-x)), before the
// reshape back.
// CHECK-DAG:   #[[$BC:.*]] = affine_map<(d0, d1) -> (0)>
// CHECK-LABEL: func.func @dynamic_silu(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x?x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[B:[^:]*]]: tensor<1xf32>)
// CHECK-DAG:     %[[D0:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x?x8xf32>
// CHECK-DAG:     %[[D1:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x?x8xf32>
// CHECK:         %[[M:.*]] = arith.muli %[[D0]], %[[D1]] : index
// CHECK:         %[[X2:.*]] = tensor.reshape %[[X]](%{{.*}}) : (tensor<?x?x8xf32>, tensor<2xi64>) -> tensor<?x8xf32>
// CHECK:         %[[E:.*]] = tensor.empty(%[[M]]) : tensor<?x16xf32>
// CHECK:         %[[INIT:.*]] = linalg.generic {indexing_maps = [#[[$BC]], {{.*}}]
// CHECK-SAME:      ins(%[[B]] : tensor<1xf32>) outs(%[[E]] : tensor<?x16xf32>)
// CHECK:         %[[MM:.*]] = linalg.matmul ins(%[[X2]], %[[W]] : tensor<?x8xf32>, tensor<8x16xf32>) outs(%[[INIT]] : tensor<?x16xf32>)
// CHECK:         %[[S:.*]] = linalg.generic
// CHECK-SAME:      ins(%[[MM]] : tensor<?x16xf32>)
// CHECK:           arith.negf
// CHECK:           math.exp
// CHECK:         %[[Y:.*]] = tensor.reshape %[[S]](%{{.*}}) : (tensor<?x16xf32>, tensor<3xi64>) -> tensor<?x?x16xf32>
// CHECK:         return %[[Y]]
func.func @dynamic_silu(%x: tensor<?x?x8xf32>, %w: tensor<8x16xf32>, %b: tensor<1xf32>) -> tensor<?x?x16xf32> {
  %0 = kiln.linear %x, %w bias %b {activation = "silu"} : (tensor<?x?x8xf32>, tensor<8x16xf32>, tensor<1xf32>) -> tensor<?x?x16xf32>
  return %0 : tensor<?x?x16xf32>
}
