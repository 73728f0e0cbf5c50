// RUN: kiln-opt %s -split-input-file -convert-kiln-to-linalg="attention-key-block=4" | FileCheck %s
// RUN: not kiln-opt %s -convert-kiln-to-linalg="attention-key-block=0" 2>&1 | FileCheck %s --check-prefix=BADBLOCK
// BADBLOCK: error: attention-key-block must be >= 1, got 0
// RUN: kiln-opt %s -split-input-file -convert-kiln-to-linalg="attention-key-block=4" | FileCheck %s --check-prefix=NOKILN

// kiln.attention lowers completely.
// NOKILN-NOT: kiln.

// The streaming softmax over blocks of 4 keys (Sk = 10: blocks of 4, 4, 2).
// The loop carries the running row max m (starts at the lowest float), the
// running denominator l (0) and the unnormalized output acc (0). Each step
// slices a block of K and V along the key dim, contracts Q . K_b^T over D
// (loop dims b, h, i, j, d with d the reduction), scales the scores, takes
// the row max, alpha = exp(m - max(m, rowmax)), m' = max(m, rowmax) updated
// in place, P = exp(S - m'), l = l * alpha + rowsum(P) and acc = acc * alpha
// + P . V_b; after the loop the result is acc / l.
// CHECK-DAG:   #[[$QMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG:   #[[$KMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>
// CHECK-DAG:   #[[$SMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG:   #[[$VMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
// CHECK-DAG:   #[[$ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG:   #[[$ROW:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG:   #[[$ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @attention(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<1x2x8x16xf32>, %[[K:[^:]*]]: tensor<1x2x10x16xf32>, %[[V:[^:]*]]: tensor<1x2x10x16xf32>)
// CHECK-DAG:     %[[SCALE:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG:     %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG:     %[[LOW:.*]] = arith.constant -3.40282347E+38 : f32
// CHECK-DAG:     %[[C10:.*]] = arith.constant 10 : index
// CHECK:         %[[M0:.*]] = linalg.fill ins(%[[LOW]] : f32) outs(%{{.*}} : tensor<1x2x8xf32>)
// CHECK:         %[[L0:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<1x2x8xf32>)
// CHECK:         %[[A0:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<1x2x8x16xf32>)
// CHECK:         %[[LOOP:.*]]:3 = scf.for %[[J:.*]] = %[[C0]] to %[[C10]] step %[[C4]] iter_args(%[[M:.*]] = %[[M0]], %[[L:.*]] = %[[L0]], %[[ACC:.*]] = %[[A0]]) -> (tensor<1x2x8xf32>, tensor<1x2x8xf32>, tensor<1x2x8x16xf32>) {
// CHECK:           %[[REST:.*]] = arith.subi %[[C10]], %[[J]] : index
// CHECK:           %[[BS:.*]] = arith.minsi %[[REST]], %[[C4]] : index
// CHECK:           %[[KB:.*]] = tensor.extract_slice %[[K]][0, 0, %[[J]], 0] [1, 2, %[[BS]], 16] [1, 1, 1, 1] : tensor<1x2x10x16xf32> to tensor<1x2x?x16xf32>
// CHECK:           %[[VB:.*]] = tensor.extract_slice %[[V]][0, 0, %[[J]], 0] [1, 2, %[[BS]], 16] [1, 1, 1, 1] : tensor<1x2x10x16xf32> to tensor<1x2x?x16xf32>
// S = Q . K_b^T
// CHECK:           %[[S0:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<1x2x8x?xf32>)
// CHECK:           %[[S:.*]] = linalg.generic {indexing_maps = [#[[$QMAP]], #[[$KMAP]], #[[$SMAP]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME:        ins(%[[Q]], %[[KB]] : tensor<1x2x8x16xf32>, tensor<1x2x?x16xf32>) outs(%[[S0]] : tensor<1x2x8x?xf32>)
// CHECK:             arith.mulf
// CHECK:             arith.addf
// scale
// CHECK:           %[[SS:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME:        ins(%[[S]] : tensor<1x2x8x?xf32>)
// CHECK:             arith.mulf %{{.*}}, %[[SCALE]] : f32
// rowmax(S)
// CHECK:           %[[RM:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME:        ins(%[[SS]] : tensor<1x2x8x?xf32>)
// CHECK:             arith.maximumf
// alpha = exp(m - max(m, rowmax))
// CHECK:           %[[ALPHA:.*]] = linalg.generic {indexing_maps = [#[[$ID3]], #[[$ID3]], #[[$ID3]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME:        ins(%[[M]], %[[RM]] : tensor<1x2x8xf32>, tensor<1x2x8xf32>)
// CHECK:             %[[MX:.*]] = arith.maximumf
// CHECK:             %[[D:.*]] = arith.subf %{{.*}}, %[[MX]] : f32
// CHECK:             math.exp %[[D]] : f32
// m' = max(m, rowmax), in place
// CHECK:           %[[MNEW:.*]] = linalg.generic
// CHECK-SAME:        ins(%[[RM]] : tensor<1x2x8xf32>) outs(%[[M]] : tensor<1x2x8xf32>)
// CHECK:             arith.maximumf
// P = exp(S - m')
// CHECK:           %[[P:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW]], #[[$ID4]]]
// CHECK-SAME:        ins(%[[SS]], %[[MNEW]] : tensor<1x2x8x?xf32>, tensor<1x2x8xf32>)
// CHECK:             arith.subf
// CHECK:             math.exp
// l = l * alpha + rowsum(P)
// CHECK:           %[[LS:.*]] = linalg.generic
// CHECK-SAME:        ins(%[[ALPHA]] : tensor<1x2x8xf32>) outs(%[[L]] : tensor<1x2x8xf32>)
// CHECK:             arith.mulf
// CHECK:           %[[LNEW:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME:        ins(%[[P]] : tensor<1x2x8x?xf32>) outs(%[[LS]] : tensor<1x2x8xf32>)
// CHECK:             arith.addf
// acc = acc * alpha + P . V_b
// CHECK:           %[[AS:.*]] = linalg.generic
// CHECK-SAME:        ins(%[[ALPHA]] : tensor<1x2x8xf32>) outs(%[[ACC]] : tensor<1x2x8x16xf32>)
// CHECK:             arith.mulf
// CHECK:           %[[ANEW:.*]] = linalg.generic {indexing_maps = [#[[$QMAP]], #[[$VMAP]], #[[$SMAP]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME:        ins(%[[P]], %[[VB]] : tensor<1x2x8x?xf32>, tensor<1x2x?x16xf32>) outs(%[[AS]] : tensor<1x2x8x16xf32>)
// CHECK:           scf.yield %[[MNEW]], %[[LNEW]], %[[ANEW]] : tensor<1x2x8xf32>, tensor<1x2x8xf32>, tensor<1x2x8x16xf32>
// CHECK:         }
// result = acc / l
// CHECK:         %[[OUT:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME:      ins(%[[LOOP]]#2, %[[LOOP]]#1 : tensor<1x2x8x16xf32>, tensor<1x2x8xf32>)
// CHECK:           arith.divf
// CHECK:         return %[[OUT]] : tensor<1x2x8x16xf32>
func.func @attention(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x10x16xf32>, %v: tensor<1x2x10x16xf32>) -> tensor<1x2x8x16xf32> {
  %0 = kiln.attention %q, %k, %v {scale = 2.500000e-01 : f32} : (tensor<1x2x8x16xf32>, tensor<1x2x10x16xf32>, tensor<1x2x10x16xf32>) -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

// A boolean [B, 1, 1, Sk] mask with a fill: the mask is sliced along the key
// dim with K and V, read with its unit dims broadcast (constant 0 in the
// map), and the scaled score is kept where the mask is true, the fill
// (-1e9) elsewhere.
// CHECK-DAG:   #[[$ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG:   #[[$MMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, 0, 0, d3)>
// CHECK-LABEL: func.func @bool_mask(
// CHECK-SAME:    %[[MASK:[^:]*]]: tensor<2x1x1x10xi1>)
// CHECK-DAG:     %[[FILL:.*]] = arith.constant -1.000000e+09 : f32
// CHECK-DAG:     %[[SCALE:.*]] = arith.constant 2.500000e-01 : f32
// CHECK:         scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(
// CHECK:           %[[BS:.*]] = arith.minsi
// CHECK:           %[[S:.*]] = linalg.generic
// CHECK-SAME:        iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
// CHECK:           %[[MB:.*]] = tensor.extract_slice %[[MASK]][0, 0, 0, %[[J]]] [2, 1, 1, %[[BS]]] [1, 1, 1, 1] : tensor<2x1x1x10xi1> to tensor<2x1x1x?xi1>
// CHECK:           linalg.generic {indexing_maps = [#[[$ID4]], #[[$MMAP]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME:        ins(%[[S]], %[[MB]] : tensor<2x4x8x?xf32>, tensor<2x1x1x?xi1>)
// CHECK:           ^bb0(%[[X:[^:]*]]: f32, %[[KEEP:[^:]*]]: i1, %{{[^:]*}}: f32):
// CHECK-NEXT:        %[[XS:.*]] = arith.mulf %[[X]], %[[SCALE]] : f32
// CHECK-NEXT:        %[[SEL:.*]] = arith.select %[[KEEP]], %[[XS]], %[[FILL]] : f32
// CHECK-NEXT:        linalg.yield %[[SEL]] : f32
// CHECK:           arith.maximumf
// CHECK:           math.exp
// CHECK:           scf.yield
// CHECK:         arith.divf
func.func @bool_mask(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x10x16xf32>, %v: tensor<2x4x10x16xf32>, %m: tensor<2x1x1x10xi1>) -> tensor<2x4x8x16xf32> {
  %0 = kiln.attention %q, %k, %v mask %m {scale = 2.500000e-01 : f32, mask_fill = -1.0e9 : f32} : (tensor<2x4x8x16xf32>, tensor<2x4x10x16xf32>, tensor<2x4x10x16xf32>, tensor<2x1x1x10xi1>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

// A boolean mask without a fill excludes: the lowest float is selected.
// A mask whose key dim is 1 is not sliced, and reads key 0 for every block;
// its head dim (1 against 2 heads) reads 0, while its unit batch dim matches
// the batch of 1 and keeps its loop dim.
// CHECK-DAG:   #[[$MMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, 0)>
// CHECK-LABEL: func.func @bool_mask_no_fill_key_broadcast(
// CHECK-SAME:    %[[MASK:[^:]*]]: tensor<1x1x8x1xi1>)
// CHECK-DAG:     %[[LOW:.*]] = arith.constant -3.40282347E+38 : f32
// CHECK:         scf.for
// CHECK-NOT:       tensor.extract_slice %[[MASK]]
// CHECK:           linalg.generic {indexing_maps = [#{{.*}}, #[[$MMAP]], #{{.*}}]
// CHECK-SAME:        ins(%{{.*}}, %[[MASK]] : tensor<1x2x8x?xf32>, tensor<1x1x8x1xi1>)
// CHECK:           ^bb0(%{{[^:]*}}: f32, %[[KEEP:[^:]*]]: i1, %{{[^:]*}}: f32):
// CHECK:             arith.select %[[KEEP]], %{{.*}}, %[[LOW]] : f32
func.func @bool_mask_no_fill_key_broadcast(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x10x16xf32>, %v: tensor<1x2x10x16xf32>, %m: tensor<1x1x8x1xi1>) -> tensor<1x2x8x16xf32> {
  %0 = kiln.attention %q, %k, %v mask %m {scale = 2.500000e-01 : f32} : (tensor<1x2x8x16xf32>, tensor<1x2x10x16xf32>, tensor<1x2x10x16xf32>, tensor<1x1x8x1xi1>) -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

// A float [Sq, Sk] mask is added to the scaled score; its map reads the
// query and key loop dims only.
// CHECK-DAG:   #[[$MMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-LABEL: func.func @float_mask(
// CHECK-SAME:    %[[MASK:[^:]*]]: tensor<8x10xf32>)
// CHECK:         scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(
// CHECK:           %[[BS:.*]] = arith.minsi
// CHECK:           %[[MB:.*]] = tensor.extract_slice %[[MASK]][0, %[[J]]] [8, %[[BS]]] [1, 1] : tensor<8x10xf32> to tensor<8x?xf32>
// CHECK:           linalg.generic {indexing_maps = [#{{.*}}, #[[$MMAP]], #{{.*}}]
// CHECK-SAME:        ins(%{{.*}}, %[[MB]] : tensor<1x2x8x?xf32>, tensor<8x?xf32>)
// CHECK:           ^bb0(%[[X:[^:]*]]: f32, %[[MV:[^:]*]]: f32, %{{[^:]*}}: f32):
// CHECK-NEXT:        %[[XS:.*]] = arith.mulf %[[X]], %{{.*}} : f32
// CHECK-NEXT:        %[[SUM:.*]] = arith.addf %[[XS]], %[[MV]] : f32
// CHECK-NEXT:        linalg.yield %[[SUM]] : f32
func.func @float_mask(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x10x16xf32>, %v: tensor<1x2x10x16xf32>, %m: tensor<8x10xf32>) -> tensor<1x2x8x16xf32> {
  %0 = kiln.attention %q, %k, %v mask %m {scale = 2.500000e-01 : f32} : (tensor<1x2x8x16xf32>, tensor<1x2x10x16xf32>, tensor<1x2x10x16xf32>, tensor<8x10xf32>) -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

// Causal: key j0 + j is excluded (set to the lowest float) when it is past
// query i + (Sk - Sq) = i + 2, compared with a signed greater-than on the
// generic's indices.
// CHECK-LABEL: func.func @causal(
// CHECK-DAG:     %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG:     %[[LOW:.*]] = arith.constant -3.40282347E+38 : f32
// CHECK:         scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(
// CHECK:           linalg.generic
// CHECK-SAME:        iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
// CHECK:           linalg.generic
// CHECK-SAME:        iterator_types = ["parallel", "parallel", "parallel", "parallel"]
// CHECK:             %[[XS:.*]] = arith.mulf
// CHECK:             %[[I:.*]] = linalg.index 2 : index
// CHECK:             %[[JJ:.*]] = linalg.index 3 : index
// CHECK:             %[[KEY:.*]] = arith.addi %[[JJ]], %[[J]] : index
// CHECK:             %[[LIM:.*]] = arith.addi %[[I]], %[[C2]] : index
// CHECK:             %[[OUT:.*]] = arith.cmpi sgt, %[[KEY]], %[[LIM]] : index
// CHECK:             %[[SEL:.*]] = arith.select %[[OUT]], %[[LOW]], %[[XS]] : f32
// CHECK:             linalg.yield %[[SEL]] : f32
// CHECK:           scf.yield
func.func @causal(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x10x16xf32>, %v: tensor<1x2x10x16xf32>) -> tensor<1x2x8x16xf32> {
  %0 = kiln.attention %q, %k, %v {scale = 2.500000e-01 : f32, causal = true} : (tensor<1x2x8x16xf32>, tensor<1x2x10x16xf32>, tensor<1x2x10x16xf32>) -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

// Grouped-query attention: 4 query heads over 2 key/value heads, so query
// head h reads K/V head h floordiv 2 in both contractions; K/V blocks keep
// their 2 heads while the scores and the output have 4. Dv (32) differs
// from D (16).
// CHECK-DAG:   #[[$KMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d3, d4)>
// CHECK-DAG:   #[[$VMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d4, d3)>
// CHECK-LABEL: func.func @gqa(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<1x4x8x16xf32>, %[[K:[^:]*]]: tensor<1x2x10x16xf32>, %[[V:[^:]*]]: tensor<1x2x10x32xf32>)
// CHECK:         scf.for {{.*}} -> (tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8x32xf32>) {
// CHECK:           %[[KB:.*]] = tensor.extract_slice %[[K]]{{.*}} to tensor<1x2x?x16xf32>
// CHECK:           %[[VB:.*]] = tensor.extract_slice %[[V]]{{.*}} to tensor<1x2x?x32xf32>
// CHECK:           linalg.generic {indexing_maps = [#{{.*}}, #[[$KMAP]], #{{.*}}]
// CHECK-SAME:        ins(%[[Q]], %[[KB]] : tensor<1x4x8x16xf32>, tensor<1x2x?x16xf32>) outs(%{{.*}} : tensor<1x4x8x?xf32>)
// CHECK:           linalg.generic {indexing_maps = [#{{.*}}, #[[$VMAP]], #{{.*}}]
// CHECK-SAME:        ins(%{{.*}}, %[[VB]] : tensor<1x4x8x?xf32>, tensor<1x2x?x32xf32>) outs(%{{.*}} : tensor<1x4x8x32xf32>)
// CHECK:           scf.yield
// CHECK:         arith.divf
// CHECK:         return %{{.*}} : tensor<1x4x8x32xf32>
func.func @gqa(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x10x16xf32>, %v: tensor<1x2x10x32xf32>) -> tensor<1x4x8x32xf32> {
  %0 = kiln.attention %q, %k, %v {scale = 2.500000e-01 : f32} : (tensor<1x4x8x16xf32>, tensor<1x2x10x16xf32>, tensor<1x2x10x32xf32>) -> tensor<1x4x8x32xf32>
  return %0 : tensor<1x4x8x32xf32>
}

// -----

// A key length known only at run time bounds the loop; the key and value
// lengths are checked against each other before it.
// CHECK-LABEL: func.func @dynamic_keys(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<1x2x8x16xf32>, %[[K:[^:]*]]: tensor<1x2x?x16xf32>, %[[V:[^:]*]]: tensor<1x2x?x16xf32>)
// CHECK:         call @kiln_rt_check_dim
// CHECK:         %[[SK:.*]] = tensor.dim %[[K]], %{{.*}} : tensor<1x2x?x16xf32>
// CHECK:         scf.for %{{.*}} = %{{.*}} to %[[SK]] step %{{.*}} iter_args(
func.func @dynamic_keys(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x?x16xf32>, %v: tensor<1x2x?x16xf32>) -> tensor<1x2x8x16xf32> {
  %0 = kiln.attention %q, %k, %v {scale = 2.500000e-01 : f32} : (tensor<1x2x8x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}
