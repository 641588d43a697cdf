#!/usr/bin/env python3
"""Writes test/fixtures/python/roundtrip.npz and roundtrip.expected.json with save_bundle.

Run from the repository root (numpy only):

    python3 python/tests/make_roundtrip_fixture.py [OUT_DIR]

The bundle: 2 runs x 2 steps x 2 layers (a 4-D NCHW conv layer and a dense layer), 6 datapoints,
int labels, float16, a provenance dict, a fixed `created` date. test/python/roundtrip.test.ts opens
it with the app's TypeScript reader and compares it with the expected JSON: runs, steps, layers,
shapes, dtypes, labels, the manifest, and every value (float16 values are exact in float32, which
is what the reader returns). python/tests/test_roundtrip.py checks that the committed fixture is
what the current writer produces.

Values: layer value i (C order) at run r, step s is (i + 1) / 8 + r - s / 4 for the conv layer and
-(i + 1) / 16 + 2r + s / 8 for the dense one: exact in float16, distinct within an array.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

from svcca_lens_export import load_bundle, save_bundle  # noqa: E402

RUNS = ("run-a", "run-b")
STEPS = (0, 12)
N = 6
CONV_SHAPE = (N, 2, 3, 3)
DENSE_SHAPE = (N, 4)
LABELS = [2, 0, 1, 2, 0, 1]
CREATED = "2024-01-01T00:00:00Z"
PROVENANCE = {"script": "python/tests/make_roundtrip_fixture.py", "purpose": "Python writer -> TypeScript reader round trip"}


def arrays() -> dict:
    data = {}
    for r, run in enumerate(RUNS):
        data[run] = {}
        for step in STEPS:
            conv = (np.arange(np.prod(CONV_SHAPE)) + 1) / 8 + r - step / 4
            dense = -(np.arange(np.prod(DENSE_SHAPE)) + 1) / 16 + 2 * r + step / 8
            data[run][step] = {"features/conv": conv.reshape(CONV_SHAPE), "fc.1": dense.reshape(DENSE_SHAPE)}
    return data


def write(out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    npz = save_bundle(
        out_dir / "roundtrip.npz",
        arrays(),
        labels=LABELS,
        layout={"features/conv": "nchw"},
        manifest={"created": CREATED, "provenance": PROVENANCE},
        dtype="float16",
    )
    bundle = load_bundle(npz)
    manifest = bundle["manifest"]
    expected = {
        "runs": list(RUNS),
        "steps": list(STEPS),
        "layers": ["features/conv", "fc.1"],
        "datapoints": N,
        "labels": LABELS,
        "entries": [
            {
                "run": run,
                "step": step,
                "layer": layer,
                "member": f"{run}/step_{step}/{layer}",
                "shape": list(array.shape),
                "dtype": array.dtype.str,
                # every value, as float (float16 -> exact float64), C order
                "values": [float(v) for v in array.ravel()],
            }
            for run in RUNS
            for step in STEPS
            for layer, array in ((name, bundle["entries"][f"{run}/step_{step}/{name}"]) for name in ("features/conv", "fc.1"))
        ],
        # the manifest as written, minus the writer's numpy version (differs between machines)
        "manifest": {**manifest, "writer": {k: v for k, v in manifest["writer"].items() if k != "numpy"}},
    }
    expected_path = out_dir / "roundtrip.expected.json"
    expected_path.write_text(json.dumps(expected, indent=1) + "\n")
    return npz, expected_path


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "test" / "fixtures" / "python"
    for path in write(target):
        print(f"wrote {path} ({path.stat().st_size} bytes)")
