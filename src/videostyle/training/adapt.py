"""Per-style adaptation: a fast single-style network fine-tuned to one style in minutes.

The network is the bundled single-style models' (``arch="fast"``, real time on the CPU). It
starts from a learned point, ``start``:

- ``"any-style"``: the any-style network's own prediction for the style
  (:func:`any_style_network`): its convolutions, with the normalisation scales and shifts it
  predicts for this style written into ordinary instance normalisation;
- ``"meta"``: the bundled Reptile initialisation ``meta_init`` (:mod:`videostyle.training.meta`);
- ``"scratch"``: random weights (the baseline the benchmark compares against);
- a trained single-style model (bundled name or file): its weights;
- a trained any-style network (``arbitrary_video_lean``, a file): its prediction for the style, as
  ``"any-style"`` does with ``any_style_model``. The adapted network has that network's architecture
  (``arbitrary_video_lean`` gives a lean, faster network).

It is then trained by the ReCoNet trainer (:func:`~videostyle.training.video.train_video_network`,
Gram statistics, temporal losses): on frame pairs of the content clip with estimated flow, or on
scenes generated from content images with exact flow. Results are cached under
``cache_dir()/adapted`` by the style's bytes, the content and the settings; an interrupted
adaptation resumes from its checkpoint.
"""

from __future__ import annotations

import os
import shutil
import warnings
from dataclasses import asdict
from importlib import resources
from pathlib import Path

import torch

from ..cache import CacheWarning, cache_dir, cache_folder, discard, file_digest, is_verified, write_sidecar
from ..errors import VideostyleError
from ..io.atomic import atomic_path
from ..io.image import load_image, to_tensor
from ..models import load_model
from ..models.arbitrary import ArbitraryStyleNet
from ..models.files import model_kind, read_model_info, resolve_model_path, save_model
from ..models.transformer import TransformerConfig, TransformerNet
from ..options import MIN_TRAINING_SIZE, AdaptOptions
from ..runs import content_digest
from .loop import RunControl, StepReport

#: The cache's subfolder of adapted models.
CACHE_FOLDER = "adapted"
#: At most this many frame pairs are taken from a content clip (a longer clip is sampled more sparsely).
MAX_PAIRS = 200
#: The smallest style image side adaptation accepts (its statistics need a few VGG pooling levels).
MIN_STYLE_SIDE = 32


def default_content() -> Path:
    """The folder of photos shipped to adapt on when no content is given."""
    return Path(str(resources.files("videostyle") / "data" / "content"))


def _load_style(style: str | os.PathLike) -> torch.Tensor:
    image = load_image(style)  # a one-line error for a missing or unreadable file
    if min(image.size) < MIN_STYLE_SIDE:
        raise VideostyleError(
            f"style image {style} is {image.width}x{image.height}; adaptation needs at least {MIN_STYLE_SIDE} pixels a side", parameter="styles"
        )
    return to_tensor(image)


def any_style_network(style: str | os.PathLike, model: str = "arbitrary_video_corpus", encoder=None, style_size: int = 256) -> TransformerNet:
    """The any-style network's prediction for ``style`` as a single-style :class:`TransformerNet` (instance
    normalisation holding the predicted scales and shifts); it stylizes exactly as the any-style network does."""
    from ..features import load_encoder
    from ..methods.arbitrary import style_parameters

    network, _ = load_model(model, "arbitrary_video")
    assert isinstance(network, ArbitraryStyleNet)
    params = style_parameters(network, encoder or load_encoder(), [_load_style(style)], style_size)[0]
    single = TransformerNet(TransformerConfig.for_arch(network.config.arch, style_names=[Path(style).stem]))
    single.load_state_dict(network.transformer.state_dict(), strict=False)  # the convolutions; the normalisations follow
    with torch.no_grad():
        for own, theirs in zip(single.norm_layers(), network.transformer.norm_layers(), strict=True):
            weight, bias = own.affine_parameters()
            weight.copy_(params[theirs.offset : theirs.offset + theirs.channels])
            bias.copy_(params[theirs.offset + theirs.channels : theirs.offset + 2 * theirs.channels])
    return single.eval()


