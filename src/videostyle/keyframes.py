"""Keyframe video: paint one or a few frames, and the clip follows (Jamriška et al. 2019, "Stylizing Video by
Example", the method of the EbSynth app).

Each painted keyframe k is propagated through the clip by guided patch synthesis (:mod:`videostyle.synthesis`)
from the pair (frame k, keyframe k) to every frame i, one frame after the other, with three guides:

- edges: the frame's grey picture minus its blur (a difference of Gaussians), so strokes follow the content's
  edges;
- position: the pixel coordinates of frame k, carried to frame i by the optical flow (each frame's coordinates
  warped from the previous frame's), so a stroke stays on the surface it was painted on;
- temporal: on the keyframe side the painting itself, on frame i's side the previous output warped to frame i,
  so the result changes little from one frame to the next.

Forward from each keyframe towards the next one (the pipeline's first pass) and backward from each keyframe towards
the previous one (a second pass). Between two keyframes each frame takes the propagation of the nearer keyframe,
except in ``blend_frames`` frames around the middle, where the two are joined as in the paper's temporal blending:
per pixel the propagation with the lower patch error (each error grown with the distance to its keyframe) gives
the gradients, the cross-fade of the two gives the colours, and a screened Poisson equation joins them
(:func:`videostyle.poisson.solve_field`). The paper blends over the whole interval; measured on the bundled clip,
that cross-fade flattened the strokes (style distance 2.9x that of painting every frame, against 1.6x with the
window; docs/benchmarks.md), and each propagation is painted only as far as it is used. Frames before the first
keyframe have only the backward propagation, frames after the last only the forward one, and a keyframe is its
painting.

The other engine (``engine="network"``) is Texler et al. 2020's few-shot patch-based training: a small U-Net
learns from random patches of the keyframes and their paintings (:mod:`videostyle.training.patches`), then paints
every frame on its own, in one pass; a keyframe is still its painting. No flow is needed, frames do not depend on
each other, and a surface the keyframes never showed is painted as its look suggests rather than copied from
elsewhere.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from .checks import check_choice, check_positive
from .errors import VideostyleError
from .flow import ESTIMATORS, FlowCache, make_estimator, warp
from .flow.warp import flow_to_tensor, pixel_grid
from .io.atomic import check_not_an_input
from .io.image import load_frame_png, load_image, save_frame_png
from .methods.frames import FrameStylizer
from .pipeline import Progress, RunSettings, VideoSummary
from .synthesis import Guide, SynthesisOptions, synthesize
from .training.patches import PatchTrainingOptions

#: How keyframes are carried through the clip: guided patch synthesis along the flow, or a network trained on them.
ENGINES = ("patches", "network")


@dataclass(frozen=True)
class KeyframeOptions:
    """``engine``: ``patches`` (guided patch synthesis) or ``network`` (few-shot patch-based training; module
    docstring). For ``patches``: ``edge_weight``, ``position_weight``, ``temporal_weight``: the guides' weights in
    the patch distance; ``flow``: the optical flow estimator; ``synthesis``: the patch synthesis (its
    ``style_weight`` weighs the painting's own pixels); ``blend_frames``: how many frames around the middle between
    two keyframes join both propagations (0: a cut from one to the other); ``blend_weight``: how strongly a blended frame keeps the
    cross-fade's colours (the screened Poisson weight; smaller keeps more of the chosen propagation's gradients).
    For ``network``: ``training``, the network and its training."""

    engine: str = "patches"
    edge_weight: float = 1.0
    position_weight: float = 2.0
    temporal_weight: float = 2.0
    flow: str = "dis"
    blend_frames: int = 8
    blend_weight: float = 0.1
    synthesis: SynthesisOptions = field(
        default_factory=lambda: SynthesisOptions(patch_size=7, retrieval="uniform", em_iterations=2, search_iterations=3, final_vote="centre")
    )
    training: PatchTrainingOptions = field(default_factory=PatchTrainingOptions)

    def check(self) -> KeyframeOptions:
        check_choice("engine", self.engine, ENGINES)
        self.training.check()
        for name in ("edge_weight", "position_weight", "temporal_weight"):
            check_positive(name, getattr(self, name), allow_zero=True)
        check_positive("blend_weight", self.blend_weight)
        check_positive("blend_frames", self.blend_frames, allow_zero=True)
        check_choice("flow", self.flow, list(ESTIMATORS))
        self.synthesis.check()
        return self

    def describe(self) -> dict:
        """The options that decide the frames, for the run's resume key: the chosen engine's only."""
        settings = asdict(self)
        unused = (
            ("training",)
            if self.engine == "patches"
            else ("edge_weight", "position_weight", "temporal_weight", "flow", "blend_frames", "blend_weight", "synthesis")
        )
        return {name: value for name, value in settings.items() if name not in unused}


def edge_guide(frame: np.ndarray) -> torch.Tensor:
    """``H x W x 3`` uint8 -> ``1 x 1 x H x W``: the grey frame minus its blur (sigma 3 px), around 0.5."""
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    difference = cv2.GaussianBlur(grey, (0, 0), 0.75) - cv2.GaussianBlur(grey, (0, 0), 3.0)
    return torch.from_numpy(np.clip(0.5 + 2 * difference, 0, 1))[None, None]


def position_guide(height: int, width: int) -> torch.Tensor:
    """``1 x 2 x H x W``: each pixel's (x, y), divided by the long side."""
    return pixel_grid(height, width) / max(height, width, 2)


