"""Loss terms: pure functions (:mod:`.functional`), thin modules, and the shared perceptual criterion."""

from . import functional
from .modules import ContentLoss, StyleLoss, TemporalLoss, TotalVariationLoss
from .perceptual import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS, PerceptualLoss, total

__all__ = [
    "DEFAULT_CONTENT_LAYERS",
    "DEFAULT_STYLE_LAYERS",
    "ContentLoss",
    "PerceptualLoss",
    "StyleLoss",
    "TemporalLoss",
    "TotalVariationLoss",
    "functional",
    "total",
]
