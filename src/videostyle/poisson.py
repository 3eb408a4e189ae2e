"""Screened Poisson equations on the pixel grid, solved exactly by the DCT (Neumann boundaries).

``O = argmin_O ||grad O - g||^2 + weight ||O - T||^2`` per channel, for a guidance field ``g`` (forward
differences, zero across the far borders) and a target ``T``. With ``L[k, l] = (2 - 2 cos(pi k / H)) +
(2 - 2 cos(pi l / W))``, the eigenvalues of the Neumann Laplacian under the DCT-II,

    O^ = ((-div g)^ + weight * T^) / (L + weight).

Where ``g`` is the gradient of one picture P, ``(-div g)^ = L * P^``. Used by the deflicker (gradients of the
processed frame, colours of the previous output) and by keyframe video (gradients chosen per pixel from two
propagations, colours of their cross-fade; Pérez et al. 2003's gradient-domain compositing).
"""

from __future__ import annotations

import numpy as np


def gradients(picture: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward differences of an ``H x W x C`` float picture along x and y, zero across the far borders."""
    along_x = np.zeros_like(picture)
    along_y = np.zeros_like(picture)
    along_x[:, :-1] = picture[:, 1:] - picture[:, :-1]
    along_y[:-1] = picture[1:] - picture[:-1]
    return along_x, along_y


def _eigenvalues(height: int, width: int) -> np.ndarray:
    return (2 - 2 * np.cos(np.pi * np.arange(height) / height))[:, None] + (2 - 2 * np.cos(np.pi * np.arange(width) / width))[None, :]


def solve_field(along_x: np.ndarray, along_y: np.ndarray, target: np.ndarray, weight: float) -> np.ndarray:
    """``argmin_O ||grad O - (along_x, along_y)||^2 + weight ||O - target||^2`` (``H x W x C`` floats)."""
    from scipy.fft import dctn, idctn

    divergence = along_x.copy()
    divergence[:, 1:] -= along_x[:, :-1]
    divergence += along_y
    divergence[1:] -= along_y[:-1]
    eigen = _eigenvalues(*target.shape[:2])[..., None]
    source_hat = dctn(-divergence, axes=(0, 1), norm="ortho", workers=-1)
    target_hat = dctn(target, axes=(0, 1), norm="ortho", workers=-1)
    return idctn((source_hat + weight * target_hat) / (eigen + weight), axes=(0, 1), norm="ortho", workers=-1)


def screened_poisson(processed: np.ndarray, target: np.ndarray, weight: float) -> np.ndarray:
    """``argmin_O ||grad O - grad P||^2 + weight ||O - T||^2`` per channel (``H x W x C`` float), by the DCT."""
    from scipy.fft import dctn, idctn

    eigen = _eigenvalues(*processed.shape[:2])[..., None]
    processed_hat = dctn(processed, axes=(0, 1), norm="ortho", workers=-1)
    target_hat = dctn(target, axes=(0, 1), norm="ortho", workers=-1)
    return idctn((eigen * processed_hat + weight * target_hat) / (eigen + weight), axes=(0, 1), norm="ortho", workers=-1)
