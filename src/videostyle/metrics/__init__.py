"""Measures of results: temporal consistency now; style and content distances to come."""

from .temporal import mean_warping_error, warping_errors

__all__ = ["mean_warping_error", "warping_errors"]
