"""Sound restyling on the bundled examples: speed, the targets of the sound restyling, and a spectrogram figure.

Target: `spoken_sentence.flac` (10 s of speech); source: `synth_swarm.ogg` (30 s of a synthetic swarm),
both in the package's samples. For each method: seconds (a cold first call, which imports librosa,
and the best of three warm calls), the correlation of the result's loudness (RMS in dB) and onset
envelopes with the target's, and the distances of its mean MFCC vector to the source's and the
target's. Then Let it Bee with each restriction switched off in turn, scored on its activations by
the measure of that restriction. Writes docs/images/audio_spectrograms.png (target, source, results).

    python benchmarks/audio_restyle.py
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from videostyle.audio import measures
from videostyle.audio.api import stylize_audio
from videostyle.audio.io import load_sound
from videostyle.audio.letitbee import LetItBeeOptions
from videostyle.serve.jobs import samples_folder

FIGURE = Path(__file__).resolve().parents[1] / "docs" / "images" / "audio_spectrograms.png"


def timed(method: str, target, source, **options):
    began = time.perf_counter()
    cold = stylize_audio(target, source, method=method, **options)
    cold_seconds = time.perf_counter() - began
    warm = []
    for _ in range(3):
        began = time.perf_counter()
        result = stylize_audio(target, source, method=method, **options)
        warm.append(time.perf_counter() - began)
    return result, cold_seconds, min(warm), cold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figure", type=Path, default=FIGURE)
    args = parser.parse_args()
    target_path, source_path = samples_folder() / "spoken_sentence.flac", samples_folder() / "synth_swarm.ogg"
    target = load_sound(target_path)
    source = load_sound(source_path, rate=target.rate)
    print(f"target {target.seconds:.1f} s, source {source.seconds:.1f} s, {target.rate} Hz; {torch.get_num_threads()} threads\n")
    print("| method | cold seconds | warm seconds | loudness r | onset r | MFCC distance to source | to target |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    results = {}
    for method in ("letitbee", "texture"):
        result, cold, warm, _ = timed(method, target_path, source_path)
        results[method] = result
        loud = measures.correlation(measures.loudness_envelope(result.sound.samples), measures.loudness_envelope(target.samples))
        onset = measures.correlation(measures.onset_envelope(result.sound.samples, target.rate), measures.onset_envelope(target.samples, target.rate))
        to_source, to_target = measures.timbre_distances(result.sound.samples, target.samples, source.samples, target.rate)
        print(f"| {method} | {cold:.2f} | {warm:.2f} | {loud:.3f} | {onset:.3f} | {to_source:.1f} | {to_target:.1f} |")

    print("\nLet it Bee with each restriction off (the others on), scored on the activations:\n")
    print("| restrictions | repeated share (r=3 frames) | active per frame | mean diagonal run |")
    print("|---|---:|---:|---:|")
    for label, options in [
        ("all on (r=3, p=10, c=3)", LetItBeeOptions()),
        ("repetition off", LetItBeeOptions(repetition=0)),
        ("polyphony off", LetItBeeOptions(polyphony=0)),
        ("continuity off", LetItBeeOptions(continuity=0)),
    ]:
        activations = stylize_audio(target_path, source_path, letitbee=options).activations
        assert activations is not None
        print(
            f"| {label} | {measures.repeated_share(activations):.3f} | {measures.simultaneous(activations):.1f} | "
            f"{measures.diagonal_run_length(activations):.2f} |"
        )
    write_figure(target, source, results, args.figure)
    print(f"\nwrote {args.figure}")


def write_figure(target, source, results: dict, path: Path) -> None:
    import librosa
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [("target: spoken sentence", target.samples), ("source: synthetic swarm (first 10 s)", source.samples[: len(target.samples)])]
    rows += [(f"result: {method}", result.sound.samples) for method, result in results.items()]
    figure, axes = plt.subplots(len(rows), 1, figsize=(9, 2.1 * len(rows)), sharex=True)
    for axis, (title, samples) in zip(axes, rows, strict=True):
        decibels = librosa.amplitude_to_db(np.abs(librosa.stft(samples, n_fft=2048, hop_length=512)), ref=np.max)
        librosa.display.specshow(decibels, sr=target.rate, hop_length=512, x_axis="time", y_axis="log", ax=axis, vmin=-80, vmax=0)
        axis.set_title(title, fontsize=9)
        axis.label_outer()
    figure.tight_layout()
    figure.savefig(path, dpi=80)


if __name__ == "__main__":
    main()
