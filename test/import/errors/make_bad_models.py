#!/usr/bin/env python3
"""Writes malformed ONNX models for the importer's error tests.

Usage: make_bad_models.py OUTDIR

Every case is one file OUTDIR/<case>.onnx; the external-data cases each get
a folder OUTDIR/<case>/ holding model.onnx and its data file(s). ext_ok is the
one valid model: its weights live in a side file inside its folder and it
must import. The file names are what errors.test runs kiln on; see the
CASES list at the bottom for the complete set and what each one breaks.

Needs the onnx Python package (1.12 or later) and numpy; no checker is run,
since most of these models are invalid on purpose.
"""

import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
F = TensorProto.FLOAT


def model(nodes, inputs, outputs, initializers=(), opsets=None, name="g"):
    """A model without running onnx.checker (these are broken on purpose)."""
    graph = helper.make_graph(nodes, name, inputs, outputs,
                              initializer=list(initializers))
    if opsets is None:
        opsets = [helper.make_opsetid("", OPSET)]
    m = helper.make_model(graph, opset_imports=opsets,
                          producer_name="kiln-errors-test")
    m.ir_version = 8
    return m


def vi(name, shape, elem=F):
    return helper.make_tensor_value_info(name, elem, shape)


def save(m, path):
    with open(path, "wb") as f:
        f.write(m.SerializeToString())


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)


def add_model(w):
    """Y = X + W for X: [2, 3] and an initializer W (the tensor under test)."""
    return model([helper.make_node("Add", ["X", "W"], ["Y"], name="add0")],
                 [vi("X", [2, 3])], [vi("Y", [2, 3])], [w])


def valid_model():
    """A small valid model with a weight large enough to make halves matter."""
    w = numpy_helper.from_array(
        np.arange(64 * 3, dtype=np.float32).reshape(64, 3), "W")
    return model(
        [helper.make_node("MatMul", ["X", "Wt"], ["Y"], name="mm0"),
         helper.make_node("Transpose", ["W"], ["Wt"], name="t0")],
        [vi("X", [2, 3])], [vi("Y", [2, 64])], [w])


# ---------------------------------------------------------------------------
# File-level damage
# ---------------------------------------------------------------------------

