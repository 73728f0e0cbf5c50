// RUN: kiln-opt %s --split-input-file --kiln-gpu-select-attention | FileCheck %s --check-prefix=SEL
// RUN: kiln-opt %s --split-input-file --kiln-gpu-attention | FileCheck %s
// RUN: kiln-opt %s --split-input-file --kiln-gpu-attention=emulate | FileCheck %s --check-prefix=EMU

// Selection (tensors): f32, rank 3 or 4, static head dims up to 128, an
// i1 or f32 mask: the CPU kernel's op and flags (causal 4 | bool mask 2 |
// mask 1 | fill 8 = 15, mask rank 4, rank 4; scale, fill).
// SEL-LABEL: func.func @select
// SEL: %[[E:.*]] = tensor.empty() : tensor<2x4x8x32xf32>
// SEL: kiln.ukernel "attention_f32"(%arg0, %arg1, %arg2, %arg3) outs(%[[E]]) {float_params = array<f32: 2.500000e-01, -1.000000e+09>, int_params = array<i64: 0, 15, 4, 4>}
// SEL-NOT: kiln.attention
func.func @select(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x10x16xf32>, %v: tensor<2x2x10x32xf32>, %m: tensor<2x1x1x10xi1>) -> tensor<2x4x8x32xf32> {
  %0 = kiln.attention %q, %k, %v mask %m {scale = 2.500000e-01 : f32, mask_fill = -1.0e9 : f32, causal = true} : (tensor<2x4x8x16xf32>, tensor<2x2x10x16xf32>, tensor<2x2x10x32xf32>, tensor<2x1x1x10xi1>) -> tensor<2x4x8x32xf32>
  return %0 : tensor<2x4x8x32xf32>
}

// -----

// Not selected: a dynamic head dim, a head dim above 128, f16 (the generic
// lowering keeps them).
// SEL-LABEL: func.func @not_selected
// SEL-NOT: kiln.ukernel
// SEL-COUNT-3: kiln.attention
func.func @not_selected(%q: tensor<?x?x?xf32>, %k: tensor<?x?x?xf32>, %v: tensor<?x?x?xf32>,
                        %q2: tensor<4x8x256xf32>, %v2: tensor<4x8x16xf32>,
                        %h: tensor<4x8x16xf16>) -> (tensor<?x?x?xf32>, tensor<4x8x16xf32>, tensor<4x8x16xf16>) {
  %0 = kiln.attention %q, %k, %v {scale = 1.0 : f32} : (tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x?xf32>) -> tensor<?x?x?xf32>
  %1 = kiln.attention %q2, %q2, %v2 {scale = 1.0 : f32} : (tensor<4x8x256xf32>, tensor<4x8x256xf32>, tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  %2 = kiln.attention %h, %h, %h {scale = 1.0 : f32} : (tensor<4x8x16xf16>, tensor<4x8x16xf16>, tensor<4x8x16xf16>) -> tensor<4x8x16xf16>
  return %0, %1, %2 : tensor<?x?x?xf32>, tensor<4x8x16xf32>, tensor<4x8x16xf16>
}

// -----

// The kernel (buffers): host checks, then one launch of B*H x ceil(Sq/64)
// blocks of 64 threads; queries [64][17], keys [16][16] and values [16][32]
// in shared memory; per step of 16 keys a barrier after staging and one
// after the thread's 16 scores (the additive mask read through broadcast
// selects), two kinds of exp (the rescale and the 16 probabilities) and 16
// x 32 FMAs into the output row; the epilogue divides by the denominator.
// CHECK-LABEL: func.func @kernel
// CHECK: call @kiln_rt_check_dim
// CHECK: %[[TILES:.*]] = arith.ceildivsi %{{.*}}, %c64
// CHECK: %[[GY:.*]] = arith.maxsi %[[TILES]], %c1
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}}, {{.*}} = %[[GY]], {{.*}}) threads({{.*}}) in ({{.*}} = %c64{{.*}}) workgroup(%[[QS:.*]] : memref<64x17xf32, #gpu.address_space<workgroup>>, %[[KS:.*]] : memref<16x16xf32, #gpu.address_space<workgroup>>, %[[VS:.*]] : memref<16x32xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.if
// CHECK: memref.store %{{.*}}, %[[QS]]
// CHECK: gpu.barrier
// CHECK: scf.for {{.*}} iter_args
// CHECK: memref.store %{{.*}}, %[[KS]]
// CHECK: memref.store %{{.*}}, %[[VS]]
// CHECK: gpu.barrier
// CHECK-COUNT-16: math.fma
// CHECK: memref.load %arg3
// CHECK: math.exp
// CHECK-COUNT-16: math.exp
// CHECK-COUNT-512: math.fma
// CHECK: gpu.barrier
// CHECK: arith.divf
// CHECK: gpu.terminator
// CHECK-NOT: kiln.ukernel
// EMU-LABEL: func.func @kernel
// EMU-NOT: gpu.launch
// EMU-NOT: gpu.barrier
// EMU: memref.alloc() : memref<64x17xf32>
// EMU: memref.alloc() : memref<64x34xf32>
// EMU: math.exp
// EMU: memref.dealloc
// EMU-NOT: kiln.ukernel
func.func @kernel(%q: memref<?x4x?x16xf32>, %k: memref<?x2x?x16xf32>, %v: memref<?x2x?x32xf32>,
                  %m: memref<?x1x1x?xf32>, %o: memref<?x4x?x32xf32>) {
  kiln.ukernel "attention_f32"(%q, %k, %v, %m) outs(%o) {int_params = array<i64: 0, 1, 4, 4>, float_params = array<f32: 0.25, 0.0>} : (memref<?x4x?x16xf32>, memref<?x2x?x16xf32>, memref<?x2x?x32xf32>, memref<?x1x1x?xf32>, memref<?x4x?x32xf32>) -> ()
  return
}

// -----

// A head dim above 64: 32 query rows per block (shared memory).
// CHECK-LABEL: func.func @wide
// CHECK: threads({{.*}}) in ({{.*}} = %c32{{.*}}) workgroup({{.*}} : memref<32x129xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<16x128xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<16x128xf32, #gpu.address_space<workgroup>>)
func.func @wide(%q: memref<?x?x128xf32>, %k: memref<?x?x128xf32>, %v: memref<?x?x128xf32>, %o: memref<?x?x128xf32>) {
  kiln.ukernel "attention_f32"(%q, %k, %v) outs(%o) {int_params = array<i64: 0, 4, 0, 3>, float_params = array<f32: 0.1, 0.0>} : (memref<?x?x128xf32>, memref<?x?x128xf32>, memref<?x?x128xf32>, memref<?x?x128xf32>) -> ()
  return
}

