"""Writing and reading SVCCA Lens bundles with numpy alone.

A bundle is one uncompressed .npz (what ``np.savez`` writes: a zip of stored .npy members with
zip64 local headers) holding

- ``step_<N>/<layer>.npy``, or ``<run>/step_<N>/<layer>.npy`` when the bundle has named runs:
  activations of one layer at one checkpoint, **datapoints first** as the network produced them:
  ``(N, F)`` dense, ``(N, C, H, W)`` or ``(N, H, W, C)`` conv, ``(N, T, D)`` sequences;
- ``labels.npy`` (optional): one int32 label per datapoint;
- ``manifest.json``: a real zip member (not an array) describing runs, steps, layers, the datapoint
  count, labels and free-form provenance.

Every array holds the same N datapoints in the same order (the probe set), which is what makes
layers and checkpoints comparable. ``np.load(path)`` reads the arrays back; the app and the
``svcca-lens`` CLI read all of it.
"""

from __future__ import annotations

import datetime as _dt
import json
import numbers
import os
import re
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__

STEP_SEGMENT = re.compile(r"^step_(\d+)$")
#: Largest step the JavaScript reader represents exactly (Number.MAX_SAFE_INTEGER).
MAX_STEP = 2**53 - 1
#: float16 rounds anything at or above this magnitude to infinity.
FLOAT16_OVERFLOW = 65520.0
#: Zip timestamps are fixed so that the same arrays always give the same bytes.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
#: Manifest keys the writer owns; a user manifest may add others (and "created", "provenance").
GENERATED_KEYS = (
    "format",
    "format_version",
    "writer",
    "member_pattern",
    "runs",
    "steps",
    "layers",
    "datapoints",
    "dtype",
    "labels",
    "missing",
)

class Entry:
    """One array of a bundle: ``layer`` at ``step`` of ``run`` (run is None for unnamed runs)."""

    __slots__ = ("run", "step", "layer", "array")

    def __init__(self, run: str | None, step: int, layer: str, array: np.ndarray):
        self.run = run
        self.step = step
        self.layer = layer
        self.array = array

    @property
    def member(self) -> str:
        """The member name without ``.npy``: ``[<run>/]step_<N>/<layer>``."""
        prefix = "" if self.run is None else f"{self.run}/"
        return f"{prefix}step_{self.step}/{self.layer}"

    def where(self) -> str:
        """How error messages name the entry."""
        return self.member


# ----------------------------------------------------------------------------------------------
# Public API


