// RUN: kiln-opt %s --split-input-file --kiln-gpu-attention="mma precision=fp16" | FileCheck %s
// RUN: kiln-opt %s --split-input-file --kiln-gpu-attention="mma precision=bf16" | FileCheck %s --check-prefix=BF16
// RUN: kiln-opt %s --split-input-file --kiln-gpu-attention="mma precision=fp16 emulate" | FileCheck %s --check-prefix=EMU
// RUN: not kiln-opt %s --split-input-file --kiln-gpu-attention="mma precision=fp32" 2>&1 | FileCheck %s --check-prefix=BAD

// The tensor-core rows kernel (AttentionMma.cpp), Sq dynamic: the decode
// kernel is kept for Sq <= 8 (256 threads), the rows kernel has 128 threads
// (4 warps of 16 query rows) per 64 query rows. Head dim 16, value dim 32:
// steps of 64 keys; Q [64][16 + 8] and K [64][16 + 8] in fp16, V
// transposed [32][64 + 8]. Q's fragments (4 pairs per 16 of the head dim)
// are loaded once before the key loop; per step, K and V (transposed) are
// staged rounded, then 8 mma.sync for S (8 key tiles x 1 step of 16 of the
// head dim), the quads' row maxima (2 x 2 xor shuffles), the exps, 16
// mma.sync for P V (4 steps of 16 keys x 4 value tiles); the epilogue sums
// the quads' denominators (2 x 2 shuffles) and divides.
// CHECK-LABEL: func.func @kernel
// CHECK: %[[TILES:.*]] = arith.ceildivsi %{{.*}}, %c64
// CHECK: %[[DEC:.*]] = arith.cmpi sle, %{{.*}}, %c8
// CHECK: %[[T:.*]] = arith.select %[[DEC]], %c256, %c128
// CHECK: gpu.launch {{.*}} threads({{.*}}) in ({{.*}} = %[[T]]{{.*}}) workgroup(%[[QS:.*]] : memref<64x24xf16, #gpu.address_space<workgroup>>, %[[KS:.*]] : memref<64x24xf16, #gpu.address_space<workgroup>>, %[[VT:.*]] : memref<32x72xf16, #gpu.address_space<workgroup>>, {{.*}} : memref<16xf32, #gpu.address_space<workgroup>>
// Q, K and V are row-major with a head dim of 16: staged by 16-byte vector
// loads when their base and offset are aligned at run time (the aligned
// pointer's and offset's check, a branch), else value by value (a loop of
// 4 values per iteration).
// CHECK: } else {
// CHECK: memref.extract_aligned_pointer_as_index
// CHECK: memref.extract_aligned_pointer_as_index
// CHECK: memref.extract_aligned_pointer_as_index
// CHECK: scf.if
// CHECK: %[[QV:.*]] = vector.load %arg0[{{.*}}] {alignment = 16 : i64} : memref<?x4x?x16xf32>, vector<4xf32>
// CHECK: arith.truncf %{{.*}} : vector<4xf32> to vector<4xf16>
// CHECK: vector.store %{{.*}}, %[[QS]][{{.*}}] {alignment = 8 : i64} : memref<64x24xf16, #gpu.address_space<workgroup>>, vector<4xf16>
// CHECK: } else {
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c8{{.*}} step %c4
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: memref.store %{{.*}}, %[[QS]]
// CHECK: gpu.barrier
// CHECK-COUNT-4: vector.load %[[QS]]
// CHECK: scf.for {{.*}} iter_args
// CHECK: vector.load %arg1[{{.*}}] {alignment = 16 : i64} : memref<?x2x?x16xf32>, vector<4xf32>
// CHECK: memref.store %{{.*}}, %[[KS]]
// CHECK: vector.load %arg2[{{.*}}] {alignment = 16 : i64} : memref<?x2x?x32xf32>, vector<4xf32>
// CHECK: memref.store %{{.*}}, %[[VT]]
// CHECK: gpu.barrier
// CHECK-COUNT-8: nvvm.mma.sync
// CHECK: memref.load %arg3
// CHECK-COUNT-4: gpu.shuffle  xor
// CHECK: math.exp
// CHECK-COUNT-16: nvvm.mma.sync
// CHECK: gpu.barrier
// CHECK: scf.yield
// CHECK-COUNT-4: gpu.shuffle  xor
// CHECK: arith.divf
// CHECK: gpu.terminator
// CHECK-NOT: kiln.ukernel
// BF16-LABEL: func.func @kernel
// BF16: workgroup({{.*}} : memref<64x24xbf16, #gpu.address_space<workgroup>>
// BF16: vector.bitcast %{{.*}} : vector<2xbf16> to vector<1xi32>
// BF16: nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>
// EMU-LABEL: func.func @kernel
// EMU-NOT: gpu.launch
// EMU-NOT: gpu.shuffle
// EMU-NOT: nvvm.mma.sync
// EMU: } else {
// EMU: memref.alloc() : memref<64x24xf16>
// EMU: memref.alloc() : memref<32x72xf16>
// EMU: memref.alloc() : memref<64x64xf16>
// EMU: memref.alloc() : memref<128x20xf32>
// EMU: memref.alloc() : memref<128x32xf32>
// EMU: memref.alloc() : memref<128x2xf32>
// EMU: arith.xori
// EMU: math.exp
// EMU: memref.dealloc
// BAD: kiln-gpu-attention: mma needs precision fp16 or bf16, got 'fp32'
func.func @kernel(%q: memref<?x4x?x16xf32>, %k: memref<?x2x?x16xf32>, %v: memref<?x2x?x32xf32>,
                  %m: memref<?x1x1x?xf32>, %o: memref<?x4x?x32xf32>) {
  kiln.ukernel "attention_f32"(%q, %k, %v, %m) outs(%o) {int_params = array<i64: 0, 1, 4, 4>, float_params = array<f32: 0.25, 0.0>} : (memref<?x4x?x16xf32>, memref<?x2x?x16xf32>, memref<?x2x?x32xf32>, memref<?x1x1x?xf32>, memref<?x4x?x32xf32>) -> ()
  return
}

