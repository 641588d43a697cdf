#!/usr/bin/env python3
"""Trains the networks of the app's embedded demo and exports their activations to public/demo/.

Run from the repository root with PyTorch, Fashion-MNIST and node (the captions are measured with
our own CLI). On Debian:

    sudo apt-get install -y python3-torch dataset-fashion-mnist
    /usr/bin/python3 scripts/make_demo.py                # everything, CPU only, deterministic
    /usr/bin/python3 scripts/make_demo.py --only resnet  # one bundle (index.json keeps the others)

Nothing is downloaded and nothing is synthesised but the toy regression's inputs. Training is
deterministic (one CPU thread, fixed seeds, deterministic kernels): with the same torch version
the arrays come out bit-identical; only the manifests' dates and timings change.

What it writes, each bundle through svcca_lens_export.export_checkpoints (float16, deflated):

  fashion-resnet.npz   the default demo: a small ResNet (scripts/demo_resnet.py) trained on
                       Fashion-MNIST from two seeds; run seed0 at 14 checkpoints from
                       initialisation to step 700, run seed1 at its final checkpoint only (for the
                       across-runs view; the page downloads every byte, so one checkpoint); 14
                       layers: the stem, each block's inner activation and output (conv maps
                       average-pooled to 2 x 2) and the logits; 400 test images (40 per class,
                       sorted by class) as the probe set, with labels
  toy-regression.npz   the paper's Figure 1 setting: two MLPs with 4 hidden layers trained from
                       different seeds on one smooth 1-D regression; probe = 200 evenly spaced x
  index.json           [{id, title, caption, file, step?, facts?}], the ResNet first (the app
                       opens the first entry). `step` is the checkpoint the heatmap opens on;
                       `facts` holds every number the caption states, as measured, so that
                       test/python/demoCaption.test.ts can recompute each from the bundle.

Trained checkpoints are cached in .demo-cache/ (delete it to retrain; it is keyed by the torch
version and the recipe). Each bundle's manifest.json carries the provenance: this script, the
command, seeds, steps, optimiser, accuracies, torch/numpy/Python versions, the date. The captions
are written from `node bin/svcca-lens.mjs dynamics` / `cross` run on the bundles just written;
they are not tuned.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "scripts"))

import torch  # noqa: E402
from torch import nn  # noqa: E402

import demo_dynamics  # noqa: E402
import demo_resnet  # noqa: E402
from svcca_lens_export import export_checkpoints, load_bundle  # noqa: E402

SEEDS = (0, 1)
#: The toy regression's training inputs never change with the seeds.
SPLIT_SEED = 0
BATCH_SIZE = 32
LEARNING_RATE = 2e-3
TOY_STEPS = (0, 30, 150, 700, 3000)
TOY_PROBE = 200
#: Entry order in index.json: the app opens the first.
ORDER = ("fashion-resnet", "toy-regression")


# ----------------------------------------------------------------------------------------------
# The toy regression (the paper's Figure 1 setting)


class ToyMLP(nn.Module):
    """1 -> 4 hidden layers of 32 tanh units -> 1 (the paper's Figure 1 regression networks)."""

    layers = ("hidden1", "hidden2", "hidden3", "hidden4", "output")

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.hidden1 = nn.Sequential(nn.Linear(1, width), nn.Tanh())
        self.hidden2 = nn.Sequential(nn.Linear(width, width), nn.Tanh())
        self.hidden3 = nn.Sequential(nn.Linear(width, width), nn.Tanh())
        self.hidden4 = nn.Sequential(nn.Linear(width, width), nn.Tanh())
        self.output = nn.Linear(width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.hidden4(self.hidden3(self.hidden2(self.hidden1(x)))))


def toy_function(x: np.ndarray) -> np.ndarray:
    return np.sin(3 * x) + 0.3 * np.cos(7 * x) + 0.5 * x


def toy_data():
    """A smooth 1-D regression on x in [-1, 1]: 512 random training inputs, TOY_PROBE evenly spaced probes."""
    rng = np.random.default_rng(SPLIT_SEED)
    x_train = rng.uniform(-1, 1, size=(512, 1)).astype(np.float32)
    x_probe = np.linspace(-1, 1, TOY_PROBE, dtype=np.float32)[:, None]
    return x_train, toy_function(x_train).astype(np.float32), x_probe, toy_function(x_probe).astype(np.float32)


# ----------------------------------------------------------------------------------------------
# Training (the toy)


def train(model_class, seed: int, x_train, y_train, x_probe, y_probe, *, regression: bool, steps, lr=LEARNING_RATE):
    """Adam with a cosine learning-rate decay to 0 at steps[-1], shuffled minibatches (reshuffled
    every epoch), a state_dict copy at every checkpoint step. Returns ({step: state_dict},
    {step: probe accuracy, or probe mean squared error for the regression})."""
    total = steps[-1]
    torch.manual_seed(seed)
    model = model_class()
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda t: 0.5 * (1 + np.cos(np.pi * min(t, total) / total)))
    loss_fn = nn.MSELoss() if regression else nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(1000 + seed)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    xp, yp = torch.from_numpy(x_probe), torch.from_numpy(y_probe)
    checkpoints, scores = {}, {}

    def evaluate() -> float:
        model.eval()
        with torch.no_grad():
            out = model(xp)
        model.train()
        if regression:
            return float(((out - yp) ** 2).mean())
        return float((out.argmax(1) == yp).float().mean())

    order, cursor = torch.randperm(len(xt), generator=generator), 0
    model.train()
    for step in range(total + 1):
        if step in steps:
            checkpoints[step] = copy.deepcopy(model.state_dict())
            scores[step] = evaluate()
        if step == total:
            break
        if cursor + BATCH_SIZE > len(xt):
            order, cursor = torch.randperm(len(xt), generator=generator), 0
        index = order[cursor : cursor + BATCH_SIZE]
        cursor += BATCH_SIZE
        optimiser.zero_grad()
        loss_fn(model(xt[index]), yt[index]).backward()
        optimiser.step()
        schedule.step()
    return checkpoints, scores


