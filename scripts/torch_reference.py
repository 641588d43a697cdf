#!/usr/bin/env python3
"""What a researcher on a GPU machine would run instead of svcca-lens: the same jobs as the WebGPU
benchmark's FULL sizes (scripts/bench-webgpu.ts), timed in PyTorch (CUDA f32 and f64) and numpy
(f64, all cores), so that every GPU figure of ours is a ratio measured in the same device run
(scripts/device-bench.sh runs this right after our benchmark).

Two algorithms, both our own code written from shared/docs/svcca-semantics.md, not google/svcca's:
  factored   "factor once, compare many", the engine's algorithm: per representation X (n neurons ×
             m datapoints): centre over datapoints, covariance C = X·Xᵀ/(m−1), eigh (batched over
             the layers of one checkpoint), k = smallest count reaching 99% of the variance,
             whitened reduced directions Z = Λk^−½·Ukᵀ·X (k × m); per pair: ρ = singular values of
             Zx·Zyᵀ/(m−1), similarity = mean ρ. One factorisation per representation.
  per-pair   the reference code's loop: for every pair, thin SVD of both sides, keep 99%, then CCA
             through covariances, inverse square roots (eigh) and an SVD, nothing reused.

Data: synthetic activations with the benchmark generator's shape and spectrum (λ_i ∝ i^−2, a random
orthogonal basis, positive offsets), generated on the device before any clock starts. Timings
include centring and every product, eigendecomposition and SVD; they exclude data generation.

Usage: python3 scripts/torch_reference.py [--config SIZES.json] [--out FILE.json] [--quick] [--skip-per-pair]
  --config: the WebGPU benchmark's size set as `npm run bench -- --backend webgpu --list` prints it
            (products, eigen, pair, jobs): the same jobs, pair, product and eigen sizes, so the device
            run (scripts/device-bench.sh) compares like with like by construction. Without it the
            built-in FULL (or --quick) sizes below.
  --device: cuda by default; without CUDA PyTorch runs on the CPU and every figure is labelled so
            ("device": "cpu (no CUDA …)", "cuda": false): a check of this script, not a GPU reference.
Order (the JSON is rewritten after every figure, so a run cut short by `timeout` keeps what finished;
--part core runs 1 and 2, --part extras runs 3):
  1. per job, PyTorch f32 factored (the speed targets' reference), smallest job first;
  2. the pair, X·Yᵀ per product size, eigh per eigen size (f32);
  3. per job, the extras: PyTorch f64, numpy f64 (all cores), the reference per-pair loop (sampled
     for --per-pair-budget seconds, then extrapolated).
Prints one line per figure and writes a JSON object: versions, device, per job the seconds of each
variant (median of --repeats after one warm-up; numpy and f64: --extra-repeats) and the checksum
(mean similarity) of each.
"""

import argparse
import json
import math
import os
import platform
import sys
import time

import numpy as np

try:
    import torch
except ImportError:  # numpy alone still gives the CPU column
    torch = None

FULL_JOBS = [
    {"name": "dynamics 5 layers × 6 checkpoints, n ≤ 128, m = 2000", "widths": [64, 128, 128, 96, 64], "steps": 6, "datapoints": 2000},
    {"name": "dynamics 10 layers × 20 checkpoints, n = 256, m = 5000", "widths": [256] * 10, "steps": 20, "datapoints": 5000},
    {"name": "dynamics 10 layers × 20 checkpoints, n = 512, m = 5000", "widths": [512] * 10, "steps": 20, "datapoints": 5000},
]
FULL_PAIR = {"n": 512, "m": 10000}
QUICK_JOBS = [{"name": "dynamics 4 layers × 4 checkpoints, n = 32, m = 500", "widths": [32] * 4, "steps": 4, "datapoints": 500}]
QUICK_PAIR = {"n": 64, "m": 1000}
KEEP = 0.99


def keep_count(eigenvalues_desc, fraction=KEEP):
    """Smallest k whose cumulative share of the (descending) eigenvalues reaches `fraction`."""
    share = np.cumsum(eigenvalues_desc) / max(float(np.sum(eigenvalues_desc)), 1e-300)
    return int(min(np.searchsorted(share, fraction * (1 - 1e-12)) + 1, len(eigenvalues_desc)))


# ------------------------------------------------------------------------------------------------
# Data: (steps, layers) of n × m arrays, on `device` in `dtype`.

