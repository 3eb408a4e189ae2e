"""The one place that samples an image by a flow.

Flow tensors are ``B x 2 x H x W`` in pixels, (x, y) order. ``warp(image, flow)[p] =
image[p + flow[p]]``, bilinear, with pixel centres at integer coordinates (``align_corners=True``
in normalised grid terms), so an integer flow is an exact shift. Positions outside the image
take the nearest border value; consistency masks mark them anyway.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def flow_to_tensor(flow: np.ndarray, device: torch.device | str | None = None) -> torch.Tensor:
    """``H x W x 2`` array -> ``1 x 2 x H x W`` float32 tensor."""
    tensor = torch.from_numpy(np.ascontiguousarray(flow, dtype=np.float32)).permute(2, 0, 1)[None]
    return tensor.to(device) if device is not None else tensor


def pixel_grid(height: int, width: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """``1 x 2 x H x W`` pixel coordinates (x, y) of each pixel centre."""
    ys, xs = torch.meshgrid(torch.arange(height, device=device, dtype=dtype), torch.arange(width, device=device, dtype=dtype), indexing="ij")
    return torch.stack([xs, ys])[None]


def warp(image: torch.Tensor, flow: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """Sample ``image`` (``B x C x H x W``) at ``p + flow[p]`` (flow ``B x 2 x H x W``, pixels, (x, y)).
    ``mode``: ``bilinear``, or ``bicubic`` where a picture is warped again and again (the deflicker's
    recursion blurs less: docs/benchmarks.md)."""
    _, _, height, width = image.shape
    target = pixel_grid(height, width, image.device, image.dtype) + flow.to(image.dtype)
    grid_x = 2.0 * target[:, 0] / max(width - 1, 1) - 1.0
    grid_y = 2.0 * target[:, 1] / max(height - 1, 1) - 1.0
    grid = torch.stack([grid_x, grid_y], dim=-1)
    return F.grid_sample(image, grid.expand(image.shape[0], -1, -1, -1), mode=mode, padding_mode="border", align_corners=True)
