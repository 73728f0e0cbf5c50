"""Tests of the Python API (python/kiln): compile a text model with
kiln.compile, load it, run it with numpy arrays and compare with numpy.

The compiler is $KILN_BIN, or build/bin/kiln of this checkout. Run with
`python3 -m pytest -q test/python` (lit runs it through python.test).
"""

import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
import kiln  # noqa: E402

KILN = os.environ.get("KILN_BIN") or os.path.join(ROOT, "build", "bin", "kiln")

# Y = Relu(X @ W + R), S = Tanh(X); X and R share the symbolic dim N.
MODEL = """<
  ir_version: 8,
  opset_import: ["" : 13]
>
pymodel (float[N, 4] X, float[4, 3] W, float[N, 3] R) => (float[N, 3] Y, float[N, 4] S) {
  T = MatMul(X, W)
  U = Add(T, R)
  Y = Relu(U)
  S = Tanh(X)
}
"""

# Integer and boolean inputs and outputs.
INTS = """<
  ir_version: 8,
  opset_import: ["" : 13]
>
ints (int64[N] I, bool[N] M, int32[2, N] J) => (int64[N] O, bool[N] B, float[N] F, int32[N, 2] T) {
  O = Mul(I, I)
  B = Not(M)
  F = Cast<to = 1>(I)
  T = Transpose(J)
}
"""


def compile_text(tmp_path, text, name, **kw):
    src = tmp_path / (name + ".onnxtxt")
    src.write_text(text)
    out = tmp_path / (name + ".so")
    assert kiln.compile(str(src), str(out), kiln=KILN, **kw) == str(out)
    assert out.exists()
    return str(out)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = compile_text(tmp_path_factory.mktemp("pymodel"), MODEL, "pymodel")
    m = kiln.load(path)
    yield m
    m.close()


def feeds(n, seed):
    rng = np.random.default_rng(seed)
    return {"X": rng.standard_normal((n, 4)).astype(np.float32),
            "W": rng.standard_normal((4, 3)).astype(np.float32),
            "R": rng.standard_normal((n, 3)).astype(np.float32)}


def reference(f):
    return {"Y": np.maximum(f["X"] @ f["W"] + f["R"], 0), "S": np.tanh(f["X"])}


def check(got, want):
    assert sorted(got) == sorted(want)
    for k in want:
        assert got[k].dtype == want[k].dtype, k
        assert got[k].shape == want[k].shape, k
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-6, err_msg=k)


def test_metadata(model):
    assert model.inputs == [
        {"name": "X", "dtype": np.float32, "dims": ["N", 4]},
        {"name": "W", "dtype": np.float32, "dims": [4, 3]},
        {"name": "R", "dtype": np.float32, "dims": ["N", 3]},
    ]
    assert model.outputs == [
        {"name": "Y", "dtype": np.float32, "dims": ["N", 3]},
        {"name": "S", "dtype": np.float32, "dims": ["N", 4]},
    ]


@pytest.mark.parametrize("n", [1, 7])
def test_run_two_sizes(model, n):
    f = feeds(n, n)
    check(model.run(f), reference(f))


def test_run_sizes_interleaved(model):
    # The same loaded model, sizes changing from run to run.
    for i, n in enumerate([3, 1, 16, 2, 3]):
        f = feeds(n, 100 + i)
        check(model.run(f), reference(f))


def test_empty_batch(model):
    f = feeds(0, 0)
    out = model.run(f)
    assert out["Y"].shape == (0, 3) and out["S"].shape == (0, 4)


