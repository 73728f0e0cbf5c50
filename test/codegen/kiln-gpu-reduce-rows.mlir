// RUN: kiln-opt %s --split-input-file --kiln-gpu-reduce-rows | FileCheck %s
// RUN: kiln-opt %s --split-input-file --kiln-gpu-reduce-rows=emulate | FileCheck %s --check-prefix=EMU

// A LayerNorm's sums (sum and sum of squares over the last dim, two
// outputs): one launch of ceil(rows / 8) blocks of 256 threads, a warp per
// row (row = block * 8 + thread / 32), lane = thread % 32 walking k from
// lane by 32, both partials folded by xor shuffles 16 ... 1, each total
// added to its output's value (loaded before the shuffles), and lane 0
// storing it.
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
// CHECK: %[[O0:.*]] = memref.load %arg1[%[[I]], %[[J]]]
// CHECK: %[[O1:.*]] = memref.load %arg2[%[[I]], %[[J]]]
// CHECK: %[[P:.*]]:2 = scf.for %[[KK:.*]] = %[[LANE]] to %[[K]] step %c32{{.*}} iter_args(%[[A0:.*]] = %[[ZERO]], %[[A1:.*]] = %{{.*}}) -> (f32, f32)
// CHECK: %[[X:.*]] = memref.load %arg0[%[[I]], %[[J]], %[[KK]]]
// CHECK: %[[SQ:.*]] = arith.mulf %[[X]], %[[X]]
// CHECK: %[[N0:.*]] = arith.addf %[[A0]], %[[X]] fastmath<reassoc,contract>
// CHECK: %[[N1:.*]] = arith.addf %[[A1]], %[[SQ]] fastmath<reassoc,contract>
// CHECK: scf.yield %[[N0]], %[[N1]]
// CHECK: gpu.shuffle  xor %[[P]]#0, %c16_i32, %c32_i32 : f32
// CHECK-COUNT-9: gpu.shuffle  xor
// CHECK-NOT: gpu.shuffle
// CHECK: %[[T0:.*]] = arith.addf %[[O0]], %{{.*}} fastmath<reassoc,contract>
// CHECK: %[[T1:.*]] = arith.addf %[[O1]], %{{.*}} fastmath<reassoc,contract>
// CHECK: arith.cmpi eq, %[[LANE]], %c0
// CHECK: scf.if
// CHECK: memref.store %[[T0]], %arg1[%[[I]], %[[J]]]
// CHECK: memref.store %[[T1]], %arg2[%[[I]], %[[J]]]
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

// -----

