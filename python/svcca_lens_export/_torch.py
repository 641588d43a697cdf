"""Recording PyTorch activations with forward hooks and exporting a series of checkpoints.

PyTorch is imported only when these functions run: ``save_bundle`` needs numpy alone.

Shape convention: activations are kept exactly as the modules produce them, datapoints first
(``(N, F)`` linear, ``(N, C, H, W)`` conv, ``(N, T, D)`` batch-first sequences), as float32
numpy arrays; batches are concatenated along axis 0.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Iterator

import numpy as np

from ._bundle import save_bundle


def _torch():
    try:
        import torch
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "svcca_lens_export.record and export_checkpoints need PyTorch (pip install torch); "
            "save_bundle and the 'pack' command work with numpy alone"
        ) from error
    return torch


class Recording(Mapping):
    """Activations recorded by :func:`record`: ``{layer: np.ndarray}``, batches concatenated
    along axis 0, in the order the layers were selected. Readable inside the ``with`` block too
    (it then holds what has been recorded so far)."""

    def __init__(self, names: Sequence[str]):
        self._chunks: dict[str, list[np.ndarray]] = {name: [] for name in names}
        self._joined: dict[str, np.ndarray] = {}

    def _append(self, name: str, array: np.ndarray) -> None:
        self._chunks[name].append(array)
        self._joined.pop(name, None)

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._chunks:
            raise KeyError(f"{name!r} was not recorded (recorded: {list(self._chunks)})")
        if name not in self._joined:
            chunks = self._chunks[name]
            if not chunks:
                raise KeyError(f"layer {name!r} produced no output: was it reached by the forward pass?")
            if len(chunks) > 1:
                trailing = {c.shape[1:] for c in chunks}
                if len(trailing) > 1:
                    raise ValueError(f"layer {name!r}: batches have different shapes {sorted(trailing)} and cannot be concatenated")
                self._chunks[name] = [np.concatenate(chunks, axis=0)]
            self._joined[name] = self._chunks[name][0]
        return self._joined[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._chunks)

    def __len__(self) -> int:
        return len(self._chunks)

    @property
    def layers(self) -> list[str]:
        return list(self._chunks)

    def calls(self, name: str) -> int:
        """How many forward calls of the layer were recorded (before concatenation)."""
        return len(self._chunks[name])

    def as_dict(self) -> dict[str, np.ndarray]:
        return {name: self[name] for name in self._chunks}


def select_modules(model: Any, layers: Any) -> list[tuple[str, Any]]:
    """Resolves ``layers`` to ``[(name, module)]``.

    ``layers`` is a module name as in ``model.named_modules()``, a list of names (kept in that
    order), or a pattern (a compiled regex, or a string that is not a module name) matched in full
    against every module name (kept in ``named_modules()`` order; the root module is never matched).
    """
    modules = dict(model.named_modules())
    available = [name for name in modules if name != ""]
    if isinstance(layers, str) and layers in modules and layers != "":
        return [(layers, modules[layers])]
    if isinstance(layers, (str, re.Pattern)):
        try:
            pattern = re.compile(layers) if isinstance(layers, str) else layers
        except re.error as error:
            raise ValueError(f"layers: {layers!r} is neither a module name nor a valid regex ({error})") from error
        chosen = [(name, modules[name]) for name in available if pattern.fullmatch(name)]
        if not chosen:
            raise ValueError(f"layers: pattern {pattern.pattern!r} matches no module name (modules: {_short(available)})")
        return chosen
    if isinstance(layers, Sequence) and not isinstance(layers, (bytes, bytearray)):
        chosen = []
        for name in layers:
            if not isinstance(name, str):
                raise ValueError(f"layers: {name!r} is not a module name (a string)")
            if name not in modules or name == "":
                raise ValueError(f"layers: the model has no module named {name!r} (modules: {_short(available)})")
            if any(name == n for n, _ in chosen):
                raise ValueError(f"layers: {name!r} is listed twice")
            chosen.append((name, modules[name]))
        if not chosen:
            raise ValueError("layers: the list is empty")
        return chosen
    raise ValueError(f"layers must be a module name, a list of names or a regex, not {type(layers).__name__}")


def _short(names: list[str], limit: int = 30) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "") if names else "none"


def _first_tensor(output: Any, name: str):
    torch = _torch()
    if torch.is_tensor(output):
        return output
    if isinstance(output, Mapping):
        values = list(output.values())
    elif isinstance(output, (tuple, list)):
        values = list(output)
    else:
        values = []
    for value in values:
        if torch.is_tensor(value):
            return value
    for value in values:  # one level deeper, e.g. ((out, aux),)
        if isinstance(value, (tuple, list, Mapping)):
            found = _first_tensor_or_none(value)
            if found is not None:
                return found
    raise TypeError(f"layer {name!r}: output of type {type(output).__name__} holds no tensor to record")


def _first_tensor_or_none(output: Any):
    try:
        return _first_tensor(output, "")
    except TypeError:
        return None


@contextlib.contextmanager
def record(model: Any, layers: Any) -> Iterator[Recording]:
    """Records the outputs of some of ``model``'s modules during the forward passes run inside.

    ::

        with record(model, ["features.0", "features.3", "classifier.1"]) as acts:
            for x in batches:
                model(x)
        acts["features.0"]  # np.ndarray, float32, (N, C, H, W): every batch, in order

    Args:
      model: a ``torch.nn.Module``.
      layers: a name as in ``model.named_modules()``, a list of names, or a regex (compiled, or a
        string that is not a module name) matched in full against every module name, e.g.
        ``r"features\\.\\d+"``.

    Inside the block the model is in eval mode (dropout off, batch-norm running statistics) and
    gradients are off; on leaving it (also on an exception) every hook is removed, each module's
    previous training flag is restored and gradient mode is restored.

    Outputs that are tuples or lists (e.g. ``nn.LSTM``'s ``(output, (h, c))``) or dicts (e.g.
    Hugging Face model outputs) are recorded by their **first tensor**; record a submodule instead
    if you need another element. Each output is copied to the CPU as float32 at the moment the hook
    runs, so a later in-place op (``ReLU(inplace=True)``) does not change what was recorded.
    Arrays keep the shape the module produced, datapoints first for batch-first models. A module
    called several times per forward pass (weight sharing) is recorded once per call: record a
    module that runs once.
    """
    torch = _torch()
    chosen = select_modules(model, layers)
    recording = Recording([name for name, _ in chosen])
    modes = [(module, module.training) for module in model.modules()]
    grad_was = torch.is_grad_enabled()
    handles = []

    def hook_for(name: str):
        def hook(_module, _inputs, output):
            tensor = _first_tensor(output, name).detach()
            if tensor.is_complex():
                raise TypeError(f"layer {name!r}: complex outputs cannot be recorded")
            array = tensor.to(device="cpu", dtype=torch.float32, copy=True).numpy()
            recording._append(name, array)

        return hook

    try:
        for name, module in chosen:
            handles.append(module.register_forward_hook(hook_for(name)))
        model.eval()
        torch.set_grad_enabled(False)
        yield recording
    finally:
        torch.set_grad_enabled(grad_was)
        for handle in handles:
            handle.remove()
        for module, training in modes:
            module.training = training


# ----------------------------------------------------------------------------------------------
# Checkpoints


def _is_state_dict(value: Any) -> bool:
    torch = _torch()
    return isinstance(value, Mapping) and len(value) > 0 and all(torch.is_tensor(v) for v in value.values())


def load_checkpoint(source: Any, weights_only: bool = True) -> Any:
    """A path saved by ``torch.save`` -> what it holds, unwrapping ``{"state_dict": ...}``,
    ``{"model_state_dict": ...}`` and ``{"model": ...}`` training checkpoints."""
    torch = _torch()
    if isinstance(source, (str, os.PathLike)):
        try:
            loaded = torch.load(os.fspath(source), map_location="cpu", weights_only=weights_only)
        except TypeError:  # torch < 1.13 has no weights_only
            loaded = torch.load(os.fspath(source), map_location="cpu")
    else:
        loaded = source
    if isinstance(loaded, Mapping) and not _is_state_dict(loaded):
        for key in ("state_dict", "model_state_dict", "model"):
            inner = loaded.get(key)
            if _is_state_dict(inner) or isinstance(inner, torch.nn.Module):
                return inner
    return loaded


def _load_into(model: Any, state: Mapping, where: str) -> None:
    own = model.state_dict()
    if state and all(k.startswith("module.") for k in state) and not any(k.startswith("module.") for k in own):
        state = {k[len("module.") :]: v for k, v in state.items()}  # saved from DataParallel / DDP
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0]
        raise ValueError(f"{where}: does not fit the model: {first}") from error


def _normalise_checkpoints(checkpoints: Any, run: str | None) -> list[tuple[str | None, int, Any]]:
    """{step: ckpt}, [(step, ckpt)], or {run: {step: ckpt}} -> [(run, step, ckpt)]."""

    def steps_of(value: Any, where: str) -> list[tuple[int, Any]]:
        if isinstance(value, Mapping):
            pairs = list(value.items())
        elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
            pairs = []
            for item in value:
                if not (isinstance(item, Sequence) and len(item) == 2):
                    raise ValueError(f"{where}: a list of checkpoints must hold (step, checkpoint) pairs, got {item!r:.60}")
                pairs.append((item[0], item[1]))
        else:
            raise ValueError(f"{where}: expected {{step: checkpoint}} or [(step, checkpoint)], got {type(value).__name__}")
        out = []
        for step, ckpt in pairs:
            if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
                raise ValueError(f"{where}: step {step!r} must be an integer >= 0")
            out.append((int(step), ckpt))
        if not out:
            raise ValueError(f"{where}: no checkpoints")
        return out

    if isinstance(checkpoints, Mapping) and checkpoints and all(isinstance(k, str) for k in checkpoints):
        if run is not None:
            raise ValueError("run= names a single run; checkpoints already given as {run: {step: checkpoint}}")
        return [(name, step, ckpt) for name, inner in checkpoints.items() for step, ckpt in steps_of(inner, f"run {name!r}")]
    return [(run, step, ckpt) for step, ckpt in steps_of(checkpoints, "checkpoints")]


def _describe(ckpt: Any) -> str:
    if isinstance(ckpt, (str, os.PathLike)):
        return os.fspath(ckpt)
    if callable(ckpt):
        return f"callable {getattr(ckpt, '__qualname__', type(ckpt).__name__)}"
    return "state_dict"


def _batches(inputs: Any, batch_size: int, param_dtype) -> tuple[list[Any], int | None]:
    torch = _torch()
    if isinstance(inputs, np.ndarray) or torch.is_tensor(inputs):
        tensor = torch.as_tensor(inputs)
        if tensor.is_floating_point() and isinstance(inputs, np.ndarray) and param_dtype is not None:
            tensor = tensor.to(param_dtype)
        if tensor.ndim == 0 or tensor.shape[0] == 0:
            raise ValueError(f"inputs: need a datapoints axis first (shape {tuple(tensor.shape)})")
        n = tensor.shape[0]
        return [tensor[i : i + batch_size] for i in range(0, n, batch_size)], n
    if isinstance(inputs, Sequence) and not isinstance(inputs, (str, bytes)):
        if len(inputs) == 0:
            raise ValueError("inputs: the list of batches is empty")
        return list(inputs), None
    raise ValueError(f"inputs must be a tensor, an ndarray or a list of batches, not {type(inputs).__name__}")


def _to_device(batch: Any, device):
    torch = _torch()
    if torch.is_tensor(batch):
        return batch.to(device)
    if isinstance(batch, np.ndarray):
        return torch.as_tensor(batch).to(device)
    if isinstance(batch, Mapping):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (tuple, list)):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch


def _call(model: Any, batch: Any):
    if isinstance(batch, Mapping):
        return model(**batch)
    if isinstance(batch, (tuple, list)):
        return model(*batch)
    return model(batch)


def probe(model: Any, inputs: Any, layers: Any, *, batch_size: int = 256, device: Any = None) -> dict[str, np.ndarray]:
    """Runs ``inputs`` through ``model`` inside :func:`record` and returns ``{layer: array}``.

    ``inputs`` is a tensor or ndarray with datapoints first (split into ``batch_size`` chunks, in
    order; float ndarrays take the dtype of the model's parameters), or a list of ready batches
    (a tensor each, a tuple of positional arguments, or a dict of keyword arguments)."""
    torch = _torch()
    params = [p for p in model.parameters()]
    if device is None:
        device = params[0].device if params else torch.device("cpu")
    float_params = [p for p in params if p.is_floating_point()]
    param_dtype = float_params[0].dtype if float_params else None
    batches, n = _batches(inputs, batch_size, param_dtype)
    with record(model, layers) as acts:
        for batch in batches:
            _call(model, _to_device(batch, device))
    try:
        out = acts.as_dict()
    except KeyError as error:
        raise ValueError(error.args[0]) from error
    if n is not None:
        for name, array in out.items():
            if array.shape[0] != n:
                raise ValueError(
                    f"layer {name!r}: recorded {array.shape[0]} rows for {n} inputs; is it called more than once "
                    "per forward pass, or not batch-first?"
                )
    return out


def export_checkpoints(
    model_factory_or_model: Any,
    checkpoints: Any,
    inputs: Any,
    layers: Any,
    path: str | os.PathLike,
    *,
    labels: Any = None,
    run: str | None = None,
    dtype: str = "float16",
    batch_size: int = 256,
    device: Any = None,
    layout: Any = "nchw",
    manifest: Mapping | None = None,
    weights_only: bool = True,
    compress: bool = False,
):
    """Runs the same probe inputs through every checkpoint and writes one bundle.

    Args:
      model_factory_or_model: an ``nn.Module`` (each checkpoint is loaded into it; its own weights
        are restored at the end) or a zero-argument callable returning a fresh module.
      checkpoints: ``{step: checkpoint}``, ``[(step, checkpoint), ...]``, or
        ``{run: {step: checkpoint}}`` for several runs (e.g. seeds) in one bundle. A checkpoint is a
        path written by ``torch.save`` (a state_dict, or a dict holding one under ``state_dict`` /
        ``model_state_dict`` / ``model``, or a whole module), a state_dict, a module, or a callable
        taking the model and returning a module, a state_dict or None (meaning: the model, which it
        changed in place).
      inputs: the probe set, the same for every checkpoint and in the same order: a tensor or
        ndarray, datapoints first, split into ``batch_size`` chunks; or a list of ready batches.
      layers: module names, a list of them or a regex, as for :func:`record`.
      path: the .npz to write.
      labels: optional per-datapoint labels (same order as ``inputs``).
      run: names the run when ``checkpoints`` is ``{step: checkpoint}`` (members become
        ``<run>/step_<N>/<layer>``); None writes ``step_<N>/<layer>``.
      dtype: ``"float16"`` or ``"float32"`` in the file (recorded in float32 either way).
      device: where to run; default: the device of the model's parameters.
      layout: conv layout of 4-D outputs, ``"nchw"`` for PyTorch modules.
      manifest: extra manifest fields (``provenance`` is merged with what is recorded here).
      weights_only: passed to ``torch.load`` (True refuses pickled code; set False only for files
        you trust, e.g. whole saved modules).
      compress: deflate the arrays (see :func:`save_bundle`).

    Every checkpoint's activations are kept in memory (float32) until the bundle is written: about
    4 bytes x probe size x recorded features x checkpoints.

    Returns:
      The path written.
    """
    torch = _torch()
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")
    plan = _normalise_checkpoints(checkpoints, run)
    base = model_factory_or_model if isinstance(model_factory_or_model, torch.nn.Module) else None
    if base is None and not callable(model_factory_or_model):
        raise ValueError("model_factory_or_model must be an nn.Module or a callable returning one")
    original = copy.deepcopy(base.state_dict()) if base is not None else None

    data: dict[Any, Any] = {}
    described: dict[str, dict[str, str]] = {}
    model_name = None
    try:
        for run_name, step, ckpt in plan:
            where = f"{'' if run_name is None else run_name + '/'}step_{step}"
            model = base if base is not None else model_factory_or_model()
            if not isinstance(model, torch.nn.Module):
                raise ValueError(f"the model factory returned {type(model).__name__}, not an nn.Module")
            model = _apply_checkpoint(model, ckpt, where, weights_only)
            model_name = type(model).__name__
            acts = probe(model, inputs, layers, batch_size=batch_size, device=device)
            target = data if run_name is None else data.setdefault(run_name, {})
            if step in target:
                raise ValueError(f"{where}: step {step} is given twice")
            target[step] = acts
            described.setdefault("" if run_name is None else run_name, {})[str(step)] = _describe(ckpt)
    finally:
        if base is not None and original is not None:
            base.load_state_dict(original)

    provenance = {
        "exporter": "svcca_lens_export.export_checkpoints",
        "model_class": model_name,
        "torch": torch.__version__,
        "batch_size": batch_size,
        "checkpoints": described[""] if list(described) == [""] else described,
    }
    extra = dict(manifest or {})
    user_provenance = extra.pop("provenance", {}) or {}
    if not isinstance(user_provenance, Mapping):
        raise ValueError("manifest['provenance'] must be a dict")
    extra["provenance"] = {**provenance, **user_provenance}
    return save_bundle(path, data, labels=labels, layout=layout, manifest=extra, dtype=dtype, compress=compress)


def _apply_checkpoint(model: Any, ckpt: Any, where: str, weights_only: bool):
    torch = _torch()
    if callable(ckpt) and not isinstance(ckpt, torch.nn.Module):
        result = ckpt(model)
        if result is None:
            return model
        ckpt = result
    loaded = load_checkpoint(ckpt, weights_only=weights_only)
    if isinstance(loaded, torch.nn.Module):
        return loaded
    if isinstance(loaded, Mapping):
        _load_into(model, loaded, f"checkpoint {where} ({_describe(ckpt)})")
        return model
    raise ValueError(f"checkpoint {where}: holds a {type(loaded).__name__}, not a state_dict or a module")
