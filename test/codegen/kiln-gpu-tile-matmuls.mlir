// RUN: kiln-opt %s --split-input-file --kiln-gpu-tile-matmuls | FileCheck %s
// RUN: kiln-opt %s --split-input-file --kiln-gpu-tile-matmuls=emulate | FileCheck %s --check-prefix=EMU

// An f32 matmul becomes one launch: ceil(N/64) x ceil(M/64) blocks of 256
// threads, A (k-major, padded) and B staged in shared memory per step of
// 16 along k between two barriers, a 4 x 4 register tile per thread (16
// FMAs per step of k), and a guarded epilogue that adds into C.
// CHECK-LABEL: func.func @matmul
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK-DAG: %[[M:.*]] = memref.dim %arg2, %c0
// CHECK-DAG: %[[K:.*]] = memref.dim %arg0, %c1
// CHECK: %[[GY:.*]] = arith.ceildivsi %[[M]], %[[C64]]
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %{{.*}}, {{.*}} = %[[GY]], {{.*}}) threads({{.*}}) in ({{.*}} = %[[C256]], {{.*}}) workgroup(%[[AS:.*]] : memref<16x65xf32, #gpu.address_space<workgroup>>, %[[BS:.*]] : memref<16x64xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[K]] step %c16{{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK-COUNT-4: memref.store %{{.*}}, %[[AS]]
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK-COUNT-16: math.fma
// CHECK: gpu.barrier
// CHECK-COUNT-16: scf.if
// CHECK: gpu.terminator
// CHECK-NOT: linalg.matmul
// EMU-LABEL: func.func @matmul
// EMU-NOT: gpu.launch
// EMU-NOT: gpu.barrier
// EMU: memref.alloc() : memref<16x65xf32>
// EMU: memref.alloc() : memref<256x16xf32>
// EMU-COUNT-16: math.fma
// EMU-NOT: linalg.matmul
// EMU: memref.dealloc
func.func @matmul(%a: memref<?x37xf32>, %b: memref<37x100xf32, strided<[200, 1]>>,
                  %c: memref<?x100xf32>) {
  linalg.matmul ins(%a, %b : memref<?x37xf32>, memref<37x100xf32, strided<[200, 1]>>)
                outs(%c : memref<?x100xf32>)
  return
}

// -----

// A batch_matmul: the batch is grid z.
// CHECK-LABEL: func.func @batched
// CHECK: %[[B:.*]] = memref.dim %arg2, %c0
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}}, {{.*}}, {{.*}} = %[[B]])
// CHECK-NOT: linalg.batch_matmul
func.func @batched(%a: memref<?x?x8xf32>, %b: memref<?x8x?xf32>, %c: memref<?x?x?xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<?x?x8xf32>, memref<?x8x?xf32>)
                      outs(%c : memref<?x?x?xf32>)
  return
}

// -----

// Not taken: other element types, transposed indexing maps, tensors.
// CHECK-LABEL: func.func @not_taken
// CHECK-NOT: gpu.launch
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : memref<4x8xf16>
// CHECK: linalg.matmul indexing_maps
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>
func.func @not_taken(%a: memref<4x8xf16>, %b: memref<8x4xf16>, %c: memref<4x4xf16>,
                     %x: memref<4x8xf32>, %y: memref<4x8xf32>, %z: memref<4x4xf32>,
                     %t: tensor<4x8xf32>, %u: tensor<8x4xf32>, %v: tensor<4x4xf32>) -> tensor<4x4xf32> {
  linalg.matmul ins(%a, %b : memref<4x8xf16>, memref<8x4xf16>) outs(%c : memref<4x4xf16>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
                ins(%x, %y : memref<4x8xf32>, memref<4x8xf32>) outs(%z : memref<4x4xf32>)
  %r = linalg.matmul ins(%t, %u : tensor<4x8xf32>, tensor<8x4xf32>) outs(%v : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}

// -----

// RUN: kiln-opt %s --split-input-file --kiln-gpu-tile-matmuls=precision=bf16 | FileCheck %s --check-prefix=BF16
// Tensor cores: bf16 tiles [64][40] k-contiguous, operands rounded when
// staged, 8 mma.sync m16n8k16 per step of 32 along k (4 n8 tiles x 2).
// BF16-LABEL: func.func @tensor_cores
// BF16: workgroup(%{{.*}} : memref<64x40xbf16, #gpu.address_space<workgroup>>, %{{.*}} : memref<64x40xbf16, #gpu.address_space<workgroup>>)
// BF16: arith.truncf %{{.*}} : f32 to bf16
// BF16: gpu.barrier
// BF16-COUNT-8: nvvm.mma.sync
// BF16: gpu.barrier
func.func @tensor_cores(%a: memref<?x64xf32>, %b: memref<64x96xf32>, %c: memref<?x96xf32>) {
  linalg.matmul ins(%a, %b : memref<?x64xf32>, memref<64x96xf32>) outs(%c : memref<?x96xf32>)
  return
}
