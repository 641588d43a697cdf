#!/usr/bin/env python3
"""Trains the networks of the app's embedded demo and exports their activations to public/demo/.

Run from the repository root, with PyTorch and scikit-learn installed (on Debian:
`sudo apt-get install -y python3-torch python3-sklearn`, then use /usr/bin/python3), and node
(the captions are measured with our own CLI):

    /usr/bin/python3 scripts/make_demo.py              # everything, CPU only
    /usr/bin/python3 scripts/make_demo.py --only cnn   # one bundle (index.json keeps the others)

Nothing is downloaded and nothing is synthesised but the toy regression's inputs: the digits are
scikit-learn's bundled copy of the UCI optical digits (1797 images, 8 x 8, 10 classes). Training
is deterministic (one CPU thread, fixed seeds).

What it writes, each bundle through svcca_lens_export.export_checkpoints (float16, deflated):

  digits-cnn.npz       a small CNN, two seeds (runs cnn-seed0, cnn-seed1), 8 checkpoints from
                       initialisation (step 0) to convergence (step 2000), spaced geometrically;
                       5 layers (3 conv); a fixed, stratified probe set of 500 held-out digits
                       with their labels
  digits-mlp.npz       an MLP 64-64-64-32-10: the same seeds, probe set and checkpoint steps
  toy-regression.npz   the paper's Figure 1 setting: two MLPs with 4 hidden layers trained from
                       different seeds on one smooth 1-D regression; probe = 200 evenly spaced x
  index.json           [{id, title, caption, file}], the CNN first (the app opens the first entry)

Each bundle's manifest.json carries the provenance: this script, the command, seeds, steps,
optimiser, the probe accuracy at every checkpoint, torch/numpy/Python versions, the date. The
captions say what the learning dynamics show, measured by scripts/demo_dynamics.py with
`node bin/svcca-lens.mjs dynamics` / `cross` on the bundles just written; they are not tuned.
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
from svcca_lens_export import export_checkpoints, load_bundle  # noqa: E402

SEEDS = (0, 1)
#: The split of the digits into training images and the probe set never changes with the seeds.
SPLIT_SEED = 0
#: 40 digits per class. (500 would give the SVCCA estimates more datapoints per dimension, but
#: every 100 probes add about 1.2 MB to the demo bundles, which the page downloads.)
PROBE_SIZE = 400
BATCH_SIZE = 32
TOTAL_STEPS = 2000
#: Initialisation, then geometric spacing (early training changes the network fastest):
#: 0 and round(geomspace(5, 2000, 7)).
CHECKPOINT_STEPS = (0, 5, 14, 37, 100, 270, 740, 2000)
#: Adam's learning rate at step 0; cosine decay to 0 at the last step, so the last checkpoint is
#: converged (the reference of the learning-dynamics view).
LEARNING_RATE = 2e-3
TOY_STEPS = (0, 30, 150, 700, 3000)
TOY_PROBE = 200


# ----------------------------------------------------------------------------------------------
# Models. Every recorded layer is a block whose output is what the next block reads (after ReLU,
# and after max-pooling where the block pools), so the names in the bundle are module names.


class DigitsCNN(nn.Module):
    """conv(1->8)-relu-maxpool2 -> conv(8->8)-relu -> conv(8->16)-relu-maxpool2 -> fc(64->64)-relu -> fc(64->10);
    3x3 kernels, padding 1."""

    layers = ("conv1", "conv2", "conv3", "fc1", "logits")

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))  # (N, 8, 4, 4)
        self.conv2 = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())  # (N, 8, 4, 4)
        self.conv3 = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))  # (N, 16, 2, 2)
        self.fc1 = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU())  # (N, 64)
        self.logits = nn.Linear(64, 10)  # (N, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.view(-1, 1, 8, 8)
        return self.logits(self.fc1(self.conv3(self.conv2(self.conv1(x)))))


class DigitsMLP(nn.Module):
    """64 -> 64 -> 64 -> 32 -> 10, ReLU."""

    layers = ("fc1", "fc2", "fc3", "logits")

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Sequential(nn.Linear(64, 64), nn.ReLU())
        self.fc2 = nn.Sequential(nn.Linear(64, 64), nn.ReLU())
        self.fc3 = nn.Sequential(nn.Linear(64, 32), nn.ReLU())
        self.logits = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(self.fc3(self.fc2(self.fc1(x.view(-1, 64)))))


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


# ----------------------------------------------------------------------------------------------
# Data


def digits_split():
    """scikit-learn's digits scaled to [0, 1]; a stratified, fixed probe set of PROBE_SIZE images."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)  # (1797, 64), pixel values 0..16
    y = digits.target.astype(np.int64)
    x_train, x_probe, y_train, y_probe = train_test_split(
        x, y, test_size=PROBE_SIZE, stratify=y, random_state=SPLIT_SEED, shuffle=True
    )
    # The probe set sorted by label (stable), so that plots over datapoints group by class. Every
    # checkpoint sees the same rows in the same order.
    order = np.argsort(y_probe, kind="stable")
    return x_train, y_train, x_probe[order], y_probe[order]


def toy_function(x: np.ndarray) -> np.ndarray:
    return np.sin(3 * x) + 0.3 * np.cos(7 * x) + 0.5 * x


