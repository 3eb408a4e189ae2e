"""Measures of results: temporal consistency now; style and content distances to come."""

from .evaluate import ClipReport, evaluate_clip
from .temporal import mean_warping_error, warping_errors

__all__ = ["ClipReport", "evaluate_clip", "mean_warping_error", "warping_errors"]
