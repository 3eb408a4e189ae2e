"""Many pictures at once: every content image, or every content x style pair, into one folder.

``plan_batch`` turns folders, globs and files into :class:`BatchItem` s (one output each);
``stylize_batch`` runs them with one method spec, loading the network or the encoder once (or on
the actors of a Ray cluster), skips the outputs an earlier run with the same settings finished,
and writes a contact sheet. What was made with which settings is kept in ``OUT_DIR/.videostyle-batch.json``,
so a rerun resumes and a changed setting redoes only what it changes.

>>> from videostyle.spec import MethodSpec
>>> items = plan_batch(expand_pictures(["photos/"]).pictures, [()], "out")  # doctest: +SKIP
>>> summary = stylize_batch(items, MethodSpec(method="feedforward", model="starry_night", size=512), "out")  # doctest: +SKIP
"""

from __future__ import annotations

import glob
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .errors import VideostyleError
from .io.atomic import atomic_path, check_not_an_input
from .io.image import save_picture, to_rgb
from .io.video import IMAGE_SUFFIXES, VIDEO_SUFFIXES, ClipWindow
from .registry import method_record
from .spec import ADAPT_METHOD, MethodSpec

#: The bookkeeping file of a batch's output folder: ``{output name: settings key}``.
MANIFEST = ".videostyle-batch.json"
#: The contact sheet's name in the output folder.
SHEET = "contact_sheet.png"
#: Height in pixels of one cell of the contact sheet.
SHEET_CELL = 128


@dataclass
class Pictures:
    """What :func:`expand_pictures` found: the pictures, and the other files of the folders and globs, skipped."""

    pictures: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)


def is_pattern(name: str | os.PathLike) -> bool:
    """A glob pattern (``*``, ``?``, ``[``) that is not itself the name of an existing file or folder."""
    return glob.has_magic(str(name)) and not Path(name).exists()


def names_several(name: str | os.PathLike) -> bool:
    """A folder or a glob pattern: a name for several pictures."""
    return Path(name).is_dir() or is_pattern(name)


def picture_extensions() -> set[str]:
    """File name endings Pillow reads (``.png``, ``.jpg``, ...), lower case."""
    from PIL import Image

    return {extension.lower() for extension in Image.registered_extensions()}


def expand_pictures(arguments: Sequence[str | os.PathLike], parameter: str = "content") -> Pictures:
    """Files as named; a folder's pictures (not its subfolders); a glob's matches. Files that are not pictures
    (by their ending) inside folders and globs are skipped and counted; a folder or glob with no picture, or
    a name that matches nothing, is an error naming ``parameter``. Each picture once, in the order given,
    folders and globs sorted by name."""
    extensions, found = picture_extensions(), Pictures()
    for argument in arguments:
        path = Path(argument)
        if path.is_file():
            found.pictures.append(path)
            continue
        if path.is_dir():
            entries, where = sorted(entry for entry in path.iterdir() if entry.is_file() and not entry.name.startswith(".")), f"the folder {path}"
        elif is_pattern(argument):
            entries, where = sorted(Path(match) for match in glob.glob(str(argument)) if Path(match).is_file()), f"the pattern {argument}"
        else:
            raise VideostyleError(f"no such file or folder: {argument}", parameter=parameter)
        pictures = [entry for entry in entries if entry.suffix.lower() in extensions]
        if not pictures:
            raise VideostyleError(f"no pictures in {where} ({len(entries)} other files)", parameter=parameter)
        found.pictures += pictures
        found.skipped += [entry for entry in entries if entry.suffix.lower() not in extensions]
    seen: set[Path] = set()
    found.pictures = [path for path in found.pictures if not (path.resolve() in seen or seen.add(path.resolve()))]  # type: ignore[func-returns-value]
    return found


@dataclass(frozen=True)
class BatchItem:
    """One output of a batch: ``content`` stylized with ``styles`` (blended; empty for a model's own style) into ``output``.
    ``label`` names the style for the contact sheet."""

    content: Path
    styles: tuple[str, ...]
    output: Path
    label: str


