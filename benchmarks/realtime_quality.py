"""The faster one-pass networks and runtimes, each against the float32 fast network: speed
of the network alone and what it costs in style distance and flicker, in one run.

Rows (Starry Night, 640x360 unless said):
- `fast float32`: the bundled `starry_night` (arch fast) in onnxruntime, the reference;
- `lean float32`: `starry_night_lean` (fast narrowed to 8-16-32 channels, zero padding), distilled from the reference
  (`train --method distill`; an earlier file had the reference's own recipe);
- `realtime float32`: `starry_night_realtime` (16-32-64, zero padding, stride-2 first layer, sub-pixel output), the same
  recipe then 500 steps of ReCoNet's temporal losses;
- `fast int8 QDQ`: the reference quantised statically by onnxruntime (QDQ, per channel, calibrated on 16 frames of
  the clips below that are not scored);
- `fast at half size + bilinear` / `+ guided filter`: the reference on the frame at half the side, the result
  upsampled bilinearly, or then passed through opencv-contrib's guided filter (He et al. 2013) with the full-size
  frame as guide (radius 4, eps 1e-3): edge-aware upsampling.

Quality is measured on the frames themselves (no video coding): the style distance (Gram distance to the style at
relu1_1..relu5_1, as `videostyle evaluate`) and the short-term warping error (DIS flow on the originals, Ruder's
consistency mask), as means over two clips: the 640x360 pan of `pipeline_speed.py` and vtest.avi's first frames
(real walkers) at 640x360. Milliseconds: median over interleaved repeats of one 640x360 frame, conversions included.

    python benchmarks/realtime_quality.py --frames 60
    python benchmarks/realtime_quality.py --frames 60 --networks-only --model starry_night_distilled  # one more row
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from pipeline_speed import make_clip

from videostyle.features import load_encoder
from videostyle.flow import make_estimator
from videostyle.io.image import load_image, to_tensor
from videostyle.io.video import VideoReader
from videostyle.methods.feedforward import export_onnx
from videostyle.methods.one_pass import build_stylizer
from videostyle.metrics.evaluate import evaluate_clip
from videostyle.serve.jobs import samples_folder
from videostyle.spec import MethodSpec

SIZE = (360, 640)
VTEST = Path(__file__).resolve().parents[2] / "shared/media/video/vtest.avi"


def frames_of(path: Path, count: int, skip: int = 0) -> list[np.ndarray]:
    frames = []
    for index, frame in enumerate(VideoReader(path)):
        if index >= skip + count:
            break
        if index >= skip:
            frames.append(cv2.resize(frame, SIZE[::-1], interpolation=cv2.INTER_AREA))
    return frames


def quantised_runner(stylizer, calibration: list[np.ndarray], folder: Path):
    """The stylizer's ONNX graph quantised to int8 (QDQ), as a function of uint8 frames."""
    import onnxruntime
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    source = export_onnx(stylizer.network, folder / "float32.onnx")

    class Frames(CalibrationDataReader):
        def __init__(self):
            self.feeds = iter([{"images": (frame.transpose(2, 0, 1)[None] / 255).astype(np.float32)} for frame in calibration])

        def get_next(self):
            return next(self.feeds, None)

    prepared, quantised = folder / "prepared.onnx", folder / "int8.onnx"
    quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
    quantize_static(str(prepared), str(quantised), Frames(), quant_format=QuantFormat.QDQ, per_channel=True, weight_type=QuantType.QInt8)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(str(quantised), options, providers=["CPUExecutionProvider"])

    def run(frame: np.ndarray) -> np.ndarray:
        (output,) = session.run(None, {"images": (frame.transpose(2, 0, 1)[None] / 255).astype(np.float32)})
        return (output[0].transpose(1, 2, 0).clip(0, 1) * 255).round().astype(np.uint8)

    return run


