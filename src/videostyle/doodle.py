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
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch
from PIL import Image

from .checks import check_size
from .errors import VideostyleError
from .io.atomic import check_not_an_input, check_writable_destination
from .io.image import load_image, save_image, size_for_long_side, to_tensor, to_uint8
from .methods.frames import FrameStylizer
from .options import GatysOptions, PictureOptions, VideoOptions

if TYPE_CHECKING:
    from .methods.ruder import RuderStylizer
    from .pipeline import RunSettings, VideoSummary

#: A colour of the style map is a region when it covers at least this share of the map.
REGION_SHARE = 0.005
#: At most this many regions: a semantic map is a few flat colours, not a photo.
MAX_REGIONS = 16
#: A map pixel belongs to the nearest region colour within this RGB distance (edges blurred by resizing, JPEG noise).
COLOUR_TOLERANCE = 60.0
#: Share of a doodle's pixels allowed outside every region colour (anti-aliased edges).
STRAY_SHARE = 0.01
#: The doodle's default long side in pixels.
DOODLE_SIZE = 384


@dataclass
class DoodleOptions(GatysOptions):
    """How a doodle is painted: the optimisation's options, and the doodle's long side ``size`` in pixels (None: the
    doodle's own). A doodle has no method spec, so its options own its size."""

    size: int | None = DOODLE_SIZE

    def check(self, picture_options: PictureOptions | None = None) -> DoodleOptions:
        check_size("size", self.size)
        super().check(picture_options)
        return self


#: The doodle's default optimisation: the MRF loss alone at relu3_1 and relu4_1, 300 iterations at 384 px, from the
#: start :func:`paint_doodle` makes (the doodle in the painting's region colours, plus noise).
DOODLE_OPTIONS = DoodleOptions(iterations=300, style_loss="mrf", mrf_weight=1.0, content_weight=0.0, init="content", tolerance=0.0)
#: A doodle video: the first frame as a still doodle (its iterations), each later frame 100 iterations from the
#: previous output warped by DIS flow, held there by the temporal loss.
DOODLE_VIDEO_FRAME = replace(DOODLE_OPTIONS, iterations=100)
DOODLE_VIDEO_OPTIONS = VideoOptions(image=DOODLE_VIDEO_FRAME, first_iterations=DOODLE_OPTIONS.iterations, flow="dis")


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
        if what == "style map":  # its palette is its own colours that cover 0.5% or more: the rest are scattered
            raise VideostyleError(
                f"{stray.mean():.0%} of the style map's pixels are in colours that each cover under 0.5% of it ({_hex(colour)} and others): "
                f"a style map is a few flat colours, one per region",
                parameter="style_map",
            )
        raise VideostyleError(
            f"the {what} has colours the style map does not ({_hex(colour)} and others, {stray.mean():.0%} of its pixels); "
            f"use the style map's colours: {', '.join(_hex(c) for c in palette)}",
            parameter="doodle" if what == "doodle" else "style_map",
        )
    return np.stack([(nearest == index).astype(np.float32) for index in range(len(palette))])


def _doodle_options(options: GatysOptions | None, with_content: bool, default: DoodleOptions = DOODLE_OPTIONS) -> DoodleOptions:
    """The options of a doodle, checked: ``default`` when none are given (plain :class:`GatysOptions` get the default
    size), with the content term and start when there is a content."""
    options = options or default
    if not isinstance(options, DoodleOptions):
        options = DoodleOptions(**{item.name: getattr(options, item.name) for item in fields(options)})
    if with_content and options is default:
        options = replace(options, content_weight=1.0, init="content")
    options = options.check()
    if options.scales != 1:
        raise VideostyleError("a doodle is painted at one scale", parameter="scales")
    return options


class PaintingRegions(NamedTuple):
    """A painting, the region colours of its style map (``K x 3``) and its one-hot regions ``K x H x W``."""

    painting: Image.Image
    palette: np.ndarray
    regions: np.ndarray


def _painting_regions(style, style_map, notes: list[str]):
    """The painting, the region colours of its map and its one-hot regions ``K x H x W`` (the map resized to the
    painting's size, with a note, when it is another size)."""
    painting = load_image(style)
    region_map = load_image(style_map)
    if region_map.size != painting.size:
        notes.append(f"the style map ({region_map.width}x{region_map.height}) was resized to the painting's size ({painting.width}x{painting.height})")
        region_map = region_map.resize(painting.size, resample=0)  # nearest: the colours stay flat
    palette = map_palette(np.asarray(region_map))
    return painting, palette, one_hot(np.asarray(region_map), palette, "style map")


