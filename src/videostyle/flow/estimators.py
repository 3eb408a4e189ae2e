"""Optical flow estimators on OpenCV contrib.

``estimator(a, b)`` takes two ``H x W x 3`` uint8 RGB frames and returns the flow from
``a`` to ``b`` as ``H x W x 2`` float32 in pixels, (x, y) order: the content at pixel p of
``a`` is found at ``p + flow[p]`` in ``b``.
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from ..errors import VideostyleError


class FlowEstimator(Protocol):
    name: str

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...


def _grey(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


class _OpenCVDenseFlow:
    """An OpenCV ``DenseOpticalFlow`` object run on grey frames."""

    name = ""

    def __init__(self, impl):
        self._impl = impl

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self._impl.calc(_grey(a), _grey(b), None).astype(np.float32)


class DeepFlow(_OpenCVDenseFlow):
    """DeepFlow (Weinzaepfel et al. 2013), the estimator Ruder et al. used. Slow, accurate."""

    name = "deepflow"

    def __init__(self):
        super().__init__(cv2.optflow.createOptFlow_DeepFlow())


class DIS(_OpenCVDenseFlow):
    """Dense Inverse Search (Kroeger et al. 2016): a few milliseconds per small frame pair."""

    name = "dis"

    def __init__(self, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM):
        super().__init__(cv2.DISOpticalFlow_create(preset))  # type: ignore[attr-defined]  # missing from OpenCV's stubs


class TVL1(_OpenCVDenseFlow):
    """Dual TV-L1 (Zach et al. 2007)."""

    name = "tvl1"

    def __init__(self):
        super().__init__(cv2.optflow.DualTVL1OpticalFlow_create())  # type: ignore[attr-defined]  # contrib: not in the stubs


class Farneback:
    """Farneback polynomial expansion (2003): fast, rough."""

    name = "farneback"

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        flow = cv2.calcOpticalFlowFarneback(_grey(a), _grey(b), None, 0.5, 5, 15, 3, 7, 1.5, 0)
        return flow.astype(np.float32)


ESTIMATORS = {"deepflow": DeepFlow, "dis": DIS, "tvl1": TVL1, "farneback": Farneback}


def make_estimator(name: str) -> FlowEstimator:
    if name not in ESTIMATORS:
        raise VideostyleError(f"unknown flow estimator {name!r}; choose {', '.join(ESTIMATORS)}")
    return ESTIMATORS[name]()
