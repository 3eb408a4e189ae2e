"""How far a one-pass network's tiles are from one pass over the whole picture at their seams, for each way of
blending them: the feathering ramp's power and the overlap of neighbouring windows.

Every tiled run here uses the whole picture's own normalisation statistics, so the difference from one pass
comes only from the tiles' borders: the pixels near a window's inner edge saw the window's padding, not the
picture. The picture is the bundled leuvenA photo upscaled (bicubic) to 3000x2000, its top-left 1500x1000;
tiles of 512 px in PyTorch. Differences are in grey levels (0-255): the mean over the picture, the 99.9th
percentile and the largest. "pixels" is the windows' pixels over the picture's: the cost of the overlap.

    python benchmarks/tile_seams.py [--models starry_night starry_night_realtime starry_night_johnson] [--powers 1 4] [--overlaps 32 48 64]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from videostyle.io.image import to_tensor
from videostyle.methods.feedforward import load_stylizer, tile_overlap
from videostyle.tiles import blend_windows, overlapping_tiles

PHOTO = Path(__file__).resolve().parents[1] / "src" / "videostyle" / "data" / "content" / "leuvenA.jpg"
TILE = 512


@torch.inference_mode()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["starry_night", "starry_night_realtime", "starry_night_johnson"])
    parser.add_argument("--powers", nargs="+", type=int, default=[1, 4])
    parser.add_argument("--overlaps", nargs="+", type=int, default=[32, 48, 64], help="besides each network's own (tile_overlap)")
    args = parser.parse_args()
    photo = np.asarray(Image.open(PHOTO).convert("RGB").resize((3000, 2000), Image.Resampling.BICUBIC))[:1000, :1500]
    content = to_tensor(photo, "cpu")
    height, width = content.shape[-2:]
    print("| model | architecture | reach (px) | ramp power | overlap (px) | pixels | mean | 99.9th percentile | largest |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for model in args.models:
        network = load_stylizer(model)[0].network
        one_pass = network(content)
        network.record_statistics(content)
        try:
            for power in args.powers:
                for overlap in sorted({*args.overlaps, tile_overlap(network)}):
                    windows = overlapping_tiles(height, width, TILE, overlap, align=network.stride)
                    tiled = blend_windows(torch.zeros_like(content), windows, overlap, lambda window, network=network: network(window.of(content)), power=power)
                    difference = ((tiled - one_pass).abs() * 255).flatten()
                    percentile = difference.kthvalue(int(difference.numel() * 0.999)).values
                    pixels = sum(window.height * window.width for window in windows) / (height * width)
                    own = " (its own)" if overlap == tile_overlap(network) else ""
                    cells = [model, network.config.arch, str(network.reach()), str(power), f"{overlap}{own}", f"{pixels:.2f}"]
                    cells += [f"{difference.mean():.3f}", f"{percentile:.2f}", f"{difference.max():.1f}"]
                    print("| " + " | ".join(cells) + " |", flush=True)
        finally:
            network.clear_statistics()


if __name__ == "__main__":
    main()
