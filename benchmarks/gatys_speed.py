"""Speed of Gatys optimisation against a bare VGG-16 forward+backward, measured in the same run.

Prints a markdown table: seconds per iteration at each size for (a) a bare encoder forward and
backward to the input through the deepest layer the criterion needs (relu5_1) and (b) one
iteration of the real optimisation loop (criterion with content, style and TV terms, L-BFGS
with line search, callbacks); their ratio; the peak resident memory of a child process that
ran only that case. Then coarse-to-fine against single-scale at the largest size: the time the
coarse-to-fine run needs to reach the single-scale run's final loss.

    python benchmarks/gatys_speed.py --sizes 256 512 --iterations 20 --c2f-iterations 100
    python benchmarks/gatys_speed.py --sizes 512 --iterations 10 --c2f-coarse-iterations 100 50 20
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import resource
import statistics
import time

import torch

CONTENT = "assets/grace_hopper.jpg"
STYLE = "assets/starry_night.jpg"


def _setup(size: int, device: str):
    from videostyle.features import load_encoder
    from videostyle.io import resize_long_side, to_tensor

    encoder = load_encoder(device=device)
    content = resize_long_side(to_tensor(CONTENT, device), size)
    style = resize_long_side(to_tensor(STYLE, device), size)
    return encoder, content, style


def _peak_memory_mb(device: str) -> float:
    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bare_forward_backward(size: int, iterations: int, device: str, threads: int) -> tuple[float, float]:
    torch.set_num_threads(threads)
    encoder, content, _ = _setup(size, device)
    image = content.clone().requires_grad_(True)
    times = []
    for _ in range(iterations + 2):
        start = time.perf_counter()
        features = encoder(image, ["relu5_1"])
        features["relu5_1"].mean().backward()
        image.grad = None
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times[2:]), _peak_memory_mb(device)


def optimisation_loop(size: int, iterations: int, device: str, threads: int) -> tuple[float, float]:
    from videostyle.methods.gatys import stylize
    from videostyle.options import GatysOptions, PictureOptions

    torch.set_num_threads(threads)
    encoder, content, style = _setup(size, device)
    # margin 0: the loop against the bare pass over the same pixels (the default margin adds its own pixels: 14% at 512 px)
    stylize(content, [style], GatysOptions(iterations=2, tolerance=0, margin=0), PictureOptions(size=size), encoder=encoder)  # warm-up
    stamps: list[float] = []  # after each evaluation: excludes the one-off style and content set-up
    stylize(
        content,
        [style],
        GatysOptions(iterations=iterations + 1, tolerance=0, margin=0),
        PictureOptions(size=size),
        encoder=encoder,
        callback=lambda scale, step: stamps.append(time.perf_counter()),
    )
    return (stamps[-1] - stamps[0]) / (len(stamps) - 1), _peak_memory_mb(device)


def single_scale(size: int, iterations: int, device: str, threads: int) -> tuple[float, float]:
    """``(seconds, best loss)`` of a single-scale run: the reference of the coarse-to-fine rows."""
    from videostyle.methods.gatys import stylize
    from videostyle.options import GatysOptions, PictureOptions

    torch.set_num_threads(threads)
    encoder, content, style = _setup(size, device)
    single = stylize(content, [style], GatysOptions(iterations=iterations, tolerance=0), PictureOptions(size=size), encoder=encoder)
    return single.seconds, min(single.history)


def coarse_to_fine(size: int, iterations: int, scales: int, device: str, threads: int, coarse_iterations: int | None, target: float) -> dict:
    """A coarse-to-fine run: its total time, best full-size loss, and the time it first reached ``target`` at full size."""
    from videostyle.methods.gatys import stylize
    from videostyle.options import GatysOptions, PictureOptions

    torch.set_num_threads(threads)
    encoder, content, style = _setup(size, device)
    stamps: list[tuple[int, float, float]] = []
    start = time.perf_counter()
    multi = stylize(
        content,
        [style],
        GatysOptions(iterations=iterations, tolerance=0, scales=scales, coarse_iterations=coarse_iterations),
        PictureOptions(size=size),
        encoder=encoder,
        callback=lambda scale, step: stamps.append((scale, step.loss, time.perf_counter() - start)),
    )
    return {
        "seconds": multi.seconds,
        "final_loss": min(loss for scale, loss, _ in stamps if scale == scales - 1),
        "seconds_to_target": next((seconds for scale, loss, seconds in stamps if scale == scales - 1 and loss <= target), None),
    }


def in_child(function, *args):
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--c2f-iterations", type=int, default=100)
    parser.add_argument("--c2f-scales", type=int, default=3)
    parser.add_argument("--c2f-coarse-iterations", type=int, nargs="+", default=[None], help="Iterations at each coarser level (one run each).")
    parser.add_argument("--skip-c2f", action="store_true", help="Only the per-iteration table.")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()

    print(f"machine: {platform.processor() or platform.machine()}, {args.threads} threads, torch {torch.__version__}, device {args.device}\n")
    print("| size | bare VGG-16 fwd+bwd (s) | optimisation iteration (s) | ratio | peak memory bare / loop (MiB) |")
    print("| --- | --- | --- | --- | --- |")
    for size in args.sizes:
        bare, bare_memory = in_child(bare_forward_backward, size, args.iterations, args.device, args.threads)
        loop, loop_memory = in_child(optimisation_loop, size, args.iterations, args.device, args.threads)
        print(f"| {size} | {bare:.3f} | {loop:.3f} | {loop / bare:.3f} | {bare_memory:.0f} / {loop_memory:.0f} |", flush=True)

    if args.skip_c2f:
        return
    size = max(args.sizes)
    print(f"\ncoarse-to-fine at {size} px ({args.c2f_scales} scales, {args.c2f_iterations} iterations at full size):\n")
    print("| run | final loss | seconds | seconds to reach the single-scale final loss | ratio to single-scale time |")
    print("| --- | --- | --- | --- | --- |")
    single_seconds, single_loss = in_child(single_scale, size, args.c2f_iterations, args.device, args.threads)
    print(f"| single scale | {single_loss:.4g} | {single_seconds:.1f} | {single_seconds:.1f} | 1.00 |", flush=True)
    for coarse in args.c2f_coarse_iterations:
        c2f = in_child(coarse_to_fine, size, args.c2f_iterations, args.c2f_scales, args.device, args.threads, coarse, single_loss)
        reached = c2f["seconds_to_target"]
        reach_text = f"{reached:.1f}" if reached is not None else "not reached"
        ratio_text = f"{reached / single_seconds:.2f}" if reached is not None else "-"
        label = f"coarse-to-fine, {args.c2f_iterations if coarse is None else coarse} iterations per coarser level"
        print(f"| {label} | {c2f['final_loss']:.4g} | {c2f['seconds']:.1f} | {reach_text} | {ratio_text} |", flush=True)


if __name__ == "__main__":
    main()
