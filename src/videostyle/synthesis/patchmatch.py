"""PatchMatch (Barnes et al. 2009), vectorised: for every query patch, a nearby-best base patch.

Patches are compared as descriptors: ``N x D`` rows, one per pixel, made by :func:`patch_descriptors` (the
``k x k`` neighbourhood of every channel, optionally projected on its leading principal components). A
nearest-neighbour field (NNF) holds, for each query pixel, the flat index ``y * W + x`` of its base pixel.

Every pixel updates at once (as on a GPU; the scanline order of the paper does not vectorise):

- propagation: pixel p tries ``m(p - s) + s`` for the four unit steps s and for jumps of 2, 4, 8, ... pixels
  (the jump-flooding schedule of Rong and Tan 2006), so a good match spreads across the picture in a few
  iterations;
- random search: p tries ``m(p) + u``, u uniform in a square whose half-side halves from the base's size
  down to one pixel.

A candidate replaces the current match where its cost is lower; the cost is the squared descriptor distance
plus an optional per-base-pixel ``penalty`` (``inf`` forbids a base pixel).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def patch_descriptors(image: torch.Tensor, patch_size: int) -> torch.Tensor:
    """``1 x C x H x W`` -> ``(H * W) x (C * k * k)``: each pixel's ``k x k`` neighbourhood (reflected at the
    borders, so every pixel is the centre of a whole patch)."""
    radius = patch_size // 2
    padded = F.pad(image, (radius,) * 4, mode="reflect") if radius else image
    columns = F.unfold(padded, patch_size)  # 1 x (C k k) x (H W)
    return columns[0].t().contiguous()


def principal_basis(samples: torch.Tensor, dimensions: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean (``D``) and the leading ``dimensions`` principal axes (``D x dimensions``) of ``samples``
    (``N x D``). Squared distances between projections never exceed the true ones."""
    mean = samples.mean(0)
    centred = samples - mean
    covariance = centred.t() @ centred / max(len(samples) - 1, 1)
    _, vectors = torch.linalg.eigh(covariance.double())
    return mean, vectors[:, -dimensions:].flip(1).to(samples.dtype).contiguous()


def _costs(query: torch.Tensor, base: torch.Tensor, candidates: torch.Tensor, penalty: torch.Tensor | None) -> torch.Tensor:
    """Squared distance of each query row to its candidate base row (``N``), plus the candidate's penalty."""
    cost = (query - base.index_select(0, candidates)).pow(2).sum(1)
    return cost if penalty is None else cost + penalty.index_select(0, candidates)


def shifted_field(field: torch.Tensor, dy: int, dx: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``field[p - (dy, dx)]`` on an ``H x W`` grid and where that pixel exists (``H x W`` bool)."""
    height, width = field.shape
    out = torch.zeros_like(field)
    valid = torch.zeros(height, width, dtype=torch.bool, device=field.device)
    ys = slice(max(dy, 0), height + min(dy, 0))
    xs = slice(max(dx, 0), width + min(dx, 0))
    src_ys = slice(max(-dy, 0), height + min(-dy, 0))
    src_xs = slice(max(-dx, 0), width + min(-dx, 0))
    out[ys, xs] = field[src_ys, src_xs]
    valid[ys, xs] = True
    return out, valid


def moved_indices(indices: torch.Tensor, dy: torch.Tensor | int, dx: torch.Tensor | int, base_shape: tuple[int, int]) -> torch.Tensor:
    """Flat base indices moved by (dy, dx), clamped inside the base."""
    height, width = base_shape
    y = (indices // width + dy).clamp(0, height - 1)
    x = (indices % width + dx).clamp(0, width - 1)
    return y * width + x


def random_field(query_shape: tuple[int, int], base_shape: tuple[int, int], generator: torch.Generator, device) -> torch.Tensor:
    """An ``H x W`` NNF of uniformly random base pixels."""
    count = base_shape[0] * base_shape[1]
    return torch.randint(count, query_shape, generator=generator).to(device)


def patch_match(
    query: torch.Tensor,
    base: torch.Tensor,
    field: torch.Tensor,
    base_shape: tuple[int, int],
    iterations: int,
    generator: torch.Generator,
    penalty: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Improve ``field`` (``H x W`` flat base indices; ``query`` is ``(H W) x D``, ``base`` ``(Hb Wb) x D``) by
    ``iterations`` rounds of propagation and random search. Returns the field and each pixel's cost (``H x W``)."""
    height, width = field.shape
    field = field.clone()
    cost = _costs(query, base, field.reshape(-1), penalty).reshape(height, width)
    longest = max(base_shape)
    jumps = [1]
    while jumps[-1] * 2 < max(height, width) and len(jumps) < 4:
        jumps.append(jumps[-1] * 2)

    def consider(candidates: torch.Tensor, allowed: torch.Tensor | None = None) -> None:
        nonlocal field, cost
        candidate_cost = _costs(query, base, candidates.reshape(-1), penalty).reshape(height, width)
        better = candidate_cost < cost
        if allowed is not None:
            better &= allowed
        field = torch.where(better, candidates, field)
        cost = torch.where(better, candidate_cost, cost)

    for iteration in range(iterations):
        for jump in reversed(jumps) if iteration % 2 else jumps:
            for dy, dx in ((jump, 0), (0, jump), (-jump, 0), (0, -jump)):
                neighbour, valid = shifted_field(field, dy, dx)
                consider(moved_indices(neighbour, dy, dx, base_shape), valid)
        radius = longest / 2
        while radius >= 1:
            r = int(radius)
            jitter_y = torch.randint(-r, r + 1, (height, width), generator=generator).to(field.device)
            jitter_x = torch.randint(-r, r + 1, (height, width), generator=generator).to(field.device)
            consider(moved_indices(field, jitter_y, jitter_x, base_shape))
            radius /= 4
    return field, cost
