"""`python -m svcca_lens_export`: help, pack (numpy only), inspect, errors; export without torch."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest
import zipfile
from pathlib import Path

import numpy as np

PYTHON_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PYTHON_DIR))

from svcca_lens_export import load_bundle  # noqa: E402
from svcca_lens_export.cli import main  # noqa: E402

try:
    import torch  # noqa: F401

    HAS_TORCH = True
except ImportError:
    HAS_TORCH = False


def run_main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exit:  # argparse --help / usage errors
            code = exit.code
    return code, out.getvalue(), err.getvalue()


class Cli(unittest.TestCase):
    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self._tmp.name)

    def tearDown(self) -> None:
        self._tmp.cleanup()

    def write_tree(self, root: Path, runs=("a", "b"), steps=(0, 2, 10)) -> None:
        rng = np.random.default_rng(0)
        for run in runs:
            for step in steps:
                folder = root / run / f"step_{step}"
                (folder / "block1").mkdir(parents=True, exist_ok=True)
                np.save(folder / "conv10.npy", rng.normal(size=(8, 4, 3, 3)).astype(np.float32))
                np.save(folder / "conv2.npy", rng.normal(size=(8, 4, 3, 3)).astype(np.float32))
                np.save(folder / "block1" / "fc.npy", rng.normal(size=(8, 5)))
        np.save(root / "labels.npy", np.arange(8) % 2)
        (root / "manifest.json").write_text(json.dumps({"provenance": {"model": "tree"}, "note": "hi"}))

    def test_module_help_runs(self):
        env = {**os.environ, "PYTHONPATH": str(PYTHON_DIR)}
        done = subprocess.run([sys.executable, "-m", "svcca_lens_export", "--help"], capture_output=True, text=True, env=env)
        self.assertEqual(done.returncode, 0, done.stderr)
        for command in ("pack", "export", "inspect"):
            self.assertIn(command, done.stdout)
        for command in ("pack", "export", "inspect"):
            code, out, _ = run_main(command, "--help")
            self.assertEqual(code, 0)
            self.assertIn("usage:", out)

    def test_pack_a_run_tree(self):
        root = self.dir / "tree"
        self.write_tree(root)
        code, out, err = run_main("pack", str(root), "-o", str(self.dir / "out.npz"), "--layout", "nchw", "--provenance", "epochs=3")
        self.assertEqual(code, 0, err)
        self.assertIn("2 run(s), 3 step(s), 3 layer(s), 8 datapoints, float16", out)
        bundle = load_bundle(self.dir / "out.npz")
        with zipfile.ZipFile(self.dir / "out.npz") as archive:
            names = archive.namelist()
        # runs and layers in natural order (conv2 before conv10), steps numerically
        self.assertEqual(names[:4], ["labels.npy", "a/step_0/block1/fc.npy", "a/step_0/conv2.npy", "a/step_0/conv10.npy"])
        self.assertEqual(names[-1], "manifest.json")
        self.assertEqual(len(bundle["entries"]), 2 * 3 * 3)
        m = bundle["manifest"]
        self.assertEqual(m["runs"], ["a", "b"])
        self.assertEqual(m["steps"], [0, 2, 10])
        self.assertEqual(m["note"], "hi")
        self.assertEqual(m["provenance"]["model"], "tree")
        self.assertEqual(m["provenance"]["epochs"], 3)
        self.assertEqual(m["provenance"]["packed_from"], str(root))
        self.assertEqual(bundle["labels"].tolist(), [0, 1] * 4)
        original = np.load(root / "b" / "step_10" / "conv2.npy")
        np.testing.assert_array_equal(bundle["entries"]["b/step_10/conv2"], original.astype(np.float16))

        code, out, err = run_main("inspect", str(self.dir / "out.npz"))
        self.assertEqual(code, 0, err)
        self.assertIn("runs: a, b", out)
        self.assertIn("steps: 0, 2, 10", out)
        self.assertIn("conv2  (8, 4, 3, 3)  <f2  nchw (given)", out)
        self.assertIn("labels: 8 (2 classes)", out)
        code, out, _ = run_main("inspect", str(self.dir / "out.npz"), "--json")
        self.assertEqual(json.loads(out)["runs"], ["a", "b"])

    def test_pack_steps_only_float32(self):
        root = self.dir / "flat"
        for step in (1, 3):
            (root / f"step_{step}").mkdir(parents=True)
            np.save(root / f"step_{step}" / "x.npy", np.ones((4, 2)))
        code, _, err = run_main("pack", str(root), "-o", str(self.dir / "flat"), "--dtype", "float32")
        self.assertEqual(code, 0, err)
        bundle = load_bundle(self.dir / "flat.npz")
        self.assertEqual(sorted(bundle["entries"]), ["step_1/x", "step_3/x"])
        self.assertEqual(bundle["entries"]["step_1/x"].dtype, np.float32)
        self.assertIsNone(bundle["labels"])

    def test_pack_errors_are_one_line(self):
        root = self.dir / "bad"
        (root / "step_0").mkdir(parents=True)
        np.save(root / "step_0" / "a.npy", np.ones((4, 2)))
        (root / "notes.txt").write_text("x")
        code, _, err = run_main("pack", str(root), "-o", str(self.dir / "o.npz"))
        self.assertEqual(code, 2)
        self.assertRegex(err, r"^svcca-lens-export: .*files that follow no .* convention: notes.txt\n$")
        (root / "notes.txt").unlink()
        np.save(root / "step_0" / "b.npy", np.ones((5, 2)))
        code, _, err = run_main("pack", str(root), "-o", str(self.dir / "o.npz"))
        self.assertEqual(code, 2)
        self.assertIn("step_0/b: has 5 datapoints", err)
        code, _, err = run_main("pack", str(self.dir / "nowhere"), "-o", str(self.dir / "o.npz"))
        self.assertEqual(code, 2)
        self.assertIn("is not a folder", err)
        self.assertFalse((self.dir / "o.npz").exists())

    def test_inspect_missing_file(self):
        code, _, err = run_main("inspect", str(self.dir / "none.npz"))
        self.assertEqual(code, 2)
        self.assertIn("no such file", err)

    @unittest.skipIf(HAS_TORCH, "PyTorch is installed: the export command is tested in test_torch.py")
    def test_export_without_torch_says_so(self):
        code, _, err = run_main("export", "m:f", "-o", str(self.dir / "o.npz"), "--checkpoint", "0=x.pt", "--layers", "fc")
        self.assertEqual(code, 2)
        self.assertIn("export needs PyTorch", err)


if __name__ == "__main__":
    unittest.main()
