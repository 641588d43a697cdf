#!/usr/bin/env python3
"""SVCCA in numpy the efficient way: the same "factor once, compare many" algorithm as our engine.

The second yardstick of `npm run bench` (the first, scripts/reference_pairwise.py, redoes both SVDs
for every pair as the svcca tutorial does). Here every representation is factored once, with BLAS
and LAPACK doing the heavy lifting, and each pair costs one small product and one small SVD:

  per representation (neurons × datapoints, float64):
    1. centre over the datapoints;
    2. Gram G = Xc·Xcᵀ (n × n; Xcᵀ·Xc when n > m), one BLAS call;
    3. numpy.linalg.eigh(G) (LAPACK syevd): λ_i = g_i/(m−1), descending;
    4. keep the smallest k whose cumulative λ reaches 99% of Σλ (the engine's chooseK);
    5. X' = U_kᵀ·Xc (k × m) — or s_i·v_iᵀ when n > m — and its CCA whitening: X' has diagonal
       covariance diag(λ_1..λ_k), so Z_i = X'_i / sqrt((m−1)·(λ_i/λ_max + ε)·λ_max), after
       cca_core's ε pruning (λ_i/λ_max < ε dropped) and the float64 clipping (≤ 1e-12);
  per pair: ρ = singular values of Zx·Zyᵀ (numpy.linalg.svd, compute_uv=False), padded with zeros
  to min(kept_x, kept_y); similarity = mean ρ, cca_core's 98% mean beside it.

This is src/math/cca.ts's svccaFactor / ccaFromFactors written in numpy, so the similarities agree
with the engine to float64 round-off; the bench reports the largest difference.

Usage (from the repository root), with the same job.json as reference_pairwise.py:
  python3 scripts/efficient_numpy.py --job DIR/job.json [--max-seconds S]
  python3 scripts/efficient_numpy.py --pair A.npy B.npy [--epsilon E] [--keep F]

Pairs run in the listed order; each representation is factored the first time a pair needs it
(reading the .npy file is not timed; the float32 → float64 conversion is). With --max-seconds the
run stops after the pair that crosses the budget. Prints one JSON object on stdout: the
environment, the factor seconds of every representation, per-pair seconds and numbers, and totals
(wall seconds of the timed parts, and their CPU seconds: time.process_time, all BLAS threads).
"""

import argparse
import json
import os
import sys
import time

import numpy as np

from reference_pairwise import environment, load_neurons_first, sum_threshold

CLIP_TOLERANCE = 1e-12


def choose_k(spectrum, keep):
    """The engine's chooseK: smallest k with Σ_{i<k} λ_i ≥ keep·Σλ·(1 − 1e-12) (λ clipped at 0)."""
    clipped = np.maximum(spectrum, 0)
    total = clipped.sum()
    if total == 0:
        return 0
    cumulative = np.cumsum(clipped)
    return min(int(np.searchsorted(cumulative, keep * total * (1 - 1e-12)) + 1), len(spectrum))


def factor(acts32, epsilon, keep):
    """Steps 1–5 for one neurons × datapoints float32 view: the whitened k' × m rows Z and counts."""
    x = acts32.astype(np.float64)
    n, m = x.shape
    centred = x - x.mean(axis=1, keepdims=True)
    wide = n > m
    gram = centred.T @ centred if wide else centred @ centred.T
    values, vectors = np.linalg.eigh(gram)
    values = values[::-1]
    spectrum = np.maximum(values, 0) / (m - 1)
    k = choose_k(spectrum, keep)
    if wide:
        reduced = np.sqrt(np.maximum(values[:k], 0))[:, None] * vectors[:, ::-1][:, :k].T
    else:
        reduced = vectors[:, ::-1][:, :k].T @ centred
    variances = np.einsum("ij,ij->i", reduced, reduced) / (m - 1)
    xmax = variances.max() if k > 0 else 0.0
    if xmax <= 0:
        return np.zeros((0, m)), k, 0
    relative = variances / xmax
    kept = relative >= epsilon
    live = kept & (relative > CLIP_TOLERANCE)
    scale = 1.0 / (np.sqrt(relative[live] + epsilon) * np.sqrt((m - 1) * xmax))
    return reduced[live] * scale[:, None], k, int(kept.sum())


