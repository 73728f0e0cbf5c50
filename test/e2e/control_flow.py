#!/usr/bin/env python3
"""ONNX If through kiln against ONNX Runtime on the same file.

Models (written with onnx.helper, opset 17):
  data_if    the condition depends on the input's values (sum(x) > 0): a
             kiln.if at run time; the branches give [N, 4] and [2N, 4]
             (joined to [?, 4]), read an outer initializer and have their
             own initializer.
  nested_if  an If inside a then-branch, both conditions data-dependent,
             the inner branches reading values of both enclosing scopes.
  shape_if   the condition is a shape test (N > 2): a kiln.if with N
             dynamic, folded to the taken branch once N is known.
Each runs at inputs that take each branch; prints `name case max|err| ok`.
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

F = TensorProto.FLOAT


def vi(name, shape, t=F):
    return helper.make_tensor_value_info(name, t, shape)


def const(name, a):
    return numpy_helper.from_array(np.asarray(a), name)


def data_if_graph():
    rng = np.random.default_rng(0)
    w = const("W", rng.standard_normal((4, 4)).astype(np.float32))
    then_g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["t0"]),
         helper.make_node("Add", ["t0", "tb"], ["t1"]),
         helper.make_node("Relu", ["t1"], ["then_y"])],
        "then", [], [vi("then_y", ["N", 4])],
        [const("tb", np.full(4, 0.5, np.float32))])
    else_g = helper.make_graph(
        [helper.make_node("Neg", ["x"], ["nx"]),
         helper.make_node("Concat", ["x", "nx"], ["else_y"], axis=0)],
        "else", [], [vi("else_y", ["M", 4])])
    nodes = [helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0),
             helper.make_node("Greater", ["s", "zero"], ["c"]),
             helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)]
    return helper.make_graph(nodes, "data_if", [vi("x", ["N", 4])], [vi("y", ["K", 4])],
                             [w, const("zero", np.float32(0))])


def nested_if_graph():
    inner_then = helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["it"])], "inner_then", [],
        [vi("it", ["N", 4])])
    inner_else = helper.make_graph(
        [helper.make_node("Sub", ["a", "x"], ["ie"])], "inner_else", [],
        [vi("ie", ["N", 4])])
    then_g = helper.make_graph(
        [helper.make_node("Abs", ["x"], ["a"]),
         helper.make_node("ReduceMax", ["x"], ["m"], keepdims=0),
         helper.make_node("Greater", ["m", "one"], ["c2"]),
         helper.make_node("If", ["c2"], ["r"], then_branch=inner_then, else_branch=inner_else)],
        "then", [], [vi("r", ["N", 4])])
    else_g = helper.make_graph(
        [helper.make_node("Sigmoid", ["x"], ["sg"])], "else", [], [vi("sg", ["N", 4])])
    nodes = [helper.make_node("ReduceMin", ["x"], ["mn"], keepdims=0),
             helper.make_node("Less", ["mn", "zero"], ["c"]),
             helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)]
    return helper.make_graph(nodes, "nested_if", [vi("x", ["N", 4])], [vi("y", ["N", 4])],
                             [const("zero", np.float32(0)), const("one", np.float32(1)),
                              const("two", np.float32(2))])


def shape_if_graph():
    then_g = helper.make_graph(
        [helper.make_node("Tanh", ["x"], ["ty"])], "then", [], [vi("ty", ["N", 4])])
    else_g = helper.make_graph(
        [helper.make_node("Exp", ["x"], ["ey"])], "else", [], [vi("ey", ["N", 4])])
    nodes = [helper.make_node("Shape", ["x"], ["sh"]),
             helper.make_node("Gather", ["sh", "i0"], ["n"], axis=0),
             helper.make_node("Greater", ["n", "two"], ["c"]),
             helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)]
    return helper.make_graph(nodes, "shape_if", [vi("x", ["N", 4])], [vi("y", ["N", 4])],
                             [const("i0", np.int64(0)), const("two", np.int64(2))])


def rank_mismatch_graph():
    """Branches of different ranks: refused with an error naming the node."""
    then_g = helper.make_graph([helper.make_node("Identity", ["x"], ["a"])], "then", [],
                               [vi("a", ["N", 4])])
    else_g = helper.make_graph([helper.make_node("ReduceSum", ["x"], ["b"], keepdims=0)],
                               "else", [], [vi("b", [])])
    nodes = [helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0),
             helper.make_node("Greater", ["s", "zero"], ["c"]),
             helper.make_node("If", ["c"], ["y"], name="pick", then_branch=then_g,
                              else_branch=else_g)]
    return helper.make_graph(nodes, "rank_mismatch", [vi("x", ["N", 4])], [vi("y", None)],
                             [const("zero", np.float32(0))])


def loop_graph():
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Add", ["v_in", "v_in"], ["v_out"])], "body",
        [vi("i", [], TensorProto.INT64), vi("cond_in", [], TensorProto.BOOL), vi("v_in", [4])],
        [vi("cond_out", [], TensorProto.BOOL), vi("v_out", [4])])
    nodes = [helper.make_node("Loop", ["trip", "", "x"], ["y"], name="repeat", body=body)]
    return helper.make_graph(nodes, "loop", [vi("x", [4])], [vi("y", [4])],
                             [const("trip", np.int64(3))])


def save(graph, path):
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--node", default="node")
    ap.add_argument("--write", help="only write the models to this folder")
    args = ap.parse_args()
    models = {"data_if": data_if_graph(), "nested_if": nested_if_graph(),
              "shape_if": shape_if_graph()}
    if args.write:
        os.makedirs(args.write, exist_ok=True)
        for name, g in dict(models, rank_mismatch=rank_mismatch_graph(),
                            loop=loop_graph()).items():
            save(g, os.path.join(args.write, name + ".onnx"))
        return 0
    rng = np.random.default_rng(1)
    cases = {
        "data_if": [("then", 3, 1.0), ("else", 3, -1.0)],
        "nested_if": [("then-then", 3, "mixed_big"), ("then-else", 3, "mixed_small"),
                      ("else", 3, "positive")],
        "shape_if": [("then", 3, 0.0), ("else", 2, 0.0)],
    }
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, g in models.items():
            path = os.path.join(tmp, name + ".onnx")
            save(g, path)
            so = os.path.join(tmp, name + ".so")
            kiln.compile(path, so, kiln=args.kiln)
            model = kiln.load(so)
            for label, n, kind in cases[name]:
                x = rng.standard_normal((n, 4)).astype(np.float32)
                if kind == "mixed_big":
                    x[0, 0], x[0, 1] = -1.0, 3.0
                elif kind == "mixed_small":
                    x = (x * 0.1).astype(np.float32)
                    x[0, 0] = -0.5
                elif kind == "positive":
                    x = (np.abs(x) + 0.1).astype(np.float32)
                elif isinstance(kind, float) and kind:
                    x = (np.abs(x) * kind).astype(np.float32)
                got = model.run({"x": x})["y"]
                ref = run_ort(path, {"x": x}, os.path.join(tmp, "ort"), args.node)["y"]
                ok = got.shape == ref.shape and float(np.abs(got - ref).max()) <= \
                    1e-5 * max(1.0, float(np.abs(ref).max()))
                err = float(np.abs(got - ref).max()) if got.shape == ref.shape else float("nan")
                failed += not ok
                print(f"{name} {label} shape={list(ref.shape)} max|err| {err:.3g} "
                      f"{'ok' if ok else 'FAIL'}")
            model.close()
    print(f"control_flow: {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