def plan_batch(
    contents: Sequence[Path], style_sets: Sequence[tuple[str, ...]], out_dir: str | os.PathLike, suffix: str = ".png", model: str | None = None
) -> list[BatchItem]:
    """Every content x style set, in content order. Outputs are ``OUT_DIR/CONTENT.png`` with one style set,
    ``OUT_DIR/CONTENT--STYLE.png`` with several (a blend's label joins its styles with ``+``); names that
    two inputs share get ``-2``, ``-3``, ... in the order given. An empty style set (a model's own style) is
    labelled by ``model``'s name."""
    if not contents:
        raise VideostyleError("no content pictures to stylize", parameter="content")
    if not style_sets:
        raise VideostyleError("no style sets (give () for a model's own style)", parameter="styles")
    out_dir = Path(out_dir)
    content_names = _unique([Path(content).stem for content in contents])
    own = Path(model).stem if model else "model"
    labels = _unique(["+".join(Path(style).stem for style in styles) or own for styles in style_sets])
    return [
        BatchItem(Path(content), tuple(styles), out_dir / (f"{name}{suffix}" if len(style_sets) == 1 else f"{name}--{label}{suffix}"), label)
        for content, name in zip(contents, content_names, strict=True)
        for styles, label in zip(style_sets, labels, strict=True)
    ]


def _unique(names: list[str]) -> list[str]:
    counts: dict[str, int] = {}
    unique = []
    for name in names:
        counts[name] = counts.get(name, 0) + 1
        unique.append(name if counts[name] == 1 else f"{name}-{counts[name]}")
    return unique


@dataclass
class BatchSummary:
    """How a batch went. ``written``: outputs made now; ``already_done``: skipped, finished by an earlier run with
    the same settings; ``redone``: outputs of an earlier run with other settings, made again; ``failed``:
    ``(content, reason)`` of contents that could not be read (the others were done). ``startup_seconds``:
    loading the network or encoder (and starting Ray); ``seconds``: the whole run."""

    written: int = 0
    already_done: int = 0
    redone: int = 0
    failed: list[tuple[Path, str]] = field(default_factory=list)
    seconds: float = 0.0
    startup_seconds: float = 0.0
    sheet: Path | None = None


def item_spec(spec: MethodSpec, item: BatchItem) -> MethodSpec:
    """The spec of one item: the batch's, with the item's styles."""
    return spec if not item.styles else replace(spec, styles=list(item.styles))


def _settings_key(spec: MethodSpec, content: Path, window: tuple = ()) -> str:
    """What an output depends on: the content file (path, size, time), the item's spec with its files fingerprinted,
    and for a clip its ``window`` (start, end, frame rate of a folder)."""
    from .runs import content_digest, file_fingerprint

    if spec.method == ADAPT_METHOD:  # no model yet: the style file and the adaptation settings say what it will be
        settings = dict(spec.to_dict(), styles=[file_fingerprint(path) for path in spec.styles])
    else:
        settings = spec.describe()
    return content_digest([json.dumps([file_fingerprint(content), settings, list(window)], sort_keys=True, default=str).encode()], 32)


class _Manifest:
    """``OUT_DIR/.videostyle-batch.json``: the settings key of every output a batch wrote there."""

    def __init__(self, out_dir: Path):
        self.path = out_dir / MANIFEST
        try:
            self.keys: dict[str, str] = json.loads(self.path.read_text())["outputs"] if self.path.exists() else {}
        except (OSError, ValueError, KeyError, TypeError):
            raise VideostyleError(f"{self.path} is damaged: remove it (every output is then made again)", parameter="output") from None

    def record(self, output: Path, key: str) -> None:
        self.keys[output.name] = key
        with atomic_path(self.path) as tmp:
            tmp.write_text(json.dumps({"outputs": self.keys}, indent=1, sort_keys=True))


