// RUN: kiln-opt %s --kiln-gpu-attention --verify-diagnostics

// Another runtime kernel on buffers has no GPU kernel: a clear error.
func.func @other(%x: memref<4x8xf32>, %s: memref<8xf32>, %o: memref<4x8xf32>) {
  // expected-error @+1 {{kiln-gpu-attention: the CUDA target has no kernel for kiln.ukernel "norm_f32" with these operands}}
  kiln.ukernel "norm_f32"(%x, %s) outs(%o) {int_params = array<i64: 0>, float_params = array<f32: 1.0e-5>} : (memref<4x8xf32>, memref<8xf32>, memref<4x8xf32>) -> ()
  return
}
