#!/usr/bin/env python3
"""Writes DIR/mlp.onnx: one BERT-base feed-forward block, the dense-layer
microbenchmark of bench/README.md.

y = (relu(x @ W1 + b1) @ W2 + b2) + x with x [batch, seq, 768],
W1 [768, 3072], W2 [3072, 768] (random, fixed seed), opset 17.
Run: /usr/bin/python3 bench/make_mlp.py DIR
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)

    def init(name, shape):
        return numpy_helper.from_array(
            (rng.standard_normal(shape) * 0.02).astype(np.float32), name)

    weights = [init("W1", (768, 3072)), init("b1", (3072,)),
               init("W2", (3072, 768)), init("b2", (768,))]
    nodes = [helper.make_node("MatMul", ["x", "W1"], ["h"]),
             helper.make_node("Add", ["h", "b1"], ["hb"]),
             helper.make_node("Relu", ["hb"], ["a"]),
             helper.make_node("MatMul", ["a", "W2"], ["o"]),
             helper.make_node("Add", ["o", "b2"], ["ob"]),
             helper.make_node("Add", ["ob", "x"], ["y"])]
    dims = ["batch", "seq", 768]
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, dims)], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, os.path.join(out, "mlp.onnx"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
