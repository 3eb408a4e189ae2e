"""x264 speed presets on stylized frames: encoder CPU time, file size and PSNR against the frames encoded.

The first 100 frames of the 640x360 pan of `pipeline_speed.py`, stylized by the bundled `starry_night`, are
encoded at crf 18 with each preset (one thread of the caller; x264's own threads as it chooses).

    python benchmarks/encoder_preset.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from pipeline_speed import make_clip

from videostyle.io.video import VideoReader
from videostyle.methods.one_pass import build_stylizer
from videostyle.spec import MethodSpec

PRESETS = ("medium", "fast", "veryfast", "superfast")


def encode(frames: list[np.ndarray], path: Path, preset: str) -> float:
    """CPU milliseconds per frame to encode ``frames`` into ``path``."""
    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=25)
    stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
    stream.options = {"crf": "18", "preset": preset}
    started = time.process_time()
    for frame in frames:
        for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return (time.process_time() - started) / len(frames) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        clip = make_clip(folder / "pan.mp4", 100)
        stylizer, _ = build_stylizer(MethodSpec(method="feedforward", model="starry_night", batch_size=1))
        stylized = [stylizer.stylize_batch([0], [frame])[0] for frame in VideoReader(clip)]
        print("| preset | CPU ms per frame | MB | PSNR (dB) |\n| --- | ---: | ---: | ---: |")
        for preset in PRESETS:
            path = folder / f"{preset}.mp4"
            cpu = encode(stylized, path, preset)
            decoded = [frame.to_ndarray(format="rgb24") for frame in av.open(str(path)).decode(video=0)]
            mse = np.mean([np.mean((a.astype(np.float64) - b) ** 2) for a, b in zip(stylized, decoded, strict=True)])
            print(f"| {preset} | {cpu:.1f} | {path.stat().st_size / 1e6:.2f} | {10 * np.log10(255**2 / mse):.2f} |", flush=True)


if __name__ == "__main__":
    main()
