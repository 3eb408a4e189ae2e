"""``stylize_audio(target, source)``: a sound restyled with another's, by Let it Bee or spectrogram texture transfer.

>>> result = stylize_audio("speech.wav", "bees.wav", "speech_as_bees.wav")  # doctest: +SKIP
>>> result.sound.seconds, result.notes  # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..checks import check_choice
from ..io.atomic import check_not_an_input
from .io import Sound, check_sound_destination, load_sound, require_audio_extra, save_sound
from .letitbee import LetItBeeOptions, let_it_bee
from .texture import TextureOptions, texture_transfer

#: ``letitbee``: Driedger et al. 2015's NMF mosaicing; ``texture``: Ulyanov and Lebedev 2016's spectrogram texture transfer.
AUDIO_METHODS = ("letitbee", "texture")


@dataclass(frozen=True)
class AudioRestyle:
    """A clip's soundtrack restyled with ``source`` by ``method`` (``video --restyle-audio``)."""

    source: str
    method: str = "letitbee"
    letitbee: LetItBeeOptions = field(default_factory=LetItBeeOptions)
    texture: TextureOptions = field(default_factory=TextureOptions)

    def check(self) -> AudioRestyle:
        require_audio_extra()
        check_choice("audio_method", self.method, AUDIO_METHODS)
        self.letitbee.check()
        self.texture.check()
        return self


@dataclass
class AudioResult:
    """The restyled sound (the target's rate and length), the seconds the method took (reading apart),
    Let it Bee's activations (``K x M``; None for texture) and notes on how the inputs were read."""

    sound: Sound
    seconds: float
    activations: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


def stylize_audio(
    target: str | os.PathLike | Sound,
    source: str | os.PathLike | Sound,
    output: str | os.PathLike | None = None,
    *,
    method: str = "letitbee",
    letitbee: LetItBeeOptions | None = None,
    texture: TextureOptions | None = None,
    start: float | None = None,
    end: float | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> AudioResult:
    """Rebuild ``target`` (a file, a video's soundtrack, or a :class:`Sound`) with the sound of ``source``.

    ``start``/``end`` cut the target (seconds); the source is read at the target's rate. ``on_progress(done,
    total)`` after each iteration. With ``output`` (.wav, .flac, .ogg) the result is also written, atomically."""
    require_audio_extra()
    check_choice("method", method, AUDIO_METHODS)
    options_letitbee, options_texture = (letitbee or LetItBeeOptions()).check(), (texture or TextureOptions()).check()
    if output is not None:
        check_sound_destination(output)
        check_not_an_input(output, [item for item in (target, source) if not isinstance(item, Sound)])
    target_sound = target if isinstance(target, Sound) else load_sound(target, start=start, end=end, parameter="target")
    source_sound = source if isinstance(source, Sound) else load_sound(source, rate=target_sound.rate, parameter="source")
    if source_sound.rate != target_sound.rate:
        raise ValueError(f"the source's rate ({source_sound.rate}) must equal the target's ({target_sound.rate})")
    began = time.perf_counter()
    activations = None
    if method == "letitbee":
        each_iteration = None if on_progress is None else lambda iteration: on_progress(iteration + 1, options_letitbee.iterations)
        samples, activations = let_it_bee(target_sound.samples, source_sound.samples, options_letitbee, each_iteration)
    else:
        each_step = None if on_progress is None else lambda step, loss: on_progress(min(step, options_texture.iterations), options_texture.iterations)
        samples = texture_transfer(target_sound.samples, source_sound.samples, options_texture, each_step)
    result = AudioResult(Sound(samples, target_sound.rate), time.perf_counter() - began, activations, [*target_sound.notes, *source_sound.notes])
    if output is not None:
        save_sound(result.sound, output)
    return result
