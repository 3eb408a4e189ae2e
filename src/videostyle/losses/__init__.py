"""Loss terms: pure functions (:mod:`.functional`) and the perceptual criterion shared by optimisation and training."""

from . import functional
from .perceptual import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS, PerceptualLoss, total

__all__ = [
    "DEFAULT_CONTENT_LAYERS",
    "DEFAULT_STYLE_LAYERS",
    "PerceptualLoss",
    "functional",
    "total",
]
