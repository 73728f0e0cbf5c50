// RUN: kiln-opt %s -split-input-file -verify-diagnostics -kiln-cpu-ukernels

// int8 weights (flag 64) that are not constants cannot be packed at
// compile time: an error on the op, not a crash.
func.func @linear_int8_not_constant(%x: memref<5x8xf32>, %w: memref<8x3xi8>, %s: memref<3xf32>, %y: memref<5x3xf32>) {
  // expected-error @+1 {{kiln-cpu-ukernels: linear_f32 with int8 weights needs constant weights and scales}}
  kiln.ukernel "linear_f32"(%x, %w, %s) outs(%y) {int_params = array<i64: 2, 192, 0>, float_params = array<f32>} : (memref<5x8xf32>, memref<8x3xi8>, memref<3xf32>, memref<5x3xf32>) -> ()
  return
}
