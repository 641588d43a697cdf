"""record / probe / export_checkpoints and the export command, with PyTorch (skipped without it)."""

from __future__ import annotations

import contextlib
import io
import re
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from svcca_lens_export import load_bundle  # noqa: E402

try:
    import torch
    from torch import nn

    HAS_TORCH = True
except ImportError:
    HAS_TORCH = False

needs_torch = unittest.skipUnless(HAS_TORCH, "PyTorch is not installed (the numpy-only writer is tested without it)")


if HAS_TORCH:
    from svcca_lens_export import export_checkpoints, probe, record  # noqa: E402
    from svcca_lens_export.cli import main  # noqa: E402

    class Net(nn.Module):
        """conv (N,4,6,6) -> relu(inplace) -> dropout -> fc (N,5) -> a tuple-returning head."""

        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3, padding=1)
            self.relu = nn.ReLU(inplace=True)
            self.drop = nn.Dropout(0.5)
            self.fc = nn.Linear(4 * 36, 5)
            self.head = PairHead()

        def forward(self, x):
            h = self.drop(self.relu(self.conv(x)))
            return self.head(self.fc(h.flatten(1)))

    class PairHead(nn.Module):
        def forward(self, x):
            return (x * 2, {"aux": x})

    class Boom(Exception):
        pass

    class Partial(nn.Module):
        """A module that forward never reaches."""

        def __init__(self) -> None:
            super().__init__()
            self.used = nn.Linear(3, 2)
            self.unused = nn.Linear(3, 2)

        def forward(self, x):
            return self.used(x)


@needs_torch
class Record(unittest.TestCase):
    def setUp(self) -> None:
        torch.manual_seed(0)
        self.net = Net()
        self.x = torch.randn(10, 1, 6, 6)

    def test_collects_per_layer_across_calls_as_float32(self):
        with record(self.net, ["conv", "fc", "head"]) as acts:
            self.net(self.x[:4])
            self.net(self.x[4:])
        self.assertEqual(list(acts), ["conv", "fc", "head"])
        self.assertEqual(acts["conv"].shape, (10, 4, 6, 6))
        self.assertEqual(acts["conv"].dtype, np.float32)
        self.assertEqual(acts["fc"].shape, (10, 5))
        self.assertEqual(acts.calls("head"), 2)
        with torch.no_grad():
            self.net.eval()
            conv = self.net.conv(self.x)
            fc = self.net.fc(torch.relu(conv).flatten(1))
        # the conv output is recorded before the in-place ReLU changed it
        np.testing.assert_allclose(acts["conv"], conv.numpy(), rtol=1e-6, atol=1e-6)
        self.assertTrue((acts["conv"] < 0).any())
        np.testing.assert_allclose(acts["fc"], fc.numpy(), rtol=1e-5, atol=1e-6)
        # a tuple output is recorded by its first tensor
        np.testing.assert_allclose(acts["head"], 2 * fc.numpy(), rtol=1e-5, atol=1e-6)

    def test_eval_mode_no_grad_and_restored(self):
        self.net.train()
        self.net.drop.eval()  # a mixed state must come back exactly
        seen = {}
        with record(self.net, "fc") as acts:
            seen["training"] = self.net.training
            seen["grad"] = torch.is_grad_enabled()
            a = self.net(self.x)
            b = self.net(self.x)
        self.assertEqual(seen, {"training": False, "grad": False})
        self.assertFalse(a[0].requires_grad)
        torch.testing.assert_close(a[0], b[0])  # dropout off
        self.assertTrue(self.net.training)
        self.assertFalse(self.net.drop.training)
        self.assertTrue(self.net.conv.training)
        self.assertTrue(torch.is_grad_enabled())
        self.assertEqual(acts["fc"].shape, (20, 5))
        self.assertEqual(self.hook_count(), 0)

    def hook_count(self) -> int:
        return sum(len(m._forward_hooks) for m in self.net.modules())

    def test_hooks_removed_on_exception(self):
        self.net.train()
        with self.assertRaises(Boom):
            with record(self.net, ["conv", "fc"]):
                self.net(self.x)
                raise Boom()
        self.assertEqual(self.hook_count(), 0)
        self.assertTrue(self.net.training)
        self.assertTrue(torch.is_grad_enabled())

    def test_selection_by_pattern(self):
        with record(self.net, re.compile(r"conv|fc")) as acts:
            self.net(self.x)
        self.assertEqual(list(acts), ["conv", "fc"])
        with record(self.net, r"(conv|relu)") as acts:
            self.net(self.x)
        self.assertEqual(list(acts), ["conv", "relu"])

    def test_selection_errors(self):
        with self.assertRaisesRegex(ValueError, r"no module named 'nope' \(modules: conv, relu, drop, fc, head\)"):
            with record(self.net, ["conv", "nope"]):
                pass
        with self.assertRaisesRegex(ValueError, "matches no module name"):
            with record(self.net, r"xyz\d"):
                pass
        with self.assertRaisesRegex(ValueError, "listed twice"):
            with record(self.net, ["fc", "fc"]):
                pass
        self.assertEqual(self.hook_count(), 0)

    def test_unreached_layer(self):
        with record(self.net, ["fc"]) as acts:
            pass
        with self.assertRaisesRegex(KeyError, "produced no output"):
            acts["fc"]


