"""Keyframe video against stylizing every frame with the method that painted the keyframe.

Clips (frame folders, so that no encoder touches the measured pixels):
- the bundled carphone clip, its first ``--frames`` frames at 176x144 (real motion; the warping error uses DIS
  flow on the originals);
- a ground-truth sequence (``videostyle dataset``'s layered scene, 160x120, exact flow).

Keyframe 0 (and, for the second row, the last frame too) is painted by the bundled ``starry_night`` network,
the same network that paints every frame of the baseline; each engine (``patches``, ``network``) carries them.
Columns: the short-term warping error, the style distance of each frame to the painting of the keyframe nearest
to it in time (Gram distance at relu1_1..relu5_1), each as a ratio to the per-frame baseline's against the same
keyframes; the mean absolute difference to the painting on the keyframes (in 1/255); seconds per frame.

Then the speed at 640x360 (the pan of benchmarks/pipeline_speed.py): seconds per propagated frame, and for the
network engine its training apart.

    python benchmarks/keyframes.py [--frames 40] [--engines patches network] [--sheet docs/images/keyframes_sheet.png]

``--sheet``: the bundled clip's frames 0, a third, two thirds and the last, painted every frame by the network and
carried from keyframe 0 by each engine, one row each.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from pipeline_speed import make_clip

from videostyle.datasets import generate_sequence, write_sequence
from videostyle.features import load_encoder
from videostyle.flow import ground_truth_flows, make_estimator
from videostyle.io.image import load_image, to_tensor
from videostyle.io.video import VideoReader
from videostyle.keyframes import ENGINES, KeyframeOptions, propagate_keyframes
from videostyle.metrics.evaluate import evaluate_clip
from videostyle.pipeline import Progress, stylize_video
from videostyle.serve.jobs import samples_folder
from videostyle.spec import MethodSpec


def frames_of(folder: Path) -> list[np.ndarray]:
    return [np.asarray(Image.open(path).convert("RGB")) for path in sorted(folder.glob("*.png"))]


def write_frames(frames: list[np.ndarray], folder: Path) -> Path:
    folder.mkdir(parents=True)
    for index, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f"{index:06d}.png")
    return folder


def nearest_key_style_distance(encoder, frames: list[np.ndarray], keys: dict[int, np.ndarray]) -> float:
    """The mean over frames of each frame's style distance (Gram distance, relu1_1 to relu5_1) to the painting of the
    keyframe nearest to it in time (the earlier one on a tie): with two keyframes, each half of the clip is measured
    against the painting it should look like. Each painting's Gram matrices are computed once."""
    from videostyle.losses.perceptual import DEFAULT_STYLE_LAYERS
    from videostyle.metrics.evaluate import grams_distance, style_grams_at

    grams = {index: style_grams_at(encoder, to_tensor(painting), max(painting.shape[:2])) for index, painting in keys.items()}
    distances = []
    for index, frame in enumerate(frames):
        nearest = min(keys, key=lambda key: (abs(key - index), key))
        with torch.no_grad():
            distances.append(grams_distance(encoder(to_tensor(frame), list(DEFAULT_STYLE_LAYERS)), grams[nearest]))
    return float(np.mean(distances))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--speed-frames", type=int, default=4)
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--sheet", type=Path, default=None)
    args = parser.parse_args()
    encoder = load_encoder()
    print(f"{torch.get_num_threads()} threads, torch {torch.__version__}\n")
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        carphone = [frame for _, frame in zip(range(args.frames), VideoReader(samples_folder() / "carphone.mp4"), strict=False)]
        photos = [np.asarray(load_image(samples_folder() / name)) for name in ("grace_hopper.jpg", "starry_night.jpg")]
        sequence = write_sequence(generate_sequence(photos, frames=args.frames, height=120, width=160, layers=3, seed=0), work / "truth", long_gap=10)
        clips = {
            "carphone 176x144": (write_frames(carphone, work / "carphone"), make_estimator("dis")),
            "ground truth 160x120": (sequence / "frames", ground_truth_flows(sequence)),
        }
        sheet_rows: list[list[Image.Image]] = []
        shown = [0, args.frames // 3, 2 * args.frames // 3, args.frames - 1]  # the frames on the sheet
        print("| clip | run | warping error | x per frame | style distance to the nearest keyframe | x per frame | keyframes' difference (/255) | s/frame |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for name, (clip, flows) in clips.items():
            per_frame = work / f"{clip.parent.name}_{clip.name}_per_frame"
            started = time.perf_counter()
            stylize_video(clip, per_frame, MethodSpec(method="feedforward", model="starry_night"))
            baseline_seconds = (time.perf_counter() - started) / args.frames
            painted = frames_of(per_frame)
            originals = frames_of(clip)
            error = float(evaluate_clip(originals, painted, flows).summary()["short_term_error"])
            if name.startswith("carphone"):
                sheet_rows.append([Image.fromarray(painted[index]) for index in shown])
            last = len(originals) - 1
            for label, indices in (("keyframe 0", (0,)), (f"keyframes 0 and {last}", (0, last))):
                paintings = {index: painted[index] for index in indices}
                distance = nearest_key_style_distance(encoder, painted, paintings)
                print(f"| {name} | every frame by starry_night, against {label} | {error:.5f} | 1.00 | {distance:.4g} | 1.00 | | {baseline_seconds:.3f} |")
                keys = {}
                for index in indices:
                    keys[index] = work / f"{clip.parent.name}_{clip.name}_key{index}.png"
                    Image.fromarray(painted[index]).save(keys[index])
                for engine in args.engines:
                    output = work / f"{clip.parent.name}_{clip.name}_{engine}_keys{len(indices)}"
                    summary = propagate_keyframes(clip, output, keys, options=KeyframeOptions(engine=engine))
                    result = frames_of(output)
                    warping = float(evaluate_clip(originals, result, flows).summary()["short_term_error"])
                    style = nearest_key_style_distance(encoder, result, paintings)
                    on_keys = max(float(np.abs(result[index].astype(float) - painted[index]).mean()) for index in indices)
                    if name.startswith("carphone") and len(indices) == 1:
                        sheet_rows.append([Image.fromarray(result[index]) for index in shown])
                    print(
                        f"| {name} | {label} carried by {engine} | {warping:.5f} | {warping / error:.2f} | {style:.4g} | {style / distance:.2f} | "
                        f"{on_keys:.2f} | {summary.seconds / summary.frames:.3f} |",
                        flush=True,
                    )
        if args.sheet is not None:
            from videostyle.io.sheet import save_labelled_grid

            labels = ["every frame by starry_night", *(f"keyframe 0 carried by {engine}" for engine in args.engines)]
            header = [f"frame {index}" for index in shown]
            save_labelled_grid(header, sheet_rows, sheet_rows[0][0].height, args.sheet)
            print(f"\nsheet {args.sheet}: rows {'; '.join(labels)}")
        pan = make_clip(work / "pan.mp4", args.speed_frames + 1)
        key_frame = next(iter(VideoReader(pan)))
        Image.fromarray(key_frame).save(work / "pan_frame.png")
        from videostyle.api import stylize_image_with_model

        stylize_image_with_model(work / "pan_frame.png", model="starry_night", size=None, output=work / "pan_key.png")
        print()
        for engine in args.engines:
            trained: list[float] = []
            started = time.perf_counter()
            progress = Progress(on_adapt=lambda report, times=trained: times.append(time.perf_counter()))
            summary = propagate_keyframes(pan, work / f"pan_{engine}", {0: work / "pan_key.png"}, options=KeyframeOptions(engine=engine), progress=progress)
            seconds = time.perf_counter() - started
            training = f"training {trained[-1] - started:.1f} s ({len(trained)} steps), then " if trained else ""
            painting = seconds - (trained[-1] - started if trained else 0)
            print(
                f"640x360, {engine}: {summary.frames} frames (1 keyframe, {summary.frames - 1} propagated) in {seconds:.1f} s: "
                f"{training}{painting / (summary.frames - 1):.2f} s per propagated frame"
            )


if __name__ == "__main__":
    main()
