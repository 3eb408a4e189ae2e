"""Guided patch synthesis: paint a target in the hand of a styled exemplar, led by guidance channels.

The exemplar is a pair: its guides A (what the artist painted over: a lit sphere's light paths, a video frame's
edges and positions) and its style A' (the painting). The target has guides B of the same channels; the result
B' minimises, over all ``k x k`` patches p of the target (Hertzmann et al. 2001's image analogies, with the
patch-based energy of Kwatra et al. 2005 as used by StyLit, Fišer et al. 2016, and Jamriška et al. 2019)

    E = sum_p  min_q  sum_g w_g |A_g(q) - B_g(p)|^2  +  style_weight |A'(q) - B'(p)|^2

by expectation-maximisation at each level of a pyramid, coarse to fine: PatchMatch finds each target patch's
exemplar patch q (the NNF), then every pixel of B' becomes the mean of the exemplar pixels that the patches
covering it bring (voting). A guide's weight is shared by its channels (a 3-channel guide counts as much as a
1-channel one of the same weight).

Retrieval (``SynthesisOptions.retrieval``):

- ``nearest``: each target patch takes its nearest exemplar patch. A few exemplar patches tend to win
  everywhere, and the result washes out into them.
- ``uniform``: StyLit's uniform retrieval (section 3.3). In rounds, every exemplar patch finds its nearest
  target patch among those still unassigned (a reverse NNF); of these pairs, sorted by cost, those up to the
  knee of the cost curve are kept (each target keeping its best). Each round uses an exemplar patch at most
  once, so the exemplar is used about evenly, and a bad match is left to a later round rather than forced.
  Targets still unassigned after ``uniform_rounds`` take their nearest patch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..checks import check_choice, check_positive
from ..errors import VideostyleError
from .patchmatch import moved_indices, patch_descriptors, patch_match, principal_basis, random_field, shifted_field

RETRIEVALS = ("uniform", "nearest")
FINAL_VOTES = ("mean", "centre")


@dataclass(frozen=True)
class Guide:
    """One guidance channel group: ``source`` on the exemplar's grid (``1 x C x Hs x Ws``), ``target`` on the
    target's (``1 x C x Ht x Wt``), and its weight in the patch distance."""

    name: str
    source: torch.Tensor
    target: torch.Tensor
    weight: float


@dataclass(frozen=True)
class SynthesisOptions:
    """``patch_size``: side of the compared patches (odd; StyLit and EbSynth use 5). ``levels``: pyramid levels
    (None: halve until the short side is under ``8 * patch_size``). ``em_iterations``: search and vote rounds at
    each level; ``search_iterations``: PatchMatch iterations per search. ``style_weight``: the weight of the
    style channels against the guides (StyLit's mu, 2). ``dimensions``: patch descriptors projected on this many
    principal components (None: exact distances). ``retrieval``: ``uniform`` or ``nearest`` (module docstring).
    ``uniform_rounds``: at most this many rounds of uniform retrieval per search. ``final_vote``: how the finest
    level's last picture is made from the matches, ``mean`` (voting, as at every other step) or ``centre`` (each
    pixel the centre of its own patch's match: no averaging, so no blur where neighbouring matches disagree)."""

    patch_size: int = 5
    levels: int | None = None
    em_iterations: int = 3
    search_iterations: int = 4
    style_weight: float = 2.0
    dimensions: int | None = 24
    retrieval: str = "uniform"
    uniform_rounds: int = 6
    final_vote: str = "mean"
    seed: int = 0

    def check(self) -> SynthesisOptions:
        if self.patch_size < 1 or self.patch_size % 2 == 0:
            raise VideostyleError(f"patch_size must be an odd number of pixels, got {self.patch_size}", parameter="patch_size")
        for name in ("em_iterations", "search_iterations", "uniform_rounds"):
            check_positive(name, getattr(self, name))
        if self.levels is not None:
            check_positive("levels", self.levels)
        if self.dimensions is not None:
            check_positive("dimensions", self.dimensions)
        check_positive("style_weight", self.style_weight, allow_zero=True)
        check_choice("retrieval", self.retrieval, RETRIEVALS)
        check_choice("final_vote", self.final_vote, FINAL_VOTES)
        return self


