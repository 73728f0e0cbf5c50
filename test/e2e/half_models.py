#!/usr/bin/env python3
"""Half-precision models: the exported fp32 models rewritten in fp16 or bf16
as converters ship them (test/models/to_half.py: weights, inputs and outputs
half), compiled by kiln (which computes them in fp32 between the inputs and
outputs, kiln-widen-half).

The reference is ONNX Runtime running the original fp32 model on the same
(rounded) inputs. fp16 (`--type fp16`, through the Python API): ONNX Runtime
also runs the fp16 file, and a row passes when kiln's outputs are as close
to the reference as ONNX Runtime's fp16 outputs are, or closer: max|kiln -
ref| <= max(1.25 * max|ort16 - ref|, 2e-3 * max(1, max|ref|)), and finite.
bf16 (`--type bf16`, through `kiln run` and .npz files of bf16 bit patterns,
as NumPy has no bf16; ONNX Runtime's CPU provider lacks most bf16 kernels):
the reference is ONNX Runtime running the fp32 model with its weights
rounded to bf16 (the values the bf16 file holds), and a row passes at cosine
>= 0.99999 and max|kiln - ref| <= 1e-2 * max(1, max|ref|) (bf16 keeps 8
bits: rounding the outputs alone costs up to 2^-9 relative). Prints one row per model and a closing `half: N passed, M
failed` line.

    /usr/bin/python3 test/e2e/half_models.py --models DIR --kiln KILN [--type fp16|bf16] [--only NAME ...]
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "models"))
import kiln  # noqa: E402
import to_half  # noqa: E402
from run_e2e import make_inputs, model_names, run_ort  # noqa: E402

SHAPE = {"batch": 3, "seq": 16, "past_seq": 5}


def bf16_inputs(onnx_model, rng):
    """Feeds for the bf16 file's graph inputs at SHAPE: floats as fp32 values
    already rounded to bf16 (to feed the fp32 reference) and ints as
    make_inputs makes them."""
    from onnx import TensorProto
    feeds = {}
    for vi in onnx_model.graph.input:
        tt = vi.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else SHAPE.get(d.dim_param, 2)
                for d in tt.shape.dim]
        name = vi.name
        if tt.elem_type == TensorProto.INT64:
            if "mask" in name:
                a = np.ones(dims, np.int64)
                a[..., -1] = 0
            elif "type" in name or "segment" in name:
                a = rng.integers(0, 2, dims).astype(np.int64)
            else:
                a = rng.integers(0, 100, dims).astype(np.int64)
        else:
            bits = to_half.bf16_bits(rng.standard_normal(dims).astype(np.float32))
            a = (bits.astype(np.uint32) << 16).view(np.float32)
        feeds[name] = a
    return feeds


def bf16_rounded(model):
    """The fp32 model with its float initializers and Constant values rounded
    to bf16 (still fp32): what the bf16 file holds, in a form ONNX Runtime
    runs in fp32."""
    from onnx import TensorProto, numpy_helper

    def rnd(t):
        if t.data_type == TensorProto.FLOAT:
            a = numpy_helper.to_array(t)
            b = (to_half.bf16_bits(a).astype(np.uint32) << 16).view(np.float32)
            t.CopyFrom(numpy_helper.from_array(b.reshape(a.shape), t.name))
    for t in model.graph.initializer:
        rnd(t)
    for n in model.graph.node:
        for a in n.attribute:
            if n.op_type in ("Constant", "ConstantOfShape") and a.type == onnx.AttributeProto.TENSOR:
                rnd(a.t)
    return model


def run_bf16(args, name, src, tmp):
    """(kiln err, tol, status) of the bf16 rewrite of `src`."""
    half = os.path.join(tmp, name + "_bf16.onnx")
    so = os.path.join(tmp, name + "_bf16.so")
    m = to_half.convert(onnx.load(src), "bf16")
    onnx.save(m, half)
    kiln.compile(half, so, kiln=args.kiln)
    feeds = bf16_inputs(m, np.random.default_rng(0))
    bits = {k: to_half.bf16_bits(v) if v.dtype == np.float32 else v for k, v in feeds.items()}
    inp, outp = os.path.join(tmp, name + "_in.npz"), os.path.join(tmp, name + "_out.npz")
    np.savez(inp, **bits)
    p = subprocess.run([args.kiln, "run", so, "--inputs", inp, "--output", outp],
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip())
    got = np.load(outp)
    rounded = os.path.join(tmp, name + "_bf16_values.onnx")
    onnx.save(bf16_rounded(onnx.load(src)), rounded)
    ref = run_ort(rounded, feeds, os.path.join(tmp, name + "_32"), args.node)
    bad, kerr, tol = [], 0.0, 0.0
    for out, r in ref.items():
        g = got[out]
        if g.dtype != np.uint16 or g.shape != r.shape:
            bad.append(f"{out}: {g.dtype}{list(g.shape)}, want bf16 bits {list(r.shape)}")
            continue
        g = (g.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        r = r.astype(np.float64)
        e = float(np.abs(g - r).max())
        t = 1e-2 * max(1.0, float(np.abs(r).max()))
        cos = float((g * r).sum() / (np.linalg.norm(g) * np.linalg.norm(r)))
        if not np.isfinite(e) or e > t or not cos >= 0.99999:
            bad.append(f"{out}: max|err| {e:.3g} (tol {t:.3g}), cosine {cos:.6f}")
        kerr, tol = max(kerr, e), max(tol, t)
    return kerr, tol, "ok" if not bad else "FAIL: " + "; ".join(bad)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--models", required=True, help="folder of exported fp32 .onnx models")
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--node", default="node")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--type", choices=["fp16", "bf16"], default="fp16")
    args = ap.parse_args()
    names = model_names(args.models, args.only)
    passed = failed = 0
    print(f"{'model':22} {'kiln err':>10} {'ort16 err':>10} {'tol':>9}  status")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            src = os.path.join(args.models, name + ".onnx")
            if args.type == "bf16":
                try:
                    kerr, tol, status = run_bf16(args, name, src, tmp)
                except Exception as e:
                    kerr = tol = float("nan")
                    status = f"FAIL: {e}"
                print(f"{name:22} {kerr:10.3g} {'-':>10} {tol:9.3g}  {status}")
                passed += status == "ok"
                failed += status != "ok"
                continue
            half = os.path.join(tmp, name + "_fp16.onnx")
            so = os.path.join(tmp, name + "_fp16.so")
            try:
                onnx.save(to_half.convert(onnx.load(src), "fp16"), half)
                kiln.compile(half, so, kiln=args.kiln)
                model = kiln.load(so)
            except Exception as e:  # compile failures are test failures
                print(f"{name:22} {'-':>10} {'-':>10} {'-':>9}  FAIL: {e}")
                failed += 1
                continue
            try:
                feeds = make_inputs(model, SHAPE, np.random.default_rng(0))
                got = model.run(feeds)
                ort16 = run_ort(half, feeds, os.path.join(tmp, name + "_16"), args.node)
                feeds32 = {k: v.astype(np.float32) if v.dtype == np.float16 else v
                           for k, v in feeds.items()}
                ref = run_ort(src, feeds32, os.path.join(tmp, name + "_32"), args.node)
                bad, kerr, oerr, tol = [], 0.0, 0.0, 0.0
                for out, r in ref.items():
                    g, o = got[out], ort16[out]
                    if g.dtype != o.dtype or g.shape != r.shape:
                        bad.append(f"{out}: {g.dtype}{list(g.shape)} vs ORT {o.dtype}{list(o.shape)}")
                        continue
                    r = r.astype(np.float64)
                    ke = float(np.abs(g.astype(np.float64) - r).max())
                    oe = float(np.abs(o.astype(np.float64) - r).max())
                    t = max(1.25 * oe, 2e-3 * max(1.0, float(np.abs(r).max())))
                    if not np.isfinite(ke) or ke > t:
                        bad.append(f"{out}: max|err| {ke:.3g} > {t:.3g}")
                    kerr, oerr, tol = max(kerr, ke), max(oerr, oe), max(tol, t)
                status = "ok" if not bad else "FAIL: " + "; ".join(bad)
            except Exception as e:
                kerr = oerr = tol = float("nan")
                status = f"FAIL: {e}"
            model.close()
            print(f"{name:22} {kerr:10.3g} {oerr:10.3g} {tol:9.3g}  {status}")
            passed += status == "ok"
            failed += status != "ok"
    print(f"half: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
