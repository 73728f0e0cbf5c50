// The pipelined tensor-core kernel with split-k=S: a matmul whose static K
// is at least 256 x S and twice its N runs S blocks per tile (grid z =
// batch x S), each on its share of k's steps, storing fp32 partial tiles;
// a second kernel adds them and applies the fused prologue and epilogue.
// Shorter k, or k under twice n, keeps one kernel.
// RUN: kiln-opt %s --split-input-file --kiln-gpu-tile-matmuls="precision=fp16 mma-tile=64x64 split-k=2" | FileCheck %s
// RUN: kiln-opt %s --split-input-file --kiln-gpu-tile-matmuls="precision=fp16 mma-tile=64x64 split-k=2 emulate" | FileCheck %s --check-prefix=EMU
// RUN: not kiln-opt %s --split-input-file --kiln-gpu-tile-matmuls="precision=fp16 mma-tile=64x64 split-k=9" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not kiln-opt %s --split-input-file --kiln-gpu-tile-matmuls="precision=fp16 split-k=2" 2>&1 | FileCheck %s --check-prefix=BADTILE

// BAD: error: kiln-gpu-tile-matmuls: split-k must be 1 to 8, above 1 only with mma-tile; got 9
// BADTILE: error: kiln-gpu-tile-matmuls: split-k must be 1 to 8, above 1 only with mma-tile; got 2

// K = 512, a bias prologue and a tanh epilogue: the partial buffer
// [1 x 2, M, N] before the first launch (grid z 1 x 2); block z takes part
// z % 2 of the 16 steps (ceil(16 / 2) each, at most what is left) and
// stores its accumulators into the partials at z. The second launch, a
// thread per element of C (ceil(M N / 256) blocks): the two partials added
// in order, then the bias, the tanh and the store into the epilogue's
// output. The buffer is freed at the end of the function.
// CHECK-LABEL: func.func @split
// CHECK-NOT: linalg.
// CHECK: %[[Z:.*]] = arith.muli %c1{{.*}}, %c2{{.*}} : index
// CHECK: %[[P:.*]] = memref.alloc(%[[Z]], %[[M:.*]], %[[N:.*]]) : memref<?x?x?xf32>
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %[[BZ:.*]]) in ({{.*}}, {{.*}}, %{{.*}} = %[[Z]])
// CHECK: %[[PART:.*]] = arith.remui %[[BZ]], %c2
// CHECK: %[[ALL:.*]] = arith.ceildivsi %{{.*}}, %c32
// CHECK: %[[PER:.*]] = arith.ceildivsi %[[ALL]], %c2
// CHECK: %[[FIRST:.*]] = arith.muli %[[PART]], %[[PER]]
// CHECK: %[[LEFT:.*]] = arith.subi %{{.*}}, %[[FIRST]]
// CHECK: %[[MIN:.*]] = arith.minsi %[[PER]], %[[LEFT]]
// CHECK: %[[COUNT:.*]] = arith.maxsi %[[MIN]], %c0
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %[[COUNT]]
// CHECK-COUNT-8: nvvm.mma.sync
// CHECK: scf.yield
// CHECK-NOT: math.tanh
// CHECK: memref.store %{{.*}}, %[[P]][%[[BZ]], %{{.*}}, %{{.*}}] : memref<?x?x?xf32>
// CHECK: gpu.terminator
// CHECK: %[[MN:.*]] = arith.muli %[[M]], %[[N]] : index
// CHECK: %[[BLOCKS:.*]] = arith.ceildivsi %[[MN]], %c256
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %[[BAT:.*]]) in (%{{.*}} = %[[BLOCKS]], {{.*}} threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c256
// CHECK: scf.if
// CHECK: %[[X:.*]] = memref.load %[[P]][
// CHECK: %[[Y:.*]] = memref.load %[[P]][
// CHECK: %[[SUM:.*]] = arith.addf %[[X]], %[[Y]] : f32
// CHECK: %[[BIAS:.*]] = memref.load %arg2[
// CHECK: %[[B:.*]] = arith.addf %[[BIAS]], %[[SUM]] : f32
// CHECK: %[[T:.*]] = math.tanh %[[B]] : f32
// CHECK: memref.store %[[T]]
// CHECK: gpu.terminator
// CHECK: memref.dealloc %[[P]] : memref<?x?x?xf32>
// CHECK-NEXT: return
// Emulated: the same parts as CPU loops over z, then the adding loops, and
// the buffer freed after them.
// EMU-LABEL: func.func @split
// EMU-NOT: gpu.launch
// EMU: %[[P:.*]] = memref.alloc(%{{.*}}, %{{.*}}, %{{.*}}) : memref<?x?x?xf32>
// EMU: memref.store %{{.*}}, %[[P]][
// EMU: memref.load %[[P]][
// EMU: memref.load %[[P]][
// EMU: math.tanh
// EMU: memref.dealloc %[[P]] : memref<?x?x?xf32>
// EMU: return
func.func @split(%a: memref<?x512xf32>, %w: memref<512x64xf16>, %bias: memref<64xf32>, %n: index) -> memref<?x64xf32> {
  %c = memref.alloc(%n) : memref<?x64xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%bias : memref<64xf32>) outs(%c : memref<?x64xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  }
  linalg.matmul ins(%a, %w : memref<?x512xf32>, memref<512x64xf16>) outs(%c : memref<?x64xf32>)
  %d = memref.alloc(%n) : memref<?x64xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<?x64xf32>) outs(%d : memref<?x64xf32>) {
  ^bb0(%x: f32, %o: f32):
    %r = math.tanh %x : f32
    linalg.yield %r : f32
  }
  return %d : memref<?x64xf32>
}

// -----

// K = 256 < 256 x 2: one kernel, no partials.
// CHECK-LABEL: func.func @short
// CHECK-NOT: memref<?x?x?xf32>
// CHECK: gpu.launch
// CHECK-NOT: gpu.launch
// CHECK: return
// EMU-LABEL: func.func @short
// EMU-NOT: memref<?x?x?xf32>
// EMU: return
func.func @short(%a: memref<?x256xf32>, %w: memref<256x64xf16>, %c: memref<?x64xf32>) {
  linalg.matmul ins(%a, %w : memref<?x256xf32>, memref<256x64xf16>) outs(%c : memref<?x64xf32>)
  return
}

// -----

// K = 512 < 2 x N = 640: one kernel, no partials (a wide matmul has tiles
// enough, and its partials would cost more).
// CHECK-LABEL: func.func @wide
// CHECK-NOT: memref<?x?x?xf32>
// CHECK: gpu.launch
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @wide(%a: memref<?x512xf32>, %w: memref<512x320xf16>, %c: memref<?x320xf32>) {
  linalg.matmul ins(%a, %w : memref<?x512xf32>, memref<512x320xf16>) outs(%c : memref<?x320xf32>)
  return
}

// -----

// Batched, K = 512: grid z is the batch times 2; the adding kernel's z is
// the batch.
// CHECK-LABEL: func.func @batched
// CHECK: %[[B:.*]] = memref.dim %arg2, %c0
// CHECK: %[[Z:.*]] = arith.muli %[[B]], %c2
// CHECK: memref.alloc(%[[Z]], %{{.*}}, %{{.*}}) : memref<?x?x?xf32>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}}, {{.*}}, %{{.*}} = %[[Z]])
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}}, {{.*}}, %{{.*}} = %[[B]])
func.func @batched(%a: memref<?x?x512xf32>, %b: memref<?x512x40xf32>, %c: memref<?x?x40xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<?x?x512xf32>, memref<?x512x40xf32>) outs(%c : memref<?x?x40xf32>)
  return
}