@dataclass
class Synthesis:
    """What :func:`synthesize` returns: the picture ``image`` (``1 x 3 x Ht x Wt``), the ``field`` (``Ht x Wt``
    flat exemplar indices) and each target patch's ``error`` (``Ht x Wt``, its patch distance per channel)."""

    image: torch.Tensor
    field: torch.Tensor
    error: torch.Tensor


def _check_guides(style: torch.Tensor, guides: Sequence[Guide]) -> tuple[tuple[int, int], tuple[int, int]]:
    if style.dim() != 4 or style.shape[0] != 1:
        raise VideostyleError(f"the exemplar's style must be 1 x C x H x W, got {tuple(style.shape)}", parameter="style")
    if not guides:
        raise VideostyleError("guided synthesis needs at least one guide", parameter="guides")
    source_shape = (style.shape[-2], style.shape[-1])
    target_shape = (guides[0].target.shape[-2], guides[0].target.shape[-1])
    for guide in guides:
        if tuple(guide.source.shape[-2:]) != source_shape:
            raise VideostyleError(f"guide {guide.name}: its exemplar side is {tuple(guide.source.shape[-2:])}, the style {source_shape}", parameter="guides")
        if tuple(guide.target.shape[-2:]) != target_shape:
            raise VideostyleError(f"guide {guide.name}: its target side is {tuple(guide.target.shape[-2:])}, expected {target_shape}", parameter="guides")
        if guide.source.shape[1] != guide.target.shape[1]:
            raise VideostyleError(
                f"guide {guide.name}: {guide.source.shape[1]} channels on the exemplar, {guide.target.shape[1]} on the target", parameter="guides"
            )
    return source_shape, target_shape


def pyramid_levels(shape_a: tuple[int, int], shape_b: tuple[int, int], patch_size: int) -> int:
    """Levels such that the coarsest short side (of both pictures) is at least ``4 * patch_size``."""
    shortest = min(*shape_a, *shape_b)
    return max(1, math.floor(math.log2(max(shortest / (4 * patch_size), 1))) + 1)


