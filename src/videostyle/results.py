"""What a picture's stylization returns: :class:`StylizeResult` from the optimisation method, and
:class:`ImageResult`, what every image entry point returns (:func:`videostyle.api.stylize`), with conversions."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .io.image import to_pil, to_uint8


@dataclass
class StylizeResult:
    """The output image (``1 x 3 x H x W`` in [0, 1]) and how it was reached."""

    image: torch.Tensor
    iterations: int
    seconds: float
    losses: dict[str, float]
    history: list[float]
    stopped_early: bool = False
    diverged: bool = False
    notes: list[str] = field(default_factory=list)  # what the method found or changed, for the user

    @property
    def loss(self) -> float:
        return sum(self.losses.values())


class ImageResult(StylizeResult):
    """The output image (``1 x 3 x H x W`` in [0, 1]) of any method and how it was reached (no iterations
    for one-pass methods), with conversions for the caller's favourite image type."""

    def to_pil(self):
        return to_pil(self.image)

    def to_numpy(self):
        """``H x W x 3`` uint8."""
        return to_uint8(self.image)
