"""One entry point for the one-pass methods (a trained network per frame), used by the video
pipeline, the image API and the benchmarks: ``build_stylizer(spec, device) -> (stylizer, info)``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import torch

from ..errors import VideostyleError
from ..features import VGGEncoder
from ..io.image import load_image, to_tensor
from ..models.adain import AdaINDecoder
from ..registry import method_record
from ..spec import MethodSpec
from .feedforward import FeedForwardOptions, OnePassStylizer, load_stylizer


def build_stylizer(
    spec: MethodSpec, device: torch.device | str = "cpu", encoder: VGGEncoder | None = None, style_images: Sequence | None = None
) -> tuple[OnePassStylizer, dict]:
    """The stylizer of a one-pass ``spec`` and its model file's info.

    ``style_images`` (images, arrays or tensors) replace reading ``spec.styles`` from disk, for
    Python callers with pictures in memory; ``encoder``: an already loaded VGG (adain and
    arbitrary-video; else ``spec.encoder`` is loaded).
    """
    spec.check(style_count=None if style_images is None else len(style_images))
    device = torch.device(device)
    kind = method_record(spec.method).model_kind
    if not spec.one_pass or (kind != "transformer" and kind not in _BUILDERS):
        raise VideostyleError(f"method {spec.method} has no one-pass network here (method adapt: adapt the network first, adapted_spec)", parameter="method")
    options = FeedForwardOptions(
        strength=spec.strength,
        preserve_color=spec.preserve_color,
        color_method=spec.color_method,
        runtime=spec.runtime,
        precision=spec.precision,
        batch_size=spec.batch_size,
        tile=spec.tile,
        max_memory=spec.max_memory,
        exact_statistics=spec.exact_statistics,
    ).on(device)
    if kind == "transformer":  # the model carries its style
        return load_stylizer(spec.model_or_default, spec.model_style_weights, options, device)
    images = [load_image(path) for path in spec.styles] if style_images is None else list(style_images)
    styles = _StyleInputs(
        [to_tensor(style, device) for style in images],
        None if spec.mask is None else np.asarray(load_image(spec.mask).convert("L"), np.float32) / 255,
        encoder if encoder is not None else spec.encoder.load(device),
    )
    return _BUILDERS[kind](spec, styles, options, device)


@dataclass
class _StyleInputs:
    """What the any-style networks take besides the spec: the style images (``1 x 3 x H x W`` each), the mask
    (``H x W`` in [0, 1], or None) and the encoder."""

    images: list[torch.Tensor]
    mask: np.ndarray | None
    encoder: VGGEncoder


def _swap_stylizer(spec: MethodSpec, styles: _StyleInputs, options: FeedForwardOptions, device: torch.device) -> tuple[OnePassStylizer, dict]:
    from ..models import load_model
    from .style_swap import StyleSwapStylizer

    decoder, info = load_model(spec.model_or_default, "swap_decoder", device)
    return StyleSwapStylizer(styles.encoder, cast(AdaINDecoder, decoder), styles.images, options, device=device), info


def _adain_stylizer(spec: MethodSpec, styles: _StyleInputs, options: FeedForwardOptions, device: torch.device) -> tuple[OnePassStylizer, dict]:
    from ..models import load_adain_decoder
    from .adain import AdaINOptions, AdaINStylizer

    decoder, info = load_adain_decoder(spec.model_or_default, device)
    shared = {name: getattr(options, name) for name in ("preserve_color", "color_method", "batch_size")}  # as the spec set them
    adain_options = AdaINOptions(alpha=spec.alpha, style_weights=spec.style_weights, mask=styles.mask, **shared)
    return AdaINStylizer(styles.encoder, decoder, styles.images, adain_options, device), info


def _any_style_stylizer(spec: MethodSpec, styles: _StyleInputs, options: FeedForwardOptions, device: torch.device) -> tuple[OnePassStylizer, dict]:
    from ..models import load_arbitrary
    from .arbitrary import ArbitraryVideoStylizer

    network, info = load_arbitrary(spec.model_or_default, device)
    return ArbitraryVideoStylizer(network, styles.encoder, styles.images, spec.style_weights, options, styles.mask, device=device), info


#: The stylizer of each kind of network that takes style images (a transformer carries its own style: ``load_stylizer``).
_BUILDERS: dict[str, Callable[[MethodSpec, _StyleInputs, FeedForwardOptions, torch.device], tuple[OnePassStylizer, dict]]] = {
    "swap_decoder": _swap_stylizer,
    "adain_decoder": _adain_stylizer,
    "arbitrary_video": _any_style_stylizer,
}
