"""Where the work runs: choosing the device, and running out of memory on it as a user error.

A GPU that runs out of memory raises PyTorch's ``OutOfMemoryError`` with pages of allocator detail;
:func:`memory_errors` turns it into one line that names the picture's size and the way around it
(tiles), and the atomic writes leave no partial output behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from .errors import VideostyleError


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``None``/``"auto"`` -> CUDA when available, else CPU; otherwise the named device, checked."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise VideostyleError(f"unknown device {device!r} (use cpu, cuda, cuda:N, mps or auto)") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise VideostyleError(f"device {device} requested but this PyTorch has no CUDA (see the README for a CUDA build)")
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise VideostyleError("device mps requested but MPS is not available here")
    return resolved


@contextmanager
def memory_errors(width: int, height: int, device: torch.device | str) -> Iterator[None]:
    """Run the block; out of memory on ``device`` becomes a :class:`VideostyleError` naming the ``width x height``
    picture (or frame) and ``tile`` (the CLI's ``--tile``)."""
    try:
        yield
    except torch.OutOfMemoryError:
        raise VideostyleError(
            f"out of memory on {device} for a {width}x{height} picture: give tile (512 or less) to work in tiles, or a smaller size", parameter="tile"
        ) from None
