"""save_bundle / load_bundle with numpy alone: member names, manifest, dtypes, validation."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import unittest
import warnings
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from svcca_lens_export import load_bundle, parse_member, save_bundle  # noqa: E402
from svcca_lens_export._bundle import guess_conv_layout  # noqa: E402


def steps_data(n: int = 6, steps=(0, 10, 2)) -> dict:
    rng = np.random.default_rng(0)
    return {s: {"conv1": rng.normal(size=(n, 3, 4, 4)), "fc.out": rng.normal(size=(n, 5))} for s in steps}


class TempDir(unittest.TestCase):
    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self._tmp.name)

    def tearDown(self) -> None:
        self._tmp.cleanup()


class MemberNames(TempDir):
    def test_steps_layout_is_stored_npz_with_manifest_member(self):
        path = save_bundle(self.dir / "b.npz", steps_data(), labels=[0, 1, 2, 0, 1, 2])
        self.assertEqual(path, self.dir / "b.npz")
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            infos = archive.infolist()
        # labels first, steps ascending numerically (2 before 10), layers in the order given, manifest last
        self.assertEqual(
            names,
            [
                "labels.npy",
                "step_0/conv1.npy",
                "step_0/fc.out.npy",
                "step_2/conv1.npy",
                "step_2/fc.out.npy",
                "step_10/conv1.npy",
                "step_10/fc.out.npy",
                "manifest.json",
            ],
        )
        self.assertTrue(all(i.compress_type == zipfile.ZIP_STORED for i in infos))
        # np.load sees the arrays under their member names
        with np.load(path) as npz:
            self.assertIn("step_10/fc.out", npz.files)
            self.assertEqual(npz["step_10/fc.out"].shape, (6, 5))

    def test_run_layout(self):
        data = {"seed0": steps_data(steps=(0, 5)), "seed/1": steps_data(steps=(0, 5))}
        path = save_bundle(self.dir / "runs", data)
        self.assertEqual(path.name, "runs.npz")  # .npz appended, as np.savez does
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        self.assertEqual(names[:2], ["seed0/step_0/conv1.npy", "seed0/step_0/fc.out.npy"])
        self.assertIn("seed/1/step_5/fc.out.npy", names)
        self.assertNotIn("labels.npy", names)
        manifest = load_bundle(path)["manifest"]
        self.assertEqual(manifest["runs"], ["seed0", "seed/1"])
        self.assertEqual(manifest["member_pattern"], "<run>/step_<N>/<layer>")
        for member in load_bundle(path)["entries"]:
            self.assertIsNotNone(parse_member(member))

    def test_step_keys_may_be_step_strings(self):
        path = save_bundle(self.dir / "s.npz", {"step_3": {"a": np.ones((4, 2))}, 7: {"a": np.zeros((4, 2))}})
        self.assertEqual(sorted(load_bundle(path)["entries"]), ["step_3/a", "step_7/a"])

    def test_parse_member_matches_the_app(self):
        self.assertEqual(parse_member("step_10/block1/conv"), (None, 10, "block1/conv"))
        self.assertEqual(parse_member("runs/a/step_2/fc"), ("runs/a", 2, "fc"))
        self.assertEqual(parse_member("a/step_2/b/step_3/c"), ("a", 2, "b/step_3/c"))
        self.assertIsNone(parse_member("step_1"))
        self.assertIsNone(parse_member("stray"))
        self.assertIsNone(parse_member("a//step_1/x"))

    def test_same_input_same_bytes(self):
        data = steps_data()
        a = save_bundle(self.dir / "a.npz", data, manifest={"created": "fixed"})
        b = save_bundle(self.dir / "b.npz", data, manifest={"created": "fixed"})
        self.assertEqual(a.read_bytes(), b.read_bytes())

    def test_compress_deflates_the_arrays_only(self):
        data = {0: {"relu": np.maximum(np.random.default_rng(0).normal(size=(200, 32)), 0)}}
        stored = save_bundle(self.dir / "s.npz", data, labels=np.arange(200) % 4)
        deflated = save_bundle(self.dir / "d.npz", data, labels=np.arange(200) % 4, compress=True)
        with zipfile.ZipFile(deflated) as archive:
            methods = {i.filename: i.compress_type for i in archive.infolist()}
        self.assertEqual(methods, {"labels.npy": zipfile.ZIP_DEFLATED, "step_0/relu.npy": zipfile.ZIP_DEFLATED, "manifest.json": zipfile.ZIP_STORED})
        self.assertLess(deflated.stat().st_size, 0.8 * stored.stat().st_size)
        with np.load(deflated) as npz:
            np.testing.assert_array_equal(npz["step_0/relu"], data[0]["relu"].astype(np.float16))

    def test_overwrites_and_leaves_no_partial_file(self):
        path = save_bundle(self.dir / "x.npz", steps_data())
        save_bundle(path, {0: {"only": np.ones((3, 2))}})
        self.assertEqual(list(load_bundle(path)["entries"]), ["step_0/only"])
        with self.assertRaises(ValueError):
            save_bundle(path, {0: {"bad": np.array([[np.nan, 1.0]])}})
        self.assertEqual(sorted(p.name for p in self.dir.iterdir()), ["x.npz"])


class Manifest(TempDir):
    def test_contents(self):
        labels = np.array([3, 1, 3, 0, 1, 3])
        path = save_bundle(
            self.dir / "m.npz",
            steps_data(),
            labels=labels,
            layout="nchw",
            manifest={"provenance": {"model": "toy", "seed": np.int64(4), "lr": np.float32(0.5)}, "note": "hello"},
        )
        m = load_bundle(path)["manifest"]
        self.assertEqual(m["format"], "svcca-lens-bundle")
        self.assertEqual(m["format_version"], 1)
        self.assertEqual(m["writer"]["name"], "svcca_lens_export")
        self.assertRegex(m["writer"]["version"], r"^\d+\.\d+\.\d+")
        self.assertEqual(m["runs"], [])
        self.assertEqual(m["member_pattern"], "step_<N>/<layer>")
        self.assertEqual(m["steps"], [0, 2, 10])
        self.assertEqual(m["datapoints"], 6)
        self.assertEqual(m["dtype"], "float16")
        self.assertEqual(
            m["layers"],
            [
                {"name": "conv1", "shape": [6, 3, 4, 4], "dtype": "float16", "layout": "datapoints-first", "conv_layout": "nchw", "conv_layout_source": "given"},
                {"name": "fc.out", "shape": [6, 5], "dtype": "float16", "layout": "datapoints-first"},
            ],
        )
        self.assertEqual(m["labels"], {"member": "labels", "dtype": "int32", "count": 6, "classes": [0, 1, 3], "class_counts": [1, 2, 3]})
        self.assertEqual(m["provenance"], {"model": "toy", "seed": 4, "lr": 0.5})
        self.assertEqual(m["note"], "hello")
        self.assertNotIn("missing", m)
        self.assertRegex(m["created"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_manifest_is_a_real_zip_member_of_json(self):
        path = save_bundle(self.dir / "m.npz", steps_data())
        with zipfile.ZipFile(path) as archive:
            text = archive.read("manifest.json").decode("utf-8")
        self.assertEqual(json.loads(text)["steps"], [0, 2, 10])

    def test_layout_per_layer_and_guessed(self):
        rng = np.random.default_rng(1)
        data = {0: {"nhwc": rng.normal(size=(5, 4, 4, 3)), "nchw": rng.normal(size=(5, 3, 4, 4)), "seq": rng.normal(size=(5, 7, 2))}}
        m = load_bundle(save_bundle(self.dir / "a.npz", data))["manifest"]
        layers = {l["name"]: l for l in m["layers"]}
        self.assertEqual((layers["nhwc"]["conv_layout"], layers["nhwc"]["conv_layout_source"]), ("nhwc", "guessed"))
        self.assertEqual((layers["nchw"]["conv_layout"], layers["nchw"]["conv_layout_source"]), ("nchw", "guessed"))
        self.assertNotIn("conv_layout", layers["seq"])
        m = load_bundle(save_bundle(self.dir / "b.npz", data, layout={"nchw": "nhwc"}))["manifest"]
        self.assertEqual({l["name"]: l.get("conv_layout_source") for l in m["layers"]}["nchw"], "given")

    def test_ambiguous_conv_layout_warns(self):
        data = {0: {"c": np.ones((5, 8, 8, 8))}}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            save_bundle(self.dir / "a.npz", data)
        self.assertTrue(any("NCHW from NHWC" in str(w.message) for w in caught))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            save_bundle(self.dir / "b.npz", data, layout="nchw")

    def test_guess_matches_the_app_rule(self):
        self.assertEqual(guess_conv_layout((1, 8, 8, 3)), ("nhwc", True))
        self.assertEqual(guess_conv_layout((1, 3, 8, 8)), ("nchw", True))
        self.assertEqual(guess_conv_layout((1, 4, 6, 16)), ("nhwc", False))
        self.assertEqual(guess_conv_layout((1, 8, 8, 8)), ("nchw", False))

    def test_missing_entries_are_listed(self):
        data = {0: {"a": np.ones((3, 2)), "b": np.ones((3, 2))}, 1: {"a": np.ones((3, 2))}}
        m = load_bundle(save_bundle(self.dir / "a.npz", data))["manifest"]
        self.assertEqual(m["missing"], [{"run": None, "step": 1, "layer": "b"}])

    def test_string_labels_become_class_indices(self):
        path = save_bundle(self.dir / "a.npz", {0: {"a": np.ones((4, 2))}}, labels=["cat", "dog", "cat", "ant"])
        bundle = load_bundle(path)
        self.assertEqual(bundle["labels"].dtype, np.int32)
        self.assertEqual(bundle["labels"].tolist(), [1, 2, 1, 0])
        self.assertEqual(bundle["manifest"]["labels"]["names"], ["ant", "cat", "dog"])

    def test_generated_keys_cannot_be_overridden(self):
        with self.assertRaisesRegex(ValueError, "'steps'.*cannot be set"):
            save_bundle(self.dir / "a.npz", steps_data(), manifest={"steps": [1]})
        with self.assertRaisesRegex(ValueError, "JSON"):
            save_bundle(self.dir / "a.npz", steps_data(), manifest={"provenance": {"f": object()}})


class Dtypes(TempDir):
    def test_float16_default_and_float32(self):
        data = {0: {"a": np.array([[1.0, 2.5], [1 / 3, -4.0]])}}
        b16 = load_bundle(save_bundle(self.dir / "h.npz", data, labels=np.array([1, 0], dtype=np.int64)))
        self.assertEqual(b16["entries"]["step_0/a"].dtype, np.float16)
        self.assertEqual(b16["labels"].dtype, np.int32)
        self.assertEqual(float(b16["entries"]["step_0/a"][1, 0]), float(np.float16(1 / 3)))
        b32 = load_bundle(save_bundle(self.dir / "f.npz", data, dtype="float32"))
        self.assertEqual(b32["entries"]["step_0/a"].dtype, np.float32)
        self.assertEqual(b32["manifest"]["dtype"], "float32")
        self.assertEqual(float(b32["entries"]["step_0/a"][1, 0]), float(np.float32(1 / 3)))

    def test_integer_and_bool_activations_are_cast(self):
        b = load_bundle(save_bundle(self.dir / "i.npz", {0: {"a": np.arange(6).reshape(3, 2), "b": np.eye(3, dtype=bool)}}))
        self.assertEqual(b["entries"]["step_0/a"].dtype, np.float16)
        self.assertEqual(b["entries"]["step_0/b"].tolist(), np.eye(3).tolist())

    def test_other_dtypes_refused(self):
        for dtype in ("float64", "int8", "bfloat"):
            with self.assertRaisesRegex(ValueError, "float16' or 'float32"):
                save_bundle(self.dir / "x.npz", steps_data(), dtype=dtype)

    def test_float16_overflow_refused(self):
        with self.assertRaisesRegex(ValueError, r"step_0/a: largest magnitude 70000 does not fit float16.*float32"):
            save_bundle(self.dir / "x.npz", {0: {"a": np.array([[1.0], [70000.0]])}})
        save_bundle(self.dir / "x.npz", {0: {"a": np.array([[1.0], [70000.0]])}}, dtype="float32")


class Validation(TempDir):
    def check(self, data, pattern, **kwargs):
        with self.assertRaisesRegex(ValueError, pattern):
            save_bundle(self.dir / "x.npz", data, **kwargs)
        self.assertFalse((self.dir / "x.npz").exists())

    def test_datapoint_counts(self):
        self.check(
            {0: {"a": np.ones((5, 2)), "b": np.ones((4, 2))}},
            r"step_0/b: has 4 datapoints \(shape \(4, 2\)\) but step_0/a has 5",
        )
        self.check({"r1": {0: {"a": np.ones((5, 2))}}, "r2": {0: {"a": np.ones((6, 2))}}}, r"r2/step_0/a: has 6 datapoints")

    def test_finite(self):
        bad = np.ones((4, 3))
        bad[1, 2] = np.inf
        bad[0, 0] = np.nan
        self.check({3: {"a": bad}}, r"step_3/a: 2 of 12 values are NaN or infinite")

    def test_steps(self):
        self.check({-1: {"a": np.ones((2, 2))}}, r"step -1 is negative")
        self.check({"r": {1.5: {"a": np.ones((2, 2))}}}, r"step 1.5 must be an integer")
        self.check({"r": {"ten": {"a": np.ones((2, 2))}}}, r"step 'ten' is not an integer")
        self.check({True: {"a": np.ones((2, 2))}}, r"run name True must be a string")
        self.check({"r": {0: {"a": np.ones((2, 2))}, "step_0": {"a": np.ones((2, 2))}}}, r"step 0 is given twice")
        self.check({2**60: {"a": np.ones((2, 2))}}, r"larger than 2\*\*53")

    def test_names(self):
        self.check({0: {"": np.ones((2, 2))}}, r"layer name is empty")
        self.check({0: {"a//b": np.ones((2, 2))}}, r"has an empty part")
        self.check({0: {"/a": np.ones((2, 2))}}, r"has an empty part")
        self.check({0: {"a/": np.ones((2, 2))}}, r"has an empty part")
        self.check({0: {"a\\b": np.ones((2, 2))}}, r"backslash")
        self.check({0: {"../a": np.ones((2, 2))}}, r"'\.' or '\.\.' part")
        self.check({"run/": {0: {"a": np.ones((2, 2))}}}, r"run name 'run/' has an empty part")
        self.check({"x/step_3": {0: {"a": np.ones((2, 2))}}}, r"run name 'x/step_3' has a part like 'step_<N>'")
        self.check({0: {3: np.ones((2, 2))}}, r"layer name 3 must be a string")

    def test_structure(self):
        self.check({}, r"data is empty")
        self.check([np.ones((2, 2))], r"data must be a dict")
        self.check({0: {"a": np.ones((2, 2))}, "r": {0: {"a": np.ones((2, 2))}}}, r"mixes step keys")
        self.check({"r": {}}, r"run 'r': has no steps")
        self.check({0: {}}, r"step_0: has no layers")
        self.check({0: np.ones((2, 2))}, r"step_0: expected a dict")
        self.check({0: {"a": np.float32(3)}}, r"step_0/a: is a scalar")
        self.check({0: {"a": np.ones((0, 3))}}, r"has no datapoints")
        self.check({0: {"a": np.array([["x"], ["y"]])}}, r"not a real number type")
        self.check({0: {"a": np.ones((2, 2), dtype=complex)}}, r"not a real number type")

    def test_shape_change_within_a_run(self):
        self.check({0: {"a": np.ones((3, 2))}, 1: {"a": np.ones((3, 4))}}, r"step_1/a: shape \(3, 4\) differs from \(3, 2\) at step_0/a")

    def test_shape_may_differ_between_runs(self):
        path = save_bundle(self.dir / "w.npz", {"narrow": {0: {"a": np.ones((3, 2))}}, "wide": {0: {"a": np.ones((3, 8))}}})
        layer = load_bundle(path)["manifest"]["layers"][0]
        self.assertEqual(layer["shape_by_run"], {"narrow": [3, 2], "wide": [3, 8]})

    def test_labels(self):
        data = {0: {"a": np.ones((3, 2))}}
        self.check(data, r"labels: has 2 entries but the arrays have 3 datapoints", labels=[0, 1])
        self.check(data, r"labels: must be 1-D", labels=np.zeros((3, 1)))
        self.check(data, r"labels: float labels must be whole numbers", labels=[0.5, 1, 2])
        self.check(data, r"labels: values do not fit int32", labels=np.array([0, 1, 2**40]))

    def test_layout_argument(self):
        data = {0: {"c": np.ones((3, 2, 4, 4)), "d": np.ones((3, 2))}}
        self.check(data, r"layout must be 'nchw', 'nhwc'", layout="chw")
        self.check(data, r"layout: no layer named 'x'", layout={"x": "nchw"})
        self.check(data, r"layout: layer 'd' is not 4-D", layout={"d": "nchw"})


if __name__ == "__main__":
    unittest.main()
