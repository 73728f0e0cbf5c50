// RUN: kiln-opt %s --split-input-file --kiln-gpu-tile-matmuls | FileCheck %s
// RUN: kiln-opt %s --split-input-file --kiln-gpu-tile-matmuls=emulate | FileCheck %s --check-prefix=EMU

// An f32 matmul becomes one launch: ceil(N/64) x ceil(M/64) blocks of 256
// threads, A (k-major, padded) and B staged in shared memory per step of
// 16 along k between two barriers, a 4 x 4 register tile per thread (16
// FMAs per step of k), and a guarded epilogue that adds into C.
// CHECK-LABEL: func.func @matmul
// CHECK-DAG: %[[M:.*]] = memref.dim %arg2, %c0
// CHECK-DAG: %[[K:.*]] = memref.dim %arg0, %c1
// CHECK: %[[GY:.*]] = arith.ceildivsi %[[M]], %c64
// CHECK: %[[C256:.*]] = arith.constant 256 : index
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

// -----

// A dense layer's bias fill (and a residual plus bias) right before the
// matmul: the epilogue computes it instead of reading C, and it goes.
// CHECK-LABEL: func.func @bias_prologue
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch
// CHECK-COUNT-16: scf.if
// CHECK: gpu.terminator
// CHECK: gpu.launch
// CHECK: scf.if
// CHECK: %[[R:.*]] = memref.load %arg5[
// CHECK: %[[BI:.*]] = memref.load %arg1[
// CHECK: %[[S:.*]] = arith.addf %[[R]], %[[BI]]
// CHECK: arith.addf %[[S]], %{{.*}}
// CHECK-NOT: linalg.generic
// EMU-LABEL: func.func @bias_prologue
// EMU-NOT: linalg.generic
// EMU-NOT: linalg.matmul
// EMU: return
func.func @bias_prologue(%a: memref<?x64xf32>, %bias: memref<96xf32>, %w: memref<64x96xf32>, %n: index,
                         %w2: memref<96x96xf32>, %res: memref<?x96xf32>) -> (memref<?x96xf32>, memref<?x96xf32>) {
  %c = memref.alloc(%n) : memref<?x96xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%bias : memref<96xf32>) outs(%c : memref<?x96xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.matmul ins(%a, %w : memref<?x64xf32>, memref<64x96xf32>) outs(%c : memref<?x96xf32>)
  %d = memref.alloc(%n) : memref<?x96xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%res, %bias : memref<?x96xf32>, memref<96xf32>) outs(%d : memref<?x96xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %s = arith.addf %in, %in2 : f32
    linalg.yield %s : f32
  }
  linalg.matmul ins(%c, %w2 : memref<?x96xf32>, memref<96x96xf32>) outs(%d : memref<?x96xf32>)
  return %c, %d : memref<?x96xf32>, memref<?x96xf32>
}

// -----

// GPT-2's residual plus bias in place: the generic reads C through a
// reshape of C to its own type, element by element, and writes C. It is
// the prologue (C loaded, the bias added, then the product); it goes. The
// same read with the dims swapped (another element) is kept.
// CHECK-LABEL: func.func @inplace_prologue
// CHECK: gpu.launch
// CHECK: %[[R:.*]] = memref.load %{{.*}} : memref<?x96xf32>
// CHECK-NEXT: %[[BI:.*]] = memref.load %arg1[
// CHECK: %[[S:.*]] = arith.addf %[[R]], %[[BI]]
// CHECK: arith.addf %[[S]], %{{.*}}
// CHECK: gpu.terminator
// CHECK: linalg.generic
// CHECK: gpu.launch
func.func @inplace_prologue(%a: memref<?x64xf32>, %bias: memref<96xf32>, %w: memref<64x96xf32>,
                            %shape: memref<2xi64>, %sq: memref<96x96xf32>, %w2: memref<96x96xf32>, %n: index) -> (memref<?x96xf32>, memref<96x96xf32>) {
  %c = memref.alloc(%n) : memref<?x96xf32>
  %r = memref.reshape %c(%shape) : (memref<?x96xf32>, memref<2xi64>) -> memref<?x96xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%r, %bias : memref<?x96xf32>, memref<96xf32>) outs(%c : memref<?x96xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %s = arith.addf %in, %in2 : f32
    linalg.yield %s : f32
  }
  linalg.matmul ins(%a, %w : memref<?x64xf32>, memref<64x96xf32>) outs(%c : memref<?x96xf32>)
  %d = memref.alloc() : memref<96x96xf32>
  linalg.copy ins(%sq : memref<96x96xf32>) outs(%d : memref<96x96xf32>)
  %rd = memref.reshape %d(%shape) : (memref<96x96xf32>, memref<2xi64>) -> memref<96x96xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%rd : memref<96x96xf32>) outs(%d : memref<96x96xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.matmul ins(%sq, %w2 : memref<96x96xf32>, memref<96x96xf32>) outs(%d : memref<96x96xf32>)
  return %c, %d : memref<?x96xf32>, memref<96x96xf32>
}

