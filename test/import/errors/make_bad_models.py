#!/usr/bin/env python3
"""Writes malformed ONNX models for the importer's error tests.

Usage: make_bad_models.py OUTDIR

Each case is one file, OUTDIR/<case>.onnx. The external-data cases each get
a folder, OUTDIR/<case>/, holding model.onnx and its data file(s); ext_ok is
the one valid model among them (weights in a side file inside its folder)
and must import. errors.test runs kiln on every case in CASES.
REGRESSION_CASES once crashed kiln, were accepted, or got unclear messages;
errors.test runs them too.

Needs the onnx Python package (1.12 or later) and numpy. The models are
built with onnx.helper and raw TensorProto fields, and never checked, since
they are invalid on purpose.
"""

import os
import shutil
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
F = TensorProto.FLOAT
I64 = TensorProto.INT64


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def model(nodes, inputs, outputs, initializers=(), opsets=None):
    graph = helper.make_graph(nodes, "g", inputs, outputs,
                              initializer=list(initializers))
    if opsets is None:
        opsets = [helper.make_opsetid("", OPSET)]
    m = helper.make_model(graph, opset_imports=opsets,
                          producer_name="kiln-errors-test")
    m.ir_version = 8
    return m


def vi(name, shape, elem=F):
    return helper.make_tensor_value_info(name, elem, shape)


def const(name, values, dtype=np.int64):
    return numpy_helper.from_array(np.array(values, dtype=dtype), name)


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)


def save(m, out, case):
    write_bytes(os.path.join(out, case + ".onnx"), m.SerializeToString())


def node(op, inputs, outputs, name="n0", **attrs):
    return helper.make_node(op, inputs, outputs, name=name, **attrs)


def add_model(w):
    """Y = X + W for X: [2, 3] and an initializer W (the tensor under test)."""
    return model([node("Add", ["X", "W"], ["Y"], name="add0")],
                 [vi("X", [2, 3])], [vi("Y", [2, 3])], [w])


def one_node(op, inputs, input_infos, initializers=(), n_out=1, **attrs):
    """One node 'n0' of `op` whose outputs are graph outputs of any shape."""
    outs = ["Y"] if n_out == 1 else ["Y%d" % i for i in range(n_out)]
    return model([node(op, inputs, outs, **attrs)], input_infos,
                 [vi(o, None) for o in outs], initializers)


# ---------------------------------------------------------------------------
# File-level damage
# ---------------------------------------------------------------------------