def _picture(frame: np.ndarray) -> torch.Tensor:
    return torch.tensor(frame).permute(2, 0, 1)[None].float() / 255


def _frame(picture: torch.Tensor) -> np.ndarray:
    return (picture[0].permute(1, 2, 0).clamp(0, 1) * 255).round().byte().numpy()


@dataclass
class _Propagation:
    """One keyframe carried frame by frame: the keyframe's guides (made once), and where the last frame stands."""

    key_edges: torch.Tensor
    key_positions: torch.Tensor
    painting: torch.Tensor
    frame: np.ndarray
    index: int
    output: np.ndarray
    position: torch.Tensor

    @classmethod
    def start(cls, index: int, frame: np.ndarray, painting: np.ndarray) -> _Propagation:
        positions = position_guide(*frame.shape[:2])
        return cls(edge_guide(frame), positions, _picture(painting), frame, index, painting, positions)

    def step(self, index: int, frame: np.ndarray, flows: FlowCache) -> tuple[torch.Tensor, torch.Tensor]:
        """Move to ``index`` (next to the last frame): the previous output and the positions warped onto ``frame``."""
        towards_last = flow_to_tensor(flows.flow(index, self.index, frame, self.frame))
        self.position = warp(self.position, towards_last)
        warped = warp(_picture(self.output), towards_last)
        self.index, self.frame = index, frame
        return warped, self.position

    def paint(self, index: int, frame: np.ndarray, flows: FlowCache, options: KeyframeOptions, device: torch.device) -> tuple[np.ndarray, np.ndarray]:
        """Frame ``index`` painted from the keyframe on ``device``; its picture and its patch error (``H x W`` float32)."""
        warped, position = self.step(index, frame, flows)
        painting = self.painting.to(device)
        guides = [
            Guide("edges", self.key_edges.to(device), edge_guide(frame).to(device), options.edge_weight),
            Guide("position", self.key_positions.to(device), position.to(device), options.position_weight),
            Guide("temporal", painting, warped.to(device), options.temporal_weight),
        ]
        result = synthesize(painting, [guide for guide in guides if guide.weight > 0], options.synthesis)
        self.output = _frame(result.image.cpu())
        return self.output, result.error.cpu().numpy().astype(np.float32)


