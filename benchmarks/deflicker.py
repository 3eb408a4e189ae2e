"""Deflicker (Bonneel et al. 2015) on per-frame fast-network output: flicker removed, style kept, speed.

Clips: the bundled carphone clip (176x144, 120 frames, real motion) and the 640x360 pan of
benchmarks/pipeline_speed.py (60 frames). Each is stylized per frame with the bundled `starry_night`
network, then `deflicker_video` is run with several weights. Rows: the short-term warping error
(DIS flow on the originals, Ruder's consistency mask) and the style distance (Gram distance to Starry
Night at relu1_1..relu5_1) of the processed clip and of each deflickered one, and the deflicker's
own frames per second (reading, flow, solving and writing included).

    python benchmarks/deflicker.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from pipeline_speed import make_clip

from videostyle.deflicker import deflicker_video
from videostyle.features import load_encoder
from videostyle.flow import make_estimator
from videostyle.io.image import load_image, to_tensor
from videostyle.io.video import VideoReader
from videostyle.metrics.evaluate import evaluate_clip
from videostyle.pipeline import stylize_video
from videostyle.serve.jobs import samples_folder
from videostyle.spec import MethodSpec

WEIGHTS = (0.1, 0.3, 1.0, 3.0)


def scores(original: Path, clip: Path, encoder, style) -> tuple[float, float]:
    report = evaluate_clip(VideoReader(original), VideoReader(clip), make_estimator("dis"), encoder=encoder, style=style).summary()
    return float(report["short_term_error"]), float(report["style_distance"])


def main() -> None:
    encoder = load_encoder()
    style = to_tensor(load_image(samples_folder() / "starry_night.jpg"))
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        clips = {"carphone 176x144": samples_folder() / "carphone.mp4", "pan 640x360": make_clip(folder / "pan.mp4", 60)}
        print(f"{torch.get_num_threads()} threads\n")
        print("| clip | run | warping error | x processed | style distance | x processed | deflicker frames/s |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for name, original in clips.items():
            processed = folder / f"{original.stem}_styled.mp4"
            stylize_video(original, processed, MethodSpec(method="feedforward", model="starry_night"))
            error, distance = scores(original, processed, encoder, style)
            print(f"| {name} | per-frame starry_night | {error:.5f} | 1.00 | {distance:.4g} | 1.00 | |")
            for weight in WEIGHTS:
                output = folder / f"{original.stem}_{weight}.mp4"
                summary = deflicker_video(original, processed, output, weight=weight)
                fixed_error, fixed_distance = scores(original, output, encoder, style)
                print(
                    f"| {name} | deflickered, weight {weight:g} | {fixed_error:.5f} | {fixed_error / error:.2f} | {fixed_distance:.4g} | "
                    f"{fixed_distance / distance:.2f} | {summary.frames / summary.seconds:.1f} |"
                )


if __name__ == "__main__":
    main()
