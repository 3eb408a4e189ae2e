"""The one-call Python API.

>>> from videostyle import stylize_image
>>> result = stylize_image("photo.jpg", "painting.jpg", size=256, iterations=100)  # doctest: +SKIP
>>> result.to_pil().save("out.png")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import torch

from .errors import VideostyleError
from .features import VGGEncoder, load_encoder
from .io.image import save_image, to_pil, to_tensor, to_uint8
from .methods.gatys import GatysOptions, StylizeResult, stylize, to_output
from .methods.optimize import Step


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


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def intermediate_path(output: str | os.PathLike, iteration: int, scale: int | None = None) -> Path:
    """Where ``--save-every`` writes: ``out.png`` -> ``out_s1_iter0100.png`` (scale part only when multi-scale)."""
    output = Path(output)
    scale_part = "" if scale is None else f"_s{scale}"
    return output.with_name(f"{output.stem}{scale_part}_iter{iteration:04d}{output.suffix}")


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
) -> "ImageResult":
    """Stylize ``content`` with ``style`` (one image or a list, blended with ``style_blend``).

    ``content`` and each style may be a path, a Pillow image, an ``H x W x C`` array or a
    ``[B x] C x H x W`` tensor in [0, 1]. Keyword ``options`` are the fields of
    :class:`~videostyle.methods.gatys.GatysOptions` (``size``, ``iterations``,
    ``style_weight``, ``preserve_color``, ...). With ``output`` the result is also
    written there (atomically); ``save_every=N`` also writes every N-th iterate beside it.
    """
    unknown = set(options) - set(GatysOptions.__dataclass_fields__)
    if unknown:
        raise VideostyleError(f"unknown option {sorted(unknown)[0]!r}")
    gatys_options = GatysOptions(**options).check()
    device = resolve_device(device)
    content_tensor = to_tensor(content, device)
    style_tensors = [to_tensor(item, device) for item in _as_list(style)]
    encoder = encoder if encoder is not None else load_encoder(device=device)
    hook = callback
    if save_every and output is not None:
        multi_scale = gatys_options.scales > 1

        def hook(scale: int, step: Step) -> None:
            if step.iteration % save_every == 0:
                image = to_output(step.variable, content_tensor, gatys_options)
                save_image(image, intermediate_path(output, step.iteration, scale if multi_scale else None))
            if callback is not None:
                callback(scale, step)

    result = stylize(content_tensor, style_tensors, gatys_options, encoder=encoder, callback=hook)
    if output is not None:
        save_image(result.image, output)
    return ImageResult(**vars(result))


def stylize_image_with_model(
    content,
    model: str | os.PathLike | None = None,
    *,
    method: str = "feedforward",
    style=None,
    size: int | None = None,
    style_mix: dict[str, float] | str | None = None,
    output: str | os.PathLike | None = None,
    device: str | torch.device | None = None,
    **options,
) -> torch.Tensor:
    """Stylize ``content`` in one network pass; returns ``1 x 3 x H x W`` in [0, 1].

    ``method``: ``feedforward`` or ``reconet`` (a trained ``model``, bundled name or file, with
    its own styles), ``adain`` or ``arbitrary-video`` (any ``style`` image or list of them; the
    model defaults to the bundled one). ``size``: long side of the output (None: the content's
    own). ``style_mix``: weights of a multi-style model's styles, ``{"starry_night": 0.7,
    "graffiti": 0.3}`` or ``"starry_night=0.7,graffiti=0.3"``. Other keywords go to
    :func:`~videostyle.methods.one_pass.build_stylizer` (``strength``, ``alpha``,
    ``style_weights``, ``mask``, ``preserve_color``, ``runtime``, ...).
    """
    from .io.image import resize_long_side
    from .methods.one_pass import build_stylizer

    device = resolve_device(device)
    if isinstance(style_mix, dict):
        style_mix = ",".join(f"{name}={weight}" for name, weight in style_mix.items())
    styles = [] if style is None else _as_list(style)
    try:
        stylizer, _ = build_stylizer(method, model, styles, style_mix=style_mix, device=device, **options)
    except TypeError as error:
        raise VideostyleError(f"unknown option: {error}") from None
    image = to_tensor(content, device)
    if size:
        image = resize_long_side(image, size)
    result = stylizer.stylize_tensor(image)
    if output is not None:
        save_image(result, output)
    return result


class ImageResult(StylizeResult):
    """A :class:`StylizeResult` with conversions for the caller's favourite image type."""

    def to_pil(self):
        return to_pil(self.image)

    def to_numpy(self):
        """``H x W x 3`` uint8."""
        return to_uint8(self.image)
