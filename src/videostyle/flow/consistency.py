"""Where flow can be trusted: forward-backward consistency (Ruder et al. 2016, section 3.1).

For frames a and b, ``forward`` is the flow a -> b (``w``, on a's grid) and ``backward`` the
flow b -> a (``w^``, on b's grid). On b's grid, ``w~(x) = w(x + w^(x))`` is the forward flow
brought over. A pixel is disoccluded where ``|w~ + w^|^2 > 0.01 (|w~|^2 + |w^|^2) + 0.5``
and on a motion boundary where ``|grad u^|^2 + |grad v^|^2 > 0.01 |w^|^2 + 0.002``; the
weight c is 0 there and 1 elsewhere. A pixel whose backward flow leaves the frame has no
source in a and is treated as disoccluded too.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .warp import pixel_grid, warp


def disocclusion(forward: torch.Tensor, backward: torch.Tensor) -> torch.Tensor:
    """``B x 1 x H x W`` bool: where the forward-backward round trip does not come back, or leaves the frame."""
    forward_on_b = warp(forward, backward)
    round_trip = (forward_on_b + backward).pow(2).sum(1, keepdim=True)
    magnitude = forward_on_b.pow(2).sum(1, keepdim=True) + backward.pow(2).sum(1, keepdim=True)
    height, width = backward.shape[-2:]
    source = pixel_grid(height, width, backward.device, backward.dtype) + backward
    outside = (source[:, :1] < 0) | (source[:, :1] > width - 1) | (source[:, 1:] < 0) | (source[:, 1:] > height - 1)
    return (round_trip > 0.01 * magnitude + 0.5) | outside


def motion_boundary(backward: torch.Tensor) -> torch.Tensor:
    """``B x 1 x H x W`` bool: where the backward flow changes sharply (forward differences, zero at the far edge)."""
    dx = torch.zeros_like(backward)
    dy = torch.zeros_like(backward)
    dx[..., :, :-1] = backward[..., :, 1:] - backward[..., :, :-1]
    dy[..., :-1, :] = backward[..., 1:, :] - backward[..., :-1, :]
    gradient = (dx.pow(2) + dy.pow(2)).sum(1, keepdim=True)
    return gradient > 0.01 * backward.pow(2).sum(1, keepdim=True) + 0.002


def consistency_weights(forward: torch.Tensor, backward: torch.Tensor) -> torch.Tensor:
    """Ruder et al.'s c on b's grid: ``B x 1 x H x W`` float, 0 at disocclusions and motion boundaries, 1 elsewhere."""
    return (~(disocclusion(forward, backward) | motion_boundary(backward))).to(forward.dtype)


def long_term_weights(weights_by_gap: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Ruder et al. eq. 8: ``c_long^(i-j) = max(c^(i-j,i) - sum_{k < j in J} c^(i-k,i), 0)``.

    ``weights_by_gap`` holds the c of each earlier frame in J, nearest first; each pixel then
    counts only for the nearest earlier frame in which it was visible.
    """
    result, seen = [], None
    for weights in weights_by_gap:
        result.append(weights if seen is None else (weights - seen).clamp_min(0))
        seen = weights if seen is None else seen + weights
    return result