def truncated(out):
    # A valid model (MatMul with a [64, 3] weight) cut in half.
    w = numpy_helper.from_array(
        np.arange(64 * 3, dtype=np.float32).reshape(64, 3), "W")
    m = model([node("Transpose", ["W"], ["Wt"], name="t0"),
               node("MatMul", ["X", "Wt"], ["Y"], name="mm0")],
              [vi("X", [2, 3])], [vi("Y", [2, 64])], [w])
    data = m.SerializeToString()
    write_bytes(os.path.join(out, "truncated.onnx"), data[:len(data) // 2])


def garbage(out):
    # Deterministic junk: 0xff bytes make an over-long varint tag.
    rng = np.random.RandomState(1234)
    write_bytes(os.path.join(out, "garbage.onnx"),
                b"\xff" * 12 + b"this is not a model" + rng.bytes(200))


def empty(out):
    # Parses as an empty ModelProto: no graph.
    write_bytes(os.path.join(out, "empty.onnx"), b"")


# ---------------------------------------------------------------------------
# Graph structure and shapes
# ---------------------------------------------------------------------------

def wrong_attr(out):
    n = node("Transpose", ["X"], ["Y"])
    n.attribute.append(helper.make_attribute("perm", 1.0))  # a FLOAT
    save(model([n], [vi("X", [2, 3])], [vi("Y", [3, 2])]), out, "wrong_attr")


def dangling(out):
    save(model([node("Add", ["X", "ghost"], ["Y"], name="add0")],
               [vi("X", [2, 3])], [vi("Y", [2, 3])]), out, "dangling")


def cycle(out):
    # c0 consumes c1's output and c1 consumes c0's.
    save(model([node("Add", ["X", "b"], ["a"], name="c0"),
                node("Relu", ["a"], ["b"], name="c1"),
                node("Identity", ["a"], ["Y"], name="c2")],
               [vi("X", [2, 3])], [vi("Y", [2, 3])]), out, "cycle")


def redefined(out):
    save(model([node("Relu", ["X"], ["Y"], name="r0"),
                node("Neg", ["X"], ["Y"], name="r1")],
               [vi("X", [2, 3])], [vi("Y", [2, 3])]), out, "redefined")


def missing_output(out):
    save(model([node("Relu", ["X"], ["Z"], name="r0")],
               [vi("X", [2, 3])], [vi("Y", [2, 3])]), out, "missing_output")


def input_no_shape(out):
    save(model([node("Relu", ["X"], ["Y"], name="r0")],
               [vi("X", None)], [vi("Y", None)]), out, "input_no_shape")


def control_flow(out):
    # A Loop whose condition is a graph input runs at run time (kiln.loop,
    # test/e2e/control_flow.test); without a trip count its scan output
    # cannot be preallocated: refused.
    body = helper.make_graph([node("Identity", ["c_in"], ["c_out"]),
                              node("Identity", ["v_in"], ["v_out"]),
                              node("Identity", ["v_in"], ["scan"])], "body",
                             [vi("i", [], TensorProto.INT64), vi("c_in", [], TensorProto.BOOL),
                              vi("v_in", [2])],
                             [vi("c_out", [], TensorProto.BOOL), vi("v_out", [2]),
                              vi("scan", [2])])
    save(model([node("Loop", ["", "C", "X"], ["Y", "S"], name="loop0", body=body)],
               [vi("C", [], TensorProto.BOOL), vi("X", [2])],
               [vi("Y", [2]), vi("S", ["K", 2])]), out, "control_flow")


def nested_loops(out):
    # 1000 x 1000 iterations of a 2-node body: the unrolling budget stops it
    # (no hang, no memory blow-up).
    inner = helper.make_graph([node("Identity", ["c_in2"], ["c_out2"]),
                               node("Add", ["w_in", "w_in"], ["w_out"])], "inner",
                              [vi("j", [], TensorProto.INT64), vi("c_in2", [], TensorProto.BOOL),
                               vi("w_in", [2])],
                              [vi("c_out2", [], TensorProto.BOOL), vi("w_out", [2])])
    outer = helper.make_graph([node("Identity", ["c_in"], ["c_out"]),
                               node("Loop", ["M", "", "v_in"], ["v_out"], name="inner0",
                                    body=inner)], "outer",
                              [vi("i", [], TensorProto.INT64), vi("c_in", [], TensorProto.BOOL),
                               vi("v_in", [2])],
                              [vi("c_out", [], TensorProto.BOOL), vi("v_out", [2])])
    save(model([node("Loop", ["M", "", "X"], ["Y"], name="outer0", body=outer)],
               [vi("X", [2])], [vi("Y", [2])], [const("M", np.int64(1000))]),
         out, "nested_loops")


def scan8(out):
    # Scan's opset-8 form has a batch axis, which ONNX's converter drops from
    # the model's own inputs: refused rather than imported with another
    # signature.
    body = helper.make_graph([node("Add", ["s_in", "x_t"], ["s_out"]),
                              node("Identity", ["s_out"], ["y_t"])], "body",
                             [vi("s_in", [2]), vi("x_t", [2])],
                             [vi("s_out", [2]), vi("y_t", [2])])
    save(model([node("Scan", ["", "S", "X"], ["S2", "Y"], name="scan0", body=body,
                     num_scan_inputs=1)],
               [vi("S", [1, 2]), vi("X", [1, 3, 2])], [vi("S2", [1, 2]), vi("Y", [1, 3, 2])],
               opsets=[helper.make_opsetid("", 8)]), out, "scan8")


def sequence_output(out):
    # Sequences live at import only: one cannot be a graph output.
    save(model([node("SequenceConstruct", ["X", "X"], ["Q"], name="seq0")],
               [vi("X", [2])],
               [helper.make_tensor_sequence_value_info("Q", F, [2])]),
         out, "sequence_output")


def matmul_mismatch(out):
    save(model([node("MatMul", ["A", "B"], ["Y"], name="mm0")],
               [vi("A", [2, 3]), vi("B", [4, 5])], [vi("Y", [2, 5])]),
         out, "matmul_mismatch")


def add_broadcast(out):
    save(model([node("Add", ["A", "B"], ["Y"], name="add0")],
               [vi("A", [2, 3]), vi("B", [4])], [vi("Y", [2, 3])]),
         out, "add_broadcast")


def reshape_mismatch(out):
    save(one_node("Reshape", ["X", "S"], [vi("X", [2, 3])],
                  [const("S", [4])]), out, "reshape_mismatch")


def concat_mismatch(out):
    save(one_node("Concat", ["A", "B"], [vi("A", [2, 3]), vi("B", [2, 4])],
                  axis=0), out, "concat_mismatch")


def perm_not_permutation(out):
    save(one_node("Transpose", ["X"], [vi("X", [2, 3])], perm=[0, 0]),
         out, "perm_not_permutation")


def output_wrong_rank(out):
    save(model([node("Relu", ["X"], ["Y"], name="r0")],
               [vi("X", [2, 3])], [vi("Y", [6])]), out, "output_wrong_rank")


# ---------------------------------------------------------------------------
# Initializers
# ---------------------------------------------------------------------------

def neg_dim(out):
    save(add_model(TensorProto(name="W", data_type=F, dims=[2, -3])),
         out, "neg_dim")


def raw_short(out):
    save(add_model(TensorProto(name="W", data_type=F, dims=[2, 3],
                               raw_data=b"\0" * 20)), out, "raw_short")


def raw_long(out):
    save(add_model(TensorProto(name="W", data_type=F, dims=[2, 3],
                               raw_data=b"\0" * 28)), out, "raw_long")


def float_count(out):
    save(add_model(TensorProto(name="W", data_type=F, dims=[2, 3],
                               float_data=[1, 2, 3, 4, 5])),
         out, "float_count")


def string_tensor(out):
    save(add_model(TensorProto(name="W", data_type=TensorProto.STRING,
                               dims=[2, 3], string_data=[b"a"] * 6)),
         out, "string_tensor")


def huge_dims(out):
    # 2^31 x 2^31 floats and no data: refused before anything is allocated.
    save(add_model(TensorProto(name="W", data_type=F, dims=[2**31, 2**31])),
         out, "huge_dims")


# ---------------------------------------------------------------------------
# Operators, domains and opsets
# ---------------------------------------------------------------------------

def relu_model(opsets, domain=""):
    return model([node("Relu", ["X"], ["Y"], name="r0", domain=domain)],
                 [vi("X", [2, 3])], [vi("Y", [2, 3])], opsets=opsets)


def unknown_op(out):
    save(model([node("FooBar", ["X"], ["Y"], name="foo0")],
               [vi("X", [2, 3])], [vi("Y", [2, 3])]), out, "unknown_op")


def unknown_domain(out):
    # The domain is imported, but kiln converts only the default domain.
    save(relu_model([helper.make_opsetid("", OPSET),
                     helper.make_opsetid("com.example", 3)],
                    domain="com.example"), out, "unknown_domain")


def unimported_domain(out):
    # A node from a domain the model does not import at all.
    save(relu_model([helper.make_opsetid("", OPSET)], domain="org.nowhere"),
         out, "unimported_domain")


def opset7(out):
    save(relu_model([helper.make_opsetid("", 7)]), out, "opset7")


def opset5(out):
    save(relu_model([helper.make_opsetid("", 5)]), out, "opset5")


def opset11_unknown_op(out):
    # A node the version converter has no schema for, in a model it must
    # upgrade (Relu's opset-6 form changed in 13).
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["r"], name="r0"),
                           helper.make_node("FooBar", ["r"], ["y"], name="f0")],
                          "g", [x], [y])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)]), out,
         "opset11_unknown_op")


