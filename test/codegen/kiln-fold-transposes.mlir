// RUN: kiln-opt %s -split-input-file -kiln-fold-transposes | FileCheck %s

// Q, K and V copied into [B, H, S, D] for attention, and its output copied
// back to [B, S, H, D]: all four copies become memref.transpose views, and
// their allocs and deallocs go. The output's destination, allocated after
// the kernel, moves up to it.
// CHECK-LABEL: func.func @attention(
// CHECK-SAME:    %[[Q:[^:]*]]: memref<2x8x4x16xf32>, %[[K:[^:]*]]: memref<2x8x4x16xf32>, %[[V:[^:]*]]: memref<2x8x4x16xf32>
// CHECK-NOT:     linalg.transpose
// CHECK-DAG:     %[[TQ:.*]] = memref.transpose %[[Q]] (d0, d1, d2, d3) -> (d0, d2, d1, d3) : memref<2x8x4x16xf32> to memref<2x4x8x16xf32, strided<[512, 16, 64, 1]>>
// CHECK-DAG:     %[[TK:.*]] = memref.transpose %[[K]] (d0, d1, d2, d3) -> (d0, d2, d1, d3)
// CHECK-DAG:     %[[TV:.*]] = memref.transpose %[[V]] (d0, d1, d2, d3) -> (d0, d2, d1, d3)
// CHECK-DAG:     %[[Y:.*]] = memref.alloc() : memref<2x8x4x16xf32>
// CHECK:         %[[TY:.*]] = memref.transpose %[[Y]] (d0, d1, d2, d3) -> (d0, d2, d1, d3)
// CHECK:         kiln.ukernel "attention_f32"(%[[TQ]], %[[TK]], %[[TV]]) outs(%[[TY]])
// CHECK-NOT:     linalg.transpose
// CHECK-NOT:     memref.dealloc
// CHECK:         return %[[Y]]
func.func @attention(%q: memref<2x8x4x16xf32>, %k: memref<2x8x4x16xf32>, %v: memref<2x8x4x16xf32>) -> memref<2x8x4x16xf32> {
  %tq = memref.alloc() : memref<2x4x8x16xf32>
  linalg.transpose ins(%q : memref<2x8x4x16xf32>) outs(%tq : memref<2x4x8x16xf32>) permutation = [0, 2, 1, 3]
  %tk = memref.alloc() : memref<2x4x8x16xf32>
  linalg.transpose ins(%k : memref<2x8x4x16xf32>) outs(%tk : memref<2x4x8x16xf32>) permutation = [0, 2, 1, 3]
  %tv = memref.alloc() : memref<2x4x8x16xf32>
  linalg.transpose ins(%v : memref<2x8x4x16xf32>) outs(%tv : memref<2x4x8x16xf32>) permutation = [0, 2, 1, 3]
  %o = memref.alloc() : memref<2x4x8x16xf32>
  kiln.ukernel "attention_f32"(%tq, %tk, %tv) outs(%o) {float_params = array<f32: 2.500000e-01, 0.000000e+00>, int_params = array<i64: 2, 0, 4, 4>} : (memref<2x4x8x16xf32>, memref<2x4x8x16xf32>, memref<2x4x8x16xf32>, memref<2x4x8x16xf32>) -> ()
  %y = memref.alloc() : memref<2x8x4x16xf32>
  linalg.transpose ins(%o : memref<2x4x8x16xf32>) outs(%y : memref<2x8x4x16xf32>) permutation = [0, 2, 1, 3]
  memref.dealloc %o : memref<2x4x8x16xf32>
  memref.dealloc %tq : memref<2x4x8x16xf32>
  memref.dealloc %tk : memref<2x4x8x16xf32>
  memref.dealloc %tv : memref<2x4x8x16xf32>
  return %y : memref<2x8x4x16xf32>
}

// -----

