#!/usr/bin/env python3
"""Models at opsets 7-12 in the forms other converters (tf2onnx, keras2onnx,
older exporters) write, built with the onnx helper API. The importer upgrades
them to opset 13 with ONNX's version converter (plus its own handling of the
old Softmax axis). Each exercises ops whose form changed by opset 13:

  legacy_softmax_op11  Softmax/LogSoftmax with the old 2-D coercion (axis 1
                       on a rank-3 input: normalizes over dims 1 and 2),
                       Unsqueeze/Squeeze/ReduceSum with axes attributes,
                       Split with a split attribute, Clip with min/max inputs
  cnn_op9              Upsample (removed in opset 10), BatchNormalization
                       (opset 9), Pad with pads as an attribute, Clip with
                       min/max attributes (opset 6 form), MaxPool, Gemm,
                       Flatten, Dropout
  mlp_op7              Gemm with the opset-7 form, Softmax default axis 1 on
                       a rank-2 input, Sum, Mul with broadcasting, Dropout
                       opset 7

usage: make_old_opsets.py OUTDIR
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(7)


def init(name, shape, scale=0.3):
    return numpy_helper.from_array((RNG.standard_normal(shape) * scale).astype(np.float32), name)


def save(model, outdir, name, opset):
    model.opset_import[0].version = opset
    model.ir_version = 4 if opset <= 9 else 6
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(outdir, name + ".onnx"))
    print(f"{name}: {len(model.graph.node)} nodes, opset {opset}")


def legacy_softmax_op11(outdir):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4, 6])
    ys = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", 4, 6])
          for n in ("soft", "logsoft", "rest")]
    nodes = [
        helper.make_node("Softmax", ["x"], ["soft"], axis=1),
        helper.make_node("LogSoftmax", ["x"], ["logsoft"]),  # default axis 1
        helper.make_node("Unsqueeze", ["x"], ["u"], axes=[1]),
        helper.make_node("ReduceSum", ["u"], ["r"], axes=[3], keepdims=1),
        helper.make_node("Squeeze", ["r"], ["s"], axes=[1, 3]),
        helper.make_node("Split", ["x"], ["a", "b"], axis=1, split=[1, 3]),
        helper.make_node("ReduceMean", ["b"], ["bm"], axes=[1], keepdims=1),
        helper.make_node("Add", ["a", "bm"], ["ab"]),
        helper.make_node("Clip", ["ab", "lo", "hi"], ["c"]),
        helper.make_node("Unsqueeze", ["s"], ["s3"], axes=[2]),
        helper.make_node("Mul", ["c", "s3"], ["rest"]),
    ]
    g = helper.make_graph(nodes, "legacy_softmax", [x], ys,
                          [numpy_helper.from_array(np.array(-0.5, np.float32), "lo"),
                           numpy_helper.from_array(np.array(0.7, np.float32), "hi")])
    save(helper.make_model(g), outdir, "legacy_softmax_op11", 11)


def cnn_op9(outdir):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 10])
    inits = [init("w1", (8, 3, 3, 3)), init("b1", (8,)),
             init("gamma", (8,), 1.0), init("beta", (8,)), init("mean", (8,)),
             numpy_helper.from_array((RNG.random(8) + 0.5).astype(np.float32), "var"),
             numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales"),
             init("w2", (10, 8 * 8 * 8)), init("b2", (10,))]
    nodes = [
        helper.make_node("Pad", ["x"], ["xp"], mode="constant",
                         pads=[0, 0, 1, 1, 0, 0, 1, 1], value=0.0),
        helper.make_node("Conv", ["xp", "w1", "b1"], ["c1"], kernel_shape=[3, 3]),
        helper.make_node("BatchNormalization", ["c1", "gamma", "beta", "mean", "var"],
                         ["bn"], epsilon=1e-3),
        helper.make_node("Clip", ["bn"], ["r"], min=0.0, max=6.0),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Upsample", ["p", "scales"], ["up"], mode="nearest"),
        helper.make_node("Dropout", ["up"], ["d"], ratio=0.2),
        helper.make_node("Flatten", ["d"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "w2", "b2"], ["y"], transB=1),
    ]
    g = helper.make_graph(nodes, "cnn", [x], [y], inits)
    save(helper.make_model(g), outdir, "cnn_op9", 9)


def mlp_op7(outdir):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 12])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 5])
    inits = [init("w1", (12, 16)), init("b1", (16,)), init("w2", (16, 5)),
             init("b2", (5,)), init("s", (16,), 1.0)]
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], alpha=1.0, beta=1.0),
        helper.make_node("Relu", ["h"], ["hr"]),
        helper.make_node("Mul", ["hr", "s"], ["hs"]),
        helper.make_node("Sum", ["hs", "hr", "h"], ["hsum"]),
        helper.make_node("Dropout", ["hsum"], ["hd"], ratio=0.1),
        helper.make_node("Gemm", ["hd", "w2", "b2"], ["z"]),
        helper.make_node("Softmax", ["z"], ["y"]),
    ]
    g = helper.make_graph(nodes, "mlp", [x], [y], inits)
    save(helper.make_model(g), outdir, "mlp_op7", 7)


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    legacy_softmax_op11(outdir)
    cnn_op9(outdir)
    mlp_op7(outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
