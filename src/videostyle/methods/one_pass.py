"""One entry point for the one-pass methods (a trained network per frame), used by the CLI,
the API and the benchmarks: ``build_stylizer(method, model, styles, ...) -> (stylizer, info)``."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch

from ..errors import VideostyleError
from ..features import VGGEncoder, load_encoder
from ..io.image import to_tensor
from .feedforward import FeedForwardOptions, OnePassStylizer, load_stylizer

#: The bundled model each one-pass method uses when no model is given.
DEFAULT_MODELS = {"feedforward": "starry_night", "reconet": "reconet_starry_night", "adain": "adain_decoder", "arbitrary-video": "arbitrary_video"}


def build_stylizer(
    method: str,
    model: str | os.PathLike | None = None,
    styles: Sequence = (),
    style_weights: Sequence[float] | None = None,
    style_mix: str | None = None,
    strength: float = 1.0,
    alpha: float = 1.0,
    mask=None,
    runtime: str = "onnx",
    batch_size: int = 4,
    preserve_color: str = "none",
    color_method: str = "cholesky",
    device: torch.device | str = "cpu",
    encoder: VGGEncoder | None = None,
) -> tuple[OnePassStylizer, dict]:
    """The stylizer of ``method`` (``feedforward``, ``reconet``, ``adain``, ``arbitrary-video``) and its model file's info.

    ``styles`` (images, arrays or tensors) are for ``adain`` and ``arbitrary-video``; ``mask``
    (an image, white for the first of two styles) too. ``style_mix`` (``"name=w,..."``) picks
    the styles of a multi-style feed-forward model.
    """
    if method not in DEFAULT_MODELS:
        raise VideostyleError(f"unknown one-pass method {method!r}; choose {', '.join(DEFAULT_MODELS)}")
    device = torch.device(device)
    model = model or DEFAULT_MODELS[method]
    if method in ("feedforward", "reconet"):
        if mask is not None:
            raise VideostyleError(f"--mask needs two --style images (--method adain or arbitrary-video), not --method {method}")
        return load_stylizer(model, style_mix, device, strength=strength, runtime=runtime, batch_size=batch_size, preserve_color=preserve_color, color_method=color_method)
    if style_mix is not None:
        raise VideostyleError("--style-mix picks the styles of a multi-style model; with --style images use --style-blend")
    if not styles:
        raise VideostyleError(f"--method {method} needs at least one --style image")
    style_tensors = [to_tensor(style, device) for style in styles]
    mask_array = None if mask is None else np.asarray(mask.convert("L") if hasattr(mask, "convert") else mask, np.float32)
    if mask_array is not None and mask_array.max() > 1:
        mask_array = mask_array / 255
    encoder = encoder if encoder is not None else load_encoder(device=device)
    if method == "adain":
        from ..models import load_adain_decoder
        from .adain import AdaINOptions, AdaINStylizer

        decoder, info = load_adain_decoder(model, device)
        options = AdaINOptions(alpha=alpha, style_weights=style_weights, preserve_color=preserve_color, color_method=color_method, mask=mask_array, batch_size=batch_size)
        return AdaINStylizer(encoder, decoder, style_tensors, options, device), info
    from ..models import load_arbitrary
    from .arbitrary import ArbitraryVideoStylizer

    network, info = load_arbitrary(model, device)
    options = FeedForwardOptions(strength=alpha, preserve_color=preserve_color, color_method=color_method, runtime=runtime if device.type == "cpu" else "torch", batch_size=batch_size)
    return ArbitraryVideoStylizer(network, encoder, style_tensors, style_weights, options, mask_array, device=device), info