// -----

// Not fused: a generic that reads C (accumulates), one whose input is C's
// own buffer, and C not a fresh allocation (a function argument).
// CHECK-LABEL: func.func @no_prologue
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT: linalg.matmul
func.func @no_prologue(%a: memref<8x64xf32>, %w: memref<64x96xf32>, %bias: memref<96xf32>,
                       %arg: memref<8x96xf32>) -> memref<8x96xf32> {
  %c = memref.alloc() : memref<8x96xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%bias : memref<96xf32>) outs(%c : memref<8x96xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  linalg.matmul ins(%a, %w : memref<8x64xf32>, memref<64x96xf32>) outs(%c : memref<8x96xf32>)
  %v = memref.subview %c[0, 0] [8, 96] [1, 1] : memref<8x96xf32> to memref<8x96xf32, strided<[96, 1]>>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%v : memref<8x96xf32, strided<[96, 1]>>) outs(%c : memref<8x96xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.matmul ins(%a, %w : memref<8x64xf32>, memref<64x96xf32>) outs(%c : memref<8x96xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%bias : memref<96xf32>) outs(%arg : memref<8x96xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.matmul ins(%a, %w : memref<8x64xf32>, memref<64x96xf32>) outs(%arg : memref<8x96xf32>)
  return %c : memref<8x96xf32>
}

// -----

// An activation plus residual after the matmul, reading C as C's only
// other reader: the epilogue applies it and writes its output; C itself is
// never written. With C read again later, the op stays.
// CHECK-LABEL: func.func @epilogue
// CHECK: gpu.launch
// CHECK: scf.if
// CHECK: %[[BI:.*]] = memref.load %arg1[
// CHECK: %[[S:.*]] = arith.addf %[[BI]], %{{.*}}
// CHECK: %[[MX:.*]] = arith.maximumf %[[S]], %{{.*}}
// CHECK: %[[R:.*]] = memref.load %arg4[
// CHECK: %[[Y:.*]] = arith.addf %[[MX]], %[[R]]
// CHECK: memref.store %[[Y]], %[[E:.*]][
// CHECK: gpu.terminator
// CHECK-NOT: linalg.generic
// CHECK: memref.dealloc
// CHECK-LABEL: func.func @epilogue_kept
// CHECK: gpu.launch
// CHECK: gpu.terminator
// CHECK: linalg.generic
func.func @epilogue(%a: memref<?x64xf32>, %bias: memref<96xf32>, %w: memref<64x96xf32>, %n: index,
                    %res: memref<?x96xf32>) -> memref<?x96xf32> {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc(%n) : memref<?x96xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%bias : memref<96xf32>) outs(%c : memref<?x96xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.matmul ins(%a, %w : memref<?x64xf32>, memref<64x96xf32>) outs(%c : memref<?x96xf32>)
  %e = memref.alloc(%n) : memref<?x96xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%c, %res : memref<?x96xf32>, memref<?x96xf32>) outs(%e : memref<?x96xf32>) {
  ^bb0(%in: f32, %r: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    %s = arith.addf %m, %r : f32
    linalg.yield %s : f32
  }
  memref.dealloc %c : memref<?x96xf32>
  return %e : memref<?x96xf32>
}

func.func @epilogue_kept(%a: memref<8x64xf32>, %w: memref<64x96xf32>) -> (memref<8x96xf32>, memref<8x96xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<8x96xf32>
  linalg.matmul ins(%a, %w : memref<8x64xf32>, memref<64x96xf32>) outs(%c : memref<8x96xf32>)
  %e = memref.alloc() : memref<8x96xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<8x96xf32>) outs(%e : memref<8x96xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  }
  return %c, %e : memref<8x96xf32>, memref<8x96xf32>
}

