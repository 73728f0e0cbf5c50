// RUN: kiln-opt %s -split-input-file -convert-kiln-to-linalg | FileCheck %s

// Unsigned elements enter elementwise bodies as signless integers (arith
// takes no ui types) and the body uses the unsigned ops; the result is cast
// back to the unsigned element type.
// CHECK-LABEL: func.func @div_u8(
// CHECK:         linalg.generic
// CHECK:         ^bb0(%[[A:.*]]: ui8, %[[B:.*]]: ui8, %{{.*}}: ui8):
// CHECK-DAG:       %[[SA:.*]] = builtin.unrealized_conversion_cast %[[A]] : ui8 to i8
// CHECK-DAG:       %[[SB:.*]] = builtin.unrealized_conversion_cast %[[B]] : ui8 to i8
// CHECK:           %[[Q:.*]] = arith.divui %[[SA]], %[[SB]] : i8
// CHECK:           %[[R:.*]] = builtin.unrealized_conversion_cast %[[Q]] : i8 to ui8
// CHECK:           linalg.yield %[[R]] : ui8
func.func @div_u8(%a: tensor<4xui8>, %b: tensor<4xui8>) -> tensor<4xui8> {
  %0 = kiln.div %a, %b : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}

// -----

// An unsigned source converts with uitofp (128 stays 128.0).
// CHECK-LABEL: func.func @cast_u8_f32(
// CHECK:         %[[S:.*]] = builtin.unrealized_conversion_cast %{{.*}} : ui8 to i8
// CHECK:         arith.uitofp %[[S]] : i8 to f32
func.func @cast_u8_f32(%a: tensor<4xui8>) -> tensor<4xf32> {
  %0 = kiln.cast %a : tensor<4xui8> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// A float converts to an unsigned target with fptoui into the signless
// type, cast back to ui16.
// CHECK-LABEL: func.func @cast_f32_u16(
// CHECK:         %[[C:.*]] = arith.fptoui %{{.*}} : f32 to i16
// CHECK:         builtin.unrealized_conversion_cast %[[C]] : i16 to ui16
func.func @cast_f32_u16(%a: tensor<4xf32>) -> tensor<4xui16> {
  %0 = kiln.cast %a : tensor<4xf32> -> tensor<4xui16>
  return %0 : tensor<4xui16>
}