def save_bundle(
    path: str | os.PathLike,
    data: Mapping,
    labels: Any = None,
    layout: str | Mapping[str, str] | None = None,
    manifest: Mapping | None = None,
    dtype: str | np.dtype = "float16",
    compress: bool = False,
) -> Path:
    """Writes activations into one SVCCA Lens bundle (an uncompressed .npz with a manifest).

    Args:
      path: where to write; ``.npz`` is appended when missing (as ``np.savez`` does). The file is
        written next to its destination and moved into place, so a failure leaves no half file.
      data: ``{step: {layer: array}}`` for a single run, or ``{run: {step: {layer: array}}}`` for
        several runs (steps are ints >= 0, or strings ``"step_<N>"``; runs and layers are strings
        whose ``/``-separated parts are non-empty). Arrays are anything ``np.asarray`` accepts
        (numpy, JAX, CPU torch tensors), **datapoints first**, the same datapoints in the same
        order everywhere: ``(N, F)``, ``(N, C, H, W)``, ``(N, H, W, C)``, ``(N, T, D)``.
      labels: optional per-datapoint labels, length N: integers (stored as int32) or strings
        (stored as int32 class indices; the names go into the manifest).
      layout: spatial layout of 4-D (conv) arrays: ``"nchw"`` (PyTorch), ``"nhwc"`` (Keras/Flax),
        or ``{layer: "nchw" | "nhwc"}``. When a 4-D layer is not covered it is guessed with the
        app's rule (equal height and width) and the manifest says it was guessed.
      manifest: extra manifest fields, e.g. ``{"provenance": {"model": "resnet18", "seed": 0}}``.
        ``provenance`` is free-form; ``created`` may be overridden; the fields the writer
        generates (runs, steps, layers, ...) may not.
      dtype: ``"float16"`` (default: half the size, ~3 significant digits, plenty for SVCCA and
        CKA) or ``"float32"``. Plain CCA with a tiny epsilon on a nearly rank-deficient layer
        whitens directions that hold only float16 rounding noise: use float32 for that.
      compress: False (default) stores the arrays as ``np.savez`` does, so the app reads any one
        member without touching the rest; True deflates them as ``np.savez_compressed`` does
        (post-ReLU activations, with many zeros, shrink 2-2.5x; worth it for files sent over a
        network, e.g. a demo on a web page).

    Returns:
      The path written.

    Raises:
      ValueError: on anything the reader would refuse or misread: differing datapoint counts,
        NaN or infinite values (or values too large for float16), negative or non-integer steps,
        empty name parts, a run name containing a ``step_<N>`` part, a layer whose shape changes
        between steps of a run, labels of the wrong length.
    """
    out = _npz_path(path)
    out_dtype = _check_dtype(dtype)
    entries, has_runs = _flatten(data)
    datapoints = _check_arrays(entries, out_dtype)
    label_array, label_info = _check_labels(labels, datapoints)
    layer_info = _describe_layers(entries, out_dtype, _check_layout_arg(layout, entries))
    document = _manifest(entries, has_runs, datapoints, out_dtype, label_info, layer_info, manifest)

    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            if label_array is not None:
                _write_npy(archive, "labels.npy", label_array, compress)
            for entry in entries:
                _write_npy(archive, entry.member + ".npy", entry.array.astype(out_dtype, copy=False), compress)
            text = json.dumps(document, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
            archive.writestr(_zip_info("manifest.json"), text.encode("utf-8"))
        os.replace(partial, out)
    finally:
        if partial.exists():
            partial.unlink()
    return out


def load_bundle(path: str | os.PathLike) -> dict:
    """Reads a bundle back (for checks and for the ``inspect`` command).

    Returns ``{"entries": {member: array}, "labels": array | None, "manifest": dict | None,
    "unmatched": [member, ...]}``, where ``member`` is ``[<run>/]step_<N>/<layer>``.
    """
    entries: dict[str, np.ndarray] = {}
    labels = None
    manifest = None
    unmatched: list[str] = []
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name == "manifest.json":
                manifest = json.loads(archive.read(name).decode("utf-8"))
            elif name.endswith(".npy"):
                with archive.open(name) as f:
                    array = np.lib.format.read_array(f, allow_pickle=False)
                key = name[: -len(".npy")]
                if key == "labels":
                    labels = array
                elif parse_member(key) is not None:
                    entries[key] = array
                else:
                    unmatched.append(name)
            else:
                unmatched.append(name)
    return {"entries": entries, "labels": labels, "manifest": manifest, "unmatched": unmatched}


def parse_member(name: str) -> tuple[str | None, int, str] | None:
    """``[<run>/]step_<N>/<layer>`` -> (run, step, layer), split at the first ``step_<N>`` part
    (the rule the app's reader uses), or None when the name follows no convention."""
    parts = name.split("/")
    if any(p == "" for p in parts):
        return None
    for i, part in enumerate(parts):
        match = STEP_SEGMENT.match(part)
        if match:
            if i == len(parts) - 1:
                return None
            run = "/".join(parts[:i]) if i > 0 else None
            return run, int(match.group(1)), "/".join(parts[i + 1 :])
    return None


# ----------------------------------------------------------------------------------------------
# Validation


def _npz_path(path: str | os.PathLike) -> Path:
    out = Path(os.fspath(path))
    if out.suffix.lower() != ".npz":
        out = out.with_name(out.name + ".npz")
    return out


def _check_dtype(dtype: str | np.dtype) -> np.dtype:
    try:
        resolved = np.dtype(dtype)
    except TypeError as error:
        raise ValueError(f"dtype must be 'float16' or 'float32', not {dtype!r}") from error
    if resolved not in (np.dtype(np.float16), np.dtype(np.float32)):
        raise ValueError(f"dtype must be 'float16' or 'float32', not {dtype!r}")
    return resolved


def _is_step_key(key: Any) -> bool:
    if isinstance(key, bool):
        return False
    if isinstance(key, numbers.Integral):
        return True
    return isinstance(key, str) and STEP_SEGMENT.match(key) is not None


def _step(key: Any, where: str) -> int:
    if isinstance(key, str):
        match = STEP_SEGMENT.match(key)
        if not match:
            raise ValueError(f"{where}: step {key!r} is not an integer or 'step_<N>'")
        step = int(match.group(1))
    elif isinstance(key, numbers.Integral) and not isinstance(key, bool):
        step = int(key)
    else:
        raise ValueError(f"{where}: step {key!r} must be an integer >= 0 (got {type(key).__name__})")
    if step < 0:
        raise ValueError(f"{where}: step {step} is negative; steps are integers >= 0")
    if step > MAX_STEP:
        raise ValueError(f"{where}: step {step} is larger than 2**53 - 1, which the app cannot represent exactly")
    return step


def _check_name(name: Any, what: str, where: str) -> str:
    if not isinstance(name, str):
        raise ValueError(f"{where}: {what} name {name!r} must be a string (got {type(name).__name__})")
    if name == "":
        raise ValueError(f"{where}: {what} name is empty")
    if "\\" in name:
        raise ValueError(f"{where}: {what} name {name!r} contains a backslash; use '/' to nest names")
    parts = name.split("/")
    if any(p == "" for p in parts):
        raise ValueError(f"{where}: {what} name {name!r} has an empty part (a leading, trailing or doubled '/')")
    if any(p in (".", "..") for p in parts):
        raise ValueError(f"{where}: {what} name {name!r} has a '.' or '..' part")
    if what == "run" and any(STEP_SEGMENT.match(p) for p in parts):
        raise ValueError(f"{where}: run name {name!r} has a part like 'step_<N>', which would be read as the step")
    return name


def _flatten(data: Mapping) -> tuple[list[Entry], bool]:
    """{step: {layer: a}} or {run: {step: {layer: a}}} -> entries in run, step, layer order."""
    if not isinstance(data, Mapping):
        raise ValueError(f"data must be a dict {{step: {{layer: array}}}} or {{run: {{step: {{layer: array}}}}}}, not {type(data).__name__}")
    if len(data) == 0:
        raise ValueError("data is empty: nothing to write")
    keys = list(data.keys())
    step_keys = [_is_step_key(k) for k in keys]
    if all(step_keys):
        has_runs = False
        runs: list[tuple[str | None, Mapping]] = [(None, data)]
    elif not any(step_keys):
        has_runs = True
        runs = [(_check_name(k, "run", f"run {k!r}"), v) for k, v in data.items()]
    else:
        raise ValueError(
            "data mixes step keys (integers) and run keys (strings) at the top level; "
            "use {step: {layer: array}} or {run: {step: {layer: array}}}"
        )

    entries: list[Entry] = []
    for run, steps in runs:
        where_run = "data" if run is None else f"run {run!r}"
        if not isinstance(steps, Mapping):
            raise ValueError(f"{where_run}: expected a dict {{step: {{layer: array}}}}, got {type(steps).__name__}")
        if len(steps) == 0:
            raise ValueError(f"{where_run}: has no steps")
        by_step: dict[int, Mapping] = {}
        for key, layers in steps.items():
            step = _step(key, where_run)
            if step in by_step:
                raise ValueError(f"{where_run}: step {step} is given twice")
            by_step[step] = layers
        for step in sorted(by_step):
            layers = by_step[step]
            prefix = "" if run is None else f"{run}/"
            where_step = f"{prefix}step_{step}"
            if not isinstance(layers, Mapping):
                raise ValueError(f"{where_step}: expected a dict {{layer: array}}, got {type(layers).__name__}")
            if len(layers) == 0:
                raise ValueError(f"{where_step}: has no layers")
            for layer, value in layers.items():
                _check_name(layer, "layer", where_step)
                entries.append(Entry(run, step, layer, _as_array(value, f"{where_step}/{layer}")))
    return entries, has_runs


def _as_array(value: Any, where: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except Exception as error:  # e.g. a CUDA or grad-tracking torch tensor
        raise ValueError(f"{where}: cannot be read as an array ({error}); move it to the CPU and detach it first") from error
    if array.dtype == object or array.dtype.kind not in "biuf":
        raise ValueError(f"{where}: dtype {array.dtype} is not a real number type")
    if array.ndim == 0:
        raise ValueError(f"{where}: is a scalar; activations need a datapoints axis first")
    if array.shape[0] == 0:
        raise ValueError(f"{where}: has no datapoints (shape {array.shape})")
    if array.size == 0:
        raise ValueError(f"{where}: has no neurons (shape {array.shape})")
    return array


def _check_arrays(entries: list[Entry], out_dtype: np.dtype) -> int:
    """Same datapoint count everywhere, finite values, in range for the output dtype."""
    first = entries[0]
    datapoints = first.array.shape[0]
    for entry in entries:
        a = entry.array
        if a.shape[0] != datapoints:
            raise ValueError(
                f"{entry.where()}: has {a.shape[0]} datapoints (shape {a.shape}) but {first.where()} has "
                f"{datapoints}; every array must hold the same datapoints, first axis"
            )
        if a.dtype.kind == "f":
            finite = np.isfinite(a)
            if not finite.all():
                bad = int(a.size - np.count_nonzero(finite))
                raise ValueError(f"{entry.where()}: {bad} of {a.size} values are NaN or infinite")
        if out_dtype == np.float16 and a.size:
            peak = float(np.max(np.abs(a)))
            if peak >= FLOAT16_OVERFLOW:
                raise ValueError(
                    f"{entry.where()}: largest magnitude {peak:g} does not fit float16 (max 65504); "
                    "pass dtype='float32' or rescale"
                )
    return datapoints


def _check_labels(labels: Any, datapoints: int) -> tuple[np.ndarray | None, dict | None]:
    if labels is None:
        return None, None
    try:
        raw = np.asarray(labels)
    except Exception as error:
        raise ValueError(f"labels: cannot be read as an array ({error})") from error
    if raw.ndim != 1:
        raise ValueError(f"labels: must be 1-D, one label per datapoint (got shape {raw.shape})")
    if raw.shape[0] != datapoints:
        raise ValueError(f"labels: has {raw.shape[0]} entries but the arrays have {datapoints} datapoints")
    names = None
    if raw.dtype.kind in "USO":
        text = [str(v) for v in raw.tolist()]
        names = sorted(set(text))
        index = {n: i for i, n in enumerate(names)}
        values = np.array([index[t] for t in text], dtype=np.int32)
    elif raw.dtype.kind in "biu":
        if raw.size and (raw.min() < np.iinfo(np.int32).min or raw.max() > np.iinfo(np.int32).max):
            raise ValueError("labels: values do not fit int32")
        values = raw.astype(np.int32)
    elif raw.dtype.kind == "f":
        if not np.isfinite(raw).all() or not np.all(raw == np.round(raw)):
            raise ValueError("labels: float labels must be whole numbers (class indices)")
        values = raw.astype(np.int32)
    else:
        raise ValueError(f"labels: dtype {raw.dtype} is neither integer nor string")
    classes, counts = np.unique(values, return_counts=True)
    info: dict[str, Any] = {
        "member": "labels",
        "dtype": "int32",
        "count": int(datapoints),
        "classes": [int(c) for c in classes],
        "class_counts": [int(c) for c in counts],
    }
    if names is not None:
        info["names"] = names
    return values, info


def _check_layout_arg(layout: Any, entries: list[Entry]) -> dict[str, str] | str | None:
    allowed = ("nchw", "nhwc")
    if layout is None:
        return None
    if isinstance(layout, str):
        if layout.lower() not in allowed:
            raise ValueError(f"layout must be 'nchw', 'nhwc' or {{layer: 'nchw' | 'nhwc'}}, not {layout!r}")
        return layout.lower()
    if isinstance(layout, Mapping):
        known = {e.layer for e in entries}
        out = {}
        for layer, value in layout.items():
            if layer not in known:
                raise ValueError(f"layout: no layer named {layer!r} in the data (layers: {sorted(known)})")
            if not isinstance(value, str) or value.lower() not in allowed:
                raise ValueError(f"layout[{layer!r}] must be 'nchw' or 'nhwc', not {value!r}")
            out[layer] = value.lower()
        return out
    raise ValueError(f"layout must be 'nchw', 'nhwc' or {{layer: 'nchw' | 'nhwc'}}, not {type(layout).__name__}")


def guess_conv_layout(shape: tuple[int, ...]) -> tuple[str, bool]:
    """The app's guess for a 4-D (N, a, b, c) array: a = b != c -> NHWC, b = c != a -> NCHW;
    otherwise the larger of a and c is channels. Returns (layout, decided_by_equal_axes)."""
    _, a, b, c = shape
    if a == b and c != a:
        return "nhwc", True
    if b == c and a != b:
        return "nchw", True
    return ("nhwc" if c > a else "nchw"), False


def _describe_layers(entries: list[Entry], out_dtype: np.dtype, layout: Any) -> list[dict]:
    order: list[str] = []
    shapes: dict[str, dict[str | None, tuple[int, ...]]] = {}
    seen_at: dict[tuple[str | None, str], str] = {}
    for entry in entries:
        if entry.layer not in shapes:
            order.append(entry.layer)
            shapes[entry.layer] = {}
        by_run = shapes[entry.layer]
        shape = tuple(int(s) for s in entry.array.shape)
        if entry.run in by_run and by_run[entry.run] != shape:
            raise ValueError(
                f"{entry.where()}: shape {shape} differs from {by_run[entry.run]} at "
                f"{seen_at[(entry.run, entry.layer)]}; a layer keeps its shape across the steps of a run"
            )
        by_run.setdefault(entry.run, shape)
        seen_at.setdefault((entry.run, entry.layer), entry.where())

    described = []
    for layer in order:
        by_run = shapes[layer]
        distinct = set(by_run.values())
        info: dict[str, Any] = {"name": layer}
        if len(distinct) == 1:
            info["shape"] = list(next(iter(distinct)))
        else:
            info["shape_by_run"] = {run: list(s) for run, s in by_run.items()}
        ndims = {len(s) for s in distinct}
        info["dtype"] = out_dtype.name
        info["layout"] = "datapoints-first"
        if ndims == {4}:
            given = layout.get(layer) if isinstance(layout, dict) else layout
            if given is not None:
                info["conv_layout"] = given
                info["conv_layout_source"] = "given"
            else:
                guesses = {guess_conv_layout(s) for s in distinct}
                guess = sorted(guesses)[0]
                info["conv_layout"] = guess[0]
                info["conv_layout_source"] = "guessed"
                if not all(decided for _, decided in guesses):
                    warnings.warn(
                        f"layer {layer!r}: shape {sorted(distinct)[0]} does not tell NCHW from NHWC; "
                        f"recorded {guess[0].upper()} (the app's guess); pass layout='nchw' or 'nhwc'",
                        stacklevel=4,
                    )
        elif isinstance(layout, dict) and layer in layout:
            raise ValueError(f"layout: layer {layer!r} is not 4-D (shape {sorted(distinct)[0]}); conv layouts apply to 4-D layers")
        if ndims == {3}:
            info["axes"] = "datapoints, positions, features"
        described.append(info)
    return described


def _manifest(
    entries: list[Entry],
    has_runs: bool,
    datapoints: int,
    out_dtype: np.dtype,
    label_info: dict | None,
    layer_info: list[dict],
    extra: Mapping | None,
) -> dict:
    runs: list[str] = []
    for entry in entries:
        if entry.run is not None and entry.run not in runs:
            runs.append(entry.run)
    steps = sorted({e.step for e in entries})
    present = {(e.run, e.step, e.layer) for e in entries}
    run_keys: list[str | None] = runs if has_runs else [None]
    missing = [
        {"run": run, "step": step, "layer": info["name"]}
        for run in run_keys
        for step in steps
        for info in layer_info
        if (run, step, info["name"]) not in present
    ]
    document: dict[str, Any] = {
        "format": "svcca-lens-bundle",
        "format_version": 1,
        "writer": {"name": "svcca_lens_export", "version": __version__, "numpy": np.__version__},
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "member_pattern": "<run>/step_<N>/<layer>" if has_runs else "step_<N>/<layer>",
        "runs": runs,
        "steps": steps,
        "layers": layer_info,
        "datapoints": int(datapoints),
        "dtype": out_dtype.name,
        "labels": label_info,
    }
    if missing:
        document["missing"] = missing
    document["provenance"] = {}
    if extra is not None:
        if not isinstance(extra, Mapping):
            raise ValueError(f"manifest must be a dict, not {type(extra).__name__}")
        clash = [k for k in extra if k in GENERATED_KEYS]
        if clash:
            raise ValueError(f"manifest: {', '.join(map(repr, clash))} are written by save_bundle and cannot be set")
        for key, value in extra.items():
            if not isinstance(key, str):
                raise ValueError(f"manifest: key {key!r} is not a string")
            document[key] = value
    try:
        return json.loads(json.dumps(document, default=_json_default, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise ValueError(f"manifest: cannot be written as JSON: {error}") from error


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (Path, os.PathLike)):
        return os.fspath(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


# ----------------------------------------------------------------------------------------------
# Writing


def _zip_info(name: str, compress: bool = False) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def _write_npy(archive: zipfile.ZipFile, name: str, array: np.ndarray, compress: bool) -> None:
    # What np.savez (np.savez_compressed) does: a stored (deflated) member with zip64 headers,
    # written straight from the array.
    with archive.open(_zip_info(name, compress), "w", force_zip64=True) as stream:
        np.lib.format.write_array(stream, np.ascontiguousarray(array), allow_pickle=False)

