"""Every available video method on the bundled clip and on a generated ground-truth sequence: one table.

Columns: frames per second (whole pipeline: decode, flow, stylize, encode), peak resident memory
of the child process that ran it, short- and long-term warping error and their ratio to the
input clip's own, content and style distance (see ``videostyle evaluate``). On the ground-truth
sequence the warping errors use its exact flow; on real clips, flow estimated on the original
frames (``--metric-flow``). Later methods add themselves to METHODS.

    python benchmarks/suite.py --size 128 --frames 12
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

STYLE = "assets/starry_night.jpg"
#: ``{label: settings}``: ``method`` (default optimize) and ``model`` of the method spec; ``independent``
#: for the optimisation rows; ``fixed_style``: a model trained for Starry Night only (skipped with another ``--style``).
METHODS = {
    "independent (per-frame Gatys)": {"independent": True},
    "optimize (Ruder et al.)": {"independent": False},
    "feed-forward johnson (per frame)": {"method": "feedforward", "model": "starry_night_johnson", "fixed_style": True},
    "feed-forward fast (per frame)": {"method": "feedforward", "model": "starry_night", "fixed_style": True},
    "ReCoNet fast (temporal training)": {"method": "reconet", "fixed_style": True},
    "AdaIN (per frame)": {"method": "adain"},
    "arbitrary-video (ours)": {"method": "arbitrary-video"},
}


def method_spec(settings: dict, size: int, args):
    """The :class:`~videostyle.spec.MethodSpec` of one suite row."""
    from videostyle.options import GatysOptions, VideoOptions
    from videostyle.spec import MethodSpec

    method = settings.get("method", "optimize")
    if method != "optimize":
        return MethodSpec(method=method, model=settings.get("model"), styles=[] if settings.get("fixed_style") else [args.style], size=size)
    image = GatysOptions(iterations=args.iterations, tolerance=0.0)
    optimization = VideoOptions(image=image, first_iterations=args.first_iterations, independent=settings["independent"], flow=args.flow)
    return MethodSpec(styles=[args.style], size=size, optimization=optimization)


def run_method(clip: str, output: str, frames: int, size: int, settings: dict, args) -> dict:
    from videostyle.io.video import ClipWindow, VideoReader
    from videostyle.pipeline import RunSettings, stylize_video

    torch.manual_seed(0)
    end = float(frames / VideoReader(clip).info.fps) if Path(clip).is_file() else None
    start = time.perf_counter()
    summary = stylize_video(clip, output, method_spec(settings, size, args), window=ClipWindow(end=end), run=RunSettings(output + ".run", keep_frames=True))
    seconds = time.perf_counter() - start
    outputs = sorted(str(p) for p in (summary.run_folder / "frames").glob("out_*.png"))
    return {
        "fps": summary.frames / seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "outputs": outputs,
        "size": (summary.height, summary.width),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="+", default=["assets/carphone.mp4"])
    parser.add_argument("--size", type=int, default=128, help="Long side of the working size.")
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--first-iterations", type=int, default=100)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--flow", default="deepflow", help="Flow the method uses.")
    parser.add_argument("--metric-flow", default="deepflow", help="Flow the metric estimates on real clips.")
    parser.add_argument("--long-gap", type=int, default=5)
    parser.add_argument("--methods", nargs="*", default=None, help=f"Subset of: {'; '.join(METHODS)}.")
    parser.add_argument(
        "--style",
        default=STYLE,
        help="Style image of the optimisation and any-style methods, and of the style distance "
        "(the single-style models are skipped unless it is Starry Night).",
    )
    parser.add_argument("--arbitrary-model", default=None, help="Model file for the arbitrary-video row (default: the bundled one).")
    args = parser.parse_args()
    methods = {name: METHODS[name] for name in (args.methods or METHODS)}
    if args.arbitrary_model and "arbitrary-video (ours)" in methods:
        methods["arbitrary-video (ours)"] = {**methods["arbitrary-video (ours)"], "model": args.arbitrary_model}
    if Path(args.style).resolve() != Path(STYLE).resolve():
        skipped = [name for name, settings in methods.items() if settings.get("fixed_style")]
        methods = {name: settings for name, settings in methods.items() if name not in skipped}
        if skipped:
            print(f"skipped (trained for Starry Night only): {', '.join(skipped)}")

    from videostyle.datasets import generate_sequence, write_sequence
    from videostyle.features import load_encoder
    from videostyle.flow import ground_truth_flows, make_estimator
    from videostyle.io.image import load_image, to_tensor
    from videostyle.io.video import VideoReader
    from videostyle.metrics import evaluate_clip
    from videostyle.pipeline import resize_frame

    print(f"machine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}, CPU")
    print(f"style: {args.style}")
    print(
        f"settings: long side {args.size} px, {args.frames} frames, first frame {args.first_iterations} iterations, later {args.iterations}, "
        f"method flow {args.flow}, metric flow {args.metric_flow} (exact flow on the ground-truth sequence), long gap {args.long_gap}\n"
    )
    encoder, style = load_encoder(), to_tensor(args.style)
    with tempfile.TemporaryDirectory() as tmp:
        gt = Path(tmp) / "gt"
        photos = [np.asarray(load_image(p)) for p in ("assets/grace_hopper.jpg", STYLE)]  # the scene's textures, whatever --style
        width, height = args.size, round(args.size * 0.75)
        write_sequence(generate_sequence(photos, frames=args.frames, height=height, width=width, layers=3, seed=0), gt, long_gap=args.long_gap)
        inputs = [(Path(clip).name, clip, None) for clip in args.clips] + [("ground-truth sequence", str(gt / "frames"), gt)]
        print(
            "| input | method | frames/s | peak memory (MiB) | short-term error (ratio to input) | long-term error (ratio) | content distance | style distance |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for name, clip, gt_dir in inputs:
            for method, settings in methods.items():
                output = str(Path(tmp) / f"{name}-{list(METHODS).index(method)}.mp4")
                with mp.get_context("spawn").Pool(1) as pool:
                    run = pool.apply(run_method, (clip, output, args.frames, args.size, settings, args))
                outputs = [np.asarray(Image.open(p).convert("RGB")) for p in run["outputs"]]
                originals = [resize_frame(frame, run["size"]) for _, frame in zip(range(len(outputs)), VideoReader(clip), strict=False)]
                flows = make_estimator(args.metric_flow) if gt_dir is None else ground_truth_flows(gt_dir)
                summary = evaluate_clip(originals, outputs, flows, long_gap=args.long_gap, encoder=encoder, style=style).summary()
                print(
                    f"| {name} | {method} | {run['fps']:.2f} | {run['peak_mb']:.0f} | {summary['short_term_error']:.5f} ({summary['short_term_ratio']:.2f}) | "
                    f"{summary[f'long_term_error_gap{args.long_gap}']:.5f} ({summary['long_term_ratio']:.2f}) | {summary['content_distance']:.4g} | {summary['style_distance']:.4g} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