def flat_start(painting, style_regions: np.ndarray, target_map: np.ndarray, seed: int | None = 0) -> np.ndarray:
    """The doodle's layout in the mean colour of each region of the painting, ``H x W x 3`` float32 in [0, 1], plus
    Gaussian noise (standard deviation 0.1) seeded by ``seed`` (None: no noise)."""
    colours = np.stack([np.asarray(painting, np.float32)[style_regions[k] > 0].mean(axis=0) for k in range(len(style_regions))])
    flat = np.tensordot(target_map, colours, axes=([0], [0])) / 255.0  # H x W x 3
    if seed is not None:
        flat = flat + np.random.default_rng(seed).normal(0, 0.1, flat.shape)
    return np.clip(flat, 0, 1).astype(np.float32)


def paint_doodle(
    style: str | os.PathLike,
    style_map: str | os.PathLike,
    doodle: str | os.PathLike,
    *,
    content: str | os.PathLike | None = None,
    output: str | os.PathLike | None = None,
    options: DoodleOptions | None = None,
    device: str | torch.device | None = None,
    callback=None,
):
    """Paint ``doodle`` (a map in the colours of ``style_map``) with the regions of ``style``; returns
    ``(ImageResult, notes)``. ``content``: a photo to keep (content term, start), resized to the doodle's
    size; without it the picture starts from noise. ``options``: :data:`DOODLE_OPTIONS` by default
    (``content_weight`` 1 and ``init`` content apply when a content is given). The output is the doodle's
    size, its long side ``options.size``."""
    from .devices import resolve_device
    from .methods.gatys import stylize
    from .results import ImageResult
    from .spec import EncoderSpec

    if output is not None:
        check_writable_destination(output)
        check_not_an_input(output, [style, style_map, doodle, content])
    options = _doodle_options(options, content is not None)
    device = resolve_device(device)
    notes: list[str] = []
    painting, palette, style_regions = _painting_regions(style, style_map, notes)
    layout = load_image(doodle)
    height, width = size_for_long_side(layout.height, layout.width, options.size) if options.size else (layout.height, layout.width)
    if (layout.width, layout.height) != (width, height):
        layout = layout.resize((width, height), resample=0)
    target_map = one_hot(np.asarray(layout), palette, "doodle")
    if content is not None:
        photo = load_image(content)
        if abs(photo.width / photo.height - width / height) > 0.02:
            notes.append(f"the content ({photo.width}x{photo.height}) was resized to the doodle's shape ({width}x{height})")
        start = to_tensor(photo.resize((width, height)), device)
    else:  # no content: the start is each region of the doodle in the mean colour of its region of the painting, plus noise
        start = to_tensor(flat_start(painting, style_regions, target_map, options.seed), device)
    style_scale = options.style_scale * max(painting.size) / max(width, height)  # the painting at its own size: its strokes keep their scale
    options = replace(options, style_scale=style_scale)
    maps = (torch.from_numpy(style_regions)[None], torch.from_numpy(target_map)[None])
    encoder = EncoderSpec().load(device)
    result = stylize(start, [to_tensor(painting, device)], options, encoder=encoder, callback=callback, semantic_maps=maps)
    image = ImageResult(**vars(result))
    if output is not None:
        save_image(image.image, output)
    return image, notes


class DoodleFrames(FrameStylizer):
    """A doodle video's frames for the pipeline. Frame ``index`` takes doodle ``index`` (read here, resized to the
    working size by nearest neighbour so that its colours stay flat) as its target map. The first frame is painted
    as a still doodle (:func:`~videostyle.methods.gatys.stylize` with ``first_frame``); later frames by Ruder et
    al.'s stylizer, from the previous output warped by the flow between the frames. The frames the flow sees are
    the content clip's (the pipeline's frames) or, without one, the doodles in the painting's region colours.
    ``callback(frame, step)`` after every iteration."""

    def __init__(
        self, regions: PaintingRegions, doodles: Iterator[np.ndarray], ruder: RuderStylizer, first_frame: GatysOptions, with_content: bool, callback=None
    ):
        self.regions, self.doodles, self.ruder, self.first_frame = regions, doodles, ruder, first_frame
        self.with_content, self.callback = with_content, callback
        self.style_regions = torch.from_numpy(regions.regions)[None]

    def _target(self, index: int, height: int, width: int) -> np.ndarray:
        """Doodle ``index`` as one-hot target regions ``K x H x W``, set as the criterion's target map."""
        doodle = next(self.doodles, None)
        if doodle is None:
            raise VideostyleError(f"the doodles end after {index} frames; the content clip is longer", parameter="maps")
        target = one_hot(np.asarray(Image.fromarray(doodle).resize((width, height), resample=0)), self.regions.palette, f"doodle {index + 1}")
        self.ruder.criterion.semantic_maps = (self.style_regions, torch.from_numpy(target)[None])
        return target

    def _flow_frame(self, frame: np.ndarray, target: np.ndarray) -> np.ndarray:
        """What the flow is estimated on: the content's frame, or the doodle in the painting's region colours."""
        if self.with_content:
            return frame
        return (flat_start(self.regions.painting, self.regions.regions, target, seed=None) * 255).round().astype(np.uint8)

    def stylize_batch(self, indices: list[int], frames: list[np.ndarray]) -> list[np.ndarray]:
        from .methods.gatys import stylize

        outputs = []
        for index, frame in zip(indices, frames, strict=True):
            target = self._target(index, *frame.shape[:2])
            seen = self._flow_frame(frame, target)
            if index == 0:  # as a still doodle, from the photo or the flat colours plus noise
                start = frame if self.with_content else flat_start(self.regions.painting, self.regions.regions, target, self.first_frame.seed)
                device = self.ruder.device
                first = stylize(
                    to_tensor(start, device),
                    [to_tensor(self.regions.painting, device)],
                    self.first_frame,
                    encoder=self.ruder.encoder,
                    callback=None if self.callback is None else (lambda scale, step: self.callback(0, step)),
                    semantic_maps=self.ruder.criterion.semantic_maps,
                )
                output = to_uint8(first.image)
                self.ruder.observe(index, seen, output)
            else:
                report = None if self.callback is None else (lambda step, index=index: self.callback(index, step))
                output = self.ruder.stylize(index, seen, report).output
            outputs.append(output)
        return outputs

    def observe(self, index: int, frame: np.ndarray, output: np.ndarray) -> None:
        target = self._target(index, *frame.shape[:2])
        self.ruder.observe(index, self._flow_frame(frame, target), output)