class _Ledger:
    """A batch's bookkeeping in its output folder: what is still to do, and what became of each item."""

    def __init__(self, out_dir: Path, items: Sequence[BatchItem], keys: dict[Path, str], summary: BatchSummary, on_start, on_item):
        self.manifest, self.keys, self.summary, self.on_item = _Manifest(out_dir), keys, summary, on_item
        self.todo = [item for item in items if self.manifest.keys.get(item.output.name) != keys[item.output] or not item.output.exists()]
        summary.already_done = len(items) - len(self.todo)
        if on_start is not None:
            on_start(len(items), summary.already_done)

    def finished(self, item: BatchItem, failure: str | None) -> None:
        """``item`` was written (``failure`` None) or could not be made (the reason)."""
        if failure is not None:
            self.summary.failed.append((item.content, failure))
            kind = "failed"
        else:
            kind = "redone" if item.output.name in self.manifest.keys else "written"
            self.summary.redone += kind == "redone"
            self.summary.written += 1
            self.manifest.record(item.output, self.keys[item.output])
        if self.on_item is not None:
            self.on_item(item, kind)


def check_batch_destination(items: Sequence[BatchItem], out_dir: str | os.PathLike) -> Path:
    """The output folder: it may exist (then it must be a folder) or its parent must; no output may be an input,
    and an existing output must have been written by a batch (listed in the manifest): nothing else is overwritten."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise VideostyleError(f"the output of a batch is a folder, but {out_dir} is a file", parameter="output")
    if not out_dir.exists() and out_dir.suffix.lower() in (*IMAGE_SUFFIXES, *VIDEO_SUFFIXES, ".gif"):  # a folder so named is a typo
        raise VideostyleError(f"the output of a batch is a folder, but {out_dir} names a picture or a video file: give a folder", parameter="output")
    parent = out_dir.parent if str(out_dir.parent) else Path(".")
    if not out_dir.exists() and not parent.is_dir():
        raise VideostyleError(f"output folder's parent does not exist: {parent}", parameter="output")
    known = _Manifest(out_dir).keys if out_dir.is_dir() else {}
    for item in items:
        if item.output.parent != out_dir:
            raise VideostyleError(f"the item's output {item.output} is not in the batch's folder {out_dir} (plan the batch for it)", parameter="output")
        check_not_an_input(item.output, [item.content, *item.styles])
        if item.output.exists() and item.output.name not in known:
            raise VideostyleError(f"{item.output} exists and was not written by a videostyle batch: move it, or write to another folder", parameter="output")
    return out_dir


def stylize_batch(
    items: Sequence[BatchItem],
    spec: MethodSpec,
    out_dir: str | os.PathLike,
    *,
    device=None,
    ray=None,
    sheet: bool = True,
    on_start: Callable[[int, int], None] | None = None,
    on_item: Callable[[BatchItem, str], None] | None = None,
    on_step=None,
    on_adapt=None,
) -> BatchSummary:
    """Stylize every item with ``spec`` (its styles replaced by each item's) into ``out_dir``.

    The network (one-pass methods) or the VGG encoder (optimisation) is loaded once for the batch.
    Outputs an earlier batch made with the same settings are skipped; contents that cannot be read
    are counted in ``failed`` and the rest goes on. ``ray``: a
    :class:`~videostyle.distributed.ray_runner.RaySettings` to spread the items over a cluster.
    ``on_start(total, already_done)``; ``on_item(item, outcome)`` with outcome ``written``,
    ``redone`` or ``failed``; ``on_step(step)`` per optimisation iteration (local runs);
    ``on_adapt(report)`` per adaptation step of method adapt.
    """
    from .devices import resolve_device
    from .io.image import load_image
    from .runs import run_lock
    from .training.adapt import adapted_spec

    started = time.perf_counter()
    if not items:
        raise VideostyleError("no content pictures to stylize", parameter="content")
    for styles in dict.fromkeys(item.styles for item in items):
        (replace(spec, styles=list(styles)) if styles else spec).check()
    for style in dict.fromkeys(style for item in items for style in item.styles):
        load_image(style)  # a broken style stops the batch here, not at every item
    out_dir = check_batch_destination(items, out_dir)
    device = resolve_device(device)
    out_dir.mkdir(exist_ok=True)
    summary = BatchSummary()
    with run_lock(out_dir / ".videostyle-batch"):
        keys = {item.output: _settings_key(item_spec(spec, item), item.content) for item in items}
        ledger = _Ledger(out_dir, items, keys, summary, on_start, on_item)
        thumbnails: dict[Path, Image.Image] = {}
        if ledger.todo:
            common = _common_folder([item.content for item in items])
            by_styles = {item.styles: item for item in ledger.todo}
            adapted = {styles: adapted_spec(item_spec(spec, item), common, device, on_adapt) for styles, item in by_styles.items()}
            run = _ray_items if ray is not None else _local_items
            # written here, not in a thread overlapping the next picture: on 2 cores that was 0-20% slower (the
            # network's threads wait for the PNG encoder), measured with benchmarks/batch_speed.py
            for item, outcome in run(ledger.todo, adapted, device, ray, on_step, summary):
                if isinstance(outcome, str):
                    ledger.finished(item, outcome)
                    continue
                picture = Image.fromarray(outcome)
                save_picture(picture, item.output)
                ledger.finished(item, None)
                if sheet:
                    thumbnails[item.output] = _thumbnail(picture, SHEET_CELL)
        if sheet:
            summary.sheet = write_contact_sheet([item for item in items if item.output.exists()], out_dir / SHEET, thumbnails)
    summary.seconds = time.perf_counter() - started
    return summary


def _common_folder(contents: list[Path]) -> Path | None:
    """The one folder every content is in (method adapt adapts to it), or None (the shipped photos)."""
    folders = {content.resolve().parent for content in contents}
    return folders.pop() if len(folders) == 1 else None


def _local_items(todo, adapted, device, ray, on_step, summary) -> Iterator[tuple[BatchItem, np.ndarray | str]]:
    """Each item in this process, with one network per style set and one encoder for all."""
    from .api import stylize
    from .io.image import load_image, to_uint8

    loading = time.perf_counter()
    first_spec = next(iter(adapted.values()))
    encoder = None if method_record(first_spec.method).styles == "none" else first_spec.encoder.load(device)
    stylizers: dict = {}
    summary.startup_seconds = time.perf_counter() - loading
    for item in todo:
        spec = adapted[item.styles]
        try:
            content = load_image(item.content)
        except VideostyleError as error:
            yield item, str(error)
            continue
        if spec.one_pass and item.styles not in stylizers:
            from .methods.one_pass import build_stylizer

            loading = time.perf_counter()
            stylizers[item.styles] = build_stylizer(spec, device, encoder)[0]
            summary.startup_seconds += time.perf_counter() - loading
        callback = None if on_step is None else lambda scale, step: on_step(step)
        try:
            result = stylize(content, spec, device=device, encoder=encoder, stylizer=stylizers.get(item.styles), callback=callback)
        except VideostyleError as error:  # this picture cannot be made (too small, ...): the others go on
            yield item, f"{item.content}: {error}"
            continue
        yield item, to_uint8(result.image)


def _ray_items(todo, adapted, device, ray, on_step, summary) -> Iterator[tuple]:
    loading = time.perf_counter()
    runner = ray.batch_runner(adapted)
    summary.startup_seconds = time.perf_counter() - loading
    try:
        yield from runner.run(todo)
    finally:
        runner.close()


def plan_clips(inputs: Sequence[str | os.PathLike], out_dir: str | os.PathLike, suffix: str = ".mp4") -> list[BatchItem]:
    """One output per clip (a video file or a folder of frames; globs expanded): ``OUT_DIR/CLIP.mp4``, ``-2``, ... for shared names."""
    clips: list[Path] = []
    for given in inputs:
        if is_pattern(given):
            matches = sorted(Path(match) for match in glob.glob(str(given)))
            if not matches:
                raise VideostyleError(f"no clip matches {given}", parameter="input")
            clips += matches
        else:
            clips.append(Path(given))
    names = _unique([clip.stem if clip.is_file() else clip.name for clip in clips])
    return [BatchItem(clip, (), Path(out_dir) / f"{name}{suffix}", "clip") for clip, name in zip(clips, names, strict=True)]


def stylize_clips(
    items: Sequence[BatchItem],
    spec: MethodSpec,
    out_dir: str | os.PathLike,
    *,
    window: ClipWindow | None = None,
    run=None,
    device=None,
    progress_for: Callable | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_item: Callable[[BatchItem, str], None] | None = None,
    restyle_audio=None,
) -> BatchSummary:
    """:func:`~videostyle.pipeline.stylize_video` for every clip into ``out_dir``, the same window of each.

    Clips an earlier batch finished with the same settings are skipped; a clip that cannot be read is
    counted in ``failed`` and the others go on. ``run``: the :class:`~videostyle.pipeline.RunSettings`
    of every clip (its own run folder each, so ``run.folder`` must be None); ``progress_for(item)``:
    the :class:`~videostyle.pipeline.Progress` of one clip; ``restyle_audio`` as for ``stylize_video``.
    ``on_start``/``on_item`` as for :func:`stylize_batch`.
    """
    from .pipeline import RunSettings, stylize_video
    from .runs import run_lock

    started = time.perf_counter()
    run = run or RunSettings()
    window = window or ClipWindow()
    if not items:
        raise VideostyleError("no clips to stylize", parameter="input")
    if run.folder is not None and len(items) > 1:
        raise VideostyleError("each clip of a batch has its own run folder beside its output: leave run_dir unset", parameter="run_dir")
    spec.check()
    out_dir = check_batch_destination(items, out_dir)
    out_dir.mkdir(exist_ok=True)
    summary = BatchSummary()
    with run_lock(out_dir / ".videostyle-batch"):
        for item in items:
            if not item.content.exists():
                raise VideostyleError(f"no such file or folder: {item.content}", parameter="input")
        keys = {item.output: _settings_key(spec, item.content, (window.start, window.end, window.fps, restyle_audio)) for item in items}
        ledger = _Ledger(out_dir, items, keys, summary, on_start, on_item)
        for item in ledger.todo:
            try:
                progress = progress_for(item) if progress_for else None
                stylize_video(item.content, item.output, spec, window=window, run=run, device=device, progress=progress, restyle_audio=restyle_audio)
            except VideostyleError as error:
                ledger.finished(item, f"{item.content}: {error}")
            else:
                ledger.finished(item, None)
    summary.seconds = time.perf_counter() - started
    return summary


def _thumbnail(image: Image.Image, cell: int) -> Image.Image:
    return image.resize((max(1, round(image.width * cell / image.height)), cell), Image.Resampling.BILINEAR, reducing_gap=2.0)


def write_contact_sheet(items: Sequence[BatchItem], path: Path, known: dict[Path, Image.Image] | None = None, cell: int = SHEET_CELL) -> Path | None:
    """One row per content: the content, then its output for each style (labelled in the header line). None if no item.
    ``known``: thumbnails already made (``cell`` pixels high), by output path; the others are read from disk."""
    from .io.sheet import save_labelled_grid

    if not items:
        return None
    known = known or {}
    labels = list(dict.fromkeys(item.label for item in items))
    by_content: dict[Path, dict[str, Path]] = {}
    for item in items:
        by_content.setdefault(item.content, {})[item.label] = item.output

    def thumbnail(picture: Path | None) -> Image.Image:
        if picture is None:
            return Image.new("RGB", (cell, cell), "white")
        if picture in known:
            return known[picture]
        try:
            with Image.open(picture) as opened:
                opened.draft("RGB", (cell * 4, cell))  # JPEG: decoded at a fraction of its size
                image = to_rgb(ImageOps.exif_transpose(opened))
        except (OSError, SyntaxError, ValueError):
            return Image.new("RGB", (cell, cell), "grey")
        return _thumbnail(image, cell)

    rows = [[thumbnail(content), *(thumbnail(outputs.get(label)) for label in labels)] for content, outputs in by_content.items()]
    with atomic_path(path) as tmp:
        save_labelled_grid(["content", *labels], rows, cell, tmp)
    return path
