"""Feed-forward inference speed at 640x360: the paper's network and the fast variant, PyTorch and onnxruntime.

All rows are measured in one run, interleaved (round-robin repeats, median of each), so a
noisy shared machine affects them alike. Speed is reported as frames per second of the network
alone (frames already decoded and in memory) and as a ratio to the paper's network in PyTorch.

    python benchmarks/feedforward_speed.py --repeats 5
    python benchmarks/feedforward_speed.py --methods adain arbitrary-video --models starry_night

``--methods`` adds the any-style methods (with the bundled Starry Night as the style) at batch 1
and the largest batch size, in the default runtime.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch

from videostyle.methods.feedforward import FeedForwardOptions, FeedForwardStylizer
from videostyle.models import TransformerConfig, TransformerNet, load_transformer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch / onnxruntime threads (default: torch's).")
    parser.add_argument("--models", nargs="*", default=[], help="Trained models to time as well (names or files).")
    parser.add_argument("--methods", nargs="*", default=[], choices=["adain", "arbitrary-video"], help="Any-style methods to time as well (bundled models).")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    networks = {f"{arch} (untrained)": TransformerNet(TransformerConfig.for_arch(arch)) for arch in ("johnson", "fast")}
    for name in args.models:
        networks[name] = load_transformer(name)[0]
    rows = {}
    for name, network in networks.items():
        for runtime in ("torch", "onnx"):
            for channels_last in (False, True) if runtime == "torch" else (False,):
                for batch in args.batch_sizes:
                    options = FeedForwardOptions(runtime=runtime, batch_size=batch, channels_last=channels_last, style_mix=None)
                    stylizer = FeedForwardStylizer(network, options)
                    frames = torch.rand(batch, 3, args.height, args.width)
                    stylizer.stylize_tensor(frames)  # warm-up (and ONNX export)
                    label = (name, runtime + (" channels-last" if channels_last else ""), batch)
                    rows[label] = (stylizer, frames, [])
    from videostyle.methods.one_pass import build_stylizer
    from videostyle.spec import MethodSpec

    for method in args.methods:
        for batch in sorted({args.batch_sizes[0], args.batch_sizes[-1]}):
            stylizer, _ = build_stylizer(MethodSpec(method=method, styles=["assets/starry_night.jpg"], batch_size=batch))
            frames = torch.rand(batch, 3, args.height, args.width)
            stylizer.stylize_tensor(frames)
            rows[(method, "onnx" if method == "arbitrary-video" else "torch", batch)] = (stylizer, frames, [])
    for _ in range(args.repeats):
        for stylizer, frames, times in rows.values():
            started = time.perf_counter()
            stylizer.stylize_tensor(frames)
            times.append((time.perf_counter() - started) / frames.shape[0])
    baseline = statistics.median(rows[("johnson (untrained)", "torch", args.batch_sizes[0])][2])
    print(
        f"machine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}; {args.width}x{args.height}, median of {args.repeats}\n"
    )
    print("| network | runtime | batch | ms per frame | frames/s | speed vs johnson torch batch 1 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for (name, runtime, batch), (_, _, times) in rows.items():
        seconds = statistics.median(times)
        print(f"| {name} | {runtime} | {batch} | {seconds * 1000:.1f} | {1 / seconds:.1f} | {baseline / seconds:.2f} |")


if __name__ == "__main__":
    main()
