"""The user cache of derived files (converted VGG weights, exported ONNX graphs): built once,
verified every time.

Each file has a ``NAME.sha256`` sidecar written after the file itself. A file whose sidecar is
missing or disagrees (a cut copy, flipped bytes, a run killed between the two writes) is
rebuilt with a warning, never loaded. Where the cache cannot be written, the file is built in a
temporary folder for this process, with a warning, and the run goes on.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

from .errors import VideostyleError
from .io.atomic import atomic_path
from .runs import content_digest


class CacheWarning(UserWarning):
    """A cached file was rebuilt, or the cache could not be written."""


def cache_dir() -> Path:
    """The folder for derived files: $VIDEOSTYLE_CACHE, else $XDG_CACHE_HOME/videostyle, else ~/.cache/videostyle."""
    if os.environ.get("VIDEOSTYLE_CACHE"):
        return Path(os.environ["VIDEOSTYLE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "videostyle"


def file_digest(path: Path, chunk_size: int = 1 << 20) -> str:
    """sha256 of a file's bytes, hex."""
    with open(path, "rb") as handle:
        return content_digest(iter(lambda: handle.read(chunk_size), b""))


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def is_verified(path: Path) -> bool:
    """Whether ``path`` exists and matches its sha256 sidecar."""
    sidecar = _sidecar(path)
    try:
        return path.is_file() and sidecar.is_file() and sidecar.read_text().strip() == file_digest(path)
    except OSError:
        return False


def write_sidecar(path: Path) -> None:
    """Record ``path``'s digest beside it (written last: a file without one is never trusted)."""
    with atomic_path(_sidecar(path)) as tmp:
        tmp.write_text(file_digest(path) + "\n")


def cached_file(relative: str, build: Callable[[Path], None], what: str) -> Path:
    """The verified cache file ``cache_dir() / relative``, built by ``build(path)`` when missing or damaged.

    ``what`` names the file in warnings (``"VGG-16 weights"``).
    """
    path = cache_dir() / relative
    if is_verified(path):
        return path
    if path.exists() or _sidecar(path).exists():
        warnings.warn(
            f"the cached {what} {path} could not be verified (damaged, incomplete, or from an older videostyle); rebuilding it", CacheWarning, stacklevel=2
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _sidecar(path).unlink(missing_ok=True)
        with atomic_path(path) as tmp:
            build(tmp)
        write_sidecar(path)
        return path
    except (OSError, VideostyleError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        warnings.warn(f"cannot write the cache {path.parent} ({reason}); using a temporary copy of the {what}", CacheWarning, stacklevel=2)
    fallback = _temporary_folder() / Path(relative).name
    build(fallback)
    return fallback


def _temporary_folder() -> Path:
    """A folder for this process only, removed at exit: where derived files go when the cache cannot be written."""
    folder = Path(tempfile.mkdtemp(prefix="videostyle-cache-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def cache_folder(name: str, what: str) -> Path:
    """The folder ``cache_dir() / name`` for files a caller verifies itself (with :func:`is_verified` and
    :func:`write_sidecar`), or, where it cannot be written, a temporary one with a warning naming ``what``."""
    folder = cache_dir() / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
        return folder
    except OSError as error:
        fallback = _temporary_folder()
        warnings.warn(f"cannot write the cache {folder} ({error.strerror or error}); {what} go to {fallback}, not kept", CacheWarning, stacklevel=3)
        return fallback


def discard(path: Path) -> None:
    """Remove a cache file found unusable after it was verified (it cannot be loaded), and its sidecar."""
    path.unlink(missing_ok=True)
    _sidecar(path).unlink(missing_ok=True)
