// RUN: kiln-opt %s --pass-pipeline="builtin.module(kiln-cpu-ukernels{isa=avx2 quantize=int8-static calibration=%S/Inputs/int8-static-ranges.json})" 2>&1 | FileCheck %s
// RUN: kiln-opt %s --pass-pipeline="builtin.module(kiln-cpu-ukernels{isa=avx2 quantize=int8-static calibration=%S/Inputs/int8-static-ranges.json keep-fp32=/l1/MatMul})" 2>&1 | FileCheck %s --check-prefix=KEEP
// RUN: kiln-opt %s --pass-pipeline="builtin.module(kiln-cpu-ukernels{isa=avx2 quantize=int8})" 2>&1 | FileCheck %s --check-prefix=DYN
// RUN: not kiln-opt %s --pass-pipeline="builtin.module(kiln-cpu-ukernels{quantize=int8-static})" 2>&1 | FileCheck %s --check-prefix=NOFILE
// RUN: not kiln-opt %s --pass-pipeline="builtin.module(kiln-cpu-ukernels{quantize=int8-static calibration=%S/Inputs/missing.json})" 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not kiln-opt %s --pass-pipeline="builtin.module(kiln-cpu-ukernels{quantize=int8-static calibration=%S/Inputs/int8-static-inverted.json})" 2>&1 | FileCheck %s --check-prefix=INVERTED
// RUN: not kiln-opt %s --pass-pipeline="builtin.module(kiln-cpu-ukernels{quantize=int8-static calibration=%S/Inputs/int8-static-other.json})" 2>&1 | FileCheck %s --check-prefix=OTHER
// RUN: not kiln-opt %s --pass-pipeline="builtin.module(kiln-cpu-ukernels{quantize=int8-static calibration=%s})" 2>&1 | FileCheck %s --check-prefix=NOTJSON

// quantize=int8-static: a dense layer whose location names a calibrated
// node (alone, or first among a fused op's names) gets int8 weights (flag
// 32), its input quantized per tensor (128) with the range's scale and
// zero point (512, float params) on weights kiln quantized (1024):
// 3 | 32 | 128 | 512 | 1024 = 1699. [-2, 6]: scale 8 / 255, zero point
// round(2 / (8 / 255)) = 64. [0.5, 4] is widened to hold 0: scale 4 / 255,
// zero point 0. A layer no range names is quantized per row at run time
// (3 | 32 = 35), as with quantize=int8.
// CHECK: remark: int8-static: 2 dense layer(s) with calibrated input ranges, 1 quantized per row at run time (no range)
// CHECK-LABEL: func.func @int8_static(
// CHECK:         memref.get_global @w_s8 : memref<3x10x64xi8>
// CHECK:         arith.constant 1699 : index
// CHECK:         arith.constant 0.03137{{[0-9]*}} : f32
// CHECK:         arith.constant 6.400000e+01 : f32
// CHECK:         call @kiln_ukernel_linear_f32(
// CHECK:         arith.constant 1699 : index
// CHECK:         arith.constant 0.01568{{[0-9]*}} : f32
// CHECK:         arith.constant 0.000000e+00 : f32
// CHECK:         call @kiln_ukernel_linear_f32(
// CHECK:         arith.constant 35 : index
// CHECK-NOT:     arith.constant {{.*}} : f32
// CHECK:         call @kiln_ukernel_linear_f32(
// keep-fp32 wins over a range: fp32 panels (3 | 8 = 11).
// KEEP: remark: int8-static: 1 dense layer(s) with calibrated input ranges, 1 quantized per row at run time (no range)
// KEEP:         arith.constant 1699 : index
// KEEP:         arith.constant 11 : index
// KEEP:         arith.constant 35 : index
// quantize=int8 ignores ranges and says nothing.
// DYN-NOT: remark
// DYN-NOT: arith.constant 1699 : index
// NOFILE: error: kiln-cpu-ukernels: quantize=int8-static needs calibration=FILE
// MISSING: error: kiln-cpu-ukernels: calibration file '{{.*}}missing.json': cannot read it
// INVERTED: error: kiln-cpu-ukernels: calibration file '{{.*}}': node '/l0/MatMul' has the range [3.000000e+00, -1.000000e+00] (min and max must be finite, min <= max)
// OTHER: error: kiln-cpu-ukernels: calibration file '{{.*}}': not a kiln calibration
// NOTJSON: error: kiln-cpu-ukernels: calibration file '{{.*}}': not JSON
memref.global "private" constant @w : memref<40x32xf32> = dense<1.0>
func.func @int8_static(%x: memref<8x32xf32>, %b: memref<40xf32>, %y: memref<8x40xf32>) {
  %w = memref.get_global @w : memref<40x32xf32>
  kiln.ukernel "linear_f32"(%x, %w, %b) outs(%y) {int_params = array<i64: 1, 3, 0>, float_params = array<f32>} : (memref<8x32xf32>, memref<40x32xf32>, memref<40xf32>, memref<8x40xf32>) -> () loc("/l0/MatMul")
  kiln.ukernel "linear_f32"(%x, %w, %b) outs(%y) {int_params = array<i64: 1, 3, 0>, float_params = array<f32>} : (memref<8x32xf32>, memref<40x32xf32>, memref<40xf32>, memref<8x40xf32>) -> () loc(fused["/l1/MatMul", "/l1/Add"])
  kiln.ukernel "linear_f32"(%x, %w, %b) outs(%y) {int_params = array<i64: 1, 3, 0>, float_params = array<f32>} : (memref<8x32xf32>, memref<40x32xf32>, memref<40xf32>, memref<8x40xf32>) -> () loc("other")
  return
}
