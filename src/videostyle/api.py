"""The one-call Python API.

``stylize(content, spec)`` runs any method described by a :class:`~videostyle.spec.MethodSpec`;
``stylize_image`` (optimisation) and ``stylize_image_with_model`` (one pass) are shortcuts that
build the spec from keywords. Video: :func:`videostyle.pipeline.stylize_video`.

>>> from videostyle import stylize_image
>>> result = stylize_image("photo.jpg", "painting.jpg", size=256, iterations=100)  # doctest: +SKIP
>>> result.to_pil().save("out.png")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from .checks import check_picture_size
from .devices import memory_errors, resolve_device
from .errors import VideostyleError
from .features import VGGEncoder
from .io.atomic import check_not_an_input, check_writable_destination
from .io.image import picture_array, save_image, size_for_long_side, to_tensor
from .methods.feedforward import OnePassStylizer
from .methods.gatys import stylize as gatys_stylize
from .methods.gatys import to_output
from .methods.optimize import Step
from .options import IMAGE_SIZE, GatysOptions, PictureOptions, VideoOptions
from .results import ImageResult
from .spec import ADAPT_METHOD, FACES_METHOD, MethodSpec
from .training.adapt import adapted_spec
from .training.loop import StepReport


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def intermediate_path(output: str | os.PathLike, iteration: int, scale: int | None = None) -> Path:
    """Where ``--save-every`` writes: ``out.png`` -> ``out_s1_iter0100.png`` (scale part only when multi-scale)."""
    output = Path(output)
    scale_part = "" if scale is None else f"_s{scale}"
    return output.with_name(f"{output.stem}{scale_part}_iter{iteration:04d}{output.suffix}")


def stylize(
    content,
    spec: MethodSpec,
    *,
    style_images: Sequence | None = None,
    output: str | os.PathLike | None = None,
    device: str | torch.device | None = None,
    encoder: VGGEncoder | None = None,
    callback: Callable[[int, Step], None] | None = None,
    save_every: int = 0,
    on_adapt: Callable[[StepReport], None] | None = None,
    stylizer: OnePassStylizer | None = None,
) -> ImageResult:
    """Stylize one image with any method: the one library call behind ``videostyle image``.

    ``content``: a path, Pillow image, ``H x W x C`` array or ``[B x] C x H x W`` tensor in [0, 1].
    ``style_images`` (same kinds) replace reading ``spec.styles`` from disk. With ``output`` the
    result is also written there (atomically). Optimisation only: ``callback(scale, step)`` after
    every iteration; ``save_every=N`` also writes every N-th iterate beside ``output``. Method adapt:
    adapts on ``content`` when it is a path (else on the shipped photos), ``on_adapt(report)`` after
    every training step, unless the cache holds the network. ``stylizer``: the one-pass network of this
    spec already built (:func:`~videostyle.methods.one_pass.build_stylizer`), which a batch reuses.

    >>> from videostyle.spec import MethodSpec
    >>> result = stylize("photo.jpg", MethodSpec(method="feedforward", model="starry_night"))  # doctest: +SKIP
    >>> result.to_pil().save("out.png")  # doctest: +SKIP
    """
    from .io.image import load_image, resize_long_side

    if output is not None:
        check_writable_destination(output)
        check_not_an_input(output, [content, *spec.styles, spec.mask, *(style_images or [])])
    spec.check(style_count=None if style_images is None else len(style_images))
    device = resolve_device(device)
    picture = picture_array(content)  # 8-bit, so that a big picture can stream through a network in tiles
    content_tensor = to_tensor(content, device) if picture is None else None
    if spec.method == ADAPT_METHOD and style_images is not None:
        raise VideostyleError("method adapt reads its style image from the spec's styles (a file), not style_images", parameter="style_images")
    adaptation: list[str] = []
    spec = adapted_spec(spec, _path_or_none(content), device, on_adapt, notes=adaptation)
    if not spec.one_pass and encoder is None:
        encoder = spec.encoder.load(device)  # before the clock, as the command line always timed it
    streams = spec.one_pass and picture is not None and (not spec.size or max(picture.shape[:2]) == spec.size)
    if content_tensor is None and not streams:
        content_tensor = to_tensor(picture, device)
    started = time.perf_counter()
    if spec.one_pass:
        from .methods.one_pass import build_stylizer

        if streams:
            assert picture is not None
            height, width = picture.shape[:2]
        else:
            assert content_tensor is not None
            image = resize_long_side(content_tensor, spec.size) if spec.size else content_tensor
            height, width = image.shape[-2:]
        check_picture_size(height, width)
        if stylizer is None:
            stylizer, _ = build_stylizer(spec, device, encoder, style_images)
        with memory_errors(width, height, device):
            stylized, notes = stylizer.stylize_picture(picture) if picture is not None and streams else (stylizer.stylize_tensor(image), [])
        result = ImageResult(stylized, iterations=0, seconds=0.0, losses={}, history=[], notes=notes)
    elif spec.method == FACES_METHOD:
        from .faces import stylize_face

        assert content_tensor is not None

        exemplars = list(style_images) if style_images is not None else list(spec.styles)
        face, report = stylize_face(
            content_tensor,
            exemplars,
            options=spec.image_options(),
            size=spec.size,
            face_box=spec.face_box,
            encoder=encoder,
            device=device,
            callback=callback,
        )
        result = ImageResult(**vars(face))
        result.notes = [*report.notes, report_line(report)]
    else:
        assert content_tensor is not None
        options, picture_options = spec.image_options(), spec.picture_options()
        luminance = picture_options.luminance
        styles = [to_tensor(item, device) for item in (style_images if style_images is not None else [load_image(path) for path in spec.styles])]
        hook = callback
        if save_every and output is not None:
            multi_scale = options.scales > 1

            def hook(scale: int, step: Step) -> None:
                if step.iteration % save_every == 0:
                    save_image(to_output(step.variable, content_tensor, luminance), intermediate_path(output, step.iteration, scale if multi_scale else None))
                if callback is not None:
                    callback(scale, step)

        height, width = content_tensor.shape[-2:]
        if spec.size:
            height, width = size_for_long_side(height, width, spec.size)
        check_picture_size(height, width)
        with memory_errors(width, height, device):
            result = ImageResult(**vars(gatys_stylize(content_tensor, styles, options, picture_options, encoder=encoder, callback=hook)))
    result.seconds = time.perf_counter() - started
    result.notes = [*adaptation, *result.notes]
    if output is not None:
        save_image(result.image, output)
    return result


def report_line(report) -> str:
    """One line of what method faces found: the face, each exemplar's share of the cells, the style distance per region."""
    box = report.content_box
    shares = ", ".join(f"{share:.0%}" for share in report.exemplar_share)
    distances = ", ".join(f"{name} {value:.3g}" for name, value in report.region_style_distance.items())
    return f"face at {box.left},{box.top} ({box.width}x{box.height} px at the working size); exemplars' shares {shares}; style distance per region: {distances}"


