"""The committed round-trip fixture (read by test/python/roundtrip.test.ts) is what the current
writer produces: same .npy members byte for byte, same manifest (but for the numpy version)."""

from __future__ import annotations

import json
import sys
import tempfile
import unittest
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "python"))

import make_roundtrip_fixture  # noqa: E402

FIXTURES = ROOT / "test" / "fixtures" / "python"


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def manifest_without_numpy(raw: bytes) -> dict:
    document = json.loads(raw.decode("utf-8"))
    document["writer"].pop("numpy", None)
    return document


@unittest.skipUnless((FIXTURES / "roundtrip.npz").exists(), "the round-trip fixture is not in this checkout")
class CommittedFixture(unittest.TestCase):
    def test_fixture_is_up_to_date(self):
        with tempfile.TemporaryDirectory() as tmp:
            npz, expected = make_roundtrip_fixture.write(Path(tmp))
            fresh, committed = members(npz), members(FIXTURES / "roundtrip.npz")
            self.assertEqual(list(fresh), list(committed), "member names or order changed: rerun python/tests/make_roundtrip_fixture.py")
            for name in fresh:
                if name == "manifest.json":
                    self.assertEqual(manifest_without_numpy(fresh[name]), manifest_without_numpy(committed[name]))
                else:
                    self.assertEqual(fresh[name], committed[name], f"{name} changed: rerun python/tests/make_roundtrip_fixture.py")
            self.assertEqual(
                json.loads(expected.read_text()),
                json.loads((FIXTURES / "roundtrip.expected.json").read_text()),
            )


if __name__ == "__main__":
    unittest.main()
