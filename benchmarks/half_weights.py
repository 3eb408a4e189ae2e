"""What storing a model's weights in float16 changes in its pictures: each model run as stored and as a float16
copy (the network still computes in float32), on the bundled photo and clip frames, in 0-255 levels.

    python benchmarks/half_weights.py                      # every bundled model
    python benchmarks/half_weights.py --model starry_night --size 512
    python benchmarks/half_weights.py --write              # and store each unchanged model in float16, in place

A model counts as unchanged when its mean difference is under half a level and no pixel moves more than 8
levels: a difference nobody sees, and below the run-to-run spread of onnxruntime against PyTorch.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from videostyle import MethodSpec, stylize
from videostyle.features import load_encoder
from videostyle.io.image import load_image, to_uint8
from videostyle.io.video import VideoReader
from videostyle.models.files import bundled_models, read_model, read_model_info, save_model
from videostyle.registry import method_for_kind

ROOT = Path(__file__).resolve().parents[1]


def half_copy(path: Path, folder: Path) -> Path:
    """The model file with every floating-point weight stored in float16 (metadata kept)."""
    tensors, info = read_model(path)
    half = {name: value.half() if value.is_floating_point() else value for name, value in tensors.items()}
    extra = {key: value for key, value in info.items() if key not in ("format", "kind", "config")}
    return save_model(folder / path.name, half, info["kind"], info["config"], extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=[], help="Bundled name or file (repeatable) [default: every bundled model].")
    parser.add_argument("--size", type=int, default=384, help="Long side of the pictures.")
    parser.add_argument("--write", action="store_true", help="Replace each model judged unchanged by its float16 copy.")
    args = parser.parse_args()
    paths = [bundled_models()[name] if name in bundled_models() else Path(name) for name in args.model] or list(bundled_models().values())
    frames = [np.asarray(load_image(ROOT / "assets/grace_hopper.jpg"))]
    frames += [frame for index, frame in enumerate(VideoReader(ROOT / "assets/carphone.mp4")) if index in (0, 60)]
    style = str(ROOT / "assets/wesnoth_bridge.jpg")
    encoder = load_encoder()
    print(f"{len(frames)} pictures at {args.size} px (grace_hopper, carphone frames 0 and 60); style for the any-style kinds: wesnoth_bridge")
    print("| model | kind | file MB (float32) | float16 MB | mean diff (levels) | max diff | pixels > 2 levels | unchanged |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for path in paths:
            kind = read_model_info(path)["kind"]
            method = method_for_kind(kind)
            half = half_copy(path, Path(folder))
            differences = []
            for frame in frames:
                pictures = []
                for model in (path, half):
                    spec = MethodSpec(method=method, model=str(model), styles=[] if method == "feedforward" else [style], size=args.size, runtime="torch")
                    pictures.append(to_uint8(stylize(frame, spec, encoder=encoder).image).astype(np.int16))
                differences.append(np.abs(pictures[0] - pictures[1]))
            diff = np.concatenate([d.ravel() for d in differences])
            unchanged = diff.mean() < 0.5 and diff.max() <= 8
            print(
                f"| {path.stem} | {kind} | {path.stat().st_size / 1e6:.2f} | {half.stat().st_size / 1e6:.2f} | {diff.mean():.3f} | {diff.max()} | "
                f"{(diff > 2).mean():.4%} | {'yes' if unchanged else 'NO'} |",
                flush=True,
            )
            if args.write and unchanged:
                half.replace(path)


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()
