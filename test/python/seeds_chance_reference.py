#!/usr/bin/env python3
"""Many seeds with the chance level in numpy, independently of the engine: the yardstick of
test/python/seedsChance.test.ts.

Reads an .npz bundle with members <run>/step_<N>/<layer>.npy (datapoints x neurons) and, with
scripts/reference_pairwise.py's SVCCA (numpy, 99% variance, eps) and scripts/baseline_reference.py's
seeded permutations (mulberry32 Fisher-Yates), recomputes every permuted similarity from scratch
(B's datapoints, i.e. columns, permuted; a new SVD each time):

  cross over all pairs (a < b, at the last shared step), every cell (i, j): each pair's chance
    mean, sd (ddof=1), z; over the pairs: the chance means' mean, sd, min, max, the mean of the
    pairs' sd, the z's mean and sd, Stouffer's Z = sum(z) / sqrt(K), Cantelli's p = v / (v + Z^2)
    (1 when Z <= 0), v = (1 + K/P)(P - 1)/(P - 3); on the diagonal Holm's adjusted p and p <= 0.05;
  dynamics over runs: per run the convergence curves (layer i at each step against layer i at the
    run's last step) with their chance level, each layer's freeze step per run, the chance mean
    there, threshold > mean + 2 sd, and the spread of the chance means over the frozen runs.

Usage: python3 test/python/seeds_chance_reference.py BUNDLE.npz THRESHOLD PERMUTATIONS SEED
(prints one JSON object)
"""

import itertools
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
sys.path.insert(0, HERE)
from baseline_reference import permutations  # noqa: E402
from reference_pairwise import svcca_pair  # noqa: E402
from seeds_reference import freeze_step, read_bundle  # noqa: E402

EPSILON = 1e-10
KEEP = 0.99
ALPHA = 0.05


def svcca(a, b):
    return svcca_pair(a, b, EPSILON, KEEP)["similarity"]


def chance(a, b, perms):
    observed = svcca(a, b)
    permuted = np.array([svcca(a, b[:, p]) for p in perms])
    mean, sd = float(permuted.mean()), float(permuted.std(ddof=1))
    return {"observed": observed, "mean": mean, "sd": sd, "z": (observed - mean) / sd}


def spread(values):
    v = np.array(values, dtype=float)
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else None, "min": float(v.min()), "max": float(v.max()), "n": len(v)}


def combine(cells, count):
    zs = [c["z"] for c in cells]
    big_z = sum(zs) / np.sqrt(len(zs))
    v = (1 + len(zs) / count) * (count - 1) / (count - 3)
    return {
        "chance": spread([c["mean"] for c in cells]),
        "chanceSd": float(np.mean([c["sd"] for c in cells])),
        "z": spread(zs),
        "combinedZ": float(big_z),
        "p": float(v / (v + big_z**2)) if big_z > 0 else 1.0,
    }


def holm(ps):
    order = np.argsort(ps, kind="stable")
    m = len(ps)
    adjusted = [0.0] * m
    running = 0.0
    for rank, k in enumerate(order):
        running = max(running, min(1.0, (m - rank) * ps[k]))
        adjusted[k] = running
    return adjusted


def main():
    path, threshold, count, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    arrays, runs, steps, layers = read_bundle(path)
    m = next(iter(arrays.values())).shape[1]
    perms = permutations(seed, m, count)
    shared = [s for s in steps[runs[0]] if all(s in steps[r] for r in runs)]

    step = shared[-1]
    pairs = list(itertools.combinations(range(len(runs)), 2))
    per_pair = [
        [[chance(arrays[(runs[a], step, li)], arrays[(runs[b], step, lj)], perms) for lj in layers] for li in layers] for a, b in pairs
    ]
    cells = [[combine([grid[i][j] for grid in per_pair], count) for j in range(len(layers))] for i in range(len(layers))]
    diagonal = [cells[i][i] for i in range(len(layers))]
    adjusted = holm([d["p"] for d in diagonal])
    for d, p in zip(diagonal, adjusted):
        d["pHolm"] = p
        d["aboveChance"] = p <= ALPHA
    cross = {
        "step": step,
        "pairs": [[runs[a], runs[b]] for a, b in pairs],
        "perPair": [[[{k: c[k] for k in ("mean", "sd", "z")} for c in row] for row in grid] for grid in per_pair],
        "cells": cells,
        "diagonal": diagonal,
    }

    freeze = {layer: {"steps": [], "chance": [], "aboveChance": []} for layer in layers}
    for run in runs:
        own = steps[run]
        reference = own[-1]
        for i, layer in enumerate(layers):
            curve = [chance(arrays[(run, s, layer)], arrays[(run, reference, layer)], perms) for s in own]
            frozen = freeze_step([c["observed"] for c in curve], own, threshold)
            f = freeze[layer]
            f["steps"].append(frozen)
            at = curve[own.index(frozen)] if frozen is not None else None
            f["chance"].append(at["mean"] if at else None)
            f["aboveChance"].append(bool(threshold > at["mean"] + 2 * at["sd"]) if at else None)
    for f in freeze.values():
        present = [c for c in f["chance"] if c is not None]
        f["spread"] = spread(present) if present else None
    print(json.dumps({"runs": runs, "layers": layers, "cross": cross, "freeze": freeze}))


if __name__ == "__main__":
    main()
