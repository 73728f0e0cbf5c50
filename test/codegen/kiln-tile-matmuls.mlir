// RUN: kiln-opt %s -split-input-file -pass-pipeline="builtin.module(func.func(kiln-tile-matmuls))" | FileCheck %s
// RUN: kiln-opt %s -split-input-file -pass-pipeline="builtin.module(func.func(kiln-tile-matmuls{tile-n=128 tile-k=64}))" | FileCheck %s --check-prefix=SMALL
// RUN: not kiln-opt %s -pass-pipeline="builtin.module(func.func(kiln-tile-matmuls{tile-n=0}))" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: kiln-opt %s -split-input-file -pass-pipeline="builtin.module(one-shot-bufferize{bufferize-function-boundaries},func.func(kiln-tile-matmuls{register-tiles=false}))" | FileCheck %s --check-prefix=MEMREF
// RUN: kiln-opt %s -split-input-file -pass-pipeline="builtin.module(one-shot-bufferize{bufferize-function-boundaries},func.func(kiln-tile-matmuls))" | FileCheck %s --check-prefix=VEC
// BAD: error: tile-n and tile-k must be >= 1

// On buffers (where the CPU pipeline runs it): the same loops over subviews.
// MEMREF-LABEL: func.func @big(
// MEMREF:         scf.forall (%[[N:.*]]) = (0) to (1024) step (128) {
// MEMREF:           memref.subview %{{.*}}[0, %[[N]]] [768, 128] [1, 1]
// MEMREF:           scf.for
// MEMREF:             linalg.matmul ins(%{{.*}}, %{{.*}} : memref<?x256xf32, {{.*}}>, memref<256x128xf32, {{.*}}>) outs(%{{.*}} : memref<?x128xf32, {{.*}}>)
// MEMREF-NOT:     linalg.matmul ins(%{{.*}}, %{{.*}} : memref<?x768xf32

// With register tiles (the default): inside each block, full 8x32 tiles of
// the output are read once into a vector, accumulated through the k loop
// with one vector.contract per step (an 8x1 column of the left operand times
// a 1x32 row of the weight), and written once; the rows left over (fewer
// than 8) are a peeled loop of scalar matmuls.
// VEC-LABEL: func.func @big(
// VEC:         scf.forall
// VEC:           scf.for %{{.*}} step %c8
// VEC:             scf.for %{{.*}} step %c32
// VEC:               %[[ACC:.*]] = vector.transfer_read {{.*}} : memref<8x32xf32, {{.*}}>, vector<8x32xf32>
// VEC:               %[[K:.*]] = scf.for {{.*}} iter_args(%[[A:.*]] = %[[ACC]]) -> (vector<8x32xf32>)
// VEC:                 vector.transfer_read {{.*}} vector<8x1xf32>
// VEC:                 vector.transfer_read {{.*}} vector<1x32xf32>
// VEC:                 %[[C:.*]] = vector.contract {{.*}} %[[A]] : vector<8x1xf32>, vector<1x32xf32> into vector<8x32xf32>
// VEC:                 scf.yield %[[C]]
// VEC:               vector.transfer_write %[[K]]
// VEC:           scf.for
// VEC:             linalg.matmul ins(%{{.*}}, %{{.*}} : memref<?x1xf32

// A [?, 768] x [768, 1024] matmul: a parallel loop over 128-column blocks,
// inside it a loop over 256-step reduction blocks carrying the accumulator
// block, around a matmul on [?, 256] x [256, 128] slices.
// CHECK-LABEL: func.func @big(
// CHECK:         scf.forall (%[[N:.*]]) = (0) to (1024) step (128) shared_outs(%[[OUT:.*]] = %{{.*}}) -> (tensor<?x1024xf32>)
// CHECK:           tensor.extract_slice %{{.*}}[0, %[[N]]] [768, 128] [1, 1] : tensor<768x1024xf32> to tensor<768x128xf32>
// CHECK:           scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (tensor<?x128xf32>)
// CHECK:             linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<?x256xf32>, tensor<256x128xf32>) outs(%{{.*}} : tensor<?x128xf32>)
// CHECK:           tensor.parallel_insert_slice %{{.*}} into %[[OUT]][0, %[[N]]]
// SMALL-LABEL: func.func @big(
// SMALL:         scf.forall (%{{.*}}) = (0) to (1024) step (128)
// SMALL:           linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<?x64xf32>, tensor<64x128xf32>)
func.func @big(%a: tensor<?x768xf32>, %b: tensor<768x1024xf32>, %c: tensor<?x1024xf32>) -> tensor<?x1024xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<?x768xf32>, tensor<768x1024xf32>) outs(%c : tensor<?x1024xf32>) -> tensor<?x1024xf32>
  return %0 : tensor<?x1024xf32>
}

// -----

// Negative: a weight that fits in one block is left alone.
// CHECK-LABEL: func.func @small(
// CHECK-NOT:     scf.forall
// CHECK:         linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<?x64xf32>, tensor<64x64xf32>)
func.func @small(%a: tensor<?x64xf32>, %b: tensor<64x64xf32>, %c: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<?x64xf32>, tensor<64x64xf32>) outs(%c : tensor<?x64xf32>) -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

// Negative: batch matmuls and generic contractions are not tiled here.
// CHECK-LABEL: func.func @batched(
// CHECK-NOT:     scf.forall
// CHECK:         linalg.batch_matmul
func.func @batched(%a: tensor<4x64x512xf32>, %b: tensor<4x512x512xf32>, %c: tensor<4x64x512xf32>) -> tensor<4x64x512xf32> {
  %0 = linalg.batch_matmul ins(%a, %b : tensor<4x64x512xf32>, tensor<4x512x512xf32>) outs(%c : tensor<4x64x512xf32>) -> tensor<4x64x512xf32>
  return %0 : tensor<4x64x512xf32>
}
