"""Style swap in video: Ruder's temporal terms against per-frame style swap (the target: warping
error at most 0.5x per-frame).

The bundled clip's first 0.67 s (21 frames) at 128 px, Starry Night, style swap decoded by optimisation:
100 iterations for the first frame and 40 for each later one, DIS flow. "temporal" is the default video
method (warped start, short-term temporal loss); "per-frame" is --independent (every frame from the
content, no temporal loss). The mean short-term warping error is measured with DIS flow on the originals.

    python benchmarks/style_swap_video.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from videostyle.flow import make_estimator
from videostyle.io.video import ClipWindow, VideoReader
from videostyle.metrics.temporal import warping_errors
from videostyle.options import GatysOptions, VideoOptions
from videostyle.pipeline import resize_frame, stylize_video
from videostyle.serve.jobs import samples_folder
from videostyle.spec import MethodSpec


def main() -> None:
    clip, style = samples_folder() / "carphone.mp4", samples_folder() / "starry_night.jpg"
    rows = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, independent in (("temporal", False), ("per-frame", True)):
            options = VideoOptions(image=GatysOptions(iterations=40), first_iterations=100, flow="dis", independent=independent)
            spec = MethodSpec(method="style-swap", styles=[str(style)], size=128, optimization=options)
            began = time.perf_counter()
            stylize_video(clip, Path(folder) / label, spec, window=ClipWindow(end=0.67))
            seconds = time.perf_counter() - began
            outputs = list(VideoReader(Path(folder) / label))
            originals = [resize_frame(frame, outputs[0].shape[:2]) for frame in VideoReader(clip, end=0.67)]
            rows[label] = (len(outputs), seconds, float(np.mean(warping_errors(originals, outputs, make_estimator("dis")))))
    print(f"style swap, {rows['temporal'][0]} frames at 128 px; {torch.get_num_threads()} threads\n")
    print("| run | seconds | mean warping error | x per-frame |")
    print("|---|---:|---:|---:|")
    for label, (_, seconds, error) in rows.items():
        print(f"| {label} | {seconds:.1f} | {error:.5f} | {error / rows['per-frame'][2]:.2f} |")


if __name__ == "__main__":
    main()
