"""Write outputs under a temporary name and rename them only when complete.

An interrupted or failed run therefore never leaves a half-written file at the
destination, and never clobbers an existing file until the new one is whole.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import VideostyleError


def check_writable_destination(path: str | os.PathLike) -> Path:
    """Return ``path`` as a Path after checking that its folder exists and is writable."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise VideostyleError(f"output path is a folder, not a file: {path}")
    if not folder.is_dir():
        raise VideostyleError(f"output folder does not exist: {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise VideostyleError(f"output folder is not writable: {folder}")
    return path


def temporary_sibling(path: Path) -> Path:
    """Create an empty temporary file beside ``path`` (same suffix, usual permissions) and return its path."""
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".partial{path.suffix}", dir=path.parent)
    except OSError as error:
        raise VideostyleError(f"cannot write to folder {path.parent}: {error.strerror}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_current_umask())  # mkstemp makes 0600; outputs get the usual permissions
    return tmp


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    The temporary name keeps the destination's suffix so that libraries choosing a
    format from the extension (Pillow, ffmpeg) still do so. On any exception the
    temporary file is removed and the destination is left untouched.
    """
    path = check_writable_destination(path)
    tmp = temporary_sibling(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_folder_destination(path: str | os.PathLike) -> Path:
    """Return ``path`` as a Path after checking that it is missing or an empty folder, in a writable folder."""
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise VideostyleError(f"output folder is not empty: {path}")
    check_writable_destination(path.parent / "probe")
    return path


def temporary_sibling_folder(path: Path, suffix: str = ".partial") -> Path:
    """Create an empty temporary folder beside ``path`` and return its path."""
    try:
        return Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent))
    except OSError as error:
        raise VideostyleError(f"cannot write to folder {path.parent}: {error.strerror}") from None


def move_folder_into_place(tmp: Path, path: Path) -> None:
    """Rename a finished temporary folder onto ``path`` (missing or empty, as checked at the start)."""
    if path.exists():
        path.rmdir()
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Like :func:`atomic_path` for a folder: fill the yielded temporary folder; it becomes ``path`` on success."""
    path = check_folder_destination(path)
    tmp = temporary_sibling_folder(path)
    try:
        yield tmp
        move_folder_into_place(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
