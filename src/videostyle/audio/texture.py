"""Spectrogram texture transfer (Ulyanov and Lebedev 2016, "Audio texture synthesis and style transfer").

The log-magnitude spectrogram ``log(1 + |STFT|)`` is a 1D signal of ``F`` channels over time. One
convolution layer with random, seeded weights (``filters`` filters, ``kernel`` frames wide) and a ReLU
gives its features; no trained network is needed. A spectrogram ``X`` is optimised (L-BFGS, starting
from the target's) for

    content_weight * mean((phi(X) - phi(target))^2) + style_weight * mean((G(X) - G(source))^2),

where ``G(phi) = phi phi^T / frames`` is the Gram matrix per frame (so sounds of different lengths
compare). The phase is recovered with Griffin-Lim (librosa), at the target's length.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..checks import check_positive
from .io import at_peak_of


@dataclass(frozen=True)
class TextureOptions:
    """``iterations`` of L-BFGS; ``filters`` and ``kernel`` (frames) of the random layer (``seed``); the two
    weights; the STFT's ``window`` and ``hop``; ``griffin_lim_iterations`` of the phase recovery."""

    iterations: int = 100
    filters: int = 1024
    kernel: int = 11
    content_weight: float = 1.0
    style_weight: float = 100.0
    window: int = 2048
    hop: int = 512
    griffin_lim_iterations: int = 64
    seed: int = 0

    def check(self) -> TextureOptions:
        for name in ("iterations", "filters", "kernel", "window", "hop", "griffin_lim_iterations"):
            check_positive(name, getattr(self, name))
        for name in ("content_weight", "style_weight"):
            check_positive(name, getattr(self, name), allow_zero=True)
        return self


def log_spectrogram(samples: np.ndarray, options: TextureOptions) -> np.ndarray:
    """``log(1 + |STFT|)``, ``F x frames``."""
    import librosa

    return np.log1p(np.abs(librosa.stft(samples, n_fft=options.window, hop_length=options.hop))).astype(np.float32)


def random_layer(channels: int, options: TextureOptions) -> torch.nn.Conv1d:
    """The fixed random convolution: He-scaled normal weights from ``options.seed``, no bias."""
    generator = torch.Generator().manual_seed(options.seed)
    layer = torch.nn.Conv1d(channels, options.filters, options.kernel, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator) * (2.0 / (channels * options.kernel)) ** 0.5)
    layer.requires_grad_(False)
    return layer


def gram(features: torch.Tensor) -> torch.Tensor:
    """``filters x filters`` Gram matrix per frame of ``1 x filters x frames`` features."""
    flat = features[0]
    return flat @ flat.T / flat.shape[1]


def texture_transfer(
    target: np.ndarray, source: np.ndarray, options: TextureOptions | None = None, on_iteration: Callable[[int, float], None] | None = None
) -> np.ndarray:
    """The target (mono samples) with the source's spectral texture: samples as long as the target,
    peak-normalised to the target's peak."""
    import librosa

    options = (options or TextureOptions()).check()
    target_spectrum, source_spectrum = log_spectrogram(target, options), log_spectrogram(source, options)
    layer = random_layer(target_spectrum.shape[0], options)
    as_signal = lambda spectrum: torch.from_numpy(np.ascontiguousarray(spectrum))[None]
    with torch.no_grad():
        content_features = torch.relu(layer(as_signal(target_spectrum)))
        style_gram = gram(torch.relu(layer(as_signal(source_spectrum))))
    variable = as_signal(target_spectrum).clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([variable], lr=1.0, max_iter=options.iterations, history_size=20, line_search_fn="strong_wolfe")
    steps = [0]

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        features = torch.relu(layer(variable))
        loss = options.content_weight * (features - content_features).pow(2).mean() + options.style_weight * (gram(features) - style_gram).pow(2).mean()
        loss.backward()
        steps[0] += 1
        if on_iteration is not None:
            on_iteration(steps[0], float(loss))
        return loss

    optimizer.step(closure)
    magnitude = np.expm1(np.clip(variable.detach()[0].numpy(), 0, None))
    samples = librosa.griffinlim(
        magnitude, n_iter=options.griffin_lim_iterations, hop_length=options.hop, n_fft=options.window, length=len(target), random_state=options.seed
    )
    return at_peak_of(samples, target)