def provenance(kind: str, extra: dict) -> dict:
    return {
        "script": "scripts/make_demo.py",
        "command": "python3 " + " ".join(shlex.quote(a) for a in ["scripts/make_demo.py", *sys.argv[1:]]),
        "demo": kind,
        "seeds": list(SEEDS),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "date": dt.date.today().isoformat(),
        **extra,
    }


def train_runs(prefix: str, model_class, data, *, regression: bool, steps, lr=LEARNING_RATE) -> tuple[dict, dict, dict]:
    runs, scores, seconds = {}, {}, {}
    for seed in SEEDS:
        name = f"{prefix}seed{seed}"
        started = time.perf_counter()
        runs[name], score = train(model_class, seed, *data, regression=regression, steps=steps, lr=lr)
        seconds[name] = round(time.perf_counter() - started, 1)
        scores[name] = {str(s): round(v, 5 if regression else 4) for s, v in score.items()}
        print(f"  {name} ({seconds[name]} s): probe MSE " + ", ".join(f"{s}:{v:.4f}" for s, v in score.items()))
    return runs, scores, seconds


def make_toy_bundle(out: Path) -> dict:
    data = toy_data()
    runs, scores, seconds = train_runs("", ToyMLP, data, regression=True, steps=TOY_STEPS)
    path = out / "toy-regression.npz"
    export_checkpoints(
        ToyMLP,
        runs,
        data[2],
        list(ToyMLP.layers),
        path,
        dtype="float16",
        compress=True,
        manifest={
            "provenance": provenance(
                "toy-regression",
                {
                    "task": "y = sin(3x) + 0.3 cos(7x) + 0.5x; 512 training inputs uniform in [-1, 1] (numpy seed 0); "
                    f"probe: {TOY_PROBE} evenly spaced x in [-1, 1], in order",
                    "architecture": ToyMLP.__doc__,
                    "optimizer": f"Adam(lr={LEARNING_RATE}), cosine decay to 0 over {TOY_STEPS[-1]} steps, mean squared error, batch {BATCH_SIZE}",
                    "steps": TOY_STEPS[-1],
                    "checkpoint_steps": list(TOY_STEPS),
                    "probe_mse": scores,
                    "train_seconds": seconds,
                }
            )
        },
    )
    return {"path": path, "runs": list(runs), "scores": scores}


