// RUN: kiln-opt %s --split-input-file --kiln-outputs-in-place | FileCheck %s

// An output allocated in @main's body and only used before its output call:
// allocated by the runtime in the output's own buffer, its dealloc removed.
func.func private @kiln_rt_output_f32(!llvm.ptr, i64, memref<*xf32> {bufferization.access = "read"}) attributes {llvm.emit_c_interface}
func.func @main(%x: memref<?x8xf32>, %ctx: !llvm.ptr) attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %i0 = arith.constant 0 : i64
  %n = memref.dim %x, %c0 : memref<?x8xf32>
  %a = memref.alloc(%n) {alignment = 64 : i64} : memref<?x8xf32>
  memref.copy %x, %a : memref<?x8xf32> to memref<?x8xf32>
  %u = memref.cast %a : memref<?x8xf32> to memref<*xf32>
  call @kiln_rt_output_f32(%ctx, %i0, %u) : (!llvm.ptr, i64, memref<*xf32>) -> ()
  memref.dealloc %a : memref<?x8xf32>
  return
}
// CHECK: func.func private @kiln_rt_output_buffer_f32_r2(!llvm.ptr, i64, index, index) -> memref<?x?xf32> attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @main
// CHECK: %[[N:.*]] = memref.dim
// CHECK-NOT: memref.alloc
// CHECK: %[[B:.*]] = call @kiln_rt_output_buffer_f32_r2(%arg1, %{{.*}}, %[[N]], %{{.*}}) : (!llvm.ptr, i64, index, index) -> memref<?x?xf32>
// CHECK: %[[V:.*]] = memref.cast %[[B]] : memref<?x?xf32> to memref<?x8xf32>
// CHECK: memref.copy %arg0, %[[V]]
// CHECK: call @kiln_rt_output_f32
// CHECK-NOT: memref.dealloc
// CHECK: return

// -----

// Not in place: the output is an input (no alloc), a buffer read after its
// output call, a buffer returned twice, a buffer allocated in a branch.
func.func private @kiln_rt_output_f32(!llvm.ptr, i64, memref<*xf32> {bufferization.access = "read"}) attributes {llvm.emit_c_interface}
func.func @main(%x: memref<4xf32>, %c: i1, %ctx: !llvm.ptr) attributes {llvm.emit_c_interface} {
  %i0 = arith.constant 0 : i64
  %i1 = arith.constant 1 : i64
  %i2 = arith.constant 2 : i64
  %i3 = arith.constant 3 : i64
  %i4 = arith.constant 4 : i64
  %ux = memref.cast %x : memref<4xf32> to memref<*xf32>
  call @kiln_rt_output_f32(%ctx, %i0, %ux) : (!llvm.ptr, i64, memref<*xf32>) -> ()
  %late = memref.alloc() : memref<4xf32>
  memref.copy %x, %late : memref<4xf32> to memref<4xf32>
  %ul = memref.cast %late : memref<4xf32> to memref<*xf32>
  call @kiln_rt_output_f32(%ctx, %i1, %ul) : (!llvm.ptr, i64, memref<*xf32>) -> ()
  memref.copy %late, %x : memref<4xf32> to memref<4xf32>
  %twice = memref.alloc() : memref<4xf32>
  %ut = memref.cast %twice : memref<4xf32> to memref<*xf32>
  call @kiln_rt_output_f32(%ctx, %i2, %ut) : (!llvm.ptr, i64, memref<*xf32>) -> ()
  call @kiln_rt_output_f32(%ctx, %i3, %ut) : (!llvm.ptr, i64, memref<*xf32>) -> ()
  %br = scf.if %c -> memref<4xf32> {
    %in = memref.alloc() : memref<4xf32>
    scf.yield %in : memref<4xf32>
  } else {
    scf.yield %x : memref<4xf32>
  }
  %ub = memref.cast %br : memref<4xf32> to memref<*xf32>
  call @kiln_rt_output_f32(%ctx, %i4, %ub) : (!llvm.ptr, i64, memref<*xf32>) -> ()
  memref.dealloc %late : memref<4xf32>
  memref.dealloc %twice : memref<4xf32>
  return
}
// CHECK-LABEL: func.func @main
// CHECK-NOT: kiln_rt_output_buffer
// CHECK: memref.dealloc
// CHECK: memref.dealloc

// -----

// A view of the buffer read after the output call: not in place.
func.func private @kiln_rt_output_f32(!llvm.ptr, i64, memref<*xf32> {bufferization.access = "read"}) attributes {llvm.emit_c_interface}
func.func @main(%x: memref<8xf32>, %ctx: !llvm.ptr) attributes {llvm.emit_c_interface} {
  %i0 = arith.constant 0 : i64
  %a = memref.alloc() : memref<8xf32>
  %s = memref.subview %a[0] [4] [1] : memref<8xf32> to memref<4xf32, strided<[1]>>
  %u = memref.cast %a : memref<8xf32> to memref<*xf32>
  call @kiln_rt_output_f32(%ctx, %i0, %u) : (!llvm.ptr, i64, memref<*xf32>) -> ()
  %xs = memref.subview %x[0] [4] [1] : memref<8xf32> to memref<4xf32, strided<[1]>>
  memref.copy %s, %xs : memref<4xf32, strided<[1]>> to memref<4xf32, strided<[1]>>
  memref.dealloc %a : memref<8xf32>
  return
}
// CHECK-LABEL: func.func @main
// CHECK-NOT: kiln_rt_output_buffer
// CHECK: memref.alloc