// Not folded: the copy's source is overwritten between the copy and the
// kernel (the kernel must see the old values); the copied K is also read
// by another op; V's copy moves the innermost dim (the kernel needs a unit
// innermost stride); and the output's copy is not the only reader.
// CHECK-LABEL: func.func @must_copy(
// CHECK-NOT:     memref.transpose
// CHECK-COUNT-4: linalg.transpose
// CHECK-NOT:     memref.transpose
// CHECK:         return
func.func @must_copy(%q: memref<2x8x4x16xf32>, %k: memref<2x8x4x16xf32>, %v: memref<2x16x4x8xf32>, %y: memref<2x8x4x16xf32>, %z: memref<2x4x8x16xf32>) {
  %tq = memref.alloc() : memref<2x4x8x16xf32>
  linalg.transpose ins(%q : memref<2x8x4x16xf32>) outs(%tq : memref<2x4x8x16xf32>) permutation = [0, 2, 1, 3]
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%q : memref<2x8x4x16xf32>)
  %tk = memref.alloc() : memref<2x4x8x16xf32>
  linalg.transpose ins(%k : memref<2x8x4x16xf32>) outs(%tk : memref<2x4x8x16xf32>) permutation = [0, 2, 1, 3]
  memref.copy %tk, %z : memref<2x4x8x16xf32> to memref<2x4x8x16xf32>
  %tv = memref.alloc() : memref<2x4x8x16xf32>
  linalg.transpose ins(%v : memref<2x16x4x8xf32>) outs(%tv : memref<2x4x8x16xf32>) permutation = [0, 2, 3, 1]
  %o = memref.alloc() : memref<2x4x8x16xf32>
  kiln.ukernel "attention_f32"(%tq, %tk, %tv) outs(%o) {float_params = array<f32: 2.500000e-01, 0.000000e+00>, int_params = array<i64: 2, 0, 4, 4>} : (memref<2x4x8x16xf32>, memref<2x4x8x16xf32>, memref<2x4x8x16xf32>, memref<2x4x8x16xf32>) -> ()
  linalg.transpose ins(%o : memref<2x4x8x16xf32>) outs(%y : memref<2x8x4x16xf32>) permutation = [0, 2, 1, 3]
  memref.copy %o, %z : memref<2x4x8x16xf32> to memref<2x4x8x16xf32>
  return
}

// -----

// Not folded: a kernel that does not take strided views.
// CHECK-LABEL: func.func @other_kernel(
// CHECK:         linalg.transpose
// CHECK-NOT:     memref.transpose
func.func @other_kernel(%x: memref<8x4xf32>, %w: memref<8x3xf32>, %y: memref<4x3xf32>) {
  %t = memref.alloc() : memref<4x8xf32>
  linalg.transpose ins(%x : memref<8x4xf32>) outs(%t : memref<4x8xf32>) permutation = [1, 0]
  kiln.ukernel "linear_f32"(%t, %w) outs(%y) {float_params = array<f32>, int_params = array<i64: 2, 0, 0>} : (memref<4x8xf32>, memref<8x3xf32>, memref<4x3xf32>) -> ()
  memref.dealloc %t : memref<4x8xf32>
  return
}

// -----

// Between the copy and the kernel, ops that write only fresh buffers
// (another op's output, a runtime check) do not stop the fold; the copy's
// buffer written again by the kernel (bufferization reuses Q's copy as the
// output) does not either: Q is read through a view, and the output's
// copy back folds too.
// CHECK-LABEL: func.func @reused_copy(
// CHECK-SAME:    %[[Q:[^:]*]]: memref<2x8x4x16xf32>
// CHECK-NOT:     linalg.transpose
// CHECK:         %[[TQ:.*]] = memref.transpose %[[Q]]
// CHECK:         linalg.fill
// CHECK:         call @kiln_rt_check_dim
// CHECK:         kiln.ukernel "attention_f32"(%[[TQ]], %{{.*}}, %{{.*}}) outs(%[[TY:.*]])
// CHECK-NOT:     linalg.transpose
// CHECK:         return
func.func private @kiln_rt_check_dim(i64, i64)
func.func @reused_copy(%q: memref<2x8x4x16xf32>, %k: memref<2x4x8x16xf32>, %v: memref<2x4x8x16xf32>, %n: i64) -> (memref<2x8x4x16xf32>, memref<4xf32>) {
  %tq = memref.alloc() : memref<2x4x8x16xf32>
  linalg.transpose ins(%q : memref<2x8x4x16xf32>) outs(%tq : memref<2x4x8x16xf32>) permutation = [0, 2, 1, 3]
  %zero = arith.constant 0.0 : f32
  %other = memref.alloc() : memref<4xf32>
  linalg.fill ins(%zero : f32) outs(%other : memref<4xf32>)
  call @kiln_rt_check_dim(%n, %n) : (i64, i64) -> ()
  kiln.ukernel "attention_f32"(%tq, %k, %v) outs(%tq) {float_params = array<f32: 2.500000e-01, 0.000000e+00>, int_params = array<i64: 2, 0, 4, 4>} : (memref<2x4x8x16xf32>, memref<2x4x8x16xf32>, memref<2x4x8x16xf32>, memref<2x4x8x16xf32>) -> ()
  %y = memref.alloc() : memref<2x8x4x16xf32>
  linalg.transpose ins(%tq : memref<2x4x8x16xf32>) outs(%y : memref<2x8x4x16xf32>) permutation = [0, 2, 1, 3]
  memref.dealloc %tq : memref<2x4x8x16xf32>
  return %y, %other : memref<2x8x4x16xf32>, memref<4xf32>
}