def _resize(image: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    if tuple(image.shape[-2:]) == shape:
        return image
    return F.interpolate(image, size=shape, mode="bilinear", align_corners=False, antialias=True)


def vote(style: torch.Tensor, field: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Each target pixel: the mean of the exemplar pixels that the patches covering it bring (``1 x C x Ht x Wt``).
    ``style`` is the exemplar (``1 x C x Hs x Ws``), ``field`` the NNF of the target's patch centres."""
    channels, source_h, source_w = style.shape[1:]
    flat = style[0].reshape(channels, -1)
    radius = patch_size // 2
    total = torch.zeros(channels, *field.shape, dtype=style.dtype, device=style.device)
    count = torch.zeros(field.shape, dtype=style.dtype, device=style.device)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            centre, valid = shifted_field(field, dy, dx)  # the match of the patch centred at p - (dy, dx)
            brought = moved_indices(centre, dy, dx, (source_h, source_w))
            values = flat[:, brought.reshape(-1)].reshape(channels, *field.shape)
            total += values * valid
            count += valid
    return (total / count.clamp_min(1))[None]


def _knee(sorted_costs: torch.Tensor) -> int:
    """How many of the ascending ``sorted_costs`` lie before the knee: the point farthest below the chord from the
    first to the last (the "Kneedle" rule; StyLit fits a hyperbola for the same point)."""
    count = len(sorted_costs)
    if count < 3:
        return count
    span = (sorted_costs[-1] - sorted_costs[0]).clamp_min(1e-12)
    position = torch.linspace(0, 1, count, device=sorted_costs.device, dtype=sorted_costs.dtype)
    below = position - (sorted_costs - sorted_costs[0]) / span
    return int(below.argmax()) + 1


def uniform_field(
    target: torch.Tensor,
    source: torch.Tensor,
    shapes: tuple[tuple[int, int], tuple[int, int]],
    options: SynthesisOptions,
    generator: torch.Generator,
    start: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """StyLit's uniform retrieval (module docstring): the target's NNF (``Ht x Wt``) and costs. ``target`` and
    ``source`` are descriptors (``N x D``), ``shapes`` the target's and the source's ``(H, W)``, ``start`` the
    forward NNF that the unassigned targets keep."""
    target_shape, source_shape = shapes
    target_count = target_shape[0] * target_shape[1]
    assigned = torch.full((target_count,), -1, dtype=torch.long, device=target.device)
    costs = torch.zeros(target_count, dtype=target.dtype, device=target.device)
    reverse = random_field(source_shape, target_shape, generator, target.device)
    for _ in range(options.uniform_rounds):
        free = assigned < 0
        if not bool(free.any()):
            break
        penalty = torch.zeros(target_count, dtype=target.dtype, device=target.device).masked_fill(~free, math.inf)  # assigned targets are taken
        reverse, reverse_cost = patch_match(source, target, reverse, target_shape, options.search_iterations, generator, penalty)
        chosen, cost = reverse.reshape(-1), reverse_cost.reshape(-1)
        usable = torch.isfinite(cost)
        if not bool(usable.any()):
            break
        sources = torch.arange(len(chosen), device=target.device)[usable]
        chosen, cost = chosen[usable], cost[usable]
        best = torch.full((target_count,), math.inf, dtype=cost.dtype, device=cost.device).scatter_reduce(0, chosen, cost, "amin")
        winner = cost <= best[chosen]  # each target keeps its best source
        sources, chosen, cost = sources[winner], chosen[winner], cost[winner]
        # Of equally good sources (flat regions tie exactly) the lowest index: writing all of them into one target
        # would leave whichever the indexing kernel wrote last, which differs from run to run.
        lowest = torch.full((target_count,), len(reverse.reshape(-1)), dtype=torch.long, device=target.device).scatter_reduce(0, chosen, sources, "amin")
        single = sources == lowest[chosen]
        sources, chosen, cost = sources[single], chosen[single], cost[single]
        order = torch.argsort(cost)
        keep = order[: _knee(cost[order])]
        assigned[chosen[keep]] = sources[keep]
        costs[chosen[keep]] = cost[keep]
    leftover = assigned < 0
    if bool(leftover.any()):
        forward = start.reshape(-1)
        assigned[leftover] = forward[leftover]
        costs[leftover] = (target[leftover] - source.index_select(0, forward[leftover])).pow(2).sum(1)
    return assigned.reshape(target_shape), costs.reshape(target_shape)


def _features(guides: Sequence[torch.Tensor], weights: Sequence[float], style: torch.Tensor, style_weight: float) -> torch.Tensor:
    """The channels compared, each group scaled so that its squared distance counts with its weight."""
    parts = [guide * math.sqrt(weight / guide.shape[1]) for guide, weight in zip(guides, weights, strict=True)]
    parts.append(style * math.sqrt(style_weight / style.shape[1]))
    return torch.cat(parts, 1)


def synthesize(style: torch.Tensor, guides: Sequence[Guide], options: SynthesisOptions | None = None) -> Synthesis:
    """Paint the target of ``guides`` in the hand of ``style`` (``1 x 3 x Hs x Ws`` in [0, 1], on the guides'
    exemplar grid). Module docstring for the energy, the schedule and the retrieval."""
    options = (options or SynthesisOptions()).check()
    source_shape, target_shape = _check_guides(style, guides)
    generator = torch.Generator().manual_seed(options.seed)
    levels = options.levels or pyramid_levels(source_shape, target_shape, options.patch_size)
    weights = [guide.weight for guide in guides]
    field: torch.Tensor | None = None
    image = error = None
    previous_source = source_shape
    for level in reversed(range(levels)):
        scale = 2**level
        source_at = (max(1, round(source_shape[0] / scale)), max(1, round(source_shape[1] / scale)))
        target_at = (max(1, round(target_shape[0] / scale)), max(1, round(target_shape[1] / scale)))
        style_level = _resize(style, source_at)
        source_guides = [_resize(guide.source, source_at) for guide in guides]
        target_guides = [_resize(guide.target, target_at) for guide in guides]
        source_features = _features(source_guides, weights, style_level, options.style_weight)
        # Each level searches first by the guides alone (from random matches at the coarsest level, from the coarser
        # level's matches above it): a match that is off by a pixel after upsampling would otherwise be held in
        # place by the style term, since the picture voted from it agrees with it.
        no_style = torch.zeros(1, style.shape[1], *target_at, dtype=style.dtype, device=style.device)
        guide_source = patch_descriptors(_features(source_guides, weights, style_level, 0.0), options.patch_size)
        project = _projection(guide_source, options.dimensions)
        guide_source = project(guide_source)
        guide_target = project(patch_descriptors(_features(target_guides, weights, no_style, 0.0), options.patch_size))
        if field is None:
            field = random_field(target_at, source_at, generator, style.device)
        else:
            field = _upsample_field(field, target_at, previous_source, source_at)
        field, _ = patch_match(guide_target, guide_source, field, source_at, options.search_iterations, generator)
        image = vote(style_level, field, options.patch_size)
        source = patch_descriptors(source_features, options.patch_size)
        project = _projection(source, options.dimensions)
        source = project(source)
        for _ in range(options.em_iterations):
            target = project(patch_descriptors(_features(target_guides, weights, image, options.style_weight), options.patch_size))
            field, error = patch_match(target, source, field, source_at, options.search_iterations, generator)
            if options.retrieval == "uniform":
                field, error = uniform_field(target, source, (target_at, source_at), options, generator, field)
            image = vote(style_level, field, options.patch_size)
        previous_source = source_at
    assert image is not None and error is not None and field is not None
    if options.final_vote == "centre":
        image = style[0].reshape(style.shape[1], -1)[:, field.reshape(-1)].reshape(1, style.shape[1], *field.shape)
    channels = source_features.shape[1] * options.patch_size**2
    return Synthesis(image.clamp(0, 1), field, error / channels)


def _projection(source: torch.Tensor, dimensions: int | None) -> Callable[[torch.Tensor], torch.Tensor]:
    """Descriptors onto the leading ``dimensions`` principal axes of ``source`` (``N x D``), the same map for the
    target's; unchanged when ``dimensions`` is None or no fewer than ``D``."""
    if dimensions is None or dimensions >= source.shape[1]:
        return lambda descriptors: descriptors
    mean, axes = principal_basis(source, dimensions)
    return lambda descriptors: (descriptors - mean) @ axes


def _upsample_field(field: torch.Tensor, target_at: tuple[int, int], coarse_source: tuple[int, int], source_at: tuple[int, int]) -> torch.Tensor:
    """A coarse NNF on a finer grid: each fine pixel takes its coarse pixel's match, scaled, plus its own offset
    inside the coarse pixel."""
    coarse_h, coarse_w = field.shape
    ys = torch.arange(target_at[0], device=field.device)
    xs = torch.arange(target_at[1], device=field.device)
    coarse_y = (ys * coarse_h // target_at[0]).clamp(max=coarse_h - 1)
    coarse_x = (xs * coarse_w // target_at[1]).clamp(max=coarse_w - 1)
    matched = field[coarse_y[:, None], coarse_x[None, :]]
    scale_y, scale_x = source_at[0] / coarse_source[0], source_at[1] / coarse_source[1]
    inner_y = ys - (coarse_y * target_at[0] / coarse_h).floor().long()
    inner_x = xs - (coarse_x * target_at[1] / coarse_w).floor().long()
    source_y = ((matched // coarse_source[1]).float() * scale_y).long() + inner_y[:, None]
    source_x = ((matched % coarse_source[1]).float() * scale_x).long() + inner_x[None, :]
    return source_y.clamp(0, source_at[0] - 1) * source_at[1] + source_x.clamp(0, source_at[1] - 1)