def paint_doodle_video(
    style: str | os.PathLike,
    style_map: str | os.PathLike,
    maps: str | os.PathLike,
    output: str | os.PathLike,
    *,
    content: str | os.PathLike | None = None,
    options: VideoOptions | None = None,
    fps: float | None = None,
    device: str | torch.device | None = None,
    callback=None,
    run: RunSettings | None = None,
) -> VideoSummary:
    """A doodle video: ``maps`` (a folder of doodles, sorted by name, or a video of them) painted frame by frame
    with the regions of ``style``, held together by Ruder et al.'s temporal machinery (:class:`DoodleFrames`), through
    the video pipeline: a run folder that an interrupted run resumes from, the content clip's sound kept. The flow is
    estimated on ``content`` (a clip, which sets the length and the size; its frames are kept by the content term)
    or else on the doodles in the painting's region colours. ``options`` (:data:`DOODLE_VIDEO_OPTIONS` by default):
    ``first_iterations`` go to the first frame, ``image.iterations`` to each later one, with ``temporal_weight``
    and ``flow``; ``image`` is the doodle's own options, as for :func:`paint_doodle` (its ``size``: the long side).
    ``fps``: the frame rate of a folder of doodles; ``run``: the run folder's settings, as for
    :func:`~videostyle.pipeline.stylize_video`. ``callback(frame, step)`` after every iteration."""
    from .flow import FlowCache, make_estimator
    from .io.video import ClipWindow, VideoReader, check_video_destination
    from .methods.ruder import RuderStylizer
    from .pipeline import stylize_frames
    from .runs import clip_fingerprint, file_fingerprint
    from .spec import EncoderSpec

    check_video_destination(output)
    check_not_an_input(output, [style, style_map, maps, content])
    video_options = options or DOODLE_VIDEO_OPTIONS
    image = _doodle_options(video_options.image, content is not None, default=DOODLE_VIDEO_FRAME)
    notes: list[str] = []
    regions = PaintingRegions(*_painting_regions(style, style_map, notes))
    doodles = VideoReader(maps, folder_fps=fps)

    def make_stylizer(run_folder: Path, size: tuple[int, int], where: torch.device) -> DoodleFrames:
        style_scale = image.style_scale * max(regions.painting.size) / max(size)
        first_frame = replace(image, style_scale=style_scale, iterations=video_options.first_iterations)
        video = replace(video_options, image=replace(first_frame, iterations=image.iterations)).check()
        flows = FlowCache(run_folder / "flow", make_estimator(video.flow))
        ruder = RuderStylizer(EncoderSpec().load(where), [to_tensor(regions.painting, where)], video, flows, where)
        return DoodleFrames(regions, iter(doodles), ruder, first_frame, content is not None, callback)

    key = {
        "doodle": {
            "style": file_fingerprint(style),
            "style_map": file_fingerprint(style_map),
            "maps": clip_fingerprint(maps),
            "options": asdict(replace(video_options, image=image)),
        }
    }
    key["doodle"]["options"]["image"].update(asdict(PictureOptions(size=image.size)))  # as the image options held them once: those runs keep their key
    summary = stylize_frames(
        content if content is not None else maps, output, make_stylizer, key, long_side=image.size, window=ClipWindow(fps=fps), run=run, device=device
    )
    summary.notes[:0] = notes
    return summary
