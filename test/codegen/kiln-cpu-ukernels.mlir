// RUN: kiln-opt %s -split-input-file --pass-pipeline="builtin.module(kiln-cpu-ukernels{exact-fp16=false})" | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-cpu-ukernels | FileCheck %s --check-prefix=EXACT
// RUN: kiln-opt %s -split-input-file --pass-pipeline="builtin.module(kiln-cpu-ukernels{isa=avx2 exact-fp16=false})" | FileCheck %s --check-prefix=AVX2
// RUN: kiln-opt %s -split-input-file --pass-pipeline="builtin.module(kiln-cpu-ukernels{isa=generic})" | FileCheck %s --check-prefix=GENERIC
// RUN: kiln-opt %s -split-input-file --pass-pipeline="builtin.module(kiln-cpu-ukernels{winograd=false})" | FileCheck %s --check-prefix=NOWINO
// RUN: not kiln-opt %s -split-input-file --pass-pipeline="builtin.module(kiln-cpu-ukernels{isa=sse})" 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: kiln-cpu-ukernels: unknown isa 'sse' (expected avx512, avx2 or generic)
// RUN: kiln-opt %s -split-input-file --pass-pipeline="builtin.module(kiln-cpu-ukernels{precision=bf16})" | FileCheck %s --check-prefix=BF16
// RUN: not kiln-opt %s -split-input-file --pass-pipeline="builtin.module(kiln-cpu-ukernels{precision=fp8})" 2>&1 | FileCheck %s --check-prefix=BADPREC
// BADPREC: error: kiln-cpu-ukernels: unknown precision 'fp8' (expected fp32, bf16 or fp16)
// RUN: kiln-opt %s -split-input-file --pass-pipeline="builtin.module(kiln-cpu-ukernels{precision=bf16 keep-fp32=keepme,/l1/MatMul})" | FileCheck %s --check-prefix=KEEP
// RUN: kiln-opt %s -split-input-file --pass-pipeline="builtin.module(kiln-cpu-ukernels{quantize=int8})" | FileCheck %s --check-prefix=INT8
// RUN: kiln-opt %s -split-input-file --pass-pipeline="builtin.module(kiln-cpu-ukernels{precision=fp16})" | FileCheck %s --check-prefix=FP16
// RUN: not kiln-opt %s -split-input-file --pass-pipeline="builtin.module(kiln-cpu-ukernels{quantize=int3})" 2>&1 | FileCheck %s --check-prefix=BADQ
// BADQ: error: kiln-cpu-ukernels: unknown quantize 'int3' (expected none, int8, int8-static or int4)
// RUN: kiln-opt %s -split-input-file --pass-pipeline="builtin.module(kiln-cpu-ukernels{quantize=int4 group-size=32})" | FileCheck %s --check-prefix=INT4
// RUN: not kiln-opt %s -split-input-file --pass-pipeline="builtin.module(kiln-cpu-ukernels{quantize=int4 group-size=12})" 2>&1 | FileCheck %s --check-prefix=BADG
// BADG: error: kiln-cpu-ukernels: group-size must be a multiple of 8 from 8 to 4096, got 12
// RUN: not kiln-opt %s -split-input-file --pass-pipeline="builtin.module(kiln-cpu-ukernels{quantize=int8 precision=bf16})" 2>&1 | FileCheck %s --check-prefix=BADQP
// BADQP: error: kiln-cpu-ukernels: quantize=int8 needs precision=fp32, got 'bf16'

// A constant [64, 48] weight is packed at compile time into ceil(48 / 16) = 3
// panels of 64 rows x 16 columns, stored as a new 64-byte aligned constant
// global; the original goes away. The matmul becomes one call with 13 index
// arguments: (flags, m, n, k, a ptr, a offset, a row stride, a column
// stride, packed ptr, packed offset, c ptr, c offset, c row stride). Flags
// is the isa (avx512 = 2, avx2 = 1, generic = 0); without a zero fill
// before it the kernel accumulates into c.
// CHECK:       func.func private @kiln_ukernel_sgemm_packed(index, index, index, index, index, index, index, index, index, index, index, index, index)
// CHECK:       memref.global "private" constant @w_packed : memref<3x64x16xf32> = dense_resource<w_packed> {alignment = 64 : i64}
// CHECK-NOT:   memref.global "private" constant @w :
// CHECK-LABEL: func.func @packed_weight(
// CHECK-SAME:    %[[A:[^:]*]]: memref<?x64xf32>, %[[C:[^:]*]]: memref<?x48xf32>)
// CHECK:         %[[M:.*]] = memref.dim %[[A]], %{{.*}} : memref<?x64xf32>
// CHECK:         %[[K:.*]] = memref.dim %[[A]], %{{.*}} : memref<?x64xf32>
// CHECK:         %[[N:.*]] = memref.dim %[[C]], %{{.*}} : memref<?x48xf32>
// CHECK:         %[[F:.*]] = arith.constant 2 : index
// CHECK:         %[[ABUF:[^,]*]], %[[AOFF:[^,]*]], %{{[^,]*}}, %[[ASTR:[^:]*]]:2 = memref.extract_strided_metadata %[[A]]
// CHECK:         %[[APTR:.*]] = memref.extract_aligned_pointer_as_index %[[ABUF]]
// CHECK:         %[[CBUF:[^,]*]], %[[COFF:[^,]*]], %{{[^,]*}}, %[[CSTR:[^:]*]]:2 = memref.extract_strided_metadata %[[C]]
// CHECK:         %[[CPTR:.*]] = memref.extract_aligned_pointer_as_index %[[CBUF]]
// CHECK:         %[[P:.*]] = memref.get_global @w_packed : memref<3x64x16xf32>
// CHECK:         %[[PBUF:[^,]*]], %[[POFF:[^,]*]], {{.*}} = memref.extract_strided_metadata %[[P]]
// CHECK:         %[[PPTR:.*]] = memref.extract_aligned_pointer_as_index %[[PBUF]]
// CHECK:         call @kiln_ukernel_sgemm_packed(%[[F]], %[[M]], %[[N]], %[[K]], %[[APTR]], %[[AOFF]], %[[ASTR]]#0, %[[ASTR]]#1, %[[PPTR]], %[[POFF]], %[[CPTR]], %[[COFF]], %[[CSTR]]#0)
// CHECK-NOT:     linalg.matmul
// CHECK-NOT:     memref.get_global @w :
// CHECK:         return
// AVX2-LABEL: func.func @packed_weight(
// AVX2:         memref.dim %{{.*}} : memref<?x48xf32>
// AVX2:         %[[F:.*]] = arith.constant 1 : index
// AVX2:         call @kiln_ukernel_sgemm_packed(%[[F]],
// GENERIC-LABEL: func.func @packed_weight(
// GENERIC:         memref.dim %{{.*}} : memref<?x48xf32>
// GENERIC:         %[[F:.*]] = arith.constant 0 : index
// GENERIC:         call @kiln_ukernel_sgemm_packed(%[[F]],
// With precision=bf16 the constant is packed in bf16 k-pair panels
// ([3, 64/2, 32] of i16) and the call is the bf16 kernel's.
// BF16-LABEL: func.func @packed_weight(
// BF16:         memref.get_global @w_bf16 : memref<3x32x32xi16>
// BF16:         call @kiln_ukernel_sbgemm_packed(
// BF16-NOT:     memref.get_global @w :
// With quantize=int8 it is quantized to int8 and packed in k-quad panels
// with two rows of per-column scales and scaled column sums
// ([3, 64/4 + 2, 64] of i8), and the call is the int8 kernel's.
// INT8-LABEL: func.func @packed_weight(
// INT8:         memref.get_global @w_s8 : memref<3x18x64xi8>
// INT8:         call @kiln_ukernel_qgemm_packed(
// INT8-NOT:     memref.get_global @w :
// With quantize=int4 group-size=32: [3 panels, 64/32 groups, 32/8 + 1
// rows, 64] bytes; the int4 call carries the group size in flags bits 16
// and up: 2 | 32 << 16 = 2097154.
// INT4-LABEL: func.func @packed_weight(
// INT4:         arith.constant 2097154 : index
// INT4:         memref.get_global @w_s4 : memref<3x2x5x64xi8>
// INT4:         call @kiln_ukernel_s4gemm_packed(
// With precision=fp16: the fp32 panel layout in fp16 ([3, 64, 16] of i16),
// and the call is the fp16-weight kernel's.
// FP16-LABEL: func.func @packed_weight(
// FP16:         memref.get_global @w_f16 : memref<3x64x16xi16>
// FP16:         call @kiln_ukernel_hgemm_packed(
// FP16-NOT:     memref.get_global @w :
// Without options (exact-fp16): every value of this fp32 weight is an fp16
// value, so it is stored in fp16 as with precision=fp16 (the same values).
// EXACT-LABEL: func.func @packed_weight(
// EXACT:         memref.get_global @w_f16 : memref<3x64x16xi16>
// EXACT:         call @kiln_ukernel_hgemm_packed(
memref.global "private" constant @w : memref<64x48xf32> = dense<1.0>
func.func @packed_weight(%a: memref<?x64xf32>, %c: memref<?x48xf32>) {
  %w = memref.get_global @w : memref<64x48xf32>
  linalg.matmul ins(%a, %w : memref<?x64xf32>, memref<64x48xf32>) outs(%c : memref<?x48xf32>)
  return
}

// -----

// The packed values: a [2, 3] weight (K = 2, N = 3) is one panel of 2 rows
// of 16 floats, columns 3..15 zero: 1 2 3 0 ... / 4 5 6 0 ... (little-endian
// f32 after the blob's 4-byte alignment header). A zero fill of the output
// right before the matmul is dropped and the kernel overwrites the output
// instead: flags 2 | 0x100 = 258.
// CHECK:       memref.global "private" constant @w2_packed : memref<1x2x16xf32> = dense_resource<w2_packed> {alignment = 64 : i64}
// CHECK-NOT:   memref.global "private" constant @w2 :
// CHECK-LABEL: func.func @packed_values_zero_fill(
// CHECK-SAME:    %[[A:[^:]*]]: memref<4x2xf32>, %[[C:[^:]*]]: memref<4x3xf32>)
// CHECK-NOT:     linalg.fill
// CHECK:         %[[F:.*]] = arith.constant 258 : index
// CHECK-NOT:     linalg.fill
// CHECK:         call @kiln_ukernel_sgemm_packed(%[[F]],
// CHECK-NOT:     linalg.fill
// CHECK-NOT:     linalg.matmul
// CHECK:         w2_packed: "0x04000000
// CHECK-SAME:      0000803F000000400000404000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
// CHECK-SAME:      000080400000A0400000C04000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
// AVX2-LABEL: func.func @packed_values_zero_fill(
// AVX2:         %[[F:.*]] = arith.constant 257 : index
// AVX2:         call @kiln_ukernel_sgemm_packed(%[[F]],
// GENERIC-LABEL: func.func @packed_values_zero_fill(
// GENERIC:         %[[F:.*]] = arith.constant 256 : index
// GENERIC:         call @kiln_ukernel_sgemm_packed(%[[F]],
memref.global "private" constant @w2 : memref<2x3xf32> = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]>
func.func @packed_values_zero_fill(%a: memref<4x2xf32>, %c: memref<4x3xf32>) {
  %zero = arith.constant 0.0 : f32
  %w = memref.get_global @w2 : memref<2x3xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<4x3xf32>)
  linalg.matmul ins(%a, %w : memref<4x2xf32>, memref<2x3xf32>) outs(%c : memref<4x3xf32>)
  return
}