def best_single_neuron_match(path: Path, run_a: str, run_b: str, step: int, layer: str) -> float:
    """Mean over run A's neurons of the largest |Pearson r| with any single neuron of run B (dead
    neurons skipped): how far one-to-one neuron matching gets, against SVCCA's subspace view."""
    entries = load_bundle(path)["entries"]
    a = entries[f"{run_a}/step_{step}/{layer}"].astype(np.float64)
    b = entries[f"{run_b}/step_{step}/{layer}"].astype(np.float64)
    a, b = a - a.mean(0), b - b.mean(0)
    a, b = a[:, a.std(0) > 1e-6], b[:, b.std(0) > 1e-6]
    r = (a / np.linalg.norm(a, axis=0)).T @ (b / np.linalg.norm(b, axis=0))
    return float(np.abs(r).max(axis=1).mean())


# ----------------------------------------------------------------------------------------------
# The ResNet on Fashion-MNIST (the default demo)

R = demo_resnet
RESNET_FILE = "fashion-resnet.npz"
#: Run seed1 is stored at these steps only (the page downloads every byte): enough for the
#: across-runs view at the end of training.
SEED1_STEPS = (R.TOTAL_STEPS,)
#: The stripes in the heatmap: consecutive block outputs joined by an identity skip, against the
#: inner activations of the same blocks.
STRIPE_PAIRS = {"stage 2": ("s2b1", "s2b2"), "stage 3": ("s3b1", "s3b2")}


def make_resnet_bundle(out: Path) -> dict:
    data = R.fashion_mnist()
    probe = R.probe_indices(data["y_test"])
    results = {}
    for seed in SEEDS:
        started = time.perf_counter()
        results[f"seed{seed}"] = R.trained(seed, data, log=lambda line: print("  " + line))
        print(f"  seed{seed}: test accuracy {results[f'seed{seed}']['test_accuracy']:.4f} ({time.perf_counter() - started:.0f} s with the cache)")
    checkpoints = {
        name: {step: state for step, state in r["checkpoints"].items() if name == "seed0" or step in SEED1_STEPS}
        for name, r in results.items()
    }
    path = out / RESNET_FILE
    torch.set_num_threads(1)
    export_checkpoints(
        R.FashionResNet,
        checkpoints,
        data["x_test"][probe],
        list(R.LAYERS),
        path,
        labels=data["y_test"][probe],
        dtype="float16",
        layout="nchw",
        compress=True,
        manifest={
            "provenance": provenance(
                "fashion-resnet",
                {
                    "dataset": "Fashion-MNIST (Xiao et al. 2017), Debian's dataset-fashion-mnist: the original idx files; "
                    f"pixels / 255, normalised with mean {R.MEAN} and std {R.STD}",
                    "classes": list(R.CLASSES),
                    "probe": f"the first {R.PROBE_PER_CLASS} test images of each class in test-set order, sorted by class "
                    f"({R.PROBE_PER_CLASS * len(R.CLASSES)} images; labels 0-9 as in the dataset)",
                    "architecture": " ".join(R.ResNetBody.__doc__.split()) + f"; {R.parameter_count()} parameters; "
                    "basic blocks conv3x3-BN-ReLU-conv3x3-BN + shortcut (identity, or 1x1 conv-BN where the shape changes), ReLU",
                    "recorded": "stem: after conv-BN-ReLU; sNbM-inner: block M of stage N after its first conv-BN-ReLU; "
                    "sNbM: the block's output (after the addition and ReLU); conv maps average-pooled to "
                    f"{R.POOL}x{R.POOL} (adaptive); logits raw",
                    "optimizer": f"SGD(lr={R.LEARNING_RATE}, momentum={R.MOMENTUM}, weight_decay={R.WEIGHT_DECAY}), cosine decay to 0 "
                    f"over {R.TOTAL_STEPS} steps, cross-entropy, batch {R.BATCH_SIZE}, no augmentation, one pass over a "
                    "seeded shuffle of the training set",
                    "determinism": "torch.set_num_threads(1), torch.use_deterministic_algorithms(True), seeds: torch.manual_seed(seed), "
                    "shuffle generator 1000 + seed",
                    "steps": R.TOTAL_STEPS,
                    "checkpoint_steps": list(R.CHECKPOINT_STEPS),
                    "stored_steps": {name: sorted(c) for name, c in checkpoints.items()},
                    "probe_accuracy": {name: {str(s): round(a, 4) for s, a in r["probe_accuracy"].items()} for name, r in results.items()},
                    "test_accuracy": {name: round(r["test_accuracy"], 4) for name, r in results.items()},
                    "train_seconds": {name: r["seconds"] for name, r in results.items()},
                }
            )
        },
    )
    return {"path": path, "results": results}