def _start_model_file(style: Path, options: AdaptOptions, path: Path, encoder) -> str | None:
    """A model name or file the trainer can warm-start from (``start="any-style"``: written to ``path``)."""
    if options.start == "scratch":
        return None
    if options.start == "meta":
        return "meta_init"
    if options.start == "any-style":
        any_style_model = options.any_style_model
    elif model_kind(options.start) == "arbitrary_video":
        any_style_model = options.start
    else:  # a single-style network: its own weights
        return options.start
    network = any_style_network(style, any_style_model, encoder)
    save_model(path, network.state_dict(), "transformer", network.config.to_dict(), {"training": {"start": "any-style", "model": any_style_model}})
    return str(path)


def _is_clip(content: Path) -> bool:
    from ..io.video import IMAGE_SUFFIXES

    return not content.is_dir() and content.suffix.lower() not in IMAGE_SUFFIXES


def _clip_settings(content: Path, size: int) -> tuple[int, int]:
    """``(crop size, pair stride)``: ``size`` or a clip's short side where that is smaller, and every 3rd
    frame pair (the trainer's default), sparser for a clip of over ``3 * MAX_PAIRS`` frames."""
    from ..io.video import VideoReader

    if not _is_clip(content):
        return size, 3
    info = VideoReader(content).info
    short = min(info.width, info.height)
    if short < MIN_TRAINING_SIZE:
        raise VideostyleError(
            f"the content clip {content.name} is {info.width}x{info.height}; adaptation needs at least {MIN_TRAINING_SIZE} pixels a side", parameter="content"
        )
    return min(size, short), max(3, -(-info.frame_count // MAX_PAIRS))


def cached_adaptation(style: str | os.PathLike, content: str | os.PathLike | None, options: AdaptOptions) -> Path | None:
    """The cached model :func:`adapt` would return at once for these arguments, or None (nothing is trained)."""
    content = Path(content) if content is not None else default_content()
    path = cache_dir() / CACHE_FOLDER / f"{Path(style).stem}-{adaptation_key(Path(style), content, options.check())}.safetensors"
    return path if is_verified(path) else None


def adapted_spec(spec, content: str | os.PathLike | None, device: torch.device | str = "cpu", on_step=None, train: bool = True, notes: list[str] | None = None):
    """For a :class:`~videostyle.spec.MethodSpec` of method ``adapt``: the spec of its adapted network
    (method ``feedforward``, ``model`` the cached file), adapting first unless cached (``train=False``:
    an error instead). ``content``: the clip or image being stylized (None: the shipped photos).
    ``notes`` receives one line for the user: how long the adaptation took and where the network is
    cached, or that it came from the cache. Other specs come back unchanged."""
    import time
    from dataclasses import replace

    from ..spec import ADAPT_METHOD

    if spec.method != ADAPT_METHOD:
        return spec
    if train:
        started = time.perf_counter()
        path, cached = adapt(spec.styles[0], content, spec.adaptation, device=device, on_step=on_step)
        name = Path(spec.styles[0]).name
        if notes is not None:
            took = f"adapted a network to {name} in {time.perf_counter() - started:.1f} s"
            notes.append(f"cached: the network adapted to {name} started at once ({path})" if cached else f"{took}; cached as {path}")
    else:
        found = cached_adaptation(spec.styles[0], content, spec.adaptation)
        if found is None:
            raise VideostyleError(
                f"method adapt cannot be timed before {Path(spec.styles[0]).name} is adapted to this content (the adaptation is capped by adaptation.minutes); "
                "run it once, or `videostyle adapt` first"
            )
        path = found
    return replace(spec, method="feedforward", model=str(path), styles=[], style_weights=None, adaptation=AdaptOptions())


def adaptation_key(style: Path, content: Path, options: AdaptOptions) -> str:
    """What identifies an adaptation: the style's and the content's bytes, the settings, the starting model's bytes."""
    start = None if options.start in ("any-style", "scratch") else file_digest(resolve_model_path("meta_init" if options.start == "meta" else options.start))
    any_style = file_digest(resolve_model_path(options.any_style_model)) if options.start == "any-style" else None
    files = sorted(content.iterdir()) if content.is_dir() else [content]
    content_key = [(file.name, file_digest(file)) for file in files if file.is_file() and not file.name.startswith(".")]
    parts = [file_digest(style), str(content_key), str(sorted(asdict(options).items())), str(start), str(any_style)]
    return content_digest((part.encode() for part in parts), 20)


def _architecture(init_model: str | None) -> str:
    """The transformer architecture an adaptation trains: its start model's (``fast`` from scratch)."""
    if init_model is None:
        return "fast"
    return read_model_info(resolve_model_path(init_model)).get("config", {}).get("arch", "fast")


def adapt(
    style: str | os.PathLike,
    content: str | os.PathLike | None = None,
    options: AdaptOptions | None = None,
    output: str | os.PathLike | None = None,
    device: torch.device | str = "cpu",
    on_step=None,
    encoder=None,
    folder: Path | None = None,
) -> tuple[Path, bool]:
    """A fast network adapted to ``style`` on ``content`` (a clip, an image or a folder of images;
    None: the shipped photos). Returns ``(model file, whether it came from the cache)``.

    The model is cached (in ``folder``, default the user cache's); ``output``, when given, receives a copy.
    ``on_step(StepReport)`` follows the training; ``encoder``: an already loaded VGG to share.
    """
    from .video import VideoTrainOptions, train_video_network

    options = (options or AdaptOptions()).check()
    style = Path(style)
    _load_style(style)
    content = Path(content) if content is not None else default_content()
    if not content.exists():
        raise VideostyleError(f"no such file or folder to adapt on: {content}", parameter="content")
    folder = folder if folder is not None else cache_folder(CACHE_FOLDER, "adapted models")
    cached = folder / f"{style.stem}-{adaptation_key(style, content, options)}.safetensors"
    hit = is_verified(cached)
    if not hit:
        if cached.exists():
            warnings.warn(f"the cached adapted model {cached} could not be verified; adapting again", CacheWarning, stacklevel=2)
            discard(cached)
        run, init_file = folder / f".{cached.stem}.train", folder / f".{cached.stem}.init.safetensors"
        crop, stride = _clip_settings(content, options.size)
        init_model = _start_model_file(style, options, init_file, encoder)
        train_options = VideoTrainOptions(
            mode="reconet",
            arch=_architecture(init_model),
            pair_stride=stride,
            steps=options.steps,
            size=crop,
            learning_rate=options.learning_rate,
            style_weight=options.style_weight,
            seed=options.seed,
            checkpoint_every=25,
            init_model=init_model,
        )
        time_limit = None if options.minutes is None else options.minutes * 60
        control = RunControl(device=device, encoder=encoder, run_folder=run, on_step=on_step, time_limit=time_limit)
        data = [content, default_content()] if options.with_photos and _is_clip(content) else [content]
        train_video_network([style], data, cached, train_options, control)
        write_sidecar(cached)
        init_file.unlink(missing_ok=True)
    if output is not None:
        with atomic_path(Path(output)) as tmp:
            shutil.copyfile(cached, tmp)
        return Path(output), hit
    return cached, hit


def estimate_adaptation(
    style: str | os.PathLike, content: str | os.PathLike | None, options: AdaptOptions, device: torch.device | str = "cpu", probe_steps: int = 3
) -> float:
    """Seconds an adaptation with ``options`` would take here, measured now as the page's other estimates are: an
    adaptation of ``probe_steps`` steps into a scratch folder, whose set-up (frames, flow, start model) and time per
    step are extrapolated to ``options.steps`` (capped by ``options.minutes``)."""
    import tempfile
    import time
    from dataclasses import replace

    stamps: list[float] = []
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        adapt(
            style,
            content,
            replace(options, steps=probe_steps, minutes=None),
            device=device,
            on_step=lambda _: stamps.append(time.perf_counter()),
            folder=Path(scratch),
        )
    per_step = (stamps[-1] - stamps[0]) / max(1, len(stamps) - 1)
    training = per_step * options.steps if options.minutes is None else min(per_step * options.steps, 60 * options.minutes)
    return (stamps[0] - began - per_step) + training


__all__ = [
    "StepReport",
    "adapt",
    "adaptation_key",
    "adapted_spec",
    "any_style_network",
    "default_content",
    "estimate_adaptation",
]
