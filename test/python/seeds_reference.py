#!/usr/bin/env python3
"""Many seeds in numpy, independently of the engine: the yardstick of test/python/seeds.test.ts.

Reads an .npz bundle with members <run>/step_<N>/<layer>.npy (datapoints × neurons), and computes
with scripts/reference_pairwise.py's pair-by-pair SVCCA (numpy, 99% variance, ε):

  dynamics over runs: for each run, values[t][i][j] = SVCCA(layer i at step t, layer j at the run's
    own last step); on the steps every run has, per cell mean, sd (ddof=1), min, max over runs; per
    layer the freeze step of each run (first step from which values[t][i][i] stays ≥ threshold,
    over the run's own steps);
  cross over all pairs: for every unordered pair of runs (a < b in order of first appearance) at the
    last step all runs share, values[i][j] = SVCCA(a's layer i, b's layer j); per cell mean, sd
    (ddof=1), min, max over pairs; the diagonal's spread.

Usage: python3 test/python/seeds_reference.py BUNDLE.npz THRESHOLD  (prints one JSON object)
"""

import itertools
import json
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
from reference_pairwise import svcca_pair  # noqa: E402

EPSILON = 1e-10
KEEP = 0.99


def read_bundle(path):
    arrays = {}
    runs, layers = [], []
    with np.load(path) as npz:
        for name in npz.files:
            match = re.fullmatch(r"([^/]+)/step_(\d+)/([^/]+)", name)
            if not match:
                continue
            run, step, layer = match.group(1), int(match.group(2)), match.group(3)
            if run not in runs:
                runs.append(run)
            if layer not in layers:
                layers.append(layer)
            arrays[(run, step, layer)] = npz[name].T  # neurons × datapoints
    steps = {run: sorted({s for (r, s, _) in arrays if r == run}) for run in runs}
    return arrays, runs, steps, layers


def svcca(a, b):
    return svcca_pair(a, b, EPSILON, KEEP)["similarity"]


def spread(stack):
    """stack: runs (or pairs) along axis 0."""
    return {
        "mean": np.mean(stack, axis=0).tolist(),
        "sd": np.std(stack, axis=0, ddof=1).tolist(),
        "min": np.min(stack, axis=0).tolist(),
        "max": np.max(stack, axis=0).tolist(),
    }


def freeze_step(series, steps, threshold):
    first = None
    for t in range(len(series) - 1, -1, -1):
        if not series[t] >= threshold:
            break
        first = steps[t]
    return first


def main():
    path, threshold = sys.argv[1], float(sys.argv[2])
    arrays, runs, steps, layers = read_bundle(path)
    shared = [s for s in steps[runs[0]] if all(s in steps[r] for r in runs)]
    per_run, freeze = [], {layer: [] for layer in layers}
    for run in runs:
        own = steps[run]
        reference = own[-1]
        values = np.array([[[svcca(arrays[(run, s, li)], arrays[(run, reference, lj)]) for lj in layers] for li in layers] for s in own])
        per_run.append(values[[own.index(s) for s in shared]])
        for i, layer in enumerate(layers):
            freeze[layer].append(freeze_step(values[:, i, i], own, threshold))
    dynamics = spread(np.stack(per_run))
    dynamics["steps"] = shared
    dynamics["freeze"] = freeze
    dynamics["perRun"] = [v.tolist() for v in per_run]

    step = shared[-1]
    pairs = list(itertools.combinations(range(len(runs)), 2))
    grids = np.array([[[svcca(arrays[(runs[a], step, li)], arrays[(runs[b], step, lj)]) for lj in layers] for li in layers] for a, b in pairs])
    cross = spread(grids)
    cross["step"] = step
    cross["pairs"] = [[runs[a], runs[b]] for a, b in pairs]
    diagonal = grids[:, np.arange(len(layers)), np.arange(len(layers))]
    cross["diagonal"] = spread(diagonal)
    print(json.dumps({"runs": runs, "layers": layers, "dynamics": dynamics, "cross": cross}))


if __name__ == "__main__":
    main()
