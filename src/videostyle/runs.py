"""Run folders and fingerprints: one rule for every resumable job (video runs, trainings).

A run folder holds the settings a run was started with (a JSON file) and its partial results.
Opened again with the same settings it is resumed; opened with other settings it is refused
with a message that names the first differing setting, unless ``restart`` is asked, which
discards it. ``comparable`` drops what may change between a run and its resumption (a
training's step count, which extends or ends a run).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .errors import VideostyleError
from .io.atomic import atomic_path


def default_run_folder(output: str | os.PathLike, suffix: str) -> Path:
    """``.NAME.SUFFIX`` beside the output: ``out.mp4`` -> ``.out.mp4.run``."""
    output = Path(output)
    return output.parent / f".{output.name}.{suffix}"


def file_fingerprint(path: str | os.PathLike) -> dict:
    """What identifies an input file for resuming: its absolute path, size and modification time."""
    path = Path(path)
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def clip_fingerprint(path: str | os.PathLike) -> dict:
    """What identifies a clip for resuming: a video file's :func:`file_fingerprint`, or a folder of frames by its
    absolute path."""
    path = Path(path)
    return file_fingerprint(path) if path.is_file() else {"folder": str(path.resolve())}


def content_digest(chunks: Iterable[bytes], length: int = 64) -> str:
    """sha256 of a sequence of byte strings (image pixels, shapes, file bytes), hex, ``length`` characters."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()[:length]


def first_difference(old: object, new: object, prefix: str = "") -> str | None:
    """The dotted name of the first setting that differs between two JSON-like values, or None."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            found = first_difference(old.get(key), new.get(key), f"{prefix}.{key}" if prefix else str(key))
            if found is not None:
                return found
        return None
    return None if old == new else (prefix or "settings")


def _normalised(settings: dict) -> dict:
    return json.loads(json.dumps(settings, sort_keys=True, default=str))


def open_run_folder(
    run: Path,
    settings: dict,
    settings_file: str,
    restart: bool,
    restart_parameter: str,
    comparable: Callable[[dict], dict] = lambda settings: settings,
) -> bool:
    """Create ``run`` with ``settings`` in ``settings_file``, or check an existing one; True if resumed.

    ``restart_parameter`` is how the caller asks for a restart (``restart=True``), named in the refusal.
    """
    settings_path = run / settings_file
    settings = _normalised(settings)
    resumed = False
    if run.exists():
        try:
            old = json.loads(settings_path.read_text())
        except (OSError, ValueError):
            old = None
        difference = "the settings file is missing or damaged" if old is None else first_difference(comparable(old), comparable(settings))
        if difference is not None and not restart:
            raise VideostyleError(
                f"the run folder {run} was started with other settings ({difference} differs); {restart_parameter} discards it", parameter=restart_parameter
            )
        if difference is not None:
            shutil.rmtree(run)
        resumed = difference is None
    try:
        run.mkdir(parents=True, exist_ok=True)
        if not settings_path.exists():
            with atomic_path(settings_path) as tmp:
                tmp.write_text(json.dumps(settings, sort_keys=True, indent=1))
    except OSError as error:
        raise VideostyleError(f"cannot create the run folder {run}: {error.strerror}") from None
    return resumed


@contextlib.contextmanager
def run_lock(run: Path) -> Iterator[None]:
    """Hold ``RUN.lock`` beside the run folder for the block: a second run of the same output is refused
    at once, naming the first's process. The lock is the kernel's (``flock``), so a killed run never
    leaves a stale one."""
    lock_path = run.with_name(run.name + ".lock")
    try:
        run.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise VideostyleError(f"cannot create the run folder's lock {lock_path}: {error.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise VideostyleError(f"another run (process {holder}) is using {run}: wait for it to finish, or write to another output") from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            lock_path.unlink()
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