def opset99(out):
    save(relu_model([helper.make_opsetid("", 99)]), out, "opset99")


def no_default_opset(out):
    save(relu_model([helper.make_opsetid("com.example", 1)]),
         out, "no_default_opset")


# ---------------------------------------------------------------------------
# External data: each case is a folder with model.onnx and its data file(s)
# ---------------------------------------------------------------------------

def ext_tensor(location, shape=(2, 3), offset=None, length=None):
    t = TensorProto(name="W", data_type=F, dims=list(shape),
                    data_location=TensorProto.EXTERNAL)
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


def floats(n):
    return np.arange(n, dtype=np.float32).tobytes()


def save_in(m, d):
    write_bytes(os.path.join(d, "model.onnx"), m.SerializeToString())


def ext_abs(out):
    d = ext_folder(out, "ext_abs")
    path = os.path.join(os.path.abspath(d), "weights.bin")
    write_bytes(path, floats(6))
    save_in(add_model(ext_tensor(path)), d)


def ext_dotdot(out):
    # sub/../weights.bin stays inside the folder; '..' is refused as such.
    d = ext_folder(out, "ext_dotdot")
    os.makedirs(os.path.join(d, "sub"))
    write_bytes(os.path.join(d, "weights.bin"), floats(6))
    save_in(add_model(ext_tensor("sub/../weights.bin")), d)