def _blend(forward: np.ndarray, backward: np.ndarray, errors: tuple[np.ndarray, np.ndarray], share: float, weight: float) -> np.ndarray:
    """A frame at ``share`` (0: the earlier keyframe, 1: the later) between two keyframes, from the forward and the
    backward propagation and their patch errors (module docstring)."""
    from .poisson import gradients, solve_field

    smooth = [cv2.GaussianBlur(error.astype(np.float32), (0, 0), 2.0) for error in errors]  # float16 on disk
    take_forward = (smooth[0] * (0.5 + share) <= smooth[1] * (1.5 - share)).astype(np.float32)
    choose = cv2.GaussianBlur(take_forward, (0, 0), 1.0)[..., None]
    first, second = forward.astype(np.float32) / 255, backward.astype(np.float32) / 255
    (first_x, first_y), (second_x, second_y) = gradients(first), gradients(second)
    along_x = choose * first_x + (1 - choose) * second_x
    along_y = choose * first_y + (1 - choose) * second_y
    colours = (1 - share) * first + share * second
    joined = solve_field(along_x, along_y, colours, weight)
    return (np.clip(joined, 0, 1) * 255).round().astype(np.uint8)


def _save_error(error: np.ndarray, path: Path) -> None:
    """A patch error map kept for the blend (float16 is plenty to choose between two propagations)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, error.astype(np.float16))


class KeyframeFrames(FrameStylizer):
    """Keyframe propagation as the pipeline's :class:`FrameStylizer`: forward in the first pass, backward and the
    blend in :meth:`later_passes` (module docstring). ``paintings``: keyframe index -> ``H x W x 3`` uint8 at the
    working size. Patch errors and the backward frames are kept in the run folder, so an interrupted run resumes."""

    passes = 2

    def __init__(self, paintings: Mapping[int, np.ndarray], options: KeyframeOptions, run_folder: Path, progress: Progress, device: torch.device):
        self.paintings, self.options, self.progress, self.device = dict(paintings), options, progress, device
        self.keys = sorted(self.paintings)
        self.flows = FlowCache(run_folder / "flow", make_estimator(options.flow))
        self.work = run_folder / "keyframes"  # made once the pipeline has opened the run folder
        self.forward: _Propagation | None = None
        self.forward_key = -1

    def _window(self, earlier: int, later: int) -> tuple[float, float]:
        """``(low, high)`` between keyframes ``earlier`` and ``later``: frames up to ``low`` take the forward
        propagation, frames from ``high`` the backward one, frames strictly between join both."""
        middle, half = (earlier + later) / 2, self.options.blend_frames / 2
        return middle - half, middle + half

    def _advance(self, index: int, frame: np.ndarray, output: np.ndarray | None) -> np.ndarray:
        if index in self.paintings:
            self.forward, self.forward_key = _Propagation.start(index, frame, self.paintings[index]), index
            return self.paintings[index]
        if self.forward is None:  # before the first keyframe: the backward pass paints it
            return frame
        later = [key for key in self.keys if key > index]
        if later and index >= self._window(self.forward_key, later[0])[1]:  # the backward propagation paints it
            return frame
        if output is not None:  # finished by an earlier run: only the positions move on
            self.forward.step(index, frame, self.flows)
            self.forward.output = output
            return output
        painted, error = self.forward.paint(index, frame, self.flows, self.options, self.device)
        _save_error(error, self.work / "forward" / f"error_{index + 1:06d}.npy")
        return painted

    def stylize_batch(self, indices: list[int], frames: list[np.ndarray]) -> list[np.ndarray]:
        return [self._advance(index, frame, None) for index, frame in zip(indices, frames, strict=True)]

    def observe(self, index: int, frame: np.ndarray, output: np.ndarray) -> None:
        self._advance(index, frame, output)

    def _backward(self, frames: Path, key: int, stop: int) -> None:
        """Paint frames ``key - 1`` down to ``stop`` from keyframe ``key`` into ``keyframes/backward``."""
        propagation = None
        for index in range(key - 1, stop - 1, -1):
            picture = self.work / "backward" / f"out_{index + 1:06d}.png"
            if propagation is None:
                propagation = _Propagation.start(key, load_frame_png(frames / f"in_{key + 1:06d}.png"), self.paintings[key])
            frame = load_frame_png(frames / f"in_{index + 1:06d}.png")
            if picture.is_file():
                propagation.step(index, frame, self.flows)
                propagation.output = load_frame_png(picture)
                continue
            painted, error = propagation.paint(index, frame, self.flows, self.options, self.device)
            _save_error(error, self.work / "backward" / f"error_{index + 1:06d}.npy")
            save_frame_png(painted, picture)

    def later_passes(self, frames: Path, count: int) -> Path:
        beyond = [key for key in self.keys if key >= count]
        if beyond:
            raise VideostyleError(f"keyframe {beyond[0]} is outside the clip, which has {count} frames (0 to {count - 1})", parameter="keys")
        final = self.work / "final"
        final.mkdir(parents=True, exist_ok=True)
        for number, key in enumerate(self.keys):
            previous = self.keys[number - 1] if number else None  # painted back to just past the window's low end
            self._backward(frames, key, 0 if previous is None else max(previous + 1, math.floor(self._window(previous, key)[0]) + 1))
        for index in range(count):
            picture = final / f"out_{index + 1:06d}.png"
            if not picture.is_file():
                save_frame_png(self._final(frames, index), picture)
            self.progress.frame(index)
        return final

    def _final(self, frames: Path, index: int) -> np.ndarray:
        name = f"{index + 1:06d}"
        if index in self.paintings:
            return self.paintings[index]
        earlier = [key for key in self.keys if key < index]
        later = [key for key in self.keys if key > index]
        if not earlier:
            return load_frame_png(self.work / "backward" / f"out_{name}.png")
        if not later:
            return load_frame_png(frames / f"out_{name}.png")
        low, high = self._window(earlier[-1], later[0])
        if index <= low:
            return load_frame_png(frames / f"out_{name}.png")
        backward = load_frame_png(self.work / "backward" / f"out_{name}.png")
        if index >= high:
            return backward
        forward = load_frame_png(frames / f"out_{name}.png")
        errors = (np.load(self.work / "forward" / f"error_{name}.npy"), np.load(self.work / "backward" / f"error_{name}.npy"))
        return _blend(forward, backward, errors, (index - low) / (high - low), self.options.blend_weight)


class NetworkKeyframeFrames(FrameStylizer):
    """The ``network`` engine as the pipeline's :class:`FrameStylizer`: on the first frames it is handed, a
    :class:`~videostyle.models.patch_net.PatchNet` is trained on ``key_frames`` (keyframe index -> ``H x W x 3``
    uint8 frame at the working size) and their ``paintings``, in the run folder (an interrupted training resumes);
    then every frame is painted by it on its own, and a keyframe is its painting. Training steps are reported to
    ``progress.on_adapt``."""

    batch_size = 4

    def __init__(
        self,
        key_frames: Mapping[int, np.ndarray],
        paintings: Mapping[int, np.ndarray],
        options: PatchTrainingOptions,
        run_folder: Path,
        progress: Progress,
        device: torch.device,
    ):
        self.key_frames, self.paintings, self.options = dict(key_frames), dict(paintings), options
        self.progress, self.device = progress, device
        self.work = run_folder / "keyframes" / "network"  # made once the pipeline has opened the run folder
        self.network: torch.nn.Module | None = None

    def _trained(self) -> torch.nn.Module:
        if self.network is None:
            from .features import load_encoder
            from .training.patches import train_patch_network

            keys = sorted(self.paintings)
            frames = [_picture(self.key_frames[index]) for index in keys]
            paintings = [_picture(self.paintings[index]) for index in keys]
            encoder = load_encoder(device=self.device)
            self.network = train_patch_network(frames, paintings, self.work, self.options, encoder, self.device, on_step=self.progress.on_adapt)
        return self.network

    def stylize_batch(self, indices: list[int], frames: list[np.ndarray]) -> list[np.ndarray]:
        network = self._trained()
        with torch.no_grad():
            painted = network(torch.cat([_picture(frame) for frame in frames]).to(self.device)).cpu()
        return [self.paintings[index] if index in self.paintings else _frame(painted[number : number + 1]) for number, index in enumerate(indices)]


def _painting(path: str | os.PathLike, index: int, clip_size: tuple[int, int], working: tuple[int, int]) -> np.ndarray:
    """Keyframe ``index`` at the working size (``(height, width)``); it must have the clip's size or the working size."""
    image = load_image(path)
    sizes = {clip_size, working}
    if (image.height, image.width) not in sizes:
        expected = " or ".join(f"{width}x{height}" for height, width in sorted(sizes))
        raise VideostyleError(f"keyframe {index} ({path}) is {image.width}x{image.height}; the clip's frames are {expected}", parameter="keys")
    if (image.height, image.width) != working:
        image = image.resize((working[1], working[0]), resample=4)  # Pillow's BOX: an average, as the frames are resized
    return np.asarray(image.convert("RGB"))