// -----

// Causal, head dim 128, Sq static (only the rows kernel): steps of 16
// keys, Q [64][136], K [16][136], V transposed [128][24]; the key loop ends
// after the block's last row's last visible key: min(i0 + 64 + Sk - Sq, Sk).
// 16 mma.sync for S (2 key tiles x 8 steps of 16), 16 for P V (1 x 16).
// CHECK-LABEL: func.func @causal_wide
// CHECK-NOT: arith.cmpi sle
// CHECK: gpu.launch {{.*}} threads({{.*}}) in ({{.*}} = %c128{{.*}}) workgroup({{.*}} : memref<64x136xf16, #gpu.address_space<workgroup>>, {{.*}} : memref<16x136xf16, #gpu.address_space<workgroup>>, {{.*}} : memref<128x24xf16, #gpu.address_space<workgroup>>) {
// CHECK: %[[I0:.*]] = arith.muli %{{.*}}, %c64
// CHECK: %[[LAST:.*]] = arith.addi %[[I0]], %c64
// CHECK: %[[LASTK:.*]] = arith.addi %[[LAST]], %[[SK:.*]] :
// CHECK: %[[END:.*]] = arith.subi %[[LASTK]], %{{.*}} :
// CHECK: %[[UB:.*]] = arith.minsi %[[END]], %[[SK]]
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %[[UB]] step %c16
// CHECK-COUNT-16: nvvm.mma.sync
// CHECK-COUNT-4: gpu.shuffle  xor
// CHECK-COUNT-16: nvvm.mma.sync
// CHECK: gpu.terminator
func.func @causal_wide(%q: memref<4x100x128xf32>, %k: memref<4x?x128xf32>, %v: memref<4x?x128xf32>, %o: memref<4x100x128xf32>) {
  kiln.ukernel "attention_f32"(%q, %k, %v) outs(%o) {int_params = array<i64: 0, 4, 0, 3>, float_params = array<f32: 0.1, 0.0>} : (memref<4x100x128xf32>, memref<4x?x128xf32>, memref<4x?x128xf32>, memref<4x100x128xf32>) -> ()
  return
}

// -----

// K read through a transposed view (innermost stride not 1): no vector
// loads of it, only its scalar staging; Q and V still take vectors.
// CHECK-LABEL: func.func @strided_keys
// CHECK: vector.load %arg0{{.*}}vector<4xf32>
// CHECK-NOT: vector.load %arg1[
// CHECK: nvvm.mma.sync
// CHECK: gpu.terminator
func.func @strided_keys(%q: memref<4x20x16xf32>, %k: memref<4x?x16xf32, strided<[?, 1, ?], offset: ?>>, %v: memref<4x?x16xf32>, %o: memref<4x20x16xf32>) {
  kiln.ukernel "attention_f32"(%q, %k, %v) outs(%o) {int_params = array<i64: 0, 0, 0, 3>, float_params = array<f32: 0.25, 0.0>} : (memref<4x20x16xf32>, memref<4x?x16xf32, strided<[?, 1, ?], offset: ?>>, memref<4x?x16xf32>, memref<4x20x16xf32>) -> ()
  return
}

// -----

// Not taken: a head dim of 40 or a value dim of 24 (not multiples of 16)
// keep the f32 rows kernel (64 threads, f32 tiles, no mma.sync).
// CHECK-LABEL: func.func @kept
// CHECK: threads({{.*}}) in ({{.*}} = %c64{{.*}}) workgroup({{.*}} : memref<64x41xf32, #gpu.address_space<workgroup>>
// CHECK-NOT: nvvm.mma.sync
// CHECK: threads({{.*}}) in ({{.*}} = %c64{{.*}}) workgroup({{.*}} : memref<64x17xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<16x16xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<16x24xf32, #gpu.address_space<workgroup>>)
// CHECK-NOT: nvvm.mma.sync
// CHECK: return
func.func @kept(%q: memref<4x20x40xf32>, %k: memref<4x?x40xf32>, %v: memref<4x?x40xf32>, %o: memref<4x20x40xf32>,
                %q2: memref<4x20x16xf32>, %k2: memref<4x?x16xf32>, %v2: memref<4x?x24xf32>, %o2: memref<4x20x24xf32>) {
  kiln.ukernel "attention_f32"(%q, %k, %v) outs(%o) {int_params = array<i64: 0, 0, 0, 3>, float_params = array<f32: 0.1, 0.0>} : (memref<4x20x40xf32>, memref<4x?x40xf32>, memref<4x?x40xf32>, memref<4x20x40xf32>) -> ()
  kiln.ukernel "attention_f32"(%q2, %k2, %v2) outs(%o2) {int_params = array<i64: 0, 0, 0, 3>, float_params = array<f32: 0.1, 0.0>} : (memref<4x20x16xf32>, memref<4x?x16xf32>, memref<4x?x24xf32>, memref<4x20x24xf32>) -> ()
  return
}