def make_activations(xp, job, seed, device=None):
    """Returns acts[t][l] (n_l × m float64): numpy arrays (xp = np) or tensors on `device` (xp =
    torch; generated there, seconds even for 10 × 20 layers of 512 × 5000)."""
    m = job["datapoints"]
    if xp is np:
        rng = np.random.default_rng(seed)
        normal = lambda *shape: rng.standard_normal(shape)
        qr = np.linalg.qr
        ranks = lambda n: np.arange(1, n + 1, dtype=np.float64)
    else:
        g = torch.Generator(device=device).manual_seed(seed)
        normal = lambda *shape: torch.randn(shape, generator=g, dtype=torch.float64, device=device)
        qr = torch.linalg.qr
        ranks = lambda n: torch.arange(1, n + 1, dtype=torch.float64, device=device)
    bases = []
    for n in job["widths"]:
        q, _ = qr(normal(n, n))
        bases.append(q * (ranks(n) ** -1.0)[None, :])  # Q·diag(i^−1): λ_i ∝ i^−2
    offsets = [abs(normal(n))[:, None] for n in job["widths"]]
    finals = [normal(n, m) for n in job["widths"]]
    acts = []
    for t in range(job["steps"]):
        row = []
        for l, n in enumerate(job["widths"]):
            alpha = 0.3 + 0.7 * (t / max(job["steps"] - 1, 1)) ** (1 + l / 3)
            latent = alpha * finals[l] + math.sqrt(1 - alpha * alpha) * normal(n, m)
            row.append(bases[l] @ latent + offsets[l])
        acts.append(row)
    return acts


# ------------------------------------------------------------------------------------------------
# factored, numpy float64

def factor_numpy(x):
    centred = x - x.mean(axis=1, keepdims=True)
    cov = centred @ centred.T / (x.shape[1] - 1)
    w, u = np.linalg.eigh(cov)
    w, u = w[::-1], u[:, ::-1]
    k = keep_count(np.clip(w, 0, None))
    return (u[:, :k].T @ centred) / np.sqrt(w[:k])[:, None]


def dynamics_numpy(acts):
    steps, layers = len(acts), len(acts[0])
    reference = [factor_numpy(x) for x in acts[-1]]
    total = 0.0
    for t in range(steps):
        factors = reference if t == steps - 1 else [factor_numpy(x) for x in acts[t]]
        for i in range(layers):
            for j in range(layers):
                m = factors[i].shape[1]
                rho = np.linalg.svd(factors[i] @ reference[j].T / (m - 1), compute_uv=False)
                total += float(np.mean(np.clip(rho, 0, 1)))
    return total / (steps * layers * layers)


# ------------------------------------------------------------------------------------------------
# factored, torch (batched eigh over the layers of a checkpoint that share a width)

def factor_torch_batch(xs):
    """xs: list of n × m tensors (same n) → list of whitened reduced k × m tensors."""
    x = torch.stack(xs)  # (L, n, m)
    centred = x - x.mean(dim=2, keepdim=True)
    cov = centred @ centred.mT / (x.shape[2] - 1)
    w, u = torch.linalg.eigh(cov)  # ascending
    w, u = w.flip(-1), u.flip(-1)
    share = torch.cumsum(w.clamp_min(0), dim=-1) / w.clamp_min(0).sum(dim=-1, keepdim=True)
    ks = ((share < KEEP * (1 - 1e-12)).sum(dim=-1) + 1).clamp_max(w.shape[-1]).tolist()
    return [(u[l, :, :k].mT @ centred[l]) / w[l, :k].sqrt()[:, None] for l, k in enumerate(ks)]


def factor_torch(xs):
    by_width = {}
    for index, x in enumerate(xs):
        by_width.setdefault(x.shape[0], []).append(index)
    out = [None] * len(xs)
    for indices in by_width.values():
        for index, z in zip(indices, factor_torch_batch([xs[i] for i in indices])):
            out[index] = z
    return out


def pair_means_torch(factors, reference):
    """All pairs of one checkpoint in one batched svdvals: pad each Zx·Zyᵀ to kmax × kmax (zero
    rows and columns add zero singular values) and average the top min(kx, ky)."""
    kmax = max(z.shape[0] for z in factors + reference)
    m = factors[0].shape[1]
    blocks = []
    counts = []
    for zx in factors:
        for zy in reference:
            block = torch.zeros((kmax, kmax), dtype=zx.dtype, device=zx.device)
            block[: zx.shape[0], : zy.shape[0]] = zx @ zy.mT / (m - 1)
            blocks.append(block)
            counts.append(min(zx.shape[0], zy.shape[0]))
    rho = torch.linalg.svdvals(torch.stack(blocks)).clamp(0, 1)
    ranks = torch.arange(kmax, device=rho.device)[None, :]
    counts_t = torch.tensor(counts, device=rho.device)[:, None]
    return ((rho * (ranks < counts_t)).sum(dim=1) / counts_t[:, 0]).sum()


