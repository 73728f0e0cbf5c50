#!/usr/bin/env python3
"""Compile the exported PyTorch models with kiln and compare with ONNX Runtime.

Each model is compiled once with its dynamic dims kept dynamic, then run at
two shapes through the Python API (python/kiln); ONNX Runtime (npm
onnxruntime-node, via ort_run.js) runs the same inputs. The fp32 tolerance is
max|kiln - ort| <= 1e-4 * max|ort|, relative to the output's scale: the
torchvision exports with random weights put out values near 1e-10, which
the absolute floor of 1e-4 used before passed whatever kiln computed.
Prints one row per model and shape and a closing `e2e: N passed, M failed`
line; exits 1 on any failure.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
import kiln  # noqa: E402

# Two shapes per model: symbolic dim -> extent.
SHAPES = [{"batch": 1, "seq": 7, "past_seq": 3}, {"batch": 3, "seq": 16, "past_seq": 5}]


def make_inputs(model, shape, rng):
    feeds = {}
    for info in model.inputs:
        dims = [d if isinstance(d, int) else shape.get(d, 2) for d in info["dims"]]
        name, dt = info["name"], np.dtype(info["dtype"])
        if dt in (np.int64, np.int32):
            if "mask" in name:
                a = np.ones(dims, dt)
                if a.size:
                    a[..., -1] = 0
            elif "type" in name or "segment" in name:
                a = rng.integers(0, 2, dims).astype(dt)
            else:
                a = rng.integers(0, 100, dims).astype(dt)
        elif dt == np.bool_:
            a = rng.integers(0, 2, dims).astype(np.bool_)
        else:
            a = rng.standard_normal(dims).astype(dt)
        feeds[name] = a
    return feeds


def run_ort(onnx_path, feeds, workdir, node, config=None, literal=False):
    """ORT's outputs for `feeds`; `config`: session config entries
    ({"session.key": "value"}); `literal`: graph optimizations off (each
    node as the spec defines it, ort_run.js --literal)."""
    ind, outd = os.path.join(workdir, "in"), os.path.join(workdir, "out")
    os.makedirs(ind, exist_ok=True)
    manifest = {}
    for i, (name, a) in enumerate(feeds.items()):
        f = f"in{i}.bin"
        a.tofile(os.path.join(ind, f))
        manifest[name] = {"dtype": str(a.dtype) if a.dtype != np.bool_ else "bool",
                          "dims": list(a.shape), "file": f}
    json.dump(manifest, open(os.path.join(ind, "manifest.json"), "w"))
    extra = [a for k, v in (config or {}).items() for a in ("--config", f"{k}={v}")]
    extra += ["--literal"] if literal else []
    p = subprocess.run([node, os.path.join(HERE, "ort_run.js"), onnx_path, ind, outd] + extra,
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip())
    out = {}
    for name, t in json.load(open(os.path.join(outd, "manifest.json"))).items():
        dt = np.bool_ if t["dtype"] == "bool" else np.dtype(t["dtype"])
        out[name] = np.fromfile(os.path.join(outd, t["file"]), dtype=dt).reshape(t["dims"])
    return out


def fp32_or_cosine(got, ref, fp32):
    """(ok, detail) of one output: fp32 builds within 1e-4 of the
    reference's max, low-precision ones at cosine >= 0.999."""
    if fp32:
        tol = 1e-4 * float(np.abs(ref).max())
        err = float(np.abs(got - ref).max())
        return err <= tol, f"max|err| {err:.3g} tol {tol:.3g}"
    cos = float(np.dot(got.ravel(), ref.ravel()) /
                (np.linalg.norm(got) * np.linalg.norm(ref)))
    return cos >= 0.999, f"cosine {cos:.6f}"


def model_names(models, only):
    """The .onnx files' names in folder `models`, sorted; only those listed
    in `only` when given."""
    names = sorted(f[:-5] for f in os.listdir(models) if f.endswith(".onnx"))
    return [n for n in names if n in only] if only else names


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--models", required=True, help="folder of exported .onnx models")
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--node", default="node")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--compile-args", default="",
                    help="more kiln compile flags, e.g. '--target cuda --emulate-gpu'")
    args = ap.parse_args()
    names = model_names(args.models, args.only)
    passed = failed = 0
    print(f"{'model':22} {'shape':26} {'max|err|':>10} {'tol':>9}  status")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            onnx_path = os.path.join(args.models, name + ".onnx")
            so = os.path.join(tmp, name + ".so")
            try:
                kiln.compile(onnx_path, so, kiln=args.kiln,
                             extra_args=args.compile_args.split())
                model = kiln.load(so)
            except Exception as e:  # compile failures are test failures
                print(f"{name:22} {'(compile)':26} {'-':>10} {'-':>9}  FAIL: {e}")
                failed += 1
                continue
            for k, shape in enumerate(SHAPES):
                rng = np.random.default_rng(k)
                feeds = make_inputs(model, shape, rng)
                desc = ",".join(f"{n}={v}" for n, v in shape.items()
                                if any(n in map(str, i["dims"]) for i in model.inputs))
                try:
                    got = model.run(feeds)
                    ref = run_ort(onnx_path, feeds, os.path.join(tmp, f"{name}_{k}"), args.node)
                    err, tol, bad = 0.0, 0.0, []
                    for out_name, r in ref.items():
                        g = got[out_name]
                        if g.shape != r.shape:
                            bad.append(f"{out_name}: shape {g.shape} vs {r.shape}")
                            continue
                        rf, gf = r.astype(np.float64), g.astype(np.float64)
                        t = 1e-4 * (float(np.abs(rf).max()) if rf.size else 1.0)
                        e = float(np.abs(gf - rf).max()) if rf.size else 0.0
                        if not np.isfinite(e) or e > t:
                            bad.append(f"{out_name}: max|err| {e:.3g} > {t:.3g}")
                        err, tol = max(err, e), max(tol, t)
                    status = "ok" if not bad else "FAIL: " + "; ".join(bad)
                except Exception as e:
                    err, tol, status = float("nan"), float("nan"), f"FAIL: {e}"
                print(f"{name:22} {desc:26} {err:10.3g} {tol:9.3g}  {status}")
                passed += status == "ok"
                failed += status != "ok"
            model.close()
    print(f"e2e: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
