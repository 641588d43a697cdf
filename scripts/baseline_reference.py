"""Independent numpy implementation of the chance level (src/analysis/baseline.ts), for
test/python/baseline.test.ts: the seeded inputs of scripts/reference_values.py (mulberry32 normals),
the same seeded Fisher-Yates permutations (mulberry32(seed), j = floor(u * (i + 1)), i = m-1 .. 1),
and each similarity recomputed from scratch on Y with its datapoints (columns) permuted:
CCA from the covariance blocks (no factor reuse), SVCCA as numpy SVD then CCA, linear CKA on the
datapoint Gram matrices. Prints one JSON list: per case the observed value, mean, sd (n-1) and p.

Shapes: x is n neurons x m datapoints (rows = neurons), as in cca_core.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_values import mulberry32, randn  # noqa: E402


def permutations(seed, m, count):
    g = mulberry32(seed)
    out = []
    for _ in range(count):
        perm = np.arange(m)
        for i in range(m - 1, 0, -1):
            j = int(np.floor(next(g) * (i + 1)))
            perm[i], perm[j] = perm[j], perm[i]
        out.append(perm)
    return out


def inv_sqrt(s):
    w, v = np.linalg.eigh(s)
    return v @ np.diag(1 / np.sqrt(w)) @ v.T


def mean_cca(x, y):
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    t = inv_sqrt(xc @ xc.T) @ (xc @ yc.T) @ inv_sqrt(yc @ yc.T)
    rho = np.linalg.svd(t, compute_uv=False)
    return float(np.mean(rho[: min(x.shape[0], y.shape[0])]))


def svd_reduce(x, k):
    xc = x - x.mean(axis=1, keepdims=True)
    u, s, vt = np.linalg.svd(xc, full_matrices=False)
    return np.diag(s[:k]) @ vt[:k]


def svcca(x, y, k):
    return mean_cca(svd_reduce(x, k), svd_reduce(y, k))


def cka(x, y):
    m = x.shape[1]
    h = np.eye(m) - np.ones((m, m)) / m
    kx = h @ (x.T @ x) @ h
    ky = h @ (y.T @ y) @ h
    return float(np.sum(kx * ky) / np.sqrt(np.sum(kx * kx) * np.sum(ky * ky)))


CASES = [
    # metric, x seed, y seed, neurons x, neurons y, datapoints, k (svcca), permutations, permutation seed, y related to x
    ("cca", 101, 102, 5, 4, 60, None, 20, 7, True),
    ("cca", 111, 112, 3, 3, 40, None, 99, 8, False),
    ("svcca", 121, 122, 8, 6, 80, 4, 20, 9, True),
    ("cka", 131, 132, 6, 5, 50, None, 20, 10, True),
]


def main():
    out = []
    for metric, sx, sy, nx, ny, m, k, count, seed, related in CASES:
        x = randn(sx, nx, m)
        y = randn(sy, ny, m)
        if related:
            y = y + randn(sy + 1, ny, nx) @ x  # Y = A X + noise
        f = {"cca": mean_cca, "cka": cka, "svcca": lambda a, b: svcca(a, b, k)}[metric]
        observed = f(x, y)
        permuted = np.array([f(x, y[:, p]) for p in permutations(seed, m, count)])
        out.append({
            "metric": metric, "x": [sx, nx, m], "y": [sy, ny, m], "related": related, "k": k,
            "permutations": count, "seed": seed, "observed": observed,
            "mean": float(permuted.mean()), "sd": float(permuted.std(ddof=1)),
            "p": float((1 + np.sum(permuted >= observed)) / (count + 1)),
            "firstPermutation": permutations(seed, m, 1)[0][:10].tolist(),
        })
    print(json.dumps(out))


if __name__ == "__main__":
    main()