// -----

// Negative for the fill: a fill of a non-zero value, and a zero fill of
// another buffer, are kept and the kernel accumulates (flags 2).
// CHECK-LABEL: func.func @fill_kept(
// CHECK-SAME:    %[[A:[^:]*]]: memref<4x2xf32>, %[[C:[^:]*]]: memref<4x3xf32>, %[[D:[^:]*]]: memref<4x3xf32>)
// CHECK:         linalg.fill ins(%{{.*}} : f32) outs(%[[C]] : memref<4x3xf32>)
// CHECK:         %[[F1:.*]] = arith.constant 2 : index
// CHECK:         call @kiln_ukernel_sgemm_packed(%[[F1]],
// CHECK:         linalg.fill ins(%{{.*}} : f32) outs(%[[D]] : memref<4x3xf32>)
// CHECK:         %[[F2:.*]] = arith.constant 2 : index
// CHECK:         call @kiln_ukernel_sgemm_packed(%[[F2]],
// CHECK-NOT:     linalg.matmul
memref.global "private" constant @w3 : memref<2x3xf32> = dense<1.0>
func.func @fill_kept(%a: memref<4x2xf32>, %c: memref<4x3xf32>, %d: memref<4x3xf32>) {
  %one = arith.constant 1.0 : f32
  %zero = arith.constant 0.0 : f32
  %w = memref.get_global @w3 : memref<2x3xf32>
  linalg.fill ins(%one : f32) outs(%c : memref<4x3xf32>)
  linalg.matmul ins(%a, %w : memref<4x2xf32>, memref<2x3xf32>) outs(%c : memref<4x3xf32>)
  linalg.fill ins(%zero : f32) outs(%d : memref<4x3xf32>)
  linalg.matmul ins(%a, %w : memref<4x2xf32>, memref<2x3xf32>) outs(%c : memref<4x3xf32>)
  return
}

// -----

// A right-hand side that is not a constant is passed with its strides to
// the kernel that packs it per call: 15 arguments (flags, m, n, k, then
// ptr, offset and two strides of a and b, then ptr, offset and row stride
// of c). A get_global of a mutable global is not a constant either.
// CHECK:       func.func private @kiln_ukernel_sgemm(index, index, index, index, index, index, index, index, index, index, index, index, index, index, index)
// CHECK-NOT:   @kiln_ukernel_sgemm_packed
// CHECK:       memref.global "private" @v : memref<8x16xf32>
// CHECK-LABEL: func.func @dynamic_weight(
// CHECK-SAME:    %[[A:[^:]*]]: memref<?x8xf32>, %[[B:[^:]*]]: memref<8x16xf32>, %[[C:[^:]*]]: memref<?x16xf32>)
// CHECK:         %[[M:.*]] = memref.dim %[[A]], %{{.*}} : memref<?x8xf32>
// CHECK:         %[[K:.*]] = memref.dim %[[A]], %{{.*}} : memref<?x8xf32>
// CHECK:         %[[N:.*]] = memref.dim %[[C]], %{{.*}} : memref<?x16xf32>
// CHECK:         %[[F:.*]] = arith.constant 2 : index
// CHECK:         %[[ABUF:[^,]*]], %[[AOFF:[^,]*]], %{{[^,]*}}, %[[ASTR:[^:]*]]:2 = memref.extract_strided_metadata %[[A]]
// CHECK:         %[[APTR:.*]] = memref.extract_aligned_pointer_as_index %[[ABUF]]
// CHECK:         %[[CBUF:[^,]*]], %[[COFF:[^,]*]], %{{[^,]*}}, %[[CSTR:[^:]*]]:2 = memref.extract_strided_metadata %[[C]]
// CHECK:         %[[CPTR:.*]] = memref.extract_aligned_pointer_as_index %[[CBUF]]
// CHECK:         %[[BBUF:[^,]*]], %[[BOFF:[^,]*]], %{{[^,]*}}, %[[BSTR:[^:]*]]:2 = memref.extract_strided_metadata %[[B]]
// CHECK:         %[[BPTR:.*]] = memref.extract_aligned_pointer_as_index %[[BBUF]]
// CHECK:         call @kiln_ukernel_sgemm(%[[F]], %[[M]], %[[N]], %[[K]], %[[APTR]], %[[AOFF]], %[[ASTR]]#0, %[[ASTR]]#1, %[[BPTR]], %[[BOFF]], %[[BSTR]]#0, %[[BSTR]]#1, %[[CPTR]], %[[COFF]], %[[CSTR]]#0)
// CHECK:         %[[G:.*]] = memref.get_global @v : memref<8x16xf32>
// CHECK:         call @kiln_ukernel_sgemm(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
// CHECK-NOT:     linalg.matmul
memref.global "private" @v : memref<8x16xf32> = dense<1.0>
func.func @dynamic_weight(%a: memref<?x8xf32>, %b: memref<8x16xf32>, %c: memref<?x16xf32>) {
  linalg.matmul ins(%a, %b : memref<?x8xf32>, memref<8x16xf32>) outs(%c : memref<?x16xf32>)
  %v = memref.get_global @v : memref<8x16xf32>
  linalg.matmul ins(%a, %v : memref<?x8xf32>, memref<8x16xf32>) outs(%c : memref<?x16xf32>)
  return
}

// -----