def _path_or_none(content) -> str | os.PathLike | None:
    return content if isinstance(content, str | os.PathLike) else None


def estimate_image(
    content, spec: MethodSpec, *, device: str | torch.device | None = None, encoder: VGGEncoder | None = None, probe_iterations: int = 4
) -> float:
    """Seconds :func:`stylize` would take for this content and spec, without running it: a few iterations
    at the output size (optimisation) or one warm pass (one-pass methods) are timed and extrapolated."""
    from dataclasses import replace

    from .io.image import resize_long_side
    from .methods.gatys import estimate_seconds

    spec.check()
    content_tensor = to_tensor(content)
    device = resolve_device(device)
    spec = adapted_spec(spec, _path_or_none(content), train=False)
    if not spec.one_pass and encoder is None:
        encoder = spec.encoder.load(device)  # loaded before the timing: a run loads it once
    if spec.one_pass:
        stylize(content_tensor, spec, device=device, encoder=encoder)  # warm-up: model load, graph export
        return stylize(content_tensor, spec, device=device, encoder=encoder).seconds
    options = spec.image_options()
    height, width = content_tensor.shape[-2:]
    if spec.size is not None:
        height, width = size_for_long_side(height, width, spec.size)
    probe = replace(spec, optimization=replace(spec.optimization, image=replace(options, iterations=probe_iterations, scales=1, tolerance=0.0)))
    stamps: list[float] = []  # between the first and the last iteration: the style targets' set-up left out, as a video run measures
    stylize(
        resize_long_side(content_tensor, max(height, width)),
        probe,
        device=device,
        encoder=encoder,
        callback=lambda scale, step: stamps.append(time.perf_counter()),
    )
    return estimate_seconds(options, height, width, (stamps[-1] - stamps[0]) / max(len(stamps) - 1, 1))


