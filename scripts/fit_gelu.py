#!/usr/bin/python3
"""Fits the rational GELU of lib/Runtime/ukernels/vmath_gelu.h.

erf(x / sqrt 2) = x * P(x^2) / Q(x^2) for |x| <= 5.6 (x clamped there:
erf(5.6 / sqrt 2) = 1 - 2e-8), P of degree 6, Q of degree 4 with Q(0) = 1.
Linearized least squares iterated on 1 / Q (Sanathanan-Koerner) with
Lawson's reweighting towards the minimax of the absolute error, in double.
Prints the coefficients and the errors of the float32 evaluation (Horner, as
the kernels do) of erf and of GELU(x) = x/2 + x/2 * erf(x / sqrt 2).
Usage: /usr/bin/python3 scripts/fit_gelu.py
"""
import math

import numpy as np

CLAMP, NP, NQ = 5.6, 6, 4


def fit():
    xs = np.linspace(0.0, CLAMP, 40001)
    ref = np.array([math.erf(x / math.sqrt(2.0)) for x in xs])
    f = np.empty_like(xs)
    f[1:] = ref[1:] / xs[1:]
    f[0] = math.sqrt(2.0 / math.pi)
    scale = CLAMP * CLAMP
    t = xs * xs / scale  # conditioned variable in [0, 1]
    vp = np.vander(t, NP + 1, increasing=True)
    vq = np.vander(t, NQ + 1, increasing=True)[:, 1:]
    w, q = np.ones_like(t), np.ones_like(t)
    for _ in range(60):
        a = np.hstack([vp, -f[:, None] * vq]) * (w / q)[:, None]
        c, *_ = np.linalg.lstsq(a, f * w / q, rcond=None)
        p = vp @ c[:NP + 1]
        q = 1.0 + vq @ c[NP + 1:]
        err = xs * (p / q) - ref
        w = w * np.sqrt(np.abs(err) + 1e-30)
        w /= w.max()
    print(f"double: max |erf error| {np.abs(err).max():.3g}")
    pc = c[:NP + 1] / scale ** np.arange(NP + 1)
    qc = np.concatenate([[1.0], c[NP + 1:]]) / scale ** np.arange(NQ + 1)
    return pc.astype(np.float32), qc.astype(np.float32)


def horner(coeffs, s):
    acc = np.full_like(s, coeffs[-1])
    for v in coeffs[-2::-1]:
        acc = (acc * s + v).astype(np.float32)
    return acc


def check(pc, qc):
    x = np.linspace(-8.0, 8.0, 400001).astype(np.float32)
    xc = np.clip(x, np.float32(-CLAMP), np.float32(CLAMP))
    s = (xc * xc).astype(np.float32)
    r = ((xc * horner(pc, s)).astype(np.float32) / horner(qc, s)).astype(np.float32)
    h = (np.float32(0.5) * x).astype(np.float32)
    g = (h * r + h).astype(np.float32)
    erf_ref = np.array([math.erf(float(v) / math.sqrt(2.0)) for v in x])
    gelu_ref = 0.5 * x.astype(np.float64) * (1.0 + erf_ref)
    print(f"float32: max |erf error| {np.abs(r - erf_ref).max():.3g}, "
          f"max |GELU error| {np.abs(g - gelu_ref).max():.3g}")


def main():
    pc, qc = fit()
    for name, cs in (("P", pc), ("Q", qc)):
        for i, v in enumerate(cs):
            print(f"#define KILN_GELU_{name}{i} {float(v):.9e}f")
    check(pc, qc)


if __name__ == "__main__":
    main()