def ext_symlink(out):
    # weights.bin inside the folder is a symlink to a file outside it.
    d = ext_folder(out, "ext_symlink")
    outside = os.path.abspath(os.path.join(out, "ext_symlink_outside.bin"))
    write_bytes(outside, floats(6))
    os.symlink(outside, os.path.join(d, "weights.bin"))
    save_in(add_model(ext_tensor("weights.bin")), d)


def ext_past_end(out):
    d = ext_folder(out, "ext_past_end")
    write_bytes(os.path.join(d, "weights.bin"), floats(12))  # 48 bytes
    save_in(add_model(ext_tensor("weights.bin", offset=40, length=24)), d)


def ext_length(out):
    d = ext_folder(out, "ext_length")
    write_bytes(os.path.join(d, "weights.bin"), floats(12))  # 48 bytes
    save_in(add_model(ext_tensor("weights.bin", offset=0, length=20)), d)


def ext_missing(out):
    d = ext_folder(out, "ext_missing")
    save_in(add_model(ext_tensor("nothere.bin")), d)


def ext_dir(out):
    d = ext_folder(out, "ext_dir")
    os.makedirs(os.path.join(d, "weights.bin"))  # a folder, not a file
    save_in(add_model(ext_tensor("weights.bin")), d)


def ext_bad_offset(out):
    d = ext_folder(out, "ext_bad_offset")
    write_bytes(os.path.join(d, "weights.bin"), floats(6))
    save_in(add_model(ext_tensor("weights.bin", offset=-8)), d)


def ext_ok(out):
    # Valid: W is [16, 32] floats (512 elements, more than kiln inlines, so
    # it becomes a dense_resource) at offset 64 of data/weights.bin.
    d = ext_folder(out, "ext_ok")
    os.makedirs(os.path.join(d, "data"))
    w = np.arange(16 * 32, dtype=np.float32).reshape(16, 32)
    write_bytes(os.path.join(d, "data", "weights.bin"),
                b"\xee" * 64 + w.tobytes())
    t = ext_tensor("data/weights.bin", shape=(16, 32), offset=64,
                   length=w.nbytes)
    save_in(model([node("MatMul", ["X", "W"], ["Y"], name="mm0")],
                  [vi("X", [2, 16])], [vi("Y", [2, 32])], [t]), d)


# ---------------------------------------------------------------------------
# Regressions: kiln once crashed on these, accepted them, or explained them
# badly.
# ---------------------------------------------------------------------------

W_1x1x2x2 = const("W", np.ones((1, 1, 2, 2)), np.float32)


def bug_conv_same_stride0(out):
    save(one_node("Conv", ["X", "W"], [vi("X", [1, 1, 4, 4])], [W_1x1x2x2],
                  strides=[0, 0], auto_pad="SAME_UPPER"),
         out, "bug_conv_same_stride0")


def bug_maxpool_same_stride0(out):
    save(one_node("MaxPool", ["X"], [vi("X", [1, 1, 4, 4])],
                  kernel_shape=[2, 2], strides=[0, 0], auto_pad="SAME_LOWER"),
         out, "bug_maxpool_same_stride0")


def bug_conv_weight_rank1(out):
    save(one_node("Conv", ["X", "W"], [vi("X", [1, 1, 4, 4])],
                  [const("W", [1.0], np.float32)]),
         out, "bug_conv_weight_rank1")


def bug_convtranspose_input_rank1(out):
    save(one_node("ConvTranspose", ["X", "W"], [vi("X", [4])], [W_1x1x2x2]),
         out, "bug_convtranspose_input_rank1")


