#!/usr/bin/env python3
"""Random-number ops through kiln: their statistics, not ORT's values.

RandomUniformLike, RandomNormalLike, RandomUniform (static shape),
Bernoulli and training-mode Dropout draw from a counter-based hash of
(seed, element index). The values cannot match another runtime's
generator, so this checks what a user relies on, on 200 000 draws each:
the mean and standard deviation against the distribution's (|error| under
0.01 of the scale), the range, the same values on a second run, different
values for two unseeded nodes, and Dropout's kept fraction and 1/(1 - ratio)
scaling. Prints `name statistic value ok`.
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
import kiln  # noqa: E402

N = 200000


def model():
    vi = helper.make_tensor_value_info
    nodes = [
        helper.make_node("RandomUniformLike", ["x"], ["u"], low=-1.0, high=3.0, seed=7.0),
        helper.make_node("RandomNormalLike", ["x"], ["n"], mean=2.0, scale=0.5),
        helper.make_node("RandomNormalLike", ["x"], ["n2"], mean=2.0, scale=0.5),
        helper.make_node("RandomUniform", [], ["us"], shape=[400, 500]),
        helper.make_node("Bernoulli", ["p"], ["bern"], seed=3.0),
        helper.make_node("Dropout", ["x", "ratio", "train"], ["d", "mask"], seed=5),
    ]
    inits = [helper.make_tensor("ratio", TensorProto.FLOAT, [], [0.3]),
             helper.make_tensor("train", TensorProto.BOOL, [], [True])]
    g = helper.make_graph(
        nodes, "random_ops",
        [vi("x", TensorProto.FLOAT, ["N"]), vi("p", TensorProto.FLOAT, ["N"])],
        [vi("u", TensorProto.FLOAT, ["N"]), vi("n", TensorProto.FLOAT, ["N"]),
         vi("n2", TensorProto.FLOAT, ["N"]), vi("us", TensorProto.FLOAT, [400, 500]),
         vi("bern", TensorProto.FLOAT, ["N"]), vi("d", TensorProto.FLOAT, ["N"]),
         vi("mask", TensorProto.BOOL, ["N"])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 15)])


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kiln", required=True)
    args = ap.parse_args()
    failed = 0

    def check(name, stat, value, ok):
        nonlocal failed
        failed += not ok
        print(f"{name} {stat} {value:.4f} {'ok' if ok else 'FAIL'}")

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "random_ops.onnx")
        onnx.save(model(), path)
        so = os.path.join(tmp, "random_ops.so")
        kiln.compile(path, so, kiln=args.kiln)
        m = kiln.load(so)
        x = np.full(N, 2.0, np.float32)
        p = np.full(N, 0.25, np.float32)
        out = m.run({"x": x, "p": p})
        again = m.run({"x": x, "p": p})
        u, n, us, bern = out["u"], out["n"], out["us"], out["bern"]
        check("uniform", "mean", u.mean(), abs(u.mean() - 1.0) < 0.04)
        check("uniform", "std", u.std(), abs(u.std() - 4 / np.sqrt(12)) < 0.04)
        check("uniform", "min", u.min(), u.min() >= -1.0)
        check("uniform", "max", u.max(), u.max() < 3.0)
        check("normal", "mean", n.mean(), abs(n.mean() - 2.0) < 0.005)
        check("normal", "std", n.std(), abs(n.std() - 0.5) < 0.005)
        check("normal", "unseeded_nodes_differ", float(np.mean(n != out["n2"])),
              np.mean(n != out["n2"]) > 0.99)
        check("uniform_static", "mean", us.mean(), abs(us.mean() - 0.5) < 0.01)
        check("bernoulli", "mean", bern.mean(), abs(bern.mean() - 0.25) < 0.01)
        check("bernoulli", "binary", float(np.isin(bern, [0, 1]).mean()),
              bool(np.isin(bern, [0, 1]).all()))
        kept = out["mask"].mean()
        check("dropout", "kept", kept, abs(kept - 0.7) < 0.01)
        scaled = out["d"][out["mask"]]
        check("dropout", "scale", float(scaled.mean()),
              bool(np.allclose(scaled, 2.0 / 0.7, rtol=1e-6)))
        check("dropout", "dropped_zero", float(np.abs(out["d"][~out["mask"]]).max()),
              bool((out["d"][~out["mask"]] == 0).all()))
        same = all(np.array_equal(out[k], again[k]) for k in out)
        check("all", "same_on_second_run", float(same), same)
        m.close()
    print(f"random_ops: {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
