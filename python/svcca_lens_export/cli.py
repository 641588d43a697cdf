"""Command line: ``python -m svcca_lens_export {pack,export,inspect} ...``.

- ``pack FOLDER -o OUT.npz``: a folder of ``[<run>/]step_<N>/<layer>.npy`` files (plus optional
  ``labels.npy`` and ``manifest.json`` at the top) -> one bundle. numpy only.
- ``export module:function -o OUT.npz --checkpoint STEP=PATH ... --layers ...``: calls the function
  (it returns the model or a model factory, the probe inputs and optionally labels) and runs
  export_checkpoints. Needs PyTorch.
- ``inspect BUNDLE.npz``: lists runs, steps, layers, shapes, labels and provenance.

Errors print one line, ``svcca-lens-export: what is wrong``, and exit with status 2.
"""

from __future__ import annotations

import argparse
import glob
import importlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ._bundle import load_bundle, parse_member, save_bundle
from ._version import __version__

PROG = "svcca-lens-export"


class UsageError(Exception):
    """A problem with the command line or its inputs, reported in one line."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except (UsageError, ValueError, ImportError, FileNotFoundError) as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m svcca_lens_export",
        description="Write activations as SVCCA Lens bundles: one .npz with [<run>/]step_<N>/<layer> members, "
        "labels and a manifest.json, read by the SVCCA Lens app and `svcca-lens dynamics` / `cross`.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    pack = sub.add_parser(
        "pack",
        help="pack a folder of [<run>/]step_<N>/<layer>.npy files into one bundle (numpy only)",
        description="Pack FOLDER, laid out [<run>/]step_<N>/<layer>.npy (layer names may contain '/'; "
        "labels.npy and manifest.json at the top are optional), into one uncompressed .npz bundle.",
    )
    pack.add_argument("folder", help="the folder to pack")
    pack.add_argument("-o", "--output", required=True, help="the .npz to write")
    _common_options(pack)
    pack.add_argument("--labels", help="a .npy of per-datapoint labels (default: FOLDER/labels.npy if present)")
    pack.set_defaults(func=run_pack)

    export = sub.add_parser(
        "export",
        help="run export_checkpoints from a Python entry point (needs PyTorch)",
        description="Import SPEC ('package.module:function'), call it, and export every checkpoint. The function "
        "returns (model_or_factory, inputs) or (model_or_factory, inputs, labels), or a dict with keys "
        "'model', 'inputs' and optionally 'labels'.",
    )
    export.add_argument("spec", help="module:function returning the model (or a factory), the probe inputs and labels")
    export.add_argument("-o", "--output", required=True, help="the .npz to write")
    export.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="STEP=PATH",
        help="a checkpoint saved by torch.save and its step (repeat)",
    )
    export.add_argument(
        "--checkpoints",
        metavar="GLOB",
        help="checkpoint files; each step is the last number in the file name (e.g. 'ckpt/step_*.pt')",
    )
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("--layers", nargs="+", metavar="NAME", help="module names as in model.named_modules()")
    which.add_argument("--pattern", metavar="REGEX", help="a regex matched in full against module names")
    export.add_argument("--run", help="name of the run (members become <run>/step_<N>/<layer>)")
    export.add_argument("--batch-size", type=int, default=256, help="probe batch size (default 256)")
    export.add_argument("--device", help="torch device (default: where the model's parameters are)")
    export.add_argument("--path", action="append", default=[], metavar="DIR", help="added to sys.path before importing SPEC (default: .)")
    export.add_argument("--trust-checkpoints", action="store_true", help="torch.load with weights_only=False (only for files you trust)")
    _common_options(export, layout_default="nchw")
    export.set_defaults(func=run_export)

    inspect = sub.add_parser("inspect", help="list what a bundle holds", description="List runs, steps, layers, labels and provenance.")
    inspect.add_argument("bundle", help="a .npz bundle")
    inspect.add_argument("--json", action="store_true", help="print the manifest as JSON")
    inspect.set_defaults(func=run_inspect)
    return parser


def _common_options(parser: argparse.ArgumentParser, layout_default: str | None = None) -> None:
    parser.add_argument("--dtype", choices=("float16", "float32"), default="float16", help="dtype in the file (default float16)")
    parser.add_argument(
        "--layout",
        choices=("nchw", "nhwc"),
        default=layout_default,
        help="conv layout of 4-D arrays" + (" (default nchw)" if layout_default else " (default: guessed from equal height and width)"),
    )
    parser.add_argument("--compress", action="store_true", help="deflate the arrays (np.savez_compressed style; default: stored, as np.savez)")
    parser.add_argument("--provenance", action="append", default=[], metavar="KEY=VALUE", help="a provenance field for the manifest (repeat)")


def _provenance(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise UsageError(f"--provenance {pair!r}: expected KEY=VALUE")
        key, value = pair.split("=", 1)
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


# ----------------------------------------------------------------------------------------------
# pack


def scan_folder(folder: str | os.PathLike) -> tuple[dict, Path | None, Path | None]:
    """FOLDER -> ({run|None: {step: {layer: path}}}, labels.npy or None, manifest.json or None)."""
    root = Path(folder)
    if not root.is_dir():
        raise UsageError(f"{root}: is not a folder")
    found: dict[str | None, dict[int, dict[str, Path]]] = {}
    unmatched: list[str] = []
    labels = manifest = None
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel == "labels.npy":
            labels = path
        elif rel == "manifest.json":
            manifest = path
        elif rel.endswith(".npy") and (where := parse_member(rel[: -len(".npy")])) is not None:
            run, step, layer = where
            found.setdefault(run, {}).setdefault(step, {})[layer] = path
        else:
            unmatched.append(rel)
    if unmatched:
        shown = ", ".join(unmatched[:10]) + (f" and {len(unmatched) - 10} more" if len(unmatched) > 10 else "")
        raise UsageError(f"{root}: files that follow no [<run>/]step_<N>/<layer>.npy convention: {shown}")
    if not found:
        raise UsageError(f"{root}: no [<run>/]step_<N>/<layer>.npy files found")
    if None in found and len(found) > 1:
        runs = sorted(r for r in found if r is not None)
        raise UsageError(f"{root}: mixes step_<N>/ folders at the top with run folders ({', '.join(runs)})")
    return found, labels, manifest


def _natural(key: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", key)]


def run_pack(args: argparse.Namespace) -> int:
    found, labels_path, manifest_path = scan_folder(args.folder)
    if args.labels:
        labels_path = Path(args.labels)

    def arrays(by_step: dict[int, dict[str, Path]]) -> dict[int, dict[str, np.ndarray]]:
        # Memory-mapped: only what is being written is read. Layers sort naturally (conv2 < conv10).
        return {
            step: {layer: np.load(p, mmap_mode="r", allow_pickle=False) for layer, p in sorted(layers.items(), key=lambda kv: _natural(kv[0]))}
            for step, layers in by_step.items()
        }

    if list(found) == [None]:
        data: dict = arrays(found[None])
    else:
        data = {run: arrays(by_step) for run, by_step in sorted(found.items(), key=lambda kv: _natural(kv[0]))}
    labels = np.load(labels_path, allow_pickle=False) if labels_path else None
    extra: dict[str, Any] = {}
    if manifest_path:
        try:
            extra = json.loads(manifest_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise UsageError(f"{manifest_path}: is not valid JSON ({error})") from error
        if not isinstance(extra, dict):
            raise UsageError(f"{manifest_path}: must hold a JSON object")
    provenance = {**(extra.pop("provenance", {}) or {}), "packed_from": os.fspath(args.folder), **_provenance(args.provenance)}
    extra["provenance"] = provenance
    out = save_bundle(args.output, data, labels=labels, layout=args.layout, manifest=extra, dtype=args.dtype, compress=args.compress)
    _summary(out)
    return 0


# ----------------------------------------------------------------------------------------------
# export


def _load_spec(spec: str, paths: list[str]):
    if ":" not in spec:
        raise UsageError(f"{spec!r}: expected 'module:function'")
    module_name, function_name = spec.split(":", 1)
    for entry in reversed(paths or ["."]):
        resolved = os.path.abspath(entry)
        if resolved not in sys.path:
            sys.path.insert(0, resolved)
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UsageError(f"{spec}: cannot import {module_name!r} ({error})") from error
    function = getattr(module, function_name, None)
    if not callable(function):
        raise UsageError(f"{spec}: {module_name} has no function {function_name!r}")
    result = function()
    if isinstance(result, dict):
        if "model" not in result or "inputs" not in result:
            raise UsageError(f"{spec}: the returned dict needs 'model' and 'inputs' keys (has {sorted(result)})")
        return result["model"], result["inputs"], result.get("labels")
    if isinstance(result, tuple) and len(result) in (2, 3):
        return result[0], result[1], result[2] if len(result) == 3 else None
    raise UsageError(f"{spec}: must return (model, inputs[, labels]) or a dict with 'model' and 'inputs'")


def _checkpoint_plan(args: argparse.Namespace) -> dict[int, str]:
    plan: dict[int, str] = {}
    for item in args.checkpoint:
        if "=" not in item:
            raise UsageError(f"--checkpoint {item!r}: expected STEP=PATH")
        step_text, path = item.split("=", 1)
        if not step_text.isdigit():
            raise UsageError(f"--checkpoint {item!r}: the step must be an integer >= 0")
        plan[int(step_text)] = path
    if args.checkpoints:
        files = sorted(glob.glob(args.checkpoints))
        if not files:
            raise UsageError(f"--checkpoints {args.checkpoints!r}: matches no file")
        for path in files:
            numbers = re.findall(r"\d+", Path(path).stem)
            if not numbers:
                raise UsageError(f"{path}: no number in the file name to take as the step")
            step = int(numbers[-1])
            if step in plan:
                raise UsageError(f"{path}: step {step} is also {plan[step]}")
            plan[step] = path
    if not plan:
        raise UsageError("no checkpoints: give --checkpoint STEP=PATH (repeat) or --checkpoints GLOB")
    for path in plan.values():
        if not Path(path).is_file():
            raise UsageError(f"{path}: no such file")
    return dict(sorted(plan.items()))


def run_export(args: argparse.Namespace) -> int:
    try:
        import torch  # noqa: F401
    except ImportError as error:
        raise UsageError("export needs PyTorch (pip install torch); 'pack' works with numpy alone") from error
    from ._torch import export_checkpoints

    plan = _checkpoint_plan(args)
    model, inputs, labels = _load_spec(args.spec, args.path)
    layers = args.layers if args.layers else re.compile(args.pattern)
    provenance = {"spec": args.spec, **_provenance(args.provenance)}
    out = export_checkpoints(
        model,
        plan,
        inputs,
        layers,
        args.output,
        labels=labels,
        run=args.run,
        dtype=args.dtype,
        batch_size=args.batch_size,
        device=args.device,
        layout=args.layout,
        manifest={"provenance": provenance},
        weights_only=not args.trust_checkpoints,
        compress=args.compress,
    )
    _summary(out)
    return 0


# ----------------------------------------------------------------------------------------------
# inspect


def _summary(path: Path) -> None:
    size = path.stat().st_size
    bundle = load_bundle(path)
    manifest = bundle["manifest"] or {}
    runs = manifest.get("runs") or ["(unnamed)"]
    print(
        f"wrote {path} ({size / 1e6:.2f} MB): {len(runs)} run(s), {len(manifest.get('steps', []))} step(s), "
        f"{len(manifest.get('layers', []))} layer(s), {manifest.get('datapoints')} datapoints, {manifest.get('dtype')}"
    )


def run_inspect(args: argparse.Namespace) -> int:
    path = Path(args.bundle)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    try:
        bundle = load_bundle(path)
    except Exception as error:
        raise UsageError(f"{path}: cannot be read as a bundle ({error})") from error
    manifest = bundle["manifest"]
    if args.json:
        print(json.dumps(manifest, indent=1))
        return 0
    entries = bundle["entries"]
    runs: list[str | None] = []
    steps: set[int] = set()
    layers: dict[str, tuple] = {}
    for member, array in entries.items():
        run, step, layer = parse_member(member)  # type: ignore[misc]
        if run not in runs:
            runs.append(run)
        steps.add(step)
        layers.setdefault(layer, (tuple(array.shape), array.dtype.str))
    print(f"{path} ({path.stat().st_size / 1e6:.2f} MB)")
    print(f"runs: {', '.join('(unnamed)' if r is None else r for r in runs)}")
    print(f"steps: {', '.join(str(s) for s in sorted(steps))}")
    print("layers:")
    for name, (shape, dtype) in layers.items():
        extra = ""
        if manifest:
            info = next((l for l in manifest.get("layers", []) if l.get("name") == name), {})
            if "conv_layout" in info:
                extra = f"  {info['conv_layout']} ({info.get('conv_layout_source', '')})"
        print(f"  {name}  {shape}  {dtype}{extra}")
    labels = bundle["labels"]
    print(f"labels: {'none' if labels is None else f'{labels.shape[0]} ({len(np.unique(labels))} classes)'}")
    if bundle["unmatched"]:
        print(f"unmatched: {', '.join(bundle['unmatched'])}")
    if manifest is None:
        print("manifest: none")
    else:
        print(f"writer: {manifest.get('writer', {}).get('name')} {manifest.get('writer', {}).get('version')}")
        provenance = manifest.get("provenance") or {}
        for key, value in provenance.items():
            text = json.dumps(value)
            print(f"provenance.{key}: {text if len(text) <= 100 else text[:97] + '...'}")
    return 0
