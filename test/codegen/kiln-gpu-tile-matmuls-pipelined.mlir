// The pipelined tensor-core kernel (mma-tile=ROWSxCOLS): matmuls whose
// operands allow 16-byte vector loads take it; the others keep the 64 x 64
// kernel.
// RUN: kiln-opt %s --split-input-file --kiln-gpu-tile-matmuls="precision=fp16 mma-tile=128x64" | FileCheck %s
// RUN: kiln-opt %s --split-input-file --kiln-gpu-tile-matmuls="precision=fp16 mma-tile=64x128 emulate" | FileCheck %s --check-prefix=EMU
// RUN: kiln-opt %s --split-input-file --kiln-gpu-tile-matmuls="precision=bf16 mma-tile=64x64" | FileCheck %s --check-prefix=BF16
// RUN: kiln-opt %s --split-input-file --kiln-gpu-tile-matmuls="precision=fp16 mma-tile=128x64 mma-ldmatrix" | FileCheck %s --check-prefix=LDM
// RUN: not kiln-opt %s --split-input-file --kiln-gpu-tile-matmuls="precision=fp16 mma-tile=96x64" 2>&1 | FileCheck %s --check-prefix=BADTILE
// RUN: not kiln-opt %s --split-input-file --kiln-gpu-tile-matmuls="mma-tile=64x64" 2>&1 | FileCheck %s --check-prefix=BADPREC

// BADTILE: error: kiln-gpu-tile-matmuls: mma-tile must be ROWSxCOLS with 64 or 128 each, with precision fp16 or bf16; got '96x64' with precision fp16
// BADPREC: error: kiln-gpu-tile-matmuls: mma-tile must be ROWSxCOLS with 64 or 128 each, with precision fp16 or bf16; got '64x64' with precision fp32

// A dense layer with fp16 weights and a bias prologue: a 128 x 64 tile per
// block (grid N / 64 x M / 128), two shared buffers of each operand, the
// first step staged before the loop; in the loop, the next step's loads
// (4 vector<4xf32> of A, one vector<8xf16> of B per thread), the current
// step's 16 mma.sync (4 x 2 fragments per warp, two k-steps), the stores
// into the other buffer and one barrier.
// CHECK-LABEL: func.func @fits
// CHECK-NOT: linalg.generic
// CHECK: %[[GX:.*]] = arith.ceildivsi %{{.*}}, %c64
// CHECK: %[[GY:.*]] = arith.ceildivsi %{{.*}}, %c128
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[GX]], %{{.*}} = %[[GY]], {{.*}} threads({{.*}}) in (%{{.*}} = %c256,
// CHECK-SAME: workgroup(%[[AS:.*]] : memref<2x128x40xf16, #gpu.address_space<workgroup>>, %[[BS:.*]] : memref<2x32x72xf16, #gpu.address_space<workgroup>>)
// CHECK-COUNT-4: vector.load %arg0[{{.*}}] {alignment = 16 : i64} : memref<?x64xf32>, vector<4xf32>
// CHECK: vector.load %arg1[{{.*}}] {alignment = 16 : i64} : memref<64x96xf16>, vector<8xf16>
// CHECK-COUNT-4: vector.store %{{.*}}, %[[AS]][%c0{{.*}}] {alignment = 8 : i64}
// CHECK: vector.store %{{.*}}, %[[BS]][%c0{{.*}}] {alignment = 16 : i64}
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK-COUNT-4: vector.load %arg0
// CHECK: vector.load %arg1
// CHECK-COUNT-16: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK-COUNT-4: vector.store %{{.*}}, %[[AS]]
// CHECK: vector.store %{{.*}}, %[[BS]]
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: scf.yield
// The epilogue: the bias (the fused prologue) plus each accumulator.
// CHECK: scf.if
// CHECK: memref.load %arg2
// CHECK: arith.addf
// CHECK: memref.store
// With mma-ldmatrix, per k-step of 16 each warp loads its 4 A fragments
// with ldmatrix.x4 (a 16 x 16 block each: lane l gives row l % 8 + 8 (l / 8
// % 2), column 8 (l / 16)) and its two 8-column B tiles with one
// ldmatrix.x4.trans from the n-contiguous buffer; no 16-bit shared loads.
// LDM-LABEL: func.func @fits
// LDM: scf.for
// LDM-COUNT-4: nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = false} : memref<2x128x40xf16, #gpu.address_space<workgroup>> -> vector<4x2xf16>
// LDM: nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = true} : memref<2x32x72xf16, #gpu.address_space<workgroup>> -> vector<4x2xf16>
// LDM-NOT: memref.load %{{.*}} : memref<2x32x72xf16
// LDM-COUNT-8: nvvm.mma.sync
// LDM-COUNT-4: nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = false}
// LDM: nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = true}
// LDM-COUNT-8: nvvm.mma.sync
// LDM: gpu.barrier
// EMU-LABEL: func.func @fits
// EMU-NOT: gpu.launch
// EMU-NOT: nvvm.mma.sync
// EMU: memref.alloc() : memref<2x64x40xf16>
// EMU: memref.alloc() : memref<2x32x136xf16>
// EMU: memref.alloc() : memref<256x32xf32>
// EMU: vector.load %arg0[{{.*}}] : memref<?x64xf32>, vector<4xf32>
// EMU: vector.load %arg1[{{.*}}] : memref<64x96xf16>, vector<8xf16>
// EMU: math.fma
// With bf16 the fp16 weights are not the kernel's: no matmul kernel at all.
// BF16-LABEL: func.func @fits
// BF16: linalg.matmul
func.func @fits(%a: memref<?x64xf32>, %w: memref<64x96xf16>, %bias: memref<96xf32>, %n: index) -> memref<?x96xf32> {
  %c = memref.alloc(%n) : memref<?x96xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%bias : memref<96xf32>) outs(%c : memref<?x96xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  }
  linalg.matmul ins(%a, %w : memref<?x64xf32>, memref<64x96xf16>) outs(%c : memref<?x96xf32>)
  return %c : memref<?x96xf32>
}

