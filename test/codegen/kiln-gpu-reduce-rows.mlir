// RUN: kiln-opt %s --split-input-file --kiln-gpu-reduce-rows | FileCheck %s
// RUN: kiln-opt %s --split-input-file --kiln-gpu-reduce-rows=emulate | FileCheck %s --check-prefix=EMU

// A LayerNorm's sums (sum and sum of squares over the last dim, two
// outputs): one launch of ceil(rows / 8) blocks of 256 threads, a warp per
// row (row = block * 8 + thread / 32), lane = thread % 32 walking k from
// lane by 32, both partials folded by xor shuffles 16 ... 1, and lane 0
// adding each total into its output.
#in3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row3 = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @layernorm_sums
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[B:.*]] = memref.dim %arg1, %c0
// CHECK-DAG: %[[S:.*]] = memref.dim %arg1, %c1
// CHECK: %[[ROWS:.*]] = arith.muli %[[B]], %[[S]] : index
// CHECK: %[[K:.*]] = memref.dim %arg0, %c2
// CHECK: %[[GRID:.*]] = arith.ceildivui %[[ROWS]], %c8 : index
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in ({{.*}} = %[[GRID]], {{.*}}) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in ({{.*}} = %c256,
// CHECK: %[[WARP:.*]] = arith.divui %[[TX]], %c32
// CHECK: %[[LANE:.*]] = arith.remui %[[TX]], %c32
// CHECK: %[[FIRST:.*]] = arith.muli %[[BX]], %c8
// CHECK: %[[ROW:.*]] = arith.addi %[[FIRST]], %[[WARP]]
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[ROW]], %[[ROWS]]
// CHECK: scf.if %[[IN]] {
// CHECK: %[[J:.*]] = arith.remui %[[ROW]], %[[S]]
// CHECK: %[[I:.*]] = arith.divui %[[ROW]], %[[S]]
// CHECK: %[[P:.*]]:2 = scf.for %[[KK:.*]] = %[[LANE]] to %[[K]] step %c32{{.*}} iter_args(%[[A0:.*]] = %[[ZERO]], %[[A1:.*]] = %{{.*}}) -> (f32, f32)
// CHECK: %[[X:.*]] = memref.load %arg0[%[[I]], %[[J]], %[[KK]]]
// CHECK: %[[SQ:.*]] = arith.mulf %[[X]], %[[X]]
// CHECK: %[[N0:.*]] = arith.addf %[[A0]], %[[X]] fastmath<reassoc,contract>
// CHECK: %[[N1:.*]] = arith.addf %[[A1]], %[[SQ]] fastmath<reassoc,contract>
// CHECK: scf.yield %[[N0]], %[[N1]]
// CHECK: gpu.shuffle  xor %[[P]]#0, %c16_i32, %c32_i32 : f32
// CHECK-COUNT-9: gpu.shuffle  xor
// CHECK-NOT: gpu.shuffle
// CHECK: arith.cmpi eq, %[[LANE]], %c0
// CHECK: scf.if
// CHECK: %[[O0:.*]] = memref.load %arg1[%[[I]], %[[J]]]
// CHECK: %[[T0:.*]] = arith.addf %[[O0]], %{{.*}} fastmath<reassoc,contract>
// CHECK: memref.store %[[T0]], %arg1[%[[I]], %[[J]]]
// CHECK: memref.load %arg2[%[[I]], %[[J]]]
// CHECK: memref.store %{{.*}}, %arg2[%[[I]], %[[J]]]
// CHECK: gpu.terminator
// CHECK-NOT: linalg.generic
// EMU-LABEL: func.func @layernorm_sums
// EMU-NOT: gpu.launch
// EMU-NOT: gpu.shuffle
// EMU: scf.for %[[ROW:.*]] = %c0{{.*}} to %{{.*}} step %c1
// EMU: scf.for %[[LANE:.*]] = %c0{{.*}} to %c32{{.*}} step %c1{{.*}} iter_args
// EMU: scf.for %{{.*}} = %[[LANE]] to %{{.*}} step %c32
// EMU: memref.store
// EMU: memref.store
// EMU-NOT: linalg.generic
func.func @layernorm_sums(%x: memref<?x?x64xf32>, %s: memref<?x?xf32>, %q: memref<?x?xf32>) {
  linalg.generic {indexing_maps = [#in3, #row3, #row3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x : memref<?x?x64xf32>) outs(%s, %q : memref<?x?xf32>, memref<?x?xf32>) {
  ^bb0(%in: f32, %o1: f32, %o2: f32):
    %sq = arith.mulf %in, %in : f32
    %a = arith.addf %o2, %sq fastmath<reassoc,contract> : f32
    %b = arith.addf %o1, %in fastmath<reassoc,contract> : f32
    linalg.yield %b, %a : f32, f32
  }
  return
}

// -----

// A softmax's row max over a strided view, with the combiner's operands
// the other way round: folded from -inf with maximumf; a second input
// broadcast along the rows (a projected permutation) is loaded at k.
#in2 = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
#row2 = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @row_max
// EMU-LABEL: func.func @row_max
// EMU: arith.maximumf
// CHECK: %[[NINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: gpu.launch
// CHECK: scf.for %[[KK:.*]] = %{{.*}} iter_args(%[[A:.*]] = %[[NINF]]) -> (f32)
// CHECK: memref.load %arg0[%{{.*}}, %[[KK]]] : memref<?x?xf32, strided<[?, 1], offset: ?>>
// CHECK: memref.load %arg1[%[[KK]]] : memref<?xf32>
// CHECK: arith.maximumf %{{.*}}, %[[A]] : f32
// CHECK-COUNT-5: arith.maximumf
// CHECK: gpu.terminator
func.func @row_max(%x: memref<?x?xf32, strided<[?, 1], offset: ?>>, %bias: memref<?xf32>, %m: memref<?xf32>) {
  linalg.generic {indexing_maps = [#in2, #col, #row2], iterator_types = ["parallel", "reduction"]} ins(%x, %bias : memref<?x?xf32, strided<[?, 1], offset: ?>>, memref<?xf32>) outs(%m : memref<?xf32>) {
  ^bb0(%in: f32, %c: f32, %o: f32):
    %v = arith.addf %in, %c : f32
    %r = arith.maximumf %v, %o : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Where the pass must not fire: the reduction not the last loop, an f16
// output, an output read twice (no single combiner), linalg.index in the
// body, and an output indexed other than by the parallel loops.
#in2 = affine_map<(d0, d1) -> (d0, d1)>
#row2 = affine_map<(d0, d1) -> (d0)>
#col2 = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @not_matched
// CHECK-NOT: gpu.launch
// CHECK-COUNT-5: linalg.generic
// CHECK-NOT: gpu.launch
func.func @not_matched(%x: memref<?x?xf32>, %h: memref<?x?xf16>, %o: memref<?xf32>, %oh: memref<?xf16>, %k: memref<?xf32>) {
  linalg.generic {indexing_maps = [#in2, #col2], iterator_types = ["reduction", "parallel"]} ins(%x : memref<?x?xf32>) outs(%o : memref<?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %out, %in : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#in2, #row2], iterator_types = ["parallel", "reduction"]} ins(%h : memref<?x?xf16>) outs(%oh : memref<?xf16>) {
  ^bb0(%in: f16, %out: f16):
    %r = arith.addf %out, %in : f16
    linalg.yield %r : f16
  }
  linalg.generic {indexing_maps = [#in2, #row2], iterator_types = ["parallel", "reduction"]} ins(%x : memref<?x?xf32>) outs(%o : memref<?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sq = arith.mulf %out, %out : f32
    %r = arith.addf %sq, %in : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#in2, #row2], iterator_types = ["parallel", "reduction"]} ins(%x : memref<?x?xf32>) outs(%o : memref<?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 1 : index
    %c = arith.index_cast %i : index to i32
    %f = arith.sitofp %c : i32 to f32
    %v = arith.mulf %in, %f : f32
    %r = arith.addf %out, %v : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#in2, #col2], iterator_types = ["parallel", "reduction"]} ins(%x : memref<?x?xf32>) outs(%k : memref<?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %out, %in : f32
    linalg.yield %r : f32
  }
  return
}
