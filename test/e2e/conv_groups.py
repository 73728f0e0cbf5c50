#!/usr/bin/env python3
"""Grouped convolutions and the CNN blocks around them (EfficientNet's,
MobileNetV2's, DenseNet's, MaxViT's attention) through kiln against ONNX
Runtime on the same file.

Each model has a dynamic batch and runs at batch 1 and 3, compiled for
every CPU kernel family (--cpu native: AVX-512 on this machine, x86-64-v3:
AVX2, x86-64: the portable patch GEMM per group), and prints
`name cpu batch=B max|err| tol ok`:
  resnext     32 groups of 4 channels, 3 x 3, bias and Relu (ResNeXt)
  strided     4 groups of 8, 3 x 3 stride 2 on a 15 x 15 plane, bias
  odd         3 groups of 2 input and 3 output channels (not a multiple
              of the kernel's 4 filters), 5 x 5, dilation 2, stride (1, 2),
              asymmetric pads, on 7 x 9
  residual7   8 groups of 8 on 7 x 7 (the flat tiles), + a residual, Relu
  hardswish   2 groups, 1 x 1 kernel at stride 2, HardSwish after
  multiplier  a depthwise multiplier: group = C = 4, 8 filters
  shuffle     ShuffleNet's channel shuffle (Reshape to [N, 2, C/2, H, W],
              Transpose, Reshape to [N, -1, H, W] from the input's shape:
              the channels are dynamic to kiln) into a depthwise 3 x 3
  vec16       4 groups of 16 on 14 x 14 (the channel-vector tiles on the
              compiler's packed filter), bias, residual, Relu
  vec32s2     2 groups of 32, stride 2 from 15 x 15 to 8 x 8 (tiles of 3
              rows and a last one of 2), bias and Relu in registers
  vec8odd     3 groups of 8 (AVX2's channel-vector tiles on a filter
              repacked at run time), 5 x 5, dilation 2, stride (1, 2),
              asymmetric pads, on 9 x 11
  mbconv      EfficientNet's block: 1 x 1 and depthwise convolutions with
              SiLU (x * Sigmoid(x)), squeeze-excite, projection, residual
  mbv2        MobileNetV2's block: ReLU6 as Clip(0, 6) after the 1 x 1 and
              the strided depthwise convolutions (bounds as inputs; as
              attributes in mbv2_opset10), a Clip(0, 4) that is not ReLU6;
              mbv2_fused (64 x 64, stride 2) and mbv2_fused_k5 (40 x 40,
              5 x 5, stride 1): the expansion and depthwise convolutions
              as AVX-512's fused kernel
  dense       DenseNet's layer: concat, BatchNormalization + Relu before a
              convolution (the per-channel affine kernel), a norm at the end
  window_attention  MaxViT's attention: rank-5 Einsums, a scale and a
              relative position bias on the scores
  vec16w      2 groups of 16 with the filter a graph input (repacked at
              run time on AVX-512 too), 5 x 5 planes, Relu
  inception   an Inception block: three 1 x 1 branches with Relu on one
              input (merged into one convolution, kiln-merge-linears), 3 x 3
              and 5 x 5 after two, an average-pool branch, the concat
  stem_s2     a 3-channel 3 x 3 / 2 stem with Relu on 9 x 75 (odd rows
              and columns), stem_res one at stride 1 with dilation (2, 1),
              asymmetric pads, a residual and HardSwish (the stems' gathered
              patches on the pointwise tiles, AVX-512 and AVX2)
  taps_*      group 1, dilated 3 x 3 whose taps mostly read the padding
              (DeepLabV3's ASPP; the convolution by taps on AVX-512 and
              AVX2): dilation 4 on 9 x 9 with a residual and Relu,
              dilation 6 on 7 x 7 (only the centre tap reads the input),
              dilations (2, 3) on 6 x 9, dilation 3 on 5 x 40 rows (runs
              past one tile) with HardSwish and no bias
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, HERE)
import kiln  # noqa: E402
from run_e2e import run_ort  # noqa: E402

CPUS = ["native", "x86-64-v3", "x86-64"]


def conv_model(name, c, h, w, f, group, k, strides=(1, 1), pads=(1, 1, 1, 1),
               dil=(1, 1), bias=True, act=None, residual=False, w_input=False, seed=0):
    rng = np.random.default_rng(seed)
    cg = c // group
    inits = [] if w_input else [numpy_helper.from_array(
        (rng.standard_normal((f, cg, k, k)) / np.sqrt(cg * k * k)).astype(np.float32), "W")]
    ins = ["X", "W"]
    if bias:
        inits.append(numpy_helper.from_array(rng.standard_normal(f).astype(np.float32), "B"))
        ins.append("B")
    nodes = [helper.make_node("Conv", ins, ["Y0"], group=group, kernel_shape=[k, k],
                              strides=list(strides), pads=list(pads), dilations=list(dil))]
    oh = (h + pads[0] + pads[2] - dil[0] * (k - 1) - 1) // strides[0] + 1
    ow = (w + pads[1] + pads[3] - dil[1] * (k - 1) - 1) // strides[1] + 1
    graph_in = [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["batch", c, h, w])]
    if w_input:
        graph_in.append(helper.make_tensor_value_info("W", TensorProto.FLOAT, [f, cg, k, k]))
    last = "Y0"
    if residual:
        graph_in.append(helper.make_tensor_value_info("R", TensorProto.FLOAT,
                                                      ["batch", f, oh, ow]))
        nodes.append(helper.make_node("Add", [last, "R"], ["Y1"]))
        last = "Y1"
    if act:
        nodes.append(helper.make_node(act, [last], ["Y"]))
    else:
        nodes.append(helper.make_node("Identity", [last], ["Y"]))
    g = helper.make_graph(nodes, name, graph_in,
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT,
                                                         ["batch", f, oh, ow])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])


def shuffle_model():
    rng = np.random.default_rng(7)
    c, h, w = 8, 6, 6
    wt = numpy_helper.from_array(rng.standard_normal((c, 1, 3, 3)).astype(np.float32), "W")
    consts = [numpy_helper.from_array(np.array(v, np.int64), n) for n, v in
              (("zero", [0]), ("one", [1]), ("mid", [2, c // 2, h, w]), ("tail", [-1, h, w]))]
    nodes = [
        helper.make_node("Shape", ["X"], ["S"]),
        helper.make_node("Slice", ["S", "zero", "one"], ["N"]),
        helper.make_node("Concat", ["N", "mid"], ["S5"], axis=0),
        helper.make_node("Reshape", ["X", "S5"], ["X5"]),
        helper.make_node("Transpose", ["X5"], ["T5"], perm=[0, 2, 1, 3, 4]),
        helper.make_node("Concat", ["N", "tail"], ["S4"], axis=0),
        helper.make_node("Reshape", ["T5", "S4"], ["XS"]),
        helper.make_node("Conv", ["XS", "W"], ["Y"], group=c, kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
    ]
    g = helper.make_graph(nodes, "shuffle",
                          [helper.make_tensor_value_info("X", TensorProto.FLOAT,
                                                         ["batch", c, h, w])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT,
                                                         ["batch", c, h, w])],
                          [wt] + consts)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])


def mbconv_model():
    """EfficientNet's MBConv block as torch exports it: SiLU as x *
    Sigmoid(x) after the expanding 1 x 1 and the depthwise convolutions and
    in the squeeze-excite branch, the gate's Mul, the projecting 1 x 1 and
    the residual."""
    rng = np.random.default_rng(10)
    c, e, r, h = 16, 64, 4, 14

    def w(name, *shape):
        fan = int(np.prod(shape[1:]))
        return numpy_helper.from_array(
            (rng.standard_normal(shape) / np.sqrt(fan)).astype(np.float32), name)

    def b(name, n):
        return numpy_helper.from_array(rng.standard_normal(n).astype(np.float32) * 0.1, name)

    inits = [w("W1", e, c, 1, 1), b("B1", e), w("Wd", e, 1, 3, 3), b("Bd", e),
             w("Ws1", r, e, 1, 1), b("Bs1", r), w("Ws2", e, r, 1, 1), b("Bs2", e),
             w("W2", c, e, 1, 1), b("B2", c)]

    def silu(x, y):
        return [helper.make_node("Sigmoid", [x], [y + "_s"]),
                helper.make_node("Mul", [x, y + "_s"], [y])]

    nodes = [helper.make_node("Conv", ["X", "W1", "B1"], ["e0"], kernel_shape=[1, 1])]
    nodes += silu("e0", "e1")
    nodes += [helper.make_node("Conv", ["e1", "Wd", "Bd"], ["d0"], kernel_shape=[3, 3],
                               pads=[1, 1, 1, 1], group=e)]
    nodes += silu("d0", "d1")
    nodes += [helper.make_node("GlobalAveragePool", ["d1"], ["p"]),
              helper.make_node("Conv", ["p", "Ws1", "Bs1"], ["s0"], kernel_shape=[1, 1])]
    nodes += silu("s0", "s1")
    nodes += [helper.make_node("Conv", ["s1", "Ws2", "Bs2"], ["s2"], kernel_shape=[1, 1]),
              helper.make_node("Sigmoid", ["s2"], ["g"]),
              helper.make_node("Mul", ["d1", "g"], ["dg"]),
              helper.make_node("Conv", ["dg", "W2", "B2"], ["y0"], kernel_shape=[1, 1]),
              helper.make_node("Add", ["y0", "X"], ["Y"])]
    g = helper.make_graph(nodes, "mbconv",
                          [helper.make_tensor_value_info("X", TensorProto.FLOAT,
                                                         ["batch", c, h, h])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT,
                                                         ["batch", c, h, h])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def mbv2_model(opset, h=15, k=3, s=2, name="mbv2"):
    """MobileNetV2's inverted residual block with ReLU6 as torch exports it:
    Clip(0, 6) with its bounds as inputs (opset 11+) or as attributes
    (older opsets), after the expanding 1 x 1 and the strided depthwise
    convolutions; a Clip(0, 4) after the projection stays a clip. On planes
    whose output rows fill 16-lane vectors (h = 64 at stride 2, 40 at
    stride 1) AVX-512 runs the expansion and the depthwise convolution as
    one fused kernel (pwdw_f32)."""
    rng = np.random.default_rng(11)
    c, e, f = 8, 48, 16
    oh = (h + 2 * (k // 2) - k) // s + 1
    inits = [numpy_helper.from_array(a.astype(np.float32), n) for n, a in (
        ("W1", rng.standard_normal((e, c, 1, 1)) * 0.8),
        ("B1", rng.standard_normal(e)),
        ("Wd", rng.standard_normal((e, 1, k, k)) * 0.8),
        ("Bd", rng.standard_normal(e)),
        ("W2", rng.standard_normal((f, e, 1, 1)) * 0.3),
        ("B2", rng.standard_normal(f)))]

    def clip(x, y, hi):
        if opset >= 11:
            return [helper.make_node("Clip", [x, "zero", "six" if hi == 6 else "four"], [y])]
        return [helper.make_node("Clip", [x], [y], min=0.0, max=float(hi))]

    if opset >= 11:
        inits += [numpy_helper.from_array(np.array(v, np.float32), n)
                  for n, v in (("zero", 0.0), ("six", 6.0), ("four", 4.0))]
    nodes = [helper.make_node("Conv", ["X", "W1", "B1"], ["e0"], kernel_shape=[1, 1])]
    nodes += clip("e0", "e1", 6)
    nodes += [helper.make_node("Conv", ["e1", "Wd", "Bd"], ["d0"], kernel_shape=[k, k],
                               pads=[k // 2] * 4, strides=[s, s], group=e)]
    nodes += clip("d0", "d1", 6)
    nodes += [helper.make_node("Conv", ["d1", "W2", "B2"], ["y0"], kernel_shape=[1, 1])]
    nodes += clip("y0", "Y", 4)
    g = helper.make_graph(nodes, name,
                          [helper.make_tensor_value_info("X", TensorProto.FLOAT,
                                                         ["batch", c, h, h])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT,
                                                         ["batch", f, oh, oh])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def dense_model():
    """DenseNet's layer as torch exports it: a concat of earlier features,
    BatchNormalization -> Relu -> 1 x 1 conv (the norm not absorbed by any
    convolution: a per-channel affine kernel), the conv's own norm folded,
    3 x 3 conv, concat again; and a transition's norm with no activation
    on a strided view-free input."""
    rng = np.random.default_rng(12)
    c0, g, h = 12, 8, 9

    def bn(prefix, n):
        return [numpy_helper.from_array(a.astype(np.float32), prefix + k) for k, a in (
            ("_s", rng.uniform(0.5, 1.5, n)), ("_b", rng.standard_normal(n) * 0.2),
            ("_m", rng.standard_normal(n) * 0.2), ("_v", rng.uniform(0.5, 2.0, n)))]

    inits = [numpy_helper.from_array((rng.standard_normal((g, c0, 3, 3)) * 0.3)
                                     .astype(np.float32), "W0"),
             numpy_helper.from_array((rng.standard_normal((4 * g, c0 + g, 1, 1)) * 0.3)
                                     .astype(np.float32), "W1"),
             numpy_helper.from_array((rng.standard_normal((g, 4 * g, 3, 3)) * 0.2)
                                     .astype(np.float32), "W2")]
    inits += bn("n1", c0 + g) + bn("n2", 4 * g) + bn("n3", c0 + 2 * g)

    def norm(x, y, p):
        return helper.make_node("BatchNormalization", [x, p + "_s", p + "_b", p + "_m",
                                                       p + "_v"], [y], epsilon=1e-5)

    nodes = [helper.make_node("Conv", ["X", "W0"], ["f0"], kernel_shape=[3, 3],
                              pads=[1, 1, 1, 1]),
             helper.make_node("Concat", ["X", "f0"], ["c1"], axis=1),
             norm("c1", "n1", "n1"), helper.make_node("Relu", ["n1"], ["r1"]),
             helper.make_node("Conv", ["r1", "W1"], ["h1"], kernel_shape=[1, 1]),
             norm("h1", "n2", "n2"), helper.make_node("Relu", ["n2"], ["r2"]),
             helper.make_node("Conv", ["r2", "W2"], ["f1"], kernel_shape=[3, 3],
                              pads=[1, 1, 1, 1]),
             helper.make_node("Concat", ["X", "f0", "f1"], ["c2"], axis=1),
             norm("c2", "Y", "n3")]
    graph = helper.make_graph(nodes, "dense",
                              [helper.make_tensor_value_info("X", TensorProto.FLOAT,
                                                             ["batch", c0, h, h])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT,
                                                             ["batch", c0 + 2 * g, h, h])],
                              inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def window_attention_model():
    """MaxViT's block and grid attention as torchvision exports it: rank-5
    [B, G, H, S, D] operands, Einsum for Q.K^T and P.V, a scale and a
    relative position bias [H, S, S] on the scores (kiln: the einsums as
    matmuls, one fused attention, its batch dims collapsed for the
    kernel)."""
    rng = np.random.default_rng(13)
    g, h, s_, d = 4, 2, 7, 8
    bias = numpy_helper.from_array(rng.standard_normal((h, s_, s_)).astype(np.float32), "R")
    scale = numpy_helper.from_array(np.array(d ** -0.5, np.float32), "scale")
    nodes = [helper.make_node("Einsum", ["Q", "K"], ["s0"], equation="bghid,bghjd->bghij"),
             helper.make_node("Mul", ["s0", "scale"], ["s1"]),
             helper.make_node("Add", ["s1", "R"], ["s2"]),
             helper.make_node("Softmax", ["s2"], ["p"], axis=-1),
             helper.make_node("Einsum", ["p", "V"], ["Y"], equation="bghij,bghjd->bghid")]
    ins = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", g, h, s_, d])
           for n in ("Q", "K", "V")]
    graph = helper.make_graph(nodes, "window_attention", ins,
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT,
                                                             ["batch", g, h, s_, d])],
                              [bias, scale])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def pools_model():
    """The poolings of SqueezeNet, GoogLeNet, Inception and DenseNet as
    torch exports them, with their branch concats: MaxPool 3 x 3 / 2 with
    ceil_mode, MaxPool 3 x 3 / 1 pad 1, Pad + AveragePool (older
    exporters' count_include_pad), AveragePool 3 x 3 / 1 pad 1 counting
    the pads and one not counting them, AveragePool 3 x 3 / 2 with
    ceil_mode (windows past the end) (the pooling kernels' stride-1 and stride-2
    register paths, masked edges and divisors)."""
    rng = np.random.default_rng(14)
    c, h = 16, 24
    inits = [numpy_helper.from_array((rng.standard_normal((c, c, 1, 1)) * 0.3)
                                     .astype(np.float32), n) for n in ("W0", "W1", "W2")]
    inits.append(numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64),
                                         "pads"))
    nodes = [helper.make_node("MaxPool", ["X"], ["m0"], kernel_shape=[3, 3],
                              strides=[2, 2], ceil_mode=1),
             helper.make_node("Conv", ["m0", "W0"], ["a"], kernel_shape=[1, 1]),
             helper.make_node("MaxPool", ["m0"], ["b0"], kernel_shape=[3, 3],
                              pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["b0", "W1"], ["b"], kernel_shape=[1, 1]),
             helper.make_node("Pad", ["m0", "pads"], ["p0"]),
             helper.make_node("AveragePool", ["p0"], ["c"], kernel_shape=[3, 3]),
             helper.make_node("AveragePool", ["m0"], ["d0"], kernel_shape=[3, 3],
                              pads=[1, 1, 1, 1], count_include_pad=1),
             helper.make_node("Conv", ["d0", "W2"], ["d"], kernel_shape=[1, 1]),
             helper.make_node("AveragePool", ["m0"], ["e"], kernel_shape=[3, 3],
                              pads=[1, 1, 1, 1]),
             helper.make_node("Concat", ["a", "b", "c", "d", "e"], ["cat"], axis=1),
             helper.make_node("AveragePool", ["cat"], ["Y"], kernel_shape=[3, 3],
                              strides=[2, 2], ceil_mode=1)]
    graph = helper.make_graph(nodes, "pools",
                              [helper.make_tensor_value_info("X", TensorProto.FLOAT,
                                                             ["batch", c, h, h])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT,
                                                             ["batch", 5 * c, 6, 6])],
                              inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def same_pad_model():
    """TensorFlow's SAME padding at stride 2 as tf2onnx writes it: an
    explicit zero Pad (end only) before a convolution without pads (kiln
    takes the pad into the convolution)."""
    rng = np.random.default_rng(15)
    inits = [numpy_helper.from_array((rng.standard_normal((16, 8, 3, 3)) * 0.3)
                                     .astype(np.float32), "W"),
             numpy_helper.from_array(np.array([0, 0, 0, 0, 0, 0, 1, 1], np.int64), "pads"),
             numpy_helper.from_array(np.array(0.0, np.float32), "zero")]
    nodes = [helper.make_node("Pad", ["X", "pads", "zero"], ["p"]),
             helper.make_node("Conv", ["p", "W"], ["c"], kernel_shape=[3, 3], strides=[2, 2]),
             helper.make_node("Relu", ["c"], ["Y"])]
    graph = helper.make_graph(nodes, "same_pad",
                              [helper.make_tensor_value_info("X", TensorProto.FLOAT,
                                                             ["batch", 8, 15, 15])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT,
                                                             ["batch", 16, 7, 7])],
                              inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def concat_out_model():
    """A channel concat of two convolutions (a 1 x 1 and a 3 x 3 with
    ReLU) that is the model's output: kiln's kernels write their slices of
    the caller's output buffer."""
    rng = np.random.default_rng(16)
    inits = [numpy_helper.from_array((rng.standard_normal((8, 4, 1, 1)) * 0.3)
                                     .astype(np.float32), "W0"),
             numpy_helper.from_array((rng.standard_normal((8, 4, 3, 3)) * 0.3)
                                     .astype(np.float32), "W1")]
    nodes = [helper.make_node("Conv", ["X", "W0"], ["a"], kernel_shape=[1, 1]),
             helper.make_node("Conv", ["X", "W1"], ["b"], kernel_shape=[3, 3],
                              pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["b"], ["br"]),
             helper.make_node("Concat", ["a", "br"], ["Y"], axis=1)]
    graph = helper.make_graph(nodes, "concat_out",
                              [helper.make_tensor_value_info("X", TensorProto.FLOAT,
                                                             ["batch", 4, 20, 20])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT,
                                                             ["batch", 16, 20, 20])],
                              inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def inception_model():
    """An Inception block as torchvision exports it (BN folded): three 1 x 1
    convolutions with Relu on the block's input (kiln merges them into one
    and splits the channels), a 3 x 3 and a 5 x 5 after two of them, an
    average-pool branch with its own 1 x 1, and the channel concat."""
    rng = np.random.default_rng(21)
    c, h = 24, 9

    def w(name, *shape):
        fan = int(np.prod(shape[1:]))
        return numpy_helper.from_array(
            (rng.standard_normal(shape) / np.sqrt(fan)).astype(np.float32), name)

    def b(name, n):
        return numpy_helper.from_array(rng.standard_normal(n).astype(np.float32) * 0.1, name)

    inits = [w("W1", 16, c, 1, 1), b("B1", 16), w("W2", 12, c, 1, 1), b("B2", 12),
             w("W3", 16, c, 1, 1), b("B3", 16), w("W4", 20, 12, 3, 3), b("B4", 20),
             w("W5", 8, 16, 5, 5), b("B5", 8), w("W6", 8, c, 1, 1), b("B6", 8)]

    def conv(x, wn, bn, y, k):
        return [helper.make_node("Conv", [x, wn, bn], [y + "_c"], kernel_shape=[k, k],
                                 pads=[k // 2] * 4),
                helper.make_node("Relu", [y + "_c"], [y])]

    nodes = conv("X", "W1", "B1", "a", 1) + conv("X", "W2", "B2", "b0", 1)
    nodes += conv("b0", "W4", "B4", "b", 3) + conv("X", "W3", "B3", "d0", 1)
    nodes += conv("d0", "W5", "B5", "d", 5)
    nodes += [helper.make_node("AveragePool", ["X"], ["p0"], kernel_shape=[3, 3],
                               pads=[1, 1, 1, 1], count_include_pad=1)]
    nodes += conv("p0", "W6", "B6", "p", 1)
    nodes += [helper.make_node("Concat", ["a", "b", "d", "p"], ["Y"], axis=1)]
    graph = helper.make_graph(nodes, "inception",
                              [helper.make_tensor_value_info("X", TensorProto.FLOAT,
                                                             ["batch", c, h, h])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT,
                                                             ["batch", 52, h, h])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def models():
    return {
        "resnext": conv_model("resnext", 128, 14, 14, 128, 32, 3, act="Relu"),
        "strided": conv_model("strided", 32, 15, 15, 32, 4, 3, strides=(2, 2), seed=1),
        "odd": conv_model("odd", 6, 7, 9, 9, 3, 5, strides=(1, 2), pads=(0, 1, 2, 1),
                          dil=(2, 2), seed=2),
        "residual7": conv_model("residual7", 64, 7, 7, 64, 8, 3, act="Relu", residual=True,
                                bias=False, seed=3),
        "hardswish": conv_model("hardswish", 8, 10, 10, 6, 2, 1, strides=(2, 2),
                                pads=(0, 0, 0, 0), act="HardSwish", seed=4),
        "multiplier": conv_model("multiplier", 4, 9, 9, 8, 4, 3, seed=5),
        "shuffle": shuffle_model(),
        "vec16": conv_model("vec16", 64, 14, 14, 64, 4, 3, act="Relu", residual=True,
                            seed=6),
        "vec32s2": conv_model("vec32s2", 64, 15, 15, 64, 2, 3, strides=(2, 2),
                              act="Relu", seed=7),
        "vec8odd": conv_model("vec8odd", 24, 9, 11, 24, 3, 5, strides=(1, 2),
                              pads=(0, 1, 2, 1), dil=(2, 2), bias=False, seed=8),
        "mbconv": mbconv_model(),
        "mbv2": mbv2_model(13),
        "mbv2_opset10": mbv2_model(10),
        "mbv2_fused": mbv2_model(13, h=64, name="mbv2_fused"),
        "mbv2_fused_k5": mbv2_model(13, h=40, k=5, s=1, name="mbv2_fused_k5"),
        "dense": dense_model(),
        "window_attention": window_attention_model(),
        "vec16w": conv_model("vec16w", 32, 5, 5, 32, 2, 3, act="Relu", w_input=True,
                             seed=9),
        "pools": pools_model(),
        "same_pad": same_pad_model(),
        "concat_out": concat_out_model(),
        # group 1, taps mostly in the padding (the convolution by taps)
        "taps_d4": conv_model("taps_d4", 32, 9, 9, 24, 1, 3, pads=(4, 4, 4, 4),
                              dil=(4, 4), act="Relu", residual=True, seed=17),
        "taps_d6": conv_model("taps_d6", 32, 7, 7, 20, 1, 3, pads=(6, 6, 6, 6),
                              dil=(6, 6), seed=18),
        "taps_asym": conv_model("taps_asym", 40, 6, 9, 16, 1, 3, pads=(2, 3, 2, 3),
                                dil=(2, 3), residual=True, seed=19),
        "inception": inception_model(),
        # 3-channel 3 x 3 stems (the gathered patches on the pointwise tiles)
        "stem_s2": conv_model("stem_s2", 3, 9, 75, 16, 1, 3, strides=(2, 2),
                              act="Relu", seed=22),
        "stem_res": conv_model("stem_res", 3, 12, 12, 24, 1, 3, pads=(2, 0, 1, 3),
                               dil=(2, 1), act="HardSwish", residual=True, seed=23),
        "taps_wide": conv_model("taps_wide", 16, 5, 40, 8, 1, 3, pads=(3, 3, 3, 3),
                                dil=(3, 3), act="HardSwish", bias=False, seed=20),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--node", default="node")
    args = ap.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, m in models().items():
            path = os.path.join(tmp, name + ".onnx")
            onnx.save(m, path)
            for cpu in CPUS:
                so = os.path.join(tmp, f"{name}_{cpu}.so")
                kiln.compile(path, so, kiln=args.kiln, cpu=cpu)
                model = kiln.load(so)
                for batch in (1, 3):
                    rng = np.random.default_rng(batch)
                    feeds = {}
                    for info in model.inputs:
                        dims = [batch if d == "batch" else d for d in info["dims"]]
                        feeds[info["name"]] = rng.standard_normal(dims).astype(np.float32)
                    got = model.run(feeds)["Y"]
                    ref = run_ort(path, feeds, os.path.join(tmp, f"{name}_{cpu}_{batch}"),
                                  args.node)["Y"]
                    tol = 1e-4 * max(1.0, float(np.abs(ref).max()))
                    err = float(np.abs(got - ref).max()) if got.shape == ref.shape else np.inf
                    ok = got.shape == ref.shape and err <= tol
                    failed += not ok
                    print(f"{name} {cpu} batch={batch} shape={list(got.shape)} "
                          f"max|err| {err:.3g} tol {tol:.3g} {'ok' if ok else 'FAIL'}")
                model.close()
    print(f"conv_groups: {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