// -----

// A bare matmul's zero fill right before it: the epilogue starts from the
// fill's value instead of loading C, and the fill goes. An activation after
// it in place (reading C, writing C) is applied before the store into C.
// CHECK-LABEL: func.func @fill_inplace
// CHECK-NOT: linalg.fill
// CHECK: gpu.launch
// CHECK: scf.if
// CHECK-NOT: memref.load %{{.*}} : memref<?x96xf32>
// CHECK: %[[S:.*]] = arith.addf %arg3, %{{.*}}
// CHECK: %[[T:.*]] = math.tanh %[[S]]
// CHECK: memref.store %[[T]], %[[C:.*]][
// CHECK: gpu.terminator
// CHECK-NOT: linalg.generic
// CHECK: return %[[C]]
// EMU-LABEL: func.func @fill_inplace
// EMU-NOT: linalg.
// EMU: math.tanh
// EMU-NOT: linalg.
// EMU: return
func.func @fill_inplace(%a: memref<?x64xf32>, %w: memref<64x96xf32>, %n: index, %zero: f32) -> memref<?x96xf32> {
  %c = memref.alloc(%n) : memref<?x96xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<?x96xf32>)
  linalg.matmul ins(%a, %w : memref<?x64xf32>, memref<64x96xf32>) outs(%c : memref<?x96xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<?x96xf32>) outs(%c : memref<?x96xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = math.tanh %in : f32
    linalg.yield %t : f32
  }
  return %c : memref<?x96xf32>
}

// -----

// Not fused: a fill of a buffer that is not a fresh allocation (a function
// argument), and an in-place op that writes C through another view.
// CHECK-LABEL: func.func @fill_kept
// CHECK: linalg.fill
// CHECK: gpu.launch
// CHECK: memref.load %arg2[
// CHECK: gpu.terminator
// CHECK: gpu.launch
// CHECK: gpu.terminator
// CHECK: linalg.generic
func.func @fill_kept(%a: memref<8x64xf32>, %w: memref<64x96xf32>, %arg: memref<8x96xf32>, %zero: f32) -> memref<8x96xf32> {
  linalg.fill ins(%zero : f32) outs(%arg : memref<8x96xf32>)
  linalg.matmul ins(%a, %w : memref<8x64xf32>, memref<64x96xf32>) outs(%arg : memref<8x96xf32>)
  %c = memref.alloc() : memref<8x96xf32>
  linalg.matmul ins(%a, %w : memref<8x64xf32>, memref<64x96xf32>) outs(%c : memref<8x96xf32>)
  %v = memref.subview %c[0, 0] [8, 96] [1, 1] : memref<8x96xf32> to memref<8x96xf32, strided<[96, 1]>>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<8x96xf32>) outs(%v : memref<8x96xf32, strided<[96, 1]>>) {
  ^bb0(%in: f32, %out: f32):
    %t = math.tanh %in : f32
    linalg.yield %t : f32
  }
  return %c : memref<8x96xf32>
}

// -----

