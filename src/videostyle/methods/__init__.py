"""The stylizers: optimisation (Gatys) now; video optimisation and feed-forward methods build on the same pieces."""

from .gatys import GatysOptions, StylizeResult, stylize
from .optimize import OptimizationResult, Step, optimize_image

__all__ = ["GatysOptions", "OptimizationResult", "Step", "StylizeResult", "optimize_image", "stylize"]