def dynamics_torch(acts):
    steps = len(acts)
    reference = factor_torch(acts[-1])
    total = torch.zeros((), dtype=acts[0][0].dtype, device=acts[0][0].device)
    for t in range(steps):
        factors = reference if t == steps - 1 else factor_torch(acts[t])
        total = total + pair_means_torch(factors, reference)
    return float(total) / (steps * len(acts[0]) ** 2)


# ------------------------------------------------------------------------------------------------
# per-pair (the reference code's algorithm), torch

def svd_reduce_torch(x):
    centred = x - x.mean(dim=1, keepdim=True)
    _, s, vh = torch.linalg.svd(centred, full_matrices=False)
    k = keep_count((s * s).double().cpu().numpy())
    return s[:k, None] * vh[:k]


def inv_sqrt_torch(c, epsilon=1e-10):
    c = c + epsilon * torch.eye(c.shape[0], dtype=c.dtype, device=c.device)
    w, v = torch.linalg.eigh(c)
    return (v * w.clamp_min(1e-30).rsqrt()) @ v.mT


def pair_reference_torch(x, y):
    a, b = svd_reduce_torch(x), svd_reduce_torch(y)
    stacked = torch.cat([a, b]) - torch.cat([a, b]).mean(dim=1, keepdim=True)
    cov = stacked @ stacked.mT / (x.shape[1] - 1)
    ka = a.shape[0]
    sxx, sxy, syy = cov[:ka, :ka], cov[:ka, ka:], cov[ka:, ka:]
    rho = torch.linalg.svdvals(inv_sqrt_torch(sxx) @ sxy @ inv_sqrt_torch(syy)).clamp(0, 1)
    return float(rho.mean())


def dynamics_reference_torch(acts, budget_s):
    """Pair by pair; stops after the pair that crosses `budget_s` and extrapolates (pairs cost the
    same up to noise). Returns (estimated seconds, checksum, pairs done, pairs listed)."""
    steps, layers = len(acts), len(acts[0])
    pairs = [(t, i, j) for t in range(steps) for i in range(layers) for j in range(layers)]
    started = time.perf_counter()
    total, done = 0.0, 0
    for t, i, j in pairs:
        total += pair_reference_torch(acts[t][i], acts[-1][j])
        done += 1
        if time.perf_counter() - started > budget_s:
            break
    if acts[0][0].is_cuda:
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - started
    return elapsed * len(pairs) / done, total / done, done, len(pairs)


# ------------------------------------------------------------------------------------------------

def timed(fn, repeats, sync=None, warm_up=True):
    if warm_up:
        fn()  # library initialisation, kernel selection
        if sync:
            sync()
    seconds = []
    value = None
    for _ in range(repeats):
        started = time.perf_counter()
        value = fn()
        if sync:
            sync()
        seconds.append(time.perf_counter() - started)
    return float(np.median(seconds)), value


