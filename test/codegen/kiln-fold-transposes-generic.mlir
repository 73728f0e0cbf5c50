// RUN: kiln-opt %s -split-input-file -kiln-fold-transposes=generic-readers=true | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-fold-transposes | FileCheck %s --check-prefix=CPU

// generic-readers (the CUDA pipeline): a transposed copy read by an
// elementwise generic, both as its input and by a load in its body (LLaMA's
// rotary embedding rotating half the head dim), then written again by the
// attention (its output, copied back afterwards): the reads take a view of
// the source, and the output's copy folds too. A copy read by linalg.copy
// into a concat buffer (GPT-2's KV cache) takes a view as well. Without
// the option (the CPU pipeline) only the attention's inputs and output may:
// here none, as Q's copy has other readers.
// CHECK-LABEL: func.func @rotary(
// CHECK-SAME:    %[[Q:[^:]*]]: memref<2x8x4x16xf32>, %[[K:[^:]*]]: memref<2x8x4x16xf32>
// CHECK-NOT:     linalg.transpose
// CHECK:         %[[TQ:.*]] = memref.transpose %[[Q]] (d0, d1, d2, d3) -> (d0, d2, d1, d3)
// CHECK:         linalg.generic {{.*}} ins(%[[TQ]] : memref<2x4x8x16xf32, strided<[512, 16, 64, 1]>>)
// CHECK:           memref.load %[[TQ]]
// CHECK:         %[[TK:.*]] = memref.transpose %[[K]]
// CHECK:         linalg.copy ins(%[[TK]]
// CHECK:         kiln.ukernel "attention_f32"
// CHECK-NOT:     linalg.transpose
// CHECK:         return
// CPU-LABEL: func.func @rotary(
// CPU-COUNT-2:   linalg.transpose ins(%arg
// CPU:           kiln.ukernel "attention_f32"
// CPU-NEXT:      memref.alloc
// CPU-NEXT:      linalg.transpose
func.func @rotary(%q: memref<2x8x4x16xf32>, %k: memref<2x8x4x16xf32>) -> (memref<2x8x4x16xf32>, memref<2x4x16x16xf32>) {
  %c8 = arith.constant 8 : index
  %tq = memref.alloc() : memref<2x4x8x16xf32>
  linalg.transpose ins(%q : memref<2x8x4x16xf32>) outs(%tq : memref<2x4x8x16xf32>) permutation = [0, 2, 1, 3]
  %rq = memref.alloc() : memref<2x4x8x16xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%tq : memref<2x4x8x16xf32>) outs(%rq : memref<2x4x8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i0 = linalg.index 0 : index
    %i1 = linalg.index 1 : index
    %i2 = linalg.index 2 : index
    %i3 = linalg.index 3 : index
    %r = arith.xori %i3, %c8 : index
    %x = memref.load %tq[%i0, %i1, %i2, %r] : memref<2x4x8x16xf32>
    %y = arith.addf %in, %x : f32
    linalg.yield %y : f32
  }
  %tk = memref.alloc() : memref<2x4x8x16xf32>
  linalg.transpose ins(%k : memref<2x8x4x16xf32>) outs(%tk : memref<2x4x8x16xf32>) permutation = [0, 2, 1, 3]
  %kv = memref.alloc() : memref<2x4x16x16xf32>
  %cat = memref.subview %kv[0, 0, 8, 0] [2, 4, 8, 16] [1, 1, 1, 1] : memref<2x4x16x16xf32> to memref<2x4x8x16xf32, strided<[1024, 256, 16, 1], offset: 128>>
  linalg.copy ins(%tk : memref<2x4x8x16xf32>) outs(%cat : memref<2x4x8x16xf32, strided<[1024, 256, 16, 1], offset: 128>>)
  kiln.ukernel "attention_f32"(%rq, %kv, %kv) outs(%tq) {float_params = array<f32: 2.500000e-01, 0.000000e+00>, int_params = array<i64: 2, 0, 4, 4>} : (memref<2x4x8x16xf32>, memref<2x4x16x16xf32>, memref<2x4x16x16xf32>, memref<2x4x8x16xf32>) -> ()
  %y = memref.alloc() : memref<2x8x4x16xf32>
  linalg.transpose ins(%tq : memref<2x4x8x16xf32>) outs(%y : memref<2x8x4x16xf32>) permutation = [0, 2, 1, 3]
  memref.dealloc %tq : memref<2x4x8x16xf32>
  memref.dealloc %rq : memref<2x4x8x16xf32>
  memref.dealloc %tk : memref<2x4x8x16xf32>
  return %y, %kv : memref<2x8x4x16xf32>, memref<2x4x16x16xf32>
}

// -----

// Kept copies, with generic-readers:
//   - %ta: its source (a function argument) is written between the copy
//     and the read (%a and %b may share memory);
//   - %tb: a reshape (collapse_shape) reads the copy (a transposed view
//     has no collapsed form);
//   - %td: the copy moves the innermost dim.
// CHECK-LABEL: func.func @kept(
// CHECK-NOT:     memref.transpose
// CHECK-COUNT-3: linalg.transpose
// CHECK-NOT:     memref.transpose
// CHECK:         return
func.func private @use(memref<4x8xf32>)
func.func @kept(%a: memref<8x4x2xf32>, %b: memref<8x4x2xf32>, %d: memref<4x2x8xf32>, %o: memref<4x8x2xf32>) {
  %zero = arith.constant 0.0 : f32
  %ta = memref.alloc() : memref<4x8x2xf32>
  linalg.transpose ins(%a : memref<8x4x2xf32>) outs(%ta : memref<4x8x2xf32>) permutation = [1, 0, 2]
  linalg.fill ins(%zero : f32) outs(%b : memref<8x4x2xf32>)
  linalg.copy ins(%ta : memref<4x8x2xf32>) outs(%o : memref<4x8x2xf32>)
  %tb = memref.alloc() : memref<4x8x2xf32>
  linalg.transpose ins(%a : memref<8x4x2xf32>) outs(%tb : memref<4x8x2xf32>) permutation = [1, 0, 2]
  %cb = memref.collapse_shape %tb [[0], [1, 2]] : memref<4x8x2xf32> into memref<4x16xf32>
  %sb = memref.subview %cb[0, 0] [4, 8] [1, 1] : memref<4x16xf32> to memref<4x8xf32, strided<[16, 1]>>
  %db = memref.alloc() : memref<4x8xf32>
  memref.copy %sb, %db : memref<4x8xf32, strided<[16, 1]>> to memref<4x8xf32>
  call @use(%db) : (memref<4x8xf32>) -> ()
  %td = memref.alloc() : memref<4x8x2xf32>
  linalg.transpose ins(%d : memref<4x2x8xf32>) outs(%td : memref<4x8x2xf32>) permutation = [0, 2, 1]
  linalg.copy ins(%td : memref<4x8x2xf32>) outs(%o : memref<4x8x2xf32>)
  return
}