def progress(curve: list[float]) -> list[float] | None:
    """(s_t - s_0) / (1 - s_0): how far a layer has moved from where it started."""
    s0 = curve[0]
    return None if s0 >= demo_dynamics.PROGRESS_START_BELOW else [(s - s0) / (1 - s0) for s in curve]


def resnet_facts(path: Path, results: dict) -> dict:
    """Every number the caption states, measured on the bundle with svcca-lens (SVCCA, conv
    layers through the DFT, the defaults)."""
    dyn = demo_dynamics.cli("dynamics", str(path), "--run", "seed0")
    steps, layers, values = dyn["steps"], dyn["layers"], dyn["values"]
    diagonal = {l: [values[t][i][i] for t in range(len(steps))] for i, l in enumerate(layers)}
    stages = list(R.STAGES.items())  # [(label, layer)], bottom to top
    freeze = {
        str(th): {l: demo_dynamics.first_step(steps, diagonal[l], th) for l in layers} for th in demo_dynamics.THRESHOLDS
    }
    # Bottom-up pairs among the stage outputs over the intermediate checkpoints, on the raw
    # similarity and on the progress from initialisation.
    middle = range(1, len(steps) - 1)
    raw = [0, 0]
    moved = [0, 0]
    for t in middle:
        a, n = demo_dynamics.count_pairs([diagonal[l][t] for _, l in stages])
        raw = [raw[0] + a, raw[1] + n]
        a, n = demo_dynamics.count_pairs([(progress(diagonal[l]) or [None] * len(steps))[t] for _, l in stages])
        moved = [moved[0] + a, moved[1] + n]
    # The checkpoint the heatmap opens on: the first from which stage 1 stays >= 0.9, where the
    # lowest stage above the stem has settled and (if the order is bottom-up) the upper ones have not.
    shown = steps.index(freeze["0.9"][stages[1][1]]) if freeze["0.9"][stages[1][1]] is not None else len(steps) // 2
    # Stripes, in the final network (the heatmap's last step: each layer against every other).
    last = len(steps) - 1
    at = {l: i for i, l in enumerate(layers)}
    stripes = {
        label: {
            "outputs": values[last][at[b]][at[a]],
            "inner": values[last][at[b + "-inner"]][at[a + "-inner"]],
        }
        for label, (a, b) in STRIPE_PAIRS.items()
    }
    cross = demo_dynamics.cli("cross", str(path), str(path), "--run-a", "seed0", "--run-b", "seed1")
    return {
        "steps": steps,
        "layers": layers,
        "stages": dict(stages),
        "diagonal": {l: [round(v, 4) for v in c] for l, c in diagonal.items()},
        "freeze": freeze,
        "at_init": {l: round(diagonal[l][0], 4) for l in layers},
        "bottom_up_pairs_raw": raw,
        "bottom_up_pairs_progress": moved,
        "shown_step": steps[shown],
        "at_shown_step": {l: round(diagonal[l][shown], 4) for _, l in stages},
        "stripes": {k: {kk: round(vv, 4) for kk, vv in v.items()} for k, v in stripes.items()},
        "cross_step": cross["step"],
        "cross": {l: round(cross["values"][i][i], 4) for i, l in enumerate(cross["layersA"])},
        "test_accuracy": {name: round(r["test_accuracy"], 4) for name, r in results.items()},
        "warnings": dyn.get("warnings", []),
    }


def resnet_ordered(f: dict) -> bool:
    """Whether the step from which each stage stays >= 0.9 is non-decreasing from the stem up."""
    layers = list(f["stages"].values())
    steps = [f["freeze"]["0.9"][l] for l in layers]
    return None not in steps and all(a <= b for a, b in zip(steps, steps[1:]))


