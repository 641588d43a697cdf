#!/usr/bin/env python3
"""The reference pair-by-pair SVCCA in numpy: the yardstick of `npm run bench`.

Our own code (not a copy of google/svcca), following the algorithm of its tutorial + cca_core
step by step, as described in shared/docs/svcca-semantics.md. For every pair, nothing is reused:

  1. centre each side (neurons × datapoints, float64) over the datapoints;
  2. np.linalg.svd(centred, full_matrices=False) of each side;
  3. keep the smallest k whose cumulative s² reaches 99% of Σs²; reduce as the svcca tutorial
     does: np.dot(s[:k] * np.eye(k), V[:k])  (k × m);
  4. cca_core.get_cca_similarity(X', Y', epsilon): np.cov of the stacked pair, rescale Σxx and Σyy
     by their largest |entry| (Σxy by the square root of both), remove_small (variance < ε),
     add εI, np.linalg.pinv, matrix square root via np.linalg.eigh, np.linalg.svd of
     Σxx^-½ Σxy Σyy^-½, plus its default compute_coefs bookkeeping (masks, coefficient
     matrices, neuron means);
  5. SVCCA similarity = mean ρ (the paper's ρ̄); cca_core's `mean` (98% rule) is reported too.

Shapes: the .npy files are datapoints-first (m, n) float32, as the bench writes them; they are
converted here to neurons × datapoints float64 (that conversion is timed as part of the pair,
as our engine's is). Reading the files is not timed.

Usage (from the repository root):
  python3 scripts/reference_pairwise.py --job DIR/job.json [--max-seconds S]
  python3 scripts/reference_pairwise.py --pair A.npy B.npy [--epsilon E] [--keep F]

job.json (written by scripts/bench.ts):
  {"root": DIR (optional, default: the json's folder), "epsilon": 1e-10, "keep": 0.99,
   "pairs": [{"id": ..., "a": "step_3/layer_2.npy", "b": "step_19/layer_5.npy"}, ...]}
Pairs run in the listed order; with --max-seconds, the run stops after the pair that crosses the
budget (the bench lists pairs in a seeded random order, so a stopped run is a random sample).

Prints one JSON object on stdout: numpy version, BLAS, thread settings, per-pair seconds,
similarity, k and dropped of each side, total seconds (sum over pairs), pairs done / listed.
"""

import argparse
import json
import os
import sys
import time

import numpy as np


def load_neurons_first(path):
    """(m, n) float32 on disk → (n, m) float32 view (conversion to float64 happens in the timed part)."""
    array = np.load(path)
    if array.ndim != 2:
        raise SystemExit(f"{path}: expected a 2-D (datapoints, neurons) array, got shape {array.shape}")
    return array.T


def svd_reduce(acts, keep):
    """Steps 1–3: centre, thin SVD, keep 99% of Σs², reduce to k × m (svcca tutorial's form)."""
    centred = acts - np.mean(acts, axis=1, keepdims=True)
    _, s, v = np.linalg.svd(centred, full_matrices=False)
    energy = np.cumsum(s * s)
    k = int(np.searchsorted(energy, keep * energy[-1] * (1 - 1e-12)) + 1)  # first k with Σ_{i<k} s_i² ≥ keep·Σs²
    k = min(k, len(s))
    reduced = np.dot(s[:k] * np.eye(k), v[:k])
    return reduced, k


def positivedef_matrix_sqrt(array):
    """cca_core's square root of a positive definite matrix through eigh."""
    w, v = np.linalg.eigh(array)
    wsqrt = np.sqrt(w)
    return np.dot(v, np.dot(np.diag(wsqrt), np.conj(v).T))


def remove_small(sigma_xx, sigma_xy, sigma_yx, sigma_yy, epsilon):
    """cca_core.remove_small: drop neurons whose rescaled variance is below ε."""
    x_idxs = np.abs(np.diagonal(sigma_xx)) >= epsilon
    y_idxs = np.abs(np.diagonal(sigma_yy)) >= epsilon
    return (
        sigma_xx[x_idxs][:, x_idxs],
        sigma_xy[x_idxs][:, y_idxs],
        sigma_yx[y_idxs][:, x_idxs],
        sigma_yy[y_idxs][:, y_idxs],
        x_idxs,
        y_idxs,
    )


def sum_threshold(values, threshold):
    """cca_core.sum_threshold: first i with Σ_{j<i} a_j / Σa ≥ threshold."""
    return np.sum(np.cumsum(values) / np.sum(values) < threshold) + 1


