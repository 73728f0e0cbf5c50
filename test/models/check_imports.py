#!/usr/bin/env python3
"""Import each exported model with kiln and check its result types.

For every MODEL.onnx in --models: `kiln import` must succeed with the dynamic
dims left symbolic, and at each --shapes specialization every value in the
imported function must have a fully static type (no `?` left), i.e. shape
inference resolved the whole graph. Prints one row per model and a closing
`models: N passed, M failed` line; exits 1 on any failure.
"""

import argparse
import os
import re
import subprocess
import sys

TENSOR = re.compile(r"tensor<([^>]*)>")


def dynamic_types(mlir_text):
    """Tensor types with a `?` dim in the function body (resources skipped)."""
    body = mlir_text.split("{-#")[0]
    return [t for t in TENSOR.findall(body) if "?" in t.split("x")[:-1] or t.startswith("?")]


def symbols_of(model):
    """The symbolic dim names of a model's graph inputs."""
    import onnx
    m = onnx.load(model, load_external_data=False)
    return {d.dim_param for i in m.graph.input
            for d in i.type.tensor_type.shape.dim if d.dim_param}


def run(kiln, model, shapes):
    cmd = [kiln, "import", model]
    if shapes:
        # Bind only the symbols this model has: kiln rejects unknown names.
        known = symbols_of(model)
        shapes = ",".join(s for s in shapes.split(",") if s.split("=")[0] in known)
    if shapes:
        cmd += ["--input-shape", shapes]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--shapes", action="append",
                    default=[],
                    help="symbolic-dim bindings, e.g. batch=2,seq=7 (repeatable)")
    args = ap.parse_args()
    shapes = args.shapes or ["batch=2,seq=7,past_seq=5", "batch=1,seq=16,past_seq=3"]
    models = sorted(f for f in os.listdir(args.models) if f.endswith(".onnx"))
    if not models:
        print("no models found in", args.models)
        return 1
    passed = failed = 0
    print(f"{'model':24} {'kiln ops':>8}  {'dynamic dims left after specialization'}")
    for m in models:
        path = os.path.join(args.models, m)
        rc, out, err = run(args.kiln, path, None)
        problems = []
        if rc != 0:
            problems.append(f"import failed: {err}")
        nops = len(re.findall(r"= kiln\.", out))
        left = []
        for s in shapes:
            rc, out_s, err = run(args.kiln, path, s)
            if rc != 0:
                problems.append(f"import with {s} failed: {err}")
                continue
            dyn = dynamic_types(out_s)
            left.append(str(len(dyn)))
            if dyn:
                problems.append(f"with {s}: {len(dyn)} types keep '?', e.g. tensor<{dyn[0]}>")
        status = "ok" if not problems else "FAIL"
        print(f"{m[:-5]:24} {nops:>8}  {', '.join(left):12} {status}")
        for p in problems:
            print("    " + p)
        passed += not problems
        failed += bool(problems)
    print(f"models: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
