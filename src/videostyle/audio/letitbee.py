"""Let it Bee: NMF-inspired audio mosaicing (Driedger, Prätzlich and Müller, ISMIR 2015).

The target's magnitude spectrogram ``V`` (``F x M``) is approximated as ``W H``, where the templates ``W``
(``F x K``) are the source's own magnitude frames, fixed, and only the activations ``H`` (``K x M``) are
learned. Each of the ``iterations`` (the paper's L) applies, before the multiplicative KL update of H,
three restrictions that make the result sound like the source played in time with the target:

1. repetition restriction: an activation that is not the largest of its row within ``repetition``
   (r) frames either side is damped, so no source frame repeats in a stutter;
2. polyphony restriction: in each column only the ``polyphony`` (p) largest activations are kept whole,
   so few source frames sound at once;
3. continuity enhancement: activations are summed along diagonals of length ``2 continuity + 1``
   (c), so source frames follow each other in their own order.

The damping factor is ``1 - (l + 1) / L`` at iteration l = 0 .. L-1, so the restrictions become strict by
the last one. The result is synthesised with the source's own phase: its complex STFT times H, then
the inverse STFT (the paper's "time-frequency reconstruction").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..checks import check_positive
from ..errors import VideostyleError
from .io import at_peak_of

EPSILON = 1e-10


@dataclass(frozen=True)
class LetItBeeOptions:
    """The paper's parameters with its defaults: ``iterations`` L = 20, ``repetition`` r = 3,
    ``polyphony`` p = 10, ``continuity`` c = 3 (0 or None switches a restriction off); the STFT's
    ``window`` (2048 samples, Hann) and ``hop`` (1024). ``seed`` draws the initial activations."""

    iterations: int = 20
    repetition: int | None = 3
    polyphony: int | None = 10
    continuity: int | None = 3
    window: int = 2048
    hop: int = 1024
    seed: int = 0

    def check(self) -> LetItBeeOptions:
        check_positive("iterations", self.iterations)
        for name in ("repetition", "polyphony", "continuity"):
            value = getattr(self, name)
            if value is not None:
                check_positive(name, value, allow_zero=True)
        check_positive("window", self.window)
        check_positive("hop", self.hop)
        if self.hop > self.window:
            raise VideostyleError(f"hop ({self.hop}) must not exceed window ({self.window})", parameter="hop")
        return self


def stft(samples: np.ndarray, options: LetItBeeOptions) -> np.ndarray:
    """Complex ``F x frames`` STFT with a Hann window (librosa's, centred)."""
    import librosa

    return librosa.stft(samples, n_fft=options.window, hop_length=options.hop, window="hann")


def repetition_restriction(activations: np.ndarray, neighbourhood: int, damping: float) -> np.ndarray:
    """Entries that are not the maximum of their row within ``neighbourhood`` frames either side, times ``damping``."""
    from scipy.ndimage import maximum_filter1d

    if not neighbourhood:
        return activations
    peaks = maximum_filter1d(activations, size=2 * neighbourhood + 1, axis=1, mode="constant")
    return np.where(activations >= peaks, activations, activations * damping)


def polyphony_restriction(activations: np.ndarray, voices: int, damping: float) -> np.ndarray:
    """Entries outside the ``voices`` largest of their column, times ``damping``."""
    if not voices or voices >= activations.shape[0]:
        return activations
    threshold = -np.partition(-activations, voices - 1, axis=0)[voices - 1]  # each column's voices-th largest
    return np.where(activations >= threshold[None, :], activations, activations * damping)


def continuity_enhancement(activations: np.ndarray, length: int) -> np.ndarray:
    """``C[k, m] = sum_{i=-c..c} P[k + i, m + i]``: each entry plus its diagonal neighbours (zero outside)."""
    if not length:
        return activations
    sources, frames = activations.shape
    padded = np.pad(activations, length)
    total = np.zeros_like(activations)
    for shift in range(-length, length + 1):
        total += padded[length + shift : length + shift + sources, length + shift : length + shift + frames]
    return total


def learn_activations(
    target_magnitude: np.ndarray, templates: np.ndarray, options: LetItBeeOptions, on_iteration: Callable[[int], None] | None = None
) -> np.ndarray:
    """``H`` (``K x M``) such that ``templates @ H`` approximates ``target_magnitude`` (``F x M``) in KL
    divergence, under the three restrictions of :class:`LetItBeeOptions`."""
    rng = np.random.default_rng(options.seed)
    activations = rng.random((templates.shape[1], target_magnitude.shape[1])).astype(np.float32)
    normaliser = templates.sum(axis=0)[:, None] + EPSILON  # W^T 1
    for iteration in range(options.iterations):
        damping = 1.0 - (iteration + 1) / options.iterations
        restricted = repetition_restriction(activations, options.repetition or 0, damping)
        restricted = polyphony_restriction(restricted, options.polyphony or 0, damping)
        restricted = continuity_enhancement(restricted, options.continuity or 0)
        ratio = target_magnitude / (templates @ restricted + EPSILON)
        activations = restricted * (templates.T @ ratio) / normaliser
        if on_iteration is not None:
            on_iteration(iteration)
    return activations


def let_it_bee(
    target: np.ndarray, source: np.ndarray, options: LetItBeeOptions | None = None, on_iteration: Callable[[int], None] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The target (mono samples) rebuilt from the source's sound (mono, the same rate): ``(samples, H)``,
    the samples as long as the target, peak-normalised to the target's peak."""
    import librosa

    options = (options or LetItBeeOptions()).check()
    if len(source) < options.window or len(target) < options.window:
        raise VideostyleError(f"target and source need at least one window ({options.window} samples) of sound", parameter="window")
    source_spectrum = stft(source, options)
    templates = np.abs(source_spectrum)
    scale = np.linalg.norm(templates, axis=0) + EPSILON  # unit-norm templates; H takes the scale
    templates = (templates / scale).astype(np.float32)
    activations = learn_activations(np.abs(stft(target, options)).astype(np.float32), templates, options, on_iteration)
    mosaic = (source_spectrum / scale) @ activations  # the source's phase: its complex frames, mixed by H
    samples = librosa.istft(mosaic, hop_length=options.hop, window="hann", length=len(target))
    return at_peak_of(samples, target), activations
