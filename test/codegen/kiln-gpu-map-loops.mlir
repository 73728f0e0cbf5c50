// RUN: kiln-opt %s --pass-pipeline="builtin.module(func.func(kiln-gpu-map-loops))" | FileCheck %s
// RUN: not kiln-opt %s --pass-pipeline="builtin.module(func.func(kiln-gpu-map-loops{block-size=48}))" 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: kiln-gpu-map-loops: block-size must be a power of two from 32 to 1024, got 48

// Two dynamic dims: all 256 threads on the innermost dim (thread x, block
// x); the outer dim takes one row per block (block y). Partial tiles are
// guarded.
// CHECK-LABEL: func.func @dynamic
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK: scf.parallel (%[[I:.*]], %[[J:.*]]) = ({{.*}}) to (%[[D0:.*]], %[[D1:.*]]) step (%{{.*}}, %[[S1:.*]])
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) = ({{.*}}) to (%{{.*}}, %[[S1]])
// CHECK: arith.cmpi ult, %{{.*}}, %[[D0]]
// CHECK: arith.cmpi ult, %{{.*}}, %[[D1]]
// CHECK: scf.if
// CHECK: memref.load
// CHECK: } {mapping = [#gpu.loop_dim_map<processor = sequential{{.*}}>, #gpu.loop_dim_map<processor = thread_x{{.*}}>]}
// CHECK: } {mapping = [#gpu.loop_dim_map<processor = block_y{{.*}}>, #gpu.loop_dim_map<processor = block_x{{.*}}>]}
func.func @dynamic(%a: memref<?x?xf32>, %b: memref<?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d0 = memref.dim %a, %c0 : memref<?x?xf32>
  %d1 = memref.dim %a, %c1 : memref<?x?xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%d0, %d1) step (%c1, %c1) {
    %v = memref.load %a[%i, %j] : memref<?x?xf32>
    memref.store %v, %b[%i, %j] : memref<?x?xf32>
    scf.reduce
  }
  return
}

// A small static innermost dim (16) leaves threads for the next ones:
// 16 x 4 x 4 = 256 threads on x, y, z; blocks over the rest. Only three
// dims can be blocks: the outermost of four is a loop in the kernel.
// CHECK-LABEL: func.func @small_inner
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK: } {mapping = [#gpu.loop_dim_map<processor = sequential{{.*}}>, #gpu.loop_dim_map<processor = thread_z{{.*}}>, #gpu.loop_dim_map<processor = thread_y{{.*}}>, #gpu.loop_dim_map<processor = thread_x{{.*}}>]}
// CHECK: } {mapping = [#gpu.loop_dim_map<processor = sequential{{.*}}>, #gpu.loop_dim_map<processor = block_z{{.*}}>, #gpu.loop_dim_map<processor = block_y{{.*}}>, #gpu.loop_dim_map<processor = block_x{{.*}}>]}
func.func @small_inner(%a: memref<2x?x4x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %cst = arith.constant 0.0 : f32
  %d1 = memref.dim %a, %c1 : memref<2x?x4x16xf32>
  scf.parallel (%h, %i, %j, %k) = (%c0, %c0, %c0, %c0) to (%c2, %d1, %c4, %c16) step (%c1, %c1, %c1, %c1) {
    memref.store %cst, %a[%h, %i, %j, %k] : memref<2x?x4x16xf32>
    scf.reduce
  }
  return
}

// Must not fire: a loop that is already mapped, and a parallel reduction.
// CHECK-LABEL: func.func @left_alone
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) {
// CHECK-NOT: scf.parallel
// CHECK: } {mapping = [#gpu.loop_dim_map<processor = block_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) init
// CHECK-NOT: mapping
// CHECK: return
func.func @left_alone(%a: memref<?xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 0.0 : f32
  %d0 = memref.dim %a, %c0 : memref<?xf32>
  scf.parallel (%i) = (%c0) to (%d0) step (%c1) {
    memref.store %cst, %a[%i] : memref<?xf32>
    scf.reduce
  } {mapping = [#gpu.loop_dim_map<processor = block_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
  %s = scf.parallel (%i) = (%c0) to (%d0) step (%c1) init (%cst) -> f32 {
    %v = memref.load %a[%i] : memref<?xf32>
    scf.reduce(%v : f32) {
    ^bb0(%x: f32, %y: f32):
      %z = arith.addf %x, %y : f32
      scf.reduce.return %z : f32
    }
  }
  return %s : f32
}