// -----

// Activations by activations (B in fp32: vector<4xf32> loads rounded when
// stored), batched: the batch is the grid's z.
// CHECK-LABEL: func.func @batched
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}}, %{{.*}} = %dim{{[_0-9]*}})
// CHECK-SAME: memref<2x128x40xf16, #gpu.address_space<workgroup>>
// CHECK: vector.load %arg1[{{.*}}] {alignment = 16 : i64} : memref<?x8x40xf32>, vector<4xf32>
// CHECK: arith.truncf %{{.*}} : vector<4xf32> to vector<4xf16>
// EMU-LABEL: func.func @batched
// EMU: memref.alloc() : memref<2x64x40xf16>
// EMU: arith.truncf %{{.*}} : vector<4xf32> to vector<4xf16>
// BF16-LABEL: func.func @batched
// BF16: workgroup(%{{.*}} : memref<2x64x40xbf16, #gpu.address_space<workgroup>>, %{{.*}} : memref<2x32x72xbf16, #gpu.address_space<workgroup>>)
// BF16: arith.truncf %{{.*}} : vector<4xf32> to vector<4xbf16>
// BF16: vector.bitcast %{{.*}} : vector<2xbf16> to vector<1xi32>
// BF16-COUNT-4: nvvm.mma.sync
func.func @batched(%a: memref<?x?x8xf32>, %b: memref<?x8x40xf32>, %c: memref<?x?x40xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<?x?x8xf32>, memref<?x8x40xf32>) outs(%c : memref<?x?x40xf32>)
  return
}

// -----

// Kept on the 64 x 64 kernel: K not a multiple of 4 (a vector would cross
// a row's end), a dynamic K, an A row stride not a multiple of 4, N not a
// multiple of B's vector, a dynamic offset.
// CHECK-LABEL: func.func @kept
// CHECK-COUNT-5: workgroup(%{{.*}} : memref<64x40xf16, #gpu.address_space<workgroup>>
// CHECK-NOT: gpu.launch
// EMU-LABEL: func.func @kept
// EMU-NOT: memref<2x64x40xf16>
func.func @kept(%a: memref<?x30xf32>, %w: memref<30x64xf16>, %c: memref<?x64xf32>,
                %a2: memref<?x?xf32>, %w2: memref<?x64xf16>,
                %a3: memref<?x32xf32, strided<[34, 1]>>, %w3: memref<32x64xf16>,
                %w4: memref<32x60xf16>, %c4: memref<?x60xf32>,
                %a5: memref<?x32xf32, strided<[32, 1], offset: ?>>, %a6: memref<?x32xf32>) {
  linalg.matmul ins(%a, %w : memref<?x30xf32>, memref<30x64xf16>) outs(%c : memref<?x64xf32>)
  linalg.matmul ins(%a2, %w2 : memref<?x?xf32>, memref<?x64xf16>) outs(%c : memref<?x64xf32>)
  linalg.matmul ins(%a3, %w3 : memref<?x32xf32, strided<[34, 1]>>, memref<32x64xf16>) outs(%c : memref<?x64xf32>)
  linalg.matmul ins(%a6, %w4 : memref<?x32xf32>, memref<32x60xf16>) outs(%c4 : memref<?x60xf32>)
  linalg.matmul ins(%a5, %w3 : memref<?x32xf32, strided<[32, 1], offset: ?>>, memref<32x64xf16>) outs(%c : memref<?x64xf32>)
  return
}
