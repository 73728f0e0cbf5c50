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

// The kernel (buffers), Sq dynamic: host checks, then one launch holding
// both kernels, picked per run by Sq <= 8 (the grid, the block size and a
// branch uniform over the launch).
// The decode kernel: B*H x Sq blocks of 256 threads (8 warps); the query
// row [16] in shared memory, a barrier; each warp walks chunks of 32 keys
// from 32 * warp by 256: a lane's score (a loop over the head dim), the
// warp's maximum by 5 xor shuffles, two exps (the rescale and the lane's
// probability), then a loop over the chunk's 32 keys broadcasting each
// probability (indexed shuffle) into the lane's output column; the lanes'
// denominators summed by 5 xor shuffles; lane 0 stores the warp's maximum
// and denominator, every lane its column; a barrier; thread t < 32 merges
// column t over the 8 warps (8 exps) and divides.
// The rows kernel: B*H x ceil(Sq/64) blocks of 64 threads; queries
// [64][17], keys [16][16] and values [16][32] in shared memory; per step of
// 16 keys a barrier after staging and one after the thread's 16 scores (the
// additive mask read through broadcast selects), two kinds of exp (the
// rescale and the 16 probabilities) and 16 x 32 FMAs into the output row;
// the epilogue divides by the denominator.
// CHECK-LABEL: func.func @kernel
// CHECK: call @kiln_rt_check_dim
// CHECK: %[[TILES:.*]] = arith.ceildivsi %{{.*}}, %c64
// CHECK: %[[GY:.*]] = arith.maxsi %[[TILES]], %c1
// CHECK: %[[DY:.*]] = arith.maxsi %[[SQ:.*]], %c1
// CHECK: %[[DEC:.*]] = arith.cmpi sle, %[[SQ]], %c8
// CHECK: %[[Y:.*]] = arith.select %[[DEC]], %[[DY]], %[[GY]]
// CHECK: %[[T:.*]] = arith.select %[[DEC]], %c256, %c64
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}}, {{.*}} = %[[Y]], {{.*}}) threads({{.*}}) in ({{.*}} = %[[T]]{{.*}}) workgroup(%[[QS:.*]] : memref<64x17xf32, #gpu.address_space<workgroup>>, %[[KS:.*]] : memref<16x16xf32, #gpu.address_space<workgroup>>, %[[VS:.*]] : memref<16x32xf32, #gpu.address_space<workgroup>>, %[[QROW:.*]] : memref<16xf32, #gpu.address_space<workgroup>>, %[[MS:.*]] : memref<8xf32, #gpu.address_space<workgroup>>, %[[LS:.*]] : memref<8xf32, #gpu.address_space<workgroup>>, %[[ACCS:.*]] : memref<8x32xf32, #gpu.address_space<workgroup>>)
// CHECK-NEXT: scf.if %[[DEC]] {
// CHECK: memref.store %{{.*}}, %[[QROW]]
// CHECK: gpu.barrier
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c256
// CHECK: scf.for
// CHECK: memref.load %[[QROW]]
// CHECK: math.fma
// CHECK: memref.load %arg3
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK-COUNT-2: math.exp
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c32
// CHECK: gpu.shuffle  idx
// CHECK: math.fma
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: memref.store %{{.*}}, %[[MS]]
// CHECK: memref.store %{{.*}}, %[[LS]]
// CHECK: memref.store %{{.*}}, %[[ACCS]]
// CHECK-NEXT: gpu.barrier
// CHECK-COUNT-8: math.exp
// CHECK: arith.divf
// CHECK: memref.store
// CHECK-NOT: gpu.barrier
// CHECK: } else {
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
// EMU-NOT: gpu.shuffle
// EMU: arith.cmpi sle, %{{.*}}, %c8
// EMU: scf.if
// EMU: memref.alloc() : memref<16xf32>
// EMU: memref.alloc() : memref<8x32xf32>
// EMU: memref.alloc() : memref<32xf32>
// EMU: math.exp
// EMU: } else {
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

// A head dim above 64: 32 query rows per block (shared memory); the decode
// kernel's lanes own 4 output columns each (128 / 32).
// CHECK-LABEL: func.func @wide
// CHECK: %[[T:.*]] = arith.select %{{.*}}, %c256, %c32
// CHECK: threads({{.*}}) in ({{.*}} = %[[T]]{{.*}}) workgroup({{.*}} : memref<32x129xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<16x128xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<16x128xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<128xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<8xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<8xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<8x128xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for {{.*}} step %c256{{.*}} -> (f32, f32, f32, f32, f32, f32)
func.func @wide(%q: memref<?x?x128xf32>, %k: memref<?x?x128xf32>, %v: memref<?x?x128xf32>, %o: memref<?x?x128xf32>) {
  kiln.ukernel "attention_f32"(%q, %k, %v) outs(%o) {int_params = array<i64: 0, 4, 0, 3>, float_params = array<f32: 0.1, 0.0>} : (memref<?x?x128xf32>, memref<?x?x128xf32>, memref<?x?x128xf32>, memref<?x?x128xf32>) -> ()
  return
}


// -----

// A static Sq of 1 (a decode step): only the decode kernel, 256 threads,
// B*H x 1 x parts blocks, no branch on Sq; a head dim of 80 (not a
// multiple of 32): the lanes' third column is stored only when inside.
// Flash-decoding: parts = ceil(Sk / len) with len whole rounds of 256 keys,
// wanted parts min(ceil(Sk / 256), ceil(128 / (B*H*Sq)), 16); the partial
// buffer [B*H*Sq*parts, 2 + 80] only with more than one part; each block
// walks its part's keys; with parts > 1 it stores its row's unnormalized
// column (and thread 0 the maximum and denominator) there, else the
// output. The second launch (an empty grid with one part): a thread per
// column merges the parts (their maximum, then the rescaled sums).
// CHECK-LABEL: func.func @decode_static
// CHECK-NOT: arith.cmpi sle
// CHECK: %[[BH:.*]] = arith.muli %{{.*}}, %{{.*}} : index
// CHECK: %[[ROWS:.*]] = arith.muli %[[BH]], %[[SQ:.*]] : index
// CHECK: %[[ROUNDS:.*]] = arith.ceildivsi %[[SK:.*]], %c256
// CHECK: %[[ROWS1:.*]] = arith.maxsi %[[ROWS]], %c1
// CHECK: %[[FILL:.*]] = arith.ceildivsi %c128, %[[ROWS1]]
// CHECK: %[[W0:.*]] = arith.minsi %[[ROUNDS]], %[[FILL]]
// CHECK: %[[W1:.*]] = arith.minsi %[[W0]], %c16
// CHECK: %[[W:.*]] = arith.maxsi %[[W1]], %c1
// CHECK: %[[PER0:.*]] = arith.ceildivsi %[[ROUNDS]], %[[W]]
// CHECK: %[[PER:.*]] = arith.maxsi %[[PER0]], %c1
// CHECK: %[[LEN:.*]] = arith.muli %[[PER]], %c256
// CHECK: %[[KEYS:.*]] = arith.maxsi %[[SK]], %c1
// CHECK: %[[PARTS:.*]] = arith.ceildivsi %[[KEYS]], %[[LEN]]
// CHECK: %[[SPLIT:.*]] = arith.cmpi sgt, %[[PARTS]], %c1
// CHECK: %[[PR:.*]] = arith.muli %[[ROWS]], %[[PARTS]]
// CHECK: %[[PRS:.*]] = arith.select %[[SPLIT]], %[[PR]], %c0
// CHECK: %[[PARTIAL:.*]] = memref.alloc(%[[PRS]]) : memref<?x82xf32>
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %[[Z:.*]]) in ({{.*}}, {{.*}} = %{{.*}}, {{.*}} = %[[PARTS]]) threads({{.*}}) in ({{.*}} = %c256{{.*}}) workgroup({{.*}} : memref<80xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<8xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<8xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<8x80xf32, #gpu.address_space<workgroup>>) {
// CHECK-NOT: } else {
// CHECK: %[[START:.*]] = arith.muli %[[Z]], %[[LEN]]
// CHECK: %[[NEXT:.*]] = arith.addi %[[START]], %[[LEN]]
// CHECK: %[[END:.*]] = arith.minsi %[[NEXT]], %[[SK]]
// CHECK: %[[FIRST:.*]] = arith.addi %[[START]], %{{.*}}
// CHECK: scf.for {{.*}} = %[[FIRST]] to %[[END]] step %c256{{.*}} -> (f32, f32, f32, f32, f32)
// CHECK-COUNT-2: memref.store %{{.*}} : memref<8x80xf32, #gpu.address_space<workgroup>>
// CHECK: %[[COL:.*]] = arith.addi %{{.*}}, %c64
// CHECK: %[[IN:.*]] = arith.cmpi slt, %[[COL]], %c80
// CHECK-NEXT: scf.if %[[IN]]
// CHECK-NEXT: memref.store %{{.*}} : memref<8x80xf32, #gpu.address_space<workgroup>>
// CHECK: gpu.barrier
// CHECK: %[[SPLIT2:.*]] = arith.cmpi sgt, %[[PARTS]], %c1
// CHECK-NEXT: scf.if %[[SPLIT2]] {
// CHECK: memref.store %{{.*}}, %[[PARTIAL]][%{{.*}}, %{{.*}}] : memref<?x82xf32>
// CHECK: arith.cmpi eq, %{{.*}}, %c0
// CHECK-NEXT: scf.if
// CHECK: memref.store %{{.*}}, %[[PARTIAL]][%{{.*}}, %c0{{.*}}] : memref<?x82xf32>
// CHECK-NEXT: memref.store %{{.*}}, %[[PARTIAL]][%{{.*}}, %c1{{.*}}] : memref<?x82xf32>
// CHECK: } else {
// CHECK: arith.divf
// CHECK: memref.store %{{.*}}, %arg3
// CHECK: gpu.terminator
// CHECK: %[[SPLIT3:.*]] = arith.cmpi sgt, %[[PARTS]], %c1
// CHECK: %[[GX:.*]] = arith.select %[[SPLIT3]], %{{.*}}, %c0
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[GX]], {{.*}}) threads({{.*}}) in ({{.*}} = %c80{{.*}}) {
// CHECK: scf.for {{.*}} to %[[PARTS]] {{.*}} -> (f32)
// CHECK: memref.load %[[PARTIAL]]
// CHECK: arith.maximumf
// CHECK: scf.for {{.*}} to %[[PARTS]] {{.*}} -> (f32, f32)
// CHECK-COUNT-3: memref.load %[[PARTIAL]]
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: memref.store %{{.*}}, %arg3
// CHECK: gpu.terminator
// CHECK: memref.dealloc %[[PARTIAL]]
// CHECK-NEXT: return
// EMU-LABEL: func.func @decode_static
// EMU-NOT: memref<64x
// EMU-NOT: arith.cmpi sle
// EMU: memref.alloc() : memref<80xf32>
// EMU: memref.alloc(%{{.*}}) : memref<?x82xf32>
// EMU: memref.dealloc %{{.*}} : memref<?x82xf32>
// EMU: return
func.func @decode_static(%q: memref<2x4x1x80xf32>, %k: memref<2x4x?x80xf32>, %v: memref<2x4x?x80xf32>, %o: memref<2x4x1x80xf32>) {
  kiln.ukernel "attention_f32"(%q, %k, %v) outs(%o) {int_params = array<i64: 0, 4, 0, 4>, float_params = array<f32: 0.1, 0.0>} : (memref<2x4x1x80xf32>, memref<2x4x?x80xf32>, memref<2x4x?x80xf32>, memref<2x4x1x80xf32>) -> ()
  return
}

// -----

// A static Sq above 8 (a prefill of 9 rows): only the rows kernel.
// CHECK-LABEL: func.func @rows_static
// CHECK-NOT: arith.cmpi sle
// CHECK: gpu.launch blocks({{.*}}) threads({{.*}}) in ({{.*}} = %c64{{.*}}) workgroup({{.*}} : memref<64x17xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<16x16xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<16x16xf32, #gpu.address_space<workgroup>>) {
// CHECK-NOT: gpu.shuffle
// CHECK: gpu.terminator
func.func @rows_static(%q: memref<4x9x16xf32>, %k: memref<4x?x16xf32>, %v: memref<4x?x16xf32>, %o: memref<4x9x16xf32>) {
  kiln.ukernel "attention_f32"(%q, %k, %v) outs(%o) {int_params = array<i64: 0, 4, 0, 3>, float_params = array<f32: 0.25, 0.0>} : (memref<4x9x16xf32>, memref<4x?x16xf32>, memref<4x?x16xf32>, memref<4x9x16xf32>) -> ()
  return
}

// -----

// kiln-gpu-select-attention also folds a QDQ convolution's filter (a
// DequantizeLinear of an int8 constant, which the importer leaves for the
// CPU's int8 kernel) into an f32 constant: dequantized once, not by a
// kernel on every run. (The int8 filter is a resource, as the importer
// makes large ones, so no folder of the ops does it instead.)
// SEL-LABEL: func.func @qdq_filter
// SEL:         %[[W:.*]] = kiln.constant dense<1.500000e+00> : tensor<2x3x1x1xf32>
// SEL:         kiln.conv %{{.*}}, %[[W]]
// SEL-NOT:     tensor<2x3x1x1xi8> -> tensor<2x3x1x1xf32>
func.func @qdq_filter(%x: tensor<1x3x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w8 = kiln.constant dense_resource<qdq_w8> : tensor<2x3x1x1xi8>
  %ws = kiln.constant dense<5.000000e-01> : tensor<f32>
  %wf = kiln.cast %w8 : tensor<2x3x1x1xi8> -> tensor<2x3x1x1xf32>
  %wd = kiln.mul %wf, %ws : (tensor<2x3x1x1xf32>, tensor<f32>) -> tensor<2x3x1x1xf32>
  %y = kiln.conv %x, %wd {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x4x4xf32>, tensor<2x3x1x1xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}
{-#
  dialect_resources: {
    builtin: {
      qdq_w8: "0x01000000030303030303"
    }
  }
#-}