def compare(fa, fb):
    """ρ of two factors: singular values of Za·Zbᵀ, padded with zeros to min(kept_a, kept_b)."""
    za, _, kept_a = fa
    zb, _, kept_b = fb
    count = min(kept_a, kept_b)
    rho = np.zeros(count)
    if count > 0 and len(za) > 0 and len(zb) > 0:
        s = np.linalg.svd(za @ zb.T, compute_uv=False)
        rho[: min(count, len(s))] = s[:count]
    return rho


def run_pairs(pairs, root, epsilon, keep, max_seconds):
    factors = {}
    factor_seconds = {}
    results = []
    pair_total = 0.0
    cpu = {"factor": 0.0, "pair": 0.0}
    started = time.perf_counter()
    for pair in pairs:
        for key in (pair["a"], pair["b"]):
            if key not in factors:
                acts = load_neurons_first(os.path.join(root, key))
                t0 = time.perf_counter()
                c0 = time.process_time()
                factors[key] = factor(acts, epsilon, keep)
                cpu["factor"] += time.process_time() - c0
                factor_seconds[key] = time.perf_counter() - t0
        t0 = time.perf_counter()
        c0 = time.process_time()
        rho = compare(factors[pair["a"]], factors[pair["b"]])
        cpu["pair"] += time.process_time() - c0
        seconds = time.perf_counter() - t0
        pair_total += seconds
        mean = float(rho.mean()) if len(rho) else 0.0
        mean98 = float(rho[: sum_threshold(rho, 0.98)].mean()) if len(rho) and rho.sum() > 0 else 0.0
        ks = [factors[pair["a"]][1], factors[pair["b"]][1]]
        results.append({"id": pair.get("id"), "a": pair["a"], "b": pair["b"], "seconds": seconds, "similarity": mean, "mean98": mean98, "k": ks})
        if max_seconds is not None and time.perf_counter() - started > max_seconds:
            break
    return results, pair_total, factor_seconds, cpu


def warm_up():
    """Spins up BLAS/LAPACK (thread pool, first-call costs) on a small problem before timing."""
    rng = np.random.default_rng(0)
    fa = factor(rng.standard_normal((32, 400)), 1e-10, 0.99)
    fb = factor(rng.standard_normal((24, 400)), 1e-10, 0.99)
    compare(fa, fb)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--job", help="job.json listing the pairs (paths relative to its folder or to its 'root')")
    parser.add_argument("--pair", nargs=2, metavar=("A", "B"), help="one pair of (m, n) .npy files")
    parser.add_argument("--epsilon", type=float, default=None, help="cca_core epsilon (default: job's, else 1e-10)")
    parser.add_argument("--keep", type=float, default=None, help="fraction of Σλ kept (default: job's, else 0.99)")
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
    results, pair_total, factor_seconds, cpu = run_pairs(pairs, root, epsilon, keep, args.max_seconds)
    out = {
        "script": "scripts/efficient_numpy.py",
        "algorithm": "factor once (centre, BLAS Gram, numpy.linalg.eigh, keep 99% of Σλ, U_kᵀ·Xc, diagonal whitening), "
        "then per pair numpy.linalg.svd(Za·Zbᵀ, compute_uv=False); mean ρ",
        "environment": environment(),
        "epsilon": epsilon,
        "keep": keep,
        "pairsListed": len(pairs),
        "pairsDone": len(results),
        "factorsDone": len(factor_seconds),
        "factorSeconds": sum(factor_seconds.values()),
        "pairSeconds": pair_total,
        "totalSeconds": sum(factor_seconds.values()) + pair_total,
        "wallSeconds": time.perf_counter() - wall0,
        "factorCpuSeconds": cpu["factor"],
        "pairCpuSeconds": cpu["pair"],
        "cpuSeconds": cpu["factor"] + cpu["pair"],
        "pairs": results,
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
