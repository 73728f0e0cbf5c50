#!/usr/bin/env python3
"""Compile the bundled example with kiln, run it, and print kiln's outputs
next to ONNX Runtime's for the same inputs (the README's first command)."""

import os
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "test", "e2e"))
import kiln  # noqa: E402
from run_e2e import run_ort  # noqa: E402

model = os.path.join(ROOT, "examples", "bert_tiny.onnx")
so = os.path.join(ROOT, "build", "bert_tiny.so")
kiln.compile(model, so, kiln=os.path.join(ROOT, "build", "bin", "kiln"))
m = kiln.load(so)
rng = np.random.default_rng(0)
ids = rng.integers(0, 100, (2, 12)).astype(np.int64)
feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids),
         "token_type_ids": np.zeros_like(ids)}
got = m.run(feeds)
with tempfile.TemporaryDirectory() as tmp:
    ref = run_ort(model, feeds, tmp, "node")
print(f"compiled {model} -> {so} (batch=2, seq=12 at run time)")
for name, r in ref.items():
    g = got[name]
    print(f"{name} {list(g.shape)}: max |kiln - onnxruntime| = {np.abs(g - r).max():.2e}")
    print(f"  kiln        {np.array2string(g.reshape(-1)[:6], precision=5)}")
    print(f"  onnxruntime {np.array2string(r.reshape(-1)[:6], precision=5)}")