def test_output_buffers(model):
    # Caller buffers are written in place and returned as given; the other
    # outputs are allocated as before.
    f = feeds(6, 11)
    y = np.full((6, 3), np.nan, np.float32)
    out = model.run(f, outputs={"Y": y})
    assert out["Y"] is y
    check(out, reference(f))
    # A buffer smaller than the output or of another shape, an unknown name
    # and a buffer that is not a writable C-contiguous array are refused.
    with pytest.raises(kiln.KilnError, match=r"^output 'Y' needs 72 bytes, the buffer has 36$"):
        model.run(f, outputs={"Y": np.zeros((3, 3), np.float32)})
    with pytest.raises(kiln.KilnError, match=r"^output 'Y' has shape \[6, 3\], its buffer \[9, 3\]$"):
        model.run(f, outputs={"Y": np.zeros((9, 3), np.float32)})
    with pytest.raises(kiln.KilnError, match=r"^no output named 'Z'$"):
        model.run(f, outputs={"Z": np.zeros((6, 3), np.float32)})
    with pytest.raises(kiln.KilnError, match=r"writable C-contiguous"):
        model.run(f, outputs={"Y": np.zeros((3, 6), np.float32).T})
    # An output buffer that is (part of) an input's memory: computing Y in
    # place would overwrite R while it is read, so it is refused.
    with pytest.raises(kiln.KilnError, match=r"^the buffer of output 'Y' overlaps input 'R'"):
        model.run(f, outputs={"Y": f["R"]})
    big = np.zeros((7, 3), np.float32)
    f["R"] = big[1:]
    with pytest.raises(kiln.KilnError, match=r"overlaps input 'R'"):
        model.run(f, outputs={"Y": big[:6]})


def test_non_contiguous_inputs(model):
    f = feeds(5, 1)
    # A strided view and a Fortran-ordered copy of the same values.
    f["X"] = np.repeat(f["X"], 2, axis=1)[:, ::2]
    f["W"] = np.asfortranarray(f["W"])
    assert not f["X"].flags.c_contiguous and not f["W"].flags.c_contiguous
    check(model.run(f), reference(f))


def test_extra_feeds_ignored(model):
    f = feeds(2, 2)
    want = reference(f)
    f["unused"] = np.zeros(3)
    check(model.run(f), want)


def test_wrong_dtype(model):
    f = feeds(2, 3)
    f["X"] = f["X"].astype(np.float64)
    with pytest.raises(kiln.KilnError, match=r"^input 'X' must be float32, got float64$"):
        model.run(f)


def test_wrong_rank(model):
    f = feeds(2, 4)
    f["R"] = f["R"].reshape(2, 3, 1)
    with pytest.raises(kiln.KilnError, match=r"^input 'R' must have rank 2, got 3$"):
        model.run(f)


def test_wrong_static_dim(model):
    f = feeds(2, 5)
    f["W"] = np.zeros((5, 3), np.float32)
    with pytest.raises(kiln.KilnError, match=r"^input 'W' dim 0 must be 4, got 5$"):
        model.run(f)


def test_inconsistent_symbolic_dim(model):
    f = feeds(2, 6)
    f["R"] = np.zeros((3, 3), np.float32)
    with pytest.raises(kiln.KilnError,
                       match=r"^input 'R' dim 0 \('N'\) is 3, but 'N' is 2 elsewhere$"):
        model.run(f)


def test_missing_input(model):
    f = feeds(2, 7)
    del f["R"]
    with pytest.raises(kiln.KilnError, match=r"^missing input 'R'$"):
        model.run(f)


def test_still_runs_after_errors(model):
    f = feeds(4, 8)
    bad = dict(f, X=f["X"].astype(np.float64))
    with pytest.raises(kiln.KilnError):
        model.run(bad)
    check(model.run(f), reference(f))


def test_static_shape(tmp_path):
    path = compile_text(tmp_path, MODEL, "static", input_shape={"N": 2})
    m = kiln.load(path)
    assert [i["dims"] for i in m.inputs] == [[2, 4], [4, 3], [2, 3]]
    assert [o["dims"] for o in m.outputs] == [[2, 3], [2, 4]]
    f = feeds(2, 9)
    check(m.run(f), reference(f))
    with pytest.raises(kiln.KilnError, match=r"^input 'X' dim 0 must be 2, got 3$"):
        m.run(feeds(3, 9))
    m.close()


def test_int_and_bool(tmp_path):
    m = kiln.load(compile_text(tmp_path, INTS, "ints"))
    assert [(i["name"], i["dtype"], i["dims"]) for i in m.inputs] == [
        ("I", np.int64, ["N"]), ("M", np.bool_, ["N"]), ("J", np.int32, [2, "N"])]
    assert [(o["name"], o["dtype"]) for o in m.outputs] == [
        ("O", np.int64), ("B", np.bool_), ("F", np.float32), ("T", np.int32)]
    for n in (1, 6):
        i = np.arange(n, dtype=np.int64) * 1000003 - 3
        mask = np.arange(n) % 3 == 0
        j = np.arange(2 * n, dtype=np.int32).reshape(2, n)
        out = m.run({"I": i, "M": mask, "J": j})
        np.testing.assert_array_equal(out["O"], i * i)
        np.testing.assert_array_equal(out["B"], ~mask)
        np.testing.assert_array_equal(out["F"], i.astype(np.float32))
        np.testing.assert_array_equal(out["T"], j.T)
        assert out["O"].dtype == np.int64 and out["B"].dtype == np.bool_
    m.close()


