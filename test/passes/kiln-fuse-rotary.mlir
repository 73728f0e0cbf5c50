// RUN: kiln-opt %s -split-input-file -pass-pipeline="builtin.module(func.func(kiln-fuse-rotary))" | FileCheck %s

// LLaMA's exported rotary embedding: x * cos + rotate_half(x) * sin with
// rotate_half(x) = concat(-x[..., 8:], x[..., :8], axis = -1), the upper
// slice ending at INT64_MAX. x is [B, H, S, D] with B and S dynamic; cos/sin
// are [1, 1, S, D]. Everything becomes one kiln.rotary_embedding on x with
// the caches as they are (not interleaved); the slices, neg, concat, muls and
// add are gone.
// CHECK-LABEL: func.func @llama(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<?x4x?x16xf32>, %[[COS:[^:]*]]: tensor<1x1x?x16xf32>, %[[SIN:[^:]*]]: tensor<1x1x?x16xf32>)
// CHECK-NEXT:    %[[R:.*]] = kiln.rotary_embedding %[[X]], %[[COS]], %[[SIN]] : (tensor<?x4x?x16xf32>, tensor<1x1x?x16xf32>, tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32>{{$}}
// CHECK-NEXT:    return %[[R]] : tensor<?x4x?x16xf32>
// CHECK-NOT:     kiln.
func.func @llama(%x: tensor<?x4x?x16xf32>, %cos: tensor<1x1x?x16xf32>, %sin: tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %h = kiln.constant dense<8> : tensor<1xi64>
  %max = kiln.constant dense<9223372036854775807> : tensor<1xi64>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %last = kiln.constant dense<-1> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %xc = kiln.mul %x, %cos : (tensor<?x4x?x16xf32>, tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %x2 = kiln.slice %x, %h, %max, %last, %one : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %n = kiln.neg %x2 : tensor<?x4x?x8xf32>
  %x1 = kiln.slice %x, %zero, %h, %last, %one : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %rh = kiln.concat %n, %x1 {axis = -1 : i64} : (tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x16xf32>
  %rs = kiln.mul %rh, %sin : (tensor<?x4x?x16xf32>, tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %y = kiln.add %xc, %rs : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %y : tensor<?x4x?x16xf32>
}

// -----

// The operands of the add and of both muls swapped, static shapes, a rank-2
// [S, D] cos/sin, the slices' axis given as 3 (not -1), the concat's axis as
// 3 and the upper slice ending exactly at D: the same rotary embedding.
// CHECK-LABEL: func.func @swapped_static(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<2x4x6x16xf32>, %[[COS:[^:]*]]: tensor<6x16xf32>, %[[SIN:[^:]*]]: tensor<6x16xf32>)
// CHECK-NEXT:    %[[R:.*]] = kiln.rotary_embedding %[[X]], %[[COS]], %[[SIN]] : (tensor<2x4x6x16xf32>, tensor<6x16xf32>, tensor<6x16xf32>) -> tensor<2x4x6x16xf32>{{$}}
// CHECK-NEXT:    return %[[R]] : tensor<2x4x6x16xf32>
func.func @swapped_static(%x: tensor<2x4x6x16xf32>, %cos: tensor<6x16xf32>, %sin: tensor<6x16xf32>) -> tensor<2x4x6x16xf32> {
  %h = kiln.constant dense<8> : tensor<1xi64>
  %d = kiln.constant dense<16> : tensor<1xi64>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %axis = kiln.constant dense<3> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %x1 = kiln.slice %x, %zero, %h, %axis, %one : (tensor<2x4x6x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x4x6x8xf32>
  %x2 = kiln.slice %x, %h, %d, %axis, %one : (tensor<2x4x6x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x4x6x8xf32>
  %n = kiln.neg %x2 : tensor<2x4x6x8xf32>
  %rh = kiln.concat %n, %x1 {axis = 3 : i64} : (tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>) -> tensor<2x4x6x16xf32>
  %rs = kiln.mul %sin, %rh : (tensor<6x16xf32>, tensor<2x4x6x16xf32>) -> tensor<2x4x6x16xf32>
  %xc = kiln.mul %cos, %x : (tensor<6x16xf32>, tensor<2x4x6x16xf32>) -> tensor<2x4x6x16xf32>
  %y = kiln.add %rs, %xc : (tensor<2x4x6x16xf32>, tensor<2x4x6x16xf32>) -> tensor<2x4x6x16xf32>
  return %y : tensor<2x4x6x16xf32>
}

// -----

// Negative: the halves swapped in the concat, concat(x[..., :8],
// -x[..., 8:]), which is minus rotate_half(x) rolled by D/2: not fused.
// CHECK-LABEL: func.func @halves_swapped(
// CHECK-NOT:     kiln.rotary_embedding
// CHECK:         kiln.neg
// CHECK:         kiln.concat
// CHECK:         kiln.add
func.func @halves_swapped(%x: tensor<?x4x?x16xf32>, %cos: tensor<1x1x?x16xf32>, %sin: tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %h = kiln.constant dense<8> : tensor<1xi64>
  %max = kiln.constant dense<9223372036854775807> : tensor<1xi64>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %last = kiln.constant dense<-1> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %xc = kiln.mul %x, %cos : (tensor<?x4x?x16xf32>, tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %x2 = kiln.slice %x, %h, %max, %last, %one : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %n = kiln.neg %x2 : tensor<?x4x?x8xf32>
  %x1 = kiln.slice %x, %zero, %h, %last, %one : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %rh = kiln.concat %x1, %n {axis = -1 : i64} : (tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x16xf32>
  %rs = kiln.mul %rh, %sin : (tensor<?x4x?x16xf32>, tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %y = kiln.add %xc, %rs : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %y : tensor<?x4x?x16xf32>
}

// -----

// Negative: the neg on the wrong half, concat(-x[..., :8], x[..., 8:]) (that
// is x with its first half negated, not rotated): not fused.
// CHECK-LABEL: func.func @neg_wrong_half(
// CHECK-NOT:     kiln.rotary_embedding
// CHECK:         kiln.neg
// CHECK:         kiln.concat
// CHECK:         kiln.add
func.func @neg_wrong_half(%x: tensor<?x4x?x16xf32>, %cos: tensor<1x1x?x16xf32>, %sin: tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %h = kiln.constant dense<8> : tensor<1xi64>
  %max = kiln.constant dense<9223372036854775807> : tensor<1xi64>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %last = kiln.constant dense<-1> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %xc = kiln.mul %x, %cos : (tensor<?x4x?x16xf32>, tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %x1 = kiln.slice %x, %zero, %h, %last, %one : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %n = kiln.neg %x1 : tensor<?x4x?x8xf32>
  %x2 = kiln.slice %x, %h, %max, %last, %one : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %rh = kiln.concat %n, %x2 {axis = -1 : i64} : (tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x16xf32>
  %rs = kiln.mul %rh, %sin : (tensor<?x4x?x16xf32>, tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %y = kiln.add %xc, %rs : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %y : tensor<?x4x?x16xf32>
}

// -----

// Negative: split at D/4, concat(-x[..., 4:], x[..., :4]) (a roll by a
// quarter, not rotate_half): not fused.
// CHECK-LABEL: func.func @split_quarter(
// CHECK-NOT:     kiln.rotary_embedding
// CHECK:         kiln.neg
// CHECK:         kiln.concat
// CHECK:         kiln.add
func.func @split_quarter(%x: tensor<?x4x?x16xf32>, %cos: tensor<1x1x?x16xf32>, %sin: tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %q = kiln.constant dense<4> : tensor<1xi64>
  %max = kiln.constant dense<9223372036854775807> : tensor<1xi64>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %last = kiln.constant dense<-1> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %xc = kiln.mul %x, %cos : (tensor<?x4x?x16xf32>, tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %x2 = kiln.slice %x, %q, %max, %last, %one : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x12xf32>
  %n = kiln.neg %x2 : tensor<?x4x?x12xf32>
  %x1 = kiln.slice %x, %zero, %q, %last, %one : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x4xf32>
  %rh = kiln.concat %n, %x1 {axis = -1 : i64} : (tensor<?x4x?x12xf32>, tensor<?x4x?x4xf32>) -> tensor<?x4x?x16xf32>
  %rs = kiln.mul %rh, %sin : (tensor<?x4x?x16xf32>, tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %y = kiln.add %xc, %rs : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %y : tensor<?x4x?x16xf32>
}

// -----

// Negative: cos/sin narrower than the head. A half-width
// tensor<1x1x?x8xf32> cos does not broadcast against x (kiln.mul rejects
// it), so the widths that do are tested: one feature (broadcast over D; an
// odd rotary width) and a dynamic width. Neither is a width-D rotation the
// fused op could express: not fused.
// CHECK-LABEL: func.func @cos_one_wide(
// CHECK-NOT:     kiln.rotary_embedding
// CHECK:         kiln.concat
// CHECK:         kiln.add
func.func @cos_one_wide(%x: tensor<?x4x?x16xf32>, %cos: tensor<1x1x?x1xf32>, %sin: tensor<1x1x?x1xf32>) -> tensor<?x4x?x16xf32> {
  %h = kiln.constant dense<8> : tensor<1xi64>
  %max = kiln.constant dense<9223372036854775807> : tensor<1xi64>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %last = kiln.constant dense<-1> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %xc = kiln.mul %x, %cos : (tensor<?x4x?x16xf32>, tensor<1x1x?x1xf32>) -> tensor<?x4x?x16xf32>
  %x2 = kiln.slice %x, %h, %max, %last, %one : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %n = kiln.neg %x2 : tensor<?x4x?x8xf32>
  %x1 = kiln.slice %x, %zero, %h, %last, %one : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %rh = kiln.concat %n, %x1 {axis = -1 : i64} : (tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x16xf32>
  %rs = kiln.mul %rh, %sin : (tensor<?x4x?x16xf32>, tensor<1x1x?x1xf32>) -> tensor<?x4x?x16xf32>
  %y = kiln.add %xc, %rs : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %y : tensor<?x4x?x16xf32>
}

// CHECK-LABEL: func.func @cos_dynamic_width(
// CHECK-NOT:     kiln.rotary_embedding
// CHECK:         kiln.concat
// CHECK:         kiln.add
func.func @cos_dynamic_width(%x: tensor<?x4x?x16xf32>, %cos: tensor<1x1x?x?xf32>, %sin: tensor<1x1x?x?xf32>) -> tensor<?x4x?x16xf32> {
  %h = kiln.constant dense<8> : tensor<1xi64>
  %max = kiln.constant dense<9223372036854775807> : tensor<1xi64>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %last = kiln.constant dense<-1> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %xc = kiln.mul %x, %cos : (tensor<?x4x?x16xf32>, tensor<1x1x?x?xf32>) -> tensor<?x4x?x16xf32>
  %x2 = kiln.slice %x, %h, %max, %last, %one : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %n = kiln.neg %x2 : tensor<?x4x?x8xf32>
  %x1 = kiln.slice %x, %zero, %h, %last, %one : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %rh = kiln.concat %n, %x1 {axis = -1 : i64} : (tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x16xf32>
  %rs = kiln.mul %rh, %sin : (tensor<?x4x?x16xf32>, tensor<1x1x?x?xf32>) -> tensor<?x4x?x16xf32>
  %y = kiln.add %xc, %rs : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %y : tensor<?x4x?x16xf32>
}

// -----

// Negative: an intermediate with a second use (the neg is also returned, so
// fusing would not remove it): not fused.
// CHECK-LABEL: func.func @neg_second_use(
// CHECK-NOT:     kiln.rotary_embedding
// CHECK:         %[[N:.*]] = kiln.neg
// CHECK:         %[[Y:.*]] = kiln.add
// CHECK:         return %[[Y]], %[[N]]
func.func @neg_second_use(%x: tensor<?x4x?x16xf32>, %cos: tensor<1x1x?x16xf32>, %sin: tensor<1x1x?x16xf32>) -> (tensor<?x4x?x16xf32>, tensor<?x4x?x8xf32>) {
  %h = kiln.constant dense<8> : tensor<1xi64>
  %max = kiln.constant dense<9223372036854775807> : tensor<1xi64>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %last = kiln.constant dense<-1> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %xc = kiln.mul %x, %cos : (tensor<?x4x?x16xf32>, tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %x2 = kiln.slice %x, %h, %max, %last, %one : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %n = kiln.neg %x2 : tensor<?x4x?x8xf32>
  %x1 = kiln.slice %x, %zero, %h, %last, %one : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %rh = kiln.concat %n, %x1 {axis = -1 : i64} : (tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x16xf32>
  %rs = kiln.mul %rh, %sin : (tensor<?x4x?x16xf32>, tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %y = kiln.add %xc, %rs : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %y, %n : tensor<?x4x?x16xf32>, tensor<?x4x?x8xf32>
}

// -----

// Negative: x * cos has a second use: not fused.
// CHECK-LABEL: func.func @xcos_second_use(
// CHECK-NOT:     kiln.rotary_embedding
// CHECK:         %[[XC:.*]] = kiln.mul
// CHECK:         %[[Y:.*]] = kiln.add
// CHECK:         return %[[Y]], %[[XC]]
func.func @xcos_second_use(%x: tensor<?x4x?x16xf32>, %cos: tensor<1x1x?x16xf32>, %sin: tensor<1x1x?x16xf32>) -> (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) {
  %h = kiln.constant dense<8> : tensor<1xi64>
  %max = kiln.constant dense<9223372036854775807> : tensor<1xi64>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %last = kiln.constant dense<-1> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %xc = kiln.mul %x, %cos : (tensor<?x4x?x16xf32>, tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %x2 = kiln.slice %x, %h, %max, %last, %one : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %n = kiln.neg %x2 : tensor<?x4x?x8xf32>
  %x1 = kiln.slice %x, %zero, %h, %last, %one : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %rh = kiln.concat %n, %x1 {axis = -1 : i64} : (tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x16xf32>
  %rs = kiln.mul %rh, %sin : (tensor<?x4x?x16xf32>, tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %y = kiln.add %xc, %rs : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %y, %xc : tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>
}

// -----

// Negative: the rotation along a non-last axis (slices and concat on the
// sequence axis 2, whose extent is 16 like the head's): not fused.
// (The slices cannot be on another axis than the concat's in valid IR: the
// concatenation would then not have x's shape.)
// CHECK-LABEL: func.func @slice_not_last_axis(
// CHECK-NOT:     kiln.rotary_embedding
// CHECK:         kiln.concat
// CHECK:         kiln.add
func.func @slice_not_last_axis(%x: tensor<2x4x16x16xf32>, %cos: tensor<16x16xf32>, %sin: tensor<16x16xf32>) -> tensor<2x4x16x16xf32> {
  %h = kiln.constant dense<8> : tensor<1xi64>
  %max = kiln.constant dense<9223372036854775807> : tensor<1xi64>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %axis = kiln.constant dense<2> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %xc = kiln.mul %x, %cos : (tensor<2x4x16x16xf32>, tensor<16x16xf32>) -> tensor<2x4x16x16xf32>
  %x2 = kiln.slice %x, %h, %max, %axis, %one : (tensor<2x4x16x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x4x8x16xf32>
  %n = kiln.neg %x2 : tensor<2x4x8x16xf32>
  %x1 = kiln.slice %x, %zero, %h, %axis, %one : (tensor<2x4x16x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x4x8x16xf32>
  %rh = kiln.concat %n, %x1 {axis = 2 : i64} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x16x16xf32>
  %rs = kiln.mul %rh, %sin : (tensor<2x4x16x16xf32>, tensor<16x16xf32>) -> tensor<2x4x16x16xf32>
  %y = kiln.add %xc, %rs : (tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  return %y : tensor<2x4x16x16xf32>
}

// -----

// Negative: x * cos multiplies another tensor than the one rotated: not
// fused.
// CHECK-LABEL: func.func @two_inputs(
// CHECK-NOT:     kiln.rotary_embedding
// CHECK:         kiln.add
func.func @two_inputs(%x: tensor<?x4x?x16xf32>, %z: tensor<?x4x?x16xf32>, %cos: tensor<1x1x?x16xf32>, %sin: tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %h = kiln.constant dense<8> : tensor<1xi64>
  %max = kiln.constant dense<9223372036854775807> : tensor<1xi64>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %last = kiln.constant dense<-1> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %zc = kiln.mul %z, %cos : (tensor<?x4x?x16xf32>, tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %x2 = kiln.slice %x, %h, %max, %last, %one : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %n = kiln.neg %x2 : tensor<?x4x?x8xf32>
  %x1 = kiln.slice %x, %zero, %h, %last, %one : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %rh = kiln.concat %n, %x1 {axis = -1 : i64} : (tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x16xf32>
  %rs = kiln.mul %rh, %sin : (tensor<?x4x?x16xf32>, tensor<1x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %y = kiln.add %zc, %rs : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %y : tensor<?x4x?x16xf32>
}
