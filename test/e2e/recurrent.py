#!/usr/bin/env python3
"""ONNX RNN, GRU and LSTM through kiln against ONNX Runtime on the same file.

Models:
  torch_lstm    torch.nn.LSTM, 2 layers, bidirectional, batch_first, with
                h0/c0 inputs (PyTorch's exporter: ONNX LSTM per layer and
                direction pair, transposes around it); batch and seq
                exported dynamic, seq specialized with --input-shape.
  torch_gru     torch.nn.GRU, 1 layer (linear_before_reset = 1, as PyTorch
                exports it), zero initial state.
  torch_rnn     torch.nn.RNN, ReLU, bidirectional.
  gru_seqlens   onnx.helper: GRU, reverse, linear_before_reset = 0,
                sequence_lens, clip, HardSigmoid/Tanh activations.
  lstm_peep     onnx.helper: LSTM with peepholes and initial states,
                forward.
Each runs at batch 3; prints `name output max|err| ok`.
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
SEQ, BATCH, IN, HID = 7, 3, 5, 6


def export_torch(kind, path):
    import torch
    torch.manual_seed(0)
    if kind == "torch_lstm":
        class M(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = torch.nn.LSTM(IN, HID, num_layers=2, bidirectional=True,
                                         batch_first=True)

            def forward(self, x, h0, c0):
                y, (h, c) = self.rnn(x, (h0, c0))
                return y, h, c
        args = (torch.randn(BATCH, SEQ, IN), torch.randn(4, BATCH, HID),
                torch.randn(4, BATCH, HID))
        names = (["x", "h0", "c0"], ["y", "h", "c"])
        dyn = {"x": {0: "batch", 1: "seq"}, "h0": {1: "batch"}, "c0": {1: "batch"},
               "y": {0: "batch", 1: "seq"}}
    elif kind == "torch_gru":
        class M(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = torch.nn.GRU(IN, HID)

            def forward(self, x):
                y, h = self.rnn(x)
                return y, h
        args = (torch.randn(SEQ, BATCH, IN),)
        names = (["x"], ["y", "h"])
        dyn = {"x": {1: "batch"}, "y": {1: "batch"}}
    else:
        class M(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = torch.nn.RNN(IN, HID, nonlinearity="relu", bidirectional=True)

            def forward(self, x):
                y, h = self.rnn(x)
                return y, h
        args = (torch.randn(SEQ, BATCH, IN),)
        names = (["x"], ["y", "h"])
        dyn = {"x": {1: "batch"}, "y": {1: "batch"}}
    torch.onnx.export(M().eval(), args, path, input_names=names[0],
                      output_names=names[1], dynamic_axes=dyn, opset_version=14)


def vi(name, shape, t=F):
    return helper.make_tensor_value_info(name, t, shape)


def const(name, a):
    return numpy_helper.from_array(np.asarray(a), name)


def gru_seqlens_model():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((1, 3 * HID, IN)).astype(np.float32) * 0.5
    r = rng.standard_normal((1, 3 * HID, HID)).astype(np.float32) * 0.5
    b = rng.standard_normal((1, 6 * HID)).astype(np.float32) * 0.5
    node = helper.make_node(
        "GRU", ["x", "W", "R", "B", "lens"], ["y", "h"], name="gru",
        hidden_size=HID, direction="reverse", clip=2.5,
        activations=["HardSigmoid", "Tanh"], activation_alpha=[0.3],
        activation_beta=[0.4])
    g = helper.make_graph([node], "gru_seqlens",
                         [vi("x", [SEQ, "batch", IN]), vi("lens", ["batch"], TensorProto.INT32)],
                         [vi("y", None), vi("h", None)],
                         [const("W", w), const("R", r), const("B", b)])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])


def lstm_peep_model():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((1, 4 * HID, IN)).astype(np.float32) * 0.5
    r = rng.standard_normal((1, 4 * HID, HID)).astype(np.float32) * 0.5
    b = rng.standard_normal((1, 8 * HID)).astype(np.float32) * 0.5
    p = rng.standard_normal((1, 3 * HID)).astype(np.float32) * 0.5
    node = helper.make_node("LSTM", ["x", "W", "R", "B", "", "h0", "c0", "P"],
                            ["y", "h", "c"], name="lstm", hidden_size=HID)
    g = helper.make_graph([node], "lstm_peep",
                         [vi("x", [SEQ, "batch", IN]), vi("h0", [1, "batch", HID]),
                          vi("c0", [1, "batch", HID])],
                         [vi("y", None), vi("h", None), vi("c", None)],
                         [const("W", w), const("R", r), const("B", b), const("P", p)])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])


def bad_activation_model():
    """An RNN naming an activation ONNX does not define (refused)."""
    w = np.zeros((1, HID, IN), np.float32)
    r = np.zeros((1, HID, HID), np.float32)
    node = helper.make_node("RNN", ["x", "W", "R"], ["y"], name="bad_rnn",
                            hidden_size=HID, activations=["Swish"])
    g = helper.make_graph([node], "bad_activation", [vi("x", [SEQ, 2, IN])],
                         [vi("y", None)], [const("W", w), const("R", r)])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])


def feeds_for(name, rng):
    x = rng.standard_normal((SEQ, BATCH, IN)).astype(np.float32)
    if name == "torch_lstm":
        return {"x": rng.standard_normal((BATCH, SEQ, IN)).astype(np.float32),
                "h0": rng.standard_normal((4, BATCH, HID)).astype(np.float32),
                "c0": rng.standard_normal((4, BATCH, HID)).astype(np.float32)}
    if name == "gru_seqlens":
        return {"x": x, "lens": np.array([SEQ, 3, 1], np.int32)}
    if name == "lstm_peep":
        return {"x": x, "h0": rng.standard_normal((1, BATCH, HID)).astype(np.float32),
                "c0": rng.standard_normal((1, BATCH, HID)).astype(np.float32)}
    return {"x": x}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--node", default="node")
    ap.add_argument("--write", help="only write the models to this folder")
    args = ap.parse_args()
    names = ["torch_lstm", "torch_gru", "torch_rnn", "gru_seqlens", "lstm_peep"]
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        out = args.write or tmp
        os.makedirs(out, exist_ok=True)
        paths = {}
        for name in names:
            path = os.path.join(out, name + ".onnx")
            if name.startswith("torch_"):
                export_torch(name, path)
            else:
                onnx.save(gru_seqlens_model() if name == "gru_seqlens" else lstm_peep_model(),
                          path)
            paths[name] = path
        if args.write:
            onnx.save(bad_activation_model(), os.path.join(out, "bad_activation.onnx"))
            return 0
        rng = np.random.default_rng(2)
        for name in names:
            path = paths[name]
            so = os.path.join(tmp, name + ".so")
            kiln.compile(path, so, kiln=args.kiln,
                         input_shape=f"seq={SEQ}" if name == "torch_lstm" else None)
            model = kiln.load(so)
            feeds = feeds_for(name, rng)
            got = model.run(feeds)
            ref = run_ort(path, feeds, os.path.join(tmp, "ort"), args.node)
            for out_name, r in ref.items():
                g = got[out_name]
                ok = g.shape == r.shape and float(np.abs(g - r).max()) <= \
                    1e-5 * max(1.0, float(np.abs(r).max()))
                err = float(np.abs(g - r).max()) if g.shape == r.shape else float("nan")
                failed += not ok
                print(f"{name} {out_name} shape={list(r.shape)} max|err| {err:.3g} "
                      f"{'ok' if ok else 'FAIL'}")
            model.close()
    print(f"recurrent: {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
