#!/usr/bin/env python3
"""ONNX If, Loop and Scan through kiln against ONNX Runtime on the same file.

Models (written with onnx.helper, opset 17):
  data_if    the condition depends on the input's values (sum(x) > 0): a
             kiln.if at run time; the branches give [N, 4] and [2N, 4]
             (joined to [?, 4]), read an outer initializer and have their
             own initializer.
  nested_if  an If inside a then-branch, both conditions data-dependent,
             the inner branches reading values of both enclosing scopes.
  shape_if   the condition is a shape test (N > 2): a kiln.if with N
             dynamic, folded to the taken branch once N is known.
  loop       a Loop with a constant trip count of 3 doubling its
             loop-carried value (unrolled at import).
  loop_scan  a Loop whose trip count is x's first dim (known once
             --input-shape gives N), whose body reads iter_num and the outer
             x, stops early through its condition output (i < 2: three
             iterations) and stacks a scan output. Compiled with N dynamic
             too: a run-time loop (kiln.loop, scf.while), run at N=5 (the
             condition stops it) and N=2 (the trip count does).
  loop_data_cond  a while loop on the data (no trip count; doubles v while
             sum(v) < 10): a run-time loop.
  loop_grow  a run-time trip count (x's first dim) whose loop-carried value
             grows by one element per iteration (its type widens to [?]).
  loop_seq   a run-time loop appending a [1, 4] tensor to a loop-carried
             sequence each iteration, read after the loop by
             ConcatFromSequence (new_axis 1 on axis 1, new_axis 0 on axis
             0), SequenceLength and SequenceAt(-1).
  rnn_script (above) is also compiled with T dynamic: a run-time loop.
  scan       a Scan with a running-sum state over two scan inputs, one read
             in reverse, its scan output stacked on axis 1 in reverse.
  rnn_script a TorchScript loop exported by PyTorch (torch.jit.script, opset
             13): a Loop over x's first dim carrying a tensor and a sequence
             (SequenceEmpty/SequenceInsert/ConcatFromSequence).
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


def loop_scan_graph():
    body = helper.make_graph(
        [helper.make_node("Less", ["i", "two"], ["cond_out"]),
         helper.make_node("Gather", ["x", "i"], ["row"], axis=0),
         helper.make_node("Cast", ["i"], ["fi"], to=F),
         helper.make_node("Mul", ["row", "fi"], ["scaled"]),
         helper.make_node("Mul", ["v_in", "half"], ["decayed"]),
         helper.make_node("Add", ["decayed", "scaled"], ["v_out"]),
         helper.make_node("Tanh", ["v_out"], ["elem"])], "body",
        [vi("i", [], TensorProto.INT64), vi("cond_in", [], TensorProto.BOOL),
         vi("v_in", [4])],
        [vi("cond_out", [], TensorProto.BOOL), vi("v_out", [4]), vi("elem", [4])])
    nodes = [helper.make_node("Shape", ["x"], ["sh"]),
             helper.make_node("Gather", ["sh", "i0"], ["n"], axis=0),
             helper.make_node("Loop", ["n", "true", "v0"], ["v", "elems"],
                              name="walk", body=body)]
    return helper.make_graph(nodes, "loop_scan", [vi("x", ["N", 4])],
                             [vi("v", [4]), vi("elems", ["K", 4])],
                             [const("i0", np.int64(0)), const("two", np.int64(2)),
                              const("true", np.bool_(True)),
                              const("half", np.float32(0.5)),
                              const("v0", np.ones(4, np.float32))])


def loop_data_cond_graph():
    """A while loop on the data (sum(v) < 10): a run-time loop."""
    body = helper.make_graph(
        [helper.make_node("Add", ["v_in", "v_in"], ["v_out"]),
         helper.make_node("ReduceSum", ["v_out"], ["s"], keepdims=0),
         helper.make_node("Less", ["s", "ten"], ["cond_out"])], "body",
        [vi("i", [], TensorProto.INT64), vi("cond_in", [], TensorProto.BOOL),
         vi("v_in", [4])],
        [vi("cond_out", [], TensorProto.BOOL), vi("v_out", [4])])
    nodes = [helper.make_node("Loop", ["", "true", "x"], ["y"], name="grow", body=body)]
    return helper.make_graph(nodes, "loop_data_cond", [vi("x", [4])], [vi("y", [4])],
                             [const("true", np.bool_(True)), const("ten", np.float32(10))])


def loop_grow_graph():
    body = helper.make_graph(
        [helper.make_node("Cast", ["i"], ["fi"], to=F),
         helper.make_node("Unsqueeze", ["fi", "ax0"], ["fi1"]),
         helper.make_node("Concat", ["v_in", "fi1"], ["v_out"], axis=0),
         helper.make_node("Identity", ["cond_in"], ["cond_out"])], "body",
        [vi("i", [], TensorProto.INT64), vi("cond_in", [], TensorProto.BOOL),
         vi("v_in", ["L"])],
        [vi("cond_out", [], TensorProto.BOOL), vi("v_out", ["L2"])])
    nodes = [helper.make_node("Shape", ["x"], ["sh"]),
             helper.make_node("Gather", ["sh", "i0"], ["n"], axis=0),
             helper.make_node("Loop", ["n", "", "v0"], ["v"], name="grow", body=body)]
    return helper.make_graph(nodes, "loop_grow", [vi("x", ["N", 4])], [vi("v", ["K"])],
                             [const("i0", np.int64(0)), const("ax0", np.array([0], np.int64)),
                              const("v0", np.full(1, 7.0, np.float32))])


def loop_seq_graph(reads_seq=False):
    """reads_seq: the body also reads the sequence (its length decides the
    condition), which a run-time loop cannot do: refused."""
    cond = ([helper.make_node("SequenceLength", ["seq_in"], ["cnt"]),
             helper.make_node("Less", ["cnt", "three"], ["cond_out"])] if reads_seq
            else [helper.make_node("Identity", ["cond_in"], ["cond_out"])])
    body = helper.make_graph(
        [helper.make_node("Gather", ["x", "i"], ["row"], axis=0),
         helper.make_node("Mul", ["v_in", "half"], ["decayed"]),
         helper.make_node("Add", ["decayed", "row"], ["v_out"]),
         helper.make_node("Unsqueeze", ["v_out", "ax0"], ["v1"]),
         helper.make_node("SequenceInsert", ["seq_in", "v1"], ["seq_out"])] + cond, "body",
        [vi("i", [], TensorProto.INT64), vi("cond_in", [], TensorProto.BOOL),
         vi("v_in", [4]), helper.make_tensor_sequence_value_info("seq_in", F, [1, 4])],
        [vi("cond_out", [], TensorProto.BOOL), vi("v_out", [4]),
         helper.make_tensor_sequence_value_info("seq_out", F, [1, 4])])
    nodes = [helper.make_node("Shape", ["x"], ["sh"]),
             helper.make_node("Gather", ["sh", "i0"], ["n"], axis=0),
             helper.make_node("SequenceEmpty", [], ["seq0"], dtype=F),
             helper.make_node("Loop", ["n", "true" if reads_seq else "", "v0", "seq0"],
                              ["v", "seq"], name="append", body=body),
             helper.make_node("ConcatFromSequence", ["seq"], ["stack"], axis=1, new_axis=1),
             helper.make_node("ConcatFromSequence", ["seq"], ["cat"], axis=0),
             helper.make_node("SequenceLength", ["seq"], ["len"]),
             helper.make_node("SequenceAt", ["seq", "last"], ["at"])]
    return helper.make_graph(nodes, "loop_seq", [vi("x", ["N", 4])],
                             [vi("v", [4]), vi("stack", [1, "N", 4]), vi("cat", ["N", 4]),
                              vi("len", [], TensorProto.INT64), vi("at", [1, 4])],
                             [const("i0", np.int64(0)), const("ax0", np.array([0], np.int64)),
                              const("half", np.float32(0.5)), const("last", np.int64(-1)),
                              const("v0", np.zeros(4, np.float32)),
                              const("three", np.int64(3)), const("true", np.bool_(True))])


def scan_graph():
    body = helper.make_graph(
        [helper.make_node("Add", ["s_in", "a"], ["t"]),
         helper.make_node("Mul", ["t", "b"], ["s_out"]),
         helper.make_node("Sigmoid", ["s_out"], ["o"])], "body",
        [vi("s_in", [2]), vi("a", [2]), vi("b", [2])],
        [vi("s_out", [2]), vi("o", [2])])
    nodes = [helper.make_node("Scan", ["s0", "xa", "xb"], ["s", "ys"], name="scan",
                              body=body, num_scan_inputs=2,
                              scan_input_axes=[0, 1], scan_input_directions=[0, 1],
                              scan_output_axes=[1], scan_output_directions=[1])]
    return helper.make_graph(nodes, "scan", [vi("xa", [5, 2]), vi("xb", [2, 5])],
                             [vi("s", [2]), vi("ys", [2, 5])],
                             [const("s0", np.zeros(2, np.float32))])


def rnn_script_model(path):
    """PyTorch's export of a TorchScript loop (None when torch is missing)."""
    try:
        import torch
    except ImportError:
        return None

    class Walk(torch.nn.Module):
        def forward(self, x):
            outs = []
            h = torch.zeros(x.shape[1])
            for t in range(x.shape[0]):
                h = torch.tanh(x[t] * 0.5 + h)
                outs.append(h)
            return torch.stack(outs), h

    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(torch.jit.script(Walk()), (torch.randn(5, 4),), path,
                          opset_version=13, input_names=["x"], output_names=["ys", "h"],
                          dynamic_axes={"x": {0: "T"}})
    return path


