"""What makes a picture look like a cartoon, measured: clean dark outlines along its edges, and flat colour regions.

Both take ``H x W x 3`` uint8 pictures. They compare methods on the same photos (CartoonGAN against a Gram-loss
network trained on one cartoon picture); neither means much for one picture alone.
"""

from __future__ import annotations

import cv2
import numpy as np

#: A pixel darker than this (grey, 0-255) counts as part of a drawn line.
DARK = 80
#: Quantisation of the colour count: 4 bits per channel (4096 colours).
COLOUR_BITS = 4


def dark_edge_share(picture: np.ndarray, dark: int = DARK) -> float:
    """The share of the picture's edge pixels (Canny, thresholds 100 and 200) that have a dark pixel (grey below
    ``dark``) within one pixel: 1 when every edge is drawn with a dark line, near 0 for a photo's soft edges.
    0 for a picture without edges."""
    grey = cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(grey, 100, 200) > 0
    if not edges.any():
        return 0.0
    near_dark = cv2.dilate((grey < dark).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return float(near_dark[edges].mean())


def flat_region_colours(picture: np.ndarray, coverage: float = 0.9, gradient: float = 8.0) -> int:
    """How many colours the flat regions are painted with: among the pixels whose Sobel gradient magnitude (grey,
    0-255) is under ``gradient``, the number of distinct colours (``COLOUR_BITS`` per channel) that together cover
    ``coverage`` of them. Few for cel shading; many for texture, brush strokes or a photo's shading."""
    grey = cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY).astype(np.float32)
    magnitude = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    flat = picture[magnitude < gradient]
    if len(flat) == 0:
        return 0
    _, counts = np.unique(flat >> (8 - COLOUR_BITS), axis=0, return_counts=True)
    ordered = np.sort(counts)[::-1]
    return int(np.searchsorted(np.cumsum(ordered), coverage * len(flat)) + 1)
