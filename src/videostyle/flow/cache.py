"""Flow computed once per frame pair and kept on disk as ``.flo``.

Files live under ``<run folder>/flow/<estimator>_<W>x<H>/<a>_<b>.flo`` (frame indices from the
start of the run); the run folder itself is keyed by the video, so a second or resumed run with
the same video, estimator and size reuses every flow.

Flow from another tool: a folder of ``<a>_<b>.flo`` files (six-digit 0-based frame indices, flow
from frame a to frame b at the working size, (x, y) pixels) given as ``user_folder`` is read
first; pairs it lacks are estimated.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ..errors import VideostyleError
from .consistency import consistency_weights
from .estimators import FlowEstimator
from .flo import read_flo, write_flo
from .warp import flow_to_tensor


class FlowCache:
    def __init__(self, folder: str | os.PathLike | None, estimator: FlowEstimator, user_folder: str | os.PathLike | None = None):
        self.folder = None if folder is None else Path(folder)
        self.user_folder = None if user_folder is None else Path(user_folder)
        if self.user_folder is not None and not self.user_folder.is_dir():
            raise VideostyleError(f"flow folder does not exist: {self.user_folder}")
        self.estimator = estimator
        self.computed = 0
        self.loaded = 0

    def path(self, a: int, b: int, height: int, width: int) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / f"{self.estimator.name}_{width}x{height}" / f"{a:06d}_{b:06d}.flo"

    def flow(self, a: int, b: int, frame_a: np.ndarray, frame_b: np.ndarray) -> np.ndarray:
        """Flow from frame ``a`` to frame ``b`` (``H x W x 2``), from disk when already computed."""
        if self.user_folder is not None and (self.user_folder / f"{a:06d}_{b:06d}.flo").is_file():
            flow = read_flo(self.user_folder / f"{a:06d}_{b:06d}.flo")
            if flow.shape[:2] != frame_a.shape[:2]:
                raise VideostyleError(
                    f"flow {a:06d}_{b:06d}.flo is {flow.shape[1]}x{flow.shape[0]}, the frames are {frame_a.shape[1]}x{frame_a.shape[0]} (give --size to match)"
                )
            self.loaded += 1
            return flow
        path = self.path(a, b, *frame_a.shape[:2])
        if path is not None and path.is_file():
            cached: np.ndarray | None
            try:
                cached = read_flo(path)
            except VideostyleError:  # a damaged cache entry is estimated again, not trusted
                cached = None
            if cached is not None and cached.shape[:2] == frame_a.shape[:2]:
                self.loaded += 1
                return cached
        flow = self.estimator(frame_a, frame_b)
        self.computed += 1
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_flo(path, flow)
        return flow

    def backward_and_weights(self, a: int, b: int, frame_a: np.ndarray, frame_b: np.ndarray, device=None) -> tuple[torch.Tensor, torch.Tensor]:
        """What warping frame a onto frame b needs: the flow b -> a (``1 x 2 x H x W``) and Ruder et
        al.'s consistency weights on b's grid (``1 x 1 x H x W``), from both flows between them."""
        forward = flow_to_tensor(self.flow(a, b, frame_a, frame_b), device)
        backward = flow_to_tensor(self.flow(b, a, frame_b, frame_a), device)
        return backward, consistency_weights(forward, backward)


class _NoGroundTruth:
    """The estimator of a ground-truth cache: a pair the folder lacks is an error, not an estimate."""

    name = "ground-truth"

    def __call__(self, a, b):
        raise VideostyleError("the ground-truth folder has no flow for a frame pair the metrics need (generate it with the same long_gap)")


def ground_truth_flows(folder: str | os.PathLike) -> FlowCache:
    """Exact flows from a ``videostyle dataset`` folder (its ``flow/`` subfolder)."""
    if not (Path(folder) / "flow").is_dir():
        raise VideostyleError(f"not a ground-truth folder (no flow/ inside): {folder}")
    return FlowCache(None, _NoGroundTruth(), user_folder=Path(folder) / "flow")
