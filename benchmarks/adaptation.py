"""Per-style adaptation against its baselines, on paintings held out of every training.

For each style: adapt a fast network on the clip from each start (``any-style``,
``meta``, ``scratch``; wall time measured), train the reference (a fast network trained from
scratch per frame for ``--reference-steps`` steps, the bundled single-style recipe), then stylize
the clip and a generated ground-truth sequence with every network and with arbitrary-video, and
print style distance and short-term warping error (``videostyle evaluate``'s definitions).
Adaptations run with a fresh cache folder, so nothing is reused between runs.

    python benchmarks/adaptation.py --style runs/corpus/heldout/data-story-landscape-bridge.jpg \\
        --style runs/corpus/heldout/trow-portraits-jevyan.jpg
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

MEDIA = Path("../shared/media")
REFERENCE_DATA = [MEDIA / "photos", MEDIA / "video" / "carphone.mp4", MEDIA / "video" / "tree.avi", MEDIA / "video" / "vtest.avi"]


def frames_of(clip: str, count: int) -> list[np.ndarray]:
    from videostyle.io.video import VideoReader

    return [frame for _, frame in zip(range(count), VideoReader(clip), strict=False)]


def stylize_frames(spec, frames: list[np.ndarray]) -> list[np.ndarray]:
    from videostyle.io.image import to_tensor, to_uint8
    from videostyle.methods.one_pass import build_stylizer

    stylizer = build_stylizer(spec)[0]
    with torch.inference_mode():
        return [to_uint8(stylizer.stylize_tensor(to_tensor(frame))) for frame in frames]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", action="append", required=True)
    parser.add_argument("--clip", default="assets/carphone.mp4")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--steps", type=int, default=None, help="Adaptation steps (default: AdaptOptions's).")
    parser.add_argument("--starts", default="any-style,meta,scratch", help="Comma-separated starts to adapt from ('' for none).")
    parser.add_argument("--reference-steps", type=int, default=1000, help="Steps of the from-scratch reference (0: none).")
    parser.add_argument("--arbitrary-model", action="append", default=None, help="Any-style models to compare (repeat) [default: arbitrary_video_corpus].")
    parser.add_argument("--with-photos", action="store_true", help="AdaptOptions.with_photos: mix the shipped photos' scenes into a clip's pairs.")
    parser.add_argument("--keep", default=None, help="Folder to keep the adapted and reference models in.")
    args = parser.parse_args()

    from videostyle.datasets import generate_sequence, write_sequence
    from videostyle.features import load_encoder
    from videostyle.flow import ground_truth_flows, make_estimator
    from videostyle.io.image import load_image, to_tensor
    from videostyle.metrics import evaluate_clip
    from videostyle.options import AdaptOptions
    from videostyle.spec import MethodSpec
    from videostyle.training.adapt import adapt
    from videostyle.training.feedforward import TrainOptions, train_transformer
    from videostyle.training.loop import RunControl

    print(f"machine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}, CPU")
    encoder = load_encoder()
    keep = Path(args.keep) if args.keep else None
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VIDEOSTYLE_CACHE"] = str(Path(tmp) / "cache")
        gt = Path(tmp) / "gt"
        textures = [np.asarray(load_image(p)) for p in ("assets/grace_hopper.jpg", "assets/starry_night.jpg")]
        write_sequence(generate_sequence(textures, frames=args.frames, height=144, width=176, layers=3, seed=0), gt, long_gap=5)
        inputs = {
            Path(args.clip).name: (frames_of(args.clip, args.frames), make_estimator("dis")),
            "ground truth": (frames_of(str(gt / "frames"), args.frames), ground_truth_flows(gt)),
        }
        print("| style | network | minutes to make | input | short-term error | style distance |")
        print("| --- | --- | --- | --- | --- | --- |")
        for style in args.style:
            name = Path(style).stem
            networks: dict[str, tuple[MethodSpec, float | None]] = {
                f"arbitrary-video {Path(model).stem}": (MethodSpec(method="arbitrary-video", model=model, styles=[style], runtime="torch"), None)
                for model in args.arbitrary_model or ["arbitrary_video_corpus"]
            }
            for start in filter(None, args.starts.split(",")):
                options = AdaptOptions(start=start, with_photos=args.with_photos, **({} if args.steps is None else {"steps": args.steps}))
                began = time.perf_counter()
                path, _ = adapt(style, args.clip, options, output=None if keep is None else keep / f"{name}-adapt-{start}.safetensors")
                networks[f"adapt from {start}, {options.steps} steps"] = (
                    MethodSpec(method="feedforward", model=str(path), runtime="torch"),
                    (time.perf_counter() - began) / 60,
                )
            if args.reference_steps:
                reference = Path(keep or tmp) / f"{name}-scratch-{args.reference_steps}.safetensors"
                began = time.perf_counter()
                if not reference.exists():
                    train_transformer([style], REFERENCE_DATA, reference, TrainOptions(steps=args.reference_steps), RunControl())
                label = f"fast per-frame from scratch, {args.reference_steps} steps"
                networks[label] = (MethodSpec(method="feedforward", model=str(reference), runtime="torch"), (time.perf_counter() - began) / 60)
            style_image = to_tensor(style)
            for label, (spec, minutes) in networks.items():
                for input_name, (frames, flows) in inputs.items():
                    outputs = stylize_frames(spec, frames)
                    summary = evaluate_clip(frames, outputs, flows, long_gap=5, encoder=encoder, style=style_image).summary()
                    made = "-" if minutes is None else f"{minutes:.2f}"
                    print(f"| {name} | {label} | {made} | {input_name} | {summary['short_term_error']:.5f} | {summary['style_distance']:.4g} |", flush=True)


if __name__ == "__main__":
    main()