def stylize_image(
    content,
    style,
    *,
    output: str | os.PathLike | None = None,
    device: str | torch.device | None = None,
    encoder: VGGEncoder | None = None,
    save_every: int = 0,
    callback: Callable[[int, Step], None] | None = None,
    **options,
) -> ImageResult:
    """Stylize ``content`` with ``style`` (one image or a list, mixed by ``style_weights``) by optimisation.

    ``content`` and each style may be a path, a Pillow image, an ``H x W x C`` array or a
    ``[B x] C x H x W`` tensor in [0, 1]. Keyword ``options`` are the fields of
    :class:`~videostyle.options.GatysOptions` (``iterations``, ``style_weight``, ...) and of
    :class:`~videostyle.options.PictureOptions` (``size``, default :data:`~videostyle.options.IMAGE_SIZE`;
    ``style_weights``, ``preserve_color``, ...). With ``output`` the result is also
    written there (atomically); ``save_every=N`` also writes every N-th iterate beside it.

    >>> result = stylize_image("photo.jpg", "painting.jpg", size=256, iterations=100)  # doctest: +SKIP
    """
    _check_known(options, {**GatysOptions.__dataclass_fields__, **PictureOptions.__dataclass_fields__})
    picture = {name: options.pop(name) for name in PictureOptions.__dataclass_fields__ if name in options}
    spec = MethodSpec(method="optimize", optimization=VideoOptions(image=GatysOptions(**options)), **{"size": IMAGE_SIZE, **picture})
    return stylize(content, spec, style_images=_as_list(style), output=output, device=device, encoder=encoder, callback=callback, save_every=save_every)


def stylize_image_with_model(
    content,
    model: str | os.PathLike | None = None,
    *,
    method: str = "feedforward",
    style=None,
    output: str | os.PathLike | None = None,
    device: str | torch.device | None = None,
    **options,
) -> ImageResult:
    """Stylize ``content`` in one network pass; ``result.image`` is ``1 x 3 x H x W`` in [0, 1].

    ``method``: ``feedforward`` or ``reconet`` (a trained ``model``, bundled name or file, with
    its own styles), ``adain`` or ``arbitrary-video`` (any ``style`` image or list of them; the
    model defaults to the bundled one). Keyword ``options`` are :class:`~videostyle.spec.MethodSpec`
    fields: ``size`` (long side of the output; None: the content's own), ``model_style_weights``
    (``{"starry_night": 0.7, "graffiti": 0.3}`` for a multi-style model), ``strength``, ``alpha``,
    ``style_weights``, ``preserve_color``, ``runtime``, ...

    >>> result = stylize_image_with_model("photo.jpg", "starry_night", size=512)  # doctest: +SKIP
    """
    _check_known(options, MethodSpec.__dataclass_fields__)
    styles = None if style is None else _as_list(style)
    spec = MethodSpec(method=method, model=None if model is None else str(model), **options)
    return stylize(content, spec, style_images=styles, output=output, device=device)


def _check_known(options: dict, known) -> None:
    unknown = sorted(set(options) - set(known) - {"method", "model", "styles"})
    if unknown:
        raise VideostyleError(f"unknown option {unknown[0]!r}", parameter=unknown[0])
