// RUN: kiln-opt %s -split-input-file -pass-pipeline="builtin.module(func.func(kiln-fuse-attention))" | FileCheck %s

// Causal masks built from index arithmetic become the causal flag. (Keys
// are the queries in most cases here, so that Sk is provably Sq.)
// Hugging Face's LLaMA (no cache): full((S, S), min).masked_fill(
// arange(S) < (arange(S) + 1).view(S, 1), 0), unsqueezed and added.
// CHECK-LABEL: func.func @llama_additive(
// CHECK:         kiln.attention %{{[^ ]*}}, %{{[^ ]*}}, %{{[^ ]*}} {causal = true, scale = 2.500000e-01 : f32}
// CHECK-NOT:     kiln.softmax
func.func @llama_additive(%q: tensor<?x4x?x16xf32>, %k: tensor<?x4x?x16xf32>, %v: tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %c = kiln.constant dense<0.25> : tensor<f32>
  %zero = kiln.constant dense<0.0> : tensor<f32>
  %i0 = kiln.constant dense<0> : tensor<i64>
  %i1 = kiln.constant dense<1> : tensor<i64>
  %i2 = kiln.constant dense<2> : tensor<i64>
  %col = kiln.constant dense<[-1, 1]> : tensor<2xi64>
  %qs = kiln.shape %q : (tensor<?x4x?x16xf32>) -> tensor<4xi64>
  %s = kiln.gather %qs, %i2 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %r = kiln.range %i0, %s, %i1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %s1 = kiln.unsqueeze %s {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %ss = kiln.concat %s1, %s1 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %full = kiln.constant_of_shape %ss, dense<-3.40282347E+38> : tensor<1xf32> : (tensor<2xi64>) -> tensor<?x?xf32>
  %r1 = kiln.add %r, %i1 : (tensor<?xi64>, tensor<i64>) -> tensor<?xi64>
  %rows = kiln.reshape %r1, %col : (tensor<?xi64>, tensor<2xi64>) -> tensor<?x1xi64>
  %cond = kiln.less %r, %rows : (tensor<?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %m2 = kiln.where %cond, %zero, %full : (tensor<?x?xi1>, tensor<f32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %m3 = kiln.unsqueeze %m2 {axes = array<i64: 0>} : (tensor<?x?xf32>) -> tensor<1x?x?xf32>
  %mask = kiln.unsqueeze %m3 {axes = array<i64: 1>} : (tensor<1x?x?xf32>) -> tensor<1x1x?x?xf32>
  %kt = kiln.transpose %q {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %sc = kiln.matmul %q, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %d = kiln.mul %sc, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %w = kiln.add %d, %mask : (tensor<?x4x?x?xf32>, tensor<1x1x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = kiln.softmax %w {axis = -1 : i64} : tensor<?x4x?x?xf32> -> tensor<?x4x?x?xf32>
  %o = kiln.matmul %p, %v : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// With a KV cache of P tokens (bench/make_models.py's LlamaKV): keys
// concat(past, new), mask zeros(S, P + S).masked_fill(arange(P + S)
// .view(1, -1) > (arange(S) + P).view(S, 1), min): row i keeps j <= i + P,
// and P = Sk - Sq with Sk the concat's extent (past + new).
// CHECK-LABEL: func.func @kv_cache(
// CHECK:         kiln.attention %{{[^ ]*}}, %{{[^ ]*}}, %{{[^ ]*}} {causal = true, scale = 2.500000e-01 : f32}
func.func @kv_cache(%q: tensor<?x4x?x16xf32>, %pk: tensor<?x4x?x16xf32>, %pv: tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %c = kiln.constant dense<0.25> : tensor<f32>
  %lowest = kiln.constant dense<-3.40282347E+38> : tensor<f32>
  %i0 = kiln.constant dense<0> : tensor<i64>
  %i1 = kiln.constant dense<1> : tensor<i64>
  %i2 = kiln.constant dense<2> : tensor<i64>
  %row = kiln.constant dense<[1, -1]> : tensor<2xi64>
  %col = kiln.constant dense<[-1, 1]> : tensor<2xi64>
  %k = kiln.concat %pk, %q {axis = 2 : i64} : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %v = kiln.concat %pv, %q {axis = 2 : i64} : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ps = kiln.shape %pk : (tensor<?x4x?x16xf32>) -> tensor<4xi64>
  %past = kiln.gather %ps, %i2 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %qs = kiln.shape %q : (tensor<?x4x?x16xf32>) -> tensor<4xi64>
  %seq = kiln.gather %qs, %i2 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %total = kiln.add %past, %seq : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %rj = kiln.range %i0, %total, %i1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %cols = kiln.reshape %rj, %row : (tensor<?xi64>, tensor<2xi64>) -> tensor<1x?xi64>
  %ri = kiln.range %i0, %seq, %i1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %rp = kiln.add %ri, %past : (tensor<?xi64>, tensor<i64>) -> tensor<?xi64>
  %rows = kiln.reshape %rp, %col : (tensor<?xi64>, tensor<2xi64>) -> tensor<?x1xi64>
  %cond = kiln.greater %cols, %rows : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %s1 = kiln.unsqueeze %seq {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %t1 = kiln.unsqueeze %total {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %shape = kiln.concat %s1, %t1 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %zeros = kiln.constant_of_shape %shape, dense<0.0> : tensor<1xf32> : (tensor<2xi64>) -> tensor<?x?xf32>
  %m2 = kiln.where %cond, %lowest, %zeros : (tensor<?x?xi1>, tensor<f32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %mask = kiln.unsqueeze %m2 {axes = array<i64: 0, 1>} : (tensor<?x?xf32>) -> tensor<1x1x?x?xf32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %sc = kiln.matmul %q, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %d = kiln.mul %sc, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %w = kiln.add %mask, %d : (tensor<1x1x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = kiln.softmax %w {axis = -1 : i64} : tensor<?x4x?x?xf32> -> tensor<?x4x?x?xf32>
  %o = kiln.matmul %p, %v : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// A boolean condition written over the scores by where(): keep j <= i, and
// the same as not(j > i) with the scores as where()'s third operand.
// CHECK-LABEL: func.func @where_le(
// CHECK:         kiln.attention {{.*}}causal = true
// CHECK-LABEL: func.func @where_not_gt(
// CHECK:         kiln.attention {{.*}}causal = true
func.func @where_le(%q: tensor<2x4x?x16xf32>, %k: tensor<2x4x?x16xf32>, %v: tensor<2x4x?x16xf32>) -> tensor<2x4x?x16xf32> {
  %lowest = kiln.constant dense<-1.0e9> : tensor<f32>
  %i0 = kiln.constant dense<0> : tensor<i64>
  %i1 = kiln.constant dense<1> : tensor<i64>
  %col = kiln.constant dense<[-1, 1]> : tensor<2xi64>
  %qs = kiln.shape %q {start = 2 : i64, end = 3 : i64} : (tensor<2x4x?x16xf32>) -> tensor<1xi64>
  %s = kiln.squeeze %qs {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
  %r = kiln.range %i0, %s, %i1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %rows = kiln.reshape %r, %col : (tensor<?xi64>, tensor<2xi64>) -> tensor<?x1xi64>
  %cond = kiln.less_equal %r, %rows : (tensor<?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %kt = kiln.transpose %q {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x?x16xf32>) -> tensor<2x4x16x?xf32>
  %sc = kiln.matmul %q, %kt : (tensor<2x4x?x16xf32>, tensor<2x4x16x?xf32>) -> tensor<2x4x?x?xf32>
  %w = kiln.where %cond, %sc, %lowest : (tensor<?x?xi1>, tensor<2x4x?x?xf32>, tensor<f32>) -> tensor<2x4x?x?xf32>
  %p = kiln.softmax %w {axis = -1 : i64} : tensor<2x4x?x?xf32> -> tensor<2x4x?x?xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x?x?xf32>, tensor<2x4x?x16xf32>) -> tensor<2x4x?x16xf32>
  return %o : tensor<2x4x?x16xf32>
}
func.func @where_not_gt(%q: tensor<2x4x?x16xf32>, %k: tensor<2x4x?x16xf32>, %v: tensor<2x4x?x16xf32>) -> tensor<2x4x?x16xf32> {
  %lowest = kiln.constant dense<-1.0e9> : tensor<f32>
  %i0 = kiln.constant dense<0> : tensor<i64>
  %i1 = kiln.constant dense<1> : tensor<i64>
  %col = kiln.constant dense<[-1, 1]> : tensor<2xi64>
  %qs = kiln.shape %q {start = 2 : i64, end = 3 : i64} : (tensor<2x4x?x16xf32>) -> tensor<1xi64>
  %s = kiln.squeeze %qs {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
  %r = kiln.range %i0, %s, %i1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %rows = kiln.reshape %r, %col : (tensor<?xi64>, tensor<2xi64>) -> tensor<?x1xi64>
  %gt = kiln.greater %r, %rows : (tensor<?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %kt = kiln.transpose %q {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x?x16xf32>) -> tensor<2x4x16x?xf32>
  %sc = kiln.matmul %q, %kt : (tensor<2x4x?x16xf32>, tensor<2x4x16x?xf32>) -> tensor<2x4x?x?xf32>
  %w = kiln.where %gt, %lowest, %sc : (tensor<?x?xi1>, tensor<f32>, tensor<2x4x?x?xf32>) -> tensor<2x4x?x?xf32>
  %p = kiln.softmax %w {axis = -1 : i64} : tensor<2x4x?x?xf32> -> tensor<2x4x?x?xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x?x?xf32>, tensor<2x4x?x16xf32>) -> tensor<2x4x?x16xf32>
  return %o : tensor<2x4x?x16xf32>
}

// -----

// Kept as masks: j < i (the diagonal excluded), a fill that does not
// remove the scores (-1: exp(-1) is not 0), a cache offset missing (rows
// from 0 while the keys are past + new), and a range over Sq for the keys
// when Sk is not Sq.
// CHECK-LABEL: func.func @strict(
// CHECK:         kiln.attention {{.*}} mask
// CHECK-NOT:     causal
// CHECK-LABEL: func.func @weak_fill(
// CHECK:         kiln.attention {{.*}} mask
// CHECK-NOT:     causal
// CHECK-LABEL: func.func @no_offset(
// CHECK:         kiln.attention {{.*}} mask
// CHECK-NOT:     causal
// CHECK-LABEL: func.func @keys_over_sq(
// CHECK:         kiln.attention {{.*}} mask
// CHECK-NOT:     causal
func.func @strict(%q: tensor<2x4x?x16xf32>, %k: tensor<2x4x?x16xf32>, %v: tensor<2x4x?x16xf32>) -> tensor<2x4x?x16xf32> {
  %lowest = kiln.constant dense<-1.0e9> : tensor<f32>
  %i0 = kiln.constant dense<0> : tensor<i64>
  %i1 = kiln.constant dense<1> : tensor<i64>
  %col = kiln.constant dense<[-1, 1]> : tensor<2xi64>
  %qs = kiln.shape %q {start = 2 : i64, end = 3 : i64} : (tensor<2x4x?x16xf32>) -> tensor<1xi64>
  %s = kiln.squeeze %qs {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
  %r = kiln.range %i0, %s, %i1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %rows = kiln.reshape %r, %col : (tensor<?xi64>, tensor<2xi64>) -> tensor<?x1xi64>
  %cond = kiln.less %r, %rows : (tensor<?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %kt = kiln.transpose %q {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x?x16xf32>) -> tensor<2x4x16x?xf32>
  %sc = kiln.matmul %q, %kt : (tensor<2x4x?x16xf32>, tensor<2x4x16x?xf32>) -> tensor<2x4x?x?xf32>
  %w = kiln.where %cond, %sc, %lowest : (tensor<?x?xi1>, tensor<2x4x?x?xf32>, tensor<f32>) -> tensor<2x4x?x?xf32>
  %p = kiln.softmax %w {axis = -1 : i64} : tensor<2x4x?x?xf32> -> tensor<2x4x?x?xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x?x?xf32>, tensor<2x4x?x16xf32>) -> tensor<2x4x?x16xf32>
  return %o : tensor<2x4x?x16xf32>
}
func.func @weak_fill(%q: tensor<2x4x?x16xf32>, %k: tensor<2x4x?x16xf32>, %v: tensor<2x4x?x16xf32>) -> tensor<2x4x?x16xf32> {
  %fill = kiln.constant dense<-1.0> : tensor<f32>
  %i0 = kiln.constant dense<0> : tensor<i64>
  %i1 = kiln.constant dense<1> : tensor<i64>
  %col = kiln.constant dense<[-1, 1]> : tensor<2xi64>
  %qs = kiln.shape %q {start = 2 : i64, end = 3 : i64} : (tensor<2x4x?x16xf32>) -> tensor<1xi64>
  %s = kiln.squeeze %qs {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
  %r = kiln.range %i0, %s, %i1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %rows = kiln.reshape %r, %col : (tensor<?xi64>, tensor<2xi64>) -> tensor<?x1xi64>
  %cond = kiln.less_equal %r, %rows : (tensor<?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %kt = kiln.transpose %q {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x?x16xf32>) -> tensor<2x4x16x?xf32>
  %sc = kiln.matmul %q, %kt : (tensor<2x4x?x16xf32>, tensor<2x4x16x?xf32>) -> tensor<2x4x?x?xf32>
  %w = kiln.where %cond, %sc, %fill : (tensor<?x?xi1>, tensor<2x4x?x?xf32>, tensor<f32>) -> tensor<2x4x?x?xf32>
  %p = kiln.softmax %w {axis = -1 : i64} : tensor<2x4x?x?xf32> -> tensor<2x4x?x?xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x?x?xf32>, tensor<2x4x?x16xf32>) -> tensor<2x4x?x16xf32>
  return %o : tensor<2x4x?x16xf32>
}
func.func @no_offset(%q: tensor<?x4x?x16xf32>, %pk: tensor<?x4x?x16xf32>, %pv: tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %c = kiln.constant dense<0.25> : tensor<f32>
  %lowest = kiln.constant dense<-3.40282347E+38> : tensor<f32>
  %zero = kiln.constant dense<0.0> : tensor<f32>
  %i0 = kiln.constant dense<0> : tensor<i64>
  %i1 = kiln.constant dense<1> : tensor<i64>
  %i2 = kiln.constant dense<2> : tensor<i64>
  %row = kiln.constant dense<[1, -1]> : tensor<2xi64>
  %col = kiln.constant dense<[-1, 1]> : tensor<2xi64>
  %k = kiln.concat %pk, %q {axis = 2 : i64} : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %v = kiln.concat %pv, %q {axis = 2 : i64} : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ps = kiln.shape %pk : (tensor<?x4x?x16xf32>) -> tensor<4xi64>
  %past = kiln.gather %ps, %i2 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %qs = kiln.shape %q : (tensor<?x4x?x16xf32>) -> tensor<4xi64>
  %seq = kiln.gather %qs, %i2 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %total = kiln.add %past, %seq : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %rj = kiln.range %i0, %total, %i1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %cols = kiln.reshape %rj, %row : (tensor<?xi64>, tensor<2xi64>) -> tensor<1x?xi64>
  %ri = kiln.range %i0, %seq, %i1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %rows = kiln.reshape %ri, %col : (tensor<?xi64>, tensor<2xi64>) -> tensor<?x1xi64>
  %cond = kiln.greater %cols, %rows : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %m2 = kiln.where %cond, %lowest, %zero : (tensor<?x?xi1>, tensor<f32>, tensor<f32>) -> tensor<?x?xf32>
  %mask = kiln.unsqueeze %m2 {axes = array<i64: 0, 1>} : (tensor<?x?xf32>) -> tensor<1x1x?x?xf32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %sc = kiln.matmul %q, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %d = kiln.mul %sc, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %w = kiln.add %d, %mask : (tensor<?x4x?x?xf32>, tensor<1x1x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = kiln.softmax %w {axis = -1 : i64} : tensor<?x4x?x?xf32> -> tensor<?x4x?x?xf32>
  %o = kiln.matmul %p, %v : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}
func.func @keys_over_sq(%q: tensor<2x4x?x16xf32>, %k: tensor<2x4x?x16xf32>, %v: tensor<2x4x?x16xf32>) -> tensor<2x4x?x16xf32> {
  %lowest = kiln.constant dense<-1.0e9> : tensor<f32>
  %zero = kiln.constant dense<0.0> : tensor<f32>
  %i0 = kiln.constant dense<0> : tensor<i64>
  %i1 = kiln.constant dense<1> : tensor<i64>
  %col = kiln.constant dense<[-1, 1]> : tensor<2xi64>
  %qs = kiln.shape %q {start = 2 : i64, end = 3 : i64} : (tensor<2x4x?x16xf32>) -> tensor<1xi64>
  %s = kiln.squeeze %qs {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
  %r = kiln.range %i0, %s, %i1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %rows = kiln.reshape %r, %col : (tensor<?xi64>, tensor<2xi64>) -> tensor<?x1xi64>
  %cond = kiln.less_equal %r, %rows : (tensor<?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %m2 = kiln.where %cond, %zero, %lowest : (tensor<?x?xi1>, tensor<f32>, tensor<f32>) -> tensor<?x?xf32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x?x16xf32>) -> tensor<2x4x16x?xf32>
  %sc = kiln.matmul %q, %kt : (tensor<2x4x?x16xf32>, tensor<2x4x16x?xf32>) -> tensor<2x4x?x?xf32>
  %w = kiln.add %sc, %m2 : (tensor<2x4x?x?xf32>, tensor<?x?xf32>) -> tensor<2x4x?x?xf32>
  %p = kiln.softmax %w {axis = -1 : i64} : tensor<2x4x?x?xf32> -> tensor<2x4x?x?xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x?x?xf32>, tensor<2x4x?x16xf32>) -> tensor<2x4x?x16xf32>
  return %o : tensor<2x4x?x16xf32>
}


// -----

// Another layer's cache: the mask measures layer 0's past, the keys are
// layer 1's. Model inputs' dims with one name are one extent (the runtime
// checks them equal), so the mask is causal; with two names it is kept.
// CHECK-LABEL: func.func @named_same(
// CHECK:         kiln.attention {{.*}}causal = true
// CHECK-LABEL: func.func @named_other(
// CHECK:         kiln.attention {{.*}} mask
// CHECK-NOT:     causal
func.func @named_same(%q: tensor<?x4x?x16xf32> {kiln.dims = ["b", "", "s", ""]}, %pk0: tensor<?x4x?x16xf32> {kiln.dims = ["b", "", "past", ""]},
    %pk: tensor<?x4x?x16xf32> {kiln.dims = ["b", "", "past", ""]}, %pv: tensor<?x4x?x16xf32> {kiln.dims = ["b", "", "past", ""]}) -> tensor<?x4x?x16xf32> {
  %c = kiln.constant dense<0.25> : tensor<f32>
  %lowest = kiln.constant dense<-3.40282347E+38> : tensor<f32>
  %i0 = kiln.constant dense<0> : tensor<i64>
  %i1 = kiln.constant dense<1> : tensor<i64>
  %i2 = kiln.constant dense<2> : tensor<i64>
  %row = kiln.constant dense<[1, -1]> : tensor<2xi64>
  %col = kiln.constant dense<[-1, 1]> : tensor<2xi64>
  %k = kiln.concat %pk, %q {axis = 2 : i64} : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %v = kiln.concat %pv, %q {axis = 2 : i64} : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ps = kiln.shape %pk0 : (tensor<?x4x?x16xf32>) -> tensor<4xi64>
  %past = kiln.gather %ps, %i2 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %qs = kiln.shape %q : (tensor<?x4x?x16xf32>) -> tensor<4xi64>
  %seq = kiln.gather %qs, %i2 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %total = kiln.add %past, %seq : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %rj = kiln.range %i0, %total, %i1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %cols = kiln.reshape %rj, %row : (tensor<?xi64>, tensor<2xi64>) -> tensor<1x?xi64>
  %ri = kiln.range %i0, %seq, %i1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %rp = kiln.add %ri, %past : (tensor<?xi64>, tensor<i64>) -> tensor<?xi64>
  %rows = kiln.reshape %rp, %col : (tensor<?xi64>, tensor<2xi64>) -> tensor<?x1xi64>
  %cond = kiln.greater %cols, %rows : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %s1 = kiln.unsqueeze %seq {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %t1 = kiln.unsqueeze %total {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %shape = kiln.concat %s1, %t1 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %zeros = kiln.constant_of_shape %shape, dense<0.0> : tensor<1xf32> : (tensor<2xi64>) -> tensor<?x?xf32>
  %m2 = kiln.where %cond, %lowest, %zeros : (tensor<?x?xi1>, tensor<f32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %mask = kiln.unsqueeze %m2 {axes = array<i64: 0, 1>} : (tensor<?x?xf32>) -> tensor<1x1x?x?xf32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %sc = kiln.matmul %q, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %d = kiln.mul %sc, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %w = kiln.add %mask, %d : (tensor<1x1x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = kiln.softmax %w {axis = -1 : i64} : tensor<?x4x?x?xf32> -> tensor<?x4x?x?xf32>
  %o = kiln.matmul %p, %v : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}
func.func @named_other(%q: tensor<?x4x?x16xf32> {kiln.dims = ["b", "", "s", ""]}, %pk0: tensor<?x4x?x16xf32> {kiln.dims = ["b", "", "past0", ""]},
    %pk: tensor<?x4x?x16xf32> {kiln.dims = ["b", "", "past1", ""]}, %pv: tensor<?x4x?x16xf32> {kiln.dims = ["b", "", "past1", ""]}) -> tensor<?x4x?x16xf32> {
  %c = kiln.constant dense<0.25> : tensor<f32>
  %lowest = kiln.constant dense<-3.40282347E+38> : tensor<f32>
  %i0 = kiln.constant dense<0> : tensor<i64>
  %i1 = kiln.constant dense<1> : tensor<i64>
  %i2 = kiln.constant dense<2> : tensor<i64>
  %row = kiln.constant dense<[1, -1]> : tensor<2xi64>
  %col = kiln.constant dense<[-1, 1]> : tensor<2xi64>
  %k = kiln.concat %pk, %q {axis = 2 : i64} : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %v = kiln.concat %pv, %q {axis = 2 : i64} : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ps = kiln.shape %pk0 : (tensor<?x4x?x16xf32>) -> tensor<4xi64>
  %past = kiln.gather %ps, %i2 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %qs = kiln.shape %q : (tensor<?x4x?x16xf32>) -> tensor<4xi64>
  %seq = kiln.gather %qs, %i2 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %total = kiln.add %past, %seq : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %rj = kiln.range %i0, %total, %i1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %cols = kiln.reshape %rj, %row : (tensor<?xi64>, tensor<2xi64>) -> tensor<1x?xi64>
  %ri = kiln.range %i0, %seq, %i1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %rp = kiln.add %ri, %past : (tensor<?xi64>, tensor<i64>) -> tensor<?xi64>
  %rows = kiln.reshape %rp, %col : (tensor<?xi64>, tensor<2xi64>) -> tensor<?x1xi64>
  %cond = kiln.greater %cols, %rows : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %s1 = kiln.unsqueeze %seq {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %t1 = kiln.unsqueeze %total {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %shape = kiln.concat %s1, %t1 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %zeros = kiln.constant_of_shape %shape, dense<0.0> : tensor<1xf32> : (tensor<2xi64>) -> tensor<?x?xf32>
  %m2 = kiln.where %cond, %lowest, %zeros : (tensor<?x?xi1>, tensor<f32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %mask = kiln.unsqueeze %m2 {axes = array<i64: 0, 1>} : (tensor<?x?xf32>) -> tensor<1x1x?x?xf32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %sc = kiln.matmul %q, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %d = kiln.mul %sc, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %w = kiln.add %mask, %d : (tensor<1x1x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = kiln.softmax %w {axis = -1 : i64} : tensor<?x4x?x?xf32> -> tensor<?x4x?x?xf32>
  %o = kiln.matmul %p, %v : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}