def bug_depthtospace_blocksize_2p32(out):
    save(one_node("DepthToSpace", ["X"], [vi("X", [1, 4, 2, 2])],
                  blocksize=2**32), out, "bug_depthtospace_blocksize_2p32")


def bug_resize_negative_sizes(out):
    save(one_node("Resize", ["X", "", "", "S"], [vi("X", [1, 1, 4, 4])],
                  [const("S", [1, 1, -3, -3])]),
         out, "bug_resize_negative_sizes")


def bug_resize_negative_scales(out):
    save(one_node("Resize", ["X", "", "S"], [vi("X", [1, 1, 4, 4])],
                  [const("S", [1, 1, -2, -2], np.float32)]),
         out, "bug_resize_negative_scales")


def bug_concat_dim_overflow(out):
    save(one_node("Concat", ["A", "A"], [vi("A", [3 * 2**61])], axis=0),
         out, "bug_concat_dim_overflow")


def bug_tile_overflow(out):
    save(one_node("Tile", ["X", "R"], [vi("X", [2, 3])],
                  [const("R", [2**62, 2**62])]), out, "bug_tile_overflow")


def bug_spacetodepth_overflow(out):
    save(one_node("SpaceToDepth", ["X"], [vi("X", [1, 1, 0, 0])],
                  blocksize=3037000500), out, "bug_spacetodepth_overflow")


def bug_reshape_int64_min(out):
    save(one_node("Reshape", ["X", "S"], [vi("X", [2, 3])],
                  [const("S", [-2**63])]), out, "bug_reshape_int64_min")


def bug_scatternd_index_depth(out):
    # indices' last dim (3) exceeds the data rank (2).
    save(one_node("ScatterND", ["X", "I", "U"], [vi("X", [2, 3])],
                  [const("I", [[0, 0, 0]]), const("U", [1.0], np.float32)]),
         out, "bug_scatternd_index_depth")


def bug_cycle_downstream_first(out):
    # c0 and c1 form the cycle; down0 only consumes it, but comes first.
    save(model([node("Identity", ["a"], ["Y"], name="down0"),
                node("Add", ["X", "b"], ["a"], name="c0"),
                node("Relu", ["a"], ["b"], name="c1")],
               [vi("X", [2, 3])], [vi("Y", [2, 3])]),
         out, "bug_cycle_downstream_first")


def bug_concat_no_inputs(out):
    save(one_node("Concat", [], [], axis=0), out, "bug_concat_no_inputs")


def bug_einsum_no_inputs(out):
    save(one_node("Einsum", [], [], equation="->"), out,
         "bug_einsum_no_inputs")


def bug_node_no_outputs(out):
    save(model([node("Relu", ["X"], [])], [vi("X", [2])], []),
         out, "bug_node_no_outputs")


CASES = [
    truncated, garbage, empty,
    wrong_attr, dangling, cycle, redefined, missing_output, input_no_shape,
    control_flow, nested_loops, scan8, sequence_output, matmul_mismatch, add_broadcast, reshape_mismatch,
    concat_mismatch, perm_not_permutation, output_wrong_rank,
    neg_dim, raw_short, raw_long, float_count, string_tensor, huge_dims,
    unknown_op, unknown_domain, unimported_domain, opset7, opset5,
    opset11_unknown_op, opset99,
    no_default_opset,
    ext_abs, ext_dotdot, ext_symlink, ext_past_end, ext_length, ext_missing,
    ext_dir, ext_bad_offset, ext_ok,
]

REGRESSION_CASES = [
    bug_conv_same_stride0, bug_maxpool_same_stride0, bug_conv_weight_rank1,
    bug_convtranspose_input_rank1, bug_depthtospace_blocksize_2p32,
    bug_resize_negative_sizes, bug_resize_negative_scales,
    bug_concat_dim_overflow, bug_tile_overflow, bug_spacetodepth_overflow,
    bug_reshape_int64_min, bug_scatternd_index_depth,
    bug_cycle_downstream_first, bug_concat_no_inputs, bug_einsum_no_inputs,
    bug_node_no_outputs,
]


def main(argv):
    if len(argv) != 2:
        print("usage: make_bad_models.py OUTDIR", file=sys.stderr)
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    for case in CASES + REGRESSION_CASES:
        case(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