def test_compile_error_bad_model(tmp_path):
    src = tmp_path / "bad.onnxtxt"
    src.write_text("this is not a model\n")
    with pytest.raises(kiln.KilnError, match=r"^kiln: error: cannot parse '.*bad\.onnxtxt' as ONNX text"):
        kiln.compile(str(src), str(tmp_path / "bad.so"), kiln=KILN)
    assert not (tmp_path / "bad.so").exists()


def test_compile_error_invalid_graph(tmp_path):
    src = tmp_path / "mm.onnxtxt"
    src.write_text(MODEL.replace("float[4, 3] W", "float[3, 3] W"))
    with pytest.raises(kiln.KilnError,
                       match=r"^kiln: error: node .*MatMul.*contracting dims differ"):
        kiln.compile(str(src), str(tmp_path / "mm.so"), kiln=KILN)


def test_compile_error_missing_file(tmp_path):
    with pytest.raises(kiln.KilnError, match=r"^kiln: error: cannot read '.*no_such\.onnx'"):
        kiln.compile(str(tmp_path / "no_such.onnx"), str(tmp_path / "x.so"), kiln=KILN)


def mlp_onnx(tmp_path):
    """A one-layer dense model (MatMul + Add) as a binary .onnx file (kiln
    calibrate reads binary models) and its weights."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(5)
    w = (rng.standard_normal((32, 16)) * 0.3).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["H"], name="/fc/MatMul"),
         helper.make_node("Add", ["H", "B"], ["Y"], name="/fc/Add")],
        "mlp", [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 32])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 16])],
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")])
    path = tmp_path / "mlp.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return str(path), w, b


def test_calibrate_int8_static_and_fp16(tmp_path):
    path, w, b = mlp_onnx(tmp_path)
    rng = np.random.default_rng(6)
    samples = tmp_path / "samples.npz"
    np.savez(samples, X=rng.uniform(-1, 1, (3, 8, 32)).astype(np.float32))
    ranges = tmp_path / "ranges.json"
    assert kiln.calibrate(path, str(ranges), samples=str(samples), kiln=KILN) == str(ranges)
    import json
    r = json.loads(ranges.read_text())["nodes"]["/fc/MatMul"]
    assert r["tensor"] == "X" and -1 <= r["min"] < -0.95 and 0.95 < r["max"] <= 1
    x = rng.uniform(-2, 2, (5, 32)).astype(np.float32)
    so = tmp_path / "static.so"
    kiln.compile(path, str(so), kiln=KILN, quantize="int8-static", calibration=str(ranges))
    m = kiln.load(str(so))
    want = np.clip(x, r["min"], r["max"]) @ w + b  # the input clips at the range
    got = m.run({"X": x})["Y"]
    assert np.abs(got - want).max() <= 0.03 * np.abs(want).max()
    m.close()
    so = tmp_path / "fp16.so"
    kiln.compile(path, str(so), kiln=KILN, precision="fp16")
    m = kiln.load(str(so))
    np.testing.assert_allclose(m.run({"X": x})["Y"], x @ w + b, rtol=2e-3, atol=2e-3)
    m.close()
    with pytest.raises(kiln.KilnError, match=r"^kiln: error: cannot open .*absent\.npz"):
        kiln.calibrate(path, str(tmp_path / "r2.json"), samples=str(tmp_path / "absent.npz"),
                       kiln=KILN)


# bfloat16 inputs and outputs: numpy has no bfloat16, so they travel as
# uint16 bit patterns (kiln.to_bfloat16 / kiln.from_bfloat16).
BF16 = """<
  ir_version: 8,
  opset_import: ["" : 13]
