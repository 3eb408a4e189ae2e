"""Training speed of the video trainers (reconet, arbitrary-video): steps per second with batches made on the
host or on the device, beside the ceiling of the same step on one batch already made, measured in the same run.

Each row builds a training exactly as `videostyle train` does (`prepare_video_training`), then times `--steps`
full steps (batch, loss, backward, one host copy of the loss terms, Adam) after `--warmup` untimed ones, and the
same steps on the batch of step 0 (the ceiling: no batch is made). `share` is steps/s over the ceiling's. On
CUDA, `GPU busy` is the mean of `nvidia-smi`'s utilisation sampled every 100 ms while the row's full steps run.

    python benchmarks/train_speed.py --device cuda --size 256 --batch-size 16 --arch fast johnson \\
        --batches host device --precision float32 bfloat16 --photos PHOTOS --styles PAINTINGS
    python benchmarks/train_speed.py --device cpu --size 64 --batch-size 2 --steps 5   # the same table on the CPU
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import subprocess
import threading
import time
from pathlib import Path

import torch

from videostyle.features import load_encoder
from videostyle.losses.perceptual import total
from videostyle.training.data import load_sources
from videostyle.training.loop import RunControl
from videostyle.training.styles import load_style_groups
from videostyle.training.video import VideoTrainOptions, prepare_video_training

ROOT = Path(__file__).resolve().parents[1]


class GpuBusy:
    """Mean GPU utilisation (%) from nvidia-smi, sampled in the background between start() and stop()."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._process: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        self.samples = []
        if shutil.which("nvidia-smi") is None:
            return
        command = ["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits", "-lms", "100", "-i", "0"]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            if line.strip().isdigit():
                self.samples.append(float(line))

    def stop(self) -> float | None:
        if self._process is None:
            return None
        self._process.terminate()
        self._process.wait()
        return sum(self.samples) / len(self.samples) if self.samples else None


def timed_steps(training, batch_of, steps: int, device: torch.device) -> float:
    """Steps per second of ``steps`` full training steps, each on ``batch_of(step)``."""

    def synchronize() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    synchronize()
    began = time.perf_counter()
    for step in range(steps):
        training.optimizer.zero_grad(set_to_none=True)
        terms = training.terms(batch_of(step))
        loss = total(terms)
        loss.backward()
        torch.stack([loss.detach().float(), *(value.detach().float() for value in terms.values())]).tolist()  # the loop's one host copy
        training.optimizer.step()
    synchronize()
    return steps / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--mode", nargs="+", default=["arbitrary"], choices=["arbitrary", "reconet"])
    parser.add_argument("--arch", nargs="+", default=["fast"])
    parser.add_argument("--batches", nargs="+", default=["host", "device"], choices=["host", "device"])
    parser.add_argument("--precision", nargs="+", default=["float32"], choices=["float32", "bfloat16"])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=30, help="Timed steps per row (and as many for its ceiling).")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--photos", default=str(ROOT / "src/videostyle/data/content"), help="Folder of content photos.")
    parser.add_argument("--styles", default=str(ROOT / "assets"), help="Folder of style images (arbitrary-video samples from it).")
    args = parser.parse_args()

    device = torch.device(args.device)
    encoder = load_encoder(device=device)
    photos = load_sources([args.photos], max_short_side=2 * args.size)
    style_groups = load_style_groups([args.styles], max_short_side=2 * args.size)
    name = "GPU" if device.type == "cuda" else "CPU"
    print(
        f"device {device} ({torch.cuda.get_device_name(device) if device.type == 'cuda' else f'{torch.get_num_threads()} threads'}), "
        f"{args.size} px, batch {args.batch_size}, {len(photos)} photos, {sum(map(len, style_groups))} styles, {args.steps} timed steps per row"
    )
    print(f"| mode | arch | batches | precision | steps/s | ceiling steps/s | share | {name} busy |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    busy = GpuBusy()
    for mode, arch, batches, precision in itertools.product(args.mode, args.arch, args.batches, args.precision):
        options = VideoTrainOptions(
            mode=mode, arch=arch, size=args.size, batch_size=args.batch_size, batches=batches, precision=precision, painterly=0.5
        ).check()
        styles = ["style"] if mode == "reconet" else [args.styles]
        groups = [style_groups[0][:1]] if mode == "reconet" else style_groups
        training = prepare_video_training(options, styles, groups, [], photos, RunControl(device=device, encoder=encoder))
        timed_steps(training, lambda step, training=training: training.make_batch(10_000 + step), args.warmup, device)
        busy.start()
        full = timed_steps(training, training.make_batch, args.steps, device)
        utilisation = busy.stop()
        fixed = training.make_batch(0)
        ceiling = timed_steps(training, lambda _, fixed=fixed: fixed, args.steps, device)
        shown = "n/a" if utilisation is None else f"{utilisation:.0f}%"
        print(f"| {mode} | {arch} | {batches} | {precision} | {full:.2f} | {ceiling:.2f} | {full / ceiling:.0%} | {shown} |", flush=True)


if __name__ == "__main__":
    main()