// A [1, 0] transpose of a constant [N, K] = [3, 2] global into a buffer
// read only as the matmul's weight: packed at compile time from the
// transposed reading, to the same panel as @w2 above; the transpose, the
// buffer and its dealloc go away, and so does the original global.
// CHECK:       memref.global "private" constant @wt_packed : memref<1x2x16xf32> = dense_resource<wt_packed> {alignment = 64 : i64}
// CHECK-NOT:   memref.global "private" constant @wt :
// CHECK-LABEL: func.func @transposed_constant(
// CHECK-NOT:     memref.alloc
// CHECK-NOT:     linalg.transpose
// CHECK:         %[[F:.*]] = arith.constant 2 : index
// CHECK:         %[[P:.*]] = memref.get_global @wt_packed : memref<1x2x16xf32>
// CHECK:         call @kiln_ukernel_sgemm_packed(%[[F]],
// CHECK-NOT:     linalg.transpose
// CHECK-NOT:     memref.dealloc
// CHECK:         return
// CHECK:         wt_packed: "0x04000000
// CHECK-SAME:      0000803F000000400000404000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
// CHECK-SAME:      000080400000A0400000C04000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
memref.global "private" constant @wt : memref<3x2xf32> = dense<[[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]>
func.func @transposed_constant(%a: memref<4x2xf32>, %c: memref<4x3xf32>) {
  %g = memref.get_global @wt : memref<3x2xf32>
  %t = memref.alloc() : memref<2x3xf32>
  linalg.transpose ins(%g : memref<3x2xf32>) outs(%t : memref<2x3xf32>) permutation = [1, 0]
  linalg.matmul ins(%a, %t : memref<4x2xf32>, memref<2x3xf32>) outs(%c : memref<4x3xf32>)
  memref.dealloc %t : memref<2x3xf32>
  return
}

// -----

// The same at a realistic size: a [48, 64] global transposed into the
// [64, 48] weight packs into 3 panels of 64 rows.
// CHECK:       memref.global "private" constant @wt2_packed : memref<3x64x16xf32> = dense_resource<wt2_packed> {alignment = 64 : i64}
// CHECK-NOT:   memref.global "private" constant @wt2 :
// CHECK-LABEL: func.func @transposed_constant_big(
// CHECK-NOT:     memref.alloc
// CHECK-NOT:     linalg.transpose
// CHECK:         memref.get_global @wt2_packed : memref<3x64x16xf32>
// CHECK:         call @kiln_ukernel_sgemm_packed(
// CHECK-NOT:     memref.dealloc
memref.global "private" constant @wt2 : memref<48x64xf32> = dense<0.5>
func.func @transposed_constant_big(%a: memref<?x64xf32>, %c: memref<?x48xf32>) {
  %g = memref.get_global @wt2 : memref<48x64xf32>
  %t = memref.alloc() : memref<64x48xf32>
  linalg.transpose ins(%g : memref<48x64xf32>) outs(%t : memref<64x48xf32>) permutation = [1, 0]
  linalg.matmul ins(%a, %t : memref<?x64xf32>, memref<64x48xf32>) outs(%c : memref<?x48xf32>)
  memref.dealloc %t : memref<64x48xf32>
  return
}

// -----

// Negative for the transpose: the transposed buffer is also read by a copy,
// so it is not a pure weight buffer: the transpose stays and the matmul
// reads the buffer through the per-call packing kernel; the global stays.
// CHECK-NOT:   @wt3_packed
// CHECK:       memref.global "private" constant @wt3 : memref<3x2xf32>
// CHECK-NOT:   @wt3_packed
// CHECK-LABEL: func.func @transposed_constant_reused(
// CHECK-SAME:    %[[A:[^:]*]]: memref<4x2xf32>, %[[C:[^:]*]]: memref<4x3xf32>, %[[D:[^:]*]]: memref<2x3xf32>)
// CHECK:         %[[G:.*]] = memref.get_global @wt3 : memref<3x2xf32>
// CHECK:         %[[T:.*]] = memref.alloc() : memref<2x3xf32>
// CHECK:         linalg.transpose ins(%[[G]] : memref<3x2xf32>) outs(%[[T]] : memref<2x3xf32>) permutation = [1, 0]
// CHECK:         memref.extract_strided_metadata %[[T]]
// CHECK:         call @kiln_ukernel_sgemm(
// CHECK:         memref.copy %[[T]], %[[D]]
memref.global "private" constant @wt3 : memref<3x2xf32> = dense<[[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]>
func.func @transposed_constant_reused(%a: memref<4x2xf32>, %c: memref<4x3xf32>, %d: memref<2x3xf32>) {
  %g = memref.get_global @wt3 : memref<3x2xf32>
  %t = memref.alloc() : memref<2x3xf32>
  linalg.transpose ins(%g : memref<3x2xf32>) outs(%t : memref<2x3xf32>) permutation = [1, 0]
  linalg.matmul ins(%a, %t : memref<4x2xf32>, memref<2x3xf32>) outs(%c : memref<4x3xf32>)
  memref.copy %t, %d : memref<2x3xf32> to memref<2x3xf32>
  return
}

// -----

// A constant read by a packed matmul and by something else keeps its
// original global next to the packed one.
// CHECK-DAG:   memref.global "private" constant @w4_packed : memref<1x2x16xf32>
// CHECK-DAG:   memref.global "private" constant @w4 : memref<2x3xf32>
// CHECK-LABEL: func.func @constant_also_read(
// CHECK:         %[[G:.*]] = memref.get_global @w4 : memref<2x3xf32>
// CHECK:         %[[P:.*]] = memref.get_global @w4_packed : memref<1x2x16xf32>
// CHECK:         call @kiln_ukernel_sgemm_packed(
// CHECK:         return %[[G]]
memref.global "private" constant @w4 : memref<2x3xf32> = dense<1.0>
func.func @constant_also_read(%a: memref<4x2xf32>, %c: memref<4x3xf32>) -> memref<2x3xf32> {
  %w = memref.get_global @w4 : memref<2x3xf32>
  linalg.matmul ins(%a, %w : memref<4x2xf32>, memref<2x3xf32>) outs(%c : memref<4x3xf32>)
  return %w : memref<2x3xf32>
}

// -----

// A constant given as a dense_resource blob is read from the blob.
// CHECK:       memref.global "private" constant @wr_packed : memref<1x2x16xf32> = dense_resource<wr_packed> {alignment = 64 : i64}
// CHECK-NOT:   memref.global "private" constant @wr :
// CHECK-LABEL: func.func @resource_constant(
// CHECK:         memref.get_global @wr_packed : memref<1x2x16xf32>
// CHECK:         call @kiln_ukernel_sgemm_packed(
// CHECK:         wr_packed: "0x04000000
// CHECK-SAME:      0000803F000000400000404000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
// CHECK-SAME:      000080400000A0400000C04000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
memref.global "private" constant @wr : memref<2x3xf32> = dense_resource<wr_blob> {alignment = 64 : i64}
func.func @resource_constant(%a: memref<4x2xf32>, %c: memref<4x3xf32>) {
  %w = memref.get_global @wr : memref<2x3xf32>
  linalg.matmul ins(%a, %w : memref<4x2xf32>, memref<2x3xf32>) outs(%c : memref<4x3xf32>)
  return
}
{-#
  dialect_resources: {
    builtin: {
      wr_blob: "0x040000000000803F0000004000004040000080400000A0400000C040"
    }
  }
#-}

// -----

// One constant read by two matmuls is packed once; read through a reshape
// it is packed from its row-major elements. A square constant read both
// directly and through a [1, 0] transpose gets two packed copies (the
// second renamed).
// CHECK-DAG:   memref.global "private" constant @ws_packed : memref<1x16x16xf32>
// CHECK-DAG:   memref.global "private" constant @ws_packed_0 : memref<1x16x16xf32>
// CHECK-DAG:   memref.global "private" constant @w3d_packed : memref<1x2x16xf32>
// CHECK-NOT:   memref.global "private" constant @ws :
// CHECK-NOT:   memref.global "private" constant @w3d :
// CHECK-LABEL: func.func @shared(
// CHECK:         memref.get_global @ws_packed : memref<1x16x16xf32>
// CHECK:         call @kiln_ukernel_sgemm_packed(
// CHECK:         memref.get_global @ws_packed : memref<1x16x16xf32>
// CHECK:         call @kiln_ukernel_sgemm_packed(
// CHECK:         memref.get_global @ws_packed_0 : memref<1x16x16xf32>
// CHECK:         call @kiln_ukernel_sgemm_packed(
// CHECK:         memref.get_global @w3d_packed : memref<1x2x16xf32>
// CHECK:         call @kiln_ukernel_sgemm_packed(
// CHECK-NOT:     memref.collapse_shape
// CHECK-NOT:     linalg.transpose
// CHECK-NOT:     linalg.matmul
// CHECK:         return
// CHECK:         w3d_packed: "0x04000000
// CHECK-SAME:      0000803F000000400000404000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
// CHECK-SAME:      000080400000A0400000C04000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
memref.global "private" constant @ws : memref<16x16xf32> = dense<2.0>
memref.global "private" constant @w3d : memref<1x2x3xf32> = dense<[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]>
func.func @shared(%a: memref<4x16xf32>, %c: memref<4x16xf32>, %a2: memref<4x2xf32>, %c2: memref<4x3xf32>) {
  %w = memref.get_global @ws : memref<16x16xf32>
  linalg.matmul ins(%a, %w : memref<4x16xf32>, memref<16x16xf32>) outs(%c : memref<4x16xf32>)
  linalg.matmul ins(%a, %w : memref<4x16xf32>, memref<16x16xf32>) outs(%c : memref<4x16xf32>)
  %t = memref.alloc() : memref<16x16xf32>
  linalg.transpose ins(%w : memref<16x16xf32>) outs(%t : memref<16x16xf32>) permutation = [1, 0]
  linalg.matmul ins(%a, %t : memref<4x16xf32>, memref<16x16xf32>) outs(%c : memref<4x16xf32>)
  %g3 = memref.get_global @w3d : memref<1x2x3xf32>
  %cs = memref.collapse_shape %g3 [[0, 1], [2]] : memref<1x2x3xf32> into memref<2x3xf32>
  linalg.matmul ins(%a2, %cs : memref<4x2xf32>, memref<2x3xf32>) outs(%c2 : memref<4x3xf32>)
  return
}

// -----

// A batch matmul calls the batched kernel with 19 arguments: (flags, batch,
// m, n, k, a ptr, offset and three strides, b the same, c ptr, offset and
// its two outer strides). Its zero fill is dropped too.
// CHECK:       func.func private @kiln_ukernel_sgemm_batched(index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index, index)
// CHECK-LABEL: func.func @batched(
// CHECK-SAME:    %[[A:[^:]*]]: memref<2x4x8xf32>, %[[B:[^:]*]]: memref<2x8x5xf32>, %[[C:[^:]*]]: memref<2x4x5xf32>)
// CHECK-NOT:     linalg.fill
// CHECK:         %[[F:.*]] = arith.constant 258 : index
// CHECK-NOT:     linalg.fill
// CHECK:         %[[BATCH:.*]] = memref.dim %[[A]], %{{.*}} : memref<2x4x8xf32>
// CHECK:         %[[M:.*]] = memref.dim %[[A]], %{{.*}} : memref<2x4x8xf32>
// CHECK:         %[[N:.*]] = memref.dim %[[C]], %{{.*}} : memref<2x4x5xf32>
// CHECK:         %[[K:.*]] = memref.dim %[[A]], %{{.*}} : memref<2x4x8xf32>
// CHECK:         %[[ABUF:[^,]*]], %[[AOFF:[^,]*]], %{{[^,]*}}, %[[ASTR:[^:]*]]:3 = memref.extract_strided_metadata %[[A]]
// CHECK:         %[[APTR:.*]] = memref.extract_aligned_pointer_as_index %[[ABUF]]
// CHECK:         %[[BBUF:[^,]*]], %[[BOFF:[^,]*]], %{{[^,]*}}, %[[BSTR:[^:]*]]:3 = memref.extract_strided_metadata %[[B]]
// CHECK:         %[[BPTR:.*]] = memref.extract_aligned_pointer_as_index %[[BBUF]]
// CHECK:         %[[CBUF:[^,]*]], %[[COFF:[^,]*]], %{{[^,]*}}, %[[CSTR:[^:]*]]:3 = memref.extract_strided_metadata %[[C]]
// CHECK:         %[[CPTR:.*]] = memref.extract_aligned_pointer_as_index %[[CBUF]]
// CHECK:         call @kiln_ukernel_sgemm_batched(%[[F]], %[[BATCH]], %[[M]], %[[N]], %[[K]], %[[APTR]], %[[AOFF]], %[[ASTR]]#0, %[[ASTR]]#1, %[[ASTR]]#2, %[[BPTR]], %[[BOFF]], %[[BSTR]]#0, %[[BSTR]]#1, %[[BSTR]]#2, %[[CPTR]], %[[COFF]], %[[CSTR]]#0, %[[CSTR]]#1)
// CHECK-NOT:     linalg.batch_matmul
// CHECK-NOT:     linalg.fill
// AVX2-LABEL: func.func @batched(
// AVX2:         %[[F:.*]] = arith.constant 257 : index
// AVX2:         call @kiln_ukernel_sgemm_batched(%[[F]],
// GENERIC-LABEL: func.func @batched(
// GENERIC:         %[[F:.*]] = arith.constant 256 : index
// GENERIC:         call @kiln_ukernel_sgemm_batched(%[[F]],
func.func @batched(%a: memref<2x4x8xf32>, %b: memref<2x8x5xf32>, %c: memref<2x4x5xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<2x4x5xf32>)
  linalg.batch_matmul ins(%a, %b : memref<2x4x8xf32>, memref<2x8x5xf32>) outs(%c : memref<2x4x5xf32>)
  return
}

// -----

// Negative: an f64 matmul, a matmul whose output rows are not contiguous
// (a transposed view of a buffer, inner stride 4, or an inner stride only
// known at run time), a matmul with user-defined indexing maps and a
// matmul on tensors are left alone, and no kernel is declared.
// CHECK-NOT:   kiln_ukernel
// CHECK-LABEL: func.func @left_alone(
// CHECK:         linalg.matmul ins(%{{.*}}, %{{.*}} : memref<4x8xf64>, memref<8x4xf64>) outs(%{{.*}} : memref<4x4xf64>)
// CHECK:         linalg.matmul ins(%{{.*}}, %{{.*}} : memref<4x8xf32>, memref<8x4xf32>) outs(%{{.*}} : memref<4x4xf32, strided<[1, 4]>>)
// CHECK:         linalg.matmul ins(%{{.*}}, %{{.*}} : memref<4x8xf32>, memref<8x4xf32>) outs(%{{.*}} : memref<4x4xf32, strided<[?, ?], offset: ?>>)
// CHECK:         linalg.matmul indexing_maps
// CHECK:         linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8x4xf32>) outs(%{{.*}} : tensor<4x4xf32>) -> tensor<4x4xf32>
// CHECK-NOT:     kiln_ukernel
memref.global "private" constant @wd : memref<8x4xf64> = dense<1.0>
func.func @left_alone(%a64: memref<4x8xf64>, %c64: memref<4x4xf64>,
                      %a: memref<4x8xf32>, %b: memref<8x4xf32>, %c: memref<4x4xf32>,
                      %cd: memref<4x4xf32, strided<[?, ?], offset: ?>>, %at: memref<8x4xf32>,
                      %ta: tensor<4x8xf32>, %tb: tensor<8x4xf32>, %tc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %w = memref.get_global @wd : memref<8x4xf64>
  linalg.matmul ins(%a64, %w : memref<4x8xf64>, memref<8x4xf64>) outs(%c64 : memref<4x4xf64>)
  %ct = memref.transpose %c (i, j) -> (j, i) : memref<4x4xf32> to memref<4x4xf32, strided<[1, 4]>>
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x4xf32>) outs(%ct : memref<4x4xf32, strided<[1, 4]>>)
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x4xf32>) outs(%cd : memref<4x4xf32, strided<[?, ?], offset: ?>>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%at, %b : memref<8x4xf32>, memref<8x4xf32>) outs(%c : memref<4x4xf32>)
  %r = linalg.matmul ins(%ta, %tb : tensor<4x8xf32>, tensor<8x4xf32>) outs(%tc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}

// -----

// kiln.ukernel on buffers becomes kiln_ukernel_<kernel>(desc, fparams):
// desc, on the stack, holds int_params (4), then for each operand (q, k, v,
// then the output) its aligned base address, offset, 4 sizes and 4 strides:
// 4 + 4 * 10 = 44 entries; fparams holds float_params.
// CHECK:       func.func private @kiln_ukernel_attention_f32(index, index)
// CHECK-LABEL: func.func @ukernel_call(
// CHECK-SAME:    %[[Q:[^:]*]]: memref<2x4x8x16xf32>, %[[K:[^:]*]]: memref<2x4x8x16xf32>, %[[V:[^:]*]]: memref<2x4x8x16xf32>, %[[O:[^:]*]]: memref<2x4x8x16xf32>)
// CHECK:         %[[P0:.*]] = arith.constant 2 : index
// CHECK:         %[[P1:.*]] = arith.constant 0 : index
// CHECK:         %[[P2:.*]] = arith.constant 0 : index
// CHECK:         %[[P3:.*]] = arith.constant 4 : index
// CHECK:         %[[QBUF:[^,]*]], %[[QOFF:[^,]*]], %[[QSZ:[^:]*]]:4, %[[QSTR:[^:]*]]:4 = memref.extract_strided_metadata %[[Q]]
// CHECK:         %[[QPTR:.*]] = memref.extract_aligned_pointer_as_index %[[QBUF]]
// CHECK:         memref.extract_strided_metadata %[[K]]
// CHECK:         memref.extract_strided_metadata %[[V]]
// CHECK:         %[[OBUF:[^,]*]], %[[OOFF:[^,]*]], %[[OSZ:[^:]*]]:4, %[[OSTR:[^:]*]]:4 = memref.extract_strided_metadata %[[O]]
// CHECK:         %[[OPTR:.*]] = memref.extract_aligned_pointer_as_index %[[OBUF]]
// CHECK:         %[[DESC:.*]] = memref.alloca() : memref<44xindex>
// CHECK:         memref.store %[[P0]], %[[DESC]][%{{.*}}] : memref<44xindex>
// CHECK:         memref.store %[[P1]], %[[DESC]][%{{.*}}] : memref<44xindex>
// CHECK:         memref.store %[[P2]], %[[DESC]][%{{.*}}] : memref<44xindex>
// CHECK:         memref.store %[[P3]], %[[DESC]][%{{.*}}] : memref<44xindex>
// CHECK:         memref.store %[[QPTR]], %[[DESC]][%{{.*}}] : memref<44xindex>
// CHECK:         memref.store %[[QOFF]], %[[DESC]][%{{.*}}] : memref<44xindex>
// CHECK:         memref.store %[[QSZ]]#0, %[[DESC]][%{{.*}}] : memref<44xindex>
// CHECK-COUNT-27: memref.store %{{.*}}, %[[DESC]][%{{.*}}] : memref<44xindex>
// CHECK:         memref.store %[[OPTR]], %[[DESC]][%{{.*}}] : memref<44xindex>
// CHECK:         memref.store %[[OOFF]], %[[DESC]][%{{.*}}] : memref<44xindex>
// CHECK-COUNT-7: memref.store %{{.*}}, %[[DESC]][%{{.*}}] : memref<44xindex>
// CHECK:         memref.store %[[OSTR]]#3, %[[DESC]][%{{.*}}] : memref<44xindex>
// CHECK-NOT:     memref.store %{{.*}}, %[[DESC]]
// CHECK:         %[[FP:.*]] = memref.alloca() : memref<2xf32>
// CHECK:         %[[S:.*]] = arith.constant 2.500000e-01 : f32
// CHECK:         memref.store %[[S]], %[[FP]][%{{.*}}] : memref<2xf32>
// CHECK:         %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:         memref.store %[[Z]], %[[FP]][%{{.*}}] : memref<2xf32>
// CHECK:         %[[DP:.*]] = memref.extract_aligned_pointer_as_index %[[DESC]] : memref<44xindex> -> index
// CHECK:         %[[FPP:.*]] = memref.extract_aligned_pointer_as_index %[[FP]] : memref<2xf32> -> index
// CHECK:         call @kiln_ukernel_attention_f32(%[[DP]], %[[FPP]]) : (index, index) -> ()
// CHECK-NOT:     kiln.ukernel
// CHECK:         return
func.func @ukernel_call(%q: memref<2x4x8x16xf32>, %k: memref<2x4x8x16xf32>, %v: memref<2x4x8x16xf32>, %o: memref<2x4x8x16xf32>) {
  kiln.ukernel "attention_f32"(%q, %k, %v) outs(%o) {int_params = array<i64: 2, 0, 0, 4>, float_params = array<f32: 0.25, 0.0>} : (memref<2x4x8x16xf32>, memref<2x4x8x16xf32>, memref<2x4x8x16xf32>, memref<2x4x8x16xf32>) -> ()
  return
}

// -----

// With a rank-2 mask as fourth input and rank-3 operands: 4 + 4 * 8 + 6 =
// 42 entries. No float params still gets a one-element array.
// CHECK:       func.func private @kiln_ukernel_attention_f32(index, index)
// CHECK-LABEL: func.func @ukernel_call_mask(
// CHECK:         memref.alloca() : memref<42xindex>
// CHECK:         %[[FP:.*]] = memref.alloca() : memref<1xf32>
// CHECK-NOT:     memref.store %{{.*}}, %[[FP]]
// CHECK:         call @kiln_ukernel_attention_f32(
// CHECK-NOT:     kiln.ukernel
// With precision=bf16 flag 16 is added to the flags (1, a mask): its
// products in bf16, 17; with quantize=int8 flag 32 (bf16 where the CPU
// has AVX512-BF16), 33.
// BF16-LABEL: func.func @ukernel_call_mask(
// BF16-NEXT:    arith.constant 2 : index
// BF16-NEXT:    arith.constant 17 : index
// BF16:         call @kiln_ukernel_attention_f32(
// INT8-LABEL: func.func @ukernel_call_mask(
// INT8-NEXT:    arith.constant 2 : index
// INT8-NEXT:    arith.constant 33 : index
func.func @ukernel_call_mask(%q: memref<8x8x16xf32>, %k: memref<8x8x16xf32>, %v: memref<8x8x16xf32>, %m: memref<8x8xf32>, %o: memref<8x8x16xf32>) {
  kiln.ukernel "attention_f32"(%q, %k, %v, %m) outs(%o) {int_params = array<i64: 2, 1, 2, 3>, float_params = array<f32>} : (memref<8x8x16xf32>, memref<8x8x16xf32>, memref<8x8x16xf32>, memref<8x8xf32>, memref<8x8x16xf32>) -> ()
  return
}

// -----

// Negative: kiln.ukernel on tensors waits for bufferization.
// CHECK-NOT:   kiln_ukernel_attention_f32
// CHECK-LABEL: func.func @ukernel_on_tensors(
// CHECK:         %[[R:.*]] = kiln.ukernel "attention_f32"
// CHECK:         return %[[R]]
func.func @ukernel_on_tensors(%q: tensor<8x8x16xf32>, %o: tensor<8x8x16xf32>) -> tensor<8x8x16xf32> {
  %r = kiln.ukernel "attention_f32"(%q, %q, %q) outs(%o) {int_params = array<i64: 2, 0, 0, 3>, float_params = array<f32: 1.0, 0.0>} : (tensor<8x8x16xf32>, tensor<8x8x16xf32>, tensor<8x8x16xf32>, tensor<8x8x16xf32>) -> tensor<8x8x16xf32>
  return %r : tensor<8x8x16xf32>
}

// -----

// kiln.ukernel "linear_f32" whose weight (operand 1) is a constant: the
// weight is packed at compile time ([1,0]-transposed when flag 1 is set),
// the operand becomes the packed global and flag 8 is added to the
// descriptor's flags (3 | 8 = 11); the original global goes away.
// CHECK-LABEL: func.func @linear_packed(
// CHECK-NOT:     memref.get_global @lw :
// CHECK:         %[[P:.*]] = memref.get_global @lw_packed : memref<3x32x16xf32>
// CHECK:         %[[C11:.*]] = arith.constant 11 : index
// CHECK:         memref.store %[[C11]], %{{.*}}[%{{.*}}] : memref<{{[0-9]+}}xindex>
// CHECK:         call @kiln_ukernel_linear_f32(
// With precision=bf16 the weight is packed in bf16 k-pair panels instead:
// [ceil(40/16) = 3 panels, 32/2 = 16 k-pairs, 32] of bf16 bits as i16
// (1.0 is 0x3F80 = 16256), and flag 16 replaces flag 8 (3 | 16 = 19).
// BF16-LABEL: func.func @linear_packed(
// BF16-NOT:     memref.get_global @lw :
// BF16:         %[[P:.*]] = memref.get_global @lw_bf16 : memref<3x16x32xi16>
// BF16:         %[[C19:.*]] = arith.constant 19 : index
// BF16:         call @kiln_ukernel_linear_f32(
// With quantize=int8: [3 panels, 32/4 + 2 rows, 64] of i8, flag 32
// (3 | 32 = 35).
// INT8-LABEL: func.func @linear_packed(
// INT8-NOT:     memref.get_global @lw :
// INT8:         %[[P:.*]] = memref.get_global @lw_s8 : memref<3x10x64xi8>
// INT8:         %[[C35:.*]] = arith.constant 35 : index
// INT8:         call @kiln_ukernel_linear_f32(
// With quantize=int4 group-size=32: [3 panels, 1 group, 5 rows, 64] bytes,
// flag 256 (3 | 256 = 259).
// INT4-LABEL: func.func @linear_packed(
// INT4:         memref.get_global @lw_s4 : memref<3x1x5x64xi8>
// INT4:         %[[C259:.*]] = arith.constant 259 : index
// INT4:         call @kiln_ukernel_linear_f32(
// With precision=fp16: [3 panels, 32, 16] of fp16 bits, flag 2048
// (3 | 2048 = 2051).
// FP16-LABEL: func.func @linear_packed(
// FP16-NOT:     memref.get_global @lw :
// FP16:         memref.get_global @lw_f16 : memref<3x32x16xi16>
// FP16:         arith.constant 2051 : index
// FP16:         call @kiln_ukernel_linear_f32(
// exact-fp16 (the default) likewise for these fp16-exact weights.
// EXACT-LABEL: func.func @linear_packed(
// EXACT:         memref.get_global @lw_f16 : memref<3x32x16xi16>
// EXACT:         arith.constant 2051 : index
memref.global "private" constant @lw : memref<40x32xf32> = dense<1.0>
func.func @linear_packed(%x: memref<8x32xf32>, %b: memref<40xf32>, %y: memref<8x40xf32>) {
  %w = memref.get_global @lw : memref<40x32xf32>
  kiln.ukernel "linear_f32"(%x, %w, %b) outs(%y) {int_params = array<i64: 2, 3, 0>, float_params = array<f32>} : (memref<8x32xf32>, memref<40x32xf32>, memref<40xf32>, memref<8x40xf32>) -> ()
  return
}

// -----

// keep-fp32: a dense layer whose location names a listed ONNX node (alone,
// or among a fused op's names) keeps fp32 panels (flag 8: 3 | 8 = 11) under
// precision=bf16; the third, unnamed, is packed in bf16 (3 | 16 = 19).
// KEEP-LABEL: func.func @linear_keep_fp32(
// KEEP:         memref.get_global @kw_packed : memref<3x32x16xf32>
// KEEP:         arith.constant 11 : index
// KEEP:         call @kiln_ukernel_linear_f32(
// KEEP:         memref.get_global @kw_packed : memref<3x32x16xf32>
// KEEP:         arith.constant 11 : index
// KEEP:         call @kiln_ukernel_linear_f32(
// KEEP:         memref.get_global @kw_bf16 : memref<3x16x32xi16>
// KEEP:         arith.constant 19 : index
// KEEP:         call @kiln_ukernel_linear_f32(
memref.global "private" constant @kw : memref<40x32xf32> = dense<1.0>
func.func @linear_keep_fp32(%x: memref<8x32xf32>, %b: memref<40xf32>, %y: memref<8x40xf32>) {
  %w = memref.get_global @kw : memref<40x32xf32>
  kiln.ukernel "linear_f32"(%x, %w, %b) outs(%y) {int_params = array<i64: 2, 3, 0>, float_params = array<f32>} : (memref<8x32xf32>, memref<40x32xf32>, memref<40xf32>, memref<8x40xf32>) -> () loc("keepme")
  kiln.ukernel "linear_f32"(%x, %w, %b) outs(%y) {int_params = array<i64: 2, 3, 0>, float_params = array<f32>} : (memref<8x32xf32>, memref<40x32xf32>, memref<40xf32>, memref<8x40xf32>) -> () loc(fused["/l1/MatMul", "/l1/Add"])
  kiln.ukernel "linear_f32"(%x, %w, %b) outs(%y) {int_params = array<i64: 2, 3, 0>, float_params = array<f32>} : (memref<8x32xf32>, memref<40x32xf32>, memref<40xf32>, memref<8x40xf32>) -> () loc("other")
  return
}

// -----

// linear_f32 with int8 weights and their scales (flag 64, from a model
// that arrives quantized): packed as they are into k-quad panels
// ([1 panel, 8/4 + 2 rows, 64] of i8) with the scales inside; the scales
// operand goes away and flag 32 replaces 64 (2 | 64 | 128 -> 2 | 32 | 128
// = 162), whatever the precision option.
// CHECK-LABEL: func.func @linear_int8_given(
// CHECK-NOT:     memref.get_global @qw :
// CHECK:         %[[P:.*]] = memref.get_global @qw_s8 : memref<1x4x64xi8>
// CHECK:         %[[F:.*]] = arith.constant 162 : index
// CHECK:         call @kiln_ukernel_linear_f32(
// CHECK-NOT:     memref.get_global @qs
// BF16-LABEL: func.func @linear_int8_given(
// BF16:         memref.get_global @qw_s8 : memref<1x4x64xi8>
memref.global "private" constant @qw : memref<8x3xi8> = dense<3>
memref.global "private" constant @qs : memref<3xf32> = dense<0.5>
func.func @linear_int8_given(%x: memref<5x8xf32>, %b: memref<3xf32>, %y: memref<5x3xf32>) {
  %w = memref.get_global @qw : memref<8x3xi8>
  %s = memref.get_global @qs : memref<3xf32>
  kiln.ukernel "linear_f32"(%x, %w, %s, %b) outs(%y) {int_params = array<i64: 2, 194, 0>, float_params = array<f32>} : (memref<5x8xf32>, memref<8x3xi8>, memref<3xf32>, memref<3xf32>, memref<5x3xf32>) -> ()
  return
}

// -----

// conv2d_f32 (isa, flags, activation, stride h/w, pad top/left, dilation
// h/w) with a constant 3 x 3 filter [20, 4, 3, 3]: the filter is packed
// into ceil(20 / 16) = 2 fp32 panels of K = 36 rows x 16 channels for the
// direct kernel; flag 4 joins the flags (1 | 4 = 5) and the kernel's
// height and width follow the nine params. The same for AVX2 (isa 1).
// CHECK-LABEL: func.func @conv_packed(
// CHECK-NOT:     memref.get_global @cw :
// CHECK:         memref.get_global @cw_packed : memref<2x36x16xf32>
// CHECK:         %[[F:.*]] = arith.constant 5 : index
// CHECK:         call @kiln_ukernel_conv2d_f32(
// A 1 x 1 filter over 128 channels with a small output plane (5 x 5) is
// packed too.
// CHECK-LABEL: func.func @conv_packed_1x1(
// CHECK:         memref.get_global @pw128_packed : memref<1x128x16xf32>
// CHECK-LABEL: func.func @conv_packed_avx2(
// CHECK:         memref.get_global @cw_packed : memref<2x36x16xf32>
// CHECK:         call @kiln_ukernel_conv2d_f32(
// For AVX2 with input channels in multiples of 8 the filter's K rows are
// reordered (c / 8, kh, kw, c % 8) into a second packed global and flag 8
// joins (1 | 4 | 8 = 13); the AVX-512 call on the same filter (8 input
// channels, a 16 x 16 output plane) takes Winograd F(2x2, 3x3): U
// [16, 20, 8] and flags 1 | 4 | 64 = 69.
// CHECK-LABEL: func.func @conv_packed_c8(
// CHECK-DAG:     memref.get_global @cw8_packed : memref<2x72x16xf32>
// CHECK-DAG:     memref.get_global @cw8_wino : memref<16x20x8xf32>
// CHECK-DAG:     arith.constant 13 : index
// CHECK-DAG:     arith.constant 69 : index
memref.global "private" constant @cw : memref<20x4x3x3xf32> = dense<1.0>
func.func @conv_packed(%x: memref<?x4x16x16xf32>, %b: memref<20xf32>, %y: memref<?x20x16x16xf32>) {
  %w = memref.get_global @cw : memref<20x4x3x3xf32>
  kiln.ukernel "conv2d_f32"(%x, %w, %b) outs(%y) {int_params = array<i64: 2, 1, 1, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<?x4x16x16xf32>, memref<20x4x3x3xf32>, memref<20xf32>, memref<?x20x16x16xf32>) -> ()
  return
}
memref.global "private" constant @pw128 : memref<8x128x1x1xf32> = dense<1.0>
func.func @conv_packed_1x1(%x: memref<1x128x5x5xf32>, %y: memref<1x8x5x5xf32>) {
  %w = memref.get_global @pw128 : memref<8x128x1x1xf32>
  kiln.ukernel "conv2d_f32"(%x, %w) outs(%y) {int_params = array<i64: 2, 0, 0, 1, 1, 0, 0, 1, 1>, float_params = array<f32>} : (memref<1x128x5x5xf32>, memref<8x128x1x1xf32>, memref<1x8x5x5xf32>) -> ()
  return
}
func.func @conv_packed_avx2(%x: memref<?x4x16x16xf32>, %b: memref<20xf32>, %y: memref<?x20x16x16xf32>) {
  %w = memref.get_global @cw : memref<20x4x3x3xf32>
  kiln.ukernel "conv2d_f32"(%x, %w, %b) outs(%y) {int_params = array<i64: 1, 1, 1, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<?x4x16x16xf32>, memref<20x4x3x3xf32>, memref<20xf32>, memref<?x20x16x16xf32>) -> ()
  return
}
memref.global "private" constant @cw8 : memref<20x8x3x3xf32> = dense<1.0>
func.func @conv_packed_c8(%x: memref<?x8x16x16xf32>, %b: memref<20xf32>, %y: memref<?x20x16x16xf32>) {
  %w = memref.get_global @cw8 : memref<20x8x3x3xf32>
  kiln.ukernel "conv2d_f32"(%x, %w, %b) outs(%y) {int_params = array<i64: 1, 1, 1, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<?x8x16x16xf32>, memref<20x8x3x3xf32>, memref<20xf32>, memref<?x20x16x16xf32>) -> ()
  kiln.ukernel "conv2d_f32"(%x, %w, %b) outs(%y) {int_params = array<i64: 2, 1, 1, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<?x8x16x16xf32>, memref<20x8x3x3xf32>, memref<20xf32>, memref<?x20x16x16xf32>) -> ()
  return
}

// -----

// conv2d_f32 in int8 (flag 256, a QDQ model's convolution): the int8
// filter [20, 3, 3, 3] and its 20 scales (the last operand) become one
// packed 1-D i8 global for the runtime's int8 kernel (conv_s8.h: 3 blocks
// of 8 filters, 3 * 8 * 8 bytes of scales and sums, then 3 * 9 taps * 1
// channel quad * 32 bytes = 1056 bytes); the scales' operand is dropped
// and the kernel's height and width follow the nine params, with the
// flags as they were (1 | 256 = 257).
// CHECK-LABEL: func.func @conv_s8(
// CHECK-NOT:     memref.get_global @cq :
// CHECK-NOT:     memref.get_global @cqs :
// CHECK:         memref.get_global @cq_cs8 : memref<1056xi8>
// CHECK:         arith.constant 257 : index
// CHECK:         call @kiln_ukernel_conv2d_f32(
memref.global "private" constant @cq : memref<20x3x3x3xi8> = dense<3>
memref.global "private" constant @cqs : memref<20xf32> = dense<0.5>
func.func @conv_s8(%x: memref<?x3x16x16xf32>, %b: memref<20xf32>, %y: memref<?x20x16x16xf32>) {
  %w = memref.get_global @cq : memref<20x3x3x3xi8>
  %s = memref.get_global @cqs : memref<20xf32>
  kiln.ukernel "conv2d_f32"(%x, %w, %b, %s) outs(%y) {int_params = array<i64: 2, 257, 1, 1, 1, 1, 1, 1, 1>, float_params = array<f32: 0.05, 3.0>} : (memref<?x3x16x16xf32>, memref<20x3x3x3xi8>, memref<20xf32>, memref<20xf32>, memref<?x20x16x16xf32>) -> ()
  return
}

// -----

// A grouped convolution (flag 128) keeps its filter unpacked: the runtime
// slices it per group (128 | 1 = 129, no flag 4, no kernel extents
// appended).
// CHECK-LABEL: func.func @conv_grouped_unpacked(
// CHECK:         memref.get_global @gw : memref<24x4x3x3xf32>
// CHECK-NOT:     _packed
// CHECK:         arith.constant 129 : index
// CHECK:         call @kiln_ukernel_conv2d_f32(
memref.global "private" constant @gw : memref<24x4x3x3xf32> = dense<0.5>
func.func @conv_grouped_unpacked(%x: memref<?x16x14x14xf32>, %b: memref<24xf32>, %y: memref<?x24x14x14xf32>) {
  %w = memref.get_global @gw : memref<24x4x3x3xf32>
  kiln.ukernel "conv2d_f32"(%x, %w, %b) outs(%y) {int_params = array<i64: 2, 129, 0, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<?x16x14x14xf32>, memref<24x4x3x3xf32>, memref<24xf32>, memref<?x24x14x14xf32>) -> ()
  return
}

// -----

// Groups of a multiple of 16 filters (2 groups of 4 input channels and 16
// filters here), for AVX-512 and AVX2 alike: the filter becomes panels of 16
// filters over K = Cg * KH * KW = 36 ([2, 36, 16]) for the runtime's
// channel-vector tiles, flag 4 joins (129 | 4 = 133) and KH, KW follow the
// params. Not for the portable kernels (isa 0), not with dynamic input channels
// (the group count unknown), not past 64 taps (9 x 9), not on groups of 8.
// CHECK-LABEL: func.func @conv_grouped_packed(
// CHECK:         memref.get_global @gw16_packed : memref<2x36x16xf32>
// CHECK:         arith.constant 133 : index
// CHECK:         call @kiln_ukernel_conv2d_f32(
// CHECK-LABEL: func.func @conv_grouped_not_packed(
// CHECK-NOT:     _packed
// CHECK:         return
// AVX2-LABEL: func.func @conv_grouped_packed(
// AVX2:         memref.get_global @gw16_packed : memref<2x36x16xf32>
// AVX2:         arith.constant 133 : index
memref.global "private" constant @gw16 : memref<32x4x3x3xf32> = dense<0.5>
func.func @conv_grouped_packed(%x: memref<?x8x14x14xf32>, %b: memref<32xf32>, %y: memref<?x32x14x14xf32>) {
  %w = memref.get_global @gw16 : memref<32x4x3x3xf32>
  kiln.ukernel "conv2d_f32"(%x, %w, %b) outs(%y) {int_params = array<i64: 2, 129, 0, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<?x8x14x14xf32>, memref<32x4x3x3xf32>, memref<32xf32>, memref<?x32x14x14xf32>) -> ()
  return
}
memref.global "private" constant @gw81 : memref<32x4x9x9xf32> = dense<0.5>
memref.global "private" constant @gw8 : memref<16x4x3x3xf32> = dense<0.5>
func.func @conv_grouped_not_packed(%xd: memref<?x?x14x14xf32>, %x: memref<?x8x14x14xf32>, %y: memref<?x32x14x14xf32>, %y16: memref<?x16x14x14xf32>) {
  %w = memref.get_global @gw16 : memref<32x4x3x3xf32>
  kiln.ukernel "conv2d_f32"(%xd, %w) outs(%y) {int_params = array<i64: 2, 128, 0, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<?x?x14x14xf32>, memref<32x4x3x3xf32>, memref<?x32x14x14xf32>) -> ()
  %w81 = memref.get_global @gw81 : memref<32x4x9x9xf32>
  kiln.ukernel "conv2d_f32"(%x, %w81) outs(%y) {int_params = array<i64: 2, 128, 0, 1, 1, 4, 4, 1, 1>, float_params = array<f32>} : (memref<?x8x14x14xf32>, memref<32x4x9x9xf32>, memref<?x32x14x14xf32>) -> ()
  %w8 = memref.get_global @gw8 : memref<16x4x3x3xf32>
  kiln.ukernel "conv2d_f32"(%x, %w8) outs(%y16) {int_params = array<i64: 2, 128, 0, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<?x8x14x14xf32>, memref<16x4x3x3xf32>, memref<?x16x14x14xf32>) -> ()
  kiln.ukernel "conv2d_f32"(%x, %w) outs(%y) {int_params = array<i64: 0, 128, 0, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<?x8x14x14xf32>, memref<32x4x3x3xf32>, memref<?x32x14x14xf32>) -> ()
  return
}

// -----

// Winograd F(2x2, 3x3) (AVX-512, 3 x 3, stride 1, dilation 1, 8+ input and
// output channels, an output plane of 14 x 14 or more): the filter becomes
// U = G g G^T, [16, F, C], flags | 4 | 64, kernel height and width
// appended (the direct path's desc), the ReLU (activation 1) kept. Two
// calls on one filter share one U. With winograd=false the direct packing.
// CHECK-LABEL: func.func @conv_wino(
// CHECK-NOT:     memref.get_global @ww :
// CHECK:         memref.get_global @ww_wino : memref<16x24x16xf32>
// CHECK:         %[[F:.*]] = arith.constant 71 : index
// CHECK:         call @kiln_ukernel_conv2d_f32(
// CHECK:         memref.get_global @ww_wino : memref<16x24x16xf32>
// CHECK:         call @kiln_ukernel_conv2d_f32(
// NOWINO-LABEL: func.func @conv_wino(
// NOWINO:         memref.get_global @ww_packed : memref<2x144x16xf32>
// NOWINO-NOT:     _wino
// NOWINO:         return
memref.global "private" constant @ww : memref<24x16x3x3xf32> = dense<0.5>
func.func @conv_wino(%x: memref<?x16x14x14xf32>, %b: memref<24xf32>, %r: memref<?x24x14x14xf32>, %y: memref<?x24x14x14xf32>) {
  %w = memref.get_global @ww : memref<24x16x3x3xf32>
  kiln.ukernel "conv2d_f32"(%x, %w, %b, %r) outs(%y) {int_params = array<i64: 2, 3, 1, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<?x16x14x14xf32>, memref<24x16x3x3xf32>, memref<24xf32>, memref<?x24x14x14xf32>, memref<?x24x14x14xf32>) -> ()
  kiln.ukernel "conv2d_f32"(%x, %w) outs(%y) {int_params = array<i64: 2, 0, 0, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<?x16x14x14xf32>, memref<24x16x3x3xf32>, memref<?x24x14x14xf32>) -> ()
  return
}

// -----

// No Winograd (the direct packing, flag 4 without 64): stride 2, dilation
// 2, a 7 x 7 output plane with 16 input channels, a 6 x 6 one with 256, 4
// input channels, 4 output channels, an input scale (flag 16), an AVX2
// call. (A 7 x 7 plane with 256 input channels does take it, below.)
// CHECK-LABEL: func.func @conv_not_wino(
// CHECK-NOT:     _wino
// CHECK:         return
memref.global "private" constant @nw : memref<24x16x3x3xf32> = dense<0.5>
memref.global "private" constant @nw4 : memref<24x4x3x3xf32> = dense<0.5>
memref.global "private" constant @nwf : memref<4x16x3x3xf32> = dense<0.5>
memref.global "private" constant @nw256 : memref<24x256x3x3xf32> = dense<0.5>
func.func @conv_not_wino(%x: memref<1x16x28x28xf32>, %y2: memref<1x24x14x14xf32>, %y: memref<1x24x28x28xf32>, %yd: memref<1x24x26x26xf32>, %x7: memref<1x16x7x7xf32>, %y7: memref<1x24x7x7xf32>, %x4: memref<1x4x28x28xf32>, %yf: memref<1x4x28x28xf32>, %s: memref<1x16x1x1xf32>, %x6: memref<1x256x6x6xf32>, %y6: memref<1x24x6x6xf32>) {
  %w = memref.get_global @nw : memref<24x16x3x3xf32>
  kiln.ukernel "conv2d_f32"(%x, %w) outs(%y2) {int_params = array<i64: 2, 0, 0, 2, 2, 1, 1, 1, 1>, float_params = array<f32>} : (memref<1x16x28x28xf32>, memref<24x16x3x3xf32>, memref<1x24x14x14xf32>) -> ()
  kiln.ukernel "conv2d_f32"(%x, %w) outs(%yd) {int_params = array<i64: 2, 0, 0, 1, 1, 1, 1, 2, 2>, float_params = array<f32>} : (memref<1x16x28x28xf32>, memref<24x16x3x3xf32>, memref<1x24x26x26xf32>) -> ()
  kiln.ukernel "conv2d_f32"(%x7, %w) outs(%y7) {int_params = array<i64: 2, 0, 0, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<1x16x7x7xf32>, memref<24x16x3x3xf32>, memref<1x24x7x7xf32>) -> ()
  %w4 = memref.get_global @nw4 : memref<24x4x3x3xf32>
  kiln.ukernel "conv2d_f32"(%x4, %w4) outs(%y) {int_params = array<i64: 2, 0, 0, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<1x4x28x28xf32>, memref<24x4x3x3xf32>, memref<1x24x28x28xf32>) -> ()
  %wf = memref.get_global @nwf : memref<4x16x3x3xf32>
  kiln.ukernel "conv2d_f32"(%x, %wf) outs(%yf) {int_params = array<i64: 2, 0, 0, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<1x16x28x28xf32>, memref<4x16x3x3xf32>, memref<1x4x28x28xf32>) -> ()
  kiln.ukernel "conv2d_f32"(%x, %w, %s) outs(%y) {int_params = array<i64: 2, 16, 0, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<1x16x28x28xf32>, memref<24x16x3x3xf32>, memref<1x16x1x1xf32>, memref<1x24x28x28xf32>) -> ()
  kiln.ukernel "conv2d_f32"(%x, %w) outs(%y) {int_params = array<i64: 1, 0, 0, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<1x16x28x28xf32>, memref<24x16x3x3xf32>, memref<1x24x28x28xf32>) -> ()
  %w256 = memref.get_global @nw256 : memref<24x256x3x3xf32>
  kiln.ukernel "conv2d_f32"(%x6, %w256) outs(%y6) {int_params = array<i64: 2, 0, 0, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<1x256x6x6xf32>, memref<24x256x3x3xf32>, memref<1x24x6x6xf32>) -> ()
  return
}
// AVX-512 with a 3 x 3 filter over a multiple of 8 input channels on the
// direct kernel (stride 2; stride 1 on a 7 x 7 plane, where Winograd does
// not run): the channel-blocked K order (flags 4 | 8 = 12) for the gather
// tiles on an NCHW8c copy; a 1 x 1 at stride 2 stays in plain panels, and
// so does the same 3 x 3 filter over 4 channels of another global.
// CHECK-LABEL: func.func @conv_c8_strided(
// CHECK:         memref.get_global @s2w_packed : memref<2x144x16xf32>
// CHECK:         arith.constant 12 : index
// CHECK:         call @kiln_ukernel_conv2d_f32(
// CHECK:         memref.get_global @s2w1_packed : memref<2x16x16xf32>
// CHECK:         call @kiln_ukernel_conv2d_f32(
// CHECK:         memref.get_global @s2w_packed : memref<2x144x16xf32>
// CHECK:         arith.constant 12 : index
// CHECK:         call @kiln_ukernel_conv2d_f32(
// CHECK:         memref.get_global @s2w4_packed : memref<2x36x16xf32>
// CHECK:         arith.constant 4 : index
// CHECK:         call @kiln_ukernel_conv2d_f32(
// CHECK:         return
memref.global "private" constant @s2w : memref<24x16x3x3xf32> = dense<0.5>
memref.global "private" constant @s2w1 : memref<24x16x1x1xf32> = dense<0.5>
memref.global "private" constant @s2w4 : memref<24x4x3x3xf32> = dense<0.5>
func.func @conv_c8_strided(%x: memref<1x16x28x28xf32>, %y2: memref<1x24x14x14xf32>, %y7: memref<1x24x7x7xf32>, %x7: memref<1x16x7x7xf32>, %x4: memref<1x4x7x7xf32>) {
  %w = memref.get_global @s2w : memref<24x16x3x3xf32>
  kiln.ukernel "conv2d_f32"(%x, %w) outs(%y2) {int_params = array<i64: 2, 0, 0, 2, 2, 1, 1, 1, 1>, float_params = array<f32>} : (memref<1x16x28x28xf32>, memref<24x16x3x3xf32>, memref<1x24x14x14xf32>) -> ()
  %w1 = memref.get_global @s2w1 : memref<24x16x1x1xf32>
  kiln.ukernel "conv2d_f32"(%x, %w1) outs(%y2) {int_params = array<i64: 2, 0, 0, 2, 2, 0, 0, 1, 1>, float_params = array<f32>} : (memref<1x16x28x28xf32>, memref<24x16x1x1xf32>, memref<1x24x14x14xf32>) -> ()
  kiln.ukernel "conv2d_f32"(%x7, %w) outs(%y7) {int_params = array<i64: 2, 0, 0, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<1x16x7x7xf32>, memref<24x16x3x3xf32>, memref<1x24x7x7xf32>) -> ()
  %w4 = memref.get_global @s2w4 : memref<24x4x3x3xf32>
  kiln.ukernel "conv2d_f32"(%x4, %w4) outs(%y7) {int_params = array<i64: 2, 0, 0, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<1x4x7x7xf32>, memref<24x4x3x3xf32>, memref<1x24x7x7xf32>) -> ()
  return
}
// A 3-channel 3 x 3 stem (K = 27 values per output) in fp32: flag 16384
// (16385 with the bias), the filter left unpacked for the runtime's
// gathered patches on the pointwise tiles; a 7 x 7 stem (K = 147) keeps the
// direct kernel's packed panels.
// CHECK-LABEL: func.func @conv_stem_im2col(
// CHECK:         memref.get_global @stw : memref<32x3x3x3xf32>
// CHECK:         arith.constant 16385 : index
// CHECK:         call @kiln_ukernel_conv2d_f32(
// CHECK:         memref.get_global @stw7_packed : memref<4x147x16xf32>
// CHECK:         return
memref.global "private" constant @stw : memref<32x3x3x3xf32> = dense<0.5>
memref.global "private" constant @stw7 : memref<64x3x7x7xf32> = dense<0.5>
func.func @conv_stem_im2col(%x: memref<?x3x224x224xf32>, %b: memref<32xf32>, %y: memref<?x32x112x112xf32>, %y7: memref<?x64x112x112xf32>) {
  %w = memref.get_global @stw : memref<32x3x3x3xf32>
  kiln.ukernel "conv2d_f32"(%x, %w, %b) outs(%y) {int_params = array<i64: 2, 1, 1, 2, 2, 1, 1, 1, 1>, float_params = array<f32>} : (memref<?x3x224x224xf32>, memref<32x3x3x3xf32>, memref<32xf32>, memref<?x32x112x112xf32>) -> ()
  %w7 = memref.get_global @stw7 : memref<64x3x7x7xf32>
  kiln.ukernel "conv2d_f32"(%x, %w7) outs(%y7) {int_params = array<i64: 2, 0, 1, 2, 2, 3, 3, 1, 1>, float_params = array<f32>} : (memref<?x3x224x224xf32>, memref<64x3x7x7xf32>, memref<?x64x112x112xf32>) -> ()
  return
}
// CHECK-LABEL: func.func @conv_wino_7x7(
// CHECK:         memref.get_global @w256_wino : memref<16x24x256xf32>
memref.global "private" constant @w256 : memref<24x256x3x3xf32> = dense<0.5>
func.func @conv_wino_7x7(%x: memref<1x256x7x7xf32>, %y: memref<1x24x7x7xf32>) {
  %w = memref.get_global @w256 : memref<24x256x3x3xf32>
  kiln.ukernel "conv2d_f32"(%x, %w) outs(%y) {int_params = array<i64: 2, 0, 0, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<1x256x7x7xf32>, memref<24x256x3x3xf32>, memref<1x24x7x7xf32>) -> ()
  return
}

// -----

// Convolutions by taps (flag 32768 with 4): stride 1, 16+ input channels,
// taps that mostly read zero padding (here 3 x 3 at dilation 4 with pads 4
// on a 9 x 9 map: (5 + 9 + 5) / 27 of each dim inside, 49% of the
// products) and a tap inside the input at every output. The filter
// becomes [taps, F, C]; KH and KW are appended; bias and ReLU stay in the
// flags and activation (1 | 4 | 32768 = 32773). AVX2 takes it too.
// CHECK-LABEL: func.func @conv_taps(
// CHECK:         memref.get_global @tw_taps : memref<9x24x32xf32>
// CHECK:         arith.constant 32773 : index
// CHECK:         call @kiln_ukernel_conv2d_f32(
// AVX2-LABEL: func.func @conv_taps(
// AVX2:         memref.get_global @tw_taps : memref<9x24x32xf32>
// AVX2:         arith.constant 32773 : index
memref.global "private" constant @tw : memref<24x32x3x3xf32> = dense<0.5>
func.func @conv_taps(%x: memref<?x32x9x9xf32>, %b: memref<24xf32>, %y: memref<?x24x9x9xf32>) {
  %w = memref.get_global @tw : memref<24x32x3x3xf32>
  kiln.ukernel "conv2d_f32"(%x, %w, %b) outs(%y) {int_params = array<i64: 2, 1, 1, 1, 1, 4, 4, 4, 4>, float_params = array<f32>} : (memref<?x32x9x9xf32>, memref<24x32x3x3xf32>, memref<24xf32>, memref<?x24x9x9xf32>) -> ()
  return
}
// Not by taps: dilation 2 on 28 x 28 (93% of the products inside), taps
// mostly outside but none inside at every output (pad top 10 on 9 rows:
// 11 output rows), 8 input channels, stride 2, undilated 3 x 3 on 4 x 4
// (69% inside).
// CHECK-LABEL: func.func @conv_not_taps(
// CHECK-NOT:     get_global @{{.*}}_taps
// CHECK:         return
memref.global "private" constant @ntw : memref<24x32x3x3xf32> = dense<0.5>
memref.global "private" constant @ntw8 : memref<24x8x3x3xf32> = dense<0.5>
func.func @conv_not_taps(%x28: memref<1x32x28x28xf32>, %y28: memref<1x24x28x28xf32>, %x: memref<1x32x9x9xf32>, %y11: memref<1x24x11x9xf32>, %x8: memref<1x8x9x9xf32>, %y: memref<1x24x9x9xf32>, %y5: memref<1x24x5x5xf32>, %x4: memref<1x32x4x4xf32>, %y4: memref<1x24x4x4xf32>) {
  %w = memref.get_global @ntw : memref<24x32x3x3xf32>
  kiln.ukernel "conv2d_f32"(%x28, %w) outs(%y28) {int_params = array<i64: 2, 0, 0, 1, 1, 2, 2, 2, 2>, float_params = array<f32>} : (memref<1x32x28x28xf32>, memref<24x32x3x3xf32>, memref<1x24x28x28xf32>) -> ()
  kiln.ukernel "conv2d_f32"(%x, %w) outs(%y11) {int_params = array<i64: 2, 0, 0, 1, 1, 10, 4, 4, 4>, float_params = array<f32>} : (memref<1x32x9x9xf32>, memref<24x32x3x3xf32>, memref<1x24x11x9xf32>) -> ()
  %w8 = memref.get_global @ntw8 : memref<24x8x3x3xf32>
  kiln.ukernel "conv2d_f32"(%x8, %w8) outs(%y) {int_params = array<i64: 2, 0, 0, 1, 1, 4, 4, 4, 4>, float_params = array<f32>} : (memref<1x8x9x9xf32>, memref<24x8x3x3xf32>, memref<1x24x9x9xf32>) -> ()
  kiln.ukernel "conv2d_f32"(%x, %w) outs(%y5) {int_params = array<i64: 2, 0, 0, 2, 2, 4, 4, 4, 4>, float_params = array<f32>} : (memref<1x32x9x9xf32>, memref<24x32x3x3xf32>, memref<1x24x5x5xf32>) -> ()
  kiln.ukernel "conv2d_f32"(%x4, %w) outs(%y4) {int_params = array<i64: 2, 0, 0, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (memref<1x32x4x4xf32>, memref<24x32x3x3xf32>, memref<1x24x4x4xf32>) -> ()
  return
}

// -----

// Not packed (the patch GEMM or the pointwise kernel runs them): a 1 x 1
// filter over fewer than 128 channels, also on a 5 x 5 output plane, one
// over 64 channels on a 16 x 16 output plane at stride 1 or 2 (AVX2), a
// call for the generic C kernels (isa 0), a filter that is not a
// constant.
// CHECK-LABEL: func.func @conv_not_packed(
// CHECK-NOT:     _packed
// CHECK:         return
memref.global "private" constant @pw : memref<8x4x1x1xf32> = dense<1.0>
memref.global "private" constant @pw64 : memref<8x64x1x1xf32> = dense<1.0>
memref.global "private" constant @sw3 : memref<8x4x3x3xf32> = dense<1.0>
func.func @conv_not_packed(%x: memref<1x4x9x9xf32>, %y1: memref<1x8x9x9xf32>, %y3: memref<1x8x7x3xf32>, %yw: memref<1x8x7x7xf32>, %wa: memref<8x4x3x3xf32>, %xb: memref<1x64x16x16xf32>, %yb: memref<1x8x16x16xf32>, %xs: memref<1x64x32x32xf32>) {
  %pb = memref.get_global @pw64 : memref<8x64x1x1xf32>
  kiln.ukernel "conv2d_f32"(%xs, %pb) outs(%yb) {int_params = array<i64: 1, 0, 0, 2, 2, 0, 0, 1, 1>, float_params = array<f32>} : (memref<1x64x32x32xf32>, memref<8x64x1x1xf32>, memref<1x8x16x16xf32>) -> ()
  kiln.ukernel "conv2d_f32"(%xb, %pb) outs(%yb) {int_params = array<i64: 2, 0, 0, 1, 1, 0, 0, 1, 1>, float_params = array<f32>} : (memref<1x64x16x16xf32>, memref<8x64x1x1xf32>, memref<1x8x16x16xf32>) -> ()
  %x5 = memref.alloc() : memref<1x64x5x5xf32>
  %y5 = memref.alloc() : memref<1x8x5x5xf32>
  kiln.ukernel "conv2d_f32"(%x5, %pb) outs(%y5) {int_params = array<i64: 1, 0, 0, 1, 1, 0, 0, 1, 1>, float_params = array<f32>} : (memref<1x64x5x5xf32>, memref<8x64x1x1xf32>, memref<1x8x5x5xf32>) -> ()
  %p = memref.get_global @pw : memref<8x4x1x1xf32>
  kiln.ukernel "conv2d_f32"(%x, %p) outs(%y1) {int_params = array<i64: 2, 0, 0, 1, 1, 0, 0, 1, 1>, float_params = array<f32>} : (memref<1x4x9x9xf32>, memref<8x4x1x1xf32>, memref<1x8x9x9xf32>) -> ()
  %s = memref.get_global @sw3 : memref<8x4x3x3xf32>
  kiln.ukernel "conv2d_f32"(%x, %s) outs(%yw) {int_params = array<i64: 0, 0, 0, 1, 1, 0, 0, 1, 1>, float_params = array<f32>} : (memref<1x4x9x9xf32>, memref<8x4x3x3xf32>, memref<1x8x7x7xf32>) -> ()
  kiln.ukernel "conv2d_f32"(%x, %wa) outs(%yw) {int_params = array<i64: 2, 0, 0, 1, 1, 0, 0, 1, 1>, float_params = array<f32>} : (memref<1x4x9x9xf32>, memref<8x4x3x3xf32>, memref<1x8x7x7xf32>) -> ()
  return
}

// -----

// Column strides past 2 are packed too: the runtime's direct kernel runs
// them on its gather tiles (AlexNet's 11 x 11 / 4 stem, the 4 x 4 / 4 and
// 16 x 16 / 16 patch embeddings of Swin, ConvNeXt and ViT), for AVX-512
// and AVX2.
// CHECK-LABEL: func.func @conv_wide_strides(
// The desc: isa, flags (4: packed), activation, stride h, w, pads,
// dilations, then the kernel's height and width appended.
// CHECK:         memref.get_global @sw3s_packed : memref<1x36x16xf32>
// CHECK-NEXT:    %[[ISA:.*]] = arith.constant 2 : index
// CHECK-NEXT:    %[[FL:.*]] = arith.constant 4 : index
// CHECK-NEXT:    %[[ACT:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %[[SH:.*]] = arith.constant 1 : index
// CHECK-NEXT:    %[[SW:.*]] = arith.constant 3 : index
// CHECK:         memref.store %[[FL]], %{{.*}}[%c1_{{[0-9]+}}] : memref<39xindex>
// CHECK:         memref.store %[[SW]], %{{.*}}[%c4_{{[0-9]+}}] : memref<39xindex>
// CHECK:         call @kiln_ukernel_conv2d_f32(
// CHECK:         memref.get_global @alex_packed : memref<4x363x16xf32>
// CHECK-NEXT:    arith.constant 1 : index
// CHECK-NEXT:    arith.constant 4 : index
// CHECK-NEXT:    arith.constant 0 : index
// CHECK-NEXT:    arith.constant 4 : index
// CHECK-NEXT:    arith.constant 4 : index
// CHECK:         call @kiln_ukernel_conv2d_f32(
memref.global "private" constant @sw3s : memref<8x4x3x3xf32> = dense<1.0>
memref.global "private" constant @alex : memref<64x3x11x11xf32> = dense<1.0>
func.func @conv_wide_strides(%x: memref<1x4x9x9xf32>, %y3: memref<1x8x7x3xf32>, %xa: memref<1x3x224x224xf32>, %ya: memref<1x64x55x55xf32>) {
  %s = memref.get_global @sw3s : memref<8x4x3x3xf32>
  kiln.ukernel "conv2d_f32"(%x, %s) outs(%y3) {int_params = array<i64: 2, 0, 0, 1, 3, 0, 0, 1, 1>, float_params = array<f32>} : (memref<1x4x9x9xf32>, memref<8x4x3x3xf32>, memref<1x8x7x3xf32>) -> ()
  %a = memref.get_global @alex : memref<64x3x11x11xf32>
  kiln.ukernel "conv2d_f32"(%xa, %a) outs(%ya) {int_params = array<i64: 1, 0, 0, 4, 4, 2, 2, 1, 1>, float_params = array<f32>} : (memref<1x3x224x224xf32>, memref<64x3x11x11xf32>, memref<1x64x55x55xf32>) -> ()
  return
}

// -----

// A strided 1 x 1 filter (ResNet's downsample branch) called for AVX-512 is
// packed for the direct kernel whatever its channel count; the same call
// for AVX2 (@conv_not_packed) is not.
// CHECK-LABEL: func.func @conv_strided_pointwise_avx512(
// CHECK:         %[[P:.*]] = memref.get_global @pw64s2_packed : memref<1x64x16xf32>
// CHECK:         memref.extract_strided_metadata %[[P]]
// CHECK:         call @kiln_ukernel_conv2d_f32(
memref.global "private" constant @pw64s2 : memref<8x64x1x1xf32> = dense<1.0>
func.func @conv_strided_pointwise_avx512(%xs: memref<1x64x32x32xf32>, %yb: memref<1x8x16x16xf32>) {
  %pb = memref.get_global @pw64s2 : memref<8x64x1x1xf32>
  kiln.ukernel "conv2d_f32"(%xs, %pb) outs(%yb) {int_params = array<i64: 2, 0, 0, 2, 2, 0, 0, 1, 1>, float_params = array<f32>} : (memref<1x64x32x32xf32>, memref<8x64x1x1xf32>, memref<1x8x16x16xf32>) -> ()
  return
}

// -----

// A 1 x 1 filter on 1 x 1 input and output planes (a squeeze-excite FC
// layer) is packed whatever its channel count: the runtime runs it as a
// GEMM over the batch. The same filter on a 2 x 2 plane is not.
// CHECK-LABEL: func.func @conv_one_pixel_packed(
// CHECK:         %[[P:.*]] = memref.get_global @se_packed : memref<1x4x16xf32>
// CHECK:         memref.extract_strided_metadata %[[P]]
// CHECK:         call @kiln_ukernel_conv2d_f32(
// CHECK-NOT:     _packed
// CHECK:         return
memref.global "private" constant @se : memref<8x4x1x1xf32> = dense<1.0>
func.func @conv_one_pixel_packed(%x: memref<?x4x1x1xf32>, %y: memref<?x8x1x1xf32>, %x2: memref<1x4x2x2xf32>, %y2: memref<1x8x2x2xf32>) {
  %w = memref.get_global @se : memref<8x4x1x1xf32>
  kiln.ukernel "conv2d_f32"(%x, %w) outs(%y) {int_params = array<i64: 1, 0, 0, 1, 1, 0, 0, 1, 1>, float_params = array<f32>} : (memref<?x4x1x1xf32>, memref<8x4x1x1xf32>, memref<?x8x1x1xf32>) -> ()
  kiln.ukernel "conv2d_f32"(%x2, %w) outs(%y2) {int_params = array<i64: 1, 0, 0, 1, 1, 0, 0, 1, 1>, float_params = array<f32>} : (memref<1x4x2x2xf32>, memref<8x4x1x1xf32>, memref<1x8x2x2xf32>) -> ()
  return
}

// -----

// exact-fp16 must not fire on a weight with a value fp16 cannot hold (0.1),
// nor for the generic kernels (isa=generic has no fp16 panels).
// EXACT-LABEL: func.func @not_exact(
// EXACT:         memref.get_global @wx_packed : memref<1x4x16xf32>
// EXACT:         call @kiln_ukernel_sgemm_packed(
// EXACT-LABEL: func.func @exact_generic(
// GENERIC-LABEL: func.func @exact_generic(
// GENERIC:         call @kiln_ukernel_sgemm_packed(
memref.global "private" constant @wx : memref<4x8xf32> = dense<[[1.0, 0.1, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]>
func.func @not_exact(%a: memref<?x4xf32>, %c: memref<?x8xf32>) {
  %w = memref.get_global @wx : memref<4x8xf32>
  linalg.matmul ins(%a, %w : memref<?x4xf32>, memref<4x8xf32>) outs(%c : memref<?x8xf32>)
  return
}
memref.global "private" constant @wg : memref<4x8xf32> = dense<2.0>
func.func @exact_generic(%a: memref<?x4xf32>, %c: memref<?x8xf32>) {
  %w = memref.get_global @wg : memref<4x8xf32>
  linalg.matmul ins(%a, %w : memref<?x4xf32>, memref<4x8xf32>) outs(%c : memref<?x8xf32>)
  return
}
