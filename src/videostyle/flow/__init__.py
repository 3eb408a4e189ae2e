"""Optical flow: OpenCV estimators, the one warp, consistency masks, .flo files and a disk cache."""

from .cache import FlowCache, ground_truth_flows
from .consistency import consistency_weights, disocclusion, long_term_weights, motion_boundary
from .estimators import ESTIMATORS, FlowEstimator, make_estimator
from .flo import read_flo, write_flo
from .warp import flow_to_tensor, pixel_grid, warp

__all__ = [
    "ESTIMATORS",
    "FlowCache",
    "FlowEstimator",
    "consistency_weights",
    "disocclusion",
    "flow_to_tensor",
    "ground_truth_flows",
    "long_term_weights",
    "make_estimator",
    "motion_boundary",
    "pixel_grid",
    "read_flo",
    "warp",
    "write_flo",
]
