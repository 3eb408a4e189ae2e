"""Temporally coherent video style transfer by optimisation (Ruder, Dosovitskiy, Brox 2016,
"Artistic style transfer for videos"), single pass.

Frame i is initialised with the previous stylized frame warped by the optical flow and
optimised with the Gatys criterion plus temporal losses towards the warped outputs of the
earlier frames i - j, j in J (``long_term``), each weighted per pixel by the long-term
consistency weights, so that a pixel is held only to the nearest earlier frame in which it
was visible. The stylizer keeps a ring buffer of the last max(J) frames and outputs: memory
does not grow with the video.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch

from ..color import luminance
from ..errors import VideostyleError
from ..features import VGGEncoder
from ..flow import FlowCache, long_term_weights, warp
from ..io.image import picture_size, to_tensor, to_uint8
from ..losses import functional as LF
from ..options import PictureOptions, VideoOptions
from .gatys import (
    StyleTarget,
    add_margin,
    content_for_criterion,
    initial_variable,
    make_criterion,
    map_with_margin,
    picture_step,
    remove_margin,
    to_encoder_space,
    to_output,
)
from .optimize import Step, optimize_image


@dataclass
class FrameResult:
    output: np.ndarray  # H x W x 3 uint8
    iterations: int
    losses: dict[str, float]
    history: list[float]


class RuderStylizer:
    """Stylize frames in order; ``observe`` replays finished frames so a resumed run continues exactly.

    Frames are ``H x W x 3`` uint8 at the working size. The previous outputs it warps are the
    uint8 frames written to disk, so that a resumed run sees exactly what a continuous one saw.
    ``picture_options``: the style mix, colour control and tiles (their ``size`` is the caller's: the frames come
    at the working size).
    """

    def __init__(
        self,
        encoder: VGGEncoder,
        styles: list[torch.Tensor],
        options: VideoOptions,
        flow_cache: FlowCache | None,
        device: torch.device,
        picture_options: PictureOptions | None = None,
    ):
        self.picture_options = picture_options or PictureOptions()
        self.options = options.check(self.picture_options)
        self.luminance = self.picture_options.luminance
        self.encoder, self.styles, self.device = encoder, styles, device
        self.flow_cache = flow_cache
        self.criterion = make_criterion(encoder, options.image, self.picture_options.tile)
        self.history: deque[tuple[int, np.ndarray, np.ndarray]] = deque(maxlen=1 if options.independent else max(options.long_term))
        self._style_ready_for: tuple[int, int] | None = None
        self._style_target: StyleTarget | None = None

    def _prepare_style(self, content: torch.Tensor) -> None:
        size = picture_size(content)
        if self._style_ready_for != size:
            # Colour modes match the style to the first frame's colours, once for the whole clip.
            self._style_target = StyleTarget(self.styles, content, self.options.image.style_scale, self.picture_options)
            self.criterion.set_style(self._style_target.at_size(size), self.picture_options.style_weights)
            self._style_ready_for = size

    def _prepared_styles(self) -> list[torch.Tensor]:
        """The style images as the style target holds them (colour-matched to the first frame where asked)."""
        assert self._style_target is not None, "_prepare_style runs first"
        return self._style_target.styles

    def observe(self, index: int, frame: np.ndarray, output: np.ndarray) -> None:
        """Record a finished frame (its input and uint8 output) as history for the next ones."""
        self.history.append((index, frame, output))

    def warped_neighbour(
        self, index: int, frame: np.ndarray, other: int, other_frame: np.ndarray, other_output: np.ndarray
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Frame ``other``'s output warped onto frame ``index`` and the consistency weights there."""
        if self.flow_cache is None:
            raise VideostyleError("the temporal loss needs optical flow: give the stylizer a flow cache", parameter="flow_cache")
        backward, weights = self.flow_cache.backward_and_weights(other, index, other_frame, frame, self.device)
        return warp(to_tensor(other_output, self.device), backward), weights

    def temporal_targets(self, index: int, frame: np.ndarray) -> list[tuple[int, torch.Tensor, torch.Tensor]]:
        """``(gap, warped earlier output, long-term weights)`` for each gap j in J available."""
        earlier = {i: (f, o) for i, f, o in self.history}
        gaps = [gap for gap in self.options.long_term if index - gap in earlier]
        pairs = [self.warped_neighbour(index, frame, index - gap, *earlier[index - gap]) for gap in gaps]
        return list(zip(gaps, [warped for warped, _ in pairs], long_term_weights([weights for _, weights in pairs]), strict=True))

    def stylize(self, index: int, frame: np.ndarray, callback: Callable[[Step], None] | None = None) -> FrameResult:
        """The single-pass algorithm: stylize the next frame, held to the earlier outputs in the history."""
        options = self.options
        content = to_tensor(frame, self.device)
        self._prepare_style(content)
        temporal = [] if options.independent or not self.history else self.temporal_targets(index, frame)
        first = options.independent or not self.history
        if first or options.frame_init == "random":
            start_mode = options.image.start if first else "noise"
            # the matched start comes from the swap made for the targets, in _optimise
            init = (
                None
                if start_mode == "matched"
                else initial_variable(
                    content, self._prepared_styles(), replace(options.image, init=start_mode, seed=options.image.seed + index), self.luminance
                )
            )
        elif options.frame_init == "previous":
            init = self._to_variable(to_tensor(self.history[-1][2], self.device))
        else:
            gap_one = next((warped for gap, warped, _ in temporal if gap == 1), None)
            init = self._to_variable(gap_one if gap_one is not None else to_tensor(self.history[-1][2], self.device))
        iterations = options.first_iterations if first else options.image.iterations
        result = self._optimise(index, content, init, temporal, iterations, callback)
        self.observe(index, frame, result.output)
        return result

    def refine(
        self,
        index: int,
        frame: np.ndarray,
        output: np.ndarray,
        neighbour: tuple[int, np.ndarray, np.ndarray] | None,
        use_temporal_loss: bool,
        callback: Callable[[Step], None] | None = None,
    ) -> FrameResult:
        """One frame of a later pass of the multi-pass algorithm (Ruder et al., section 3.3).

        Starts from ``delta c w + (1 - delta c) x`` with x the frame's output from the previous
        pass, w the neighbour's (previous frame in this pass's direction) output warped onto
        this frame and c the consistency weights; optionally held to w by the temporal loss.
        The first frame of a pass has no neighbour and starts from its previous result.
        """
        content = to_tensor(frame, self.device)
        self._prepare_style(content)
        if neighbour is None:
            return self._optimise(index, content, self._to_variable(to_tensor(output, self.device)), [], self.options.pass_iterations, callback)
        warped, weights = self.warped_neighbour(index, frame, *neighbour)
        delta = self.options.pass_blend
        blended = delta * weights * warped + (1 - delta * weights) * to_tensor(output, self.device)
        temporal = [(1, warped, weights)] if use_temporal_loss else []
        return self._optimise(index, content, self._to_variable(blended), temporal, self.options.pass_iterations, callback)

    def _optimise(self, index: int, content: torch.Tensor, init: torch.Tensor | None, temporal: list, iterations: int, callback) -> FrameResult:
        """Optimise the frame on a canvas with the mirrored margin of the image method (:func:`add_margin`); the
        temporal terms compare the picture itself with the warped earlier outputs. ``init`` None: style swap's
        matched start, from the match made for this frame's targets."""
        options = self.options
        canvas, margin = add_margin(content, options.image.margin)
        targets = self.criterion.content_targets(content_for_criterion(canvas, self.luminance))
        if init is None:
            start = initial_variable(canvas, self._prepared_styles(), replace(options.image, init="matched"), self.luminance, self.criterion.matched_picture())
        else:
            start = add_margin(init, margin)[0]
        weight = options.temporal_weight
        maps = self.criterion.semantic_maps  # a doodle video's maps, set per frame: the target map gets the margin too
        if maps is not None:
            self.criterion.semantic_maps = (maps[0], map_with_margin(maps[1], margin, content.shape[-2]))

        def objective(x: torch.Tensor) -> dict[str, torch.Tensor]:
            terms = self.criterion(to_encoder_space(x, self.luminance), targets)
            rgb = remove_margin(to_output(x, canvas, True) if self.luminance else x, margin)
            for gap, warped, weights in temporal:
                terms[f"temporal.{gap}"] = weight * LF.temporal_loss(rgb, warped, weights)
            return terms

        torch.manual_seed(options.image.seed + index)
        try:
            result = optimize_image(
                start,
                objective,
                iterations,
                optimizer=options.image.optimizer,
                learning_rate=options.image.learning_rate,
                tolerance=options.image.tolerance,
                patience=options.image.patience,
                callback=None if callback is None else (lambda step: callback(picture_step(step, margin))),
            )
        finally:
            self.criterion.semantic_maps = maps
        output = to_uint8(remove_margin(to_output(result.variable, canvas, self.luminance), margin))
        return FrameResult(output, result.iterations, result.terms, result.history)

    def _to_variable(self, rgb: torch.Tensor) -> torch.Tensor:
        return luminance(rgb) if self.luminance else rgb


