// RUN: kiln-opt %s -split-input-file -kiln-externalize-weights="weights-file=%t.weights min-bytes=16" | FileCheck %s
// RUN: %python -c "import struct, sys; d = open(sys.argv[1], 'rb').read(); print('size', len(d)); print('w', *struct.unpack('<8f', d[0:32])); print('pad', *d[32:64]); print('b', *struct.unpack('<4q', d[64:96]))" %t.weights | FileCheck %s --check-prefix=FILE
// RUN: kiln-opt %s -split-input-file -kiln-externalize-weights | FileCheck %s --check-prefix=NOFILE

// Constants of at least min-bytes move to the side file, 64-byte aligned:
// @w (32 bytes) at offset 0, @b (32 bytes) at offset 64. Each get_global
// becomes a call to the runtime hook of its element type and rank, whose
// dynamically shaped view is cast back to the static type; the table of
// (id, offset, bytes, dims...) is the module attribute kiln.weights.
// @small (8 bytes) is below min-bytes and a splat has no bytes to move:
// both stay globals.
// CHECK:       module attributes {kiln.weights = {{\[}}[0, 0, 32, 2, 4], [1, 64, 32, 4]]}
// CHECK-DAG:   func.func private @kiln_rt_weight_f32_r2(i64) -> memref<?x?xf32> attributes {llvm.emit_c_interface}
// CHECK-DAG:   func.func private @kiln_rt_weight_i64_r1(i64) -> memref<?xi64> attributes {llvm.emit_c_interface}
// CHECK-NOT:   memref.global "private" constant @w
// CHECK-NOT:   memref.global "private" constant @b
// CHECK-DAG:   memref.global "private" constant @small : memref<2xf32> = dense<[1.000000e+00, 2.000000e+00]>
// CHECK-DAG:   memref.global "private" constant @splat : memref<8xf32> = dense<1.000000e+00>
// CHECK-LABEL: func.func @weights(
// CHECK-NEXT:    %[[ID0:.*]] = arith.constant 0 : i64
// CHECK-NEXT:    %[[V0:.*]] = call @kiln_rt_weight_f32_r2(%[[ID0]]) : (i64) -> memref<?x?xf32>
// CHECK-NEXT:    %[[W:.*]] = memref.cast %[[V0]] : memref<?x?xf32> to memref<2x4xf32>
// CHECK-NEXT:    %[[ID1:.*]] = arith.constant 1 : i64
// CHECK-NEXT:    %[[V1:.*]] = call @kiln_rt_weight_i64_r1(%[[ID1]]) : (i64) -> memref<?xi64>
// CHECK-NEXT:    %[[B:.*]] = memref.cast %[[V1]] : memref<?xi64> to memref<4xi64>
// CHECK-NEXT:    %[[S:.*]] = memref.get_global @small : memref<2xf32>
// CHECK-NEXT:    %[[P:.*]] = memref.get_global @splat : memref<8xf32>
// CHECK-NEXT:    return %[[W]], %[[B]], %[[S]], %[[P]]

// The side file: 32 bytes of @w, zero padding to 64, then 32 bytes of @b.
// FILE:      size 96
// FILE-NEXT: w 1.0 2.0 3.0 4.0 5.0 6.0 7.0 8.0
// FILE-NEXT: pad 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
// FILE-NEXT: b 1 2 3 4

// Without weights-file the pass does nothing.
// NOFILE-NOT:   kiln.weights
// NOFILE-NOT:   kiln_rt_weight
// NOFILE-LABEL: func.func @weights(
// NOFILE:         memref.get_global @w : memref<2x4xf32>
// NOFILE:         memref.get_global @b : memref<4xi64>
// NOFILE-LABEL: func.func @small_only(
// NOFILE:         memref.get_global @tiny : memref<3xf32>
module {
  memref.global "private" constant @w : memref<2x4xf32> = dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]> {alignment = 64 : i64}
  memref.global "private" constant @b : memref<4xi64> = dense<[1, 2, 3, 4]>
  memref.global "private" constant @small : memref<2xf32> = dense<[1.0, 2.0]>
  memref.global "private" constant @splat : memref<8xf32> = dense<1.0>
  func.func @weights() -> (memref<2x4xf32>, memref<4xi64>, memref<2xf32>, memref<8xf32>) {
    %0 = memref.get_global @w : memref<2x4xf32>
    %1 = memref.get_global @b : memref<4xi64>
    %2 = memref.get_global @small : memref<2xf32>
    %3 = memref.get_global @splat : memref<8xf32>
    return %0, %1, %2, %3 : memref<2x4xf32>, memref<4xi64>, memref<2xf32>, memref<8xf32>
  }
}

// -----

// Nothing reaches min-bytes: the module is unchanged (and the file of the
// first case is not rewritten).
// CHECK-NOT:   kiln.weights
// CHECK-NOT:   kiln_rt_weight
// CHECK:       memref.global "private" constant @tiny : memref<3xf32> = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]>
// CHECK-LABEL: func.func @small_only(
// CHECK:         memref.get_global @tiny : memref<3xf32>
module {
  memref.global "private" constant @tiny : memref<3xf32> = dense<[1.0, 2.0, 3.0]>
  func.func @small_only() -> memref<3xf32> {
    %0 = memref.get_global @tiny : memref<3xf32>
    return %0 : memref<3xf32>
  }
}
