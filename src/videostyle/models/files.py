"""Model files: weights in safetensors with a JSON config in the file's metadata.

One file per model (``starry_night.safetensors``) so a model cannot lose its config. The
metadata key ``videostyle`` holds ``{"kind": ..., "config": {...}, "training": {...}}``.
Loading never unpickles anything (safetensors only), and every failure - a missing file, a
file that is not safetensors, another kind of model, missing or mis-shaped weights - is a
one-line :class:`~videostyle.errors.VideostyleError`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from ..errors import VideostyleError
from ..io.atomic import atomic_path

METADATA_KEY = "videostyle"
FORMAT = 1
#: The ``kind`` of every file this package writes: the networks of :data:`videostyle.models.KINDS` and training checkpoints.
FILE_KINDS = ("transformer", "adain_decoder", "arbitrary_video", "swap_decoder", "checkpoint")
BUNDLED_DIR = Path(__file__).parent / "bundled"


def bundled_models() -> dict[str, Path]:
    """``{name: path}`` of the models shipped with the package."""
    return {path.stem: path for path in sorted(BUNDLED_DIR.glob("*.safetensors"))}


def resolve_model_path(name_or_path: str | os.PathLike) -> Path:
    """A bundled model's name (``starry_night``) or a path to a ``.safetensors`` file."""
    text = str(name_or_path)
    bundled = bundled_models()
    if text in bundled:
        return bundled[text]
    path = Path(text)
    if path.is_file():
        return path
    if path.exists():
        raise VideostyleError(f"not a model file: {path}")
    known = ", ".join(bundled) or "none"
    raise VideostyleError(f"no such model: {text} (bundled models: {known}; or give a path to a .safetensors file)")


def save_model(path: str | os.PathLike, tensors: Mapping[str, torch.Tensor], kind: str, config: dict, extra: dict | None = None) -> Path:
    """Write ``tensors`` and ``{"kind", "config", **extra}`` atomically to ``path``."""
    metadata = {METADATA_KEY: json.dumps({"format": FORMAT, "kind": kind, "config": config, **(extra or {})}, sort_keys=True)}
    contiguous = {name: value.detach().cpu().contiguous() for name, value in tensors.items()}
    with atomic_path(path) as tmp:
        save_file(contiguous, str(tmp), metadata=metadata)
    return Path(path)


def read_model(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict]:
    """``(tensors, info)`` of a model file, where ``info`` is the decoded metadata."""
    return _open_model(Path(path), with_tensors=True)


def read_model_info(path: str | os.PathLike) -> dict:
    """The decoded metadata of a model file (kind, config, training) without reading its weights."""
    return _open_model(Path(path), with_tensors=False)[1]


def model_kind(name_or_path: str | os.PathLike) -> str:
    """The kind written in a model file (bundled name or path; one of :data:`FILE_KINDS`), read without its weights."""
    return read_model_info(resolve_model_path(name_or_path))["kind"]


def _open_model(path: Path, with_tensors: bool) -> tuple[dict[str, torch.Tensor], dict]:
    """Open a model file once: its tensors (none unless ``with_tensors``) and its checked metadata."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            names = handle.keys() if with_tensors else []
            tensors = {name: handle.get_tensor(name) for name in names}
    except FileNotFoundError:
        raise VideostyleError(f"no such model file: {path}") from None
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise VideostyleError(f"cannot read model {path}: not a videostyle model file ({str(error).splitlines()[0]})") from None
    if METADATA_KEY not in metadata:
        raise VideostyleError(f"cannot read model {path}: a safetensors file without videostyle metadata (not a videostyle model)")
    try:
        info = json.loads(metadata[METADATA_KEY])
    except ValueError:
        raise VideostyleError(f"cannot read model {path}: its metadata is not valid JSON") from None
    check_metadata(info, path)
    return tensors, info


def check_metadata(info, path: Path) -> None:
    """The one check of a model file's metadata by shape: an object whose ``format`` is an integer this package
    reads, whose ``kind`` is one of :data:`FILE_KINDS`, and whose ``config`` and ``training`` are objects."""

    def malformed(what: str) -> VideostyleError:
        return VideostyleError(f"cannot read model {path}: its metadata {what}")

    if not isinstance(info, dict):
        raise malformed(f"is a JSON {type(info).__name__}, not an object")
    version = info.get("format", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise malformed(f"has format {version!r}, not a version number")
    if version > FORMAT:
        raise VideostyleError(f"model {path} was written by a newer videostyle (format {version})")
    if info.get("kind") not in FILE_KINDS:
        raise malformed(f"names no known kind ({info.get('kind')!r}; known: {', '.join(FILE_KINDS)})")
    for name in ("config", "training"):
        if name in info and not isinstance(info[name], dict):
            raise malformed(f"has a {name} that is not an object")


def load_weights(module: nn.Module, tensors: Mapping[str, torch.Tensor], path: str | os.PathLike) -> None:
    """Load ``tensors`` into ``module`` strictly, with a one-line error naming the first mismatch."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        what = f"missing weight {missing[0]}" if missing else f"unexpected weight {unexpected[0]}"
        raise VideostyleError(f"model {path} does not match its architecture: {what} ({len(missing)} missing, {len(unexpected)} unexpected)")
    for name, value in tensors.items():
        if value.shape != expected[name].shape:
            raise VideostyleError(
                f"model {path} does not match its architecture: {name} has shape {tuple(value.shape)}, expected {tuple(expected[name].shape)}"
            )
        if not torch.isfinite(value).all():
            raise VideostyleError(f"model {path} is corrupt: {name} holds NaN or infinite values")
    module.load_state_dict(tensors)