def sizes_from(args):
    """(jobs, pair, product sizes, eigen sizes): from --config (the WebGPU benchmark's --list) or built in."""
    if args.config:
        with open(args.config) as f:
            config = json.load(f)
        return config["jobs"], config["pair"], [tuple(p) for p in config["products"]], list(config["eigen"])
    if args.quick:
        return QUICK_JOBS, QUICK_PAIR, [(256, 2000)], [32, 64]
    return FULL_JOBS, FULL_PAIR, [(1024, 10000)], [128, 256, 512]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=None, help="the size set as `npm run bench -- --backend webgpu --list` prints it")
    parser.add_argument("--out", default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-per-pair", action="store_true")
    parser.add_argument("--part", choices=("all", "core", "extras"), default="all", help="core: steps 1 and 2 below; extras: step 3 (the device run runs them as two stages)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each f32 figure after one warm-up (median)")
    parser.add_argument("--extra-repeats", type=int, default=1, help="timed runs of the f64 and numpy figures")
    parser.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu, labelled so)")
    parser.add_argument("--per-pair-budget", type=float, default=8.0, help="seconds of the per-pair loop per job before extrapolating")
    args = parser.parse_args()
    jobs, pair, products, eigen_sizes = sizes_from(args)
    jobs = sorted(jobs, key=lambda j: sum(j["widths"]) * j["steps"] * j["datapoints"])  # smallest first
    cuda = torch is not None and torch.cuda.is_available()
    device = args.device or ("cuda" if cuda else "cpu")
    use_torch = torch is not None
    if not use_torch:
        label = "none (no PyTorch: numpy only)"
    elif device == "cuda":
        label = torch.cuda.get_device_name(0)
    elif cuda:
        label = device
    else:
        label = f"cpu (no CUDA: PyTorch on the CPU, {torch.get_num_threads()} threads; not a GPU reference)"
    report = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__ if torch else None,
        "device": label,
        "cuda": device == "cuda",
        "cpu_threads": os.cpu_count(),
        "part": args.part,
        "complete": False,
        "jobs": [{"name": job["name"]} for job in jobs],
    }

    def save():
        if args.out:
            with open(args.out + ".tmp", "w") as f:
                json.dump(report, f, indent=1)
            os.replace(args.out + ".tmp", args.out)  # never a half-written file, even when killed

    def say(what):
        print(json.dumps(what), flush=True)
        save()

    sync = torch.cuda.synchronize if device == "cuda" else None
    print(f"torch {report['torch']}, device {report['device']}, numpy {report['numpy']}", flush=True)
    save()
    if use_torch:
        torch.backends.cuda.matmul.allow_tf32 = False
    if use_torch and args.part != "extras":
        # 1. The targets' reference: f32, factor once, batched eigh; smallest job first.
        for job, entry in zip(jobs, report["jobs"]):
            acts = [[x.float() for x in row] for row in make_activations(torch, job, seed=7, device=device)]
            entry["torch_f32_s"], entry["torch_f32_mean"] = timed(lambda: dynamics_torch(acts), args.repeats, sync)
            del acts
            say(entry)
        # 2. The pair, the products and eigh at the benchmark's sizes (f32, no TF32).
        g = torch.Generator(device=device).manual_seed(3)
        x = torch.randn((pair["n"], pair["m"]), device=device, generator=g)
        y = torch.randn((pair["n"], pair["m"]), device=device, generator=g) + 0.5 * x
        report["pair"] = {"n": pair["n"], "m": pair["m"]}
        report["pair_factored_f32_s"], _ = timed(lambda: float(pair_means_torch(*[factor_torch([v]) for v in (x, y)])), args.repeats, sync)
        report["pair_per_pair_f32_s"], _ = timed(lambda: pair_reference_torch(x, y), args.repeats, sync)
        report["products"] = []
        for n, m in products:
            a = torch.randn((n, m), device=device, generator=g)
            b = torch.randn((n, m), device=device, generator=g)
            seconds, _ = timed(lambda: a @ b.mT, max(args.repeats, 10), sync)
            report["products"].append({"n": n, "m": m, "seconds": seconds, "gflops": 2 * n * n * m / seconds / 1e9})
            if (n, m) == (1024, 10000):
                report["product_1024x10000_f32_gflops"] = report["products"][-1]["gflops"]
        report["eigh"] = []
        for n in eigen_sizes:
            a = torch.randn((n, 2 * n), device=device, generator=g)
            a = a @ a.mT
            seconds, _ = timed(lambda: torch.linalg.eigh(a), args.repeats, sync)
            report["eigh"].append({"n": n, "seconds": seconds})
            report[f"eigh_{n}_f32_s"] = seconds
        del x, y
        say({k: v for k, v in report.items() if k != "jobs"})
    # 3. The extras: f64, numpy, the reference per-pair loop.
    for job, entry in zip(jobs, report["jobs"] if args.part != "core" else []):
        if use_torch:
            acts = make_activations(torch, job, seed=7, device=device)
            entry["torch_f64_s"], entry["torch_f64_mean"] = timed(lambda: dynamics_torch(acts), args.extra_repeats, sync)
            save()
            acts64 = [[x.cpu().numpy() for x in row] for row in acts]
        else:
            acts64 = make_activations(np, job, seed=7)
        # No warm-up: numpy has nothing to initialise, and this is the slowest figure.
        entry["numpy_f64_s"], entry["numpy_f64_mean"] = timed(lambda: dynamics_numpy(acts64), args.extra_repeats, warm_up=False)
        del acts64
        save()
        if use_torch and not args.skip_per_pair:
            acts = [[x.float() for x in row] for row in acts]
            pair_reference_torch(acts[0][0], acts[-1][0])  # warm-up
            seconds, mean, done, listed = dynamics_reference_torch(acts, args.per_pair_budget)
            entry.update({"torch_per_pair_f32_s": seconds, "torch_per_pair_f32_mean": mean, "torch_per_pair_pairs_timed": done, "torch_per_pair_pairs": listed})
        if use_torch:
            del acts
        say(entry)
    report["complete"] = True
    save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
