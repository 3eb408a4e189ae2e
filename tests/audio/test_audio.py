"""Sound: Let it Bee and its three restrictions, spectrogram texture transfer, reading any sound, the
``audio`` command and ``video --restyle-audio``. Sounds are synthesised here (tones, noise, bursts)."""

from __future__ import annotations

import sys

import av
import numpy as np
import pytest

pytest.importorskip("librosa", reason="the audio extra is not installed: pip install 'videostyle[audio]'")
import soundfile

from cli_runs import assert_clean_failure, run_cli
from synthetic import translating_clip, write_clip
from videostyle.audio import measures
from videostyle.audio.api import stylize_audio
from videostyle.audio.io import load_sound
from videostyle.audio.letitbee import (
    LetItBeeOptions,
    continuity_enhancement,
    learn_activations,
    polyphony_restriction,
    repetition_restriction,
    stft,
)
from videostyle.audio.texture import TextureOptions
from videostyle.errors import VideostyleError

RATE = 16000


def speech_like(seconds: float = 4.0, seed: int = 0) -> np.ndarray:
    """Syllables: harmonic bursts at changing pitches with silent gaps, like a voice's loudness pattern."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * RATE), np.float32)
    position = 0
    while position < len(out):
        length = int(rng.uniform(0.12, 0.3) * RATE)
        pitch, t = rng.uniform(110, 240), np.arange(length) / RATE
        burst = sum(np.sin(2 * np.pi * pitch * harmonic * t) / harmonic for harmonic in range(1, 8)) * np.hanning(length)
        out[position : position + length] = burst[: len(out) - position] * rng.uniform(0.3, 0.9)
        position += length + int(rng.uniform(0.05, 0.25) * RATE)
    return 0.5 * out / np.abs(out).max()


def buzz(seconds: float = 8.0, seed: int = 1) -> np.ndarray:
    """A swarm: detuned sawtooth tones around 220 Hz with a fast tremolo, and hiss."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    tones = sum(2 * ((t * f + rng.random()) % 1.0) - 1 for f in (205, 221, 236, 410))
    tremolo = 0.6 + 0.4 * np.sin(2 * np.pi * 23 * t)
    return (0.15 * tones * tremolo + 0.05 * rng.standard_normal(len(t))).astype(np.float32)


@pytest.fixture(scope="module")
def sounds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sounds")
    soundfile.write(folder / "speech.wav", speech_like(), RATE)
    soundfile.write(folder / "buzz.wav", buzz(), RATE)
    return folder


def test_let_it_bee_follows_the_target_in_time_and_sounds_like_the_source(sounds, tmp_path):
    result = stylize_audio(sounds / "speech.wav", sounds / "buzz.wav", tmp_path / "out.wav")
    target, source = load_sound(sounds / "speech.wav"), load_sound(sounds / "buzz.wav")
    written, rate = soundfile.read(tmp_path / "out.wav")
    assert rate == RATE and len(written) == len(target.samples)
    assert measures.correlation(measures.loudness_envelope(result.sound.samples), measures.loudness_envelope(target.samples)) >= 0.8
    to_source, to_target = measures.timbre_distances(result.sound.samples, target.samples, source.samples, RATE)
    assert to_source < to_target


@pytest.mark.parametrize(
    "switched, score, direction",
    [
        ("repetition", measures.repeated_share, "lower"),
        ("polyphony", measures.simultaneous, "lower"),
        ("continuity", measures.diagonal_run_length, "higher"),
    ],
)
def test_each_restriction_does_its_job(sounds, switched, score, direction):
    target, source = load_sound(sounds / "speech.wav").samples, load_sound(sounds / "buzz.wav").samples
    on = LetItBeeOptions()
    off = LetItBeeOptions(**{switched: 0})
    templates = np.abs(stft(source, on))
    templates = (templates / (np.linalg.norm(templates, axis=0) + 1e-10)).astype(np.float32)
    magnitude = np.abs(stft(target, on)).astype(np.float32)
    with_it, without_it = score(learn_activations(magnitude, templates, on)), score(learn_activations(magnitude, templates, off))
    assert (with_it < without_it) if direction == "lower" else (with_it > without_it), (with_it, without_it)


def test_the_restrictions_on_a_small_matrix():
    activations = np.array([[1.0, 3.0, 2.0, 0.5], [4.0, 1.0, 1.0, 6.0], [2.0, 2.0, 5.0, 1.0]])
    np.testing.assert_allclose(repetition_restriction(activations, 1, 0.5)[0], [0.5, 3.0, 1.0, 0.25])  # only row maxima within 1 frame stay
    np.testing.assert_allclose(polyphony_restriction(activations, 1, 0.0), [[0, 3, 0, 0], [4, 0, 0, 6], [0, 0, 5, 0]])
    enhanced = continuity_enhancement(activations, 1)
    assert enhanced[1, 1] == activations[0, 0] + activations[1, 1] + activations[2, 2]
    assert enhanced[0, 0] == activations[0, 0] + activations[1, 1]  # outside the matrix counts as zero