def resnet_caption(f: dict) -> str:
    """The caption, every number from resnet_facts (two short sentences first: the page shows two lines)."""
    stages = list(f["stages"].items())
    f90, f95 = f["freeze"]["0.9"], f["freeze"]["0.95"]
    pct = lambda a: f"{a * 100:.1f}%"  # noqa: E731
    acc = f["test_accuracy"]
    listed = lambda freeze: ", ".join(f"{freeze[l]} ({label})" for label, l in stages)  # noqa: E731
    ordered = resnet_ordered(f)
    head = (
        f"A small ResNet trained on Fashion-MNIST ({pct(acc['seed0'])} test accuracy) "
        + ("settles bottom-up" if ordered else "does not settle in a clean bottom-up order")
        + f": each stage stays at SVCCA ≥ 0.9 with its own final state from step {listed(f90)} of {f['steps'][-1]}."
    )
    (ra, rn), (pa, pn) = f["bottom_up_pairs_raw"], f["bottom_up_pairs_progress"]
    init = f["at_init"]
    first, top = stages[0][1], stages[-1][1]
    starts = f"But at initialisation the {stages[0][0]} already scores {init[first]:.2f} against its final state and {stages[-1][0]} {init[top]:.2f}"
    if pn and pa / pn >= demo_dynamics.CLEAR:
        caveat = (
            f"{starts}; measured as progress from initialisation, (s − s₀)/(1 − s₀), the order holds too ({pa} of {pn} stage pairs "
            f"over the intermediate checkpoints are bottom-up; {ra} of {rn} on the similarity itself)."
        )
    else:
        caveat = (
            f"{starts}: lower layers start closer. Measured as progress from initialisation, (s − s₀)/(1 − s₀), only {pa} of {pn} "
            f"stage pairs over the intermediate checkpoints are bottom-up (on the similarity itself {ra} of {rn}), so "
            "“lower layers start closer” and “lower layers learn first” cannot be told apart here."
        )
    logits = f90["logits"]
    s = f["stripes"]
    stripe_text = "; ".join(
        f"{label} block outputs {v['outputs']:.2f}, their inner activations {v['inner']:.2f}" for label, v in s.items()
    )
    cross = f["cross"]
    shown_values = ", ".join(f"{label} {f['at_shown_step'][l]:.2f}" for label, l in stages)
    body = (
        f"Architecture: a stem conv with 16 channels at 28×28, then 3 stages of 2 residual blocks "
        f"(16, 32, 64 channels at 14×14, 7×7, 4×4), {R.parameter_count():,} parameters; SGD with momentum and a cosine "
        f"schedule, {R.TOTAL_STEPS} steps of batch {R.BATCH_SIZE}. Run seed0 is recorded at {len(f['steps'])} checkpoints on "
        f"{R.PROBE_PER_CLASS * len(R.CLASSES)} test images (sorted by class): the stem, each block's inner activation "
        f"(sNbM-inner) and output (sNbM), average-pooled to 2×2 and compared through the DFT, and the logits; a stage is "
        f"its last block's output. Staying ≥ 0.95: from step {listed(f95)}. The heatmap opens at step {f['shown_step']}, where stage 1 has settled ({shown_values}). "
        f"{caveat} "
        f"The logits reach 0.9 at step {logits}, early, as a layer fitted directly by the loss does. "
        f"The stripes in the heatmap are the identity skips: in the final network {stripe_text}. "
        f"Run seed1 ({pct(acc['seed1'])}) is stored at step {f['cross_step']} only; against seed0 (SVCCA): "
        f"{', '.join(f'{label} {cross[l]:.2f}' for label, l in stages)}, logits {cross['logits']:.2f}."
    )
    return f"{head} {body}"


