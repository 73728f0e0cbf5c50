#!/usr/bin/env python3
"""fp16 models: the exported fp32 models rewritten in fp16 as converters ship
them (test/models/to_half.py: weights, inputs and outputs fp16), compiled by
kiln (which computes them in fp32 between the inputs and outputs,
kiln-widen-half) and run next to ONNX Runtime on the same fp16 file.

The reference is ONNX Runtime running the original fp32 model on the same
(fp16-rounded) inputs. A row passes when kiln's fp16 outputs are as close to
it as ONNX Runtime's fp16 outputs are, or closer: max|kiln - ref| <=
max(1.25 * max|ort16 - ref|, 2e-3 * max(1, max|ref|)), and finite. Prints
one row per model and a closing `half: N passed, M failed` line.

    /usr/bin/python3 test/e2e/half_models.py --models DIR --kiln KILN [--only NAME ...]
"""

import argparse
import os
import sys
import tempfile

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "models"))
import kiln  # noqa: E402
import to_half  # noqa: E402
from run_e2e import make_inputs, run_ort  # noqa: E402

SHAPE = {"batch": 3, "seq": 16, "past_seq": 5}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--models", required=True, help="folder of exported fp32 .onnx models")
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--node", default="node")
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    names = sorted(f[:-5] for f in os.listdir(args.models) if f.endswith(".onnx"))
    if args.only:
        names = [n for n in names if n in args.only]
    passed = failed = 0
    print(f"{'model':22} {'kiln err':>10} {'ort16 err':>10} {'tol':>9}  status")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            src = os.path.join(args.models, name + ".onnx")
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