def cca_similarity(acts1, acts2, epsilon):
    """Step 4: cca_core.get_cca_similarity(acts1, acts2, epsilon) with its defaults (compute_coefs)."""
    numx = acts1.shape[0]
    numy = acts2.shape[0]
    covariance = np.cov(acts1, acts2)
    sigmaxx = covariance[:numx, :numx]
    sigmaxy = covariance[:numx, numx:]
    sigmayx = covariance[numx:, :numx]
    sigmayy = covariance[numx:, numx:]
    xmax = np.max(np.abs(sigmaxx))
    ymax = np.max(np.abs(sigmayy))
    sigmaxx /= xmax
    sigmayy /= ymax
    sigmaxy /= np.sqrt(xmax * ymax)
    sigmayx /= np.sqrt(xmax * ymax)

    # compute_ccas
    sxx, sxy, syx, syy, x_idxs, y_idxs = remove_small(sigmaxx, sigmaxy, sigmayx, sigmayy, epsilon)
    kx = sxx.shape[0]
    ky = syy.shape[0]
    if kx == 0 or ky == 0:
        return np.zeros(0), numx - kx, numy - ky
    sxx += epsilon * np.eye(kx)
    syy += epsilon * np.eye(ky)
    inv_xx = np.linalg.pinv(sxx)
    inv_yy = np.linalg.pinv(syy)
    invsqrt_xx = positivedef_matrix_sqrt(inv_xx)
    invsqrt_yy = positivedef_matrix_sqrt(inv_yy)
    arr = np.dot(invsqrt_xx, np.dot(sxy, invsqrt_yy))
    u, s, v = np.linalg.svd(arr)
    s = np.abs(s)

    # get_cca_similarity's compute_coefs=True bookkeeping (cheap, but it is part of every call).
    x_mask = np.dot(x_idxs.reshape((-1, 1)), x_idxs.reshape((1, -1)))
    y_mask = np.dot(y_idxs.reshape((-1, 1)), y_idxs.reshape((1, -1)))
    full_coef_x = np.zeros((numx, numx))
    np.place(full_coef_x, x_mask, u.T)
    full_invsqrt_xx = np.zeros((numx, numx))
    np.place(full_invsqrt_xx, x_mask, invsqrt_xx)
    full_coef_y = np.zeros((numy, numy))
    np.place(full_coef_y, y_mask, v)
    full_invsqrt_yy = np.zeros((numy, numy))
    np.place(full_invsqrt_yy, y_mask, invsqrt_yy)
    np.mean(acts1, axis=1, keepdims=True)
    np.mean(acts2, axis=1, keepdims=True)
    return s, numx - kx, numy - ky


def svcca_pair(a32, b32, epsilon, keep):
    """One pair, from float32 neurons × datapoints views to the SVCCA numbers."""
    a = a32.astype(np.float64)
    b = b32.astype(np.float64)
    ra, ka = svd_reduce(a, keep)
    rb, kb = svd_reduce(b, keep)
    rho, dropped_a, dropped_b = cca_similarity(ra, rb, epsilon)
    mean = float(np.mean(rho)) if len(rho) else 0.0
    mean98 = float(np.mean(rho[: sum_threshold(rho, 0.98)])) if len(rho) else 0.0
    return {"similarity": mean, "mean98": mean98, "k": [ka, kb], "dropped": [int(dropped_a), int(dropped_b)]}


def environment():
    config = {}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        config = {"name": blas.get("name"), "version": blas.get("version")}
    except Exception:  # older numpy: no dicts mode
        pass
    names = ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"]
    return {
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "blas": config,
        "threadEnv": {k: os.environ[k] for k in names if k in os.environ},
        "threads": "default (no *_NUM_THREADS set)" if not any(k in os.environ for k in names) else "set by environment",
        "cpuCount": os.cpu_count(),
    }


def warm_up():
    """Spins up BLAS/LAPACK (thread pool, first-call costs) on a small problem before timing."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 400))
    y = rng.standard_normal((24, 400))
    svcca_pair(x, y, 1e-10, 0.99)


def run_pairs(pairs, root, epsilon, keep, max_seconds):
    results = []
    total = 0.0
    started = time.perf_counter()
    for pair in pairs:
        a = load_neurons_first(os.path.join(root, pair["a"]))
        b = load_neurons_first(os.path.join(root, pair["b"]))
        t0 = time.perf_counter()
        numbers = svcca_pair(a, b, epsilon, keep)
        seconds = time.perf_counter() - t0
        total += seconds
        results.append({"id": pair.get("id"), "a": pair["a"], "b": pair["b"], "seconds": seconds, **numbers})
        if max_seconds is not None and time.perf_counter() - started > max_seconds:
            break
    return results, total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--job", help="job.json listing the pairs (paths relative to its folder or to its 'root')")
    parser.add_argument("--pair", nargs=2, metavar=("A", "B"), help="one pair of (m, n) .npy files")
    parser.add_argument("--epsilon", type=float, default=None, help="cca_core epsilon (default: job's, else 1e-10)")
    parser.add_argument("--keep", type=float, default=None, help="fraction of Σs² kept (default: job's, else 0.99)")
    parser.add_argument("--max-seconds", type=float, default=None, help="stop after the pair that crosses this budget")
    args = parser.parse_args()
    if (args.job is None) == (args.pair is None):
        parser.error("give exactly one of --job and --pair")

    if args.job is not None:
        with open(args.job) as f:
            job = json.load(f)
        root = job.get("root") or os.path.dirname(os.path.abspath(args.job))
        pairs = job["pairs"]
        epsilon = args.epsilon if args.epsilon is not None else job.get("epsilon", 1e-10)
        keep = args.keep if args.keep is not None else job.get("keep", 0.99)
    else:
        root = ""
        pairs = [{"id": "pair", "a": os.path.abspath(args.pair[0]), "b": os.path.abspath(args.pair[1])}]
        epsilon = args.epsilon if args.epsilon is not None else 1e-10
        keep = args.keep if args.keep is not None else 0.99

    warm_up()
    wall0 = time.perf_counter()
    results, total = run_pairs(pairs, root, epsilon, keep, args.max_seconds)
    wall = time.perf_counter() - wall0
    out = {
        "script": "scripts/reference_pairwise.py",
        "algorithm": "pair by pair: centre, np.linalg.svd(full_matrices=False) of each side, keep 99% of Σs², "
        "cca_core.get_cca_similarity steps (np.cov, rescale, remove_small, +εI, pinv, eigh sqrt, svd); mean ρ",
        "environment": environment(),
        "epsilon": epsilon,
        "keep": keep,
        "pairsListed": len(pairs),
        "pairsDone": len(results),
        "totalSeconds": total,
        "wallSeconds": wall,
        "pairs": results,
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