def half_size_runner(stylizer, guided: bool):
    def run(frame: np.ndarray) -> np.ndarray:
        height, width = frame.shape[:2]
        small = cv2.resize(frame, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
        (output,) = stylizer.stylize_batch([0], [small])
        upsampled = cv2.resize(output, (width, height), interpolation=cv2.INTER_LINEAR)
        if not guided:
            return upsampled
        filtered = cv2.ximgproc.guidedFilter(frame.astype(np.float32) / 255, upsampled.astype(np.float32) / 255, 4, 1e-3)
        return (filtered.clip(0, 1) * 255).round().astype(np.uint8)

    return run


def one_by_one(stylizer):
    return lambda frame: stylizer.stylize_batch([0], [frame])[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60, help="Frames scored per clip.")
    parser.add_argument("--repeats", type=int, default=15, help="Timed runs of one frame per row.")
    parser.add_argument("--sheet", type=Path, default=None, help="Write a PNG of one frame per row (and the input).")
    parser.add_argument("--model", action="append", default=[], help="Another Starry Night network (bundled name or file): a row more. Repeatable.")
    parser.add_argument("--networks-only", action="store_true", help="Only the float32 networks: no int8 or half-size rows.")
    args = parser.parse_args()
    encoder = load_encoder()
    style = to_tensor(load_image(samples_folder() / "starry_night.jpg"))
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        pan = make_clip(folder / "pan.mp4", args.frames + 8)
        clips = {"pan": frames_of(pan, args.frames, skip=8), "vtest": frames_of(VTEST, args.frames, skip=100)}
        calibration = frames_of(pan, 8) + frames_of(VTEST, 8)

        def stylizer(model: str):
            return build_stylizer(MethodSpec(method="feedforward", model=model, batch_size=1))[0]

        fast = stylizer("starry_night")
        rows = {
            "fast float32 (reference)": one_by_one(fast),
            "lean float32": one_by_one(stylizer("starry_night_lean")),
            "realtime float32": one_by_one(stylizer("starry_night_realtime")),
        }
        rows.update({f"{Path(model).stem} float32": one_by_one(stylizer(model)) for model in args.model})
        if not args.networks_only:
            rows["fast int8 QDQ"] = quantised_runner(fast, calibration, folder)
            rows["fast at half size + bilinear"] = half_size_runner(fast, guided=False)
            rows["fast at half size + guided filter"] = half_size_runner(fast, guided=True)
        probe = clips["vtest"][0]
        timings: dict[str, list[float]] = {name: [] for name in rows}
        for run in rows.values():
            run(probe)  # warm-up
        for _ in range(args.repeats):
            for name, run in rows.items():
                started = time.perf_counter()
                run(probe)
                timings[name].append(time.perf_counter() - started)
        print(f"{torch.get_num_threads()} threads; quality over {args.frames} frames of each clip at 640x360\n")
        print("| network / runtime | ms per frame | frames/s | x reference speed | style distance | x reference | warping error | x reference |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        reference = None
        sheet = [np.concatenate([clips["vtest"][30], clips["pan"][30]], axis=0)]
        for name, run in rows.items():
            distances, errors = [], []
            for clip in clips.values():
                outputs = [run(frame) for frame in clip]
                summary = evaluate_clip(clip, outputs, make_estimator("dis"), encoder=encoder, style=style).summary()
                distances.append(float(summary["style_distance"]))
                errors.append(float(summary["short_term_error"]))
            sheet.append(np.concatenate([run(clips["vtest"][30]), run(clips["pan"][30])], axis=0))
            ms = float(np.median(timings[name])) * 1000
            row = (ms, float(np.mean(distances)), float(np.mean(errors)))
            reference = reference or row
            print(
                f"| {name} | {ms:.1f} | {1000 / ms:.1f} | {reference[0] / ms:.2f} | {row[1]:.4g} | {row[1] / reference[1]:.2f} | {row[2]:.5f} | {row[2] / reference[2]:.2f} |",
                flush=True,
            )
        if args.sheet:
            cv2.imwrite(str(args.sheet), cv2.cvtColor(np.concatenate(sheet, axis=1), cv2.COLOR_RGB2BGR))
            print(f"\nsheet: {args.sheet} (columns: input, then the rows in order)")


if __name__ == "__main__":
    main()
