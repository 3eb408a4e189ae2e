"""The stylizers: optimisation (Gatys for images, Ruder for video), feed-forward, AdaIN and the arbitrary-style network; ``one_pass`` builds any one-pass stylizer from a method spec."""

from ..results import StylizeResult
from .gatys import stylize
from .optimize import OptimizationResult, Step, optimize_image

__all__ = ["OptimizationResult", "Step", "StylizeResult", "optimize_image", "stylize"]
