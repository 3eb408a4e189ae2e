"""Neural doodles (Champandard 2016, "Semantic Style Transfer and Turning Two-Bit Doodles into Fine Artworks").

A painting comes with a semantic map: the same picture painted over in a few flat colours, one per
region (sky, trees, water). A doodle uses the same colours in a new layout. The picture is made by
optimisation with the MRF loss (Li and Wand 2016) on encoder features with the maps' one-hot channels
appended (``PerceptualLoss.semantic_maps``), so each region of the doodle takes its patches from the
matching region of the painting. With no content photo the picture is painted from the doodle alone
(from noise, no content term).

>>> result, notes = paint_doodle("painting.jpg", "painting_map.png", "doodle.png", output="out.png")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import torch

from .errors import VideostyleError
from .io.atomic import check_not_an_input, check_writable_destination
from .io.image import load_image, save_image, size_for_long_side, to_tensor
from .methods.gatys import GatysOptions

#: A colour of the style map is a region when it covers at least this share of the map.
REGION_SHARE = 0.005
#: At most this many regions: a semantic map is a few flat colours, not a photo.
MAX_REGIONS = 16
#: A map pixel belongs to the nearest region colour within this RGB distance (edges blurred by resizing, JPEG noise).
COLOUR_TOLERANCE = 60.0
#: Share of a doodle's pixels allowed outside every region colour (anti-aliased edges).
STRAY_SHARE = 0.01
#: The doodle's default optimisation: the MRF loss alone at relu3_1 and relu4_1, 300 iterations at 384 px, from the
#: start :func:`paint_doodle` makes (the doodle in the painting's region colours, plus noise).
DOODLE_OPTIONS = GatysOptions(size=384, iterations=300, style_loss="mrf", mrf_weight=1.0, content_weight=0.0, init="content", tolerance=0.0)


def _hex(colour) -> str:
    return "#" + "".join(f"{int(value):02x}" for value in colour)


def map_palette(style_map: np.ndarray) -> np.ndarray:
    """The region colours of a style map (``H x W x 3`` uint8): every colour covering at least :data:`REGION_SHARE`, ``K x 3``."""
    colours, counts = np.unique(style_map.reshape(-1, 3), axis=0, return_counts=True)
    palette = colours[counts >= REGION_SHARE * counts.sum()]
    if len(palette) < 2:
        raise VideostyleError(
            f"the style map has {len(colours)} colours but fewer than two cover 0.5% of it: paint its regions in a few flat colours", parameter="style_map"
        )
    if len(palette) > MAX_REGIONS:
        raise VideostyleError(
            f"the style map has {len(palette)} colours covering 0.5% or more: a semantic map is at most {MAX_REGIONS} flat colours", parameter="style_map"
        )
    return palette


def one_hot(picture: np.ndarray, palette: np.ndarray, what: str) -> np.ndarray:
    """``K x H x W`` float32: each pixel of ``picture`` assigned to its nearest palette colour. More than
    :data:`STRAY_SHARE` of the pixels farther than :data:`COLOUR_TOLERANCE` from every colour is an error naming one."""
    distances = np.linalg.norm(picture[:, :, None, :].astype(np.float32) - palette[None, None].astype(np.float32), axis=-1)  # H x W x K
    nearest = distances.argmin(axis=-1)
    stray = distances.min(axis=-1) > COLOUR_TOLERANCE
    if stray.mean() > STRAY_SHARE:
        colour = picture[stray][0]
        raise VideostyleError(
            f"the {what} has colours the style map does not ({_hex(colour)} and others, {stray.mean():.0%} of its pixels); "
            f"use the style map's colours: {', '.join(_hex(c) for c in palette)}",
            parameter="doodle" if what == "doodle" else "style_map",
        )
    return np.stack([(nearest == index).astype(np.float32) for index in range(len(palette))])


def paint_doodle(
    style: str | os.PathLike,
    style_map: str | os.PathLike,
    doodle: str | os.PathLike,
    *,
    content: str | os.PathLike | None = None,
    output: str | os.PathLike | None = None,
    options: GatysOptions | None = None,
    device: str | torch.device | None = None,
    callback=None,
):
    """Paint ``doodle`` (a map in the colours of ``style_map``) with the regions of ``style``; returns
    ``(ImageResult, notes)``. ``content``: a photo to keep (content term, start), resized to the doodle's
    size; without it the picture starts from noise. ``options``: :data:`DOODLE_OPTIONS` by default
    (``content_weight`` 1 and ``init`` content apply when a content is given). The output is the doodle's
    size, its long side ``options.size``."""
    from .api import ImageResult, resolve_device
    from .methods.gatys import stylize
    from .spec import EncoderSpec

    if output is not None:
        check_writable_destination(output)
        check_not_an_input(output, [style, style_map, doodle, content])
    options = options or DOODLE_OPTIONS
    if content is not None and options is DOODLE_OPTIONS:
        options = replace(options, content_weight=1.0, init="content")
    options = options.check()
    if options.scales != 1:
        raise VideostyleError("a doodle is painted at one scale", parameter="scales")
    device = resolve_device(device)
    notes: list[str] = []
    painting = load_image(style)
    region_map = load_image(style_map)
    if region_map.size != painting.size:
        notes.append(f"the style map ({region_map.width}x{region_map.height}) was resized to the painting's size ({painting.width}x{painting.height})")
        region_map = region_map.resize(painting.size, resample=0)  # nearest: the colours stay flat
    palette = map_palette(np.asarray(region_map))
    layout = load_image(doodle)
    height, width = size_for_long_side(layout.height, layout.width, options.size) if options.size else (layout.height, layout.width)
    if (layout.width, layout.height) != (width, height):
        layout = layout.resize((width, height), resample=0)
    target_map = one_hot(np.asarray(layout), palette, "doodle")
    style_regions = one_hot(np.asarray(region_map), palette, "style map")
    if content is not None:
        photo = load_image(content)
        if abs(photo.width / photo.height - width / height) > 0.02:
            notes.append(f"the content ({photo.width}x{photo.height}) was resized to the doodle's shape ({width}x{height})")
        start = to_tensor(photo.resize((width, height)), device)
    else:  # no content: the start is each region of the doodle in the mean colour of its region of the painting, plus noise
        colours = np.stack([np.asarray(painting, np.float32)[style_regions[k] > 0].mean(axis=0) for k in range(len(palette))])
        flat = np.tensordot(target_map, colours, axes=([0], [0])) / 255.0  # H x W x 3
        noise = np.random.default_rng(options.seed).normal(0, 0.1, flat.shape)
        start = to_tensor(np.clip(flat + noise, 0, 1).astype(np.float32), device)
    style_scale = options.style_scale * max(painting.size) / max(width, height)  # the painting at its own size: its strokes keep their scale
    options = replace(options, size=None, style_scale=style_scale)
    maps = (torch.from_numpy(style_regions)[None], torch.from_numpy(target_map)[None])
    encoder = EncoderSpec().load(device)
    result = stylize(start, [to_tensor(painting, device)], options, encoder=encoder, callback=callback, semantic_maps=maps)
    image = ImageResult(**vars(result))
    if output is not None:
        save_image(image.image, output)
    return image, notes
