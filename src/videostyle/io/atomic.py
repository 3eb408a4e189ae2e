"""Write outputs under a temporary name and rename them only when complete.

An interrupted or failed run therefore never leaves a half-written file at the
destination, and never clobbers an existing file until the new one is whole.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
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


def check_png_destination(path: str | os.PathLike, parameter: str) -> Path:
    """A writable destination for a PNG picture (a sheet, a plot): the name must say .png."""
    if Path(path).suffix.lower() != ".png":
        raise VideostyleError(f"{parameter} is written as PNG: its name must end in .png, got {path}", parameter=parameter)
    return check_writable_destination(path)


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name the same file or folder: by identity (device and inode) where both exist,
    through symbolic links and other spellings, else by their resolved absolute paths."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def check_not_an_input(output: str | os.PathLike, inputs: Iterable[str | os.PathLike | None], parameter: str = "output") -> None:
    """Refuse an output that is one of the inputs (an input is never overwritten), before anything is written."""
    for given in inputs:
        if given is not None and isinstance(given, (str, os.PathLike)) and same_file(output, given):
            raise VideostyleError(f"the output {output} is the input {given}: refusing to overwrite an input", parameter=parameter)


_CLEANED_FOLDERS: set[Path] = set()
#: The markers of temporary names (``.NAME.PID.XXXX.partial.EXT``, ``.NAME.PID.XXXX.partial``, ``.NAME.PID.XXXX.frames``).
_TEMPORARY_MARKERS = (".partial", ".frames")


def remove_stale_partials(folder: Path) -> None:
    """Remove the temporary files and folders in ``folder`` left by processes that no longer run (killed
    with SIGKILL, or a machine that went down); a live process's are kept. Once per folder and process:
    one listing, however many files are then written there."""
    key = folder.resolve()
    if key in _CLEANED_FOLDERS:
        return
    _CLEANED_FOLDERS.add(key)
    for entry in folder.iterdir() if folder.is_dir() else ():
        marker = next((m for m in _TEMPORARY_MARKERS if m in entry.name), None)
        if not entry.name.startswith(".") or marker is None:
            continue
        parts = entry.name.split(marker, 1)[0].rsplit(".", 2)  # [".NAME", PID, XXXX]
        if len(parts) == 3 and parts[1].isdigit() and not _process_alive(int(parts[1])):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def temporary_sibling(path: Path) -> Path:
    """Create an empty temporary file beside ``path`` (same suffix, usual permissions) and return its path.

    Its name carries this process's id, so that a later run can tell a killed run's leftovers from a live one's.
    """
    remove_stale_partials(path.parent)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.{os.getpid()}.", suffix=f".partial{path.suffix}", dir=path.parent)
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
        os.chmod(tmp, 0o666 & ~_current_umask())  # again: a writer may have replaced the file (safetensors writes 0600)
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
    """Create an empty temporary folder beside ``path`` (its name carries this process's id) and return its path."""
    remove_stale_partials(path.parent)
    try:
        return Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}.", suffix=suffix, dir=path.parent))
    except OSError as error:
        raise VideostyleError(f"cannot write to folder {path.parent}: {error.strerror}") from None


def move_folder_into_place(tmp: Path, path: Path) -> None:
    """Rename a finished temporary folder onto ``path`` (missing or empty, as checked at the start)."""
    if path.exists():
        path.rmdir()
    os.chmod(tmp, 0o777 & ~_current_umask())  # mkdtemp makes 0700; outputs get the usual permissions
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