@needs_torch
class Export(unittest.TestCase):
    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self._tmp.name)
        torch.manual_seed(0)
        self.x = torch.randn(12, 1, 6, 6)
        self.states = {}
        for step in (0, 5, 20):
            torch.manual_seed(step)
            self.states[step] = Net().state_dict()

    def tearDown(self) -> None:
        self._tmp.cleanup()

    def expected(self, step: int) -> dict:
        net = Net()
        net.load_state_dict(self.states[step])
        return probe(net, self.x, ["conv", "fc"])

    def test_paths_state_dicts_and_callables(self):
        torch.save(self.states[0], self.dir / "s0.pt")
        torch.save({"epoch": 3, "model_state_dict": self.states[5]}, self.dir / "s5.pt")

        def load_20(model):
            model.load_state_dict(self.states[20])

        labels = np.arange(12) % 3
        path = export_checkpoints(
            Net,
            {0: self.dir / "s0.pt", 5: str(self.dir / "s5.pt"), 20: load_20},
            self.x,
            ["conv", "fc"],
            self.dir / "out.npz",
            labels=labels,
            batch_size=5,
            manifest={"provenance": {"note": "test"}},
        )
        bundle = load_bundle(path)
        self.assertEqual(sorted(bundle["entries"]), ["step_0/conv", "step_0/fc", "step_20/conv", "step_20/fc", "step_5/conv", "step_5/fc"])
        for step in (0, 5, 20):
            want = self.expected(step)
            for layer in ("conv", "fc"):
                got = bundle["entries"][f"step_{step}/{layer}"]
                self.assertEqual(got.dtype, np.float16)
                np.testing.assert_array_equal(got, want[layer].astype(np.float16))
        m = bundle["manifest"]
        self.assertEqual(m["layers"][0]["conv_layout"], "nchw")
        self.assertEqual(m["layers"][0]["conv_layout_source"], "given")
        self.assertEqual(m["provenance"]["note"], "test")
        self.assertEqual(m["provenance"]["model_class"], "Net")
        self.assertEqual(m["provenance"]["batch_size"], 5)
        self.assertEqual(m["provenance"]["checkpoints"]["0"], str(self.dir / "s0.pt"))
        self.assertTrue(m["provenance"]["checkpoints"]["20"].startswith("callable"))
        self.assertEqual(bundle["labels"].tolist(), labels.tolist())

    def test_runs_into_a_model_instance_which_is_restored(self):
        net = Net()
        before = {k: v.clone() for k, v in net.state_dict().items()}
        path = export_checkpoints(
            net,
            {"seed0": {0: self.states[0], 5: self.states[5]}, "seed1": [(0, self.states[20]), (5, self.states[5])]},
            self.x.numpy().astype(np.float64),  # float64 ndarray: cast to the parameters' dtype
            r"conv|fc",
            self.dir / "runs.npz",
            dtype="float32",
        )
        for k, v in net.state_dict().items():
            torch.testing.assert_close(v, before[k])
        bundle = load_bundle(path)
        self.assertEqual(bundle["manifest"]["runs"], ["seed0", "seed1"])
        np.testing.assert_allclose(bundle["entries"]["seed1/step_0/fc"], self.expected(20)["fc"], rtol=1e-5, atol=1e-6)
        self.assertEqual(bundle["entries"]["seed0/step_5/conv"].dtype, np.float32)

    def test_run_name_and_batches(self):
        batches = [self.x[:7], (self.x[7:],)]  # a tensor, and a tuple of positional arguments
        path = export_checkpoints(Net, {3: self.states[5]}, batches, ["fc"], self.dir / "r.npz", run="only")
        entries = load_bundle(path)["entries"]
        self.assertEqual(list(entries), ["only/step_3/fc"])
        np.testing.assert_array_equal(entries["only/step_3/fc"], self.expected(5)["fc"].astype(np.float16))

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, "does not fit the model"):
            export_checkpoints(Net, {0: {"fc.weight": torch.zeros(5, 144)}}, self.x, ["fc"], self.dir / "e.npz")
        with self.assertRaisesRegex(ValueError, "step -1 must be an integer >= 0"):
            export_checkpoints(Net, {-1: self.states[0]}, self.x, ["fc"], self.dir / "e.npz")
        with self.assertRaisesRegex(ValueError, "run= names a single run"):
            export_checkpoints(Net, {"a": {0: self.states[0]}}, self.x, ["fc"], self.dir / "e.npz", run="b")
        with self.assertRaisesRegex(ValueError, "'unused' produced no output"):
            export_checkpoints(Partial, {0: Partial().state_dict()}, torch.randn(4, 3), ["used", "unused"], self.dir / "e.npz")
        with self.assertRaisesRegex(ValueError, "batch_size"):
            export_checkpoints(Net, {0: self.states[0]}, self.x, ["fc"], self.dir / "e.npz", batch_size=0)
        self.assertFalse((self.dir / "e.npz").exists())

    def test_export_command(self):
        module = self.dir / "spec_mod.py"
        module.write_text(
            textwrap.dedent(
                """
                import torch
                from torch import nn

                class Small(nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.a = nn.Linear(3, 4)
                        self.b = nn.Linear(4, 2)
                    def forward(self, x):
                        return self.b(torch.relu(self.a(x)))

                def setup():
                    torch.manual_seed(1)
                    return {"model": Small, "inputs": torch.randn(9, 3), "labels": [0, 1, 2] * 3}
                """
            )
        )
        for step in (0, 7):
            torch.manual_seed(step)
            sys.path.insert(0, str(self.dir))
            import spec_mod  # noqa: E402

            torch.save(spec_mod.Small().state_dict(), self.dir / f"ckpt_{step}.pt")
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(
                [
                    "export", "spec_mod:setup", "--path", str(self.dir), "--checkpoints", str(self.dir / "ckpt_*.pt"),
                    "--layers", "a", "b", "--run", "r0", "-o", str(self.dir / "cmd.npz"), "--provenance", "lr=0.1",
                ]
            )
        self.assertEqual(code, 0, err.getvalue())
        bundle = load_bundle(self.dir / "cmd.npz")
        self.assertEqual(sorted(bundle["entries"]), ["r0/step_0/a", "r0/step_0/b", "r0/step_7/a", "r0/step_7/b"])
        self.assertEqual(bundle["manifest"]["provenance"]["spec"], "spec_mod:setup")
        self.assertEqual(bundle["manifest"]["provenance"]["lr"], 0.1)
        self.assertEqual(bundle["labels"].tolist(), [0, 1, 2] * 3)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main(["export", "spec_mod:nothing", "--path", str(self.dir), "--checkpoint", f"0={self.dir / 'ckpt_0.pt'}", "--layers", "a", "-o", str(self.dir / "x.npz")])
        self.assertEqual(code, 2)
        self.assertIn("has no function 'nothing'", err.getvalue())


if __name__ == "__main__":
    unittest.main()
