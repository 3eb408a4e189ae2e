"""Reading sound from any file PyAV opens (audio files, a video's soundtrack) as mono float32 samples, and writing it.

Every method works on one channel: stereo (or more) is averaged to mono, and the caller is told so
(``Sound.notes``). Samples are resampled to the rate asked for by PyAV's resampler (libswresample).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import VideostyleError
from ..io.atomic import atomic_path, check_writable_destination

#: The shortest sound the methods take, in seconds: a few analysis windows.
MIN_SECONDS = 0.5
#: A sound whose peak stays below this (full scale 1.0) is silence.
SILENCE = 1e-4
#: File endings :func:`save_sound` writes (with soundfile).
SOUND_SUFFIXES = (".wav", ".flac", ".ogg")


@dataclass
class Sound:
    """Mono samples (``float32``, ``T``, full scale 1.0) at ``rate`` Hz, and what was done to read them."""

    samples: np.ndarray
    rate: int
    notes: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


def load_sound(path: str | os.PathLike, rate: int | None = None, start: float | None = None, end: float | None = None, parameter: str = "target") -> Sound:
    """The first audio stream of ``path`` as mono at ``rate`` Hz (None: its own rate), optionally only
    ``start``..``end`` seconds. Errors (one line, naming ``parameter``): no such file, not readable by
    FFmpeg, no sound in it, shorter than :data:`MIN_SECONDS`, silent."""
    import av

    path = Path(path)
    if not path.is_file():
        raise VideostyleError(f"no such file: {path}", parameter=parameter)
    pieces: list[np.ndarray] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise VideostyleError(f"{path} has no sound", parameter=parameter)
            stream = container.streams.audio[0]
            channels, own_rate = stream.codec_context.channels, stream.codec_context.sample_rate
            rate = rate or own_rate
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            for frame in container.decode(stream):
                for converted in resampler.resample(frame):
                    pieces.append(converted.to_ndarray().reshape(-1))
            for converted in resampler.resample(None):
                pieces.append(converted.to_ndarray().reshape(-1))
    except av.FFmpegError as error:
        raise VideostyleError(f"not a readable sound file: {path} ({error.strerror or error})", parameter=parameter) from None
    samples = np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, np.float32)
    first = round((start or 0.0) * rate)
    samples = samples[first : None if end is None else round(end * rate)]
    notes = []
    if channels > 1:
        notes.append(f"{path.name} has {channels} channels: processed as mono (their mean)")
    if own_rate != rate:
        notes.append(f"{path.name} resampled from {own_rate} Hz to {rate} Hz")
    if len(samples) < MIN_SECONDS * rate:
        raise VideostyleError(f"{path} has {len(samples) / rate:.2f} s of sound; at least {MIN_SECONDS} s is needed", parameter=parameter)
    if np.abs(samples).max() < SILENCE:
        raise VideostyleError(f"{path} is silent", parameter=parameter)
    return Sound(samples, rate, notes)


def require_audio_extra() -> None:
    """librosa and soundfile are there, or a one-line error naming the extra."""
    try:
        import librosa  # noqa: F401
        import soundfile  # noqa: F401
    except ImportError:
        raise VideostyleError("sound needs the audio extra: pip install 'videostyle[audio]'") from None


def at_peak_of(samples: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``samples`` scaled so that their peak equals ``reference``'s (silence stays silence), float32."""
    peak = np.abs(samples).max()
    return (samples * (np.abs(reference).max() / peak) if peak > 0 else samples).astype(np.float32)


def check_sound_destination(path: str | os.PathLike, parameter: str = "output") -> Path:
    """A writable destination whose ending says a format :func:`save_sound` writes."""
    path = Path(path)
    if path.suffix.lower() not in SOUND_SUFFIXES:
        raise VideostyleError(f"unknown sound format for {path} (use {', '.join(SOUND_SUFFIXES)})", parameter=parameter)
    return check_writable_destination(path)


def save_sound(sound: Sound, path: str | os.PathLike) -> Path:
    """Write ``sound`` atomically (16-bit WAV, FLAC or OGG Vorbis by the ending), peaks limited to full scale."""
    import soundfile

    path = check_sound_destination(path)
    with atomic_path(path) as tmp:
        kind = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16"), ".ogg": ("OGG", "VORBIS")}[path.suffix.lower()]
        soundfile.write(str(tmp), np.clip(sound.samples, -1.0, 1.0), sound.rate, format=kind[0], subtype=kind[1])
    return path
