"""The patch matcher at relu3_1: time and peak memory for a 512 px content and a 512 px style.

VGG-16 relu3_1 features of the bundled photo and painting at 512 px on the long side (a quarter of
that on each side at relu3_1), every 3x3 style patch (stride 1), matched with
`features.patches.match_patches` for each number format and chunk size. Each configuration runs in
a fresh process; its peak memory is the highest resident size sampled every 2 ms during the matches
less the size just before them (Linux /proc); the time is the best of three. The baseline is float32 at the largest chunk, in the
same run. Agreement: the share of positions whose patch equals float32's; score: the chosen patches'
correlation relative to float32's choice (1 is the same quality).

    python benchmarks/patch_match.py
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import threading
import time

import torch


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def measure(precision: str, chunk: int, size: int) -> dict:
    """Run in this process: time, memory and (against float32) agreement of one configuration."""
    import torch.nn.functional as F

    from videostyle.features import load_encoder
    from videostyle.features.patches import extract_patches, match_patches
    from videostyle.io.image import load_image, resize_long_side, to_tensor
    from videostyle.serve.jobs import samples_folder

    encoder = load_encoder(device="cpu")
    with torch.no_grad():
        content, style = (
            encoder(resize_long_side(to_tensor(load_image(samples_folder() / name)), size), ["relu3_1"])["relu3_1"]
            for name in ("grace_hopper.jpg", "starry_night.jpg")
        )
    patches = extract_patches(style)
    before, highest, running = resident_bytes(), [0], [True]

    def sample() -> None:
        while running[0]:
            highest[0] = max(highest[0], resident_bytes())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    times = []
    for _ in range(3):
        began = time.perf_counter()
        chosen = match_patches(content, patches, chunk=chunk, precision=precision)
        times.append(time.perf_counter() - began)
    running[0] = False
    sampler.join()
    peak = max(highest[0] - before, 0) / 2**20
    exact = match_patches(content, patches, chunk=4096, precision="float32")
    columns = F.unfold(content, 3)[0].T
    unit = F.normalize(patches.flatten(1), dim=1)
    best, got = (columns * unit[exact.flatten()]).sum(1), (columns * unit[chosen.flatten()]).sum(1)
    return {
        "seconds": min(times),
        "peak_mib": peak,
        "agreement": float((chosen == exact).float().mean()),
        "score": float((got / best.clamp_min(1e-8)).mean()),
        "worst_score": float((got / best.clamp_min(1e-8)).min()),
        "content": list(content.shape[-2:]),
        "patches": patches.shape[0],
        "threads": torch.get_num_threads(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--one", nargs=2, metavar=("PRECISION", "CHUNK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), args.size)))
        return
    rows = []
    for precision in ("float32", "bfloat16"):
        for chunk in (4096, 2048, 512, 128):
            done = subprocess.run(
                [sys.executable, __file__, "--size", str(args.size), "--one", precision, str(chunk)], check=True, capture_output=True, text=True
            )
            rows.append((precision, chunk, json.loads(done.stdout.strip().splitlines()[-1])))
    first = rows[0][2]
    print(
        f"relu3_1 of a {args.size} px content ({first['content'][1]}x{first['content'][0]} positions) against {first['patches']} style patches; "
        f"{platform.machine()}, {first['threads']} threads\n"
    )
    print("| precision | chunk | seconds | x float32/4096 | peak memory, MiB | same patch as float32 | correlation vs float32 (mean, worst) |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for precision, chunk, row in rows:
        print(
            f"| {precision} | {chunk} | {row['seconds']:.2f} | {row['seconds'] / first['seconds']:.2f} | {row['peak_mib']:.0f} | "
            f"{row['agreement']:.3f} | {row['score']:.5f}, {row['worst_score']:.4f} |"
        )


if __name__ == "__main__":
    main()
