"""Any-style networks against each other on unseen paintings: speed of the network alone and what a faster one
costs in style distance and flicker, in one run (the quality bounds for arbitrary-video).

The first `--model` is the reference (default: the bundled `arbitrary_video_corpus`, the default model of
`--method arbitrary-video`); each other model is a row. For every `--style` (paintings held out of every
training), quality is measured as in `realtime_quality.py`: on the frames themselves, over the 640x360 pan of
`pipeline_speed.py` and vtest.avi's frames from 100 at 640x360; style distance (Gram distance to that painting
at relu1_1..relu5_1) and short-term warping error (DIS flow, Ruder's mask). The table gives means over styles
and clips, and each row's ratio to the reference (the mean of the per-style ratios). Milliseconds: median over
interleaved repeats on one 640x360 frame with the first style.

    python benchmarks/any_style_speed.py --frames 30 --model arbitrary_video_corpus --model arbitrary_video_lean \\
        --style runs/corpus/heldout/data-story-landscape-bridge.jpg --style runs/corpus/heldout/trow-portraits-jevyan.jpg \\
        --style runs/corpus/heldout/gimp-data-usr-share-gimp-2-0-patterns-stone-stone33.jpg --style assets/graffiti.jpg
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from pipeline_speed import make_clip
from realtime_quality import VTEST, frames_of, one_by_one

from videostyle.features import load_encoder
from videostyle.flow import make_estimator
from videostyle.io.image import load_image, to_tensor
from videostyle.methods.one_pass import build_stylizer
from videostyle.metrics.evaluate import evaluate_clip
from videostyle.spec import MethodSpec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=[], help="Any-style network (bundled name or file); the first is the reference.")
    parser.add_argument("--style", action="append", required=True, help="A painting (repeatable).")
    parser.add_argument("--frames", type=int, default=30, help="Frames scored per clip.")
    parser.add_argument("--repeats", type=int, default=15, help="Timed runs of one frame per model.")
    args = parser.parse_args()
    models = args.model or ["arbitrary_video_corpus"]
    encoder = load_encoder()
    estimator = make_estimator("dis")
    with tempfile.TemporaryDirectory() as folder:
        pan = make_clip(Path(folder) / "pan.mp4", args.frames + 8)
        clips = {"pan": frames_of(pan, args.frames, skip=8), "vtest": frames_of(VTEST, args.frames, skip=100)}
        runs = {
            (model, style): one_by_one(build_stylizer(MethodSpec(method="arbitrary-video", model=model, styles=[style], batch_size=1))[0])
            for model in models
            for style in args.style
        }
        probe = clips["vtest"][0]
        timings = {model: [] for model in models}
        for model in models:
            runs[model, args.style[0]](probe)  # warm-up
        for _ in range(args.repeats):
            for model in models:
                started = time.perf_counter()
                runs[model, args.style[0]](probe)
                timings[model].append(time.perf_counter() - started)
        quality = {}
        for (model, style), run in runs.items():
            target = to_tensor(load_image(style))
            scores = [evaluate_clip(clip, [run(frame) for frame in clip], estimator, encoder=encoder, style=target).summary() for clip in clips.values()]
            quality[model, style] = (np.mean([s["style_distance"] for s in scores]), np.mean([s["short_term_error"] for s in scores]))
            print(f"{Path(model).stem} on {Path(style).stem}: style distance {quality[model, style][0]:.4g}, warping error {quality[model, style][1]:.5f}")
    print(f"\n{torch.get_num_threads()} threads; {len(args.style)} styles x 2 clips of {args.frames} frames at 640x360\n")
    print("| network | ms per frame | frames/s | x reference speed | style distance (mean) | x reference | warping error (mean) | x reference |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    reference_ms = float(np.median(timings[models[0]]))
    for model in models:
        ms = float(np.median(timings[model]))
        distance = np.mean([quality[model, style][0] for style in args.style])
        error = np.mean([quality[model, style][1] for style in args.style])
        distance_ratio = np.mean([quality[model, style][0] / quality[models[0], style][0] for style in args.style])
        error_ratio = np.mean([quality[model, style][1] / quality[models[0], style][1] for style in args.style])
        print(
            f"| {Path(model).stem} | {ms * 1000:.1f} | {1 / ms:.1f} | {reference_ms / ms:.2f} | {distance:.4g} | {distance_ratio:.2f} | {error:.5f} | {error_ratio:.2f} |"
        )


if __name__ == "__main__":
    main()
