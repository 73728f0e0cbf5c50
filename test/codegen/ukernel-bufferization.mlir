// RUN: kiln-opt %s -split-input-file --one-shot-bufferize="bufferize-function-boundaries" | FileCheck %s
// RUN: kiln-opt %s -split-input-file --one-shot-bufferize="bufferize-function-boundaries" -kiln-cpu-ukernels | FileCheck %s --check-prefix=CALL

// kiln.ukernel bufferizes like a destination-passing linalg op: the
// tensor.empty init becomes a fresh buffer, the op is recreated on buffers
// with the same kernel and parameters and no result, and the result is that
// buffer.
// CHECK-LABEL: func.func @attention(
// CHECK-SAME:    %[[Q:[^:]*]]: memref<2x4x8x16xf32, {{.*}}>, %[[K:[^:]*]]: memref<2x4x8x16xf32, {{.*}}>, %[[V:[^:]*]]: memref<2x4x8x16xf32, {{.*}}>)
// CHECK-NOT:     tensor.empty
// CHECK:         %[[ALLOC:.*]] = memref.alloc() {{.*}}: memref<2x4x8x16xf32>
// CHECK-NOT:     memref.copy
// CHECK:         kiln.ukernel "attention_f32"(%[[Q]], %[[K]], %[[V]]) outs(%[[ALLOC]]) {float_params = array<f32: 2.500000e-01, 0.000000e+00>, int_params = array<i64: 2, 0, 0, 4>} : ({{.*}}, memref<2x4x8x16xf32>) -> (){{$}}
// CHECK-NOT:     memref.copy
// CHECK:         return %[[ALLOC]] : memref<2x4x8x16xf32>
// Then kiln-cpu-ukernels turns it into the runtime call.
// CALL-LABEL: func.func @attention(
// CALL:         %[[ALLOC:.*]] = memref.alloc() {{.*}}: memref<2x4x8x16xf32>
// CALL:         memref.extract_strided_metadata %[[ALLOC]]
// CALL:         call @kiln_ukernel_attention_f32(%{{.*}}, %{{.*}}) : (index, index) -> ()
// CALL-NOT:     kiln.ukernel
// CALL:         return %[[ALLOC]]
func.func @attention(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %e = tensor.empty() : tensor<2x4x8x16xf32>
  %0 = kiln.ukernel "attention_f32"(%q, %k, %v) outs(%e) {int_params = array<i64: 2, 0, 0, 4>, float_params = array<f32: 0.25, 0.0>} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

// Dynamic extents and a boolean mask input: the buffer is allocated with
// the empty tensor's sizes.
// CHECK-LABEL: func.func @dynamic(
// CHECK-SAME:    %[[Q:[^:]*]]: memref<?x?x16xf32, {{.*}}>, %[[M:[^:]*]]: memref<?x?xi1, {{.*}}>)
// CHECK:         %[[D0:.*]] = memref.dim %[[Q]]
// CHECK:         %[[D1:.*]] = memref.dim %[[Q]]
// CHECK:         %[[ALLOC:.*]] = memref.alloc(%[[D0]], %[[D1]]) {{.*}}: memref<?x?x16xf32>
// CHECK:         kiln.ukernel "attention_f32"(%[[Q]], %[[Q]], %[[Q]], %[[M]]) outs(%[[ALLOC]]) {{.*}} -> (){{$}}
// CHECK:         return %[[ALLOC]] : memref<?x?x16xf32>
func.func @dynamic(%q: tensor<?x?x16xf32>, %m: tensor<?x?xi1>) -> tensor<?x?x16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d0 = tensor.dim %q, %c0 : tensor<?x?x16xf32>
  %d1 = tensor.dim %q, %c1 : tensor<?x?x16xf32>
  %e = tensor.empty(%d0, %d1) : tensor<?x?x16xf32>
  %0 = kiln.ukernel "attention_f32"(%q, %q, %q, %m) outs(%e) {int_params = array<i64: 2, 3, 2, 3>, float_params = array<f32: 0.25, 0.0>} : (tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?xi1>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  return %0 : tensor<?x?x16xf32>
}

// -----

// An init that is a writable function argument read by nothing else is
// written in place.
// CHECK-LABEL: func.func @in_place(
// CHECK-SAME:    %[[Q:[^:]*]]: memref<8x8x16xf32, {{.*}}>, %[[O:[^:]*]]: memref<8x8x16xf32, {{.*}}>)
// CHECK-NOT:     memref.alloc
// CHECK:         kiln.ukernel "attention_f32"(%[[Q]], %[[Q]], %[[Q]]) outs(%[[O]])
// CHECK:         return %[[O]]
func.func @in_place(%q: tensor<8x8x16xf32>, %o: tensor<8x8x16xf32>) -> tensor<8x8x16xf32> {
  %0 = kiln.ukernel "attention_f32"(%q, %q, %q) outs(%o) {int_params = array<i64: 2, 0, 0, 3>, float_params = array<f32: 0.25, 0.0>} : (tensor<8x8x16xf32>, tensor<8x8x16xf32>, tensor<8x8x16xf32>, tensor<8x8x16xf32>) -> tensor<8x8x16xf32>
  return %0 : tensor<8x8x16xf32>
}

// -----

// Negative for in-place: the init is also read later (returned), so the
// kernel writes a new buffer. The init is not read by the kernel, so its
// old contents are not copied into the new buffer.
// CHECK-LABEL: func.func @init_still_read(
// CHECK-SAME:    %[[Q:[^:]*]]: memref<8x8x16xf32, {{.*}}>, %[[O:[^:]*]]: memref<8x8x16xf32, {{.*}}>)
// CHECK:         %[[ALLOC:.*]] = memref.alloc() {{.*}}: memref<8x8x16xf32>
// CHECK-NOT:     memref.copy
// CHECK:         kiln.ukernel "attention_f32"(%[[Q]], %[[Q]], %[[Q]]) outs(%[[ALLOC]])
// CHECK-NOT:     memref.copy
// CHECK:         return %[[ALLOC]], %[[O]]
func.func @init_still_read(%q: tensor<8x8x16xf32>, %o: tensor<8x8x16xf32>) -> (tensor<8x8x16xf32>, tensor<8x8x16xf32>) {
  %0 = kiln.ukernel "attention_f32"(%q, %q, %q) outs(%o) {int_params = array<i64: 2, 0, 0, 3>, float_params = array<f32: 0.25, 0.0>} : (tensor<8x8x16xf32>, tensor<8x8x16xf32>, tensor<8x8x16xf32>, tensor<8x8x16xf32>) -> tensor<8x8x16xf32>
  return %0, %o : tensor<8x8x16xf32>, tensor<8x8x16xf32>
}

// -----

// Negative for in-place: the init is also an input; the kernel reads its
// inputs while it writes, so it writes a new buffer.
// CHECK-LABEL: func.func @init_is_input(
// CHECK-SAME:    %[[Q:[^:]*]]: memref<8x8x16xf32, {{.*}}>)
// CHECK:         %[[ALLOC:.*]] = memref.alloc() {{.*}}: memref<8x8x16xf32>
// CHECK:         kiln.ukernel "attention_f32"(%[[Q]], %[[Q]], %[[Q]]) outs(%[[ALLOC]])
// CHECK:         return %[[ALLOC]]
func.func @init_is_input(%q: tensor<8x8x16xf32>) -> tensor<8x8x16xf32> {
  %0 = kiln.ukernel "attention_f32"(%q, %q, %q) outs(%q) {int_params = array<i64: 2, 0, 0, 3>, float_params = array<f32: 0.25, 0.0>} : (tensor<8x8x16xf32>, tensor<8x8x16xf32>, tensor<8x8x16xf32>, tensor<8x8x16xf32>) -> tensor<8x8x16xf32>
  return %0 : tensor<8x8x16xf32>
}

// -----

// A convolution's residual given as its init too (kiln-cpu-select-ukernels
// does so): the kernel reads each residual element before it stores that
// output element, so where nothing reads the residual later the output is
// written over it. %r is made by a kernel, read by another one first, then
// by the convolution: one buffer for both, no copy.
// CHECK-LABEL: func.func @conv_residual_in_place(
// CHECK-SAME:    %[[X:[^:]*]]: memref<1x4x6x6xf32, {{.*}}>, %[[W:[^:]*]]: memref<4x4x1x1xf32, {{.*}}>)
// CHECK:         %[[R:.*]] = memref.alloc() {{.*}}: memref<1x4x6x6xf32>
// CHECK:         kiln.ukernel "conv2d_f32"(%[[X]], %[[W]]) outs(%[[R]])
// CHECK:         %[[T:.*]] = memref.alloc() {{.*}}: memref<1x4x6x6xf32>
// CHECK:         kiln.ukernel "conv2d_f32"(%[[R]], %[[W]]) outs(%[[T]])
// CHECK-NOT:     memref.alloc
// CHECK-NOT:     memref.copy
// CHECK:         kiln.ukernel "conv2d_f32"(%[[T]], %[[W]], %[[R]]) outs(%[[R]]) {{.*}}int_params = array<i64: 2, 2, 1,
// CHECK:         return %[[R]]
func.func @conv_residual_in_place(%x: tensor<1x4x6x6xf32>, %w: tensor<4x4x1x1xf32>) -> tensor<1x4x6x6xf32> {
  %e0 = tensor.empty() : tensor<1x4x6x6xf32>
  %r = kiln.ukernel "conv2d_f32"(%x, %w) outs(%e0) {int_params = array<i64: 2, 0, 1, 1, 1, 0, 0, 1, 1>, float_params = array<f32>} : (tensor<1x4x6x6xf32>, tensor<4x4x1x1xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %e1 = tensor.empty() : tensor<1x4x6x6xf32>
  %t = kiln.ukernel "conv2d_f32"(%r, %w) outs(%e1) {int_params = array<i64: 2, 0, 1, 1, 1, 0, 0, 1, 1>, float_params = array<f32>} : (tensor<1x4x6x6xf32>, tensor<4x4x1x1xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %y = kiln.ukernel "conv2d_f32"(%t, %w, %r) outs(%r) {int_params = array<i64: 2, 2, 1, 1, 1, 0, 0, 1, 1>, float_params = array<f32>} : (tensor<1x4x6x6xf32>, tensor<4x4x1x1xf32>, tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  return %y : tensor<1x4x6x6xf32>
}

// -----

// Negative: the residual is read after the convolution (returned too), so
// the output gets a buffer of its own; the init is not read, so nothing is
// copied into it.
// CHECK-LABEL: func.func @conv_residual_read_later(
// CHECK:         %[[R:.*]] = memref.alloc() {{.*}}: memref<1x4x6x6xf32>
// CHECK:         kiln.ukernel "conv2d_f32"(%{{.*}}) outs(%[[R]])
// CHECK:         %[[Y:.*]] = memref.alloc() {{.*}}: memref<1x4x6x6xf32>
// CHECK-NOT:     memref.copy
// CHECK:         kiln.ukernel "conv2d_f32"(%{{.*}}, %{{.*}}, %{{.*}}, %[[R]]) outs(%[[Y]])
// CHECK:         return %[[Y]], %[[R]]
func.func @conv_residual_read_later(%x: tensor<1x4x6x6xf32>, %w: tensor<4x4x1x1xf32>, %b: tensor<4xf32>) -> (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) {
  %e0 = tensor.empty() : tensor<1x4x6x6xf32>
  %r = kiln.ukernel "conv2d_f32"(%x, %w) outs(%e0) {int_params = array<i64: 2, 0, 1, 1, 1, 0, 0, 1, 1>, float_params = array<f32>} : (tensor<1x4x6x6xf32>, tensor<4x4x1x1xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %y = kiln.ukernel "conv2d_f32"(%x, %w, %b, %r) outs(%r) {int_params = array<i64: 2, 3, 1, 1, 1, 0, 0, 1, 1>, float_params = array<f32>} : (tensor<1x4x6x6xf32>, tensor<4x4x1x1xf32>, tensor<4xf32>, tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  return %y, %r : tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>
}

// -----

// Negative: conv(x) + x, the residual also the convolution's input (read
// at other positions than the one stored): not in place.
// CHECK-LABEL: func.func @conv_residual_is_input(
// CHECK:         %[[R:.*]] = memref.alloc() {{.*}}: memref<1x4x6x6xf32>
// CHECK:         kiln.ukernel "conv2d_f32"(%{{.*}}) outs(%[[R]])
// CHECK:         %[[Y:.*]] = memref.alloc() {{.*}}: memref<1x4x6x6xf32>
// CHECK-NOT:     memref.copy
// CHECK:         kiln.ukernel "conv2d_f32"(%[[R]], %{{.*}}, %[[R]]) outs(%[[Y]])
// CHECK:         return %[[Y]]
func.func @conv_residual_is_input(%x: tensor<1x4x6x6xf32>, %w: tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32> {
  %e0 = tensor.empty() : tensor<1x4x6x6xf32>
  %r = kiln.ukernel "conv2d_f32"(%x, %w) outs(%e0) {int_params = array<i64: 2, 0, 1, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %y = kiln.ukernel "conv2d_f32"(%r, %w, %r) outs(%r) {int_params = array<i64: 2, 2, 1, 1, 1, 1, 1, 1, 1>, float_params = array<f32>} : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>, tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  return %y : tensor<1x4x6x6xf32>
}

// -----

// Negative: another kernel's init that is also one of its inputs is not
// written in place (only a convolution's residual is read element by
// element): attention reads all of %q's rows for each output row.
// CHECK-LABEL: func.func @attention_init_is_input(
// CHECK:         %[[Q:.*]] = memref.alloc() {{.*}}: memref<8x8x16xf32>
// CHECK:         %[[Y:.*]] = memref.alloc() {{.*}}: memref<8x8x16xf32>
// CHECK:         kiln.ukernel "attention_f32"(%[[Q]], %[[Q]], %[[Q]]) outs(%[[Y]])
func.func @attention_init_is_input(%x: tensor<8x8x16xf32>) -> tensor<8x8x16xf32> {
  %e = tensor.empty() : tensor<8x8x16xf32>
  %q = kiln.ukernel "attention_f32"(%x, %x, %x) outs(%e) {int_params = array<i64: 2, 0, 0, 3>, float_params = array<f32: 0.25, 0.0>} : (tensor<8x8x16xf32>, tensor<8x8x16xf32>, tensor<8x8x16xf32>, tensor<8x8x16xf32>) -> tensor<8x8x16xf32>
  %0 = kiln.ukernel "attention_f32"(%q, %q, %q) outs(%q) {int_params = array<i64: 2, 0, 0, 3>, float_params = array<f32: 0.25, 0.0>} : (tensor<8x8x16xf32>, tensor<8x8x16xf32>, tensor<8x8x16xf32>, tensor<8x8x16xf32>) -> tensor<8x8x16xf32>
  return %0 : tensor<8x8x16xf32>
}