>
bf (bfloat16[N] X, float[N] Y) => (bfloat16[N] Z, float[N] F, bfloat16[N] D) {
  XF = Cast<to = 1>(X)
  S = Mul(XF, Y)
  Z = Cast<to = 16>(S)
  F = Identity(XF)
  D = Add(X, X)
}
"""


def test_bfloat16_helpers():
    one = 1.0
    # 1 + 2^-8 is a tie (to 1.0, even); 1 + 3 * 2^-8 is one (to 1 + 2^-6).
    bits = kiln.to_bfloat16(np.array([one, one + 2.0**-8, one + 3 * 2.0**-8, -2.5,
                                      np.inf, 3.0e38, np.nan], dtype=np.float32))
    assert bits.dtype == np.uint16
    assert [int(b) for b in bits[:6]] == [0x3F80, 0x3F80, 0x3F82, 0xC020, 0x7F80, 0x7F62]
    assert np.isnan(kiln.from_bfloat16(bits[6:])).all()
    widened = kiln.from_bfloat16(bits[:6])
    assert widened.dtype == np.float32
    np.testing.assert_array_equal(widened[:4], [1.0, 1.0, 1.015625, -2.5])
    assert widened[4] == np.inf


def test_bfloat16_inputs_and_outputs(tmp_path):
    m = kiln.load(compile_text(tmp_path, BF16, "bf"))
    assert [(i["name"], i["dtype"]) for i in m.inputs] == [("X", "bfloat16"), ("Y", np.float32)]
    assert [(o["name"], o["dtype"]) for o in m.outputs] == [
        ("Z", "bfloat16"), ("F", np.float32), ("D", "bfloat16")]
    rng = np.random.default_rng(3)
    x = kiln.to_bfloat16(rng.standard_normal(37).astype(np.float32))
    y = rng.standard_normal(37).astype(np.float32)
    out = m.run({"X": x, "Y": y})
    xf = kiln.from_bfloat16(x)
    assert out["Z"].dtype == np.uint16 and out["D"].dtype == np.uint16
    np.testing.assert_array_equal(out["F"], xf)
    np.testing.assert_array_equal(out["Z"], kiln.to_bfloat16(xf * y))
    np.testing.assert_array_equal(kiln.from_bfloat16(out["D"]), 2 * xf)
    # A caller buffer for a bfloat16 output is a uint16 array too.
    z = np.zeros(37, dtype=np.uint16)
    out = m.run({"X": x, "Y": y}, outputs={"Z": z})
    assert out["Z"] is z
    np.testing.assert_array_equal(z, kiln.to_bfloat16(xf * y))
    with pytest.raises(kiln.KilnError, match=r"^input 'X' is bfloat16, got float32: "
                                             r"pass kiln.to_bfloat16"):
        m.run({"X": xf, "Y": y})
    m.close()


# Element-wise index ops with dynamic extents: kiln checks at run time that
# updates match the indices and that the indices stay within the data off
# the axis (before, a mismatch read or wrote out of bounds).
SCATTER = """<
  ir_version: 8,
  opset_import: ["" : 13]
>
scat (float[A, B] D, int64[C, E] I, float[F, G] U) => (float[A, B] Y, float[C, E] Z) {
  Y = ScatterElements<axis = 0>(D, I, U)
  Z = GatherElements<axis = 0>(D, I)
}
"""


def test_element_index_extents_checked(tmp_path):
    m = kiln.load(compile_text(tmp_path, SCATTER, "scat"))
    d = np.arange(12, dtype=np.float32).reshape(3, 4)
    i = np.array([[2, 0, 1], [1, 2, 0]], np.int64)
    u = np.full((2, 3), -1.0, np.float32)
    out = m.run({"D": d, "I": i, "U": u})
    y = d.copy()
    for r in range(2):
        for c in range(3):
            y[i[r, c], c] = u[r, c]
    np.testing.assert_array_equal(out["Y"], y)
    np.testing.assert_array_equal(out["Z"], d[i, np.arange(3)])
    with pytest.raises(kiln.KilnError, match=r"two dims that must match are 2 and 3 "):
        m.run({"D": d, "I": i, "U": u[:, :2]})
    wide = np.zeros((2, 5), np.int64)  # 5 columns, the data has 4
    with pytest.raises(kiln.KilnError, match=r"two dims that must match are 5 and 4 "):
        m.run({"D": d, "I": wide, "U": np.zeros((2, 5), np.float32)})
    check_ok = m.run({"D": d, "I": i, "U": u})  # still runs after the errors
    np.testing.assert_array_equal(check_ok["Y"], y)
    m.close()
