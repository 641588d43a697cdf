"""Export neural-network activations as SVCCA Lens bundles.

- :func:`save_bundle` (numpy only): ``{step: {layer: array}}`` or ``{run: {step: {layer: array}}}``
  -> one uncompressed .npz with ``[<run>/]step_<N>/<layer>`` members, ``labels`` and a
  ``manifest.json`` member, ready for the app and ``svcca-lens dynamics`` / ``cross``.
- :func:`record` (PyTorch): a context manager that collects the outputs of named modules.
- :func:`export_checkpoints` (PyTorch): the same probe inputs through every checkpoint, one bundle.
- ``python -m svcca_lens_export --help``: pack a folder of .npy files, run an export, inspect a bundle.

PyTorch is imported lazily: everything but ``record`` / ``export_checkpoints`` / ``probe`` works
without it.
"""

from ._bundle import guess_conv_layout, load_bundle, parse_member, save_bundle
from ._version import __version__


def __getattr__(name):
    # The torch-facing API is imported on first use so that `import svcca_lens_export` never
    # needs PyTorch.
    if name in ("record", "export_checkpoints", "probe", "Recording", "select_modules", "load_checkpoint"):
        from . import _torch

        return getattr(_torch, name)
    raise AttributeError(f"module 'svcca_lens_export' has no attribute {name!r}")


__all__ = [
    "__version__",
    "save_bundle",
    "load_bundle",
    "parse_member",
    "guess_conv_layout",
    "record",
    "export_checkpoints",
    "probe",
    "Recording",
]
