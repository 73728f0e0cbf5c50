"""Writes the small CNN of batch_split.test: X [N, 8, 20, 20] -> Conv 3x3
(16 channels, pads 1) + bias -> Relu -> Conv 1x1 (16) + the first conv's
output (a residual) -> GlobalAveragePool -> Flatten -> Gemm [16, 10] + bias.
Each image's convolutions do ~1100 FLOPs per weight byte, so a batch runs
image by image (kiln-mark-batch-split).

With --head (batch_head.test) the classifier is Gemm [16, 256] + bias ->
Relu -> Gemm [256, 100] + bias (116 KiB of weights), which
kiln-outline-batch-head runs once on the whole batch."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(0)
inits = [numpy_helper.from_array((rng.standard_normal(s) * 0.1).astype(np.float32), n)
         for n, s in (("W1", (16, 8, 3, 3)), ("B1", (16,)), ("W2", (16, 16, 1, 1)),
                      ("WG", (16, 10)), ("BG", (10,)),
                      ("WH1", (16, 256)), ("BH1", (256,)), ("WH2", (256, 100)),
                      ("BH2", (100,)))]
nodes = [helper.make_node("Conv", ["X", "W1", "B1"], ["C1"], pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["C1"], ["R1"]),
         helper.make_node("Conv", ["R1", "W2"], ["C2"]),
         helper.make_node("Add", ["C2", "C1"], ["S"]),
         helper.make_node("GlobalAveragePool", ["S"], ["P"]),
         helper.make_node("Flatten", ["P"], ["F"], axis=1),
         helper.make_node("Gemm", ["F", "WG", "BG"], ["Y"])]
classes = 10
if "--head" in sys.argv:
    nodes[-1:] = [helper.make_node("Gemm", ["F", "WH1", "BH1"], ["H"]),
                  helper.make_node("Relu", ["H"], ["HR"]),
                  helper.make_node("Gemm", ["HR", "WH2", "BH2"], ["Y"])]
    classes = 100
inits = [i for i in inits if any(i.name in n.input for n in nodes)]
g = helper.make_graph(nodes, "cnn",
                      [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 8, 20, 20])],
                      [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", classes])],
                      inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
onnx.save(m, sys.argv[1])