// -----

// A batch head's outputs are placed too: @kiln_head's output 0 is computed
// in the caller's buffer, like @main's (whose one result is then the
// head's input, output -1).
func.func private @kiln_rt_output_f32(!llvm.ptr, i64, memref<*xf32> {bufferization.access = "read"}) attributes {llvm.emit_c_interface}
func.func @main(%x: memref<?x8xf32>, %ctx: !llvm.ptr) attributes {llvm.emit_c_interface} {
  %im = arith.constant -1 : i64
  %u = memref.cast %x : memref<?x8xf32> to memref<*xf32>
  call @kiln_rt_output_f32(%ctx, %im, %u) : (!llvm.ptr, i64, memref<*xf32>) -> ()
  return
}
func.func @kiln_head(%x: memref<?x8xf32>, %ctx: !llvm.ptr) attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %i0 = arith.constant 0 : i64
  %n = memref.dim %x, %c0 : memref<?x8xf32>
  %a = memref.alloc(%n) {alignment = 64 : i64} : memref<?x8xf32>
  memref.copy %x, %a : memref<?x8xf32> to memref<?x8xf32>
  %u = memref.cast %a : memref<?x8xf32> to memref<*xf32>
  call @kiln_rt_output_f32(%ctx, %i0, %u) : (!llvm.ptr, i64, memref<*xf32>) -> ()
  memref.dealloc %a : memref<?x8xf32>
  return
}
// CHECK-LABEL: func.func @kiln_head
// CHECK-NOT: memref.alloc
// CHECK: call @kiln_rt_output_buffer_f32_r2(%arg1, %{{.*}}, %{{.*}}, %{{.*}}) : (!llvm.ptr, i64, index, index) -> memref<?x?xf32>
// CHECK: call @kiln_rt_output_f32
// CHECK-NOT: memref.dealloc
// CHECK: return

// -----

// An LM head's logits: the [M, V] buffer reshaped to the output's
// [B, S, V]. The buffer is asked for in its own shape (as many bytes); the
// output call then finds the reshape of it in place.
func.func private @kiln_rt_output_f32(!llvm.ptr, i64, memref<*xf32> {bufferization.access = "read"}) attributes {llvm.emit_c_interface}
func.func @main(%x: memref<?x8xf32>, %b: index, %s: index, %ctx: !llvm.ptr) attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %i0 = arith.constant 0 : i64
  %n = memref.dim %x, %c0 : memref<?x8xf32>
  %a = memref.alloc(%n) {alignment = 64 : i64} : memref<?x8xf32>
  memref.copy %x, %a : memref<?x8xf32> to memref<?x8xf32>
  %e = memref.expand_shape %a [[0, 1], [2]] output_shape [%b, %s, 8] : memref<?x8xf32> into memref<?x?x8xf32>
  %u = memref.cast %e : memref<?x?x8xf32> to memref<*xf32>
  call @kiln_rt_output_f32(%ctx, %i0, %u) : (!llvm.ptr, i64, memref<*xf32>) -> ()
  memref.dealloc %a : memref<?x8xf32>
  return
}
// CHECK-LABEL: func.func @main
// CHECK: %[[N:.*]] = memref.dim
// CHECK-NOT: memref.alloc
// CHECK: %[[B:.*]] = call @kiln_rt_output_buffer_f32_r2(%arg3, %{{.*}}, %[[N]], %{{.*}}) : (!llvm.ptr, i64, index, index) -> memref<?x?xf32>
// CHECK: %[[V:.*]] = memref.cast %[[B]] : memref<?x?xf32> to memref<?x8xf32>
// CHECK: memref.copy %arg0, %[[V]]
// CHECK: memref.expand_shape %[[V]]
// CHECK: call @kiln_rt_output_f32
// CHECK-NOT: memref.dealloc
// CHECK: return

// -----

// The same in a module whose runs are split into images (kiln.batch_split):
// each image asks for its output with a batch dim of 1, which the reshaped
// buffer does not have, so it keeps its copy.
module attributes {kiln.batch_split = {}} {
func.func private @kiln_rt_output_f32(!llvm.ptr, i64, memref<*xf32> {bufferization.access = "read"}) attributes {llvm.emit_c_interface}
func.func @main(%x: memref<?x8xf32>, %b: index, %s: index, %ctx: !llvm.ptr) attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %i0 = arith.constant 0 : i64
  %n = memref.dim %x, %c0 : memref<?x8xf32>
  %a = memref.alloc(%n) {alignment = 64 : i64} : memref<?x8xf32>
  memref.copy %x, %a : memref<?x8xf32> to memref<?x8xf32>
  %e = memref.expand_shape %a [[0, 1], [2]] output_shape [%b, %s, 8] : memref<?x8xf32> into memref<?x?x8xf32>
  %u = memref.cast %e : memref<?x?x8xf32> to memref<*xf32>
  call @kiln_rt_output_f32(%ctx, %i0, %u) : (!llvm.ptr, i64, memref<*xf32>) -> ()
  memref.dealloc %a : memref<?x8xf32>
  return
}
}
// CHECK-LABEL: func.func @main
// CHECK-NOT: kiln_rt_output_buffer
// CHECK: memref.alloc
// CHECK: call @kiln_rt_output_f32
// CHECK: memref.dealloc
