"""Image style transfer by optimisation (Gatys, Ecker, Bethge 2015, "A Neural Algorithm of
Artistic Style"), with colour control (Gatys et al. 2016), several blended styles, style
scale and coarse-to-fine optimisation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import torch

from .. import color
from ..errors import VideostyleError
from ..features import VGGEncoder, layer_stride, load_encoder
from ..io.image import picture_size, resize, size_for_long_side
from ..losses import PerceptualLoss
from ..losses.tiled import TiledPerceptualLoss
from ..options import SWAP_LAYER, GatysOptions, PictureOptions
from ..results import StylizeResult
from .optimize import OptimizationResult, Step, optimize_image


def make_criterion(encoder: VGGEncoder, options: GatysOptions, tile: int | None = None) -> PerceptualLoss | TiledPerceptualLoss:
    """The criterion of these options; over tiles of ``tile`` pixels when one is given (the same interface)."""
    criterion = PerceptualLoss(
        encoder,
        content_layers=options.content_layers,
        style_layers=swap_style_layers(options.style_layers) if options.style_loss == "swap" else options.style_layers,
        content_weight=options.content_weight,
        style_weight=options.style_weight if "gram" in options.style_loss or options.style_loss == "swap" else 0.0,
        tv_weight=options.tv_weight,
        mrf_layers=options.mrf_layers,
        mrf_weight=options.mrf_weight if "mrf" in options.style_loss else 0.0,
        swap_layer=SWAP_LAYER if options.style_loss == "swap" else None,
    )
    criterion.map_weight = options.map_weight
    return criterion if tile is None else TiledPerceptualLoss(criterion, tile, seed=options.seed)


def swap_style_layers(style_layers: dict[str, float]) -> dict[str, float]:
    """Style swap's Gram layers: the style layers below the swap layer. The swap carries the painting's patterns at
    relu3_1 and deeper; Gram matrices of the shallower layers carry its colours and fine strokes, which relu3_1
    alone leaves to the start (docs/benchmarks.md, "Does style swap paint an unseen painting?"). With none left, relu1_1 (at weight 0
    when the style weight is 0, a criterion needs a style layer).

    >>> swap_style_layers({"relu1_1": 1.0, "relu2_1": 1.0, "relu3_1": 1.0, "relu5_1": 1.0})
    {'relu1_1': 1.0, 'relu2_1': 1.0}
    """
    below = {name: weight for name, weight in style_layers.items() if layer_stride(name) < layer_stride(SWAP_LAYER)}
    return below or {"relu1_1": 0.0}


def picture_step(step: Step, margin: int) -> Step:
    """A step as callers see it: the variable without the margin."""
    return replace(step, variable=remove_margin(step.variable, margin))


def scale_sizes(height: int, width: int, scales: int) -> list[tuple[int, int]]:
    """Sizes from coarsest to finest, halving the long side per scale (never below 16 px)."""
    long_side = max(height, width)
    sizes = []
    for level in reversed(range(scales)):
        side = max(16, round(long_side / 2**level))
        sizes.append((height, width) if level == 0 else size_for_long_side(height, width, side))
    return sizes


def estimate_seconds(options: GatysOptions, height: int, width: int, seconds_per_iteration: float) -> float:
    """The time of :func:`stylize` from the measured cost of one iteration at the output size: a coarser
    scale's iteration costs in proportion to its pixels. An upper bound where early stopping ends sooner.

    >>> estimate_seconds(GatysOptions(iterations=100, scales=2, coarse_iterations=100), 512, 512, 1.0)
    125.0
    >>> estimate_seconds(GatysOptions(iterations=100, scales=2, coarse_iterations=20), 512, 512, 1.0)
    105.0
    """
    sizes = scale_sizes(height, width, options.scales)
    pixels = sum(count * h * w for count, (h, w) in zip(options.iterations_per_scale, sizes, strict=True))
    return seconds_per_iteration * pixels / (height * width)


class StyleTarget:
    """The prepared style side of the problem for one output size: recoloured, rescaled style images.

    In luminance mode the encoder sees grey images: the styles' luminance matched to the
    content's mean and variance (Gatys et al. 2016, eq. 1).
    """

    def __init__(self, styles: Sequence[torch.Tensor], content: torch.Tensor, style_scale: float, picture_options: PictureOptions):
        self.style_scale = style_scale
        if picture_options.preserve_color == "histogram":
            styles = [color.match_color_statistics(style, content, picture_options.color_method) for style in styles]
        elif picture_options.preserve_color == "luminance":
            content_y = color.luminance(content)
            styles = [color.grey_rgb(color.match_luminance(color.luminance(style), content_y)).clamp(0, 1) for style in styles]
        self.styles = list(styles)

    def at_size(self, size: tuple[int, int]) -> list[torch.Tensor]:
        long_side = max(1, round(max(size) * self.style_scale))
        return [resize(style, size_for_long_side(style.shape[-2], style.shape[-1], long_side)) for style in self.styles]


def add_margin(image: torch.Tensor, margin: int) -> tuple[torch.Tensor, int]:
    """``image`` (``B x C x H x W``) mirrored outwards by ``margin`` pixels on every side (at most one less than its
    short side: a mirror needs that much picture), and the margin used.

    >>> add_margin(torch.arange(3.0).view(1, 1, 1, 3).expand(1, 1, 2, 3), 1)[0][0, 0]
    tensor([[1., 0., 1., 2., 1.],
            [1., 0., 1., 2., 1.],
            [1., 0., 1., 2., 1.],
            [1., 0., 1., 2., 1.]])
    """
    margin = max(0, min(margin, image.shape[-2] - 1, image.shape[-1] - 1))
    return (torch.nn.functional.pad(image, (margin,) * 4, mode="reflect") if margin else image), margin


def remove_margin(image: torch.Tensor, margin: int) -> torch.Tensor:
    """The picture inside a canvas made by :func:`add_margin`."""
    return image[..., margin : image.shape[-2] - margin, margin : image.shape[-1] - margin] if margin else image


def map_with_margin(semantic_map: torch.Tensor, margin: int, picture_height: int) -> torch.Tensor:
    """A target map of the picture (``1 x K x h x w``, any resolution) mirrored by the margin at its own scale."""
    return add_margin(semantic_map, round(margin * semantic_map.shape[-2] / picture_height))[0]


def initial_variable(
    content: torch.Tensor, styles: Sequence[torch.Tensor], options: GatysOptions, luminance: bool, matched: torch.Tensor | None = None
) -> torch.Tensor:
    """The starting point, in the optimisation variable's space (RGB, or Y where ``luminance``). ``matched``: the
    style swap's matched picture at the content's size (:meth:`~videostyle.losses.PerceptualLoss.matched_picture`),
    needed by the ``matched`` start."""
    if options.start == "content":
        start = content
    elif options.start == "style":
        start = resize(styles[0], picture_size(content))
    elif options.start == "matched":
        if matched is None:
            raise VideostyleError("init matched needs the style swap's matched picture", parameter="init")
        start = matched
    else:
        generator = torch.Generator().manual_seed(options.seed)
        start = torch.rand(content.shape, generator=generator).to(content.device)
    return color.luminance(start) if luminance else start.clone()


def upsample_result(variable: torch.Tensor, coarse_content: torch.Tensor, content: torch.Tensor, options: GatysOptions, luminance: bool) -> torch.Tensor:
    """A coarser scale's result as the start of the next scale (``content``'s size). From a content start, the
    coarse result's change to its content is upsampled onto the sharp content, so that the finer scale starts with
    the content's fine detail (as a Laplacian pyramid's next level) rather than a blurred picture; other starts
    are upsampled as they are. At 512 px, 3 scales of 100 iterations reached the single-scale loss in 0.82x the
    single-scale time (docs/benchmarks.md, "Coarse-to-fine, a cheaper Gram matrix and a third distillation stage"; the plain upsampling: 0.94x in an ad hoc run)."""
    size = picture_size(content)
    if options.start != "content":
        return resize(variable, size)
    in_space = color.luminance if luminance else (lambda image: image)
    return in_space(content) + resize(variable - in_space(coarse_content), size)


def to_encoder_space(variable: torch.Tensor, luminance: bool) -> torch.Tensor:
    """The optimisation variable as the RGB image the criterion scores (``luminance``: the variable is Y)."""
    return color.grey_rgb(variable) if luminance else variable


def to_output(variable: torch.Tensor, content: torch.Tensor, luminance: bool) -> torch.Tensor:
    """The optimisation variable as the final RGB image in [0, 1] (``luminance``: the content's colours put back)."""
    if luminance:
        return color.combine_luminance(color.grey_rgb(variable), resize(content, picture_size(variable)))
    return variable.clamp(0, 1)


def content_for_criterion(content: torch.Tensor, luminance: bool) -> torch.Tensor:
    """The content as the criterion sees it: grey where the optimisation works on luminance."""
    return color.grey_rgb(color.luminance(content)) if luminance else content


def stylize(
    content: torch.Tensor,
    styles: Sequence[torch.Tensor],
    options: GatysOptions | None = None,
    picture_options: PictureOptions | None = None,
    encoder: VGGEncoder | None = None,
    callback: Callable[[int, Step], None] | None = None,
    semantic_maps: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> StylizeResult:
    """Stylize one ``1 x 3 x H x W`` content image with one or more style images (same convention).

    ``picture_options``: the output's size, the style mix, colour control and tiles (None: the content's size,
    equal weights, no colour control, whole). ``callback(scale_index, step)`` is called after every iteration.
    ``semantic_maps``: one-hot ``(style map, target map)`` guiding the MRF loss (a neural doodle; :mod:`videostyle.doodle`).
    """
    picture_options = picture_options or PictureOptions()
    options = (options or GatysOptions()).check(picture_options)
    luminance = picture_options.luminance
    if not styles:
        raise VideostyleError("at least one style image is needed")
    encoder = encoder if encoder is not None else load_encoder(device=content.device)
    torch.manual_seed(options.seed)
    height, width = content.shape[-2:]
    if picture_options.size is not None:
        height, width = size_for_long_side(height, width, picture_options.size)
    full_content = resize(content, (height, width))
    canvas, margin = add_margin(full_content, options.margin)  # the picture and its mirrored margin are optimised
    criterion = make_criterion(encoder, options, picture_options.tile)
    criterion.semantic_maps = None if semantic_maps is None else (semantic_maps[0], map_with_margin(semantic_maps[1], margin, height))
    style_target = StyleTarget(styles, full_content, options.style_scale, picture_options)
    start = time.perf_counter()
    variable: torch.Tensor | None = None
    coarser_content: torch.Tensor | None = None  # the previous scale's content, for upsample_result
    history: list[float] = []
    iterations = 0
    result: OptimizationResult | None = None
    levels = zip(scale_sizes(*picture_size(canvas), options.scales), options.iterations_per_scale, strict=True)
    for index, (size, budget) in enumerate(levels):
        scaled_content = resize(canvas, size)
        scale = size[0] / canvas.shape[-2]
        level_margin = round(margin * scale)
        criterion.set_style(style_target.at_size((round(height * scale), round(width * scale))), picture_options.style_weights)  # sized to the picture
        targets = criterion.content_targets(content_for_criterion(scaled_content, luminance))
        if variable is None or coarser_content is None:
            matched = criterion.matched_picture() if options.start == "matched" else None
            variable = initial_variable(scaled_content, style_target.styles, options, luminance, matched)
        else:
            variable = upsample_result(variable, coarser_content, scaled_content, options, luminance)

        def objective(x: torch.Tensor, targets: dict = targets) -> dict[str, torch.Tensor]:  # this scale's targets
            return criterion(to_encoder_space(x, luminance), targets)

        def on_step(step: Step, index: int = index, cut: int = level_margin) -> None:  # this scale's number and margin
            assert callback is not None
            callback(index, picture_step(step, cut))

        result = optimize_image(
            variable,
            objective,
            budget,
            optimizer=options.optimizer,
            learning_rate=options.learning_rate,
            tolerance=options.tolerance,
            patience=options.patience,
            callback=None if callback is None else on_step,
        )
        variable, coarser_content = result.variable, scaled_content
        history += result.history
        iterations += result.iterations
    assert result is not None and variable is not None
    return StylizeResult(
        image=remove_margin(to_output(variable, canvas, luminance), margin).detach(),
        iterations=iterations,
        seconds=time.perf_counter() - start,
        losses=result.terms,
        history=history,
        stopped_early=result.stopped_early,
        diverged=result.diverged,
    )
