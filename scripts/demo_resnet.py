#!/usr/bin/env python3
"""The demo's ResNet on Fashion-MNIST: data, model, training and checkpoints (make_demo.py exports them).

    /usr/bin/python3 scripts/demo_resnet.py --seed 0      # trains one seed, writes .demo-cache/resnet-seed0.pt
    /usr/bin/python3 scripts/make_demo.py                 # trains what is missing, exports, measures, writes index.json

Data: Debian's `dataset-fashion-mnist` (`sudo apt-get install dataset-fashion-mnist`), the original
gzipped idx files of Zalando's Fashion-MNIST (60,000 training and 10,000 test images, 28 x 28, 10
classes) in /usr/share/datasets/fashion-mnist; or set FASHION_MNIST_DIR to a folder holding the
same four files. Nothing is downloaded.

Model: a small ResNet (He et al. 2016, the CIFAR variant): a stem conv 3x3 with 16 channels at
28 x 28, then 3 stages of 2 basic blocks (conv-BN-ReLU-conv-BN, plus the identity, or a 1x1
conv-BN where the shape changes, then ReLU) with 16, 32 and 64 channels at 14 x 14, 7 x 7 and 4 x 4
(the first block of each stage has stride 2), global average pooling and a linear layer to 10
logits. About 0.17 M parameters.

Recorded (the "taps", named as in the bundle): the stem's output, and for every block both its
inner activation (after the first conv-BN-ReLU) and its output (after the addition and ReLU),
average-pooled to 2 x 2 (adaptive pooling; conv layout NCHW), and the logits. The inner
activations are recorded because only beside them do the skip connections show: a block's output
is its input plus a correction, so consecutive block outputs stay alike while the inner
activations differ, which is what draws stripes in the layer x layer heatmap.

Training: SGD with momentum 0.9, learning rate 0.1 with a cosine decay to 0 over 700 steps, weight
decay 5e-4, batch 64, cross-entropy, no augmentation (700 x 64 = 44,800 images, about 3/4 of an
epoch: each image is seen at most once). Shuffling, initialisation and everything else come from
the seed. Deterministic on the CPU: one thread (torch.set_num_threads(1)), no nondeterministic
kernels (torch.use_deterministic_algorithms(True)); the same torch version and CPU kind give
bit-identical checkpoints. (More threads split reductions differently and change the last bits.)
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".demo-cache"
DATA_DIR = Path(os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

TOTAL_STEPS = 700
BATCH_SIZE = 64
LEARNING_RATE = 0.1
MOMENTUM = 0.9
WEIGHT_DECAY = 5e-4
#: 14 checkpoints: initialisation, dense early (the network changes fastest), and dense between
#: steps 280 and 560, where the stages settle one after the other. (18 checkpoints of 500 probes
#: would make a 29 MB bundle: the page downloads it, so the demo keeps to 14 and 400.)
CHECKPOINT_STEPS = (0, 20, 40, 75, 125, 200, 280, 320, 360, 390, 420, 490, 560, 700)
#: Probe: the first PROBE_PER_CLASS test images of each class (in test-set order), sorted by class.
PROBE_PER_CLASS = 40
#: Pixel mean and standard deviation of the Fashion-MNIST training images (pixels / 255).
MEAN, STD = 0.2860, 0.3530
#: Conv activations are average-pooled to POOL x POOL before they are stored.
POOL = 2


# ----------------------------------------------------------------------------------------------
# Data


def read_idx(path: Path) -> np.ndarray:
    """An idx file (gzipped) -> uint8 array: (N, 28, 28) images or (N,) labels."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    kind, dims = raw[2], raw[3]
    if kind != 0x08:
        raise ValueError(f"{path}: expected unsigned bytes (0x08), got type 0x{kind:02x}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion_mnist() -> dict[str, np.ndarray]:
    """{'x_train', 'y_train', 'x_test', 'y_test'}: images normalised, float32 (N, 1, 28, 28); labels int64."""
    files = {
        "x_train": "train-images-idx3-ubyte.gz",
        "y_train": "train-labels-idx1-ubyte.gz",
        "x_test": "t10k-images-idx3-ubyte.gz",
        "y_test": "t10k-labels-idx1-ubyte.gz",
    }
    missing = [name for name in files.values() if not (DATA_DIR / name).exists()]
    if missing:
        raise SystemExit(
            f"Fashion-MNIST not found in {DATA_DIR} (missing {', '.join(missing)}): "
            "sudo apt-get install dataset-fashion-mnist, or set FASHION_MNIST_DIR"
        )
    out = {}
    for key, name in files.items():
        array = read_idx(DATA_DIR / name)
        if key.startswith("x"):
            out[key] = ((array.astype(np.float32) / 255.0 - MEAN) / STD)[:, None, :, :]
        else:
            out[key] = array.astype(np.int64)
    return out


def probe_indices(y_test: np.ndarray) -> np.ndarray:
    """The first PROBE_PER_CLASS test images of each class, class by class (so sorted by label)."""
    return np.concatenate([np.flatnonzero(y_test == c)[:PROBE_PER_CLASS] for c in range(len(CLASSES))])


# ----------------------------------------------------------------------------------------------
# Model


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = (
            nn.Identity()
            if stride == 1 and cin == cout
            else nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
        )

    def forward(self, x: torch.Tensor, tap, name: str) -> torch.Tensor:
        inner = F.relu(self.bn1(self.conv1(x)))
        tap(f"{name}-inner", inner)
        out = F.relu(self.bn2(self.conv2(inner)) + self.shortcut(x))
        tap(name, out)
        return out


class ResNetBody(nn.Module):
    """stem conv16 @ 28x28 -> stages of 2 blocks: 16 @ 14x14, 32 @ 7x7, 64 @ 4x4 -> GAP -> fc 10."""

    widths = (16, 32, 64)

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        cin = 16
        self.stages = nn.ModuleList()
        for width in self.widths:
            self.stages.append(nn.ModuleList([BasicBlock(cin, width, 2), BasicBlock(width, width, 1)]))
            cin = width
        self.fc = nn.Linear(cin, 10)

    def forward(self, x: torch.Tensor, tap) -> torch.Tensor:
        x = self.stem(x)
        tap("stem", x)
        for s, stage in enumerate(self.stages, start=1):
            for b, block in enumerate(stage, start=1):
                x = block(x, tap, f"s{s}b{b}")
        logits = self.fc(x.mean(dim=(2, 3)))
        tap("logits", logits)
        return logits


#: The recorded layers, bottom to top, as named in the bundle. sNbM = stage N, block M (its output);
#: sNbM-inner = that block's activation after its first conv-BN-ReLU.
LAYERS = ("stem",) + tuple(f"s{s}b{b}{part}" for s in (1, 2, 3) for b in (1, 2) for part in ("-inner", "")) + ("logits",)
#: The last layer of each stage, for the captions: the stage's output.
STAGES = {"stem": "stem", "stage 1": "s1b2", "stage 2": "s2b2", "stage 3": "s3b2"}


class FashionResNet(nn.Module):
    """The network plus parameter-free taps named as the recorded layers: each conv tap
    average-pools its input to POOL x POOL, the logits tap passes them through. svcca_lens_export
    records the taps' outputs (module names = layer names). The taps do not change the forward pass."""

    layers = LAYERS

    def __init__(self) -> None:
        super().__init__()
        self.net = ResNetBody()
        for name in LAYERS:
            self.add_module(name, nn.Identity() if name == "logits" else nn.AdaptiveAvgPool2d(POOL))

    def _tap(self, name: str, tensor: torch.Tensor) -> None:
        self.get_submodule(name)(tensor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x, self._tap)


def parameter_count() -> int:
    return sum(p.numel() for p in FashionResNet().parameters())


# ----------------------------------------------------------------------------------------------
# Training


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 1000) -> float:
    was = model.training
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += int((model(x[i : i + batch]).argmax(1) == y[i : i + batch]).sum())
    model.train(was)
    return correct / len(x)


