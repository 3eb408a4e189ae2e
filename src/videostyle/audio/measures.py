"""Scores of a restyled sound: does it follow the target in time, and sound like the source? And do Let it
Bee's restrictions do their jobs on the activations?"""

from __future__ import annotations

import numpy as np

#: Analysis frames of the envelopes and MFCCs (samples).
FRAME, HOP = 2048, 512
#: An activation counts as active above this share of the largest activation.
ACTIVE = 1e-2


def loudness_envelope(samples: np.ndarray) -> np.ndarray:
    """RMS per analysis frame, in dB (floor -80 dB below the peak)."""
    import librosa

    rms = librosa.feature.rms(y=samples, frame_length=FRAME, hop_length=HOP)[0]
    return librosa.amplitude_to_db(rms, ref=np.max, top_db=80)


def onset_envelope(samples: np.ndarray, rate: int) -> np.ndarray:
    """librosa's onset strength (spectral flux of the mel spectrogram) per analysis frame."""
    import librosa

    return librosa.onset.onset_strength(y=samples, sr=rate, hop_length=HOP)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson's r of two envelopes (cut to the shorter)."""
    length = min(len(a), len(b))
    return float(np.corrcoef(a[:length], b[:length])[0, 1])


def mean_mfcc(samples: np.ndarray, rate: int, coefficients: int = 20) -> np.ndarray:
    """The mean MFCC vector (``coefficients``), the usual summary of a sound's timbre."""
    import librosa

    return librosa.feature.mfcc(y=samples, sr=rate, n_mfcc=coefficients, n_fft=FRAME, hop_length=HOP).mean(axis=1)


def timbre_distances(result: np.ndarray, target: np.ndarray, source: np.ndarray, rate: int) -> tuple[float, float]:
    """Euclidean distances of the result's mean MFCC vector to the source's and to the target's."""
    mine = mean_mfcc(result, rate)
    return float(np.linalg.norm(mine - mean_mfcc(source, rate))), float(np.linalg.norm(mine - mean_mfcc(target, rate)))


def _active(activations: np.ndarray) -> np.ndarray:
    return activations > ACTIVE * activations.max()


def repeated_share(activations: np.ndarray, neighbourhood: int = 3) -> float:
    """Share of active entries whose source frame is active again within ``neighbourhood`` target frames
    (a stutter): what the repetition restriction removes."""
    active = _active(activations)
    again = np.zeros_like(active)
    for shift in range(1, neighbourhood + 1):
        again[:, :-shift] |= active[:, shift:]
        again[:, shift:] |= active[:, :-shift]
    return float((active & again).sum() / max(active.sum(), 1))


def simultaneous(activations: np.ndarray) -> float:
    """Mean number of active source frames per target frame: what the polyphony restriction lowers."""
    return float(_active(activations).sum(axis=0).mean())


def diagonal_run_length(activations: np.ndarray) -> float:
    """Mean length of runs of active entries along diagonals (source frame k + 1 at target frame m + 1):
    source frames played in their own order; what the continuity enhancement lengthens."""
    active = _active(activations)
    runs = []
    sources, frames = active.shape
    for offset in range(-sources + 1, frames):  # column - row: every diagonal
        diagonal = np.diagonal(active, offset=offset)
        edges = np.diff(np.concatenate([[0], diagonal.astype(np.int8), [0]]))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        runs += list(ends - starts)
    return float(np.mean(runs)) if runs else 0.0
