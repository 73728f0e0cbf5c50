"""Writes the model of workspace.test: Y = MatMul(Softmax(Relu(X W1 + B1)), W2) + X
with X [N, 256], constant W1 [256, H], B1 [H], W2 [H, 256]; H = 512, or the
second argument (1024 makes W1 and W2 1 MiB each: they go to the weights
side file)."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(0)
H = int(sys.argv[2]) if len(sys.argv) > 2 else 512
inits = [numpy_helper.from_array((rng.standard_normal(s) * 0.05).astype(np.float32), n)
         for n, s in (("W1", (256, H)), ("B1", (H,)), ("W2", (H, 256)))]
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
