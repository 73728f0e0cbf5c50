#!/usr/bin/env python3
"""Regenerates the supported-ops table in README.md from the test results.

For each ONNX op that appears in the backend node tests, counts how many of
its tests are on the committed pass list (test/conformance/import_pass.txt),
and writes the table between the OP-TABLE markers of README.md.
Run: /usr/bin/python3 scripts/gen_op_table.py
"""

import collections
import os
import re
import sys

import onnx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = "/usr/share/libonnx-testdata/data/node"


def main():
    passing = set(open(os.path.join(ROOT, "test/conformance/import_pass.txt")).read().split())
    running = set(open(os.path.join(ROOT, "test/conformance/run_pass.txt")).read().split())
    total = collections.Counter()
    ok = collections.Counter()
    runs = collections.Counter()
    for name in sorted(os.listdir(DATA)):
        path = os.path.join(DATA, name, "model.onnx")
        if not os.path.exists(path):
            continue
        model = onnx.load(path, load_external_data=False)
        ops = sorted({n.op_type for n in model.graph.node if n.domain in ("", "ai.onnx")})
        for op in ops:
            total[op] += 1
            ok[op] += name in passing
            runs[op] += name in running
    rows = ["| ONNX op | node tests importing | compiling, running, matching |",
            "|---|---|---|"]
    for op in sorted(total):
        rows.append(f"| {op} | {ok[op]}/{total[op]} | {runs[op]}/{total[op]} |")
    # Ops the ONNX 1.12 node tests do not have (opset 23, com.microsoft): the
    # ones test/import/transformer-ops.test imports and
    # test/e2e/transformer_ops.test runs against a numpy reference.
    extra = collections.Counter()
    sections = open(os.path.join(ROOT, "test/import/transformer-ops.test")).read().split("#--- ")
    src = "".join(sec for sec in sections if not sec.startswith("err_"))
    for m in re.finditer(r"=\s*((?:com\.microsoft\.)?[A-Z]\w+)\s*[<(]", src):
        extra[m.group(1)] += 1
    e2e = open(os.path.join(ROOT, "test/e2e/transformer_ops.py")).read()
    if extra:
        rows += ["", "| ONNX op (not in the node tests) | domain | checked by |", "|---|---|---|"]
        for op in sorted(extra):
            domain = "com.microsoft" if op.startswith("com.microsoft.") else "ai.onnx (opset 23)"
            name = op.split(".")[-1]
            runs_e2e = re.search(r"\b%s\b" % re.escape(op), e2e) is not None
            rows.append(f"| {name} | {domain} | import lit test"
                        + (", e2e numerics vs numpy" if runs_e2e else "") + " |")
    # com.microsoft ops that e2e scripts build with onnx.helper and compare
    # with ONNX Runtime (e.g. test/e2e/matmul_nbits.py).
    vs_ort = {}
    for f in sorted(os.listdir(os.path.join(ROOT, "test/e2e"))):
        if f.endswith(".py"):
            text = open(os.path.join(ROOT, "test/e2e", f)).read()
            for m in re.finditer(r'make_node\(\s*"(\w+)"[^)]*domain="com\.microsoft"', text, flags=re.S):
                vs_ort.setdefault(m.group(1), f)
            # ort_contrib.py's Graph.node(op, ..., domain=MS) calls, each up
            # to the next statement of its builder
            for m in re.finditer(r'\bg\.node\(\s*"(\w+)"(.*?)(?=\n\s*(?:g\.node\(|g\.save\(|x = |out = |d = |def ))',
                                 text, flags=re.S):
                if "domain=MS" in m.group(2):
                    vs_ort.setdefault(m.group(1), f)
    for op, f in sorted(vs_ort.items()):
        rows.append(f"| {op} | com.microsoft | e2e numerics vs ONNX Runtime ({f}) |")
    table = "\n".join(rows)
    readme = os.path.join(ROOT, "README.md")
    text = open(readme).read()
    new = re.sub(r"(<!-- OP-TABLE:BEGIN -->\n).*?(<!-- OP-TABLE:END -->)",
                 lambda m: m.group(1) + table + "\n" + m.group(2), text, flags=re.S)
    open(readme, "w").write(new)
    print(f"{sum(1 for o in total if ok[o] == total[o])} ops fully, "
          f"{sum(1 for o in total if 0 < ok[o] < total[o])} partly supported")
    return 0


if __name__ == "__main__":
    sys.exit(main())