def test_texture_transfer_keeps_the_length_and_the_loudness_pattern(sounds):
    options = TextureOptions(iterations=15, filters=128, griffin_lim_iterations=16)
    result = stylize_audio(sounds / "speech.wav", sounds / "buzz.wav", method="texture", texture=options, end=2.0)
    target = load_sound(sounds / "speech.wav", end=2.0)
    assert len(result.sound.samples) == len(target.samples) and result.activations is None
    assert measures.correlation(measures.loudness_envelope(result.sound.samples), measures.loudness_envelope(target.samples)) >= 0.8


def test_reading_sound_mixes_to_mono_resamples_and_refuses_what_is_not_sound(tmp_path):
    stereo = np.stack([speech_like(1.0), buzz(1.0)], axis=1)
    soundfile.write(tmp_path / "stereo.flac", stereo, 22050)
    read = load_sound(tmp_path / "stereo.flac", rate=RATE)
    assert read.rate == RATE and abs(len(read.samples) - round(len(stereo) * RATE / 22050)) <= 2
    assert any("2 channels" in note for note in read.notes) and any("resampled" in note for note in read.notes)
    soundfile.write(tmp_path / "silence.wav", np.zeros(RATE, np.float32), RATE)
    soundfile.write(tmp_path / "short.wav", speech_like(0.1), RATE)
    (tmp_path / "notes.txt").write_text("not a sound")
    write_clip(tmp_path / "mute.mp4", translating_clip(4, 16, 16))
    for name, message in [("silence.wav", "is silent"), ("short.wav", "at least 0.5 s"), ("notes.txt", "not a readable sound"), ("mute.mp4", "has no sound")]:
        with pytest.raises(VideostyleError, match=message):
            load_sound(tmp_path / name)


def test_audio_command_writes_the_result_and_gives_one_line_errors(sounds, tmp_path, capsys):
    code, err = run_cli(["audio", sounds / "speech.wav", "--source", sounds / "buzz.wav", "-o", tmp_path / "out.flac", "--polyphony", "5"], capsys)
    assert code == 0 and "wrote" in err, err
    assert soundfile.info(str(tmp_path / "out.flac")).samplerate == RATE
    for args, message in [
        (["-o", tmp_path / "out.mp3"], "unknown sound format"),
        (["-o", sounds / "buzz.wav"], "refusing to overwrite an input"),
        (["-o", tmp_path / "x.wav", "--repetition", "-1"], "--repetition"),
    ]:
        code, err = run_cli(["audio", sounds / "speech.wav", "--source", sounds / "buzz.wav", *args], capsys)
        assert_clean_failure(code, err, message)
    assert not (tmp_path / "x.wav").exists() and soundfile.info(str(sounds / "buzz.wav")).frames == 8 * RATE


def test_video_restyle_audio_replaces_the_soundtrack_for_the_window(sounds, tmp_path, capsys):
    clip = write_clip(tmp_path / "tone.mp4", translating_clip(60, 32, 48), tone_hz=440)
    code, err = run_cli(
        ["video", clip, "-m", "starry_night", "--size", "48", "-o", tmp_path / "out.mp4", "--restyle-audio", sounds / "buzz.wav", "--end", "1.5"], capsys
    )
    assert code == 0 and "restyled with buzz.wav" in err, err
    with av.open(str(tmp_path / "out.mp4")) as container:
        audio = container.streams.audio[0]
        samples = np.concatenate([frame.to_ndarray().reshape(-1) for frame in container.decode(audio)])
        seconds = len(samples) / audio.codec_context.sample_rate / audio.codec_context.channels
    assert 1.4 <= seconds <= 1.7
    spectrum = np.abs(np.fft.rfft(samples[:8192]))
    assert np.argmax(spectrum) * audio.codec_context.sample_rate / 8192 != pytest.approx(440, abs=20)  # not the clip's tone any more
    mute = write_clip(tmp_path / "mute.mp4", translating_clip(10, 32, 48))
    code, err = run_cli(["video", mute, "-m", "starry_night", "-o", tmp_path / "mute_out.mp4", "--restyle-audio", sounds / "buzz.wav"], capsys)
    assert_clean_failure(code, err, "has no sound to restyle")
    assert not (tmp_path / "mute_out.mp4").exists()


def test_without_the_audio_extra_the_commands_name_it(sounds, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "librosa", None)  # what a missing package looks like to import
    code, err = run_cli(["audio", sounds / "speech.wav", "--source", sounds / "buzz.wav", "-o", tmp_path / "out.wav"], capsys)
    assert_clean_failure(code, err, "pip install 'videostyle[audio]'")
    clip = write_clip(tmp_path / "tone.mp4", translating_clip(10, 32, 48), tone_hz=440)
    code, err = run_cli(["video", clip, "-m", "starry_night", "-o", tmp_path / "out.mp4", "--restyle-audio", sounds / "buzz.wav"], capsys)
    assert_clean_failure(code, err, "pip install 'videostyle[audio]'")
    assert not (tmp_path / "out.wav").exists() and not (tmp_path / "out.mp4").exists()