def propagate_keyframes(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    keys: Mapping[int, str | os.PathLike],
    *,
    options: KeyframeOptions | None = None,
    long_side: int | None = None,
    run: RunSettings | None = None,
    device: torch.device | str | None = None,
    progress: Progress | None = None,
) -> VideoSummary:
    """The clip ``input_path`` painted after its painted frames ``keys`` (0-based frame index -> picture of that
    frame painted, at the clip's size or at the working size) into ``output_path``, with the clip's sound (module
    docstring for the method). ``long_side``: the working size's long side (None: the clip's own). ``run``: the
    run folder's settings, as for :func:`~videostyle.pipeline.stylize_video`; an interrupted run resumes."""
    from .io.video import VideoReader, check_video_destination
    from .pipeline import needs_even_size, stylize_frames, working_size
    from .runs import clip_fingerprint, file_fingerprint

    options = (options or KeyframeOptions()).check()
    if not keys:
        raise VideostyleError("give at least one painted keyframe", parameter="keys")
    check_video_destination(output_path)
    check_not_an_input(output_path, [input_path, *keys.values()])
    info = VideoReader(input_path).info
    for index in keys:
        if not 0 <= index < info.frame_count:
            raise VideostyleError(f"keyframe {index} is outside the clip, which has {info.frame_count} frames (0 to {info.frame_count - 1})", parameter="keys")
    progress = progress or Progress()

    size = working_size(info.height, info.width, long_side, even=needs_even_size(output_path))  # the pipeline's working size
    # Read (and refused) before the run folder is made; the pipeline's working size is the same one.
    paintings = {index: _painting(path, index, (info.height, info.width), size) for index, path in keys.items()}

    key_frames = clip_frames(input_path, sorted(paintings), size) if options.engine == "network" else {}

    def make_stylizer(run_folder: Path, size: tuple[int, int], where: torch.device) -> FrameStylizer:
        if options.engine == "network":
            return NetworkKeyframeFrames(key_frames, paintings, options.training, run_folder, progress, where)
        return KeyframeFrames(paintings, options, run_folder, progress, where)

    key = {
        "keyframes": {
            "keys": {str(index): file_fingerprint(path) for index, path in sorted(keys.items())},
            "clip": clip_fingerprint(input_path),
            "options": options.describe(),
        }
    }
    return stylize_frames(input_path, output_path, make_stylizer, key, long_side=long_side, run=run, device=device, progress=progress)