def toy_data():
    """A smooth 1-D regression on x in [-1, 1]: 512 random training inputs, TOY_PROBE evenly spaced probes."""
    rng = np.random.default_rng(SPLIT_SEED)
    x_train = rng.uniform(-1, 1, size=(512, 1)).astype(np.float32)
    x_probe = np.linspace(-1, 1, TOY_PROBE, dtype=np.float32)[:, None]
    return x_train, toy_function(x_train).astype(np.float32), x_probe, toy_function(x_probe).astype(np.float32)


# ----------------------------------------------------------------------------------------------
# Training


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


# ----------------------------------------------------------------------------------------------
# Bundles


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
        what = "probe MSE" if regression else "probe accuracy"
        print(f"  {name} ({seconds[name]} s): {what} " + ", ".join(f"{s}:{v:.4f}" if regression else f"{s}:{v:.3f}" for s, v in score.items()))
    return runs, scores, seconds


def make_classifier_bundle(kind: str, model_class, out: Path, data) -> dict:
    x_train, y_train, x_probe, y_probe = data
    runs, scores, seconds = train_runs(f"{kind}-", model_class, data, regression=False, steps=CHECKPOINT_STEPS)
    path = out / f"digits-{kind}.npz"
    epochs = round(TOTAL_STEPS * BATCH_SIZE / len(x_train), 1)
    export_checkpoints(
        model_class,
        runs,
        x_probe,
        list(model_class.layers),
        path,
        labels=y_probe,
        dtype="float16",
        layout="nchw",
        compress=True,
        manifest={
            "provenance": provenance(
                f"digits-{kind}",
                {
                    "dataset": "scikit-learn load_digits (UCI optical recognition of handwritten digits, 8x8), pixels / 16",
                    "split": f"train_test_split(test_size={PROBE_SIZE}, stratify=y, random_state={SPLIT_SEED}): "
                    f"{len(x_train)} training images; the {PROBE_SIZE} held-out images are the probe set (sorted by label)",
                    "architecture": " ".join(model_class.__doc__.split()),
                    "recorded": "each block's output: after ReLU (and max-pooling where the block pools); logits raw",
                    "optimizer": f"Adam(lr={LEARNING_RATE}), cosine decay to 0 over {TOTAL_STEPS} steps, cross-entropy, batch {BATCH_SIZE}",
                    "steps": TOTAL_STEPS,
                    "epochs": epochs,
                    "checkpoint_steps": list(CHECKPOINT_STEPS),
                    "probe_accuracy": scores,
                    "train_seconds": seconds,
                }
            )
        },
    )
    return {"path": path, "runs": list(runs), "scores": scores, "epochs": epochs}


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


def size(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.2f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "public" / "demo"), help="output folder (default public/demo)")
    parser.add_argument("--only", choices=("cnn", "mlp", "toy"), action="append", help="make only these bundles (repeat)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # One thread: these models are tiny, and more threads only add synchronisation (on a busy
    # 2-core machine, 2 threads made a training step 20x slower). It also keeps runs reproducible.
    torch.set_num_threads(1)
    wanted = set(args.only or ("cnn", "mlp", "toy"))
    started = time.perf_counter()
    entries = []

    data = digits_split()
    for kind, model_class, title, network, layer_text in (
        (
            "cnn",
            DigitsCNN,
            "Digits CNN: learning dynamics, two seeds",
            "A small CNN (conv 8 + max-pool, conv 8, conv 16 + max-pool, fc 64, fc 10)",
            "conv1, conv2, conv3 (conv layers, compared through the DFT), fc1 and the logits",
        ),
        ("mlp", DigitsMLP, "Digits MLP: learning dynamics, two seeds", "An MLP 64-64-64-32-10", "fc1, fc2, fc3 and the logits"),
    ):
        if kind not in wanted:
            continue
        print(f"{kind}: training {len(SEEDS)} seeds for {TOTAL_STEPS} steps")
        info = make_classifier_bundle(kind, model_class, out, data)
        print(f"  wrote {info['path']} ({size(info['path'])}); measuring its dynamics with svcca-lens")
        analysis = demo_dynamics.analyse(info["path"], info["runs"])
        print("  " + demo_dynamics.report(analysis).replace("\n", "\n  "))
        final = [s[str(TOTAL_STEPS)] for s in info["scores"].values()]
        caption = (
            f"{network}, trained with Adam on scikit-learn's 8x8 handwritten digits from two seeds ({', '.join(info['runs'])}). "
            f"Activations of {layer_text} on {PROBE_SIZE} held-out probe digits (with labels) at {len(CHECKPOINT_STEPS)} "
            f"checkpoints from initialisation (step 0) to step {TOTAL_STEPS} (about {round(info['epochs'])} epochs). "
            f"Probe accuracy at the end: {' and '.join(f'{a * 100:.1f}%' for a in final)}. "
            + demo_dynamics.convergence_sentence(analysis)
            + " "
            + demo_dynamics.cross_sentence(analysis)
        )
        entries.append({"id": f"digits-{kind}", "title": title, "caption": caption.strip(), "file": info["path"].name})

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
        order = ["digits-cnn", "digits-mlp", "toy-regression"]
        entries = [previous[i] for i in order if i in previous] + [e for i, e in previous.items() if i not in order]
    index_path.write_text(json.dumps(entries, indent=2, ensure_ascii=False) + "\n")
    total = sum(p.stat().st_size for p in out.glob("*.npz"))
    print(f"wrote {index_path}; bundles {total / 1e6:.2f} MB in all; {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