def truncated(out):
    data = valid_model().SerializeToString()
    write_bytes(os.path.join(out, "truncated.onnx"), data[: len(data) // 2])


def garbage(out):
    # Deterministic junk: 0xff bytes make an over-long varint tag, then text.
    rng = np.random.RandomState(1234)
    data = b"\xff" * 12 + b"this is not a model" + rng.bytes(200)
    write_bytes(os.path.join(out, "garbage.onnx"), data)


def empty(out):
    write_bytes(os.path.join(out, "empty.onnx"), b"")


# ---------------------------------------------------------------------------
# Graph structure
# ---------------------------------------------------------------------------

def wrong_attr(out):
    n = helper.make_node("Transpose", ["X"], ["Y"], name="n0")
    n.attribute.append(helper.make_attribute("perm", 1.0))  # a FLOAT
    save(model([n], [vi("X", [2, 3])], [vi("Y", [3, 2])]),
         os.path.join(out, "wrong_attr.onnx"))


def dangling(out):
    save(model([helper.make_node("Add", ["X", "ghost"], ["Y"], name="add0")],
               [vi("X", [2, 3])], [vi("Y", [2, 3])]),
         os.path.join(out, "dangling.onnx"))


def cycle(out):
    save(model([helper.make_node("Add", ["X", "b"], ["a"], name="c0"),
                helper.make_node("Relu", ["a"], ["b"], name="c1"),
                helper.make_node("Identity", ["a"], ["Y"], name="c2")],
               [vi("X", [2, 3])], [vi("Y", [2, 3])]),
         os.path.join(out, "cycle.onnx"))


def matmul_mismatch(out):
    save(model([helper.make_node("MatMul", ["A", "B"], ["Y"], name="mm0")],
               [vi("A", [2, 3]), vi("B", [4, 5])], [vi("Y", [2, 5])]),
         os.path.join(out, "matmul_mismatch.onnx"))


def add_broadcast(out):
    save(model([helper.make_node("Add", ["A", "B"], ["Y"], name="add0")],
               [vi("A", [2, 3]), vi("B", [4])], [vi("Y", [2, 3])]),
         os.path.join(out, "add_broadcast.onnx"))


# ---------------------------------------------------------------------------
# Initializers
# ---------------------------------------------------------------------------

def neg_dim(out):
    w = TensorProto(name="W", data_type=F, dims=[2, -3])
    save(add_model(w), os.path.join(out, "neg_dim.onnx"))


def raw_short(out):
    w = TensorProto(name="W", data_type=F, dims=[2, 3], raw_data=b"\0" * 20)  # needs 24
    save(add_model(w), os.path.join(out, "raw_short.onnx"))


def raw_long(out):
    w = TensorProto(name="W", data_type=F, dims=[2, 3], raw_data=b"\0" * 28)  # needs 24
    save(add_model(w), os.path.join(out, "raw_long.onnx"))


def float_count(out):
    w = TensorProto(name="W", data_type=F, dims=[2, 3],
                    float_data=[1.0, 2.0, 3.0, 4.0, 5.0])
    save(add_model(w), os.path.join(out, "float_count.onnx"))


def bad_dtype(out):
    # A STRING initializer: kiln has no string tensors.
    w = TensorProto(name="W", data_type=TensorProto.STRING, dims=[2, 3],
                    string_data=[b"a"] * 6)
    save(add_model(w), os.path.join(out, "bad_dtype.onnx"))


def huge_dims(out):
    # 2^31 x 2^31 floats, no data: must be refused, not allocated.
    w = TensorProto(name="W", data_type=F, dims=[2 ** 31, 2 ** 31])
    save(add_model(w), os.path.join(out, "huge_dims.onnx"))


# ---------------------------------------------------------------------------
# Operators, domains and opsets
# ---------------------------------------------------------------------------

def unknown_op(out):
    save(model([helper.make_node("FooBar", ["X"], ["Y"], name="foo0")],
               [vi("X", [2, 3])], [vi("Y", [2, 3])]),
         os.path.join(out, "unknown_op.onnx"))


def unknown_domain(out):
    # The domain is imported (so the model is consistent) but kiln has no
    # converters outside the default domain.
    save(model([helper.make_node("Relu", ["X"], ["Y"], name="r0",
                                 domain="com.example")],
               [vi("X", [2, 3])], [vi("Y", [2, 3])],
               opsets=[helper.make_opsetid("", OPSET),
                       helper.make_opsetid("com.example", 3)]),
         os.path.join(out, "unknown_domain.onnx"))


def unimported_domain(out):
    # A node from a domain the model does not import at all.
    save(model([helper.make_node("Relu", ["X"], ["Y"], name="r0",
                                 domain="org.nowhere")],
               [vi("X", [2, 3])], [vi("Y", [2, 3])]),
         os.path.join(out, "unimported_domain.onnx"))


def relu_model(opsets):
    return model([helper.make_node("Relu", ["X"], ["Y"], name="r0")],
                 [vi("X", [2, 3])], [vi("Y", [2, 3])], opsets=opsets)


def opset7(out):
    save(relu_model([helper.make_opsetid("", 7)]),
         os.path.join(out, "opset7.onnx"))


def opset99(out):
    save(relu_model([helper.make_opsetid("", 99)]),
         os.path.join(out, "opset99.onnx"))


def no_default_opset(out):
    save(relu_model([helper.make_opsetid("com.example", 1)]),
         os.path.join(out, "no_default_opset.onnx"))


# ---------------------------------------------------------------------------
# External data: each case is a folder with model.onnx and its data file(s)
# ---------------------------------------------------------------------------

def ext_tensor(location, shape=(2, 3), offset=None, length=None):
    t = TensorProto(name="W", data_type=F, dims=list(shape))
    t.data_location = TensorProto.EXTERNAL
    entries = [("location", location)]
    if offset is not None:
        entries.append(("offset", str(offset)))
    if length is not None:
        entries.append(("length", str(length)))
    for k, v in entries:
        e = t.external_data.add()
        e.key, e.value = k, v
    return t


def ext_folder(out, case):
    d = os.path.join(out, case)
    if os.path.lexists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    return d


def weights(n):
    return np.arange(n, dtype=np.float32).tobytes()


def ext_abs(out):
    d = ext_folder(out, "ext_abs")
    path = os.path.join(os.path.abspath(d), "weights.bin")
    write_bytes(path, weights(6))
    save(add_model(ext_tensor(path)), os.path.join(d, "model.onnx"))


def ext_dotdot(out):
    d = ext_folder(out, "ext_dotdot")
    os.makedirs(os.path.join(d, "sub"))
    write_bytes(os.path.join(d, "weights.bin"), weights(6))
    # sub/../weights.bin stays inside the folder, but '..' is refused as such.
    save(add_model(ext_tensor("sub/../weights.bin")),
         os.path.join(d, "model.onnx"))


def ext_symlink(out):
    d = ext_folder(out, "ext_symlink")
    outside = os.path.join(out, "ext_symlink_outside.bin")
    write_bytes(outside, weights(6))
    os.symlink(os.path.abspath(outside), os.path.join(d, "weights.bin"))
    save(add_model(ext_tensor("weights.bin")), os.path.join(d, "model.onnx"))


def ext_past_end(out):
    d = ext_folder(out, "ext_past_end")
    write_bytes(os.path.join(d, "weights.bin"), weights(12))  # 48 bytes
    save(add_model(ext_tensor("weights.bin", offset=40, length=24)),
         os.path.join(d, "model.onnx"))


def ext_length(out):
    d = ext_folder(out, "ext_length")
    write_bytes(os.path.join(d, "weights.bin"), weights(12))  # 48 bytes
    save(add_model(ext_tensor("weights.bin", offset=0, length=20)),
         os.path.join(d, "model.onnx"))


def ext_missing(out):
    d = ext_folder(out, "ext_missing")
    save(add_model(ext_tensor("nothere.bin")), os.path.join(d, "model.onnx"))


def ext_dir(out):
    d = ext_folder(out, "ext_dir")
    os.makedirs(os.path.join(d, "weights.bin"))  # a folder, not a file
    save(add_model(ext_tensor("weights.bin")), os.path.join(d, "model.onnx"))


def ext_bad_offset(out):
    d = ext_folder(out, "ext_bad_offset")
    write_bytes(os.path.join(d, "weights.bin"), weights(6))
    t = ext_tensor("weights.bin")
    e = t.external_data.add()
    e.key, e.value = "offset", "-8"
    save(add_model(t), os.path.join(d, "model.onnx"))


def ext_ok(out):
    # A valid model: W is [16, 32] floats (512 elements, more than kiln
    # inlines) at offset 64 of data/weights.bin, after 64 bytes of padding.
    d = ext_folder(out, "ext_ok")
    os.makedirs(os.path.join(d, "data"))
    w = np.arange(16 * 32, dtype=np.float32).reshape(16, 32)
    write_bytes(os.path.join(d, "data", "weights.bin"),
                b"\0" * 64 + w.tobytes())
    t = ext_tensor("data/weights.bin", shape=(16, 32), offset=64,
                   length=w.nbytes)
    m = model([helper.make_node("MatMul", ["X", "W"], ["Y"], name="mm0")],
              [vi("X", [2, 16])], [vi("Y", [2, 32])], [t])
    save(m, os.path.join(d, "model.onnx"))


CASES = [
    truncated, garbage, empty,
    wrong_attr, dangling, cycle, matmul_mismatch, add_broadcast,
    neg_dim, raw_short, raw_long, float_count, bad_dtype, huge_dims,
    unknown_op, unknown_domain, unimported_domain, opset7, opset99,
    no_default_opset,
    ext_abs, ext_dotdot, ext_symlink, ext_past_end, ext_length, ext_missing,
    ext_dir, ext_bad_offset, ext_ok,
]


def main(argv):
    if len(argv) != 2:
        print("usage: make_bad_models.py OUTDIR", file=sys.stderr)
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    for case in CASES:
        case(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