def clip_frames(input_path: str | os.PathLike, indices: list[int], size: tuple[int, int]) -> dict[int, np.ndarray]:
    """Frames ``indices`` (0-based) of a clip resized to ``size`` (``(height, width)``) as the pipeline resizes
    them, ``H x W x 3`` uint8 each, in one read of the clip up to the last of them."""
    from .io.video import VideoReader
    from .pipeline import resize_frame

    wanted, found, number = set(indices), {}, -1
    for number, frame in enumerate(VideoReader(input_path)):
        if number in wanted:
            found[number] = resize_frame(frame, size)
            if len(found) == len(wanted):
                return found
    missing = min(wanted - set(found))
    raise VideostyleError(f"frame {missing} is outside the clip, which has {number + 1} frames (0 to {number})", parameter="frame")


def clip_frame(input_path: str | os.PathLike, index: int, long_side: int | None = None) -> np.ndarray:
    """Frame ``index`` (0-based) of a clip at the working size (``long_side``; None: the clip's own), ``H x W x 3``
    uint8: the picture to paint for a keyframe."""
    from .io.video import VideoReader
    from .pipeline import working_size

    reader = VideoReader(input_path)
    if index < 0:
        raise VideostyleError(f"frame {index} is outside the clip (frames count from 0)", parameter="frame")
    size = working_size(reader.info.height, reader.info.width, long_side, even=True)
    return clip_frames(input_path, [index], size)[index]