def planned_iterations(options: VideoOptions, frames: int) -> int:
    """Every iteration a run of ``frames`` frames will take at most (early stopping can only shorten it)."""
    if options.independent:
        return frames * options.first_iterations
    return options.first_iterations + max(frames - 1, 0) * options.image.iterations + (options.passes - 1) * frames * options.pass_iterations


def planned_flows(options: VideoOptions, frames: int) -> int:
    """The optical flows a run of ``frames`` frames estimates: both directions for every gap in ``long_term``."""
    if options.independent:
        return 0
    return sum(2 * max(frames - gap, 0) for gap in options.long_term)


def estimate_seconds(options: VideoOptions, frames: int, seconds_per_iteration: float, seconds_per_flow: float) -> float:
    """The time of a run by optimisation, from measured costs: each planned iteration at
    ``seconds_per_iteration``, each planned flow at ``seconds_per_flow`` (reading, writing and
    start-up are small beside them). An upper bound where early stopping ends frames sooner.

    >>> from videostyle.options import GatysOptions
    >>> options = VideoOptions(first_iterations=100, image=GatysOptions(iterations=10))
    >>> estimate_seconds(options, frames=11, seconds_per_iteration=0.5, seconds_per_flow=0.25)
    105.0
    """
    return planned_iterations(options, frames) * seconds_per_iteration + planned_flows(options, frames) * seconds_per_flow
