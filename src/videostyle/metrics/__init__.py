"""Measures of results: temporal consistency (warping errors), content and style distances, the evaluation report."""

from .evaluate import ClipReport, evaluate_clip
from .temporal import mean_warping_error, warping_errors

__all__ = ["ClipReport", "evaluate_clip", "mean_warping_error", "warping_errors"]
