"""Colour control for style transfer (Gatys, Bethge, Hertzmann, Shechtman 2016,
"Preserving color in neural artistic style transfer").

Two ways to keep the content's colours:

* luminance-only transfer: stylize the Y channel of YIQ, then put the content's I and Q
  back (:func:`rgb_to_yiq`, :func:`match_luminance`, :func:`combine_luminance`);
* colour histogram matching: recolour the style image with an affine map so that its
  pixel mean and covariance equal the content's, then stylize as usual
  (:func:`match_color_statistics`).

Images are ``B x 3 x H x W`` RGB in [0, 1].
"""

from __future__ import annotations

import torch

from .errors import VideostyleError

#: NTSC RGB -> YIQ (rows: Y, I, Q).
RGB_TO_YIQ = torch.tensor(
    [
        [0.299, 0.587, 0.114],
        [0.595716, -0.274453, -0.321263],
        [0.211456, -0.522591, 0.311135],
    ],
    dtype=torch.float64,
)
YIQ_TO_RGB = torch.linalg.inv(RGB_TO_YIQ)
COLOR_METHODS = ("cholesky", "symmetric")
#: Colour control modes (Gatys et al. 2016): none, luminance transfer, colour histogram matching.
PRESERVE_COLOR = ("none", "luminance", "histogram")


def _apply_matrix(matrix: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", matrix.to(image), image)


def rgb_to_yiq(image: torch.Tensor) -> torch.Tensor:
    """RGB -> YIQ, ``B x 3 x H x W`` (Y in [0, 1], I and Q signed)."""
    return _apply_matrix(RGB_TO_YIQ, image)


def yiq_to_rgb(image: torch.Tensor) -> torch.Tensor:
    """YIQ -> RGB, the exact inverse of :func:`rgb_to_yiq`."""
    return _apply_matrix(YIQ_TO_RGB, image)


def luminance(image: torch.Tensor) -> torch.Tensor:
    """Y channel of an RGB image: ``B x 3 x H x W`` -> ``B x 1 x H x W``."""
    return rgb_to_yiq(image)[:, :1]


def match_luminance(style_y: torch.Tensor, content_y: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Gatys et al. 2016, eq. 1: ``L_s' = sigma_c / sigma_s (L_s - mu_s) + mu_c`` (per image, over pixels)."""
    mu_s, sigma_s = style_y.mean(dim=(1, 2, 3), keepdim=True), style_y.std(dim=(1, 2, 3), keepdim=True, unbiased=False)
    mu_c, sigma_c = content_y.mean(dim=(1, 2, 3), keepdim=True), content_y.std(dim=(1, 2, 3), keepdim=True, unbiased=False)
    return (style_y - mu_s) * (sigma_c / (sigma_s + eps)) + mu_c


def grey_rgb(y: torch.Tensor) -> torch.Tensor:
    """A ``B x 1 x H x W`` luminance as a grey RGB image ``B x 3 x H x W`` (what the encoder sees)."""
    return y.expand(-1, 3, -1, -1)


def combine_luminance(stylized: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Take the Y of ``stylized`` and the I, Q of ``content`` (same size), back to RGB in [0, 1]."""
    yiq = torch.cat([luminance(stylized), rgb_to_yiq(content)[:, 1:]], dim=1)
    return yiq_to_rgb(yiq).clamp(0, 1)


def color_statistics(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel mean (``3``) and covariance (``3 x 3``) over all pixels of all images in the batch, in float64."""
    pixels = image.detach().double().permute(1, 0, 2, 3).reshape(3, -1)
    mean = pixels.mean(dim=1)
    centred = pixels - mean[:, None]
    return mean, centred @ centred.T / pixels.shape[1]


def _symmetric_power(matrix: torch.Tensor, power: float) -> torch.Tensor:
    values, vectors = torch.linalg.eigh(matrix)
    return vectors @ torch.diag(values.clamp_min(1e-12) ** power) @ vectors.T


def match_color_statistics(source: torch.Tensor, target: torch.Tensor, method: str = "cholesky", eps: float = 1e-5, clamp: bool = True) -> torch.Tensor:
    """Recolour ``source`` with ``x' = A (x - mu_s) + mu_t`` so that its colour mean and covariance equal ``target``'s.

    Gatys et al. 2016, section 2.2. ``method="cholesky"``: ``A = L_t L_s^-1`` with
    Cholesky factors of the covariances; ``method="symmetric"``: ``A = S_t^1/2 S_s^-1/2``
    with symmetric (eigen/PCA) square roots, the Image Analogies variant that rotates
    colours least. ``eps`` regularises flat (for example grey) images. With
    ``clamp=False`` the statistics match exactly; clamping to [0, 1] may move them a little.
    """
    return apply_color_map(source, color_map(source, target, method, eps), clamp)


def color_map(source: torch.Tensor, target: torch.Tensor, method: str = "cholesky", eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The affine map ``(A, mu_s, mu_t)`` of :func:`match_color_statistics` from ``source``'s colour statistics to
    ``target``'s, to apply to other pictures (the tiles of a big one) with :func:`apply_color_map`."""
    if method not in COLOR_METHODS:
        raise VideostyleError(f"unknown colour matching method {method!r}; choose {' or '.join(COLOR_METHODS)}")
    mu_s, cov_s = color_statistics(source)
    mu_t, cov_t = color_statistics(target)
    identity = torch.eye(3, dtype=torch.float64)
    cov_s, cov_t = cov_s + eps * identity, cov_t + eps * identity
    if method == "cholesky":
        transform = torch.linalg.cholesky(cov_t) @ torch.linalg.inv(torch.linalg.cholesky(cov_s))
    else:
        transform = _symmetric_power(cov_t, 0.5) @ _symmetric_power(cov_s, -0.5)
    return transform, mu_s, mu_t


def apply_color_map(image: torch.Tensor, mapping: tuple[torch.Tensor, torch.Tensor, torch.Tensor], clamp: bool = True) -> torch.Tensor:
    """``A (x - mu_s) + mu_t`` on every pixel of ``image`` (``B x 3 x H x W``), from :func:`color_map`."""
    transform, mu_s, mu_t = mapping
    centred = image.double() - mu_s.view(1, 3, 1, 1)
    result = (_apply_matrix(transform, centred) + mu_t.view(1, 3, 1, 1)).to(image.dtype)
    return result.clamp(0, 1) if clamp else result