def train(seed: int, data: dict[str, np.ndarray], log=print) -> dict:
    """Trains one seed; returns {'seed', 'checkpoints': {step: state_dict}, 'probe_accuracy':
    {step: acc}, 'test_accuracy': final accuracy on all 10,000 test images, 'seconds', 'torch'}."""
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    model = FashionResNet()
    optimiser = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda t: 0.5 * (1 + np.cos(np.pi * min(t, TOTAL_STEPS) / TOTAL_STEPS))
    )
    generator = torch.Generator().manual_seed(1000 + seed)
    xt, yt = torch.from_numpy(data["x_train"]), torch.from_numpy(data["y_train"])
    probe = probe_indices(data["y_test"])
    xp, yp = torch.from_numpy(data["x_test"][probe]), torch.from_numpy(data["y_test"][probe])
    order = torch.randperm(len(xt), generator=generator)  # 700 x 64 < 60,000: one pass, no reshuffle
    checkpoints, probe_acc = {}, {}
    started = time.perf_counter()
    model.train()
    for step in range(TOTAL_STEPS + 1):
        if step in CHECKPOINT_STEPS:
            checkpoints[step] = {k: v.detach().clone() for k, v in model.state_dict().items()}
            probe_acc[step] = accuracy(model, xp, yp)
            log(f"seed {seed} step {step}: probe accuracy {probe_acc[step]:.3f} ({time.perf_counter() - started:.0f} s)")
        if step == TOTAL_STEPS:
            break
        index = order[step * BATCH_SIZE : (step + 1) * BATCH_SIZE]
        optimiser.zero_grad()
        F.cross_entropy(model(xt[index]), yt[index]).backward()
        optimiser.step()
        schedule.step()
    seconds = time.perf_counter() - started
    test_acc = accuracy(model, torch.from_numpy(data["x_test"]), torch.from_numpy(data["y_test"]))
    log(f"seed {seed}: test accuracy {test_acc:.4f} (10,000 images); trained in {seconds:.0f} s")
    return {
        "seed": seed,
        "checkpoints": checkpoints,
        "probe_accuracy": probe_acc,
        "test_accuracy": test_acc,
        "seconds": round(seconds, 1),
        "torch": torch.__version__,
    }


def cache_path(seed: int) -> Path:
    return CACHE / f"resnet-seed{seed}.pt"


def trained(seed: int, data: dict[str, np.ndarray] | None = None, log=print) -> dict:
    """train(seed), cached in .demo-cache/ (keyed by the recipe: delete the folder after changing it)."""
    path = cache_path(seed)
    if path.exists():
        cached = torch.load(path)
        if cached.get("torch") == torch.__version__ and cached.get("recipe") == recipe():
            return cached
        log(f"{path}: made by another torch version or recipe; retraining")
    result = train(seed, data if data is not None else fashion_mnist(), log)
    result["recipe"] = recipe()
    CACHE.mkdir(exist_ok=True)
    torch.save(result, path)
    return result


def recipe() -> dict:
    return {
        "steps": TOTAL_STEPS,
        "batch": BATCH_SIZE,
        "lr": LEARNING_RATE,
        "momentum": MOMENTUM,
        "weight_decay": WEIGHT_DECAY,
        "checkpoints": list(CHECKPOINT_STEPS),
        "probe_per_class": PROBE_PER_CLASS,
        "pool": POOL,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Train the demo ResNet on Fashion-MNIST (one seed) into .demo-cache/.")
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args()
    trained(args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