// A whole LayerNorm as bufferization leaves it: the zeros filled once and
// copied into both sums, the sums, and the normalizing generic after them
// (an allocation between). One kernel: each warp's lanes fold the sums from
// the fill's zero (no load, no copy, no fill), and after the shuffles the
// same lanes walk the row again (k from lane by 32) computing the
// normalized values into the output, the mean and 1 / sigma computed once
// before that loop; the sums are never stored, and their buffers, the
// copies and the fill are gone.
#in3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row3 = affine_map<(d0, d1, d2) -> (d0, d1)>
#vec3 = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-LABEL: func.func @layernorm
// CHECK-NOT: linalg.
// CHECK: %[[Y:.*]] = memref.alloc(%arg2, %arg3) : memref<?x?x64xf32>
// CHECK-NOT: linalg.
// CHECK: gpu.launch
// CHECK-NOT: memref.load %alloc
// CHECK: %[[P:.*]]:2 = scf.for %{{.*}} = %[[LANE:[^ ]*]] to %{{.*}} step %c32
// CHECK-COUNT-10: gpu.shuffle  xor
// CHECK: %[[SUM:.*]] = arith.addf %cst{{.*}}, %{{.*}} fastmath<reassoc,contract>
// CHECK: %[[MEAN:.*]] = arith.divf %[[SUM]], %{{.*}}
// CHECK: %[[R:.*]] = math.rsqrt
// CHECK: scf.for %[[K:.*]] = %[[LANE]] to %{{.*}} step %c32
// CHECK: %[[X:.*]] = memref.load %arg0[%{{.*}}, %{{.*}}, %[[K]]]
// CHECK: %[[G:.*]] = memref.load %arg1[%[[K]]]
// CHECK: %[[D:.*]] = arith.subf %[[X]], %[[MEAN]]
// CHECK: arith.mulf %[[D]], %[[R]]
// CHECK: memref.store %{{.*}}, %[[Y]][%{{.*}}, %{{.*}}, %[[K]]]
// CHECK-NOT: memref.store
// CHECK: gpu.terminator
// CHECK-NOT: linalg.
// CHECK-NOT: memref.dealloc
// CHECK: return %[[Y]]
// EMU-LABEL: func.func @layernorm
// EMU-NOT: linalg.
// EMU: scf.for %[[LANE:.*]] = %c0{{.*}} to %c32{{.*}} step %c1{{.*}} iter_args
// EMU: scf.for %{{.*}} = %[[LANE]] to %{{.*}} step %c32
// EMU: math.rsqrt
// EMU: scf.for %[[K:.*]] = %c0{{.*}} to %{{.*}} step %c1
// EMU: memref.store %{{.*}}[%{{.*}}, %{{.*}}, %[[K]]]
// EMU-NOT: memref.store
// EMU-NOT: linalg.
// EMU: return
func.func @layernorm(%x: memref<?x?x64xf32>, %gamma: memref<64xf32>, %b: index, %s: index) -> memref<?x?x64xf32> {
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 64.0 : f32
  %eps = arith.constant 1.0e-5 : f32
  %z = memref.alloc(%b, %s) : memref<?x?xf32>
  linalg.fill ins(%zero : f32) outs(%z : memref<?x?xf32>)
  %sum = memref.alloc(%b, %s) : memref<?x?xf32>
  linalg.copy ins(%z : memref<?x?xf32>) outs(%sum : memref<?x?xf32>)
  %sq = memref.alloc(%b, %s) : memref<?x?xf32>
  linalg.copy ins(%z : memref<?x?xf32>) outs(%sq : memref<?x?xf32>)
  linalg.generic {indexing_maps = [#in3, #row3, #row3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x : memref<?x?x64xf32>) outs(%sum, %sq : memref<?x?xf32>, memref<?x?xf32>) {
  ^bb0(%in: f32, %o1: f32, %o2: f32):
    %m = arith.mulf %in, %in : f32
    %a = arith.addf %o2, %m fastmath<reassoc,contract> : f32
    %c = arith.addf %o1, %in fastmath<reassoc,contract> : f32
    linalg.yield %c, %a : f32, f32
  }
  %y = memref.alloc(%b, %s) : memref<?x?x64xf32>
  linalg.generic {indexing_maps = [#in3, #vec3, #row3, #row3, #in3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %gamma, %sum, %sq : memref<?x?x64xf32>, memref<64xf32>, memref<?x?xf32>, memref<?x?xf32>) outs(%y : memref<?x?x64xf32>) {
  ^bb0(%in: f32, %g: f32, %s1: f32, %s2: f32, %out: f32):
    %mean = arith.divf %s1, %n : f32
    %ms = arith.divf %s2, %n : f32
    %mm = arith.mulf %mean, %mean : f32
    %var = arith.subf %ms, %mm : f32
    %ve = arith.addf %var, %eps : f32
    %r = math.rsqrt %ve : f32
    %d = arith.subf %in, %mean : f32
    %t = arith.mulf %d, %r : f32
    %o = arith.mulf %t, %g : f32
    linalg.yield %o : f32
  }
  memref.dealloc %sum : memref<?x?xf32>
  memref.dealloc %sq : memref<?x?xf32>
  memref.dealloc %z : memref<?x?xf32>
  return %y : memref<?x?x64xf32>
}

// -----

// A softmax's sum of exponentials with the division after it, the sum
// also returned: fused, and lane 0 still stores the sum. The max before it
// (its reader is a reduction, not an elementwise op) is its own kernel,
// whose result is stored and read by the second. Both buffers' fills go:
// the kernels start from their values (-inf, 0).
#in2 = affine_map<(d0, d1) -> (d0, d1)>
#row2 = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @softmax
// CHECK-NOT: linalg.
// CHECK: gpu.launch
// CHECK: arith.maximumf
// CHECK: gpu.terminator
// CHECK: gpu.launch
// CHECK: math.exp
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: %[[T:.*]] = arith.addf %cst{{.*}}, %{{.*}}
// CHECK: scf.for
// CHECK: math.exp
// CHECK: arith.divf %{{.*}}, %[[T]]
// CHECK: memref.store
// CHECK: scf.if
// CHECK: memref.store %[[T]], %[[SUM:.*]][
// CHECK: gpu.terminator
// CHECK-NOT: linalg.
// CHECK: return %{{.*}}, %[[SUM]]
func.func @softmax(%x: memref<?x?xf32>, %n: index, %k: index) -> (memref<?x?xf32>, memref<?xf32>) {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %max = memref.alloc(%n) : memref<?xf32>
  linalg.fill ins(%ninf : f32) outs(%max : memref<?xf32>)
  linalg.generic {indexing_maps = [#in2, #row2], iterator_types = ["parallel", "reduction"]} ins(%x : memref<?x?xf32>) outs(%max : memref<?xf32>) {
  ^bb0(%in: f32, %o: f32):
    %r = arith.maximumf %in, %o : f32
    linalg.yield %r : f32
  }
  %sum = memref.alloc(%n) : memref<?xf32>
  linalg.fill ins(%zero : f32) outs(%sum : memref<?xf32>)
  linalg.generic {indexing_maps = [#in2, #row2, #row2], iterator_types = ["parallel", "reduction"]} ins(%x, %max : memref<?x?xf32>, memref<?xf32>) outs(%sum : memref<?xf32>) {
  ^bb0(%in: f32, %m: f32, %o: f32):
    %d = arith.subf %in, %m : f32
    %e = math.exp %d : f32
    %r = arith.addf %o, %e : f32
    linalg.yield %r : f32
  }
  %y = memref.alloc(%n, %k) : memref<?x?xf32>
  linalg.generic {indexing_maps = [#in2, #row2, #row2, #in2], iterator_types = ["parallel", "parallel"]} ins(%x, %max, %sum : memref<?x?xf32>, memref<?xf32>, memref<?xf32>) outs(%y : memref<?x?xf32>) {
  ^bb0(%in: f32, %m: f32, %s: f32, %out: f32):
    %d = arith.subf %in, %m : f32
    %e = math.exp %d : f32
    %q = arith.divf %e, %s : f32
    linalg.yield %q : f32
  }
  return %y, %sum : memref<?x?xf32>, memref<?xf32>
}

// -----

// Not fused: a consumer reading the sum through another map than the rows
// (here it is not the row's own value), a store between the reduction and
// the consumer, and a consumer writing into a function argument. The sums
// start from their buffers' values when these are not known (a copy from
// a function argument).
#in2 = affine_map<(d0, d1) -> (d0, d1)>
#row2 = affine_map<(d0, d1) -> (d0)>
#col2 = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @not_fused
// CHECK: linalg.copy
// CHECK: gpu.launch
// CHECK: memref.load %[[S0:.*]][
// CHECK: gpu.terminator
// CHECK: linalg.generic
// CHECK: gpu.launch
// CHECK: gpu.terminator
// CHECK: memref.store
// CHECK: linalg.generic
// CHECK: gpu.launch
// CHECK: gpu.terminator
// CHECK: linalg.generic
func.func @not_fused(%x: memref<8x8xf32>, %init: memref<8xf32>, %arg: memref<8x8xf32>) -> (memref<8x8xf32>, memref<8x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %s0 = memref.alloc() : memref<8xf32>
  linalg.copy ins(%init : memref<8xf32>) outs(%s0 : memref<8xf32>)
  linalg.generic {indexing_maps = [#in2, #row2], iterator_types = ["parallel", "reduction"]} ins(%x : memref<8x8xf32>) outs(%s0 : memref<8xf32>) {
  ^bb0(%in: f32, %o: f32):
    %r = arith.addf %o, %in : f32
    linalg.yield %r : f32
  }
  %y0 = memref.alloc() : memref<8x8xf32>
  linalg.generic {indexing_maps = [#in2, #col2, #in2], iterator_types = ["parallel", "parallel"]} ins(%x, %s0 : memref<8x8xf32>, memref<8xf32>) outs(%y0 : memref<8x8xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %q = arith.divf %in, %s : f32
    linalg.yield %q : f32
  }
  %s1 = memref.alloc() : memref<8xf32>
  linalg.fill ins(%zero : f32) outs(%s1 : memref<8xf32>)
  linalg.generic {indexing_maps = [#in2, #row2], iterator_types = ["parallel", "reduction"]} ins(%x : memref<8x8xf32>) outs(%s1 : memref<8xf32>) {
  ^bb0(%in: f32, %o: f32):
    %r = arith.addf %o, %in : f32
    linalg.yield %r : f32
  }
  %c0 = arith.constant 0 : index
  memref.store %zero, %x[%c0, %c0] : memref<8x8xf32>
  %y1 = memref.alloc() : memref<8x8xf32>
  linalg.generic {indexing_maps = [#in2, #row2, #in2], iterator_types = ["parallel", "parallel"]} ins(%x, %s1 : memref<8x8xf32>, memref<8xf32>) outs(%y1 : memref<8x8xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %q = arith.divf %in, %s : f32
    linalg.yield %q : f32
  }
  %s2 = memref.alloc() : memref<8xf32>
  linalg.fill ins(%zero : f32) outs(%s2 : memref<8xf32>)
  linalg.generic {indexing_maps = [#in2, #row2], iterator_types = ["parallel", "reduction"]} ins(%x : memref<8x8xf32>) outs(%s2 : memref<8xf32>) {
  ^bb0(%in: f32, %o: f32):
    %r = arith.addf %o, %in : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#in2, #row2, #in2], iterator_types = ["parallel", "parallel"]} ins(%x, %s2 : memref<8x8xf32>, memref<8xf32>) outs(%arg : memref<8x8xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %q = arith.divf %in, %s : f32
    linalg.yield %q : f32
  }
  return %y0, %y1 : memref<8x8xf32>, memref<8x8xf32>
}

// -----

// Bufferization's shared zeros: one filled buffer copied into the first
// RMSNorm's sum and reused in place as the second's. Both kernels start
// from the fill's zero; the copy goes with the first, the fill with the
// second (nothing reads it any more), and so do both sums' buffers.
#in2 = affine_map<(d0, d1) -> (d0, d1)>
#row2 = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @shared_zeros
// CHECK-NOT: linalg.
// CHECK-NOT: memref.alloc() : memref<8xf32>
// CHECK: gpu.launch
// CHECK-NOT: memref.store %{{.*}} : memref<8xf32>
// CHECK: math.rsqrt
// CHECK: gpu.terminator
// CHECK-NOT: linalg.
// CHECK: gpu.launch
// CHECK-NOT: memref.store %{{.*}} : memref<8xf32>
// CHECK: math.rsqrt
// CHECK: gpu.terminator
// CHECK-NOT: linalg.
// CHECK-NOT: memref.alloc() : memref<8xf32>
// CHECK: return
func.func @shared_zeros(%x: memref<8x16xf32>, %y: memref<8x16xf32>) -> (memref<8x16xf32>, memref<8x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %z = memref.alloc() : memref<8xf32>
  linalg.fill ins(%zero : f32) outs(%z : memref<8xf32>)
  %s1 = memref.alloc() : memref<8xf32>
  linalg.copy ins(%z : memref<8xf32>) outs(%s1 : memref<8xf32>)
  linalg.generic {indexing_maps = [#in2, #row2], iterator_types = ["parallel", "reduction"]} ins(%x : memref<8x16xf32>) outs(%s1 : memref<8xf32>) {
  ^bb0(%in: f32, %o: f32):
    %m = arith.mulf %in, %in : f32
    %r = arith.addf %o, %m : f32
    linalg.yield %r : f32
  }
  %o1 = memref.alloc() : memref<8x16xf32>
  linalg.generic {indexing_maps = [#in2, #row2, #in2], iterator_types = ["parallel", "parallel"]} ins(%x, %s1 : memref<8x16xf32>, memref<8xf32>) outs(%o1 : memref<8x16xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %r = math.rsqrt %s : f32
    %q = arith.mulf %in, %r : f32
    linalg.yield %q : f32
  }
  linalg.generic {indexing_maps = [#in2, #row2], iterator_types = ["parallel", "reduction"]} ins(%y : memref<8x16xf32>) outs(%z : memref<8xf32>) {
  ^bb0(%in: f32, %o: f32):
    %m = arith.mulf %in, %in : f32
    %r = arith.addf %o, %m : f32
    linalg.yield %r : f32
  }
  %o2 = memref.alloc() : memref<8x16xf32>
  linalg.generic {indexing_maps = [#in2, #row2, #in2], iterator_types = ["parallel", "parallel"]} ins(%y, %z : memref<8x16xf32>, memref<8xf32>) outs(%o2 : memref<8x16xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %r = math.rsqrt %s : f32
    %q = arith.mulf %in, %r : f32
    linalg.yield %q : f32
  }
  memref.dealloc %s1 : memref<8xf32>
  memref.dealloc %z : memref<8xf32>
  return %o1, %o2 : memref<8x16xf32>, memref<8x16xf32>
}