def size(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.2f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "public" / "demo"), help="output folder (default public/demo)")
    parser.add_argument("--only", choices=("resnet", "toy"), action="append", help="make only these bundles (repeat)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # One thread: deterministic, and on a busy 2-core machine more threads only add waiting.
    torch.set_num_threads(1)
    wanted = set(args.only or ("resnet", "toy"))
    started = time.perf_counter()
    entries = []

    if "resnet" in wanted:
        print(f"resnet: training (or reading .demo-cache/) {len(SEEDS)} seeds for {R.TOTAL_STEPS} steps")
        info = make_resnet_bundle(out)
        print(f"  wrote {info['path']} ({size(info['path'])}); measuring it with svcca-lens")
        facts = resnet_facts(info["path"], info["results"])
        for label, layer in facts["stages"].items():
            print(f"  {label:8} ({layer}): " + " ".join(f"{s}:{v:.3f}" for s, v in zip(facts["steps"], facts["diagonal"][layer])))
        print(f"  first step staying >= 0.9: {facts['freeze']['0.9']}")
        print(f"  first step staying >= 0.95: {facts['freeze']['0.95']}")
        caption = resnet_caption(facts)
        print("  caption: " + caption)
        entries.append(
            {
                "id": "fashion-resnet",
                "title": "ResNet on Fashion-MNIST: "
                + ("the layers settle bottom-up" if resnet_ordered(facts) else "learning dynamics"),
                "caption": caption,
                "file": RESNET_FILE,
                "step": facts["shown_step"],
                # The threshold of the caption's headline, for the convergence chart's freeze markers.
                "threshold": 0.9,
                "facts": {k: v for k, v in facts.items() if k != "warnings"},
            }
        )

    if "toy" in wanted:
        print(f"toy: training two 4-hidden-layer MLPs on a 1-D regression for {TOY_STEPS[-1]} steps")
        info = make_toy_bundle(out)
        print(f"  wrote {info['path']} ({size(info['path'])}); measuring it with svcca-lens")
        analysis = demo_dynamics.analyse(info["path"], info["runs"])
        print("  " + demo_dynamics.report(analysis).replace("\n", "\n  "))
        final = [s[str(TOY_STEPS[-1])] for s in info["scores"].values()]
        cross = analysis["cross"]
        hidden = [l for l in ToyMLP.layers if l.startswith("hidden")]
        matches = {l: best_single_neuron_match(info["path"], *info["runs"][:2], TOY_STEPS[-1], l) for l in hidden}
        untrained = [analysis["per_run"][r]["diagonal"][l][0] for r in info["runs"] for l in hidden]
        print("  best single-neuron |r| (mean over seed0's neurons): " + ", ".join(f"{l} {v:.3f}" for l, v in matches.items()))
        listed = lambda values: ", ".join(f"{l} {v:.2f}" for l, v in values.items())  # noqa: E731
        entries.append(
            {
                "id": "toy-regression",
                "title": "Two networks, one function (the paper's Figure 1 setting)",
                "caption": (
                    f"Two MLPs with 4 hidden layers of 32 tanh units, trained with Adam from different seeds ({', '.join(info['runs'])}) "
                    f"on the same smooth 1-D regression, y = sin(3x) + 0.3 cos(7x) + 0.5x; activations on {TOY_PROBE} evenly spaced "
                    f"inputs x in [-1, 1] at {len(TOY_STEPS)} checkpoints (step 0 to {TOY_STEPS[-1]}); final probe mean squared "
                    f"error {' and '.join(f'{v:.4f}' for v in final)}. At step {cross['step']} the two networks agree almost "
                    f"perfectly under SVCCA ({listed(cross['svcca'])}), while plain CCA over all 32 neurons of a layer, without "
                    f"the SVD step, gives only {listed({l: cross['cca'][l] for l in hidden})}: most of a layer's 32 directions carry "
                    f"almost no variance, yet plain CCA counts each of them as much as the rest (the paper's case for the SVD "
                    f"step; in float16 those directions hold rounding noise). What this toy does not show is learning: with a single input "
                    f"variable each layer spans a few smooth functions of x, so every untrained layer already scores "
                    f"{min(untrained):.2f} or more against the same layer trained, and single neurons match one to one nearly as well "
                    f"(mean best |r| {', '.join(f'{v:.2f}' for v in matches.values())} for {', '.join(hidden)})."
                ),
                "file": info["path"].name,
            }
        )

    index_path = out / "index.json"
    if args.only and index_path.exists():
        # Keep the entries of the bundles not remade this time, in the usual order.
        previous = {e["id"]: e for e in json.loads(index_path.read_text())}
        previous.update({e["id"]: e for e in entries})
        entries = [previous[i] for i in ORDER if i in previous] + [e for i, e in previous.items() if i not in ORDER]
    index_path.write_text(json.dumps(entries, indent=2, ensure_ascii=False) + "\n")
    total = sum((out / e["file"]).stat().st_size for e in entries)
    print(f"wrote {index_path}; bundles {total / 1e6:.2f} MB in all; {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
