"""Explicit Monte-Carlo construction of the Gaussian null (src/math/canonicalNull.ts), for
test/python/canonicalNull.test.ts: for each case (k1, k2, m, beta) given as JSON on stdin, `count`
pairs of independent Gaussian matrices X (k1 x m) and Y (k2 x m) -- real (beta = 1) or circular
complex, (N + iN)/sqrt(2) (beta = 2) -- are centred over the m datapoints (columns), their row spaces
orthonormalised by numpy's QR, and the canonical correlations taken as the singular values of
Qx^H Qy (numpy SVD). Prints one JSON list: per case the mean canonical correlation of every pair,
and the mean of the squared ones (E = k1 k2 / ((m - 1) min(k1, k2)) exactly, for the test's check of this script).

Nothing here shares code with the TypeScript sampler (a tridiagonal Jacobi model): numpy's own
generator (seeded per case), QR and SVD.

Shapes: X is neurons x datapoints (rows = neurons), as in cca_core.
"""
import json
import sys

import numpy as np


def orthonormal_rows(x):
    xc = x - x.mean(axis=1, keepdims=True)
    q, _ = np.linalg.qr(xc.conj().T)  # m x k, orthonormal columns spanning the centred row space
    return q


def draw(rng, k, m, beta):
    if beta == 1:
        return rng.standard_normal((k, m))
    return (rng.standard_normal((k, m)) + 1j * rng.standard_normal((k, m))) / np.sqrt(2)


def case(spec):
    k1, k2, m, beta, count, seed = (spec[key] for key in ("k1", "k2", "m", "beta", "count", "seed"))
    rng = np.random.default_rng(seed)
    means = []
    squares = []
    for _ in range(count):
        qx = orthonormal_rows(draw(rng, k1, m, beta))
        qy = orthonormal_rows(draw(rng, k2, m, beta))
        rho = np.clip(np.linalg.svd(qx.conj().T @ qy, compute_uv=False), 0, 1)
        means.append(float(np.mean(rho)))
        squares.append(float(np.mean(rho**2)))
    return {"spec": spec, "means": means, "meanSquares": squares}


def main():
    specs = json.load(sys.stdin)
    json.dump([case(spec) for spec in specs], sys.stdout)


if __name__ == "__main__":
    main()