// Constant weights, made at compile time in the layout and precision the
// kernel stages: with bf16, a [K, N] bf16 global that the kernel loads and
// stages without rounding (only A is rounded); the f32 original goes. In
// fp32 a [1, 0] transpose of a constant (a Gemm's transB) becomes a
// transposed [K, N] global, the run-time transpose and its buffer go, and
// the bias before them becomes the matmul's prologue.
// BF16-LABEL: memref.global "private" constant @w_kn_bf16 : memref<64x96xbf16>
// BF16-NOT: memref.global "private" constant @w :
// BF16-LABEL: func.func @const_weights
// BF16: %[[W:.*]] = memref.get_global @w_kn_bf16 : memref<64x96xbf16>
// BF16: gpu.launch
// BF16: arith.truncf %{{.*}} : f32 to bf16
// BF16: %[[VB:.*]] = memref.load %[[W]][%{{.*}}, %{{.*}}] : memref<64x96xbf16>
// BF16: %[[SB:.*]] = arith.select %{{.*}}, %[[VB]], %{{.*}} : bf16
// BF16: memref.store %[[SB]], %{{.*}} : memref<64x40xbf16, #gpu.address_space<workgroup>>
// BF16: nvvm.mma.sync
// CHECK-LABEL: memref.global "private" constant @wt_kn : memref<64x96xf32>
// CHECK-LABEL: func.func @const_weights
// CHECK: memref.get_global @wt_kn : memref<64x96xf32>
// CHECK-NOT: linalg.transpose
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch
// CHECK: memref.load %arg1[
// CHECK: gpu.terminator
// CHECK-NOT: linalg.
// CHECK: return
memref.global "private" constant @w : memref<64x96xf32> = dense<0.5>
memref.global "private" constant @wt : memref<96x64xf32> = dense<0.25>
func.func @const_weights(%a: memref<?x64xf32>, %bias: memref<96xf32>, %n: index) -> (memref<?x96xf32>, memref<?x96xf32>) {
  %w = memref.get_global @w : memref<64x96xf32>
  %c = memref.alloc(%n) : memref<?x96xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%bias : memref<96xf32>) outs(%c : memref<?x96xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.matmul ins(%a, %w : memref<?x64xf32>, memref<64x96xf32>) outs(%c : memref<?x96xf32>)
  %wt = memref.get_global @wt : memref<96x64xf32>
  %d = memref.alloc(%n) : memref<?x96xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%bias : memref<96xf32>) outs(%d : memref<?x96xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %t = memref.alloc() : memref<64x96xf32>
  linalg.transpose ins(%wt : memref<96x64xf32>) outs(%t : memref<64x96xf32>) permutation = [1, 0]
  linalg.matmul ins(%a, %t : memref<?x64xf32>, memref<64x96xf32>) outs(%d : memref<?x96xf32>)
  memref.dealloc %t : memref<64x96xf32>
  return %c, %d : memref<?x96xf32>, memref<?x96xf32>
}

// -----

// Kept: weights that are not constants (a function argument) are rounded
// when staged, and a transposed constant that something else reads too
// keeps its run-time transpose.
// BF16-LABEL: func.func @weights_kept
// BF16: gpu.launch
// BF16: %[[VB:.*]] = memref.load %arg1[
// BF16: %[[SB:.*]] = arith.select %{{.*}}, %[[VB]], %{{.*}} : f32
// BF16: arith.truncf %[[SB]] : f32 to bf16
// BF16: linalg.transpose
// BF16: gpu.launch
// BF16: return
memref.global "private" constant @wk : memref<96x64xf32> = dense<0.25>
func.func @weights_kept(%a: memref<8x64xf32>, %b: memref<64x96xf32>, %c: memref<8x96xf32>, %e: memref<8x96xf32>) -> memref<64x96xf32> {
  linalg.matmul ins(%a, %b : memref<8x64xf32>, memref<64x96xf32>) outs(%c : memref<8x96xf32>)
  %wk = memref.get_global @wk : memref<96x64xf32>
  %t = memref.alloc() : memref<64x96xf32>
  linalg.transpose ins(%wk : memref<96x64xf32>) outs(%t : memref<64x96xf32>) permutation = [1, 0]
  linalg.matmul ins(%a, %t : memref<8x64xf32>, memref<64x96xf32>) outs(%e : memref<8x96xf32>)
  return %t : memref<64x96xf32>
}