def save(graph, path):
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def report(what, got, ref):
    """Prints `what shape=[...] max|err| E ok|FAIL` (tolerance 1e-5 of
    max(1, max|ref|)) and returns whether it matched."""
    if got.shape != ref.shape or ref.size == 0:
        ok, err = got.shape == ref.shape, float("nan") if got.shape != ref.shape else 0.0
    else:
        err = float(np.abs(got - ref).max())
        ok = err <= 1e-5 * max(1.0, float(np.abs(ref).max()))
    print(f"{what} shape={list(ref.shape)} max|err| {err:.3g} {'ok' if ok else 'FAIL'}")
    return ok


def save_to(graph, folder, name):
    path = os.path.join(folder, name + ".onnx")
    save(graph, path)
    return path


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
                            loop=loop_graph(), loop_scan=loop_scan_graph(),
                            scan=scan_graph(), loop_grow=loop_grow_graph(),
                            loop_seq=loop_seq_graph(),
                            loop_seq_read=loop_seq_graph(reads_seq=True),
                            loop_data_cond=loop_data_cond_graph()).items():
            save(g, os.path.join(args.write, name + ".onnx"))
        rnn_script_model(os.path.join(args.write, "rnn_script.onnx"))
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
                failed += not report(f"{name} {label}", got, ref)
            model.close()
        # Unrolled loops: (model path, --input-shape, inputs).
        loops = [
            ("loop", save_to(loop_graph(), tmp, "loop"), None,
             {"x": rng.standard_normal(4).astype(np.float32)}),
            ("loop_scan", save_to(loop_scan_graph(), tmp, "loop_scan"), "N=5",
             {"x": rng.standard_normal((5, 4)).astype(np.float32)}),
            ("scan", save_to(scan_graph(), tmp, "scan"), None,
             {"xa": rng.standard_normal((5, 2)).astype(np.float32),
              "xb": rng.standard_normal((2, 5)).astype(np.float32)}),
        ]
        rnn = rnn_script_model(os.path.join(tmp, "rnn_script.onnx"))
        if rnn:
            loops.append(("rnn_script", rnn, "T=6",
                          {"x": rng.standard_normal((6, 4)).astype(np.float32)}))
        else:
            print("rnn_script skipped: no torch")
        for name, path, shape, feeds in loops:
            so = os.path.join(tmp, name + ".so")
            kiln.compile(path, so, kiln=args.kiln, input_shape=shape)
            model = kiln.load(so)
            got = model.run(feeds)
            ref = run_ort(path, feeds, os.path.join(tmp, "ort"), args.node)
            for out, r in ref.items():
                failed += not report(f"{name} {out}", got[out], r)
            model.close()
        # Run-time loops (kiln.loop): dims left dynamic, several inputs each.
        runtime = [
            ("loop_scan", save_to(loop_scan_graph(), tmp, "loop_scan_rt"),
             [{"x": rng.standard_normal((n, 4)).astype(np.float32)} for n in (5, 2)]),
            ("loop_data_cond", save_to(loop_data_cond_graph(), tmp, "loop_data_cond"),
             [{"x": np.array(v, np.float32)} for v in ([0.1, 0.2, 0.3, 0.4], [5, 6, 0, 0])]),
            ("loop_grow", save_to(loop_grow_graph(), tmp, "loop_grow"),
             [{"x": np.zeros((n, 4), np.float32)} for n in (3, 1)]),
            ("loop_seq", save_to(loop_seq_graph(), tmp, "loop_seq"),
             [{"x": rng.standard_normal((n, 4)).astype(np.float32)} for n in (5, 1)]),
        ]
        if rnn:
            runtime.append(("rnn_script", rnn,
                            [{"x": rng.standard_normal((t, 4)).astype(np.float32)}
                             for t in (7, 2)]))
        for name, path, feeds_list in runtime:
            so = os.path.join(tmp, name + "_rt.so")
            kiln.compile(path, so, kiln=args.kiln)
            model = kiln.load(so)
            for feeds in feeds_list:
                got = model.run(feeds)
                ref = run_ort(path, feeds, os.path.join(tmp, "ort"), args.node)
                for out, r in ref.items():
                    failed += not report(f"run-time {name} {out}", got[out], r)
            model.close()
    print(f"control_flow: {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
