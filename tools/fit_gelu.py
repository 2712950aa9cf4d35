#!/usr/bin/env python3
"""Fit the rational approximation of erf used by the AVX-512 GELU kernel
(Sources/VitKernels/f32_rowops__avx512f.cpp) and check it in float32.

erf(t) ~ t * P(t^2) / Q(t^2) on [0, 3.92] (beyond 3.92 erf rounds to 1 in float32),
P with 6 coefficients, Q with 1 + 5, by Loeb's iteration (linear least squares
reweighted by 1/Q). Prints the coefficients as float32 and the GELU error in ulps of
max(1, |x|) over [-8, 8] with float32 Horner evaluation, as the kernel computes it.

    python3 tools/fit_gelu.py
"""
from math import erf, sqrt

import numpy as np

LIMIT = 3.92


def fit(n_p=6, n_q=5, iterations=30):
    t = np.linspace(0, LIMIT, 20001)
    y = np.array([erf(v) for v in t])
    u = t * t
    w = np.ones_like(t)
    for _ in range(iterations):
        a = np.hstack([np.stack([t * u**i for i in range(n_p)], 1),
                       np.stack([-y * u**(j + 1) for j in range(n_q)], 1)])
        c, *_ = np.linalg.lstsq(a * w[:, None], y * w, rcond=None)
        p, q = c[:n_p], np.concatenate([[1], c[n_p:]])
        w = 1 / np.abs(sum(q[j] * u**j for j in range(n_q + 1)))
    return p.astype(np.float32), q.astype(np.float32)


def gelu32(x, p, q):
    f = np.float32
    t = np.clip((x * f(1 / sqrt(2))).astype(f), -LIMIT, LIMIT).astype(f)
    u = (t * t).astype(f)
    pp, qq = f(p[-1]), f(q[-1])
    for c in p[-2::-1]:
        pp = (pp * u + c).astype(f)
    for c in q[-2::-1]:
        qq = (qq * u + c).astype(f)
    e = (t * pp / qq).astype(f)
    return (f(0.5) * x * (f(1) + e)).astype(f)


def main():
    p, q = fit()
    print("P:", ", ".join(f"{v!r}f" for v in p.tolist()))
    print("Q:", ", ".join(f"{v!r}f" for v in q.tolist()))
    x = np.linspace(-8, 8, 160001).astype(np.float32)
    ref = np.array([0.5 * float(v) * (1 + erf(float(v) / sqrt(2))) for v in x])
    err = np.abs(gelu32(x, p, q) - ref) / np.maximum(1, np.abs(x)) / np.finfo(np.float32).eps
    print(f"max GELU error: {err.max():.2f} ulp of max(1, |x|)")


if __name__ == "__main__":
    main()
