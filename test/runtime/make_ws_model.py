"""Writes the model of workspace.test: Y = MatMul(Softmax(Relu(X W1 + B1)), W2) + X
with X [N, 256], constant W1 [256, 512], B1 [512], W2 [512, 256]."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(0)
inits = [numpy_helper.from_array((rng.standard_normal(s) * 0.05).astype(np.float32), n)
         for n, s in (("W1", (256, 512)), ("B1", (512,)), ("W2", (512, 256)))]
nodes = [helper.make_node("MatMul", ["X", "W1"], ["H"]),
         helper.make_node("Add", ["H", "B1"], ["HB"]),
         helper.make_node("Relu", ["HB"], ["A"]),
         helper.make_node("Softmax", ["A"], ["S"], axis=-1),
         helper.make_node("MatMul", ["S", "W2"], ["O"]),
         helper.make_node("Add", ["O", "X"], ["Y"])]
g = helper.make_graph(nodes, "ws",
                      [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 256])],
                      [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 256])],
                      inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
onnx.save(m, sys.argv[1])
